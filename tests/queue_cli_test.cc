// The queue commands end to end: db migrate, submit, worker, status, results.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pg_test_server.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using testing::RunCli;

class QueueCliTest : public testing::PgServerSuite {
 protected:
  void SetUp() override {
    static int n = 0;
    std::string db = absl::StrCat("cli", ++n);
    ASSERT_TRUE(server_->CreateDatabase(db).ok());
    url_ = server_->Url(db);
    auto m = RunCli({"db", "migrate", "--db", url_});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(m.out, "schema at version 2\n");
  }
  std::string url_;
  testing::TempDir dir_;
};

TEST_F(QueueCliTest, SubmitWorkStatusResults) {
  testing::WriteFileOrDie(dir_.File("c1.txt"), "Assessment: type 2 diabetes with CKD, E11.22.\n");
  testing::WriteFileOrDie(dir_.File("c2.txt"), "Plan: hypertension I10, stable.\n");
  auto sub = RunCli({"submit", "--db", url_, "--patient", "m1", "--demographics",
                     R"({"age":72,"sex":"F"})", dir_.File("c1.txt"), dir_.File("c2.txt")});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, "queued 2, already queued or done 0\n");
  sub = RunCli({"submit", "--db", url_, dir_.File("c1.txt")});
  EXPECT_EQ(sub.out, "queued 0, already queued or done 1\n");

  auto st = RunCli({"status", "--db", url_, "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_THAT(st.out, HasSubstr(R"("queued":2,)"));

  auto w = RunCli({"worker", "--db", url_, "--idle-exit", "1", "--poll-ms", "50", "--batch", "8"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_THAT(w.err, HasSubstr("2 done, 0 failed attempts"));
  EXPECT_THAT(w.err, HasSubstr("queue idle, exiting"));

  st = RunCli({"status", "--db", url_, "--prometheus"});
  EXPECT_THAT(st.out, HasSubstr("chartcoder_queue_jobs{state=\"done\"} 2\n"));
  EXPECT_THAT(st.out, HasSubstr("chartcoder_queue_jobs{state=\"queued\"} 0\n"));
  st = RunCli({"status", "--db", url_});
  EXPECT_THAT(st.out, HasSubstr("done        2\n"));

  auto r = RunCli({"results", "--db", url_, "--chart", "c1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("chart_id":"c1","patient_id":"m1")"));
  EXPECT_THAT(r.out, HasSubstr(R"("code":"E11.22")"));
  EXPECT_THAT(r.out, HasSubstr(R"("sealed":false)"));
  r = RunCli({"results", "--db", url_, "--patient", "m1"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  r = RunCli({"results", "--db", url_, "--chart", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "chartcoder: no results for that chart\n");
}

TEST_F(QueueCliTest, EmbeddedSealedChartsAndSealedResults) {
  const std::string ring = dir_.File("ring");
  ASSERT_EQ(RunCli({"keygen", "--keyring", ring}).exit_code, 0);
  testing::WriteFileOrDie(dir_.File("c3.txt"), "COPD J44.9\n");
  // --embed refuses a plain chart without a key to seal it.
  auto sub = RunCli({"submit", "--db", url_, "--embed", dir_.File("c3.txt")});
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_THAT(sub.err, HasSubstr("not sealed"));
  sub = RunCli({"submit", "--db", url_, "--embed", "--keyring", ring, dir_.File("c3.txt")});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  // The worker without the key fails the job (and retries); with it, codes it.
  auto w = RunCli({"worker", "--db", url_, "--max-jobs", "1", "--retry-base-ms", "1"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_THAT(w.err, HasSubstr("failed, will retry"));
  w = RunCli({"worker", "--db", url_, "--keyring", ring, "--idle-exit", "1", "--poll-ms", "50",
              "--retry-base-ms", "1"});
  // The retry waits out a short backoff.
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_THAT(w.err, HasSubstr("1 done"));
  auto r = RunCli({"results", "--db", url_, "--chart", "c3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("sealed"));
  r = RunCli({"results", "--db", url_, "--chart", "c3", "--keyring", ring});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("sealed":true)"));
  EXPECT_THAT(r.out, HasSubstr(R"("code":"J44.9")"));
}

TEST_F(QueueCliTest, ErrorsAreOneLineWithTheRightExitCode) {
  auto r = RunCli({"submit", "--db", url_});
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli({"submit", "--db", url_, dir_.File("missing.txt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  r = RunCli({"submit", "--db", server_->InsecureUrl(), dir_.File("missing.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--insecure-db"));
  r = RunCli({"status", "--db", url_, "--json", "--prometheus"});
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli({"results", "--db", url_});
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli({"db", "frobnicate", "--db", url_});
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli({"worker", "--db", url_, "--lease-seconds", "0"});
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli({"worker", "--db", url_, "--batch", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("batch"));
  // A SQLite result store reads the same way.
  r = RunCli({"results", "--db", "sqlite:" + dir_.File("r.db"), "--chart", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no results"));
  r = RunCli({"db", "dead-letters", "--db", url_, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace chartcoder
