#include "src/internal/chart_words.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace chartcoder::internal {

ChartWords::ChartWords(const Lexicon& lexicon) : lexicon_(lexicon) {
  for (std::string_view stem : {"type", "stage", "grade", "class", "phase", "degre"}) {
    const uint32_t id = lexicon_.WordId(stem);
    if (id != kNone) {
      numeral_takers_.push_back(id);
      numeral_taker_bits_ |= uint64_t{1} << (id & 63);
    }
  }
  for (std::string_view w : LetterTakerWords()) {
    const uint32_t id = lexicon_.WordId(NormalizeLexiconWord(w));
    if (id != kNone) letter_takers_.push_back(id);
  }
  const uint32_t a = lexicon_.WordId(kLetterAStem);
  letter_a_ = {a, a, 0, 1, false, false};
}

void ChartWords::StartChart(size_t forms) {
  if (seen_.size() + numeral_seen_.size() > kMaxForms) {
    seen_.Clear();
    numeral_seen_.Clear();
    words_.clear();
    blocks_.clear();
    block_free_ = nullptr;
    block_left_ = 0;
  }
  seen_.Reserve(seen_.size() + forms);
  const size_t words = words_.size() + forms + forms / 4;
  if (words > words_.capacity()) words_.reserve(std::max(words, 2 * words_.capacity()));
}

std::string_view ChartWords::Keep(std::string_view form) {
  constexpr size_t kBlock = 16 << 10;
  if (block_free_ == nullptr || form.size() > block_left_) {  // (never a null key)
    const size_t size = std::max(kBlock, form.size());
    blocks_.push_back(std::make_unique<char[]>(size));
    block_free_ = blocks_.back().get();
    block_left_ = size;
  }
  char* copy = block_free_;
  if (!form.empty()) std::memcpy(copy, form.data(), form.size());
  block_free_ += form.size();
  block_left_ -= form.size();
  return std::string_view(copy, form.size());
}

uint32_t ChartWords::ComputeNumeral(std::string_view form) {
  // "CKD stage IV." at a sentence's end: the tokenizer keeps the period of
  // "iv." (intravenous) with the word.
  if (form.size() > 1 && form.back() == '.') form.remove_suffix(1);
  const std::string lower = AsciiLower(form);
  const std::string digits = NumeralDigits(lower);
  if (digits.empty()) return 0;
  bool upper = form.size() >= 2;
  for (char c : form) upper = upper && !(c >= 'a' && c <= 'z');
  words_.push_back({lexicon_.WordId(digits), lexicon_.WordId(lower), 0,
                    static_cast<uint32_t>(form.size()), upper, false});
  return 1;
}

uint32_t ChartWords::Compute(std::string_view form) {
  // Shorthand that names no condition and whose letters would read as words
  // ("r/o" is "rule out", not "right"): no words.
  if (form.size() == 3 && form[1] == '/') {
    const char a = static_cast<char>(form[0] | 0x20), b = static_cast<char>(form[2] | 0x20);
    if ((a == 'r' && b == 'o') || (a == 'h' && b == 'o') || (a == 'c' && b == 'o') ||
        (a == 'f' && b == 'u') || (a == 'y' && b == 'o') || (a == 'w' && b == 'o') ||
        (a == 'd' && b == 'c')) {
      return 0;
    }
  }
  // Most forms are one word of ASCII letters: LexiconWords would give one
  // piece, the whole form, normalized from its lower case; written in
  // capitals when it has two letters or more and no small one.
  // (c | 0x20) is a small letter exactly when c is a letter of either case;
  // no early exit, so the loop has no branch per byte.
  bool letters = !form.empty();
  for (char c : form) {
    letters &= static_cast<unsigned char>((static_cast<unsigned char>(c) | 0x20) - 'a') < 26;
  }
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
      if (const FormTable::Slot* slot = seen_.Find(lower, FormTable::Hash(lower));
          slot != nullptr) {
        Lexicon::InputWord w = words_[slot->first];
        w.upper = upper;
        words_.push_back(w);
        return 1;
      }
    }
    // A spelling the pack lists: its ids without stemming.
    if (const LexFormRecord* f = lexicon_.FindForm(lower); f != nullptr) {
      words_.push_back({f->id, f->raw_id, 0, static_cast<uint32_t>(form.size()), upper,
                        (f->flags & kLexFormStop) != 0});
      return 1;
    }
    const std::string stem = NormalizeLowerCaseLetters(std::string(lower));
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
