// Word normalization for the clinical lexicon, shared by the pack builder
// (lexicon entries) and the extractor (chart tokens), so both sides agree.
//
//   std::vector<LexWord> w;
//   LexiconWords("Type II diabetes, haemorrhagic", &w);
//   // stems: "type" "2" "diabet" "hemorrhag"
#ifndef CHARTCODER_SRC_INTERNAL_LEXICON_WORDS_H_
#define CHARTCODER_SRC_INTERNAL_LEXICON_WORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace chartcoder::internal {

struct LexWord {
  std::string stem;  // the normalized, stemmed form
  uint32_t begin;    // byte offsets into the text given
  uint32_t end;
  std::string raw;   // the word as written, ASCII lower-cased ("has", "ras")
  bool upper = false;  // written in capitals, at least two letters ("RA", "HTN")
};

// Splits `text` at anything but ASCII letters, digits and non-ASCII bytes
// (so hyphens, slashes and apostrophes separate words; a trailing "'s" is
// dropped), then normalizes each word with NormalizeLexiconWord(). Roman
// numerals after "type", "stage", "grade", "class", "phase" and "degree"
// become digits. Appends to `out`.
void LexiconWords(std::string_view text, std::vector<LexWord>* out);

// True for the stems after which a numeral is a number: "type", "stage",
// "grade", "class", "phase", "degre".
bool TakesNumeral(std::string_view stem);
// The letter "A" after a word the index gives lettered kinds ("vitamin A",
// "hepatitis A", "influenza A", "hemophilia A", "type A", "group A"): a word
// of its own, `kLetterAStem`, where the article "a" is a stop word. A title
// that is only "A" ("Deficiency, vitamin, A") is that word too.
inline constexpr std::string_view kLetterAStem = "_a";
bool TakesLetter(std::string_view stem);
// Those words as written ("vitamin", "influenza", ...).
absl::Span<const std::string_view> LetterTakerWords();
// The digits of a roman numeral 1-10 (with an a/b/c suffix: "iiib" -> "3b")
// or a number word ("two" -> "2"), given in ASCII lower case; empty for any
// other word.
std::string NumeralDigits(std::string_view lower);

// One word (letters/digits, any case): ASCII lower case, British spellings
// folded to American ("haem" -> "hem", "oedema" -> "edema", "tumour" ->
// "tumor"), then Porter-stemmed. Digits and mixed tokens ("3b", "a1c") are
// only lower-cased.
std::string NormalizeLexiconWord(std::string_view word);
// The same for a word already in ASCII lower case.
std::string NormalizeLowerCaseWord(std::string word);
// The same for a non-empty word of ASCII lower-case letters only (not
// checked again).
std::string NormalizeLowerCaseLetters(std::string word);

// Words that carry no meaning for matching (connectors such as "of", "with",
// "due", "to", and the coding words "unspecified", "other", "nos"). Takes a
// normalized stem.
bool IsLexiconStopWord(std::string_view stem);
// True for a chart token's normalized form that leaves the words after it
// uncertain: "likely", "possible", "possibly", "probable", "probably",
// "presumed", "suspected", "worrisome", "concerning", "suspicious",
// "questionable". The
// extractor matches the words before one apart; the coder refines no code
// with the words after one.
bool IsUncertaintyWord(std::string_view norm);

// The stems IsLexiconStopWord() is true of.
absl::Span<const std::string_view> LexiconStopWords();

// The index of the last of `words` (from LexiconWords(text)) at or after `i`
// that no comma of `text` separates from words[i]: where a title's clause
// ("not specified as acute or chronic", "unspecified whether ...") ends.
size_t ClauseEnd(std::string_view text, const std::vector<LexWord>& words, size_t i);

// The content words of a code title, as the coder compares titles with a
// chart: stems without connectors, without "unspecified" and the vague noun
// after it ("unspecified site"), and without what a "without ..." clause
// names ("with hypoglycemia without coma" gives "hypoglycemia", not "coma"),
// and without "region" or "level" after a word ("lumbar region", "C5-C6
// level").
std::vector<std::string> TitleStems(std::string_view title);

// Nouns that say nothing once they follow "unspecified" in a code title
// ("unspecified part of", "unspecified site"). Takes a normalized stem.
bool IsVagueNoun(std::string_view stem);

// A residual code title: "Other chronic osteomyelitis", "Atherosclerosis of
// other arteries" (for what the chart names and the classification does not),
// but not "Carcinoma in situ of other and unspecified sites", which covers all.
bool IsResidualTitle(std::string_view title);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_LEXICON_WORDS_H_
