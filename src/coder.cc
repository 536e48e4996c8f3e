#include "chartcoder/coder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <span>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "src/internal/chart_words.h"
#include "src/internal/code_titles.h"
#include "src/internal/lexicon.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/profile_builder.h"
#include "src/internal/sentence_mentions.h"
#include "src/internal/stable_sort_large.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {

using internal::Contains;
using internal::IsLiteral;
using internal::StrCat;

namespace {

std::string Undot(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '.' || c == ' ') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

// Called for every history rule of every mention: a loop that usually stops
// at the first byte.
bool StartsWith(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (s[i] != prefix[i]) return false;
  }
  return true;
}

using WordIds = std::vector<uint32_t>;  // sorted, unique lexicon word ids

// Sorts `v` and drops repeats (a WordIds must be sorted and unique).
template <typename V>
void SortUnique(V* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

bool Has(absl::Span<const uint32_t> words, uint32_t id) {
  return std::binary_search(words.begin(), words.end(), id);
}

// The words of a sentence that are not negated within it: after "without",
// "no", "not", "w/o" or "negative", words up to the next comma, semicolon or
// period do not count ("hypoglycemia without coma"). Abbreviations and
// synonyms count as the words they stand for ("R" is "right", "sacrum" is
// "sacral region"), through the lexicon. Words the lexicon does not know are
// left out: no code title has them.
// The lexicon words of each token of one document, normalized once and
// shared by every sentence and window that asks (one per Assign call).
class TokenWords {
 public:
  // (`scratch`: the thread's or the call's, started for this chart here.)
  TokenWords(const Document& doc, internal::ChartWords* chart_words,
             internal::CoderScratch* scratch)
      : run(scratch->run), scratch(scratch->lexicon), doc_(doc),
        tokens_(doc.tokens().data()), chart_words_(*chart_words), s_(*scratch) {
    s_.StartChart(doc.tokens().size());
  }

  absl::Span<const internal::Lexicon::InputWord> Of(const Token& t) {
    const size_t i = static_cast<size_t>(&t - tokens_);
    std::vector<uint32_t>& first_ = s_.first;
    std::vector<uint32_t>& count_ = s_.count;
    std::vector<internal::Lexicon::InputWord>& words_ = s_.words;
    if (first_[i] == kUnset) {
      // Each distinct written form is normalized once per chart (offsets
      // relative to it; shared with the extractor), then placed at this token.
      // The word before, for numerals ("stage III"): the last word of the
      // previous token when it is a word.
      // (When the previous token's words are already placed, its last word
      // serves: it differs from the plain form's only for a numeral read as
      // digits, and neither is a word that takes a numeral.)
      uint32_t previous = internal::kNone;
      if (i > 0 && tokens_[i - 1].kind == TokenKind::kWord) {
        if (first_[i - 1] != kUnset) {
          if (count_[i - 1] > 0) previous = words_[first_[i - 1] + count_[i - 1] - 1].id;
        } else {
          auto before = chart_words_.Of(doc_.text_of(tokens_[i - 1]));
          if (!before.empty()) previous = before.back().id;
        }
      }
      first_[i] = static_cast<uint32_t>(words_.size());
      for (internal::Lexicon::InputWord w : chart_words_.Of(doc_.text_of(t), previous)) {
        w.begin += t.begin;
        w.end += t.begin;
        words_.push_back(w);
      }
      count_[i] = static_cast<uint32_t>(words_.size()) - first_[i];
    }
    return absl::MakeConstSpan(words_.data() + first_[i], count_[i]);
  }

  // Scratch for AffirmedWords, reused across its calls.
  std::vector<internal::Lexicon::InputWord>& run;
  internal::Lexicon::Scratch& scratch;
  // The affirmed words of a run of tokens [first, end), by first << 32 | end
  // (a reference stays valid while others are added), and whether they are
  // new (then empty, to be filled).
  WordIds& Range(uint64_t key, bool* fresh) { return s_.Range(key, fresh); }

 private:
  static constexpr uint32_t kUnset = internal::CoderScratch::kUnset;
  const Document& doc_;
  const Token* tokens_;  // doc_.tokens(), read at every call
  internal::ChartWords& chart_words_;
  internal::CoderScratch& s_;  // per token: first, count into words
};

// "without", "no", "not", "w/o", "negative", "denies", "absent", "absence",
// "r/o", "rule" (out): by length first (the test runs for every token of
// every sentence the coder reads).
bool IsNegationWord(std::string_view n) {
  switch (n.size()) {
    case 2: return n[0] == 'n' && n[1] == 'o';
    case 3: return IsLiteral(n, "not") || IsLiteral(n, "w/o") || IsLiteral(n, "r/o");
    case 4: return IsLiteral(n, "rule");
    case 6: return IsLiteral(n, "denies") || IsLiteral(n, "absent");
    case 7: return IsLiteral(n, "without") || IsLiteral(n, "absence");
    case 8: return IsLiteral(n, "negative");
    default: return false;
  }
}

void AffirmedWords(std::span<const Token> tokens, const internal::Lexicon& lex,
                   TokenWords* token_words, WordIds* affirmed) {
  WordIds& out = *affirmed;
  out.clear();
  std::vector<internal::Lexicon::InputWord>& run = token_words->run;
  run.clear();
  auto flush = [&] {
    if (run.empty()) return;
    lex.ExpandedWordIds(run, &token_words->scratch, &out);
    run.clear();
  };
  bool negated = false;
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::kPunct) {
      const std::string_view p = t.norm;
      if (p.size() == 1 && (p[0] == ',' || p[0] == ';' || p[0] == '.' || p[0] == ':')) {
        negated = false;
      }
      continue;
    }
    // The words after an uncertainty word ("type 2 diabetes, likely with
    // neuropathy") refine nothing either.
    if (IsNegationWord(t.norm) || internal::IsUncertaintyWord(t.norm)) {
      flush();
      negated = true;
      continue;
    }
    if (negated) continue;
    for (const internal::Lexicon::InputWord& w : token_words->Of(t)) run.push_back(w);
  }
  flush();
  SortUnique(&out);
}

// The first three characters of a code key ("E11" of "E1122") as one number,
// or 0 for a prefix shorter than a category.
uint32_t CategoryOf(std::string_view key) {
  if (key.size() < 3) return 0;
  return uint32_t{static_cast<uint8_t>(key[0])} << 16 |
         uint32_t{static_cast<uint8_t>(key[1])} << 8 | uint32_t{static_cast<uint8_t>(key[2])};
}

struct CombinationRule {
  std::string when;  // undotted prefixes
  std::string when_origin;  // when not empty: `when` only as the history code of a mention of this
  std::string with;
  uint32_t when_category = 0;  // CategoryOf(when), CategoryOf(with)
  uint32_t with_category = 0;
  uint32_t assign = kNoCode;
  std::vector<std::string> drop;
  std::string note;
};

enum class HistoryKind { kCode, kCurrent, kKeep, kKeepIfCurrent };

struct HistoryRule {
  std::string prefix;  // undotted
  HistoryKind kind = HistoryKind::kKeep;
  uint32_t code = kNoCode;
};

struct BmiRange {
  double lo = 0;
  double hi = 0;
  uint32_t code = kNoCode;
};

// One code being considered, with what supports it.
struct Candidate {
  uint32_t code = kNoCode;
  std::vector<CodeEvidence> evidence;
  std::string derivation;
  bool dropped = false;
  // A manifestation coded beside the etiology whose words hold it (K31.84
  // with E10.43): that candidate's code; kNoCode otherwise.
  uint32_t manifestation_of = kNoCode;
};

double SectionWeight(SectionKind s) {
  switch (s) {
    case SectionKind::kAssessment:
    case SectionKind::kPlan:
    case SectionKind::kAssessmentAndPlan:
    case SectionKind::kDiagnoses:
    case SectionKind::kProblemList:
      return 1.0;
    case SectionKind::kNone:
    case SectionKind::kChiefComplaint:
    case SectionKind::kHistoryOfPresentIllness:
    case SectionKind::kHospitalCourse:
    case SectionKind::kPastMedicalHistory:
    case SectionKind::kPastSurgicalHistory:
    case SectionKind::kOther:
      return 0.88;
    case SectionKind::kSocialHistory:
      return 0.75;
    case SectionKind::kDischargeInstructions:
    case SectionKind::kProcedures:
      return 0.6;
    case SectionKind::kReviewOfSystems:
    case SectionKind::kPhysicalExam:
    case SectionKind::kVitals:
      return 0.5;
    case SectionKind::kLabs:
    case SectionKind::kImaging:
      return 0.45;
    case SectionKind::kFamilyHistory:
    case SectionKind::kImmunizations:
      return 0.3;
    case SectionKind::kMedications:
      return 0.3;
    case SectionKind::kAllergies:
      return 0.15;
  }
  return 0.8;
}

// A discharge summary or inpatient record: it has a hospital course or
// discharge instructions, or says so at its top. Uncertain diagnoses at
// discharge are coded there as if established (guideline Section II.H).
bool IsInpatientRecord(const Document& doc) {
  for (const Section& s : doc.sections()) {
    if (s.kind == SectionKind::kHospitalCourse ||
        s.kind == SectionKind::kDischargeInstructions) {
      return true;
    }
  }
  const std::string top = internal::AsciiLower(doc.text().substr(0, 400));
  return Contains(top, "discharge summary") || Contains(top, "inpatient");
}

// The year a token names: a bare year ("2019") or the year of a date
// ("3/2019", "03/14/2019"); 0 otherwise.
int YearOf(const Token& t) {
  if (t.kind != TokenKind::kNumber && t.kind != TokenKind::kDate) return 0;
  std::string_view n = t.norm;
  if (n.size() > 4 && (n[n.size() - 5] == '/' || n[n.size() - 5] == '-')) {
    n = n.substr(n.size() - 4);
  }
  int year = 0;
  if (n.size() == 4 && internal::ParseInt(n, &year) && year >= 1950 && year <= 2100) return year;
  return 0;
}

// The latest year the chart names (its date of service, as a rule).
int LatestYear(const Document& doc) {
  int latest = 0;
  for (const Token& t : doc.tokens()) {
    // (YearOf's own first test, here: most tokens are words.)
    if (t.kind == TokenKind::kNumber || t.kind == TokenKind::kDate) {
      latest = std::max(latest, YearOf(t));
    }
  }
  return latest;
}

// The index of the first of `tokens` (in text order, not overlapping) that
// ends within `slack` bytes before `offset` or after it.
size_t FirstTokenNear(absl::Span<const Token> tokens, uint32_t offset, uint32_t slack) {
  return std::partition_point(tokens.begin(), tokens.end(),
                              [&](const Token& t) { return t.end + slack < offset; }) -
         tokens.begin();
}

// True when a year before the chart's latest is written within a few words
// of the mention ("2019", "in 2019", "(2019)"): the condition happened then.
// A year after "since" is when a condition still present began ("pressure
// ulcer, stage 4 (since 02/2023)").
bool NearPastYear(const Document& doc, const Mention& m, int latest_year) {
  const Sentence& sentence = doc.sentences()[m.sentence];
  const absl::Span<const Token> tokens = doc.tokens_of(sentence);
  // Those within 40 bytes of the mention are one run.
  for (size_t i = FirstTokenNear(tokens, m.begin, 40); i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.begin > m.end + 40) break;
    const int year = YearOf(t);
    if (year == 0 || year >= latest_year) continue;
    // A year in parentheses closed before the mention dates what they follow
    // ("amputation (2021, osteomyelitis) referred for R heel ulcer").
    if (t.end <= m.begin && doc.text().substr(t.end, m.begin - t.end).find(')') !=
                                std::string_view::npos) {
      continue;
    }
    // "since 2023", "since 02/2023", "since 3/10/2023": the nearest word
    // before the date.
    bool since = false;
    for (size_t k = i; k > 0 && i - k < 5; --k) {
      const Token& b = tokens[k - 1];
      if (b.kind == TokenKind::kNumber || b.kind == TokenKind::kPunct) continue;
      since = b.norm == "since";
      break;
    }
    if (!since) return true;
  }
  return false;
}

// True when the words just before the mention name it as the cause of
// something ("hemiparesis after a stroke", "as a late effect of CVA",
// "sequelae of stroke", "residuals from CVA") and do not call it acute.
bool NamedAsCause(const Document& doc, const Mention& m) {
  const Sentence& sentence = doc.sentences()[m.sentence];
  std::vector<std::string_view> before;  // nearest first, at most 5 words
  for (const Token& t : doc.tokens_of(sentence)) {
    if (t.end > m.begin) break;
    if (t.end + 48 < m.begin || t.norm.empty() || !absl::ascii_isalnum(t.norm[0])) continue;
    before.insert(before.begin(), t.norm);
    if (before.size() > 5) before.pop_back();
  }
  // Words that end the look back: the cue must govern the mention ("after a
  // large left MCA stroke"), not a clause before it.
  static constexpr std::string_view kStop[] = {"and", "or", "but", "with", "without", "no", "not",
                                               "for", "to", "in", "on", "at", "by", "because",
                                               "while", "during", "before", "then"};
  for (size_t i = 0; i < before.size(); ++i) {
    const std::string_view w = before[i];
    if (w == "acute" || w == "new" || w == "evolving" || w == "recent") return false;
    if (w == "after" || w == "following" || w == "from") return true;
    if (w == "of" && i + 1 < before.size()) {
      const std::string_view v = before[i + 1];
      return v == "effect" || v == "effects" || v == "sequela" || v == "sequelae" ||
             v == "residual" || v == "residuals" || v == "result";
    }
    if (std::find(std::begin(kStop), std::end(kStop), w) != std::end(kStop)) return false;
  }
  return false;
}

// True when the mention's words run from a cancer word to a site after "to"
// ("metastatic breast cancer to bone", "adenocarcinoma of the prostate to
// bone", "carcinoma of the colon with spread to the liver": the match ending
// at the site names where it spread). A tumor "extending to" or "invading" the
// next site is its own primary's extension, not a metastasis; an "and" or a
// comma before the "to" starts another thought.
bool SpreadTo(const Document& doc, const Mention& m) {
  const std::string text = internal::AsciiLower(doc.text().substr(m.begin, m.end - m.begin));
  static constexpr std::string_view kHeads[] = {
      "cancer", "cancers", "carcinoma", "adenocarcinoma", "malignancy", "ca",
      "tumor", "tumour", "neoplasm"};
  const std::string_view first = std::string_view(text).substr(0, text.find(' '));
  if (std::find(std::begin(kHeads), std::end(kHeads), first) == std::end(kHeads)) return false;
  const size_t to = text.find(" to ");
  if (to == std::string::npos) return false;
  const std::string_view between = std::string_view(text).substr(0, to);
  for (std::string_view local : {"extend", "extension", "invad", "invasion", "involv", "direct",
                                  " and ", ",", ";"}) {
    if (between.find(local) != std::string_view::npos) return false;
  }
  return true;
}

// True when an infection (A00-B99) is named for a vaccine, an immunity or an
// antibody ("hepatitis B series ordered", "Hep B surface Ab: immune",
// "varicella titer: immune", "tetanus booster", "hepatitis A and B
// vaccination"): the word after it, past a list's "and B" or a colon, says
// so. No infection of the patient.
bool NamedForImmunization(const Document& doc, const Mention& m) {
  if (m.code.empty() || (m.code[0] != 'A' && m.code[0] != 'B')) return false;
  static constexpr std::string_view kImmunity[] = {
      "vaccine",  "vaccines",   "vaccination", "vaccinations", "vaccinated", "immunization",
      "immunizations", "booster", "series",  "shot",         "shots",      "titer",
      "titers",   "titre",      "immune",      "immunity",     "nonimmune",  "antibody",
      "antibodies", "ab",       "igg",         "serology",     "serologies", "surface"};
  const absl::Span<const Token> tokens = doc.tokens_of(doc.sentences()[m.sentence]);
  size_t k = FirstTokenNear(tokens, m.end, 0);
  while (k < tokens.size() && tokens[k].begin < m.end) ++k;
  for (int skipped = 0; k < tokens.size() && skipped <= 3; ++k, ++skipped) {
    const std::string_view n = tokens[k].norm;
    if (std::find(std::begin(kImmunity), std::end(kImmunity), n) != std::end(kImmunity)) {
      return true;
    }
    // "A and B", "A/B", "B:", "non-immune".
    if (n != "and" && n != "&" && n != "/" && n != "," && n != ":" && n != "-" && n != "(" &&
        n != "non" && n.size() != 1) {
      return false;
    }
  }
  return false;
}

// True when the chart says a drug was stopped: "stopped metformin", "off
// Eliquis", "warfarin was discontinued", "Plavix discontinued 2022". Only the
// words right before or after the drug count, so that "stopped glipizide,
// started metformin" keeps metformin; "held" (a pause for a procedure) and
// "d/c" (discharge as often as discontinue) do not count.
bool DrugStopped(const Document& doc, const Mention& m) {
  static constexpr std::string_view kStop[] = {"stopped", "discontinued", "discontinue", "stop",
                                               "off", "quit", "ceased", "self-discontinued"};
  const auto is_stop = [](std::string_view n) {
    return std::find(std::begin(kStop), std::end(kStop), n) != std::end(kStop);
  };
  const absl::Span<const Token> tokens = doc.tokens_of(doc.sentences()[m.sentence]);
  size_t first = tokens.size();
  size_t last = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].begin >= m.begin && tokens[i].end <= m.end) {
      first = std::min(first, i);
      last = i;
    }
  }
  if (first == tokens.size()) return false;
  // Before: "stopped [taking] [his] metformin".
  for (size_t k = first, seen = 0; k > 0 && seen < 3; ++seen) {
    const std::string_view n = tokens[--k].norm;
    if (is_stop(n)) return true;
    if (n != "taking" && n != "the" && n != "his" && n != "her" && n != "their" &&
        n != "was" && n != "been" && n != "taken") {
      break;
    }
  }
  // After: "metformin [was|has been] discontinued".
  for (size_t k = last + 1, seen = 0; k < tokens.size() && seen < 3; ++k, ++seen) {
    const std::string_view n = tokens[k].norm;
    if (n == "stopped" || n == "discontinued" || n == "ceased") return true;
    if (n != "was" && n != "were" && n != "has" && n != "have" && n != "been" && n != "is") break;
  }
  return false;
}

