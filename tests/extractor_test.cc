// Extractor: lexicon mentions over realistic chart sentences, with offsets,
// sources, assertions and subsumption.
#include "chartcoder/extractor.h"

#include <memory>
#include <string>
#include <vector>

#include "chartcoder/context.h"
#include "chartcoder/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coding_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using testing::ReadFileOrDie;
using testing::TestCodeSet;

const TextAnalyzer& Analyzer() {
  static const TextAnalyzer* const kAnalyzer = [] {
    TextAnalyzerOptions o;
    o.code_set = &TestCodeSet();
    return std::move(TextAnalyzer::Create(o)).value().release();
  }();
  return *kAnalyzer;
}

const ContextAnalyzer& Context() {
  static const ContextAnalyzer* const kContext = [] {
    ContextOptions o;
    o.code_set = &TestCodeSet();
    return std::move(ContextAnalyzer::Create(o)).value().release();
  }();
  return *kContext;
}

std::unique_ptr<Extractor> MakeExtractor(bool with_context, bool keep_subsumed = true) {
  ExtractorOptions o;
  o.code_set = &TestCodeSet();
  o.context = with_context ? &Context() : nullptr;
  o.keep_subsumed = keep_subsumed;
  absl::StatusOr<std::unique_ptr<Extractor>> e = Extractor::Create(o);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(e).value() : nullptr;
}

const Extractor& Default() {
  static const Extractor* const kExtractor = MakeExtractor(true).release();
  return *kExtractor;
}

struct Extracted {
  Document doc;
  std::vector<Mention> mentions;
  std::string_view Text(const Mention& m) const { return doc.text().substr(m.begin, m.end - m.begin); }
  // The first mention (not subsumed) whose text is `words`, or null.
  const Mention* Find(std::string_view words) const {
    for (const Mention& m : mentions) {
      if (!m.subsumed && Text(m) == words) return &m;
    }
    return nullptr;
  }
};

Extracted Extract(std::string_view text, const Extractor& e = Default()) {
  Extracted out{std::move(Analyzer().Analyze(text)).value(), {}};
  out.mentions = e.Extract(out.doc);
  return out;
}

TEST(ExtractorTest, CreateNeedsACodeSet) {
  absl::StatusOr<std::unique_ptr<Extractor>> e = Extractor::Create({});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExtractorTest, TheFullLexiconIsLoaded) {
  // Titles, inclusion terms, the index and the neoplasm table: far more
  // entries than codes.
  EXPECT_GT(Default().lexicon_entries(), 100000u);
  EXPECT_GT(Default().lexicon_words(), 10000u);
}

TEST(ExtractorTest, FindsDiagnosesWithTheirOffsetsSectionAndSentence) {
  Extracted x = Extract(
      "HPI: 74 yo with worsening dyspnea.\n"
      "ASSESSMENT:\n"
      "1. Congestive heart failure, NYHA III.\n"
      "2. Chronic obstructive pulmonary disease.\n");
  const Mention* chf = x.Find("Congestive heart failure");
  ASSERT_NE(chf, nullptr);
  EXPECT_EQ(chf->code, "I50.9");
  EXPECT_EQ(chf->section, SectionKind::kAssessment);
  EXPECT_EQ(TestCodeSet().CodeAt(chf->code_id).code(), "I50.9");
  ASSERT_LT(chf->sentence, x.doc.sentences().size());
  const Sentence& s = x.doc.sentences()[chf->sentence];
  EXPECT_LE(s.begin, chf->begin);
  EXPECT_LE(chf->end, s.end);
  EXPECT_EQ(chf->words, static_cast<int>(chf->spans.size()) - chf->optional_words);
  const Mention* copd = x.Find("Chronic obstructive pulmonary disease");
  ASSERT_NE(copd, nullptr);
  EXPECT_EQ(copd->code.substr(0, 3), "J44");
  // Text order.
  for (size_t i = 1; i < x.mentions.size(); ++i) {
    EXPECT_LE(x.mentions[i - 1].begin, x.mentions[i].begin);
  }
}

TEST(ExtractorTest, AbbreviationsAndWordOrderVariants) {
  Extracted x = Extract("Assessment: CHF. Kidney disease, chronic, stage 4. Diabetes type 2.");
  const Mention* chf = x.Find("CHF");
  ASSERT_NE(chf, nullptr);
  EXPECT_EQ(chf->code, "I50.9");
  EXPECT_TRUE(chf->expanded);
  bool ckd4 = false, dm2 = false;
  for (const Mention& m : x.mentions) {
    ckd4 |= m.code == "N18.4";
    dm2 |= m.code.starts_with("E11");
  }
  EXPECT_TRUE(ckd4);
  EXPECT_TRUE(dm2);
}

