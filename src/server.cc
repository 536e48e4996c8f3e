#include "chartcoder/server.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "chartcoder/hcc.h"
#include "chartcoder/result.h"
#include "simdjson.h"
#include "src/internal/crypto.h"
#include "src/internal/demographics_json.h"
#include "src/internal/hcc_json.h"
#include "src/internal/http_listener.h"
#include "src/internal/json_writer.h"
#include "src/internal/result_codec.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::Exchange;
using internal::HttpConnection;
using internal::JsonWriter;
using internal::SteadyClock;
using internal::StrAppend;
using internal::StrCat;

// ---------------------------------------------------------------------------
// Routes

enum RouteId {
  kHealthz = 0,
  kMetrics,
  kCode,
  kRaf,
  kChart,
  kPatientHccs,
  kJobsSummary,
  kRouteCount,
};

struct RouteSpec {
  ApiRoute api;
  bool needs_token;
  TokenScope scope;
  const char* pattern;  // httplib's regex
};

const RouteSpec kRoutes[kRouteCount] = {
    {{"GET", "/healthz", "", "liveness: 200 while the server runs"}, false, TokenScope::kRead,
     "/healthz"},
    {{"GET", "/metrics", "read", "Prometheus metrics"}, true, TokenScope::kRead, "/metrics"},
    {{"POST", "/v1/code", "code", "code one chart; store it on request"}, true, TokenScope::kCode,
     "/v1/code"},
    {{"POST", "/v1/raf", "code", "CMS-HCC risk score of codes and demographics"}, true,
     TokenScope::kCode, "/v1/raf"},
    {{"GET", "/v1/charts/{id}", "read", "the stored results of a chart"}, true, TokenScope::kRead,
     "/v1/charts/(.+)"},
    {{"GET", "/v1/patients/{id}/hccs", "read", "a patient's HCCs across stored charts"}, true,
     TokenScope::kRead, "/v1/patients/(.+)/hccs"},
    {{"GET", "/v1/jobs/summary", "read", "work queue counts, or stored results with SQLite"}, true,
     TokenScope::kRead, "/v1/jobs/summary"},
};

// The route whose path template matches `path` (decoded), or -1.
int MatchRoute(std::string_view path) {
  for (int i = 0; i < kRouteCount; ++i) {
    const std::string_view t = kRoutes[i].api.path;
    const size_t brace = t.find('{');
    if (brace == std::string_view::npos) {
      if (path == t) return i;
      continue;
    }
    const std::string_view prefix = t.substr(0, brace);
    const std::string_view suffix = t.substr(t.find('}') + 1);
    if (path.size() > prefix.size() + suffix.size() && path.starts_with(prefix) &&
        path.ends_with(suffix)) {
      return i;
    }
  }
  return -1;
}

std::string_view RouteLabel(int route) {
  return route >= 0 && route < kRouteCount ? kRoutes[route].api.path : std::string_view("other");
}

// A method for logs: a known one, or "-" (the request line is the client's).
std::string_view MethodLabel(std::string_view m) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                                 "TRACE", "PATCH"}) {
    if (m == known) return known;
  }
  return "-";
}

// ---------------------------------------------------------------------------
// Responses

constexpr char kJson[] = "application/json";

void SetJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), kJson);
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("error");
  w.BeginObject();
  w.Field("code", code);
  w.Field("message", message);
  w.EndObject();
  w.EndObject();
  return out;
}

void SetError(httplib::Response& res, int status, std::string_view code,
              std::string_view message) {
  SetJson(res, status, ErrorBody(code, message));
}

// An error status from the library as an HTTP answer.
void SetStatusError(httplib::Response& res, const absl::Status& s) {
  const std::string message(internal::FromAbsl(s.message()));
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return SetError(res, 400, "invalid_argument", message);
    case absl::StatusCode::kNotFound:
      return SetError(res, 404, "not_found", message);
    case absl::StatusCode::kResourceExhausted:
      return SetError(res, 413, "too_large", message);
    case absl::StatusCode::kUnauthenticated:
      return SetError(res, 401, "unauthenticated", message);
    case absl::StatusCode::kUnavailable:
      return SetError(res, 503, "unavailable", message);
    default:
      return SetError(res, 500, "internal", message);
  }
}

std::string RfcTimeMillis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------
// Metrics

constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,   0.25,   0.5,   1,    2.5,   10};

