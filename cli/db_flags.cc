#include "cli/db_flags.h"

#include <cstdlib>

namespace chartcoder::cli {

std::vector<FlagSpec> DbFlags() {
  return {{"db", "URL",
           "PostgreSQL connection string or postgresql:// URI (default: $CHARTCODER_DB); TLS "
           "with sslmode=verify-full unless --insecure-db"},
          {"insecure-db", "", "allow an sslmode other than verify-full (plaintext or unverified)"}};
}

absl::StatusOr<std::string> DbUrl(const CommandLine& args) {
  std::string url = args.Get("db");
  if (url.empty()) {
    const char* env = std::getenv(kDbEnvVar);
    if (env != nullptr) url = env;
  }
  if (url.empty()) {
    return absl::InvalidArgumentError("no database: pass --db URL or set $CHARTCODER_DB");
  }
  return url;
}

absl::StatusOr<std::unique_ptr<WorkQueue>> OpenQueue(const CommandLine& args) {
  absl::StatusOr<std::string> url = DbUrl(args);
  if (!url.ok()) return url.status();
  WorkQueueOptions o;
  o.url = *url;
  o.allow_insecure = args.Has("insecure-db");
  return WorkQueue::Create(o);
}

}  // namespace chartcoder::cli
