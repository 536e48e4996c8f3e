#include "src/internal/sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "src/internal/strings.h"

namespace chartcoder::internal {

absl::Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_errcode(db);
  std::string text = StrCat(what, ": ", sqlite3_errmsg(db));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(text);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(text);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::FailedPreconditionError(text);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::InternalError(text);
  }
}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

absl::StatusOr<SqliteDb> SqliteDb::Open(const std::string& path, std::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(StrCat(what, ": needs a file path"));
  // The database holds PHI or secrets' digests: create the file private
  // before SQLite opens it (the -wal and -shm files take the same mode).
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        StrCat(what, ": cannot open ", path, ": ", std::strerror(errno)));
  }
  ::close(fd);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, StrCat(what, ": cannot open ", path));
  sqlite3_busy_timeout(raw, 10000);
  absl::Status s = db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                           StrCat(what, ": ", path, " is not a usable SQLite database"));
  if (!s.ok()) return s;
  return db;
}

absl::Status SqliteDb::Exec(const char* sql, std::string_view what) const {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db_, what);
  return absl::OkStatus();
}

std::string SqlitePath(std::string_view location) {
  if (location.rfind("sqlite:", 0) == 0) location.remove_prefix(7);
  return std::string(location);
}

}  // namespace chartcoder::internal
