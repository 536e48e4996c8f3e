#include "src/internal/pg.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>

#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

// libpq's conninfo quoting: single quotes, with \ and ' escaped.
void AppendConninfoValue(std::string_view v, std::string* out) {
  out->push_back('\'');
  for (char c : v) {
    if (c == '\\' || c == '\'') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

std::string TrimmedMessage(const char* m) {
  std::string s = m == nullptr ? "" : m;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq puts one message per line; keep them on one line for logs.
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// A statement's parameters as libpq takes them.
struct ParamArrays {
  explicit ParamArrays(const std::vector<PgParam>& params)
      : values(params.size()), lengths(params.size()), formats(params.size()) {
    for (size_t i = 0; i < params.size(); ++i) {
      const PgParam& p = params[i];
      values[i] = p.value ? p.value->data() : nullptr;
      lengths[i] = p.value ? static_cast<int>(p.value->size()) : 0;
      formats[i] = p.binary ? 1 : 0;
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

constexpr size_t kMaxPrepared = 16;

}  // namespace

std::string PgArray(const std::vector<std::optional<std::string>>& elements) {
  size_t size = 2;
  for (const auto& e : elements) size += (e ? e->size() + 3 : 5);
  std::string out;
  out.reserve(size + size / 16);
  out.push_back('{');
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    out.push_back('"');
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string PgByteaText(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

absl::StatusOr<std::string> PgConnectionString(const PgConnectOptions& options) {
  if (Trim(options.url).empty()) {
    return absl::InvalidArgumentError(
        "no database given: pass --db URL or set CHARTCODER_DB (a libpq connection string or "
        "postgresql:// URI)");
  }
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &err);
  if (parsed == nullptr) {
    std::string why = TrimmedMessage(err);
    if (err != nullptr) PQfreemem(err);
    return absl::InvalidArgumentError(StrCat("cannot parse the database URL: ", why));
  }
  std::string out;
  std::string sslmode;
  bool has_timeout = false, has_app = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    if (key == "sslmode") {
      sslmode = o->val;
      continue;
    }
    if (key == "connect_timeout") has_timeout = true;
    if (key == "application_name") has_app = true;
    if (!out.empty()) out.push_back(' ');
    StrAppend(&out, key, "=");
    AppendConninfoValue(o->val, &out);
  }
  PQconninfoFree(parsed);
  if (sslmode.empty()) sslmode = "verify-full";
  if (sslmode != "verify-full" && !options.allow_insecure) {
    return absl::InvalidArgumentError(
        StrCat("the database URL asks for sslmode=", sslmode,
               ", which does not verify the server's certificate and host name; use "
               "sslmode=verify-full (the default) or allow it explicitly with --insecure-db"));
  }
  StrAppend(&out, " sslmode=");
  AppendConninfoValue(sslmode, &out);
  if (!has_timeout) StrAppend(&out, " connect_timeout=", options.connect_timeout_seconds);
  if (!has_app && !options.application_name.empty()) {
    StrAppend(&out, " application_name=");
    AppendConninfoValue(options.application_name, &out);
  }
  return out;
}

// ---------------------------------------------------------------------------
// PgResult

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_ != nullptr) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}

int PgResult::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }

int PgResult::affected() const {
  if (r_ == nullptr) return 0;
  const char* n = PQcmdTuples(r_);
  int v = 0;
  return (n != nullptr && ParseInt(std::string_view(n), &v)) ? v : 0;
}

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string_view PgResult::Get(int row, int col) const {
  if (IsNull(row, col)) return {};
  return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
}

int64_t PgResult::GetInt(int row, int col) const {
  int64_t v = 0;
  ParseInt(Get(row, col), &v);
  return v;
}

double PgResult::GetDouble(int row, int col) const {
  double v = 0;
  ParseDouble(Get(row, col), &v);
  return v;
}

std::string PgResult::GetBytea(int row, int col) const {
  if (IsNull(row, col)) return {};
  size_t n = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (bytes == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(bytes), n);
  PQfreemem(bytes);
  return out;
}

// ---------------------------------------------------------------------------
// PgConnection

absl::StatusOr<PgConnection> PgConnection::Connect(const PgConnectOptions& options) {
  absl::StatusOr<std::string> conninfo = PgConnectionString(options);
  if (!conninfo.ok()) return conninfo.status();
  PGconn* c = PQconnectdb(conninfo->c_str());
  if (c == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = TrimmedMessage(PQerrorMessage(c));
    PQfinish(c);
    return absl::UnavailableError(StrCat("cannot connect to the database: ", why));
  }
  PgConnection conn(c);
  // Statements that block on a lock forever would stall a worker; none of
  // ours should, but bound them anyway.
  // Prepared statements (ExecPrepared) run their generic plan at once: ours
  // are lookups by key, a LIMIT written in the text, and unnest() of
  // parameter arrays, whose generic plans are the right ones, but the
  // planner would keep planning statements with arrays afresh each time
  // (it estimates them from the arrays' lengths), which costs as much as
  // running them.
  absl::Status settings =
      conn.ExecScript("SET lock_timeout = '30s'; SET plan_cache_mode = force_generic_plan");
  if (!settings.ok()) return settings;
  return conn;
}

PgConnection& PgConnection::operator=(PgConnection&& o) noexcept {
  if (this != &o) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = o.conn_;
    o.conn_ = nullptr;
    prepared_ = std::move(o.prepared_);
    o.prepared_.clear();
    clock_ = o.clock_;
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::tls() const { return conn_ != nullptr && PQsslInUse(conn_) == 1; }

absl::Status PgConnection::ResultStatus(PGresult* r, std::string_view what) const {
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string sqlstate = state == nullptr ? "" : state;
  std::string message = TrimmedMessage(primary != nullptr ? primary : PQerrorMessage(conn_));
  std::string text = StrCat(what, ": ", message, sqlstate.empty() ? "" : " (SQLSTATE ", sqlstate,
                            sqlstate.empty() ? "" : ")");
  if (!ok() || sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) {
    return absl::UnavailableError(text);
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return absl::AbortedError(text);
  }
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  if (sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0) {
    return absl::InvalidArgumentError(text);
  }
  return absl::InternalError(text);
}

absl::StatusOr<PgResult> PgConnection::Exec(std::string_view sql,
                                           const std::vector<PgParam>& params) {
  if (conn_ == nullptr) return absl::UnavailableError("no database connection");
  std::string query(sql);
  ParamArrays p(params);
  PGresult* r = PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()), nullptr,
                             p.values.data(), p.lengths.data(), p.formats.data(), 0);
  PgResult result(r);
  absl::Status s = ResultStatus(r, "database error");
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<PgResult> PgConnection::ExecPrepared(std::string_view sql,
                                                    const std::vector<PgParam>& params) {
  if (conn_ == nullptr) return absl::UnavailableError("no database connection");
  ++clock_;
  auto it = std::find_if(prepared_.begin(), prepared_.end(),
                         [&](const Prepared& p) { return p.sql == sql; });
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPrepared) {
      auto lru = std::min_element(
          prepared_.begin(), prepared_.end(),
          [](const Prepared& a, const Prepared& b) { return a.last_used < b.last_used; });
      absl::StatusOr<PgResult> gone = Exec(StrCat("DEALLOCATE ", lru->name));
      if (!gone.ok()) return gone.status();
      prepared_.erase(lru);
    }
    Prepared fresh{std::string(sql), StrCat("cc_", clock_), clock_};
    PGresult* r = PQprepare(conn_, fresh.name.c_str(), fresh.sql.c_str(),
                            static_cast<int>(params.size()), nullptr);
    PgResult prepared(r);
    absl::Status s = ResultStatus(r, "database error");
    if (!s.ok()) return s;
    prepared_.push_back(std::move(fresh));
    it = prepared_.end() - 1;
  }
  it->last_used = clock_;
  ParamArrays p(params);
  PGresult* r = PQexecPrepared(conn_, it->name.c_str(), static_cast<int>(params.size()),
                               p.values.data(), p.lengths.data(), p.formats.data(), 0);
  PgResult result(r);
  absl::Status s = ResultStatus(r, "database error");
  if (!s.ok()) return s;
  return result;
}

absl::Status PgConnection::ExecScript(std::string_view sql) {
  if (conn_ == nullptr) return absl::UnavailableError("no database connection");
  std::string query(sql);
  PGresult* r = PQexec(conn_, query.c_str());
  PgResult result(r);
  return ResultStatus(r, "database error");
}

PgPool::PgPool(PgConnectOptions options, size_t max_idle)
    : options_(std::move(options)), max_idle_(max_idle) {}

PgPool::~PgPool() = default;

absl::Status PgPool::Run(const std::function<absl::Status(PgConnection&)>& fn, int attempts) {
  absl::Status last;
  for (int attempt = 0; attempt < std::max(1, attempts); ++attempt) {
    PgConnection conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!conn.ok()) {
      absl::StatusOr<PgConnection> fresh = PgConnection::Connect(options_);
      if (!fresh.ok()) {
        last = fresh.status();
        if (!IsTransientPgError(last)) return last;
        continue;
      }
      conn = std::move(*fresh);
    }
    last = fn(conn);
    if (conn.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
    }
    if (last.ok() || !IsTransientPgError(last)) return last;
  }
  return last;
}

bool IsTransientPgError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsAborted(status);
}

}  // namespace chartcoder::internal
