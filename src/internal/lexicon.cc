#include "src/internal/lexicon.h"

#include <algorithm>

#include "absl/status/status.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/pack_reader.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

bool InRange(uint64_t first, uint64_t count, size_t size) {
  return first <= size && count <= size - first;
}

// How far apart an entry's words may be: the window around the anchor and the
// words of other meaning allowed between the first and last matched word.
int Window(int required) { return required + 3; }

// The bit of word `id` in a 128-bit signature (a multiplicative hash, so
// neighbouring ids spread).
inline void AddSignatureBit(uint32_t id, std::array<uint64_t, 2>* sig) {
  const uint32_t bit = (id * 0x9E3779B1u) >> 25;  // 0..127
  (*sig)[bit >> 6] |= uint64_t{1} << (bit & 63);
}
// The first anchor at or after `s` whose signature has no bit of `absent`
// (the clause may hold all its entry's words). A word's signatures end in an
// all-zero sentinel, which every clause passes: no bound to test. Most
// anchors fail: a loop of its own keeps everything it reads in registers.
inline const std::array<uint64_t, 2>* NextPossibleAnchor(const std::array<uint64_t, 2>* s,
                                                        const std::array<uint64_t, 2>& absent) {
  // A pointer, not an index: 7 instructions an anchor instead of 11; four
  // anchors a turn (each read only when those before it fail, so never past
  // the sentinel).
  const uint64_t absent0 = absent[0], absent1 = absent[1];
  while (true) {
    if (((s[0][0] & absent0) | (s[0][1] & absent1)) == 0) return s;
    if (((s[1][0] & absent0) | (s[1][1] & absent1)) == 0) return s + 1;
    if (((s[2][0] & absent0) | (s[2][1] & absent1)) == 0) return s + 2;
    if (((s[3][0] & absent0) | (s[3][1] & absent1)) == 0) return s + 3;
    s += 4;
  }
}
int AllowedGaps(int required) {
  if (required <= 1) return 0;
  if (required == 2) return 2;
  return required;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lexicon>> Lexicon::Create(const CodeSet& codes) {
  std::unique_ptr<Lexicon> lex(new Lexicon());
  const PackReader& p = codes.pack();
  lex->codes_ = &codes;
  CC_ASSIGN_OR_RETURN(lex->words_, p.Array<LexWordRecord>(SectionId::kLexWords));
  CC_ASSIGN_OR_RETURN(lex->entries_, p.Array<LexEntryRecord>(SectionId::kLexEntries));
  CC_ASSIGN_OR_RETURN(lex->entry_words_, p.Array<uint32_t>(SectionId::kLexEntryWords));
  CC_ASSIGN_OR_RETURN(lex->entry_groups_, p.Array<uint8_t>(SectionId::kLexEntryGroups));
  CC_ASSIGN_OR_RETURN(lex->title_ranges_, p.Array<CodeTitleRange>(SectionId::kCodeTitleRanges));
  CC_ASSIGN_OR_RETURN(lex->title_words_, p.Array<uint32_t>(SectionId::kCodeTitleWords));
  if (lex->title_ranges_.size() != codes.code_count()) {
    return absl::DataLossError(StrCat(p.name(), ": corrupted pack (code title ranges)"));
  }
  for (const CodeTitleRange& r : lex->title_ranges_) {
    if (!InRange(r.first, r.count, lex->title_words_.size())) {
      return absl::DataLossError(StrCat(p.name(), ": corrupted pack (code title words)"));
    }
  }
  if (lex->entry_groups_.size() != lex->entry_words_.size()) {
    return absl::DataLossError(StrCat(p.name(), ": corrupted pack (lexicon groups)"));
  }
  CC_ASSIGN_OR_RETURN(lex->anchors_, p.Array<uint32_t>(SectionId::kLexAnchors));
  CC_ASSIGN_OR_RETURN(lex->expansions_, p.Array<LexExpansionRecord>(SectionId::kLexExpansions));
  CC_ASSIGN_OR_RETURN(lex->expansion_words_,
                      p.Array<uint32_t>(SectionId::kLexExpansionWords));
  auto bad = [&](std::string_view what, size_t i) {
    return absl::DataLossError(
        StrCat(p.name(), ": corrupted pack (lexicon ", what, " record ", i, ")"));
  };
  const size_t nw = lex->words_.size();
  const size_t ncodes = codes.code_count();
  lex->word_ids_.reserve(nw);
  for (size_t i = 0; i < nw; ++i) {
    const LexWordRecord& w = lex->words_[i];
    if (!p.ValidRef(w.word) || !InRange(w.first_anchor, w.anchor_count, lex->anchors_.size()) ||
        !InRange(w.first_expansion, w.expansion_count, lex->expansions_.size())) {
      return bad("word", i);
    }
    lex->word_ids_.emplace(p.Str(w.word), static_cast<uint32_t>(i));
  }
  lex->word_flags_.assign(nw, 0);
  for (std::string_view stop : LexiconStopWords()) {
    if (const uint32_t id = lex->WordId(stop); id != kNone) lex->word_flags_[id] = kStopWord;
  }
  // Words that are a number or begin with one ("2", "3b"): a stage's value.
  for (size_t i = 0; i < nw; ++i) {
    const std::string_view w = p.Str(lex->words_[i].word);
    if (!w.empty() && w[0] >= '0' && w[0] <= '9') lex->word_flags_[i] |= kNumberWord;
  }
  lex->side_ids_ = {lex->WordId("left"), lex->WordId("right"), lex->WordId("bilater")};
  if (absl::StatusOr<ReferenceTable> t = codes.Table("curated/abbreviation_senses"); t.ok()) {
    auto ids = [&](std::string_view text, bool raw, std::vector<uint32_t>* out) {
      std::vector<LexWord> words;
      LexiconWords(text, &words);
      for (const LexWord& w : words) {
        const uint32_t id = lex->WordId(raw ? w.raw : w.stem);
        if (id == kNone) return false;
        out->push_back(id);
      }
      return true;
    };
    for (size_t r = 0; r < t->row_count(); ++r) {
      std::vector<uint32_t> abbr;
      Sense sense;
      const std::string_view expansion = t->cell(r, 1);
      const std::string_view cues = t->cell(r, 2);
      if (t->column_count() != 3 || !ids(t->cell(r, 0), true, &abbr) || abbr.size() != 1 ||
          (Trim(expansion) != "~" && !ids(expansion, false, &sense.expansion)) ||
          (Trim(cues) != "*" && !ids(cues, false, &sense.cues))) {
        return absl::DataLossError(
            StrCat(p.name(), ": corrupted pack (abbreviation sense ", r + 1, ")"));
      }
      std::sort(sense.cues.begin(), sense.cues.end());
      lex->senses_[abbr[0]].push_back(std::move(sense));
    }
  }
  lex->side_suffix_id_ = lex->WordId("side");
  lex->type_id_ = lex->WordId("type");
  lex->stage_id_ = lex->WordId("stage");
  lex->w_id_ = lex->WordId("w");
  for (std::string_view m : {"left", "right", "bilater", "mild", "moder", "sever", "acut",
                             "chronic"}) {
    if (uint32_t id = lex->WordId(m); id != kNone) {
      lex->modifier_ids_.push_back(id);
      lex->word_flags_[id] |= kModifierWord;
    }
  }
  for (std::string_view m : {"disease", "disorder", "syndrome"}) {
    if (uint32_t id = lex->WordId(NormalizeLexiconWord(m)); id != kNone) {
      lex->word_flags_[id] |= kGenericNounWord;
    }
  }
  CC_ASSIGN_OR_RETURN(lex->forms_, p.Array<LexFormRecord>(SectionId::kLexForms));
  CC_ASSIGN_OR_RETURN(lex->form_slots_, p.Array<uint32_t>(SectionId::kLexFormSlots));
  const size_t nslots = lex->form_slots_.size();
  if ((nslots & (nslots - 1)) != 0 || (nslots == 0 && !lex->forms_.empty())) {
    return absl::DataLossError(StrCat(p.name(), ": corrupted pack (lexicon spelling slots)"));
  }
  for (size_t i = 0; i < lex->forms_.size(); ++i) {
    const LexFormRecord& f = lex->forms_[i];
    if (!p.ValidRef(f.form) || (f.id != kNone && f.id >= nw) ||
        (f.raw_id != kNone && f.raw_id >= nw)) {
      return bad("spelling", i);
    }
  }
  for (uint32_t r : lex->form_slots_) {
    if (r != kNone && r >= lex->forms_.size()) return bad("spelling slot", r);
  }
  lex->strings_ = p.Str(StrRef{0, 0}).data();
  for (uint32_t e : lex->anchors_) {
    if (e >= lex->entries_.size()) return bad("anchor", e);
  }
  for (uint32_t w : lex->entry_words_) {
    if (w >= nw) return bad("entry word", w);
  }
  for (uint32_t w : lex->title_words_) {
    if (w >= nw) return bad("title word", w);
  }
  for (uint32_t w : lex->expansion_words_) {
    if (w >= nw) return bad("expansion word", w);
  }
  std::vector<std::array<uint64_t, 2>> entry_signatures(lex->entries_.size());
  for (size_t i = 0; i < lex->entries_.size(); ++i) {
    const LexEntryRecord& e = lex->entries_[i];
    if (e.required_count == 0 ||
        !InRange(e.first_word, uint64_t{e.required_count} + e.optional_count,
                 lex->entry_words_.size()) ||
        e.code >= ncodes || (e.code2 != kNone && e.code2 >= ncodes) ||
        e.source > static_cast<uint8_t>(LexSource::kIndexSee) || !p.ValidRef(e.phrase)) {
      return bad("entry", i);
    }
    std::array<uint64_t, 2> sig = {0, 0};
    for (uint32_t j = 0; j < e.required_count; ++j) {
      AddSignatureBit(lex->entry_words_[e.first_word + j], &sig);
    }
    entry_signatures[i] = sig;
  }
  // Each word's anchors' signatures in a run of their own, then a sentinel.
  lex->anchor_signatures_.reserve(lex->anchors_.size() + nw);
  lex->signature_first_.resize(nw);
  for (size_t i = 0; i < nw; ++i) {
    const LexWordRecord& w = lex->words_[i];
    lex->signature_first_[i] = static_cast<uint32_t>(lex->anchor_signatures_.size());
    for (uint32_t a = w.first_anchor; a < w.first_anchor + w.anchor_count; ++a) {
      lex->anchor_signatures_.push_back(entry_signatures[lex->anchors_[a]]);
    }
    lex->anchor_signatures_.push_back({0, 0});
  }
  for (size_t i = 0; i < lex->expansions_.size(); ++i) {
    const LexExpansionRecord& x = lex->expansions_[i];
    if (x.variant_count == 0 ||
        !InRange(x.first_variant_word, x.variant_count, lex->expansion_words_.size()) ||
        !InRange(x.first_expansion_word, x.expansion_count, lex->expansion_words_.size()) ||
        !p.ValidRef(x.variant) || !p.ValidRef(x.expansion)) {
      return bad("expansion", i);
    }
  }
  return lex;
}

uint32_t Lexicon::WordId(std::string_view stem) const {
  auto it = word_ids_.find(stem);
  return it == word_ids_.end() ? kNone : it->second;
}

std::string_view Lexicon::Word(uint32_t id) const {
  return id < words_.size() ? codes_->pack().Str(words_[id].word) : std::string_view();
}

std::string_view Lexicon::phrase(uint32_t entry) const {
  return codes_->pack().Str(entries_[entry].phrase);
}

// Length of the variant of expansion `e` at in[i], or 0 if it does not match.
static uint32_t VariantMatch(const LexExpansionRecord& e, absl::Span<const uint32_t> xwords,
                             absl::Span<const Lexicon::InputWord> in, size_t i) {
  if (i + e.variant_count > in.size()) return 0;
  const bool upper = e.flags & kExpansionRawUpper;
  const bool raw = upper || (e.flags & kExpansionRaw);
  for (uint32_t k = 0; k < e.variant_count; ++k) {
    const Lexicon::InputWord& w = in[i + k];
    const uint32_t want = xwords[e.first_variant_word + k];
    if (raw ? (w.raw_id != want || (upper && !w.upper)) : w.id != want) return 0;
  }
  return e.variant_count;
}

void Lexicon::Expand(absl::Span<const InputWord> in, bool for_titles, Scratch* s) const {
  s->words.clear();
  size_t i = 0;
  while (i < in.size()) {
    // (Only an abbreviation in capitals can have senses: tested here, not
    // in a call per word.)
    const Sense* sense = in[i].upper && in[i].raw_id != kNone ? ChooseSense(in, i) : nullptr;
    if (sense != nullptr) {
      // An ambiguous abbreviation read from its neighbours ("RA" beside
      // "SpO2" is room air and names nothing; beside "methotrexate" it is
      // rheumatoid arthritis).
      s->words.push_back({sense->expansion.empty() ? kNone : in[i].id, in[i].begin, in[i].end,
                          false, in[i].after_comma});
      for (uint32_t id : sense->expansion) s->words.push_back({id, in[i].begin, in[i].end, true});
      ++i;
      continue;
    }
    // The longest variant starting here, among those keyed by the stem and by
    // the written form.
    // (A written form that is its own stem is one key, read once: a second
    // pass over the same expansions would find the same.)
    const LexExpansionRecord* best = nullptr;
    const int keys = in[i].raw_id == in[i].id ? 1 : 2;
    for (int k = 0; k < keys; ++k) {
      const uint32_t key = k == 0 ? in[i].id : in[i].raw_id;
      if (key == kNone) continue;
      const LexWordRecord& w = words_[key];
      for (uint32_t x = 0; x < w.expansion_count; ++x) {
        const LexExpansionRecord& e = expansions_[w.first_expansion + x];
        if (!for_titles && (e.flags & kExpansionTitlesOnly)) continue;
        if ((best == nullptr || e.variant_count > best->variant_count) &&
            VariantMatch(e, expansion_words_, in, i) > 0) {
          best = &e;
        }
      }
    }
    if (best != nullptr && !(best->flags & kExpansionBlock) && i + best->expansion_count <= in.size()) {
      // The text already reads as the expansion ("rheumatoid" stands for
      // "rheumatoid arthritis", and the chart wrote both words): its own words
      // are the match, and a copy would pair with the next word alone.
      bool written_out = true;
      for (uint32_t k = 0; k < best->expansion_count && written_out; ++k) {
        written_out = in[i + k].id == expansion_words_[best->first_expansion_word + k];
      }
      if (written_out) best = nullptr;
    }
    if (best == nullptr) {
      // Connectors have done their part (variants such as "on dialysis"): no
      // entry holds one, so they are left out, and do not count as distance
      // or gaps.
      if (!in[i].stop) {
        s->words.push_back({in[i].id, in[i].begin, in[i].end, false, in[i].after_comma});
      }
      ++i;
      continue;
    }
    const uint32_t begin = in[i].begin;
    const uint32_t end = in[i + best->variant_count - 1].end;
    if (best->flags & kExpansionBlock) {
      // A phrase that names nothing: its words take part in no match.
      for (uint32_t k = 0; k < best->variant_count; ++k) {
        s->words.push_back({kNone, in[i + k].begin, in[i + k].end, false, in[i + k].after_comma});
      }
      i += best->variant_count;
      continue;
    }
    // The variant's own words stay (entries may name the abbreviation itself,
    // as in "COPD NOS"); the expansion's words follow them.
    for (uint32_t k = 0; k < best->variant_count; ++k) {
      const InputWord& v = in[i + k];
      if (!v.stop) s->words.push_back({v.id, v.begin, v.end, false, v.after_comma});
    }
    for (uint32_t k = 0; k < best->expansion_count; ++k) {
      s->words.push_back({expansion_words_[best->first_expansion_word + k], begin, end, true});
    }
    i += best->variant_count;
  }
}

void Lexicon::ExpandedWordIds(absl::Span<const InputWord> words, Scratch* scratch,
                              std::vector<uint32_t>* ids) const {
  Expand(words, /*for_titles=*/true, scratch);
  for (const Scratch::Word& w : scratch->words) {
    if (w.id != kNone) ids->push_back(w.id);
  }
}

const Lexicon::Sense* Lexicon::ChooseSense(absl::Span<const InputWord> in, size_t i) const {
  if (!in[i].upper || in[i].raw_id == kNone || senses_.empty()) return nullptr;
  auto it = senses_.find(in[i].raw_id);
  if (it == senses_.end()) return nullptr;
  // The first sense (in the table's order) with a cue among the clause's
  // other words, else the default sense if there is one.
  const Sense* fallback = nullptr;
  for (const Sense& s : it->second) {
    if (s.cues.empty()) {
      if (fallback == nullptr) fallback = &s;
      continue;
    }
    for (size_t j = 0; j < in.size(); ++j) {
      if (j == i) continue;
      if (std::binary_search(s.cues.begin(), s.cues.end(), in[j].id) ||
          std::binary_search(s.cues.begin(), s.cues.end(), in[j].raw_id)) {
        return &s;
      }
    }
  }
  return fallback;
}

bool Lexicon::WrittenInsideExpansion(const Scratch* s, uint32_t c, uint32_t a) const {
  // A match that takes no expansion word (Match::expanded, the or of its
  // words' flags) has none to hold `c`: most pairs stop here.
  if (!s->candidates[a].expanded) return false;
  const Match& mc = s->candidates[c];
  const auto positions = [&](uint32_t x) { return s->PositionsOf(x); };
  // The written words of c inside the text of a variant whose expansion a
  // takes: at least one; the others are words a takes too ("injury" of
  // "pressure injury" read as "pressure ulcer", with the "right heel" both
  // take, is no injury of the heel).
  // (Shared words only beside a variant of several words, a phrase read
  // another way: "pulmonary congestion" beside "pulmonary" read as "lung"
  // is two readings of the same words.)
  const absl::Span<const uint32_t> pa = positions(a);
  bool inside = false, shared = false;
  uint32_t variant_begin = 0, variant_end = 0;
  for (uint32_t q : positions(c)) {
    const Scratch::Word& y = s->words[q];
    if (y.expanded) return false;
    bool in_variant = false;
    for (uint32_t e : pa) {
      const Scratch::Word& x = s->words[e];
      if (x.expanded && x.begin <= y.begin && y.end <= x.end) {
        in_variant = true;
        variant_begin = x.begin;
        variant_end = x.end;
      }
    }
    inside |= in_variant;
    if (!in_variant) {
      if (std::find(pa.begin(), pa.end(), q) == pa.end()) return false;
      shared = true;
    }
  }
  if (!inside) return false;
  if (shared) {
    int written = 0;
    for (const Scratch::Word& x : s->words) {
      written += !x.expanded && variant_begin <= x.begin && x.end <= variant_end;
    }
    if (written < 2) return false;
  }
  // (Tested last: the categories cost two code look-ups.)
  const uint32_t cc = entries_[mc.entry].code, ac = entries_[s->candidates[a].entry].code;
  return cc == kNone || ac == kNone || codes_ == nullptr ||
         codes_->CodeAt(cc).key().substr(0, 3) != codes_->CodeAt(ac).key().substr(0, 3);
}

bool Lexicon::ReadAgainInside(const Scratch* s, uint32_t c, uint32_t a) const {
  // Only a match that reads some word through an expansion ("renal" as
  // "kidney"): the others are compared by their words (WordsWithin).
  if (!s->candidates[c].expanded) return false;
  const auto positions = [&](uint32_t x) { return s->PositionsOf(x); };
  const absl::Span<const uint32_t> pa = positions(a);
  for (uint32_t q : positions(c)) {
    const Scratch::Word& x = s->words[q];
    bool found = false;
    for (uint32_t p : pa) {
      const Scratch::Word& y = s->words[p];
      found = found || (!y.expanded && y.begin <= x.begin && x.end <= y.end);
    }
    if (!found) return false;
  }
  // (Tested last: the categories cost two code look-ups.)
  const uint32_t cc = entries_[s->candidates[c].entry].code;
  const uint32_t ac = entries_[s->candidates[a].entry].code;
  return cc == kNone || ac == kNone || codes_ == nullptr ||
         codes_->CodeAt(cc).key().substr(0, 3) != codes_->CodeAt(ac).key().substr(0, 3);
}

bool Lexicon::MixesExpansions(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                              const std::vector<uint32_t>& pos) const {
  // The expansions (by their written span) this match takes words from.
  std::pair<uint32_t, uint32_t> first{0, 0};
  bool any = false, two = false;
  for (uint32_t q : pos) {
    if (!w[q].expanded) continue;
    const std::pair<uint32_t, uint32_t> span{w[q].begin, w[q].end};
    if (!any) {
      first = span;
      any = true;
    } else if (span != first) {
      two = true;
    }
  }
  if (!any) return false;
  if (!two) {
    // One, of an abbreviation (one written word): its words beside written
    // words outside it must take its head, the expansion's last word, or the
    // entry's non-essential word for it ("heart failure with CKD" is no
    // "kidney failure": "failure" and the "kidney" of "chronic kidney
    // disease"; "s/p colectomy" is "status (post)"). An expansion word the
    // variant also writes is the written word's. (A variant of several
    // words names its condition with them: "renal transplant failed" read
    // as "kidney transplant status" is a failed kidney transplant.)
    // (The words of the variant's text, written and expanded, are one run of
    // `w` around the expansion's: read only that run, and only for a match
    // that takes a written word outside it.)
    const auto in_span = [&](size_t k) {
      return w[k].begin >= first.first && w[k].end <= first.second;
    };
    bool outside = false;
    uint32_t q0 = 0;
    for (uint32_t q : pos) {
      if (w[q].expanded) q0 = q;
      outside |= !w[q].expanded && !in_span(q);
    }
    if (!outside) return false;
    size_t lo = q0, hi = q0;
    while (lo > 0 && in_span(lo - 1)) --lo;
    while (hi + 1 < w.size() && in_span(hi + 1)) ++hi;
    bool own = false;
    uint32_t head = kNone;
    int written = 0, length = 0, covered = 0;
    for (size_t k = lo; k <= hi; ++k) {
      written += !w[k].expanded && w[k].id != kNone;
      if (w[k].expanded && w[k].begin == first.first && w[k].end == first.second) {
        head = w[k].id;
        ++length;
        // Covered: taken, or written and taken as the written word.
        bool in = std::binary_search(pos.begin(), pos.end(), static_cast<uint32_t>(k));
        for (size_t r = lo; r <= hi && !in; ++r) {
          in = !w[r].expanded && w[r].id == w[k].id &&
               std::binary_search(pos.begin(), pos.end(), static_cast<uint32_t>(r));
        }
        covered += in;
      }
      if (!w[k].expanded || !std::binary_search(pos.begin(), pos.end(), static_cast<uint32_t>(k))) {
        continue;
      }
      bool written_too = false;
      for (size_t r = lo; r <= hi; ++r) written_too |= !w[r].expanded && w[r].id == w[k].id;
      own |= !written_too;
    }
    if (!own || written > 1 || head == kNone ||
        (word_flags_[head] & (kStopWord | kModifierWord)) != 0) {
      return false;
    }
    // A generic head alone ("disease", "disorder", "syndrome") of an
    // expansion of several words names no condition: "metabolic acidosis of
    // CKD" is no "metabolic disease" from the "disease" of "chronic kidney
    // disease". (A written word of the expansion counts as taken: "malignant
    // ... bladder" takes all of "malignant neoplasm"; a specific head is the
    // condition: "history of AML" is a history of leukemia.)
    if (covered == 1 && length >= 2 && (word_flags_[head] & kGenericNounWord) != 0) {
      for (uint32_t q : pos) {
        if (w[q].expanded && w[q].id == head) return true;
      }
    }
    const absl::Span<const uint32_t> optional = OptionalWords(e);
    if (std::find(optional.begin(), optional.end(), head) != optional.end()) return false;
    for (uint32_t q : pos) {
      if (w[q].id == head) return false;
    }
    return true;
  }
  // Two or more: "CKD 3a, CHF" must not give "kidney failure" or "congestive
  // heart disease". Taking every word of each expansion ("DM2, CKD": type 2
  // diabetes mellitus with chronic kidney disease) is fine; a piece of one
  // beside words of another mixes two conditions.
  // (Compared by word: "cancer with liver metastases" may take "malignant
  // neoplasm" from either expansion.)
  auto in_match = [&](uint32_t id) {
    for (uint32_t q : pos) {
      if (w[q].id == id) return true;
    }
    return false;
  };
  // (Connectors of an expansion, "displacement of intervertebral disc", are
  // no words of any entry: a match never takes them. Nor are its side,
  // severity and acuity words, which the coder reads from the sentence:
  // "LLL adenocarcinoma" is "left lower lobe lung" with "malignant
  // neoplasm", the lung's lower lobe and the left side.)
  for (uint32_t q : pos) {
    if (!w[q].expanded) continue;
    for (size_t k = 0; k < w.size(); ++k) {
      if (!w[k].expanded || w[k].begin != w[q].begin || w[k].end != w[q].end) continue;
      if (!in_match(w[k].id) && !(word_flags_[w[k].id] & (kStopWord | kModifierWord))) {
        return true;
      }
    }
  }
  return false;
}

bool Lexicon::WordsWithin(absl::Span<const uint32_t> inner, absl::Span<const uint32_t> outer,
                          absl::Span<const uint32_t> optional) const {
  // Both sorted. Every word of `inner` is in `outer` or is a modifier
  // ("currently manic, severe" within "bipolar disorder, currently manic":
  // the severity refines the longer match's code), and at least one word is
  // shared.
  bool shared = false;
  for (uint32_t w : inner) {
    if (std::binary_search(outer.begin(), outer.end(), w)) {
      shared = true;
    } else if (std::find(optional.begin(), optional.end(), w) != optional.end()) {
      continue;
    } else if (std::find(modifier_ids_.begin(), modifier_ids_.end(), w) == modifier_ids_.end()) {
      return false;
    }
  }
  return shared;
}

bool Lexicon::SideBelongsElsewhere(const std::vector<Scratch::Word>& w, int q,
                                   const std::vector<uint32_t>& pos) const {
  const int n = static_cast<int>(w.size());
  int r = q + 1;
  // Skip the other words of the same written word (an abbreviation's
  // expansion), unknown words and "-sided".
  while (r < n && (w[r].begin == w[q].begin || w[r].id == kNone || w[r].id == side_suffix_id_)) {
    ++r;
  }
  if (r >= n) return false;
  if (std::binary_search(pos.begin(), pos.end(), static_cast<uint32_t>(r))) return false;
  // Directly before the next word (one space or hyphen), not after a comma
  // or a line ("knee pain, left, stable").
  return w[r].begin <= w[q].end + 1;
}

bool Lexicon::TypeBelongsElsewhere(const std::vector<Scratch::Word>& w,
                                   const std::vector<uint32_t>& pos) const {
  if (type_id_ == kNone) return false;
  const int n = static_cast<int>(w.size());
  for (size_t j = 0; j + 1 < pos.size(); ++j) {
    const int q = static_cast<int>(pos[j]);
    // (A written "type": an expansion's is followed by its own words.)
    if (w[q].id != type_id_ || w[q].expanded || pos[j + 1] != pos[j] + 1) continue;
    // "type" and its numeral: the word directly after them (one space or
    // hyphen, not after a comma or "w/"), when the match does not take it, is
    // what they qualify ("..., type 2 diabetes mellitus").
    const int numeral = q + 1;
    int r = numeral + 1;
    while (r < n && (w[r].begin == w[numeral].begin || w[r].id == kNone)) ++r;
    if (r >= n || w[r].id == w_id_ || w[r].begin > w[numeral].end + 1) continue;
    // Taken by the match: itself, its expansion ("Type 1 DM") or its word
    // written again, as such or through an expansion ("type 2 diabetes with
    // diabetic nephropathy", "diabetic gastroparesis, type 1 DM").
    bool taken = false;
    for (uint32_t p : pos) {
      for (int x = r; x < n && w[x].begin == w[r].begin; ++x) {
        taken |= w[p].begin == w[x].begin || w[p].id == w[x].id;
      }
    }
    if (!taken) return true;
  }
  return false;
}

bool Lexicon::StageBelongsElsewhere(const std::vector<Scratch::Word>& w,
                                    const std::vector<uint32_t>& pos) const {
  if (stage_id_ == kNone) return false;
  for (size_t j = 0; j + 1 < pos.size(); ++j) {
    const Scratch::Word& stage = w[pos[j]];
    if (stage.id != stage_id_ || stage.expanded) continue;
    // The number the match takes after it must stand directly after it
    // (one space, or ": ", " - "): a word the lexicon does not know ("3b")
    // or a connector between them is the chart's stage, not the entry's.
    // (Its expansion, "stage IV" read as "4", shares the written word's
    // span; "end stage chronic renal failure" takes no number.)
    size_t k = j + 1;
    while (k < pos.size() && w[pos[k]].begin == stage.begin) ++k;
    if (k < pos.size() && w[pos[k]].id != kNone &&
        (word_flags_[w[pos[k]].id] & kNumberWord) != 0 && w[pos[k]].begin > stage.end + 3) {
      return true;
    }
  }
  return false;
}

bool Lexicon::CrossesListItem(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                              const std::vector<uint32_t>& pos) const {
  const absl::Span<const uint32_t> optional = OptionalWords(e);
  // Taken: at a position of the match, or its word taken elsewhere ("Bipolar
  // I disorder": the written "disorder" and its expansion's), or one of the
  // entry's non-essential words, or a connector, side or severity word.
  const auto taken = [&](uint32_t q) {
    if (std::binary_search(pos.begin(), pos.end(), q)) return true;
    const uint32_t id = w[q].id;
    if (id == kNone) return false;
    if ((word_flags_[id] & (kStopWord | kModifierWord)) != 0) return true;
    if (std::find(optional.begin(), optional.end(), id) != optional.end()) return true;
    for (uint32_t p : pos) {
      if (w[p].id == id) return true;
    }
    return false;
  };
  for (uint32_t k = pos.front() + 1; k <= pos.back(); ++k) {
    if (!w[k].after_comma) continue;
    // The last word before the comma, when it is an expansion's (its words
    // follow the written ones, with the variant's span), and the match takes
    // some of them: all of them. A match that takes part of "chronic
    // obstructive pulmonary disease" for "COPD, hypertension" reads two list
    // items as one condition. (A written last word left out is common in
    // "dementia in Parkinson's disease, mild, with psychotic disturbance".)
    const uint32_t head = k - 1;
    if (!w[head].expanded) continue;
    uint32_t first = head;
    while (first > 0 && w[first - 1].expanded && w[first - 1].begin == w[head].begin &&
           w[first - 1].end == w[head].end) {
      --first;
    }
    // (An expansion word the variant also writes, "opioid" of "opioid use
    // disorder" read as "opioid dependence", is the written word's.)
    const auto written_too = [&](uint32_t q) {
      for (uint32_t r = 0; r < first; ++r) {
        if (!w[r].expanded && w[r].id == w[q].id && w[head].begin <= w[r].begin &&
            w[r].end <= w[head].end) {
          return true;
        }
      }
      return false;
    };
    bool any = false, all = true;
    for (uint32_t q = first; q <= head; ++q) {
      any = any || (std::binary_search(pos.begin(), pos.end(), q) && !written_too(q));
      all = all && taken(q);
    }
    if (any && !all) return true;
  }
  return false;
}

bool Lexicon::MoveIntoExpansion(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                                int p, std::vector<uint32_t>* pos) const {
  const auto same_span = [&](int q) {
    return w[q].expanded && w[q].begin == w[p].begin && w[q].end == w[p].end;
  };
  int b0 = p, b1 = p + 1;
  while (b0 > 0 && same_span(b0 - 1)) --b0;
  while (b1 < static_cast<int>(w.size()) && same_span(b1)) ++b1;
  bool moved = false;
  for (int j = 0; j < e.required_count; ++j) {
    const int q = static_cast<int>((*pos)[j]);
    if (q >= b0 && q < b1) continue;
    const uint32_t need = entry_words_[e.first_word + j];
    for (int x = b0; x < b1; ++x) {
      if (w[x].id == need) {
        (*pos)[j] = static_cast<uint32_t>(x);
        moved = true;
        break;
      }
    }
  }
  return moved;
}

bool Lexicon::MoveIntoOwnVariant(const LexEntryRecord& e, const std::vector<Scratch::Word>& w,
                                 std::vector<uint32_t>* pos) const {
  bool moved = false;
  for (int j = 0; j < e.required_count; ++j) {
    const uint32_t q = (*pos)[j];
    if (w[q].expanded) continue;
    // An expansion word the match takes whose variant's text holds `q`.
    for (int i = 0; i < e.required_count; ++i) {
      const uint32_t r = (*pos)[i];
      if (!w[r].expanded || w[q].begin < w[r].begin || w[q].end > w[r].end) continue;
      // Its block: the expansion words with the same span, around `r`.
      uint32_t b0 = r, b1 = r + 1;
      const auto same = [&](uint32_t x) {
        return w[x].expanded && w[x].begin == w[r].begin && w[x].end == w[r].end;
      };
      while (b0 > 0 && same(b0 - 1)) --b0;
      while (b1 < w.size() && same(b1)) ++b1;
      for (uint32_t x = b0; x < b1; ++x) {
        if (w[x].id == w[q].id) {
          (*pos)[j] = x;
          moved = true;
          break;
        }
      }
      break;
    }
  }
  return moved;
}

bool Lexicon::GroupsCompact(const LexEntryRecord& e, absl::Span<const Scratch::Word> w,
                            const std::vector<uint32_t>& pos) const {
  // Words of one group (a run of content words in the source phrase) must
  // stand together: at most one other word between them, two for groups of
  // three or more words. In a curated phrase, the expansion of a written
  // word of the group is no other word: "MRSA carrier" is two words, though
  // MRSA's expansion stands between them. (Not in the code set's phrases:
  // K09.8's "Dermoid cyst", a cyst of the mouth, is no cyst that "dermoid"
  // read as a benign neoplasm of the orbit.)
  const int k = e.required_count;
  for (int a = 0; a < k; ++a) {
    const uint8_t g = entry_groups_[e.first_word + a];
    int lo = static_cast<int>(pos[a]), hi = lo, size = 0;
    bool first = true;
    for (int b = 0; b < k; ++b) {
      if (entry_groups_[e.first_word + b] != g) continue;
      if (b < a) {
        first = false;
        break;  // checked with the group's first word
      }
      lo = std::min(lo, static_cast<int>(pos[b]));
      hi = std::max(hi, static_cast<int>(pos[b]));
      ++size;
    }
    if (!first || size < 2) continue;
    const int allowed = size >= 3 ? 2 : 1;
    int others = (hi - lo + 1) - size;
    if (others <= allowed) continue;
    if (e.source != static_cast<uint8_t>(LexSource::kCurated)) return false;
    for (int q = lo + 1; q < hi && others > allowed; ++q) {
      if (!w[q].expanded) continue;
      for (int b = 0; b < k; ++b) {
        const Scratch::Word& x = w[pos[b]];
        if (entry_groups_[e.first_word + b] == g && !x.expanded && x.begin == w[q].begin &&
            x.end == w[q].end) {
          --others;
          break;
        }
      }
    }
    if (others > allowed) return false;
  }
  return true;
}

void Lexicon::OrderWithoutOthersModifiers(Scratch* s) const {
  const auto& w = s->words;
  const uint32_t n = static_cast<uint32_t>(w.size());
  const uint32_t nc = static_cast<uint32_t>(s->candidates.size());
  const auto positions = [&](uint32_t x) { return s->PositionsOf(x); };
  // Whether candidate `c` takes the word written right after position `p`:
  // the next word of p's expansion, or else a word of the next token.
  const auto takes_next = [&](uint32_t c, uint32_t p) {
    absl::Span<const uint32_t> pos = positions(c);
    if (w[p].expanded && p + 1 < n && w[p + 1].expanded && w[p + 1].begin == w[p].begin &&
        w[p + 1].end == w[p].end) {
      return std::binary_search(pos.begin(), pos.end(), p + 1);
    }
    uint32_t r = p + 1;
    while (r < n && w[r].begin <= w[p].begin) ++r;
    if (r == n) return false;
    for (uint32_t q : pos) {
      if (w[q].begin == w[r].begin) return true;
    }
    return false;
  };
  const auto is_modifier = [&](uint32_t p) {
    return w[p].id != kNone && (word_flags_[w[p].id] & kModifierWord) != 0;
  };
  // Most clauses hold no modifier: every candidate stands.
  s->order.clear();
  bool any = false;
  for (uint32_t p = 0; p < n && !any; ++p) any = is_modifier(p);
  if (!any) {
    for (uint32_t c = 0; c < nc; ++c) s->order.push_back(c);
    return;
  }
  // (position, candidate): the candidate takes the modifier at the position
  // with the word after it, or takes the expansion of a variant that writes
  // it before its last word ("chronic anticoagulation" -> Z79.01).
  s->bound.clear();
  for (uint32_t c = 0; c < nc; ++c) {
    for (uint32_t p : positions(c)) {
      if (is_modifier(p) && takes_next(c, p)) s->bound.emplace_back(p, c);
      if (!w[p].expanded) continue;
      for (uint32_t q = p; q-- > 0 && w[q].begin >= w[p].begin;) {
        if (!w[q].expanded && w[q].end < w[p].end && is_modifier(q)) s->bound.emplace_back(q, c);
      }
    }
  }
  std::sort(s->bound.begin(), s->bound.end());
  for (uint32_t c = 0; c < nc; ++c) {
    absl::Span<const uint32_t> pc = positions(c);
    bool borrows = false;
    for (uint32_t p : pc) {
      auto it = std::lower_bound(s->bound.begin(), s->bound.end(), std::make_pair(p, 0u));
      if (it == s->bound.end() || it->first != p || takes_next(c, p)) continue;
      for (; it != s->bound.end() && it->first == p && !borrows; ++it) {
        // The word is the other candidate's; a shared head ("chronic
        // systolic and diastolic heart failure") makes it both's.
        absl::Span<const uint32_t> pa = positions(it->second);
        uint32_t shared = 0;
        for (uint32_t q : pc) shared += q != p && std::binary_search(pa.begin(), pa.end(), q);
        borrows = it->second != c && shared == 0;
      }
      if (borrows) break;
    }
    if (!borrows) s->order.push_back(c);
  }
}

void Lexicon::MatchClause(absl::Span<const InputWord> words, Scratch* s, std::vector<Match>* out,
                          uint32_t negated_from) const {
  const bool across_without = negated_from != kNone;
  Expand(words, /*for_titles=*/false, s);
  const auto& w = s->words;
  const int n = static_cast<int>(w.size());
  // The position of the occurrence of `id` nearest to `p` within `window`
  // words (the earlier one on a tie), or -1. Clauses are short: a scan of
  // the window beats any index.
  // (`p` is a position of the clause: an anchor's, or between two matched
  // words; so p - d < n and p + d >= 0 need no test.)
  auto nearest = [&](uint32_t id, int p, int window) -> int {
    if (w[p].id == id) return p;
    const int before = std::min(window, p), after = std::min(window, n - 1 - p);
    const int both = std::min(before, after);
    int d = 1;
    for (; d <= both; ++d) {
      if (w[p - d].id == id) return p - d;
      if (w[p + d].id == id) return p + d;
    }
    for (; d <= before; ++d) {
      if (w[p - d].id == id) return p - d;
    }
    for (; d <= after; ++d) {
      if (w[p + d].id == id) return p + d;
    }
    return -1;
  };
  s->candidates.clear();
  s->candidate_pos.clear();
  s->candidate_pos_begin.clear();
  std::array<uint64_t, 2> clause = {0, 0};
  for (int p = 0; p < n; ++p) {
    if (w[p].id != kNone) AddSignatureBit(w[p].id, &clause);
  }
  const std::array<uint64_t, 2> absent = {~clause[0], ~clause[1]};
  std::vector<uint32_t>& pos = s->pos;
  for (int p = 0; p < n; ++p) {
    const uint32_t id = w[p].id;
    if (id == kNone) continue;
    const LexWordRecord& wr = words_[id];
    const std::array<uint64_t, 2>* signatures = anchor_signatures_.data() + signature_first_[id];
    for (uint32_t j = 0;; ++j) {
      j = static_cast<uint32_t>(NextPossibleAnchor(signatures + j, absent) - signatures);
      if (j >= wr.anchor_count) break;  // the sentinel
      const uint32_t e = anchors_[wr.first_anchor + j];
      const LexEntryRecord& er = entries_[e];
      if (((er.flags & kLexWithout) != 0) != across_without) continue;
      const int k = er.required_count;
      const int window = Window(k);
      pos.clear();
      bool ok = true;
      for (int j = 0; j < k && ok; ++j) {
        const uint32_t need = entry_words_[er.first_word + j];
        const int q = need == id ? p : nearest(need, p, window);
        if (q < 0) ok = false; else pos.push_back(static_cast<uint32_t>(q));
      }
      if (!ok) continue;
      if (!GroupsCompact(er, w, pos)) {
        // An expansion's words sit after the words they stand for, and the
        // occurrence nearest an expanded anchor may be a written word the
        // expansion repeats ("osteoporotic compression fracture" -> "...
        // with current pathological fracture, vertebra"): take the anchor's
        // expansion's own occurrences where it has them, then look again.
        // So may a written word of a variant whose expansion the match takes
        // ("lumbosacral disc herniation": the written "disc" is the "disc" of
        // "displacement of intervertebral disc").
        bool compact =
            w[p].expanded && MoveIntoExpansion(er, w, p, &pos) && GroupsCompact(er, w, pos);
        if (!compact && MoveIntoOwnVariant(er, w, &pos)) compact = GroupsCompact(er, w, pos);
        if (!compact) continue;
      }
      // Across a "without": the subterm's words after it, the words of the
      // terms above it before it, those of subterms below it anywhere.
      if (across_without) {
        for (int j = 0; j < k && ok; ++j) {
          const uint8_t g = entry_groups_[er.first_word + j];
          if (g & kLexGroupBelowWithout) continue;
          ok = ((g & kLexGroupWithout) != 0) == (w[pos[j]].begin > negated_from);
        }
        if (!ok) continue;
      }
      std::sort(pos.begin(), pos.end());
      if (std::adjacent_find(pos.begin(), pos.end()) != pos.end()) continue;
      bool side_elsewhere = false;
      for (uint32_t q : pos) {
        if (IsSide(w[q].id) && SideBelongsElsewhere(w, static_cast<int>(q), pos)) {
          side_elsewhere = true;
          break;
        }
      }
      if (side_elsewhere || TypeBelongsElsewhere(w, pos) || StageBelongsElsewhere(w, pos) ||
          CrossesListItem(er, w, pos)) {
        continue;
      }
      if (MixesExpansions(er, w, pos)) continue;
      const int lo = static_cast<int>(pos.front());
      const int hi = static_cast<int>(pos.back());
      // Gaps: other words between the first and the last matched word that
      // the lexicon knows, once per written word (an abbreviation and its
      // expansion share one).
      int gaps = 0;
      for (int q = lo + 1, j = 1; q < hi; ++q) {
        while (j < k && static_cast<int>(pos[j]) < q) ++j;
        if (j < k && static_cast<int>(pos[j]) == q) continue;
        if (w[q].id == kNone) continue;
        if (q > lo + 1 && w[q].begin == w[q - 1].begin) continue;
        ++gaps;
      }
      if (gaps > AllowedGaps(k)) continue;
      // An anchor that occurs twice finds the same words twice: keep one.
      bool duplicate = false;
      for (const Match& m : s->candidates) {
        if (m.entry == e && m.begin == w[lo].begin && m.end == w[hi].end) duplicate = true;
      }
      if (duplicate) continue;
      Match m;
      m.entry = e;
      m.begin = w[lo].begin;
      m.end = w[hi].end;
      m.required = static_cast<uint8_t>(k);
      m.gaps = static_cast<uint8_t>(gaps);
      m.spans.reserve(pos.size());
      for (uint32_t q : pos) {
        m.expanded |= w[q].expanded;
        // An expansion's words sit after the words they stand for but carry
        // their text: the match covers every span.
        m.begin = std::min(m.begin, w[q].begin);
        m.end = std::max(m.end, w[q].end);
        if (m.spans.empty() || m.spans.back() != std::make_pair(w[q].begin, w[q].end)) {
          m.spans.emplace_back(w[q].begin, w[q].end);
        }
      }
      std::sort(m.spans.begin(), m.spans.end());
      m.spans.erase(std::unique(m.spans.begin(), m.spans.end()), m.spans.end());
      // Non-essential words near the match.
      int optional = 0;
      for (int j = 0; j < er.optional_count; ++j) {
        const uint32_t opt = entry_words_[er.first_word + k + j];
        if (nearest(opt, (lo + hi) / 2, (hi - lo) / 2 + 2) >= 0) ++optional;
      }
      m.optional_matched = static_cast<uint8_t>(std::min(optional, 255));
      s->candidates.push_back(std::move(m));
      s->candidate_pos_begin.push_back(static_cast<uint32_t>(s->candidate_pos.size()));
      s->candidate_pos.insert(s->candidate_pos.end(), pos.begin(), pos.end());
    }
  }
  s->candidate_pos_begin.push_back(static_cast<uint32_t>(s->candidate_pos.size()));
  OrderWithoutOthersModifiers(s);
  // Longest first: more required words, then more non-essential words, fewer
  // gaps, the more trusted source, the earlier entry.
  std::sort(s->order.begin(), s->order.end(), [&](uint32_t a, uint32_t b) {
    const Match& x = s->candidates[a];
    const Match& y = s->candidates[b];
    if (x.required != y.required) return x.required > y.required;
    if (x.optional_matched != y.optional_matched) return x.optional_matched > y.optional_matched;
    if (x.gaps != y.gaps) return x.gaps < y.gaps;
    if (entries_[x.entry].source != entries_[y.entry].source) {
      return entries_[x.entry].source < entries_[y.entry].source;
    }
    return x.entry < y.entry;
  });
  auto words_of = [&](uint32_t c) {
    const LexEntryRecord& e = entries_[s->candidates[c].entry];
    return entry_words_.subspan(e.first_word, e.required_count);  // sorted ids
  };
  auto range_of = [&](uint32_t c) {
    const absl::Span<const uint32_t> p = s->PositionsOf(c);
    return std::make_pair(p.front(), p.back());
  };
  std::vector<uint32_t>& accepted = s->accepted;
  accepted.clear();
  std::vector<uint32_t>& subsumed = s->subsumed;
  subsumed.clear();
  for (uint32_t c : s->order) {
    // Subsumed: its words are a subset of an accepted match's words, and the
    // two overlap in the text. (An infectious agent's match, kLexAgent,
    // subsumes only another agent's.)
    absl::Span<const uint32_t> wc = words_of(c);
    const auto [clo, chi] = range_of(c);
    const bool agent = entries_[s->candidates[c].entry].flags & kLexAgent;
    bool inside = false, replaced = false;
    for (uint32_t a : accepted) {
      if (!agent && (entries_[s->candidates[a].entry].flags & kLexAgent)) continue;
      absl::Span<const uint32_t> wa = words_of(a);
      const auto [alo, ahi] = range_of(a);
      // Words the variant's expansion replaced name nothing of their own: no
      // mention, not even a subsumed one ("insulin" of "non-insulin
      // dependent diabetes" -> "type 2 diabetes mellitus").
      if (WrittenInsideExpansion(s, c, a)) {
        replaced = true;
        break;
      }
      if (!(clo <= ahi && alo <= chi)) continue;
      // Its words may also be the longer entry's non-essential ones ("valve
      // stenosis" in "aortic valve stenosis", "Stenosis, aortic (valve)";
      // "fracture of the pelvic bone": "Fracture, pelvis, pelvic (bone)"
      // says all that "Fracture, bone NEC" does).
      const LexEntryRecord& ea = entries_[s->candidates[a].entry];
      if (WordsWithin(wc, wa, OptionalWords(ea)) ||
          ReadAgainInside(s, c, a)) {
        inside = true;
        break;
      }
    }
    if (replaced) continue;
    if (inside) {
      subsumed.push_back(c);
    } else {
      accepted.push_back(c);
    }
  }
  for (uint32_t c : accepted) out->push_back(std::move(s->candidates[c]));
  for (uint32_t c : subsumed) {
    out->push_back(std::move(s->candidates[c]));
    out->back().subsumed = true;
  }
}

}  // namespace chartcoder::internal
