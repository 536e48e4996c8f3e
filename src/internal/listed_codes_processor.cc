#include "src/internal/listed_codes_processor.h"

#include "simdjson.h"
#include "src/internal/hcc_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// The end of a code-shaped token starting at `i` (a letter, two characters
// of which the first is a digit, then optionally '.' and 1-4 alphanumerics),
// or `i` when there is none.
size_t CodeTokenEnd(std::string_view t, size_t i) {
  if (i + 3 > t.size() || !IsLetter(t[i]) || !IsDigit(t[i + 1]) || !IsAlnum(t[i + 2])) return i;
  size_t j = i + 3;
  if (j + 1 < t.size() && t[j] == '.' && IsAlnum(t[j + 1])) {
    size_t k = j + 1;
    while (k < t.size() && k - j <= 4 && IsAlnum(t[k])) ++k;
    if (k - j - 1 <= 4) j = k;
  }
  if (j < t.size() && IsAlnum(t[j])) return i;  // part of a longer word
  return j;
}

}  // namespace

std::vector<ListedCode> FindListedCodes(std::string_view text, const CodeSet& codes) {
  std::vector<ListedCode> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && IsAlnum(text[i - 1])) continue;
    size_t end = CodeTokenEnd(text, i);
    if (end == i) continue;
    std::optional<Code> code = codes.Find(text.substr(i, end - i));
    if (!code) continue;
    out.push_back(ListedCode{std::string(code->code()), i, end});
    i = end - 1;
  }
  return out;
}

ListedCodesProcessor::ListedCodesProcessor(std::shared_ptr<const CodeSet> code_set,
                                           std::unique_ptr<RiskModel> model)
    : code_set_(std::move(code_set)), model_(std::move(model)) {}

absl::StatusOr<std::unique_ptr<ListedCodesProcessor>> ListedCodesProcessor::Create(
    std::shared_ptr<const CodeSet> code_set) {
  if (code_set == nullptr) return absl::InvalidArgumentError("ListedCodesProcessor needs a pack");
  RiskModelOptions options;
  options.code_set = code_set;
  absl::StatusOr<std::unique_ptr<RiskModel>> model = RiskModel::Create(options);
  if (!model.ok()) return model.status();
  return std::unique_ptr<ListedCodesProcessor>(
      new ListedCodesProcessor(std::move(code_set), std::move(*model)));
}

absl::StatusOr<std::string> ListedCodesProcessor::Process(const ChartJob& job) const {
  if (job.id.empty()) return absl::InvalidArgumentError("a chart without an id");
  if (!simdjson::validate_utf8(job.chart.data(), job.chart.size())) {
    return absl::InvalidArgumentError("the chart is not valid UTF-8");
  }
  std::vector<ListedCode> found = FindListedCodes(job.chart, *code_set_);
  std::vector<std::string_view> distinct;
  for (const ListedCode& c : found) {
    bool seen = false;
    for (std::string_view d : distinct) seen = seen || d == c.code;
    if (!seen) distinct.push_back(c.code);
  }
  if (distinct.size() > RiskModel::kMaxCodes) {
    return absl::ResourceExhaustedError("the chart lists too many codes");
  }
  absl::StatusOr<RiskScore> score =
      job.demographics ? model_->Score(absl::MakeConstSpan(distinct), *job.demographics)
                       : model_->Categorize(absl::MakeConstSpan(distinct));
  if (!score.ok()) return score.status();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("id", job.id);
  if (!job.patient_id.empty()) w.Field("patient_id", job.patient_id);
  w.Field("processor", "listed-codes");
  w.Key("bytes");
  w.Uint(job.chart.size());
  w.Key("codes");
  w.BeginArray();
  for (const ListedCode& c : found) {
    w.BeginObject();
    w.Field("code", c.code);
    w.Key("begin");
    w.Uint(c.begin);
    w.Key("end");
    w.Uint(c.end);
    w.EndObject();
  }
  w.EndArray();
  w.Key("risk");
  WriteRiskScoreJson(*score, &w);
  w.EndObject();
  return out;
}

}  // namespace chartcoder::internal
