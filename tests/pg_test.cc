// The libpq layer (src/internal/pg.h): array parameters and prepared
// statements, against a private TLS PostgreSQL.
#include "src/internal/pg.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pg_test_server.h"

namespace chartcoder::internal {
namespace {

using ::testing::HasSubstr;

TEST(PgArrayTest, QuotesEveryElementAndWritesNull) {
  EXPECT_EQ(PgArray({}), "{}");
  EXPECT_EQ(PgArray({std::string("a"), std::nullopt, std::string("")}), R"({"a",NULL,""})");
  EXPECT_EQ(PgArray({std::string("say \"hi\"\\n"), std::string("NULL")}),
            R"({"say \"hi\"\\n","NULL"})");
  EXPECT_EQ(PgByteaText(std::string("\x00\x01\xab\xff", 4)), "\\x0001abff");
  EXPECT_EQ(PgByteaText(""), "\\x");
}

class PgTest : public testing::PgServerSuite {
 protected:
  void SetUp() override {
    PgConnectOptions o;
    o.url = server_->Url();
    auto c = PgConnection::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::move(*c);
  }
  PgConnection conn_;
};

TEST_F(PgTest, ArraysRoundTripThroughTheServer) {
  const std::vector<std::optional<std::string>> texts = {
      std::string(R"({"json":"with \"quotes\", \\ and {braces}, commas"})"), std::nullopt,
      std::string(""), std::string("NULL"), std::string(" spaced "), std::string("é, 中文")};
  auto r = conn_.Exec("SELECT t, t IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) "
                      "ORDER BY n",
                      {PgArray(texts)});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), static_cast<int>(texts.size()));
  for (int i = 0; i < r->rows(); ++i) {
    EXPECT_EQ(r->Get(i, 1) == "t", !texts[i].has_value()) << i;
    if (texts[i]) {
      EXPECT_EQ(r->Get(i, 0), *texts[i]) << i;
    }
  }
  const std::string bytes("\x00\x01\"\\\xff sealed", 10);
  r = conn_.Exec("SELECT b FROM unnest($1::bytea[]) AS u(b)",
                 {PgArray({PgByteaText(bytes), std::nullopt})});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), 2);
  EXPECT_EQ(r->GetBytea(0, 0), bytes);
  EXPECT_TRUE(r->IsNull(1, 0));
  r = conn_.Exec("SELECT sum(x) FROM unnest($1::bigint[]) AS u(x)",
                 {PgArray({std::string("1"), std::string("9000000000")})});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->GetInt(0, 0), 9000000001);
}

TEST_F(PgTest, PreparedStatementsAnswerLikeExecAndOutliveTheirCache) {
  ASSERT_TRUE(conn_.Exec("CREATE TEMP TABLE t (k int PRIMARY KEY, v text)").ok());
  // More distinct texts than the cache keeps, each run twice.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      auto r = conn_.ExecPrepared(
          absl::StrCat("INSERT INTO t VALUES ($1::int + ", i * 100, ", $2) ON CONFLICT (k) DO "
                       "UPDATE SET v = EXCLUDED.v RETURNING k"),
          {absl::StrCat(round), absl::StrCat("r", round)});
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->GetInt(0, 0), i * 100 + round);
    }
  }
  auto n = conn_.ExecPrepared("SELECT count(*), min(v), max(v) FROM t WHERE k >= $1::int", {"0"});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->GetInt(0, 0), 80);
  EXPECT_EQ(n->Get(0, 2), "r1");
  auto served = conn_.Exec("SELECT count(*) FROM pg_prepared_statements");
  ASSERT_TRUE(served.ok());
  EXPECT_LE(served->GetInt(0, 0), 16);
  // Errors map to the same codes, and a statement that failed can run again.
  EXPECT_TRUE(absl::IsAlreadyExists(
      conn_.ExecPrepared("INSERT INTO t VALUES ($1::int, 'x')", {"0"}).status()));
  EXPECT_TRUE(conn_.ExecPrepared("INSERT INTO t VALUES ($1::int, 'x')", {"7"}).ok());
  auto bad = conn_.ExecPrepared("SELEC nothing");
  EXPECT_TRUE(absl::IsInternal(bad.status())) << bad.status();
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("syntax error"));
  // Binary parameters.
  auto b = conn_.ExecPrepared("SELECT length($1::bytea)",
                              {PgParam::Binary(std::string("\x00\x01\x02", 3))});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->GetInt(0, 0), 3);
}

}  // namespace
}  // namespace chartcoder::internal
