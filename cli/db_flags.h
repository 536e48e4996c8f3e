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

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_DB_FLAGS_H_
