// Fuzzes the tokenizer, sentence splitter and sectionizer on any bytes
// (invalid UTF-8 repaired): tokens are ordered, non-empty and inside the text;
// sentences hold every token once; sections are consecutive and cover the
// text; offset look-ups stay in range.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "chartcoder/tokenizer.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

const chartcoder::TextAnalyzer& Analyzer() {
  static const chartcoder::TextAnalyzer* const kAnalyzer = [] {
    chartcoder::TextAnalyzerOptions options;
    options.text.repair_invalid_utf8 = true;
    auto a = chartcoder::TextAnalyzer::Create(options);
    Check(a.ok(), "TextAnalyzer::Create failed");
    return a->release();
  }();
  return *kAnalyzer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<chartcoder::Document> d = Analyzer().Analyze(bytes);
  Check(d.ok(), "Analyze failed on repaired text");
  const std::string_view text = d->text();
  const auto tokens = d->tokens();
  uint32_t prev_end = 0;
  for (const chartcoder::Token& t : tokens) {
    Check(t.begin < t.end, "empty token");
    Check(t.end <= text.size(), "token past the end");
    Check(t.begin >= prev_end, "tokens overlap or are out of order");
    Check(!t.norm.empty(), "empty norm");
    prev_end = t.end;
  }
  uint32_t next = 0;
  for (const chartcoder::Sentence& s : d->sentences()) {
    Check(s.first_token == next && s.end_token > s.first_token, "sentences do not tile tokens");
    Check(s.end_token <= tokens.size(), "sentence past the tokens");
    Check(s.begin == tokens[s.first_token].begin && s.end == tokens[s.end_token - 1].end,
          "sentence span");
    Check(s.section < d->sections().size(), "sentence without a section");
    next = s.end_token;
  }
  Check(next == tokens.size(), "tokens outside sentences");
  const auto sections = d->sections();
  for (size_t i = 0; i < sections.size(); ++i) {
    const chartcoder::Section& s = sections[i];
    Check(s.begin <= s.header_begin && s.header_begin <= s.header_end && s.header_end <= s.end,
          "section header outside its section");
    Check(i + 1 < sections.size() ? s.end == sections[i + 1].begin : s.end == text.size(),
          "sections not consecutive");
    Check(s.first_sentence <= s.end_sentence, "section sentences");
  }
  if (!sections.empty()) Check(sections[0].begin == 0, "first section not at 0");
  for (uint32_t off : {uint32_t{0}, static_cast<uint32_t>(size / 2), static_cast<uint32_t>(size)}) {
    Check(d->TokenAt(off) <= tokens.size(), "TokenAt");
    Check(d->SentenceAt(off) <= d->sentences().size(), "SentenceAt");
    Check(sections.empty() || d->SectionAt(off) < sections.size(), "SectionAt");
  }
  return 0;
}
