// chartcoder db migrate|dead-letters: manage the work queue's database.
#include <cstdio>

#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "cli/db_flags.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

int RunDb(const CommandLine& args) {
  if (args.positional().size() != 1) return UsageError("db", "give one action: migrate or dead-letters");
  const std::string& action = args.positional()[0];
  if (action != "migrate" && action != "dead-letters") {
    return UsageError("db", "unknown action '" + action + "' (migrate, dead-letters)");
  }
  absl::StatusOr<long long> limit = args.GetInt("limit", 100, 1, 100000);
  if (!limit.ok()) return UsageError("db", limit.status());
  absl::StatusOr<std::unique_ptr<WorkQueue>> queue = OpenQueue(args);
  if (!queue.ok()) {
    return absl::IsInvalidArgument(queue.status()) ? UsageError("db", queue.status())
                                                   : Fail(queue.status());
  }
  if (action == "migrate") {
    absl::StatusOr<int> version = (*queue)->Migrate();
    if (!version.ok()) return Fail(version.status());
    std::printf("schema at version %d\n", *version);
    return kExitOk;
  }
  absl::StatusOr<std::vector<DeadLetter>> dead = (*queue)->DeadLetters(static_cast<int>(*limit));
  if (!dead.ok()) return Fail(dead.status());
  for (const DeadLetter& d : *dead) {
    if (args.Has("json")) {
      std::string out;
      internal::JsonWriter w(&out);
      w.BeginObject();
      w.Field("job_id", d.job_id);
      w.Field("chart_id", d.chart_id);
      w.Field("patient_id", d.patient_id);
      w.Field("ref", d.ref);
      w.Field("attempts", d.attempts);
      w.Field("error", d.error);
      w.Field("dead_at", d.dead_at);
      w.EndObject();
      std::printf("%s\n", out.c_str());
    } else {
      std::printf("%lld\t%s\t%d attempts\t%s\t%s\n", static_cast<long long>(d.job_id),
                  d.chart_id.c_str(), d.attempts, d.dead_at.c_str(), d.error.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

const Command& DbCommand() {
  static const Command* const kCommand = new Command{
      "db", "work queue database: migrate the schema, list dead letters",
      "Usage: chartcoder db migrate --db URL\n"
      "       chartcoder db dead-letters --db URL [--json] [--limit N]\n\n"
      "migrate creates or upgrades the work queue's tables (jobs, results, dead letters) to\n"
      "this chartcoder's schema version; it is idempotent and safe to run from several\n"
      "machines at once. dead-letters lists the jobs that ran out of attempts, newest\n"
      "first, with their last error. --db may also come from $CHARTCODER_DB.",
      Concat({DbFlags(),
              {{"json", "", "dead-letters: one JSON object per line"},
               {"limit", "N", "dead-letters: at most N (default 100)"}}}),
      &RunDb};
  return *kCommand;
}

}  // namespace chartcoder::cli
