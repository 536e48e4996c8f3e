// Tests of the clinical tokenizer and sentence splitter (TextAnalyzer,
// Document): token kinds, norms, byte offsets, flags, sentence boundaries.
#include "chartcoder/tokenizer.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"
#include "tests/text_test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TextAnalyzer& Analyzer() { return testing::DefaultAnalyzer(); }
Document Analyze(std::string_view text) { return testing::AnalyzeOrFail(text); }

std::vector<std::string> Norms(const Document& d) {
  std::vector<std::string> out;
  for (const Token& t : d.tokens()) out.emplace_back(t.norm);
  return out;
}

std::vector<std::string> Texts(const Document& d) {
  std::vector<std::string> out;
  for (const Token& t : d.tokens()) out.emplace_back(d.text_of(t));
  return out;
}

std::vector<std::string> Sentences(const Document& d) {
  std::vector<std::string> out;
  for (const Sentence& s : d.sentences()) out.emplace_back(d.text_of(s));
  return out;
}

// The kind of the token whose text is `text` (the first such token).
TokenKind KindOf(const Document& d, std::string_view text) {
  for (const Token& t : d.tokens()) {
    if (d.text_of(t) == text) return t.kind;
  }
  ADD_FAILURE() << "no token '" << text << "'";
  return TokenKind::kPunct;
}

const Token* Find(const Document& d, std::string_view text) {
  for (const Token& t : d.tokens()) {
    if (d.text_of(t) == text) return &t;
  }
  return nullptr;
}

TEST(TokenizerTest, WordsNumbersAndPunctuation) {
  Document d = Analyze("Pt has Crohn's disease, 3 flares.");
  EXPECT_THAT(Texts(d), ElementsAre("Pt", "has", "Crohn's", "disease", ",", "3", "flares", "."));
  EXPECT_THAT(Norms(d), ElementsAre("pt", "has", "crohn's", "disease", ",", "3", "flares", "."));
  EXPECT_EQ(KindOf(d, "3"), TokenKind::kNumber);
  EXPECT_EQ(KindOf(d, ","), TokenKind::kPunct);
  EXPECT_EQ(KindOf(d, "Crohn's"), TokenKind::kWord);
}

TEST(TokenizerTest, OffsetsPointIntoTheOriginalText) {
  const std::string text = "  HPI:\r\n  67 y.o. male w/ CHF.";
  Document d = Analyze(text);
  for (const Token& t : d.tokens()) {
    ASSERT_LE(t.end, text.size());
    EXPECT_LT(t.begin, t.end);
  }
  EXPECT_THAT(Texts(d), ElementsAre("HPI", ":", "67", "y.o.", "male", "w/", "CHF", "."));
  EXPECT_EQ(Find(d, "CHF")->begin, text.find("CHF"));
}

TEST(TokenizerTest, AbbreviationsWithPeriods) {
  Document d = Analyze(
      "Metformin 500 mg p.o. b.i.d. and lisinopril q.d. per Dr. Smith, e.g. at 8 a.m. daily.");
  EXPECT_EQ(KindOf(d, "b.i.d."), TokenKind::kAbbreviation);
  EXPECT_EQ(Find(d, "b.i.d.")->norm, "bid");
  EXPECT_EQ(Find(d, "p.o.")->norm, "po");
  EXPECT_EQ(Find(d, "q.d.")->norm, "qd");
  EXPECT_EQ(Find(d, "Dr.")->norm, "dr");
  EXPECT_EQ(Find(d, "e.g.")->norm, "eg");
  EXPECT_EQ(Find(d, "a.m.")->norm, "am");
  EXPECT_EQ(d.sentences().size(), 1u) << ::testing::PrintToString(Sentences(d));
}

