// Fuzzes chart coding end to end: on any bytes (invalid UTF-8 repaired),
// Pipeline::Code succeeds, every assigned code is billable with its score in
// [0, 1] and its evidence inside the text, every mention lies in the text, and
// the three writers produce well-formed output (JSON Lines and FHIR parse as
// JSON; the HTML page is complete).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "chartcoder/pipeline.h"
#include "chartcoder/result.h"
#include "simdjson.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "chart_coding_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

const chartcoder::Pipeline& Get() {
  static const chartcoder::Pipeline* const kPipeline = [] {
    chartcoder::PipelineOptions options;  // the pack beside the library
    options.text.text.repair_invalid_utf8 = true;
    auto p = chartcoder::Pipeline::Create(options);
    if (!p.ok()) std::fprintf(stderr, "%s\n", std::string(p.status().message()).c_str());
    Check(p.ok(), "Pipeline::Create failed");
    return p->release();
  }();
  return *kPipeline;
}

void CheckJson(const std::string& json, const char* what) {
  static simdjson::dom::parser* const parser = new simdjson::dom::parser;
  simdjson::dom::element doc;
  Check(parser->parse(json).get(doc) == simdjson::SUCCESS, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  chartcoder::Demographics member;
  member.age = 70 + static_cast<int>(size % 20);
  member.sex = size % 2 ? chartcoder::Sex::kMale : chartcoder::Sex::kFemale;
  absl::StatusOr<chartcoder::ChartResult> r = Get().Code("fuzz", bytes, &member);
  Check(r.ok(), "Code failed on repaired text");
  const std::string_view text = r->document->text();
  const chartcoder::CodeSet& codes = Get().code_set();
  for (const chartcoder::AssignedCode& c : r->codes) {
    std::optional<chartcoder::Code> known = codes.Find(c.code);
    Check(known.has_value() && known->billable(), "assigned code not billable");
    Check(c.score >= 0 && c.score <= 1, "score outside [0, 1]");
    Check(!c.evidence.empty(), "code without evidence");
    for (const chartcoder::CodeEvidence& ev : c.evidence) {
      Check(ev.begin <= ev.end && ev.end <= text.size(), "evidence outside the text");
      Check(ev.sentence_begin <= ev.begin && ev.end <= ev.sentence_end &&
                ev.sentence_end <= text.size(),
            "evidence outside its sentence");
      for (const auto& [b, e] : ev.spans) Check(b < e && e <= text.size(), "word outside");
    }
  }
  for (const chartcoder::Mention& m : r->mentions) {
    Check(m.begin < m.end && m.end <= text.size(), "mention outside the text");
    for (const auto& [b, e] : m.spans) Check(b < e && e <= text.size(), "mention word outside");
  }
  Check(r->raf.size() == r->hccs.size(), "RAF per model");
  CheckJson(chartcoder::ChartResultJson(*r), "ChartResultJson is not JSON");
  CheckJson(chartcoder::ChartResultFhir(*r), "ChartResultFhir is not JSON");
  const std::string html = chartcoder::ChartResultHtml(*r);
  Check(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"), "HTML incomplete");
  return 0;
}
