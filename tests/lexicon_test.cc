// Tests of the clinical lexicon: word normalization, the Porter stemmer, and
// matching over the full data pack.
#include "src/internal/lexicon.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/chart_words.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/porter_stemmer.h"
#include "tests/test_support.h"

namespace chartcoder::internal {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

TEST(PorterStemmerTest, PublishedExamples) {
  // Examples from Porter's paper and its reference vocabulary.
  EXPECT_EQ(PorterStem("caresses"), "caress");
  EXPECT_EQ(PorterStem("ponies"), "poni");
  EXPECT_EQ(PorterStem("cats"), "cat");
  EXPECT_EQ(PorterStem("feed"), "feed");
  EXPECT_EQ(PorterStem("agreed"), "agre");
  EXPECT_EQ(PorterStem("plastered"), "plaster");
  EXPECT_EQ(PorterStem("motoring"), "motor");
  EXPECT_EQ(PorterStem("hopping"), "hop");
  EXPECT_EQ(PorterStem("filing"), "file");
  EXPECT_EQ(PorterStem("happy"), "happi");
  EXPECT_EQ(PorterStem("relational"), "relat");
  EXPECT_EQ(PorterStem("generalization"), "gener");
  EXPECT_EQ(PorterStem("electrical"), "electr");
  EXPECT_EQ(PorterStem("adjustment"), "adjust");
  EXPECT_EQ(PorterStem("controlling"), "control");
  EXPECT_EQ(PorterStem("probate"), "probat");
  EXPECT_EQ(PorterStem("rate"), "rate");
}

TEST(PorterStemmerTest, ClinicalInflectionsMeet) {
  EXPECT_EQ(PorterStem("hypertensive"), PorterStem("hypertension"));
  EXPECT_EQ(PorterStem("diabetic"), PorterStem("diabetes"));
  EXPECT_EQ(PorterStem("infected"), PorterStem("infection"));
  EXPECT_EQ(PorterStem("ulcerated"), PorterStem("ulcers"));
  EXPECT_EQ(PorterStem("obese"), PorterStem("obesity"));
}

std::vector<std::string> Stems(std::string_view text) {
  std::vector<LexWord> w;
  LexiconWords(text, &w);
  std::vector<std::string> out;
  for (const LexWord& x : w) out.push_back(x.stem);
  return out;
}

TEST(LexiconWordsTest, NormalizesClinicalText) {
  EXPECT_THAT(Stems("Type II diabetes"), ElementsAre("type", "2", "diabet"));
  EXPECT_THAT(Stems("stage IIIb CKD"), ElementsAre("stage", "3b", "ckd"));
  EXPECT_THAT(Stems("type two"), ElementsAre("type", "2"));
  EXPECT_THAT(Stems("haemorrhage, oedema, tumour"), ElementsAre("hemorrhag", "edema", "tumor"));
  EXPECT_THAT(Stems("Alzheimer's disease"), ElementsAre("alzheim", "diseas"));
  EXPECT_THAT(Stems("non-ST-elevation"), ElementsAre("non", "st", "elev"));
  // -itis and short words keep their meaning.
  EXPECT_THAT(Stems("thyroiditis thyroid"), ElementsAre("thyroiditis", "thyroid"));
  EXPECT_THAT(Stems("has mis RAS"), ElementsAre("has", "mis", "ras"));
  // The letter A after a word with lettered kinds is a word; the article is not.
  EXPECT_THAT(Stems("vitamin A influenza A"),
              ElementsAre("vitamin", kLetterAStem, "influenza", kLetterAStem));
  EXPECT_THAT(Stems("a vitamin"), ElementsAre("a", "vitamin"));
  EXPECT_THAT(Stems("had a flu shot"), ElementsAre("had", "a", "flu", "shot"));
  std::vector<LexWord> w;
  LexiconWords("CHF chf", &w);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_TRUE(w[0].upper);
  EXPECT_FALSE(w[1].upper);
  EXPECT_EQ(w[0].raw, "chf");
  EXPECT_EQ(w[0].begin, 0u);
  EXPECT_EQ(w[1].begin, 4u);
}

class LexiconMatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lex = Lexicon::Create(testing::TestCodeSet());
    ASSERT_TRUE(lex.ok()) << lex.status();
    lexicon_ = lex->release();
  }

  // Codes of the matches that are not subsumed.
  std::set<std::string> Codes(std::string_view text, bool with_subsumed = false) {
    std::vector<LexWord> lw;
    LexiconWords(text, &lw);
    std::vector<Lexicon::InputWord> in;
    for (const LexWord& w : lw) {
      in.push_back({lexicon_->WordId(w.stem), lexicon_->WordId(w.raw), w.begin, w.end, w.upper});
    }
    std::vector<Lexicon::Match> m;
    Lexicon::Scratch scratch;
    lexicon_->MatchClause(in, &scratch, &m);
    std::set<std::string> out;
    for (const Lexicon::Match& x : m) {
      if (x.subsumed && !with_subsumed) continue;
      out.emplace(testing::TestCodeSet().CodeAt(lexicon_->code(x.entry)).code());
    }
    return out;
  }

  static const Lexicon* lexicon_;
};
const Lexicon* LexiconMatchTest::lexicon_ = nullptr;