TEST(TokenizerTest, SlashAbbreviationsAndUnits) {
  Document d =
      Analyze("s/p CABG, h/o MI, c/o N/V/D w/o fever, r/o PE, Cr 1.2 mg/dL, HTN/HLD, w/pain");
  EXPECT_EQ(KindOf(d, "s/p"), TokenKind::kAbbreviation);
  EXPECT_EQ(Find(d, "h/o")->norm, "h/o");
  EXPECT_EQ(Find(d, "N/V/D")->norm, "n/v/d");
  EXPECT_EQ(Find(d, "w/o")->norm, "w/o");
  EXPECT_EQ(Find(d, "r/o")->norm, "r/o");
  EXPECT_EQ(Find(d, "mg/dL")->norm, "mg/dl");
  // Diagnoses joined by a slash stay apart so each can be matched.
  EXPECT_NE(Find(d, "HTN"), nullptr);
  EXPECT_NE(Find(d, "HLD"), nullptr);
  EXPECT_EQ(Find(d, "w/")->norm, "w/");
  EXPECT_NE(Find(d, "pain"), nullptr);
}

TEST(TokenizerTest, DecimalsLabValuesAndVitals) {
  Document d = Analyze(
      "A1c 8.2%, BP 140/90, EF 35%, T 98.6F, Temp 37.2\xC2\xB0"
      "C, edema 2+, Na 1,234, 5mg, BP 120/80mmHg.");
  EXPECT_EQ(KindOf(d, "A1c"), TokenKind::kWord);
  EXPECT_EQ(Find(d, "A1c")->norm, "a1c");
  EXPECT_EQ(KindOf(d, "8.2%"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "140/90"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "35%"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "98.6F"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d,
                   "37.2\xC2\xB0"
                   "C"),
            TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "2+"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "1,234"), TokenKind::kNumber);
  EXPECT_EQ(KindOf(d, "5mg"), TokenKind::kMeasurement);
  EXPECT_EQ(KindOf(d, "120/80mmHg"), TokenKind::kMeasurement);
  EXPECT_EQ(d.sentences().size(), 1u);
}

TEST(TokenizerTest, DatesAndTimes) {
  Document d = Analyze(
      "Seen 3/14/2024, 2024-03-14, 03-14-24 and 12/2023 at 14:30 and 2:30pm, 08:15:00; 3-4 days; "
      "13/45/2024.");
  EXPECT_EQ(KindOf(d, "3/14/2024"), TokenKind::kDate);
  EXPECT_EQ(KindOf(d, "2024-03-14"), TokenKind::kDate);
  EXPECT_EQ(KindOf(d, "03-14-24"), TokenKind::kDate);
  EXPECT_EQ(KindOf(d, "12/2023"), TokenKind::kDate);
  EXPECT_EQ(KindOf(d, "14:30"), TokenKind::kTime);
  EXPECT_EQ(KindOf(d, "2:30pm"), TokenKind::kTime);
  EXPECT_EQ(KindOf(d, "08:15:00"), TokenKind::kTime);
  EXPECT_EQ(KindOf(d, "3"), TokenKind::kNumber);                // a range, not a date
  EXPECT_EQ(KindOf(d, "13/45/2024"), TokenKind::kMeasurement);  // no such month
}

