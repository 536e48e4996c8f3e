// Tests of the CMS-HCC table languages (src/internal/hcc_tables.h) and of
// RiskModel::Create on small hand-made packs: a model is only what its tables
// say, and a table chartcoder cannot fully understand is refused, named.
#include "src/internal/hcc_tables.h"

#include <filesystem>
#include <map>
#include <string>

#include "chartcoder/codeset.h"
#include "chartcoder/hcc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// The small languages
// ---------------------------------------------------------------------------

TEST(HccTablesTest, CodeKeys) {
  EXPECT_EQ(internal::PackCodeKey("E11.9"), internal::PackCodeKey("e119"));
  EXPECT_EQ(internal::PackCodeKey(" E119 \t"), internal::PackCodeKey("E119"));
  EXPECT_EQ(internal::DottedCode(*internal::PackCodeKey("s72001a")), "S72.001A");
  EXPECT_EQ(internal::DottedCode(*internal::PackCodeKey("I10")), "I10");
  EXPECT_EQ(internal::DottedCode(*internal::PackCodeKey("E11.")), "E11");
  for (const char* bad :
       {"", "E1", "E1.19", "E11..9", "E11.9.", "11.9", "E11.99999", "E11-9", "E 119", "Ä11.9"}) {
    EXPECT_FALSE(internal::PackCodeKey(bad).has_value()) << bad;
  }
  EXPECT_NE(internal::PackCodeKey("E119"), internal::PackCodeKey("E1190"));
}

TEST(HccTablesTest, Groups) {
  EXPECT_THAT(internal::ParseHccGroup("any of HCC 17 18 19").value(), ElementsAre(17, 18, 19));
  EXPECT_THAT(internal::ParseHccGroup("HCC 85").value(), ElementsAre(85));
  EXPECT_FALSE(internal::ParseHccGroup("HCC 85 86").ok());
  EXPECT_FALSE(internal::ParseHccGroup("any of HCC").ok());
  EXPECT_FALSE(internal::ParseHccGroup("any of HCC 17 x").ok());
  EXPECT_FALSE(internal::ParseHccGroup("all of HCC 17").ok());
}

TEST(HccTablesTest, Interactions) {
  internal::InteractionDefinition d = internal::ParseInteraction("HF_V28 * HCC238").value();
  ASSERT_EQ(d.factors.size(), 2u);
  EXPECT_EQ(d.factors[0].kind, internal::InteractionFactor::Kind::kVariable);
  EXPECT_EQ(d.factors[0].variable, "HF_V28");
  EXPECT_EQ(d.factors[1].kind, internal::InteractionFactor::Kind::kHcc);
  EXPECT_EQ(d.factors[1].hcc, 238);
  EXPECT_FALSE(d.institutional_only);
  internal::InteractionDefinition ins =
      internal::ParseInteraction(
          "HCC57 * HCC79 (institutional segment; coefficient INS_X=0.573 exists but ...)")
          .value();
  EXPECT_TRUE(ins.institutional_only);
  EXPECT_EQ(internal::ParseInteraction("DISABLED * HF_V28 (institutional segment)")
                .value()
                .factors[0]
                .kind,
            internal::InteractionFactor::Kind::kDisabled);
  EXPECT_FALSE(internal::ParseInteraction("A").ok());
  EXPECT_FALSE(internal::ParseInteraction("A * ").ok());
  EXPECT_FALSE(internal::ParseInteraction("A + B").ok());
  EXPECT_FALSE(internal::ParseInteraction("A * B (community segment)").ok());
  EXPECT_FALSE(internal::ParseInteraction("A * B (institutional segment").ok());
}

TEST(HccTablesTest, CountVariables) {
  internal::CountVariables c = internal::ParseCountVariables("D1..D9 / D10P").value();
  EXPECT_EQ(c.prefix, "D");
  EXPECT_EQ(c.top, 10);
  EXPECT_EQ(internal::ParseCountVariables("D1..D2 / D3P").value().top, 3);
  EXPECT_FALSE(internal::ParseCountVariables("D1..D9 / D11P").ok());
  EXPECT_FALSE(internal::ParseCountVariables("D1..D9").ok());
  EXPECT_FALSE(internal::ParseCountVariables("D2..D9 / D10P").ok());
}

