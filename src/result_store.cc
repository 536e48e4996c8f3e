#include "chartcoder/result_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "src/internal/pg.h"
#include "src/internal/pg_schema.h"
#include "src/internal/result_codec.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::EncodedResult;
using internal::StrCat;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---------------------------------------------------------------------------
// SQLite: one connection in WAL mode behind a mutex.

constexpr int kSqliteSchemaVersion = 1;

constexpr char kSqliteSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS cc_results (
  id INTEGER PRIMARY KEY,
  chart_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  patient_id TEXT NOT NULL DEFAULT '',
  result_json TEXT,
  result_sealed BLOB,
  key_id TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (chart_id, digest),
  CHECK ((result_json IS NULL) <> (result_sealed IS NULL))
);
CREATE INDEX IF NOT EXISTS cc_results_patient ON cc_results (patient_id) WHERE patient_id <> '';
PRAGMA user_version = 1;
)sql";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }
  void Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Null(int i) { sqlite3_bind_null(stmt_, i); }
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

absl::Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_errcode(db);
  std::string text = StrCat("SQLite result store: ", what, ": ", sqlite3_errmsg(db));
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

class SqliteResultStore final : public ResultStore {
 public:
  static absl::StatusOr<std::unique_ptr<ResultStore>> Open(const ResultStoreOptions& options,
                                                           std::string path) {
    if (path.empty()) return absl::InvalidArgumentError("sqlite: needs a file path");
    // Results are PHI: create the file private before SQLite opens it (the
    // -wal and -shm files take the same mode).
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(
          StrCat("cannot open the result store ", path, ": ", std::strerror(errno)));
    }
    ::close(fd);
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    std::unique_ptr<SqliteResultStore> store(new SqliteResultStore(options, path, db));
    if (rc != SQLITE_OK) return SqliteError(db, StrCat("cannot open ", path));
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr,
                      nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(db, StrCat(path, " is not a usable SQLite database"));
    Statement version(db, "PRAGMA user_version");
    if (!version.ok() || sqlite3_step(version.get()) != SQLITE_ROW) {
      return SqliteError(db, "cannot read the schema version");
    }
    int v = sqlite3_column_int(version.get(), 0);
    if (v > kSqliteSchemaVersion) {
      return absl::FailedPreconditionError(
          StrCat("the result store ", path, " has schema version ", v,
                 ", newer than this chartcoder: upgrade chartcoder"));
    }
    if (v < kSqliteSchemaVersion) {
      rc = sqlite3_exec(db, kSqliteSchema, nullptr, nullptr, &err);
      sqlite3_free(err);
      if (rc != SQLITE_OK) return SqliteError(db, "cannot create the schema");
    }
    return std::unique_ptr<ResultStore>(store.release());
  }

  ~SqliteResultStore() override { sqlite3_close_v2(db_); }

  absl::StatusOr<bool> Put(const ResultRecord& record) const override {
    absl::StatusOr<EncodedResult> e = internal::EncodeResult(record, keys_, key_id_);
    if (!e.ok()) return e.status();
    std::lock_guard<std::mutex> lock(mu_);
    Statement st(db_,
                 "INSERT INTO cc_results (chart_id, digest, patient_id, result_json, "
                 "result_sealed, key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT (chart_id, digest) DO NOTHING");
    if (!st.ok()) return SqliteError(db_, "cannot prepare an insert");
    st.Text(1, e->chart_id);
    st.Text(2, e->digest);
    st.Text(3, e->patient_id);
    if (e->json) st.Text(4, *e->json); else st.Null(4);
    if (e->sealed) st.Blob(5, *e->sealed); else st.Null(5);
    if (e->key_id.empty()) st.Null(6); else st.Text(6, e->key_id);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqliteError(db_, "cannot store a result");
    return sqlite3_changes(db_) == 1;
  }

  absl::StatusOr<std::vector<StoredResult>> GetByChart(std::string_view chart_id) const override {
    return Read("chart_id = ?1 ORDER BY created_at, id", chart_id);
  }

  absl::StatusOr<std::vector<StoredResult>> GetByPatient(
      std::string_view patient_id) const override {
    return Read("patient_id = ?1 AND patient_id <> '' ORDER BY chart_id, created_at, id",
                patient_id);
  }

  absl::StatusOr<int64_t> Count() const override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st(db_, "SELECT count(*) FROM cc_results");
    if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return SqliteError(db_, "cannot count");
    return sqlite3_column_int64(st.get(), 0);
  }

  std::string Describe() const override { return "sqlite " + path_; }

 private:
  SqliteResultStore(const ResultStoreOptions& o, std::string path, sqlite3* db)
      : keys_(o.keys), key_id_(o.key_id), path_(std::move(path)), db_(db) {}

  absl::StatusOr<std::vector<StoredResult>> Read(const char* where, std::string_view key) const {
    std::vector<StoredResult> out;
    std::vector<std::string> sealed;  // opened after the lock is released
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::string sql = StrCat(
          "SELECT chart_id, digest, patient_id, result_json, result_sealed, "
          "coalesce(key_id, ''), created_at FROM cc_results WHERE ",
          where);
      Statement st(db_, sql.c_str());
      if (!st.ok()) return SqliteError(db_, "cannot prepare a query");
      st.Text(1, key);
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        StoredResult s;
        s.record.chart_id = st.Column(0);
        s.record.digest = st.Column(1);
        s.record.patient_id = st.Column(2);
        s.sealed = st.IsNull(3);
        if (!s.sealed) s.record.result_json = st.Column(3);
        sealed.push_back(s.sealed ? st.Column(4) : std::string());
        s.key_id = st.Column(5);
        s.created_at = st.Column(6);
        out.push_back(std::move(s));
      }
      if (rc != SQLITE_DONE) return SqliteError(db_, "cannot read results");
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (!out[i].sealed) continue;
      absl::StatusOr<std::string> json = internal::OpenStoredResult(sealed[i], keys_);
      if (!json.ok()) {
        return absl::Status(json.status().code(), StrCat("a stored result: ",
                                                         internal::FromAbsl(json.status().message())));
      }
      out[i].record.result_json = std::move(*json);
    }
    return out;
  }

  const KeyProvider* keys_;
  std::string key_id_;
  std::string path_;
  sqlite3* db_;
  mutable std::mutex mu_;
};

