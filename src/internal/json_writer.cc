#include "src/internal/strings.h"
#include "src/internal/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chartcoder::internal {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// The end of the run of bytes from s[i] that go out as they are: printable
// ASCII other than '"' and '\\'. Eight bytes at a time while no byte of them
// needs a look (the word tests below never miss one; a hit is settled byte by
// byte).
size_t PlainRunEnd(std::string_view s, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (i + 8 <= s.size()) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const uint64_t quote = x ^ (kOnes * '"');
    const uint64_t backslash = x ^ (kOnes * '\\');
    const uint64_t special = ((x - kOnes * 0x20) & ~x) |              // a byte below 0x20
                             ((quote - kOnes) & ~quote) |              // '"'
                             ((backslash - kOnes) & ~backslash) | x;  // '\\', or >= 0x80
    if ((special & kHigh) != 0) break;
    i += 8;
  }
  while (i < s.size()) {
    const unsigned char r = static_cast<unsigned char>(s[i]);
    if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
    ++i;
  }
  return i;
}

// Whether no byte of the word `x` needs a look (the test of PlainRunEnd).
inline bool Plain8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = x ^ (kOnes * '"');
  const uint64_t backslash = x ^ (kOnes * '\\');
  return ((((x - kOnes * 0x20) & ~x) | ((quote - kOnes) & ~quote) |
           ((backslash - kOnes) & ~backslash) | x) &
          kHigh) == 0;
}

// Copies the `n` bytes at `src` to `dst` and says whether all of them go out
// as they are: words of eight bytes, the last one overlapping the one before,
// so a short key or value takes one or two steps. `dst` may be written
// beyond `n` bytes only within [dst, dst + n).
inline bool CopyPlain(char* dst, const char* src, size_t n) {
  uint64_t x;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, src + i, 8);
      if (!Plain8(x)) return false;
      std::memcpy(dst + i, &x, 8);
    }
    std::memcpy(&x, src + n - 8, 8);
    std::memcpy(dst + n - 8, &x, 8);
    return Plain8(x);
  }
  if (n >= 4) {  // two halves, overlapping when n < 8
    uint32_t lo, hi;
    std::memcpy(&lo, src, 4);
    std::memcpy(&hi, src + n - 4, 4);
    std::memcpy(dst, &lo, 4);
    std::memcpy(dst + n - 4, &hi, 4);
    return Plain8(uint64_t{lo} | uint64_t{hi} << 32);
  }
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(src[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
    dst[i] = src[i];
  }
  return true;
}

}  // namespace

// A key, a value or both, with a ',' before them, built on the stack and
// appended at once by Emit(), which drops the ',' when the element needs
// none. Keys and strings go in only when short and plain.
class JsonWriter::Piece {
 public:
  Piece() { buf[0] = ','; }

