#include "src/internal/chart_words.h"

#include <string>

namespace chartcoder::internal {

uint32_t ChartWords::Compute(std::string_view form) {
  // Most forms are one word of ASCII letters: LexiconWords would give one
  // piece, the whole form, normalized from its lower case; written in
  // capitals when it has two letters or more and no small one.
  bool letters = !form.empty();
  for (char c : form) letters = letters && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  if (letters) {
    // Lower case on the stack (a longer form on the heap).
    char buf[48];
    std::string long_form;
    char* lower_data = buf;
    if (form.size() > sizeof(buf)) {
      long_form.resize(form.size());
      lower_data = long_form.data();
    }
    bool upper = form.size() >= 2;
    bool capitals = false;
    for (size_t i = 0; i < form.size(); ++i) {
      const char c = form[i];
      if (c >= 'A' && c <= 'Z') {
        lower_data[i] = static_cast<char>(c - 'A' + 'a');
        capitals = true;
      } else {
        lower_data[i] = c;
        upper = false;
      }
    }
    const std::string_view lower(lower_data, form.size());
    if (capitals) {
      // The same word written in small letters earlier in the chart: its
      // stem and look-ups hold ("Hypertension" after "hypertension").
      if (auto it = seen_.find(lower); it != seen_.end()) {
        Lexicon::InputWord w = words_[it->second.first];
        w.upper = upper;
        words_.push_back(w);
        return 1;
      }
    }
    const std::string stem = NormalizeLowerCaseWord(std::string(lower));
    const uint32_t id = lexicon_.WordId(stem);
    const uint32_t raw_id = lower == stem ? id : lexicon_.WordId(lower);
    words_.push_back({id, raw_id, 0, static_cast<uint32_t>(form.size()), upper,
                      lexicon_.IsStopWord(id, stem)});
    return 1;
  }
  pieces_.clear();
  LexiconWords(form, &pieces_);
  for (const LexWord& p : pieces_) {
    const uint32_t id = lexicon_.WordId(p.stem);
    // Short and unchanged words are their own stem: one look-up.
    const uint32_t raw_id = p.raw == p.stem ? id : lexicon_.WordId(p.raw);
    words_.push_back({id, raw_id, p.begin, p.end, p.upper, lexicon_.IsStopWord(id, p.stem)});
  }
  return static_cast<uint32_t>(pieces_.size());
}

}  // namespace chartcoder::internal