TEST(ExtractorTest, CodesWrittenInTheText) {
  Extracted x = Extract("Dx: E11.22, N18.32; I10.");
  std::vector<std::string> codes;
  for (const Mention& m : x.mentions) {
    if (m.source == LexiconSource::kCodeInText) codes.push_back(m.code);
  }
  EXPECT_THAT(codes, ::testing::IsSupersetOf({"E11.22", "N18.32", "I10"}));
  EXPECT_EQ(LexiconSourceName(LexiconSource::kCodeInText), "code_in_text");
}

TEST(ExtractorTest, AssertionsAreFilledOnlyWithAContextAnalyzer) {
  const std::string text =
      "ASSESSMENT: No evidence of pneumonia. Possible pulmonary embolism. "
      "History of breast cancer.\nFAMILY HISTORY: Mother with colon cancer.\n";
  Extracted x = Extract(text);
  ASSERT_NE(x.Find("pneumonia"), nullptr);
  EXPECT_TRUE(x.Find("pneumonia")->assertion.negated);
  ASSERT_NE(x.Find("pulmonary embolism"), nullptr);
  EXPECT_TRUE(x.Find("pulmonary embolism")->assertion.uncertain);
  ASSERT_NE(x.Find("breast cancer"), nullptr);
  EXPECT_TRUE(x.Find("breast cancer")->assertion.historical);
  ASSERT_NE(x.Find("colon cancer"), nullptr);
  EXPECT_TRUE(x.Find("colon cancer")->assertion.family);
  EXPECT_FALSE(x.Find("pneumonia")->assertion.cues.empty());

  std::unique_ptr<Extractor> bare = MakeExtractor(/*with_context=*/false);
  ASSERT_NE(bare, nullptr);
  Extracted y = Extract(text, *bare);
  ASSERT_NE(y.Find("pneumonia"), nullptr);
  const Assertion& a = y.Find("pneumonia")->assertion;
  EXPECT_FALSE(a.negated || a.uncertain || a.historical || a.hypothetical || a.family);
}

TEST(ExtractorTest, ShorterMentionsInsideLongerOnesAreSubsumed) {
  const std::string text = "Assessment: Acute on chronic diastolic heart failure.";
  Extracted x = Extract(text);
  const Mention* full = x.Find("Acute on chronic diastolic heart failure");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->code, "I50.33");
  bool any_subsumed = false;
  for (const Mention& m : x.mentions) {
    if (m.subsumed) {
      any_subsumed = true;
      EXPECT_GE(m.begin, full->begin);
      EXPECT_LE(m.end, full->end);
    }
  }
  EXPECT_TRUE(any_subsumed) << "'heart failure' inside the longer mention";
  std::unique_ptr<Extractor> no_sub = MakeExtractor(true, /*keep_subsumed=*/false);
  ASSERT_NE(no_sub, nullptr);
  for (const Mention& m : Extract(text, *no_sub).mentions) EXPECT_FALSE(m.subsumed);
}

TEST(ExtractorTest, EveryMentionOfTheExamplesLiesInItsText) {
  for (const std::string& path : testing::ExampleChartPaths()) {
    Extracted x = Extract(ReadFileOrDie(path));
    EXPECT_GT(x.mentions.size(), 10u) << path;
    for (const Mention& m : x.mentions) {
      EXPECT_LT(m.begin, m.end) << path;
      EXPECT_LE(m.end, x.doc.text().size()) << path;
      EXPECT_FALSE(m.spans.empty()) << path;
      EXPECT_FALSE(m.code.empty()) << path;
      EXPECT_NE(m.code_id, kNoCode) << path;
      EXPECT_LT(m.sentence, x.doc.sentences().size()) << path;
      for (const auto& [b, e] : m.spans) {
        EXPECT_LT(b, e) << path;
        EXPECT_LE(e, x.doc.text().size()) << path;
      }
    }
  }
}

TEST(ExtractorTest, MentionSpanCoversItsWords) {
  // When a synonym or abbreviation stands for several words, the mention
  // still covers every matched span: "Severe obesity", "COPD exacerbation",
  // "HIV disease" (the span once began at the last word).
  for (const char* text : {"Assessment: Severe obesity.", "Assessment: COPD exacerbation.",
                           "Assessment: HIV disease, on ART."}) {
    Extracted x = Extract(text);
    ASSERT_FALSE(x.mentions.empty()) << text;
    for (const Mention& m : x.mentions) {
      for (const auto& [b, e] : m.spans) {
        EXPECT_LE(m.begin, b) << text << ": " << x.Text(m);
        EXPECT_LE(e, m.end) << text << ": " << x.Text(m);
      }
    }
  }
}

TEST(ExtractorTest, TwoEntriesNamingOneCodeOverTheSameWordsMakeOneMention) {
  // "low back pain" matches "Pain, low back" and, through its synonym, the
  // index's "Lumbago": both M54.50 over the same words.
  Extracted x = Extract("Assessment: Low back pain, no sciatica.");
  int count = 0;
  for (const Mention& m : x.mentions) count += m.code == "M54.50" && !m.subsumed;
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace chartcoder
