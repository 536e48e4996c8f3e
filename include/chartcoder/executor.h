// chartcoder/executor.h: running coding jobs: the unit of work (a chart and
// its id in, a result JSON object or an error out), the processor that does
// it, and executors that move jobs to processors.
//
//   auto pool = chartcoder::ThreadPoolExecutor::Create({.processor = processor, .threads = 4});
//   if (!pool.ok()) return pool.status();
//   for (chartcoder::ChartJob& job : jobs) {
//     CC_RETURN_IF_ERROR((*pool)->Submit(std::move(job), [](chartcoder::JobOutcome o) {
//       if (o.result.ok()) Write(*o.result); else Report(o.id, o.result.status());
//     }));
//   }
//   CC_RETURN_IF_ERROR((*pool)->Drain());
//
// The same ChartProcessor runs in-process (ThreadPoolExecutor, the default
// of `chartcoder code`), in queue workers (chartcoder/work_queue.h) and in
// the AWS Lambda runtime (chartcoder/lambda_runtime.h).
#ifndef CHARTCODER_EXECUTOR_H_
#define CHARTCODER_EXECUTOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/hcc.h"
#include "chartcoder/pipeline.h"

namespace chartcoder {

// One chart to code. Plain values.
struct ChartJob {
  // The chart's id; results are keyed by it. Required.
  std::string id;
  // The patient (member) id, for results by patient. Optional.
  std::string patient_id;
  // The chart text, UTF-8, already read and (if it was sealed) decrypted.
  std::string chart;
  // Demographics for the RAF score. Optional.
  std::optional<Demographics> demographics;
};

// Codes one chart. Implementations are immutable and safe for concurrent
// use: executors call Process from many threads at once.
class ChartProcessor {
 public:
  virtual ~ChartProcessor() = default;
  // The result as one JSON object (no trailing newline), or the error that
  // kept the chart from being coded (InvalidArgument for a chart that is not
  // valid UTF-8 or has no id; other codes as the processor documents).
  virtual absl::StatusOr<std::string> Process(const ChartJob& job) const = 0;
};

// A ChartProcessor around a function (which must be safe to call
// concurrently).
class FunctionProcessor final : public ChartProcessor {
 public:
  using Fn = std::function<absl::StatusOr<std::string>(const ChartJob&)>;
  explicit FunctionProcessor(Fn fn) : fn_(std::move(fn)) {}
  absl::StatusOr<std::string> Process(const ChartJob& job) const override { return fn_(job); }

 private:
  Fn fn_;
};

// The chart pipeline as a processor: the chart is coded by
// Pipeline::Code (RAF with the job's demographics) and written as one JSON
// Lines record (chartcoder/result.h, ChartResultJson). This is what `chartcoder
// code`, the queue worker and the Lambda runtime run. Immutable; safe for
// concurrent use.
class PipelineProcessor final : public ChartProcessor {
 public:
  explicit PipelineProcessor(std::shared_ptr<const Pipeline> pipeline)
      : pipeline_(std::move(pipeline)) {}
  // InvalidArgument: no id, invalid UTF-8 (byte offset named) or bad
  // demographics; ResourceExhausted: a chart over the pipeline's size limit.
  absl::StatusOr<std::string> Process(const ChartJob& job) const override;
  const Pipeline& pipeline() const { return *pipeline_; }

 private:
  std::shared_ptr<const Pipeline> pipeline_;
};

// What became of one submitted job.
struct JobOutcome {
  // 0 for the first job submitted to an executor, then 1, 2, ...
  uint64_t sequence = 0;
  std::string id;
  std::string patient_id;
  // The processor's answer; Cancelled when the job was dropped by Cancel()
  // before it started.
  absl::StatusOr<std::string> result;
};

using JobCallback = std::function<void(JobOutcome outcome)>;

// Runs coding jobs. Thread-safe.
class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `job`; `done` is called exactly once with its outcome, on some
  // executor thread (so it must be thread-safe), possibly before Submit
  // returns. Blocks while the executor's queue is full. FailedPrecondition
  // after Drain() or Cancel() (and then `done` is not called).
  virtual absl::Status Submit(ChartJob job, JobCallback done) = 0;
  // Stops taking jobs and waits until every submitted job's callback has
  // returned. Idempotent.
  virtual absl::Status Drain() = 0;
  // Stops taking jobs, drops the queued ones (their callbacks get Cancelled)
  // and waits for the running ones to finish. Idempotent.
  virtual void Cancel() = 0;
};

struct ThreadPoolOptions {
  // Codes the charts. Required; shared with the caller.
  std::shared_ptr<const ChartProcessor> processor;
  // Worker threads; 0 = one per available core. At most 1024.
  int threads = 0;
  // Jobs waiting for a thread before Submit blocks; 0 = 2 * threads.
  size_t queue_capacity = 0;
};

// A fixed pool of threads over a bounded queue (backpressure: Submit blocks
// when it is full, so memory stays bounded however many charts are fed).
// Thread-safe. The destructor cancels (see Executor::Cancel).
class ThreadPoolExecutor final : public Executor {
 public:
  // InvalidArgument: no processor, threads out of range.
  static absl::StatusOr<std::unique_ptr<ThreadPoolExecutor>> Create(
      const ThreadPoolOptions& options);
  ~ThreadPoolExecutor() override;

  absl::Status Submit(ChartJob job, JobCallback done) override;
  absl::Status Drain() override;
  void Cancel() override;

  int threads() const;
  // Jobs whose callback has returned.
  uint64_t completed() const;

 private:
  struct State;
  explicit ThreadPoolExecutor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Delivers outcomes in submission order: wrap an Executor's callbacks with
// it when output must follow input order (`chartcoder code` writes JSON
// Lines in input order). An outcome waits until every earlier one has been
// delivered; `deliver` runs on executor threads, one call at a time. Memory
// is bounded by the executor's queue and thread count. Thread-safe.
class InOrderDelivery {
 public:
  explicit InOrderDelivery(JobCallback deliver);
  ~InOrderDelivery();
  InOrderDelivery(const InOrderDelivery&) = delete;
  InOrderDelivery& operator=(const InOrderDelivery&) = delete;

  // The callback to pass to Executor::Submit for every job, in submission
  // order (sequence numbers must start at 0 and have no gaps).
  JobCallback Callback();
  // Outcomes delivered so far.
  uint64_t delivered() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Runs `jobs` on `executor` and returns the outcomes in input order. For
// batches that fit in memory (a Lambda batch, tests); codes of Submit/Drain.
absl::StatusOr<std::vector<JobOutcome>> RunAll(Executor& executor, std::vector<ChartJob> jobs);

}  // namespace chartcoder

#endif  // CHARTCODER_EXECUTOR_H_
