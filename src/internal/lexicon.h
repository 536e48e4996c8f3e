// The clinical lexicon read from the data pack, and the matcher that finds
// its entries in a run of words.
//
//   CC_ASSIGN_OR_RETURN(std::unique_ptr<Lexicon> lex, Lexicon::Create(codes));
//   std::vector<Lexicon::InputWord> words = ...;  // one clause, ids from WordId()
//   Lexicon::Scratch scratch;
//   std::vector<Lexicon::Match> matches;
//   lex->MatchClause(words, &scratch, &matches);
//
// Matching is over bags of normalized words within a window, so word order,
// inflections (stems), hyphenation and stop words do not matter; abbreviations
// and synonyms are rewritten first (longest variant wins); among overlapping
// matches the one covering more words wins. Work is proportional to the words
// of the clause times the (short) lists of entries anchored at each word: no
// per-term scanning.
#ifndef CHARTCODER_SRC_INTERNAL_LEXICON_H_
#define CHARTCODER_SRC_INTERNAL_LEXICON_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "chartcoder/codeset.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/pack_format.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

// Immutable; safe for concurrent use. Keeps a pointer to `codes`, which must
// outlive it.
class Lexicon {
 public:
  // DataLoss: the pack's lexicon sections are missing or corrupt.
  static absl::StatusOr<std::unique_ptr<Lexicon>> Create(const CodeSet& codes);

  // The id of a normalized word (see lexicon_words.h), or kNone.
  uint32_t WordId(std::string_view stem) const;
  // IsLexiconStopWord(stem), for `id` == WordId(stem): a table look-up for
  // the lexicon's words.
  bool IsStopWord(uint32_t id, std::string_view stem) const {
    return id != kNone ? (word_flags_[id] & kStopWord) != 0 : IsLexiconStopWord(stem);
  }
  std::string_view Word(uint32_t id) const;

  // A spelling's word ids from the pack (kLexForms): for `lower`, a word of
  // ASCII lower-case letters, the record whose `id` is
  // WordId(NormalizeLowerCaseLetters(lower)), `raw_id` WordId(lower) and
  // kLexFormStop flag IsLexiconStopWord of the normalized form; nullptr when
  // the pack does not list the spelling (then normalize it).
  const LexFormRecord* FindForm(std::string_view lower) const {
    if (form_slots_.empty()) return nullptr;
    const size_t mask = form_slots_.size() - 1;
    size_t slot = LexFormHash(lower) & mask;
    for (size_t probes = 0; probes <= mask; ++probes, slot = (slot + 1) & mask) {
      const uint32_t r = form_slots_[slot];
      if (r == kNone) return nullptr;
      const LexFormRecord& f = forms_[r];
      if (f.form.length == lower.size() &&
          std::memcmp(strings_ + f.form.offset, lower.data(), lower.size()) == 0) {
        return &f;
      }
    }
    return nullptr;
  }
  // The spellings of kLexForms, in order (for tests and tools).
  size_t form_count() const { return forms_.size(); }
  std::string_view form(size_t i) const {
    return std::string_view(strings_ + forms_[i].form.offset, forms_[i].form.length);
  }

  struct InputWord {
    uint32_t id;      // WordId() of the stem, or kNone for a word the lexicon does not know
    uint32_t raw_id;  // WordId() of the written form lower-cased, or kNone
    uint32_t begin;   // byte span in the chart
    uint32_t end;
    bool upper;       // written in capitals ("CHF")
    bool stop = false;  // a connector ("of", "with"): only variants use it
    bool after_comma = false;  // a comma stands between it and the clause's word before
  };

  struct Match {
    uint32_t entry;
    uint32_t begin;  // byte span from the first to the last matched word
    uint32_t end;
    // The matched words' byte spans, in text order (evidence).
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    uint8_t required = 0;          // words the entry requires (all present)
    uint8_t optional_matched = 0;  // of its non-essential words, how many are present
    uint8_t gaps = 0;              // words in between that are not the entry's
    bool expanded = false;         // used an abbreviation or synonym rewrite
    bool subsumed = false;         // inside a longer match (kept for "use additional code")
  };

  // Per-call working memory; reuse it across calls on one thread.
  struct Scratch {
    struct Word {
      uint32_t id;
      uint32_t begin;
      uint32_t end;
      bool expanded;  // (connectors, InputWord::stop, are left out)
      bool after_comma = false;  // InputWord::after_comma of a written word
    };
    std::vector<Word> words;
    std::vector<Match> candidates;
    std::vector<uint32_t> candidate_pos;        // word positions of each candidate, sorted
    std::vector<uint32_t> candidate_pos_begin;  // candidate c: [begin[c], begin[c+1])
    // The sorted word positions candidate c takes.
    absl::Span<const uint32_t> PositionsOf(uint32_t c) const {
      return absl::MakeConstSpan(candidate_pos.data() + candidate_pos_begin[c],
                                 candidate_pos_begin[c + 1] - candidate_pos_begin[c]);
    }
    std::vector<uint32_t> order;
    std::vector<uint32_t> accepted;
    std::vector<uint32_t> subsumed;
    std::vector<uint32_t> pos;  // word positions of the entry under test
    std::vector<std::pair<uint32_t, uint32_t>> bound;  // (position, candidate)
  };

