// The chart processor the queue worker, the Lambda runtime and their tests
// use until the full chart pipeline (chartcoder/pipeline.h) is wired in: it
// finds the ICD-10-CM codes a chart states explicitly ("E11.22", "I10"),
// keeps those the data pack knows, and scores them with the CMS-HCC model
// (RAF with demographics, HCCs only without). A real, deterministic result
// from the chart's bytes, so the distributed parts are tested end to end.
//
//   CC_ASSIGN_OR_RETURN(auto p, ListedCodesProcessor::Create(code_set));
//   absl::StatusOr<std::string> json = p->Process(job);
#ifndef CHARTCODER_SRC_INTERNAL_LISTED_CODES_PROCESSOR_H_
#define CHARTCODER_SRC_INTERNAL_LISTED_CODES_PROCESSOR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/executor.h"
#include "chartcoder/hcc.h"

namespace chartcoder::internal {

// A code written in a chart: the pack's dotted form and its byte span.
struct ListedCode {
  std::string code;
  size_t begin = 0;
  size_t end = 0;
};

// Every token of `text` shaped like an ICD-10-CM code that `codes` knows,
// in text order (repeats included).
std::vector<ListedCode> FindListedCodes(std::string_view text, const CodeSet& codes);

// Immutable; safe for concurrent use.
class ListedCodesProcessor final : public ChartProcessor {
 public:
  // Errors of RiskModel::Create for the pack's V28 model.
  static absl::StatusOr<std::unique_ptr<ListedCodesProcessor>> Create(
      std::shared_ptr<const CodeSet> code_set);

  // {"id":..,"patient_id":..,"processor":"listed-codes","bytes":N,
  //  "codes":[{"code":"E11.22","begin":b,"end":e},...],"risk":{...}}
  // InvalidArgument: no id, or the chart is not valid UTF-8. Errors of
  // RiskModel::Score for bad demographics.
  absl::StatusOr<std::string> Process(const ChartJob& job) const override;

 private:
  ListedCodesProcessor(std::shared_ptr<const CodeSet> code_set, std::unique_ptr<RiskModel> model);
  std::shared_ptr<const CodeSet> code_set_;
  std::unique_ptr<RiskModel> model_;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_LISTED_CODES_PROCESSOR_H_