// ---------------------------------------------------------------------------
// PostgreSQL: pooled connections; the schema is the work queue's.

class PostgresResultStore final : public ResultStore {
 public:
  static absl::StatusOr<std::unique_ptr<ResultStore>> Open(const ResultStoreOptions& options) {
    internal::PgConnectOptions connect;
    connect.url = options.location;
    connect.allow_insecure = options.allow_insecure;
    std::unique_ptr<PostgresResultStore> store(new PostgresResultStore(options, connect));
    absl::Status s = store->pool_.Run(
        [](internal::PgConnection& conn) { return internal::CheckPgSchema(conn); });
    if (!s.ok()) return s;
    return std::unique_ptr<ResultStore>(store.release());
  }

  absl::StatusOr<bool> Put(const ResultRecord& record) const override {
    absl::StatusOr<EncodedResult> e = internal::EncodeResult(record, keys_, key_id_);
    if (!e.ok()) return e.status();
    bool inserted = false;
    absl::Status s = pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          absl::StatusOr<bool> r = internal::PgInsertResult(conn, *e, std::nullopt);
          if (!r.ok()) return r.status();
          inserted = *r;
          return absl::OkStatus();
        },
        /*attempts=*/3);
    if (!s.ok()) return s;
    return inserted;
  }

  absl::StatusOr<std::vector<StoredResult>> GetByChart(std::string_view chart_id) const override {
    return Read(false, chart_id);
  }
  absl::StatusOr<std::vector<StoredResult>> GetByPatient(
      std::string_view patient_id) const override {
    return Read(true, patient_id);
  }

  absl::StatusOr<int64_t> Count() const override {
    int64_t n = 0;
    absl::Status s = pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          absl::StatusOr<internal::PgResult> r = conn.Exec("SELECT count(*) FROM cc_results");
          if (!r.ok()) return r.status();
          n = r->GetInt(0, 0);
          return absl::OkStatus();
        },
        3);
    if (!s.ok()) return s;
    return n;
  }

  std::string Describe() const override { return "postgresql"; }

 private:
  PostgresResultStore(const ResultStoreOptions& o, internal::PgConnectOptions connect)
      : keys_(o.keys), key_id_(o.key_id), pool_(std::move(connect)) {}

  absl::StatusOr<std::vector<StoredResult>> Read(bool by_patient, std::string_view key) const {
    std::vector<StoredResult> out;
    absl::Status s = pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          absl::StatusOr<std::vector<StoredResult>> r =
              internal::PgReadResults(conn, by_patient, key, keys_);
          if (!r.ok()) return r.status();
          out = std::move(*r);
          return absl::OkStatus();
        },
        3);
    if (!s.ok()) return s;
    return out;
  }

  const KeyProvider* keys_;
  std::string key_id_;
  mutable internal::PgPool pool_;
};

}  // namespace

bool IsSqliteLocation(std::string_view location) {
  return location.rfind("sqlite:", 0) == 0 || EndsWith(location, ".db") ||
         EndsWith(location, ".sqlite") || EndsWith(location, ".sqlite3");
}

absl::StatusOr<std::unique_ptr<ResultStore>> OpenResultStore(const ResultStoreOptions& options) {
  if (internal::Trim(options.location).empty()) {
    return absl::InvalidArgumentError(
        "no result store given: a PostgreSQL URL, or sqlite:PATH for a local file");
  }
  if (IsSqliteLocation(options.location)) {
    std::string path = options.location;
    if (path.rfind("sqlite:", 0) == 0) path = path.substr(7);
    return SqliteResultStore::Open(options, path);
  }
  return PostgresResultStore::Open(options);
}

}  // namespace chartcoder
