#include "src/internal/chart_words.h"

namespace chartcoder::internal {

uint32_t ChartWords::Compute(std::string_view form) {
  pieces_.clear();
  LexiconWords(form, &pieces_);
  for (const LexWord& p : pieces_) {
    const uint32_t id = lexicon_.WordId(p.stem);
    // Short and unchanged words are their own stem: one look-up.
    const uint32_t raw_id = p.raw == p.stem ? id : lexicon_.WordId(p.raw);
    words_.push_back({id, raw_id, p.begin, p.end, p.upper, IsLexiconStopWord(p.stem)});
  }
  return static_cast<uint32_t>(pieces_.size());
}

}  // namespace chartcoder::internal
