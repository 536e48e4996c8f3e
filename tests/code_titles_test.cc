// The coder's per-code title facts, computed once for the whole code table,
// against the tests the coder made of each title when it read it.
#include "src/internal/code_titles.h"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "src/internal/lexicon.h"
#include "src/internal/lexicon_words.h"
#include "tests/test_support.h"

namespace chartcoder::internal {
namespace {

bool Has(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

TEST(CodeTitlesTest, EveryCodesFactsAgreeWithItsTitle) {
  constexpr int kFlags = 18;
  const CodeSet& codes = testing::TestCodeSet();
  absl::StatusOr<std::unique_ptr<Lexicon>> lexicon = Lexicon::Create(codes);
  ASSERT_TRUE(lexicon.ok()) << lexicon.status();
  const std::vector<CodeTitleFacts> facts = ComputeCodeTitleFacts(codes, **lexicon);
  ASSERT_EQ(facts.size(), codes.code_count());
  size_t seen[kFlags] = {};
  for (uint32_t id = 0; id < facts.size(); ++id) {
    const Code c = codes.CodeAt(id);
    const std::string_view d = c.description();
    const CodeTitleFacts& f = facts[id];
    SCOPED_TRACE(c.code());
    const bool expected[kFlags] = {
        c.billable(),
        c.is_seventh_character_expansion(),
        Has(d, "unspecified") || Has(d, "Unspecified"),
        Has(d, "without"),
        Has(d, "without "),
        Has(d, "uncomplicated") || Has(d, "without complication") ||
            Has(d, "not having achieved remission") || d.starts_with("Asymptomatic"),
        IsResidualTitle(d),
        Has(d, "initial encounter"),
        Has(d, "subsequent encounter") || Has(d, "sequela"),
        Has(d, "closed fracture"),
        Has(d, "routine healing"),
        Has(d, "unspecified severity"),
        Has(d, " and "),
        Has(d, ", not "),
        d.starts_with("Other "),
        Has(d, " other "),
        Has(d, "other and unspecified"),
        Has(d, "not intractable"),
    };
    for (int bit = 0; bit < kFlags; ++bit) {
      ASSERT_EQ(f.has(1u << bit), expected[bit]) << "flag " << bit << ": " << d;
      seen[bit] += expected[bit];
    }
    EXPECT_EQ(f.has(kTitleDefault),
              Has(d, "unspecified") || Has(d, "Unspecified") || Has(d, "without"));
    ASSERT_EQ(f.depth, static_cast<uint32_t>(c.depth()));
    // Every title word is in the signature, and a set of title words may be
    // had by the title.
    const absl::Span<const uint32_t> words = (*lexicon)->TitleWords(id);
    for (uint32_t w : words) ASSERT_NE(f.words & WordBit(w), 0u) << w;
    ASSERT_TRUE(f.MayHaveAll(WordSignature(words)));
    ASSERT_TRUE(f.MayHaveAll(0));
  }
  // Each flag is set somewhere in the code table (the tests are not vacuous).
  for (int bit = 0; bit < kFlags; ++bit) EXPECT_GT(seen[bit], 0u) << "flag " << bit;
}

TEST(CodeTitlesTest, PhraseFlagsOfSmallTitles) {
  EXPECT_EQ(TitlePhraseFlags(""), 0u);
  EXPECT_EQ(TitlePhraseFlags("without"), kTitleWithout);
  EXPECT_EQ(TitlePhraseFlags("Other "), kTitleStartsOther | kTitleResidual);
  EXPECT_EQ(TitlePhraseFlags("Other"), 0u);
  EXPECT_EQ(TitlePhraseFlags("a other and unspecified b"),  // not residual
            kTitleOther | kTitleOtherAndUnspecified | kTitleAnd | kTitleUnspecified);
  EXPECT_EQ(TitlePhraseFlags("x other y"), kTitleOther | kTitleResidual);
  EXPECT_EQ(TitlePhraseFlags("unspecified severity"),
            kTitleUnspecified | kTitleUnspecifiedSeverity);
  EXPECT_EQ(TitlePhraseFlags("Unspecified severity"), kTitleUnspecified);
  EXPECT_EQ(TitlePhraseFlags("sequelae"), kTitleLaterEncounter);
  EXPECT_EQ(TitlePhraseFlags("x, not y"), kTitleCommaNot);
  EXPECT_EQ(TitlePhraseFlags("x, no"), 0u);
  EXPECT_EQ(TitlePhraseFlags("Migraine, not intractable"), kTitleCommaNot | kTitleNotIntractable);
  EXPECT_EQ(TitlePhraseFlags("without complications"),
            kTitleWithout | kTitleWithoutSpace | kTitleUncomplicated);
  EXPECT_EQ(TitlePhraseFlags("Asymptomatic varicose veins"), kTitleUncomplicated);
  EXPECT_EQ(TitlePhraseFlags("Symptomatic, not Asymptomatic"), kTitleCommaNot);  // at the start only
  EXPECT_EQ(TitlePhraseFlags("Fracture, initial encounter for closed fracture"),
            kTitleInitialEncounter | kTitleClosedFracture);
  EXPECT_EQ(TitlePhraseFlags("subsequent encounter for fracture with routine healing"),
            kTitleLaterEncounter | kTitleRoutineHealing);
}

TEST(CodeTitlesTest, SignatureRulesOutAMissingWord) {
  // A word whose bit the signature lacks is surely missing.
  const uint64_t sig = WordSignature({1, 2, 3});
  int ruled_out = 0;
  for (uint32_t w = 4; w < 200; ++w) {
    CodeTitleFacts f;
    f.words = sig;
    if (!f.MayHaveAll(WordBit(w))) ++ruled_out;
  }
  EXPECT_GT(ruled_out, 150);
}

TEST(CodeTitlesTest, BillableCodesOfEveryCategory) {
  const CodeSet& codes = testing::TestCodeSet();
  absl::StatusOr<std::unique_ptr<Lexicon>> lexicon = Lexicon::Create(codes);
  ASSERT_TRUE(lexicon.ok()) << lexicon.status();
  const std::vector<CodeTitleFacts> facts = ComputeCodeTitleFacts(codes, **lexicon);
  const BillableCodes billable(codes, facts);
  EXPECT_TRUE(BillableCodes().InCategoryOf(0).empty());
  size_t roots = 0, entries = 0;
  for (uint32_t id = 0; id < codes.code_count(); ++id) {
    Code root = codes.CodeAt(id);
    while (std::optional<Code> p = root.parent()) root = *p;
    const absl::Span<const BillableCodes::Entry> got = billable.InCategoryOf(id);
    if (root.id() != id) {
      // The same run as the root's.
      const absl::Span<const BillableCodes::Entry> of_root = billable.InCategoryOf(root.id());
      ASSERT_EQ(got.data(), of_root.data()) << codes.CodeAt(id).code();
      ASSERT_EQ(got.size(), of_root.size()) << codes.CodeAt(id).code();
      continue;
    }
    // A root: its billable descendants, in id order, with their facts.
    ++roots;
    std::vector<uint32_t> want;
    const uint32_t end = id + 1 + static_cast<uint32_t>(root.descendant_count());
    for (uint32_t d = id + 1; d < end; ++d) {
      if (codes.CodeAt(d).billable()) want.push_back(d);
    }
    ASSERT_EQ(got.size(), want.size()) << root.code();
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].id, want[i]);
      ASSERT_EQ(got[i].facts.words, facts[want[i]].words);
      ASSERT_EQ(got[i].facts.flags, facts[want[i]].flags);
      ASSERT_EQ(got[i].facts.depth, facts[want[i]].depth);
    }
    entries += want.size();
  }
  EXPECT_GT(roots, 0u);
  EXPECT_GT(entries, 0u);
}

}  // namespace
}  // namespace chartcoder::internal
