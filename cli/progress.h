// A one-line progress bar on stderr, drawn only when stderr is a terminal and
// at most ten times a second.
#ifndef CHARTCODER_CLI_PROGRESS_H_
#define CHARTCODER_CLI_PROGRESS_H_

#include <chrono>
#include <cstddef>
#include <cstdio>

namespace chartcoder::cli {

class Progress {
 public:
  // `total` 0 means unknown (a count is shown instead of a bar).
  Progress(const char* noun, size_t total, bool enabled)
      : noun_(noun), total_(total), enabled_(enabled), start_(Clock::now()), last_(start_) {}

  void Update(size_t done, size_t bytes, size_t failed) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done != total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double mbps = secs > 0 ? bytes / 1e6 / secs : 0;
    if (total_ > 0) {
      constexpr int kWidth = 30;
      char bar[kWidth + 1];
      const int filled = static_cast<int>(kWidth * done / total_);
      for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : ' ';
      bar[kWidth] = '\0';
      std::fprintf(stderr, "\r[%s] %zu/%zu %s  %.1f MB/s%s", bar, done, total_, noun_, mbps,
                   failed ? "  (some failed)" : "");
    } else {
      std::fprintf(stderr, "\r%zu %s  %.1f MB/s%s", done, noun_, mbps,
                   failed ? "  (some failed)" : "");
    }
    std::fflush(stderr);
    drawn_ = true;
  }

  void Finish() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\n");
  }

 private:
  using Clock = std::chrono::steady_clock;
  const char* noun_;
  size_t total_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_;
  Clock::time_point last_;
};

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_PROGRESS_H_