  // Appends the matches in one clause (a sentence or list item) to `out`:
  // first the selected ones (longest first), then subsumed ones flagged.
  // With `negated_from` (a byte offset: where a chart's "without", "w/o" or
  // "no" stood between the clause's words), only kLexWithout entries are
  // tried, and a match must take words on both sides of it; without it, only
  // the other entries.
  void MatchClause(absl::Span<const InputWord> words, Scratch* scratch, std::vector<Match>* out,
                   uint32_t negated_from = kNone) const;

  // The words of a clause after abbreviation and synonym rewriting, as word
  // ids (the written words stay, the expansion's words follow; unknown words
  // and connectors are left out). For callers that compare a clause's words
  // with code titles.
  void ExpandedWordIds(absl::Span<const InputWord> words, Scratch* scratch,
                       std::vector<uint32_t>* ids) const;

  // The words of code `code_id`'s title (TitleStems), as sorted word ids.
  absl::Span<const uint32_t> TitleWords(uint32_t code_id) const {
    const CodeTitleRange& r = title_ranges_[code_id];
    return title_words_.subspan(r.first, r.count);
  }

  // Entry accessors.
  uint32_t code(uint32_t entry) const { return entries_[entry].code; }
  uint32_t code2(uint32_t entry) const { return entries_[entry].code2; }
  LexSource source(uint32_t entry) const {
    return static_cast<LexSource>(entries_[entry].source);
  }
  bool incomplete_code(uint32_t entry) const {
    return entries_[entry].flags & kLexIncompleteCode;
  }
  // The entry is an acronym that matches only when written in capitals.
  bool acronym(uint32_t entry) const { return entries_[entry].flags & kLexAcronym; }
  // The entry reads through a "without ..." subterm (see MatchClause).
  bool without(uint32_t entry) const { return entries_[entry].flags & kLexWithout; }
  std::string_view phrase(uint32_t entry) const;
  size_t entry_count() const { return entries_.size(); }
  size_t word_count() const { return words_.size(); }

 private:
  Lexicon() = default;
  // `for_titles`: also apply the kExpansionTitlesOnly expansions.
  void Expand(absl::Span<const InputWord> in, bool for_titles, Scratch* s) const;
  bool GroupsCompact(const LexEntryRecord& e, absl::Span<const Scratch::Word> w,
                     const std::vector<uint32_t>& pos) const;
  // Moves each written word at positions `pos` (entry `e`'s order) that lies
  // inside the text of a variant whose expansion the match also takes onto
  // the expansion's copy of the same word, if it has one; whether any moved.
  bool MoveIntoOwnVariant(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                          std::vector<uint32_t>* pos) const;
  // Moves the positions in `pos` of the words of entry `e` that the expansion
  // holding the expanded word at `p` also holds into that expansion; false if
  // none moved.
  bool MoveIntoExpansion(const LexEntryRecord& e, const std::vector<Scratch::Word>& w, int p,
                         std::vector<uint32_t>* pos) const;

