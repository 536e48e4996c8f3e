// Benchmarks of Pipeline::Code (one thread) per example chart, with and
// without RAF, plus the JSON Lines writer; the text front end over the same
// charts is the baseline. Pipeline::Create (start-up) is measured too.
//   build/bin/pipeline_benchmark
//
// BM_PipelineFile/STAGE runs the stages over the charts of a JSON Lines file
// (scripts/gen-charts.py output; scripts/bench-code.sh sets it up), one
// thread, one pass: 0 front end (TextAnalyzer), 1 + Extractor (with
// assertions), 2 + Coder, 3 Pipeline::Code (+ HCCs), 4 + the JSON Lines record.
//   export CHARTCODER_BENCH_JSONL=build/bench/charts.jsonl CHARTCODER_BENCH_MB=20
//   build/bin/pipeline_benchmark --benchmark_filter=File
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/charts.h"
#include "chartcoder/result.h"
#include "simdjson.h"

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

// The "text" of each line of $CHARTCODER_BENCH_JSONL, up to
// $CHARTCODER_BENCH_MB megabytes (default all); empty when unset.
const std::vector<std::string>& FileCharts() {
  static const std::vector<std::string>* const kCharts = [] {
    auto* out = new std::vector<std::string>;
    const char* path = std::getenv("CHARTCODER_BENCH_JSONL");
    if (path == nullptr) return out;
    const char* mb = std::getenv("CHARTCODER_BENCH_MB");
    const size_t limit = mb ? static_cast<size_t>(std::atof(mb) * 1e6) : SIZE_MAX;
    simdjson::dom::parser parser;
    simdjson::dom::document_stream stream;
    simdjson::padded_string json;
    if (simdjson::padded_string::load(path).get(json) != simdjson::SUCCESS ||
        parser.parse_many(json).get(stream) != simdjson::SUCCESS) {
      std::fprintf(stderr, "cannot read %s\n", path);
      std::abort();
    }
    size_t total = 0;
    for (auto doc : stream) {
      std::string_view text;
      if (doc["text"].get_string().get(text) != simdjson::SUCCESS) std::abort();
      out->emplace_back(text);
      total += text.size();
      if (total >= limit) break;
    }
    return out;
  }();
  return *kCharts;
}

void BM_PipelineFile(benchmark::State& state) {
  const std::vector<std::string>& charts = FileCharts();
  if (charts.empty()) {
    state.SkipWithError("set CHARTCODER_BENCH_JSONL to a JSON Lines file of charts");
    return;
  }
  const auto& c = Get();
  const int stage = static_cast<int>(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& chart : charts) {
      bytes += chart.size();
      if (stage >= 3) {
        absl::StatusOr<chartcoder::ChartResult> r = c.pipeline->Code("bench", chart);
        if (!r.ok()) std::abort();
        if (stage == 4) benchmark::DoNotOptimize(chartcoder::ChartResultJson(*r));
        continue;
      }
      absl::StatusOr<chartcoder::Document> d = c.analyzer->Analyze(chart);
      if (!d.ok()) std::abort();
      if (stage == 0) continue;
      std::vector<chartcoder::Mention> m = c.extractor->Extract(*d);
      if (stage == 2) benchmark::DoNotOptimize(c.coder->Assign(*d, m));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * charts.size()));
}
BENCHMARK(BM_PipelineFile)->DenseRange(0, 4)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