TEST(HccTablesTest, CoefficientNames) {
  auto n = internal::SplitCoefficientName("SNPNE_NMCAID_NORIGDIS_NEF66");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->segment, Segment::kSnpNewEnrollee);
  EXPECT_EQ(n->term, "NMCAID_NORIGDIS_NEF66");
  EXPECT_FALSE(internal::SplitCoefficientName("XYZ_HCC1").has_value());
  EXPECT_FALSE(internal::SplitCoefficientName("CNA_").has_value());

  internal::AgeSexCell f = internal::ParseAgeSexCell("F70_74").value();
  EXPECT_EQ(f.sex, Sex::kFemale);
  EXPECT_EQ(f.min_age, 70);
  EXPECT_EQ(f.max_age, 74);
  EXPECT_EQ(internal::ParseAgeSexCell("M95_GT")->max_age, internal::kOpenAge);
  EXPECT_FALSE(internal::ParseAgeSexCell("F74_70").has_value());
  EXPECT_FALSE(internal::ParseAgeSexCell("F70").has_value());
  EXPECT_FALSE(internal::ParseAgeSexCell("HCC70_74").has_value());

  internal::NewEnrolleeCell ne = internal::ParseNewEnrolleeCell("MCAID_ORIGDIS_NEM67").value();
  EXPECT_TRUE(ne.medicaid);
  EXPECT_TRUE(ne.originally_disabled);
  EXPECT_EQ(ne.cell.sex, Sex::kMale);
  EXPECT_EQ(ne.cell.min_age, 67);
  EXPECT_EQ(ne.cell.max_age, 67);
  EXPECT_EQ(internal::ParseNewEnrolleeCell("NMCAID_NORIGDIS_NEF0_34")->cell.max_age, 34);
  EXPECT_FALSE(internal::ParseNewEnrolleeCell("MCAID_NEF67").has_value());
  EXPECT_EQ(internal::ParseHccTerm("HCC238"), 238);
  EXPECT_FALSE(internal::ParseHccTerm("HCC").has_value());
  EXPECT_FALSE(internal::ParseHccTerm("HCC0").has_value());
}

// ---------------------------------------------------------------------------
// A hand-made model: five HCCs, two hierarchies, one interaction, counts with
// a top bucket of 3, one edit, one requirement rule.
// ---------------------------------------------------------------------------

struct MiniTables {
  std::map<std::string, std::string> hcc;      // file -> text, in hcc/
  std::map<std::string, std::string> curated;  // file -> text, the curated folder
};

std::string Coefficients() {
  std::string out = "coefficient,value,model_domain,model_version\n";
  for (const char* seg : {"CND", "CFA", "CFD", "CPA", "CPD", "INS"}) {
    out += std::string(seg) + "_F0_34,0.9,CMS-HCC,C28\n";
    out += std::string(seg) + "_M0_34,0.9,CMS-HCC,C28\n";
  }
  out +=
      "NE_NMCAID_NORIGDIS_NEF0_34,0.8,CMS-HCC,C28\n"
      "SNPNE_NMCAID_NORIGDIS_NEF0_34,0.7,CMS-HCC,C28\n"
      "CNA_F70_74,0.4,CMS-HCC,C28\n"
      "CNA_M70_74,0.35,CMS-HCC,C28\n"
      "CNA_HCC1,0.401,CMS-HCC,C28\n"
      "CNA_HCC37,0.2,CMS-HCC,C28\n"
      "CNA_HCC38,0.1,CMS-HCC,C28\n"
      "CNA_HCC223,0.5,CMS-HCC,C28\n"
      "CNA_HCC226,0.3,CMS-HCC,C28\n"
      "CNA_DIABETES_HF_V28,0.05,CMS-HCC,C28\n"
      "CNA_D1,0,CMS-HCC,C28\n"
      "CNA_D2,0.01,CMS-HCC,C28\n"
      "CNA_D3P,0.1,CMS-HCC,C28\n"
      "CNA_HCC19,9.9,CMS-HCC,C24\n";  // another model's row is ignored
  return out;
}

