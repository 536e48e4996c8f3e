// Benchmarks of the data pack: loading, code look-up, free-text search.
//   build/bin/codeset_benchmark
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "chartcoder/codeset.h"

namespace {

std::unique_ptr<chartcoder::CodeSet> Load(bool verify) {
  chartcoder::CodeSetOptions o;
  o.data_pack = CHARTCODER_TEST_PACK;
  o.verify_checksum = verify;
  auto s = chartcoder::CodeSet::Create(o);
  if (!s.ok()) std::abort();
  return std::move(*s);
}

void BM_CodeSetLoad(benchmark::State& state) {
  const bool verify = state.range(0) != 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto s = Load(verify);
    bytes = s->info().size_bytes;
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_CodeSetLoad)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_CodeSetFind(benchmark::State& state) {
  auto s = Load(true);
  std::vector<std::string> queries = {"E11.9", "e1122",  "I50.9", "S72.001A", "N18.4",
                                      "Z99.2", "C34.90", "F32.9", "J44.9",    "XYZ"};
  size_t found = 0;
  for (auto _ : state) {
    for (const std::string& q : queries) found += s->Find(q).has_value();
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * queries.size()));
}
BENCHMARK(BM_CodeSetFind);

void BM_CodeSetSearch(benchmark::State& state) {
  auto s = Load(true);
  size_t n = 0;
  for (auto _ : state) {
    n += s->Search("chronic kidney disease stage 4", {}).size();
  }
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CodeSetSearch)->Unit(benchmark::kMicrosecond);

}  // namespace
