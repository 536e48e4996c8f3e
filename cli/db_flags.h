// Flags shared by the commands that use the work queue or the result store:
// --db URL (or $CHARTCODER_DB) and --insecure-db.
#ifndef CHARTCODER_CLI_DB_FLAGS_H_
#define CHARTCODER_CLI_DB_FLAGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/work_queue.h"
#include "cli/cli.h"

namespace chartcoder::cli {

inline constexpr char kDbEnvVar[] = "CHARTCODER_DB";

// --db URL and --insecure-db.
std::vector<FlagSpec> DbFlags();
// --db, else $CHARTCODER_DB; InvalidArgument when neither is set.
absl::StatusOr<std::string> DbUrl(const CommandLine& args);
// WorkQueue::Create with the flags.
absl::StatusOr<std::unique_ptr<WorkQueue>> OpenQueue(const CommandLine& args);

// --db and --insecure-db for the commands whose database may also be a local
// SQLite file (`serve`, `tokens`).
std::vector<FlagSpec> StoreFlags();
// Where results and tokens are: --db, else $CHARTCODER_DB, else
// sqlite:$XDG_DATA_HOME/chartcoder/chartcoder.db (~/.local/share when
// XDG_DATA_HOME is unset), whose folder is created (0700) when missing.
// FailedPrecondition when there is no home folder or the folder cannot be made.
absl::StatusOr<std::string> StoreLocation(const CommandLine& args);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_DB_FLAGS_H_
