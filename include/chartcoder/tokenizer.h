// chartcoder/tokenizer.h: tokens, sentences and sections of a clinical note,
// with byte offsets into the original text.
//
//   absl::StatusOr<std::unique_ptr<chartcoder::TextAnalyzer>> analyzer =
//       chartcoder::TextAnalyzer::Create({});
//   absl::StatusOr<chartcoder::Document> doc = (*analyzer)->Analyze(note_bytes);
//   if (!doc.ok()) return doc.status();
//   for (const chartcoder::Sentence& s : doc->sentences()) {
//     chartcoder::SectionKind kind = doc->section_of(s).kind;
//     for (const chartcoder::Token& t : doc->tokens_of(s)) {
//       // t.norm: "s/p", "bid", "e11.9", "8.2%", "diabetes"; t.begin/t.end: bytes
//     }
//   }
//
// The tokenizer reads the normalized view (see chartcoder/text.h) with a fast
// scanner for ASCII and the letters of the Latin, Greek and Cyrillic scripts,
// and ICU's word BreakIterator for runs with other characters (symbols, CJK,
// Thai, ...), then applies clinical rules: abbreviations with periods
// ("b.i.d.", "Dr.", "q.d."), slash abbreviations ("s/p", "h/o", "w/o",
// "mg/dL"), decimals and lab values ("8.2%", "140/90", "98.6F", "2+"), dates
// and times, ICD-10-CM codes written in the text ("E11.9"), list bullets and
// enumerators. Sentences end at final punctuation (not after abbreviations,
// decimals or initials), at section headers, at list items, at blank lines,
// at table rows and at line breaks that do not continue a wrapped sentence, and
// at ';' before a new "Label:" ("Dx: HTN; Dx2: DM2").
#ifndef CHARTCODER_TOKENIZER_H_
#define CHARTCODER_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/sections.h"
#include "chartcoder/text.h"

namespace chartcoder {

class CodeSet;

enum class TokenKind : uint8_t {
  kWord = 0,          // letters, possibly with digits or an apostrophe: "crohn's", "a1c", "t2dm"
  kNumber = 1,        // "3", "8.2", "1,000", "2nd"
  kPunct = 2,         // punctuation or a symbol, a run of one ("---", "..."), a list marker ("1.")
  kIcdCode = 3,       // an ICD-10-CM code shape: "E11.9", "S72.001A", "I10"; norm lower case
  kMeasurement = 4,   // a value with a unit, a ratio: "8.2%", "140/90", "1/2", "98.6f", "5mg", "2+"
  kDate = 5,          // "3/14/2024", "2024-03-14", "03-14-24", "3/2024" ("3/14" is a measurement)
  kTime = 6,          // "14:30", "2:30pm", "08:15:00" ("2:30 p.m." is "2:30" then "p.m.")
  kAbbreviation = 7,  // with periods or a slash: "b.i.d." (norm "bid"), "dr." ("dr"), "s/p"
};
inline constexpr int kTokenKindCount = 8;
// "word", "number", "punct", "icd_code", "measurement", "date", "time", "abbreviation".
std::string_view TokenKindName(TokenKind kind);

// Bits of Token::flags.
enum TokenFlag : uint16_t {
  kTokenLineStart = 1 << 0,        // first token of its line
  kTokenBlankLineBefore = 1 << 1,  // a blank line (or the start of text) precedes this line
  kTokenListMarker = 1 << 2,  // a bullet ("-", "*", "•") or enumerator ("1.", "2)", "(a)", "#3")
  kTokenListItemStart = 1 << 3,  // first token after a list marker
  kTokenSpaceBefore = 1 << 4,    // white space (or a line break) right before the token
  kTokenHeader = 1 << 5,         // part of a section header (including its colon)
  kTokenUpper = 1 << 6,          // all letters upper case in the text, at least two letters ("CHF")
  kTokenCapitalized = 1 << 7,    // first letter upper case in the text ("Diabetes", "CHF")
  kTokenSentenceStart = 1 << 8,  // first token of its sentence
};

struct Token {
  uint32_t begin = 0;  // byte offsets into text()
  uint32_t end = 0;
  // Normalized form for matching: lower case, NFKC, dashes and quotes unified;
  // abbreviations without their periods ("bid", "dr"), slash abbreviations as
  // "s/p". Points into the Document (valid while it lives).
  std::string_view norm;
  TokenKind kind = TokenKind::kWord;
  uint16_t flags = 0;  // TokenFlag bits

