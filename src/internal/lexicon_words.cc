#include "src/internal/lexicon_words.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "src/internal/porter_stemmer.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

// `w` ends with the literal `lit` (compared inline).
template <size_t N>
bool EndsWith(std::string_view w, const char (&lit)[N]) {
  return w.size() >= N - 1 && std::memcmp(w.data() + w.size() - (N - 1), lit, N - 1) == 0;
}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c >= 0x80;
}

// British spellings common in clinical text (and in machine-translated case
// reports), folded to the American forms the code set uses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kRespell = {{
    {"haem", "hem"},       {"anaem", "anem"},     {"aemia", "emia"},   {"leukaem", "leukem"},
    {"paed", "ped"},       {"aesth", "esth"},     {"caec", "cec"},     {"gynaec", "gynec"},
    {"aetiol", "etiol"},   {"faec", "fec"},       {"oedem", "edem"},   {"oesoph", "esoph"},
    {"rrhoea", "rrhea"},   {"pnoea", "pnea"},     {"foet", "fet"},     {"coeli", "celi"},
    {"oestr", "estr"},     {"amoeb", "ameb"},     {"isation", "ization"},
    {"ischaem", "ischem"}, {"orthopaed", "orthoped"}, {"haemat", "hemat"},
}};

// Every pattern of kRespell has "ae" or "oe", except "isation".
bool MayRespell(std::string_view w) {
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == 'e' && (w[i - 1] == 'a' || w[i - 1] == 'o')) return true;
  }
  return w.find("isation") != std::string_view::npos;
}

void Respell(std::string* w) {
  if (MayRespell(*w)) {
    for (const auto& [from, to] : kRespell) {
      size_t pos = w->find(from);
      while (pos != std::string::npos) {
        w->replace(pos, from.size(), to);
        pos = w->find(from, pos + to.size());
      }
    }
  }
  const size_t n = w->size();
  // tumour -> tumor, behaviour -> behavior (not four, hour, pour).
  if (n > 4 && EndsWith(*w, "our")) w->erase(n - 2, 1);
  else if (n > 5 && EndsWith(*w, "ours")) w->erase(n - 3, 1);
  // centre -> center, fibre -> fiber.
  const size_t m = w->size();
  if (m > 4 && EndsWith(*w, "tre")) w->replace(m - 3, 3, "ter");
}

bool AllLetters(std::string_view w) {
  for (char c : w) {
    if (c < 'a' || c > 'z') return false;
  }
  return !w.empty();
}

// "iv" -> "4", "iiib" -> "3b"; empty if `w` is not a roman numeral 1-10.
std::string RomanToDigits(std::string_view w) {
  static constexpr std::array<std::string_view, 10> kRoman = {
      "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"};
  std::string_view suffix;
  std::string_view core = w;
  if (!core.empty() && (core.back() == 'a' || core.back() == 'b' || core.back() == 'c') &&
      core.size() > 1) {
    suffix = core.substr(core.size() - 1);
    core.remove_suffix(1);
  }
  for (size_t i = 0; i < kRoman.size(); ++i) {
    if (core == kRoman[i]) {
      std::string out = std::to_string(i + 1);
      out.append(suffix.data(), suffix.size());
      return out;
    }
  }
  return "";
}

std::string NumberWordToDigits(std::string_view w) {
  static constexpr std::array<std::string_view, 10> kWords = {
      "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
  for (size_t i = 0; i < kWords.size(); ++i) {
    if (w == kWords[i]) return std::to_string(i + 1);
  }
  return "";
}

std::string AsciiLowerWord(std::string_view raw) {
  std::string w(raw);
  for (char& c : w) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return w;
}

}  // namespace

bool TakesNumeral(std::string_view stem) {
  return stem == "type" || stem == "stage" || stem == "grade" || stem == "class" ||
         stem == "phase" || stem == "degre";
}

namespace {
constexpr std::string_view kLetterTakers[] = {"type",      "group", "vitamin",    "hepatitis",
                                              "hep",       "influenza", "flu",    "hemophilia",
                                              "paratyphoid", "shigella"};
}  // namespace

absl::Span<const std::string_view> LetterTakerWords() { return kLetterTakers; }

bool TakesLetter(std::string_view stem) {
  // Their stems, normalized once (immutable afterwards, never freed).
  static const std::vector<std::string>* const kTakers = [] {
    auto* v = new std::vector<std::string>;
    for (std::string_view w : kLetterTakers) v->push_back(NormalizeLexiconWord(w));
    return v;
  }();
  return std::find(kTakers->begin(), kTakers->end(), stem) != kTakers->end();
}

