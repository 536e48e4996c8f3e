// Small RAII helpers over the SQLite C API shared by the SQLite result store
// and the SQLite token store: opening a private database file in WAL mode,
// prepared statements, and result codes mapped to status codes.
//
//   CC_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(path, "SQLite token store"));
//   SqliteStatement st(db.get(), "SELECT scope FROM cc_api_tokens WHERE id = ?1");
//   st.Text(1, id);
//   if (sqlite3_step(st.get()) == SQLITE_ROW) { std::string scope = st.Column(0); }
#ifndef CHARTCODER_SRC_INTERNAL_SQLITE_H_
#define CHARTCODER_SRC_INTERNAL_SQLITE_H_

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chartcoder::internal {

// A prepared statement; finalized when it dies. One per thread.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }
  void Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Null(int i) { sqlite3_bind_null(stmt_, i); }
  // The bytes of column `i` of the current row ("" for NULL).
  std::string Column(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }
  bool IsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

// The last error of `db` as a status: "<what>: <SQLite's message>", coded
// Unavailable (busy, locked), DataLoss (corrupt, not a database),
// FailedPrecondition (cannot open, read-only, permission), ResourceExhausted
// (disk full), Internal otherwise.
absl::Status SqliteError(sqlite3* db, std::string_view what);

// An open database connection (serialized mode: one connection may be used
// from several threads, one statement at a time); closed when it dies.
class SqliteDb {
 public:
  // Opens `path`, creating it readable and writable by the owner only (0600)
  // when it does not exist, in WAL mode with synchronous=NORMAL and a 10 s
  // busy timeout. `what` names the database in errors ("SQLite result
  // store"). FailedPrecondition when the file cannot be created or opened;
  // codes of SqliteError when it is not a usable database.
  static absl::StatusOr<SqliteDb> Open(const std::string& path, std::string_view what);

  SqliteDb() = default;
  SqliteDb(SqliteDb&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  sqlite3* get() const { return db_; }
  // Runs SQL statements without parameters; codes of SqliteError.
  absl::Status Exec(const char* sql, std::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// The file path of a SQLite location: "sqlite:PATH" -> PATH; a path ending
// in .db, .sqlite or .sqlite3 is returned as is.
std::string SqlitePath(std::string_view location);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_SQLITE_H_
