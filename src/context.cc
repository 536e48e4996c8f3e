// ConText-style assertion: triggers matched on token norms with a trie, scopes
// in word tokens bounded by the sentence and by terminators, pseudo-triggers,
// list headers, double negation, current cues and section defaults.
#include "chartcoder/context.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "chartcoder/codeset.h"
#include "src/internal/context_access.h"
#include "src/internal/phrase_trie.h"
#include "src/internal/rule_table.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr std::array<std::string_view, kCueKindCount> kCueKindNames = {
    "negation", "uncertainty", "historical",      "hypothetical",    "family", "current",
    "pseudo",   "terminator",  "section_default", "double_negation", "ignore",
};

constexpr int kAttributeCount = 6;  // kNegation .. kCurrent
constexpr uint32_t Bit(CueKind k) { return 1u << static_cast<uint32_t>(k); }
constexpr uint32_t kAllButCurrent = Bit(CueKind::kNegation) | Bit(CueKind::kUncertainty) |
                                    Bit(CueKind::kHistorical) | Bit(CueKind::kHypothetical) |
                                    Bit(CueKind::kFamily);
constexpr uint32_t kAllAttributes = kAllButCurrent | Bit(CueKind::kCurrent);

bool IsAttribute(CueKind k) { return static_cast<int>(k) < kAttributeCount; }

const std::vector<std::string_view> kRequired = {"phrase", "kind", "direction", "max_scope"};
const std::vector<std::string_view> kOptional = {"terminates"};

