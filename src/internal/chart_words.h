// The lexicon words of one chart's written forms, computed once per chart and
// shared by the extractor and the coder, plus the internal entry points that
// let Pipeline give both one Lexicon and one ChartWords per chart.
//
//   internal::ChartWords words(lexicon);        // one per chart, on the stack
//   for (const Lexicon::InputWord& w : words.Of("haemorrhagic")) ...
//   // offsets are relative to the form; a second Of() of it is a look-up
#ifndef CHARTCODER_SRC_INTERNAL_CHART_WORDS_H_
#define CHARTCODER_SRC_INTERNAL_CHART_WORDS_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "chartcoder/coder.h"
#include "chartcoder/extractor.h"
#include "src/internal/lexicon.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

// Per-chart memo: each distinct form (a token's written text, or its
// normalized form) is split and normalized once (LexiconWords), its stems and
// written forms looked up once. One per chart and thread; keeps views of the
// forms given, which must outlive it (they are the chart's text).
class ChartWords {
 public:
  explicit ChartWords(const Lexicon& lexicon);
  ChartWords(const ChartWords&) = delete;
  ChartWords& operator=(const ChartWords&) = delete;

  const Lexicon& lexicon() const { return lexicon_; }

  // Room for about `forms` distinct forms (a chart's tokens / 2 is plenty), so
  // the table is not rebuilt as it grows.
  void Reserve(size_t forms) {
    seen_.reserve(forms);
    words_.reserve(forms + forms / 4);
  }

  // The lexicon words of `form`, byte offsets relative to it. The span is
  // valid until the next call.
  absl::Span<const Lexicon::InputWord> Of(std::string_view form) {
    auto [it, fresh] = seen_.try_emplace(form, static_cast<uint32_t>(words_.size()), 0u);
    if (fresh) it->second.second = Compute(form);
    return absl::MakeConstSpan(words_.data() + it->second.first, it->second.second);
  }

  // The words of `form` written right after a word whose lexicon id is
  // `previous` (kNone: none): after "type", "stage", "grade", "class",
  // "phase" or "degree" a roman numeral or number word is its digits ("type
  // II" is "type 2"), as LexiconWords reads a phrase.
  absl::Span<const Lexicon::InputWord> Of(std::string_view form, uint32_t previous) {
    // "vitamin A", "influenza A": the letter, not the article (LexiconWords).
    if (form.size() == 1 && (form[0] | 0x20) == 'a' && previous != kNone &&
        letter_a_.id != kNone && TakesLetter(previous)) {
      return absl::MakeConstSpan(&letter_a_, 1);
    }
    if (previous == kNone || !TakesNumeral(previous)) return Of(form);
    auto [it, fresh] =
        numeral_seen_.try_emplace(form, static_cast<uint32_t>(words_.size()), 0u);
    if (fresh) it->second.second = ComputeNumeral(form);
    if (it->second.second == 0) return Of(form);
    return absl::MakeConstSpan(words_.data() + it->second.first, it->second.second);
  }

 private:
  uint32_t Compute(std::string_view form);
  // Appends the digits form of a numeral `form`; 0 words when it is none.
  uint32_t ComputeNumeral(std::string_view form);
  bool TakesLetter(uint32_t id) const {
    return std::find(letter_takers_.begin(), letter_takers_.end(), id) != letter_takers_.end();
  }
  bool TakesNumeral(uint32_t id) const {
    // Most words are none of the six: one bit test rules them out.
    if (((numeral_taker_bits_ >> (id & 63)) & 1) == 0) return false;
    for (uint32_t t : numeral_takers_) {
      if (t == id) return true;
    }
    return false;
  }

  const Lexicon& lexicon_;
  // Form -> its words in words_ (first, count).
  using FormTable = absl::flat_hash_map<std::string_view, std::pair<uint32_t, uint32_t>,
                                        StringViewHash, StringViewEq>;
  FormTable seen_;
  // The same for forms read after a numeral-taking word (count 0: no numeral).
  FormTable numeral_seen_;
  std::vector<uint32_t> numeral_takers_;  // lexicon ids of "type", "stage", ...
  uint64_t numeral_taker_bits_ = 0;       // bit id % 64 of each of numeral_takers_
  std::vector<uint32_t> letter_takers_;   // lexicon ids of "vitamin", "influenza", ...
  Lexicon::InputWord letter_a_{};         // the letter A after one of them
  std::vector<Lexicon::InputWord> words_;
  std::vector<LexWord> pieces_;
};

// Pipeline's way into the extractor and the coder (friends of both): build
// them over one shared Lexicon, and run them with one ChartWords per chart.
// The public Create/Extract/Assign build and use their own.
struct ExtractorAccess {
  static absl::StatusOr<std::unique_ptr<Extractor>> Create(const ExtractorOptions& options,
                                                           std::shared_ptr<const Lexicon> lexicon);
  static std::vector<Mention> Extract(const Extractor& extractor, const Document& doc,
                                      ChartWords* words);
};

struct CoderAccess {
  static absl::StatusOr<std::unique_ptr<Coder>> Create(const CoderOptions& options,
                                                       std::shared_ptr<const Lexicon> lexicon);
  static std::vector<AssignedCode> Assign(const Coder& coder, const Document& doc,
                                          const std::vector<Mention>& mentions,
                                          ChartWords* words);
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CHART_WORDS_H_
