// chartcoder/context.h: ConText-style assertion of any span of a document:
// negated, uncertain, historical, hypothetical, or about someone other than
// the patient, with the cue that decided each attribute.
//
//   absl::StatusOr<std::unique_ptr<chartcoder::ContextAnalyzer>> context =
//       chartcoder::ContextAnalyzer::Create({});
//   // doc: a chartcoder::Document of "Denies chest pain but reports dyspnea."
//   chartcoder::Assertion a = (*context)->Assess(doc, 7, 17);   // "chest pain"
//   // a.negated == true; a.cues[0]: {kNegation, 0, 6} ("Denies")
//   chartcoder::Assertion b = (*context)->Assess(doc, 30, 37);  // "dyspnea"
//   // b.negated == false ("but" ends the scope of "Denies")
//
// How it decides: triggers (phrases of the lexicon, matched on token norms
// with a trie, longest first) open a scope forward and/or backward within the
// sentence, up to max_scope word tokens, ended early by terminators of that
// attribute ("but", "however", "reports", ";"). A pseudo-trigger ("no
// increase", "not ruled out" for negation, "history of present illness")
// consumes its tokens so the trigger inside it does not fire. A trigger that
// ends its clause before a colon ("Negative for:", "Denies:") is a list header:
// its scope runs over the rest of the line and the list that follows (bulleted
// lines, or the next line). Two negations whose scopes nest ("does not deny")
// cancel. Section defaults apply where no trigger decided: Family History
// means family; Past Medical/Surgical History means historical. "current"
// cues ("currently on", "treated with", "on dialysis") clear historical.
#ifndef CHARTCODER_CONTEXT_H_
#define CHARTCODER_CONTEXT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/sections.h"
#include "chartcoder/tokenizer.h"

