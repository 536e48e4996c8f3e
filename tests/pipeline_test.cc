// Pipeline: the components composed; HCCs per model, RAF with demographics,
// errors, and one pipeline shared by several threads.
#include "chartcoder/pipeline.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chartcoder/result.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coding_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using testing::CodeOrFail;
using testing::CodesOf;
using testing::ReadFileOrDie;
using testing::TestPipeline;

constexpr char kChart[] =
    "CHIEF COMPLAINT: follow-up of diabetes and kidneys.\n"
    "PAST MEDICAL HISTORY: history of breast cancer, s/p lumpectomy 2015.\n"
    "FAMILY HISTORY: father with colon cancer.\n"
    "ASSESSMENT/PLAN:\n"
    "1. Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 4.\n"
    "2. Hypertension.\n"
    "3. Chronic systolic heart failure, on carvedilol.\n"
    "4. No evidence of pneumonia.\n";

std::vector<int> Hccs(const ChartResult& r, HccModel model) {
  std::vector<int> out;
  for (const ModelHccs& m : r.hccs) {
    if (m.model != model) continue;
    for (const ChartHcc& h : m.hccs) out.push_back(h.hcc);
  }
  return out;
}

TEST(PipelineTest, CreateFailsOnAMissingPack) {
  PipelineOptions o;
  o.data_pack = "/nonexistent/chartcoder.ccpack";
  absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound) << p.status();
}

TEST(PipelineTest, LoadsThePackItselfWhenNotGivenOne) {
  PipelineOptions o;
  o.data_pack = testing::TestPackPath();
  o.models = {HccModel::kV28};
  absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Create(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT((*p)->models(), ElementsAre(HccModel::kV28));
  absl::StatusOr<ChartResult> r = (*p)->Code(kChart);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->hccs.size(), 1u);
  EXPECT_EQ(r->hccs[0].model, HccModel::kV28);
}

TEST(PipelineTest, CodesAChartWithHccsPerModel) {
  ChartResult r = CodeOrFail(kChart);
  EXPECT_EQ(r.id, "test");
  ASSERT_NE(r.document, nullptr);
  EXPECT_EQ(r.document->text(), kChart);
  testing::ExpectWellFormedCodes(r.codes, kChart, "kChart");
  EXPECT_THAT(CodesOf(r), IsSupersetOf({"E11.22", "N18.4", "Z85.3", "I50.22"}));
  // Hypertension with CKD (and heart failure): a combination, never plain I10.
  EXPECT_THAT(CodesOf(r), ::testing::Not(Contains("I10")));
  EXPECT_THAT(CodesOf(r), ::testing::Not(Contains(::testing::StartsWith("C18"))));  // family
  EXPECT_THAT(CodesOf(r), ::testing::Not(Contains(::testing::StartsWith("J18"))));  // negated
  ASSERT_EQ(r.hccs.size(), 2u);
  EXPECT_EQ(r.hccs[0].model, HccModel::kV24);
  EXPECT_EQ(r.hccs[1].model, HccModel::kV28);
  // V28: diabetes with chronic complications 37, CKD stage 4 327, heart failure 226.
  EXPECT_THAT(Hccs(r, HccModel::kV28), IsSupersetOf({37, 226, 327}));
  EXPECT_THAT(Hccs(r, HccModel::kV24), IsSupersetOf({18, 85, 137}));
  for (const ModelHccs& m : r.hccs) {
    for (const ChartHcc& h : m.hccs) {
      EXPECT_FALSE(h.label.empty());
      ASSERT_FALSE(h.codes.empty());
      for (const std::string& c : h.codes) EXPECT_THAT(CodesOf(r), Contains(c)) << h.hcc;
    }
  }
  // Mentions: none subsumed, text order, negated and family ones kept.
  bool negated = false, family = false;
  for (size_t i = 0; i < r.mentions.size(); ++i) {
    EXPECT_FALSE(r.mentions[i].subsumed);
    if (i > 0) {
      EXPECT_LE(r.mentions[i - 1].begin, r.mentions[i].begin);
    }
    negated |= r.mentions[i].assertion.negated;
    family |= r.mentions[i].assertion.family;
  }
  EXPECT_TRUE(negated);
  EXPECT_TRUE(family);
  // No demographics, no RAF.
  EXPECT_TRUE(r.raf.empty());
  EXPECT_FALSE(r.blended_raf.has_value());
}

