// The Lambda bootstrap end to end against a Runtime API server written here
// from the published protocol (GET /2018-06-01/runtime/invocation/next with
// the request id and deadline headers; POST .../invocation/ID/response,
// .../invocation/ID/error, /2018-06-01/runtime/init/error).
#include "chartcoder/lambda_runtime.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "chartcoder/result_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "src/internal/crypto.h"
#include "src/internal/json_writer.h"
#include "src/internal/result_codec.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A Runtime API: hands out queued events and records what comes back.
class FakeRuntimeApi {
 public:
  struct Answer {
    std::string kind;  // "response" or "error"
    std::string body;
    std::string error_type;
    Clock::time_point at;
  };

  FakeRuntimeApi() {
    server_.Get("/2018-06-01/runtime/invocation/next",
                [this](const httplib::Request&, httplib::Response& res) {
                  std::unique_lock<std::mutex> lock(mu_);
                  cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !pending_.empty(); });
                  if (pending_.empty()) {
                    res.status = 500;
                    return;
                  }
                  auto [id, event, budget_ms] = pending_.front();
                  pending_.pop_front();
                  res.set_header("Lambda-Runtime-Aws-Request-Id", id);
                  res.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(NowMs() + budget_ms));
                  res.set_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:000000000000:function:chartcoder");
                  res.set_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000");
                  res.set_content(event, "application/json");
                });
    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/(response|error))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard<std::mutex> lock(mu_);
                   answers_[req.matches[1]] =
                       Answer{req.matches[2], req.body,
                              req.get_header_value("Lambda-Runtime-Function-Error-Type"),
                              Clock::now()};
                   cv_.notify_all();
                   res.status = 202;
                 });
    server_.Post("/2018-06-01/runtime/init/error",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard<std::mutex> lock(mu_);
                   init_error_ = req.body;
                   cv_.notify_all();
                   res.status = 202;
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeRuntimeApi() {
    server_.stop();
    thread_.join();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  void Invoke(std::string id, std::string event, int64_t budget_ms = 60000) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back({std::move(id), std::move(event), budget_ms});
    cv_.notify_all();
  }
  std::optional<Answer> WaitFor(const std::string& id) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return answers_.count(id) > 0; });
    if (answers_.count(id) == 0) return std::nullopt;
    return answers_[id];
  }
  std::string WaitForInitError() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return !init_error_.empty(); });
    return init_error_;
  }

 private:
  struct Pending {
    std::string id, event;
    int64_t budget_ms;
  };
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
  std::map<std::string, Answer> answers_;
  std::string init_error_;
};

// Starts the bootstrap with `env` added to the environment.
pid_t SpawnBootstrap(const std::map<std::string, std::string>& env, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    freopen(log.c_str(), "a", stdout);
    freopen(log.c_str(), "a", stderr);
    execl(CHARTCODER_LAMBDA_BOOTSTRAP, "bootstrap", nullptr);
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 600; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -2;
}

std::string SqsEvent(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out = "{\"Records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"messageId\":\"", records[i].first, "\",\"receiptHandle\":\"rh\",",
                    "\"body\":", internal::JsonQuote(records[i].second),
                    ",\"attributes\":{},\"eventSource\":\"aws:sqs\",",
                    "\"eventSourceARN\":\"arn:aws:sqs:us-east-1:000000000000:charts\"}");
  }
  return out + "]}";
}


class LambdaRuntimeTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> Env() {
    return {{"AWS_LAMBDA_RUNTIME_API", api_.address()},
            {"CHARTCODER_DATA", testing::TestPackPath()},
            {"CHARTCODER_DB", "sqlite:" + dir_.File("results.db")},
            {"CHARTCODER_THREADS", "1"}};
  }
  std::vector<StoredResult> Results(const std::string& chart) {
    ResultStoreOptions o;
    o.location = "sqlite:" + dir_.File("results.db");
    auto store = OpenResultStore(o);
    EXPECT_TRUE(store.ok()) << store.status();
    auto r = (*store)->GetByChart(chart);
    return r.ok() ? *r : std::vector<StoredResult>{};
  }
  // Starts the bootstrap; TearDown kills it if a failed assertion left it running.
  pid_t Spawn(const std::map<std::string, std::string>& env) {
    pid_t pid = SpawnBootstrap(env, dir_.File("log"));
    children_.push_back(pid);
    return pid;
  }
  void TearDown() override {
    for (pid_t pid : children_) {
      if (waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  }
  FakeRuntimeApi api_;
  testing::TempDir dir_;
  std::vector<pid_t> children_;
};

TEST_F(LambdaRuntimeTest, SqsBatchDirectInvocationAndErrorsEndToEnd) {
  testing::WriteFileOrDie(dir_.File("c1.txt"), "Assessment: E11.22 and I10.\n");
  testing::WriteFileOrDie(dir_.File("c2.txt"), "COPD J44.9\n");
  std::string m1 = absl::StrCat(R"({"chart_id":"c1","patient_id":"m1","ref":")", dir_.File("c1.txt"),
                                R"(","digest":")", ChartDigest("Assessment: E11.22 and I10.\n"),
                                R"(","demographics":{"age":70,"sex":"M"}})");
  std::string m2 = absl::StrCat(R"({"chart_id":"c2","ref":")", dir_.File("c2.txt"), R"("})");
  std::string bad_digest = absl::StrCat(R"({"chart_id":"c3","ref":")", dir_.File("c2.txt"),
                                        R"(","digest":")", ChartDigest("other"), R"("})");
  api_.Invoke("sqs-1", SqsEvent({{"m-1", m1}, {"m-2", m2}, {"m-3", bad_digest},
                                 {"m-4", "not json"}, {"m-5", R"({"chart_id":"x"})"}}));
  api_.Invoke("direct-1", R"({"chart_id":"d1","chart":"Plan: CHF I50.9."})");
  api_.Invoke("direct-2", R"({"chart_id":"d2"})");
  api_.Invoke("garbage", "{{{");
  auto start = Clock::now();
  auto env = Env();
  env["CHARTCODER_LAMBDA_MAX_INVOCATIONS"] = "4";
  pid_t pid = Spawn(env);

  auto sqs = api_.WaitFor("sqs-1");
  ASSERT_TRUE(sqs.has_value()) << testing::ReadFileOrDie(dir_.File("log"));
  std::printf("[ cold start ] process start to first response: %.1f ms\n",
              std::chrono::duration<double, std::milli>(sqs->at - start).count());
  EXPECT_EQ(sqs->kind, "response");
  EXPECT_EQ(sqs->body, R"({"batchItemFailures":[{"itemIdentifier":"m-3"},)"
                       R"({"itemIdentifier":"m-4"},{"itemIdentifier":"m-5"}]})");
  auto direct = api_.WaitFor("direct-1");
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(direct->kind, "response");
  EXPECT_THAT(direct->body, HasSubstr(R"("code":"I50.9")"));
  auto failed = api_.WaitFor("direct-2");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->kind, "error");
  EXPECT_EQ(failed->error_type, "chartcoder.Error");
  EXPECT_THAT(failed->body, HasSubstr(R"("errorType":"chartcoder.INVALID_ARGUMENT")"));
  auto garbage = api_.WaitFor("garbage");
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(garbage->kind, "error");
  EXPECT_EQ(WaitExit(pid), 0) << testing::ReadFileOrDie(dir_.File("log"));

  ASSERT_EQ(Results("c1").size(), 1u);
  EXPECT_EQ(Results("c1")[0].record.patient_id, "m1");
  EXPECT_THAT(Results("c1")[0].record.result_json, HasSubstr("E11.22"));
  EXPECT_EQ(Results("c2").size(), 1u);
  EXPECT_EQ(Results("c3").size(), 0u);
  EXPECT_EQ(Results("d1").size(), 1u);
  // The log names requests, never charts.
  std::string log = testing::ReadFileOrDie(dir_.File("log"));
  EXPECT_THAT(log, HasSubstr("request sqs-1 answered"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("c1")));
}

