// chartcoder/work_queue.h: a work queue of charts on PostgreSQL, for workers
// on many machines: jobs are claimed under a lease (a visibility timeout
// renewed while a chart is coded), completed together with their result in
// one transaction, retried with backoff and moved to a dead-letter table
// after too many attempts. A worker that dies loses its lease, and the job
// goes to another worker; a job run twice leaves one result. Workers claim
// and complete jobs one at a time or in batches (one statement each way).
//
//   chartcoder::WorkQueueOptions o;
//   o.url = "postgresql://cc@db.internal/chartcoder?sslrootcert=/etc/cc/ca.pem";
//   auto queue = chartcoder::WorkQueue::Create(o);
//   if (!queue.ok()) return queue.status();
//   CC_RETURN_IF_ERROR((*queue)->Migrate().status());
//   CC_RETURN_IF_ERROR((*queue)->Submit({job}).status());
//   std::atomic<bool> stop{false};  // set from a SIGTERM handler to drain
//   auto stats = chartcoder::RunWorker(**queue, processor, {}, &stop);
//
// Charts are queued by reference (a path or file:// URI and the SHA-256 of
// the chart's plaintext), or embedded only when sealed: chart text is never
// stored in the queue in the clear. The connection is TLS with
// sslmode=verify-full unless allow_insecure. Schema: src/internal/pg_schema.h.
#ifndef CHARTCODER_WORK_QUEUE_H_
#define CHARTCODER_WORK_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "chartcoder/executor.h"
#include "chartcoder/hcc.h"
#include "chartcoder/keys.h"

namespace chartcoder {

struct WorkQueueOptions {
  // A libpq connection string or postgresql:// URI. Required.
  std::string url;
  // Permit an sslmode other than verify-full (plaintext or unverified TLS).
  // Default false: such a URL is refused.
  bool allow_insecure = false;
  // Seconds to wait for a connection unless the URL says. Default 10.
  int connect_timeout_seconds = 10;
  // Connections kept open for reuse. Default 4.
  int pool_size = 4;
};

// A chart to queue.
struct JobSpec {
  // Required, at most 256 bytes. With the digest, the job's identity:
  // queueing the same (chart_id, digest) again is a no-op.
  std::string chart_id;
  // Optional, at most 256 bytes.
  std::string patient_id;
  // Where workers read the chart: a path (made absolute by the caller) or a
  // file:// URI. Empty when `sealed_payload` is given.
  std::string ref;
  // ChartDigest (chartcoder/result_store.h) of the chart's plaintext; the
  // worker checks it after reading. Required.
  std::string digest;
  // A sealed chart (chartcoder/sealed.h) carried in the queue; empty when
  // `ref` is given. Plain text is refused.
  std::string sealed_payload;
  std::optional<Demographics> demographics;
  // Attempts before the job is dead-lettered; 0 = 5.
  int max_attempts = 0;
};

struct SubmitSummary {
  int64_t queued = 0;      // new jobs
  int64_t duplicates = 0;  // (chart_id, digest) already queued, running or done
};

// A claimed job: the caller holds it until Complete, Fail or Release, or
// until the lease expires.
struct Lease {
  int64_t job_id = 0;
  std::string owner;  // the worker id that claimed it
  int attempt = 0;    // 1 on the first claim
  int max_attempts = 0;
  std::string chart_id;
  std::string patient_id;
  std::string ref;
  std::string digest;
  std::string sealed_payload;
  std::optional<Demographics> demographics;
};

// What an autoscaler watches.
struct QueueStatus {
  int64_t queued = 0;         // waiting to be claimed (including retries not yet due)
  int64_t retry_waiting = 0;  // of those, waiting out a backoff
  int64_t leased = 0;         // being coded (including expired leases)
  int64_t expired_leases = 0;  // leased, but the lease ran out: a worker died
  int64_t done = 0;
  int64_t dead = 0;  // in the dead-letter table
  // Seconds since the oldest unfinished (queued or leased) job was queued; 0
  // when there is none.
  double oldest_age_seconds = 0;
  // Jobs completed in the last 60 seconds, and that per second.
  int64_t done_last_minute = 0;
  double throughput_per_second = 0;
  int schema_version = 0;
};

struct DeadLetter {
  int64_t job_id = 0;
  std::string chart_id;
  std::string patient_id;
  std::string ref;
  int attempts = 0;
  std::string error;    // the last attempt's error
  std::string dead_at;  // RFC 3339 UTC
};

struct RetryPolicy {
  // Delay before the second attempt; each later one doubles, up to
  // max_delay. The actual delay is uniformly random in [delay/2, delay]
  // (jitter), so failing workers do not retry in lockstep.
  absl::Duration base_delay = absl::Seconds(5);
  absl::Duration max_delay = absl::Minutes(10);
};

// A coded job for CompleteBatch: the lease it was claimed under and its
// result (both borrowed for the call).
struct JobCompletion {
  const Lease* lease = nullptr;
  std::string_view result_json;
};

// What CompleteBatch did with one job.
enum class CompleteOutcome {
  kCompleted,      // done; its result stored
  kAlreadyStored,  // done; a result for (chart id, digest) was already stored and kept
  kLeaseLost,      // the lease was no longer ours: nothing written for this job
};

// What Fail did with the job.
enum class FailOutcome {
  kRetrying,      // queued again after a backoff
  kDeadLettered,  // out of attempts: moved to the dead-letter table
  kLeaseLost,     // the lease was no longer ours: nothing changed
};

// A PostgreSQL work queue. Safe for concurrent use (a pool of connections).
// Every method may fail with Unavailable when the database cannot be reached
// (retry later), and FailedPrecondition when the schema is not migrated.
class WorkQueue {
 public:
  // Checks the URL and the TLS policy and connects once. InvalidArgument:
  // bad URL, or a non-verify-full sslmode without allow_insecure;
  // Unavailable: the database cannot be reached or the TLS handshake or
  // certificate check fails.
  static absl::StatusOr<std::unique_ptr<WorkQueue>> Create(const WorkQueueOptions& options);
  ~WorkQueue();