std::string NumeralDigits(std::string_view lower) {
  std::string digits = RomanToDigits(lower);
  return digits.empty() ? NumberWordToDigits(lower) : digits;
}

std::string NormalizeLowerCaseWord(std::string w) {
  if (!AllLetters(w)) return w;  // numbers, "3b", "a1c", non-ASCII
  return NormalizeLowerCaseLetters(std::move(w));
}

std::string NormalizeLowerCaseLetters(std::string w) {
  Respell(&w);  // letters stay letters
  // Short words are abbreviations more often than inflected words: "mis" is
  // not "mi", "has" is not "ha".
  if (w.size() <= 3) return w;
  // Medical words whose suffix carries the meaning: Porter would strip
  // "-itis" ("thyroiditis" -> "thyroid", "colitis" -> "col") and "-ism" of
  // "alcoholism" ("alcohol"); "severity" would become "severe" ("moderate
  // severity" is not "severe").
  const size_t n = w.size();
  if ((n > 5 && EndsWith(w, "itis")) || (n > 7 && EndsWith(w, "itides")) ||
      IsLiteral(w, "alcoholism")) {
    return w;
  }
  if (IsLiteral(w, "severity") || IsLiteral(w, "severities")) return "severity";
  // "burning pain" is a sensation, not a burn; Haemophilus "influenzae" is
  // a bacterium, not influenza, and Klebsiella "pneumoniae" not pneumonia.
  if (IsLiteral(w, "burning") || IsLiteral(w, "influenzae") || IsLiteral(w, "pneumoniae")) {
    return w;
  }
  // "immunosuppressive therapy" names the drugs (Z79.6-), "immunosuppressed"
  // and "immunosuppression" the state (D84.-); Porter gives all one stem.
  if (w.starts_with("immunosuppress") &&
      (EndsWith(w, "ive") || EndsWith(w, "ives") || EndsWith(w, "ant") || EndsWith(w, "ants"))) {
    return "immunosuppressant";
  }
  return PorterStemLetters(std::move(w));
}

std::string NormalizeLexiconWord(std::string_view word) {
  return NormalizeLowerCaseWord(AsciiLowerWord(word));
}

namespace {

constexpr std::string_view kStopWords[] = {
    "of", "the", "a", "an", "and", "or", "to", "in", "on", "at", "by", "for", "with",
    "without", "due", "is", "are", "was", "be", "as", "from", "other", "specifi",
    "unspecifi", "no", "nec", "elsewher", "classifi", "not", "than", "that", "which", "its",
    "into", "her", "his", "him", "he", "she", "they", "them", "their", "our", "we", "you",
    "your", "my", "me", "it", "this", "these", "were",
};

}  // namespace

absl::Span<const std::string_view> LexiconStopWords() { return kStopWords; }

bool IsLexiconStopWord(std::string_view s) {
  // Called for every word of every chart: a length check first, then one
  // hash look-up in an immutable set (built once, never freed).
  if (s.size() < 1 || s.size() > 9) return false;
  using StopSet = absl::flat_hash_set<std::string_view, StringViewHash, StringViewEq>;
  static const StopSet* const kStop = new StopSet(std::begin(kStopWords), std::end(kStopWords));
  return kStop->contains(s);
}

bool IsUncertaintyWord(std::string_view n) {
  // By length first: the test runs for every token.
  switch (n.size()) {
    case 6: return IsLiteral(n, "likely");
    case 8:
      return IsLiteral(n, "possible") || IsLiteral(n, "possibly") || IsLiteral(n, "probable") ||
             IsLiteral(n, "probably") || IsLiteral(n, "presumed");
    case 9: return IsLiteral(n, "suspected") || IsLiteral(n, "worrisome");
    case 10: return IsLiteral(n, "concerning") || IsLiteral(n, "suspicious");
    case 12: return IsLiteral(n, "questionable");
    default: return false;
  }
}

size_t ClauseEnd(std::string_view text, const std::vector<LexWord>& words, size_t i) {
  while (i + 1 < words.size() &&
         text.substr(words[i].end, words[i + 1].begin - words[i].end).find(',') ==
             std::string_view::npos) {
    ++i;
  }
  return i;
}