  // '"' s '"' if `s` is at most kShortPlain bytes that need no escape; false
  // otherwise (the piece is then left unfinished).
  bool PlainString(std::string_view s) {
    if (s.size() > kShortPlain) return false;
    *p = '"';
    if (!CopyPlain(p + 1, s.data(), s.size())) return false;
    p += s.size() + 1;
    *p++ = '"';
    return true;
  }
  void Char(char c) { *p++ = c; }
  void Text(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  template <typename T>
  void Number(T value) {
    p = std::to_chars(p, p + 24, value).ptr;
  }
  void Pair(uint64_t first, uint64_t second) {
    Char('[');
    Number(first);
    Char(',');
    Number(second);
    Char(']');
  }

  // ',', a key, ':' and a value: two strings or a key and two numbers.
  char buf[1 + 2 * (kShortPlain + 3) + 2 * 24 + 8];
  char* p = buf + 1;
};

void JsonWriter::Emit(Piece& piece) {
  const char* begin = Comma() ? piece.buf : piece.buf + 1;
  out_->append(begin, static_cast<size_t>(piece.p - begin));
}

void JsonWriter::Key(std::string_view key) {
  Piece piece;
  if (piece.PlainString(key)) {
    piece.Char(':');
    Emit(piece);
  } else {
    Separate();
    Escaped(key);
    out_->push_back(':');
  }
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  Piece piece;
  if (piece.PlainString(value)) {
    Emit(piece);
  } else {
    Separate();
    Escaped(value);
  }
}

void JsonWriter::Int(int64_t value) {
  Piece piece;
  piece.Number(value);
  Emit(piece);
}

void JsonWriter::Uint(uint64_t value) {
  Piece piece;
  piece.Number(value);
  Emit(piece);
}

void JsonWriter::Pair(uint64_t first, uint64_t second) {
  Piece piece;
  piece.Pair(first, second);
  Emit(piece);
}

void JsonWriter::Field(std::string_view key, std::string_view value) {
  Piece piece;
  if (piece.PlainString(key)) {
    piece.Char(':');
    if (piece.PlainString(value)) return Emit(piece);
  }
  Key(key);
  String(value);
}

void JsonWriter::Field(std::string_view key, int64_t value) {
  Piece piece;
  if (!piece.PlainString(key)) {
    Key(key);
    return Int(value);
  }
  piece.Char(':');
  piece.Number(value);
  Emit(piece);
}

void JsonWriter::Field(std::string_view key, bool value) {
  Piece piece;
  if (!piece.PlainString(key)) {
    Key(key);
    return Bool(value);
  }
  piece.Char(':');
  piece.Text(value ? std::string_view("true") : std::string_view("false"));
  Emit(piece);
}

void JsonWriter::PairField(std::string_view key, uint64_t first, uint64_t second) {
  Piece piece;
  if (!piece.PlainString(key)) {
    Key(key);
    return Pair(first, second);
  }
  piece.Char(':');
  piece.Pair(first, second);
  Emit(piece);
}

void JsonWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_->append("null");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_->append(buf, end);
}

void JsonWriter::Fixed(double value, int decimals) {
  Separate();
  if (!std::isfinite(value)) {
    out_->append("null");
    return;
  }
  // As printf's "%.*f" (std::to_chars rounds the same way), without a heap
  // string; any finite double fits the buffer (309 digits before the point).
  char buf[400];
  std::to_chars_result r{buf, std::errc::value_too_large};
  if (decimals >= 0 && decimals <= 40) {
    r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, decimals);
  }
  std::string fallback;
  std::string_view s;
  if (r.ec == std::errc()) {
    s = std::string_view(buf, static_cast<size_t>(r.ptr - buf));
  } else {
    fallback = absl::StrFormat("%.*f", decimals, value);
    s = fallback;
  }
  if (s.find('.') != std::string_view::npos) {
    while (s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") s = "0";
  out_->append(s);
}

void JsonWriter::Bool(bool value) {
  Separate();
  if (value) {
    out_->append("true", 4);
  } else {
    out_->append("false", 5);
  }
}

void JsonWriter::Null() {
  Separate();
  out_->append("null");
}

void JsonWriter::Raw(std::string_view json) {
  Separate();
  out_->append(json);
}

void JsonWriter::Escaped(std::string_view s) {
  out_->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // A run of printable ASCII other than '"' and '\\' goes out in one append.
    const size_t run = PlainRunEnd(s, i);
    if (run > i) {
      out_->append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Length(s, i);
      if (n == 0) {
        out_->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out_->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out_->append("\\\""); break;
      case '\\': out_->append("\\\\"); break;
      case '\n': out_->append("\\n"); break;
      case '\r': out_->append("\\r"); break;
      case '\t': out_->append("\\t"); break;
      case '\b': out_->append("\\b"); break;
      case '\f': out_->append("\\f"); break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out_, "\\u%04x", c);
        } else {
          out_->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out_->push_back('"');
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  JsonWriter w(&out);
  w.String(s);
  return out;
}

}  // namespace chartcoder::internal