TEST(TokenizerTest, IcdCodesInTheText) {
  Document d = Analyze("Dx: E11.9, I10, S72.001A, C4A.9 and e11.65; not B12 or T12 or A1c or CO2.");
  EXPECT_EQ(KindOf(d, "E11.9"), TokenKind::kIcdCode);
  EXPECT_EQ(Find(d, "E11.9")->norm, "e11.9");
  EXPECT_EQ(KindOf(d, "I10"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(d, "S72.001A"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(d, "C4A.9"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(d, "e11.65"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(d, "B12"), TokenKind::kWord);
  EXPECT_EQ(KindOf(d, "T12"), TokenKind::kWord);
  EXPECT_EQ(KindOf(d, "A1c"), TokenKind::kWord);
  EXPECT_EQ(KindOf(d, "CO2"), TokenKind::kWord);
  // A trailing period is punctuation, not part of the code.
  Document end = Analyze("Coded as E11.9.");
  EXPECT_THAT(Texts(end), ElementsAre("Coded", "as", "E11.9", "."));
}

TEST(TokenizerTest, IcdCodesCheckedAgainstTheCodeSet) {
  TextAnalyzerOptions options;
  options.code_set = &testing::TestCodeSet();
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create(options);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<Document> d = (*a)->Analyze("E119 and E11.9 and Z99.99 and I10 and E1199X");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(KindOf(*d, "E119"), TokenKind::kIcdCode);  // undotted, exists
  EXPECT_EQ(KindOf(*d, "E11.9"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(*d, "Z99.99"), TokenKind::kWord);  // no such code
  EXPECT_EQ(KindOf(*d, "I10"), TokenKind::kIcdCode);
  EXPECT_EQ(KindOf(*d, "E1199X"), TokenKind::kWord);
}

TEST(TokenizerTest, ListMarkersAndItemStarts) {
  Document d = Analyze(
      "Problems:\n- Diabetes\n* CHF\n1. CKD stage 3\n2) COPD\n(3) Gout\n#4 Obesity\no "
      "Anemia\n\xE2\x80\xA2 Asthma");
  for (std::string_view item :
       {"Diabetes", "CHF", "CKD", "COPD", "Gout", "Obesity", "Anemia", "Asthma"}) {
    const Token* t = Find(d, item);
    ASSERT_NE(t, nullptr) << item;
    EXPECT_TRUE(t->is(kTokenListItemStart)) << item;
    EXPECT_FALSE(t->is(kTokenLineStart)) << item;
  }
  for (std::string_view marker : {"-", "*", "1.", "2)", "(3)", "#4", "o", "\xE2\x80\xA2"}) {
    const Token* t = Find(d, marker);
    ASSERT_NE(t, nullptr) << marker;
    EXPECT_TRUE(t->is(kTokenListMarker)) << marker;
    EXPECT_TRUE(t->is(kTokenLineStart)) << marker;
  }
  // Each item is its own sentence.
  EXPECT_EQ(d.sentences().size(), 9u) << ::testing::PrintToString(Sentences(d));
  for (size_t i = 1; i < d.sentences().size(); ++i) {
    EXPECT_TRUE(d.sentences()[i].is(kSentenceListItem)) << i;
  }
}

TEST(TokenizerTest, AGenusInitialAtLineStartIsNoListMarker) {
  // "C. diff", "E. coli": a capital initial before a lower-case species name
  // is the organism's genus, not an outline letter ("A. Hypertension",
  // "b. asthma").
  Document d = Analyze(
      "Problems:\nC. diff colitis\nE. coli UTI\nA. Hypertension\nb. asthma\nC) gout");
  for (std::string_view word : {"diff", "coli"}) {
    const Token* t = Find(d, word);
    ASSERT_NE(t, nullptr) << word;
    EXPECT_FALSE(t->is(kTokenListItemStart)) << word;
  }
  for (std::string_view marker : {"C.", "E."}) {
    const Token* t = Find(d, marker);
    EXPECT_TRUE(t == nullptr || !t->is(kTokenListMarker)) << marker;
  }
  for (std::string_view item : {"Hypertension", "asthma", "gout"}) {
    const Token* t = Find(d, item);
    ASSERT_NE(t, nullptr) << item;
    EXPECT_TRUE(t->is(kTokenListItemStart)) << item;
  }
}

TEST(TokenizerTest, DashInsideALineIsNotABullet) {
  Document d = Analyze("DM - continue metformin\n-5 degrees");
  EXPECT_FALSE(Find(d, "-")->is(kTokenListMarker));
}

TEST(TokenizerTest, CaseFlags) {
  Document d = Analyze("CHF and Diabetes and copd and A");
  EXPECT_TRUE(Find(d, "CHF")->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "CHF")->is(kTokenCapitalized));
  EXPECT_TRUE(Find(d, "Diabetes")->is(kTokenCapitalized));
  EXPECT_FALSE(Find(d, "Diabetes")->is(kTokenUpper));
  EXPECT_FALSE(Find(d, "copd")->is(kTokenCapitalized));
  EXPECT_FALSE(Find(d, "A")->is(kTokenUpper));  // one letter
}

TEST(TokenizerTest, LineAndSpaceFlags) {
  Document d = Analyze("one two\nthree\n\nfour(five)");
  EXPECT_TRUE(Find(d, "one")->is(kTokenLineStart));
  EXPECT_TRUE(Find(d, "one")->is(kTokenBlankLineBefore));
  EXPECT_FALSE(Find(d, "two")->is(kTokenLineStart));
  EXPECT_TRUE(Find(d, "two")->is(kTokenSpaceBefore));
  EXPECT_TRUE(Find(d, "three")->is(kTokenLineStart));
  EXPECT_FALSE(Find(d, "three")->is(kTokenBlankLineBefore));
  EXPECT_TRUE(Find(d, "four")->is(kTokenBlankLineBefore));
  EXPECT_FALSE(Find(d, "(")->is(kTokenSpaceBefore));
}

TEST(SentenceTest, FinalPunctuationEndsSentences) {
  Document d = Analyze("Chest pain resolved. No fever! Is he short of breath? yes.");
  EXPECT_THAT(Sentences(d),
              ElementsAre("Chest pain resolved.", "No fever!", "Is he short of breath?", "yes."));
}

TEST(SentenceTest, DecimalsAndAbbreviationsDoNotEndSentences) {
  Document d =
      Analyze("Creatinine 1.2 vs. 1.4 last week, approx. 3 cm mass, see Dr. Lee. Follow up.");
  EXPECT_THAT(Sentences(d),
              ElementsAre("Creatinine 1.2 vs. 1.4 last week, approx. 3 cm mass, see Dr. Lee.",
                          "Follow up."));
}

TEST(SentenceTest, DosingAbbreviationEndsASentenceBeforeACapital) {
  Document d = Analyze("Metformin 500 mg b.i.d. Lisinopril 10 mg q.d. daily dose unchanged.");
  EXPECT_THAT(Sentences(d), ElementsAre("Metformin 500 mg b.i.d.",
                                        "Lisinopril 10 mg q.d. daily dose unchanged."));
}

TEST(SentenceTest, ClosingParenthesisAndQuoteStayWithTheSentence) {
  Document d = Analyze("He said \"no pain.\" Then left (see note.) Done.");
  EXPECT_THAT(Sentences(d), ElementsAre("He said \"no pain.\"", "Then left (see note.)", "Done."));
}

TEST(SentenceTest, WrappedLinesContinue) {
  Document d = Analyze(
      "Patient is a 67 year old male with a history of\ndiabetes and hypertension who presents "
      "with\nchest pain.\nNo fever.");
  EXPECT_THAT(Sentences(d), ElementsAre("Patient is a 67 year old male with a history of\ndiabetes "
                                        "and hypertension who presents with\nchest pain.",
                                        "No fever."));
}

TEST(SentenceTest, LongWrappedLinesContinueBeforeACapital) {
  Document d = Analyze(
      "Aortic dissection less likely, no mediastinal widening on CXR; CTA deferred given clear\n"
      "STEMI. Cath lab activated.");
  EXPECT_THAT(Sentences(d),
              ElementsAre("Aortic dissection less likely, no mediastinal widening on CXR; CTA "
                          "deferred given clear\nSTEMI.",
                          "Cath lab activated."));
}

TEST(SentenceTest, AWrappedTableCellContinuesItsRow) {
  // From examples/charts/problem_list_inline_icd_codes.txt: the row's text
  // ends with a comma before the code column, and the next line, indented
  // and in lower case, goes on with it.
  Document d = Analyze(
      " 6  Colon CA, sigmoid, dx 03/2023, s/p sigmoidectomy,              C18.7\n"
      "      on adjuvant FOLFOX cycle 7 of 12\n"
      " 7  Depression - on sertraline, PHQ-9 8                            F32.9\n"
      " 8  Obesity, BMI 33.4                                              E66.9\n"
      "      stable\n");
  std::vector<std::string> s = Sentences(d);
  ASSERT_GE(s.size(), 3u) << ::testing::PrintToString(s);
  EXPECT_THAT(s[0], ::testing::HasSubstr("on adjuvant FOLFOX"));
  // Without the comma the next line stays on its own.
  EXPECT_THAT(s, ::testing::Contains("stable"));
}

TEST(SentenceTest, LinesWithoutPunctuationAreSeparate) {
  Document d = Analyze("Fever\nCough\nShortness of breath");
  EXPECT_THAT(Sentences(d), ElementsAre("Fever", "Cough", "Shortness of breath"));
}

TEST(SentenceTest, BlankLinesEndSentences) {
  Document d = Analyze("stable on current regimen\n\nwill recheck labs");
  EXPECT_THAT(Sentences(d), ElementsAre("stable on current regimen", "will recheck labs"));
}

TEST(SentenceTest, TableRowsAreSentences) {
  Document d = Analyze("BP 132/84   HR 88   RR 16\nNa\t140\tK\t4.2\nwbc  7.2   hgb  13.1");
  ASSERT_EQ(d.sentences().size(), 3u) << ::testing::PrintToString(Sentences(d));
  for (const Sentence& s : d.sentences()) EXPECT_TRUE(s.is(kSentenceTableRow));
}

TEST(SentenceTest, SemicolonBeforeALabelSplits) {
  Document d = Analyze("Dx: HTN; Dx2: DM2; stable; Dx3: CKD");
  EXPECT_THAT(Sentences(d), ElementsAre("Dx:", "HTN;", "Dx2: DM2; stable;", "Dx3: CKD"));
  EXPECT_TRUE(d.sentences()[2].is(kSentenceLabeled));
}

TEST(SentenceTest, MidLineEnumerationsSplit) {
  Document d = Analyze("Plan: 1) CHF exacerbation - diurese 2) DM - continue metformin");
  EXPECT_THAT(Sentences(d),
              ElementsAre("Plan:", "1) CHF exacerbation - diurese", "2) DM - continue metformin"));
}

TEST(SentenceTest, SentencesHoldEveryTokenOnce) {
  Document d = Analyze("HPI: a. b\n\n- c; d: e\nPLAN x y.  z 1) w 2) v");
  uint32_t next = 0;
  for (const Sentence& s : d.sentences()) {
    EXPECT_EQ(s.first_token, next);
    EXPECT_LT(s.first_token, s.end_token);
    EXPECT_TRUE(d.tokens()[s.first_token].is(kTokenSentenceStart));
    next = s.end_token;
  }
  EXPECT_EQ(next, d.tokens().size());
}

TEST(SentenceTest, LookupsByOffset) {
  Document d = Analyze("No fever.  Cough present.");
  EXPECT_EQ(d.TokenAt(0), 0u);
  EXPECT_EQ(d.TokenAt(3), 1u);  // inside "fever"
  EXPECT_EQ(d.TokenAt(9), 3u);  // the gap: next token "Cough"
  EXPECT_EQ(d.TokenAt(1000), d.tokens().size());
  EXPECT_EQ(d.SentenceAt(4), 0u);
  EXPECT_EQ(d.SentenceAt(10), 1u);
  EXPECT_EQ(d.SentenceAt(1000), d.sentences().size());
}

TEST(TokenizerTest, NonAsciiTextUsesIcuAndMapsBack) {
  const std::string text =
      "Sj\xC3\xB6gren\xE2\x80\x99s syndrome \xE2\x80\x93 \xEF\xBC\xA3\xEF\xBC\xA8\xEF\xBC\xA6 "
      "\xE6\x97\xA5\xE6\x9C\xAC 42";
  Document d = Analyze(text);
  EXPECT_THAT(Norms(d), ElementsAre("sj\xC3\xB6gren's", "syndrome", "-", "chf",
                                    "\xE6\x97\xA5\xE6\x9C\xAC", "42"));
  EXPECT_EQ(Find(d, "\xEF\xBC\xA3\xEF\xBC\xA8\xEF\xBC\xA6")->kind, TokenKind::kWord);
  EXPECT_TRUE(Find(d, "\xEF\xBC\xA3\xEF\xBC\xA8\xEF\xBC\xA6")->is(kTokenUpper));
  EXPECT_EQ(KindOf(d, "42"), TokenKind::kNumber);
}

TEST(TokenizerTest, TokensNeverShareTextBytes) {
  // Found by tokenizer_fuzzer: a control character and two combining marks
  // are one unit of the normalized view's offset map, but ICU splits the
  // marks into two tokens that mapped to the same text bytes.
  Document d = Analyze("12\n\x1f\xCD\x90\xD6\x94 x");
  uint32_t prev_end = 0;
  for (const Token& t : d.tokens()) {
    EXPECT_GE(t.begin, prev_end);
    EXPECT_LT(t.begin, t.end);
    prev_end = t.end;
  }
  EXPECT_THAT(Texts(d), ElementsAre("12", "\x1f\xCD\x90\xD6\x94", "x"));
}

TEST(TokenizerTest, AccentedGreekAndCyrillicWordsStayWhole) {
  Document d = Analyze(
      "M\xC3\xA9ni\xC3\xA8re's disease, 5 \xC2\xB5g, \xC3\x89"
      "CHO normal, "
      "\xD0\x94\xD0\xB8\xD0\xB0\xD0\xB1\xD0\xB5\xD1\x82 2, na\xC3\xAFve.");
  EXPECT_THAT(Norms(d),
              ElementsAre("m\xC3\xA9ni\xC3\xA8re's", "disease", ",", "5", "\xCE\xBCg", ",",
                          "\xC3\xA9"
                          "cho",
                          "normal", ",", "\xD0\xB4\xD0\xB8\xD0\xB0\xD0\xB1\xD0\xB5\xD1\x82", "2",
                          ",", "na\xC3\xAFve", "."));
  const Token* echo = Find(d,
                           "\xC3\x89"
                           "CHO");
  ASSERT_NE(echo, nullptr);
  EXPECT_TRUE(echo->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "M\xC3\xA9ni\xC3\xA8re's")->is(kTokenCapitalized));
}

// Case flags come from the scanner in an ASCII chart and from each token's
// text otherwise: the two agree on every token of the example charts (each
// chart also read with a non-ASCII word appended, which takes the other way),
// and on mixed ASCII and non-ASCII words.
TEST(TokenizerTest, CaseFlagsAgreeInAsciiAndNonAsciiCharts) {
  constexpr uint16_t kCase = kTokenCapitalized | kTokenUpper;
  size_t compared = 0;
  const std::filesystem::path charts =
      std::filesystem::path(testing::SourceDir()) / "examples" / "charts";
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(charts)) {
    if (e.path().extension() != ".txt") continue;
    std::string text = testing::ReadFileOrDie(e.path().string());
    // Only ASCII charts compare as such; the others still run both ways below.
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (!ascii) {
      for (char& c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
      }
    }
    SCOPED_TRACE(e.path().string());
    const Document plain = Analyze(text);
    const Document marked = Analyze(text + "\nna\xC3\xAFve\n");
    ASSERT_TRUE(plain.chart_text().is_ascii());
    ASSERT_FALSE(marked.chart_text().is_ascii());
    ASSERT_GE(marked.tokens().size(), plain.tokens().size());
    for (size_t i = 0; i < plain.tokens().size(); ++i) {
      const Token& a = plain.tokens()[i];
      const Token& b = marked.tokens()[i];
      ASSERT_EQ(a.begin, b.begin);
      ASSERT_EQ(a.end, b.end);
      EXPECT_EQ(a.flags & kCase, b.flags & kCase) << plain.text_of(a);
      ++compared;
    }
  }
  EXPECT_GT(compared, 10000u);
  // (\xC3\x89 is a capital E with an acute accent.)
  const Document d = Analyze(
      "HbA1c Xa COPD\xC3\x89" "CHO a\xC3\x89 \xC3\x89" "a \xC3\x89\xC3\x89 T2DM");
  EXPECT_FALSE(Find(d, "HbA1c")->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "HbA1c")->is(kTokenCapitalized));
  EXPECT_TRUE(Find(d, "Xa")->is(kTokenCapitalized));
  EXPECT_FALSE(Find(d, "Xa")->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "COPD\xC3\x89" "CHO")->is(kTokenUpper));
  EXPECT_FALSE(Find(d, "a\xC3\x89")->is(kTokenUpper));
  EXPECT_FALSE(Find(d, "a\xC3\x89")->is(kTokenCapitalized));
  EXPECT_TRUE(Find(d, "\xC3\x89" "a")->is(kTokenCapitalized));
  EXPECT_FALSE(Find(d, "\xC3\x89" "a")->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "\xC3\x89\xC3\x89")->is(kTokenUpper));
  EXPECT_TRUE(Find(d, "T2DM")->is(kTokenUpper));
}

