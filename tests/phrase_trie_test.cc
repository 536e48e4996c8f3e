// Tests of PhraseTrie (section headers and ConText triggers): the longest
// phrase at a position, checked against a direct search of the phrases
// inserted, over many random phrase sets and word sequences.
#include "src/internal/phrase_trie.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace chartcoder::internal {
namespace {

TEST(PhraseTrieTest, LongestPhraseWins) {
  PhraseTrie trie;
  trie.Insert({"negative", "for"}, 7);
  trie.Insert({"negative"}, 3);
  trie.Insert({"no"}, 1);
  EXPECT_EQ(trie.phrase_count(), 3u);
  const std::vector<int32_t> ids = {trie.WordId("negative"), trie.WordId("for"),
                                    trie.WordId("pneumonia"), trie.WordId("no")};
  EXPECT_EQ(ids[2], PhraseTrie::kUnknownWord);
  PhraseTrie::Match m = trie.Longest(ids, 0, ids.size());
  EXPECT_EQ(m.length, 2u);
  EXPECT_EQ(m.value, 7);
  m = trie.Longest(ids, 0, 1);  // the limit cuts "for" off
  EXPECT_EQ(m.length, 1u);
  EXPECT_EQ(m.value, 3);
  EXPECT_EQ(trie.Longest(ids, 1, ids.size()).length, 0u);  // "for" alone is none
  EXPECT_EQ(trie.Longest(ids, 2, ids.size()).length, 0u);
  EXPECT_EQ(trie.Longest(ids, 3, ids.size()).value, 1);
  trie.Erase({"negative"});
  EXPECT_EQ(trie.phrase_count(), 2u);
  m = trie.Longest(ids, 0, 1);
  EXPECT_EQ(m.length, 0u);
  EXPECT_EQ(m.value, PhraseTrie::kNoValue);
  EXPECT_EQ(trie.Longest(ids, 0, ids.size()).value, 7);
}

// Random phrases over a small vocabulary (so they share prefixes and first
// words), some replaced and erased; every start and limit of random word
// sequences against the phrase map read directly.
TEST(PhraseTrieTest, LongestAgreesWithADirectSearch) {
  std::mt19937 rng(20261127);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(round);
    const int vocabulary = 3 + round % 12;
    auto word = [&](int w) { return "w" + std::to_string(w); };
    PhraseTrie trie;
    std::map<std::vector<std::string>, int32_t> phrases;
    const int count = 1 + static_cast<int>(rng() % 30);
    for (int p = 0; p < count; ++p) {
      std::vector<std::string> norms(1 + rng() % 4);
      for (std::string& n : norms) n = word(static_cast<int>(rng() % vocabulary));
      const int32_t value = static_cast<int32_t>(rng() % 100);
      trie.Insert(norms, value);
      phrases[norms] = value;
      if (rng() % 5 == 0) {
        trie.Erase(norms);
        phrases[norms] = PhraseTrie::kNoValue;
      }
    }
    size_t live = 0;
    for (const auto& [norms, value] : phrases) live += value != PhraseTrie::kNoValue;
    EXPECT_EQ(trie.phrase_count(), live);
    for (int text = 0; text < 20; ++text) {
      // Words of the vocabulary and a few beyond it (in no phrase).
      std::vector<std::string> norms(1 + rng() % 12);
      for (std::string& n : norms) n = word(static_cast<int>(rng() % (vocabulary + 2)));
      std::vector<int32_t> ids;
      for (const std::string& n : norms) ids.push_back(trie.WordId(n));
      for (size_t start = 0; start < norms.size(); ++start) {
        for (size_t limit = start; limit <= norms.size() + 1; ++limit) {
          PhraseTrie::Match want;
          std::vector<std::string> prefix;
          for (size_t i = start; i < limit && i < norms.size(); ++i) {
            prefix.push_back(norms[i]);
            auto it = phrases.find(prefix);
            if (it != phrases.end() && it->second != PhraseTrie::kNoValue) {
              want = {prefix.size(), it->second};
            }
          }
          const PhraseTrie::Match got = trie.Longest(ids, start, limit);
          ASSERT_EQ(got.length, want.length) << start << " " << limit;
          ASSERT_EQ(got.value, want.value) << start << " " << limit;
          const size_t n = std::min(limit, norms.size()) - start;
          const PhraseTrie::Match with =
              trie.LongestWith([&](size_t i) { return ids[start + i]; }, n);
          ASSERT_EQ(with.length, want.length);
          ASSERT_EQ(with.value, want.value);
        }
      }
    }
  }
}

}  // namespace
}  // namespace chartcoder::internal
