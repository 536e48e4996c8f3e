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
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "chartcoder/coder.h"
#include "chartcoder/extractor.h"
#include "src/internal/context_access.h"
#include "src/internal/lexicon.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/same_bytes.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

// An open-addressing table from a form (a view of memory that outlives it)
// to its words in ChartWords' array: the full 64-bit hash kept beside each
// key and compared first, the bytes of a short form compared inline (no
// call to memcmp), linear probing. Forms are never removed, only all at once.
class FormTable {
 public:
  struct Slot {
    uint64_t hash;
    const char* data;  // nullptr: empty
    uint32_t size;
    uint32_t first;  // the form's words: [first, first + count) of ChartWords::words_
    uint32_t count;
  };

  static uint64_t Hash(std::string_view form) { return StringViewHash{}(form); }

  // The slot of `form` (whose Hash is `hash`), or nullptr.
  const Slot* Find(std::string_view form, uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.data == nullptr) return nullptr;
      if (s.hash == hash && s.size == form.size() && SameBytes(s.data, form.data(), form.size())) {
        return &s;
      }
    }
  }
  // Adds `form`, which is not in the table, and returns its slot (valid until
  // the next Insert).
  const Slot* Insert(std::string_view form, uint64_t hash, uint32_t first, uint32_t count) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow(size_ + 1);
    ++size_;
    return Place({hash, form.data(), static_cast<uint32_t>(form.size()), first, count});
  }
  size_t size() const { return size_; }
  // Room for `n` forms without growing.
  void Reserve(size_t n) {
    if (n * 4 > slots_.size() * 3) Grow(n);
  }
  void Clear() {
    for (Slot& s : slots_) s.data = nullptr;
    size_ = 0;
  }

 private:
  const Slot* Place(const Slot& slot) {
    const size_t mask = slots_.size() - 1;
    size_t i = slot.hash & mask;
    while (slots_[i].data != nullptr) i = (i + 1) & mask;
    slots_[i] = slot;
    return &slots_[i];
  }
  void Grow(size_t n) {
    size_t capacity = slots_.empty() ? 64 : slots_.size();
    while (n * 4 > capacity * 3) capacity *= 2;
    std::vector<Slot> old(capacity, Slot{0, nullptr, 0, 0, 0});
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.data != nullptr) Place(s);
    }
  }

  std::vector<Slot> slots_;  // size a power of two, or empty
  size_t size_ = 0;
};

// Memo of written forms: each distinct form (a token's written text, or its
// normalized form) is split and normalized once (LexiconWords), its stems and
// written forms looked up once. A form's words depend on the form and the
// lexicon only, so one ChartWords may serve chart after chart on one thread
// (Pipeline keeps one per thread): it copies the forms it is given, and
// forgets them all at StartChart once it holds more than kMaxForms.
// Not thread-safe.
class ChartWords {
 public:
  explicit ChartWords(const Lexicon& lexicon);
  ChartWords(const ChartWords&) = delete;
  ChartWords& operator=(const ChartWords&) = delete;

  const Lexicon& lexicon() const { return lexicon_; }

  // Forms remembered at most (at most about 3 MiB with their copies, words
  // and table); beyond it StartChart starts afresh.
  static constexpr size_t kMaxForms = size_t{1} << 15;

  // Room for about `forms` distinct forms (a chart's tokens / 2 is plenty), so
  // the table is not rebuilt as it grows.
  void Reserve(size_t forms) {
    seen_.Reserve(forms);
    words_.reserve(forms + forms / 4);
  }

  // Before each chart: `forms` as for Reserve. Forgets every form when the
  // memo has grown past kMaxForms.
  void StartChart(size_t forms);

  // The lexicon words of `form`, byte offsets relative to it. The span is
  // valid until the next call.
  absl::Span<const Lexicon::InputWord> Of(std::string_view form) {
    const uint64_t hash = FormTable::Hash(form);
    const FormTable::Slot* slot = seen_.Find(form, hash);
    if (slot == nullptr) {
      const uint32_t first = static_cast<uint32_t>(words_.size());
      const uint32_t count = Compute(form);
      slot = seen_.Insert(Keep(form), hash, first, count);
    }
    return absl::MakeConstSpan(words_.data() + slot->first, slot->count);
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
    const uint64_t hash = FormTable::Hash(form);
    const FormTable::Slot* slot = numeral_seen_.Find(form, hash);
    if (slot == nullptr) {
      const uint32_t first = static_cast<uint32_t>(words_.size());
      const uint32_t count = ComputeNumeral(form);
      slot = numeral_seen_.Insert(Keep(form), hash, first, count);
    }
    if (slot->count == 0) return Of(form);
    return absl::MakeConstSpan(words_.data() + slot->first, slot->count);
  }

