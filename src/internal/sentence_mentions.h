// The mentions of one sentence of a chart, found without reading all of
// them: the coder's tests that compare a mention only with the others of its
// sentence ("inside an uncertain match", "a type of another mention", "words
// of other mentions in the window") ran over every mention of the chart for
// each mention, quadratic in the chart's length.
//
//   const internal::SentenceMentions by_sentence(mentions);
//   for (const Mention& o : by_sentence.Of(m.sentence)) ...
#ifndef CHARTCODER_SRC_INTERNAL_SENTENCE_MENTIONS_H_
#define CHARTCODER_SRC_INTERNAL_SENTENCE_MENTIONS_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "chartcoder/extractor.h"

namespace chartcoder::internal {

// A view of a chart's mentions (not owned; they must outlive it). When they
// are in sentence order, as the extractor gives them, Of(s) is the run of
// sentence s, in the order of the vector; otherwise (a caller's own list)
// it is all of them, in order: a caller still tests each mention's sentence,
// so what it finds, and in what order, is the same either way.
class SentenceMentions {
 public:
  explicit SentenceMentions(const std::vector<Mention>& all)
      : all_(all),
        sorted_(std::is_sorted(all.begin(), all.end(), [](const Mention& a, const Mention& b) {
          return a.sentence < b.sentence;
        })) {}

  std::span<const Mention> Of(uint32_t sentence) const {
    if (!sorted_) return all_;
    const Mention* first = std::partition_point(
        all_.data(), all_.data() + all_.size(),
        [&](const Mention& o) { return o.sentence < sentence; });
    const Mention* last = std::partition_point(
        first, all_.data() + all_.size(), [&](const Mention& o) { return o.sentence == sentence; });
    return {first, last};
  }

 private:
  std::span<const Mention> all_;
  bool sorted_;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_SENTENCE_MENTIONS_H_