class Metrics {
 public:
  void Request(int route, int status, double seconds, uint64_t in, uint64_t out) {
    const int r = route >= 0 && route < kRouteCount ? route : kRouteCount;
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[{r, status}];
    Histogram& h = latency_[r];
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
    }
    ++h.count;
    h.sum += seconds;
    bytes_in_ += in;
    bytes_out_ += out;
  }
  void Connection(internal::ConnectionEvent e) {
    switch (e) {
      case internal::ConnectionEvent::kAccepted:
        ++connections_;
        break;
      case internal::ConnectionEvent::kTlsFailed:
        ++tls_failures_;
        break;
      case internal::ConnectionEvent::kTimedOut:
        ++timeouts_;
        break;
      case internal::ConnectionEvent::kTooLarge:
        ++oversize_headers_;
        break;
      case internal::ConnectionEvent::kRefused:
        ++refused_;
        break;
      case internal::ConnectionEvent::kClosed:
        break;
    }
  }
  void AuthFailure(std::string_view reason) {
    std::lock_guard<std::mutex> lock(mu_);
    ++auth_failures_[std::string(reason)];
  }

  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> charts_coded{0};
  std::atomic<int64_t> chart_bytes{0};
  std::atomic<int64_t> results_stored{0};
  std::atomic<int64_t> coding_waiting{0};

  std::string Text(int open_connections) const {
    std::string out;
    auto head = [&](std::string_view name, std::string_view type, std::string_view help) {
      StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    };
    std::lock_guard<std::mutex> lock(mu_);
    head("chartcoder_http_requests_total", "counter", "Requests answered, by route and status.");
    for (const auto& [key, n] : counts_) {
      StrAppend(&out, "chartcoder_http_requests_total{route=\"", RouteLabel(key.first),
                "\",status=\"", key.second, "\"} ", n, "\n");
    }
    head("chartcoder_http_request_duration_seconds", "histogram",
         "Time from a request's first byte to its response written, by route.");
    for (const auto& [route, h] : latency_) {
      const std::string label = StrCat("route=\"", RouteLabel(route), "\"");
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        StrAppend(&out, "chartcoder_http_request_duration_seconds_bucket{", label, ",le=\"",
                  kLatencyBuckets[i], "\"} ", h.buckets[i], "\n");
      }
      StrAppend(&out, "chartcoder_http_request_duration_seconds_bucket{", label, ",le=\"+Inf\"} ",
                h.count, "\n");
      StrAppend(&out, "chartcoder_http_request_duration_seconds_sum{", label, "} ", h.sum, "\n");
      StrAppend(&out, "chartcoder_http_request_duration_seconds_count{", label, "} ", h.count,
                "\n");
    }
    auto gauge = [&](std::string_view name, std::string_view type, std::string_view help,
                     int64_t v) {
      head(name, type, help);
      StrAppend(&out, name, " ", v, "\n");
    };
    gauge("chartcoder_http_requests_in_flight", "gauge", "Requests being handled.",
          in_flight.load());
    gauge("chartcoder_http_open_connections", "gauge", "Connections being served.",
          open_connections);
    gauge("chartcoder_http_connections_total", "counter", "Connections accepted.",
          connections_.load());
    gauge("chartcoder_http_refused_connections_total", "counter",
          "Connections closed at once: their client address had too many open.", refused_.load());
    gauge("chartcoder_http_tls_handshake_failures_total", "counter",
          "TLS handshakes that failed or timed out.", tls_failures_.load());
    gauge("chartcoder_http_timeouts_total", "counter",
          "Requests or responses that missed their deadline.", timeouts_.load());
    gauge("chartcoder_http_oversize_headers_total", "counter",
          "Requests whose line and headers exceeded the limit.", oversize_headers_.load());
    gauge("chartcoder_http_request_bytes_total", "counter", "Request bytes read.",
          static_cast<int64_t>(bytes_in_));
    gauge("chartcoder_http_response_bytes_total", "counter", "Response body bytes.",
          static_cast<int64_t>(bytes_out_));
    head("chartcoder_http_auth_failures_total", "counter", "Refused tokens, by reason.");
    for (const auto& [reason, n] : auth_failures_) {
      StrAppend(&out, "chartcoder_http_auth_failures_total{reason=\"", reason, "\"} ", n, "\n");
    }
    gauge("chartcoder_charts_coded_total", "counter", "Charts coded by POST /v1/code.",
          charts_coded.load());
    gauge("chartcoder_chart_bytes_total", "counter", "Bytes of chart text coded.",
          chart_bytes.load());
    gauge("chartcoder_results_stored_total", "counter", "Results stored by POST /v1/code.",
          results_stored.load());
    gauge("chartcoder_coding_waiting", "gauge", "Charts waiting for a coding slot.",
          coding_waiting.load());
    return out;
  }

 private:
  struct Histogram {
    std::array<int64_t, kLatencyBuckets.size()> buckets{};
    int64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<int, int>, int64_t> counts_;
  std::map<int, Histogram> latency_;
  std::map<std::string, int64_t> auth_failures_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  std::atomic<int64_t> connections_{0}, tls_failures_{0}, timeouts_{0}, oversize_headers_{0},
      refused_{0};
};

// ---------------------------------------------------------------------------
// Per-token rate limit: a token bucket per token id.

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)) {}
  // 0 when the request may go; else the seconds until it could.
  double Take(const std::string& token_id) {
    if (rate_ <= 0) return 0;
    const SteadyClock::time_point now = SteadyClock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = buckets_.try_emplace(token_id, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!inserted) {
      b.tokens = std::min(burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / rate_;
  }

 private:
  struct Bucket {
    double tokens;
    SteadyClock::time_point last;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_;
};

// Counts charts being coded; Acquire waits for a free slot.
class Slots {
 public:
  explicit Slots(int n) : free_(n) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return free_ > 0; });
    --free_;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

// ---------------------------------------------------------------------------
// JSON bodies

absl::StatusOr<simdjson::dom::object> ParseBody(simdjson::dom::parser& parser,
                                                const std::string& body) {
  if (body.empty()) return absl::InvalidArgumentError("the body is empty: send a JSON object");
  simdjson::dom::element doc;
  simdjson::error_code e = parser.parse(body).get(doc);
  if (e != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat("the body is not valid JSON: ", simdjson::error_message(e)));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  return obj;
}

absl::Status BadField(std::string_view key, std::string_view want) {
  return absl::InvalidArgumentError(StrCat("\"", key, "\" must be ", want));
}

// What POST /v1/code takes.
struct CodeRequest {
  std::string_view id;
  std::string_view text;
  bool has_text = false;
  std::optional<Demographics> demographics;
  bool store = false;
  std::string_view patient_id;
};

absl::StatusOr<CodeRequest> ParseCodeRequest(simdjson::dom::object obj) {
  CodeRequest r;
  for (auto field : obj) {
    const std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    if (key == "id" || key == "text" || key == "patient_id") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return BadField(key, "a string");
      if (key == "id") r.id = s;
      if (key == "text") {
        r.text = s;
        r.has_text = true;
      }
      if (key == "patient_id") r.patient_id = s;
    } else if (key == "demographics") {
      absl::StatusOr<Demographics> d = internal::DemographicsFromJson(v);
      if (!d.ok()) return d.status();
      r.demographics = *d;
    } else if (key == "store") {
      if (v.get_bool().get(r.store) != simdjson::SUCCESS) return BadField(key, "true or false");
    } else {
      return absl::InvalidArgumentError(
          StrCat("unknown key \"", key,
                 "\" (id, text, demographics, store and patient_id are accepted)"));
    }
  }
  if (!r.has_text) return absl::InvalidArgumentError("\"text\" (the chart) is required");
  if (r.store && r.id.empty()) {
    return absl::InvalidArgumentError("\"store\": true needs the chart's \"id\"");
  }
  if (!r.store && !r.patient_id.empty()) {
    return absl::InvalidArgumentError("\"patient_id\" is only kept with \"store\": true");
  }
  if (r.id.size() > internal::kMaxIdBytes || r.patient_id.size() > internal::kMaxIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("\"id\" and \"patient_id\" are at most ", internal::kMaxIdBytes, " bytes"));
  }
  return r;
}

