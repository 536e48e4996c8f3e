// String helpers for std::string_view. Debian's Abseil keeps its own
// absl::string_view (not an alias of std::string_view), so absl::StrCat and
// friends do not take std::string_view; these wrappers do.
//
//   std::string s = StrCat("code ", code_view, " at ", offset);
#ifndef CHARTCODER_SRC_INTERNAL_STRINGS_H_
#define CHARTCODER_SRC_INTERNAL_STRINGS_H_

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace chartcoder::internal {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view FromAbsl(absl::string_view s) { return {s.data(), s.size()}; }

// Hash functor for std::string_view keys of Abseil containers on hot paths:
// Debian's Abseil hashes std::string_view through std::hash (_Hash_bytes);
// its own string hash is cheaper for short words.
// Words of up to 16 bytes (nearly all) are hashed inline: the bytes as two
// overlapping words folded by one 128-bit multiply; longer ones by Abseil.
struct StringViewHash {
  using is_transparent = void;  // std::string keys looked up by std::string_view
  size_t operator()(std::string_view s) const {
    const size_t n = s.size();
    if (n > 16) return absl::Hash<absl::string_view>{}(ToAbsl(s));
    const char* p = s.data();
    uint64_t a = 0, b = 0;
    if (n >= 8) {
      std::memcpy(&a, p, 8);
      std::memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      a = x;
      b = y;
    } else if (n > 0) {
      a = uint64_t{static_cast<unsigned char>(p[0])} |
          uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
          uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
    }
    const unsigned __int128 m = static_cast<unsigned __int128>(a ^ 0xA0761D6478BD642FULL) *
                                (b ^ 0xE7037ED1A0B428DBULL ^ n);
    return static_cast<size_t>(static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64));
  }
};

// Equality for the same containers, inline (std::equal_to calls the
// out-of-line string_view::compare).
struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
  }
};

// Passes everything absl::AlphaNum takes, turning std::string_view into
// absl::string_view.
template <typename T>
decltype(auto) AlphaNumArg(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return ToAbsl(v);
  } else {
    return (v);
  }
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(AlphaNumArg(args)...);
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, AlphaNumArg(args)...);
}

// Joins the elements (anything convertible to std::string_view) with `sep`.
template <typename Range>
std::string Join(const Range& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out.append(sep);
    first = false;
    out.append(std::string_view(p));
  }
  return out;
}

// Splits at every `sep`; empty pieces are dropped when `skip_empty`.
std::vector<std::string_view> Split(std::string_view s, char sep, bool skip_empty = false);

// `s` without leading and trailing ASCII white space.
std::string_view Trim(std::string_view s);

std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` == the string literal `lit`, compared inline (GCC calls the out-of-line
// string_view::compare for `s == "..."` in hot loops).
template <size_t N>
inline bool IsLiteral(std::string_view s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

inline bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Whole-string numeric parsing; false on any junk.
template <typename Int>
bool ParseInt(std::string_view s, Int* out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
bool ParseDouble(std::string_view s, double* out);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_STRINGS_H_
