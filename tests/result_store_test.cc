#include "chartcoder/result_store.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/pg.h"
#include "src/internal/pg_schema.h"
#include "tests/pg_test_server.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;

MATCHER_P(IsOkAndHolds, m, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

std::unique_ptr<KeyProvider> TestKeys(const std::string& id = "k1") {
  auto key = SecretKey::FromBytes(std::string(32, 'k'));
  std::vector<InMemoryKeyProvider::Entry> entries;
  entries.push_back({id, std::move(*key)});
  return std::make_unique<InMemoryKeyProvider>(std::move(entries), id, "test keys");
}

ResultRecord Record(std::string chart, std::string patient, std::string json) {
  ResultRecord r;
  r.digest = ChartDigest("text of " + chart);
  r.chart_id = std::move(chart);
  r.patient_id = std::move(patient);
  r.result_json = std::move(json);
  return r;
}

TEST(ChartDigestTest, IsSha256Hex) {
  EXPECT_EQ(ChartDigest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsValidChartDigest(ChartDigest("")));
  EXPECT_FALSE(IsValidChartDigest("ABC"));
  EXPECT_FALSE(IsValidChartDigest(std::string(64, 'G')));
}

// The behaviour every store shares.
void ExerciseStore(const ResultStoreOptions& options) {
  auto store = OpenResultStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ResultStore& s = **store;
  ASSERT_THAT(s.Put(Record("c1", "p1", R"({"a":1})")), IsOkAndHolds(true));
  // Idempotent: the same chart and digest keeps the first result.
  ASSERT_THAT(s.Put(Record("c1", "p1", R"({"a":2})")), IsOkAndHolds(false));
  ResultRecord changed = Record("c1", "p1", R"({"a":3})");
  changed.digest = ChartDigest("a new version of c1");
  ASSERT_THAT(s.Put(changed), IsOkAndHolds(true));
  ASSERT_THAT(s.Put(Record("c2", "p1", R"({"b":1})")), IsOkAndHolds(true));
  ASSERT_THAT(s.Put(Record("c3", "", R"({"c":1})")), IsOkAndHolds(true));
  EXPECT_THAT(s.Count(), IsOkAndHolds(4));

  auto c1 = s.GetByChart("c1");
  ASSERT_TRUE(c1.ok()) << c1.status();
  ASSERT_EQ(c1->size(), 2u);
  EXPECT_EQ((*c1)[0].record.result_json, R"({"a":1})");
  EXPECT_EQ((*c1)[1].record.result_json, R"({"a":3})");
  EXPECT_EQ((*c1)[0].sealed, options.keys != nullptr);
  EXPECT_THAT((*c1)[0].created_at, ::testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  auto p1 = s.GetByPatient("p1");
  ASSERT_TRUE(p1.ok()) << p1.status();
  ASSERT_EQ(p1->size(), 3u);
  EXPECT_EQ((*p1)[2].record.chart_id, "c2");
  EXPECT_THAT(s.GetByPatient(""), IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(s.GetByChart("nope"), IsOkAndHolds(::testing::IsEmpty()));

  ResultRecord bad = Record("c9", "", "{}");
  bad.digest = "xyz";
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put(bad).status()));
  bad = Record("", "", "{}");
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put(bad).status()));
  bad = Record(std::string(300, 'c'), "", "{}");
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put(bad).status()));

  // Many threads putting the same results: one each survives.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < 25; ++i) {
        auto r = s.Put(Record(absl::StrCat("t", i), "pt", "{}"));
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(s.Count(), IsOkAndHolds(4 + 25));
}

TEST(SqliteResultStoreTest, StoresIdempotentlyAndReads) {
  testing::TempDir dir;
  ResultStoreOptions o;
  o.location = "sqlite:" + dir.File("r.db");
  ExerciseStore(o);
  EXPECT_EQ(testing::FileMode(dir.File("r.db")), 0600u);
}

