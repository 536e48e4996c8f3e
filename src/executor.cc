#include "chartcoder/executor.h"

#include "chartcoder/result.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "src/internal/strings.h"

namespace chartcoder {

// ---------------------------------------------------------------------------
// ThreadPoolExecutor

struct ThreadPoolExecutor::State {
  struct Item {
    uint64_t sequence;
    ChartJob job;
    JobCallback done;
  };

  std::shared_ptr<const ChartProcessor> processor;
  size_t capacity = 0;
  std::vector<std::thread> threads;

  mutable std::mutex mu;
  std::condition_variable not_empty;  // workers wait for items or closing
  std::condition_variable not_full;   // Submit waits for room
  std::condition_variable idle;       // Drain waits for in_flight == 0
  std::deque<Item> queue;
  uint64_t next_sequence = 0;
  size_t in_flight = 0;  // queued + running
  bool closed = false;   // no more Submit
  std::atomic<uint64_t> completed{0};

  void Work() {
    while (true) {
      Item item;
      {
        std::unique_lock<std::mutex> lock(mu);
        not_empty.wait(lock, [&] { return !queue.empty() || closed; });
        if (queue.empty()) return;  // closed and nothing left
        item = std::move(queue.front());
        queue.pop_front();
        not_full.notify_one();
      }
      JobOutcome outcome;
      outcome.sequence = item.sequence;
      outcome.result = processor->Process(item.job);
      outcome.id = std::move(item.job.id);
      outcome.patient_id = std::move(item.job.patient_id);
      item.job.chart.clear();
      item.job.chart.shrink_to_fit();
      item.done(std::move(outcome));
      Finished();
    }
  }

  void Finished() {
    completed.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (--in_flight == 0) idle.notify_all();
  }

  // Closes, then waits until nothing is in flight and the threads are gone.
  void CloseAndJoin() {
    {
      std::unique_lock<std::mutex> lock(mu);
      closed = true;
      not_empty.notify_all();
      not_full.notify_all();
      idle.wait(lock, [&] { return in_flight == 0; });
    }
    for (std::thread& t : threads) {
      if (t.joinable()) t.join();
    }
  }
};

absl::StatusOr<std::unique_ptr<ThreadPoolExecutor>> ThreadPoolExecutor::Create(
    const ThreadPoolOptions& options) {
  if (options.processor == nullptr) {
    return absl::InvalidArgumentError("ThreadPoolExecutor needs a processor");
  }
  int threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads < 0 || threads > 1024) {
    return absl::InvalidArgumentError(
        internal::StrCat("threads must be 0 (one per core) to 1024, not ", options.threads));
  }
  auto state = std::make_unique<State>();
  state->processor = options.processor;
  state->capacity = options.queue_capacity == 0 ? 2 * static_cast<size_t>(threads)
                                                : options.queue_capacity;
  State* s = state.get();
  state->threads.reserve(threads);
  for (int i = 0; i < threads; ++i) state->threads.emplace_back([s] { s->Work(); });
  return std::unique_ptr<ThreadPoolExecutor>(new ThreadPoolExecutor(std::move(state)));
}

ThreadPoolExecutor::ThreadPoolExecutor(std::unique_ptr<State> state) : state_(std::move(state)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { Cancel(); }

absl::Status ThreadPoolExecutor::Submit(ChartJob job, JobCallback done) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.not_full.wait(lock, [&] { return s.queue.size() < s.capacity || s.closed; });
  if (s.closed) {
    return absl::FailedPreconditionError("the executor is draining or cancelled: no new jobs");
  }
  s.queue.push_back(State::Item{s.next_sequence++, std::move(job), std::move(done)});
  ++s.in_flight;
  s.not_empty.notify_one();
  return absl::OkStatus();
}

absl::Status ThreadPoolExecutor::Drain() {
  state_->CloseAndJoin();
  return absl::OkStatus();
}

void ThreadPoolExecutor::Cancel() {
  State& s = *state_;
  std::deque<State::Item> dropped;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.closed = true;
    dropped.swap(s.queue);
    s.not_empty.notify_all();
    s.not_full.notify_all();
  }
  for (State::Item& item : dropped) {
    JobOutcome outcome;
    outcome.sequence = item.sequence;
    outcome.id = std::move(item.job.id);
    outcome.patient_id = std::move(item.job.patient_id);
    outcome.result = absl::CancelledError("the executor was cancelled before this job started");
    item.done(std::move(outcome));
    s.Finished();
  }
  s.CloseAndJoin();
}

int ThreadPoolExecutor::threads() const { return static_cast<int>(state_->threads.size()); }

uint64_t ThreadPoolExecutor::completed() const {
  return state_->completed.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// InOrderDelivery

struct InOrderDelivery::State {
  JobCallback deliver;
  std::mutex mu;
  uint64_t next = 0;
  std::map<uint64_t, JobOutcome> waiting;
  bool delivering = false;
  std::atomic<uint64_t> delivered{0};
};

InOrderDelivery::InOrderDelivery(JobCallback deliver) : state_(std::make_shared<State>()) {
  state_->deliver = std::move(deliver);
}

InOrderDelivery::~InOrderDelivery() = default;

JobCallback InOrderDelivery::Callback() {
  std::shared_ptr<State> s = state_;
  return [s](JobOutcome outcome) {
    std::unique_lock<std::mutex> lock(s->mu);
    const uint64_t seq = outcome.sequence;
    s->waiting.emplace(seq, std::move(outcome));
    // One thread delivers at a time; the others leave their outcome behind.
    if (s->delivering) return;
    s->delivering = true;
    while (!s->waiting.empty() && s->waiting.begin()->first == s->next) {
      JobOutcome ready = std::move(s->waiting.begin()->second);
      s->waiting.erase(s->waiting.begin());
      ++s->next;
      lock.unlock();
      s->deliver(std::move(ready));
      s->delivered.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
    }
    s->delivering = false;
  };
}

uint64_t InOrderDelivery::delivered() const {
  return state_->delivered.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// RunAll

absl::StatusOr<std::vector<JobOutcome>> RunAll(Executor& executor, std::vector<ChartJob> jobs) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    size_t remaining = 0;
    std::vector<JobOutcome> outcomes;
  };
  auto shared = std::make_shared<Shared>();
  shared->outcomes.resize(jobs.size());
  shared->remaining = jobs.size();
  size_t submitted = 0;
  absl::Status status;
  for (size_t i = 0; i < jobs.size(); ++i) {
    status = executor.Submit(std::move(jobs[i]), [shared, i](JobOutcome o) {
      std::lock_guard<std::mutex> lock(shared->mu);
      o.sequence = i;
      shared->outcomes[i] = std::move(o);
      if (--shared->remaining == 0) shared->cv.notify_all();
    });
    if (!status.ok()) break;
    ++submitted;
  }
  std::unique_lock<std::mutex> lock(shared->mu);
  // Jobs never submitted will not call back.
  shared->remaining -= jobs.size() - submitted;
  shared->cv.wait(lock, [&] { return shared->remaining == 0; });
  if (!status.ok()) return status;
  return std::move(shared->outcomes);
}

absl::StatusOr<std::string> PipelineProcessor::Process(const ChartJob& job) const {
  if (job.id.empty()) return absl::InvalidArgumentError("a chart without an id");
  absl::StatusOr<ChartResult> r =
      pipeline_->Code(job.id, job.chart, job.demographics ? &*job.demographics : nullptr);
  if (!r.ok()) return r.status();
  return ChartResultJson(*r);
}

}  // namespace chartcoder
