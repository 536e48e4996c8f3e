#include "chartcoder/tokens.h"

#include <openssl/crypto.h>

#include <array>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "chartcoder/result_store.h"
#include "src/internal/crypto.h"
#include "src/internal/pg.h"
#include "src/internal/pg_schema.h"
#include "src/internal/sqlite.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;
using Digest = std::array<uint8_t, internal::kSha256Size>;

constexpr std::string_view kPrefix = "cc_";
constexpr size_t kSecretBytes = 32;
constexpr size_t kBearerLength = 3 + kTokenIdLength + 1 + 2 * kSecretBytes;
constexpr size_t kMaxNameBytes = 256;
constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

std::string ToHex(const uint8_t* p, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[p[i] >> 4]);
    out.push_back(kHexDigits[p[i] & 15]);
  }
  return out;
}

// Lower-case hex of exactly 2 * out.size() digits into `out`.
bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// What the database holds for one token.
struct TokenRecord {
  TokenInfo info;
  Digest digest{};
};

absl::StatusOr<TokenScope> ScopeFromColumn(std::string_view s) {
  absl::StatusOr<TokenScope> scope = ParseTokenScope(s);
  if (!scope.ok()) return absl::DataLossError(StrCat("a stored token has an unknown scope"));
  return scope;
}

absl::StatusOr<TokenRecord> RecordFromColumns(std::string id, std::string name,
                                              std::string_view scope, std::string_view digest_hex,
                                              std::string created_at, std::string revoked_at) {
  TokenRecord r;
  r.info.id = std::move(id);
  r.info.name = std::move(name);
  CC_ASSIGN_OR_RETURN(r.info.scope, ScopeFromColumn(scope));
  r.info.created_at = std::move(created_at);
  r.info.revoked_at = std::move(revoked_at);
  if (!FromHex(digest_hex, r.digest.data(), r.digest.size())) {
    return absl::DataLossError(StrCat("the stored digest of token ", r.info.id, " is malformed"));
  }
  return r;
}

// Where tokens live. Implementations are safe for concurrent use.
class Backend {
 public:
  virtual ~Backend() = default;
  // Inserts a new token; fills record->info.created_at. AlreadyExists when
  // the id is taken.
  virtual absl::Status Insert(TokenRecord* record) const = 0;
  virtual absl::StatusOr<std::vector<TokenInfo>> List() const = 0;
  // False when there is no token `id`.
  virtual absl::StatusOr<bool> Revoke(std::string_view id) const = 0;
  virtual absl::StatusOr<std::optional<TokenRecord>> Find(std::string_view id) const = 0;
  virtual std::string Describe() const = 0;
};

// ---------------------------------------------------------------------------
// SQLite: a table beside cc_results in the result store's file. It is created
// when missing; the result store's schema version (user_version) is not
// touched.

constexpr char kSqliteSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS cc_api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL CHECK (scope IN ('read', 'code', 'admin')),
  secret_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  revoked_at TEXT
);
)sql";

constexpr char kSqliteWhat[] = "SQLite token store";

class SqliteBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Open(std::string path) {
    CC_ASSIGN_OR_RETURN(internal::SqliteDb db, internal::SqliteDb::Open(path, kSqliteWhat));
    CC_RETURN_IF_ERROR(db.Exec(kSqliteSchema, StrCat(kSqliteWhat, ": cannot create the table")));
    return std::unique_ptr<Backend>(new SqliteBackend(std::move(path), std::move(db)));
  }

  absl::Status Insert(TokenRecord* r) const override {
    std::lock_guard<std::mutex> lock(mu_);
    internal::SqliteStatement st(db_.get(),
                                 "INSERT INTO cc_api_tokens (id, name, scope, secret_sha256) "
                                 "VALUES (?1, ?2, ?3, ?4) RETURNING created_at");
    if (!st.ok()) return Error("cannot prepare an insert");
    st.Text(1, r->info.id);
    st.Text(2, r->info.name);
    st.Text(3, TokenScopeName(r->info.scope));
    st.Text(4, ToHex(r->digest.data(), r->digest.size()));
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) return absl::AlreadyExistsError("token id taken");
    if (rc != SQLITE_ROW) return Error("cannot store a token");
    r->info.created_at = st.Column(0);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("cannot store a token");
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<TokenInfo>> List() const override {
    std::lock_guard<std::mutex> lock(mu_);
    internal::SqliteStatement st(
        db_.get(),
        "SELECT id, name, scope, secret_sha256, created_at, coalesce(revoked_at, '') "
        "FROM cc_api_tokens ORDER BY created_at, rowid");
    if (!st.ok()) return Error("cannot prepare a query");
    std::vector<TokenInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      CC_ASSIGN_OR_RETURN(TokenRecord r, Row(st));
      out.push_back(std::move(r.info));
    }
    if (rc != SQLITE_DONE) return Error("cannot list tokens");
    return out;
  }

  absl::StatusOr<bool> Revoke(std::string_view id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    internal::SqliteStatement st(
        db_.get(),
        "UPDATE cc_api_tokens SET revoked_at = coalesce(revoked_at, "
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) WHERE id = ?1");
    if (!st.ok()) return Error("cannot prepare an update");
    st.Text(1, id);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("cannot revoke a token");
    return sqlite3_changes(db_.get()) == 1;
  }

  absl::StatusOr<std::optional<TokenRecord>> Find(std::string_view id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    internal::SqliteStatement st(
        db_.get(),
        "SELECT id, name, scope, secret_sha256, created_at, coalesce(revoked_at, '') "
        "FROM cc_api_tokens WHERE id = ?1");
    if (!st.ok()) return Error("cannot prepare a query");
    st.Text(1, id);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
    if (rc != SQLITE_ROW) return Error("cannot read a token");
    CC_ASSIGN_OR_RETURN(TokenRecord r, Row(st));
    return std::optional<TokenRecord>(std::move(r));
  }

  std::string Describe() const override { return "sqlite " + path_; }

 private:
  SqliteBackend(std::string path, internal::SqliteDb db)
      : path_(std::move(path)), db_(std::move(db)) {}

  absl::Status Error(std::string_view what) const {
    return internal::SqliteError(db_.get(), StrCat(kSqliteWhat, ": ", what));
  }

  static absl::StatusOr<TokenRecord> Row(const internal::SqliteStatement& st) {
    return RecordFromColumns(st.Column(0), st.Column(1), st.Column(2), st.Column(3), st.Column(4),
                             st.Column(5));
  }

  std::string path_;
  internal::SqliteDb db_;
  mutable std::mutex mu_;
};

// ---------------------------------------------------------------------------
// PostgreSQL: cc_api_tokens, created by migration 2 (`chartcoder db migrate`).

constexpr char kPgColumns[] =
    "id, name, scope, secret_sha256, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";

absl::StatusOr<TokenRecord> PgRow(const internal::PgResult& r, int row) {
  return RecordFromColumns(std::string(r.Get(row, 0)), std::string(r.Get(row, 1)), r.Get(row, 2),
                           r.Get(row, 3), std::string(r.Get(row, 4)), std::string(r.Get(row, 5)));
}

class PostgresBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Open(const TokenStoreOptions& options) {
    internal::PgConnectOptions connect;
    connect.url = options.location;
    connect.allow_insecure = options.allow_insecure;
    connect.application_name = "chartcoder-tokens";
    std::unique_ptr<PostgresBackend> b(new PostgresBackend(std::move(connect)));
    CC_RETURN_IF_ERROR(
        b->pool_.Run([](internal::PgConnection& conn) { return internal::CheckPgSchema(conn); }));
    return std::unique_ptr<Backend>(b.release());
  }

  absl::Status Insert(TokenRecord* r) const override {
    return pool_.Run([&](internal::PgConnection& conn) -> absl::Status {
      CC_ASSIGN_OR_RETURN(
          internal::PgResult res,
          conn.Exec(StrCat("INSERT INTO cc_api_tokens (id, name, scope, secret_sha256) "
                           "VALUES ($1, $2, $3, $4) RETURNING ",
                           kPgColumns),
                    {r->info.id, r->info.name, TokenScopeName(r->info.scope),
                     ToHex(r->digest.data(), r->digest.size())}));
      r->info.created_at = std::string(res.Get(0, 4));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<TokenInfo>> List() const override {
    std::vector<TokenInfo> out;
    CC_RETURN_IF_ERROR(pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          out.clear();
          CC_ASSIGN_OR_RETURN(
              internal::PgResult res,
              conn.Exec(StrCat("SELECT ", kPgColumns, " FROM cc_api_tokens ORDER BY created_at")));
          for (int i = 0; i < res.rows(); ++i) {
            CC_ASSIGN_OR_RETURN(TokenRecord r, PgRow(res, i));
            out.push_back(std::move(r.info));
          }
          return absl::OkStatus();
        },
        3));
    return out;
  }

  absl::StatusOr<bool> Revoke(std::string_view id) const override {
    bool found = false;
    CC_RETURN_IF_ERROR(pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          CC_ASSIGN_OR_RETURN(
              internal::PgResult res,
              conn.Exec("UPDATE cc_api_tokens SET revoked_at = coalesce(revoked_at, now()) "
                        "WHERE id = $1",
                        {std::string(id)}));
          found = res.affected() == 1;
          return absl::OkStatus();
        },
        3));
    return found;
  }

  absl::StatusOr<std::optional<TokenRecord>> Find(std::string_view id) const override {
    std::optional<TokenRecord> out;
    CC_RETURN_IF_ERROR(pool_.Run(
        [&](internal::PgConnection& conn) -> absl::Status {
          out.reset();
          CC_ASSIGN_OR_RETURN(
              internal::PgResult res,
              conn.Exec(StrCat("SELECT ", kPgColumns, " FROM cc_api_tokens WHERE id = $1"),
                        {std::string(id)}));
          if (res.rows() == 0) return absl::OkStatus();
          CC_ASSIGN_OR_RETURN(TokenRecord r, PgRow(res, 0));
          out = std::move(r);
          return absl::OkStatus();
        },
        3));
    return out;
  }

  std::string Describe() const override { return "postgresql"; }

 private:
  explicit PostgresBackend(internal::PgConnectOptions connect) : pool_(std::move(connect)) {}
  mutable internal::PgPool pool_;
};

