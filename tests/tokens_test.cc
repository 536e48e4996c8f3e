// TokenStore on SQLite and PostgreSQL: create, verify, list, revoke, the
// cache bound on revocation, and what is (not) stored.
#include "chartcoder/tokens.h"

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "chartcoder/result_store.h"
#include "chartcoder/work_queue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pg_test_server.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(TokenScopeTest, NamesParseAndNest) {
  for (TokenScope s : {TokenScope::kRead, TokenScope::kCode, TokenScope::kAdmin}) {
    EXPECT_EQ(ParseTokenScope(TokenScopeName(s)).value(), s);
  }
  EXPECT_EQ(ParseTokenScope(" ADMIN ").value(), TokenScope::kAdmin);
  absl::StatusOr<TokenScope> bad = ParseTokenScope("write");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(Message(bad.status()), HasSubstr("'write'"));
  EXPECT_TRUE(ScopeGrants(TokenScope::kAdmin, TokenScope::kRead));
  EXPECT_TRUE(ScopeGrants(TokenScope::kAdmin, TokenScope::kCode));
  EXPECT_TRUE(ScopeGrants(TokenScope::kCode, TokenScope::kRead));
  EXPECT_TRUE(ScopeGrants(TokenScope::kCode, TokenScope::kCode));
  EXPECT_FALSE(ScopeGrants(TokenScope::kCode, TokenScope::kAdmin));
  EXPECT_FALSE(ScopeGrants(TokenScope::kRead, TokenScope::kCode));
}

// The behaviour every backend shares.
void ExerciseStore(const std::string& location) {
  TokenStoreOptions o;
  o.location = location;
  absl::StatusOr<std::unique_ptr<TokenStore>> opened = TokenStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const TokenStore& store = **opened;

  absl::StatusOr<IssuedToken> a = store.Create(TokenScope::kCode, "billing batch");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->token, MatchesRegex("cc_[0-9a-f]{16}_[0-9a-f]{64}"));
  EXPECT_EQ(a->token.substr(3, 16), a->info.id);
  EXPECT_EQ(TokenStore::IdOf(a->token), a->info.id);
  EXPECT_EQ(a->info.scope, TokenScope::kCode);
  EXPECT_EQ(a->info.name, "billing batch");
  EXPECT_THAT(a->info.created_at, MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T.*Z"));
  EXPECT_FALSE(a->info.revoked());

  absl::StatusOr<TokenInfo> who = store.Verify(a->token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->id, a->info.id);
  EXPECT_EQ(who->scope, TokenScope::kCode);

  // Malformed, unknown, wrong secret: Unauthenticated, saying why.
  struct Bad {
    std::string token;
    const char* why;
  };
  std::string wrong_secret = a->token;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  std::string unknown_id = a->token;
  unknown_id[3] = unknown_id[3] == 'a' ? 'b' : 'a';
  std::string upper = a->token;
  upper[30] = 'A';
  for (const Bad& b : {Bad{"", "malformed"}, Bad{"Bearer x", "malformed"},
                       Bad{a->token + "0", "malformed"}, Bad{upper, "malformed"},
                       Bad{a->token.substr(0, 20), "malformed"}, Bad{unknown_id, "unknown"},
                       Bad{wrong_secret, "wrong token secret"}}) {
    absl::StatusOr<TokenInfo> v = store.Verify(b.token);
    EXPECT_TRUE(absl::IsUnauthenticated(v.status())) << b.token << " " << v.status();
    EXPECT_THAT(Message(v.status()), HasSubstr(b.why));
    EXPECT_THAT(Message(v.status()), Not(HasSubstr(a->token.substr(20))));
  }

  absl::StatusOr<IssuedToken> b = store.Create(TokenScope::kRead);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b->info.id, a->info.id);
  EXPECT_NE(b->token.substr(20), a->token.substr(20));
  absl::StatusOr<std::vector<TokenInfo>> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, a->info.id);
  EXPECT_EQ((*list)[1].id, b->info.id);
  EXPECT_EQ((*list)[1].scope, TokenScope::kRead);

  ASSERT_TRUE(store.Revoke(a->info.id).ok());
  absl::StatusOr<TokenInfo> revoked = store.Verify(a->token);
  EXPECT_TRUE(absl::IsUnauthenticated(revoked.status()));
  EXPECT_THAT(Message(revoked.status()), HasSubstr("revoked"));
  EXPECT_TRUE(store.Verify(b->token).ok());
  list = store.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE((*list)[0].revoked());
  const std::string first_revocation = (*list)[0].revoked_at;
  EXPECT_TRUE(store.Revoke(a->info.id).ok());  // again: kept as it was
  EXPECT_EQ(store.List().value()[0].revoked_at, first_revocation);
  EXPECT_TRUE(absl::IsNotFound(store.Revoke("0123456789abcdef")));
  EXPECT_TRUE(absl::IsInvalidArgument(store.Revoke("nope")));

  EXPECT_TRUE(absl::IsInvalidArgument(store.Create(TokenScope::kRead, "a\nb").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store.Create(TokenScope::kRead, std::string(300, 'x')).status()));
}

