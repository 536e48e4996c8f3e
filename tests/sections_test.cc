// Tests of the sectionizer: header forms, canonical kinds, spans, rule files.
#include "chartcoder/sections.h"

#include <string>
#include <utility>
#include <vector>

#include "chartcoder/codeset.h"
#include "chartcoder/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"
#include "tests/text_test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::unique_ptr<TextAnalyzer> MakeAnalyzer(TextAnalyzerOptions options = {}) {
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create(options);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? std::move(a).value() : nullptr;
}

const TextAnalyzer& Analyzer() { return testing::DefaultAnalyzer(); }

// (kind name, header text) of every section.
std::vector<std::pair<std::string, std::string>> Sections(const TextAnalyzer& a,
                                                          std::string_view text) {
  absl::StatusOr<Document> d = a.Analyze(text);
  EXPECT_TRUE(d.ok()) << d.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const Section& s : d->sections()) {
    out.emplace_back(std::string(SectionKindName(s.kind)),
                     std::string(d->text().substr(s.header_begin, s.header_end - s.header_begin)));
  }
  return out;
}
std::vector<std::pair<std::string, std::string>> Sections(std::string_view text) {
  return Sections(Analyzer(), text);
}

// The section kind of the sentence holding `phrase`.
std::string KindAt(const Document& d, std::string_view phrase) {
  const size_t at = d.text().find(phrase);
  EXPECT_NE(at, std::string_view::npos) << phrase;
  const size_t s = d.SentenceAt(static_cast<uint32_t>(at));
  EXPECT_LT(s, d.sentences().size());
  return std::string(SectionKindName(d.section_of(d.sentences()[s]).kind));
}

TEST(SectionsTest, HeadersWithColonsInAnyCase) {
  EXPECT_THAT(
      Sections("Chief Complaint: chest pain\nHPI: 67M with CP.\npast medical history: DM2\n"
               "PSH: appendectomy\nFHx: CAD\nSocial History: never smoker\nROS: negative\n"
               "PE: lungs clear\nA/P: CHF - diurese\nMedications: lasix\nAllergies: NKDA"),
      ElementsAre(Pair("chief_complaint", "Chief Complaint:"),
                  Pair("history_of_present_illness", "HPI:"),
                  Pair("past_medical_history", "past medical history:"),
                  Pair("past_surgical_history", "PSH:"), Pair("family_history", "FHx:"),
                  Pair("social_history", "Social History:"), Pair("review_of_systems", "ROS:"),
                  Pair("physical_exam", "PE:"), Pair("assessment_and_plan", "A/P:"),
                  Pair("medications", "Medications:"), Pair("allergies", "Allergies:")));
}

TEST(SectionsTest, HeadersAloneOnTheirLineWithoutColons) {
  EXPECT_THAT(Sections("IMPRESSION\nCHF exacerbation\n\nProblem List\n1. DM2\n\nplan\ndiurese"),
              ElementsAre(Pair("assessment", "IMPRESSION"), Pair("problem_list", "Problem List"),
                          Pair("plan", "plan")));
}

TEST(SectionsTest, AllCapsHeaderBeforeTextOnTheSameLine) {
  EXPECT_THAT(Sections("HPI 67 yo with cough.\nASSESSMENT AND PLAN Pneumonia, start antibiotics."),
              ElementsAre(Pair("history_of_present_illness", "HPI"),
                          Pair("assessment_and_plan", "ASSESSMENT AND PLAN")));
  // Mixed case, or followed by more capitals, is ordinary text.
  EXPECT_THAT(Sections("Plan to start insulin next week.\nASSESSMENT OF PAIN SHOWS IMPROVEMENT"),
              ElementsAre(Pair("none", "")));
}

TEST(SectionsTest, StrictHeadersNeedAColonOrTheirOwnLine) {
  // "PE" is also pulmonary embolism.
  EXPECT_THAT(Sections("PE ruled out by CTA.\nPE: clear lungs"),
              ElementsAre(Pair("none", ""), Pair("physical_exam", "PE:")));
  EXPECT_THAT(Sections("SH\nnever smoker\nsh\nquit"), ElementsAre(Pair("social_history", "SH")));
}