TEST(SqliteResultStoreTest, SealsWithKeysAndRefusesToOpenWithout) {
  testing::TempDir dir;
  auto keys = TestKeys();
  ResultStoreOptions o;
  o.location = dir.File("sealed.db");
  o.keys = keys.get();
  ExerciseStore(o);
  // The JSON is not in the file in the clear.
  EXPECT_THAT(testing::ReadFileOrDie(dir.File("sealed.db")), ::testing::Not(HasSubstr("\"a\":1")));
  o.keys = nullptr;
  auto plain = OpenResultStore(o);
  ASSERT_TRUE(plain.ok());
  auto r = (*plain)->GetByChart("c1");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  auto other = TestKeys("k2");
  o.keys = other.get();
  auto wrong = OpenResultStore(o);
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(absl::IsNotFound((*wrong)->GetByChart("c1").status()));
}

TEST(SqliteResultStoreTest, RejectsAFileThatIsNotADatabase) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("junk.db"), std::string(4096, 'x'));
  ResultStoreOptions o;
  o.location = dir.File("junk.db");
  auto store = OpenResultStore(o);
  EXPECT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
  o.location = "sqlite:" + dir.File("missing/dir/r.db");
  EXPECT_TRUE(absl::IsFailedPrecondition(OpenResultStore(o).status()));
  o.location = "";
  EXPECT_TRUE(absl::IsInvalidArgument(OpenResultStore(o).status()));
}

class PostgresResultStoreTest : public testing::PgServerSuite {
 protected:
  static std::string NewDatabase(const std::string& name, bool migrate) {
    EXPECT_TRUE(server_->CreateDatabase(name).ok());
    if (migrate) {
      internal::PgConnectOptions o;
      o.url = server_->Url(name);
      auto conn = internal::PgConnection::Connect(o);
      EXPECT_TRUE(conn.ok()) << conn.status();
      EXPECT_TRUE(conn->tls());
      EXPECT_TRUE(internal::MigratePg(*conn).ok());
    }
    return server_->Url(name);
  }
};

TEST_F(PostgresResultStoreTest, StoresIdempotentlyAndReads) {
  ResultStoreOptions o;
  o.location = NewDatabase("plain", true);
  ExerciseStore(o);
}

TEST_F(PostgresResultStoreTest, Sealed) {
  auto keys = TestKeys();
  ResultStoreOptions o;
  o.location = NewDatabase("sealed", true);
  o.keys = keys.get();
  ExerciseStore(o);
}

TEST_F(PostgresResultStoreTest, NeedsTheSchema) {
  ResultStoreOptions o;
  o.location = NewDatabase("empty", false);
  auto store = OpenResultStore(o);
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("chartcoder db migrate"));
}

TEST_F(PostgresResultStoreTest, RefusesPlaintextUnlessAllowed) {
  std::string url = NewDatabase("tls", true);
  ResultStoreOptions o;
  o.location = server_->InsecureUrl("tls");
  auto store = OpenResultStore(o);
  EXPECT_TRUE(absl::IsInvalidArgument(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("--insecure-db"));
  o.allow_insecure = true;
  EXPECT_TRUE(OpenResultStore(o).ok());
  // verify-full with a root certificate that did not sign the server's.
  testing::TempDir dir;
  std::string other = dir.File("other.crt");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout " +
                         dir.File("k") + " -out " + other + " -subj /CN=x 2>/dev/null")
                            .c_str()),
            0);
  o.location = "host=127.0.0.1 port=" + std::to_string(server_->port()) +
               " user=postgres dbname=tls sslrootcert=" + other;
  o.allow_insecure = false;
  store = OpenResultStore(o);
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("certificate"));
  // The host name must match the certificate.
  o.location = "postgresql://postgres@127.0.0.2:" + std::to_string(server_->port()) +
               "/tls?sslrootcert=" + server_->root_cert();
  EXPECT_FALSE(OpenResultStore(o).ok());
}

}  // namespace
}  // namespace chartcoder