  // Creates or upgrades the schema (idempotent; safe to run concurrently).
  // Returns the schema version. FailedPrecondition when the database is newer
  // than this build.
  absl::StatusOr<int> Migrate() const;
  // FailedPrecondition unless the schema is this build's.
  absl::Status CheckSchema() const;

  // Queues jobs, in one transaction per 500. InvalidArgument names the first
  // bad job by its position (no ids in messages).
  absl::StatusOr<SubmitSummary> Submit(const std::vector<JobSpec>& jobs) const;

  // Claims the job that has waited longest among those due (queued and past
  // their backoff, or leased with an expired lease), for `lease`. nullopt
  // when none is due. A job whose lease expired on its last attempt is
  // dead-lettered instead (with the error of its last failed attempt, if
  // any), in the same statement.
  absl::StatusOr<std::optional<Lease>> Claim(std::string_view owner, absl::Duration lease) const;
  // Claims up to `max_jobs` due jobs in one statement, in the order and under
  // the rules of Claim, each under its own lease (renew, complete, fail or
  // release each one). Jobs another client is claiming at that moment are
  // skipped, not waited for. Empty when none is due. InvalidArgument: no
  // owner, a lease under 1 s, max_jobs outside 1..1000.
  absl::StatusOr<std::vector<Lease>> ClaimBatch(std::string_view owner, absl::Duration lease,
                                                int max_jobs) const;
  // Extends the lease to now + `lease`. False when it is no longer ours.
  absl::StatusOr<bool> Renew(const Lease& lease, absl::Duration duration) const;
  // Renew for up to 1000 leases in one statement (a batch worker renews every
  // job it holds at once): per lease, in order, whether it is still ours.
  // InvalidArgument: a null lease, more than 1000, a duration under 1 s.
  absl::StatusOr<std::vector<bool>> RenewBatch(const std::vector<const Lease*>& leases,
                                               absl::Duration duration) const;
  // In one transaction: stores the result (idempotent by chart id and digest:
  // a result already stored is kept; sealed with `keys` when given) and marks
  // the job done. False when the lease was lost (another worker has the job,
  // or it is done): nothing is written. InvalidArgument: a bad result.
  absl::StatusOr<bool> Complete(const Lease& lease, std::string_view result_json,
                                const KeyProvider* keys = nullptr,
                                std::string_view key_id = "") const;
  // Complete for several jobs in one statement (one transaction, one round
  // trip): each job whose lease still holds is marked done with its result
  // stored (idempotent by chart id and digest); the others are untouched.
  // One outcome per completion, in order. InvalidArgument (nothing is
  // written): a bad result or lease (named by its position), a result the
  // database refuses, the same job twice, more than 1000 jobs.
  absl::StatusOr<std::vector<CompleteOutcome>> CompleteBatch(
      const std::vector<JobCompletion>& completions, const KeyProvider* keys = nullptr,
      std::string_view key_id = "") const;
  // Records a failed attempt: queued again after a backoff, or moved to the
  // dead-letter table with `error`'s message when this was the last attempt.
  absl::StatusOr<FailOutcome> Fail(const Lease& lease, const absl::Status& error,
                                   const RetryPolicy& retry = {}) const;
  // Gives the job back without counting the attempt (a draining worker).
  // False when the lease was already lost.
  absl::StatusOr<bool> Release(const Lease& lease) const;