MiniTables Mini(int year = 2030) {
  const std::string y = std::to_string(year);
  MiniTables t;
  t.hcc["ra_labels_" + y + ".csv"] =
      "cc,label,model_domain,model_version,model_fullname\n"
      "HCC1,HIV/AIDS,CMS-HCC,V28,L\n"
      "HCC37,Diabetes with Chronic Complications,CMS-HCC,V28,L\n"
      "HCC38,Diabetes without complications,CMS-HCC,V28,L\n"
      "HCC223,Heart Assist Device,CMS-HCC,V28,L\n"
      "HCC226,Heart Failure,CMS-HCC,V28,L\n"
      "HCC19,Diabetes without Complication,CMS-HCC,V24,L\n";
  t.hcc["ra_dx_to_cc_" + y + ".csv"] =
      "diagnosis_code,cc,model_name\n"
      "B20,1,CMS-HCC Model V28\n"
      "E119,38,CMS-HCC Model V28\n"
      "E1122,37,CMS-HCC Model V28\n"
      "I509,226,CMS-HCC Model V28\n"
      "Z95811,223,CMS-HCC Model V28\n"
      "E119,19,CMS-HCC Model V24\n";
  t.hcc["ra_hierarchies_" + y + ".csv"] =
      "cc_parent,cc_child,model_domain,model_version,model_fullname\n"
      "37,38,CMS-HCC,V28,H\n"
      "223,226,CMS-HCC,V28,H\n";
  t.hcc["ra_coefficients_" + y + ".csv"] = Coefficients();
  t.hcc["hcc_interaction_definitions_v24_v28.csv"] =
      "model,variable,kind,definition\n"
      "V28,DIABETES_V28,group,any of HCC 37 38\n"
      "V28,HF_V28,group,any of HCC 223 226\n"
      "V28,DIABETES_HF_V28,interaction,DIABETES_V28 * HF_V28\n"
      "V28,D1..D2 / D3P,count,number of payment HCCs after hierarchies\n";
  t.hcc["ra_dx_edits.csv"] =
      "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n"
      "E1122,age,,,17,invalid,,CMS-HCC Model V28,test edit: invalid under 18\n";
  t.curated["hcc_rules.csv"] =
      "# comment\nmodel,rule,hcc,definition,source\n"
      "V28,requires,223,any of HCC 226,test rule\n";
  t.curated["hcc_dx_edits.csv"] =
      "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n";
  return t;
}

