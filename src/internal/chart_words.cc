#include "src/internal/chart_words.h"

namespace chartcoder::internal {

uint32_t ChartWords::Compute(std::string_view form) {
  pieces_.clear();
  LexiconWords(form, &pieces_);
  for (const LexWord& p : pieces_) {
    words_.push_back({lexicon_.WordId(p.stem), lexicon_.WordId(p.raw), p.begin, p.end, p.upper,
                      IsLexiconStopWord(p.stem)});
  }
  return static_cast<uint32_t>(pieces_.size());
}

}  // namespace chartcoder::internal