TEST(SectionsTest, HeaderWithExtraWordsBeforeTheColon) {
  EXPECT_THAT(Sections("Medications prior to admission: lasix 40 mg\nHPI/Subjective: cough"),
              ElementsAre(Pair("medications", "Medications prior to admission:"),
                          Pair("history_of_present_illness", "HPI/Subjective:")));
}

TEST(SectionsTest, HeaderAfterASentenceInMidLine) {
  EXPECT_THAT(Sections("Assessment: CHF, stable. Plan: continue lasix."),
              ElementsAre(Pair("assessment", "Assessment:"), Pair("plan", "Plan:")));
  // Lower case in mid-line is text.
  EXPECT_THAT(Sections("Assessment: stable. the plan: continue."),
              ElementsAre(Pair("assessment", "Assessment:")));
}

TEST(SectionsTest, AbbreviationsAndVariants) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CC: cough", "chief_complaint"},
      {"Reason for visit: cough", "chief_complaint"},
      {"PMH: DM", "past_medical_history"},
      {"PMHx: DM", "past_medical_history"},
      {"Past Surgical History: none", "past_surgical_history"},
      {"Family History: CAD", "family_history"},
      {"SH: smoker", "social_history"},
      {"Review of Systems: neg", "review_of_systems"},
      {"Physical Examination: nl", "physical_exam"},
      {"Vital Signs: stable", "vitals"},
      {"Labs: Na 140", "labs"},
      {"Imaging: CXR clear", "imaging"},
      {"Impression: CHF", "assessment"},
      {"Assessment/Plan: CHF", "assessment_and_plan"},
      {"A&P: CHF", "assessment_and_plan"},
      {"Discharge Diagnoses: CHF", "diagnoses"},
      {"Dx: CHF", "diagnoses"},
      {"Active Problem List: CHF", "problem_list"},
      {"Home Medications: lasix", "medications"},
      {"Allergies: PCN", "allergies"},
      {"Procedures: cath", "procedures"},
      {"Hospital Course: improved", "hospital_course"},
      {"Discharge Instructions: rest", "discharge_instructions"},
      {"Immunizations: flu", "immunizations"},
      {"Disposition: home", "other"},
  };
  for (const auto& [text, kind] : cases) {
    auto got = Sections(text);
    ASSERT_EQ(got.size(), 1u) << text;
    EXPECT_EQ(got[0].first, kind) << text;
  }
}

TEST(SectionsTest, SectionsAreSpansCoveringTheText) {
  const std::string text = "Seen today.\nHPI: cough x3 days.\n\nPMH:\n- DM2\n- HTN\nPlan: CXR\n";
  absl::StatusOr<Document> d = Analyzer().Analyze(text);
  ASSERT_TRUE(d.ok());
  std::span<const Section> s = d->sections();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].kind, SectionKind::kNone);
  EXPECT_EQ(s[0].begin, 0u);
  EXPECT_EQ(s[0].header_begin, s[0].header_end);
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    EXPECT_EQ(s[i].end, s[i + 1].begin);
    EXPECT_EQ(s[i].end_sentence, s[i + 1].first_sentence);
  }
  EXPECT_EQ(s.back().end, text.size());
  EXPECT_EQ(s.back().end_sentence, d->sentences().size());
  EXPECT_EQ(s[2].header_begin, text.find("PMH:"));
  EXPECT_EQ(s[2].header_end, text.find("PMH:") + 4);
  EXPECT_EQ(KindAt(*d, "HTN"), "past_medical_history");
  EXPECT_EQ(KindAt(*d, "cough"), "history_of_present_illness");
  EXPECT_EQ(KindAt(*d, "Seen"), "none");
  EXPECT_EQ(KindAt(*d, "CXR"), "plan");
  EXPECT_EQ(d->SectionAt(static_cast<uint32_t>(text.find("DM2"))), 2u);
  EXPECT_EQ(d->SectionAt(static_cast<uint32_t>(text.size() + 5)), 3u);
  // Header sentences are marked; so are their tokens.
  EXPECT_TRUE(d->sentences()[s[2].first_sentence].is(kSentenceHeader));
  EXPECT_TRUE(d->tokens()[d->sentences()[s[2].first_sentence].first_token].is(kTokenHeader));
}

