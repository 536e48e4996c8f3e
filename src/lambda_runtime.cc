#include "chartcoder/lambda_runtime.h"

#include <httplib.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "chartcoder/chart_io.h"
#include "chartcoder/work_queue.h"
#include "simdjson.h"
#include "src/internal/crypto.h"
#include "src/internal/demographics_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr char kApiPrefix[] = "/2018-06-01/runtime";

std::string ErrorDocument(const absl::Status& s) {
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Field("errorMessage", internal::FromAbsl(s.message()));
  w.Field("errorType", StrCat("chartcoder.", absl::StatusCodeToString(s.code())));
  w.EndObject();
  return out;
}

// A chart message parsed into a job and where its chart comes from.
struct ChartMessage {
  ChartJob job;
  std::string ref;
  std::string digest;
  std::string sealed;  // decoded sealed bytes
  bool inline_text = false;
};

absl::StatusOr<ChartMessage> ParseChartMessage(simdjson::dom::element e, bool allow_text) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("a chart message must be a JSON object");
  }
  ChartMessage m;
  int sources = 0;
  for (auto field : o) {
    std::string_view key = field.key;
    if (key == "demographics") {
      absl::StatusOr<Demographics> d = internal::DemographicsFromJson(field.value);
      if (!d.ok()) return d.status();
      m.job.demographics = *d;
      continue;
    }
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(StrCat("\"", key, "\" must be a string"));
    }
    if (key == "chart_id") {
      m.job.id = std::string(v);
    } else if (key == "patient_id") {
      m.job.patient_id = std::string(v);
    } else if (key == "ref") {
      m.ref = std::string(v);
      ++sources;
    } else if (key == "digest") {
      if (!IsValidChartDigest(v)) {
        return absl::InvalidArgumentError("\"digest\" must be a SHA-256 as 64 hex digits");
      }
      m.digest = std::string(v);
    } else if (key == "sealed_chart") {
      std::string bytes(v.size() / 4 * 3 + 3, '\0');
      absl::StatusOr<size_t> n = internal::Base64Decode(v, internal::MutableBytes(&bytes));
      if (!n.ok()) return absl::InvalidArgumentError("\"sealed_chart\" is not valid base64");
      bytes.resize(*n);
      m.sealed = std::move(bytes);
      ++sources;
    } else if (key == "chart" && allow_text) {
      m.job.chart = std::string(v);
      m.inline_text = true;
      ++sources;
    } else {
      return absl::InvalidArgumentError(StrCat("unknown key \"", key, "\" in a chart message"));
    }
  }
  if (m.job.id.empty()) return absl::InvalidArgumentError("a chart message needs \"chart_id\"");
  if (sources != 1) {
    return absl::InvalidArgumentError(
        allow_text ? "give exactly one of \"chart\", \"ref\" and \"sealed_chart\""
                   : "give exactly one of \"ref\" and \"sealed_chart\"");
  }
  return m;
}

// Reads the chart of a message (file or sealed bytes) and checks the digest.
absl::Status LoadChart(ChartMessage& m, const LambdaEventOptions& options) {
  if (m.inline_text) return absl::OkStatus();
  Lease lease;  // LoadLeasedChart does exactly this for queue jobs
  lease.chart_id = m.job.id;
  lease.patient_id = m.job.patient_id;
  lease.ref = m.ref;
  lease.sealed_payload = std::move(m.sealed);
  lease.demographics = m.job.demographics;
  if (m.digest.empty()) {
    // No digest given: read once to learn it.
    ChartReadOptions read;
    read.keys = options.keys;
    read.max_bytes = options.max_chart_bytes;
    absl::StatusOr<std::string> chart =
        lease.sealed_payload.empty() ? ReadChartFile(lease.ref, read)
                                     : ReadChartBytes(lease.sealed_payload, read);
    if (!chart.ok()) return chart.status();
    m.digest = ChartDigest(*chart);
    m.job.chart = std::move(*chart);
    return absl::OkStatus();
  }
  lease.digest = m.digest;
  absl::StatusOr<ChartJob> job = LoadLeasedChart(lease, options.keys, options.max_chart_bytes);
  if (!job.ok()) return job.status();
  m.job = std::move(*job);
  return absl::OkStatus();
}

