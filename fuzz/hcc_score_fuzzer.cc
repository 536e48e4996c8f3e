// Fuzzes RiskModel::ScoreInto and the score's JSON: any demographics and any
// code strings either score (every code accounted for, finite scores, valid
// JSON) or give InvalidArgument, never a crash.
//
// Input: byte 0 age (0-255, so out-of-range ages occur), byte 1 sex / dual /
// OREC / flags, byte 2 model and forced segment, then codes separated by
// spaces. Uses the data pack found beside the binary.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chartcoder/codeset.h"
#include "chartcoder/hcc.h"
#include "simdjson.h"
#include "src/internal/hcc_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace {

struct Models {
  std::unique_ptr<chartcoder::RiskModel> v24, v28;
};

const Models& Load() {
  static const Models* const models = [] {
    auto codes = chartcoder::CodeSet::Create({});
    if (!codes.ok()) {
      std::fprintf(stderr, "hcc_score_fuzzer: %s\n", std::string(codes.status().message()).c_str());
      std::abort();
    }
    std::shared_ptr<const chartcoder::CodeSet> shared(std::move(*codes));
    auto* m = new Models;
    for (auto model : {chartcoder::HccModel::kV24, chartcoder::HccModel::kV28}) {
      chartcoder::RiskModelOptions o;
      o.code_set = shared;
      o.model = model;
      o.normalization_factor = 1.05;
      auto r = chartcoder::RiskModel::Create(o);
      if (!r.ok()) std::abort();
      (model == chartcoder::HccModel::kV24 ? m->v24 : m->v28) = std::move(*r);
    }
    return m;
  }();
  return *models;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const Models& models = Load();
  chartcoder::Demographics d;
  d.age = data[0] - 10;
  d.sex = static_cast<chartcoder::Sex>(data[1] % 3);
  d.dual = static_cast<chartcoder::DualStatus>((data[1] >> 2) % 3);
  d.orec = (data[1] >> 4) % 5;
  d.institutional = data[1] & 0x40;
  d.new_enrollee = data[1] & 0x80;
  d.chronic_snp = data[2] & 0x20;
  if (data[2] & 0x10)
    d.segment = static_cast<chartcoder::Segment>(data[2] % chartcoder::kSegmentCount);
  const chartcoder::RiskModel& model = (data[2] & 0x40) ? *models.v24 : *models.v28;
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  std::vector<std::string_view> codes = chartcoder::internal::Split(rest, ' ');
  chartcoder::RiskScore score;
  absl::Status s = model.ScoreInto(codes, d, &score);
  if (!s.ok()) {
    if (s.code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (score.codes.size() > codes.size() || !std::isfinite(score.raw_score)) std::abort();
  for (const chartcoder::HccResult& h : score.hccs) {
    if (model.HccLabel(h.hcc).empty()) std::abort();
  }
  std::string json;
  chartcoder::internal::JsonWriter w(&json);
  chartcoder::internal::WriteRiskScoreJson(score, &w);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) std::abort();
  return 0;
}
