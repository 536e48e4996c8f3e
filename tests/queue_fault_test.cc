// The work queue under faults, end to end with the real CLI: 1,000 charts,
// 4 worker processes (two of them with --batch 4), random workers SIGKILLed
// and restarted, PostgreSQL (TLS, verify-full) restarted once mid-run, 5
// poison charts that always fail. Every good chart must end with exactly one
// result, the poison charts in the dead-letter table with their error, and no
// job leased.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/pg.h"
#include "tests/pg_test_server.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

// A guard against a hang, not a speed test. Under a sanitizer the workers run
// several times slower, and a shared machine slows them again (a CI run
// beside two builds took 170 s).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::chrono::seconds kDeadline(600);
#else
constexpr std::chrono::seconds kDeadline(170);
#endif

using ::testing::HasSubstr;

// Starts the CLI in the background, output appended to `log`.
pid_t SpawnCli(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    // SIGTERM stays pending until the worker has its handler (it unblocks
    // it), as a stop sent the moment a worker starts must still drain.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    testing::ExecCli(args);
  }
  return pid;
}

int64_t Count(internal::PgConnection& conn, const std::string& sql) {
  auto r = conn.Exec(sql);
  if (!r.ok()) return -1;
  return r->GetInt(0, 0);
}

TEST(QueueFaultTest, KilledWorkersAndARestartedDatabaseLoseNoChartAndCodeNoneTwice) {
  constexpr int kCharts = 1000, kPoison = 5, kWorkers = 4;
  auto pg = testing::PgTestServer::Start({});
  ASSERT_TRUE(pg.ok()) << pg.status();
  ASSERT_TRUE((*pg)->CreateDatabase("fault").ok());
  const std::string url = (*pg)->Url("fault");
  auto migrated = testing::RunCli({"db", "migrate", "--db", url});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;

  // Charts of a realistic size, each stating a few codes; the poison ones are
  // not valid UTF-8, which the processor always rejects.
  testing::TempDir dir;
  std::string manifest;
  std::set<std::string> good;
  const char* kCodes[] = {"E11.22", "I10", "N18.30", "J44.9", "F32.A", "I50.9", "E66.01"};
  for (int i = 0; i < kCharts; ++i) {
    std::string id = absl::StrCat("chart-", i);
    std::string text;
    bool poison = i % (kCharts / kPoison) == 17;
    for (int line = 0; line < 150; ++line) {
      absl::StrAppend(&text, "Line ", line, " of note ", i, ": patient seen, plan reviewed.\n");
    }
    absl::StrAppend(&text, "Assessment: ", kCodes[i % 7], ", ", kCodes[(i / 7) % 7], "\n");
    if (poison) text += "\xff\xfe broken export\n";
    else good.insert(id);
    std::string path = dir.File(id + ".txt");
    testing::WriteFileOrDie(path, text);
    absl::StrAppend(&manifest, "{\"path\":\"", path, "\",\"chart_id\":\"", id,
                    "\",\"patient_id\":\"m", i % 250, "\",\"demographics\":{\"age\":", 65 + i % 30,
                    ",\"sex\":\"", i % 2 ? "F" : "M", "\"}}\n");
  }
  ASSERT_EQ(good.size(), static_cast<size_t>(kCharts - kPoison));
  testing::WriteFileOrDie(dir.File("manifest.jsonl"), manifest);
  auto submitted =
      testing::RunCli({"submit", "--db", url, "--manifest", dir.File("manifest.jsonl"),
                       "--max-attempts", "4", "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_EQ(submitted.out, "{\"queued\":1000,\"duplicates\":0}\n");

  const std::vector<std::string> worker_args = {
      "worker", "--db", url, "--lease-seconds", "2", "--retry-base-ms", "100", "--poll-ms", "50",
      "--quiet"};
  // Half the workers claim and complete in batches (a killed one leaves its
  // whole batch to wait out the lease).
  std::vector<std::string> batch_args = worker_args;
  batch_args.insert(batch_args.end(), {"--batch", "4"});
  auto args_of = [&](size_t slot) { return slot % 2 == 0 ? worker_args : batch_args; };
  const std::string log = dir.File("workers.log");
  std::vector<pid_t> workers;
  // A failed assertion leaves no worker running.
  absl::Cleanup kill_workers = [&workers] {
    for (pid_t w : workers) {
      if (w > 0 && waitpid(w, nullptr, WNOHANG) == 0) {
        kill(w, SIGKILL);
        waitpid(w, nullptr, 0);
      }
    }
  };
  for (int i = 0; i < kWorkers; ++i) workers.push_back(SpawnCli(args_of(i), log));

  internal::PgConnectOptions connect;
  connect.url = url;
  auto conn = internal::PgConnection::Connect(connect);
  ASSERT_TRUE(conn.ok()) << conn.status();

  std::mt19937 rng(7);
  int kills = 0;
  bool restarted = false;
  int64_t done_at_restart = -1;
  auto start = std::chrono::steady_clock::now();
  auto next_kill = start + std::chrono::milliseconds(150);
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    ASSERT_LT(now - start, kDeadline) << "the run did not finish; log:\n"
                                                       << testing::ReadFileOrDie(log);
    if (!conn->ok()) {
      auto again = internal::PgConnection::Connect(connect);
      if (!again.ok()) continue;
      *conn = std::move(*again);
    }
    int64_t finished = Count(*conn,
                             "SELECT (SELECT count(*) FROM cc_jobs WHERE state = 'done') + "
                             "(SELECT count(*) FROM cc_dead_letter)");
    if (finished == kCharts) break;
    if (!restarted && finished >= kCharts * 3 / 10) {
      done_at_restart = finished;
      ASSERT_TRUE((*pg)->Restart(/*immediate=*/true).ok());
      restarted = true;
    }
    // No kills in the last tenth: with few jobs left, each kill lands on the
    // same ones, and a job whose worker dies at each of its four attempts is
    // a dead letter by design (a chart that kills its worker). Under load
    // that happened to a good chart once (6 dead letters, 5 poison).
    if (now >= next_kill && finished < kCharts * 9 / 10) {
      size_t victim = rng() % workers.size();
      kill(workers[victim], SIGKILL);
      waitpid(workers[victim], nullptr, 0);
      workers[victim] = SpawnCli(args_of(victim), log);
      ++kills;
      next_kill = now + std::chrono::milliseconds(150 + rng() % 300);
    }
  }
  // Drain: SIGTERM lets each worker finish and exit 0.
  for (pid_t w : workers) kill(w, SIGTERM);
  for (pid_t w : workers) {
    int status = 0;
    waitpid(w, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::ReadFileOrDie(log);
  }
  std::printf("[ fault run ] %d charts, %d kills, database restarted at %lld finished, %.1f s\n",
              kCharts, kills, static_cast<long long>(done_at_restart),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_TRUE(restarted);
  EXPECT_GE(kills, 5);

  // Every good chart has exactly one result; nothing else has one.
  auto results = conn->Exec("SELECT chart_id, count(*) FROM cc_results GROUP BY chart_id");
  ASSERT_TRUE(results.ok()) << results.status();
  std::set<std::string> with_result;
  for (int i = 0; i < results->rows(); ++i) {
    EXPECT_EQ(results->GetInt(i, 1), 1) << results->Get(i, 0);
    with_result.insert(std::string(results->Get(i, 0)));
  }
  EXPECT_EQ(with_result, good);
  // The poison charts are dead letters with their error; no good chart is.
  auto dead = conn->Exec("SELECT chart_id, error, attempts FROM cc_dead_letter ORDER BY chart_id");
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->rows(), kPoison);
  for (int i = 0; i < dead->rows(); ++i) {
    EXPECT_EQ(good.count(std::string(dead->Get(i, 0))), 0u);
    EXPECT_THAT(std::string(dead->Get(i, 1)), HasSubstr("UTF-8"));
    EXPECT_EQ(dead->GetInt(i, 2), 4);
  }
  EXPECT_EQ(Count(*conn, "SELECT count(*) FROM cc_jobs WHERE state <> 'done'"), 0);
  EXPECT_EQ(Count(*conn, "SELECT count(*) FROM cc_jobs WHERE state = 'done'"), kCharts - kPoison);

  auto status = testing::RunCli({"status", "--db", url, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("\"queued\":0,"));
  EXPECT_THAT(status.out, HasSubstr("\"leased\":0,"));
  EXPECT_THAT(status.out, HasSubstr("\"done\":995,"));
  EXPECT_THAT(status.out, HasSubstr("\"dead\":5,"));
  // The logs name jobs, never charts.
  EXPECT_THAT(testing::ReadFileOrDie(log), ::testing::Not(HasSubstr("chart-")));
}

}  // namespace
}  // namespace chartcoder