// True when a resolution word follows the mention closely in its sentence
// ("pneumonia 2019, resolved"; "foot ulcer ...... healed").
bool ResolvedAfter(const Document& doc, const Mention& m) {
  const Sentence& sentence = doc.sentences()[m.sentence];
  for (const Token& t : doc.tokens_of(sentence)) {
    if (t.begin < m.end || t.begin > m.end + 80) continue;
    const std::string_view n = t.norm;
    if (n == "resolved" || n == "healed" || n == "cured" || n == "resolution") return true;
  }
  return false;
}

bool IsAssessmentSection(SectionKind s) {
  return s == SectionKind::kAssessment || s == SectionKind::kPlan ||
         s == SectionKind::kAssessmentAndPlan || s == SectionKind::kDiagnoses ||
         s == SectionKind::kProblemList;
}

// How much a section outside the assessment supports a condition when the
// chart has an assessment: the history sections state chronic conditions, the
// rest mostly findings.
double SupportingSectionFactor(SectionKind s) {
  switch (s) {
    case SectionKind::kPastMedicalHistory:
    case SectionKind::kPastSurgicalHistory:
    case SectionKind::kHistoryOfPresentIllness:
    case SectionKind::kChiefComplaint:
    case SectionKind::kHospitalCourse:
      return 0.9;
    default:
      return 0.75;
  }
}

double SourceWeight(LexiconSource s) {
  switch (s) {
    case LexiconSource::kCurated: return 0.93;
    case LexiconSource::kIndex: return 0.92;
    case LexiconSource::kDescription: return 0.92;
    case LexiconSource::kInclusionTerm: return 0.88;
    case LexiconSource::kNeoplasmTable: return 0.88;
    case LexiconSource::kIndexSee: return 0.8;
    case LexiconSource::kCodeInText: return 0.85;
    case LexiconSource::kLearned: return 1.0;
  }
  return 0.8;
}

}  // namespace

// What a title says of the encounter (the 7th character of injuries).
struct EncounterTitle {
  explicit EncounterTitle(const internal::CodeTitleFacts& f)
      : initial(f.has(internal::kTitleInitialEncounter)),
        later(f.has(internal::kTitleLaterEncounter)),
        closed(f.has(internal::kTitleClosedFracture)),
        routine(f.has(internal::kTitleRoutineHealing)) {}
  bool initial, later, closed, routine;
};

// Whether words put a mention in the past ("previously on", "s/p"), not only
// the past-history section it stands in.
bool HasHistoricalCue(const Assertion& a) {
  for (const Cue& c : a.cues) {
    if (c.kind == CueKind::kHistorical) return true;
  }
  return false;
}

// The 3-character category a note's reference names ("N18.1-N18.6" ->
// "N18"), as CategoryOf, or 0 when it names none.
uint32_t RefCategoryOf(const CodeRange& ref) {
  uint32_t out = 0;
  int n = 0;
  for (char c : ref.first) {
    if (c == '.' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out = out << 8 | static_cast<uint8_t>(c);
    if (++n == 3) return out;
  }
  return 0;
}

// F10.90-F19.90 (not F17, nicotine dependence): psychoactive substance use,
// uncomplicated. Guideline I.C.5.b.3: a use code is reported only with the
// disorder or medical condition it is associated with, which these codes by
// their title exclude; the mention stays in the result.
bool IsUncomplicatedSubstanceUse(std::string_view key) {
  return key.size() == 5 && key[0] == 'F' && key[1] == '1' && key[2] != '7' && key[3] == '9' &&
         key[4] == '0';
}

// Whether every word of `written` (of four letters or more) is in `title`,
// case aside: a combination code that names its manifestation ("influenza
// ... with unspecified type of pneumonia" for "influenza B pneumonia") needs
// no second code for it.
bool TitleSaysAlready(std::string_view title, std::string_view written) {
  const std::string lower = internal::AsciiLower(title);
  bool any = false;
  size_t i = 0;
  while (i < written.size()) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(written[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < written.size() && absl::ascii_isalpha(static_cast<unsigned char>(written[j]))) ++j;
    if (j - i >= 4) {
      if (lower.find(internal::AsciiLower(written.substr(i, j - i))) == std::string::npos) {
        return false;
      }
      any = true;
    }
    i = j;
  }
  return any;
}

// A drug the chart ties a condition's evidence to, and the code of its
// adverse effect.
struct DrugNamed {
  uint32_t code;
  uint32_t begin, end;  // the drug's word
};

// "<drug>-induced X", "<drug> related X" (the drug before "induced" or
// "related" just before the evidence or inside it), or "X due to <drug>",
// "X secondary to (cancer) <drug>", "X caused by the <drug>" (the connector
// inside the evidence or a word after it: "immunosuppressed state due to
// immunosuppressive medications"; the drug the first word after it
// but for a few fillers: "hyperglycemia due to diabetes on insulin" ties the
// hyperglycemia to the diabetes). Never in a sentence that calls it a
// poisoning, an overdose, an intoxication or a toxicity.
std::optional<DrugNamed> DrugTiedTo(const Document& doc, const CodeEvidence& ev,
                                    const absl::flat_hash_map<std::string, uint32_t>& drugs) {
  const size_t si = doc.SentenceAt(ev.sentence_begin);
  if (si >= doc.sentences().size()) return std::nullopt;
  const absl::Span<const Token> tokens = doc.tokens_of(doc.sentences()[si]);
  // (The sentence is read for a poisoning only once a drug is found.)
  auto drug_at = [&](size_t i) -> std::optional<DrugNamed> {
    if (i >= tokens.size() || tokens[i].kind != TokenKind::kWord) return std::nullopt;
    const auto it = drugs.find(absl::string_view(tokens[i].norm.data(), tokens[i].norm.size()));
    if (it == drugs.end()) return std::nullopt;
    for (const Token& t : tokens) {
      for (std::string_view w : {"poisoning", "overdose", "intoxication", "toxicity"}) {
        if (t.norm == w) return std::nullopt;
      }
    }
    return DrugNamed{it->second, tokens[i].begin, tokens[i].end};
  };
  auto filler = [](std::string_view n) {
    for (std::string_view f : {"the", "his", "her", "their", "cancer", "systemic", "high", "-",
                               "dose", "long", "term", "recent", "ongoing", "current"}) {
      if (n == f) return true;
    }
    return false;
  };
  for (size_t i = FirstTokenNear(tokens, ev.begin, 24); i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.begin > ev.end + 12) break;
    // "induced" / "related" from a little before the evidence to its end.
    if ((t.norm == "induced" || t.norm == "related") && t.end <= ev.end && i > 0) {
      size_t d = i - 1;
      if (tokens[d].norm == "-" && d > 0) --d;
      if (auto drug = drug_at(d)) return drug;
    }
    // A connector inside the evidence or directly after it.
    if (t.begin >= ev.begin &&
        (t.norm == "due" || t.norm == "secondary" || t.norm == "caused") &&
        i + 1 < tokens.size() && (tokens[i + 1].norm == "to" || tokens[i + 1].norm == "by")) {
      size_t k = i + 2;
      while (k < tokens.size() && k < i + 5 && filler(tokens[k].norm)) ++k;
      if (auto drug = drug_at(k)) return drug;
    }
  }
  return std::nullopt;
}

// An infectious agent "as the cause of diseases classified elsewhere"
// (B95-B97): supplementary codes that name the organism of a condition coded
// elsewhere (the note at B95-B97).
// (Asked of every mention: three character tests, a key or a dotted code.)
bool IsAgentCode(std::string_view code) {
  return code.size() >= 3 && code[0] == 'B' && code[1] == '9' && code[2] >= '5' && code[2] <= '7';
}

// True when a note in effect at `code` asks for the infectious agent ("use
// additional code (B95-B97) to identify infectious agent": N39.0, the block
// L00-L08).
bool AsksForAgent(const Code& code, std::vector<Note>* scratch) {
  code.NotesInEffect(NoteKind::kUseAdditionalCode, scratch);
  for (const Note& n : *scratch) {
    for (const CodeRange& ref : n.refs) {
      if (IsAgentCode(ref.first)) return true;
    }
    if (Contains(n.text, "infectious agent") || Contains(n.text, "organism")) return true;
  }
  return false;
}

// True when the chart's words tie the agent mention `a` to the condition
// mention `c`: the organism written just before it ("MRSA cellulitis", "E.
// coli urinary tract infection", "Pseudomonas-positive UTI" is not), or the
// condition followed by "due to", "secondary to", "caused by", "from" or
// "with" and the organism ("UTI due to E. coli", "cellulitis of the left leg
// due to MRSA").
bool AgentWrittenWith(const Document& doc, const Mention& a, const Mention& c) {
  const std::string_view text = doc.text();
  if (a.end <= c.begin) {
    const std::string_view between = text.substr(a.end, c.begin - a.end);
    return between.size() <= 3 && std::all_of(between.begin(), between.end(),
                                               [](char ch) { return ch == ' ' || ch == '-'; });
  }
  if (c.end > a.begin || a.begin - c.end > 24) return false;
  const std::string between(
      internal::AsciiLower(internal::Trim(text.substr(c.end, a.begin - c.end))));
  for (std::string_view w : {"due to", "secondary to", "caused by", "from", "with"}) {
    if (between == w || (between.starts_with(w) && (between.substr(w.size()) == " a" ||
                                                    between.substr(w.size()) == " an" ||
                                                    between.substr(w.size()) == " the"))) {
      return true;
    }
  }
  return false;
}

// Whether two mentions share a matched word.
bool ShareWords(const Mention& a, const Mention& b) {
  for (const auto& [ab, ae] : a.spans) {
    for (const auto& [bb, be] : b.spans) {
      if (ab < be && bb < ae) return true;
    }
  }
  return false;
}

// A cancer of a named site whose negation denies only its recurrence ("no
// evidence of recurrent breast cancer", "no recurrence of colon cancer"): the
// cancer was there, and is history. Negated and nothing else; "recurrent"
// or "recurrence of" written directly before the mention or inside it (not
// "no recurrence or malignancy", not C80 "malignant neoplasm, unspecified").
bool RecurrenceDenied(const Document& doc, const Mention& m) {
  const Assertion& a = m.assertion;
  if (!a.negated || a.uncertain || a.hypothetical || a.family) return false;
  if (m.code.size() < 3 || m.code[0] != 'C' || m.code.starts_with("C80")) return false;
  const std::string_view own = doc.text().substr(m.begin, m.end - m.begin);
  if (own.find("ecurren") != std::string_view::npos) return true;
  const std::string_view before = doc.text().substr(0, m.begin);
  for (std::string_view w : {"recurrent ", "recurrence of ", "recurrence of the "}) {
    if (before.size() >= w.size() &&
        internal::EqualsIgnoreCase(before.substr(before.size() - w.size()), w)) {
      return true;
    }
  }
  return false;
}

// How many times a title says "unspecified".
int CountUnspecified(std::string_view d) {
  int n = 0;
  for (size_t at = d.find("nspecified"); at != std::string_view::npos;
       at = d.find("nspecified", at + 1)) {
    n += at > 0 && (d[at - 1] == 'u' || d[at - 1] == 'U');
  }
  return n;
}

bool IsDefaultTitle(std::string_view d) {
  return Contains(d, "unspecified") || Contains(d, "Unspecified") || Contains(d, "without");
}

// Calls f(i) for each piece of evidence that is the first with its span
// (begin, end), in order: the same words twice count once. (Evidence lists
// are short: compared in turn; a long one goes through a set.)
template <typename F>
void ForEachFirstOfItsSpan(const std::vector<CodeEvidence>& evidence, F f) {
  if (evidence.size() > 32) {
    std::set<std::pair<uint32_t, uint32_t>> seen;
    for (size_t i = 0; i < evidence.size(); ++i) {
      if (seen.insert({evidence[i].begin, evidence[i].end}).second) f(i);
    }
    return;
  }
  for (size_t i = 0; i < evidence.size(); ++i) {
    bool first = true;
    for (size_t j = 0; j < i && first; ++j) {
      first = evidence[j].begin != evidence[i].begin || evidence[j].end != evidence[i].end;
    }
    if (first) f(i);
  }
}

struct LearnedCode {
  uint32_t code = kNoCode;
  double precision = 0;
  int documents = 0;
};

// How much a learned word group supports its code: its precision in the
// corpus, discounted when it was seen in few documents.
double Weight(const LearnedCode& lc) {
  return std::clamp(lc.precision * std::min(1.0, lc.documents / 5.0), 0.0, 0.95);
}

struct Coder::Rep {
  // Everything Create builds, over `lexicon` (the coder's own or the
  // pipeline's).
  static absl::StatusOr<std::unique_ptr<Rep>> Build(
      const CoderOptions& options, std::shared_ptr<const internal::Lexicon> lexicon);
  std::vector<AssignedCode> Assign(const Document& doc, const std::vector<Mention>& mentions,
                                   internal::ChartWords* chart_words,
                                   internal::CoderScratch* scratch) const;

  CoderOptions options;
  // The coding profile: word group -> codes it predicted in the corpus.
  absl::flat_hash_map<std::string, std::vector<LearnedCode>> learned;
  std::shared_ptr<const internal::Lexicon> lexicon;  // abbreviation and synonym rewriting
  std::vector<CombinationRule> combinations;
  std::vector<HistoryRule> history;  // longest prefix first
  // curated/adverse_effects: a drug or drug class as charts write it (lower
  // case) -> the code of its adverse effect (T36-T50, 5th or 6th character 5).
  absl::flat_hash_map<std::string, uint32_t> adverse_effects;
  std::vector<BmiRange> bmi;         // adult BMI codes (Z68.1 .. Z68.45)
  std::vector<std::string> weight_diagnoses = {"E66", "E40", "E41", "E42", "E43",
                                               "E44", "E45", "E46", "R63.6", "R64"};
  std::vector<std::string> weight_diagnosis_keys;  // undotted (built at Create)
  // B99.9, unspecified infectious disease (kNoCode when the pack lacks it).
  uint32_t unspecified_infection = kNoCode;

  // Word ids for the dominance default (Official Guidelines I.C.6.a: a
  // paralysis of the left side is of the non-dominant side and of the right
  // side of the dominant one, when dominance is not documented).
  uint32_t left_id = internal::kNone, right_id = internal::kNone, non_id = internal::kNone,
           dominant_id = internal::kNone;
  uint32_t nondominant_id = internal::kNone;  // "nondominant", one word
  std::vector<uint32_t> side_ids;  // "affecting ... side", implied by "left hemiparesis"
  std::vector<uint32_t> paralysis_ids;  // hemiplegia, hemiparesis, monoplegia, ...
  std::vector<uint32_t> qualifier_ids;  // acute, chronic, mild, moderate, severe, remission
  std::vector<uint32_t> generic_ids;    // sorted: chronic, acute, disease, disorder

  const CodeSet& codes() const { return *options.code_set; }
  Code At(uint32_t id) const { return codes().CodeAt(id); }

  // The title facts of every code, by id (built once at Create): what Refine
  // and Specify test of each descendant of a category.
  std::vector<internal::CodeTitleFacts> title_facts;
  uint32_t severity_id = internal::kNone;  // the word "severity"
  uint32_t type_word_id = internal::kNone;  // the word "type"
  void InitTitleFacts() {
    title_facts = internal::ComputeCodeTitleFacts(codes(), *lexicon);
    severity_id = lexicon->WordId(internal::NormalizeLexiconWord("severity"));
    type_word_id = lexicon->WordId(internal::NormalizeLexiconWord("type"));
  }

  void InitDominance() {
    auto id = [&](std::string_view w) { return lexicon->WordId(internal::NormalizeLexiconWord(w)); };
    left_id = id("left");
    right_id = id("right");
    non_id = id("non");
    dominant_id = id("dominant");
    nondominant_id = id("nondominant");
    for (std::string_view w : {"affecting", "side"}) {
      const uint32_t i = id(w);
      if (i != internal::kNone) side_ids.push_back(i);
    }
    for (std::string_view w : {"hemiplegia", "hemiparesis", "monoplegia", "monoparesis",
                               "paralysis", "paralytic", "hemiplegic", "weakness"}) {
      const uint32_t i = id(w);
      if (i != internal::kNone) paralysis_ids.push_back(i);
    }
    for (std::string_view w : {"acute", "chronic", "mild", "moderate", "severe", "remission"}) {
      const uint32_t i = id(w);
      if (i != internal::kNone) qualifier_ids.push_back(i);
    }
    for (std::string_view w : {"acute", "chronic", "disease", "disorder"}) {
      const uint32_t i = id(w);
      if (i != internal::kNone) generic_ids.push_back(i);
    }
    std::sort(generic_ids.begin(), generic_ids.end());
  }