class MiniPack {
 public:
  // Writes the tables beside the mini ICD-10-CM files, builds a pack and
  // loads it. `with_curated` false builds without the curated folder.
  absl::Status Build(const MiniTables& t, bool with_curated = true) {
    namespace fs = std::filesystem;
    const std::string src = dir_.File("src");
    fs::create_directories(src + "/hcc");
    fs::create_directories(src + "/curated");
    fs::copy(testing::SourceDir() + "/tests/data/minisource/icd10cm", src + "/icd10cm",
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    for (const auto& [name, text] : t.hcc) testing::WriteFileOrDie(src + "/hcc/" + name, text);
    for (const auto& [name, text] : t.curated) {
      testing::WriteFileOrDie(src + "/curated/" + name, text);
    }
    DataPackSources sources;
    sources.source_dir = src;
    if (with_curated) sources.curated_dir = src + "/curated";
    const std::string pack = dir_.File("mini.ccpack");
    absl::Status built = BuildDataPack(sources, pack);
    if (!built.ok()) return built;
    CodeSetOptions o;
    o.data_pack = pack;
    absl::StatusOr<std::unique_ptr<CodeSet>> codes = CodeSet::Create(o);
    if (!codes.ok()) return codes.status();
    codes_ = std::shared_ptr<const CodeSet>(std::move(*codes));
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<RiskModel>> Create(HccModel model = HccModel::kV28) const {
    RiskModelOptions o;
    o.code_set = codes_;
    o.model = model;
    return RiskModel::Create(o);
  }

 private:
  testing::TempDir dir_;
  std::shared_ptr<const CodeSet> codes_;
};

Demographics Member(int age, Sex sex) {
  Demographics d;
  d.age = age;
  d.sex = sex;
  return d;
}

std::vector<int> HccsOf(const RiskScore& s) {
  std::vector<int> out;
  for (const HccResult& h : s.hccs) out.push_back(h.hcc);
  return out;
}

std::vector<std::string> TermNames(const RiskScore& s) {
  std::vector<std::string> out;
  for (const ScoreTerm& t : s.terms) out.emplace_back(t.name);
  return out;
}

TEST(MiniModelTest, TheModelIsWhatItsTablesSay) {
  MiniPack pack;
  ASSERT_TRUE(pack.Build(Mini()).ok());
  std::unique_ptr<RiskModel> m = pack.Create().value();
  EXPECT_EQ(m->payment_year(), 2030);
  EXPECT_THAT(m->Hccs(), ElementsAre(1, 37, 38, 223, 226));
  EXPECT_EQ(m->HccLabel(223), "Heart Assist Device");
  EXPECT_EQ(m->HccLabel(19), "");
  // No published constants for 2030.
  EXPECT_FALSE(m->normalization_factor().has_value());
  EXPECT_FALSE(m->coding_intensity_adjustment().has_value());

  RiskScore s = m->Score(std::vector<std::string>{"E11.9", "E11.22", "I50.9", "Z95.811", "B20"},
                         Member(72, Sex::kFemale))
                    .value();
  EXPECT_THAT(HccsOf(s), ElementsAre(1, 37, 223));
  // Three payment HCCs: the top bucket D3P.
  EXPECT_THAT(TermNames(s),
              ElementsAre("F70_74", "HCC1", "HCC37", "HCC223", "DIABETES_HF_V28", "D3P"));
  EXPECT_NEAR(s.raw_score, 0.4 + 0.401 + 0.2 + 0.5 + 0.05 + 0.1, 1e-12);
  EXPECT_FALSE(s.payment_score.has_value());

  RiskScore two =
      m->Score(std::vector<std::string>{"B20", "E11.9"}, Member(72, Sex::kMale)).value();
  EXPECT_THAT(TermNames(two), ElementsAre("M70_74", "HCC1", "HCC38", "D2"));
  // The requirement rule: HCC223 without HCC226 is removed.
  RiskScore device = m->Score(std::vector<std::string>{"Z95.811"}, Member(72, Sex::kMale)).value();
  EXPECT_THAT(HccsOf(device), ElementsAre());
  // The edit.
  RiskScore child = m->Score(std::vector<std::string>{"E11.22"}, Member(17, Sex::kMale)).value();
  EXPECT_EQ(child.codes[0].status, CodeStatus::kRemovedByEdit);
  // The cell of another segment.
  Demographics young = Member(20, Sex::kFemale);
  young.new_enrollee = true;
  EXPECT_EQ(m->Score(std::vector<std::string>{}, young).value().terms[0].variable,
            "NE_NMCAID_NORIGDIS_NEF0_34");
  // No cell for a 40-year-old community member: the table is incomplete.
  EXPECT_EQ(m->Score(std::vector<std::string>{}, Member(40, Sex::kFemale)).status().code(),
            absl::StatusCode::kDataLoss);
}

// Hierarchies act in table order on the HCCs still present (CMS's macro): with
// HCC1 > HCC37 > HCC38 (not closed), the order of the rows decides whether
// HCC38 survives. Ascending order takes Score's fast path, the other the
// general loop.
TEST(MiniModelTest, HierarchiesActInTableOrder) {
  const std::vector<std::string> codes = {"B20", "E11.22", "E11.9"};
  struct Case {
    std::string rows;
    std::vector<int> kept;
  } const cases[] = {
      {"1,37,CMS-HCC,V28,H\n37,38,CMS-HCC,V28,H\n", {1, 38}},  // 1 removes 37 first
      {"37,38,CMS-HCC,V28,H\n1,37,CMS-HCC,V28,H\n", {1}},      // 37 removes 38 first
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rows);
    MiniTables t = Mini();
    t.hcc["ra_hierarchies_2030.csv"] =
        "cc_parent,cc_child,model_domain,model_version,model_fullname\n" + c.rows;
    MiniPack pack;
    ASSERT_TRUE(pack.Build(t).ok());
    std::unique_ptr<RiskModel> m = pack.Create().value();
    RiskScore s = m->Score(codes, Member(72, Sex::kFemale)).value();
    EXPECT_EQ(HccsOf(s), c.kept);
  }
}

TEST(MiniModelTest, PublishedConstantsOfTheYearApply) {
  MiniPack pack;
  ASSERT_TRUE(pack.Build(Mini(2024)).ok());
  std::unique_ptr<RiskModel> m = pack.Create().value();
  EXPECT_EQ(m->payment_year(), 2024);
  EXPECT_DOUBLE_EQ(m->normalization_factor().value(), 1.015);
  EXPECT_THAT(std::string(m->normalization_source()), HasSubstr("2024"));
  RiskScore s = m->Score(std::vector<std::string>{"B20"}, Member(72, Sex::kFemale)).value();
  // raw 0.801 -> round(0.801 / 1.015, 3) = 0.789 -> round(0.789 * 0.941, 3) = 0.742.
  EXPECT_DOUBLE_EQ(s.normalized_score.value(), 0.789);
  EXPECT_DOUBLE_EQ(s.payment_score.value(), 0.742);
}

TEST(MiniModelTest, MissingTablesAreNamed) {
  {
    MiniPack pack;
    ASSERT_TRUE(pack.Build(Mini(), /*with_curated=*/false).ok());
    absl::Status s = pack.Create().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(s.message()), HasSubstr("curated/hcc_rules"));
  }
  {
    MiniTables t = Mini();
    t.hcc.erase("hcc_interaction_definitions_v24_v28.csv");
    MiniPack pack;
    ASSERT_TRUE(pack.Build(t).ok());
    absl::Status s = pack.Create().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(s.message()), HasSubstr("hcc_interaction_definitions"));
  }
  {
    MiniPack pack;
    ASSERT_TRUE(pack.Build(Mini()).ok());
    absl::Status s = pack.Create(HccModel::kV24).status();  // V24 has labels, no coefficients
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.message()), HasSubstr("no C24 coefficients for segment CND"));
  }
}

