// Equality of two short byte runs of known, equal length without a call to
// memcmp, for the hash tables on hot paths (ChartWords' FormTable, the
// PhraseTrie's word table), whose keys are mostly words of up to 16 bytes.
//
//   if (slot.size == key.size() && SameBytes(slot.data, key.data(), key.size())) ...
#ifndef CHARTCODER_SRC_INTERNAL_SAME_BYTES_H_
#define CHARTCODER_SRC_INTERNAL_SAME_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace chartcoder::internal {

// The first and the last sizeof(T) bytes of `a` and `b` (n >= sizeof(T)),
// two overlapping loads of each (as StringViewHash reads a word).
template <typename T>
inline bool SameEnds(const char* a, const char* b, size_t n) {
  T a0, a1, b0, b1;
  std::memcpy(&a0, a, sizeof(T));
  std::memcpy(&a1, a + n - sizeof(T), sizeof(T));
  std::memcpy(&b0, b, sizeof(T));
  std::memcpy(&b1, b + n - sizeof(T), sizeof(T));
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Whether the n bytes at a and b are equal.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) return SameEnds<uint64_t>(a, b, n);
  if (n >= 4 && n < 8) return SameEnds<uint32_t>(a, b, n);
  if (n < 4) {  // bytes 0, n / 2 and n - 1 are all of them
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_SAME_BYTES_H_
