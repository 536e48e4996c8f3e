// chartcoder tokens create|list|revoke: API bearer tokens for `chartcoder serve`.
#include <cstdio>
#include <string>

#include "chartcoder/tokens.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

constexpr std::string_view kName = "tokens";

int OpenFailed(const absl::Status& s) {
  return absl::IsInvalidArgument(s) ? UsageError(kName, s) : Fail(s);
}

int Run(const CommandLine& args) {
  const std::vector<std::string>& pos = args.positional();
  if (pos.empty()) return UsageError(kName, "give an action: create, list or revoke");
  const std::string& action = pos[0];
  if (action != "create" && action != "list" && action != "revoke") {
    return UsageError(kName, "unknown action '" + action + "' (create, list, revoke)");
  }
  const size_t want_args = action == "revoke" ? 2 : 1;
  if (pos.size() != want_args) {
    return UsageError(kName, action == "revoke" ? "revoke takes one token id"
                                                : action + " takes no arguments");
  }
  if (action != "create" && (args.Has("scope") || args.Has("name"))) {
    return UsageError(kName, "--scope and --name go with create");
  }
  TokenScope scope = TokenScope::kRead;
  if (action == "create") {
    if (!args.Has("scope")) return UsageError(kName, "create needs --scope read|code|admin");
    absl::StatusOr<TokenScope> s = ParseTokenScope(args.Get("scope"));
    if (!s.ok()) return UsageError(kName, s.status());
    scope = *s;
  }
  absl::StatusOr<std::string> location = StoreLocation(args);
  if (!location.ok()) return Fail(location.status());
  TokenStoreOptions o;
  o.location = *location;
  o.allow_insecure = args.Has("insecure-db");
  absl::StatusOr<std::unique_ptr<TokenStore>> store = TokenStore::Open(o);
  if (!store.ok()) return OpenFailed(store.status());

  if (action == "create") {
    absl::StatusOr<IssuedToken> t = (*store)->Create(scope, args.Get("name"));
    if (!t.ok()) return t.status().code() == absl::StatusCode::kInvalidArgument
                            ? UsageError(kName, t.status())
                            : Fail(t.status());
    // The token alone on stdout (for $(...)); what it is on stderr.
    std::printf("%s\n", t->token.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "chartcoder: created token %s (scope %s); it is shown only once\n",
                 t->info.id.c_str(), std::string(TokenScopeName(t->info.scope)).c_str());
    return kExitOk;
  }
  if (action == "revoke") {
    absl::Status s = (*store)->Revoke(pos[1]);
    if (absl::IsInvalidArgument(s)) return UsageError(kName, s);
    if (!s.ok()) return Fail(s);
    std::fprintf(stderr, "chartcoder: revoked token %s\n", pos[1].c_str());
    return kExitOk;
  }
  absl::StatusOr<std::vector<TokenInfo>> list = (*store)->List();
  if (!list.ok()) return Fail(list.status());
  std::string out;
  for (const TokenInfo& t : *list) {
    if (args.Has("json")) {
      internal::JsonWriter w(&out);
      w.BeginObject();
      w.Field("id", t.id);
      w.Field("name", t.name);
      w.Field("scope", TokenScopeName(t.scope));
      w.Field("created_at", t.created_at);
      w.Key("revoked_at");
      if (t.revoked()) {
        w.String(t.revoked_at);
      } else {
        w.Null();
      }
      w.EndObject();
      out.push_back('\n');
    } else {
      out += t.id + "\t" + std::string(TokenScopeName(t.scope)) + "\t" + t.created_at + "\t" +
             (t.revoked() ? "revoked " + t.revoked_at : std::string("active")) + "\t" +
             internal::JsonQuote(t.name) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace

const Command& TokensCommand() {
  static const Command* const kCommand = new Command{
      "tokens", "API tokens for chartcoder serve: create, list, revoke",
      "Usage: chartcoder tokens create --scope read|code|admin [--name TEXT] [--db URL]\n"
      "       chartcoder tokens list [--json] [--db URL]\n"
      "       chartcoder tokens revoke ID [--db URL]\n\n"
      "create prints the new bearer token (cc_<id>_<secret>) alone on stdout; it is shown\n"
      "once: only its SHA-256 is stored. Scopes nest: read (stored results, summaries,\n"
      "metrics), code (read, plus POST /v1/code and /v1/raf), admin (everything).\n"
      "list prints one token per line: id, scope, created, active or revoked with the\n"
      "time, name (never the secret). revoke ID stops the token: a running server\n"
      "refuses it within its --token-cache time (default 2 s).\n\n"
      "Tokens live beside the results: the same --db as `chartcoder serve` (a SQLite\n"
      "file, or PostgreSQL migrated by `chartcoder db migrate`).",
      Concat({StoreFlags(),
              {{"scope", "SCOPE", "create: read, code or admin"},
               {"name", "TEXT", "create: a label for the token (who or what uses it)"},
               {"json", "", "list: one JSON object per line"}}}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