// Codes one message and stores the result. The result JSON.
absl::StatusOr<std::string> CodeMessage(ChartMessage& m, const ChartProcessor& processor,
                                        const LambdaEventOptions& options) {
  absl::Status loaded = LoadChart(m, options);
  if (!loaded.ok()) return loaded;
  if (m.digest.empty()) m.digest = ChartDigest(m.job.chart);
  absl::StatusOr<std::string> result = processor.Process(m.job);
  if (!result.ok()) return result.status();
  if (options.store != nullptr) {
    ResultRecord r;
    r.chart_id = m.job.id;
    r.digest = m.digest;
    r.patient_id = m.job.patient_id;
    r.result_json = *result;
    absl::StatusOr<bool> put = options.store->Put(r);
    if (!put.ok()) return put.status();
  }
  return result;
}

LambdaResponse HandleSqs(simdjson::dom::array records, absl::Time deadline,
                         std::shared_ptr<const ChartProcessor> processor,
                         const LambdaEventOptions& options) {
  LambdaResponse response;
  if (options.store == nullptr) {
    response.ok = false;
    response.body = ErrorDocument(absl::FailedPreconditionError(
        "an SQS event needs a result store: set CHARTCODER_DB (a PostgreSQL URL or sqlite:PATH)"));
    return response;
  }
  // Each record becomes a job whose processor first checks the deadline:
  // one not started in time fails with DeadlineExceeded and is redelivered.
  struct Record {
    std::string message_id;
    absl::StatusOr<ChartMessage> message = absl::UnknownError("");
  };
  std::vector<Record> parsed;
  std::vector<std::string> unidentified;
  for (simdjson::dom::element e : records) {
    Record r;
    std::string_view id, body;
    if (e["messageId"].get_string().get(id) != simdjson::SUCCESS) continue;  // cannot report it
    r.message_id = std::string(id);
    if (e["body"].get_string().get(body) != simdjson::SUCCESS) {
      r.message = absl::InvalidArgumentError("an SQS record without a body");
    } else {
      simdjson::dom::parser p;
      simdjson::dom::element b;
      simdjson::padded_string padded(body.data(), body.size());
      if (p.parse(padded).get(b) != simdjson::SUCCESS) {
        r.message = absl::InvalidArgumentError("an SQS record whose body is not JSON");
      } else {
        r.message = ParseChartMessage(b, /*allow_text=*/false);
      }
    }
    parsed.push_back(std::move(r));
  }
  std::vector<absl::Status> outcome(parsed.size());
  std::mutex mu;
  int skipped = 0;
  auto work = std::make_shared<FunctionProcessor>(
      [&](const ChartJob& job) -> absl::StatusOr<std::string> {
        size_t i = std::stoul(job.id);
        if (absl::Now() + options.safety_margin >= deadline) {
          std::lock_guard<std::mutex> lock(mu);
          ++skipped;
          return absl::DeadlineExceededError("not started: too close to the deadline");
        }
        absl::StatusOr<std::string> r = CodeMessage(*parsed[i].message, *processor, options);
        if (!r.ok()) return r.status();
        return std::string();
      });
  ThreadPoolOptions pool_options;
  pool_options.processor = work;
  pool_options.threads = std::max(1, options.threads);
  absl::StatusOr<std::unique_ptr<ThreadPoolExecutor>> pool =
      ThreadPoolExecutor::Create(pool_options);
  if (!pool.ok()) {
    response.ok = false;
    response.body = ErrorDocument(pool.status());
    return response;
  }
  std::vector<ChartJob> jobs;
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].message.ok()) {
      outcome[i] = parsed[i].message.status();
      continue;
    }
    ChartJob j;
    j.id = std::to_string(i);
    jobs.push_back(std::move(j));
  }
  absl::StatusOr<std::vector<JobOutcome>> done = RunAll(**pool, std::move(jobs));
  if (!done.ok()) {
    response.ok = false;
    response.body = ErrorDocument(done.status());
    return response;
  }
  for (const JobOutcome& o : *done) outcome[std::stoul(o.id)] = o.result.status();
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Key("batchItemFailures");
  w.BeginArray();
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (outcome[i].ok()) continue;
    ++response.failed_records;
    w.BeginObject();
    w.Field("itemIdentifier", parsed[i].message_id);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  response.body = std::move(out);
  response.skipped_for_deadline = skipped;
  return response;
}

absl::StatusOr<std::pair<std::string, int>> SplitApi(std::string_view api) {
  std::string a(api);
  if (a.empty()) {
    const char* env = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (env != nullptr) a = env;
  }
  size_t colon = a.rfind(':');
  int port = 0;
  if (a.empty() || colon == std::string::npos ||
      !internal::ParseInt(std::string_view(a).substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        "no Lambda Runtime API address: AWS_LAMBDA_RUNTIME_API must be HOST:PORT");
  }
  return std::make_pair(a.substr(0, colon), port);
}

