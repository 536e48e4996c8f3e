// Benchmarks of Coder::Assign on the mentions already extracted from the
// example charts and from one sentence, against the extraction of the same
// charts (baseline).
//   build/bin/coder_benchmark
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/charts.h"

namespace {

using chartcoder::bench::ChartBytes;
using chartcoder::bench::ExampleDocuments;
using chartcoder::bench::Get;

const std::vector<std::vector<chartcoder::Mention>>& ExampleMentions() {
  static const auto* const kMentions = [] {
    auto* out = new std::vector<std::vector<chartcoder::Mention>>;
    for (const chartcoder::Document& d : ExampleDocuments()) {
      out->push_back(Get().extractor->Extract(d));
    }
    return out;
  }();
  return *kMentions;
}

// Baseline: extracting the mentions that Assign then codes.
void BM_CoderBaselineExtract(benchmark::State& state) {
  for (auto _ : state) {
    for (const chartcoder::Document& d : ExampleDocuments()) {
      benchmark::DoNotOptimize(Get().extractor->Extract(d));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
}
BENCHMARK(BM_CoderBaselineExtract)->Unit(benchmark::kMillisecond);

void BM_CoderAssignExampleCharts(benchmark::State& state) {
  const std::vector<chartcoder::Document>& docs = ExampleDocuments();
  const auto& mentions = ExampleMentions();
  size_t codes = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < docs.size(); ++i) {
      std::vector<chartcoder::AssignedCode> c = Get().coder->Assign(docs[i], mentions[i]);
      codes += c.size();
      benchmark::DoNotOptimize(c);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * docs.size()));  // charts
  state.counters["codes/chart"] = benchmark::Counter(
      static_cast<double>(codes) / static_cast<double>(state.iterations() * docs.size()));
}
BENCHMARK(BM_CoderAssignExampleCharts)->Unit(benchmark::kMillisecond);

void BM_CoderAssignSentence(benchmark::State& state) {
  static constexpr char kSentence[] =
      "ASSESSMENT: Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 3b, "
      "on insulin; hypertension; no evidence of heart failure.";
  absl::StatusOr<chartcoder::Document> d = Get().analyzer->Analyze(kSentence);
  if (!d.ok()) std::abort();
  const std::vector<chartcoder::Mention> mentions = Get().extractor->Extract(*d);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Get().coder->Assign(*d, mentions));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CoderAssignSentence)->Unit(benchmark::kMicrosecond);

}  // namespace
