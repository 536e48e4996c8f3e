#include "chartcoder/result_store.h"

#include <sqlite3.h>

#include <mutex>

#include "src/internal/pg.h"
#include "src/internal/pg_schema.h"
#include "src/internal/result_codec.h"
#include "src/internal/sqlite.h"
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

using Statement = internal::SqliteStatement;

absl::Status SqliteError(sqlite3* db, std::string_view what) {
  return internal::SqliteError(db, StrCat("SQLite result store: ", what));
}

class SqliteResultStore final : public ResultStore {
 public:
  static absl::StatusOr<std::unique_ptr<ResultStore>> Open(const ResultStoreOptions& options,
                                                           std::string path) {
    absl::StatusOr<internal::SqliteDb> opened =
        internal::SqliteDb::Open(path, "SQLite result store");
    if (!opened.ok()) return opened.status();
    std::unique_ptr<SqliteResultStore> store(
        new SqliteResultStore(options, path, std::move(*opened)));
    sqlite3* db = store->db_.get();
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
      absl::Status created =
          store->db_.Exec(kSqliteSchema, "SQLite result store: cannot create the schema");
      if (!created.ok()) return created;
    }
    return std::unique_ptr<ResultStore>(store.release());
  }

  absl::StatusOr<bool> Put(const ResultRecord& record) const override {
    absl::StatusOr<EncodedResult> e = internal::EncodeResult(record, keys_, key_id_);
    if (!e.ok()) return e.status();
    std::lock_guard<std::mutex> lock(mu_);
    Statement st(db_.get(),
                 "INSERT INTO cc_results (chart_id, digest, patient_id, result_json, "
                 "result_sealed, key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT (chart_id, digest) DO NOTHING");
    if (!st.ok()) return SqliteError(db_.get(), "cannot prepare an insert");
    st.Text(1, e->chart_id);
    st.Text(2, e->digest);
    st.Text(3, e->patient_id);
    if (e->json) st.Text(4, *e->json); else st.Null(4);
    if (e->sealed) st.Blob(5, *e->sealed); else st.Null(5);
    if (e->key_id.empty()) st.Null(6); else st.Text(6, e->key_id);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return SqliteError(db_.get(), "cannot store a result");
    return sqlite3_changes(db_.get()) == 1;
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
    Statement st(db_.get(), "SELECT count(*) FROM cc_results");
    if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return SqliteError(db_.get(), "cannot count");
    return sqlite3_column_int64(st.get(), 0);
  }

  std::string Describe() const override { return "sqlite " + path_; }

 private:
  SqliteResultStore(const ResultStoreOptions& o, std::string path, internal::SqliteDb db)
      : keys_(o.keys), key_id_(o.key_id), path_(std::move(path)), db_(std::move(db)) {}

  absl::StatusOr<std::vector<StoredResult>> Read(const char* where, std::string_view key) const {
    std::vector<StoredResult> out;
    std::vector<std::string> sealed;  // opened after the lock is released
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::string sql = StrCat(
          "SELECT chart_id, digest, patient_id, result_json, result_sealed, "
          "coalesce(key_id, ''), created_at FROM cc_results WHERE ",
          where);
      Statement st(db_.get(), sql.c_str());
      if (!st.ok()) return SqliteError(db_.get(), "cannot prepare a query");
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
      if (rc != SQLITE_DONE) return SqliteError(db_.get(), "cannot read results");
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
  internal::SqliteDb db_;
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
    return SqliteResultStore::Open(options, internal::SqlitePath(options.location));
  }
  return PostgresResultStore::Open(options);
}

}  // namespace chartcoder