  // The affirmed words of sentence `s` (of its tokens that overlap [from,
  // to)), with the dominance default added to a paralysis of one side.
  // Computed once per run of tokens per chart.
  const WordIds& SentenceWords(const Document& doc, const Sentence& s, TokenWords* token_words,
                               uint32_t from = 0, uint32_t to = 0xFFFFFFFFu) const {
    // Tokens are in text order and do not overlap: those in the window are
    // one run.
    std::span<const Token> tokens = doc.tokens_of(s);
    const Token* first = std::partition_point(
        tokens.data(), tokens.data() + tokens.size(), [&](const Token& t) { return t.end <= from; });
    const Token* last = std::partition_point(first, tokens.data() + tokens.size(),
                                             [&](const Token& t) { return t.begin < to; });
    const uint64_t key = uint64_t(first - doc.tokens().data()) << 32 |
                         uint64_t(last - doc.tokens().data());
    bool fresh = false;
    WordIds& w = token_words->Range(key, &fresh);
    if (!fresh) return w;
    AffirmedWords(std::span<const Token>(first, last), *lexicon, token_words, &w);
    if (dominant_id == internal::kNone) return w;
    // "nondominant" is "non-dominant", as most code titles write it.
    if (nondominant_id != internal::kNone && Has(w, nondominant_id) &&
        non_id != internal::kNone) {
      w.push_back(non_id);
      w.push_back(dominant_id);
      SortUnique(&w);
    }
    const bool dominance_written = Has(w, dominant_id);
    bool paralysis = false;
    for (uint32_t p : paralysis_ids) paralysis = paralysis || Has(w, p);
    if (!paralysis) return w;
    // The hand the chart says is dominant ("right-handed", "left handed"):
    // its side word names no side of the paralysis.
    int handed = 0;  // 1 left, 2 right
    const Token* hand_begin = last;
    const Token* hand_end = last;
    for (const Token* t = first; t != last && handed == 0; ++t) {
      const std::string_view n = t->norm;
      if (!n.ends_with("handed")) continue;
      hand_begin = t;
      hand_end = t + 1;
      if (n.starts_with("left")) {
        handed = 1;
      } else if (n.starts_with("right")) {
        handed = 2;
      } else if (t != first) {
        const Token* b = t - 1;
        if (b->kind == TokenKind::kPunct && b != first) --b;  // "right - handed"
        for (const internal::Lexicon::InputWord& x : token_words->Of(*b)) {
          if (x.id == left_id) handed = 1;
          if (x.id == right_id) handed = 2;
        }
        if (handed != 0) hand_begin = b;
      }
    }
    bool left = false, right = false;
    for (const Token* t = first; t != last; ++t) {
      if (t >= hand_begin && t < hand_end) continue;
      const int side = SideOf(*t, token_words);
      left = left || side == 1;
      right = right || side == 2;
    }
    if (left && right) {
      // Both sides in the words ("right hemiparesis after a left MCA
      // stroke"): the side written just before a paralysis word is its side.
      left = right = false;
      for (const Token* t = first; t != last; ++t) {
        bool paralysis_word = false;
        for (const internal::Lexicon::InputWord& x : token_words->Of(*t)) {
          for (uint32_t p : paralysis_ids) paralysis_word = paralysis_word || x.id == p;
        }
        if (!paralysis_word) continue;
        // Up to two words back, over "-sided".
        int seen = 0;
        for (const Token* b = t; b != first && seen < 3;) {
          --b;
          if (b->kind == TokenKind::kPunct) continue;
          ++seen;
          const int side = SideOf(*b, token_words);
          left = left || side == 1;
          right = right || side == 2;
          if (left || right) break;
        }
      }
    }
    if (left == right) {
      // Neither side, or both: only the hand's side word goes.
      if (handed != 0) std::erase(w, handed == 1 ? left_id : right_id);
      return w;
    }
    if (dominance_written) return WrittenDominance(first, last, left, token_words, &w);
    if (handed != 0) std::erase(w, left ? right_id : left_id);
    // Without a hand the dominant side is the right (guideline I.C.6.a).
    const bool dominant = handed == 0 ? right : (handed == 1) == left;
    w.push_back(dominant_id);
    if (!dominant && non_id != internal::kNone) w.push_back(non_id);
    w.insert(w.end(), side_ids.begin(), side_ids.end());
    SortUnique(&w);
    return w;
  }

  // The side a token names: 1 left, 2 right ("left", "L", "Rt"), else 0.
  int SideOf(const Token& t, TokenWords* token_words) const {
    for (const internal::Lexicon::InputWord& x : token_words->Of(t)) {
      if (x.id == left_id) return 1;
      if (x.id == right_id) return 2;
    }
    const std::string_view n = t.norm;
    if (n == "l" || n == "lt") return 1;
    if (n == "r" || n == "rt") return 2;
    return 0;
  }

  // A paralysis of one side (`left`, else right) in a sentence that writes
  // "dominant": the other side's word goes, and a side written before
  // "dominant" that is not the paralysis's ("left hemiparesis, right
  // dominant") is the hand, so the paralysis is of the non-dominant side.
  const WordIds& WrittenDominance(const Token* first, const Token* last, bool left,
                                  TokenWords* token_words, WordIds* w) const {
    std::erase(*w, left ? right_id : left_id);
    const auto has = [&](const Token& t, uint32_t id) {
      for (const internal::Lexicon::InputWord& x : token_words->Of(t)) {
        if (x.id == id) return true;
      }
      return false;
    };
    for (const Token* t = first; t != last; ++t) {
      if (!has(*t, dominant_id) || (non_id != internal::kNone && has(*t, non_id))) continue;
      // The side up to two words back, over punctuation ("R (dominant)").
      int side = 0;  // 1 left, 2 right
      int seen = 0;
      for (const Token* b = t; b != first && seen < 2 && side == 0;) {
        --b;
        if (b->kind == TokenKind::kPunct) continue;
        ++seen;
        if (non_id != internal::kNone && has(*b, non_id)) break;  // "non-dominant"
        side = SideOf(*b, token_words);
      }
      if (side != 0 && (side == 1) != left && non_id != internal::kNone) w->push_back(non_id);
      break;
    }
    w->insert(w->end(), side_ids.begin(), side_ids.end());
    SortUnique(w);
    return *w;
  }

  // The side `m` names itself: written inside it or up to two words before
  // it ("left hemiparesis", "L lower leg cellulitis"): the id of "left" or
  // "right", or kNone (neither, or both).
  uint32_t OwnSide(const Document& doc, const Mention& m, TokenWords* token_words) const {
    const std::span<const Token> tokens = doc.tokens_of(doc.sentences()[m.sentence]);
    bool left = false, right = false;
    int before = 0;
    for (size_t i = tokens.size(); i-- > 0;) {
      const Token& t = tokens[i];
      if (t.begin >= m.end) continue;
      if (t.end <= m.begin) {
        if (t.kind == TokenKind::kPunct) continue;
        if (++before > 2) break;
      }
      const int side = SideOf(t, token_words);
      left = left || side == 1;
      right = right || side == 2;
    }
    return left == right ? internal::kNone : left ? left_id : right_id;
  }
  // `words` less the side opposite to the one `m` names itself: in "right MCA
  // stroke with left hemiparesis" each condition keeps its own side.
  const WordIds& LessOtherSide(const Document& doc, const Mention& m, TokenWords* token_words,
                               const WordIds& words, WordIds* scratch) const {
    if (!Has(words, left_id) || !Has(words, right_id)) return words;
    const uint32_t own = OwnSide(doc, m, token_words);
    if (own == internal::kNone) return words;
    *scratch = words;
    std::erase(*scratch, own == left_id ? right_id : left_id);
    return *scratch;
  }

  // The words of the window [from, to) of `m`'s sentence that belong to
  // other mentions there (`all`: at least the mentions of that sentence) (not overlapping `m`), sorted:
  // - what the expansions of other abbreviations add and no token there
  //   writes ("chronic" of "CKD 3a" beside "afib");
  // - a qualifier ("chronic", "acute", "severe", "remission", ...) that
  //   another mention takes and that is written nowhere else in the window
  //   outside other mentions ("chronic pain and depression", "severe
  //   obesity; depression", "MDD; alcohol use disorder in remission").
  WordIds ForeignWords(const Document& doc, const Mention& m, std::span<const Mention> all,
                       TokenWords* token_words, uint32_t from, uint32_t to) const {
    WordIds expansions, qualifiers;
    const Sentence& s = doc.sentences()[m.sentence];
    const std::span<const Token> tokens = doc.tokens_of(s);
    auto qualifier_words = [&](const Token& t, WordIds* out) {
      for (const internal::Lexicon::InputWord& w : token_words->Of(t)) {
        if (std::find(qualifier_ids.begin(), qualifier_ids.end(), w.id) != qualifier_ids.end()) {
          out->push_back(w.id);
        }
      }
    };
    bool others = false;
    for (const Mention& o : all) {
      if (o.sentence != m.sentence || o.subsumed || o.end <= from || o.begin >= to ||
          (o.begin < m.end && m.begin < o.end)) {
        continue;
      }
      others = true;
      if (o.expanded) {
        const WordIds& expanded = SentenceWords(doc, s, token_words, o.begin, o.end);
        expansions.insert(expansions.end(), expanded.begin(), expanded.end());
      }
      if (o.code_id == kNoCode) continue;
      for (const Token& t : tokens) {
        if (t.begin >= o.end) break;
        for (const auto& [b, e] : o.spans) {
          if (t.begin >= b && t.end <= e) qualifier_words(t, &qualifiers);
        }
      }
    }
    if (!others) return {};
    SortUnique(&expansions);
    SortUnique(&qualifiers);
    WordIds written, written_apart;
    for (const Token& t : tokens) {
      if (t.end <= from || t.begin >= to) continue;
      for (const internal::Lexicon::InputWord& w : token_words->Of(t)) {
        if (w.id != internal::kNone) written.push_back(w.id);
      }
      if (qualifiers.empty()) continue;
      bool inside_other = false;
      for (const Mention& o : all) {
        inside_other |= o.sentence == m.sentence && !o.subsumed && o.code_id != kNoCode &&
                        t.begin >= o.begin && t.end <= o.end &&
                        !(o.begin < m.end && m.begin < o.end);
      }
      if (!inside_other) qualifier_words(t, &written_apart);
    }
    SortUnique(&written);
    SortUnique(&written_apart);
    WordIds foreign;
    std::set_difference(expansions.begin(), expansions.end(), written.begin(), written.end(),
                        std::back_inserter(foreign));
    std::set_difference(qualifiers.begin(), qualifiers.end(), written_apart.begin(),
                        written_apart.end(), std::back_inserter(foreign));
    SortUnique(&foreign);
    return foreign;
  }

  // The words of a "type N" written in the other coded mentions of `m`'s
  // sentence that do not overlap it (less what `m` itself says): a type
  // belongs to one condition ("type 2" of "type 2 diabetes mellitus" beside
  // "acute myocardial infarction"), where a site or side may be shared
  // ("bladder carcinoma ... carcinoma in situ"). `all`: at least the mentions
  // of `m`'s sentence.
  WordIds OtherMentionsTypes(const Document& doc, const Mention& m, std::span<const Mention> all,
                             TokenWords* token_words) const {
    WordIds out;
    const Sentence& s = doc.sentences()[m.sentence];
    const std::span<const Token> tokens = doc.tokens_of(s);
    for (const Mention& o : all) {
      if (o.sentence != m.sentence || o.subsumed || o.code_id == kNoCode ||
          (o.begin < m.end && m.begin < o.end)) {
        continue;
      }
      for (size_t t = 0; t + 1 < tokens.size(); ++t) {
        if (tokens[t].begin < o.begin || tokens[t + 1].end > o.end) continue;
        if (tokens[t].norm != "type" || tokens[t + 1].kind != TokenKind::kNumber) continue;
        for (size_t k : {t, t + 1}) {
          for (const internal::Lexicon::InputWord& w : token_words->Of(tokens[k])) {
            if (w.id != internal::kNone) out.push_back(w.id);
          }
        }
      }
    }
    if (out.empty()) return out;
    SortUnique(&out);
    const WordIds& own = SentenceWords(doc, s, token_words, m.begin, m.end);
    WordIds other;
    std::set_difference(out.begin(), out.end(), own.begin(), own.end(),
                        std::back_inserter(other));
    return other;
  }

  // The first rule of `history` whose prefix starts `key`: the longest
  // prefix of `key` that has a rule (rules are sorted longest first, and
  // rules of one length that both start `key` have the same prefix).
  const HistoryRule* HistoryFor(std::string_view key) const {
    for (uint32_t length : history_lengths) {
      if (key.size() < length) continue;
      if (auto it = history_by_prefix.find(key.substr(0, length)); it != history_by_prefix.end()) {
        return &history[it->second];
      }
    }
    return nullptr;
  }
  // Prefix -> index of its first rule in `history`; the prefixes' lengths,
  // longest first (built once at Create).
  absl::flat_hash_map<std::string, uint32_t, internal::StringViewHash, internal::StringViewEq>
      history_by_prefix;
  std::vector<uint32_t> history_lengths;

  // The word ids of the "without ..." phrase of a title, up to a comma or
  // the next "with", "and", "or", "in" ("... without heart failure, with
  // stage 5" -> heart, failure), stop words left out.
  // Code id -> the word ids of its title's "without ..." phrase, for the
  // titles that have one (built once at Create).
  absl::flat_hash_map<uint32_t, WordIds> without_phrases;

  // Table of Neoplasms: primary code -> the secondary code of its row
  // ("C41.4" -> C79.51), and by category for codes the table's rows do not
  // pair (the most frequent secondary of the category's rows: C41 -> C79.51).
  absl::flat_hash_map<uint32_t, uint32_t> secondary_of_code;
  absl::flat_hash_map<std::string, uint32_t> secondary_of_category;

  void InitSecondarySites() {
    static constexpr std::string_view kPrimary = " (malignant neoplasm)";
    static constexpr std::string_view kSecondary = " (secondary malignant neoplasm)";
    absl::flat_hash_map<std::string_view, uint32_t> primary_at, secondary_at;  // by site path
    for (uint32_t e = 0; e < lexicon->entry_count(); ++e) {
      if (lexicon->source(e) != internal::LexSource::kNeoplasm) continue;
      const std::string_view phrase = lexicon->phrase(e);
      if (phrase.ends_with(kPrimary)) {
        primary_at.emplace(phrase.substr(0, phrase.size() - kPrimary.size()), lexicon->code(e));
      } else if (phrase.ends_with(kSecondary)) {
        secondary_at.emplace(phrase.substr(0, phrase.size() - kSecondary.size()),
                             lexicon->code(e));
      }
    }
    absl::flat_hash_map<std::string, absl::flat_hash_map<uint32_t, int>> votes;
    for (const auto& [site, primary] : primary_at) {
      auto it = secondary_at.find(site);
      if (it == secondary_at.end() || primary == kNoCode || it->second == kNoCode) continue;
      secondary_of_code.emplace(primary, it->second);
      ++votes[std::string(At(primary).key().substr(0, 3))][it->second];
    }
    for (const auto& [category, counts] : votes) {
      uint32_t best = kNoCode;
      int best_n = 0;
      for (const auto& [code, n] : counts) {
        if (n > best_n || (n == best_n && code < best)) {
          best = code;
          best_n = n;
        }
      }
      secondary_of_category.emplace(category, best);
    }
  }

  // The secondary code of a primary malignant neoplasm's site (C41.9 ->
  // C79.51, C71 -> C79.31), or kNoCode.
  uint32_t SecondaryOf(uint32_t primary) const {
    if (auto it = secondary_of_code.find(primary); it != secondary_of_code.end()) {
      return it->second;
    }
    auto it = secondary_of_category.find(std::string(At(primary).key().substr(0, 3)));
    return it == secondary_of_category.end() ? kNoCode : it->second;
  }

  // (After InitTitleFacts: a title's phrases are parsed only when its facts
  // say it has the words they start at.)
  void InitWithoutPhrases() {
    const uint32_t n = static_cast<uint32_t>(codes().code_count());
    for (uint32_t id = 0; id < n; ++id) {
      const internal::CodeTitleFacts& f = title_facts[id];
      const std::string_view desc = At(id).description();
      if (f.has(internal::kTitleWithoutSpace)) {
        WordIds w = ComputeWithoutPhrase(desc);
        if (!w.empty()) without_phrases.emplace(id, std::move(w));
        WordIds list = WithoutList(desc);
        if (!list.empty()) without_lists.emplace(id, std::move(list));
      }
      if (f.has(internal::kTitleCommaNot)) {
        WordIds denied = ComputeNotPhrase(desc);
        if (!denied.empty()) not_phrases.emplace(id, std::move(denied));
      }
      if (f.has(internal::kTitleAnd)) {
        std::vector<std::pair<uint32_t, uint32_t>> p = ComputeSitePairs(desc);
        if (!p.empty()) site_pairs.emplace(id, std::move(p));
      }
    }
    // For each "without" list, the words of it that a title of its category
    // with no "without" names (CategoryCodesPresence).
    WordIds plain;  // the words of one category's titles with no "without"
    for (uint32_t cat = 0; cat < n;) {
      const uint32_t end = cat + 1 + static_cast<uint32_t>(At(cat).descendant_count());
      plain.clear();
      bool any_list = false;
      for (uint32_t x = cat; x < end; ++x) {
        if (title_facts[x].has(internal::kTitleWithout)) {
          any_list = any_list || without_lists.contains(x);
          continue;
        }
        const absl::Span<const uint32_t> words = lexicon->TitleWords(x);
        plain.insert(plain.end(), words.begin(), words.end());
      }
      if (any_list) {
        SortUnique(&plain);
        for (uint32_t x = cat; x < end; ++x) {
          auto it = without_lists.find(x);
          if (it == without_lists.end()) continue;
          WordIds named;
          std::set_intersection(it->second.begin(), it->second.end(), plain.begin(), plain.end(),
                                std::back_inserter(named));
          SortUnique(&named);
          if (!named.empty()) presence_words.emplace(x, std::move(named));
        }
      }
      cat = end;
    }
  }