TEST_F(LexiconMatchTest, IndexPathsAndTitles) {
  EXPECT_THAT(Codes("acute on chronic diastolic congestive heart failure"), Contains("I50.33"));
  EXPECT_THAT(Codes("chronic kidney disease stage 3b"), Contains("N18.32"));
  EXPECT_THAT(Codes("major depressive disorder, recurrent, moderate"), Contains("F33.1"));
  EXPECT_THAT(Codes("hypertension"), Contains("I10"));
}

TEST_F(LexiconMatchTest, WordOrderInflectionsAndHyphens) {
  EXPECT_THAT(Codes("heart failure, diastolic, chronic"), Contains("I50.32"));
  EXPECT_THAT(Codes("hypertensive"), Contains("I10"));
  EXPECT_THAT(Codes("failure of the heart"), Contains("I50.9"));
  EXPECT_THAT(Codes("chronic kidney-disease stage 4"), Contains("N18.4"));
}

TEST_F(LexiconMatchTest, SynonymsAndAbbreviations) {
  EXPECT_THAT(Codes("CHF"), Contains("I50.9"));
  EXPECT_THAT(Codes("chf"), Contains("I50.9"));
  EXPECT_THAT(Codes("DM2 with CKD 3b"), Contains("N18.32"));
  EXPECT_THAT(Codes("HTN"), Contains("I10"));
  EXPECT_THAT(Codes("afib"), Contains("I48.91"));
  // Inventory abbreviations fire only when written in capitals.
  EXPECT_THAT(Codes("she has a cough"), Not(Contains("R51.9")));
  // Ambiguous abbreviations stay unexpanded.
  EXPECT_THAT(Codes("sat 86% on RA"), Not(Contains("M06.9")));
}

TEST_F(LexiconMatchTest, LongestMatchWins) {
  std::set<std::string> top = Codes("acute on chronic diastolic heart failure");
  EXPECT_THAT(top, Contains("I50.33"));
  EXPECT_THAT(top, Not(Contains("I50.9")));
  std::set<std::string> all = Codes("acute on chronic diastolic heart failure", true);
  EXPECT_THAT(all, Contains("I50.9"));  // kept, flagged subsumed
}

TEST_F(LexiconMatchTest, GroupsMustStayTogether) {
  // "stage" and "2" are far apart: not "CKD stage 2".
  EXPECT_THAT(Codes("Type 2 diabetes mellitus with diabetic chronic kidney disease stage 3b"),
              Not(Contains("N18.2")));
}

TEST_F(LexiconMatchTest, EverydayWordsAloneNameNothing) {
  EXPECT_TRUE(Codes("patient declines audiology").empty());
  EXPECT_TRUE(Codes("history of present illness").empty());
}

