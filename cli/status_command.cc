// chartcoder status --db URL: what the queue holds, for people and autoscalers.
#include <cstdio>

#include "chartcoder/work_queue.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"

namespace chartcoder::cli {
namespace {

int RunStatus(const CommandLine& args) {
  if (!args.positional().empty()) return UsageError("status", "takes no arguments");
  if (args.Has("json") && args.Has("prometheus")) {
    return UsageError("status", "give --json or --prometheus, not both");
  }
  absl::StatusOr<std::unique_ptr<WorkQueue>> queue = OpenQueue(args);
  if (!queue.ok()) {
    return absl::IsInvalidArgument(queue.status()) ? UsageError("status", queue.status())
                                                   : Fail(queue.status());
  }
  absl::StatusOr<QueueStatus> s = (*queue)->Status();
  if (!s.ok()) return Fail(s.status());
  if (args.Has("json")) {
    std::printf("%s\n", QueueStatusJson(*s).c_str());
  } else if (args.Has("prometheus")) {
    std::printf("%s", QueueStatusPrometheus(*s).c_str());
  } else {
    std::printf(
        "queued      %lld (%lld waiting to retry)\n"
        "leased      %lld (%lld expired)\n"
        "done        %lld\n"
        "dead        %lld\n"
        "oldest job  %.1f s\n"
        "throughput  %.2f jobs/s over the last minute (%lld jobs)\n",
        static_cast<long long>(s->queued), static_cast<long long>(s->retry_waiting),
        static_cast<long long>(s->leased), static_cast<long long>(s->expired_leases),
        static_cast<long long>(s->done), static_cast<long long>(s->dead), s->oldest_age_seconds,
        s->throughput_per_second, static_cast<long long>(s->done_last_minute));
  }
  return kExitOk;
}

}  // namespace

const Command& StatusCommand() {
  static const Command* const kCommand = new Command{
      "status", "queue depth, leases, done, dead letters, throughput, oldest job age",
      "Usage: chartcoder status --db URL [--json | --prometheus]\n\n"
      "Counts the queue's jobs by state (queued, leased, done; dead = in the dead-letter\n"
      "table), the jobs done in the last minute, and the age of the oldest unfinished job:\n"
      "scale workers out when queued or the oldest age grows, in when queued stays 0.\n"
      "--json prints one object (queued, leased, done and dead as integers); --prometheus\n"
      "the text exposition format for a node-exporter textfile or a push gateway.",
      Concat({DbFlags(),
              {{"json", "", "one JSON object"}, {"prometheus", "", "Prometheus text format"}}}),
      &RunStatus};
  return *kCommand;
}

}  // namespace chartcoder::cli
