// A thin RAII layer over libpq for the work queue and the PostgreSQL result
// store: connecting under the TLS policy, parameterized statements, results,
// transactions, and SQLSTATE-based status codes.
//
//   CC_ASSIGN_OR_RETURN(PgConnection conn, PgConnection::Connect(options));
//   CC_ASSIGN_OR_RETURN(PgResult r, conn.Exec("SELECT $1::int + 1", {"41"}));
//   std::string_view v = r.Get(0, 0);  // "42"
//
// libpq types stay in src/: nothing here is in a public header.
#ifndef CHARTCODER_SRC_INTERNAL_PG_H_
#define CHARTCODER_SRC_INTERNAL_PG_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace chartcoder::internal {

struct PgConnectOptions {
  // A libpq connection string ("host=db port=5432 dbname=cc") or URI
  // ("postgresql://user@db/cc?sslrootcert=ca.pem").
  std::string url;
  // Permit an sslmode other than verify-full (plaintext or unverified TLS).
  bool allow_insecure = false;
  // Seconds to wait for a connection (libpq connect_timeout) unless the URL
  // sets its own. Default 10.
  int connect_timeout_seconds = 10;
  // application_name shown in pg_stat_activity unless the URL sets one.
  std::string application_name = "chartcoder";
};

// Checks the URL against the TLS policy and returns the connection string
// libpq gets: sslmode=verify-full is added when the URL names none; any other
// sslmode is InvalidArgument unless allow_insecure. A URL libpq cannot parse
// is InvalidArgument (the message never repeats the URL: it may hold a
// password).
absl::StatusOr<std::string> PgConnectionString(const PgConnectOptions& options);

// A query parameter: text, binary bytes (bytea), or SQL NULL.
struct PgParam {
  PgParam() = default;  // NULL
  PgParam(std::string_view text) : value(std::string(text)) {}  // NOLINT
  PgParam(const char* text) : value(std::string(text)) {}       // NOLINT
  PgParam(const std::string& text) : value(text) {}              // NOLINT
  static PgParam Binary(std::string_view bytes) {
    PgParam p(bytes);
    p.binary = true;
    return p;
  }
  static PgParam Null() { return PgParam(); }
  std::optional<std::string> value;
  bool binary = false;
};

// A query result; move-only; frees the PGresult when it dies.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  int affected() const;  // rows an UPDATE/INSERT/DELETE touched
  bool IsNull(int row, int col) const;
  // The text of a cell (valid while this result lives); "" for NULL.
  std::string_view Get(int row, int col) const;
  int64_t GetInt(int row, int col) const;
  double GetDouble(int row, int col) const;
  // A bytea cell in text (hex) format, decoded.
  std::string GetBytea(int row, int col) const;

 private:
  PGresult* r_ = nullptr;
};

// A one-dimensional array in PostgreSQL's text form for a parameter cast to
// an array type ($1::text[], $1::bigint[], ...): every element quoted and
// escaped, std::nullopt as NULL. {"a",NULL,"b \"c\""}
std::string PgArray(const std::vector<std::optional<std::string>>& elements);
// The text form of a bytea value ("\x" and hex), for elements of a
// bytea[] array.
std::string PgByteaText(std::string_view bytes);

// One connection. Not thread-safe: one per thread (or behind a mutex).
class PgConnection {
 public:
  // Unavailable when the server cannot be reached or refuses the connection
  // (the message is libpq's, without the URL); codes of PgConnectionString.
  static absl::StatusOr<PgConnection> Connect(const PgConnectOptions& options);

  PgConnection() = default;
  PgConnection(PgConnection&& o) noexcept
      : conn_(o.conn_), prepared_(std::move(o.prepared_)), clock_(o.clock_) {
    o.conn_ = nullptr;
    o.prepared_.clear();
  }
  PgConnection& operator=(PgConnection&& o) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs one statement with parameters ($1, $2, ...). Codes: Unavailable for
  // a lost connection or a server shutting down (SQLSTATE classes 08, 57P);
  // Aborted for serialization failures and deadlocks (40001, 40P01);
  // AlreadyExists for unique violations (23505); InvalidArgument for other
  // data errors (class 22, 23); Internal otherwise. The message has the
  // SQLSTATE and the server's primary message (never parameter values).
  absl::StatusOr<PgResult> Exec(std::string_view sql, const std::vector<PgParam>& params = {});
  // Exec for statements run again and again: the first run on this
  // connection prepares `sql` (the server parses and plans it once; a
  // generic plan after a few runs), later runs execute it by name. The 16
  // texts used most recently stay prepared. Same codes as Exec.
  absl::StatusOr<PgResult> ExecPrepared(std::string_view sql,
                                        const std::vector<PgParam>& params = {});
  // Runs several statements without parameters (migrations).
  absl::Status ExecScript(std::string_view sql);

  // False once the connection is known to be broken.
  bool ok() const;
  // Whether the server reported that this session uses TLS.
  bool tls() const;

 private:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  absl::Status ResultStatus(PGresult* r, std::string_view what) const;
  struct Prepared {
    std::string sql;
    std::string name;
    uint64_t last_used = 0;
  };
  PGconn* conn_ = nullptr;
  std::vector<Prepared> prepared_;  // at most kMaxPrepared
  uint64_t clock_ = 0;              // counts ExecPrepared calls (for LRU and names)
};

// Runs `body` inside BEGIN ... COMMIT on `conn`; rolls back if it fails.
template <typename Fn>
absl::Status PgTransaction(PgConnection& conn, Fn&& body) {
  absl::StatusOr<PgResult> begin = conn.Exec("BEGIN");
  if (!begin.ok()) return begin.status();
  absl::Status s = body();
  if (!s.ok()) {
    (void)conn.Exec("ROLLBACK");
    return s;
  }
  absl::StatusOr<PgResult> commit = conn.Exec("COMMIT");
  return commit.ok() ? absl::OkStatus() : commit.status();
}

// Connections for many threads: Run lends one (connecting when none is idle)
// and takes it back; a connection that broke is dropped. Thread-safe.
class PgPool {
 public:
  // `max_idle` connections are kept between calls.
  explicit PgPool(PgConnectOptions options, size_t max_idle = 4);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs `fn` on a connection. When it fails with a transient error (see
  // IsTransientPgError) the connection is dropped and `fn` runs again on a
  // fresh one, up to `attempts` times in all; use attempts > 1 only for
  // idempotent work. Codes of Connect and of `fn`.
  absl::Status Run(const std::function<absl::Status(PgConnection&)>& fn, int attempts = 1);
  const PgConnectOptions& options() const { return options_; }

 private:
  PgConnectOptions options_;
  size_t max_idle_;
  std::mutex mu_;
  std::vector<PgConnection> idle_;
};

// True for codes a caller may retry after reconnecting (Unavailable, Aborted).
bool IsTransientPgError(const absl::Status& status);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PG_H_