TEST(PipelineTest, ScoresRafWithDemographics) {
  Demographics member;
  member.age = 72;
  member.sex = Sex::kFemale;
  ChartResult r = CodeOrFail(kChart, &member);
  ASSERT_EQ(r.raf.size(), 2u);
  for (const RiskScore& s : r.raf) {
    EXPECT_EQ(s.segment, Segment::kCommunityNonDualAged);
    EXPECT_GT(s.raw_score, s.demographic_score);  // the HCCs add to it
    double sum = 0;
    for (const ScoreTerm& t : s.terms) sum += t.coefficient;
    EXPECT_NEAR(s.raw_score, sum, 1e-9);
  }
  // The same chart and member scored directly gives the same V28 score.
  RiskModelOptions ro;
  ro.code_set = testing::SharedTestCodeSet();
  ro.model = HccModel::kV28;
  std::unique_ptr<RiskModel> v28 = std::move(RiskModel::Create(ro)).value();
  std::vector<std::string> codes = CodesOf(r);
  std::vector<std::string_view> views(codes.begin(), codes.end());
  absl::StatusOr<RiskScore> direct = v28->Score(views, member);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_NEAR(direct->raw_score, r.raf[1].raw_score, 1e-9);

  Demographics bad;
  bad.age = 72;  // no sex
  absl::StatusOr<ChartResult> refused = TestPipeline().Code("x", kChart, &bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PipelineTest, BadInputIsAnErrorNamingTheProblem) {
  absl::StatusOr<ChartResult> r = TestPipeline().Code("x", "Assessment: CHF \xff\xfe.");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("UTF-8"));

  PipelineOptions o;
  o.code_set = testing::SharedTestCodeSet();
  o.max_chart_bytes = 64;
  std::unique_ptr<Pipeline> small = std::move(Pipeline::Create(o)).value();
  absl::StatusOr<ChartResult> big = small->Code(kChart);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);

  // Empty and code-free charts are fine: no codes.
  EXPECT_TRUE(CodeOrFail("").codes.empty());
  EXPECT_TRUE(CodeOrFail("Patient seen and examined. Vitals stable.\n").codes.empty());
}

TEST(PipelineTest, FourThreadsSharingOnePipelineGiveIdenticalResults) {
  std::vector<std::string> charts;
  for (const std::string& path : testing::ExampleChartPaths()) charts.push_back(ReadFileOrDie(path));
  ASSERT_GE(charts.size(), 20u);
  Demographics member;
  member.age = 80;
  member.sex = Sex::kMale;
  std::vector<std::string> expected;
  for (const std::string& c : charts) expected.push_back(ChartResultJson(CodeOrFail(c, &member)));

  constexpr int kThreads = 4;
  std::vector<std::vector<std::string>> got(kThreads, std::vector<std::string>(charts.size()));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the charts in a different order, twice.
      for (int round = 0; round < 2; ++round) {
        for (size_t k = 0; k < charts.size(); ++k) {
          const size_t i = (k * 7 + static_cast<size_t>(t) * 5) % charts.size();
          absl::StatusOr<ChartResult> r = TestPipeline().Code("test", charts[i], &member);
          got[t][i] = r.ok() ? ChartResultJson(*r) : std::string(r.status().message());
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (size_t i = 0; i < charts.size(); ++i) {
      EXPECT_TRUE(got[t][i] == expected[i]) << "thread " << t << ", chart " << i;
    }
  }
}

// A thread keeps its workspace (the words of the forms it has met, the
// extractor's scratch) from chart to chart and one per pipeline: a chart
// coded after others, by one of two pipelines that take turns on the thread,
// or after a pipeline is gone, is coded as on its own.
TEST(PipelineTest, AThreadsWorkspaceCarriesNothingFromChartToChart) {
  std::vector<std::string> charts;
  for (const std::string& path : testing::ExampleChartPaths()) charts.push_back(ReadFileOrDie(path));
  ASSERT_GE(charts.size(), 20u);
  // Each alone: a thread of its own, with nothing coded before.
  std::vector<std::string> alone(charts.size());
  for (size_t i = 0; i < charts.size(); ++i) {
    std::thread([&, i] { alone[i] = ChartResultJson(CodeOrFail(charts[i])); }).join();
  }
  PipelineOptions o;
  o.code_set = testing::SharedTestCodeSet();
  absl::StatusOr<std::unique_ptr<Pipeline>> other = Pipeline::Create(o);
  ASSERT_TRUE(other.ok()) << other.status();
  for (size_t k = 0; k < charts.size(); ++k) {
    const size_t i = charts.size() - 1 - k;
    const Pipeline& p = k % 2 == 0 ? TestPipeline() : **other;
    EXPECT_TRUE(ChartResultJson(CodeOrFail(charts[i], nullptr, p)) == alone[i]) << "chart " << i;
  }
  other->reset();
  for (size_t i = 0; i < charts.size(); ++i) {
    EXPECT_TRUE(ChartResultJson(CodeOrFail(charts[i])) == alone[i]) << "chart " << i;
  }
}

}  // namespace
}  // namespace chartcoder