// The pack's spellings table (kLexForms) gives exactly what normalizing the
// spelling and looking it up would: checked for every spelling it lists.
TEST_F(LexiconMatchTest, SpellingTableAgreesWithNormalization) {
  ASSERT_GT(lexicon_->form_count(), 10000u);
  for (size_t i = 0; i < lexicon_->form_count(); ++i) {
    const std::string form(lexicon_->form(i));
    SCOPED_TRACE(form);
    const LexFormRecord* f = lexicon_->FindForm(form);
    ASSERT_NE(f, nullptr);
    const std::string stem = NormalizeLowerCaseLetters(form);
    EXPECT_EQ(f->id, lexicon_->WordId(stem));
    EXPECT_EQ(f->raw_id, lexicon_->WordId(form));
    EXPECT_EQ((f->flags & kLexFormStop) != 0, IsLexiconStopWord(stem));
  }
}

TEST_F(LexiconMatchTest, SpellingTableKnowsCommonWordsNotOthers) {
  for (std::string_view w : {"hypertension", "diabetes", "hemorrhage", "tumor", "the", "with",
                             "thyroiditis", "severity", "burning", "kidney"}) {
    const LexFormRecord* f = lexicon_->FindForm(w);
    ASSERT_NE(f, nullptr) << w;
    EXPECT_EQ(f->id, lexicon_->WordId(NormalizeLowerCaseLetters(std::string(w)))) << w;
  }
  EXPECT_NE(lexicon_->FindForm("hypertension")->id, kNone);
  EXPECT_TRUE(lexicon_->FindForm("with")->flags & kLexFormStop);
  EXPECT_EQ(lexicon_->FindForm("qzxvwkjh"), nullptr);
  EXPECT_EQ(lexicon_->FindForm("hypertensionx"), nullptr);
  EXPECT_EQ(lexicon_->FindForm(""), nullptr);
  // Keys are lower case: a capitalized spelling is the caller's to lower.
  EXPECT_EQ(lexicon_->FindForm("Hypertension"), nullptr);
}

// A chart's words: known spellings (table), unknown ones (normalized), in
// capitals or not, give the ids the slow path gives.
TEST_F(LexiconMatchTest, ChartWordsAgreeWithLexiconWords) {
  ChartWords words(*lexicon_);
  for (std::string_view form : {"Hypertension", "hypertension", "HYPERTENSION", "CHF", "chf",
                                "Haemorrhagic", "qzxvwkjh", "Qzxvwkjh", "tumours", "With", "RA",
                                "atorvastatin", "Denies", "x"}) {
    SCOPED_TRACE(form);
    std::vector<LexWord> lw;
    LexiconWords(form, &lw);
    ASSERT_EQ(lw.size(), 1u);
    const absl::Span<const Lexicon::InputWord> got = words.Of(form);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].id, lexicon_->WordId(lw[0].stem));
    EXPECT_EQ(got[0].raw_id, lexicon_->WordId(lw[0].raw));
    EXPECT_EQ(got[0].upper, lw[0].upper);
    EXPECT_EQ(got[0].stop, IsLexiconStopWord(lw[0].stem));
    EXPECT_EQ(got[0].begin, 0u);
    EXPECT_EQ(got[0].end, form.size());
  }
}

