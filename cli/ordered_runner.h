// Runs work items on several threads and hands their results on in input
// order, holding at most a window of items in memory (charts stream through).
//
//   RunOrdered<Item, Result>(threads, 4 * threads,
//       [&](Item* item) { return reader.Next(item); },      // produce (one thread)
//       [&](Item& item) { return Code(item); },             // work (any thread)
//       [&](Item& item, Result& r) { Write(item, r); });    // consume (in order)
#ifndef CHARTCODER_CLI_ORDERED_RUNNER_H_
#define CHARTCODER_CLI_ORDERED_RUNNER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace chartcoder::cli {

template <typename Item, typename Result>
void RunOrdered(int threads, size_t window, const std::function<bool(Item*)>& next,
                const std::function<Result(Item&)>& work,
                const std::function<void(Item&, Result&)>& consume) {
  struct Slot {
    Item item;
    std::optional<Result> result;
    bool taken = false;
  };
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Slot> slots;  // front is the oldest item not yet consumed
  bool input_done = false;
  if (threads < 1) threads = 1;
  if (window < static_cast<size_t>(threads)) window = threads;

  auto worker = [&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      Slot* slot = nullptr;
      for (Slot& s : slots) {
        if (!s.taken) {
          slot = &s;
          break;
        }
      }
      if (slot == nullptr) {
        if (input_done) return;
        changed.wait(lock);
        continue;
      }
      slot->taken = true;
      lock.unlock();
      Result r = work(slot->item);  // deque references stay valid: only front pops
      lock.lock();
      slot->result.emplace(std::move(r));
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker);

  std::unique_lock<std::mutex> lock(mu);
  while (true) {
    // Consume finished items in order.
    while (!slots.empty() && slots.front().result.has_value()) {
      Slot s = std::move(slots.front());
      slots.pop_front();
      lock.unlock();
      consume(s.item, *s.result);
      lock.lock();
      changed.notify_all();
    }
    if (input_done) {
      if (slots.empty()) break;
      changed.wait(lock);
      continue;
    }
    if (slots.size() < window) {
      Item item;
      lock.unlock();
      const bool more = next(&item);
      lock.lock();
      if (more) {
        slots.push_back(Slot{std::move(item), std::nullopt, false});
      } else {
        input_done = true;
      }
      changed.notify_all();
      continue;
    }
    changed.wait(lock);
  }
  lock.unlock();
  changed.notify_all();
  for (std::thread& t : pool) t.join();
}

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_ORDERED_RUNNER_H_
