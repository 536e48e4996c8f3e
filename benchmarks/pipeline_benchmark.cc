// Benchmarks of Pipeline::Code (one thread) per example chart, with and
// without RAF, plus the JSON Lines writer; the text front end over the same
// charts is the baseline. Pipeline::Create (start-up) is measured too.
//   build/bin/pipeline_benchmark
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/charts.h"
#include "chartcoder/result.h"

namespace {

using chartcoder::bench::ChartBytes;
using chartcoder::bench::ExampleCharts;
using chartcoder::bench::Get;

void BM_PipelineBaselineTextAnalyzer(benchmark::State& state) {
  for (auto _ : state) {
    for (const std::string& chart : ExampleCharts()) {
      benchmark::DoNotOptimize(Get().analyzer->Analyze(chart));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
}
BENCHMARK(BM_PipelineBaselineTextAnalyzer)->Unit(benchmark::kMillisecond);

// arg 0: no demographics; 1: a 72-year-old woman (RAF per model).
void BM_PipelineCodeExampleCharts(benchmark::State& state) {
  chartcoder::Demographics member;
  member.age = 72;
  member.sex = chartcoder::Sex::kFemale;
  const chartcoder::Demographics* d = state.range(0) ? &member : nullptr;
  for (auto _ : state) {
    for (const std::string& chart : ExampleCharts()) {
      absl::StatusOr<chartcoder::ChartResult> r = Get().pipeline->Code("bench", chart, d);
      if (!r.ok()) std::abort();
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ExampleCharts().size()));
}
BENCHMARK(BM_PipelineCodeExampleCharts)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Pipeline::Code and the JSON Lines record, as `chartcoder code` does per chart.
void BM_PipelineCodeAndJson(benchmark::State& state) {
  size_t out = 0;
  for (auto _ : state) {
    for (const std::string& chart : ExampleCharts()) {
      absl::StatusOr<chartcoder::ChartResult> r = Get().pipeline->Code("bench", chart);
      if (!r.ok()) std::abort();
      out += chartcoder::ChartResultJson(*r).size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
  state.counters["json/chart"] = benchmark::Counter(
      static_cast<double>(out) / static_cast<double>(state.iterations() * ExampleCharts().size()));
}
BENCHMARK(BM_PipelineCodeAndJson)->Unit(benchmark::kMillisecond);

// The JSON Lines writer alone, on results coded once.
void BM_PipelineResultJson(benchmark::State& state) {
  std::vector<chartcoder::ChartResult> results;
  for (const std::string& chart : ExampleCharts()) {
    results.push_back(std::move(Get().pipeline->Code("bench", chart)).value());
  }
  for (auto _ : state) {
    for (const chartcoder::ChartResult& r : results) {
      benchmark::DoNotOptimize(chartcoder::ChartResultJson(r));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ChartBytes()));
}
BENCHMARK(BM_PipelineResultJson)->Unit(benchmark::kMillisecond);

// Start-up: the whole pipeline over an already loaded pack.
void BM_PipelineCreate(benchmark::State& state) {
  chartcoder::PipelineOptions o;
  o.code_set = Get().codes;
  for (auto _ : state) {
    benchmark::DoNotOptimize(chartcoder::Pipeline::Create(o));
  }
}
BENCHMARK(BM_PipelineCreate)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
