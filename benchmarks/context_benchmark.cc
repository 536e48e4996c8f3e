// Benchmarks of ConText assertion: Assess() on every word-like span of the
// synthetic notes (a proxy for the coder's mentions), and building the
// analyzer from the trigger lexicon.
//   build/bin/context_benchmark
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/notes.h"
#include "chartcoder/context.h"
#include "chartcoder/tokenizer.h"

namespace {

using chartcoder::bench::Notes;

struct Fixture {
  std::unique_ptr<chartcoder::TextAnalyzer> text;
  std::unique_ptr<chartcoder::ContextAnalyzer> context;
  std::vector<chartcoder::Document> docs;
  // Per document: spans to assess (words of four or more letters).
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> spans;
  size_t span_count = 0;
  size_t bytes = 0;
};

const Fixture& Get() {
  static const Fixture* const kFixture = [] {
    auto* f = new Fixture;
    auto t = chartcoder::TextAnalyzer::Create({});
    auto c = chartcoder::ContextAnalyzer::Create({});
    if (!t.ok() || !c.ok()) std::abort();
    f->text = std::move(*t);
    f->context = std::move(*c);
    for (const std::string& note : Notes()) {
      auto d = f->text->Analyze(note);
      if (!d.ok()) std::abort();
      std::vector<std::pair<uint32_t, uint32_t>> spans;
      for (const chartcoder::Token& tok : d->tokens()) {
        if (tok.kind == chartcoder::TokenKind::kWord && tok.norm.size() >= 4) {
          spans.emplace_back(tok.begin, tok.end);
        }
      }
      f->span_count += spans.size();
      f->bytes += note.size();
      f->spans.push_back(std::move(spans));
      f->docs.push_back(std::move(*d));
    }
    return f;
  }();
  return *kFixture;
}

void BM_ContextAssess(benchmark::State& state) {
  const Fixture& f = Get();
  size_t asserted = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < f.docs.size(); ++i) {
      for (const auto& [b, e] : f.spans[i]) {
        chartcoder::Assertion a = f.context->Assess(f.docs[i], b, e);
        asserted += a.negated || a.uncertain || a.historical || a.hypothetical || a.family;
        benchmark::DoNotOptimize(a);
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * f.span_count));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
  state.counters["asserted"] =
      static_cast<double>(asserted) / static_cast<double>(state.iterations() * f.span_count);
}
BENCHMARK(BM_ContextAssess);

// Front end plus ConText on every span: a whole note as the coder would see it.
void BM_ContextFrontEndAndAssess(benchmark::State& state) {
  const Fixture& f = Get();
  for (auto _ : state) {
    for (const std::string& note : Notes()) {
      auto d = f.text->Analyze(note);
      if (!d.ok()) state.SkipWithError("Analyze failed");
      for (const chartcoder::Token& tok : d->tokens()) {
        if (tok.kind == chartcoder::TokenKind::kWord && tok.norm.size() >= 4) {
          benchmark::DoNotOptimize(f.context->Assess(*d, tok.begin, tok.end));
        }
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * f.span_count));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
}
BENCHMARK(BM_ContextFrontEndAndAssess);

// Building the analyzer: every trigger phrase tokenized into the trie.
void BM_ContextCreate(benchmark::State& state) {
  for (auto _ : state) {
    auto c = chartcoder::ContextAnalyzer::Create({});
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ContextCreate)->Unit(benchmark::kMillisecond);

}  // namespace
