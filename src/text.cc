// ChartText: validation, repair and conversion to UTF-8, and the normalized
// matching view with its offset map.
#include "chartcoder/text.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"
#include "src/internal/text_normalizer.h"
#include "src/internal/utf8.h"

namespace chartcoder {

using internal::StrCat;

namespace {

// Offsets are 32-bit; one value is kept free for "end".
constexpr size_t kMaxTextBytes = std::numeric_limits<uint32_t>::max() - 1;

// Converts single-byte `bytes` to UTF-8 through ICU's converter `name`. Every
// byte has a mapping (the five bytes Windows-1252 leaves undefined map to the
// C1 controls U+0081.., as in the WHATWG Encoding Standard), so this fails
// only if ICU does.
absl::StatusOr<std::string> ConvertToUtf8(std::string_view bytes, const char* name) {
  UErrorCode err = U_ZERO_ERROR;
  UConverter* conv = ucnv_open(name, &err);
  if (U_FAILURE(err)) {
    return absl::InternalError(StrCat("ICU cannot open converter ", name, ": ", u_errorName(err)));
  }
  ucnv_setToUCallBack(conv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  std::array<UChar, 2048> buf;
  const char* src = bytes.data();
  const char* const limit = bytes.data() + bytes.size();
  while (true) {
    UChar* target = buf.data();
    err = U_ZERO_ERROR;
    ucnv_toUnicode(conv, &target, buf.data() + buf.size(), &src, limit, nullptr,
                   /*flush=*/true, &err);
    // Single-byte code pages give BMP characters only: no surrogates.
    for (const UChar* u = buf.data(); u < target; ++u) internal::AppendUtf8(*u, &out);
    if (err == U_BUFFER_OVERFLOW_ERROR) continue;
    if (U_FAILURE(err)) {
      ucnv_close(conv);
      return absl::InternalError(StrCat("ICU conversion from ", name, " failed at byte ",
                                        src - bytes.data(), ": ", u_errorName(err)));
    }
    break;
  }
  ucnv_close(conv);
  return out;
}

}  // namespace

std::string_view TextEncodingName(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return "utf-8";
    case TextEncoding::kWindows1252:
      return "windows-1252";
    case TextEncoding::kLatin1:
      return "latin-1";
  }
  return "unknown";
}

absl::StatusOr<TextEncoding> ParseTextEncoding(std::string_view name) {
  const std::string n = internal::AsciiLower(internal::Trim(name));
  if (n == "utf-8" || n == "utf8") return TextEncoding::kUtf8;
  if (n == "windows-1252" || n == "cp1252" || n == "win-1252" || n == "windows1252") {
    return TextEncoding::kWindows1252;
  }
  if (n == "latin-1" || n == "latin1" || n == "iso-8859-1" || n == "iso8859-1") {
    return TextEncoding::kLatin1;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown text encoding '", name, "' (utf-8, windows-1252 or latin-1)"));
}

struct ChartText::Rep {
  std::string text;
  internal::NormalizedText norm;
  size_t replacements = 0;
  TextEncoding encoding = TextEncoding::kUtf8;
  bool ascii = false;
};

ChartText::ChartText(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
ChartText::ChartText(ChartText&&) noexcept = default;
ChartText& ChartText::operator=(ChartText&&) noexcept = default;
ChartText::~ChartText() = default;

absl::StatusOr<ChartText> ChartText::FromBytes(std::string_view bytes,
                                               const ChartTextOptions& options) {
  const size_t limit = std::min(options.max_bytes, kMaxTextBytes);
  if (bytes.size() > limit) {
    return absl::ResourceExhaustedError(
        StrCat("text of ", bytes.size(), " bytes is larger than the limit of ", limit, " bytes"));
  }
  auto rep = std::make_unique<Rep>();
  rep->encoding = options.encoding;
  switch (options.encoding) {
    case TextEncoding::kUtf8: {
      const size_t bad = internal::FindInvalidUtf8(bytes);
      if (bad == bytes.size()) {
        rep->text.assign(bytes);
      } else if (options.repair_invalid_utf8) {
        rep->text = internal::RepairUtf8(bytes, &rep->replacements);
      } else {
        return absl::InvalidArgumentError(
            StrCat("invalid UTF-8 at byte offset ", bad, " (0x",
                   absl::Hex(static_cast<unsigned char>(bytes[bad]), absl::kZeroPad2), ")"));
      }
      break;
    }
    case TextEncoding::kWindows1252:
    case TextEncoding::kLatin1: {
      const char* name =
          options.encoding == TextEncoding::kLatin1 ? "ISO-8859-1" : "ibm-5348_P100-1997";
      CC_ASSIGN_OR_RETURN(rep->text, ConvertToUtf8(bytes, name));
      break;
    }
    default:
      return absl::InvalidArgumentError("unknown text encoding");
  }
  if (rep->text.size() > limit) {
    return absl::ResourceExhaustedError(StrCat("converted text of ", rep->text.size(),
                                               " bytes is larger than the limit of ", limit,
                                               " bytes"));
  }
  rep->ascii = internal::AsciiPrefix(rep->text, 0) == rep->text.size();
  CC_RETURN_IF_ERROR(internal::NormalizeText(rep->text, &rep->norm));
  if (rep->norm.text.size() > kMaxTextBytes) {
    return absl::ResourceExhaustedError(
        StrCat("normalized text of ", rep->norm.text.size(), " bytes exceeds 32-bit offsets"));
  }
  return ChartText(std::move(rep));
}

std::string_view ChartText::text() const { return rep_->text; }
std::string_view ChartText::normalized() const { return rep_->norm.text; }
bool ChartText::is_ascii() const { return rep_->ascii; }
size_t ChartText::replacement_count() const { return rep_->replacements; }
TextEncoding ChartText::source_encoding() const { return rep_->encoding; }

uint32_t ChartText::ToTextOffset(uint32_t normalized_offset) const {
  return rep_->norm.ToTextOffset(normalized_offset, rep_->text.size());
}

TextSpan ChartText::ToTextSpan(uint32_t normalized_begin, uint32_t normalized_end) const {
  return rep_->norm.ToTextSpan(normalized_begin, normalized_end, rep_->text.size());
}

void ChartText::ToTextSpans(std::span<TextSpan> ranges) const {
  rep_->norm.ToTextSpans(ranges, rep_->text.size());
}

uint32_t ChartText::ToNormalizedOffset(uint32_t text_offset) const {
  return rep_->norm.ToNormalizedOffset(text_offset, rep_->text.size());
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n'; }
bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
}

// End of `phrase` (single spaces, no edge spaces) matched at nt[pos], where a
// space matches a run of white space; npos if it does not match.
size_t MatchAt(std::string_view nt, size_t pos, std::string_view phrase) {
  size_t i = pos;
  for (size_t k = 0; k < phrase.size(); ++k) {
    if (phrase[k] == ' ') {
      if (i >= nt.size() || !IsSpace(nt[i])) return std::string_view::npos;
      while (i < nt.size() && IsSpace(nt[i])) ++i;
    } else {
      if (i >= nt.size() || nt[i] != phrase[k]) return std::string_view::npos;
      ++i;
    }
  }
  return i;
}

}  // namespace

std::optional<TextSpan> FindPhrase(const ChartText& text, std::string_view phrase) {
  // The phrase as the view renders it, white space runs made single spaces.
  std::string p;
  for (char c : NormalizeForMatching(phrase)) {
    if (IsSpace(c)) {
      if (!p.empty() && p.back() != ' ') p.push_back(' ');
    } else {
      p.push_back(c);
    }
  }
  while (!p.empty() && p.back() == ' ') p.pop_back();
  if (p.empty()) return std::nullopt;
  const std::string_view nt = text.normalized();
  const std::string_view first = std::string_view(p).substr(0, p.find(' '));
  std::optional<std::pair<size_t, size_t>> inside;
  for (size_t pos = nt.find(first); pos != std::string_view::npos; pos = nt.find(first, pos + 1)) {
    const size_t end = MatchAt(nt, pos, p);
    if (end == std::string_view::npos) continue;
    const bool starts = pos == 0 || !IsWordByte(nt[pos - 1]) || !IsWordByte(nt[pos]);
    const bool ends = end == nt.size() || !IsWordByte(nt[end]) || !IsWordByte(nt[end - 1]);
    if (starts && ends) {
      return text.ToTextSpan(static_cast<uint32_t>(pos), static_cast<uint32_t>(end));
    }
    if (!inside.has_value()) inside.emplace(pos, end);
  }
  if (!inside.has_value()) return std::nullopt;
  return text.ToTextSpan(static_cast<uint32_t>(inside->first),
                         static_cast<uint32_t>(inside->second));
}

std::string NormalizeForMatching(std::string_view utf8) {
  std::string repaired;
  if (internal::FindInvalidUtf8(utf8) != utf8.size()) {
    repaired = internal::RepairUtf8(utf8, nullptr);
    utf8 = repaired;
  }
  internal::NormalizedText n;
  if (!internal::NormalizeText(utf8, &n).ok()) return internal::AsciiLower(utf8);
  return std::move(n.text);
}

}  // namespace chartcoder
