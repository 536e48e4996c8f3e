// chartcoder/tokens.h: API bearer tokens for `chartcoder serve`, stored
// hashed beside the results (the same SQLite file or PostgreSQL database as
// chartcoder/result_store.h).
//
//   chartcoder::TokenStoreOptions o;
//   o.location = "sqlite:/var/lib/chartcoder/chartcoder.db";  // or a PostgreSQL URL
//   auto store = chartcoder::TokenStore::Open(o);
//   if (!store.ok()) return store.status();
//   absl::StatusOr<chartcoder::IssuedToken> t =
//       (*store)->Create(chartcoder::TokenScope::kCode, "billing batch");
//   // t->token ("cc_<id>_<secret>") is shown once; only its digest is kept.
//   absl::StatusOr<chartcoder::TokenInfo> who = (*store)->Verify(t->token);
//
// A token is "cc_" + 16 hex digits of id + "_" + 64 hex digits of secret (32
// random bytes from OpenSSL). The store keeps the id, scope, name, times and
// the SHA-256 of the secret, never the secret; Verify looks the token up by
// id and compares digests in constant time (CRYPTO_memcmp).
//
// Scopes nest: admin grants everything code grants, code everything read
// grants.
#ifndef CHARTCODER_TOKENS_H_
#define CHARTCODER_TOKENS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace chartcoder {

enum class TokenScope : uint8_t {
  kRead = 1,   // read stored results, summaries and metrics
  kCode = 2,   // read, plus code charts and score members
  kAdmin = 3,  // everything
};
std::string_view TokenScopeName(TokenScope scope);  // "read", "code", "admin"
// "read", "code", "admin" (any case). InvalidArgument names the text.
absl::StatusOr<TokenScope> ParseTokenScope(std::string_view text);
// True when a token of scope `held` may do what needs `needed`.
inline bool ScopeGrants(TokenScope held, TokenScope needed) {
  return static_cast<uint8_t>(held) >= static_cast<uint8_t>(needed);
}

// The length of a token's id (lower-case hex digits).
inline constexpr size_t kTokenIdLength = 16;
// True for 16 lower-case hex digits.
bool IsValidTokenId(std::string_view id);

// What the store knows about a token (never its secret).
struct TokenInfo {
  std::string id;  // 16 hex digits
  std::string name;
  TokenScope scope = TokenScope::kRead;
  std::string created_at;  // RFC 3339 UTC
  std::string revoked_at;  // RFC 3339 UTC; empty while the token is valid
  bool revoked() const { return !revoked_at.empty(); }
};

// A token just created: `token` is the bearer string, shown to its owner once
// and wiped when this object dies.
struct IssuedToken {
  IssuedToken() = default;
  IssuedToken(IssuedToken&& other) noexcept;
  IssuedToken& operator=(IssuedToken&& other) noexcept;
  IssuedToken(const IssuedToken&) = delete;
  IssuedToken& operator=(const IssuedToken&) = delete;
  ~IssuedToken();

  TokenInfo info;
  std::string token;  // "cc_<id>_<secret>"
};

struct TokenStoreOptions {
  // Where tokens are: "sqlite:PATH" or a path ending in .db, .sqlite or
  // .sqlite3 for SQLite (the file is created 0600); otherwise a PostgreSQL
  // connection string or postgresql:// URI whose schema `chartcoder db
  // migrate` brought to version 2 or later. Required.
  std::string location;
  // PostgreSQL only: permit an sslmode other than verify-full.
  bool allow_insecure = false;
  // How long Verify may answer from memory instead of the database: a token
  // revoked by another process stops working at most this long after. Zero
  // (the default) reads the database on every call. Revoke through this
  // store takes effect at once.
  absl::Duration cache_ttl = absl::ZeroDuration();
  // Most token ids remembered (known and unknown ones); the cache is emptied
  // when it is full. Default 10,000.
  size_t cache_capacity = 10000;
};

// Bearer tokens. Safe for concurrent use.
class TokenStore {
 public:
  // InvalidArgument: no location, a bad URL or TLS setting, a bad cache
  // capacity. Unavailable: the database cannot be reached.
  // FailedPrecondition: a PostgreSQL schema without the token table (run
  // `chartcoder db migrate`) or newer than this build; codes of SQLite.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(const TokenStoreOptions& options);
  ~TokenStore();
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // A new token with `scope` and an optional `name` (at most 256 bytes, no
  // control characters; InvalidArgument otherwise). Internal if the random
  // generator fails; Unavailable when the database cannot be reached.
  absl::StatusOr<IssuedToken> Create(TokenScope scope, std::string_view name = "") const;
  // Every token, oldest first, revoked ones included.
  absl::StatusOr<std::vector<TokenInfo>> List() const;
  // Revokes the token `id` from now on. NotFound for an unknown id;
  // InvalidArgument for a malformed one. Revoking a revoked token keeps its
  // first revocation time and succeeds.
  absl::Status Revoke(std::string_view id) const;

  // The token `bearer` ("cc_<id>_<secret>") names, if it is valid.
  // Unauthenticated (the message says why: malformed, unknown, wrong secret,
  // revoked; never the secret); Unavailable when the database cannot be
  // reached.
  absl::StatusOr<TokenInfo> Verify(std::string_view bearer) const;
  // The id part of a well-formed bearer string, or "" (for logs: never the
  // secret).
  static std::string_view IdOf(std::string_view bearer);

  // "sqlite /path/chartcoder.db" or "postgresql".
  std::string Describe() const;

 private:
  struct Impl;
  explicit TokenStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_TOKENS_H_
