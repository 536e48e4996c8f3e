// UTF-8 decoding, validation and repair (Unicode "maximal subpart" policy).
//
//   size_t bad = FindInvalidUtf8(bytes);      // bytes.size() if valid
//   std::string fixed = RepairUtf8(bytes, &n);  // ill-formed parts -> U+FFFD
#ifndef CHARTCODER_SRC_INTERNAL_UTF8_H_
#define CHARTCODER_SRC_INTERNAL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace chartcoder::internal {

// Decodes the well-formed UTF-8 sequence at s[i] into *cp and returns its
// length (1-4). On an ill-formed sequence returns 0 and sets *cp to the
// length of its maximal subpart (the bytes one U+FFFD replaces, >= 1).
inline size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char c = p[i];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  uint32_t v;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    v = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *cp = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= n) {
      *cp = static_cast<uint32_t>(k);
      return 0;
    }
    const unsigned char d = p[i + k];
    const unsigned char dlo = k == 1 ? lo : 0x80, dhi = k == 1 ? hi : 0xBF;
    if (d < dlo || d > dhi) {
      *cp = static_cast<uint32_t>(k);
      return 0;
    }
    v = (v << 6) | (d & 0x3F);
  }
  *cp = v;
  return len;
}

// Appends the UTF-8 encoding of code point `cp` (assumed valid).
inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the leading run of ASCII bytes of s[from..].
inline size_t AsciiPrefix(std::string_view s, size_t from) {
  size_t i = from;
  const size_t n = s.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i - from;
}

// Offset of the first byte of the first ill-formed sequence; s.size() when
// `s` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

// `s` with each maximal subpart of an ill-formed sequence replaced by U+FFFD;
// *replacements counts them.
std::string RepairUtf8(std::string_view s, size_t* replacements);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_UTF8_H_
