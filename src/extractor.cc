#include "chartcoder/extractor.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/internal/chart_words.h"
#include "src/internal/context_access.h"
#include "src/internal/lexicon.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {

using internal::Lexicon;
using internal::LexSource;

std::string_view LexiconSourceName(LexiconSource source) {
  switch (source) {
    case LexiconSource::kCurated: return "curated";
    case LexiconSource::kIndex: return "index";
    case LexiconSource::kDescription: return "description";
    case LexiconSource::kInclusionTerm: return "inclusion_term";
    case LexiconSource::kNeoplasmTable: return "neoplasm_table";
    case LexiconSource::kIndexSee: return "index_see";
    case LexiconSource::kCodeInText: return "code_in_text";
    case LexiconSource::kLearned: return "learned";
  }
  return "unknown";
}

struct Extractor::Rep {
  ExtractorOptions options;
  std::shared_ptr<const Lexicon> lexicon;  // its own, or the pipeline's

  std::vector<Mention> Extract(const Document& doc, internal::ChartWords* chart_words,
                               internal::ExtractScratch* scratch) const;
};

Extractor::Extractor(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Extractor::~Extractor() = default;

absl::StatusOr<std::unique_ptr<Extractor>> Extractor::Create(const ExtractorOptions& options) {
  if (options.code_set == nullptr) {
    return absl::InvalidArgumentError("Extractor needs a code set (ExtractorOptions::code_set)");
  }
  CC_ASSIGN_OR_RETURN(std::unique_ptr<Lexicon> lexicon, Lexicon::Create(*options.code_set));
  return internal::ExtractorAccess::Create(options, std::move(lexicon));
}

absl::StatusOr<std::unique_ptr<Extractor>> internal::ExtractorAccess::Create(
    const ExtractorOptions& options, std::shared_ptr<const Lexicon> lexicon) {
  if (options.code_set == nullptr) {
    return absl::InvalidArgumentError("Extractor needs a code set (ExtractorOptions::code_set)");
  }
  auto rep = std::make_unique<Extractor::Rep>();
  rep->options = options;
  rep->lexicon = std::move(lexicon);
  return std::unique_ptr<Extractor>(new Extractor(std::move(rep)));
}

std::vector<Mention> internal::ExtractorAccess::Extract(const Extractor& extractor,
                                                        const Document& doc,
                                                        ChartWords* words,
                                                        ExtractScratch* scratch) {
  return extractor.rep_->Extract(doc, words, scratch);
}

size_t Extractor::lexicon_entries() const { return rep_->lexicon->entry_count(); }
size_t Extractor::lexicon_words() const { return rep_->lexicon->word_count(); }

namespace {

bool IsAscii(std::string_view s) {
  // Tokens are short: up to 16 bytes as two overlapping loads of 8 or 4
  // bytes (as StringViewHash reads them), longer ones 8 bytes at a time.
  const char* p = s.data();
  const size_t n = s.size();
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  if (n >= 8) {
    uint64_t any = 0, x;
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
      std::memcpy(&x, p + i, 8);
      any |= x;
    }
    std::memcpy(&x, p + n - 8, 8);
    return ((any | x) & kHigh) == 0;
  }
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return ((a | b) & 0x80808080u) == 0;
  }
  unsigned char any = 0;
  for (size_t i = 0; i < n; ++i) any |= static_cast<unsigned char>(p[i]);
  return any < 0x80;
}

bool HasSmallLetter(std::string_view s) {
  for (char c : s) {
    if (c >= 'a' && c <= 'z') return true;
  }
  return false;
}

// Words that negate what follows within the sentence.
bool IsClauseBreak(const Token& t) {
  const std::string_view n = t.norm;
  if (t.kind == TokenKind::kPunct) return n.size() == 1 && n[0] == ';';
  // By length first: the test runs for every token.
  switch (n.size()) {
    case 2: return n[0] == 'n' && n[1] == 'o';
    case 3:
      return internal::IsLiteral(n, "not") || internal::IsLiteral(n, "w/o") ||
             internal::IsLiteral(n, "neg") || internal::IsLiteral(n, "nor");
    case 4: return internal::IsLiteral(n, "deny");
    case 5: return internal::IsLiteral(n, "ruled");  // "bone scan, which ruled out metastases"
    case 6: return internal::IsLiteral(n, "denies") || internal::IsLiteral(n, "denied");
    case 7: return internal::IsLiteral(n, "without");
    case 8: return internal::IsLiteral(n, "negative");
    default: return false;
  }
}

// A clause break after which the index's "without ..." subterms may read on
// ("migraine without aura", "concussion w/o LOC", "migraine, no aura").
bool IsWithout(const Token& t) {
  const std::string_view n = t.norm;
  return internal::IsLiteral(n, "without") || internal::IsLiteral(n, "w/o") ||
         internal::IsLiteral(n, "no");
}

}  // namespace

