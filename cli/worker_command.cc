// chartcoder worker --db URL: claim, code and complete queued charts.
#include <signal.h>

#include <atomic>
#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chartcoder/work_queue.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"
#include "cli/pipeline_flags.h"
#include "src/internal/default_processor.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

// Set by SIGTERM/SIGINT: the worker drains and exits.
std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

const char* KindName(WorkerEvent::Kind k) {
  switch (k) {
    case WorkerEvent::kCompleted: return "done";
    case WorkerEvent::kDuplicate: return "done (result already stored)";
    case WorkerEvent::kFailed: return "failed, will retry";
    case WorkerEvent::kDeadLettered: return "failed, dead-lettered";
    case WorkerEvent::kLeaseLost: return "lease lost (another worker has it)";
    case WorkerEvent::kReleased: return "released (draining)";
    case WorkerEvent::kDatabaseError: return "database unreachable, retrying";
    case WorkerEvent::kDatabaseBack: return "database reachable again";
    case WorkerEvent::kIdleExit: return "queue idle, exiting";
  }
  return "?";
}

// One line per event on stderr; job ids and errors only, never chart ids or
// chart text.
void LogEvent(const WorkerEvent& e, bool quiet) {
  if (quiet && (e.kind == WorkerEvent::kCompleted || e.kind == WorkerEvent::kDuplicate)) return;
  std::string line = "chartcoder worker: ";
  if (e.job_id != 0) {
    internal::StrAppend(&line, "job ", e.job_id, " attempt ", e.attempt, " ");
  }
  internal::StrAppend(&line, KindName(e.kind));
  if (e.job_id != 0) {
    internal::StrAppend(&line, " in ", absl::ToInt64Milliseconds(e.elapsed), " ms");
  }
  if (!e.status.ok()) {
    std::string msg(e.status.message());
    for (char& c : msg) {
      if (c == '\n') c = ' ';
    }
    internal::StrAppend(&line, ": ", msg);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

int RunWorkerCommand(const CommandLine& args) {
  // First, so that a stop asked while the pack loads still drains cleanly;
  // and unblocked, in case the parent started us with them blocked.
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  if (!args.positional().empty()) return UsageError("worker", "takes no arguments");
  auto concurrency = args.GetInt("concurrency", 1, 1, 256);
  auto batch = args.GetInt("batch", 1, 1, 1000);
  auto lease = args.GetInt("lease-seconds", 60, 1, 86400);
  auto idle = args.GetInt("idle-exit", 0, 0, 86400 * 365);
  auto drain = args.GetInt("drain-seconds", 30, 0, 86400);
  auto retry_ms = args.GetInt("retry-base-ms", 5000, 1, 86400000);
  auto max_jobs = args.GetInt("max-jobs", 0, 0, 1LL << 40);
  auto poll_ms = args.GetInt("poll-ms", 500, 1, 60000);
  for (const auto* v :
       {&concurrency, &batch, &lease, &idle, &drain, &retry_ms, &max_jobs, &poll_ms}) {
    if (!v->ok()) return UsageError("worker", v->status());
  }
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  absl::StatusOr<PipelineOptions> coding = PipelineOptionsFromFlags(args);
  if (!coding.ok()) return UsageError("worker", coding.status());
  absl::StatusOr<std::unique_ptr<CodeSet>> codes = LoadCodeSet(args);
  if (!codes.ok()) return Fail(codes.status());
  absl::StatusOr<std::shared_ptr<const ChartProcessor>> processor = internal::MakeDefaultProcessor(
      std::shared_ptr<const CodeSet>(std::move(*codes)), *std::move(coding));
  if (!processor.ok()) return Fail(processor.status());
  // A worker started while the database restarts waits for it, as a running
  // worker does; bad URLs and schema problems still fail at once.
  absl::StatusOr<std::unique_ptr<WorkQueue>> queue = OpenQueue(args);
  absl::Duration wait = absl::Milliseconds(200);
  while (!queue.ok() && absl::IsUnavailable(queue.status()) && !g_stop.load()) {
    std::fprintf(stderr, "chartcoder worker: database unreachable at start, retrying in %lld ms: %s\n",
                 static_cast<long long>(absl::ToInt64Milliseconds(wait)),
                 std::string(queue.status().message()).c_str());
    absl::SleepFor(wait);
    wait = std::min(wait * 2, absl::Seconds(10));
    queue = OpenQueue(args);
  }
  if (!queue.ok() && g_stop.load()) return kExitOk;  // stopped before it could start
  if (!queue.ok()) {
    return absl::IsInvalidArgument(queue.status()) ? UsageError("worker", queue.status())
                                                   : Fail(queue.status());
  }
  WorkerOptions o;
  o.worker_id = args.Get("worker-id");
  o.concurrency = static_cast<int>(*concurrency);
  o.batch = static_cast<int>(*batch);
  o.lease = absl::Seconds(*lease);
  o.idle_exit = absl::Seconds(*idle);
  o.drain_timeout = absl::Seconds(*drain);
  o.retry.base_delay = absl::Milliseconds(*retry_ms);
  o.max_jobs = *max_jobs;
  o.poll_interval = absl::Milliseconds(*poll_ms);
  o.keys = keys->get();
  o.seal_results = keys->get() != nullptr;
  o.key_id = args.Get("key-id");
  const bool quiet = args.Has("quiet");
  o.on_event = [quiet](const WorkerEvent& e) { LogEvent(e, quiet); };

  absl::StatusOr<WorkerStats> stats = RunWorker(**queue, *processor, o, &g_stop);
  if (!stats.ok()) return Fail(stats.status());
  std::fprintf(stderr,
               "chartcoder worker: %lld done, %lld failed attempts, %lld dead-lettered, %lld "
               "released, %lld leases lost\n",
               static_cast<long long>(stats->completed), static_cast<long long>(stats->failed),
               static_cast<long long>(stats->dead_lettered),
               static_cast<long long>(stats->released),
               static_cast<long long>(stats->leases_lost));
  return kExitOk;
}

}  // namespace

const Command& WorkerCommand() {
  static const Command* const kCommand = new Command{
      "worker", "claim, code and complete queued charts (run one per machine or more)",
      "Usage: chartcoder worker --db URL [--concurrency N] [--batch N] [--idle-exit SECONDS]\n\n"
      "Claims due jobs from the queue (FOR UPDATE SKIP LOCKED) under a lease that is renewed\n"
      "while a chart is coded, writes the result and completes the job in one transaction,\n"
      "--batch N jobs per claim and per completing statement for each of the --concurrency\n"
      "threads (coded one after another; a worker that dies leaves them to their lease),\n"
      "and retries failures with backoff until --max-attempts (set at submit) moves them to\n"
      "the dead-letter table. A worker that dies loses its lease and the job goes to another.\n"
      "SIGTERM or SIGINT drains: no new claims; the running charts finish (or are released\n"
      "after --drain-seconds) and claimed jobs not yet started are released; then it exits\n"
      "0. Results are sealed when a key is configured.\n"
      "Logs one line per job on stderr (job ids and errors, never chart ids or text).",
      Concat({DbFlags(), {DataFlag()}, CodingFlags(), KeyringFlags(),
              {{"key-id", "ID", "key to seal results with (default: the active key)"},
               {"concurrency", "N", "charts coded at once (default 1)"},
               {"batch", "N", "jobs claimed and completed per statement, per thread (default 1)"},
               {"lease-seconds", "S", "lease (visibility timeout), renewed every S/3 (default 60)"},
               {"idle-exit", "SECONDS", "exit when nothing was due for this long (default: never)"},
               {"drain-seconds", "S", "on SIGTERM, wait this long for running charts (default 30)"},
               {"retry-base-ms", "MS", "backoff before the 2nd attempt, doubling (default 5000)"},
               {"max-jobs", "N", "exit after N jobs (default: no limit)"},
               {"poll-ms", "MS", "pause between claims when the queue is empty (default 500)"},
               {"worker-id", "ID", "name in the lease (default HOST:PID)"},
               {"quiet", "", "log failures only"}}}),
      &RunWorkerCommand};
  return *kCommand;
}

}  // namespace chartcoder::cli