TEST(TokenStoreTest, Sqlite) {
  testing::TempDir dir;
  ExerciseStore("sqlite:" + dir.File("cc.db"));
  EXPECT_EQ(testing::FileMode(dir.File("cc.db")), 0600u);
}

TEST(TokenStoreTest, SqliteStoresOnlyTheDigestAndSharesTheResultStoreFile) {
  testing::TempDir dir;
  const std::string path = dir.File("cc.db");
  TokenStoreOptions o;
  o.location = path;
  auto store = TokenStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<IssuedToken> t = (*store)->Create(TokenScope::kAdmin, "ops");
  ASSERT_TRUE(t.ok());
  // The result store opens the same file, before and after.
  ResultStoreOptions ro;
  ro.location = path;
  auto results = OpenResultStore(ro);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_TRUE((*results)->Put({"c1", ChartDigest("x"), "", "{}"}).ok());
  auto again = TokenStore::Open(o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Verify(t->token).ok());
  // Neither the secret nor the whole token is in the file.
  const std::string secret = t->token.substr(20);
  std::string bytes = testing::ReadFileOrDie(path);
  std::string wal = std::filesystem::exists(path + "-wal") ? testing::ReadFileOrDie(path + "-wal") : "";
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(wal.find(secret), std::string::npos);
  EXPECT_NE((bytes + wal).find(t->info.id), std::string::npos);
}

TEST(TokenStoreTest, CacheBoundsHowLongARevocationElsewhereTakes) {
  testing::TempDir dir;
  TokenStoreOptions o;
  o.location = dir.File("cc.db");
  o.cache_ttl = absl::Milliseconds(300);
  auto server_side = TokenStore::Open(o);
  ASSERT_TRUE(server_side.ok());
  TokenStoreOptions plain = o;
  plain.cache_ttl = absl::ZeroDuration();
  auto admin_side = TokenStore::Open(plain);  // another process, in effect
  ASSERT_TRUE(admin_side.ok());
  absl::StatusOr<IssuedToken> t = (*admin_side)->Create(TokenScope::kRead);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*server_side)->Verify(t->token).ok());  // now cached
  ASSERT_TRUE((*admin_side)->Revoke(t->info.id).ok());
  // Within the bound the cached answer may stand; after it, never.
  absl::SleepFor(absl::Milliseconds(350));
  EXPECT_TRUE(absl::IsUnauthenticated((*server_side)->Verify(t->token).status()));
  // A token created elsewhere after an unknown-id answer was cached is found
  // after the bound too; revocation through the caching store is immediate.
  absl::StatusOr<IssuedToken> u = (*server_side)->Create(TokenScope::kRead);
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE((*server_side)->Verify(u->token).ok());
  ASSERT_TRUE((*server_side)->Revoke(u->info.id).ok());
  EXPECT_TRUE(absl::IsUnauthenticated((*server_side)->Verify(u->token).status()));
}

TEST(TokenStoreTest, ConcurrentVerifiesAndCreates) {
  testing::TempDir dir;
  TokenStoreOptions o;
  o.location = dir.File("cc.db");
  o.cache_ttl = absl::Seconds(2);
  o.cache_capacity = 3;  // forces the cache to be emptied while in use
  auto store = TokenStore::Open(o);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back((*store)->Create(TokenScope::kRead)->token);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!(*store)->Verify(tokens[(i + t) % tokens.size()]).ok()) ++failures;
      }
      if (!(*store)->Create(TokenScope::kCode).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*store)->List()->size(), 9u);
}

TEST(TokenStoreTest, OptionErrors) {
  EXPECT_TRUE(absl::IsInvalidArgument(TokenStore::Open({}).status()));
  testing::TempDir dir;
  TokenStoreOptions o;
  o.location = dir.File("cc.db");
  o.cache_capacity = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(TokenStore::Open(o).status()));
  o.cache_capacity = 1;
  o.location = dir.File("missing/sub/cc.db");
  EXPECT_TRUE(absl::IsFailedPrecondition(TokenStore::Open(o).status()));
}

class TokenStorePgTest : public testing::PgServerSuite {};

TEST_F(TokenStorePgTest, NeedsMigrationThenWorks) {
  ASSERT_TRUE(server_->CreateDatabase("tokens").ok());
  TokenStoreOptions o;
  o.location = server_->Url("tokens");
  absl::StatusOr<std::unique_ptr<TokenStore>> s = TokenStore::Open(o);
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(Message(s.status()), HasSubstr("chartcoder db migrate"));
  WorkQueueOptions q;
  q.url = o.location;
  auto queue = WorkQueue::Create(q);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE((*queue)->Migrate().ok());
  ExerciseStore(o.location);
  // Plaintext needs allow_insecure, as for the queue.
  o.location = server_->InsecureUrl("tokens");
  EXPECT_TRUE(absl::IsInvalidArgument(TokenStore::Open(o).status()));
  o.allow_insecure = true;
  EXPECT_TRUE(TokenStore::Open(o).ok());
}

}  // namespace
}  // namespace chartcoder
