#include "src/internal/text_normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "src/internal/strings.h"
#include "src/internal/utf8.h"

namespace chartcoder::internal {
namespace {

constexpr std::array<char, 128> MakeAsciiTable() {
  std::array<char, 128> t{};
  for (int c = 0; c < 128; ++c) {
    char v = static_cast<char>(c);
    if (c >= 'A' && c <= 'Z') v = static_cast<char>(c - 'A' + 'a');
    if (c < 0x20 || c == 0x7F) v = ' ';
    if (c == '\n' || c == '\v' || c == '\f') v = '\n';
    if (c == '`') v = '\'';
    t[c] = v;
  }
  return t;
}
constexpr std::array<char, 128> kAsciiTable = MakeAsciiTable();

const icu::Normalizer2* NfkcCasefold(UErrorCode* err) {
  return icu::Normalizer2::getNFKCCasefoldInstance(*err);
}

// Appends the normalized form of ICU output `s` (already NFKC_Casefold):
// special mappings applied per code point, ASCII through the table.
void AppendMapped(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out->push_back(c == '\r' ? '\n' : kAsciiTable[c]);
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {  // cannot happen for ICU output; keep the bytes
      len = cp;
      out->append(s.data() + i, len);
    } else if (int m = SpecialMapping(cp); m > 0) {
      out->push_back(static_cast<char>(m));
    } else if (m < 0) {
      out->append(s.data() + i, len);
    }
    i += len;
  }
}

}  // namespace

char NormalizeAsciiByte(unsigned char c) {
  return c < 0x80 ? kAsciiTable[c] : static_cast<char>(c);
}

int SpecialMapping(uint32_t cp) {
  if (cp < 0x80) return -1;
  if (cp >= 0x80 && cp <= 0x9F) return cp == 0x85 ? '\n' : ' ';  // C1 controls, NEL
  switch (cp) {
    // Dashes and minus signs.
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:
    case 0xFE58:
    case 0xFE63:
    case 0xFF0D:
    case 0x2E3A:
    case 0x2E3B:
    case 0x2053:
      return '-';
    // Single quotes, apostrophes, primes.
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
    case 0x2035:
    case 0x00B4:
    case 0x02BC:
    case 0x02B9:
    case 0x2039:
    case 0x203A:
    case 0xFF07:
      return '\'';
    // Double quotes, double primes, guillemets.
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F:
    case 0x2033:
    case 0x2036:
    case 0x00AB:
    case 0x00BB:
    case 0x02BA:
    case 0x3003:
    case 0xFF02:
      return '"';
    // Bullets (including the private-use bullets of the Symbol and Wingdings
    // fonts that word processors leave in pasted text).
    case 0x2022:
    case 0x2023:
    case 0x2043:
    case 0x2219:
    case 0x25AA:
    case 0x25AB:
    case 0x25CF:
    case 0x25CB:
    case 0x25E6:
    case 0x25A0:
    case 0x25A1:
    case 0x00B7:
    case 0x2027:
    case 0x27A2:
    case 0x25B8:
    case 0x25BA:
    case 0x2713:
    case 0x2714:
    case 0xF0B7:
    case 0xF0A7:
    case 0xF076:
    case 0xF0D8:
    case 0xF0FC:
      return '*';
    // Spaces.
    case 0x00A0:
    case 0x1680:
    case 0x2000:
    case 0x2001:
    case 0x2002:
    case 0x2003:
    case 0x2004:
    case 0x2005:
    case 0x2006:
    case 0x2007:
    case 0x2008:
    case 0x2009:
    case 0x200A:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return ' ';
    // Line and paragraph separators.
    case 0x2028:
    case 0x2029:
      return '\n';
    // Fraction and division slashes.
    case 0x2044:
    case 0x2215:
      return '/';
    // Removed: zero-width characters, byte-order mark, soft hyphen.
    case 0x200B:
    case 0x200C:
    case 0x200D:
    case 0x2060:
    case 0xFEFF:
    case 0x00AD:
    case 0x180E:
    case 0x2061:
    case 0x2062:
    case 0x2063:
    case 0x2064:
      return 0;
    default:
      return -1;
  }
}

