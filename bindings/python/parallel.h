// Runs work items on several threads and hands the results to the calling
// thread in index order, holding at most `window` finished-or-running items.
// The binding releases the GIL around it; `consume` takes the GIL back to
// build Python objects while the other threads go on working.
//
//   RunInOrder<Coded>(texts.size(), threads, 4 * threads,
//       [&](size_t i) { return CodeOne(i); },                  // any thread, no GIL
//       [&](size_t i, Coded& c) { Append(i, c); return true; }, // calling thread, in order
//       [&] { return CheckSignals(); });                        // while waiting, now and then
#ifndef CHARTCODER_BINDINGS_PYTHON_PARALLEL_H_
#define CHARTCODER_BINDINGS_PYTHON_PARALLEL_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace chartcoder::python {

// `work(i)` for every i in [0, n) on up to `threads` threads; `consume(i, r)`
// on the calling thread in order of i, while the threads go on working (so
// with one thread too, unless there is a single item); it returns false to stop early (the
// items not yet started are skipped). `poll()` runs on the calling thread
// every `poll_interval` while it waits for a result, and stops the run by
// returning false. An exception from any of the three stops the run: the
// threads are joined and the first exception is rethrown to the caller.
template <typename R>
void RunInOrder(size_t n, int threads, size_t window, const std::function<R(size_t)>& work,
                const std::function<bool(size_t, R&)>& consume, const std::function<bool()>& poll,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100)) {
  if (n == 0) return;
  const size_t workers = std::clamp<size_t>(threads < 1 ? 1 : threads, 1, n);
  if (n == 1) {  // nothing to overlap
    if (!poll()) return;
    R r = work(0);
    consume(0, r);
    return;
  }
  window = std::max(window, workers);

  std::mutex mu;
  std::condition_variable ready;  // the calling thread waits for ring[consumed % window]
  std::condition_variable space;  // workers wait for a free slot
  std::vector<std::optional<R>> ring(window);
  size_t next = 0;      // next index to start
  size_t consumed = 0;  // indices below this were consumed
  bool stop = false;
  std::exception_ptr worker_error;

  auto run_worker = [&] {
    while (true) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        space.wait(lock, [&] { return stop || next >= n || next < consumed + window; });
        if (stop || next >= n) return;
        i = next++;
      }
      std::optional<R> r;
      std::exception_ptr error;
      try {
        r.emplace(work(i));
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (error) {
          if (!worker_error) worker_error = error;
          stop = true;
        } else {
          ring[i % window] = std::move(r);
        }
      }
      ready.notify_one();
      if (error) {
        space.notify_all();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (size_t t = 0; t < workers; ++t) pool.emplace_back(run_worker);

  std::exception_ptr error;
  try {
    for (size_t i = 0; i < n; ++i) {
      std::optional<R> r;
      bool go = true;
      {
        std::unique_lock<std::mutex> lock(mu);
        while (!ring[i % window].has_value() && !worker_error) {
          if (ready.wait_for(lock, poll_interval) == std::cv_status::timeout) {
            lock.unlock();
            go = poll();
            lock.lock();
            if (!go) break;
          }
        }
        if (go && !worker_error) {
          r = std::move(ring[i % window]);
          ring[i % window].reset();
          consumed = i + 1;
        }
      }
      if (!go || !r) break;
      space.notify_all();
      if (!consume(i, *r)) break;
    }
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    if (!error) error = worker_error;
  }
  space.notify_all();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace chartcoder::python

#endif  // CHARTCODER_BINDINGS_PYTHON_PARALLEL_H_
