// Fuzzes ConText assessment: on any text (invalid UTF-8 repaired), every
// sentence, every token and a few arbitrary spans are assessed; cues lie
// inside the text and are in order.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "chartcoder/context.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "context_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

struct Analyzers {
  const chartcoder::TextAnalyzer* text;
  const chartcoder::ContextAnalyzer* context;
};

const Analyzers& Get() {
  static const Analyzers kAnalyzers = [] {
    chartcoder::TextAnalyzerOptions options;
    options.text.repair_invalid_utf8 = true;
    auto a = chartcoder::TextAnalyzer::Create(options);
    auto c = chartcoder::ContextAnalyzer::Create({});
    Check(a.ok() && c.ok(), "Create failed");
    return Analyzers{a->release(), c->release()};
  }();
  return kAnalyzers;
}

void Assess(const chartcoder::Document& d, uint32_t b, uint32_t e) {
  const chartcoder::Assertion a = Get().context->Assess(d, b, e);
  uint32_t prev = 0;
  for (const chartcoder::Cue& c : a.cues) {
    Check(c.begin <= c.end && c.end <= d.text().size(), "cue outside the text");
    Check(c.begin >= prev, "cues out of order");
    prev = c.begin;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<chartcoder::Document> d = Get().text->Analyze(bytes);
  Check(d.ok(), "Analyze failed on repaired text");
  size_t n = 0;
  for (const chartcoder::Token& t : d->tokens()) {
    if (++n > 2000) break;  // bounded work per input
    Assess(*d, t.begin, t.end);
  }
  for (const chartcoder::Sentence& s : d->sentences()) Assess(*d, s.begin, s.end);
  const uint32_t len = static_cast<uint32_t>(d->text().size());
  Assess(*d, len / 3, len / 2);
  Assess(*d, len / 2, len / 3);
  Assess(*d, 0, len + 10);
  return 0;
}
