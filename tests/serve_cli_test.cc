// `chartcoder tokens` and `chartcoder serve` end to end, as a user runs them.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::RunCli;

TEST(TokensCliTest, CreateListRevoke) {
  testing::TempDir dir;
  const std::string db = "sqlite:" + dir.File("cc.db");
  auto c = RunCli({"tokens", "create", "--scope", "code", "--name", "nightly batch", "--db", db});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  // The token alone on stdout.
  EXPECT_THAT(c.out, MatchesRegex("cc_[0-9a-f]{16}_[0-9a-f]{64}\n"));
  const std::string token = c.out.substr(0, c.out.size() - 1);
  const std::string id = token.substr(3, 16);
  EXPECT_THAT(c.err, HasSubstr("created token " + id + " (scope code)"));
  EXPECT_THAT(c.err, Not(HasSubstr(token.substr(20))));

  auto r = RunCli({"tokens", "create", "--scope", "read", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  auto list = RunCli({"tokens", "list", "--db", db});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = testing::Lines(list.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], MatchesRegex(id + "\tcode\t20[0-9-]+T[0-9:]+Z\tactive\t\"nightly batch\""));
  EXPECT_THAT(lines[1], HasSubstr("\tread\t"));
  EXPECT_THAT(list.out, Not(HasSubstr(token.substr(20))));

  auto rev = RunCli({"tokens", "revoke", id, "--db", db});
  ASSERT_EQ(rev.exit_code, 0) << rev.err;
  EXPECT_EQ(rev.err, "chartcoder: revoked token " + id + "\n");
  list = RunCli({"tokens", "list", "--json", "--db", db});
  ASSERT_EQ(list.exit_code, 0);
  lines = testing::Lines(list.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], MatchesRegex("\\{\"id\":\"" + id +
                                     "\",\"name\":\"nightly batch\",\"scope\":\"code\","
                                     "\"created_at\":\"[^\"]+\",\"revoked_at\":\"[^\"]+Z\"\\}"));
  EXPECT_THAT(lines[1], HasSubstr("\"revoked_at\":null"));

  auto missing = RunCli({"tokens", "revoke", "0123456789abcdef", "--db", db});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "chartcoder: no token 0123456789abcdef\n");
}

TEST(TokensCliTest, UsageErrors) {
  testing::TempDir dir;
  const std::string db = "sqlite:" + dir.File("cc.db");
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{"tokens"}, "give an action"},
           {{"tokens", "make"}, "unknown action 'make'"},
           {{"tokens", "create"}, "create needs --scope"},
           {{"tokens", "create", "--scope", "root"}, "unknown token scope 'root'"},
           {{"tokens", "list", "--scope", "read"}, "--scope and --name go with create"},
           {{"tokens", "revoke"}, "revoke takes one token id"},
           {{"tokens", "revoke", "xyz"}, "16 lower-case hex digits"},
           {{"tokens", "create", "--scope", "read", "--name", std::string(300, 'n')},
            "at most 256 bytes"},
       }) {
    std::vector<std::string> args = c.args;
    args.push_back("--db");
    args.push_back(db);
    auto r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_EQ(r.out, "");
  }
}

TEST(TokensCliTest, DefaultDatabaseIsUnderXdgDataHome) {
  testing::TempDir dir;
  setenv("XDG_DATA_HOME", dir.path().c_str(), 1);
  unsetenv("CHARTCODER_DB");
  auto c = RunCli({"tokens", "create", "--scope", "admin"});
  unsetenv("XDG_DATA_HOME");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(testing::FileMode(dir.File("chartcoder")), 0700u);
  EXPECT_EQ(testing::FileMode(dir.File("chartcoder/chartcoder.db")), 0600u);
  auto list = RunCli({"tokens", "list", "--db", dir.File("chartcoder/chartcoder.db")});
  EXPECT_THAT(list.out, HasSubstr("\tadmin\t"));
}