  // "... left ankle and foot", "... right heel and midfoot": a chart that
  // names either site of the pair names the pair. Word ids of each pair.
  absl::flat_hash_map<uint32_t, std::vector<std::pair<uint32_t, uint32_t>>> site_pairs;
  std::vector<std::pair<uint32_t, uint32_t>> ComputeSitePairs(std::string_view desc) const {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (size_t at = desc.find(" and "); at != std::string_view::npos;
         at = desc.find(" and ", at + 5)) {
      const size_t w1 = desc.rfind(' ', at - 1);
      if (w1 == std::string_view::npos || w1 == 0) continue;
      const size_t side = desc.rfind(' ', w1 - 1);
      const std::string_view before =
          desc.substr(side == std::string_view::npos ? 0 : side + 1,
                      w1 - (side == std::string_view::npos ? 0 : side + 1));
      if (before != "left" && before != "right" && before != "unspecified" &&
          before != "bilateral") {
        continue;
      }
      size_t w2end = at + 5;
      while (w2end < desc.size() && desc[w2end] != ' ' && desc[w2end] != ',') ++w2end;
      auto id_of = [&](size_t begin, size_t end) {
        return lexicon->WordId(internal::NormalizeLexiconWord(desc.substr(begin, end - begin)));
      };
      const uint32_t a = id_of(w1 + 1, at);
      const uint32_t b = id_of(at + 5, w2end);
      if (a != internal::kNone && b != internal::kNone) out.emplace_back(a, b);
    }
    return out;
  }
  // Whether title word `w` of code `id` may be missing from the sentence
  // because the other site of its pair is there.
  bool Excused(uint32_t id, uint32_t w, const WordIds& sentence_words) const {
    auto it = site_pairs.find(id);
    if (it == site_pairs.end()) return false;
    for (const auto& [a, b] : it->second) {
      if ((w == a && Has(sentence_words, b)) || (w == b && Has(sentence_words, a))) return true;
    }
    return false;
  }

  const WordIds& WithoutPhrase(const Code& c) const {
    static const WordIds* const kNoWords = new WordIds();
    auto it = without_phrases.find(c.id());
    return it == without_phrases.end() ? *kNoWords : it->second;
  }

  // "Epilepsy, unspecified, not intractable, ...": the word ids after "not"
  // up to the next comma ("not elsewhere classified" and "not having
  // achieved remission" excepted: they deny nothing a chart writes).
  absl::flat_hash_map<uint32_t, WordIds> not_phrases;
  WordIds ComputeNotPhrase(std::string_view desc) const {
    WordIds out;
    const size_t at = desc.find(", not ");
    if (at == std::string_view::npos) return out;
    std::string_view phrase = desc.substr(at + 6);
    phrase = phrase.substr(0, phrase.find(','));
    if (phrase.starts_with("elsewhere") || phrase.starts_with("having")) return out;
    return ContentWordIds(phrase);
  }

  // The word ids of a title phrase, stop words left out.
  WordIds ContentWordIds(std::string_view phrase) const {
    WordIds out;
    std::vector<internal::LexWord> words;
    internal::LexiconWords(phrase, &words);
    for (const internal::LexWord& w : words) {
      if (!internal::IsLexiconStopWord(w.stem)) out.push_back(lexicon->WordId(w.stem));
    }
    return out;
  }

  WordIds ComputeWithoutPhrase(std::string_view desc) const {
    WordIds out;
    const size_t at = desc.find("without ");
    if (at == std::string_view::npos) return out;
    std::string_view phrase = desc.substr(at + 8);
    for (std::string_view stop : {",", " with ", " and ", " or ", " in "}) {
      phrase = phrase.substr(0, phrase.find(stop));
    }
    // A word the title also says before its "without" is not denied
    // ("Rheumatoid arthritis without rheumatoid factor": only "factor").
    WordIds before = ContentWordIds(desc.substr(0, at));
    std::sort(before.begin(), before.end());
    out = ContentWordIds(phrase);
    out.erase(std::remove_if(out.begin(), out.end(), [&](uint32_t w) { return Has(before, w); }),
              out.end());
    return out;
  }

  // The words of a title's whole "without ..." list (sorted): "behavioral
  // disturbance, psychotic disturbance, mood disturbance, and anxiety" (a list
  // runs to its ", and" or ", or" item), "macular edema" of "... without
  // macular edema, right eye" (else to the first comma).
  WordIds WithoutList(std::string_view desc) const {
    const size_t at = desc.find("without ");
    if (at == std::string_view::npos) return {};
    std::string_view phrase = desc.substr(at + 8);
    phrase = phrase.substr(0, phrase.find(" with "));
    size_t last = phrase.find(", and ");
    if (last == std::string_view::npos) last = phrase.find(", or ");
    phrase = phrase.substr(0, phrase.find(',', last == std::string_view::npos ? 0 : last + 2));
    WordIds out = ContentWordIds(phrase);
    std::sort(out.begin(), out.end());
    return out;
  }

  // WithoutList of code `id`'s title, computed at Create for every title
  // that has "without ".
  absl::flat_hash_map<uint32_t, WordIds> without_lists;
  // Code id -> the words of its "without" list that a code of its category
  // names with no "without" (built once at Create).
  absl::flat_hash_map<uint32_t, WordIds> presence_words;
  const WordIds& WithoutListOf(uint32_t id) const {
    static const WordIds* const kNoWords = new WordIds();
    auto it = without_lists.find(id);
    return it == without_lists.end() ? *kNoWords : it->second;
  }

  // Whether the title of `other` has every content word that the title of
  // `id` has before its "without".
  bool SaysWhatPrecedesWithout(uint32_t id, uint32_t other) const {
    const std::string_view desc = At(id).description();
    WordIds before = ContentWordIds(desc.substr(0, desc.find("without ")));
    SortUnique(&before);
    const absl::Span<const uint32_t> words = lexicon->TitleWords(other);
    return std::includes(words.begin(), words.end(), before.begin(), before.end());
  }

  // True when `d`'s title denies what the sentence affirms: every word of its
  // "without ..." phrase is among `sentence_words` ("... without heart
  // failure" when the sentence says "with heart failure").
  bool TitleDenies(const Code& d, const WordIds& sentence_words) const {
    if (sentence_words.empty()) return false;
    // (Only a title with ", not " has a not-phrase, only one with "without "
    // a without-phrase.)
    const internal::CodeTitleFacts& f = title_facts[d.id()];
    if (!f.has(internal::kTitleCommaNot | internal::kTitleWithoutSpace)) return false;
    if (f.has(internal::kTitleCommaNot)) {
      if (auto it = not_phrases.find(d.id()); it != not_phrases.end()) {
        bool all = true;
        for (uint32_t w : it->second) all &= Has(sentence_words, w);
        if (all) return true;
      }
    }
    if (!f.has(internal::kTitleWithoutSpace)) return false;
    const WordIds& without = WithoutPhrase(d);
    for (uint32_t w : without) {
      if (!Has(sentence_words, w)) return false;
    }
    return !without.empty();
  }

  // Whether a code of `did`'s category names, with no "without", a word of
  // `did`'s "without ..." list that `base` does not: then the list is a
  // default the chart need not write.
  bool CategoryCodesPresence(uint32_t did, absl::Span<const uint32_t> base) const {
    auto it = presence_words.find(did);
    if (it == presence_words.end()) return false;
    for (uint32_t w : it->second) {
      if (!Has(base, w)) return true;
    }
    return false;
  }

  // A billable code that is a default of its category ("without
  // complications", "unspecified severity") gives way to a code of the same
  // category whose added title words the sentence all has (E11.9 with
  // "hyperglycemia" in the sentence is E11.65; F02.80 with "moderate" and
  // "agitation" is F02.B11).
  // Whether Refine may give another code than `id` (a default title);
  // otherwise it gives `id`, whatever the words.
  bool IsRefinable(uint32_t id) const { return title_facts[id].has(internal::kTitleDefault); }
  // What a default says, less what it says is absent and its "unspecified
  // severity": a refinement may say the opposite ("F02.80 ... unspecified
  // severity, without behavioral disturbance" gives way to "F02.B18 ...
  // moderate, with other behavioral disturbance"). Most defaults drop
  // nothing: their base is their title words; the others' are computed once
  // at Create (after InitWithoutPhrases).
  static constexpr uint32_t kTitleMayDrop = internal::kTitleWithoutSpace |
                                            internal::kTitleCommaNot |
                                            internal::kTitleUnspecifiedSeverity;
  struct RefineBase {
    uint32_t begin = 0, size = 0;  // in refine_base_words
    uint64_t signature = 0;        // internal::WordSignature of the words
  };
  std::vector<uint32_t> refine_base_words;
  absl::flat_hash_map<uint32_t, RefineBase> refine_bases;  // the defaults that drop words
  internal::BillableCodes billable;  // every category's billable codes
  void InitRefineBases() {
    billable = internal::BillableCodes(codes(), title_facts);
    const uint32_t n = static_cast<uint32_t>(codes().code_count());
    WordIds drop;
    for (uint32_t id = 0; id < n; ++id) {
      if (!IsRefinable(id) || !title_facts[id].has(kTitleMayDrop)) continue;
      drop = WithoutPhrase(At(id));
      if (auto it = not_phrases.find(id); it != not_phrases.end()) {
        drop.insert(drop.end(), it->second.begin(), it->second.end());
      }
      if (title_facts[id].has(internal::kTitleUnspecifiedSeverity)) drop.push_back(severity_id);
      if (drop.empty()) continue;
      std::sort(drop.begin(), drop.end());
      const absl::Span<const uint32_t> title = lexicon->TitleWords(id);
      const size_t begin = refine_base_words.size();
      for (uint32_t w : title) {
        if (!Has(drop, w)) refine_base_words.push_back(w);
      }
      const size_t size = refine_base_words.size() - begin;
      if (size == title.size()) {
        refine_base_words.resize(begin);
        continue;
      }
      refine_bases[id] = {static_cast<uint32_t>(begin), static_cast<uint32_t>(size),
                          internal::WordSignature(absl::MakeConstSpan(refine_base_words)
                                                      .subspan(begin, size))};
    }
    refine_base_words.shrink_to_fit();
  }
  // The base words of refinable code `id` and their signature.
  std::pair<absl::Span<const uint32_t>, uint64_t> BaseOf(uint32_t id) const {
    const internal::CodeTitleFacts& f = title_facts[id];
    if (f.has(kTitleMayDrop)) {
      if (auto it = refine_bases.find(id); it != refine_bases.end()) {
        return {absl::MakeConstSpan(refine_base_words).subspan(it->second.begin, it->second.size),
                it->second.signature};
      }
    }
    return {lexicon->TitleWords(id), f.words};
  }
  std::pair<uint32_t, std::string> Refine(uint32_t id, const WordIds& sentence_words) const {
    const internal::CodeTitleFacts& facts = title_facts[id];
    if (!IsRefinable(id)) return {id, ""};
    const Code c = At(id);
    const auto [base, base_signature] = BaseOf(id);
    uint32_t best = id;
    size_t best_matched = 0;
    const bool residual_default = facts.has(internal::kTitleResidual);
    // The billable descendants of the category, with their title facts: these
    // rule out most of them without reading their titles: a descendant's
    // signature must have every bit of the base words', and (unless words
    // may be excused: a "without" list, a site pair) no bit that neither the
    // base words nor the sentence has.
    const uint64_t said = base_signature | internal::WordSignature(sentence_words);
    absl::InlinedVector<uint32_t, 16> extra;
    for (const internal::BillableCodes::Entry& e : billable.InCategoryOf(id)) {
      const internal::CodeTitleFacts& f = e.facts;
      const uint32_t did = e.id;
      if (!f.MayHaveAll(base_signature) ||
          (!f.has(internal::kTitleWithoutSpace | internal::kTitleAnd) && (f.words & ~said) != 0) ||
          did == id) {
        continue;
      }
      const Code d = At(did);
      const absl::Span<const uint32_t> words = lexicon->TitleWords(did);
      // It must say everything `c` says, and more.
      if (!std::includes(words.begin(), words.end(), base.begin(), base.end())) continue;
      // The words it adds (more than 4 rule it out, unless its "without"
      // list takes them away).
      extra.clear();
      std::set_difference(words.begin(), words.end(), base.begin(), base.end(),
                          std::back_inserter(extra));
      // What its title says is absent the sentence need not say: F02.80 with
      // "mild" is F02.A0 "..., mild, without behavioral disturbance, psychotic
      // disturbance, mood disturbance, and anxiety".
      if (f.has(internal::kTitleWithoutSpace)) {
        const WordIds& absent = WithoutListOf(did);
        // Only where the category also codes their presence: "without
        // rheumatoid factor" (M06.0-) is a finding the chart must write, the
        // factor's presence being another category's (M05): "rheumatoid
        // arthritis of hand" is no M06.04-.
        if (!CategoryCodesPresence(did, base)) {
          // (Or `c` says it: M06.00 "... without rheumatoid factor,
          // unspecified site" with "right hand" is M06.041.)
          const WordIds& said_absent = WithoutListOf(id);
          bool written = true;
          for (uint32_t w : absent) {
            written = written && (Has(base, w) || Has(said_absent, w) || Has(sentence_words, w));
          }
          if (!written) continue;
        } else if (extra.size() > 1) {
          extra.erase(std::remove_if(extra.begin(), extra.end(),
                                     [&](uint32_t w) { return Has(absent, w); }),
                      extra.end());
        }
      }
      if (extra.empty() || extra.size() > 4) continue;
      bool all = true;
      for (uint32_t w : extra) {
        all = all && (Has(sentence_words, w) || Excused(did, w, sentence_words));
      }
      if (!all) continue;
      // (Tested after the word tests, which rule out most descendants.)
      if (TitleDenies(d, sentence_words)) continue;
      // A residual ("Other ...", "... of other arteries") is for a condition
      // the chart names and the classification does not: words of its title
      // in the sentence ("temporal artery" beside atherosclerosis) do not
      // make I70.90 into I70.8 "of other arteries". Within a residual it is
      // a site or type like any other (M86.60 "Other chronic osteomyelitis,
      // unspecified site" -> M86.672). (Tested last: a title search costs
      // more than the word tests above, which rule out most descendants.)
      if (!residual_default && f.has(internal::kTitleResidual)) continue;
      // On a tie, the code nearest the default in the tree (G40.909 "not
      // intractable" -> G40.919, not G40.804 "other epilepsy").
      auto shared = [&](const Code& x) {
        const std::string_view a = x.key(), b = c.key();
        size_t k = 0;
        while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
        return k;
      };
      if (extra.size() > best_matched ||
          (extra.size() == best_matched && best != id && shared(d) > shared(At(best)))) {
        best = d.id();
        best_matched = extra.size();
      }
    }
    if (best == id) return {id, ""};
    return {best, StrCat("specified from ", c.code(), " by the words of its sentence")};
  }

  // The billable code that `id` stands for in this sentence: itself, or the
  // descendant whose extra title words the sentence has (laterality, type,
  // the 7th character), or its default (unspecified / initial encounter).
  // `near` (optional): the words around the mention; among children the
  // sentence supports equally, the one whose words stand near wins ("stage 4
  // sacral pressure ulcer ... ~3 weeks ago" is stage 4).
  std::pair<uint32_t, std::string> Specify(uint32_t id, const WordIds& sentence_words,
                                           const WordIds* near = nullptr) const {
    Code c = At(id);
    if (c.billable()) return Refine(id, sentence_words);
    const absl::Span<const uint32_t> base = lexicon->TitleWords(id);
    double best_score = -1e9;
    uint32_t best = kNoCode;
    double default_score = -1e9;
    uint32_t default_id = kNoCode;
    std::vector<uint32_t> extra;
    // The descendants are the ids after `id`; what is read of their titles
    // is in their title facts.
    const uint32_t end = id + 1 + static_cast<uint32_t>(c.descendant_count());
    for (uint32_t did = id + 1; did < end; ++did) {
      const internal::CodeTitleFacts& f = title_facts[did];
      if (!f.has(internal::kTitleBillable)) continue;
      const Code d = At(did);
      const bool denied = TitleDenies(d, sentence_words);
      // A 7th character is chosen apart (SeventhCharacter): here its code
      // competes with the words of the code it extends, so that "initial
      // encounter for closed fracture" does not weigh against "left wrist".
      const bool seventh = f.has(internal::kTitleSeventhExpansion);
      int matched = AddedWords(lexicon->TitleWords(seventh ? d.parent()->id() : did), base,
                               sentence_words, &extra);
      // "with unspecified type of pneumonia" (J10.00) asks the chart for
      // pneumonia, not for the word "type".
      if (f.has(internal::kTitleUnspecifiedType) && type_word_id != internal::kNone) {
        if (auto t = std::find(extra.begin(), extra.end(), type_word_id); t != extra.end()) {
          matched -= Has(sentence_words, type_word_id);
          extra.erase(t);
        }
      }
      const EncounterTitle encounter(f);
      const bool unspecified = f.has(internal::kTitleUnspecified);
      // A title that denies what a sibling says ("without ...", "not
      // intractable") is what the chart means when it says neither.
      const bool without = f.has(internal::kTitleWithout | internal::kTitleNotIntractable);
      // The default a coder takes when the chart says no more: "uncomplicated"
      // (F17.210), then "unspecified", and the initial encounter for a 7th
      // character.
      const bool uncomplicated = f.has(internal::kTitleUncomplicated);
      // A descendant is chosen for its words only when the sentence has at
      // least two thirds of what its title adds (laterality, type, stage...);
      // otherwise the default child stands.
      const double support =
          extra.empty() ? 0 : static_cast<double>(matched) / static_cast<double>(extra.size());
      const double depth_penalty = 0.001 * f.depth;
      if (matched > 0 && support >= 0.66 && !denied &&
          !OnlyGenericWordsSaid(extra, sentence_words)) {
        int matched_near = 0;
        if (near != nullptr) {
          for (uint32_t w : extra) matched_near += Has(*near, w);
        }
        const double score = 2.0 * matched + support - 0.05 * (extra.size() - matched) +
                             0.1 * matched_near - depth_penalty;
        if (score > best_score) {
          best_score = score;
          best = d.id();
        }
      }
      // Each word a child adds that the chart does not say counts against it.
      // A later encounter or a sequela must be written; a fracture not said
      // to be open is closed (guideline I.C.19.c.1).
      // An inclusion term "... NOS" names the form the chart writes without
      // qualifiers ("Influenza due to other identified influenza virus NOS"
      // is J10.1, not J10.00 "with unspecified type of pneumonia").
      // (The parent's: a grandchild's "NOS" names its own parent's form.)
      const bool nos = f.has(internal::kTitleNosInclusion) && d.parent()->id() == id;
      const double dscore = (encounter.initial ? 0.6 : 0) + (unspecified ? 0.4 : 0) +
                            (nos ? 0.8 : 0) +
                            (uncomplicated ? 0.7 : without ? 0.3 : 0) -
                            (encounter.later ? 1.0 : 0) + (encounter.closed ? 0.2 : 0) +
                            0.1 * matched -
                            0.35 * static_cast<double>(extra.size()) - depth_penalty -
                            (denied ? 5.0 : 0);
      if (dscore > default_score) {
        default_score = dscore;
        default_id = d.id();
      }
    }
    if (best == kNoCode) best = default_id;
    if (best == kNoCode) return {id, ""};
    if (At(best).is_seventh_character_expansion()) {
      best = SeventhCharacter(At(best).parent()->id(), sentence_words);
    }
    return {best, StrCat("specified from ", c.code())};
  }