namespace chartcoder {

class CodeSet;

// What a cue is. The first five are the attributes of an Assertion.
enum class CueKind : uint8_t {
  kNegation = 0,        // "no", "denies", "negative for", "ruled out" -> negated
  kUncertainty = 1,     // "possible", "probable", "rule out", "questionable" -> uncertain
  kHistorical = 2,      // "history of", "s/p", "previous", "remote" -> historical
  kHypothetical = 3,    // "if", "return if", "should ... develop", "risk of" -> hypothetical
  kFamily = 4,          // "mother", "family history of", "brother" -> family (not the patient)
  kCurrent = 5,         // "currently on", "treated with", "on dialysis": clears historical
  kPseudo = 6,          // a phrase holding a trigger that must not fire ("no increase")
  kTerminator = 7,      // ends scopes ("but", "however", "reports", ";")
  kSectionDefault = 8,  // a section header whose default set an attribute
  kDoubleNegation = 9,  // a negation cancelled by another ("does not deny")
  kIgnore = 10,         // rule files only: removes a built-in phrase
};
inline constexpr int kCueKindCount = 11;
// "negation", "uncertainty", "historical", "hypothetical", "family", "current",
// "pseudo", "terminator", "section_default", "double_negation", "ignore".
std::string_view CueKindName(CueKind kind);
std::optional<CueKind> ParseCueKind(std::string_view name);

// One cue that bore on a decision. Byte offsets into the document's text().
struct Cue {
  CueKind kind = CueKind::kNegation;
  uint32_t begin = 0;
  uint32_t end = 0;
  // The attribute it bore on (kNegation .. kFamily); for the attribute
  // triggers, == kind; for kCurrent, kHistorical.
  CueKind attribute = CueKind::kNegation;
  friend bool operator==(const Cue& a, const Cue& b) {
    return a.kind == b.kind && a.begin == b.begin && a.end == b.end && a.attribute == b.attribute;
  }
};

struct Assertion {
  bool negated = false;
  bool uncertain = false;
  bool historical = false;
  bool hypothetical = false;
  bool family = false;  // experiencer other than the patient (relatives, spouse)
  // The cues that decided each true attribute (trigger or section header),
  // plus those that explain a non-decision: a terminator that ended a
  // trigger's scope before the span, a pseudo-trigger next to it, a current
  // cue that cleared historical, a cancelled double negation. Text order.
  std::vector<Cue> cues;
};

// Which way a trigger's scope runs.
enum class TriggerDirection : uint8_t {
  kForward = 0,   // over the tokens after it: "no [fever]"
  kBackward = 1,  // over the tokens before it: "[MI] ruled out"
  kBoth = 2,
  // Backward when it closes its clause (nothing but punctuation up to the
  // sentence's end or the next ',', ';' or ':'): "[MI] ruled out, pneumonia
  // treated", "[pneumonia] likely"; forward otherwise: "CT ruled out [PE]",
  // "AKI, likely [prerenal]" (the AKI stays certain).
  kTrailing = 3,
  // Forward within its own list item: the scope ends at the next ',' or ';'.
  // "s/p [CABG], stable angina": a status-post names one procedure or event.
  kItem = 4,
  // For kPseudo and kTerminator rules the direction is ignored.
};
// "forward", "backward", "both", "trailing", "item".
std::string_view TriggerDirectionName(TriggerDirection direction);

// One lexicon entry.
struct TriggerRule {
  std::string phrase;  // "negative for"; matched on token norms (see TextAnalyzer::PhraseNorms)
  CueKind kind = CueKind::kNegation;  // not kSectionDefault / kDoubleNegation
  TriggerDirection direction = TriggerDirection::kForward;
  // Largest scope in word tokens (punctuation does not count); 0 = the
  // analyzer's default for the direction.
  int max_scope = 0;
  // kTerminator only: the attributes whose scopes it ends (bit i for CueKind
  // i, kNegation..kCurrent); 0 means every attribute but kCurrent.
  uint32_t terminates = 0;
};

// Parses a trigger table: tab-separated, header row
// `phrase<TAB>kind<TAB>direction<TAB>max_scope[<TAB>terminates]`, one rule
// per line, '#' lines and blank lines skipped. kind: a CueKind name (not
// section_default/double_negation); direction: forward, backward, both,
// trailing or item (empty for pseudo/terminator/ignore); max_scope: a whole
// number >= 0 or empty;
// terminates: comma-separated attribute names or "all" (terminators only).
// InvalidArgument names `source_name`, the line and the problem.
absl::StatusOr<std::vector<TriggerRule>> ParseTriggerRules(std::string_view tsv,
                                                           std::string_view source_name);
// Reads a trigger file in that format. NotFound if it does not exist;
// InvalidArgument if it is unreadable or malformed.
absl::StatusOr<std::vector<TriggerRule>> ReadTriggerRuleFile(const std::string& path);

// The built-in lexicon: the pack's `curated/context_triggers` table when
// `code_set` is given (NotFound if the pack has none), else the copy of
// data/context_triggers.tsv compiled into the library.
absl::StatusOr<std::vector<TriggerRule>> BuiltinTriggerRules(const CodeSet* code_set);

struct ContextOptions {
  // Where the built-in lexicon comes from (see BuiltinTriggerRules). Must
  // outlive Create(). Default none: the compiled-in copy.
  const CodeSet* code_set = nullptr;
  // Start from the built-in lexicon. Default true.
  bool use_builtin_triggers = true;
  // Trigger files (ParseTriggerRules format), read at creation in order after
  // the built-ins. A later rule for the same phrase replaces earlier ones; kind
  // `ignore` removes the phrase. Default none.
  std::vector<std::string> trigger_files;
  // Rules given directly, applied last (same replacement rule). Default none.
  std::vector<TriggerRule> extra_triggers;
  // Scope of forward / both-way triggers without their own max_scope, in word
  // tokens. Default 12.
  int default_forward_scope = 12;
  // Scope of backward triggers without their own max_scope. Default 5.
  int default_backward_scope = 5;
  // Attributes a section implies where no trigger decided: {section, kind}
  // with kind one of kNegation..kFamily. Default: family history -> family;
  // past medical and past surgical history -> historical (a current cue in the
  // sentence clears it).
  std::vector<std::pair<SectionKind, CueKind>> section_defaults = {
      {SectionKind::kFamilyHistory, CueKind::kFamily},
      {SectionKind::kPastMedicalHistory, CueKind::kHistorical},
      {SectionKind::kPastSurgicalHistory, CueKind::kHistorical},
  };
  // Tokenizer options used to compile trigger phrases into token norms. Only
  // extra_abbreviations matters; keep it equal to the TextAnalyzer's.
  std::vector<std::string> extra_abbreviations;
};

namespace internal {
struct ContextAccess;
}  // namespace internal

// Assesses spans of documents. Immutable; safe for concurrent use.
class ContextAnalyzer {
 public:
  // InvalidArgument: a malformed rule or option (named). NotFound: a trigger
  // file, or the pack's table, is missing. Internal: ICU failure.
  static absl::StatusOr<std::unique_ptr<ContextAnalyzer>> Create(const ContextOptions& options);
  ~ContextAnalyzer();
  ContextAnalyzer(const ContextAnalyzer&) = delete;
  ContextAnalyzer& operator=(const ContextAnalyzer&) = delete;

  // The assertion of bytes [begin, end) of doc.text() (any span: a mention,
  // a phrase, a token). The span is clamped to the text; the sentence is the
  // one holding the span's first token, and tokens of the span beyond that
  // sentence are ignored. A span holding no token gets an empty Assertion.
  // Triggers overlapping the span are not used.
  Assertion Assess(const Document& doc, uint32_t begin, uint32_t end) const;

  // The rules in effect (built-ins, files, extras; one per phrase).
  const std::vector<TriggerRule>& rules() const;

 private:
  friend struct internal::ContextAccess;  // many spans of one document
  struct Rep;
  explicit ContextAnalyzer(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_CONTEXT_H_