// Each broken table -> DataLoss naming the table and the problem.
TEST(MiniModelTest, MalformedTablesAreRefused) {
  struct Case {
    std::string file;
    std::string replace;  // text to replace in the file
    std::string with;
    std::string message;
  } const cases[] = {
      {"ra_coefficients_2030.csv", "CNA_D2,", "CNA_FOO,", "cannot compute variable 'FOO'"},
      {"ra_coefficients_2030.csv", "CNA_D2,", "XYZ_D2,", "does not start with a segment"},
      {"ra_coefficients_2030.csv", "CNA_D2,0.01", "CNA_D2,abc", "is not a number"},
      {"ra_coefficients_2030.csv", "CNA_D2,", "CNA_D7,", "cannot compute variable 'D7'"},
      {"ra_coefficients_2030.csv", "CNA_D2,", "CNA_HCC999,", "HCC 999 is not a payment HCC"},
      {"ra_coefficients_2030.csv", "CNA_D2,", "CNA_F72_79,", "overlaps CNA_F70_74"},
      {"ra_coefficients_2030.csv", "CNA_D2,", "CNA_HCC1,", "listed twice"},
      {"ra_coefficients_2030.csv", "CND_F0_34,0.9,CMS-HCC,C28", "CND_F0_34,0.9,ESRD,C28",
       "model_domain"},
      {"ra_dx_to_cc_2030.csv", "B20,1,", "B20,999,", "HCC 999 is not a payment HCC"},
      {"ra_dx_to_cc_2030.csv", "B20,1,", "B-20,1,", "not an ICD-10-CM code"},
      {"ra_hierarchies_2030.csv", "37,38,", "37,37,", "its own child"},
      {"hcc_interaction_definitions_v24_v28.csv", "any of HCC 37 38", "any of HCC 37 x",
       "not an HCC number"},
      {"hcc_interaction_definitions_v24_v28.csv", "DIABETES_V28 * HF_V28", "DIABETES_V28 * HF",
       "'HF' is not defined above"},
      {"hcc_interaction_definitions_v24_v28.csv", "DIABETES_V28 * HF_V28",
       "DIABETES_V28 * HF_V28 (community segment)", "unknown restriction"},
      {"hcc_interaction_definitions_v24_v28.csv", "DIABETES_V28 * HF_V28",
       "DIABETES_V28 * HF_V28 (institutional segment)", "institutional segment only"},
      {"hcc_interaction_definitions_v24_v28.csv", ",interaction,", ",product,", "unknown kind"},
      {"hcc_interaction_definitions_v24_v28.csv", "D1..D2 / D3P", "D1..D2 / D4P",
       "count variables"},
      {"ra_dx_edits.csv", ",invalid,,", ",drop,,", "is not 'invalid' or 'override'"},
      {"ra_dx_edits.csv", "E1122,age,,,17", "E1122,age,,,", "needs sex"},
      {"ra_dx_edits.csv", "E1122,age,,,17", "E1122,sex,3,,", "is not 1 (male) or 2 (female)"},
      {"ra_labels_2030.csv", "HCC37,", "XCC37,", "is not an HCC"},
      {"ra_labels_2030.csv", "HCC38,", "HCC37,", "twice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ": " + c.with);
    MiniTables t = Mini();
    std::string& text = t.hcc.at(c.file);
    size_t at = text.find(c.replace);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, c.replace.size(), c.with);
    MiniPack pack;
    ASSERT_TRUE(pack.Build(t).ok());
    absl::Status s = pack.Create().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
  }
  // The curated rules table.
  MiniTables t = Mini();
  t.curated["hcc_rules.csv"] = "model,rule,hcc,definition,source\nV28,forbids,223,any of HCC 1,x\n";
  MiniPack pack;
  ASSERT_TRUE(pack.Build(t).ok());
  EXPECT_THAT(std::string(pack.Create().status().message()), HasSubstr("unknown rule 'forbids'"));
}