// `chartcoder serve` as a child process: its stderr is read until it says
// where it listens; it is killed when the test ends, however it ends.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int err[2];
    if (pipe(err) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], 2);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      close(err[0]);
      close(err[1]);
      testing::ExecCli(args);
    }
    close(err[1]);
    err_ = err[0];
    fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~ServeProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) close(err_);
  }
  // Reads stderr until `text` appears, the process ends, or 60 s pass.
  bool WaitFor(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (stderr_.find(text) != std::string::npos) return true;
      struct pollfd p = {err_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = read(err_, buf, sizeof buf);
        if (n == 0) return stderr_.find(text) != std::string::npos;
        if (n > 0) stderr_.append(buf, n);
      }
    }
    return false;
  }
  // The port from "serving https://127.0.0.1:PORT".
  int Port() const {
    size_t at = stderr_.find("127.0.0.1:");
    return at == std::string::npos ? 0 : std::atoi(stderr_.c_str() + at + 10);
  }
  // Sends `sig` and waits for the exit code (-1 if it does not exit in 30 s).
  int Stop(int sig) {
    kill(pid_, sig);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        WaitFor("\x01");  // drain what is left
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  const std::string& err() const { return stderr_; }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  bool reaped_ = false;
  std::string stderr_;
};

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::MakeTestPki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    db_ = "sqlite:" + dir_.File("cc.db");
  }
  testing::TempDir dir_;
  testing::TestPki pki_;
  std::string db_;
};

TEST_F(ServeCliTest, ServesCodesAndStopsOnSigterm) {
  auto t = RunCli({"tokens", "create", "--scope", "code", "--db", db_});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string token = t.out.substr(0, t.out.size() - 1);
  ServeProcess serve({"serve", "--cert", pki_.cert, "--key", pki_.key, "--port", "0", "--db", db_,
                      "--audit-log", dir_.File("audit.log"), "--threads", "1"});
  ASSERT_TRUE(serve.WaitFor("serving https://127.0.0.1:")) << serve.err();
  const int port = serve.Port();
  ASSERT_GT(port, 0);
  testing::WriteFileOrDie(dir_.File("req.json"),
                          R"({"id":"cli-1","text":"Assessment: COPD J44.9, stable.","store":true})");
  testing::CurlAnswer a = testing::Curl(
      port, pki_.ca_cert, "POST", "/v1/code",
      "-H 'Authorization: Bearer " + token + "' -H 'Content-Type: application/json' --data-binary @" +
          dir_.File("req.json"));
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr("\"code\":\"J44.9\""));
  testing::CurlAnswer h = testing::Curl(port, pki_.ca_cert, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.err();
  EXPECT_THAT(serve.err(), HasSubstr("SIGTERM: finishing requests in flight"));
  EXPECT_THAT(serve.err(), HasSubstr("chartcoder: stopped"));
  // The audit log: a private file, one line per request, no chart text or id.
  EXPECT_EQ(testing::FileMode(dir_.File("audit.log")), 0600u);
  const std::string log = testing::ReadFileOrDie(dir_.File("audit.log"));
  EXPECT_EQ(testing::Lines(log).size(), 2u) << log;
  EXPECT_THAT(log, HasSubstr("\"route\":\"/v1/code\",\"status\":200"));
  EXPECT_THAT(log, Not(HasSubstr("cli-1")));
  EXPECT_THAT(log, Not(HasSubstr("COPD")));
  // The result is in the store the CLI reads.
  auto r = RunCli({"results", "--db", db_, "--chart", "cli-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("J44.9"));
}

TEST_F(ServeCliTest, RefusesWhatItCannotServeSafely) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{"serve", "--db", db_}, 1, "give --cert FILE and --key FILE"},
           {{"serve", "--insecure-http", "--host", "0.0.0.0", "--db", db_}, 1,
            "only served on a loopback address"},
           {{"serve", "--insecure-http", "--cert", pki_.cert, "--db", db_}, 1, "drop --cert"},
           {{"serve", "--cert", pki_.cert, "--key", pki_.other_key, "--port", "0", "--db", db_}, 2,
            "does not match the certificate"},
           {{"serve", "--cert", dir_.File("none.pem"), "--key", pki_.key, "--port", "0", "--db", db_},
            2, "none.pem"},
           {{"serve", "--cert", pki_.cert, "--key", pki_.key, "--max-body", "lots", "--db", db_}, 1,
            "--max-body takes a positive size"},
           {{"serve", "--cert", pki_.cert, "--key", pki_.key, "--port", "70000", "--db", db_}, 1,
            "--port"},
       }) {
    auto r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
}

TEST_F(ServeCliTest, PlainHttpOnLoopbackForDevelopment) {
  ServeProcess serve({"serve", "--insecure-http", "--port", "0", "--db", db_, "--threads", "1"});
  ASSERT_TRUE(serve.WaitFor("serving http://127.0.0.1:")) << serve.err();
  testing::CommandResult r = testing::RunShell(
      "curl -sS http://127.0.0.1:" + std::to_string(serve.Port()) + "/healthz", true);
  EXPECT_EQ(r.out, R"({"status":"ok"})");
  EXPECT_EQ(serve.Stop(SIGINT), 0) << serve.err();
}

}  // namespace
}  // namespace chartcoder
