// Evaluator: micro P/R/F1 and MAP on hand-made cases at the code, category
// and HCC levels; scope, traps, normalization of codes; ParseScope.
#include "chartcoder/evaluation.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coding_test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(EvaluatorTest, MicroPrecisionRecallF1) {
  Evaluator e({});
  e.Add("d1", {"E11.22", "N18.32", "I10"}, {"E11.22", "I10", "J44.9"});  // 2 of 3, 2 of 3
  e.Add("d2", {"I50.9"}, {"I50.9"});                                     // 1 of 1
  e.Add("d3", {"F32.9"}, {});                                            // missed
  EvalReport r = e.Report();
  EXPECT_EQ(r.code.documents, 3u);
  EXPECT_EQ(r.code.gold, 5u);
  EXPECT_EQ(r.code.predicted, 4u);
  EXPECT_EQ(r.code.correct, 3u);
  EXPECT_DOUBLE_EQ(r.code.precision, 3.0 / 4);
  EXPECT_DOUBLE_EQ(r.code.recall, 3.0 / 5);
  EXPECT_DOUBLE_EQ(r.code.f1, 2 * 0.75 * 0.6 / (0.75 + 0.6));
}

TEST(EvaluatorTest, MeanAveragePrecisionFollowsItsDefinition) {
  // MAP: mean over documents with a prediction of (sum over the ranks k that
  // hold a gold code of precision@k) / (number of gold codes).
  Evaluator e({});
  e.Add("a", {"A00", "B00"}, {"A00", "X00", "B00"});  // (1/1 + 2/3) / 2 = 5/6
  e.Add("b", {"A00", "B00", "C00"}, {"X00", "A00"});  // (1/2) / 3 = 1/6
  e.Add("c", {"A00"}, {"X00"});                       // 0
  e.Add("d", {"A00"}, {});                            // no prediction: not in the mean
  e.Add("e", {}, {"X00"});                            // no gold: AP 0, in the mean
  EvalReport r = e.Report();
  EXPECT_EQ(r.code.ranked_documents, 4u);
  EXPECT_NEAR(r.code.map, (5.0 / 6 + 1.0 / 6 + 0 + 0) / 4, 1e-12);
  // Rank order matters for MAP, not for P/R/F1.
  Evaluator reversed({});
  reversed.Add("a", {"A00", "B00"}, {"B00", "X00", "A00"});
  EXPECT_NEAR(reversed.Report().code.map, (1.0 + 2.0 / 3) / 2, 1e-12);
  Evaluator worst({});
  worst.Add("a", {"A00", "B00"}, {"X00", "A00", "B00"});
  EXPECT_NEAR(worst.Report().code.map, (1.0 / 2 + 2.0 / 3) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(worst.Report().code.precision, reversed.Report().code.precision);
}

TEST(EvaluatorTest, CodesAreNormalizedAndDuplicatesFolded) {
  Evaluator e({});
  e.Add("d", {"e11.22", "E1122", " N18.32 "}, {"E11.22", "e1122", "n1832"});
  EvalReport r = e.Report();
  EXPECT_EQ(r.code.gold, 2u);
  EXPECT_EQ(r.code.predicted, 2u);
  EXPECT_EQ(r.code.correct, 2u);
  EXPECT_DOUBLE_EQ(r.code.f1, 1.0);
  EXPECT_DOUBLE_EQ(r.code.map, 1.0);
}

TEST(EvaluatorTest, CategoryLevelComparesTheFirstThreeCharacters) {
  Evaluator e({});
  e.Add("d", {"E11.22", "N18.32"}, {"E11.9", "N18.4", "I10"});
  EvalReport r = e.Report();
  EXPECT_EQ(r.code.correct, 0u);
  EXPECT_EQ(r.category.gold, 2u);
  EXPECT_EQ(r.category.predicted, 3u);
  EXPECT_EQ(r.category.correct, 2u);
  EXPECT_NEAR(r.category.map, (1.0 + 1.0) / 2, 1e-12);
  // Two codes of one category count once.
  Evaluator f({});
  f.Add("d", {"E11.22"}, {"E11.9", "E11.65"});
  EXPECT_EQ(f.Report().category.predicted, 1u);
}

TEST(EvaluatorTest, ScopeDecidesWhichPredictionsCount) {
  EvalOptions o;
  o.scope = {{"Z", false}, {"Z85", true}, {"R", false}};
  Evaluator e(o);
  // Z79.4 and R53.83 are ignored (neither right nor wrong); Z85.3 counts.
  e.Add("d", {"E11.9", "Z85.3"}, {"Z79.4", "E11.9", "R53.83", "Z85.3"});
  EvalReport r = e.Report();
  EXPECT_EQ(r.code.predicted, 2u);
  EXPECT_EQ(r.code.correct, 2u);
  EXPECT_DOUBLE_EQ(r.code.precision, 1.0);
  EXPECT_DOUBLE_EQ(r.code.map, 1.0);  // ranks are counted after the ignored codes go
}

TEST(EvaluatorTest, TrapsAreCountedWithExamples) {
  Evaluator e({});
  e.Add("d1", {"Z85.3"}, {"Z85.3", "C50.911"}, {"C50.911", "C50.912"});
  e.Add("d2", {"I10"}, {"I10"}, {"I11.0"});
  EvalReport r = e.Report();
  EXPECT_EQ(r.trap_hits, 1u);
  EXPECT_THAT(r.trap_examples, ElementsAre(Pair("d1", "C50911")));
}

TEST(EvaluatorTest, HccLevelUsesTheModelAfterHierarchies) {
  RiskModelOptions ro;
  ro.code_set = testing::SharedTestCodeSet();
  ro.model = HccModel::kV28;
  std::unique_ptr<RiskModel> v28 = std::move(RiskModel::Create(ro)).value();
  EvalOptions o;
  o.hcc_model = v28.get();
  Evaluator e(o);
  // Gold: E11.22 (HCC37) and N18.4 (HCC327). Predicted: E11.9 (HCC38, but
  // E11.22's HCC37 beats it in the hierarchy) and E11.22: HCC37 only; I10 none.
  e.Add("d1", {"E11.22", "N18.4"}, {"I10", "E11.9", "E11.22"});
  e.Add("d2", {"J44.9"}, {"J44.1"});  // both HCC280
  EvalReport r = e.Report();
  EXPECT_EQ(r.hcc.gold, 3u);
  EXPECT_EQ(r.hcc.predicted, 2u);
  EXPECT_EQ(r.hcc.correct, 2u);
  EXPECT_DOUBLE_EQ(r.hcc.precision, 1.0);
  EXPECT_NEAR(r.hcc.recall, 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.hcc.map, ((1.0 / 1) / 2 + 1.0) / 2, 1e-12);
  EXPECT_EQ(r.code.correct, 1u);
  // Without a model there are no HCC figures.
  Evaluator none({});
  none.Add("d", {"E11.22"}, {"E11.22"});
  EXPECT_EQ(none.Report().hcc.gold, 0u);
  EXPECT_EQ(none.Report().hcc.f1, 0.0);
}

TEST(EvaluatorTest, NothingAddedGivesZeros) {
  EvalReport r = Evaluator({}).Report();
  EXPECT_EQ(r.code.documents, 0u);
  EXPECT_EQ(r.code.precision, 0.0);
  EXPECT_EQ(r.code.recall, 0.0);
  EXPECT_EQ(r.code.f1, 0.0);
  EXPECT_EQ(r.code.map, 0.0);
}

TEST(EvaluatorTest, ParseScope) {
  absl::StatusOr<std::vector<std::pair<std::string, bool>>> s =
      Evaluator::ParseScope("# which codes count\nprefix\tcount\nZ\tignore\nZ85\tcount\n\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(*s, ElementsAre(Pair("Z", false), Pair("Z85", true)));
  absl::StatusOr<std::vector<std::pair<std::string, bool>>> bad =
      Evaluator::ParseScope("Z\tignore\nR\tmaybe\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("line 2"));
  EXPECT_FALSE(Evaluator::ParseScope("\tcount\n").ok());
  EXPECT_FALSE(Evaluator::ParseScope("Z85\n").ok());
}

}  // namespace
}  // namespace chartcoder