  absl::StatusOr<QueueStatus> Status() const;
  // The most recent dead letters, newest first.
  absl::StatusOr<std::vector<DeadLetter>> DeadLetters(int limit = 100) const;

 private:
  struct Impl;
  explicit WorkQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Something a worker did, for its log. Never carries chart text or ids.
struct WorkerEvent {
  enum Kind {
    kCompleted,      // job done
    kDuplicate,      // job done, an identical result was already stored
    kFailed,         // attempt failed; retrying
    kDeadLettered,   // attempt failed; out of attempts
    kLeaseLost,      // the lease expired before completion; another worker has it
    kReleased,       // given back while draining
    kDatabaseError,  // the database could not be reached; retrying
    kDatabaseBack,   // reconnected
    kIdleExit,       // queue empty for idle_exit
  } kind;
  int64_t job_id = 0;
  int attempt = 0;
  absl::Status status;  // the error, for failures
  absl::Duration elapsed;
};

struct WorkerOptions {
  // This worker's name in lease_owner; default "<hostname>:<pid>".
  std::string worker_id;
  // Jobs coded at once (one connection and thread each). Default 1.
  int concurrency = 1;
  // Jobs each thread claims in one statement and completes in one
  // statement (1 to 1000). The thread codes them one after another,
  // renewing the leases of all it holds; when stopping, the running chart
  // finishes and the jobs not yet started are released. Larger batches cost
  // the database less per job, but a worker that dies leaves up to `batch`
  // jobs per thread to wait out their lease. Default 1.
  int batch = 1;
  // Lease (visibility timeout); renewed every lease/3 while a chart is
  // coded. Default 60 s.
  absl::Duration lease = absl::Seconds(60);
  // Pause between claims when the queue is empty. Default 500 ms.
  absl::Duration poll_interval = absl::Milliseconds(500);
  // Return when the queue has had nothing due for this long; zero = never.
  absl::Duration idle_exit = absl::ZeroDuration();
  // Once stop is set, how long a running chart may take before its job is
  // released. Default 30 s.
  absl::Duration drain_timeout = absl::Seconds(30);
  // How long to keep retrying while the database is unreachable before
  // returning Unavailable. Default 5 minutes.
  absl::Duration database_retry_limit = absl::Minutes(5);
  RetryPolicy retry;
  // Keys for sealed charts and for sealing results (not owned; may be null).
  const KeyProvider* keys = nullptr;
  // Seal results (needs keys). Default: when keys are given.
  bool seal_results = true;
  std::string key_id;
  // Largest chart read, in bytes. Default 64 MiB.
  size_t max_chart_bytes = 64 << 20;
  // Stop after this many jobs (0 = no limit).
  int64_t max_jobs = 0;
  // Called for each event, from worker threads (serialized). May be empty.
  std::function<void(const WorkerEvent&)> on_event;
};

struct WorkerStats {
  int64_t completed = 0;
  int64_t duplicates = 0;
  int64_t failed = 0;
  int64_t dead_lettered = 0;
  int64_t leases_lost = 0;
  int64_t released = 0;
};

// Reads the chart a lease names: the sealed payload, or the file at `ref`,
// decrypted with `keys`, and checks its digest. NotFound, DataLoss (digest
// mismatch: the chart changed since it was queued), InvalidArgument (a
// reference scheme this build cannot read), codes of ReadChart.
absl::StatusOr<ChartJob> LoadLeasedChart(const Lease& lease, const KeyProvider* keys,
                                         size_t max_chart_bytes);

// Claims, codes and completes jobs until `stop` is set (then it drains:
// finishes the running charts, or releases them after drain_timeout), the
// queue stays empty for idle_exit, or max_jobs are done. Database outages
// are ridden out for database_retry_limit. Returns the counts, or
// Unavailable when the database stayed away, or InvalidArgument for bad
// options.
absl::StatusOr<WorkerStats> RunWorker(const WorkQueue& queue,
                                      std::shared_ptr<const ChartProcessor> processor,
                                      const WorkerOptions& options,
                                      const std::atomic<bool>* stop);

// The Prometheus text exposition of `status` (chartcoder_queue_jobs{state=...},
// chartcoder_queue_oldest_job_age_seconds, ...).
std::string QueueStatusPrometheus(const QueueStatus& status);
// One JSON object with every field of `status`.
std::string QueueStatusJson(const QueueStatus& status);

}  // namespace chartcoder

#endif  // CHARTCODER_WORK_QUEUE_H_
