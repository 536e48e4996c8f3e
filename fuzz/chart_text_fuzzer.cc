// Fuzzes ChartText: any bytes, read as any encoding with or without repair,
// either give a clean error status or a text whose normalized view and offset
// map keep their invariants (offsets monotonic and inside the text; ASCII maps
// one to one; FindPhrase spans inside the text).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chartcoder/text.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "chart_text_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using chartcoder::ChartText;
  using chartcoder::ChartTextOptions;
  using chartcoder::TextEncoding;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks the options; all of the input is the text.
  const uint8_t mode = size > 0 ? data[0] : 0;
  ChartTextOptions options;
  options.encoding = static_cast<TextEncoding>(mode % 3);
  options.repair_invalid_utf8 = (mode & 4) != 0;
  if (mode & 8) options.max_bytes = size / 2;
  absl::StatusOr<ChartText> t = ChartText::FromBytes(bytes, options);
  if (!t.ok()) {
    Check(!t.status().message().empty(), "error without a message");
    return 0;
  }
  const std::string_view text = t->text(), norm = t->normalized();
  if (options.encoding == TextEncoding::kUtf8 && t->replacement_count() == 0) {
    Check(text == bytes, "valid UTF-8 changed");
  }
  if (t->is_ascii()) Check(norm.size() == text.size(), "ASCII changed length");
  // Bounded work per input: check every offset of the first 4 KiB, then a
  // sample.
  const size_t step = norm.size() > 4096 ? norm.size() / 512 : 1;
  uint32_t prev = 0;
  for (size_t k = 0; k <= norm.size(); k += step) {
    const uint32_t n = static_cast<uint32_t>(k);
    const uint32_t off = t->ToTextOffset(n);
    Check(off <= text.size(), "ToTextOffset out of range");
    Check(off >= prev, "ToTextOffset not monotonic");
    prev = off;
    const chartcoder::TextSpan s = t->ToTextSpan(n, n + 1);
    Check(s.begin <= s.end && s.end <= text.size(), "ToTextSpan out of range");
    Check(t->ToNormalizedOffset(off) <= norm.size(), "ToNormalizedOffset out of range");
  }
  Check(t->ToTextOffset(static_cast<uint32_t>(norm.size())) == text.size(),
        "end does not map to end");
  // A phrase taken from the input is found where it maps into the text.
  if (size > 4) {
    const std::string_view phrase = bytes.substr(size / 3, 8);
    std::optional<chartcoder::TextSpan> f = chartcoder::FindPhrase(*t, phrase);
    if (f.has_value())
      Check(f->begin <= f->end && f->end <= text.size(), "FindPhrase out of range");
    (void)chartcoder::NormalizeForMatching(phrase);
  }
  return 0;
}