  // The words `title` adds to `base` (into `extra`, both sorted), and how
  // many of them the sentence has.
  // Whether the sentence has only the generic words of those a child's
  // title adds ("chronic", "disease") and not the one that names its
  // condition: E11.22 "... with diabetic chronic kidney disease" is not
  // written by "COPD, DM2", whose expansion brings "chronic" and "disease".
  bool OnlyGenericWordsSaid(const std::vector<uint32_t>& extra,
                            const WordIds& sentence_words) const {
    bool named_unsaid = false;
    for (uint32_t w : extra) {
      const bool generic = std::binary_search(generic_ids.begin(), generic_ids.end(), w);
      if (Has(sentence_words, w)) {
        if (!generic) return false;
      } else {
        named_unsaid = named_unsaid || !generic;
      }
    }
    return named_unsaid;
  }

  static int AddedWords(absl::Span<const uint32_t> title, absl::Span<const uint32_t> base,
                        const WordIds& sentence_words, std::vector<uint32_t>* extra) {
    extra->clear();
    std::set_difference(title.begin(), title.end(), base.begin(), base.end(),
                        std::back_inserter(*extra));
    int matched = 0;
    for (uint32_t w : *extra) matched += Has(sentence_words, w);
    return matched;
  }

  // The 7th character of `parent` ("S62.102") the sentence states
  // ("subsequent encounter ... routine healing": D), else the initial
  // encounter, for a closed fracture when the title distinguishes.
  uint32_t SeventhCharacter(uint32_t parent, const WordIds& sentence_words) const {
    const absl::Span<const uint32_t> base = lexicon->TitleWords(parent);
    uint32_t best = kNoCode;
    double best_score = -1e9;
    std::vector<uint32_t> extra;
    for (const Code& d : At(parent).children()) {
      if (!d.billable()) continue;
      int matched = AddedWords(lexicon->TitleWords(d.id()), base, sentence_words, &extra);
      const EncounterTitle e(title_facts[d.id()]);
      // "Subsequently" alone is no subsequent encounter.
      if (e.later && matched < 2 && !(extra.size() == 1 && matched == 1)) matched = 0;
      const double score = 2.0 * matched - 0.3 * static_cast<double>(extra.size() - matched) +
                           (e.initial ? 0.6 : 0) + (e.closed ? 0.2 : 0) - (e.later ? 1.0 : 0) +
                           (e.routine ? 0.65 : 0);
      if (score > best_score) {
        best_score = score;
        best = d.id();
      }
    }
    return best == kNoCode ? parent : best;
  }
};

