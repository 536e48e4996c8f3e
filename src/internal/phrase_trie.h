// A trie over sequences of token norms: phrases of a lexicon (section
// headers, ConText triggers) compiled once, matched longest-first against a
// document's tokens without any regular expression.
//
//   PhraseTrie trie;
//   trie.Insert({"negative", "for"}, 7);
//   std::vector<int32_t> ids = trie.WordIds(tokens);  // once per sentence
//   PhraseTrie::Match m = trie.Longest(ids, start);   // m.length == 2, m.value == 7
#ifndef CHARTCODER_SRC_INTERNAL_PHRASE_TRIE_H_
#define CHARTCODER_SRC_INTERNAL_PHRASE_TRIE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "chartcoder/tokenizer.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

// Immutable after building; lookups are const and thread-safe.
class PhraseTrie {
 public:
  static constexpr int32_t kNoValue = -1;
  static constexpr int32_t kUnknownWord = -1;

  struct Match {
    size_t length = 0;  // tokens matched; 0 when nothing matched
    int32_t value = kNoValue;
  };

  // Adds (or replaces the value of) a phrase; an empty phrase is ignored.
  void Insert(const std::vector<std::string>& norms, int32_t value);
  // Removes a phrase (its value becomes kNoValue).
  void Erase(const std::vector<std::string>& norms);

  // The id of `norm` among the words of the phrases, or kUnknownWord.
  // Inline: asked for every token of a sentence ConText assesses.
  int32_t WordId(std::string_view norm) const {
    const uint32_t sig = Signature(norm);
    if ((filter_[sig / 64] & (uint64_t{1} << (sig % 64))) == 0) return kUnknownWord;
    return FindWord(norm);
  }
  // Word ids of tokens [begin, end).
  void WordIds(std::span<const Token> tokens, std::vector<int32_t>* ids) const;

  // The longest phrase starting at ids[start] (ids from WordIds), among
  // tokens [start, limit). Inline up to the root's child: at most tokens no
  // phrase starts.
  Match Longest(std::span<const int32_t> ids, size_t start, size_t limit) const {
    if (start >= limit || start >= ids.size() || Child(0, ids[start]) < 0) return Match{};
    return LongestFrom(ids, start, limit);
  }

  // The same, with word ids computed on demand: word_at(i) is the id of the
  // i-th token after the start (i < count).
  template <typename WordAt>
  Match LongestWith(WordAt word_at, size_t count) const {
    Match best;
    uint32_t node = 0;
    for (size_t i = 0; i < count; ++i) {
      const int32_t child = Child(node, word_at(i));
      if (child < 0) break;
      node = static_cast<uint32_t>(child);
      if (values_[node] != kNoValue) best = {i + 1, values_[node]};
    }
    return best;
  }

  size_t phrase_count() const { return phrase_count_; }

 private:
  static uint64_t Key(uint32_t node, uint32_t word) { return (uint64_t{node} << 32) | word; }
  // A cheap signature of a word (length, first and last bytes) for the
  // filter in front of the hash map: most document words are in no phrase.
  static uint32_t Signature(std::string_view w) {
    if (w.empty()) return 0;
    return (static_cast<uint32_t>(w.size()) * 0x9E37u + static_cast<unsigned char>(w[0]) * 0x3B1u +
            static_cast<unsigned char>(w.back()) * 0x65u) &
           (kFilterBits - 1);
  }
  static constexpr uint32_t kFilterBits = 1u << 16;
  // The child of `node` by `word`, or -1. The root's children (where every
  // match starts, at every token) are read from an array, not the map.
  int32_t Child(uint32_t node, int32_t word) const {
    if (word < 0) return -1;
    if (node == 0) {
      return static_cast<size_t>(word) < root_children_.size() ? root_children_[word] : -1;
    }
    return ChildInMap(node, word);
  }
  int32_t ChildInMap(uint32_t node, int32_t word) const;
  // Longest() past its first test.
  Match LongestFrom(std::span<const int32_t> ids, size_t start, size_t limit) const;
  // WordId() of a word that passed the filter: the open-addressing table of
  // words_, probed by the 64-bit hash kept in each slot, the bytes compared
  // inline.
  int32_t FindWord(std::string_view norm) const;
  // Adds `norm` (not among words_) to the table with id `id`.
  void AddWord(std::string_view norm, int32_t id);

  struct WordSlot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // the word's bytes: chars_[offset, offset + size)
    uint32_t size = 0;
    int32_t id = kUnknownWord;  // kUnknownWord: an empty slot
  };

  std::vector<uint64_t> filter_ = std::vector<uint64_t>(kFilterBits / 64, 0);
  absl::flat_hash_map<std::string, int32_t, StringViewHash, StringViewEq> words_;
  std::vector<WordSlot> word_slots_;  // size a power of two, or empty
  std::string chars_;                 // the words of word_slots_, end to end
  absl::flat_hash_map<uint64_t, uint32_t> edges_;
  std::vector<int32_t> root_children_;  // by word id: edges_ of node 0, or -1
  std::vector<int32_t> values_ = {kNoValue};  // per node; node 0 is the root
  size_t phrase_count_ = 0;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PHRASE_TRIE_H_
