// Tests of the CMS-HCC V24/V28 risk models: the hccinfhir golden cases, and
// cases written from CMS's documented logic (the SAS software's hierarchy,
// interaction, edit and demographic macros), on the full data pack.
#include "chartcoder/hcc.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
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

// Counts heap allocations while `g_count_allocations` is set, to check that
// ScoreInto with a reused result allocates nothing. Not under AddressSanitizer,
// which owns operator new itself.
#if defined(__SANITIZE_ADDRESS__)
#define CHARTCODER_COUNT_ALLOCATIONS 0
#else
#define CHARTCODER_COUNT_ALLOCATIONS 1
#endif
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
}  // namespace

#if CHARTCODER_COUNT_ALLOCATIONS
// Every replaceable form, all on malloc/free; not inlined, so the compiler
// pairs each new with these deletes.
__attribute__((noinline)) void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_count_allocations) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
__attribute__((noinline)) void* operator new(size_t n) {
  if (void* p = operator new(n, std::nothrow)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }
#endif

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

TEST(RiskModelTest, TakesCodesInEveryForm) {
  const Demographics m = Member(72, Sex::kFemale);
  const RiskModel& model = Model(HccModel::kV28);
  const std::vector<std::string> strings = {"E11.9", "I50.9"};
  const std::vector<std::string_view> views = {"E11.9", "I50.9"};
  EXPECT_THAT(HccsOf(model.Score({"E11.9", "I50.9"}, m).value()), ElementsAre(38, 226));
  EXPECT_THAT(HccsOf(model.Score(strings, m).value()), ElementsAre(38, 226));
  EXPECT_THAT(HccsOf(model.Score(views, m).value()), ElementsAre(38, 226));
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

Demographics Disabled(int age, Sex sex) {
  Demographics d = Member(age, sex);
  d.orec = 1;
  return d;
}

Demographics Institutional(Demographics d) {
  d.institutional = true;
  return d;
}

const ScoreTerm* FindTerm(const RiskScore& s, std::string_view name) {
  for (const ScoreTerm& t : s.terms) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Hierarchies
// ---------------------------------------------------------------------------

// For every parent/child pair of each model's hierarchy table: a code of the
// parent plus a code of the child keep the parent and remove the child,
// naming the parent.
TEST(RiskModelHierarchyTest, EveryPairOfEveryFamily) {
  const CodeSet& codes = testing::TestCodeSet();
  ReferenceTable map = codes.Table("hcc/ra_dx_to_cc").value();
  ReferenceTable hier = codes.Table("hcc/ra_hierarchies").value();
  for (HccModel model : {HccModel::kV24, HccModel::kV28}) {
    SCOPED_TRACE(HccModelName(model));
    // HCC -> a code that maps to that HCC only.
    std::map<std::string, std::vector<std::string>> ccs_of_code;
    for (size_t r = 0; r < map.row_count(); ++r) {
      if (map.cell(r, 2) == HccModelFullName(model)) {
        ccs_of_code[std::string(map.cell(r, 0))].emplace_back(map.cell(r, 1));
      }
    }
    std::map<int, std::string> code_of;
    for (const auto& [code, ccs] : ccs_of_code) {
      int cc = 0;
      if (ccs.size() == 1 && internal::ParseInt(ccs[0], &cc) && !code_of.count(cc)) {
        code_of[cc] = code;
      }
    }
    int pairs = 0;
    for (size_t r = 0; r < hier.row_count(); ++r) {
      if (hier.cell(r, 2) != "CMS-HCC" || hier.cell(r, 3) != HccModelName(model)) continue;
      int parent = 0, child = 0;
      ASSERT_TRUE(internal::ParseInt(hier.cell(r, 0), &parent));
      ASSERT_TRUE(internal::ParseInt(hier.cell(r, 1), &child));
      ASSERT_TRUE(code_of.count(parent) && code_of.count(child)) << parent << ">" << child;
      SCOPED_TRACE(internal::StrCat(parent, ">", child));
      std::vector<std::string_view> dx = {code_of[child], code_of[parent]};
      // V28 HCC223 counts only with another heart failure HCC (HCC226 here,
      // which HCC223 outranks).
      if (model == HccModel::kV28 && parent == 223 && child == 227) dx.push_back(code_of[226]);
      RiskScore s = ScoreOrDie(model, dx, Member(70, Sex::kMale));
      EXPECT_THAT(HccsOf(s), ElementsAre(parent));
      bool removed = false;
      for (const RemovedHcc& rm : s.removed_hccs) {
        EXPECT_EQ(rm.reason, HccRemoval::kHierarchy);
        EXPECT_EQ(rm.removed_by, parent);
        removed = removed || rm.hcc == child;
      }
      EXPECT_TRUE(removed);
      EXPECT_EQ(s.payment_hcc_count, 1);
      ++pairs;
    }
    EXPECT_EQ(pairs, model == HccModel::kV24 ? 72 : 149);
  }
}

TEST(RiskModelHierarchyTest, FamiliesKeepOnlyTheTopHcc) {
  // Diabetes, kidney, cancer, heart failure, COPD/lung.
  RiskScore dm = ScoreOrDie(HccModel::kV28, {"E11.9", "E11.22", "E10.10"}, Member(70, Sex::kMale));
  EXPECT_THAT(HccsOf(dm), ElementsAre(36));
  RiskScore ckd = ScoreOrDie(HccModel::kV28, {"N18.30", "N18.4", "N18.5"}, Member(70, Sex::kMale));
  EXPECT_THAT(HccsOf(ckd), ElementsAre(326));
  RiskScore ca = ScoreOrDie(HccModel::kV24, {"C50.911", "C34.90", "C77.0"}, Member(70, Sex::kMale));
  EXPECT_THAT(HccsOf(ca), ElementsAre(8));  // C77.0 is metastatic (HCC8) in V24
  RiskScore hf = ScoreOrDie(HccModel::kV28, {"I50.9", "I50.23"}, Member(70, Sex::kMale));
  EXPECT_THAT(HccsOf(hf), ElementsAre(224));
  RiskScore lung = ScoreOrDie(HccModel::kV28, {"J44.9", "J84.10"}, Member(70, Sex::kMale));
  EXPECT_EQ(lung.hccs.size(), 1u);
}

// CMS's hierarchy macro zeroes children parent by parent, testing each parent
// after the earlier ones ran: with HCC62, HCC63 and HCC202, HCC62 removes
// HCC63 before HCC63's own rule could remove HCC202 (not listed under 62).
TEST(RiskModelHierarchyTest, AppliedInOrderOnHccsStillPresent) {
  RiskScore s = ScoreOrDie(HccModel::kV28, {"Z94.4", "K76.6", "E03.5"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(s), ElementsAre(62, 202));
  ASSERT_EQ(s.removed_hccs.size(), 1u);
  EXPECT_EQ(s.removed_hccs[0].hcc, 63);
  EXPECT_EQ(s.removed_hccs[0].removed_by, 62);
  // Without HCC62, HCC63 removes HCC202.
  RiskScore t = ScoreOrDie(HccModel::kV28, {"K76.6", "E03.5"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(t), ElementsAre(63));
}

// V28 software, heart interaction patch: HCC223 (heart assist device) counts
// only with another heart failure HCC.
TEST(RiskModelHierarchyTest, Hcc223NeedsAnotherHeartFailureHcc) {
  RiskScore alone = ScoreOrDie(HccModel::kV28, {"Z95.811"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(alone), IsEmpty());
  ASSERT_EQ(alone.removed_hccs.size(), 1u);
  EXPECT_EQ(alone.removed_hccs[0].hcc, 223);
  EXPECT_EQ(alone.removed_hccs[0].reason, HccRemoval::kRequirement);
  EXPECT_THAT(std::string(alone.removed_hccs[0].rule), HasSubstr("any of HCC 221 222 224 225 226"));
  EXPECT_FALSE(HasTerm(alone, "D1"));
  RiskScore with_hf = ScoreOrDie(HccModel::kV28, {"Z95.811", "I50.9"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(with_hf), ElementsAre(223));
  ASSERT_EQ(with_hf.removed_hccs.size(), 1u);
  EXPECT_EQ(with_hf.removed_hccs[0].hcc, 226);
  EXPECT_EQ(with_hf.removed_hccs[0].removed_by, 223);
  // V24 has no such rule: Z95.811 is HCC186 there.
  RiskScore v24 = ScoreOrDie(HccModel::kV24, {"Z95.811"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(v24), ElementsAre(186));
}

// ---------------------------------------------------------------------------
// Interactions: each one, with the coefficient of the CMS table, and gone
// when one factor is missing.
// ---------------------------------------------------------------------------

struct InteractionCase {
  HccModel model;
  std::string_view name;
  std::vector<std::string_view> codes;  // the first one is a factor by itself
  Demographics member;
  std::string_view segment;
  double coefficient;
};

TEST(RiskModelInteractionTest, EachInteraction) {
  const Demographics aged = Member(72, Sex::kFemale);
  const Demographics disabled = Disabled(50, Sex::kMale);
  const Demographics ins_aged = Institutional(Member(75, Sex::kFemale));
  const Demographics ins_disabled = Institutional(Disabled(50, Sex::kMale));
  const HccModel v24 = HccModel::kV24, v28 = HccModel::kV28;
  const std::vector<InteractionCase> cases = {
      {v28, "DIABETES_HF_V28", {"E11.9", "I50.9"}, aged, "CNA", 0.112},
      {v28, "HF_CHR_LUNG_V28", {"J44.9", "I50.9"}, aged, "CNA", 0.078},
      {v28, "HF_KIDNEY_V28", {"N18.4", "I50.9"}, aged, "CNA", 0.176},
      {v28, "CHR_LUNG_CARD_RESP_FAIL_V28", {"J44.9", "J96.11"}, aged, "CNA", 0.254},
      {v28, "HF_HCC238_V28", {"I48.91", "I50.9"}, aged, "CNA", 0.077},
      {v28, "gSubUseDisorder_gPsych_V28", {"F10.20", "F20.0"}, disabled, "CND", 0.087},
      {v28, "DISABLED_CANCER_V28", {"C34.90"}, ins_disabled, "INS", 0.367},
      {v28, "DISABLED_NEURO_V28", {"G35"}, ins_disabled, "INS", 0.154},
      {v28, "DISABLED_HF_V28", {"I50.9"}, ins_disabled, "INS", 0.488},
      {v28, "DISABLED_CHR_LUNG_V28", {"J44.9"}, ins_disabled, "INS", 0.278},
      {v28, "DISABLED_ULCER_V28", {"L89.154"}, ins_disabled, "INS", 0.537},
      {v24, "HCC47_gCancer", {"D71", "C34.90"}, aged, "CNA", 0.838},
      {v24, "DIABETES_CHF", {"E11.9", "I50.9"}, aged, "CNA", 0.121},
      {v24, "CHF_gCopdCF", {"J44.9", "I50.9"}, aged, "CNA", 0.155},
      {v24, "HCC85_gRenal_V24", {"N18.4", "I50.9"}, aged, "CNA", 0.156},
      {v24, "gCopdCF_CARD_RESP_FAIL", {"J44.9", "J96.11"}, aged, "CNA", 0.363},
      {v24, "HCC85_HCC96", {"I48.91", "I50.9"}, aged, "CNA", 0.085},
      {v24, "gSubstanceUseDisorder_gPsych", {"F10.20", "F20.0"}, disabled, "CND", 0.138},
      {v24, "SEPSIS_PRESSURE_ULCER", {"A41.9", "L89.154"}, ins_aged, "INS", 0.155},
      {v24, "SEPSIS_ARTIF_OPENINGS", {"A41.9", "Z43.1"}, ins_aged, "INS", 0.474},
      {v24, "ART_OPENINGS_PRESS_ULCER", {"Z43.1", "L89.154"}, ins_aged, "INS", 0.359},
      {v24, "gCopdCF_ASP_SPEC_B_PNEUM", {"J44.9", "A48.1"}, ins_aged, "INS", 0.216},
      {v24, "ASP_SPEC_B_PNEUM_PRES_ULC", {"A48.1", "L89.154"}, ins_aged, "INS", 0.472},
      {v24, "SEPSIS_ASP_SPEC_BACT_PNEUM", {"A41.9", "A48.1"}, ins_aged, "INS", 0.346},
      {v24, "SCHIZOPHRENIA_gCopdCF", {"F20.0", "J44.9"}, ins_aged, "INS", 0.417},
      {v24, "SCHIZOPHRENIA_CHF", {"F20.0", "I50.9"}, ins_aged, "INS", 0.127},
      // CMS computes it (V24 software); hccinfhir 0.3.3 does not (docs/raf.md).
      {v24, "SCHIZOPHRENIA_SEIZURES", {"F20.0", "G40.909"}, ins_aged, "INS", 0.573},
      {v24, "DISABLED_HCC85", {"I50.9"}, ins_disabled, "INS", 0.279},
      {v24, "DISABLED_PRESSURE_ULCER", {"L89.154"}, ins_disabled, "INS", 0.544},
      {v24, "DISABLED_HCC161", {"L97.101"}, ins_disabled, "INS", 0.473},
      {v24, "DISABLED_HCC39", {"M86.9"}, ins_disabled, "INS", 0.456},
      {v24, "DISABLED_HCC77", {"G35"}, ins_disabled, "INS", 0.496},
      {v24, "DISABLED_HCC6", {"B59"}, ins_disabled, "INS", 0.405},
  };
  for (const InteractionCase& c : cases) {
    SCOPED_TRACE(c.name);
    RiskScore s = ScoreOrDie(c.model, c.codes, c.member);
    EXPECT_EQ(SegmentCode(s.segment), c.segment);
    const ScoreTerm* t = FindTerm(s, c.name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind, TermKind::kInteraction);
    EXPECT_DOUBLE_EQ(t->coefficient, c.coefficient);
    EXPECT_EQ(t->variable, internal::StrCat(c.segment, "_", c.name));
    // One factor missing: the HCCs of the remaining codes, or an aged member
    // for the disabled interactions.
    std::vector<std::string_view> fewer(c.codes.begin() + 1, c.codes.end());
    Demographics member = c.member;
    if (fewer.empty()) {
      fewer = c.codes;
      member.age = 70;
    }
    RiskScore without = ScoreOrDie(c.model, fewer, member);
    EXPECT_EQ(FindTerm(without, c.name), nullptr);
  }
}

TEST(RiskModelInteractionTest, OnlyInSegmentsWithACoefficient) {
  // HF x arrhythmia has no institutional coefficient; psychiatric x substance
  // use is a community-disabled term only.
  RiskScore ins =
      ScoreOrDie(HccModel::kV28, {"I48.91", "I50.9"}, Institutional(Member(75, Sex::kFemale)));
  EXPECT_EQ(FindTerm(ins, "HF_HCC238_V28"), nullptr);
  RiskScore aged = ScoreOrDie(HccModel::kV28, {"F10.20", "F20.0"}, Member(70, Sex::kMale));
  EXPECT_EQ(FindTerm(aged, "gSubUseDisorder_gPsych_V28"), nullptr);
  // The disabled interactions need DISABL: an aged institutional member,
  // originally disabled, does not get them.
  Demographics orig = Institutional(Disabled(70, Sex::kMale));
  RiskScore old = ScoreOrDie(HccModel::kV28, {"I50.9"}, orig);
  EXPECT_FALSE(old.disabled);
  EXPECT_EQ(FindTerm(old, "DISABLED_HF_V28"), nullptr);
}

// ---------------------------------------------------------------------------
// Payment HCC counts
// ---------------------------------------------------------------------------

// Codes of twelve V28 HCCs in twelve different families.
const std::vector<std::string_view> kTwelveV28Hccs = {"B20",   "A02.1", "B59",   "C23",
                                                      "E08.8", "E66.2", "K76.6", "M05.9",
                                                      "F20.0", "G35",   "I44.2", "N18.4"};

TEST(RiskModelCountTest, CappedAtTheTopBucket) {
  const Demographics m = Member(72, Sex::kMale);
  for (size_t n : {1u, 5u, 9u, 10u, 11u, 12u}) {
    SCOPED_TRACE(n);
    std::vector<std::string_view> codes(kTwelveV28Hccs.begin(), kTwelveV28Hccs.begin() + n);
    RiskScore s = ScoreOrDie(HccModel::kV28, codes, m);
    EXPECT_EQ(s.payment_hcc_count, static_cast<int>(n));
    const std::string want = n >= 10 ? "D10P" : internal::StrCat("D", n);
    const ScoreTerm* t = FindTerm(s, want);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind, TermKind::kHccCount);
    int count_terms = 0;
    for (const ScoreTerm& term : s.terms) count_terms += term.kind == TermKind::kHccCount;
    EXPECT_EQ(count_terms, 1);
    if (n == 9) {
      EXPECT_DOUBLE_EQ(t->coefficient, 0.444);
    } else if (n >= 10) {
      EXPECT_DOUBLE_EQ(t->coefficient, 0.728);
    }
  }
  // The count is of HCCs after hierarchies.
  RiskScore h = ScoreOrDie(HccModel::kV28, {"E11.9", "E11.22", "N18.4", "N18.5"}, m);
  EXPECT_EQ(h.payment_hcc_count, 2);
  EXPECT_NE(FindTerm(h, "D2"), nullptr);
  // V28 institutional has count terms, V24 institutional has none.
  RiskScore ins28 = ScoreOrDie(HccModel::kV28, kTwelveV28Hccs, Institutional(m));
  EXPECT_DOUBLE_EQ(FindTerm(ins28, "D10P")->coefficient, 0.373);
  RiskScore ins24 = ScoreOrDie(HccModel::kV24, kTwelveV28Hccs, Institutional(m));
  for (const ScoreTerm& term : ins24.terms) EXPECT_NE(term.kind, TermKind::kHccCount);
  // New enrollees have none either; no HCC, no count term.
  RiskScore none = ScoreOrDie(HccModel::kV28, {}, m);
  EXPECT_THAT(none.terms, ::testing::SizeIs(1));
}

// ---------------------------------------------------------------------------
// Segments and demographic terms
// ---------------------------------------------------------------------------

TEST(RiskModelSegmentTest, CommunitySegmentsByDualStatusAndAge) {
  struct Case {
    int age;
    DualStatus dual;
    int orec;
    Segment want;
  } const cases[] = {
      {72, DualStatus::kNone, 0, Segment::kCommunityNonDualAged},
      {50, DualStatus::kNone, 1, Segment::kCommunityNonDualDisabled},
      {72, DualStatus::kFull, 0, Segment::kCommunityFullDualAged},
      {50, DualStatus::kFull, 1, Segment::kCommunityFullDualDisabled},
      {72, DualStatus::kPartial, 0, Segment::kCommunityPartialDualAged},
      {50, DualStatus::kPartial, 1, Segment::kCommunityPartialDualDisabled},
      {65, DualStatus::kNone, 1, Segment::kCommunityNonDualAged},
      {64, DualStatus::kNone, 1, Segment::kCommunityNonDualDisabled},
  };
  for (const Case& c : cases) {
    Demographics d = Member(c.age, Sex::kFemale);
    d.dual = c.dual;
    d.orec = c.orec;
    for (HccModel model : {HccModel::kV24, HccModel::kV28}) {
      RiskScore s = ScoreOrDie(model, {"E11.9"}, d);
      EXPECT_EQ(s.segment, c.want) << c.age << " " << DualStatusName(c.dual);
      EXPECT_FALSE(s.segment_forced);
      EXPECT_EQ(s.terms[0].kind, TermKind::kDemographic);
      EXPECT_TRUE(s.terms[0].variable.starts_with(SegmentCode(c.want)));
    }
  }
}

TEST(RiskModelSegmentTest, OriginallyDisabled) {
  // Aged, entitled by disability (OREC 1): the originally-disabled term of
  // the member's sex in community aged segments.
  RiskScore m = ScoreOrDie(HccModel::kV28, {}, Disabled(70, Sex::kMale));
  EXPECT_TRUE(m.originally_disabled);
  EXPECT_FALSE(m.disabled);
  EXPECT_THAT(TermsOf(m), UnorderedElementsAreArray(std::map<std::string, double>{
                              {"M70_74", 0.396}, {"OriginallyDisabled_Male", 0.135}}));
  EXPECT_DOUBLE_EQ(Round3(m.demographic_score), 0.531);
  // OREC 3 (disability and ESRD) is not originally disabled in AGESEXV2.
  Demographics esrd = Member(70, Sex::kMale);
  esrd.orec = 3;
  RiskScore e = ScoreOrDie(HccModel::kV28, {}, esrd);
  EXPECT_FALSE(e.originally_disabled);
  EXPECT_EQ(FindTerm(e, "OriginallyDisabled_Male"), nullptr);
  // Under 65 and OREC 1 is disabled, not originally disabled.
  RiskScore young = ScoreOrDie(HccModel::kV28, {}, Disabled(50, Sex::kMale));
  EXPECT_TRUE(young.disabled);
  EXPECT_FALSE(young.originally_disabled);
  // Institutional: ORIGDS (coefficient 0 in V28).
  RiskScore ins = ScoreOrDie(HccModel::kV28, {}, Institutional(Disabled(70, Sex::kFemale)));
  const ScoreTerm* origds = FindTerm(ins, "ORIGDS");
  ASSERT_NE(origds, nullptr);
  EXPECT_EQ(origds->kind, TermKind::kOriginallyDisabled);
  EXPECT_DOUBLE_EQ(origds->coefficient, 0);
}

TEST(RiskModelSegmentTest, InstitutionalWithMedicaid) {
  Demographics d = Institutional(Member(72, Sex::kFemale));
  RiskScore plain = ScoreOrDie(HccModel::kV28, {}, d);
  EXPECT_EQ(plain.segment, Segment::kInstitutional);
  EXPECT_EQ(FindTerm(plain, "LTIMCAID"), nullptr);
  EXPECT_DOUBLE_EQ(FindTerm(plain, "F70_74")->coefficient, 1.119);
  // Partial and full duals both count as Medicaid for LTIMCAID; the dual
  // status does not change the institutional segment.
  for (DualStatus dual : {DualStatus::kPartial, DualStatus::kFull}) {
    d.dual = dual;
    RiskScore s = ScoreOrDie(HccModel::kV28, {}, d);
    EXPECT_EQ(s.segment, Segment::kInstitutional);
    ASSERT_NE(FindTerm(s, "LTIMCAID"), nullptr);
    EXPECT_EQ(FindTerm(s, "LTIMCAID")->kind, TermKind::kMedicaid);
    EXPECT_DOUBLE_EQ(Round3(s.raw_score), 1.249);
  }
}

TEST(RiskModelSegmentTest, NewEnrolleeCells) {
  struct Case {
    int age;
    int orec;
    DualStatus dual;
    bool csnp;
    std::string_view variable;
    double coefficient;
  } const cases[] = {
      {66, 0, DualStatus::kNone, false, "NE_NMCAID_NORIGDIS_NEF66", 0.532},
      // AGESEXV2: a 64-year-old entitled by age takes the age-65 cell.
      {64, 0, DualStatus::kNone, false, "NE_NMCAID_NORIGDIS_NEF65", 0.532},
      {64, 1, DualStatus::kNone, false, "NE_NMCAID_NORIGDIS_NEF60_64", 1.212},
      {67, 1, DualStatus::kNone, false, "NE_NMCAID_ORIGDIS_NEF67", 1.276},
      {67, 1, DualStatus::kPartial, false, "NE_MCAID_ORIGDIS_NEF67", 1.599},
      {66, 0, DualStatus::kNone, true, "SNPNE_NMCAID_NORIGDIS_NEF66", 0.9},
      {67, 1, DualStatus::kFull, true, "SNPNE_MCAID_ORIGDIS_NEF67", 2.148},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.variable);
    Demographics d = Member(c.age, Sex::kFemale);
    d.orec = c.orec;
    d.dual = c.dual;
    d.new_enrollee = true;
    d.chronic_snp = c.csnp;
    // Diagnoses are mapped and listed but a new enrollee's score is the cell.
    RiskScore s = ScoreOrDie(HccModel::kV28, {"E11.9", "I50.9"}, d);
    EXPECT_EQ(s.segment, c.csnp ? Segment::kSnpNewEnrollee : Segment::kNewEnrollee);
    ASSERT_EQ(s.terms.size(), 1u);
    EXPECT_EQ(s.terms[0].variable, c.variable);
    EXPECT_DOUBLE_EQ(s.terms[0].coefficient, c.coefficient);
    EXPECT_DOUBLE_EQ(s.raw_score, c.coefficient);
    EXPECT_THAT(HccsOf(s), ElementsAre(38, 226));
    for (const HccResult& h : s.hccs) EXPECT_FALSE(h.scored);
  }
}

TEST(RiskModelSegmentTest, NewEnrolleeTakesPrecedenceOverInstitutional) {
  // CMS scores a new enrollee with the new-enrollee model whatever the
  // institutional status (hccinfhir picks INS; docs/raf.md).
  Demographics d = Institutional(Member(70, Sex::kFemale));
  d.new_enrollee = true;
  RiskScore s = ScoreOrDie(HccModel::kV24, {}, d);
  EXPECT_EQ(s.segment, Segment::kNewEnrollee);
}

TEST(RiskModelSegmentTest, ForcedSegment) {
  Demographics d = Member(72, Sex::kFemale);
  d.segment = Segment::kInstitutional;
  RiskScore s = ScoreOrDie(HccModel::kV28, {"E11.9"}, d);
  EXPECT_EQ(s.segment, Segment::kInstitutional);
  EXPECT_TRUE(s.segment_forced);
  EXPECT_EQ(s.terms[0].variable, "INS_F70_74");
  // A community aged segment has no cell for a 45-year-old.
  Demographics young = Member(45, Sex::kMale);
  young.segment = Segment::kCommunityNonDualAged;
  absl::StatusOr<RiskScore> bad = Model(HccModel::kV28).Score(std::vector<std::string>{}, young);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("no age/sex cell"));
}

// ---------------------------------------------------------------------------
// Age/sex edits
// ---------------------------------------------------------------------------

TEST(RiskModelEditTest, V28EditsFromTheCmsTable) {
  // Hemophilia in a female: HCC112 instead of HCC111.
  RiskScore f = ScoreOrDie(HccModel::kV28, {"D66"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(f), ElementsAre(112));
  ASSERT_EQ(f.edits.size(), 1u);
  EXPECT_EQ(f.edits[0].action, EditAction::kOverride);
  EXPECT_EQ(f.edits[0].hcc, 112);
  EXPECT_THAT(std::string(f.edits[0].description), HasSubstr("female"));
  RiskScore m = ScoreOrDie(HccModel::kV28, {"D66"}, Member(70, Sex::kMale));
  EXPECT_THAT(HccsOf(m), ElementsAre(111));
  EXPECT_THAT(m.edits, IsEmpty());
  // COPD under 18 is invalid.
  RiskScore child = ScoreOrDie(HccModel::kV28, {"J44.9"}, Member(17, Sex::kMale));
  EXPECT_THAT(HccsOf(child), IsEmpty());
  EXPECT_EQ(child.codes[0].status, CodeStatus::kRemovedByEdit);
  ASSERT_EQ(child.edits.size(), 1u);
  EXPECT_EQ(child.edits[0].action, EditAction::kInvalid);
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV28, {"J44.9"}, Member(18, Sex::kMale))),
              ElementsAre(280));
  // Breast cancer under 50: HCC22 instead of HCC23.
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV28, {"C50.911"}, Member(49, Sex::kFemale))),
              ElementsAre(22));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV28, {"C50.911"}, Member(50, Sex::kFemale))),
              ElementsAre(23));
  // Newborn codes from age 2 are invalid.
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV28, {"P04.11"}, Member(1, Sex::kFemale))),
              ElementsAre(137));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV28, {"P04.11"}, Member(2, Sex::kFemale))), IsEmpty());
}