// After "type", "stage", "grade", "class", "phase" or "degree" a numeral is
// its digits; after any other word it is itself: checked after every word of
// the lexicon (ChartWords rules most words out by one bit first).
TEST_F(LexiconMatchTest, ChartWordsReadNumeralsOnlyAfterTheirWords) {
  std::vector<uint32_t> takers;
  for (std::string_view stem : {"type", "stage", "grade", "class", "phase", "degre"}) {
    if (const uint32_t id = lexicon_->WordId(stem); id != kNone) takers.push_back(id);
  }
  ASSERT_GE(takers.size(), 5u);
  ChartWords words(*lexicon_);
  const Lexicon::InputWord plain = words.Of("II")[0];
  const uint32_t two = lexicon_->WordId("2");
  ASSERT_NE(two, kNone);
  ASSERT_NE(plain.id, two);
  size_t as_digits = 0;
  for (uint32_t id = 0; id < lexicon_->word_count(); ++id) {
    const bool taker = std::find(takers.begin(), takers.end(), id) != takers.end();
    const absl::Span<const Lexicon::InputWord> got = words.Of("II", id);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].id, taker ? two : plain.id) << lexicon_->Word(id);
    as_digits += got[0].id == two;
  }
  EXPECT_EQ(as_digits, takers.size());
}

// A form of letters only takes the one-word path; any other byte between
// letters takes LexiconWords': both give LexiconWords' words.
TEST_F(LexiconMatchTest, ChartWordsSplitEveryByteAsLexiconWords) {
  // ChartWords keeps views of the forms: they live as long as it.
  std::vector<std::string> forms;
  for (int c = 1; c < 128; ++c) {
    const char b = static_cast<char>(c);
    forms.push_back(std::string("heart") + b + "failure");
    forms.push_back(std::string(1, b) + "Renal");
    forms.push_back(std::string("CKD") + b);
  }
  ChartWords words(*lexicon_);
  for (const std::string& form : forms) {
    SCOPED_TRACE(form);
    std::vector<LexWord> lw;
    LexiconWords(form, &lw);
    const absl::Span<const Lexicon::InputWord> got = words.Of(form);
    ASSERT_EQ(got.size(), lw.size());
    for (size_t i = 0; i < lw.size(); ++i) {
      EXPECT_EQ(got[i].id, lexicon_->WordId(lw[i].stem));
      EXPECT_EQ(got[i].raw_id, lexicon_->WordId(lw[i].raw));
      EXPECT_EQ(got[i].upper, lw[i].upper);
      EXPECT_EQ(got[i].begin, lw[i].begin);
      EXPECT_EQ(got[i].end, lw[i].end);
    }
  }
}

// ChartWords copies the forms it is given: it answers from its memo after
// the text they came from is gone (Pipeline keeps one per thread, chart after
// chart), and after StartChart forgot everything past kMaxForms.
TEST_F(LexiconMatchTest, ChartWordsOutliveTheFormsTheyWereGiven) {
  ChartWords words(*lexicon_);
  std::vector<std::vector<Lexicon::InputWord>> first;
  const std::vector<std::string> forms = {"Hypertension", "CHF", "heart-failure", "qzxvwkjh", "x"};
  {
    std::vector<std::string> copies(forms.begin(), forms.end());
    for (const std::string& f : copies) {
      const absl::Span<const Lexicon::InputWord> got = words.Of(f);
      first.emplace_back(got.begin(), got.end());
    }
    for (std::string& f : copies) std::fill(f.begin(), f.end(), '#');
  }
  auto same = [&](const std::string& form, const std::vector<Lexicon::InputWord>& want) {
    const absl::Span<const Lexicon::InputWord> got = words.Of(form);
    ASSERT_EQ(got.size(), want.size()) << form;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, want[i].id) << form;
      EXPECT_EQ(got[i].raw_id, want[i].raw_id) << form;
      EXPECT_EQ(got[i].begin, want[i].begin) << form;
      EXPECT_EQ(got[i].end, want[i].end) << form;
      EXPECT_EQ(got[i].upper, want[i].upper) << form;
    }
  };
  for (size_t i = 0; i < forms.size(); ++i) same(forms[i], first[i]);
  // Enough distinct forms to pass the limit; the next chart starts afresh.
  for (size_t i = 0; i <= ChartWords::kMaxForms; ++i) words.Of("w" + std::to_string(i));
  words.StartChart(100);
  for (size_t i = 0; i < forms.size(); ++i) same(forms[i], first[i]);
}

}  // namespace
}  // namespace chartcoder::internal