 private:
  uint32_t Compute(std::string_view form);
  // A copy of `form` that lives as long as the memo's forms.
  std::string_view Keep(std::string_view form);
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
  FormTable seen_;
  // The same for forms read after a numeral-taking word (count 0: no numeral).
  FormTable numeral_seen_;
  std::vector<uint32_t> numeral_takers_;  // lexicon ids of "type", "stage", ...
  uint64_t numeral_taker_bits_ = 0;       // bit id % 64 of each of numeral_takers_
  std::vector<uint32_t> letter_takers_;   // lexicon ids of "vitamin", "influenza", ...
  Lexicon::InputWord letter_a_{};         // the letter A after one of them
  std::vector<Lexicon::InputWord> words_;
  std::vector<LexWord> pieces_;
  // The copies of the forms, in blocks that never move.
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* block_free_ = nullptr;
  size_t block_left_ = 0;
};

// The extractor's working memory, reused chart after chart by one thread
// (Pipeline keeps one per thread beside its ChartWords): what Extract clears
// and fills for every clause and chart, kept with its capacity.
struct ExtractScratch {
  std::vector<Lexicon::InputWord> words;           // the clause's words
  std::vector<Lexicon::InputWord> before_without;  // the clause before a "without"
  std::vector<Lexicon::InputWord> across;          // both, read together
  std::vector<Lexicon::Match> matches;
  Lexicon::Scratch lexicon;
  ContextScratch context;
};

// The coder's working memory, reused chart after chart by one thread
// (Pipeline keeps one per thread beside its ChartWords; the public
// Coder::Assign makes one per call): the lexicon words placed at each token,
// AffirmedWords' scratch, the affirmed words of each run of tokens a
// sentence or window asked for, the mentions adjusted. Cleared or
// overwritten per chart with its capacity kept.
struct CoderScratch {
  static constexpr uint32_t kUnset = 0xFFFFFFFFu;
  std::vector<uint32_t> first;  // per token: its first word in `words`, or kUnset
  std::vector<uint32_t> count;  // per token: how many
  std::vector<Lexicon::InputWord> words;
  std::vector<Lexicon::InputWord> run;
  Lexicon::Scratch lexicon;
  // The affirmed words of a run of tokens [first, end), by first << 32 |
  // end: each list in a vector of its own that does not move (a reference
  // to it stays valid while others are added), kept with its capacity for
  // later charts.
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>*> by_range;
  std::vector<std::unique_ptr<std::vector<uint32_t>>> range_words;
  size_t ranges_used = 0;
  // The chart's mentions, with the assertions of codes written in the text
  // adjusted (copied over the last chart's: their vectors and strings keep
  // their capacity).
  std::vector<Mention> adjusted;

  // At most this many lists, and mentions, are kept from one chart for the
  // next.
  static constexpr size_t kMaxKeptRanges = 4096;
  static constexpr size_t kMaxKeptMentions = 8192;

  // Starts a chart of `tokens` tokens.
  void StartChart(size_t tokens) {
    first.assign(tokens, kUnset);
    count.assign(tokens, 0);
    words.clear();
    by_range.clear();
    if (range_words.size() > kMaxKeptRanges) range_words.resize(kMaxKeptRanges);
    if (adjusted.size() > kMaxKeptMentions) adjusted = std::vector<Mention>();
    ranges_used = 0;
  }
  // The list of run `key`, and whether it is new (then empty, to be filled).
  std::vector<uint32_t>& Range(uint64_t key, bool* fresh) {
    auto [it, added] = by_range.try_emplace(key, nullptr);
    *fresh = added;
    if (!added) return *it->second;
    if (ranges_used == range_words.size()) {
      range_words.push_back(std::make_unique<std::vector<uint32_t>>());
    }
    it->second = range_words[ranges_used++].get();
    it->second->clear();
    return *it->second;
  }
};

// Pipeline's way into the extractor and the coder (friends of both): build
// them over one shared Lexicon, and run them with one ChartWords per chart
// (or per thread) and, for the extractor, its scratch. The public
// Create/Extract/Assign build and use their own.
struct ExtractorAccess {
  static absl::StatusOr<std::unique_ptr<Extractor>> Create(const ExtractorOptions& options,
                                                           std::shared_ptr<const Lexicon> lexicon);
  static std::vector<Mention> Extract(const Extractor& extractor, const Document& doc,
                                      ChartWords* words, ExtractScratch* scratch);
};

struct CoderAccess {
  static absl::StatusOr<std::unique_ptr<Coder>> Create(const CoderOptions& options,
                                                       std::shared_ptr<const Lexicon> lexicon);
  static std::vector<AssignedCode> Assign(const Coder& coder, const Document& doc,
                                          const std::vector<Mention>& mentions,
                                          ChartWords* words, CoderScratch* scratch);
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CHART_WORDS_H_
