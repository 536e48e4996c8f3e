// Benchmarks of the Extractor (lexicon mentions, with and without the
// assertion of each mention) over the example charts and one realistic
// sentence, against the text front end alone over the same text (baseline).
//   build/bin/extractor_benchmark
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/charts.h"

namespace {

using chartcoder::bench::ChartBytes;
using chartcoder::bench::ExampleCharts;
using chartcoder::bench::ExampleDocuments;
using chartcoder::bench::Get;

constexpr char kSentence[] =
    "ASSESSMENT: Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 3b, "
    "on insulin; no evidence of heart failure.";

// Baseline: tokens, sentences and sections of every example chart.
void BM_ExtractorBaselineTextAnalyzer(benchmark::State& state) {
  for (auto _ : state) {
    for (const std::string& chart : ExampleCharts()) {
      absl::StatusOr<chartcoder::Document> d = Get().analyzer->Analyze(chart);
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
}
BENCHMARK(BM_ExtractorBaselineTextAnalyzer)->Unit(benchmark::kMillisecond);

// Mentions with assertions, on analyzed charts.
void BM_ExtractorExampleCharts(benchmark::State& state) {
  const std::vector<chartcoder::Document>& docs = ExampleDocuments();
  size_t mentions = 0;
  for (auto _ : state) {
    for (const chartcoder::Document& d : docs) {
      std::vector<chartcoder::Mention> m = Get().extractor->Extract(d);
      mentions += m.size();
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
  state.counters["mentions/chart"] = benchmark::Counter(
      static_cast<double>(mentions) / static_cast<double>(state.iterations() * docs.size()));
}
BENCHMARK(BM_ExtractorExampleCharts)->Unit(benchmark::kMillisecond);

// Lexicon matching alone (no ContextAnalyzer).
void BM_ExtractorExampleChartsNoContext(benchmark::State& state) {
  const std::vector<chartcoder::Document>& docs = ExampleDocuments();
  for (auto _ : state) {
    for (const chartcoder::Document& d : docs) {
      std::vector<chartcoder::Mention> m = Get().bare_extractor->Extract(d);
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
}
BENCHMARK(BM_ExtractorExampleChartsNoContext)->Unit(benchmark::kMillisecond);

// One assessment sentence, analyzed once.
void BM_ExtractorSentence(benchmark::State& state) {
  absl::StatusOr<chartcoder::Document> d = Get().analyzer->Analyze(kSentence);
  if (!d.ok()) std::abort();
  for (auto _ : state) {
    std::vector<chartcoder::Mention> m = Get().extractor->Extract(*d);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (sizeof(kSentence) - 1)));
}
BENCHMARK(BM_ExtractorSentence)->Unit(benchmark::kMicrosecond);

}  // namespace