Coder::Coder(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Coder::~Coder() = default;

absl::StatusOr<std::unique_ptr<Coder>> Coder::Create(const CoderOptions& options) {
  if (options.code_set == nullptr) {
    return absl::InvalidArgumentError("Coder needs a code set (CoderOptions::code_set)");
  }
  CC_ASSIGN_OR_RETURN(std::unique_ptr<internal::Lexicon> lexicon,
                      internal::Lexicon::Create(*options.code_set));
  return internal::CoderAccess::Create(options, std::move(lexicon));
}

absl::StatusOr<std::unique_ptr<Coder>> internal::CoderAccess::Create(
    const CoderOptions& options, std::shared_ptr<const Lexicon> lexicon) {
  if (options.code_set == nullptr) {
    return absl::InvalidArgumentError("Coder needs a code set (CoderOptions::code_set)");
  }
  CC_ASSIGN_OR_RETURN(std::unique_ptr<Coder::Rep> rep,
                      Coder::Rep::Build(options, std::move(lexicon)));
  return std::unique_ptr<Coder>(new Coder(std::move(rep)));
}

absl::StatusOr<std::unique_ptr<Coder::Rep>> Coder::Rep::Build(
    const CoderOptions& options, std::shared_ptr<const internal::Lexicon> lexicon) {
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  const CodeSet& codes = *options.code_set;
  rep->lexicon = std::move(lexicon);
  rep->InitDominance();
  rep->InitTitleFacts();
  rep->InitWithoutPhrases();
  rep->InitRefineBases();
  for (const std::string& p : rep->weight_diagnoses) rep->weight_diagnosis_keys.push_back(Undot(p));
  if (const std::optional<Code> b999 = codes.Find("B99.9")) rep->unspecified_infection = b999->id();
  rep->InitSecondarySites();
  auto resolve = [&](std::string_view table, size_t row,
                     std::string_view code) -> absl::StatusOr<uint32_t> {
    std::optional<Code> c = codes.Find(code);
    if (!c) {
      return absl::InvalidArgumentError(
          StrCat("curated/", table, " row ", row + 1, ": unknown code ", code));
    }
    return c->id();
  };
  {
    CC_ASSIGN_OR_RETURN(ReferenceTable t, codes.Table("curated/combination_rules"));
    const int when = t.ColumnIndex("when"), with = t.ColumnIndex("with"),
              assign = t.ColumnIndex("assign"), drop = t.ColumnIndex("drop"),
              note = t.ColumnIndex("note");
    if (when < 0 || with < 0 || assign < 0 || drop < 0) {
      return absl::InvalidArgumentError(
          "curated/combination_rules needs columns when, with, assign, drop");
    }
    for (size_t r = 0; r < t.row_count(); ++r) {
      CombinationRule rule;
      std::string_view when_cell = t.cell(r, when);
      if (const size_t lt = when_cell.find('<'); lt != std::string_view::npos) {
        rule.when_origin = Undot(when_cell.substr(lt + 1));
        when_cell = when_cell.substr(0, lt);
        if (rule.when_origin.empty()) {
          return absl::InvalidArgumentError(
              StrCat("curated/combination_rules row ", r + 1, ": empty origin after '<'"));
        }
      }
      rule.when = Undot(when_cell);
      rule.with = Undot(t.cell(r, with));
      rule.when_category = CategoryOf(rule.when);
      rule.with_category = CategoryOf(rule.with);
      if (t.cell(r, assign) == "-") {
        rule.assign = kNoCode;  // a pure exclusion: only `drop`
      } else {
        CC_ASSIGN_OR_RETURN(rule.assign, resolve("combination_rules", r, t.cell(r, assign)));
      }
      for (std::string_view d : internal::Split(t.cell(r, drop), ' ', true)) {
        rule.drop.push_back(Undot(d));
      }
      if (note >= 0) rule.note = std::string(t.cell(r, note));
      if (rule.when.empty() || rule.with.empty()) {
        return absl::InvalidArgumentError(StrCat(
            "curated/combination_rules row ", r + 1, ": empty prefix or non-billable result"));
      }
      rep->combinations.push_back(std::move(rule));
    }
  }
  {
    CC_ASSIGN_OR_RETURN(ReferenceTable t, codes.Table("curated/history_codes"));
    const int prefix = t.ColumnIndex("prefix"), hist = t.ColumnIndex("historical");
    if (prefix < 0 || hist < 0) {
      return absl::InvalidArgumentError("curated/history_codes needs columns prefix, historical");
    }
    for (size_t r = 0; r < t.row_count(); ++r) {
      HistoryRule h;
      h.prefix = Undot(t.cell(r, prefix));
      std::string_view v = t.cell(r, hist);
      if (v == "current") {
        h.kind = HistoryKind::kCurrent;
      } else if (v == "keep") {
        h.kind = HistoryKind::kKeep;
      } else if (v == "keep_if_current") {
        h.kind = HistoryKind::kKeepIfCurrent;
      } else {
        h.kind = HistoryKind::kCode;
        CC_ASSIGN_OR_RETURN(h.code, resolve("history_codes", r, v));
      }
      rep->history.push_back(std::move(h));
    }
    std::stable_sort(rep->history.begin(), rep->history.end(),
                     [](const HistoryRule& a, const HistoryRule& b) {
                       return a.prefix.size() > b.prefix.size();
                     });
    for (uint32_t i = 0; i < rep->history.size(); ++i) {
      const std::string& prefix = rep->history[i].prefix;
      rep->history_by_prefix.try_emplace(prefix, i);
      const uint32_t length = static_cast<uint32_t>(prefix.size());
      if (rep->history_lengths.empty() || rep->history_lengths.back() != length) {
        rep->history_lengths.push_back(length);
      }
    }
  }
  {
    CC_ASSIGN_OR_RETURN(ReferenceTable t, codes.Table("curated/adverse_effects"));
    const int drug = t.ColumnIndex("drug"), code = t.ColumnIndex("code");
    if (drug < 0 || code < 0) {
      return absl::InvalidArgumentError("curated/adverse_effects needs columns drug, code");
    }
    for (size_t r = 0; r < t.row_count(); ++r) {
      CC_ASSIGN_OR_RETURN(const uint32_t id, resolve("adverse_effects", r, t.cell(r, code)));
      if (!codes.CodeAt(id).billable()) {
        return absl::InvalidArgumentError(StrCat("curated/adverse_effects row ", r + 1, ": ",
                                                 t.cell(r, code), " is not billable"));
      }
      rep->adverse_effects.emplace(internal::AsciiLower(t.cell(r, drug)), id);
    }
  }
  if (!options.profile.empty()) {
    const std::string name = StrCat("profile/", options.profile);
    absl::StatusOr<ReferenceTable> t = codes.Table(name);
    if (!t.ok()) {
      return absl::NotFoundError(StrCat("no coding profile '", options.profile,
                                        "' in the data pack (build it with chartcoder pack "
                                        "--train ", options.profile, "=FILE)"));
    }
    const int gram = t->ColumnIndex("gram"), code = t->ColumnIndex("code"),
              docs = t->ColumnIndex("documents"), prec = t->ColumnIndex("precision");
    if (gram < 0 || code < 0 || docs < 0 || prec < 0) {
      return absl::DataLossError(StrCat(name, " lacks gram, code, documents or precision"));
    }
    for (size_t row = 0; row < t->row_count(); ++row) {
      std::optional<Code> c = codes.Find(t->cell(row, code));
      if (!c) continue;  // a code of another edition
      LearnedCode lc;
      lc.code = c->id();
      internal::ParseDouble(t->cell(row, prec), &lc.precision);
      internal::ParseInt(t->cell(row, docs), &lc.documents);
      rep->learned[std::string(t->cell(row, gram))].push_back(lc);
    }
  }
  // Adult BMI codes, from their titles: "Body mass index [BMI] 40.0-44.9,
  // adult", "... 19.9 or less, adult", "... 70 or greater, adult".
  if (std::optional<Code> z68 = codes.Find("Z68")) {
    for (const Code& d : z68->descendants()) {
      std::string_view desc = d.description();
      if (!d.billable() || !Contains(desc, "adult")) continue;
      std::vector<double> numbers;
      size_t i = 0;
      while (i < desc.size()) {
        if (desc[i] >= '0' && desc[i] <= '9') {
          size_t j = i;
          while (j < desc.size() && ((desc[j] >= '0' && desc[j] <= '9') || desc[j] == '.')) ++j;
          double v = 0;
          if (internal::ParseDouble(desc.substr(i, j - i), &v)) numbers.push_back(v);
          i = j;
        } else {
          ++i;
        }
      }
      BmiRange range;
      range.code = d.id();
      if (numbers.size() == 2) {
        range.lo = numbers[0];
        range.hi = numbers[1] + 0.0999;
      } else if (numbers.size() == 1 && Contains(desc, "less")) {
        range.lo = 0;
        range.hi = numbers[0] + 0.0999;
      } else if (numbers.size() == 1 && Contains(desc, "greater")) {
        range.lo = numbers[0];
        range.hi = 1e9;
      } else {
        continue;
      }
      rep->bmi.push_back(range);
    }
  }
  return rep;
}

std::vector<AssignedCode> Coder::Assign(const Document& doc,
                                        const std::vector<Mention>& mentions) const {
  internal::ChartWords chart_words(*rep_->lexicon);
  internal::CoderScratch scratch;
  return rep_->Assign(doc, mentions, &chart_words, &scratch);
}

std::vector<AssignedCode> internal::CoderAccess::Assign(const Coder& coder, const Document& doc,
                                                        const std::vector<Mention>& mentions,
                                                        ChartWords* words, CoderScratch* scratch) {
  return coder.rep_->Assign(doc, mentions, words, scratch);
}

std::vector<AssignedCode> Coder::Rep::Assign(const Document& doc,
                                             const std::vector<Mention>& mentions,
                                             internal::ChartWords* chart_words,
                                             internal::CoderScratch* scratch) const {
  const Rep& r = *this;
  const CodeSet& codes = r.codes();
  const auto sentences = doc.sentences();
  // Sentence words, computed once per sentence (or window) that needs them.
  TokenWords token_words(doc, chart_words, scratch);
  auto words_of = [&](uint32_t si) -> const WordIds& {
    return r.SentenceWords(doc, sentences[si], &token_words);
  };
  std::map<uint32_t, Candidate> candidates;
  auto add = [&](uint32_t code, CodeEvidence&& ev, std::string derivation) {
    Candidate& c = candidates[code];
    c.code = code;
    if (c.derivation.empty() || c.derivation == "lexicon") c.derivation = std::move(derivation);
    c.evidence.push_back(std::move(ev));
  };
  auto evidence_of = [&](const Mention& m, double weight, Assertion assertion) {
    CodeEvidence ev;
    ev.begin = m.begin;
    ev.end = m.end;
    ev.spans = m.spans;
    ev.sentence_begin = sentences[m.sentence].begin;
    ev.sentence_end = sentences[m.sentence].end;
    ev.section = m.section;
    ev.assertion = std::move(assertion);
    ev.lexicon_phrase = m.lexicon_phrase;
    ev.source = m.source;
    ev.mention_code = m.code;
    ev.weight = weight;
    return ev;
  };
  static const std::set<std::string> kResolved = {"resolv", "resolut", "cure", "remit", "heal"};

  // A chart with an assessment, plan, diagnosis list or problem list states
  // its diagnoses there; a symptom named only elsewhere (a screen, the HPI,
  // the exam) is not coded, and other conditions named only elsewhere count
  // for less.
  bool has_assessment = false;
  for (const Section& sec : doc.sections()) {
    has_assessment |= IsAssessmentSection(sec.kind);
  }
  // Sections whose header says their conditions are ruled out ("CONDITIONS
  // RULED OUT", "Excluded diagnoses").
  std::set<uint32_t> ruled_out_sections;
  {
    const auto sections = doc.sections();
    for (uint32_t i = 0; i < sections.size(); ++i) {
      const std::string header = internal::AsciiLower(doc.text().substr(
          sections[i].header_begin, sections[i].header_end - sections[i].header_begin));
      if (Contains(header, "ruled out") || Contains(header, "rule out") ||
          Contains(header, "excluded") || Contains(header, "negative")) {
        ruled_out_sections.insert(i);
      }
    }
  }
  // A list under a header line that rules its items out ("CONDITIONS RULED
  // OUT", "Excluded:"), within a section. Asked for every mention of a list
  // item at each test of it: kept per sentence (0 unknown, 1 no, 2 yes).
  std::vector<uint8_t> ruled_out_header(sentences.size(), 0);
  auto under_ruled_out_header = [&](uint32_t si) {
    uint8_t& known = ruled_out_header[si];
    if (known != 0) return known == 2;
    bool ruled = false;
    uint32_t h = si;
    int steps = 0;
    while (h > 0 && steps++ < 60) {
      --h;
      const Sentence& prev = sentences[h];
      if (prev.section != sentences[si].section) break;
      if (prev.is(kSentenceListItem)) continue;
      const std::string line = internal::AsciiLower(doc.text_of(prev));
      ruled = Contains(line, "ruled out") || Contains(line, "rule out") ||
              Contains(line, "excluded");
      break;
    }
    known = ruled ? 2 : 1;
    return ruled;
  };
  auto ruled_out = [&](const Mention& m) {
    return (!ruled_out_sections.empty() &&
            ruled_out_sections.contains(sentences[m.sentence].section)) ||
           (sentences[m.sentence].is(kSentenceListItem) && under_ruled_out_header(m.sentence));
  };
  auto affirmed = [&](const Mention& m, bool uncertain_ok) {
    const Assertion& a = m.assertion;
    return !(a.negated || a.hypothetical || a.family || ruled_out(m) ||
             (a.uncertain && !uncertain_ok));
  };
  const bool uncertain_ok = r.options.code_uncertain_diagnoses || IsInpatientRecord(doc);
  const int latest_year = LatestYear(doc);
  // The assessment is the authority: a condition the assessment names only
  // as ruled out, possible or a relative's is not coded from the other
  // sections.
  std::vector<uint32_t> doubted_in_assessment, affirmed_in_assessment;  // sorted
  for (const Mention& m : mentions) {
    if (m.subsumed || m.code_id == kNoCode || !IsAssessmentSection(m.section)) continue;
    (affirmed(m, uncertain_ok) ? affirmed_in_assessment : doubted_in_assessment)
        .push_back(m.code_id);
  }
  for (std::vector<uint32_t>* v : {&doubted_in_assessment, &affirmed_in_assessment}) {
    SortUnique(v);
  }
  // "No current psychosis.", "no longer on dialysis.": the chart says the
  // condition is absent now. Its other affirmed mentions in that section (or
  // anywhere, when the statement is in the assessment) tell of the past
  // ("psychosis occurred only during mania"). Only a statement that is the
  // whole clause counts: "no current signs of heart failure exacerbation"
  // says nothing against the heart failure.
  absl::flat_hash_map<uint32_t, std::set<uint32_t>> absent_now;  // code -> sections
  for (const Mention& m : mentions) {
    if (m.subsumed || m.code_id == kNoCode || !m.assertion.negated) continue;
    for (const Cue& c : m.assertion.cues) {
      if (c.kind != CueKind::kNegation || c.end > m.begin || m.begin - c.end > 1) continue;
      const std::string cue = internal::AsciiLower(doc.text().substr(c.begin, c.end - c.begin));
      if (!Contains(cue, "current") && !Contains(cue, "longer") && !Contains(cue, "active") &&
          !Contains(cue, "ongoing")) {
        continue;
      }
      const std::string_view rest = doc.text().substr(m.end, 2);
      if (!rest.empty() && rest[0] != '.' && rest[0] != ';' && rest[0] != '\n' &&
          rest[0] != ',') {
        continue;
      }
      absent_now[m.code_id].insert(sentences[m.sentence].section);
    }
  }
  auto absent_now_of = [&](const Mention& m) {
    auto it = absent_now.find(m.code_id);
    if (it == absent_now.end()) return false;
    if (it->second.contains(sentences[m.sentence].section)) return true;
    for (uint32_t sec : it->second) {
      if (IsAssessmentSection(doc.sections()[sec].kind)) return true;
    }
    return false;
  };
  // A code written in the chart ("E11.22") takes the assertion of the words
  // around it, and counts for less unless those words name a condition of
  // its category (typed codes are often stale or wrong).
  std::vector<Mention>& adjusted = scratch->adjusted;  // (its capacity kept)
  const std::vector<Mention>* all = &mentions;
  bool any_code_in_text = false;
  for (const Mention& m : mentions) any_code_in_text |= m.source == LexiconSource::kCodeInText;
  std::set<size_t> uncorroborated, contradicted;
  if (any_code_in_text) {
    adjusted = mentions;
    // The lexicon mentions of each sentence.
    absl::flat_hash_map<uint32_t, std::vector<const Mention*>> by_sentence;
    for (const Mention& o : mentions) {
      if (o.source != LexiconSource::kCodeInText && !o.subsumed) {
        by_sentence[o.sentence].push_back(&o);
      }
    }
    for (size_t i = 0; i < adjusted.size(); ++i) {
      Mention& m = adjusted[i];
      if (m.source != LexiconSource::kCodeInText) continue;
      bool corroborated = false;
      auto it = by_sentence.find(m.sentence);
      if (it == by_sentence.end()) {
        uncorroborated.insert(i);
        continue;
      }
      for (const Mention* op : it->second) {
        const Mention& o = *op;
        const Assertion& oa = o.assertion;
        if (oa.negated || oa.uncertain || oa.historical || oa.hypothetical || oa.family) {
          m.assertion.negated |= oa.negated;
          m.assertion.uncertain |= oa.uncertain;
          m.assertion.historical |= oa.historical;
          m.assertion.hypothetical |= oa.hypothetical;
          m.assertion.family |= oa.family;
        }
        if (o.code.substr(0, 3) != m.code.substr(0, 3)) continue;
        corroborated = true;
        // The words name another code of the category, and the typed one
        // says no more than they do: it is stale ("Depression ... F32.9", a
        // pre-FY2022 code for depression NOS, is F32.A now). A typed code
        // that says more than a default stays ("Diabetes ... E11.22").
        if (o.code_id != kNoCode && o.code_id != m.code_id && m.code_id != kNoCode) {
          const Code oc = codes.CodeAt(o.code_id), mc = codes.CodeAt(m.code_id);
          if (oc.billable() && !oc.Contains(mc) &&
              (!IsDefaultTitle(oc.description()) || IsDefaultTitle(mc.description()))) {
            contradicted.insert(i);
          }
        }
      }
      if (!corroborated) uncorroborated.insert(i);
    }
    all = &adjusted;
  }
  // A secondary neoplasm (C77-C79) whose words begin with a primary cancer
  // took the primary's site: "breast cancer with liver metastases" read as
  // metastases to the breast around "liver metastases", "colon cancer
  // metastasized to liver" as metastases to the colon. It is not coded when
  // another secondary stands inside it or its words end in the "to" of
  // "metastatic to"; the primary is coded from its own words. (Lists such as
  // "lymph node and adrenal metastases" begin with no primary.)
  auto secondary = [&](const Mention& m) {
    const std::string_view k = m.code;
    return k.size() >= 3 && k[0] == 'C' && k[1] == '7' && k[2] >= '7' && k[2] <= '9';
  };
  auto primary = [&](const Mention& m) {
    const std::string_view k = m.code;
    return k.size() >= 3 && k[0] == 'C' && !secondary(m) && !k.starts_with("C80");
  };
  std::set<size_t> crossed, promoted;
  for (size_t i = 0; i < all->size(); ++i) {
    const Mention& m = (*all)[i];
    if (m.subsumed || m.code_id == kNoCode || !secondary(m)) continue;
    int first_primary = -1;
    bool inner_secondary = false;
    for (size_t j = 0; j < all->size(); ++j) {
      const Mention& o = (*all)[j];
      if (j == i || o.sentence != m.sentence || o.code_id == m.code_id ||
          !(m.begin <= o.begin && o.end <= m.end && o.end - o.begin < m.end - m.begin)) {
        continue;
      }
      if (!o.subsumed && secondary(o)) inner_secondary = true;
      if (o.begin == m.begin && primary(o) &&
          !Contains(internal::AsciiLower(doc.text().substr(o.begin, o.end - o.begin)), "meta") &&
          (first_primary < 0 || (*all)[first_primary].subsumed)) {
        first_primary = static_cast<int>(j);
      }
    }
    // "liver metastases from colon cancer": the site after "from" is the
    // primary ("metastases from colon" is no metastasis to the colon); a
    // primary there that this mention hid is coded.
    const std::string text = internal::AsciiLower(doc.text().substr(m.begin, m.end - m.begin));
    if (const size_t from = text.find(" from "); from != std::string::npos) {
      const std::string_view head = std::string_view(text).substr(0, from);
      if (Contains(head, "metasta") || Contains(head, "mets") || Contains(head, "secondar")) {
        crossed.insert(i);
        const uint32_t site = m.begin + static_cast<uint32_t>(from) + 6;
        for (size_t j = 0; j < all->size(); ++j) {
          const Mention& o = (*all)[j];
          if (o.subsumed && o.sentence == m.sentence && primary(o) && o.end > site &&
              o.begin < m.end) {
            promoted.insert(j);
          }
        }
        continue;
      }
    }
    if (first_primary < 0) continue;
    const Mention& o = (*all)[first_primary];
    const std::string_view rest = doc.text().substr(o.end, m.end - o.end);
    const bool to = rest.size() >= 3 &&
                    (rest.ends_with(" to") || rest.ends_with(" To") || rest.ends_with(" TO"));
    if (!to && !inner_secondary) continue;
    crossed.insert(i);
    if (o.subsumed) promoted.insert(static_cast<size_t>(first_primary));
  }
  // An infectious agent (B95-B97) is coded beside a condition of its
  // sentence that it causes: one whose notes ask for the agent (N39.0,
  // L00-L08), or one the words tie it to ("MRSA cellulitis", "UTI due to E.
  // coli"). Not beside an infection of chapter 1, whose code names the
  // organism or the infection (A41.51 "sepsis due to E. coli"), nor beside a
  // condition whose own words hold it (J15.212 "MRSA pneumonia"); alone, it
  // is not coded ("urine culture grew E. coli"), nor in the past (it has no
  // history code of its own). Where the index read the organism with the
  // condition's "infection" as an infection of its own ("E. coli urinary
  // tract infection": "Infection, E. coli" A49.8 across the UTI's word), the
  // agent is coded instead of it.
  {
    std::vector<Note> note_scratch;
    for (size_t i = 0; i < all->size(); ++i) {
      const Mention& m = (*all)[i];
      if (m.code_id == kNoCode || !IsAgentCode(m.code)) continue;
      const Mention* site = nullptr;
      if (affirmed(m, uncertain_ok) && !m.assertion.historical) {
        for (const Mention& o : *all) {
          if (o.sentence != m.sentence || o.subsumed || o.code_id == kNoCode ||
              !affirmed(o, uncertain_ok) || ShareWords(o, m)) {
            continue;
          }
          const std::string_view k = codes.CodeAt(o.code_id).key();
          if (k[0] == 'A' || k[0] == 'B' || k[0] == 'Z') continue;
          if (AgentWrittenWith(doc, m, o) || AsksForAgent(codes.CodeAt(o.code_id), &note_scratch)) {
            site = &o;
            break;
          }
        }
      }
      if (site == nullptr) {
        if (!m.subsumed) crossed.insert(i);
        continue;
      }
      if (!m.subsumed) continue;
      for (size_t j = 0; j < all->size(); ++j) {
        const Mention& o = (*all)[j];
        if (o.sentence != m.sentence || o.subsumed || o.code_id == kNoCode || o.begin > m.begin ||
            m.end > o.end || !ShareWords(o, *site)) {
          continue;
        }
        const std::string_view k = codes.CodeAt(o.code_id).key();
        if ((k[0] != 'A' && k[0] != 'B') || IsAgentCode(k)) continue;
        crossed.insert(j);
        promoted.insert(i);
      }
    }
  }
  // A condition named as the cause of a deficit in its sentence, whose
  // history code a combination rule pairs with that deficit ("right
  // hemiparesis after a stroke": Z86.73 with G81 gives I69.35-), is the past
  // event of a sequela (guideline I.C.9.d) though no word says "history".
  std::set<size_t> sequela_causes;
  for (size_t i = 0; i < all->size(); ++i) {
    const Mention& m = (*all)[i];
    if (m.subsumed || m.code_id == kNoCode || m.assertion.historical || !affirmed(m, false)) {
      continue;
    }
    const HistoryRule* h = r.HistoryFor(codes.CodeAt(m.code_id).key());
    if (h == nullptr || h->kind != HistoryKind::kCode || !NamedAsCause(doc, m)) continue;
    const std::string_view past = codes.CodeAt(h->code).key();
    bool deficit = false;
    for (const Mention& o : *all) {
      if (o.sentence != m.sentence || o.subsumed || o.code_id == kNoCode || !affirmed(o, false)) {
        continue;
      }
      const std::string_view ok = codes.CodeAt(o.code_id).key();
      for (const CombinationRule& rule : r.combinations) {
        if (rule.assign != kNoCode && StartsWith(past, rule.when) && StartsWith(ok, rule.with)) {
          deficit = true;
          break;
        }
      }
      if (deficit) break;
    }
    if (deficit) sequela_causes.insert(i);
  }
  const internal::SentenceMentions by_sentence(*all);
  for (size_t mi = 0; mi < all->size(); ++mi) {
    const Mention& m = (*all)[mi];
    if ((m.subsumed && !promoted.contains(mi)) || m.code_id == kNoCode) continue;
    if (crossed.contains(mi) || contradicted.contains(mi)) continue;
    const bool past_only = RecurrenceDenied(doc, m);
    if (!past_only && !affirmed(m, uncertain_ok)) continue;
    if (absent_now_of(m) || NamedForImmunization(doc, m)) continue;
    // "Anemia, likely iron deficiency" on a discharge summary: the uncertain
    // match across "likely" is coded (guideline II.H), and the certain words
    // before it, which the extractor matched apart, are inside it.
    if (uncertain_ok && !m.assertion.uncertain) {
      bool inside_uncertain = false;
      for (const Mention& o : by_sentence.Of(m.sentence)) {
        inside_uncertain = o.sentence == m.sentence && !o.subsumed && o.code_id != kNoCode &&
                           o.assertion.uncertain && affirmed(o, true) && o.begin <= m.begin &&
                           m.end <= o.end && o.end - o.begin > m.end - m.begin;
        if (inside_uncertain) break;
      }
      if (inside_uncertain) continue;
    }
    if (!IsAssessmentSection(m.section) &&
        std::binary_search(doubted_in_assessment.begin(), doubted_in_assessment.end(),
                           m.code_id) &&
        !std::binary_search(affirmed_in_assessment.begin(), affirmed_in_assessment.end(),
                            m.code_id)) {
      continue;
    }
    // A drug named in the hospital course or a procedure note (sliding-scale
    // insulin, a dose given), or one the chart says was stopped, is not
    // long-term use.
    if (m.source == LexiconSource::kCurated && codes.CodeAt(m.code_id).key().starts_with("Z79") &&
        (m.section == SectionKind::kHospitalCourse || m.section == SectionKind::kProcedures ||
         m.section == SectionKind::kLabs || m.section == SectionKind::kImaging ||
         m.section == SectionKind::kPhysicalExam || m.section == SectionKind::kVitals ||
         DrugStopped(doc, m))) {
      continue;
    }
    Assertion a = m.assertion;
    if (past_only) {
      a.negated = false;
      a.historical = true;
    }
    // "healed", "resolved", "cured" right after a condition make it history.
    if (!a.historical && (ResolvedAfter(doc, m) || sequela_causes.contains(mi))) {
      a.historical = true;
    }
    // An acute condition dated to a past year ("R AKA 2020 for wet
    // gangrene", "anterior STEMI 2019") is history. In a list of active
    // problems the year beside an item is when it began ("ESRD on
    // hemodialysis   2021   02/05/2024"), unless the condition has a history
    // code of its own (a cancer's Z85, an MI's I25.2).
    if (!a.historical && NearPastYear(doc, m, latest_year)) {
      const HistoryRule* h = r.HistoryFor(codes.CodeAt(m.code_id).key());
      const bool onset = m.section == SectionKind::kProblemList &&
                         (h == nullptr || h->kind == HistoryKind::kKeepIfCurrent);
      if (!onset && (h == nullptr || h->kind == HistoryKind::kCode ||
                     h->kind == HistoryKind::kKeepIfCurrent)) {
        a.historical = true;
      }
    }
    double w = SourceWeight(m.source) * SectionWeight(m.section);
    w *= std::max(0.5, 1.0 - 0.07 * m.gaps);
    if (m.words == 1) w *= 0.92;
    if (uncorroborated.contains(mi)) w *= 0.7;
    w *= std::min(1.06, 1.0 + 0.02 * m.optional_words);
    uint32_t code = m.code_id;
    std::string derivation = "lexicon";
    // "metastatic breast cancer to bone": the site named after "cancer to"
    // is where the cancer spread, not a primary of that site.
    if (m.code.size() >= 3 && m.code[0] == 'C' && m.code.compare(0, 3, "C77") < 0 &&
        SpreadTo(doc, m)) {
      if (const uint32_t secondary = r.SecondaryOf(m.code_id); secondary != kNoCode) {
        code = secondary;
        derivation = StrCat("the site a cancer spread to (", m.code, " as a secondary site)");
      }
    }
    const std::string key(codes.CodeAt(code).key());
    if (key[0] == 'R') w *= 0.85;  // a sign or symptom
    if (has_assessment && !IsAssessmentSection(m.section)) {
      w *= key[0] == 'R' ? 0.6 : SupportingSectionFactor(m.section);
    }
    if (a.historical) {
      const HistoryRule* h = r.HistoryFor(key);
      // A status that is only in a past-history section ("PMH: ESRD on HD")
      // still holds; one the words put in the past ("previously on
      // insulin", "dialysis 2019-2021") does not.
      // (Not historical in the mention: made history above, by its words.)
      const bool said_past = !m.assertion.historical || HasHistoricalCue(m.assertion);
      if (h == nullptr || (h->kind == HistoryKind::kKeepIfCurrent && said_past)) continue;
      if (h->kind == HistoryKind::kCode) {
        derivation = StrCat("history of ", m.code);
        code = h->code;
      } else if (h->kind == HistoryKind::kCurrent) {
        const WordIds& sw = words_of(m.sentence);
        bool resolved = false;
        for (const std::string& x : kResolved) {
          const uint32_t wid = r.lexicon->WordId(x);
          resolved |= wid != internal::kNone && Has(sw, wid);
        }
        if (resolved) continue;
        w *= 0.95;
      }
    }
    // Refining a code that is already billable looks only near the mention;
    // completing a header code may use the whole sentence.
    const uint32_t near_from = m.begin > 48 ? m.begin - 48 : 0, near_to = m.end + 64;
    // (Computed when first asked for: refining a code that is no default
    // reads no words.)
    const WordIds* near_words = nullptr;
    auto near = [&]() -> const WordIds& {
      if (near_words == nullptr) {
        near_words = &r.SentenceWords(doc, sentences[m.sentence], &token_words, near_from, near_to);
      }
      return *near_words;
    };
    // Refining a default: words that belong to another mention in the window
    // ("chronic" of "CKD 3a" or of "chronic kidney disease" beside "afib")
    // refine nothing.
    WordIds side_scratch;
    auto refine_near = [&](uint32_t from) {
      if (!r.IsRefinable(from)) return std::pair<uint32_t, std::string>(from, "");
      const WordIds& words = r.LessOtherSide(doc, m, &token_words, near(), &side_scratch);
      std::pair<uint32_t, std::string> got = r.Refine(from, words);
      if (got.first == from) return got;
      const WordIds foreign = r.ForeignWords(doc, m, by_sentence.Of(m.sentence), &token_words, near_from, near_to);
      if (foreign.empty()) return got;
      WordIds own;
      std::set_difference(words.begin(), words.end(), foreign.begin(), foreign.end(),
                          std::back_inserter(own));
      return r.Refine(from, own);
    };
    // Completing a header: the type of another condition's mention does not
    // complete it ("acute myocardial infarction, type 2 diabetes mellitus" is
    // I21.9, not I21.A1).
    auto specify = [&](uint32_t from) {
      const WordIds& sentence_words =
          r.LessOtherSide(doc, m, &token_words, words_of(m.sentence), &side_scratch);
      const WordIds other = r.OtherMentionsTypes(doc, m, by_sentence.Of(m.sentence), &token_words);
      if (other.empty()) return r.Specify(from, sentence_words, &near());
      WordIds own;
      std::set_difference(sentence_words.begin(), sentence_words.end(), other.begin(),
                          other.end(), std::back_inserter(own));
      return r.Specify(from, own, &near());
    };
    auto [billable, how] =
        codes.CodeAt(code).billable() ? refine_near(code) : specify(code);
    if (!codes.CodeAt(code).billable() && billable != code) {
      // A header completed to its default may still be refined within its
      // category: "lung CA, RUL" is C34.9 -> C34.91 (right) -> C34.11 (upper
      // lobe, right).
      auto [refined, how2] = refine_near(billable);
      if (refined != billable) {
        billable = refined;
        how = StrCat(how, "; ", how2);
      }
    }
    if (!how.empty() && derivation == "lexicon") derivation = how;
    w = std::clamp(w, 0.0, 0.99);
    CodeEvidence ev = evidence_of(m, w, std::move(a));
    if (m.manifestation_code_id != kNoCode) {
      auto [manif, how2] = r.Specify(m.manifestation_code_id, words_of(m.sentence));
      add(manif, CodeEvidence(ev), StrCat("manifestation paired with ", m.code));
    }
    add(billable, std::move(ev), std::move(derivation));
  }

  // The coding profile: word groups of affirmed clauses that predicted codes
  // in its corpus. A code takes the support of its best word group in the
  // chart (repeating a common word does not make a code more likely).
  if (!r.learned.empty()) {
    struct Best {
      const LearnedCode* learned;
      const std::string* gram;
      uint32_t begin, end, sentence;
    };
    std::map<uint32_t, Best> best;
    std::vector<std::string> grams;
    for (uint32_t si = 0; si < sentences.size(); ++si) {
      const Sentence& s = sentences[si];
      if (s.is(kSentenceHeader)) continue;
      auto learn = [&](uint32_t begin, uint32_t end) {
        if (end <= begin) return;
        grams.clear();
        internal::TextGrams(doc.text().substr(begin, end - begin), 3, &grams);
        for (const std::string& g : grams) {
          auto it = r.learned.find(g);
          if (it == r.learned.end()) continue;
          for (const LearnedCode& lc : it->second) {
            auto [b, inserted] = best.emplace(lc.code, Best{&lc, &it->first, begin, end, si});
            if (!inserted && Weight(lc) > Weight(*b->second.learned)) {
              b->second = Best{&lc, &it->first, begin, end, si};
            }
          }
        }
      };
      // Clauses between negations, so that "no fever" does not predict R50.9.
      uint32_t clause_begin = s.begin;
      constexpr uint32_t kSkipping = 0xFFFFFFFFu;
      for (const Token& t : doc.tokens_of(s)) {
        const std::string_view n = t.norm;
        if (n == "no" || n == "not" || n == "without" || n == "w/o" || n == "denies" ||
            n == "negative") {
          if (clause_begin != kSkipping) learn(clause_begin, t.begin);
          clause_begin = kSkipping;  // the negated words up to the next comma
          continue;
        }
        if (clause_begin == kSkipping && t.kind == TokenKind::kPunct &&
            (n == "," || n == ";" || n == ".")) {
          clause_begin = t.end;
        }
      }
      if (clause_begin != kSkipping) learn(clause_begin, s.end);
    }
    for (const auto& [code_id, b] : best) {
      const Sentence& s = sentences[b.sentence];
      CodeEvidence ev;
      ev.begin = b.begin;
      ev.end = b.end;
      ev.spans = {{b.begin, b.end}};
      ev.sentence_begin = s.begin;
      ev.sentence_end = s.end;
      ev.section = doc.section_of(s).kind;
      ev.lexicon_phrase = *b.gram;
      ev.source = LexiconSource::kLearned;
      ev.mention_code = std::string(codes.CodeAt(code_id).code());
      ev.weight = Weight(*b.learned);
      auto [billable, how] = r.Specify(code_id, {});
      add(billable, std::move(ev),
          StrCat("learned (profile ", r.options.profile, "): '", *b.gram, "' in ",
                 b.learned->documents, " documents, right ",
                 static_cast<int>(b.learned->precision * 100 + 0.5), "%"));
    }
  }

  // The notes in effect at a code, read into one vector for every code below.
  std::vector<Note> notes_in_effect;
  // "Use additional code", "code first", "code also": a subsumed mention
  // whose code a candidate's note asks for ("E11.22: use additional code to
  // identify stage of CKD (N18.1-N18.6)"; "D63.1: code first underlying
  // chronic kidney disease (N18.-)") is added, with the candidate's
  // assertion.
  {
    // A note asks for a code of any of its categories; it is met when the
    // chart already gave one ("CKD 4" beside "diabetic CKD"; N18.4's "code
    // first any associated diabetic CKD (E08.22-E13.22)" by E11.22).
    struct Ask {
      NoteKind kind;
      std::vector<uint32_t> categories;  // CategoryOf
    };
    // An asking candidate (node references of `candidates` stay valid), its
    // notes, and the sentences it is evidenced in (their begins, sorted).
    struct Asking {
      uint32_t code;
      const Candidate* candidate;
      std::vector<Ask> notes;
      std::vector<uint32_t> sentences;
    };
    std::vector<Asking> asks;
    for (const auto& [code, c] : candidates) {
      std::vector<Ask> notes;
      static constexpr NoteKind kAsks[] = {NoteKind::kUseAdditionalCode, NoteKind::kCodeFirst,
                                           NoteKind::kCodeAlso};
      codes.CodeAt(code).NotesInEffect(kAsks, &notes_in_effect);  // kind by kind
      for (const Note& n : notes_in_effect) {
        Ask ask{n.kind, {}};
        for (const CodeRange& ref : n.refs) {
          if (const uint32_t cat = RefCategoryOf(ref); cat != 0) ask.categories.push_back(cat);
        }
        if (!ask.categories.empty()) notes.push_back(std::move(ask));
      }
      if (notes.empty()) continue;
      std::vector<uint32_t> evidenced;
      for (const CodeEvidence& ev : c.evidence) evidenced.push_back(ev.sentence_begin);
      SortUnique(&evidenced);
      asks.push_back({code, &c, std::move(notes), std::move(evidenced)});
    }
    std::vector<uint32_t> categories;  // CategoryOf, sorted
    for (const auto& [code, c] : candidates) {
      categories.push_back(CategoryOf(codes.CodeAt(code).key()));
    }
    SortUnique(&categories);
    auto has_category = [&](uint32_t cat) {
      return std::binary_search(categories.begin(), categories.end(), cat);
    };
    auto met = [&](const Ask& ask) {
      for (uint32_t cat : ask.categories) {
        if (has_category(cat)) return true;
      }
      return false;
    };
    for (const Mention& m : mentions) {
      if (!m.subsumed || m.code_id == kNoCode || candidates.contains(m.code_id)) continue;
      // Its own words may deny it ("no longer on insulin") or put it in the
      // past ("was on insulin"); a past-history section alone does not.
      if (!affirmed(m, uncertain_ok)) continue;
      if (HasHistoricalCue(m.assertion)) continue;
      const uint32_t category = CategoryOf(codes.CodeAt(m.code_id).key());
      if (has_category(category)) continue;
      bool added = false;
      for (const Asking& asking : asks) {
        const uint32_t code = asking.code;
        const std::vector<Ask>& notes = asking.notes;
        const Candidate& c = *asking.candidate;
        if (!std::binary_search(asking.sentences.begin(), asking.sentences.end(),
                                sentences[m.sentence].begin)) {
          continue;
        }
        // "Code first" and "code also" name a condition within the asking
        // code's own words ("anemia in CKD"); "use additional code" one in
        // its sentence.
        bool within = false;
        for (const CodeEvidence& ev : c.evidence) {
          within |= ev.begin <= m.begin && m.end <= ev.end;
        }
        const Ask* asked = nullptr;
        for (const Ask& ask : notes) {
          if (met(ask) || (ask.kind != NoteKind::kUseAdditionalCode && !within)) continue;
          for (uint32_t cat : ask.categories) {
            if (cat == category) asked = &ask;
          }
          if (asked != nullptr) break;
        }
        if (asked == nullptr) continue;
        auto [billable, how] = r.Specify(m.code_id, words_of(m.sentence));
        double w = c.evidence.front().weight * 0.95;
        CodeEvidence ev = evidence_of(m, w, c.evidence.front().assertion);
        const std::string_view note = asked->kind == NoteKind::kCodeFirst  ? "code first"
                                      : asked->kind == NoteKind::kCodeAlso ? "code also"
                                                                           : "use additional code";
        add(billable, std::move(ev), StrCat(note, " of ", codes.CodeAt(code).code()));
        categories.insert(std::lower_bound(categories.begin(), categories.end(), category),
                          category);
        added = true;
        break;
      }
      if (added) continue;
      // The other way round: the mention's code's own "code first" (not its
      // block's: "code first associated influenza, if applicable" at J12-J18
      // is for a pneumonia of its own kind) names the code whose words hold
      // it, a manifestation written with its etiology ("gastroparesis due to
      // type 1 diabetes": E10.43, and K31.84, "code first underlying disease,
      // such as diabetes mellitus (E10.43)").
      notes_in_effect = codes.CodeAt(m.code_id).notes();
      std::erase_if(notes_in_effect, [](const Note& n) { return n.kind != NoteKind::kCodeFirst; });
      if (notes_in_effect.empty()) continue;
      const Candidate* etiology = nullptr;
      for (const auto& [code, c] : candidates) {
        if (c.dropped) continue;
        bool holds = false;
        for (const CodeEvidence& ev : c.evidence) {
          holds |= ev.sentence_begin == sentences[m.sentence].begin && ev.begin <= m.begin &&
                   m.end <= ev.end;
        }
        if (!holds) continue;
        const uint32_t cat = CategoryOf(codes.CodeAt(code).key());
        bool named = false;
        for (const Note& n : notes_in_effect) {
          for (const CodeRange& ref : n.refs) named |= RefCategoryOf(ref) == cat;
        }
        if (named) {
          etiology = &c;
          break;
        }
      }
      if (etiology == nullptr || TitleSaysAlready(codes.CodeAt(etiology->code).description(),
                                                  doc.text().substr(m.begin, m.end - m.begin))) {
        continue;
      }
      auto [billable, how] = r.Specify(m.code_id, words_of(m.sentence));
      CodeEvidence ev = evidence_of(m, etiology->evidence.front().weight * 0.95,
                                    etiology->evidence.front().assertion);
      const std::string derivation =
          StrCat("manifestation, code first ", codes.CodeAt(etiology->code).code());
      const uint32_t etiology_code = etiology->code;
      add(billable, std::move(ev), derivation);
      candidates[billable].manifestation_of = etiology_code;
      categories.insert(std::lower_bound(categories.begin(), categories.end(), category),
                        category);
    }
  }

  // The live candidates with their keys, in code order, for live(): listed
  // again only after a rule has changed the candidates (`live_stale`).
  struct LiveCode {
    uint32_t code;
    uint32_t category;  // CategoryOf(key)
    std::string_view key;
  };
  std::vector<LiveCode> live_codes;
  bool live_stale = true;
  // Calls `f(code)` for each live candidate whose key starts with `prefix`
  // until it returns true; whether one did.
  auto for_each_live = [&](const std::string& prefix, auto f) {
    if (live_stale) {
      live_codes.clear();
      for (const auto& [code, c] : candidates) {
        if (c.dropped) continue;
        const std::string_view key = codes.CodeAt(code).key();
        live_codes.push_back({code, CategoryOf(key), key});
      }
      live_stale = false;
    }
    // (A prefix of three characters or more starts only keys of its category.)
    const uint32_t category = CategoryOf(prefix);
    for (const LiveCode& l : live_codes) {
      if ((category == 0 || l.category == category) && StartsWith(l.key, prefix) && f(l.code)) {
        return true;
      }
    }
    return false;
  };
  auto live = [&](const std::string& prefix) {
    std::vector<uint32_t> out;
    for_each_live(prefix, [&](uint32_t code) {
      out.push_back(code);
      return false;
    });
    return out;
  };
  auto any_live = [&](const std::string& prefix) {
    return for_each_live(prefix, [](uint32_t) { return true; });
  };
  // Combination codes, until nothing changes. A rule is looked at only when
  // the 3-character categories of both its prefixes are among the live
  // candidates at the start of the round (hundreds of rules, a few dozen
  // candidates).
  std::vector<uint32_t> live_categories;  // CategoryOf, sorted
  auto maybe_live = [&](uint32_t category) {
    return category == 0 ||
           std::binary_search(live_categories.begin(), live_categories.end(), category);
  };
  for (int round = 0; round < 8; ++round) {
    bool changed = false;
    live_categories.clear();
    for (const auto& [code, c] : candidates) {
      if (!c.dropped) live_categories.push_back(CategoryOf(codes.CodeAt(code).key()));
    }
    std::sort(live_categories.begin(), live_categories.end());
    for (const CombinationRule& rule : r.combinations) {
      if (!maybe_live(rule.when_category) || !maybe_live(rule.with_category)) continue;
      // (Nothing changes the candidates between the two lists: a rule none
      // of whose `with` codes is live is passed over before listing `when`.)
      if (!any_live(rule.with)) continue;
      std::vector<uint32_t> when = live(rule.when);
      if (!rule.when_origin.empty()) {
        std::erase_if(when, [&](uint32_t x) {
          for (const CodeEvidence& ev : candidates[x].evidence) {
            if (StartsWith(Undot(ev.mention_code), rule.when_origin)) return false;
          }
          return true;
        });
      }
      std::vector<uint32_t> with = live(rule.with);
      // A manifestation coded with its etiology is not paired again ("type 1
      // diabetic gastroparesis, DM": K31.84 is E10.43's, not E11's).
      std::erase_if(with, [&](uint32_t x) {
        const uint32_t of = candidates[x].manifestation_of;
        return of != kNoCode && candidates.contains(of) && !candidates[of].dropped;
      });
      if (when.empty() || with.empty()) continue;
      if (when.size() == 1 && with.size() == 1 && when[0] == with[0]) continue;
      if (rule.assign == kNoCode) {
        for (const std::string& d : rule.drop) {
          for (uint32_t x : live(d)) {
            candidates[x].dropped = true;
            changed = live_stale = true;
          }
        }
        continue;
      }
      if (candidates.contains(rule.assign) && !candidates[rule.assign].dropped) {
        bool drops_left = false;
        for (const std::string& d : rule.drop) {
          for (uint32_t x : live(d)) drops_left |= x != rule.assign;
        }
        if (!drops_left) continue;
      }
      // A residual ("E11.29 ... with other diabetic kidney complication") is
      // not for a complication a live sibling already names (E11.21, E11.22;
      // not a default such as F02.A0 "..., without behavioral disturbance"):
      // the rule only drops what that sibling captures. Nor is an unspecified
      // one ("E10.319 ... with unspecified diabetic retinopathy without
      // macular edema") for a complication a live code of its subcategory
      // names more fully (E10.3293, mild nonproliferative retinopathy).
      const Code assigned = codes.CodeAt(rule.assign);
      const bool residual = internal::IsResidualTitle(assigned.description());
      if (residual || (Contains(assigned.description(), "unspecified") && assigned.depth() > 2)) {
        std::optional<Code> parent = assigned.parent();
        if (!residual) {
          while (parent && parent->depth() > 1) parent = parent->parent();  // E10.3
        }
        bool named = false;
        for (const auto& [code, c] : candidates) {
          if (c.dropped || code == rule.assign || !parent ||
              !parent->Contains(codes.CodeAt(code))) {
            continue;
          }
          const std::string_view d = codes.CodeAt(code).description();
          // (As deep and less unspecified: I25.10 "... without angina pectoris"
          // is the default the rule replaces, not a fuller name of I25.119.)
          named |= residual ? !IsDefaultTitle(d)
                            : codes.CodeAt(code).depth() >= assigned.depth() &&
                                  CountUnspecified(d) < CountUnspecified(assigned.description());
        }
        if (named) {
          for (const std::string& d : rule.drop) {
            for (uint32_t x : live(d)) {
              if (!parent->Contains(codes.CodeAt(x))) {
                candidates[x].dropped = true;
                changed = live_stale = true;
              }
            }
          }
          continue;
        }
      }
      std::vector<CodeEvidence> evidence;
      for (uint32_t x : when) {
        for (const CodeEvidence& ev : candidates[x].evidence) evidence.push_back(ev);
      }
      for (uint32_t x : with) {
        for (const CodeEvidence& ev : candidates[x].evidence) evidence.push_back(ev);
      }
      const std::string derivation =
          StrCat("combination of ", codes.CodeAt(when[0]).code(), " and ",
                 codes.CodeAt(with[0]).code(), ": ", rule.note);
      // A rule may name a subcategory ("I69.35"): the partner code's title
      // chooses the code when it says more than the default (G81.91 "...
      // affecting right dominant side" is I69.351), else the words of the
      // evidence sentences (all of them: one may name another side).
      uint32_t assign = rule.assign;
      if (!codes.CodeAt(assign).billable()) {
        const uint32_t by_default = r.Specify(assign, {}).first;
        for (uint32_t x : with) {
          if (!codes.CodeAt(x).billable()) continue;
          const absl::Span<const uint32_t> title = r.lexicon->TitleWords(x);
          const uint32_t by_partner =
              r.Specify(assign, WordIds(title.begin(), title.end())).first;
          if (by_partner != by_default) {
            assign = by_partner;
            break;
          }
        }
      }
      if (!codes.CodeAt(assign).billable()) {
        WordIds words;
        for (const CodeEvidence& ev : evidence) {
          const size_t si = doc.SentenceAt(ev.sentence_begin);
          if (si < sentences.size()) {
            const WordIds& sw = words_of(static_cast<uint32_t>(si));
            words.insert(words.end(), sw.begin(), sw.end());
          }
        }
        SortUnique(&words);
        assign = r.Specify(assign, words).first;
      }
      Candidate& target = candidates[assign];
      target.code = assign;
      target.dropped = false;
      live_stale = true;
      if (target.evidence.empty()) target.derivation = derivation;
      for (CodeEvidence& ev : evidence) target.evidence.push_back(std::move(ev));
      for (const std::string& d : rule.drop) {
        for (uint32_t x : live(d)) {
          if (x != assign) {
            candidates[x].dropped = true;
            live_stale = true;
          }
        }
      }
      changed = true;
    }
    if (!changed) break;
  }

  // Scores.
  auto score_of = [](const Candidate& c) {
    double miss = 1.0;
    // Several mentions raise confidence; the same words twice count once.
    ForEachFirstOfItsSpan(c.evidence, [&](size_t i) { miss *= 1.0 - c.evidence[i].weight; });
    return std::min(0.99, 1.0 - miss);
  };

  // A history of cancer (Z85) whose every cancer is coded as current goes:
  // Z85 is for a malignancy excised or eradicated (guideline I.C.2.d), and
  // the assessment says this one is still there ("PMH: prostate cancer" with
  // "prostate cancer on active surveillance").
  {
    std::set<std::string_view> current;  // 3-character categories
    for (const auto& [code, c] : candidates) {
      const std::string_view key = codes.CodeAt(code).key();
      if (!c.dropped && key[0] != 'Z') current.insert(key.substr(0, 3));
    }
    for (auto& [code, c] : candidates) {
      if (c.dropped || !codes.CodeAt(code).key().starts_with("Z85")) continue;
      bool all_current = !c.evidence.empty();
      for (const CodeEvidence& ev : c.evidence) {
        const std::string key = Undot(ev.mention_code);
        all_current = all_current && key.size() >= 3 && key[0] != 'Z' &&
                      current.contains(std::string_view(key).substr(0, 3));
      }
      if (all_current) c.dropped = true;
    }
  }

  // A residual site from words inside another mention of its category gives
  // way to that mention's code, which names the part: "diabetic foot ulcer of
  // right heel" is L97.419, not also L97.519 ("... other part of right foot")
  // from its "foot ulcer".
  for (auto& [code, c] : candidates) {
    if (c.dropped || c.evidence.empty()) continue;
    const Code x = codes.CodeAt(code);
    if (!internal::IsResidualTitle(x.description())) continue;
    const uint32_t cat = CategoryOf(x.key());
    for (const auto& [other, o] : candidates) {
      if (other == code || o.dropped || CategoryOf(codes.CodeAt(other).key()) != cat ||
          internal::IsResidualTitle(codes.CodeAt(other).description())) {
        continue;
      }
      const bool inside = std::all_of(c.evidence.begin(), c.evidence.end(), [&](const auto& e) {
        return std::any_of(o.evidence.begin(), o.evidence.end(), [&](const auto& oe) {
          // (A mention, not a whole sentence a profile's rule stood on.)
          return oe.begin <= e.begin && e.end <= oe.end && oe.end - oe.begin > e.end - e.begin &&
                 !(oe.begin == oe.sentence_begin && oe.end == oe.sentence_end);
        });
      });
      if (inside) {
        c.dropped = true;
        break;
      }
    }
  }

  // An unspecified code gives way to a more specific one of its category.
  for (auto& [code, c] : candidates) {
    if (c.dropped) continue;
    // (The title facts say which titles have "unspecified" or "without":
    // most have neither.)
    const internal::CodeTitleFacts& f = r.title_facts[code];
    if (!f.has(internal::kTitleDefault)) continue;
    Code x = codes.CodeAt(code);
    std::string_view desc = x.description();
    const bool vague = f.has(internal::kTitleUnspecified) ||
                       (f.has(internal::kTitleWithout) && Contains(desc, "without complications"));
    // A "without" title is the default when the text says no more (F02.A0
    // "..., mild, without behavioral disturbance, psychotic disturbance, ...");
    // it gives way to a sibling with what the text does say (F02.A2 "...,
    // mild, with psychotic disturbance") when that is as well supported.
    const bool without_default = !vague && f.has(internal::kTitleWithout);
    const uint32_t cat = CategoryOf(x.key());
    // Only a code that is the category's default (directly under it, or in
    // its ".9" subcategory) or whose parent also holds the other code gives
    // way: I69.359 (hemiplegia, side unspecified) stays beside I69.320
    // (aphasia), while E11.9, I50.9, N18.9 and J96.90 give way.
    const std::optional<Code> parent = x.parent();
    const bool category_default =
        !parent || parent->depth() == 0 || (x.key().size() > 3 && x.key()[3] == '9');
    for (const auto& [other, o] : candidates) {
      if (other == code || o.dropped) continue;
      if (CategoryOf(codes.CodeAt(other).key()) != cat) continue;
      if (!category_default && !(parent && parent->Contains(codes.CodeAt(other)))) continue;
      std::string_view odesc = codes.CodeAt(other).description();
      const internal::CodeTitleFacts& fo = r.title_facts[other];
      const bool other_without = fo.has(internal::kTitleWithout);
      const bool other_vague = fo.has(internal::kTitleUnspecified) ||
                               (other_without && Contains(odesc, "without complications"));
      // Or, as well supported, it leaves fewer things unspecified: J96.91
      // "Respiratory failure, unspecified with hypoxia" beside J96.90 "...,
      // unspecified, unspecified whether with hypoxia or hypercapnia" (not a
      // "without complications" default: K50.912 "..., unspecified, with
      // intestinal obstruction" says more than K50.00). (Counted only when
      // the tests before it do not decide.)
      auto says_more = [&] {
        return CountUnspecified(odesc) < CountUnspecified(desc) && !other_without &&
               score_of(o) >= score_of(c);
      };
      if (without_default) {
        // A sibling that says what `c` says before its "without" (F33.3
        // "..., recurrent, severe with psychotic symptoms" for F33.2, not
        // F33.1 "..., recurrent, moderate").
        if (parent && parent->Contains(codes.CodeAt(other)) && !other_vague && !other_without &&
            score_of(o) >= score_of(c) && r.SaysWhatPrecedesWithout(code, other)) {
          c.dropped = true;
          break;
        }
        continue;
      }
      if (!other_vague || codes.CodeAt(other).depth() > x.depth() || says_more()) {
        c.dropped = true;
        break;
      }
    }
  }

  // A code of "multiple sites" (M05.79) stands for the sites its sentence
  // lists ("rheumatoid arthritis w/ rheumatoid factor, multiple sites (hands,
  // wrists, feet)"): a code of one site of its subcategory (M05.749, M05.739)
  // read only from those sentences goes.
  for (const auto& [code, c] : candidates) {
    if (c.dropped) continue;
    const Code x = codes.CodeAt(code);
    if (x.depth() < 2 || !Contains(x.description(), "multiple sites")) continue;
    std::optional<Code> group = x.parent();
    while (group && group->depth() > 1) group = group->parent();  // M05.7
    if (!group) continue;
    for (auto& [other, o] : candidates) {
      if (other == code || o.dropped || !group->Contains(codes.CodeAt(other))) continue;
      // (Evidence lists are short: compared in turn.)
      const bool same_sentences =
          std::all_of(o.evidence.begin(), o.evidence.end(), [&](const CodeEvidence& ev) {
            return std::any_of(c.evidence.begin(), c.evidence.end(), [&](const CodeEvidence& e) {
              return e.sentence_begin == ev.sentence_begin;
            });
          });
      if (same_sentences) o.dropped = true;
    }
  }

  // "Infection" alone (B99.9, unspecified infectious disease) is the
  // infection the chart codes by name where it codes one: one of chapter 1,
  // one whose notes ask for its agent (N39.0, L03, M86), or a pneumonia
  // ("cellulitis of the left foot ... glucose high with infection"). As a
  // symptom its diagnosis explains, it stays with keep_integral_symptoms.
  if (const uint32_t b999 = r.unspecified_infection;
      !r.options.keep_integral_symptoms && candidates.contains(b999) &&
      !candidates[b999].dropped) {
    std::vector<Note> note_scratch;
    for (const auto& [other, o] : candidates) {
      if (other == b999 || o.dropped) continue;
      const Code x = codes.CodeAt(other);
      const std::string_view k = x.key();
      const bool pneumonia = k[0] == 'J' && k[1] == '1' && k[2] >= '2' && k[2] <= '8';  // J12-J18
      if (k[0] == 'A' || k[0] == 'B' || pneumonia || AsksForAgent(x, &note_scratch)) {
        candidates[b999].dropped = true;
        break;
      }
    }
  }

  // Excludes1: two codes that may not be reported together; the weaker goes.
  {
    // The live candidates (node references of `candidates` stay valid) and
    // their keys, read for every pair below.
    std::vector<Candidate*> live_candidates;
    std::vector<std::string_view> live_keys;
    for (auto& [code, c] : candidates) {
      if (c.dropped) continue;
      live_candidates.push_back(&c);
      live_keys.push_back(codes.CodeAt(code).key());
    }
    for (Candidate* ap : live_candidates) {
      Candidate& ca = *ap;
      if (ca.dropped) continue;
      codes.CodeAt(ca.code).NotesInEffect(NoteKind::kExcludes1, &notes_in_effect);
      for (const Note& n : notes_in_effect) {
        for (const CodeRange& ref : n.refs) {
          std::string first = Undot(ref.first);
          while (!first.empty() && first.back() == '-') first.pop_back();
          std::string last = Undot(ref.last);
          for (size_t bi = 0; bi < live_candidates.size(); ++bi) {
            Candidate& cb = *live_candidates[bi];
            if (&cb == &ca || cb.dropped) continue;
            const std::string_view bk = live_keys[bi];
            const bool hit = last.empty()
                                 ? StartsWith(bk, first)
                                 : (bk.substr(0, first.size()) >= first &&
                                    bk.substr(0, last.size()) <= last);
            if (!hit) continue;
            // Codes of one category exclude each other only as alternatives.
            // An Excludes1 note names where the excluded condition is coded
            // ("F32 Excludes1: bipolar disorder (F31.-)"): at equal scores
            // the code the note points to stays.
            if (score_of(cb) < score_of(ca)) {
              cb.dropped = true;
            } else {
              ca.dropped = true;
            }
          }
          if (ca.dropped) break;
        }
        if (ca.dropped) break;
      }
    }
  }

  // Symptoms explained by a diagnosis of the same sentence are not coded.
  if (!r.options.keep_integral_symptoms) {
    std::vector<uint32_t> diagnosis_sentences;   // sorted
    std::vector<uint32_t> diagnosis_categories;  // CategoryOf, sorted
    for (const auto& [code, c] : candidates) {
      const Code x = codes.CodeAt(code);
      // Pain codes outside chapter R ("Low back pain", "Pain in right
      // knee") are symptoms too: they explain no fever or nausea.
      if (c.dropped || x.key()[0] == 'R' || x.key()[0] == 'Z' || IsAgentCode(x.key()) ||
          Contains(x.description(), "pain") || Contains(x.description(), "Pain")) {
        continue;
      }
      for (const CodeEvidence& ev : c.evidence) diagnosis_sentences.push_back(ev.sentence_begin);
      diagnosis_categories.push_back(CategoryOf(x.key()));
    }
    std::sort(diagnosis_sentences.begin(), diagnosis_sentences.end());
    std::sort(diagnosis_categories.begin(), diagnosis_categories.end());
    for (auto& [code, c] : candidates) {
      if (c.dropped || codes.CodeAt(code).key()[0] != 'R') continue;
      // A sign whose note says "code first underlying condition" (R64
      // cachexia, R65.2- severe sepsis) is coded beside its cause; one whose
      // note names the causes (R18.0 malignant ascites: C56, C78.6; R40.2-
      // coma scale: S02, S06) only beside one of them.
      bool with_cause = false;
      codes.CodeAt(code).NotesInEffect(NoteKind::kCodeFirst, &notes_in_effect);
      for (const Note& n : notes_in_effect) {
        with_cause |= n.refs.empty();
        for (const CodeRange& ref : n.refs) {
          const uint32_t cat = RefCategoryOf(ref);
          with_cause |= cat != 0 && std::binary_search(diagnosis_categories.begin(),
                                                       diagnosis_categories.end(), cat);
        }
      }
      if (with_cause) continue;
      // An abnormal finding read only from results (imaging, labs) is not
      // coded unless the provider says what it means (Official Guidelines
      // III.B and IV.K): "CT: RUL mass" beside "adenocarcinoma of the RUL"
      // is no R91.8. Said in the assessment, it is coded.
      if (std::all_of(c.evidence.begin(), c.evidence.end(), [](const CodeEvidence& ev) {
            return ev.section == SectionKind::kImaging || ev.section == SectionKind::kLabs;
          })) {
        c.dropped = true;
        continue;
      }
      bool alone = false;
      for (const CodeEvidence& ev : c.evidence) {
        alone |= !std::binary_search(diagnosis_sentences.begin(), diagnosis_sentences.end(),
                                     ev.sentence_begin);
      }
      if (!alone) c.dropped = true;
    }
  }

  // The adverse effect of a drug the chart ties a coded condition to
  // (guideline I.C.19.e.5.a): "steroid-induced hyperglycemia" is R73.9 and
  // T38.0X5A; "neutropenia secondary to cancer chemotherapy" D70.1 and
  // T45.1X5A. Once per code.
  if (!r.adverse_effects.empty()) {
    std::vector<std::pair<uint32_t, CodeEvidence>> effects;
    for (const auto& [code, c] : candidates) {
      const char chapter = codes.CodeAt(code).key()[0];
      if (c.dropped || chapter == 'T' || chapter == 'Z' || chapter == 'C') continue;
      for (const CodeEvidence& ev : c.evidence) {
        if (ev.assertion.historical || ev.assertion.negated || ev.assertion.hypothetical ||
            ev.assertion.family) {
          continue;
        }
        const std::optional<DrugNamed> drug = DrugTiedTo(doc, ev, r.adverse_effects);
        if (!drug) continue;
        CodeEvidence t;
        t.begin = drug->begin;
        t.end = drug->end;
        t.spans = {{drug->begin, drug->end}};
        t.sentence_begin = ev.sentence_begin;
        t.sentence_end = ev.sentence_end;
        t.section = ev.section;
        t.assertion = ev.assertion;
        t.lexicon_phrase = "Table of Drugs and Chemicals, adverse effect";
        t.source = LexiconSource::kDescription;
        t.mention_code = std::string(codes.CodeAt(drug->code).code());
        t.weight = ev.weight * 0.9;
        effects.emplace_back(drug->code, std::move(t));
        break;
      }
    }
    for (auto& [code, ev] : effects) {
      if (candidates.contains(code)) continue;
      add(code, std::move(ev), "adverse effect of the drug named (guideline I.C.19.e.5.a)");
    }
  }

  // BMI, reported with a weight diagnosis (guideline I.B.14).
  if (!r.bmi.empty()) {
    bool weight_dx = false;
    for (const auto& [code, c] : candidates) {
      if (c.dropped) continue;
      const std::string_view key = codes.CodeAt(code).key();
      for (const std::string& p : r.weight_diagnosis_keys) weight_dx |= StartsWith(key, p);
    }
    if (weight_dx) {
      const auto tokens = doc.tokens();
      for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        if (tokens[i].norm != "bmi") continue;
        for (size_t j = i + 1; j < tokens.size() && j <= i + 3; ++j) {
          if (tokens[j].kind != TokenKind::kNumber && tokens[j].kind != TokenKind::kMeasurement) {
            continue;
          }
          double v = 0;
          std::string_view num = tokens[j].norm;
          size_t k = 0;
          while (k < num.size() && ((num[k] >= '0' && num[k] <= '9') || num[k] == '.')) ++k;
          if (!internal::ParseDouble(num.substr(0, k), &v) || v < 10 || v > 150) break;
          for (const BmiRange& b : r.bmi) {
            if (v >= b.lo && v <= b.hi) {
              CodeEvidence ev;
              ev.begin = tokens[i].begin;
              ev.end = tokens[j].end;
              ev.spans = {{tokens[i].begin, tokens[i].end}, {tokens[j].begin, tokens[j].end}};
              const size_t si = doc.SentenceAt(tokens[i].begin);
              if (si < sentences.size()) {
                ev.sentence_begin = sentences[si].begin;
                ev.sentence_end = sentences[si].end;
                ev.section = doc.section_of(sentences[si]).kind;
              }
              ev.lexicon_phrase = "Body mass index [BMI]";
              ev.source = LexiconSource::kDescription;
              ev.weight = 0.9;
              add(b.code, std::move(ev), StrCat("BMI ", num.substr(0, k)));
              break;
            }
          }
          break;
        }
        break;  // the first BMI given
      }
    }
  }

  std::vector<AssignedCode> out;
  out.reserve(candidates.size());
  for (auto& [code, c] : candidates) {
    if (c.dropped) continue;
    Code x = codes.CodeAt(code);
    if (!x.billable() || IsUncomplicatedSubstanceUse(x.key())) continue;
    const double score = score_of(c);
    if (score < r.options.min_score) continue;
    AssignedCode a;
    a.code_id = code;
    a.code = std::string(x.code());
    a.description = std::string(x.description());
    a.score = score;
    a.derivation = c.derivation.empty() ? std::string("lexicon") : std::move(c.derivation);
    // Strongest first. (Most lists are in that order already: a stable sort
    // would leave them as they are, without its buffer and moves.)
    auto stronger = [](const CodeEvidence& p, const CodeEvidence& q) {
      return p.weight > q.weight;
    };
    if (!std::is_sorted(c.evidence.begin(), c.evidence.end(), stronger)) {
      internal::StableSortLarge(&c.evidence, stronger);
    }
    // One piece of evidence per distinct span.
    // (Moving a piece leaves its span for the comparisons after it.)
    ForEachFirstOfItsSpan(c.evidence,
                          [&](size_t i) { a.evidence.push_back(std::move(c.evidence[i])); });
    a.evidence_count = static_cast<uint32_t>(a.evidence.size());
    out.push_back(std::move(a));
  }
  // (Moved once each: an AssignedCode is large.)
  internal::StableSortLarge(&out, [](const AssignedCode& p, const AssignedCode& q) {
    if (p.score != q.score) return p.score > q.score;
    return p.code < q.code;
  });
  return out;
}

}  // namespace chartcoder
