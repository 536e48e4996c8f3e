#include "chartcoder/executor.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/demographics_json.h"
#include "src/internal/default_processor.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;

// Reverses the chart; charts starting with "fail" fail; "sleep N" sleeps N ms.
std::shared_ptr<const ChartProcessor> ReversingProcessor(std::atomic<int>* running = nullptr,
                                                         std::atomic<int>* peak = nullptr) {
  return std::make_shared<FunctionProcessor>(
      [running, peak](const ChartJob& job) -> absl::StatusOr<std::string> {
        if (running != nullptr) {
          int now = ++*running;
          int p = peak->load();
          while (now > p && !peak->compare_exchange_weak(p, now)) {
          }
        }
        if (job.chart.rfind("sleep ", 0) == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(job.chart.substr(6))));
        }
        if (running != nullptr) --*running;
        if (job.chart.rfind("fail", 0) == 0) return absl::InvalidArgumentError("bad " + job.id);
        return std::string(job.chart.rbegin(), job.chart.rend());
      });
}

ChartJob Job(std::string id, std::string chart) {
  ChartJob j;
  j.id = std::move(id);
  j.chart = std::move(chart);
  return j;
}

TEST(ThreadPoolExecutorTest, RejectsBadOptions) {
  EXPECT_TRUE(absl::IsInvalidArgument(ThreadPoolExecutor::Create({}).status()));
  ThreadPoolOptions o;
  o.processor = ReversingProcessor();
  o.threads = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ThreadPoolExecutor::Create(o).status()));
  o.threads = 2000;
  EXPECT_TRUE(absl::IsInvalidArgument(ThreadPoolExecutor::Create(o).status()));
  o.threads = 0;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  EXPECT_GE((*pool)->threads(), 1);
}

TEST(ThreadPoolExecutorTest, RunAllReturnsOutcomesInInputOrder) {
  ThreadPoolOptions o;
  o.processor = ReversingProcessor();
  o.threads = 4;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  std::vector<ChartJob> jobs;
  for (int i = 0; i < 200; ++i) {
    jobs.push_back(Job(absl::StrCat("c", i), i % 7 == 3 ? absl::StrCat("fail", i)
                                                         : absl::StrCat("sleep ", i % 3, " x", i)));
  }
  auto outcomes = RunAll(**pool, jobs);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 200u);
  for (int i = 0; i < 200; ++i) {
    const JobOutcome& o = (*outcomes)[i];
    EXPECT_EQ(o.id, absl::StrCat("c", i));
    if (i % 7 == 3) {
      EXPECT_TRUE(absl::IsInvalidArgument(o.result.status()));
    } else {
      ASSERT_TRUE(o.result.ok());
      EXPECT_EQ(*o.result, std::string(jobs[i].chart.rbegin(), jobs[i].chart.rend()));
    }
  }
  // completed() counts callbacks that have returned: RunAll can hold every
  // outcome a moment before the last callback returns, so drain first.
  ASSERT_TRUE((*pool)->Drain().ok());
  EXPECT_EQ((*pool)->completed(), 200u);
}

TEST(ThreadPoolExecutorTest, UsesEveryThreadAndBoundsTheQueue) {
  std::atomic<int> running{0}, peak{0};
  ThreadPoolOptions o;
  o.processor = ReversingProcessor(&running, &peak);
  o.threads = 3;
  o.queue_capacity = 2;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  std::atomic<int> done{0};
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE((*pool)->Submit(Job("j", "sleep 5"), [&](JobOutcome) { ++done; }).ok());
    // Submit blocks while the queue is full: never more than threads +
    // capacity jobs are unfinished.
    EXPECT_LE(i + 1 - done.load(), 3 + 2 + 1);
  }
  ASSERT_TRUE((*pool)->Drain().ok());
  EXPECT_EQ(done.load(), 30);
  EXPECT_EQ(peak.load(), 3);
}

TEST(ThreadPoolExecutorTest, SubmitAfterDrainFails) {
  ThreadPoolOptions o;
  o.processor = ReversingProcessor();
  o.threads = 1;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->Drain().ok());
  ASSERT_TRUE((*pool)->Drain().ok());
  bool called = false;
  absl::Status s = (*pool)->Submit(Job("a", "b"), [&](JobOutcome) { called = true; });
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_FALSE(called);
}