// What POST /v1/raf takes: the models to score and, for a blend, the weights.
struct RafRequest {
  std::vector<std::string_view> codes;
  Demographics demographics;
  std::vector<HccModel> models;
  std::vector<BlendWeight> weights;  // empty: one model, no blend
};

absl::StatusOr<RafRequest> ParseRafRequest(simdjson::dom::object obj, int payment_year) {
  RafRequest r;
  bool has_codes = false, has_demographics = false, has_model = false, has_blend = false;
  std::optional<std::vector<BlendWeight>> blend;
  for (auto field : obj) {
    const std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    if (key == "codes") {
      simdjson::dom::array a;
      if (v.get_array().get(a) != simdjson::SUCCESS) return BadField(key, "an array of strings");
      for (simdjson::dom::element c : a) {
        std::string_view s;
        if (c.get_string().get(s) != simdjson::SUCCESS) return BadField(key, "an array of strings");
        r.codes.push_back(s);
      }
      has_codes = true;
    } else if (key == "demographics") {
      absl::StatusOr<Demographics> d = internal::DemographicsFromJson(v);
      if (!d.ok()) return d.status();
      r.demographics = *d;
      has_demographics = true;
    } else if (key == "model") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return BadField(key, "\"V24\" or \"V28\"");
      absl::StatusOr<HccModel> m = ParseHccModel(s);
      if (!m.ok()) return BadField(key, "\"V24\" or \"V28\"");
      r.models = {*m};
      has_model = true;
    } else if (key == "blend") {
      has_blend = true;
      std::string_view s;
      simdjson::dom::object weights;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        if (s != "published") {
          return BadField(key, "\"published\" or an object of weights {\"V24\": 0.33, ...}");
        }
      } else if (v.get_object().get(weights) == simdjson::SUCCESS) {
        blend.emplace();
        for (auto w : weights) {
          absl::StatusOr<HccModel> m = ParseHccModel(w.key);
          double x = 0;
          if (!m.ok() || w.value.get_double().get(x) != simdjson::SUCCESS) {
            return BadField(key, "an object of model weights {\"V24\": 0.33, \"V28\": 0.67}");
          }
          blend->push_back({*m, x});
        }
      } else {
        return BadField(key, "\"published\" or an object of weights {\"V24\": 0.33, ...}");
      }
    } else {
      return absl::InvalidArgumentError(StrCat(
          "unknown key \"", key, "\" (codes, demographics, model and blend are accepted)"));
    }
  }
  if (!has_codes) return absl::InvalidArgumentError("\"codes\" (an array of ICD-10-CM codes) is required");
  if (!has_demographics) {
    return absl::InvalidArgumentError("\"demographics\" (at least age and sex) is required");
  }
  if (has_model && has_blend) return absl::InvalidArgumentError("give \"model\" or \"blend\", not both");
  if (has_model) return r;
  if (blend) {
    r.weights = *blend;
  } else {
    // "published", or nothing: the blend CMS published for the payment year
    // (a single model when it pays with one), as `chartcoder raf` does.
    std::optional<PublishedBlend> p = PublishedBlendFor(payment_year);
    if (!p) {
      return absl::InvalidArgumentError(
          StrCat("no published model blend for payment year ", payment_year,
                 " is known: give \"model\" or \"blend\" weights"));
    }
    if (!has_blend && p->weights.size() == 1) {
      r.models = {p->weights[0].model};
      return r;
    }
    r.weights = p->weights;
  }
  for (const BlendWeight& w : r.weights) r.models.push_back(w.model);
  return r;
}