TEST(RiskModelEditTest, V24EditsFromTheCuratedTable) {
  // CMS V24 edit macro: D66/D67 in a female -> HCC48.
  RiskScore f = ScoreOrDie(HccModel::kV24, {"D66"}, Member(70, Sex::kFemale));
  EXPECT_THAT(HccsOf(f), ElementsAre(48));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"D66"}, Member(70, Sex::kMale))), ElementsAre(46));
  // COPD under 18 -> HCC112.
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"J44.9"}, Member(17, Sex::kMale))),
              ElementsAre(112));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"J44.9"}, Member(18, Sex::kMale))),
              ElementsAre(111));
  // F34.81 only from 6 to 18.
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"F34.81"}, Member(5, Sex::kMale))), IsEmpty());
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"F34.81"}, Member(6, Sex::kMale))),
              ElementsAre(59));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"F34.81"}, Member(18, Sex::kMale))),
              ElementsAre(59));
  EXPECT_THAT(HccsOf(ScoreOrDie(HccModel::kV24, {"F34.81"}, Member(19, Sex::kMale))), IsEmpty());
}

// ---------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------

TEST(RiskModelCodeTest, EveryCodeIsAccountedFor) {
  RiskScore s = ScoreOrDie(HccModel::kV28,
                           {" e11.9 ", "E119", "I10", "I21.1", "R05", "XYZ", "E11.99999", "",
                            "E66.813", "E11.9", "i509", "E66.811"},
                           Member(72, Sex::kFemale));
  std::vector<std::pair<std::string, CodeStatus>> got;
  for (const CodeResult& c : s.codes) got.emplace_back(c.code, c.status);
  EXPECT_THAT(got,
              ElementsAre(Pair("E11.9", CodeStatus::kMapped), Pair("I10", CodeStatus::kNoHcc),
                          Pair("I21.1", CodeStatus::kNotBillable),
                          Pair("R05", CodeStatus::kNotBillable), Pair("XYZ", CodeStatus::kInvalid),
                          Pair("E11.99999", CodeStatus::kInvalid), Pair("", CodeStatus::kInvalid),
                          // FY2025 code, newer than the FY2023 tabular
                          // list, valid because a CMS mapping has it.
                          Pair("E66.813", CodeStatus::kMapped), Pair("I50.9", CodeStatus::kMapped),
                          // FY2025 too, but in no mapping: the pack cannot
                          // tell it from a made-up code (docs/raf.md).
                          Pair("E66.811", CodeStatus::kInvalid)));
  EXPECT_EQ(s.codes[0].input_index, 0u);
  EXPECT_EQ(s.codes[8].input_index, 10u);
  EXPECT_THAT(HccsOf(s), ElementsAre(38, 48, 226));
  EXPECT_THAT(s.CodesOf(38), ElementsAre("E11.9"));
}