std::vector<std::string> TitleStems(std::string_view text) {
  std::vector<LexWord> words;
  LexiconWords(text, &words);
  std::vector<std::string> out;
  bool without = false;
  for (size_t i = 0; i < words.size(); ++i) {
    LexWord& w = words[i];
    if (w.stem == "without") {
      without = true;
      continue;
    }
    // The clause ends at a comma or at "with".
    if (without &&
        (w.stem == "with" || (i > 0 && text.substr(words[i - 1].end, w.begin - words[i - 1].end)
                                               .find(',') != std::string_view::npos))) {
      without = false;
    }
    if (without) continue;
    if (w.stem == "unspecifi") {
      if (i + 1 < words.size() && IsVagueNoun(words[i + 1].stem)) ++i;
      // "..., unspecified whether descended or undescended": the clause, to
      // the next comma, says what the chart does not.
      if (i + 1 < words.size() && words[i + 1].stem == "whether") i = ClauseEnd(text, words, i);
      continue;
    }
    if (IsLexiconStopWord(w.stem)) continue;
    // "lumbar region", "at C5-C6 level": charts name a region by its
    // adjective and a level by its vertebrae (as the lexicon's entries take
    // these two words as optional), so "C5-C6 disc herniation" is M50.222
    // "... at C5-C6 level" and M50.20 "..., unspecified cervical region"
    // says no word more than "cervical".
    if ((w.stem == "region" || w.stem == "level") && i > 0 &&
        !IsLexiconStopWord(words[i - 1].stem)) {
      continue;
    }
    // "nondominant" (G81.9-) is "non-dominant" (I69.-): one form for both.
    if (w.raw == "nondominant") {
      out.push_back(NormalizeLowerCaseLetters("non"));
      out.push_back(NormalizeLowerCaseLetters("dominant"));
      continue;
    }
    out.push_back(std::move(w.stem));
  }
  return out;
}

bool IsResidualTitle(std::string_view title) {
  return title.starts_with("Other ") ||
         (Contains(title, " other ") && !Contains(title, "other and unspecified"));
}

bool IsVagueNoun(std::string_view stem) {
  static constexpr std::string_view kVague[] = {"site",  "part",  "region", "level", "portion",
                                                "locat", "organ", "bodi",   "side",  "later",
                                                "sever", "episod", "kind"};
  for (std::string_view v : kVague) {
    if (stem == v) return true;
  }
  return false;
}

void LexiconWords(std::string_view text, std::vector<LexWord>* out) {
  const size_t first = out->size();
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    const size_t begin = i;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i == begin) break;
    // A decimal number stays whole: "2.5" is not "2" and "5" (which would read
    // as a stage or a type).
    while (i + 1 < text.size() && (text[i] == '.' || text[i] == ',') &&
           text[i - 1] >= '0' && text[i - 1] <= '9' && text[i + 1] >= '0' && text[i + 1] <= '9') {
      bool digits = true;
      for (size_t k = begin; k < i && digits; ++k) digits = text[k] >= '0' && text[k] <= '9';
      if (!digits) break;
      i += 1;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    }
    std::string_view raw = text.substr(begin, i - begin);
    // Drop the possessive "'s" / "’s": "Alzheimer's" -> "Alzheimer".
    if ((raw == "s" || raw == "S") && begin > 0 &&
        (text[begin - 1] == '\'' ||
         (begin >= 3 && text.substr(begin - 3, 3) == "\xE2\x80\x99"))) {
      continue;
    }
    int letters = 0;
    bool upper = true;
    for (char c : raw) {
      if (c >= 'a' && c <= 'z') upper = false;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ++letters;
    }
    upper = upper && letters >= 2;
    std::string lower = AsciiLowerWord(raw);
    // Numerals after "type", "stage", ...: "type II" -> "type 2".
    if (out->size() > first && TakesNumeral(out->back().stem)) {
      std::string digits = NumeralDigits(lower);
      if (!digits.empty()) {
        out->push_back({std::move(digits), static_cast<uint32_t>(begin),
                        static_cast<uint32_t>(i), std::move(lower), upper});
        continue;
      }
    }
    if (lower == "a" && out->size() > first && TakesLetter(out->back().stem)) {
      out->push_back({std::string(kLetterAStem), static_cast<uint32_t>(begin),
                      static_cast<uint32_t>(i), std::move(lower), false});
      continue;
    }
    out->push_back({NormalizeLowerCaseWord(lower), static_cast<uint32_t>(begin),
                    static_cast<uint32_t>(i), std::move(lower), upper});
  }
}

}  // namespace chartcoder::internal