// V24 rows of the curated edit table apply only while hcc/ra_dx_edits has
// none for the model.
TEST(MiniModelTest, CuratedEditsSupplementUncoveredModels) {
  MiniTables t = Mini();
  t.hcc["ra_dx_edits.csv"] =
      "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n";
  t.curated["hcc_dx_edits.csv"] =
      "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n"
      "E119,sex,1,,,override,1,CMS-HCC Model V28,curated: male -> HCC1\n";
  MiniPack pack;
  ASSERT_TRUE(pack.Build(t).ok());
  std::unique_ptr<RiskModel> m = pack.Create().value();
  EXPECT_THAT(HccsOf(m->Score(std::vector<std::string>{"E11.9"}, Member(72, Sex::kMale)).value()),
              ElementsAre(1));
  // With an official row for the model, the curated rows are not used.
  t.hcc["ra_dx_edits.csv"] += "E1122,age,,,17,invalid,,CMS-HCC Model V28,official\n";
  MiniPack official;
  ASSERT_TRUE(official.Build(t).ok());
  std::unique_ptr<RiskModel> o = official.Create().value();
  EXPECT_THAT(HccsOf(o->Score(std::vector<std::string>{"E11.9"}, Member(72, Sex::kMale)).value()),
              ElementsAre(38));
}

}  // namespace
}  // namespace chartcoder
