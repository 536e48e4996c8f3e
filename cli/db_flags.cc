#include "cli/db_flags.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "src/internal/strings.h"

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

std::vector<FlagSpec> StoreFlags() {
  return {{"db", "URL",
           "results and tokens: sqlite:PATH (or a .db file) or a PostgreSQL URL (default: "
           "$CHARTCODER_DB, else sqlite:~/.local/share/chartcoder/chartcoder.db)"},
          {"insecure-db", "",
           "PostgreSQL: allow an sslmode other than verify-full (plaintext or unverified)"}};
}

absl::StatusOr<std::string> StoreLocation(const CommandLine& args) {
  std::string url = args.Get("db");
  if (url.empty()) {
    const char* env = std::getenv(kDbEnvVar);
    if (env != nullptr) url = env;
  }
  if (!url.empty()) return url;
  std::filesystem::path dir;
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    dir = std::filesystem::path(xdg) / "chartcoder";
  } else if (home != nullptr && home[0] != '\0') {
    dir = std::filesystem::path(home) / ".local" / "share" / "chartcoder";
  } else {
    return absl::FailedPreconditionError(
        "no database: pass --db URL or set $CHARTCODER_DB (there is no $HOME for the default)");
  }
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        internal::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  if (created) ::chmod(dir.c_str(), 0700);
  return "sqlite:" + (dir / "chartcoder.db").string();
}

}  // namespace chartcoder::cli