absl::StatusOr<std::vector<TriggerRule>> RulesFromRows(const std::vector<internal::RuleRow>& rows) {
  std::vector<TriggerRule> rules;
  rules.reserve(rows.size());
  for (const internal::RuleRow& row : rows) {
    TriggerRule r;
    r.phrase = row.cells[0];
    if (r.phrase.empty()) return absl::InvalidArgumentError(StrCat(row.where, ": empty phrase"));
    std::optional<CueKind> kind = ParseCueKind(row.cells[1]);
    if (!kind.has_value() || *kind == CueKind::kSectionDefault ||
        *kind == CueKind::kDoubleNegation) {
      return absl::InvalidArgumentError(
          StrCat(row.where, ": unknown trigger kind '", row.cells[1],
                 "' (negation, uncertainty, historical, hypothetical, family, current, pseudo, "
                 "terminator, ignore)"));
    }
    r.kind = *kind;
    const std::string dir = internal::AsciiLower(row.cells[2]);
    if (dir == "forward") {
      r.direction = TriggerDirection::kForward;
    } else if (dir == "backward") {
      r.direction = TriggerDirection::kBackward;
    } else if (dir == "both" || dir == "bidirectional") {
      r.direction = TriggerDirection::kBoth;
    } else if (dir == "trailing") {
      r.direction = TriggerDirection::kTrailing;
    } else if (dir == "item") {
      r.direction = TriggerDirection::kItem;
    } else if (!dir.empty() || IsAttribute(r.kind)) {
      return absl::InvalidArgumentError(
          StrCat(row.where, ": direction must be forward, backward, both, trailing or item, not '",
                 row.cells[2], "'"));
    }
    if (!row.cells[3].empty()) {
      if (!internal::ParseInt(row.cells[3], &r.max_scope) || r.max_scope < 0 ||
          r.max_scope > 1000) {
        return absl::InvalidArgumentError(
            StrCat(row.where, ": max_scope must be a whole number from 0 to 1000, not '",
                   row.cells[3], "'"));
      }
    }
    const std::string term = internal::AsciiLower(row.cells[4]);
    if (!term.empty()) {
      if (r.kind != CueKind::kTerminator) {
        return absl::InvalidArgumentError(
            StrCat(row.where, ": only terminators take a 'terminates' column"));
      }
      for (std::string_view name : internal::Split(term, ',', true)) {
        name = internal::Trim(name);
        if (name == "all") {
          r.terminates |= kAllAttributes;
          continue;
        }
        std::optional<CueKind> k = ParseCueKind(name);
        if (!k.has_value() || !IsAttribute(*k)) {
          return absl::InvalidArgumentError(
              StrCat(row.where, ": '", name, "' is not an attribute a terminator can end"));
        }
        r.terminates |= Bit(*k);
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// A trigger found in a sentence.
struct Match {
  uint32_t begin, end;  // token indexes into the document
  int32_t rule;
};
// The triggers of one sentence: a few, on the stack (one assessment per
// mention).
using Matches = absl::InlinedVector<Match, 16>;

}  // namespace

std::string_view CueKindName(CueKind kind) {
  const size_t i = static_cast<size_t>(kind);
  return i < kCueKindNames.size() ? kCueKindNames[i] : "unknown";
}

std::optional<CueKind> ParseCueKind(std::string_view name) {
  const std::string n = internal::AsciiLower(internal::Trim(name));
  for (size_t i = 0; i < kCueKindNames.size(); ++i) {
    if (n == kCueKindNames[i]) return static_cast<CueKind>(i);
  }
  return std::nullopt;
}

std::string_view TriggerDirectionName(TriggerDirection direction) {
  switch (direction) {
    case TriggerDirection::kForward:
      return "forward";
    case TriggerDirection::kBackward:
      return "backward";
    case TriggerDirection::kBoth:
      return "both";
    case TriggerDirection::kTrailing:
      return "trailing";
    case TriggerDirection::kItem:
      return "item";
  }
  return "unknown";
}

absl::StatusOr<std::vector<TriggerRule>> ParseTriggerRules(std::string_view tsv,
                                                           std::string_view source_name) {
  CC_ASSIGN_OR_RETURN(std::vector<internal::RuleRow> rows,
                      internal::ParseRuleTable(tsv, source_name, kRequired, kOptional));
  return RulesFromRows(rows);
}

absl::StatusOr<std::vector<TriggerRule>> ReadTriggerRuleFile(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::vector<internal::RuleRow> rows,
                      internal::ReadRuleFile(path, kRequired, kOptional));
  return RulesFromRows(rows);
}

absl::StatusOr<std::vector<TriggerRule>> BuiltinTriggerRules(const CodeSet* code_set) {
  CC_ASSIGN_OR_RETURN(
      std::vector<internal::RuleRow> rows,
      internal::BuiltinRuleTable(code_set, "context_triggers", kRequired, kOptional));
  return RulesFromRows(rows);
}

namespace {
struct ContextData {
  ContextOptions options;
  std::vector<TriggerRule> rules;  // one per phrase
  internal::PhraseTrie all;        // every rule; value: index into rules
  internal::PhraseTrie held;       // attribute triggers only (what a pseudo holds)
  std::array<int32_t, kSectionKindCount> section_default_bits{};  // Bit(kind) per section

  int ForwardScope(const TriggerRule& r) const {
    return r.max_scope > 0 ? r.max_scope : options.default_forward_scope;
  }
  int BackwardScope(const TriggerRule& r) const {
    return r.max_scope > 0 ? r.max_scope : options.default_backward_scope;
  }
  uint32_t Terminates(const TriggerRule& r) const {
    return r.terminates == 0 ? kAllButCurrent : r.terminates;
  }
};

}  // namespace

struct ContextAnalyzer::Rep : ContextData {};

ContextAnalyzer::ContextAnalyzer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
ContextAnalyzer::~ContextAnalyzer() = default;

const std::vector<TriggerRule>& ContextAnalyzer::rules() const { return rep_->rules; }

absl::StatusOr<std::unique_ptr<ContextAnalyzer>> ContextAnalyzer::Create(
    const ContextOptions& options) {
  if (options.default_forward_scope < 1 || options.default_forward_scope > 1000 ||
      options.default_backward_scope < 1 || options.default_backward_scope > 1000) {
    return absl::InvalidArgumentError("default scopes must be from 1 to 1000 word tokens");
  }
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  for (const auto& [section, kind] : options.section_defaults) {
    if (!IsAttribute(kind) || kind == CueKind::kCurrent ||
        static_cast<int>(section) >= kSectionKindCount) {
      return absl::InvalidArgumentError(
          StrCat("section default for ", SectionKindName(section),
                 " must be negation, "
                 "uncertainty, historical, hypothetical or family, not ",
                 CueKindName(kind)));
    }
    rep->section_default_bits[static_cast<size_t>(section)] |= Bit(kind);
  }
  std::vector<TriggerRule> all;
  if (options.use_builtin_triggers) {
    CC_ASSIGN_OR_RETURN(all, BuiltinTriggerRules(options.code_set));
  }
  for (const std::string& file : options.trigger_files) {
    CC_ASSIGN_OR_RETURN(std::vector<TriggerRule> more, ReadTriggerRuleFile(file));
    all.insert(all.end(), more.begin(), more.end());
  }
  for (const TriggerRule& r : options.extra_triggers) {
    if (r.kind == CueKind::kSectionDefault || r.kind == CueKind::kDoubleNegation ||
        static_cast<int>(r.kind) >= kCueKindCount || r.max_scope < 0 ||
        r.direction > TriggerDirection::kItem) {
      return absl::InvalidArgumentError(StrCat("trigger rule '", r.phrase, "' has kind ",
                                               CueKindName(r.kind),
                                               ", a negative scope or an unknown direction"));
    }
    all.push_back(r);
  }

  // Trigger phrases are tokenized exactly as documents are.
  TextAnalyzerOptions tokenizer;
  tokenizer.sections.use_builtin_rules = false;
  tokenizer.extra_abbreviations = options.extra_abbreviations;
  CC_ASSIGN_OR_RETURN(std::unique_ptr<TextAnalyzer> analyzer, TextAnalyzer::Create(tokenizer));
  absl::flat_hash_map<std::string, size_t> by_phrase;
  std::vector<std::vector<std::string>> norms_of;
  for (TriggerRule& r : all) {
    std::vector<std::string> norms = analyzer->PhraseNorms(r.phrase);
    if (norms.empty()) {
      return absl::InvalidArgumentError(StrCat("trigger phrase '", r.phrase, "' has no tokens"));
    }
    const std::string key = internal::Join(norms, " ");
    auto [it, added] = by_phrase.try_emplace(key, rep->rules.size());
    if (added) {
      rep->rules.push_back(std::move(r));
      norms_of.push_back(std::move(norms));
    } else {
      rep->rules[it->second] = std::move(r);
    }
  }
  // Drop ignored phrases, then build the tries.
  std::vector<TriggerRule> kept;
  for (size_t i = 0; i < rep->rules.size(); ++i) {
    TriggerRule& r = rep->rules[i];
    if (r.kind == CueKind::kIgnore) continue;
    const int32_t index = static_cast<int32_t>(kept.size());
    rep->all.Insert(norms_of[i], index);
    if (IsAttribute(r.kind)) rep->held.Insert(norms_of[i], index);
    kept.push_back(std::move(r));
  }
  rep->rules = std::move(kept);
  return std::unique_ptr<ContextAnalyzer>(new ContextAnalyzer(std::move(rep)));
}

namespace {

// The assessment of one span: the sentence's tokens, its triggers, and the
// scope arithmetic.
class Assessor {
 public:
  // `scratch`, when given: the trie word ids of the document's tokens and
  // the longest trigger at each, filled on demand and kept across spans of
  // the document.
  Assessor(const ContextData& rep, const Document& doc,
           internal::ContextScratch* scratch = nullptr)
      : rep_(rep), doc_(doc), tokens_(doc.tokens()), scratch_(scratch) {}

  Assertion Run(uint32_t begin, uint32_t end) {
    Assertion out;
    const std::span<const Token> tokens = doc_.tokens();
    const uint32_t size = static_cast<uint32_t>(doc_.text().size());
    begin = std::min(begin, size);
    end = std::min(end, size);
    if (begin >= end) return out;
    const size_t first = doc_.TokenAt(begin);
    if (first >= tokens.size() || tokens[first].begin >= end) return out;
    const size_t si = doc_.SentenceAt(tokens[first].begin);
    if (si >= doc_.sentences().size()) return out;
    const Sentence& s = doc_.sentences()[si];
    tb_ = static_cast<uint32_t>(first);
    te_ = tb_ + 1;
    while (te_ < s.end_token && tokens[te_].begin < end) ++te_;
    // A phrase opening with "on" ("on insulin", "on dialysis") is assessed
    // from its next word, so that "was on", "not on", "no longer on" before
    // it can be read as triggers.
    if (te_ > tb_ + 1 && tokens[tb_].norm == "on") ++tb_;

    FindTriggers(s, /*list_header=*/false);
    FindListHeaderTriggers(si);

    Decide(CueKind::kNegation, &out.negated, &out);
    Decide(CueKind::kUncertainty, &out.uncertain, &out);
    Decide(CueKind::kHistorical, &out.historical, &out);
    Decide(CueKind::kHypothetical, &out.hypothetical, &out);
    Decide(CueKind::kFamily, &out.family, &out);
    SectionDefaults(s, &out);
    ReportPseudo(&out);
    std::sort(out.cues.begin(), out.cues.end(), [](const Cue& a, const Cue& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    out.cues.erase(std::unique(out.cues.begin(), out.cues.end()), out.cues.end());
    return out;
  }

 private:
  const TriggerRule& RuleOf(const Match& m) const {
    return rep_.rules[static_cast<size_t>(m.rule)];
  }
  const Token& Tok(uint32_t i) const { return tokens_[i]; }
  bool IsWord(uint32_t i) const { return Tok(i).kind != TokenKind::kPunct; }

  // Word tokens in [a, b).
  int Words(uint32_t a, uint32_t b) const {
    int n = 0;
    for (uint32_t i = a; i < b; ++i) n += IsWord(i);
    return n;
  }

  Cue CueOf(const Match& m, CueKind kind, CueKind attribute) const {
    return {kind, Tok(m.begin).begin, Tok(m.end - 1).end, attribute};
  }

  // Triggers of sentence `s` that do not overlap the span (from a list
  // header sentence: all of them).
  void FindTriggers(const Sentence& s, bool list_header) {
    const uint32_t a = s.first_token, b = s.end_token;
    if (a >= b) return;
    auto& out = list_header ? header_matches_ : matches_;
    if (scratch_ != nullptr) {
      // The walk below, over the tokens where a trigger starts only: a token
      // with no trigger ending by the sentence's end has none ending sooner.
      PrepareSentence(a, b);
      const std::span<const int32_t> ids(scratch_->ids.data() + a, b - a);
      const uint32_t* next = scratch_->next.data();
      uint32_t p = a;
      while (p < b) {
        p = next[p];
        if (p >= b) break;
        const bool inside = !list_header && p >= tb_ && p < te_;
        if (inside && p == tb_) {
          ++p;
          continue;
        }
        const uint32_t limit = !list_header && p < tb_ ? tb_ : inside ? te_ : b;
        const internal::PhraseTrie::Match m = LongestAt(ids, a, p, limit);
        if (m.length == 0) {
          ++p;
          continue;
        }
        // Inside the span only an uncertainty trigger counts (Reaches).
        if (inside && rep_.rules[m.value].kind != CueKind::kUncertainty) {
          p += static_cast<uint32_t>(m.length);
          continue;
        }
        out.push_back({p, p + static_cast<uint32_t>(m.length), m.value});
        p += static_cast<uint32_t>(m.length);
      }
      return;
    }
    ids_.resize(b - a);
    for (uint32_t i = a; i < b; ++i) ids_[i - a] = rep_.all.WordId(Tok(i).norm);
    const std::span<const int32_t> ids(ids_.data(), ids_.size());
    uint32_t p = a;
    while (p < b) {
      const bool inside = !list_header && p >= tb_ && p < te_;
      if (inside && p == tb_) {
        ++p;
        continue;
      }
      const uint32_t limit = !list_header && p < tb_ ? tb_ : inside ? te_ : b;
      const internal::PhraseTrie::Match m = rep_.all.Longest(ids, p - a, limit - a);
      if (m.length == 0) {
        ++p;
        continue;
      }
      if (inside && rep_.rules[m.value].kind != CueKind::kUncertainty) {
        p += static_cast<uint32_t>(m.length);
        continue;
      }
      out.push_back({p, p + static_cast<uint32_t>(m.length), m.value});
      p += static_cast<uint32_t>(m.length);
    }
  }

  // Fills the scratch for the sentence of tokens [a, b), once per document:
  // the trie word id of each token, the longest trigger at each ending by b,
  // and where the next trigger starts.
  void PrepareSentence(uint32_t a, uint32_t b) {
    internal::ContextScratch& s = *scratch_;
    const size_t n = tokens_.size();
    if (s.ready.size() != n) {
      s.ids.assign(n, kUnsetId);
      s.longest.assign(n, {});
      s.next.assign(n, 0);
      s.ready.assign(n, 0);
    }
    if (s.ready[a]) return;
    for (uint32_t i = a; i < b; ++i) {
      if (s.ids[i] == kUnsetId) s.ids[i] = rep_.all.WordId(Tok(i).norm);
    }
    const std::span<const int32_t> ids(s.ids.data() + a, b - a);
    uint32_t next = b;
    for (uint32_t p = b; p-- > a;) {
      internal::ContextScratch::Longest& c = s.longest[p];
      if (c.end != b) {
        const internal::PhraseTrie::Match m = rep_.all.Longest(ids, p - a, b - a);
        c = {b, static_cast<uint32_t>(m.length), m.value};
      }
      if (c.length > 0) next = p;
      s.next[p] = next;
    }
    s.ready[a] = 1;
  }

  // The longest trigger at token p of the sentence [a, b) that ends by
  // `limit`, the sentence prepared. The one ending by b is kept per token in
  // the scratch: when it ends by `limit` too, it is the answer (a longer one
  // within `limit` would be within b).
  internal::PhraseTrie::Match LongestAt(std::span<const int32_t> ids, uint32_t a, uint32_t p,
                                        uint32_t limit) {
    const internal::ContextScratch::Longest& c = scratch_->longest[p];
    if (p + c.length <= limit) return {c.length, c.rule};
    return rep_.all.Longest(ids, p - a, limit - a);
  }

  // A list header ("Negative for:", "Denies:") that the span's sentence
  // belongs to: the sentence right after one, or a list item of a run of
  // items right after one.
  void FindListHeaderTriggers(size_t si) {
    const std::span<const Sentence> sents = doc_.sentences();
    auto ends_with_colon = [&](size_t i) {
      const Sentence& h = sents[i];
      return !h.is(kSentenceHeader) && Tok(h.end_token - 1).norm == ":" &&
             h.section == sents[si].section;
    };
    if (si == 0) return;
    size_t h = si - 1;
    if (!ends_with_colon(h)) {
      if (!sents[si].is(kSentenceListItem)) return;
      size_t steps = 0;
      while (h > 0 && sents[h].is(kSentenceListItem) && steps++ < 100) --h;
      if (sents[h].is(kSentenceListItem) || !ends_with_colon(h)) return;
      // Every sentence between must be a list item (checked by the walk).
    }
    FindTriggers(sents[h], /*list_header=*/true);
    header_end_ = sents[h].end_token - 1;  // the colon
  }

  // Terminators of `attribute` among the matches in token range [a, b).
  const Match* Terminator(uint32_t a, uint32_t b, CueKind attribute,
                          const Matches& matches) const {
    for (const Match& m : matches) {
      if (m.begin >= a && m.end <= b && RuleOf(m).kind == CueKind::kTerminator &&
          (rep_.Terminates(RuleOf(m)) & Bit(attribute))) {
        return &m;
      }
    }
    return nullptr;
  }

  // Does trigger `m` (of the span's sentence) reach the span? *blocked is set
  // to the terminator that stopped it, if one did.
  bool Reaches(const Match& m, CueKind attribute, const Match** blocked) const {
    const TriggerRule& r = RuleOf(m);
    *blocked = nullptr;
    bool fwd = r.direction != TriggerDirection::kBackward;
    bool bwd = r.direction != TriggerDirection::kForward && r.direction != TriggerDirection::kItem;
    if (r.direction == TriggerDirection::kTrailing) {
      bwd = ClosesClause(m);
      fwd = !bwd;
    }
    if (m.end <= tb_) {
      if (fwd && Words(m.end, tb_) < rep_.ForwardScope(r) &&
          (r.direction != TriggerDirection::kItem || !ItemEndsBetween(m.end, tb_))) {
        *blocked = Terminator(m.end, tb_, attribute, matches_);
        return *blocked == nullptr;
      }
      // "Chest pain: no" - an answer after a colon looks back.
      if (!fwd || !IsAnswer(m)) return false;
      if (Words(te_, m.begin) >= rep_.BackwardScope(r)) return false;
      *blocked = Terminator(te_, m.begin, attribute, matches_);
      return *blocked == nullptr;
    }
    if (m.begin >= te_) {
      if (bwd && WeighsInsideParentheses(m)) return false;
      // A relative looking back does not cross into another list item or
      // clause either: "has diabetes, her mother had breast cancer" (but
      // "diabetes in her mother", "diabetes: mother, sister").
      if (bwd && Words(te_, m.begin) < rep_.BackwardScope(r) &&
          ((r.direction != TriggerDirection::kTrailing && r.kind != CueKind::kFamily) ||
           !OtherItemBetween(m))) {
        *blocked = Terminator(te_, m.begin, attribute, matches_);
        return *blocked == nullptr;
      }
      if (fwd && IsAnswer(m) && Words(te_, m.begin) < rep_.BackwardScope(r)) {
        *blocked = Terminator(te_, m.begin, attribute, matches_);
        return *blocked == nullptr;
      }
      return false;
    }
    // Inside the span, with words of it after ("lung nodule, concerning for
    // malignancy"; FindTriggers keeps only uncertainty there): what the
    // match says across the trigger is uncertain. (The extractor matched the
    // words before the trigger on their own as well.)
    return attribute == CueKind::kUncertainty && fwd && m.begin > tb_ && m.end < te_;
  }

  // Whether match m stands inside a parenthesis opened after the span, with
  // a word of the parenthesis before it: "acute bronchitis (likely viral vs
  // bacterial)" weighs the organism, not the bronchitis. (Directly after the
  // parenthesis opens, it weighs the span: "pneumonia (vs atelectasis)".)
  bool WeighsInsideParentheses(const Match& m) const {
    for (uint32_t i = m.begin; i > te_; --i) {
      const std::string_view n = Tok(i - 1).norm;
      if (n == ")") return false;
      if (n == "(") return i < m.begin;
    }
    return false;
  }

  // Whether match m ends what its clause says of the words before it: only
  // punctuation follows up to the sentence's end or the next ',', ';', ':'
  // or '(' ("Liver mets - RULED OUT (MRI negative)"), or a connector that
  // gives the reason or the means ("pneumonia likely given fever", "MI
  // ruled out by troponins"), not the thing the trigger is about ("likely
  // prerenal", "ruled out MI").
  bool ClosesClause(const Match& m) const {
    static constexpr std::string_view kConnectors[] = {
        "given", "due",  "based", "secondary", "from", "with", "as",    "because", "since",
        "per",   "by",   "in",    "on",        "at",   "to",   "of",    "for",     "and",
        "or",    "but",  "will",  "which",     "is",   "was",   "are",     "were",
        "be",    "been", "being", "vs",        "versus", "although", "though", "if"};
    // "AKI, likely due to dehydration": a trigger that opens its list item
    // and names a cause (or what goes with the item: "type 2 diabetes, likely
    // with neuropathy") qualifies that, not the item before.
    static constexpr std::string_view kCauses[] = {"due",     "secondary", "from",
                                                   "because", "related",   "with"};
    const bool opens_item =
        m.begin > 0 && (Tok(m.begin - 1).norm == "," || Tok(m.begin - 1).norm == ";");
    const Sentence& s = doc_.sentences()[doc_.SentenceAt(Tok(m.begin).begin)];
    for (uint32_t i = m.end; i < s.end_token; ++i) {
      const std::string_view n = Tok(i).norm;
      if (n == "," || n == ";" || n == ":" || n == "(") return true;
      if (IsWord(i)) {
        if (opens_item &&
            std::find(std::begin(kCauses), std::end(kCauses), n) != std::end(kCauses)) {
          return false;
        }
        return std::find(std::begin(kConnectors), std::end(kConnectors), n) !=
               std::end(kConnectors);
      }
    }
    return true;
  }

  // A ',' or ';' among tokens [a, b).
  bool ItemEndsBetween(uint32_t a, uint32_t b) const {
    for (uint32_t i = a; i < b; ++i) {
      if (Tok(i).norm == "," || Tok(i).norm == ";") return true;
    }
    return false;
  }

  // For a trailing trigger after the span: a ',' or ';' between them with a
  // word after it. The trigger qualifies the words of its own list item
  // ("Elevated troponin, demand ischemia suspected"), unless it is the whole
  // item ("Pneumonia, suspected").
  bool OtherItemBetween(const Match& m) const {
    for (uint32_t i = m.begin; i-- > te_;) {
      const std::string_view n = Tok(i).norm;
      if (n == "," || n == ";") return i + 1 < m.begin && Words(i + 1, m.begin) > 0;
    }
    return false;
  }

  // A trigger that is the whole answer after a colon or dash: "Fever: no",
  // "chest pain - denies".
  bool IsAnswer(const Match& m) const {
    if (m.begin == 0) return false;
    const std::string_view before = Tok(m.begin - 1).norm;
    if (before != ":" && before != "-") return false;
    const Sentence& s = doc_.sentences()[doc_.SentenceAt(Tok(m.begin).begin)];
    for (uint32_t i = m.end; i < s.end_token; ++i) {
      const std::string_view n = Tok(i).norm;
      if (n == "," || n == ";" || n == ".") return true;
      if (IsWord(i)) return false;
    }
    return true;
  }

  // A trigger of the list header reaches every item unless the span's own
  // sentence ends it before the span.
  bool ReachesFromListHeader(const Match& m, CueKind attribute) const {
    const TriggerRule& r = RuleOf(m);
    if (r.direction == TriggerDirection::kBackward) return false;
    if (Words(m.end, header_end_) >= rep_.ForwardScope(r)) return false;
    if (Terminator(m.end, header_end_, attribute, header_matches_) != nullptr) return false;
    const Sentence& s = doc_.sentences()[doc_.SentenceAt(Tok(tb_).begin)];
    return Terminator(s.first_token, tb_, attribute, matches_) == nullptr;
  }

  void Decide(CueKind attribute, bool* value, Assertion* out) {
    // Triggers of this attribute that reach the span.
    absl::InlinedVector<const Match*, 4> hits;
    const Match* blocker = nullptr;
    for (const Match& m : matches_) {
      if (RuleOf(m).kind != attribute) continue;
      const Match* b = nullptr;
      if (Reaches(m, attribute, &b)) {
        hits.push_back(&m);
      } else if (b != nullptr && blocker == nullptr) {
        blocker = b;
      }
    }
    for (const Match& m : header_matches_) {
      if (RuleOf(m).kind == attribute && ReachesFromListHeader(m, attribute)) hits.push_back(&m);
    }
    if (attribute == CueKind::kNegation) CancelDoubleNegations(&hits, out);
    if (!hits.empty()) {
      *value = true;
      // The nearest trigger decided; report every one that reached.
      for (const Match* m : hits) out->cues.push_back(CueOf(*m, attribute, attribute));
    } else if (blocker != nullptr) {
      out->cues.push_back(CueOf(*blocker, CueKind::kTerminator, attribute));
    }
    if (!hits.empty()) decided_ |= Bit(attribute);
    if (attribute == CueKind::kHistorical && *value) ClearIfCurrent(value, out, false);
  }

  // "does not deny chest pain": a negation right after another cancels it.
  void CancelDoubleNegations(absl::InlinedVector<const Match*, 4>* hits, Assertion* out) const {
    auto& h = *hits;
    std::sort(h.begin(), h.end(),
              [](const Match* a, const Match* b) { return a->begin < b->begin; });
    absl::InlinedVector<const Match*, 4> kept;
    for (size_t i = 0; i < h.size(); ++i) {
      if (i + 1 < h.size() && h[i]->end == h[i + 1]->begin &&
          RuleOf(*h[i]).direction != TriggerDirection::kBackward && h[i + 1]->end <= tb_) {
        out->cues.push_back(CueOf(*h[i], CueKind::kDoubleNegation, CueKind::kNegation));
        out->cues.push_back(CueOf(*h[i + 1], CueKind::kDoubleNegation, CueKind::kNegation));
        ++i;
        continue;
      }
      kept.push_back(h[i]);
    }
    h = std::move(kept);
  }

  // True if another list item separates the span from match m: a ',' or ';'
  // between them, and a word too when m follows the span ("HTN, DM2 on
  // insulin": DM2 is between HTN and "on insulin"; "hypertension, well
  // controlled" has no other item).
  bool CommaBetween(const Match& m) const {
    const uint32_t a = m.end <= tb_ ? m.end : te_, b = m.end <= tb_ ? tb_ : m.begin;
    bool comma = false, word = false;
    for (uint32_t i = a; i < b; ++i) {
      comma |= Tok(i).norm == "," || Tok(i).norm == ";";
      word |= IsWord(i);
    }
    // A cue before the span reaches only into its own item.
    return comma && (word || m.end <= tb_);
  }

  // "history of breast cancer, currently on tamoxifen": a current cue that
  // reaches the span clears historical. For a section default the cue must be
  // in the span's own list item ("PMH: HTN, DM2 on insulin, gout").
  void ClearIfCurrent(bool* historical, Assertion* out, bool same_item) {
    for (const Match& m : matches_) {
      if (RuleOf(m).kind != CueKind::kCurrent) continue;
      if (same_item && CommaBetween(m)) continue;
      const Match* b = nullptr;
      if (Reaches(m, CueKind::kCurrent, &b)) {
        *historical = false;
        out->cues.push_back(CueOf(m, CueKind::kCurrent, CueKind::kHistorical));
        // The historical cues stay, to explain what was overridden.
        return;
      }
    }
  }

  void SectionDefaults(const Sentence& s, Assertion* out) {
    if (doc_.sections().empty()) return;
    const Section& sec = doc_.sections()[s.section];
    const int32_t bits = rep_.section_default_bits[static_cast<size_t>(sec.kind)];
    if (bits == 0 || sec.header_begin == sec.header_end) return;
    const std::pair<CueKind, bool*> attrs[] = {{CueKind::kNegation, &out->negated},
                                               {CueKind::kUncertainty, &out->uncertain},
                                               {CueKind::kHistorical, &out->historical},
                                               {CueKind::kHypothetical, &out->hypothetical},
                                               {CueKind::kFamily, &out->family}};
    for (const auto& [kind, value] : attrs) {
      if (!(bits & Bit(kind)) || *value || (decided_ & Bit(kind))) continue;
      *value = true;
      out->cues.push_back({CueKind::kSectionDefault, sec.header_begin, sec.header_end, kind});
      if (kind == CueKind::kHistorical) ClearIfCurrent(value, out, true);
    }
  }

  // Pseudo-triggers next to the span whose held trigger would have reached it.
  void ReportPseudo(Assertion* out) const {
    for (const Match& m : matches_) {
      if (RuleOf(m).kind != CueKind::kPseudo) continue;
      for (uint32_t q = m.begin; q < m.end; ++q) {
        const internal::PhraseTrie::Match h = rep_.held.LongestWith(
            [&](size_t k) { return rep_.held.WordId(Tok(q + static_cast<uint32_t>(k)).norm); },
            m.end - q);
        if (h.length == 0) continue;
        const TriggerRule& held = rep_.rules[static_cast<size_t>(h.value)];
        const CueKind attribute = held.kind == CueKind::kCurrent ? CueKind::kHistorical : held.kind;
        const Match as_held = {q, q + static_cast<uint32_t>(h.length), h.value};
        const Match* b = nullptr;
        if (Reaches(as_held, held.kind, &b)) {
          out->cues.push_back(CueOf(m, CueKind::kPseudo, attribute));
        }
        break;
      }
    }
  }

  const ContextData& rep_;
  const Document& doc_;
  // doc_.tokens(), read for every token the assessment visits (the
  // accessor is out of line).
  const std::span<const Token> tokens_;
  uint32_t tb_ = 0, te_ = 0;  // the span's tokens
  uint32_t header_end_ = 0;   // the list header's colon
  static constexpr int32_t kUnsetId = -2;  // not a PhraseTrie word id
  internal::ContextScratch* scratch_;
  absl::InlinedVector<int32_t, 64> ids_;
  Matches matches_;
  Matches header_matches_;
  uint32_t decided_ = 0;  // attributes a trigger set
};

}  // namespace

Assertion ContextAnalyzer::Assess(const Document& doc, uint32_t begin, uint32_t end) const {
  Assessor a(*rep_, doc);
  return a.Run(begin, end);
}

Assertion internal::ContextAccess::Assess(const ContextAnalyzer& context, const Document& doc,
                                          uint32_t begin, uint32_t end, ContextScratch* scratch) {
  Assessor a(*context.rep_, doc, scratch);
  return a.Run(begin, end);
}

}  // namespace chartcoder