TEST(ThreadPoolExecutorTest, CancelDropsQueuedJobsAndFinishesRunningOnes) {
  ThreadPoolOptions o;
  o.processor = ReversingProcessor();
  o.threads = 1;
  o.queue_capacity = 100;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  std::mutex mu;
  int ok = 0, cancelled = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*pool)
                    ->Submit(Job("j", "sleep 20"),
                             [&](JobOutcome out) {
                               std::lock_guard<std::mutex> l(mu);
                               if (out.result.ok()) ++ok;
                               if (absl::IsCancelled(out.result.status())) ++cancelled;
                             })
                    .ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  (*pool)->Cancel();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(ok + cancelled, 20);
  EXPECT_GE(ok, 1);
  EXPECT_GE(cancelled, 10);
}

TEST(InOrderDeliveryTest, DeliversInSubmissionOrderOneAtATime) {
  ThreadPoolOptions o;
  o.processor = ReversingProcessor();
  o.threads = 4;
  auto pool = ThreadPoolExecutor::Create(o);
  ASSERT_TRUE(pool.ok());
  std::vector<std::string> seen;
  std::atomic<int> concurrent{0};
  bool overlap = false;
  InOrderDelivery in_order([&](JobOutcome out) {
    if (++concurrent > 1) overlap = true;
    seen.push_back(out.id);
    --concurrent;
  });
  for (int i = 0; i < 100; ++i) {
    // Later jobs finish first: the delivery must still follow input order.
    ASSERT_TRUE((*pool)
                    ->Submit(Job(absl::StrCat(i), absl::StrCat("sleep ", (100 - i) % 4)),
                             in_order.Callback())
                    .ok());
  }
  ASSERT_TRUE((*pool)->Drain().ok());
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], std::to_string(i));
  EXPECT_FALSE(overlap);
  EXPECT_EQ(in_order.delivered(), 100u);
}

// The processor the worker and the Lambda runtime run: the chart pipeline.
TEST(PipelineProcessorTest, CodesChartsAsJsonLinesRecords) {
  auto set = std::shared_ptr<const CodeSet>(&testing::TestCodeSet(), [](const CodeSet*) {});
  auto p = internal::MakeDefaultProcessor(set);
  ASSERT_TRUE(p.ok()) << p.status();
  ChartJob job = Job("chart-1", "ASSESSMENT\n1. Type 2 diabetes with diabetic CKD stage 4.\n2. HTN\n");
  auto d = internal::ParseDemographicsJson(R"({"age":72,"sex":"F"})");
  ASSERT_TRUE(d.ok()) << d.status();
  job.demographics = *d;
  absl::StatusOr<std::string> json = (*p)->Process(job);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("code":"E11.22")"));
  EXPECT_THAT(*json, HasSubstr(R"("code":"N18.4")"));
  EXPECT_THAT(*json, HasSubstr(R"("code":"I12.9")"));
  EXPECT_THAT(*json, HasSubstr(R"("id":"chart-1")"));
  EXPECT_THAT(*json, HasSubstr("raw_score"));

  job.chart = "bad \xff byte";
  EXPECT_TRUE(absl::IsInvalidArgument((*p)->Process(job).status()));
  job.chart = "ok";
  job.id.clear();
  EXPECT_TRUE(absl::IsInvalidArgument((*p)->Process(job).status()));
}

TEST(DemographicsJsonTest, RoundTripsAndNamesBadKeys) {
  auto d = internal::ParseDemographicsJson(
      R"({"age":80,"sex":"M","dual":"full","orec":1,"institutional":true,"segment":"INS"})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->age, 80);
  EXPECT_EQ(d->sex, Sex::kMale);
  EXPECT_EQ(d->dual, DualStatus::kFull);
  EXPECT_TRUE(d->institutional);
  auto again = internal::ParseDemographicsJson(internal::DemographicsJson(*d));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(internal::DemographicsJson(*again), internal::DemographicsJson(*d));
  for (const char* bad : {R"({"age":200,"sex":"M"})", R"({"age":70})", R"({"age":70,"sex":"X"})",
                          R"({"age":70,"sex":"M","color":"red"})", "[1]", "{"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(internal::ParseDemographicsJson(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace chartcoder
