// The PostgreSQL work queue: the queue alone (claim + complete of empty
// jobs from 1, 2 and 4 threads, one job at a time and in batches) and end to
// end (1, 2 and 4 `chartcoder worker` processes coding chart files with the
// full pipeline, one job at a time and --batch 16). Starts its own TLS
// PostgreSQL; CHARTCODER_BENCH_FSYNC=1 turns durable commits on (off by
// default). Run through scripts/bench-queue.sh.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "chartcoder/result_store.h"
#include "chartcoder/work_queue.h"
#include "simdjson.h"
#include "src/internal/demographics_json.h"
#include "tests/pg_test_server.h"

namespace chartcoder {
namespace {

// Started on first use; stopped (and its folder removed) when the program
// exits normally.
testing::PgTestServer& Server() {
  static const std::unique_ptr<testing::PgTestServer> server = [] {
    testing::PgTestServerOptions o;
    const char* f = std::getenv("CHARTCODER_BENCH_FSYNC");
    o.fsync = f != nullptr && std::string(f) == "1";
    auto s = testing::PgTestServer::Start(o);
    if (!s.ok()) {
      std::fprintf(stderr, "cannot start PostgreSQL: %s\n", s.status().ToString().c_str());
      std::abort();
    }
    return std::move(*s);
  }();
  return *server;
}

std::unique_ptr<WorkQueue> FreshQueue(const std::string& db) {
  if (!Server().CreateDatabase(db).ok()) std::abort();
  WorkQueueOptions o;
  o.url = Server().Url(db);
  o.pool_size = 8;
  auto q = WorkQueue::Create(o);
  if (!q.ok() || !(*q)->Migrate().ok()) std::abort();
  return std::move(*q);
}

// `jobs` jobs whose charts are never read (the queue-alone benchmarks).
std::unique_ptr<WorkQueue> QueueOfEmptyJobs(int jobs) {
  static int run = 0;
  auto queue = FreshQueue(absl::StrCat("claim", ++run));
  std::vector<JobSpec> specs;
  for (int i = 0; i < jobs; ++i) {
    JobSpec j;
    j.chart_id = absl::StrCat("c", i);
    j.ref = "/charts/none.txt";
    j.digest = ChartDigest(j.chart_id);
    specs.push_back(std::move(j));
  }
  if (!queue->Submit(specs).ok()) std::abort();
  return queue;
}

// Claim + complete of jobs whose result is "{}", one job at a time: the
// queue's own cost per job.
void BM_WorkQueueClaimComplete(benchmark::State& state) {
  static std::unique_ptr<WorkQueue> queue;
  constexpr int kPerThread = 3000;
  if (state.thread_index() == 0) queue = QueueOfEmptyJobs(kPerThread * state.threads());
  const std::string owner = absl::StrCat("bench-", state.thread_index());
  for (auto _ : state) {
    auto lease = queue->Claim(owner, absl::Seconds(60));
    if (!lease.ok() || !lease->has_value()) {
      state.SkipWithError("no job to claim");
      break;
    }
    auto done = queue->Complete(**lease, "{}");
    if (!done.ok() || !*done) {
      state.SkipWithError("complete failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkQueueClaimComplete)->Iterations(3000)->ThreadRange(1, 4)->UseRealTime();

// The same in batches of state.range(0): one ClaimBatch and one
// CompleteBatch statement per batch. An iteration is one batch.
constexpr int kBatchJobsPerThread = 6144;
void BM_WorkQueueClaimCompleteBatch(benchmark::State& state) {
  static std::unique_ptr<WorkQueue> queue;
  const int batch = static_cast<int>(state.range(0));
  if (state.thread_index() == 0) queue = QueueOfEmptyJobs(kBatchJobsPerThread * state.threads());
  const std::string owner = absl::StrCat("bench-", state.thread_index());
  int64_t jobs = 0;
  for (auto _ : state) {
    auto leases = queue->ClaimBatch(owner, absl::Seconds(60), batch);
    if (!leases.ok() || leases->empty()) {
      state.SkipWithError("no job to claim");
      break;
    }
    std::vector<JobCompletion> done;
    for (const Lease& l : *leases) done.push_back({&l, "{}"});
    auto outcomes = queue->CompleteBatch(done);
    if (!outcomes.ok()) {
      state.SkipWithError("complete failed");
      break;
    }
    for (CompleteOutcome o : *outcomes) {
      if (o != CompleteOutcome::kCompleted) state.SkipWithError("a lease was lost");
    }
    jobs += static_cast<int64_t>(leases->size());
  }
  state.SetItemsProcessed(jobs);
}
BENCHMARK(BM_WorkQueueClaimCompleteBatch)->Arg(16)->Iterations(kBatchJobsPerThread / 16)
    ->ThreadRange(1, 4)->UseRealTime();
BENCHMARK(BM_WorkQueueClaimCompleteBatch)->Arg(64)->Iterations(kBatchJobsPerThread / 64)
    ->ThreadRange(1, 4)->UseRealTime();

// The charts of the end-to-end run: the first $CHARTCODER_BENCH_QUEUE_CHARTS
// (default 2,000) lines of the JSON Lines file $CHARTCODER_BENCH_QUEUE_JSONL
// (scripts/gen-charts.py: "id", "text", optional "demographics"), written out
// as chart files in `dir`, as `chartcoder submit` would queue them.
std::vector<JobSpec> ChartFiles(const std::string& dir) {
  std::vector<JobSpec> jobs;
  const char* path = std::getenv("CHARTCODER_BENCH_QUEUE_JSONL");
  if (path == nullptr) return jobs;
  const char* count = std::getenv("CHARTCODER_BENCH_QUEUE_CHARTS");
  const size_t limit = count != nullptr ? std::strtoul(count, nullptr, 10) : 2000;
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json) != simdjson::SUCCESS ||
      parser.parse_many(json).get(stream) != simdjson::SUCCESS) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::abort();
  }
  for (auto doc : stream) {
    if (jobs.size() == limit) break;
    std::string_view id, text;
    if (doc["id"].get_string().get(id) != simdjson::SUCCESS ||
        doc["text"].get_string().get(text) != simdjson::SUCCESS) {
      std::abort();
    }
    JobSpec j;
    j.chart_id = std::string(id);
    j.ref = absl::StrCat(dir, "/", j.chart_id, ".txt");
    j.digest = ChartDigest(text);
    std::ofstream(j.ref, std::ios::binary) << text;
    simdjson::dom::element demographics;
    if (doc["demographics"].get(demographics) == simdjson::SUCCESS) {
      auto d = internal::ParseDemographicsJson(simdjson::minify(demographics));
      if (!d.ok()) std::abort();
      j.demographics = *d;
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

// state.range(0) `chartcoder worker --batch state.range(1)` processes code
// the chart files with the full pipeline, from a full queue to the last job
// done (process start, pack load and pipeline set-up included).
void BM_WorkQueueWorkers(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const std::string batch = absl::StrCat(state.range(1));
  static int run = 0;
  std::string dir = (std::filesystem::temp_directory_path() / "chartcoder_bench_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::abort();
  const std::vector<JobSpec> jobs = ChartFiles(dir);
  if (jobs.empty()) {
    std::filesystem::remove_all(dir);
    state.SkipWithError("set CHARTCODER_BENCH_QUEUE_JSONL (see scripts/bench-queue.sh)");
    return;
  }
  const int64_t charts = static_cast<int64_t>(jobs.size());
  for (auto _ : state) {
    state.PauseTiming();
    std::string db = absl::StrCat("workers", ++run);
    auto queue = FreshQueue(db);
    if (!queue->Submit(jobs).ok()) std::abort();
    state.ResumeTiming();
    std::vector<pid_t> pids;
    for (int w = 0; w < workers; ++w) {
      pid_t pid = fork();
      if (pid == 0) {
        execl(CHARTCODER_CLI, "chartcoder", "worker", "--db", Server().Url(db).c_str(), "--quiet",
              "--poll-ms", "20", "--batch", batch.c_str(), nullptr);
        _exit(127);
      }
      pids.push_back(pid);
    }
    while (true) {
      auto st = queue->Status();
      if (st.ok() && st->done + st->dead == charts) {
        if (st->dead != 0) state.SkipWithError("charts were dead-lettered");
        break;
      }
      usleep(5000);
    }
    state.PauseTiming();
    for (pid_t p : pids) kill(p, SIGTERM);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * charts);
  state.counters["charts"] = static_cast<double>(charts);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WorkQueueWorkers)
    ->ArgNames({"workers", "batch"})
    ->ArgsProduct({{1, 2, 4}, {1, 16}})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace chartcoder