TEST(SectionsTest, NoLeadingSectionWhenTheTextStartsWithAHeader) {
  absl::StatusOr<Document> d = Analyzer().Analyze("\n\n  HPI: cough");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->sections().size(), 1u);
  EXPECT_EQ(d->sections()[0].kind, SectionKind::kHistoryOfPresentIllness);
  EXPECT_EQ(d->sections()[0].begin, 0u);
  EXPECT_EQ(d->sections()[0].header_begin, 4u);
}

TEST(SectionsTest, VitalsInsideThePhysicalExamAreASubheading) {
  absl::StatusOr<Document> d =
      Analyzer().Analyze("PE:\nVS: T 37.1C HR 96\nLungs: clear\n\nVitals:\nBP 120/80");
  ASSERT_TRUE(d.ok());
  std::vector<std::string> kinds;
  for (const Section& s : d->sections()) kinds.emplace_back(SectionKindName(s.kind));
  EXPECT_THAT(kinds, ElementsAre("physical_exam"));
  EXPECT_EQ(KindAt(*d, "Lungs"), "physical_exam");
  // The subheading is still a header sentence.
  EXPECT_TRUE(d->sentences()[1].is(kSentenceHeader));
  // Outside an exam, "Vitals:" starts its own section.
  EXPECT_THAT(Sections("HPI: cough\nVitals: BP 120/80"),
              ElementsAre(Pair("history_of_present_illness", "HPI:"), Pair("vitals", "Vitals:")));
}

TEST(SectionsTest, KindNamesRoundTrip) {
  for (int i = 0; i < kSectionKindCount; ++i) {
    const SectionKind k = static_cast<SectionKind>(i);
    EXPECT_EQ(ParseSectionKind(SectionKindName(k)), k);
  }
  EXPECT_EQ(ParseSectionKind("FAMILY_HISTORY"), SectionKind::kFamilyHistory);
  EXPECT_FALSE(ParseSectionKind("family history").has_value());
}

TEST(SectionRulesTest, ParsesAndRejectsRuleTables) {
  absl::StatusOr<std::vector<SectionRule>> rules = ParseSectionRules(
      "# comment\nheader\tkind\tstrict\nInterval Events\thistory_of_present_illness\n"
      "OB\tother\tyes\r\n\n",
      "mine.tsv");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].header, "Interval Events");
  EXPECT_EQ((*rules)[0].kind, SectionKind::kHistoryOfPresentIllness);
  EXPECT_FALSE((*rules)[0].strict);
  EXPECT_TRUE((*rules)[1].strict);

  struct Bad {
    std::string tsv, message;
  };
  for (const Bad& b : std::vector<Bad>{
           {"header\tkind\nX\tno_such_kind\n", "mine.tsv:2: unknown section kind 'no_such_kind'"},
           {"header\tkind\n\tplan\n", "mine.tsv:2: empty header phrase"},
           {"header\tkind\nX\tplan\tyes\n", "mine.tsv:2: 3 fields"},
           {"header\tkind\tstrict\nX\tplan\tmaybe\n", "strict must be yes, no or empty"},
           {"phrase\tkind\nX\tplan\n", "mine.tsv:1: header column 1 is 'phrase'"},
           {"# only comments\n", "no header row"},
           {"header\tkind\nX\tnone\n", "unknown section kind 'none'"},
       }) {
    absl::StatusOr<std::vector<SectionRule>> r = ParseSectionRules(b.tsv, "mine.tsv");
    ASSERT_FALSE(r.ok()) << b.tsv;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(b.message)) << b.tsv;
  }
}

