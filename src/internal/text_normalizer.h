// The normalized matching view of a UTF-8 text (see chartcoder/text.h for
// what it folds) and its piecewise offset map back to the text.
//
//   NormalizedText n;
//   CC_RETURN_IF_ERROR(NormalizeText(valid_utf8, &n));
//   uint32_t t = n.ToTextOffset(k, valid_utf8.size());
#ifndef CHARTCODER_SRC_INTERNAL_TEXT_NORMALIZER_H_
#define CHARTCODER_SRC_INTERNAL_TEXT_NORMALIZER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "chartcoder/text.h"

namespace chartcoder::internal {

// Normalized bytes [n, n + nl) were produced, as a unit, from text bytes
// [t, t + tl). Only units whose bytes do not map one to one are recorded;
// between pieces, normalized and text bytes correspond one to one.
struct MapPiece {
  uint32_t n, nl, t, tl;
};

struct NormalizedText {
  std::string text;
  std::vector<MapPiece> pieces;  // ascending in both n and t

  uint32_t ToTextOffset(uint32_t n, size_t text_size) const;
  TextSpan ToTextSpan(uint32_t nb, uint32_t ne, size_t text_size) const;
  // ToTextSpan of ordered ranges (each begin >= the previous end), in place,
  // walking the pieces once.
  void ToTextSpans(std::span<TextSpan> ranges, size_t text_size) const;
  uint32_t ToNormalizedOffset(uint32_t t, size_t text_size) const;
};

// Normalizes valid UTF-8 `text` into *out. Internal on an ICU failure.
absl::Status NormalizeText(std::string_view text, NormalizedText* out);

// The ASCII byte normalized() has for ASCII byte `c` other than '\r' (CR
// depends on the next byte): lower case, controls and tab -> ' ', VT/FF ->
// '\n', '`' -> '\''.
char NormalizeAsciiByte(unsigned char c);

// The ASCII replacement of code point `cp` in the normalized view: '-' for
// dashes, '\'' and '"' for quote variants, '*' for bullets, ' ' for spaces
// and C1 controls, '\n' for line separators, '/' for fraction and division
// slashes; 0 for characters that are removed (zero-width, BOM, soft hyphen);
// -1 when the code point is not specially mapped.
int SpecialMapping(uint32_t cp);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_TEXT_NORMALIZER_H_
