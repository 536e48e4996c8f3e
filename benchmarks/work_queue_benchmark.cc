// The PostgreSQL work queue: the queue alone (claim + complete of empty
// jobs, from 1-4 threads) and end to end (1, 2 and 4 `chartcoder worker`
// processes coding real chart files). Starts its own TLS PostgreSQL;
// CHARTCODER_BENCH_FSYNC=1 turns durable commits on (off by default).
// Run through scripts/bench-queue.sh.
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
#include "tests/pg_test_server.h"

namespace chartcoder {
namespace {

testing::PgTestServer& Server() {
  static testing::PgTestServer* server = [] {
    testing::PgTestServerOptions o;
    const char* f = std::getenv("CHARTCODER_BENCH_FSYNC");
    o.fsync = f != nullptr && std::string(f) == "1";
    auto s = testing::PgTestServer::Start(o);
    if (!s.ok()) {
      std::fprintf(stderr, "cannot start PostgreSQL: %s\n", s.status().ToString().c_str());
      std::abort();
    }
    return s->release();
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

// Claim + complete of jobs whose result is "{}": the queue's own cost.
void BM_WorkQueueClaimComplete(benchmark::State& state) {
  static std::unique_ptr<WorkQueue> queue;
  static int run = 0;
  constexpr int kPerThread = 3000;
  if (state.thread_index() == 0) {
    queue = FreshQueue(absl::StrCat("claim", ++run));
    std::vector<JobSpec> jobs;
    for (int i = 0; i < kPerThread * state.threads(); ++i) {
      JobSpec j;
      j.chart_id = absl::StrCat("c", i);
      j.ref = "/charts/none.txt";
      j.digest = ChartDigest(j.chart_id);
      jobs.push_back(std::move(j));
    }
    if (!queue->Submit(jobs).ok()) std::abort();
  }
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

// N worker processes coding 2,000 chart files (about 10 KB each) to the end.
void BM_WorkQueueWorkers(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  constexpr int kCharts = 2000;
  static int run = 0;
  std::string dir = (std::filesystem::temp_directory_path() / "chartcoder_bench_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::abort();
  std::vector<JobSpec> jobs;
  for (int i = 0; i < kCharts; ++i) {
    std::string text;
    for (int line = 0; line < 120; ++line) {
      absl::StrAppend(&text, "Line ", line, ": follow-up visit, medications reconciled.\n");
    }
    absl::StrAppend(&text, "Assessment: E11.22, N18.31, I10, chart ", i, "\n");
    std::string path = absl::StrCat(dir, "/c", i, ".txt");
    std::ofstream(path) << text;
    JobSpec j;
    j.chart_id = absl::StrCat("c", i);
    j.ref = path;
    j.digest = ChartDigest(text);
    jobs.push_back(std::move(j));
  }
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
              "--poll-ms", "20", nullptr);
        _exit(127);
      }
      pids.push_back(pid);
    }
    while (true) {
      auto st = queue->Status();
      if (st.ok() && st->done == kCharts) break;
      usleep(5000);
    }
    state.PauseTiming();
    for (pid_t p : pids) kill(p, SIGTERM);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kCharts);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WorkQueueWorkers)->Arg(1)->Arg(2)->Arg(4)->Iterations(1)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace chartcoder
