// Tests of the CMS-HCC V24/V28 risk models: the hccinfhir golden cases, and
// cases written from CMS's documented logic (the SAS software's hierarchy,
// interaction, edit and demographic macros), on the full data pack.
#include "chartcoder/hcc.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "src/internal/csv.h"
#include "src/internal/hcc_json.h"
#include "src/internal/strings.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAreArray;

std::shared_ptr<const CodeSet> SharedTestCodeSet() {
  // The test pack lives for the whole process; share it without owning it.
  return std::shared_ptr<const CodeSet>(std::shared_ptr<const CodeSet>(), &testing::TestCodeSet());
}

const RiskModel& Model(HccModel model) {
  static const RiskModel* const models[2] = {
      [] {
        RiskModelOptions o;
        o.code_set = SharedTestCodeSet();
        o.model = HccModel::kV24;
        return RiskModel::Create(o).value().release();
      }(),
      [] {
        RiskModelOptions o;
        o.code_set = SharedTestCodeSet();
        o.model = HccModel::kV28;
        return RiskModel::Create(o).value().release();
      }(),
  };
  return *models[model == HccModel::kV24 ? 0 : 1];
}

Demographics Member(int age, Sex sex) {
  Demographics d;
  d.age = age;
  d.sex = sex;
  return d;
}

RiskScore ScoreOrDie(HccModel model, const std::vector<std::string_view>& codes,
                     const Demographics& d) {
  absl::StatusOr<RiskScore> s = Model(model).Score(codes, d);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : RiskScore{};
}

std::vector<int> HccsOf(const RiskScore& s) {
  std::vector<int> out;
  for (const HccResult& h : s.hccs) out.push_back(h.hcc);
  return out;
}

// Term name -> coefficient.
std::map<std::string, double> TermsOf(const RiskScore& s) {
  std::map<std::string, double> out;
  for (const ScoreTerm& t : s.terms) out[std::string(t.name)] = t.coefficient;
  return out;
}

bool HasTerm(const RiskScore& s, std::string_view name) {
  for (const ScoreTerm& t : s.terms) {
    if (t.name == name) return true;
  }
  return false;
}

double Round3(double x) { return std::round(x * 1000) / 1000; }

// ---------------------------------------------------------------------------
// hccinfhir golden cases: every row reproduced, HCC set, every term with its
// coefficient, and the score to 3 decimals.
// ---------------------------------------------------------------------------

TEST(RiskModelGoldenTest, ReproducesEveryHccinfhirCase) {
  const std::string path = testing::DataSourceDir() + "/hcc/golden_raf_cases_hccinfhir.csv";
  const std::string text = testing::ReadFileOrDie(path);
  absl::StatusOr<internal::DelimitedTable> table = internal::ParseDelimited(text, ',', path);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_GT(table->rows.size(), 1u);
  const std::vector<std::string>& header = table->rows[0];
  auto col = [&](std::string_view name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return size_t{0};
  };
  const size_t c_case = col("case_id"), c_model = col("model"), c_age = col("age"),
               c_sex = col("sex"), c_dual = col("dual_elgbl_cd"), c_orec = col("orec"),
               c_lti = col("lti"), c_ne = col("new_enrollee"), c_dx = col("dx_codes"),
               c_hccs = col("expected_hccs"), c_coef = col("coefficients_json"),
               c_score = col("risk_score"), c_demo = col("risk_score_demographics");
  int checked = 0;
  simdjson::dom::parser parser;
  for (size_t r = 1; r < table->rows.size(); ++r) {
    const std::vector<std::string>& row = table->rows[r];
    SCOPED_TRACE(row[c_case] + " " + row[c_model]);
    absl::StatusOr<HccModel> model = ParseHccModel(row[c_model]);
    ASSERT_TRUE(model.ok());
    Demographics d;
    ASSERT_TRUE(internal::ParseInt(row[c_age], &d.age));
    d.sex = ParseSex(row[c_sex]).value();
    d.dual = ParseDualStatus(row[c_dual]).value();
    ASSERT_TRUE(internal::ParseInt(row[c_orec], &d.orec));
    d.institutional = row[c_lti] == "1";
    d.new_enrollee = row[c_ne] == "1";
    std::vector<std::string_view> codes = internal::Split(row[c_dx], ' ', true);
    RiskScore s = ScoreOrDie(*model, codes, d);

    std::vector<int> want_hccs;
    for (std::string_view h : internal::Split(row[c_hccs], ' ', true)) {
      int n = 0;
      ASSERT_TRUE(internal::ParseInt(h, &n));
      want_hccs.push_back(n);
    }
    EXPECT_EQ(HccsOf(s), want_hccs);

    // hccinfhir names HCC terms by number ("19"); chartcoder by variable ("HCC19").
    std::map<std::string, double> want_terms;
    simdjson::dom::object obj;
    ASSERT_EQ(parser.parse(row[c_coef]).get(obj), simdjson::SUCCESS);
    for (auto [key, value] : obj) {
      std::string name(key.data(), key.size());
      if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) name = "HCC" + name;
      double v = 0;
      ASSERT_EQ(value.get(v), simdjson::SUCCESS);
      want_terms[name] = v;
    }
    std::map<std::string, double> got_terms = TermsOf(s);
    EXPECT_EQ(got_terms, want_terms);

    double want_score = 0, want_demo = 0;
    ASSERT_TRUE(internal::ParseDouble(row[c_score], &want_score));
    ASSERT_TRUE(internal::ParseDouble(row[c_demo], &want_demo));
    EXPECT_DOUBLE_EQ(Round3(s.raw_score), want_score);
    EXPECT_DOUBLE_EQ(Round3(s.demographic_score), want_demo);
    ++checked;
  }
  EXPECT_EQ(checked, 50);
}

TEST(RiskModelTest, ScoresTheIssueExample) {
  RiskScore s = ScoreOrDie(HccModel::kV28, {"E11.9", "I50.9", "N18.4"}, Member(72, Sex::kFemale));
  EXPECT_EQ(s.segment, Segment::kCommunityNonDualAged);
  EXPECT_THAT(HccsOf(s), ElementsAre(38, 226, 327));
  EXPECT_TRUE(HasTerm(s, "DIABETES_HF_V28"));
  EXPECT_TRUE(HasTerm(s, "HF_KIDNEY_V28"));
  EXPECT_TRUE(HasTerm(s, "D3"));
  EXPECT_DOUBLE_EQ(Round3(s.raw_score), 1.723);
}

}  // namespace
}  // namespace chartcoder