absl::Status NormalizeText(std::string_view text, NormalizedText* out) {
  out->text.clear();
  out->pieces.clear();
  out->text.reserve(text.size());
  std::string& norm = out->text;
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = nullptr;  // fetched on the first non-ASCII character
  std::string scratch, mapped;
  // Normalized forms of single characters, direct-mapped by code point: a
  // note uses few distinct non-ASCII characters, many times.
  constexpr size_t kCacheSize = 64;
  struct Cached {
    uint32_t cp = 0;  // 0: empty (U+0000 is ASCII, never cached)
    std::string mapped;
  };
  std::array<Cached, kCacheSize> cache;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII: one byte in, one byte out, mapped in place.
    const size_t run = AsciiPrefix(text, i);
    if (run > 0) {
      const size_t at = norm.size();
      norm.append(text.data() + i, run);
      char* dst = norm.data() + at;
      // One byte through the table; CR depends on the next byte.
      auto scalar = [&](size_t k) {
        const unsigned char c = static_cast<unsigned char>(dst[k]);
        if (c == '\r') {
          dst[k] = i + k + 1 < n && text[i + k + 1] == '\n' ? ' ' : '\n';
        } else {
          dst[k] = kAsciiTable[c];
        }
      };
      size_t k = 0;
      // Eight bytes at a time: when all are printable (no control character,
      // '`' or DEL) only the upper-case letters change.
      for (; k + 8 <= run; k += 8) {
        uint64_t w;
        std::memcpy(&w, dst + k, 8);
        constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
        const uint64_t x60 = w ^ (kOnes * 0x60), x7f = w ^ (kOnes * 0x7F);
        const uint64_t special = ((w - kOnes * 0x20) & ~w & kHigh) |
                                 ((x60 - kOnes) & ~x60 & kHigh) | ((x7f - kOnes) & ~x7f & kHigh);
        if (special != 0) {  // may be a false alarm; the table is always right
          for (size_t b = k; b < k + 8; ++b) scalar(b);
          continue;
        }
        const uint64_t ge_a = w + kOnes * (0x80 - 'A');      // high bit set: byte >= 'A'
        const uint64_t gt_z = w + kOnes * (0x80 - 'Z' - 1);  // high bit set: byte > 'Z'
        w |= ((ge_a & ~gt_z) & kHigh) >> 2;                  // A-Z: + 0x20
        std::memcpy(dst + k, &w, 8);
      }
      for (; k < run; ++k) scalar(k);
      i += run;
    }
    if (i >= n) break;
    if (nfkc == nullptr) {
      nfkc = NfkcCasefold(&err);
      if (U_FAILURE(err)) {
        return absl::InternalError(StrCat("ICU NFKC_Casefold unavailable: ", u_errorName(err)));
      }
    }
    // A normalization segment: a starter and the characters that combine
    // with it. A combining character after an ASCII starter takes the
    // starter (emitted one to one just before) into its segment.
    uint32_t cp;
    size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) return absl::InternalError("NormalizeText given invalid UTF-8");
    size_t seg = i;
    if (i > 0 && static_cast<unsigned char>(text[i - 1]) < 0x80 &&
        !nfkc->hasBoundaryBefore(static_cast<UChar32>(cp))) {
      seg = i - 1;
      norm.pop_back();
    }
    size_t p = i + len;
    bool single = seg == i;
    while (p < n && static_cast<unsigned char>(text[p]) >= 0x80) {
      uint32_t cp2;
      const size_t len2 = DecodeUtf8(text, p, &cp2);
      if (len2 == 0) return absl::InternalError("NormalizeText given invalid UTF-8");
      if (nfkc->hasBoundaryBefore(static_cast<UChar32>(cp2))) break;
      p += len2;
      single = false;
    }
    const std::string_view unit = text.substr(seg, p - seg);
    mapped.clear();
    if (single && SpecialMapping(cp) >= 0) {
      if (int m = SpecialMapping(cp); m > 0) mapped.push_back(static_cast<char>(m));
    } else if (single && nfkc->isInert(static_cast<UChar32>(cp))) {
      mapped.assign(unit);
    } else if (single && cache[cp % kCacheSize].cp == cp) {
      mapped = cache[cp % kCacheSize].mapped;  // a character seen before in this text
    } else {
      scratch.clear();
      icu::StringByteSink<std::string> sink(&scratch);
      err = U_ZERO_ERROR;
      nfkc->normalizeUTF8(0, icu::StringPiece(unit.data(), static_cast<int32_t>(unit.size())), sink,
                          nullptr, err);
      if (U_FAILURE(err)) {
        return absl::InternalError(StrCat("ICU normalization failed: ", u_errorName(err)));
      }
      AppendMapped(scratch, &mapped);
      if (single) cache[cp % kCacheSize] = {cp, mapped};
    }
    if (mapped != unit) {
      out->pieces.push_back({static_cast<uint32_t>(norm.size()),
                             static_cast<uint32_t>(mapped.size()), static_cast<uint32_t>(seg),
                             static_cast<uint32_t>(unit.size())});
    }
    norm.append(mapped);
    i = p;
  }
  return absl::OkStatus();
}