// Splits "cc_<id>_<secret hex>"; false when malformed.
bool ParseBearer(std::string_view bearer, std::string_view* id, std::string_view* secret_hex) {
  if (bearer.size() != kBearerLength || bearer.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = bearer.substr(kPrefix.size());
  if (rest[kTokenIdLength] != '_') return false;
  *id = rest.substr(0, kTokenIdLength);
  *secret_hex = rest.substr(kTokenIdLength + 1);
  return IsLowerHex(*id) && IsLowerHex(*secret_hex);
}

absl::Status CheckName(std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        StrCat("a token name is at most ", kMaxNameBytes, " bytes, got ", name.size()));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("a token name may not hold control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TokenScopeName(TokenScope scope) {
  switch (scope) {
    case TokenScope::kRead:
      return "read";
    case TokenScope::kCode:
      return "code";
    case TokenScope::kAdmin:
      return "admin";
  }
  return "read";
}

absl::StatusOr<TokenScope> ParseTokenScope(std::string_view text) {
  const std::string t = internal::AsciiLower(internal::Trim(text));
  if (t == "read") return TokenScope::kRead;
  if (t == "code") return TokenScope::kCode;
  if (t == "admin") return TokenScope::kAdmin;
  return absl::InvalidArgumentError(
      StrCat("unknown token scope '", text, "' (read, code or admin)"));
}

bool IsValidTokenId(std::string_view id) {
  return id.size() == kTokenIdLength && IsLowerHex(id);
}

IssuedToken::IssuedToken(IssuedToken&& other) noexcept
    : info(std::move(other.info)), token(std::move(other.token)) {
  internal::CleanseString(&other.token);
}

IssuedToken& IssuedToken::operator=(IssuedToken&& other) noexcept {
  if (this != &other) {
    internal::CleanseString(&token);
    info = std::move(other.info);
    token = std::move(other.token);
    internal::CleanseString(&other.token);
  }
  return *this;
}

IssuedToken::~IssuedToken() { internal::CleanseString(&token); }

struct TokenStore::Impl {
  struct Cached {
    std::optional<TokenRecord> record;  // nullopt: no such token
    absl::Time fetched;
  };

  std::unique_ptr<Backend> backend;
  absl::Duration ttl;
  size_t capacity = 0;
  mutable std::mutex mu;
  mutable absl::flat_hash_map<std::string, Cached> cache;

  absl::StatusOr<std::optional<TokenRecord>> Lookup(std::string_view id) const {
    if (ttl > absl::ZeroDuration()) {
      std::lock_guard<std::mutex> lock(mu);
      auto it = cache.find(internal::ToAbsl(id));
      if (it != cache.end() && absl::Now() - it->second.fetched < ttl) return it->second.record;
    }
    const absl::Time now = absl::Now();
    CC_ASSIGN_OR_RETURN(std::optional<TokenRecord> record, backend->Find(id));
    if (ttl > absl::ZeroDuration()) {
      std::lock_guard<std::mutex> lock(mu);
      if (cache.size() >= capacity) cache.clear();
      cache[std::string(id)] = Cached{record, now};
    }
    return record;
  }

  void Forget(std::string_view id) const {
    std::lock_guard<std::mutex> lock(mu);
    cache.erase(std::string(id));
  }
};

TokenStore::TokenStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenStore::~TokenStore() = default;

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(const TokenStoreOptions& options) {
  if (internal::Trim(options.location).empty()) {
    return absl::InvalidArgumentError(
        "no token store given: a PostgreSQL URL, or sqlite:PATH for a local file");
  }
  if (options.cache_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the token cache time may not be negative");
  }
  if (options.cache_capacity == 0) {
    return absl::InvalidArgumentError("the token cache capacity must be at least 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->ttl = options.cache_ttl;
  impl->capacity = options.cache_capacity;
  if (IsSqliteLocation(options.location)) {
    CC_ASSIGN_OR_RETURN(impl->backend, SqliteBackend::Open(internal::SqlitePath(options.location)));
  } else {
    CC_ASSIGN_OR_RETURN(impl->backend, PostgresBackend::Open(options));
  }
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(impl)));
}

absl::StatusOr<IssuedToken> TokenStore::Create(TokenScope scope, std::string_view name) const {
  CC_RETURN_IF_ERROR(CheckName(name));
  if (scope != TokenScope::kRead && scope != TokenScope::kCode && scope != TokenScope::kAdmin) {
    return absl::InvalidArgumentError("unknown token scope");
  }
  // A random id could collide with an existing one (2^-64 per pair); try a
  // few times rather than fail.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::array<uint8_t, kTokenIdLength / 2> id_bytes;
    std::array<uint8_t, kSecretBytes> secret;
    CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(id_bytes)));
    CC_RETURN_IF_ERROR(internal::RandomPrivateBytes(absl::MakeSpan(secret)));
    TokenRecord r;
    r.info.id = ToHex(id_bytes.data(), id_bytes.size());
    r.info.name = std::string(name);
    r.info.scope = scope;
    r.digest = internal::Sha256(
        std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
    IssuedToken t;
    t.token.reserve(kBearerLength);
    t.token.append(kPrefix);
    t.token.append(r.info.id);
    t.token.push_back('_');
    for (uint8_t b : secret) {
      t.token.push_back(kHexDigits[b >> 4]);
      t.token.push_back(kHexDigits[b & 15]);
    }
    internal::Cleanse(secret.data(), secret.size());
    absl::Status s = impl_->backend->Insert(&r);
    if (absl::IsAlreadyExists(s)) continue;
    CC_RETURN_IF_ERROR(s);
    impl_->Forget(r.info.id);
    t.info = std::move(r.info);
    return t;
  }
  return absl::InternalError("could not draw an unused token id");
}

