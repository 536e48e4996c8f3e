#include "src/internal/phrase_trie.h"

#include <algorithm>

#include "src/internal/same_bytes.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

void PhraseTrie::Insert(const std::vector<std::string>& norms, int32_t value) {
  if (norms.empty()) return;
  uint32_t node = 0;
  for (const std::string& w : norms) {
    auto [wit, wnew] = words_.try_emplace(w, static_cast<int32_t>(words_.size()));
    if (wnew) AddWord(w, wit->second);
    const uint32_t sig = Signature(w);
    filter_[sig / 64] |= uint64_t{1} << (sig % 64);
    const uint64_t key = Key(node, static_cast<uint32_t>(wit->second));
    auto [eit, enew] = edges_.try_emplace(key, static_cast<uint32_t>(values_.size()));
    if (enew) values_.push_back(kNoValue);
    if (node == 0) {
      const size_t id = static_cast<size_t>(wit->second);
      if (root_children_.size() <= id) root_children_.resize(id + 1, -1);
      root_children_[id] = static_cast<int32_t>(eit->second);
    }
    node = eit->second;
  }
  if (values_[node] == kNoValue && value != kNoValue) ++phrase_count_;
  if (values_[node] != kNoValue && value == kNoValue) --phrase_count_;
  values_[node] = value;
}

void PhraseTrie::Erase(const std::vector<std::string>& norms) {
  uint32_t node = 0;
  for (const std::string& w : norms) {
    const int32_t child = Child(node, WordId(w));
    if (child < 0) return;
    node = static_cast<uint32_t>(child);
  }
  if (!norms.empty() && values_[node] != kNoValue) {
    values_[node] = kNoValue;
    --phrase_count_;
  }
}

void PhraseTrie::AddWord(std::string_view norm, int32_t id) {
  // At most half full: a miss ends at an empty slot soon.
  if ((words_.size() + 1) * 2 > word_slots_.size()) {
    std::vector<WordSlot> old(std::max<size_t>(64, word_slots_.size() * 2));
    old.swap(word_slots_);
    const size_t mask = word_slots_.size() - 1;
    for (const WordSlot& w : old) {
      if (w.id == kUnknownWord) continue;
      size_t i = w.hash & mask;
      while (word_slots_[i].id != kUnknownWord) i = (i + 1) & mask;
      word_slots_[i] = w;
    }
  }
  const uint64_t hash = StringViewHash{}(norm);
  const size_t mask = word_slots_.size() - 1;
  size_t i = hash & mask;
  while (word_slots_[i].id != kUnknownWord) i = (i + 1) & mask;
  word_slots_[i] = {hash, static_cast<uint32_t>(chars_.size()), static_cast<uint32_t>(norm.size()),
                    id};
  chars_.append(norm);
}

int32_t PhraseTrie::FindWord(std::string_view norm) const {
  if (word_slots_.empty()) return kUnknownWord;
  const uint64_t hash = StringViewHash{}(norm);
  const size_t mask = word_slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const WordSlot& w = word_slots_[i];
    if (w.id == kUnknownWord) return kUnknownWord;
    if (w.hash == hash && w.size == norm.size() &&
        SameBytes(chars_.data() + w.offset, norm.data(), norm.size())) {
      return w.id;
    }
  }
}

void PhraseTrie::WordIds(std::span<const Token> tokens, std::vector<int32_t>* ids) const {
  ids->resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) (*ids)[i] = WordId(tokens[i].norm);
}

int32_t PhraseTrie::ChildInMap(uint32_t node, int32_t word) const {
  auto it = edges_.find(Key(node, static_cast<uint32_t>(word)));
  return it == edges_.end() ? -1 : static_cast<int32_t>(it->second);
}

PhraseTrie::Match PhraseTrie::LongestFrom(std::span<const int32_t> ids, size_t start,
                                          size_t limit) const {
  Match best;
  uint32_t node = 0;
  for (size_t i = start; i < limit && i < ids.size(); ++i) {
    const int32_t child = Child(node, ids[i]);
    if (child < 0) break;
    node = static_cast<uint32_t>(child);
    if (values_[node] != kNoValue) best = {i - start + 1, values_[node]};
  }
  return best;
}

}  // namespace chartcoder::internal