uint32_t NormalizedText::ToTextOffset(uint32_t n, size_t text_size) const {
  if (n >= text.size()) return static_cast<uint32_t>(text_size);
  // The last piece starting at or before n.
  auto it = std::upper_bound(pieces.begin(), pieces.end(), n,
                             [](uint32_t v, const MapPiece& p) { return v < p.n; });
  if (it == pieces.begin()) return n;
  // Pieces that produce nothing (removed characters) share n with the next
  // one; walk back to the piece that holds n, if any.
  const MapPiece& p = *(it - 1);
  if (n < p.n + p.nl) return p.t;
  return p.t + p.tl + (n - (p.n + p.nl));
}

TextSpan NormalizedText::ToTextSpan(uint32_t nb, uint32_t ne, size_t text_size) const {
  const uint32_t size = static_cast<uint32_t>(text.size());
  nb = std::min(nb, size);
  ne = std::min(std::max(ne, nb), size);
  const uint32_t b = ToTextOffset(nb, text_size);
  if (ne == nb) return {b, b};
  const uint32_t last = ne - 1;
  auto it = std::upper_bound(pieces.begin(), pieces.end(), last,
                             [](uint32_t v, const MapPiece& p) { return v < p.n; });
  uint32_t e;
  if (it == pieces.begin()) {
    e = last + 1;
  } else {
    const MapPiece& p = *(it - 1);
    e = last < p.n + p.nl ? p.t + p.tl : p.t + p.tl + (last - (p.n + p.nl)) + 1;
  }
  return {b, std::max(b, std::min(e, static_cast<uint32_t>(text_size)))};
}

void NormalizedText::ToTextSpans(std::span<TextSpan> ranges, size_t text_size) const {
  const uint32_t size = static_cast<uint32_t>(text.size());
  size_t p = 0;  // pieces[0, p) start at or before the offset being mapped
  // Between pieces a normalized offset n maps to n + delta; next_piece is
  // where that stops holding.
  int64_t delta = 0;
  uint32_t next_piece = pieces.empty() ? size : pieces[0].n;
  // Where normalized byte n comes from: the start (or, for `after`, the end)
  // of its source. Offsets given are nondecreasing, so p only moves forward.
  auto map = [&](uint32_t n, bool after) -> uint32_t {
    if (n < next_piece && (p == 0 || n >= pieces[p - 1].n + pieces[p - 1].nl)) {
      return static_cast<uint32_t>(n + delta) + (after ? 1 : 0);
    }
    while (p < pieces.size() && pieces[p].n <= n) {
      const MapPiece& q = pieces[p++];
      delta = int64_t{q.t} + q.tl - (int64_t{q.n} + q.nl);
    }
    next_piece = p < pieces.size() ? pieces[p].n : size;
    if (p == 0) return n + (after ? 1 : 0);
    const MapPiece& q = pieces[p - 1];
    if (n < q.n + q.nl) return after ? q.t + q.tl : q.t;
    return static_cast<uint32_t>(n + delta) + (after ? 1 : 0);
  };
  uint32_t floor = 0;
  for (TextSpan& r : ranges) {
    const uint32_t nb = std::max(std::min(r.begin, size), floor);
    const uint32_t ne = std::min(std::max(r.end, nb), size);
    floor = ne;
    if (nb >= size) {
      r = {static_cast<uint32_t>(text_size), static_cast<uint32_t>(text_size)};
      continue;
    }
    const uint32_t b = map(nb, false);
    if (ne == nb) {
      r = {b, b};
      continue;
    }
    const uint32_t e = map(ne - 1, true);
    r = {b, std::max(b, std::min(e, static_cast<uint32_t>(text_size)))};
  }
}

uint32_t NormalizedText::ToNormalizedOffset(uint32_t t, size_t text_size) const {
  if (t >= text_size) return static_cast<uint32_t>(text.size());
  auto it = std::upper_bound(pieces.begin(), pieces.end(), t,
                             [](uint32_t v, const MapPiece& p) { return v < p.t; });
  if (it == pieces.begin()) return t;
  const MapPiece& p = *(it - 1);
  if (t < p.t + p.tl) return p.n;
  return p.n + p.nl + (t - (p.t + p.tl));
}

}  // namespace chartcoder::internal