TEST(TokenizerTest, InvalidUtf8IsAnErrorUnlessRepairing) {
  absl::StatusOr<Document> bad = Analyzer().Analyze("fever \xFF");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("byte offset 6"));
  TextAnalyzerOptions options;
  options.text.repair_invalid_utf8 = true;
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create(options);
  ASSERT_TRUE(a.ok());
  absl::StatusOr<Document> fixed = (*a)->Analyze("fever \xFF");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->tokens().size(), 2u);
}

TEST(TokenizerTest, EmptyAndBlankTexts) {
  for (std::string_view text : {"", "   ", "\n\n\r\n", "\xE2\x80\x8B"}) {
    Document d = Analyze(text);
    EXPECT_TRUE(d.tokens().empty());
    EXPECT_TRUE(d.sentences().empty());
    EXPECT_TRUE(d.sections().empty());
    EXPECT_EQ(d.SectionAt(0), 0u);
  }
}

TEST(TokenizerTest, PhraseNormsMatchDocumentNorms) {
  EXPECT_THAT(Analyzer().PhraseNorms("Type II Diabetes Mellitus"),
              ElementsAre("type", "ii", "diabetes", "mellitus"));
  EXPECT_THAT(Analyzer().PhraseNorms("s/p CABG"), ElementsAre("s/p", "cabg"));
  EXPECT_THAT(Analyzer().PhraseNorms("Crohn\xE2\x80\x99s disease"),
              ElementsAre("crohn's", "disease"));
  EXPECT_THAT(Analyzer().PhraseNorms("non-small cell"), ElementsAre("non", "-", "small", "cell"));
  EXPECT_TRUE(Analyzer().PhraseNorms("").empty());
}

