#include "src/internal/phrase_trie.h"

#include "src/internal/strings.h"

namespace chartcoder::internal {

void PhraseTrie::Insert(const std::vector<std::string>& norms, int32_t value) {
  if (norms.empty()) return;
  uint32_t node = 0;
  for (const std::string& w : norms) {
    auto [wit, wnew] = words_.try_emplace(w, static_cast<int32_t>(words_.size()));
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

int32_t PhraseTrie::WordId(std::string_view norm) const {
  const uint32_t sig = Signature(norm);
  if ((filter_[sig / 64] & (uint64_t{1} << (sig % 64))) == 0) return kUnknownWord;
  auto it = words_.find(norm);
  return it == words_.end() ? kUnknownWord : it->second;
}

void PhraseTrie::WordIds(std::span<const Token> tokens, std::vector<int32_t>* ids) const {
  ids->resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) (*ids)[i] = WordId(tokens[i].norm);
}

int32_t PhraseTrie::ChildInMap(uint32_t node, int32_t word) const {
  auto it = edges_.find(Key(node, static_cast<uint32_t>(word)));
  return it == edges_.end() ? -1 : static_cast<int32_t>(it->second);
}

PhraseTrie::Match PhraseTrie::Longest(std::span<const int32_t> ids, size_t start,
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
