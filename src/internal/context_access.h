// Assessing many spans of one document with ContextAnalyzer: the trigger
// trie's word id of each token, and the longest trigger starting at each token,
// are looked up once per document, not once per span. Internal to the library
// (the extractor uses it per chart).
//
//   internal::ContextScratch scratch;  // one per document, on the stack
//   for (Mention& m : mentions) {
//     m.assertion = internal::ContextAccess::Assess(context, doc, m.begin, m.end, &scratch);
//   }
#ifndef CHARTCODER_SRC_INTERNAL_CONTEXT_ACCESS_H_
#define CHARTCODER_SRC_INTERNAL_CONTEXT_ACCESS_H_

#include <cstdint>
#include <vector>

#include "chartcoder/context.h"

namespace chartcoder::internal {

// Per-document memory of ContextAccess::Assess. Use it with one document
// only, or Reset it before the next one (its memory is kept).
struct ContextScratch {
  void Reset() { ready.clear(); }  // PrepareSentence fills the rest again

  std::vector<int32_t> ids;  // per token of the document: trie word id, or unset
  // Per token: the longest trigger starting there and ending by `end` (the
  // end token of its sentence); `end` 0 while not yet looked up.
  struct Longest {
    uint32_t end = 0;
    uint32_t length = 0;  // tokens; 0 for none
    int32_t rule = -1;
  };
  std::vector<Longest> longest;
  // Per token: the first token at or after it, within its sentence, where a
  // trigger starts (the sentence's end token if none at all).
  std::vector<uint32_t> next;
  // Per token: 1 at the first token of a sentence whose `ids`, `longest` and
  // `next` are all filled in.
  std::vector<uint8_t> ready;
};

struct ContextAccess {
  // The same as context.Assess(doc, begin, end).
  static Assertion Assess(const ContextAnalyzer& context, const Document& doc, uint32_t begin,
                          uint32_t end, ContextScratch* scratch);
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CONTEXT_ACCESS_H_
