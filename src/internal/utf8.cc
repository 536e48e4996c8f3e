#include "src/internal/utf8.h"

namespace chartcoder::internal {

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    i += AsciiPrefix(s, i);
    if (i >= n) break;
    uint32_t cp;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

std::string RepairUtf8(std::string_view s, size_t* replacements) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t count = 0;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const size_t ascii = AsciiPrefix(s, i);
    out.append(s.data() + i, ascii);
    i += ascii;
    if (i >= n) break;
    uint32_t cp;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++count;
      i += cp;  // the maximal subpart
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  if (replacements != nullptr) *replacements = count;
  return out;
}

}  // namespace chartcoder::internal
