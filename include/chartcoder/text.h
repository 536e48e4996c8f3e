// chartcoder/text.h: a chart's text as validated UTF-8, plus a normalized view
// for matching with a map from normalized offsets back to the text.
//
//   chartcoder::ChartTextOptions options;
//   options.repair_invalid_utf8 = true;  // else InvalidArgument names the byte
//   absl::StatusOr<chartcoder::ChartText> t = chartcoder::ChartText::FromBytes(bytes, options);
//   if (!t.ok()) return t.status();
//   size_t at = t->normalized().find("chest pain");  // case-folded, NFKC
//   if (at != std::string_view::npos) {
//     chartcoder::TextSpan span = t->ToTextSpan(at, at + 10);  // bytes of t->text()
//   }
//
// Every span the library returns is a byte range [begin, end) into text(),
// which is byte-identical to the input when the input was valid UTF-8.
#ifndef CHARTCODER_TEXT_H_
#define CHARTCODER_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace chartcoder {

// How the input bytes are encoded.
enum class TextEncoding : uint8_t {
  kUtf8 = 0,
  kWindows1252 = 1,  // code page 1252 (a superset of Latin-1's printable range)
  kLatin1 = 2,       // ISO-8859-1
};
// "utf-8", "windows-1252", "latin-1".
std::string_view TextEncodingName(TextEncoding encoding);
// Parses "utf-8"/"utf8", "windows-1252"/"cp1252", "latin-1"/"latin1"/"iso-8859-1"
// (any case). InvalidArgument names the unknown encoding.
absl::StatusOr<TextEncoding> ParseTextEncoding(std::string_view name);

// A byte range [begin, end).
struct TextSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
  friend bool operator==(const TextSpan& a, const TextSpan& b) {
    return a.begin == b.begin && a.end == b.end;
  }
};

struct ChartTextOptions {
  // Encoding of the input bytes. Windows-1252 and Latin-1 are converted to
  // UTF-8 (through ICU); spans then refer to the converted text. Default UTF-8.
  TextEncoding encoding = TextEncoding::kUtf8;
  // UTF-8 input only: replace each ill-formed sequence (its maximal subpart,
  // as the Unicode standard recommends) by U+FFFD instead of failing. Default
  // false: invalid UTF-8 is InvalidArgument naming the first bad byte offset.
  // (The single-byte encodings map every byte: Windows-1252's five undefined
  // bytes become the C1 controls U+0081.., as in the WHATWG Encoding Standard.)
  bool repair_invalid_utf8 = false;
  // Largest input accepted, in bytes; larger is ResourceExhausted. Also bounds
  // the converted text. Default 64 MiB; at most 4 GiB - 1 (offsets are 32-bit).
  size_t max_bytes = size_t{64} << 20;
  // A leading UTF-8 byte-order mark stays in text() (offsets stay those of the
  // input) but is dropped from normalized(). Nothing to configure.
};

// A chart's text. Owns its bytes; movable (views stay valid across moves:
// the bytes live on the heap); immutable after creation; safe for concurrent
// use.
//
// normalized() is the text prepared for matching:
//   - Unicode NFKC with case folding (ICU's NFKC_Casefold): "ＣＨＦ" and "Chf"
//     both read "chf"; ligatures, full-width forms and compatibility
//     characters are unfolded; default-ignorable characters (soft hyphen,
//     zero-width space/joiner, byte-order mark) are removed;
//   - dashes and minus signs (U+2010..U+2015, U+2212, ...) read '-', single
//     quotes and primes read '\'', double quotes and guillemets read '"', and
//     bullets (U+2022, U+25CF, U+25AA, U+2043, ...) read '*';
//   - every horizontal space (tab, no-break space, U+2000..U+200A, U+3000, ...)
//     and control character reads ' '; line breaks read '\n' (a CR before LF
//     reads ' ', so CRLF keeps one line break and ASCII keeps its length);
//   - ASCII letters are lower-cased; other ASCII is unchanged.
// For ASCII input normalized() has the same length as text() and offsets map
// one to one; otherwise an offset map (piecewise, compact) maps back.
class ChartText {
 public:
  // InvalidArgument: invalid UTF-8 (message names the byte offset) when not
  // repairing.
  // ResourceExhausted: input or converted text larger than max_bytes.
  // Internal: an ICU failure.
  static absl::StatusOr<ChartText> FromBytes(std::string_view bytes,
                                             const ChartTextOptions& options = {});

  ChartText(ChartText&&) noexcept;
  ChartText& operator=(ChartText&&) noexcept;
  ~ChartText();

  // The UTF-8 text every span refers to.
  std::string_view text() const;
  // The matching view (see the class comment).
  std::string_view normalized() const;

  // The text() offset where the character that produced normalized byte
  // `normalized_offset` begins; normalized().size() maps to text().size().
  // Offsets past the end are clamped.
  uint32_t ToTextOffset(uint32_t normalized_offset) const;
  // The smallest text() span covering normalized bytes [begin, end): begin
  // maps to the start of its source character, end to the end of the source
  // character of byte end-1. An empty range maps to an empty span.
  TextSpan ToTextSpan(uint32_t normalized_begin, uint32_t normalized_end) const;
  // ToTextSpan for many normalized ranges at once, in place; faster than one
  // call each. The ranges must be in order: each begin at or after the
  // previous range's end (as tokens are).
  void ToTextSpans(std::span<TextSpan> ranges) const;
  // The normalized() offset of the first byte produced at or after text()
  // offset `text_offset` (a byte inside a character counts as its start).
  uint32_t ToNormalizedOffset(uint32_t text_offset) const;

  // True when text() is pure ASCII (the offset map is the identity).
  bool is_ascii() const;
  // How many ill-formed sequences were replaced by U+FFFD (0 unless repairing).
  size_t replacement_count() const;
  // The encoding the bytes were read as.
  TextEncoding source_encoding() const;

 private:
  struct Rep;
  explicit ChartText(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// Lower-case NFKC form of a short phrase, as normalized() would render it
// (used to compare user phrases with the normalized view). Invalid UTF-8 is
// repaired.
std::string NormalizeForMatching(std::string_view utf8);

// The first occurrence of `phrase` in `text`, compared in the normalized view
// (any case, NFKC, unified dashes and quotes; any run of white space or line
// breaks matches any other), as a span of text(). An occurrence that starts
// and ends at word boundaries wins over an earlier one inside a word ("MI" in
// "family"). nullopt when there is none or the phrase is blank.
std::optional<TextSpan> FindPhrase(const ChartText& text, std::string_view phrase);

}  // namespace chartcoder

#endif  // CHARTCODER_TEXT_H_