  const CodeSet* codes_ = nullptr;
  absl::Span<const LexWordRecord> words_;
  absl::Span<const LexEntryRecord> entries_;
  absl::Span<const uint32_t> entry_words_;
  absl::Span<const uint8_t> entry_groups_;
  absl::Span<const CodeTitleRange> title_ranges_;
  absl::Span<const uint32_t> title_words_;
  absl::Span<const uint32_t> anchors_;
  absl::Span<const LexExpansionRecord> expansions_;
  absl::Span<const uint32_t> expansion_words_;
  absl::Span<const LexFormRecord> forms_;
  absl::Span<const uint32_t> form_slots_;  // size a power of two, or empty
  const char* strings_ = nullptr;          // the pack's kStrings blob
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash, StringViewEq> word_ids_;
  // Per word id: kStopWord (IsLexiconStopWord), kModifierWord (modifier_ids_),
  // kNumberWord (begins with a digit), kGenericNounWord ("disease",
  // "disorder", "syndrome": the kind of condition, not which).
  static constexpr uint8_t kStopWord = 1, kModifierWord = 2, kNumberWord = 4,
                           kGenericNounWord = 8;
  std::vector<uint8_t> word_flags_;
  // "left", "right", "bilateral" (kNone when absent from the pack), and
  // "side" ("left-sided"), which a side may stand before without effect.
  std::array<uint32_t, 3> side_ids_ = {kNone, kNone, kNone};
  uint32_t side_suffix_id_ = kNone;
  uint32_t type_id_ = kNone;  // "type", as in "type 2"
  uint32_t stage_id_ = kNone;  // "stage", as in "stage 3b"
  uint32_t w_id_ = kNone;     // "w", of "w/"
  // Whether the match at sorted positions `pos` takes a "type N" that
  // qualifies the word written directly after it, which the match does not
  // take ("MI, type 2 diabetes": the type is the diabetes').
  bool TypeBelongsElsewhere(const std::vector<Scratch::Word>& w,
                            const std::vector<uint32_t>& pos) const;
  // Whether the match at sorted positions `pos` takes a written "stage" and,
  // after it, a number that does not stand directly after it ("CKD stage 3b
  // due to type 2 diabetes" is no "stage 2").
  bool StageBelongsElsewhere(const std::vector<Scratch::Word>& w,
                             const std::vector<uint32_t>& pos) const;
  // Whether the match of entry `e` at sorted positions `pos` takes words on
  // both sides of a comma and, before it, part of the expansion of the list
  // item's last written word but not all of it (as required words, its
  // non-essential ones, connectors or modifiers): "COPD, hypertension" is no
  // pulmonary hypertension; "CKD, stage 3" is one condition.
  bool CrossesListItem(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                       const std::vector<uint32_t>& pos) const;
  // Words that refine a match rather than name another condition: side,
  // severity, acuity.
  std::vector<uint32_t> modifier_ids_;
  // `optional`: more words of the outer match that count (its non-essential
  // words, when the inner match lies inside it in the text).
  bool WordsWithin(absl::Span<const uint32_t> inner, absl::Span<const uint32_t> outer,
                   absl::Span<const uint32_t> optional = {}) const;
  // The non-essential words of entry record `e` (after its required ones).
  absl::Span<const uint32_t> OptionalWords(const LexEntryRecord& e) const {
    return entry_words_.subspan(e.first_word + e.required_count, e.optional_count);
  }
  // Whether the match of entry `e` at sorted positions `pos` takes words
  // from two abbreviation expansions and only part of one of them, or from
  // one expansion beside written words outside it without the expansion's
  // head (its last word: "heart failure with CKD" is no kidney failure).
  bool MixesExpansions(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                       const std::vector<uint32_t>& pos) const;
  // Whether candidate `c` is made of written words only, inside the text of
  // a variant whose expansion candidate `a` takes or taken by `a` too (at
  // least one inside), and names a condition of another category
  // ("infection" of "HIV infection" when B20's entry takes the expansion;
  // "injury of right heel" of "pressure injury of right heel"): the variant
  // means what its expansion says. (One of
  // the same category is another reading of the same condition, which the
  // coder weighs: "atherosclerosis" beside "atherosclerosis of native
  // arteries" read as I70.8.)
  bool WrittenInsideExpansion(const Scratch* s, uint32_t c, uint32_t a) const;
  // Whether candidate `c` reads through an expansion only words that
  // candidate `a` takes as written, and names a condition of another
  // category: "renal disease" read as "kidney disease" (N28.9) inside "end
  // stage renal disease" (N18.6) is the same words read again. (Of the same
  // category it is another reading the coder weighs.)
  bool ReadAgainInside(const Scratch* s, uint32_t c, uint32_t a) const;

  // Senses of an ambiguous abbreviation chosen by the words around it
  // (curated/abbreviation_senses), keyed by the abbreviation's word id.
  struct Sense {
    std::vector<uint32_t> expansion;  // empty: the abbreviation names nothing here
    std::vector<uint32_t> cues;       // sorted; empty: the default sense
  };
  absl::flat_hash_map<uint32_t, std::vector<Sense>> senses_;
  // The sense of the abbreviation at `i` (written in capitals) in clause
  // `in`, or nullptr when no sense is chosen (the ordinary expansions apply).
  const Sense* ChooseSense(absl::Span<const InputWord> in, size_t i) const;
  bool IsSide(uint32_t id) const {
    return id != kNone && (id == side_ids_[0] || id == side_ids_[1] || id == side_ids_[2]);
  }
  // A side word at position `q` of the expanded clause that stands directly
  // before another word than the match's (sorted positions `pos`) modifies
  // that word: "left great toe", not the amputation before the "and".
  bool SideBelongsElsewhere(const std::vector<Scratch::Word>& w, int q,
                            const std::vector<uint32_t>& pos) const;
  // Fills scratch->order with the candidates of a clause (MatchClause) but
  // those that take a word which another candidate takes together with the
  // word written right after it, when the two share no other word: a
  // modifier qualifies what follows it ("chronic kidney disease and atrial
  // fibrillation", "atrial fibrillation on chronic anticoagulation": not
  // chronic atrial fibrillation). The entry without that word is matched on
  // its own.
  void OrderWithoutOthersModifiers(Scratch* s) const;
  // Per anchor (in the order of anchors_, so a word's entries are read in
  // sequence), a 128-bit signature of the entry's required words: a clause
  // whose words' signature lacks one of its bits cannot match the entry.
  // Word i's run starts at signature_first_[i] and holds its anchor_count
  // signatures, then an all-zero sentinel.
  std::vector<std::array<uint64_t, 2>> anchor_signatures_;
  std::vector<uint32_t> signature_first_;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_LEXICON_H_