TEST(RiskModelCodeTest, CodesMappingToTwoHccs) {
  // E08.311 maps to V28 HCC37 and HCC298 (diabetic eye disease).
  RiskScore s = ScoreOrDie(HccModel::kV28, {"E08.311"}, Member(72, Sex::kFemale));
  EXPECT_THAT(HccsOf(s), ElementsAre(37, 298));
  EXPECT_EQ(s.codes[0].hcc_count, 2);
  EXPECT_THAT(s.CodesOf(298), ElementsAre("E08.311"));
}

TEST(RiskModelCodeTest, ManyCodesAreFolded) {
  std::vector<std::string> codes;
  for (int i = 0; i < 300; ++i) codes.push_back(i % 2 ? "E11.9" : "I50.9");
  codes.push_back("N18.4");
  RiskScore s = Model(HccModel::kV28).Score(codes, Member(72, Sex::kFemale)).value();
  EXPECT_EQ(s.codes.size(), 3u);
  EXPECT_THAT(HccsOf(s), ElementsAre(38, 226, 327));
  // Past 64 codes duplicates are found by hash; the 64th code being invalid
  // must not lose the first 64 codes.
  std::vector<std::string> long_list(63, "I10");
  long_list.push_back("XYZ");
  long_list.push_back("I10");
  long_list.push_back("E11.9");
  long_list.push_back("e119");
  long_list.push_back("XYZ");
  RiskScore folded = Model(HccModel::kV28).Score(long_list, Member(72, Sex::kFemale)).value();
  EXPECT_EQ(folded.codes.size(), 3u);
  std::vector<std::string> invalid_list;
  for (int i = 0; i < 100; ++i)
    invalid_list.push_back(i % 3 == 0 ? "bad" : i % 3 == 1 ? "E11.9" : "worse");
  RiskScore invalid = Model(HccModel::kV28).Score(invalid_list, Member(72, Sex::kFemale)).value();
  EXPECT_EQ(invalid.codes.size(), 3u);
  std::vector<std::string_view> too_many(RiskModel::kMaxCodes + 1, "E11.9");
  EXPECT_EQ(Model(HccModel::kV28).Score(too_many, Member(72, Sex::kFemale)).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// ---------------------------------------------------------------------------
// Demographics validation
// ---------------------------------------------------------------------------

TEST(RiskModelValidationTest, BadDemographicsAreRefused) {
  auto code = [](const Demographics& d) {
    return Model(HccModel::kV28).Score(std::vector<std::string>{"E11.9"}, d).status().code();
  };
  EXPECT_EQ(code(Member(-1, Sex::kFemale)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Member(131, Sex::kFemale)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Member(70, Sex::kUnspecified)), absl::StatusCode::kInvalidArgument);
  Demographics orec = Member(70, Sex::kMale);
  orec.orec = 4;
  EXPECT_EQ(code(orec), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Demographics()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Member(0, Sex::kMale)), absl::StatusCode::kOk);
  EXPECT_EQ(code(Member(130, Sex::kMale)), absl::StatusCode::kOk);
}

TEST(RiskModelValidationTest, Parsers) {
  EXPECT_EQ(ParseHccModel("v24").value(), HccModel::kV24);
  EXPECT_EQ(ParseHccModel("CMS-HCC Model V28").value(), HccModel::kV28);
  EXPECT_FALSE(ParseHccModel("V22").ok());
  EXPECT_EQ(ParseSex("female").value(), Sex::kFemale);
  EXPECT_EQ(ParseSex("1").value(), Sex::kMale);
  EXPECT_FALSE(ParseSex("X").ok());
  EXPECT_EQ(ParseDualStatus("NA").value(), DualStatus::kNone);
  EXPECT_EQ(ParseDualStatus("03").value(), DualStatus::kPartial);
  EXPECT_EQ(ParseDualStatus("08").value(), DualStatus::kFull);
  EXPECT_EQ(ParseDualStatus("Full").value(), DualStatus::kFull);
  EXPECT_FALSE(ParseDualStatus("07").ok());
  EXPECT_EQ(ParseSegment("snpne").value(), Segment::kSnpNewEnrollee);
  EXPECT_FALSE(ParseSegment("XYZ").ok());
  for (int i = 0; i < kSegmentCount; ++i) {
    EXPECT_EQ(ParseSegment(SegmentCode(static_cast<Segment>(i))).value(), static_cast<Segment>(i));
  }
}

// ---------------------------------------------------------------------------
// Normalization, coding intensity, blends
// ---------------------------------------------------------------------------

TEST(RiskModelPaymentTest, NoDefaultNormalizationFor2026) {
  // The pack is of payment year 2026: chartcoder carries no verified 2026
  // normalization factor, so none is invented.
  const RiskModel& m = Model(HccModel::kV28);
  EXPECT_EQ(m.payment_year(), 2026);
  EXPECT_FALSE(m.normalization_factor().has_value());
  EXPECT_DOUBLE_EQ(m.coding_intensity_adjustment().value(), 0.059);
  EXPECT_THAT(std::string(m.coding_adjustment_source()), HasSubstr("5.9%"));
  RiskScore s = ScoreOrDie(HccModel::kV28, {"E11.9"}, Member(72, Sex::kFemale));
  EXPECT_FALSE(s.normalized_score.has_value());
  EXPECT_FALSE(s.payment_score.has_value());
}

TEST(RiskModelPaymentTest, GivenConstantsAndCmsRounding) {
  RiskModelOptions o;
  o.code_set = SharedTestCodeSet();
  o.model = HccModel::kV28;
  o.normalization_factor = 1.045;
  o.coding_intensity_adjustment = 0.059;
  std::unique_ptr<RiskModel> m = RiskModel::Create(o).value();
  EXPECT_EQ(m->normalization_source(), "option");
  RiskScore s =
      m->Score(std::vector<std::string>{"E11.9", "I50.9", "N18.4"}, Member(72, Sex::kFemale))
          .value();
  EXPECT_DOUBLE_EQ(Round3(s.raw_score), 1.723);
  // round(1.723 / 1.045, 3) = 1.649; round(1.649 * 0.941, 3) = 1.552.
  EXPECT_DOUBLE_EQ(s.normalized_score.value(), 1.649);
  EXPECT_DOUBLE_EQ(s.payment_score.value(), 1.552);
  // Bad constants.
  o.normalization_factor = 0;
  EXPECT_EQ(RiskModel::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.normalization_factor = 1.0;
  o.coding_intensity_adjustment = 1.0;
  EXPECT_EQ(RiskModel::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.coding_intensity_adjustment = -0.1;
  EXPECT_EQ(RiskModel::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RiskModelPaymentTest, PublishedValuesNameTheirSource) {
  EXPECT_DOUBLE_EQ(PublishedNormalizationFactor(HccModel::kV24, 2024)->value, 1.146);
  EXPECT_DOUBLE_EQ(PublishedNormalizationFactor(HccModel::kV28, 2024)->value, 1.015);
  EXPECT_THAT(std::string(PublishedNormalizationFactor(HccModel::kV28, 2024)->source),
              HasSubstr("CY) 2024"));
  EXPECT_FALSE(PublishedNormalizationFactor(HccModel::kV28, 2025).has_value());
  EXPECT_FALSE(PublishedNormalizationFactor(HccModel::kV28, 2026).has_value());
  EXPECT_DOUBLE_EQ(PublishedCodingIntensityAdjustment(2019)->value, 0.059);
  EXPECT_FALSE(PublishedCodingIntensityAdjustment(2018).has_value());
  EXPECT_FALSE(PublishedCodingIntensityAdjustment(2027).has_value());
  std::optional<PublishedBlend> b2025 = PublishedBlendFor(2025);
  ASSERT_TRUE(b2025.has_value());
  ASSERT_EQ(b2025->weights.size(), 2u);
  EXPECT_EQ(b2025->weights[0].model, HccModel::kV24);
  EXPECT_DOUBLE_EQ(b2025->weights[0].weight, 0.33);
  EXPECT_DOUBLE_EQ(b2025->weights[1].weight, 0.67);
  EXPECT_DOUBLE_EQ(PublishedBlendFor(2024)->weights[0].weight, 0.67);
  EXPECT_EQ(PublishedBlendFor(2026)->weights.size(), 1u);
  EXPECT_FALSE(PublishedBlendFor(2023).has_value());
}

TEST(RiskModelPaymentTest, PaymentYearOfThePackOnly) {
  RiskModelOptions o;
  o.code_set = SharedTestCodeSet();
  o.payment_year = 2026;
  EXPECT_TRUE(RiskModel::Create(o).ok());
  o.payment_year = 2025;
  EXPECT_EQ(RiskModel::Create(o).status().code(), absl::StatusCode::kFailedPrecondition);
  o.code_set = nullptr;
  EXPECT_EQ(RiskModel::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RiskModelBlendTest, BlendsNormalizedScoresThenAdjusts) {
  RiskScore v24 = ScoreOrDie(HccModel::kV24, {"E11.9", "I50.9"}, Member(72, Sex::kFemale));
  RiskScore v28 = ScoreOrDie(HccModel::kV28, {"E11.9", "I50.9"}, Member(72, Sex::kFemale));
  const RiskScore* both[] = {&v24, &v28};
  const BlendWeight weights[] = {{HccModel::kV24, 0.33}, {HccModel::kV28, 0.67}};
  BlendedRiskScore raw = BlendScores(both, weights).value();
  EXPECT_NEAR(raw.raw_score, 0.33 * v24.raw_score + 0.67 * v28.raw_score, 1e-12);
  EXPECT_FALSE(raw.normalized_score.has_value());  // no 2026 normalization factors

  // With normalization factors: each model normalized and rounded, blended,
  // rounded, then adjusted once.
  v24.normalized_score = 0.702;
  v28.normalized_score = 0.862;
  BlendedRiskScore b = BlendScores(both, weights).value();
  EXPECT_DOUBLE_EQ(b.normalized_score.value(), 0.809);  // 0.23166 + 0.57754
  EXPECT_DOUBLE_EQ(b.payment_score.value(), 0.761);     // 0.809 * 0.941 = 0.761269

  const BlendWeight bad_sum[] = {{HccModel::kV24, 0.5}, {HccModel::kV28, 0.6}};
  EXPECT_EQ(BlendScores(both, bad_sum).status().code(), absl::StatusCode::kInvalidArgument);
  const BlendWeight twice[] = {{HccModel::kV28, 0.5}, {HccModel::kV28, 0.5}};
  EXPECT_EQ(BlendScores(both, twice).status().code(), absl::StatusCode::kInvalidArgument);
  const RiskScore* one[] = {&v28};
  EXPECT_EQ(BlendScores(one, weights).status().code(), absl::StatusCode::kInvalidArgument);
  const BlendWeight only28[] = {{HccModel::kV28, 1.0}};
  EXPECT_EQ(BlendScores(both, only28).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(BlendScores(one, only28).ok());
  const BlendWeight negative[] = {{HccModel::kV24, -0.5}, {HccModel::kV28, 1.5}};
  EXPECT_EQ(BlendScores(both, negative).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Reuse and JSON
// ---------------------------------------------------------------------------

TEST(RiskModelReuseTest, ScoreIntoOverwritesEverything) {
  const RiskModel& m = Model(HccModel::kV28);
  RiskScore out;
  std::vector<std::string_view> big = {"E11.22", "E11.9", "I50.9", "D66", "XYZ", "Z95.811"};
  ASSERT_TRUE(m.ScoreInto(big, Member(72, Sex::kFemale), &out).ok());
  EXPECT_FALSE(out.edits.empty());
  std::vector<std::string_view> small = {"N18.4"};
  ASSERT_TRUE(m.ScoreInto(small, Member(50, Sex::kMale), &out).ok());
  RiskScore fresh = ScoreOrDie(HccModel::kV28, small, Member(50, Sex::kMale));
  EXPECT_EQ(HccsOf(out), HccsOf(fresh));
  EXPECT_EQ(TermsOf(out), TermsOf(fresh));
  EXPECT_EQ(out.codes.size(), 1u);
  EXPECT_TRUE(out.edits.empty());
  EXPECT_TRUE(out.removed_hccs.empty());
  EXPECT_DOUBLE_EQ(out.raw_score, fresh.raw_score);
  EXPECT_EQ(out.segment, fresh.segment);
  // An error leaves no stale score behind.
  EXPECT_FALSE(m.ScoreInto(small, Member(-3, Sex::kMale), &out).ok());
  EXPECT_TRUE(out.hccs.empty());
  EXPECT_DOUBLE_EQ(out.raw_score, 0);
}

TEST(RiskModelReuseTest, ScoreIntoAllocatesNothingOnceWarm) {
  if (!CHARTCODER_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under ASan";
  const RiskModel& m = Model(HccModel::kV28);
  const std::vector<std::vector<std::string_view>> members = {
      {"E11.22", "E11.9", "I50.9", "D66", "XYZ", "Z95.811", "N18.4", "J44.9", "F20.0", "F10.20",
       "I48.91", "C34.90", "G35", "L89.154", "I10", "I21.1", "E66.01", "Z68.41", "A41.9", "K76.6"},
      {"N18.4"},
      {},
      {"e119", " I50.23 ", "J96.11", "J44.9", "bad code", "E11.9"},
  };
  RiskScore out;
  Demographics d = Member(72, Sex::kFemale);
  ASSERT_TRUE(m.ScoreInto(members[0], d, &out).ok());  // warm: capacity for 20 codes
  g_allocations = 0;
  g_count_allocations = true;
  for (int round = 0; round < 50; ++round) {
    for (const auto& codes : members) {
      d.age = 60 + round % 40;
      d.institutional = round % 3 == 0;
      if (!m.ScoreInto(codes, d, &out).ok()) break;
    }
  }
  g_count_allocations = false;
  EXPECT_EQ(g_allocations.load(), 0);
}

TEST(RiskModelJsonTest, WritesTheWholeExplanation) {
  RiskScore s = ScoreOrDie(HccModel::kV28, {"E11.22", "E11.9", "I50.9", "I10", "I21.1", "XYZ"},
                           Member(72, Sex::kFemale));
  std::string out;
  internal::JsonWriter w(&out);
  internal::WriteRiskScoreJson(s, &w);
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(out).get(e), simdjson::SUCCESS) << out;
  EXPECT_EQ(std::string_view(e["model"]), "V28");
  EXPECT_EQ(int64_t(e["payment_year"]), 2026);
  EXPECT_EQ(std::string_view(e["segment"]), "CNA");
  EXPECT_EQ(int64_t(e["hccs"].at(0)["hcc"]), 37);
  EXPECT_EQ(std::string_view(e["hccs"].at(0)["codes"].at(0)), "E11.22");
  EXPECT_EQ(int64_t(e["removed_hccs"].at(0)["hcc"]), 38);
  EXPECT_EQ(int64_t(e["removed_hccs"].at(0)["removed_by"]), 37);
  EXPECT_EQ(std::string_view(e["terms"].at(0)["variable"]), "CNA_F70_74");
  EXPECT_DOUBLE_EQ(double(e["raw_score"]), Round3(s.raw_score));
  EXPECT_TRUE(e["normalized_score"].is_null());
  EXPECT_DOUBLE_EQ(double(e["coding_intensity_adjustment"]), 0.059);
  EXPECT_EQ(std::string_view(e["unmapped_codes"].at(0)), "I10");
  EXPECT_EQ(std::string_view(e["not_billable_codes"].at(0)), "I21.1");
  EXPECT_EQ(std::string_view(e["invalid_codes"].at(0)), "XYZ");
  EXPECT_EQ(std::string_view(e["codes"].at(5)["status"]), "invalid");
}

}  // namespace
}  // namespace chartcoder

namespace chartcoder {
namespace {

std::vector<int> HccNumbers(const RiskScore& s) {
  std::vector<int> out;
  for (const HccResult& h : s.hccs) out.push_back(h.hcc);
  return out;
}

TEST(RiskModelCategorizeTest, MapsAndAppliesHierarchiesWithoutAMember) {
  std::vector<std::string_view> codes = {"E11.9", "E11.22", "I50.9", "R05", "QQQ"};
  absl::StatusOr<RiskScore> s = Model(HccModel::kV28).Categorize(codes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(HccNumbers(*s), ::testing::ElementsAre(37, 226));
  ASSERT_EQ(s->removed_hccs.size(), 1u);
  EXPECT_EQ(s->removed_hccs[0].hcc, 38);
  EXPECT_EQ(s->removed_hccs[0].removed_by, 37);
  EXPECT_EQ(s->payment_hcc_count, 2);
  EXPECT_TRUE(s->terms.empty());
  EXPECT_EQ(s->raw_score, 0);
  for (const HccResult& h : s->hccs) EXPECT_FALSE(h.scored);
  ASSERT_EQ(s->codes.size(), 5u);
  EXPECT_EQ(s->codes[3].status, CodeStatus::kNotBillable);
  EXPECT_EQ(s->codes[4].status, CodeStatus::kInvalid);
  // The same HCCs as scoring a member would give.
  RiskScore scored = ScoreOrDie(HccModel::kV28, codes, Member(72, Sex::kFemale));
  EXPECT_EQ(HccNumbers(scored), HccNumbers(*s));
}

TEST(RiskModelCategorizeTest, NoAgeSexEdits) {
  // D66 (hemophilia A) is overridden to HCC 112 only for a female member.
  std::vector<std::string_view> codes = {"D66"};
  absl::StatusOr<RiskScore> s = Model(HccModel::kV28).Categorize(codes);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->edits.empty());
  RiskScore female = ScoreOrDie(HccModel::kV28, codes, Member(40, Sex::kFemale));
  EXPECT_FALSE(female.edits.empty());
}

}  // namespace
}  // namespace chartcoder