TEST(SectionRulesTest, UserRuleFilesAddAndOverride) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("rules.tsv"),
                          "header\tkind\tstrict\nInterval Events\thistory_of_present_illness\n"
                          "Plan\tassessment_and_plan\n");
  TextAnalyzerOptions options;
  options.sections.rule_files = {dir.File("rules.tsv")};
  options.sections.extra_rules = {{"Oncologic History", SectionKind::kPastMedicalHistory, false}};
  std::unique_ptr<TextAnalyzer> a = MakeAnalyzer(options);
  ASSERT_NE(a, nullptr);
  EXPECT_THAT(Sections(*a, "Interval Events: none\nPlan: rest\nOncologic History: breast ca"),
              ElementsAre(Pair("history_of_present_illness", "Interval Events:"),
                          Pair("assessment_and_plan", "Plan:"),
                          Pair("past_medical_history", "Oncologic History:")));
  // One rule per phrase: "plan" was replaced, not duplicated.
  size_t plans = 0;
  for (const SectionRule& r : a->section_rules()) plans += r.header == "Plan" || r.header == "plan";
  EXPECT_EQ(plans, 1u);

  options.sections.rule_files = {dir.File("missing.tsv")};
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> missing = TextAnalyzer::Create(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  testing::WriteFileOrDie(dir.File("bad.tsv"), "header\tkind\nfoo\tbar\n");
  options.sections.rule_files = {dir.File("bad.tsv")};
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> bad = TextAnalyzer::Create(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad.tsv:2"));
}

TEST(SectionRulesTest, OnlyUserRules) {
  TextAnalyzerOptions options;
  options.sections.use_builtin_rules = false;
  options.sections.extra_rules = {{"Story", SectionKind::kHistoryOfPresentIllness, false}};
  std::unique_ptr<TextAnalyzer> a = MakeAnalyzer(options);
  EXPECT_THAT(Sections(*a, "HPI: x\nStory: y"),
              ElementsAre(Pair("none", ""), Pair("history_of_present_illness", "Story:")));
}

TEST(SectionRulesTest, BuiltinRulesFromThePackMatchTheCompiledInCopy) {
  absl::StatusOr<std::vector<SectionRule>> pack = BuiltinSectionRules(&testing::TestCodeSet());
  ASSERT_TRUE(pack.ok()) << pack.status();
  absl::StatusOr<std::vector<SectionRule>> embedded = BuiltinSectionRules(nullptr);
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  ASSERT_EQ(pack->size(), embedded->size());
  EXPECT_GT(pack->size(), 200u);
  for (size_t i = 0; i < pack->size(); ++i) {
    EXPECT_EQ((*pack)[i].header, (*embedded)[i].header);
    EXPECT_EQ((*pack)[i].kind, (*embedded)[i].kind);
    EXPECT_EQ((*pack)[i].strict, (*embedded)[i].strict);
  }
  // No two header phrases tokenize alike (one would silently win).
  EXPECT_EQ(Analyzer().section_rules().size(), embedded->size());
  // The copy compiled into the library is data/section_headers.tsv itself.
  absl::StatusOr<std::vector<SectionRule>> file =
      ReadSectionRuleFile(testing::SourceDir() + "/data/section_headers.tsv");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), embedded->size());
}

TEST(SectionRulesTest, PackWithoutTheTableIsNotFound) {
  testing::TempDir dir;
  DataPackSources sources;
  sources.source_dir = testing::SourceDir() + "/tests/data/minisource";
  ASSERT_TRUE(BuildDataPack(sources, dir.File("mini.ccpack")).ok());
  CodeSetOptions o;
  o.data_pack = dir.File("mini.ccpack");
  absl::StatusOr<std::unique_ptr<CodeSet>> mini = CodeSet::Create(o);
  ASSERT_TRUE(mini.ok()) << mini.status();
  TextAnalyzerOptions options;
  options.code_set = mini->get();
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create(options);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("curated/section_headers"));
}

}  // namespace
}  // namespace chartcoder