TEST_F(LambdaRuntimeTest, RecordsNotStartedBeforeTheDeadlineAreReportedAsFailures) {
  // Big charts, one at a time: the first starts, the deadline passes while
  // it is coded, and the rest are reported for redelivery without starting.
  std::string big;
  while (big.size() < (12u << 20)) big += "Chronic kidney disease stage 3a N18.31, diabetes E11.22.\n";
  testing::WriteFileOrDie(dir_.File("big.txt"), big);
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back({absl::StrCat("m", i), absl::StrCat(R"({"chart_id":"big)", i, R"(","ref":")",
                                                         dir_.File("big.txt"), R"("})")});
  }
  // 1.2 s to the deadline with a 1 s margin: only the first record may start.
  api_.Invoke("tight", SqsEvent(records), 1200);
  auto env = Env();
  env["CHARTCODER_LAMBDA_MAX_INVOCATIONS"] = "1";
  env["CHARTCODER_SAFETY_MARGIN_MS"] = "1000";
  pid_t pid = Spawn(env);
  auto answer = api_.WaitFor("tight");
  ASSERT_TRUE(answer.has_value()) << testing::ReadFileOrDie(dir_.File("log"));
  EXPECT_EQ(WaitExit(pid), 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(answer->body).get(doc), simdjson::SUCCESS) << answer->body;
  std::set<std::string> failed;
  for (simdjson::dom::element f : doc["batchItemFailures"].get_array()) {
    failed.insert(std::string(std::string_view(f["itemIdentifier"].get_string())));
  }
  EXPECT_EQ(failed.count("m0"), 0u) << answer->body;
  EXPECT_EQ(failed.count("m4"), 1u) << answer->body;
  // No record is lost: each has a result or is reported for redelivery.
  for (int i = 0; i < 5; ++i) {
    bool stored = !Results(absl::StrCat("big", i)).empty();
    EXPECT_NE(stored, failed.count(absl::StrCat("m", i)) == 1) << i;
  }
  EXPECT_THAT(testing::ReadFileOrDie(dir_.File("log")), HasSubstr("not started before the deadline"));
}

TEST_F(LambdaRuntimeTest, AFailedInitIsReported) {
  auto env = Env();
  env["CHARTCODER_DATA"] = dir_.File("no-such.ccpack");
  pid_t pid = Spawn(env);
  std::string error = api_.WaitForInitError();
  EXPECT_THAT(error, HasSubstr(R"("errorType":"chartcoder.NOT_FOUND")"));
  EXPECT_EQ(WaitExit(pid), 1);
}

TEST_F(LambdaRuntimeTest, SqsEventsNeedAStoreAndSealedChartsAKey) {
  auto key = SecretKey::FromBytes(std::string(32, 'z'));
  std::vector<InMemoryKeyProvider::Entry> e;
  e.push_back({"k", std::move(*key)});
  InMemoryKeyProvider keys(std::move(e), "k", "test");
  auto sealed = internal::SealBytes("Sealed chart: E11.9", keys, "");
  ASSERT_TRUE(sealed.ok());
  std::string body = absl::StrCat(R"({"chart_id":"s1","sealed_chart":")",
                                  internal::Base64Encode(internal::Bytes(*sealed)), R"("})");
  auto processor = std::make_shared<FunctionProcessor>(
      [](const ChartJob& j) -> absl::StatusOr<std::string> { return "{\"n\":" + std::to_string(j.chart.size()) + "}"; });
  LambdaEventOptions o;
  LambdaResponse r = HandleLambdaEvent(SqsEvent({{"a", body}}), absl::InfiniteFuture(), processor, o);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.body, HasSubstr("needs a result store"));
  ResultStoreOptions so;
  so.location = "sqlite:" + dir_.File("direct.db");
  so.keys = &keys;
  auto store = OpenResultStore(so);
  ASSERT_TRUE(store.ok());
  o.store = store->get();
  r = HandleLambdaEvent(SqsEvent({{"a", body}}), absl::InfiniteFuture(), processor, o);
  EXPECT_EQ(r.body, R"({"batchItemFailures":[{"itemIdentifier":"a"}]})");  // no key
  o.keys = &keys;
  r = HandleLambdaEvent(SqsEvent({{"a", body}}), absl::InfiniteFuture(), processor, o);
  EXPECT_EQ(r.body, R"({"batchItemFailures":[]})");
  auto stored = (*store)->GetByChart("s1");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_TRUE((*stored)[0].sealed);
  EXPECT_EQ((*stored)[0].record.result_json, "{\"n\":19}");
  EXPECT_EQ((*stored)[0].record.digest, ChartDigest("Sealed chart: E11.9"));
}

}  // namespace
}  // namespace chartcoder
