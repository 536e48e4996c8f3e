// chartcoder/evaluation.h: accuracy of ranked code predictions against gold
// codes: micro precision / recall / F1 over (document, code) pairs and mean
// average precision over each document's ranked list, at the full code, the
// 3-character category and the CMS-HCC level.
//
//   chartcoder::Evaluator eval({.hcc_model = v28.get()});
//   eval.Add("doc-1", {"E11.22", "N18.32"}, {"E11.22", "I10", "N18.32"});
//   chartcoder::EvalReport report = eval.Report();  // report.code.f1, report.hcc.map ...
#ifndef CHARTCODER_EVALUATION_H_
#define CHARTCODER_EVALUATION_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/hcc.h"

namespace chartcoder {

struct EvalMetrics {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  // Mean over documents with at least one prediction of the average
  // precision of their ranked list: sum over the ranks k holding a gold item
  // of precision@k, divided by the number of gold items.
  double map = 0;
  size_t documents = 0;         // documents added
  size_t ranked_documents = 0;  // documents in the MAP mean
  size_t gold = 0;              // (document, item) pairs in the gold standard
  size_t predicted = 0;         // pairs predicted (out-of-scope codes excluded)
  size_t correct = 0;           // pairs in both
};

struct EvalReport {
  EvalMetrics code;      // full codes ("E11.22")
  EvalMetrics category;  // 3-character categories ("E11")
  EvalMetrics hcc;       // payment HCCs after hierarchies (when a model is given)
  size_t trap_hits = 0;  // predicted codes listed as must-not-assign
  std::vector<std::pair<std::string, std::string>> trap_examples;  // (document, code), first 50
};

struct EvalOptions {
  // Maps codes to HCCs for the HCC level. Default none: no HCC metrics.
  // Must outlive the evaluator.
  const RiskModel* hcc_model = nullptr;
  // Which codes count: the longest matching prefix decides (true: counted,
  // false: a predicted code there is neither right nor wrong). Default: every
  // code counts.
  std::vector<std::pair<std::string, bool>> scope;
  // The pack's code set, to compare across editions: a gold code that is a
  // header (not billable) in this code set — a code of an older edition that
  // was later split, such as R51 or M54.5 — matches a predicted code below
  // it. Default none: codes must be equal. Must outlive the evaluator.
  const CodeSet* code_set = nullptr;
};

// Not thread-safe; one per evaluation run.
class Evaluator {
 public:
  explicit Evaluator(EvalOptions options);

  // One document: its gold codes (any order), the predicted codes ranked
  // best first, and codes that must not be assigned (traps, optional).
  // Codes are compared undotted and upper-cased; duplicates are folded.
  void Add(std::string_view id, const std::vector<std::string>& gold,
           const std::vector<std::string>& ranked, const std::vector<std::string>& must_not = {});

  EvalReport Report() const;

  // Reads a scope file: lines "PREFIX<TAB>count|ignore"; '#' comments.
  // InvalidArgument names a bad line.
  static absl::StatusOr<std::vector<std::pair<std::string, bool>>> ParseScope(
      std::string_view text);

 private:
  struct Level {
    size_t documents = 0, ranked = 0, gold = 0, predicted = 0, correct = 0;
    double ap_sum = 0;
  };
  static void AddLevel(Level* level, const std::vector<std::string>& gold,
                       const std::vector<std::string>& ranked);
  static EvalMetrics Finish(const Level& level);
  bool Counts(std::string_view key) const;

  EvalOptions options_;
  Level code_, category_, hcc_;
  size_t trap_hits_ = 0;
  std::vector<std::pair<std::string, std::string>> trap_examples_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_EVALUATION_H_