  bool is(TokenFlag f) const { return (flags & f) != 0; }
  // Words, abbreviations and ICD codes: things a phrase is made of.
  bool is_wordlike() const {
    return kind == TokenKind::kWord || kind == TokenKind::kAbbreviation ||
           kind == TokenKind::kIcdCode;
  }
};

// Bits of Sentence::flags.
enum SentenceFlag : uint16_t {
  kSentenceHeader = 1 << 0,    // the sentence is a section header ("PAST MEDICAL HISTORY:")
  kSentenceListItem = 1 << 1,  // begins with a list marker
  kSentenceTableRow = 1 << 2,  // a line of a table (columns separated by tabs or wide spaces)
  kSentenceLabeled = 1 << 3,   // begins "Label:" ("Dx2: ...", "BP: ...") that is not a header
};

struct Sentence {
  uint32_t begin = 0;  // byte offsets into text(): first token's begin, last token's end
  uint32_t end = 0;
  uint32_t first_token = 0;  // tokens [first_token, end_token)
  uint32_t end_token = 0;
  uint32_t section = 0;  // index into Document::sections()
  uint16_t flags = 0;    // SentenceFlag bits

  bool is(SentenceFlag f) const { return (flags & f) != 0; }
  uint32_t token_count() const { return end_token - first_token; }
};

// A note and its analysis: the text, tokens, sentences and sections. Made by
// TextAnalyzer::Analyze; one per call. Movable (views stay valid); immutable;
// safe for concurrent reads.
class Document {
 public:
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  const ChartText& chart_text() const;
  std::string_view text() const { return chart_text().text(); }

  // Every token, in text order.
  std::span<const Token> tokens() const;
  // Sentences in text order; together they hold every token exactly once.
  std::span<const Sentence> sentences() const;
  // Sections in text order; consecutive and covering the whole text. The
  // first is a kNone section when text precedes the first header. Empty only
  // for a text without tokens.
  std::span<const Section> sections() const;

  std::span<const Token> tokens_of(const Sentence& s) const;
  const Section& section_of(const Sentence& s) const;
  std::string_view text_of(const Token& t) const;
  std::string_view text_of(const Sentence& s) const;

  // Index of the first token that ends after `offset` (the token containing
  // it, or the next one); tokens().size() if none.
  size_t TokenAt(uint32_t offset) const;
  // Index of the sentence containing byte `offset`, or of the first sentence
  // after it when `offset` falls between sentences; sentences().size() if none.
  size_t SentenceAt(uint32_t offset) const;
  // Index of the section containing byte `offset` (offsets past the end count
  // as the last section); 0 when there are no sections.
  size_t SectionAt(uint32_t offset) const;

 private:
  friend class TextAnalyzer;
  struct Rep;
  explicit Document(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

struct TextAnalyzerOptions {
  // Header rules of the sectionizer (built-ins, files, extra rules).
  SectionOptions sections;
  // When set: built-in section rules come from this pack's
  // `curated/section_headers` table, and undotted ICD-10-CM code shapes
  // ("I10") count as kIcdCode only if the code exists (dotted shapes are
  // checked too). Must outlive the analyzer. Default none: the built-in rules
  // compiled into the library, and code shapes decided by shape alone (with a
  // stop list: "B12", "T12", ...).
  const CodeSet* code_set = nullptr;
  // More words that take a period and never end a sentence ("approx", "ca"),
  // added to the built-in list ("dr", "mr", "vs", "e.g", ...). Lower case,
  // without the final period. Default none.
  std::vector<std::string> extra_abbreviations;
  // How the bytes given to Analyze(std::string_view) are read.
  ChartTextOptions text;
};

// Splits notes into tokens, sentences and sections. Immutable; safe for
// concurrent use (each Analyze call has its own scratch state).
class TextAnalyzer {
 public:
  // InvalidArgument: a malformed rule (file and line named). NotFound: a rule
  // file, or the pack's rule table, is missing. Internal: ICU failure.
  static absl::StatusOr<std::unique_ptr<TextAnalyzer>> Create(const TextAnalyzerOptions& options);
  ~TextAnalyzer();
  TextAnalyzer(const TextAnalyzer&) = delete;
  TextAnalyzer& operator=(const TextAnalyzer&) = delete;

  // Reads `bytes` with options.text (see ChartText::FromBytes for the
  // errors) and analyzes them.
  absl::StatusOr<Document> Analyze(std::string_view bytes) const;
  // Analyzes an existing text (takes ownership). Internal: ICU failure.
  absl::StatusOr<Document> Analyze(ChartText text) const;

  // The norms of a phrase's tokens, as Analyze would produce them
  // ("Type II Diabetes Mellitus" -> {"type", "ii", "diabetes", "mellitus"};
  // "s/p CABG" -> {"s/p", "cabg"}). For building lexicons that match
  // Token::norm. Invalid UTF-8 is repaired.
  std::vector<std::string> PhraseNorms(std::string_view phrase) const;

  // The header rules in effect (built-ins, files, extras; one per phrase).
  const std::vector<SectionRule>& section_rules() const;

 private:
  struct Rep;
  explicit TextAnalyzer(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_TOKENIZER_H_