TEST(TokenizerTest, ExtraAbbreviations) {
  TextAnalyzerOptions options;
  options.extra_abbreviations = {"Pmhx.", "hosp"};
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create(options);
  ASSERT_TRUE(a.ok());
  absl::StatusOr<Document> d = (*a)->Analyze("Seen at the hosp. Main clinic.");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->sentences().size(), 1u);
  EXPECT_EQ(KindOf(*d, "hosp."), TokenKind::kAbbreviation);
  options.extra_abbreviations = {"..."};
  EXPECT_FALSE(TextAnalyzer::Create(options).ok());
}

TEST(TokenizerTest, DocumentsAreMovable) {
  Document a = Analyze("No fever.");
  const std::string_view norm = a.tokens()[0].norm;
  Document b = std::move(a);
  EXPECT_EQ(b.tokens()[0].norm.data(), norm.data());
  EXPECT_EQ(b.tokens()[0].norm, "no");
}

TEST(TokenizerTest, KindNames) {
  EXPECT_EQ(TokenKindName(TokenKind::kIcdCode), "icd_code");
  EXPECT_EQ(TokenKindName(TokenKind::kAbbreviation), "abbreviation");
  EXPECT_EQ(TokenKindName(TokenKind::kMeasurement), "measurement");
}

}  // namespace
}  // namespace chartcoder
