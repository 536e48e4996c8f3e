// The clinical tokenizer, sentence splitter and sectionizer.
//
// Four passes over one note:
//  1. Scan the normalized view into raw tokens: ASCII letters and digits (with
//     apostrophes, decimal points, thousands separators and one-letter
//     abbreviation periods joined), ASCII punctuation (runs of one character
//     kept together), and runs holding other characters through ICU's word
//     BreakIterator.
//  2. Merge raw tokens by clinical rules: list markers, abbreviations with
//     periods, slash abbreviations and units, dates, times, ratios, values
//     with units or percent signs, ICD-10-CM codes.
//  3. Map normalized offsets to text() offsets; read case from text().
//  4. Split sentences (final punctuation, line structure, headers, list items,
//     table rows, "; Label:"), find section headers, build the sections.
#include "chartcoder/tokenizer.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "chartcoder/codeset.h"
#include "src/internal/phrase_trie.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"
#include "src/internal/utf8.h"

namespace chartcoder {
namespace {

using internal::StrCat;
using internal::ToAbsl;

// ---------------------------------------------------------------------------
// Word lists of the clinical rules.
// ---------------------------------------------------------------------------

// Words that take a period and never end a sentence ("Dr. Smith").
constexpr std::string_view kNonFinalAbbreviations[] = {
    "dr",    "drs", "mr",   "mrs",  "ms",     "messrs", "prof", "rev", "hon",
    "st",    "mt",  "vs",   "v",    "approx", "apprx",  "eg",   "ie",  "viz",
    "cf",    "fig", "figs", "dept", "incl",   "esp",    "resp", "lt",  "rt",
    "bilat", "ref", "nos",  "abt",  "w",      "wt",     "ht",   "est", "ca",
};
// Words that take a period and end a sentence only before a capitalized word
// or at the end of a line ("... b.i.d. Lisinopril ...").
constexpr std::string_view kFinalAbbreviations[] = {
    "etc",  "al",  "pt",  "pts", "yo",  "jr",  "sr",   "inc", "co",  "ltd", "am",  "pm",
    "bid",  "tid", "qid", "qd",  "qhs", "prn", "po",   "npo", "hs",  "ac",  "pc",  "qod",
    "qam",  "qpm", "od",  "os",  "ou",  "sq",  "subq", "im",  "iv",  "sl",  "pr",  "gtt",
    "gtts", "hx",  "dx",  "tx",  "sx",  "rx",  "fx",   "yrs", "mos", "wks", "hrs", "mins",
};
// Slash-joined words kept as one token besides the one-letter forms
// ("s/p", "h/o", "n/v/d" are joined by rule).
constexpr std::string_view kSlashWords[] = {
    "mg/dl",    "mg/l",     "g/dl",     "g/l",       "ml/min",      "ml/hr",      "ml/h",
    "ml/kg",    "mmol/l",   "mmol/mol", "meq/l",     "umol/l",      "nmol/l",     "pmol/l",
    "ng/ml",    "ng/dl",    "ng/l",     "pg/ml",     "ug/ml",       "ug/l",       "mcg/ml",
    "mcg/kg",   "mcg/min",  "mcg/hr",   "mg/kg",     "mg/hr",       "mg/h",       "mg/day",
    "mg/d",     "mg/ml",    "mg/m",     "u/l",       "iu/l",        "iu/ml",      "miu/ml",
    "uiu/ml",   "units/hr", "units/kg", "units/ml",  "units/day",   "mm/hr",      "mm/h",
    "cm/s",     "m/s",      "l/min",    "beats/min", "breaths/min", "bpm/min",    "k/ul",
    "cells/ul", "meq/day",  "kcal/day", "kcal/kg",   "kg/m",        "and/or",     "he/she",
    "his/her",  "him/her",  "yes/no",   "s/sx",      "sx/s",        "hx/o",       "w/in",
    "w/out",    "w/up",     "f/up",     "d/ced",     "d/cd",        "abd/pelvis", "c/s",
};
// Last words of a line after which the next line continues the sentence.
constexpr std::string_view kContinuationWords[] = {
    "and",       "or",       "of",       "with",      "the",       "a",           "an",
    "to",        "in",       "for",      "on",        "at",        "by",          "from",
    "as",        "than",     "nor",      "vs",        "versus",    "including",   "without",
    "w/",        "w/o",      "s/p",      "h/o",       "c/o",       "r/o",         "due",
    "secondary", "is",       "was",      "are",       "were",      "has",         "have",
    "had",       "be",       "been",     "being",     "which",     "that",        "who",
    "his",       "her",      "their",    "its",       "this",      "these",       "those",
    "into",      "per",      "not",      "no",        "denies",    "reports",     "but",
    "also",      "both",     "either",   "neither",   "very",      "mild",        "moderate",
    "severe",    "left",     "right",    "bilateral", "chronic",   "acute",       "after",
    "before",    "since",    "while",    "because",   "if",        "when",        "then",
    "likely",    "possible", "probable", "history",   "type",      "stage",       "grade",
    "class",     "status",   "post",     "patient",   "pt",        "he",          "she",
    "they",      "we",       "i",        "will",      "would",     "should",      "may",
    "can",       "could",    "continue", "start",     "started",   "stop",        "stopped",
    "increase",  "decrease", "needs",    "need",      "recommend", "recommended",
};
// Undotted shapes of ICD-10-CM categories that are usually something else
// (vitamin B12, thoracic vertebrae, the p53 gene, CoQ10), when no code set
// decides.
constexpr std::string_view kIcdShapeStopList[] = {"b12", "t10", "t11", "t12", "p53", "q10", "d25"};

template <size_t N>
absl::flat_hash_set<std::string> MakeSet(const std::string_view (&words)[N]) {
  absl::flat_hash_set<std::string> s;
  for (std::string_view w : words) s.insert(std::string(w));
  return s;
}

bool InSet(const absl::flat_hash_set<std::string>& set, std::string_view s) {
  return set.contains(ToAbsl(s));
}

// ---------------------------------------------------------------------------
// Character classes of the normalized view (ASCII letters are lower case).
// ---------------------------------------------------------------------------
enum CharClass : uint8_t { kClassLower = 1, kClassDigit = 2, kClassUpper = 4 };
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kClassLower;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kClassUpper;
  for (int c = '0'; c <= '9'; ++c) t[c] = kClassDigit;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();
inline uint8_t ClassOf(char c) { return kClass[static_cast<unsigned char>(c)]; }

inline bool IsLowerA(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsDigitA(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlnumA(char c) { return IsLowerA(c) || IsDigitA(c); }
inline bool IsAsciiB(char c) { return static_cast<unsigned char>(c) < 0x80; }
inline bool IsRunChar(char c) {
  switch (c) {
    case '-':
    case '=':
    case '*':
    case '_':
    case '.':
    case '~':
    case '#':
    case '+':
    case '!':
    case '?':
    case '>':
    case '<':
      return true;
    default:
      return false;
  }
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigitA(c)) return false;
  }
  return true;
}

int SmallNumber(std::string_view s) {  // digits only, at most 4; else -1
  if (s.empty() || s.size() > 4 || !AllDigits(s)) return -1;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// ---------------------------------------------------------------------------
// Pass 1: raw tokens.
// ---------------------------------------------------------------------------
enum class RawClass : uint8_t { kWord, kNumber, kPunct };

struct Raw {
  uint32_t nb = 0, ne = 0;  // normalized offsets
  uint16_t flags = 0;       // kTokenLineStart | kTokenBlankLineBefore | kTokenSpaceBefore
  RawClass cls = RawClass::kWord;
  bool ascii = true;  // made by the ASCII scanner
  bool has_alpha = false;
  bool has_digit = false;
  bool has_period = false;  // joined one-letter abbreviation periods ("b.i.d")
  // ASCII documents only (the scanner reads the text's own case there):
  uint8_t first_letter = 0;  // 0 none, 1 lower case, 2 upper case
  uint8_t caps = 0;          // upper-case letters (at most 2) if no letter is lower case
};

class Scanner {
 public:
  // `text` is the original text when it is ASCII (then it has the offsets
  // of `nt` and the scanner reads letter case from it), else empty.
  Scanner(std::string_view nt, std::string_view ascii_text, const icu::BreakIterator& proto,
          std::vector<Raw>* out)
      : nt_(nt),
        src_(ascii_text.empty() ? nt : ascii_text),
        count_case_(!ascii_text.empty()),
        proto_(proto),
        out_(out) {}

  absl::Status Run() {
    const size_t n = nt_.size();
    size_t i = 0;
    while (i < n) {
      const char c = nt_[i];
      if (c == ' ') {
        pending_ |= kTokenSpaceBefore;
        ++i;
      } else if (c == '\n') {
        if (!line_has_token_) pending_ |= kTokenBlankLineBefore;
        pending_ |= kTokenLineStart | kTokenSpaceBefore;
        line_has_token_ = false;
        ++i;
      } else if (IsAlnumA(c)) {
        Raw r;
        const size_t e = ScanAlnum(i, &r);
        if (e == 0) {
          CC_RETURN_IF_ERROR(ScanIcu(i, &i));
        } else {
          Emit(r, i, e);
          i = e;
        }
      } else if (!IsAsciiB(c)) {
        Raw r;
        const size_t e = SimpleLetterAt(i) > 0 ? ScanAlnum(i, &r) : 0;
        if (e == 0) {
          CC_RETURN_IF_ERROR(ScanIcu(i, &i));
        } else {
          Emit(r, i, e);
          i = e;
        }
      } else {
        size_t e = i + 1;
        if (IsRunChar(c)) {
          while (e < n && nt_[e] == c) ++e;
        }
        Raw r;
        r.cls = RawClass::kPunct;
        Emit(r, i, e);
        i = e;
      }
    }
    return absl::OkStatus();
  }

 private:
  void Emit(Raw r, size_t b, size_t e) {
    r.nb = static_cast<uint32_t>(b);
    r.ne = static_cast<uint32_t>(e);
    r.flags = pending_;
    pending_ = 0;
    line_has_token_ = true;
    out_->push_back(r);
  }

  // Thousands separator at nt_[j] == ',': three digits follow, then no digit,
  // and at most three digits precede.
  bool Thousands(size_t j, size_t token_begin) const {
    const size_t n = nt_.size();
    if (j + 3 >= n + 0 || !IsDigitA(nt_[j + 1]) || !IsDigitA(nt_[j + 2]) || !IsDigitA(nt_[j + 3])) {
      return false;
    }
    if (j + 4 < n && IsAlnumA(nt_[j + 4])) return false;
    size_t before = 0;
    for (size_t k = j; k > token_begin && IsDigitA(nt_[k - 1]); --k) ++before;
    return before >= 1 && before <= 3;
  }

  // An ASCII word or number at nt_[i]; returns its end, or 0 when non-ASCII
  // letters continue it (ICU decides then).
  size_t ScanAlnum(size_t i, Raw* r) {
    const size_t n = nt_.size();
    size_t j = i;
    size_t segment = i;  // start of the current period-separated segment
    r->cls = IsDigitA(nt_[i]) ? RawClass::kNumber : RawClass::kWord;
    uint8_t seen = 0;
    while (true) {
      for (uint8_t c; j < n && (c = ClassOf(src_[j])) != 0; ++j) seen |= c;
      if (j < n && !IsAsciiB(nt_[j])) {
        // Letters of alphabetic scripts break like ASCII letters; anything
        // else goes to ICU.
        const size_t len = SimpleLetterAt(j);
        if (len == 0) return 0;
        j += len;
        seen |= kClassLower;
        continue;
      }
      if (j + 1 >= n) break;
      const char d = nt_[j], e = nt_[j + 1];
      if (d == '\'' && IsLowerA(nt_[j - 1]) && IsLowerA(e)) {  // crohn's, don't
        ++j;
        continue;
      }
      if (d == '.' && IsDigitA(nt_[j - 1]) && IsDigitA(e)) {  // 8.2, e11.9
        ++j;
        segment = j;
        continue;
      }
      if (d == '.' && j == i + 3 && IsLowerA(nt_[i]) && IsDigitA(nt_[i + 1]) &&
          (nt_[i + 2] == 'a' || nt_[i + 2] == 'b') && IsAlnumA(e)) {  // C4A.9, D3A.01
        ++j;
        segment = j;
        continue;
      }
      if (d == ',' && IsDigitA(nt_[j - 1]) && Thousands(j, i)) {  // 1,000
        ++j;
        continue;
      }
      if (d == '.' && IsAlnumA(e)) {  // b.i.d, e.g, q.4h; not pain.patient
        size_t k = j + 1;
        while (k < n && IsAlnumA(nt_[k])) ++k;
        const size_t before = j - segment, after = k - (j + 1);
        if (before <= 2 && after <= 2 && (before == 1 || after == 1) &&
            (k >= n || IsAsciiB(nt_[k]))) {
          r->has_period = true;
          ++j;
          segment = j;
          continue;
        }
      }
      break;
    }
    r->has_alpha = (seen & (kClassLower | kClassUpper)) != 0;
    r->has_digit = (seen & kClassDigit) != 0;
    if (count_case_ && r->has_alpha) {
      size_t f = i;
      while (!(ClassOf(src_[f]) & (kClassLower | kClassUpper))) ++f;
      r->first_letter = (ClassOf(src_[f]) & kClassUpper) ? 2 : 1;
      if (!(seen & kClassLower)) {
        for (size_t k = f; k < j && r->caps < 2; ++k)
          r->caps += (ClassOf(src_[k]) & kClassUpper) != 0;
      }
    }
    return j;
  }

  // Length of the character at nt_[j] if it is a letter (or combining mark)
  // of the Latin, Greek or Cyrillic scripts, which ICU's word rules treat
  // like ASCII letters; else 0.
  size_t SimpleLetterAt(size_t j) const {
    uint32_t cp;
    const size_t len = internal::DecodeUtf8(nt_, j, &cp);
    if (len == 0) return 0;
    const bool simple = (cp >= 0x00C0 && cp <= 0x024F) || (cp >= 0x0370 && cp <= 0x052F) ||
                        (cp >= 0x1E00 && cp <= 0x1EFF);
    if (simple && u_isalpha(static_cast<UChar32>(cp))) return len;
    if (cp >= 0x0300 && cp <= 0x036F) return len;  // combining diacritics
    return 0;
  }

  // A run holding non-ASCII characters, up to the next space or separating
  // punctuation, segmented by ICU's word BreakIterator.
  absl::Status ScanIcu(size_t from, size_t* end) {
    const size_t n = nt_.size();
    size_t e = from;
    while (e < n) {
      const char b = nt_[e];
      if (!IsAsciiB(b) || IsAlnumA(b) || b == '\'' || b == '.' || b == '-') {
        ++e;
      } else {
        break;
      }
    }
    if (e == from) e = from + 1;  // cannot happen: nt_[from] is a letter, digit or non-ASCII
    if (bi_ == nullptr) {
      bi_.reset(proto_.clone());
      if (bi_ == nullptr) return absl::InternalError("ICU cannot clone the word break iterator");
    }
    UErrorCode err = U_ZERO_ERROR;
    UText ut = UTEXT_INITIALIZER;
    utext_openUTF8(&ut, nt_.data() + from, static_cast<int64_t>(e - from), &err);
    bi_->setText(&ut, err);
    if (U_FAILURE(err)) {
      utext_close(&ut);
      return absl::InternalError(StrCat("ICU word break failed: ", u_errorName(err)));
    }
    const std::string_view chunk = nt_.substr(from, e - from);
    int32_t a = bi_->first();
    for (int32_t b = bi_->next(); b != icu::BreakIterator::DONE; a = b, b = bi_->next()) {
      const int32_t status = bi_->getRuleStatus();
      if (status >= UBRK_WORD_NONE && status < UBRK_WORD_NONE_LIMIT) {
        // Punctuation and symbols: one token per character.
        size_t p = static_cast<size_t>(a);
        while (p < static_cast<size_t>(b)) {
          uint32_t cp;
          size_t len = internal::DecodeUtf8(chunk, p, &cp);
          if (len == 0) len = cp;
          if (!u_isUWhiteSpace(static_cast<UChar32>(cp))) {
            Raw r;
            r.cls = RawClass::kPunct;
            r.ascii = false;
            Emit(r, from + p, from + p + len);
          } else {
            pending_ |= kTokenSpaceBefore;
          }
          p += len;
        }
        continue;
      }
      Raw r;
      r.ascii = false;
      r.cls = status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT ? RawClass::kNumber
                                                                            : RawClass::kWord;
      for (int32_t k = a; k < b; ++k) {
        r.has_alpha |= IsLowerA(chunk[k]) || !IsAsciiB(chunk[k]);
        r.has_digit |= IsDigitA(chunk[k]);
      }
      if (IsDigitA(chunk[a])) r.cls = RawClass::kNumber;
      Emit(r, from + a, from + b);
    }
    utext_close(&ut);
    *end = e;
    return absl::OkStatus();
  }

  std::string_view nt_;
  std::string_view src_;  // the original text if ASCII, else nt_
  bool count_case_;
  const icu::BreakIterator& proto_;
  std::vector<Raw>* out_;
  std::unique_ptr<icu::BreakIterator> bi_;  // cloned on the first non-ASCII run
  uint16_t pending_ = kTokenLineStart | kTokenBlankLineBefore | kTokenSpaceBefore;
  bool line_has_token_ = false;
};

// A line at least this long that ends without punctuation, followed by a line
// starting in lower case, is prose wrapped at a fixed width.
constexpr uint32_t kWrappedLineBytes = 40;
// A line at least this long that ends in a word continues on the next line
// whatever the case of its first word.
constexpr uint32_t kLongLineBytes = 64;

// Per-token facts used by the sentence splitter (not public).
enum TokenInfo : uint8_t {
  kInfoNonFinalAbbreviation = 1,  // "Dr.", "e.g.": never ends a sentence
  kInfoFinalAbbreviation = 2,     // "b.i.d.", "etc.": ends one before a capital
  kInfoEnumerator = 4,            // "2)" in mid-line
};

// What an analyzer holds (TextAnalyzer::Rep) and what a document holds
// (Document::Rep).
struct AnalyzerData {
  TextAnalyzerOptions options;
  std::vector<SectionRule> rules;  // one per phrase
  internal::PhraseTrie headers;    // value: index into rules
  size_t longest_header = 0;       // tokens of the longest header phrase
  absl::flat_hash_set<std::string> non_final;
  absl::flat_hash_set<std::string> final_abbreviations;
  absl::flat_hash_set<std::string> slash_words;
  absl::flat_hash_set<std::string> continuation;
  absl::flat_hash_set<std::string> icd_stop;
  std::unique_ptr<icu::BreakIterator> word_break;  // prototype, cloned per call
};

struct DocumentData {
  explicit DocumentData(ChartText t) : text(std::move(t)) {}
  ChartText text;
  std::string arena;  // norms that are not slices of the normalized view
  std::vector<Token> tokens;
  std::vector<Sentence> sentences;
  std::vector<Section> sections;
};

// Pass 2-4 for one document.
class Analysis {
 public:
  Analysis(const AnalyzerData& a, DocumentData* doc, bool sections)
      : a_(a),
        doc_(*doc),
        nt_(doc->text.normalized()),
        text_(doc->text.text()),
        ascii_(doc->text.is_ascii()),
        want_sections_(sections) {}

  absl::Status Run() {
    raws_.reserve(nt_.size() / 4 + 8);
    Scanner scanner(nt_, doc_.text.is_ascii() ? text_ : std::string_view(), *a_.word_break, &raws_);
    CC_RETURN_IF_ERROR(scanner.Run());
    Merge();
    MapOffsets();
    if (want_sections_) Split();
    return absl::OkStatus();
  }

 private:
  // ---- pass 2 ---------------------------------------------------------------
  std::string_view RawText(size_t k) const {
    return nt_.substr(raws_[k].nb, raws_[k].ne - raws_[k].nb);
  }
  bool Adjacent(size_t k) const { return k + 1 < raws_.size() && raws_[k + 1].nb == raws_[k].ne; }
  bool IsPunct(size_t k, char c) const {
    return k < raws_.size() && raws_[k].cls == RawClass::kPunct && raws_[k].ne - raws_[k].nb == 1 &&
           nt_[raws_[k].nb] == c;
  }
  bool SameLine(size_t k) const {  // raw k continues the line of raw k-1
    return k < raws_.size() && (raws_[k].flags & kTokenLineStart) == 0;
  }
  // Raw k+1 follows on the same line after white space.
  bool SpacedFollower(size_t k) const {
    return k + 1 < raws_.size() && SameLine(k + 1) && (raws_[k + 1].flags & kTokenSpaceBefore);
  }
  bool IsAlphaWord(size_t k) const {
    return k < raws_.size() && raws_[k].cls == RawClass::kWord && raws_[k].ascii &&
           !raws_[k].has_digit && !raws_[k].has_period;
  }
  bool IsDigitsRaw(size_t k) const {
    return k < raws_.size() && raws_[k].cls == RawClass::kNumber && AllDigits(RawText(k));
  }
  char OriginalFirst(size_t k) const {  // the text() byte of an ASCII raw's first char
    const uint32_t t = doc_.text.ToTextOffset(raws_[k].nb);
    return t < text_.size() ? text_[t] : '\0';
  }

  // Raws a list marker at line start takes, or 0.
  size_t ListMarkerAt(size_t k) const {
    const Raw& r = raws_[k];
    const std::string_view t = RawText(k);
    if (r.cls == RawClass::kPunct) {
      if ((t == "-" || t == "--" || t == "*" || t == "**" || t == "+" || t == ">") &&
          SpacedFollower(k)) {
        return 1;
      }
      if (t == "(" && Adjacent(k) && Adjacent(k + 1) && IsPunct(k + 2, ')') &&
          SpacedFollower(k + 2)) {
        const std::string_view inner = RawText(k + 1);
        if ((IsDigitsRaw(k + 1) && inner.size() <= 2) ||
            (IsAlphaWord(k + 1) && inner.size() == 1)) {
          return 3;
        }
      }
      if (t == "#" && Adjacent(k) && IsDigitsRaw(k + 1) && RawText(k + 1).size() <= 3) {
        if (Adjacent(k + 1) && (IsPunct(k + 2, '.') || IsPunct(k + 2, ')'))) return 3;
        return 2;
      }
      return 0;
    }
    if (t == "o" && IsAlphaWord(k) && OriginalFirst(k) == 'o' && SpacedFollower(k) &&
        !IsPunct(k + 1, ':')) {
      return 1;  // "o " bullets of word processors
    }
    if (Adjacent(k) && (IsPunct(k + 1, '.') || IsPunct(k + 1, ')')) && SpacedFollower(k + 1)) {
      if (IsDigitsRaw(k) && t.size() <= 3) return 2;
      if (IsAlphaWord(k) && t.size() == 1) {
        // "C. diff", "E. coli": a capital initial before a lower-case word is
        // a genus, not an outline letter ("A. Hypertension", "b. asthma").
        const char first = OriginalFirst(k);
        if (first >= 'A' && first <= 'Z' && IsPunct(k + 1, '.') && k + 2 < raws_.size() &&
            IsAlphaWord(k + 2)) {
          const char next = OriginalFirst(k + 2);
          if (next >= 'a' && next <= 'z') return 0;
        }
        return 2;
      }
    }
    return 0;
  }

  // "2)" between spaces in mid-line.
  size_t EnumeratorAt(size_t k) const {
    if (!IsDigitsRaw(k) || RawText(k).size() > 2) return 0;
    if ((raws_[k].flags & kTokenSpaceBefore) == 0) return 0;
    if (Adjacent(k) && IsPunct(k + 1, ')') && SpacedFollower(k + 1)) return 2;
    return 0;
  }

  bool IsIcdCode(std::string_view norm, uint32_t text_begin, bool dotted) const {
    // Shape: letter, digit, digit (or the A/B of C4A, C7A, C7B, D3A, M1A,
    // Z3A), then optionally '.' and 1-4 letters or digits.
    if (norm.size() < 3 || !IsLowerA(norm[0]) || !IsDigitA(norm[1])) return false;
    if (!IsDigitA(norm[2])) {
      const std::string_view cat = norm.substr(0, 3);
      if (cat != "c4a" && cat != "c7a" && cat != "c7b" && cat != "d3a" && cat != "m1a" &&
          cat != "z3a") {
        return false;
      }
    }
    const bool upper =
        text_begin < text_.size() && text_[text_begin] >= 'A' && text_[text_begin] <= 'Z';
    if (dotted) {
      if (norm.size() < 5 || norm.size() > 8 || norm[3] != '.') return false;
      for (size_t i = 4; i < norm.size(); ++i) {
        if (!IsAlnumA(norm[i])) return false;
      }
    } else {
      for (char c : norm) {
        if (!IsAlnumA(c)) return false;
      }
      if (!upper || norm.size() > 7) return false;
      if (a_.options.code_set == nullptr) {
        return norm.size() == 3 && !InSet(a_.icd_stop, norm);
      }
    }
    if (a_.options.code_set != nullptr) return a_.options.code_set->Find(norm).has_value();
    return true;
  }

  void Add(size_t first, size_t end, TokenKind kind, uint16_t extra_flags = 0, uint8_t info = 0) {
    Token t;
    t.begin = raws_[first].nb;  // normalized until MapOffsets
    t.end = raws_[end - 1].ne;
    t.kind = kind;
    t.flags = static_cast<uint16_t>(
        (raws_[first].flags & (kTokenLineStart | kTokenBlankLineBefore | kTokenSpaceBefore)) |
        extra_flags);
    if (after_marker_) {
      t.flags |= kTokenListItemStart;
      after_marker_ = false;
    }
    if (extra_flags & kTokenListMarker) after_marker_ = true;
    if (ascii_ && kind != TokenKind::kPunct && kind != TokenKind::kNumber &&
        kind != TokenKind::kDate && kind != TokenKind::kTime) {
      uint32_t caps = 0;
      bool lower = false;
      uint8_t first_letter = 0;
      for (size_t k = first; k < end; ++k) {
        const Raw& r = raws_[k];
        if (r.first_letter == 0) continue;
        if (first_letter == 0) first_letter = r.first_letter;
        lower |= r.caps == 0;
        caps += r.caps;
      }
      if (first_letter == 2) t.flags |= kTokenCapitalized;
      if (!lower && caps >= 2) t.flags |= kTokenUpper;
    }
    doc_.tokens.push_back(t);
    info_.push_back(info);
  }
  // The last token gets a norm that is not a slice of the normalized view.
  void SetArenaNorm(std::string_view norm) {
    arena_norms_.push_back({doc_.tokens.size() - 1, doc_.arena.size(), norm.size()});
    doc_.arena.append(norm);
  }

  // Number-led patterns at raw k; returns raws used (0: not one).
  size_t NumberAt(size_t k) {
    const std::string_view t = RawText(k);
    if (!raws_[k].has_alpha) {
      // Ratios and dates with slashes: 140/90, 1/2, 3/14/2024, 3/2024.
      if (Adjacent(k) && IsPunct(k + 1, '/') && Adjacent(k + 1) && k + 2 < raws_.size() &&
          raws_[k + 2].cls == RawClass::kNumber && raws_[k + 2].ascii && !raws_[k + 2].has_period) {
        size_t end = k + 3;
        std::vector<std::string_view> parts = {t, RawText(k + 2)};
        if (AllDigits(parts[1]) && Adjacent(k + 2) && IsPunct(k + 3, '/') && Adjacent(k + 3) &&
            IsDigitsRaw(k + 4)) {
          parts.push_back(RawText(k + 4));
          end = k + 5;
        }
        const int m = SmallNumber(parts[0]), d = SmallNumber(parts[1]);
        bool date = false;
        if (!AllDigits(parts[1])) {
          date = false;  // a unit follows: 120/80mmhg
        } else if (parts.size() == 3) {
          const size_t ylen = parts[2].size();
          date = m >= 1 && m <= 12 && d >= 1 && d <= 31 && (ylen == 2 || ylen == 4) &&
                 parts[0].size() <= 2 && parts[1].size() <= 2;
        } else {
          date = m >= 1 && m <= 12 && parts[0].size() <= 2 && parts[1].size() == 4 && d >= 1900 &&
                 d <= 2199;
        }
        // A unit written right after a ratio: 140/90mmhg.
        if (Adjacent(end - 1) && end < raws_.size() && raws_[end].cls == RawClass::kWord && !date) {
          ++end;
        }
        Add(k, end, date ? TokenKind::kDate : TokenKind::kMeasurement);
        return end - k;
      }
      // ISO and US dates with dashes: 2024-03-14, 03-14-2024, 3-14-24.
      if (Adjacent(k) && IsPunct(k + 1, '-') && Adjacent(k + 1) && IsDigitsRaw(k + 2) &&
          Adjacent(k + 2) && IsPunct(k + 3, '-') && Adjacent(k + 3) && IsDigitsRaw(k + 4) &&
          !(Adjacent(k + 4) && k + 5 < raws_.size() && raws_[k + 5].cls != RawClass::kPunct)) {
        const std::string_view b = RawText(k + 2), c = RawText(k + 4);
        bool date = false;
        if (t.size() == 4 && b.size() <= 2 && c.size() <= 2) {
          const int y = SmallNumber(t), m = SmallNumber(b), d = SmallNumber(c);
          date = y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
        } else if (t.size() <= 2 && b.size() <= 2 && (c.size() == 2 || c.size() == 4)) {
          const int m = SmallNumber(t), d = SmallNumber(b);
          date = m >= 1 && m <= 12 && d >= 1 && d <= 31;
        }
        if (date) {
          Add(k, k + 5, TokenKind::kDate);
          return 5;
        }
      }
      // Times: 14:30, 2:30pm, 08:15:00.
      if (t.size() <= 2 && AllDigits(t) && SmallNumber(t) <= 24 && Adjacent(k) &&
          IsPunct(k + 1, ':') && Adjacent(k + 1) && k + 2 < raws_.size() &&
          raws_[k + 2].cls == RawClass::kNumber) {
        const std::string_view mm = RawText(k + 2);
        const std::string_view suffix = mm.size() >= 2 ? mm.substr(2) : std::string_view("x");
        if (mm.size() >= 2 && IsDigitA(mm[0]) && mm[0] <= '5' && IsDigitA(mm[1]) &&
            (suffix.empty() || suffix == "am" || suffix == "pm" || suffix == "a" ||
             suffix == "p")) {
          size_t end = k + 3;
          if (suffix.empty() && Adjacent(k + 2) && IsPunct(k + 3, ':') && Adjacent(k + 3) &&
              IsDigitsRaw(k + 4) && RawText(k + 4).size() == 2) {
            end = k + 5;
          }
          Add(k, end, TokenKind::kTime);
          return end - k;
        }
      }
      // Percentages and grades: 35%, 2+.
      if (Adjacent(k) && IsPunct(k + 1, '%')) {
        Add(k, k + 2, TokenKind::kMeasurement);
        return 2;
      }
      if (Adjacent(k) && IsPunct(k + 1, '+') &&
          !(Adjacent(k + 1) && k + 2 < raws_.size() && raws_[k + 2].cls != RawClass::kPunct)) {
        Add(k, k + 2, TokenKind::kMeasurement);
        return 2;
      }
      // Temperatures and angles: 98.6°F, 37°c, 30°.
      if (Adjacent(k) && k + 1 < raws_.size() && RawText(k + 1) == "\xC2\xB0") {
        size_t end = k + 2;
        if (Adjacent(k + 1) && k + 2 < raws_.size() && raws_[k + 2].cls == RawClass::kWord &&
            (RawText(k + 2) == "f" || RawText(k + 2) == "c")) {
          end = k + 3;
        }
        Add(k, end, TokenKind::kMeasurement);
        return end - k;
      }
      return 0;
    }
    // A number with letters: ordinals stay numbers, the rest are values with
    // units (5mg, 98.6f, 3x4, 10cm).
    size_t letters = t.size();
    while (letters > 0 && IsLowerA(t[letters - 1])) --letters;
    const std::string_view suffix = t.substr(letters);
    const bool ordinal = AllDigits(t.substr(0, letters)) &&
                         (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th");
    if (ordinal) {
      Add(k, k + 1, TokenKind::kNumber);
      return 1;
    }
    size_t end = k + 1;
    if (Adjacent(k) && IsPunct(k + 1, '%')) end = k + 2;
    Add(k, end, TokenKind::kMeasurement);
    return end - k;
  }

  // Slash abbreviations and units at raw k (an ASCII alphabetic word).
  size_t SlashAt(size_t k) {
    if (!(Adjacent(k) && IsPunct(k + 1, '/'))) return 0;
    size_t last = k;
    bool single = RawText(k).size() == 1;
    while (Adjacent(last) && IsPunct(last + 1, '/') && Adjacent(last + 1) &&
           IsAlphaWord(last + 2)) {
      last += 2;
      single = single && RawText(last).size() == 1;
    }
    if (last > k) {
      const std::string_view joined = nt_.substr(raws_[k].nb, raws_[last].ne - raws_[k].nb);
      if (single || InSet(a_.slash_words, joined)) {
        Add(k, last + 1, TokenKind::kAbbreviation);
        return last + 1 - k;
      }
    }
    if (RawText(k) == "w") {  // "w/" (with), also glued to the next word: "w/pain"
      Add(k, k + 2, TokenKind::kAbbreviation);
      return 2;
    }
    return 0;
  }

  // The last token is a title ("Dr.", "Mr.") or an initial after one, so a
  // following "J." is an initial, not a sentence end.
  bool AfterTitle() const {
    if (doc_.tokens.empty() || doc_.tokens.back().kind != TokenKind::kAbbreviation) return false;
    const size_t i = doc_.tokens.size() - 1;
    const std::string_view norm =
        arena_norms_.empty() || arena_norms_.back().token != i
            ? std::string_view()
            : std::string_view(doc_.arena)
                  .substr(arena_norms_.back().offset, arena_norms_.back().length);
    return norm == "dr" || norm == "mr" || norm == "mrs" || norm == "ms" || norm == "prof" ||
           norm == "drs" || (norm.size() == 1 && IsLowerA(norm[0]));
  }

  void Merge() {
    doc_.tokens.reserve(raws_.size());
    info_.reserve(raws_.size());
    size_t k = 0;
    while (k < raws_.size()) {
      const Raw& r = raws_[k];
      // Fast path: punctuation and plain words that no rule below applies
      // to (rules need a line start, digits, periods, or a '.' or '/' next).
      if (!(r.flags & kTokenLineStart)) {
        if (r.cls == RawClass::kPunct) {
          Add(k, k + 1, TokenKind::kPunct);
          ++k;
          continue;
        }
        if (r.cls == RawClass::kWord && !r.has_period && !r.has_digit &&
            !(Adjacent(k) && (IsPunct(k + 1, '.') || IsPunct(k + 1, '/')))) {
          Add(k, k + 1, TokenKind::kWord);
          ++k;
          continue;
        }
      }
      const std::string_view t = RawText(k);
      size_t used = 0;
      if ((r.flags & kTokenLineStart) && (used = ListMarkerAt(k)) > 0) {
        Add(k, k + used, TokenKind::kPunct, kTokenListMarker);
      } else if ((used = EnumeratorAt(k)) > 0) {
        Add(k, k + used, TokenKind::kPunct, kTokenListMarker, kInfoEnumerator);
      } else if (r.cls == RawClass::kNumber) {
        used = NumberAt(k);
        if (used == 0) {
          Add(k, k + 1, TokenKind::kNumber);
          used = 1;
        }
      } else if (r.cls == RawClass::kWord && r.ascii && r.has_period) {
        // b.i.d. -> "bid"; e.g. -> "eg"
        std::string norm;
        for (char c : t) {
          if (c != '.') norm.push_back(c);
        }
        used = Adjacent(k) && IsPunct(k + 1, '.') ? 2 : 1;
        Add(k, k + used, TokenKind::kAbbreviation, 0,
            InSet(a_.non_final, norm) ? kInfoNonFinalAbbreviation : kInfoFinalAbbreviation);
        SetArenaNorm(norm);
      } else if (IsAlphaWord(k) && (used = SlashAt(k)) > 0) {
        // added by SlashAt
      } else if (IsAlphaWord(k) && Adjacent(k) && IsPunct(k + 1, '.') &&
                 (InSet(a_.non_final, t) || InSet(a_.final_abbreviations, t) ||
                  (t.size() == 1 && AfterTitle()))) {
        Add(k, k + 2, TokenKind::kAbbreviation, 0,
            InSet(a_.non_final, t) || t.size() == 1 ? kInfoNonFinalAbbreviation
                                                    : kInfoFinalAbbreviation);
        SetArenaNorm(t);
        used = 2;
      } else if (r.cls == RawClass::kWord && r.ascii && r.has_digit &&
                 IsIcdCode(t, doc_.text.ToTextOffset(r.nb),
                           t.find('.') != std::string_view::npos)) {
        Add(k, k + 1, TokenKind::kIcdCode);
        used = 1;
      } else {
        Add(k, k + 1, r.cls == RawClass::kPunct ? TokenKind::kPunct : TokenKind::kWord);
        used = 1;
      }
      k += used;
    }
  }

  // ---- pass 3 ---------------------------------------------------------------
  void MapOffsets() {
    const ChartText& ct = doc_.text;
    std::vector<Token>& tokens = doc_.tokens;
    for (Token& t : tokens) t.norm = std::string_view(nt_.data() + t.begin, t.end - t.begin);
    for (const ArenaNorm& a : arena_norms_) {
      tokens[a.token].norm = std::string_view(doc_.arena).substr(a.offset, a.length);
    }
    if (!ct.is_ascii()) {
      // Tokens made from one unit of the offset map (a base character and
      // the combining marks NFKC joined to it, split by ICU) would share
      // text bytes: they become one token.
      std::vector<TextSpan> spans(tokens.size());
      for (size_t r = 0; r < tokens.size(); ++r) spans[r] = {tokens[r].begin, tokens[r].end};
      ct.ToTextSpans(spans);
      size_t w = 0;
      for (size_t r = 0; r < tokens.size(); ++r) {
        if (w == r && (w == 0 || spans[r].begin >= tokens[w - 1].end)) {
          // Nothing merged yet: the token stays in place (most tokens).
          tokens[r].begin = spans[r].begin;
          tokens[r].end = spans[r].end;
          ++w;
          continue;
        }
        Token t = tokens[r];
        t.begin = spans[r].begin;
        t.end = spans[r].end;
        if (w > 0 && t.begin < tokens[w - 1].end) {
          Token& prev = tokens[w - 1];
          prev.end = std::max(prev.end, t.end);
          const char* nb = nt_.data();
          const bool slices = prev.norm.data() >= nb && prev.norm.data() < nb + nt_.size() &&
                              t.norm.data() >= nb && t.norm.data() < nb + nt_.size();
          if (slices) {
            prev.norm = std::string_view(prev.norm.data(),
                                         t.norm.data() + t.norm.size() - prev.norm.data());
          }
          continue;
        }
        tokens[w] = t;
        info_[w] = info_[r];
        ++w;
      }
      tokens.resize(w);
      info_.resize(w);
    }
    if (ascii_) return;  // case flags were set from the raws
    for (Token& t : tokens) {
      if (t.kind != TokenKind::kPunct && t.kind != TokenKind::kNumber &&
          t.kind != TokenKind::kDate && t.kind != TokenKind::kTime) {
        t.flags |= CaseFlags(t);
      }
    }
  }

  // kTokenCapitalized / kTokenUpper from the letters of the token in text():
  // capitalized when its first letter is upper case, upper when it has two
  // letters or more and none but upper-case ones.
  uint16_t CaseFlags(const Token& t) const {
    int letters = 0;         // counted up to 2
    bool not_upper = false;  // a letter that is not upper case
    int first = -1;          // 1 if the first letter is upper case, 0 if not
    uint8_t after = 0;       // the classes of the ASCII bytes after the first letter
    size_t i = t.begin;
    while (i < t.end) {
      const unsigned char c = static_cast<unsigned char>(text_[i]);
      if (c < 0x80) {
        // Most bytes: after the first letter, one table read and an or.
        const uint8_t k = kClass[c];
        ++i;
        if (first >= 0) {
          after |= k;
          continue;
        }
        if ((k & (kClassLower | kClassUpper)) == 0) continue;
        first = (k & kClassUpper) != 0;
        not_upper = first == 0;
        letters = 1;
        continue;
      }
      uint32_t cp;
      size_t len = internal::DecodeUtf8(text_, i, &cp);
      i += len == 0 ? cp : len;
      if (len == 0 || !u_isalpha(static_cast<UChar32>(cp))) continue;
      const bool up = u_isupper(static_cast<UChar32>(cp));
      if (first < 0) first = up;
      not_upper |= !up;
      letters += letters < 2;
    }
    // An ASCII letter after the first one is a second letter.
    if (after & (kClassLower | kClassUpper)) letters = 2;
    not_upper |= (after & kClassLower) != 0;
    uint16_t f = 0;
    if (first == 1) f |= kTokenCapitalized;
    if (letters >= 2 && !not_upper) f |= kTokenUpper;
    return f;
  }

  // ---- pass 4 ---------------------------------------------------------------
  const std::vector<Token>& T() const { return doc_.tokens; }
  bool NormIs(size_t i, std::string_view s) const { return i < T().size() && T()[i].norm == s; }
  bool LineStart(size_t i) const { return T()[i].is(kTokenLineStart); }
  bool StartsLower(size_t i) const {
    const Token& t = T()[i];
    return t.is_wordlike() && !t.is(kTokenCapitalized) && !t.norm.empty() && IsLowerA(t.norm[0]);
  }
  bool IsFinalPunct(size_t i) const {
    const Token& t = T()[i];
    if (t.kind != TokenKind::kPunct || t.is(kTokenListMarker)) return false;
    const char c = t.norm[0];
    return c == '.' || c == '!' || c == '?';
  }
  bool IsClosing(size_t i) const {
    const Token& t = T()[i];
    return t.kind == TokenKind::kPunct && t.norm.size() == 1 &&
           (t.norm[0] == ')' || t.norm[0] == ']' || t.norm[0] == '"' || t.norm[0] == '\'');
  }

  // A gap between tokens i-1 and i that separates table columns: a tab, or
  // two or more spaces not after final punctuation.
  bool WideGap(size_t i) const {
    const uint32_t b = T()[i - 1].end, e = T()[i].begin;
    if (e - b >= 2 && !IsFinalPunct(i - 1)) return true;
    for (uint32_t p = b; p < e; ++p) {
      if (text_[p] == '\t') return true;
    }
    return false;
  }

  // "Label:" within the first four tokens of a line or clause starting at i.
  bool LabelAt(size_t i, size_t limit) const {
    for (size_t j = i; j < limit && j < i + 5; ++j) {
      if (j > i && LineStart(j)) return false;
      const Token& t = T()[j];
      if (t.norm == ":") return j > i;
      if (!(t.is_wordlike() || t.kind == TokenKind::kNumber ||
            (t.kind == TokenKind::kPunct && (t.norm == "/" || t.norm == "&" || t.norm == "-" ||
                                             t.norm == "(" || t.norm == ")")))) {
        return false;
      }
    }
    return false;
  }

  struct HeaderHit {
    size_t end = 0;  // tokens [start, end) are the header
    int32_t rule = -1;
  };

  // A section header starting at token i. At a line start any of the header
  // forms; in mid-line only "Header:" capitalized.
  HeaderHit MatchHeader(size_t i, bool line_start) const {
    HeaderHit none;
    if (!line_start && !T()[i].is(kTokenCapitalized)) return none;
    const size_t line_end = line_end_[i];  // tokens of this line: [.., line_end)
    // Cheap test first: a header is a word followed by a colon soon, alone on
    // a short line, or in capitals.
    if (!T()[i].is_wordlike()) return none;
    if (!T()[i].is(kTokenUpper) && line_end - i > a_.longest_header) {
      bool colon = false;
      for (size_t j = i + 1; j < line_end && j <= i + a_.longest_header + 6 && !colon; ++j) {
        colon = T()[j].norm == ":";
      }
      if (!colon) return none;
    }
    const internal::PhraseTrie::Match m = a_.headers.LongestWith(
        [&](size_t k) { return a_.headers.WordId(T()[i + k].norm); }, line_end - i);
    if (m.length == 0) return none;
    const SectionRule& rule = a_.rules[static_cast<size_t>(m.value)];
    const size_t after = i + m.length;
    // "Header:" or "Header (extra words):"
    for (size_t j = after; j < line_end && j < after + 6; ++j) {
      const std::string_view nm = T()[j].norm;
      if (nm == ":") return {j + 1, m.value};
      if (nm == "." || nm == ";" || nm == "," || nm == "?" || nm == "!" ||
          T()[j].is(kTokenListMarker)) {
        break;
      }
    }
    if (!line_start) return none;
    if (after == line_end) {  // alone on its line
      if (rule.strict && !T()[i].is(kTokenCapitalized)) return none;
      return {after, m.value};
    }
    if (rule.strict) return none;
    // "PLAN Start insulin": an ALL-CAPS header before text that is not.
    for (size_t j = i; j < after; ++j) {
      const Token& t = T()[j];
      if (t.is_wordlike() && !t.is(kTokenUpper) &&
          !(t.norm.size() == 1 && t.is(kTokenCapitalized))) {
        return none;
      }
    }
    const Token& next = T()[after];
    if (next.is(kTokenUpper) || IsFinalPunct(after)) return none;
    return {after, m.value};
  }

  void Split() {
    const size_t n = T().size();
    std::vector<Sentence>& out = doc_.sentences;
    struct HeaderSentence {
      size_t sentence;
      int32_t rule;
    };
    std::vector<HeaderSentence> header_sentences;
    // Per line: where it ends, and whether it is a table row.
    std::vector<uint8_t> table_line(n, 0);
    line_end_.resize(n);
    for (size_t i = 0; i < n;) {
      size_t j = i + 1, wide = 0, tabs = 0;
      while (j < n && !LineStart(j)) {
        if (WideGap(j)) {
          ++wide;
          const uint32_t b = T()[j - 1].end, e = T()[j].begin;
          for (uint32_t p = b; p < e; ++p) tabs += text_[p] == '\t';
        }
        ++j;
      }
      if (wide >= 2 || tabs >= 1) std::fill(table_line.begin() + i, table_line.begin() + j, 1);
      std::fill(line_end_.begin() + i, line_end_.begin() + j, static_cast<uint32_t>(j));
      i = j;
    }

    size_t start = 0;       // first token of the open sentence
    size_t header_end = 0;  // tokens before this belong to a header sentence
    auto close = [&](size_t end, uint16_t flags) {
      if (end <= start) return;
      Sentence s;
      s.begin = T()[start].begin;
      s.end = T()[end - 1].end;
      s.first_token = static_cast<uint32_t>(start);
      s.end_token = static_cast<uint32_t>(end);
      s.flags = flags;
      if (T()[start].is(kTokenListMarker)) s.flags |= kSentenceListItem;
      if (table_line[start] && !(flags & kSentenceHeader)) s.flags |= kSentenceTableRow;
      if (!(flags & kSentenceHeader) && LabelAt(start, end)) s.flags |= kSentenceLabeled;
      doc_.tokens[start].flags |= kTokenSentenceStart;
      out.push_back(s);
      start = end;
    };
    auto try_header = [&](size_t i, bool line_start) -> bool {
      const HeaderHit h = MatchHeader(i, line_start);
      if (h.rule < 0) return false;
      close(i, 0);
      for (size_t j = i; j < h.end; ++j) doc_.tokens[j].flags |= kTokenHeader;
      // A vitals header inside the physical exam ("PE:\nVS: ...\nLungs: ...")
      // is a subheading: the exam section goes on.
      const bool nested = !header_sentences.empty() &&
                          a_.rules[static_cast<size_t>(header_sentences.back().rule)].kind ==
                              SectionKind::kPhysicalExam &&
                          a_.rules[static_cast<size_t>(h.rule)].kind == SectionKind::kVitals;
      if (!nested) header_sentences.push_back({out.size(), h.rule});
      close(h.end, kSentenceHeader);
      header_end = h.end;
      return true;
    };

    for (size_t i = 0; i < n; ++i) {
      if (i < header_end) continue;
      if (i == start && i > 0 && i == header_end) {
        // Right after a header: a header may follow only on a new line.
        if (LineStart(i) && try_header(i, true)) {
          i = header_end - 1;
        }
        continue;
      }
      if (i == 0) {
        if (try_header(0, true)) i = header_end - 1;
        continue;
      }
      bool boundary = false;
      bool header_possible = false;  // in mid-line
      const Token& t = T()[i];
      if (LineStart(i)) {
        if (try_header(i, true)) {
          i = header_end - 1;
          continue;
        }
        boundary = LineBreakEndsSentence(i, table_line);
      } else if (t.is(kTokenListMarker) && (info_[i] & kInfoEnumerator)) {
        boundary = true;
      } else {
        size_t p = i - 1;
        while (p > start && IsClosing(p) && !T()[p].is(kTokenSpaceBefore)) --p;
        const bool closing_run = p < i - 1;
        if (p > start && IsFinalPunct(p) && (t.is(kTokenSpaceBefore) || t.is(kTokenCapitalized)) &&
            !(closing_run && !t.is(kTokenSpaceBefore))) {
          const bool initial = p >= 1 && T()[p - 1].is_wordlike() && T()[p - 1].norm.size() == 1 &&
                               T()[p].norm == ".";
          // "..": an ellipsis ends a sentence only before a capital; a leader
          // of four or more dots between words ("Gout ...... resolved 2019",
          // "Na ........ 138") joins a line's columns and never does.
          const std::string_view dots = T()[p].norm;
          const bool ellipsis =
              dots.size() >= 2 && dots.find_first_not_of('.') == std::string_view::npos;
          const bool leader = dots.size() >= 4 && T()[p].is(kTokenSpaceBefore) &&
                              t.is(kTokenSpaceBefore) && !LineStart(i);
          boundary = !(StartsLower(i) && initial) && !ellipsis;
          if (ellipsis && !leader && t.is(kTokenCapitalized)) boundary = true;
          header_possible = boundary;
        } else if (T()[i - 1].kind == TokenKind::kAbbreviation &&
                   (info_[i - 1] & kInfoFinalAbbreviation) && t.is(kTokenSpaceBefore) &&
                   t.is(kTokenCapitalized) && t.is_wordlike()) {
          boundary = true;
          header_possible = true;
        } else if (NormIs(i - 1, ";") && LabelAt(i, n)) {
          boundary = true;
          header_possible = true;
        }
      }
      if (!boundary) continue;
      if (header_possible && try_header(i, false)) {
        i = header_end - 1;
        continue;
      }
      close(i, 0);
    }
    close(n, 0);

    BuildSections(header_sentences);
  }

  // Whether the line break before token i (a line start) ends the sentence,
  // or the line wraps a sentence that goes on.
  bool LineBreakEndsSentence(size_t i, const std::vector<uint8_t>& table_line) const {
    const Token& t = T()[i];
    if (t.is(kTokenBlankLineBefore) || t.is(kTokenListMarker)) return true;
    // A table row whose text cell wraps: an indented line in lower case goes
    // on the row's text when that text, before the row's last wide gap,
    // ended with a comma ("Colon CA, s/p sigmoidectomy,      C18.7\n
    //      on adjuvant FOLFOX").
    if (table_line[i - 1] && !table_line[i] && StartsLower(i) && T()[i].begin > 0 &&
        (text_[T()[i].begin - 1] == ' ' || text_[T()[i].begin - 1] == '\t')) {
      size_t k = i - 1;
      while (!LineStart(k) && !WideGap(k)) --k;
      if (!LineStart(k) && T()[k - 1].kind == TokenKind::kPunct && T()[k - 1].norm == ",") {
        return false;
      }
    }
    if (table_line[i] || table_line[i - 1]) return true;
    const Token& last = T()[i - 1];
    if (last.kind == TokenKind::kPunct) {
      const char c = last.norm[0];
      if (c == '.' || c == '!' || c == '?' || c == ':' || c == ';') return true;
      if (c == ',' || c == '-' || c == '/' || c == '(' || c == '&' || c == '+') return false;
      if (IsClosing(i - 1) && i >= 2 && IsFinalPunct(i - 2)) return true;
    }
    if (last.kind == TokenKind::kAbbreviation && (info_[i - 1] & kInfoFinalAbbreviation) &&
        !StartsLower(i)) {
      return true;
    }
    if (LabelAt(i, T().size())) return true;
    if (InSet(a_.continuation, last.norm)) return false;
    // A lower-case line after a long one continues wrapped prose; after a
    // short one it is the next item of an unbulleted list ("fever\ncough").
    size_t first = i - 1;
    while (first > 0 && !LineStart(first)) --first;
    const uint32_t line_bytes = T()[i - 1].end - T()[first].begin;
    if (StartsLower(i)) return line_bytes < kWrappedLineBytes;
    // After a line as long as prose wrapped at a fixed width, ending in a
    // word, a word goes on the sentence whatever its case ("... given
    // clear\nSTEMI.").
    if (line_bytes >= kLongLineBytes && last.is_wordlike() && t.is_wordlike()) return false;
    // A parenthesis opening the line explains the word that ended the last
    // one ("risks\n   (rash, diarrhea)").
    if (last.is_wordlike() && t.kind == TokenKind::kPunct && t.norm == "(") return false;
    return true;
  }

  template <typename H>
  void BuildSections(const std::vector<H>& headers) {
    std::vector<Section>& secs = doc_.sections;
    std::vector<Sentence>& sents = doc_.sentences;
    if (sents.empty()) return;
    if (headers.empty() || headers.front().sentence > 0) {
      Section s;
      s.kind = SectionKind::kNone;
      secs.push_back(s);
    }
    for (const auto& h : headers) {
      const Sentence& hs = sents[h.sentence];
      Section s;
      s.kind = a_.rules[static_cast<size_t>(h.rule)].kind;
      s.begin = s.header_begin = hs.begin;
      s.header_end = hs.end;
      s.first_sentence = static_cast<uint32_t>(h.sentence);
      secs.push_back(s);
    }
    secs.front().begin = 0;
    for (size_t i = 0; i < secs.size(); ++i) {
      secs[i].end = i + 1 < secs.size() ? secs[i + 1].begin : static_cast<uint32_t>(text_.size());
      secs[i].end_sentence =
          i + 1 < secs.size() ? secs[i + 1].first_sentence : static_cast<uint32_t>(sents.size());
    }
    for (size_t i = 0; i < secs.size(); ++i) {
      for (uint32_t s = secs[i].first_sentence; s < secs[i].end_sentence; ++s) {
        sents[s].section = static_cast<uint32_t>(i);
      }
    }
  }

  struct ArenaNorm {
    size_t token, offset, length;
  };

  const AnalyzerData& a_;
  DocumentData& doc_;
  std::string_view nt_;
  std::string_view text_;
  bool ascii_;  // text_ and nt_ have the same offsets
  bool want_sections_;
  std::vector<Raw> raws_;
  std::vector<uint8_t> info_;       // TokenInfo bits per token
  std::vector<uint32_t> line_end_;  // per token: the first token of the next line
  std::vector<ArenaNorm> arena_norms_;
  bool after_marker_ = false;
};

}  // namespace

struct TextAnalyzer::Rep : AnalyzerData {};
struct Document::Rep : DocumentData {
  using DocumentData::DocumentData;
};

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord:
      return "word";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kPunct:
      return "punct";
    case TokenKind::kIcdCode:
      return "icd_code";
    case TokenKind::kMeasurement:
      return "measurement";
    case TokenKind::kDate:
      return "date";
    case TokenKind::kTime:
      return "time";
    case TokenKind::kAbbreviation:
      return "abbreviation";
  }
  return "unknown";
}

// ---- Document ---------------------------------------------------------------

Document::Document(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

const ChartText& Document::chart_text() const { return rep_->text; }
std::span<const Token> Document::tokens() const { return rep_->tokens; }
std::span<const Sentence> Document::sentences() const { return rep_->sentences; }
std::span<const Section> Document::sections() const { return rep_->sections; }

std::span<const Token> Document::tokens_of(const Sentence& s) const {
  return std::span<const Token>(rep_->tokens).subspan(s.first_token, s.end_token - s.first_token);
}
const Section& Document::section_of(const Sentence& s) const { return rep_->sections[s.section]; }
std::string_view Document::text_of(const Token& t) const {
  return text().substr(t.begin, t.end - t.begin);
}
std::string_view Document::text_of(const Sentence& s) const {
  return text().substr(s.begin, s.end - s.begin);
}

size_t Document::TokenAt(uint32_t offset) const {
  const auto& v = rep_->tokens;
  return static_cast<size_t>(
      std::upper_bound(v.begin(), v.end(), offset,
                       [](uint32_t o, const Token& t) { return o < t.end; }) -
      v.begin());
}

size_t Document::SentenceAt(uint32_t offset) const {
  const auto& v = rep_->sentences;
  return static_cast<size_t>(
      std::upper_bound(v.begin(), v.end(), offset,
                       [](uint32_t o, const Sentence& s) { return o < s.end; }) -
      v.begin());
}

size_t Document::SectionAt(uint32_t offset) const {
  const auto& v = rep_->sections;
  if (v.empty()) return 0;
  auto it = std::upper_bound(v.begin(), v.end(), offset,
                             [](uint32_t o, const Section& s) { return o < s.begin; });
  return it == v.begin() ? 0 : static_cast<size_t>(it - v.begin()) - 1;
}

// ---- TextAnalyzer -----------------------------------------------------------

TextAnalyzer::TextAnalyzer(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
TextAnalyzer::~TextAnalyzer() = default;

absl::StatusOr<std::unique_ptr<TextAnalyzer>> TextAnalyzer::Create(
    const TextAnalyzerOptions& options) {
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  UErrorCode err = U_ZERO_ERROR;
  rep->word_break.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
  if (U_FAILURE(err) || rep->word_break == nullptr) {
    return absl::InternalError(StrCat("ICU word break iterator unavailable: ", u_errorName(err)));
  }
  rep->non_final = MakeSet(kNonFinalAbbreviations);
  rep->final_abbreviations = MakeSet(kFinalAbbreviations);
  rep->slash_words = MakeSet(kSlashWords);
  rep->continuation = MakeSet(kContinuationWords);
  rep->icd_stop = MakeSet(kIcdShapeStopList);
  for (const std::string& a : options.extra_abbreviations) {
    std::string w = internal::AsciiLower(internal::Trim(a));
    while (!w.empty() && w.back() == '.') w.pop_back();
    if (w.empty()) return absl::InvalidArgumentError("empty extra abbreviation");
    std::string plain;
    for (char c : w) {
      if (c != '.') plain.push_back(c);
    }
    rep->non_final.insert(plain);
  }

  // Header rules: built-ins, files, extras; a later rule replaces an earlier
  // one for the same phrase.
  std::vector<SectionRule> all;
  if (options.sections.use_builtin_rules) {
    CC_ASSIGN_OR_RETURN(all, BuiltinSectionRules(options.code_set));
  }
  for (const std::string& file : options.sections.rule_files) {
    CC_ASSIGN_OR_RETURN(std::vector<SectionRule> more, ReadSectionRuleFile(file));
    all.insert(all.end(), more.begin(), more.end());
  }
  all.insert(all.end(), options.sections.extra_rules.begin(), options.sections.extra_rules.end());
  std::unique_ptr<TextAnalyzer> analyzer(new TextAnalyzer(std::move(rep)));
  Rep& r = *analyzer->rep_;
  absl::flat_hash_map<std::string, size_t> by_phrase;
  for (SectionRule& rule : all) {
    std::vector<std::string> norms = analyzer->PhraseNorms(rule.header);
    if (norms.empty()) {
      return absl::InvalidArgumentError(
          StrCat("section header rule '", rule.header, "' has no words"));
    }
    const std::string key = internal::Join(norms, " ");
    auto [it, added] = by_phrase.try_emplace(key, r.rules.size());
    if (added) {
      r.rules.push_back(std::move(rule));
    } else {
      r.rules[it->second] = std::move(rule);
    }
    r.headers.Insert(norms, static_cast<int32_t>(it->second));
    r.longest_header = std::max(r.longest_header, norms.size());
  }
  return analyzer;
}

const std::vector<SectionRule>& TextAnalyzer::section_rules() const { return rep_->rules; }

absl::StatusOr<Document> TextAnalyzer::Analyze(std::string_view bytes) const {
  CC_ASSIGN_OR_RETURN(ChartText text, ChartText::FromBytes(bytes, rep_->options.text));
  return Analyze(std::move(text));
}

absl::StatusOr<Document> TextAnalyzer::Analyze(ChartText text) const {
  auto doc = std::make_unique<Document::Rep>(std::move(text));
  Analysis analysis(*rep_, doc.get(), /*sections=*/true);
  CC_RETURN_IF_ERROR(analysis.Run());
  return Document(std::move(doc));
}

std::vector<std::string> TextAnalyzer::PhraseNorms(std::string_view phrase) const {
  ChartTextOptions options;
  options.repair_invalid_utf8 = true;
  absl::StatusOr<ChartText> text = ChartText::FromBytes(phrase, options);
  std::vector<std::string> norms;
  if (!text.ok()) return norms;
  DocumentData doc(std::move(text).value());
  Analysis analysis(*rep_, &doc, /*sections=*/false);
  if (!analysis.Run().ok()) return norms;
  norms.reserve(doc.tokens.size());
  for (const Token& t : doc.tokens) norms.emplace_back(t.norm);
  return norms;
}

}  // namespace chartcoder