std::vector<Mention> Extractor::Extract(const Document& doc) const {
  internal::ChartWords chart_words(*rep_->lexicon);
  chart_words.Reserve(doc.tokens().size() / 2);
  internal::ExtractScratch scratch;
  return rep_->Extract(doc, &chart_words, &scratch);
}

std::vector<Mention> Extractor::Rep::Extract(const Document& doc,
                                             internal::ChartWords* chart_words,
                                             internal::ExtractScratch* chart_scratch) const {
  const Lexicon& lex = *lexicon;
  const CodeSet& codes = *options.code_set;
  std::vector<Mention> out;
  // Charts name a mention every 10 tokens or so: room for one every 4, so
  // that the vector is seldom moved as it grows.
  out.reserve(doc.tokens().size() / 4 + 8);
  std::vector<Lexicon::InputWord>& words = chart_scratch->words;
  words.clear();
  std::vector<Lexicon::Match>& matches = chart_scratch->matches;
  matches.clear();
  Lexicon::Scratch& scratch = chart_scratch->lexicon;
  const auto sentences = doc.sentences();
  const std::string_view text = doc.text();
  // An ASCII chart has ASCII tokens: no test per token.
  const bool chart_ascii = doc.chart_text().is_ascii();
  // The clause before a "without" (its words and where the "without" stood),
  // read again with the clause after it.
  std::vector<Lexicon::InputWord>& before_without = chart_scratch->before_without;
  before_without.clear();
  uint32_t without_at = internal::kNone;
  std::vector<Lexicon::InputWord>& across = chart_scratch->across;
  auto add_mentions = [&](uint32_t si, SectionKind section, bool across_without) {
    for (Lexicon::Match& match : matches) {
      if (match.subsumed && (across_without || !options.keep_subsumed)) continue;
      // "hearing aids" is no AIDS, "pre-op" no PRES.
      if (lex.acronym(match.entry) &&
          HasSmallLetter(text.substr(match.begin, match.end - match.begin))) {
        continue;
      }
      // Two entries that name one code over the same words ("Pain, low back"
      // and "Lumbago" for "low back pain") make one mention.
      if (!match.subsumed) {
        const uint32_t code_id = lex.code(match.entry);
        bool repeated = false;
        for (size_t i = out.size(); i-- > 0 && out[i].sentence == si && !repeated;) {
          const Mention& o = out[i];
          repeated = !o.subsumed && o.code_id == code_id && o.begin == match.begin &&
                     o.end == match.end;
        }
        if (repeated) continue;
      }
      // Built in place: a Mention is large, and most are kept.
      Mention& m = out.emplace_back();
      m.begin = match.begin;
      m.end = match.end;
      m.spans = std::move(match.spans);
      m.sentence = si;
      m.section = section;
      m.code_id = lex.code(match.entry);
      m.code = codes.CodeAt(m.code_id).code();
      const uint32_t code2 = lex.code2(match.entry);
      m.manifestation_code_id = code2 == internal::kNone ? kNoCode : code2;
      m.source = static_cast<LexiconSource>(lex.source(match.entry));
      m.lexicon_phrase = lex.phrase(match.entry);
      m.incomplete_code = lex.incomplete_code(match.entry);
      m.expanded = match.expanded;
      m.words = match.required;
      m.optional_words = match.optional_matched;
      m.gaps = match.gaps;
      m.subsumed = match.subsumed;
      if (across_without) {
        // It says more than the mentions made of its words before the
        // "without" ("Migraine" of "migraine without aura"): they are inside it.
        // (m is out.back(): the mentions before it.)
        for (size_t i = out.size() - 1; i-- > 0 && out[i].sentence == si;) {
          Mention& o = out[i];
          if (o.subsumed || o.end > without_at || o.begin < m.begin) continue;
          const bool inside = std::all_of(o.spans.begin(), o.spans.end(), [&](const auto& sp) {
            return std::find(m.spans.begin(), m.spans.end(), sp) != m.spans.end();
          });
          if (inside) o.subsumed = true;
        }
      }
    }
  };
  // Matches the clause before the last "without" with the one after it.
  auto match_across = [&](uint32_t si, SectionKind section) {
    if (without_at == internal::kNone) return;
    if (!before_without.empty() && !words.empty()) {
      across = before_without;
      across.insert(across.end(), words.begin(), words.end());
      matches.clear();
      lex.MatchClause(across, &scratch, &matches, without_at);
      add_mentions(si, section, /*across_without=*/true);
    }
    without_at = internal::kNone;
    before_without.clear();
  };
  auto flush = [&](uint32_t si, SectionKind section) {
    if (words.empty()) return;
    matches.clear();
    lex.MatchClause(words, &scratch, &matches);
    words.clear();
    add_mentions(si, section, /*across_without=*/false);
  };
  for (uint32_t si = 0; si < sentences.size(); ++si) {
    const Sentence& s = sentences[si];
    if (s.is(kSentenceHeader)) continue;
    const SectionKind section = doc.section_of(s).kind;
    words.clear();
    bool comma = false;  // a comma since the clause's last word
    for (const Token& t : doc.tokens_of(s)) {
      if (t.kind == TokenKind::kIcdCode) {
        if (std::optional<Code> c = codes.Find(t.norm)) {
          Mention& m = out.emplace_back();
          m.begin = t.begin;
          m.end = t.end;
          m.spans.emplace_back(t.begin, t.end);
          m.sentence = si;
          m.section = section;
          m.code_id = c->id();
          m.code = c->code();
          m.source = LexiconSource::kCodeInText;
          m.lexicon_phrase = c->code();
          m.words = 1;
        }
        continue;
      }
      // A negation inside a sentence starts a new clause: "hyperglycemia (no
      // diabetes)" must not match "diabetes with hyperglycemia", nor "DM
      // without complication" a diabetes complication.
      if (IsClauseBreak(t)) {
        match_across(si, section);
        if (IsWithout(t) && !words.empty()) {
          before_without = words;
          without_at = t.begin;
        }
        flush(si, section);
        continue;
      }
      // "Anemia, likely iron deficiency": the words before an uncertainty
      // word are matched on their own as well (the anemia is certain); the
      // clause goes on, and a match across the word (iron deficiency
      // anemia) is one ConText finds the word inside.
      if (!words.empty() && t.kind == TokenKind::kWord && internal::IsUncertaintyWord(t.norm)) {
        matches.clear();
        lex.MatchClause(words, &scratch, &matches);
        add_mentions(si, section, /*across_without=*/false);
      }
      if (!(t.kind == TokenKind::kWord || t.kind == TokenKind::kAbbreviation ||
            t.kind == TokenKind::kNumber)) {
        comma = comma || (t.kind == TokenKind::kPunct && t.norm.size() == 1 && t.norm[0] == ',');
        continue;
      }
      // Written form for ASCII tokens (keeps capitals, which abbreviations
      // need); the normalized form otherwise.
      const std::string_view written = text.substr(t.begin, t.end - t.begin);  // text_of(t)
      const bool use_written = chart_ascii || IsAscii(written);
      std::string_view src = use_written ? written : t.norm;
      // A chart repeats its words: each distinct written form is normalized
      // and looked up once per chart (ChartWords).
      const uint32_t previous = words.empty() ? internal::kNone : words.back().id;
      for (internal::Lexicon::InputWord w : chart_words->Of(src, previous)) {
        // Offsets: within the written token, or the whole token for a
        // normalized (non-ASCII) one.
        w.begin = use_written ? t.begin + w.begin : t.begin;
        w.end = use_written ? t.begin + w.end : t.end;
        w.after_comma = comma && !words.empty();
        comma = false;
        words.push_back(w);
      }
    }
    match_across(si, section);
    flush(si, section);
  }
  if (options.context != nullptr) {
    internal::ContextScratch& context_scratch = chart_scratch->context;  // trigger word ids
    context_scratch.Reset();
    for (Mention& m : out) {
      if (m.subsumed) continue;
      m.assertion =
          internal::ContextAccess::Assess(*options.context, doc, m.begin, m.end, &context_scratch);
    }
    // A subsumed mention takes the assertion of the mention of its sentence
    // that contains it ("on insulin" in "no longer on insulin"); one that no
    // mention contains is assessed itself. Mentions are still in sentence
    // order here.
    for (size_t lo = 0; lo < out.size();) {
      size_t hi = lo;
      while (hi < out.size() && out[hi].sentence == out[lo].sentence) ++hi;
      for (size_t i = lo; i < hi; ++i) {
        Mention& m = out[i];
        if (!m.subsumed) continue;
        const Mention* container = nullptr;
        for (size_t j = lo; j < hi; ++j) {
          const Mention& o = out[j];
          if (!o.subsumed && o.begin <= m.begin && m.end <= o.end &&
              (container == nullptr || o.end - o.begin < container->end - container->begin)) {
            container = &o;
          }
        }
        m.assertion = container != nullptr
                          ? container->assertion
                          : internal::ContextAccess::Assess(*options.context, doc, m.begin, m.end,
                                                            &context_scratch);
      }
      lo = hi;
    }
  }
  // Text order, a mention before the subsumed ones at its place, otherwise
  // as found (a stable sort), by sorting small keys and moving each mention
  // once.
  struct Key {
    uint32_t begin;
    bool subsumed;
    uint32_t index;
  };
  std::vector<Key> keys(out.size());
  for (uint32_t i = 0; i < out.size(); ++i) keys[i] = {out[i].begin, out[i].subsumed, i};
  auto less = [](const Key& a, const Key& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.subsumed != b.subsumed) return a.subsumed < b.subsumed;
    return a.index < b.index;
  };
  if (std::is_sorted(keys.begin(), keys.end(), less)) return out;
  std::sort(keys.begin(), keys.end(), less);
  std::vector<Mention> sorted;
  sorted.reserve(out.size());
  for (const Key& k : keys) sorted.push_back(std::move(out[k.index]));
  return sorted;
}

}  // namespace chartcoder