absl::StatusOr<std::vector<TokenInfo>> TokenStore::List() const { return impl_->backend->List(); }

absl::Status TokenStore::Revoke(std::string_view id) const {
  if (!IsValidTokenId(id)) {
    return absl::InvalidArgumentError(
        StrCat("a token id is ", kTokenIdLength, " lower-case hex digits"));
  }
  CC_ASSIGN_OR_RETURN(bool found, impl_->backend->Revoke(id));
  impl_->Forget(id);
  if (!found) return absl::NotFoundError(StrCat("no token ", id));
  return absl::OkStatus();
}

absl::StatusOr<TokenInfo> TokenStore::Verify(std::string_view bearer) const {
  std::string_view id, secret_hex;
  if (!ParseBearer(bearer, &id, &secret_hex)) {
    return absl::UnauthenticatedError("malformed token (expected cc_<id>_<secret>)");
  }
  std::array<uint8_t, kSecretBytes> secret;
  FromHex(secret_hex, secret.data(), secret.size());
  const Digest digest = internal::Sha256(
      std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
  internal::Cleanse(secret.data(), secret.size());
  CC_ASSIGN_OR_RETURN(std::optional<TokenRecord> record, impl_->Lookup(id));
  // Compare even for an unknown id, so both answers take the same time.
  static constexpr Digest kNone{};
  const Digest& stored = record ? record->digest : kNone;
  const bool match = CRYPTO_memcmp(digest.data(), stored.data(), digest.size()) == 0;
  if (!record) return absl::UnauthenticatedError("unknown token");
  if (!match) return absl::UnauthenticatedError("wrong token secret");
  if (record->info.revoked()) return absl::UnauthenticatedError("revoked token");
  return record->info;
}

std::string_view TokenStore::IdOf(std::string_view bearer) {
  std::string_view id, secret_hex;
  if (!ParseBearer(bearer, &id, &secret_hex)) return {};
  return id;
}

std::string TokenStore::Describe() const { return impl_->backend->Describe(); }

}  // namespace chartcoder