// The codes of a stored ChartResult JSON ("codes": [{"code": ...}, ...]),
// read on demand: a patient's results can be megabytes of evidence, and only
// the codes are needed. `buffer` is scratch space reused across calls.
absl::StatusOr<std::vector<std::string>> CodesOfResult(simdjson::ondemand::parser& parser,
                                                       const std::string& json,
                                                       std::string* buffer) {
  static const absl::Status kNotAResult =
      absl::DataLossError("a stored result of this patient is not a coded chart");
  buffer->reserve(json.size() + simdjson::SIMDJSON_PADDING);
  buffer->assign(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array codes;
  if (parser.iterate(buffer->data(), buffer->size(), buffer->capacity()).get(doc) !=
          simdjson::SUCCESS ||
      doc["codes"].get_array().get(codes) != simdjson::SUCCESS) {
    return kNotAResult;
  }
  std::vector<std::string> out;
  for (auto element : codes) {
    simdjson::ondemand::object code_object;
    std::string_view code;
    if (element.get_object().get(code_object) != simdjson::SUCCESS ||
        code_object["code"].get_string().get(code) != simdjson::SUCCESS) {
      return kNotAResult;
    }
    out.emplace_back(code);
  }
  return out;
}

bool IsJsonContentType(std::string_view v) {
  const std::string t = internal::AsciiLower(internal::Trim(v.substr(0, v.find(';'))));
  return t == "application/json" || t.ends_with("+json");
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  const std::string h(host);
  if (h == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// ---------------------------------------------------------------------------

struct ApiServer::Impl {
  ApiServerOptions options;
  SSL_CTX* tls = nullptr;
  std::unique_ptr<internal::HttpListener> listener;
  std::vector<std::unique_ptr<RiskModel>> models;  // V24, V28
  int port = 0;
  std::string id_prefix;  // random, per server: request ids are unique across restarts
  std::atomic<uint64_t> next_request{0};
  Metrics metrics;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<Slots> coding;
  std::mutex audit_mu;
  mutable std::mutex run_mu;
  std::condition_variable run_cv;
  bool running = false;

  ~Impl() {
    if (tls != nullptr) SSL_CTX_free(tls);
  }

  const RiskModel* Model(HccModel m) const {
    for (const auto& r : models) {
      if (r->model() == m) return r.get();
    }
    return nullptr;
  }

  // ---- hooks

  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res);
  void OnError(const httplib::Request& req, httplib::Response& res);
  void OnRequestEnd(const Exchange& ex, double seconds);
  void Audit(const Exchange& ex, double seconds);

  // Rejects the request before its body is read.
  httplib::Server::HandlerResponse Reject(Exchange* ex, const httplib::Request& req,
                                          httplib::Response& res, int status,
                                          std::string_view code, std::string_view message) {
    SetError(res, status, code, message);
    if (ex != nullptr) {
      ex->status = status;
      // The unread body would be taken for the next request: close.
      if (req.has_header("Transfer-Encoding") ||
          (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
        ex->close_after = true;
      }
      if (ex->close_after) res.set_header("Connection", "close");
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  // ---- routes

  void Handle(int route, const httplib::Request& req, httplib::Response& res);
  void Healthz(httplib::Response& res);
  void MetricsRoute(httplib::Response& res);
  void Code(const httplib::Request& req, httplib::Response& res);
  void Raf(const httplib::Request& req, httplib::Response& res);
  void Chart(const std::string& id, httplib::Response& res);
  void PatientHccs(const std::string& id, const httplib::Request& req, httplib::Response& res);
  void JobsSummary(httplib::Response& res);
};

httplib::Server::HandlerResponse ApiServer::Impl::PreRoute(const httplib::Request& req,
                                                           httplib::Response& res) {
  HttpConnection* conn = HttpConnection::Current();
  Exchange* ex = conn != nullptr ? &conn->exchange() : nullptr;
  const std::string request_id =
      StrCat(id_prefix, "-", next_request.fetch_add(1, std::memory_order_relaxed));
  res.set_header("X-Request-Id", request_id);
  if (ex != nullptr) {
    ex->headers_done = true;
    ex->method = req.method;
    ex->request_id = request_id;
  }
  const int route = MatchRoute(req.path);
  if (ex != nullptr) ex->route = route;

  // The body: only with a length, and not over the limit (never read then).
  if (req.has_header("Transfer-Encoding")) {
    return Reject(ex, req, res, 411, "length_required",
                  "send the body with Content-Length (chunked bodies are not accepted)");
  }
  if (!req.has_header("Content-Length") && (req.method == "POST" || req.method == "PUT" ||
                                            req.method == "PATCH")) {
    // httplib would read a body without a length until the client closes.
    return Reject(ex, req, res, 411, "length_required",
                  "a POST needs Content-Length (send the JSON body with its length)");
  }
  if (req.has_header("Content-Length")) {
    uint64_t length = 0;
    if (!internal::ParseInt(req.get_header_value("Content-Length"), &length)) {
      return Reject(ex, req, res, 400, "bad_request", "Content-Length is not a number");
    }
    if (length > options.max_body_bytes) {
      return Reject(ex, req, res, 413, "payload_too_large",
                    StrCat("the body is ", length, " bytes; the limit is ",
                           options.max_body_bytes));
    }
  }
  if (route < 0) return Reject(ex, req, res, 404, "not_found", "no such route (see docs/openapi.yaml)");
  const RouteSpec& spec = kRoutes[route];
  const bool method_ok =
      req.method == spec.api.method || (req.method == "HEAD" && spec.api.method == "GET");
  if (!method_ok) {
    res.set_header("Allow", std::string(spec.api.method));
    return Reject(ex, req, res, 405, "method_not_allowed",
                  StrCat(spec.api.path, " takes ", spec.api.method));
  }
  if (spec.needs_token) {
    const std::string auth = req.get_header_value("Authorization");
    std::string_view bearer;
    if (auth.size() > 7 && internal::EqualsIgnoreCase(std::string_view(auth).substr(0, 7), "bearer ")) {
      bearer = internal::Trim(std::string_view(auth).substr(7));
    }
    if (bearer.empty()) {
      metrics.AuthFailure("missing");
      res.set_header("WWW-Authenticate", "Bearer realm=\"chartcoder\"");
      return Reject(ex, req, res, 401, "unauthenticated",
                    "this route needs a token: Authorization: Bearer TOKEN");
    }
    if (ex != nullptr) ex->token_id = std::string(TokenStore::IdOf(bearer));
    absl::StatusOr<TokenInfo> who = options.tokens->Verify(bearer);
    if (!who.ok()) {
      if (!absl::IsUnauthenticated(who.status())) {
        return Reject(ex, req, res, 503, "unavailable",
                      "the token store cannot be reached; try again");
      }
      const bool revoked = internal::Contains(internal::FromAbsl(who.status().message()), "revoked");
      metrics.AuthFailure(revoked ? "revoked" : "invalid");
      if (ex != nullptr && !revoked) ex->token_id.clear();  // an id that named nothing valid
      res.set_header("WWW-Authenticate", "Bearer realm=\"chartcoder\", error=\"invalid_token\"");
      return Reject(ex, req, res, 401, "unauthenticated",
                    revoked ? "the token has been revoked" : "invalid token");
    }
    if (!ScopeGrants(who->scope, spec.scope)) {
      return Reject(ex, req, res, 403, "forbidden",
                    StrCat(spec.api.method, " ", spec.api.path, " needs a token with scope ",
                           TokenScopeName(spec.scope), " (this one has ",
                           TokenScopeName(who->scope), ")"));
    }
    const double wait = limiter->Take(who->id);
    if (wait > 0) {
      res.set_header("Retry-After", StrCat(static_cast<int64_t>(std::ceil(wait))));
      return Reject(ex, req, res, 429, "rate_limited",
                    StrCat("more than ", options.rate_limit,
                           " requests per second with this token; retry after the "
                           "Retry-After seconds"));
    }
  }
  if (spec.api.method == std::string_view("POST") && req.has_header("Content-Type") &&
      !IsJsonContentType(req.get_header_value("Content-Type"))) {
    return Reject(ex, req, res, 415, "unsupported_media_type",
                  "send the body as Content-Type: application/json");
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

void ApiServer::Impl::OnError(const httplib::Request& req, httplib::Response& res) {
  HttpConnection* conn = HttpConnection::Current();
  Exchange* ex = conn != nullptr ? &conn->exchange() : nullptr;
  if (res.body.empty()) {
    // httplib's own answers: a request it could not read or route.
    if (ex != nullptr && ex->headers_too_large) {
      SetError(res, 431, "headers_too_large",
               StrCat("the request line and headers exceed ", options.max_header_bytes, " bytes"));
    } else if (ex != nullptr && ex->timed_out) {
      SetError(res, 408, "request_timeout",
               StrCat("the request did not arrive in time (the whole request within ",
                      absl::FormatDuration(options.request_timeout), ", each read within ",
                      absl::FormatDuration(options.io_timeout), ")"));
    } else if (res.status == 404) {
      SetError(res, 404, "not_found", "no such route (see docs/openapi.yaml)");
    } else if (res.status == 413) {
      SetError(res, 413, "payload_too_large",
               StrCat("the body exceeds ", options.max_body_bytes, " bytes"));
    } else if (res.status == 414) {
      SetError(res, 414, "uri_too_long", "the request line exceeds 8192 bytes");
    } else if (res.status >= 500) {
      SetError(res, res.status, "internal", "the server failed to answer this request");
    } else {
      SetError(res, res.status, "bad_request",
               "malformed HTTP request (request line, a header over 8192 bytes, or the body)");
    }
    if (ex != nullptr) ex->close_after = true;
  }
  if (ex != nullptr) {
    if (ex->method.empty()) ex->method = req.method;
    if (ex->request_id.empty()) {  // refused before routing: still one id per request
      ex->request_id = StrCat(id_prefix, "-", next_request.fetch_add(1, std::memory_order_relaxed));
      res.set_header("X-Request-Id", ex->request_id);
    }
    ex->status = res.status;
    ex->bytes_out = res.body.size();
    if (ex->close_after) res.set_header("Connection", "close");
  }
}

void ApiServer::Impl::Audit(const Exchange& ex, double seconds) {
  std::string line;
  JsonWriter w(&line);
  w.BeginObject();
  w.Field("time", RfcTimeMillis(absl::Now()));
  w.Field("request_id", ex.request_id);
  w.Key("token");
  if (ex.token_id.empty()) {
    w.Null();
  } else {
    w.String(ex.token_id);
  }
  w.Field("method", MethodLabel(ex.method));
  w.Field("route", ex.route >= 0 ? RouteLabel(ex.route) : std::string_view("-"));
  w.Field("status", ex.status);
  w.Key("latency_ms");
  w.Fixed(seconds * 1000, 3);
  w.Key("bytes_in");
  w.Uint(ex.bytes_in);
  w.Key("bytes_out");
  w.Uint(ex.bytes_out);
  if (!ex.written) w.Field("written", false);
  w.EndObject();
  std::lock_guard<std::mutex> lock(audit_mu);
  if (options.audit) {
    options.audit(line);
  } else {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

void ApiServer::Impl::OnRequestEnd(const Exchange& ex, double seconds) {
  metrics.Request(ex.route, ex.status, seconds, ex.bytes_in, ex.bytes_out);
  Audit(ex, seconds);
}

void ApiServer::Impl::Handle(int route, const httplib::Request& req, httplib::Response& res) {
  metrics.in_flight.fetch_add(1, std::memory_order_relaxed);
  switch (route) {
    case kHealthz:
      Healthz(res);
      break;
    case kMetrics:
      MetricsRoute(res);
      break;
    case kCode:
      Code(req, res);
      break;
    case kRaf:
      Raf(req, res);
      break;
    case kChart:
      Chart(req.matches[1].str(), res);
      break;
    case kPatientHccs:
      PatientHccs(req.matches[1].str(), req, res);
      break;
    case kJobsSummary:
      JobsSummary(res);
      break;
    default:
      SetError(res, 404, "not_found", "no such route");
  }
  metrics.in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (HttpConnection* conn = HttpConnection::Current()) {
    Exchange& ex = conn->exchange();
    ex.status = res.status;
    ex.bytes_out = res.body.size();
  }
}

void ApiServer::Impl::Healthz(httplib::Response& res) { SetJson(res, 200, R"({"status":"ok"})"); }

void ApiServer::Impl::MetricsRoute(httplib::Response& res) {
  std::string text = metrics.Text(listener->open_connections());
  if (options.queue != nullptr) {
    absl::StatusOr<QueueStatus> q = options.queue->Status();
    if (q.ok()) text += QueueStatusPrometheus(*q);
  }
  res.status = 200;
  res.set_content(std::move(text), "text/plain; version=0.0.4");
}

void ApiServer::Impl::Code(const httplib::Request& req, httplib::Response& res) {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseBody(parser, req.body);
  if (!body.ok()) return SetError(res, 400, "invalid_json", internal::FromAbsl(body.status().message()));
  absl::StatusOr<CodeRequest> r = ParseCodeRequest(*body);
  if (!r.ok()) return SetError(res, 400, "invalid_argument", internal::FromAbsl(r.status().message()));
  metrics.coding_waiting.fetch_add(1, std::memory_order_relaxed);
  coding->Acquire();
  metrics.coding_waiting.fetch_sub(1, std::memory_order_relaxed);
  absl::StatusOr<ChartResult> result = options.pipeline->Code(
      r->id, r->text, r->demographics ? &*r->demographics : nullptr);
  coding->Release();
  if (!result.ok()) return SetStatusError(res, result.status());
  metrics.charts_coded.fetch_add(1, std::memory_order_relaxed);
  metrics.chart_bytes.fetch_add(static_cast<int64_t>(r->text.size()), std::memory_order_relaxed);
  std::string json = ChartResultJson(*result);
  if (r->store) {
    ResultRecord record;
    record.chart_id = std::string(r->id);
    record.digest = ChartDigest(r->text);
    record.patient_id = std::string(r->patient_id);
    record.result_json = json;
    absl::StatusOr<bool> stored = options.results->Put(record);
    if (!stored.ok()) return SetStatusError(res, stored.status());
    if (*stored) metrics.results_stored.fetch_add(1, std::memory_order_relaxed);
    // The body is the ChartResult alone; whether it was new goes in a header.
    res.set_header("X-Chartcoder-Stored", *stored ? "new" : "existing");
  }
  SetJson(res, 200, std::move(json));
}

void ApiServer::Impl::Raf(const httplib::Request& req, httplib::Response& res) {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseBody(parser, req.body);
  if (!body.ok()) return SetError(res, 400, "invalid_json", internal::FromAbsl(body.status().message()));
  absl::StatusOr<RafRequest> r =
      ParseRafRequest(*body, options.pipeline->code_set().info().hcc_payment_year);
  if (!r.ok()) return SetError(res, 400, "invalid_argument", internal::FromAbsl(r.status().message()));
  std::vector<RiskScore> scores;
  for (HccModel m : r->models) {
    const RiskModel* model = Model(m);
    if (model == nullptr) {
      return SetError(res, 400, "invalid_argument",
                      StrCat("this server does not score ", HccModelName(m)));
    }
    absl::StatusOr<RiskScore> s =
        model->Score(absl::Span<const std::string_view>(r->codes), r->demographics);
    if (!s.ok()) return SetStatusError(res, s.status());
    scores.push_back(*std::move(s));
  }
  std::optional<BlendedRiskScore> blend;
  if (!r->weights.empty()) {
    std::vector<const RiskScore*> ptrs;
    for (const RiskScore& s : scores) ptrs.push_back(&s);
    absl::StatusOr<BlendedRiskScore> b = BlendScores(ptrs, r->weights);
    if (!b.ok()) return SetStatusError(res, b.status());
    blend = *b;
  }
  std::string out;
  JsonWriter w(&out);
  internal::WriteRafResultJson(scores, blend ? &*blend : nullptr, &w);
  SetJson(res, 200, std::move(out));
}

void ApiServer::Impl::Chart(const std::string& id, httplib::Response& res) {
  absl::StatusOr<std::vector<StoredResult>> results = options.results->GetByChart(id);
  if (!results.ok()) return SetStatusError(res, results.status());
  if (results->empty()) return SetError(res, 404, "not_found", "no stored results for this chart");
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("chart_id", id);
  w.Key("results");
  w.BeginArray();
  for (const StoredResult& r : *results) internal::WriteStoredResultJson(r, &w);
  w.EndArray();
  w.EndObject();
  SetJson(res, 200, std::move(out));
}

void ApiServer::Impl::PatientHccs(const std::string& id, const httplib::Request& req,
                                  httplib::Response& res) {
  for (const auto& [key, value] : req.params) {
    if (key != "model") {
      return SetError(res, 400, "invalid_argument",
                      StrCat("unknown query parameter \"", key, "\" (model is accepted)"));
    }
  }
  HccModel model_id = HccModel::kV28;
  if (req.has_param("model")) {
    absl::StatusOr<HccModel> m = ParseHccModel(req.get_param_value("model"));
    if (!m.ok()) return SetError(res, 400, "invalid_argument", "model must be V24 or V28");
    model_id = *m;
  }
  const RiskModel* model = Model(model_id);
  if (model == nullptr) {
    return SetError(res, 400, "invalid_argument",
                    StrCat("this server does not score ", HccModelName(model_id)));
  }
  absl::StatusOr<std::vector<StoredResult>> results = options.results->GetByPatient(id);
  if (!results.ok()) return SetStatusError(res, results.status());
  if (results->empty()) {
    return SetError(res, 404, "not_found", "no stored results for this patient");
  }
  // The newest result of each chart (results come by chart, oldest first).
  std::vector<const StoredResult*> latest;
  for (const StoredResult& r : *results) {
    if (!latest.empty() && latest.back()->record.chart_id == r.record.chart_id) {
      latest.back() = &r;
    } else {
      latest.push_back(&r);
    }
  }
  simdjson::ondemand::parser parser;
  std::string buffer;
  std::vector<std::string> codes;  // union, first-seen order
  std::map<std::string, std::vector<std::string_view>> charts_of;  // code -> chart ids
  for (const StoredResult* r : latest) {
    absl::StatusOr<std::vector<std::string>> c =
        CodesOfResult(parser, r->record.result_json, &buffer);
    if (!c.ok()) return SetStatusError(res, c.status());
    for (std::string& code : *c) {
      auto [it, inserted] = charts_of.try_emplace(code);
      if (inserted) codes.push_back(code);
      if (it->second.empty() || it->second.back() != r->record.chart_id) {
        it->second.push_back(r->record.chart_id);
      }
    }
  }
  std::vector<std::string_view> views(codes.begin(), codes.end());
  absl::StatusOr<RiskScore> cat = model->Categorize(views);
  if (!cat.ok()) return SetStatusError(res, cat.status());
  auto charts_for_hcc = [&](int hcc) {
    std::vector<std::string_view> out;
    for (std::string_view code : cat->CodesOf(hcc)) {
      for (std::string_view chart : charts_of[std::string(code)]) {
        if (std::find(out.begin(), out.end(), chart) == out.end()) out.push_back(chart);
      }
    }
    return out;
  };
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("patient_id", id);
  w.Field("model", HccModelName(model_id));
  w.Field("payment_year", cat->payment_year);
  w.Key("charts");
  w.BeginArray();
  for (const StoredResult* r : latest) {
    w.BeginObject();
    w.Field("chart_id", r->record.chart_id);
    w.Field("digest", r->record.digest);
    w.Field("created_at", r->created_at);
    w.EndObject();
  }
  w.EndArray();
  w.Key("codes");
  w.BeginArray();
  for (const std::string& c : codes) w.String(c);
  w.EndArray();
  w.Key("hccs");
  w.BeginArray();
  for (const HccResult& h : cat->hccs) {
    w.BeginObject();
    w.Field("hcc", h.hcc);
    w.Field("label", h.label);
    w.Key("codes");
    w.BeginArray();
    for (std::string_view c : cat->CodesOf(h.hcc)) w.String(c);
    w.EndArray();
    w.Key("charts");
    w.BeginArray();
    for (std::string_view c : charts_for_hcc(h.hcc)) w.String(c);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("removed_hccs");
  w.BeginArray();
  for (const RemovedHcc& h : cat->removed_hccs) {
    w.BeginObject();
    w.Field("hcc", h.hcc);
    w.Field("label", h.label);
    w.Field("reason", HccRemovalName(h.reason));
    if (h.reason == HccRemoval::kHierarchy) {
      w.Field("removed_by", h.removed_by);
    } else {
      w.Field("rule", h.rule);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  SetJson(res, 200, std::move(out));
}

void ApiServer::Impl::JobsSummary(httplib::Response& res) {
  absl::StatusOr<int64_t> count = options.results->Count();
  if (!count.ok()) return SetStatusError(res, count.status());
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  if (options.queue != nullptr) {
    absl::StatusOr<QueueStatus> q = options.queue->Status();
    if (!q.ok()) return SetStatusError(res, q.status());
    w.Field("backend", "postgresql");
    w.Field("results", *count);
    w.Key("queue");
    w.Raw(QueueStatusJson(*q));
  } else {
    // No work queue (SQLite): the results stored so far.
    w.Field("backend", "sqlite");
    w.Field("results", *count);
    w.Key("queue");
    w.Null();
  }
  w.EndObject();
  SetJson(res, 200, std::move(out));
}

// ---------------------------------------------------------------------------

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() {
  Stop();
  std::unique_lock<std::mutex> lock(impl_->run_mu);
  impl_->run_cv.wait(lock, [this] { return !impl_->running; });
}

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Create(const ApiServerOptions& o) {
  if (o.pipeline == nullptr || o.results == nullptr || o.tokens == nullptr) {
    return absl::InvalidArgumentError("the API server needs a pipeline, a result store and a token store");
  }
  if (o.port < 0 || o.port > 65535) {
    return absl::InvalidArgumentError(StrCat("port ", o.port, " is not in 0-65535"));
  }
  if (o.insecure_http && !IsLoopbackHost(o.host)) {
    return absl::InvalidArgumentError(
        StrCat("plain HTTP is only served on a loopback address (127.0.0.1, ::1, localhost), not ",
               o.host, ": give a certificate and key for TLS"));
  }
  if (!o.insecure_http && (o.cert_file.empty() || o.key_file.empty())) {
    return absl::InvalidArgumentError(
        "HTTPS needs a certificate and a private key (PEM files); plain HTTP on loopback needs "
        "insecure_http");
  }
  if (o.max_body_bytes == 0 || o.max_header_bytes < 1024 || o.keep_alive_requests < 1 ||
      o.threads < 0 || o.max_concurrent_coding < 0 || o.max_connections_per_client < 0 || o.rate_limit < 0 || o.rate_burst < 0 ||
      o.request_timeout <= absl::ZeroDuration() || o.io_timeout <= absl::ZeroDuration() ||
      o.handshake_timeout <= absl::ZeroDuration() || o.keep_alive_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "bad server limits: sizes, counts and timeouts must be positive (headers at least 1 KiB)");
  }
  if (o.rate_limit > 0 && o.rate_burst < 1) {
    return absl::InvalidArgumentError("the rate-limit burst must be at least 1 request");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = o.threads > 0 ? o.threads : std::max(64, 8 * cores);
  impl->limiter = std::make_unique<RateLimiter>(o.rate_limit, o.rate_burst);
  impl->coding = std::make_unique<Slots>(o.max_concurrent_coding > 0 ? o.max_concurrent_coding : cores);
  for (HccModel m : {HccModel::kV24, HccModel::kV28}) {
    RiskModelOptions ro;
    ro.code_set = o.pipeline->shared_code_set();
    ro.model = m;
    absl::StatusOr<std::unique_ptr<RiskModel>> model = RiskModel::Create(ro);
    if (!model.ok()) return model.status();
    impl->models.push_back(*std::move(model));
  }
  std::array<uint8_t, 4> nonce;
  if (absl::Status s = internal::RandomBytes(absl::MakeSpan(nonce)); !s.ok()) return s;
  for (uint8_t b : nonce) StrAppend(&impl->id_prefix, absl::Hex(b, absl::kZeroPad2));

  if (!o.insecure_http) {
    absl::StatusOr<SSL_CTX*> ctx = internal::NewServerTlsContext(o.cert_file, o.key_file);
    if (!ctx.ok()) return ctx.status();
    impl->tls = *ctx;
  }
  internal::ConnectionLimits limits;
  limits.handshake_timeout = o.handshake_timeout;
  limits.request_timeout = o.request_timeout;
  limits.io_timeout = o.io_timeout;
  limits.keep_alive_timeout = o.keep_alive_timeout;
  limits.keep_alive_requests = o.keep_alive_requests;
  limits.max_header_bytes = o.max_header_bytes;
  limits.max_per_client = o.max_connections_per_client > 0 ? o.max_connections_per_client
                                                           : std::max(1, threads / 2);
  Impl* p = impl.get();
  internal::HttpListener::Hooks hooks;
  hooks.on_request_end = [p](const Exchange& ex, double s) { p->OnRequestEnd(ex, s); };
  hooks.on_connection_event = [p](internal::ConnectionEvent e) { p->metrics.Connection(e); };
  impl->listener = std::make_unique<internal::HttpListener>(impl->tls, limits, hooks, threads);
  internal::HttpListener& l = *impl->listener;
  httplib::Headers headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  if (!o.insecure_http) headers.emplace("Strict-Transport-Security", "max-age=31536000");
  l.set_default_headers(headers);
  l.set_payload_max_length(o.max_body_bytes);
  l.set_pre_routing_handler(
      [p](const httplib::Request& req, httplib::Response& res) { return p->PreRoute(req, res); });
  l.set_error_handler([p](const httplib::Request& req, httplib::Response& res) { p->OnError(req, res); });
  l.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SetError(res, 500, "internal", "the server failed to answer this request");
  });
  l.set_logger([](const httplib::Request&, const httplib::Response& res) {
    if (HttpConnection* conn = HttpConnection::Current()) {
      Exchange& ex = conn->exchange();
      ex.written = true;
      ex.status = res.status;
      ex.bytes_out = res.body.size();
    }
  });
  for (int r = 0; r < kRouteCount; ++r) {
    auto handler = [p, r](const httplib::Request& req, httplib::Response& res) {
      p->Handle(r, req, res);
    };
    if (kRoutes[r].api.method == std::string_view("GET")) {
      l.Get(kRoutes[r].pattern, handler);
    } else {
      l.Post(kRoutes[r].pattern, handler);
    }
  }
  absl::StatusOr<int> port = l.Bind(o.host, o.port);
  if (!port.ok()) return port.status();
  impl->port = *port;
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const { return impl_->port; }

absl::Status ApiServer::Run() const {
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    if (impl_->running) return absl::FailedPreconditionError("the server is already running");
    impl_->running = true;
  }
  const bool ok = impl_->listener->Serve();
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    impl_->running = false;
  }
  impl_->run_cv.notify_all();
  if (!ok && !impl_->listener->shutting_down()) {
    return absl::InternalError("the listening socket failed");
  }
  return absl::OkStatus();
}

void ApiServer::Stop() const { impl_->listener->Shutdown(); }

std::string ApiServer::MetricsText() const {
  return impl_->metrics.Text(impl_->listener->open_connections());
}

const std::vector<ApiRoute>& ApiServer::Routes() {
  static const std::vector<ApiRoute>* const routes = [] {
    auto* v = new std::vector<ApiRoute>();
    for (const RouteSpec& r : kRoutes) v->push_back(r.api);
    return v;
  }();
  return *routes;
}

}  // namespace chartcoder