absl::Status Posted(const httplib::Result& r, std::string_view what) {
  if (!r) {
    return absl::UnavailableError(
        StrCat("the Lambda Runtime API did not answer ", what, ": ", httplib::to_string(r.error())));
  }
  if (r->status / 100 != 2) {
    return absl::UnavailableError(
        StrCat("the Lambda Runtime API answered ", what, " with HTTP ", r->status));
  }
  return absl::OkStatus();
}

}  // namespace

LambdaResponse HandleLambdaEvent(std::string_view event_json, absl::Time deadline,
                                 std::shared_ptr<const ChartProcessor> processor,
                                 const LambdaEventOptions& options) {
  LambdaResponse response;
  simdjson::dom::parser parser;
  simdjson::dom::element event;
  simdjson::padded_string padded(event_json.data(), event_json.size());
  if (parser.parse(padded).get(event) != simdjson::SUCCESS) {
    response.ok = false;
    response.body = ErrorDocument(absl::InvalidArgumentError("the event is not valid JSON"));
    return response;
  }
  simdjson::dom::array records;
  if (event["Records"].get_array().get(records) == simdjson::SUCCESS) {
    return HandleSqs(records, deadline, std::move(processor), options);
  }
  absl::StatusOr<ChartMessage> m = ParseChartMessage(event, /*allow_text=*/true);
  absl::StatusOr<std::string> result =
      m.ok() ? CodeMessage(*m, *processor, options) : absl::StatusOr<std::string>(m.status());
  if (!result.ok()) {
    response.ok = false;
    response.body = ErrorDocument(result.status());
    return response;
  }
  response.body = std::move(*result);
  return response;
}

absl::Status RunLambdaRuntime(std::shared_ptr<const ChartProcessor> processor,
                              const LambdaRuntimeOptions& options) {
  if (processor == nullptr) return absl::InvalidArgumentError("the runtime needs a processor");
  absl::StatusOr<std::pair<std::string, int>> api = SplitApi(options.api);
  if (!api.ok()) return api.status();
  httplib::Client client(api->first, api->second);
  // `next` blocks until there is an invocation: no read timeout to speak of.
  client.set_read_timeout(24 * 3600, 0);
  client.set_connection_timeout(5, 0);
  client.set_keep_alive(true);
  for (int64_t n = 0; options.max_invocations == 0 || n < options.max_invocations; ++n) {
    httplib::Result next = client.Get(StrCat(kApiPrefix, "/invocation/next"));
    if (absl::Status s = Posted(next, "next invocation"); !s.ok()) return s;
    absl::Time start = absl::Now();
    const std::string request_id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
    if (request_id.empty()) {
      return absl::UnavailableError("the next invocation has no Lambda-Runtime-Aws-Request-Id");
    }
    int64_t deadline_ms = 0;
    absl::Time deadline = absl::InfiniteFuture();
    if (internal::ParseInt(std::string_view(next->get_header_value("Lambda-Runtime-Deadline-Ms")),
                           &deadline_ms)) {
      deadline = absl::FromUnixMillis(deadline_ms);
    }
    std::string trace = next->get_header_value("Lambda-Runtime-Trace-Id");
    if (!trace.empty()) setenv("_X_AMZN_TRACE_ID", trace.c_str(), 1);

    LambdaResponse response = HandleLambdaEvent(next->body, deadline, processor, options.event);
    httplib::Headers headers;
    if (!response.ok) headers.emplace("Lambda-Runtime-Function-Error-Type", "chartcoder.Error");
    httplib::Result posted =
        client.Post(StrCat(kApiPrefix, "/invocation/", request_id,
                           response.ok ? "/response" : "/error"),
                    headers, response.body, "application/json");
    if (absl::Status s = Posted(posted, "a response"); !s.ok()) return s;
    if (options.on_invocation) options.on_invocation(request_id, response, absl::Now() - start);
  }
  return absl::OkStatus();
}

absl::Status ReportLambdaInitError(std::string_view api, const absl::Status& error) {
  absl::StatusOr<std::pair<std::string, int>> a = SplitApi(api);
  if (!a.ok()) return a.status();
  httplib::Client client(a->first, a->second);
  client.set_connection_timeout(5, 0);
  httplib::Headers headers = {{"Lambda-Runtime-Function-Error-Type", "chartcoder.InitError"}};
  return Posted(client.Post(StrCat(kApiPrefix, "/init/error"), headers, ErrorDocument(error),
                            "application/json"),
                "the init error");
}

}  // namespace chartcoder
