// chartcoder/server.h: the HTTPS JSON API (`chartcoder serve`): code charts,
// score members, read stored results, with bearer tokens, scopes, rate
// limits, request limits, an audit log and Prometheus metrics.
//
//   chartcoder::ApiServerOptions o;
//   o.cert_file = "/etc/chartcoder/tls/cert.pem";
//   o.key_file = "/etc/chartcoder/tls/key.pem";
//   o.port = 8443;
//   o.pipeline = pipeline.get();  // chartcoder::Pipeline::Create({})
//   o.results = results.get();    // chartcoder::OpenResultStore(...)
//   o.tokens = tokens.get();      // chartcoder::TokenStore::Open(...)
//   auto server = chartcoder::ApiServer::Create(o);  // binds the port
//   if (!server.ok()) return server.status();
//   std::thread t([&] { (void)(*server)->Run(); });
//   ...
//   (*server)->Stop();  // e.g. on SIGTERM: finishes requests in flight
//   t.join();
//
// Routes (docs/openapi.yaml): GET /healthz (no token), GET /metrics, POST
// /v1/code, POST /v1/raf, GET /v1/charts/{id}, GET /v1/patients/{id}/hccs,
// GET /v1/jobs/summary. Every error is JSON: {"error": {"code": "...",
// "message": "..."}}.
//
// TLS 1.2 or newer with the certificate and key from files; plain HTTP only
// when insecure_http is set, and then only on a loopback address. Each open
// connection is served by one worker thread (cpp-httplib's model), so
// `threads` bounds the connections served at once (others wait their turn),
// and one client address may hold at most max_connections_per_client of
// them. Facing the internet, put a reverse proxy in front.
#ifndef CHARTCODER_SERVER_H_
#define CHARTCODER_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "chartcoder/pipeline.h"
#include "chartcoder/result_store.h"
#include "chartcoder/tokens.h"
#include "chartcoder/work_queue.h"

namespace chartcoder {

struct ApiServerOptions {
  // Address to listen on: an IPv4 or IPv6 address or a host name. Default
  // 127.0.0.1.
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free one (see ApiServer::port()). Default 8443.
  int port = 8443;
  // PEM certificate (chain) and private key files. Required unless
  // insecure_http.
  std::string cert_file;
  std::string key_file;
  // Serve plain HTTP instead of TLS: only on a loopback host (127.0.0.0/8,
  // ::1, localhost). Default false.
  bool insecure_http = false;

  // What the routes use (not owned; they must outlive the server). pipeline,
  // results and tokens are required; queue is optional (PostgreSQL: GET
  // /v1/jobs/summary reports it and /metrics includes its gauges).
  const Pipeline* pipeline = nullptr;
  const ResultStore* results = nullptr;
  const TokenStore* tokens = nullptr;
  const WorkQueue* queue = nullptr;

  // Largest request body, in bytes (413 above it; the body is never read).
  // Default 8 MiB.
  size_t max_body_bytes = 8u << 20;
  // Most bytes of request line and headers (431 above it); one header line
  // is at most 8 KiB (cpp-httplib's limit, 400 above it). Default 64 KiB.
  size_t max_header_bytes = 64u << 10;
  // A request (from its first byte to its last) must arrive within this
  // time, and its response be written within it too (408 / connection
  // closed). Default 30 s.
  absl::Duration request_timeout = absl::Seconds(30);
  // The TLS handshake must finish within this time. Default 10 s.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Longest wait for each read or write to make progress. Default 10 s.
  absl::Duration io_timeout = absl::Seconds(10);
  // An idle keep-alive connection is closed after this time. Default 5 s.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Requests served on one connection before it is closed. Default 1000.
  int keep_alive_requests = 1000;
  // Worker threads: connections served at once (an idle keep-alive
  // connection holds one until keep_alive_timeout). Default 0: 8 per core, at
  // least 64.
  int threads = 0;
  // Connections one client address may hold at once; more are closed when
  // accepted, so that one client cannot take every worker thread. Default 0:
  // half of `threads`. (Behind a proxy every client has the proxy's
  // address: raise it to `threads`.)
  int max_connections_per_client = 0;
  // Charts coded at once by POST /v1/code (others wait). Default 0: one per
  // core.
  int max_concurrent_coding = 0;
  // Per-token rate limit: a token bucket refilled at `rate_limit` requests
  // per second holding at most `rate_burst` (429 with Retry-After when
  // empty). rate_limit 0 turns it off. Defaults 20/s, burst 40.
  double rate_limit = 20;
  double rate_burst = 40;
  // Receives each audit line (one JSON object per request, no newline), from
  // worker threads, serialized. Default: written to stderr.
  std::function<void(std::string_view line)> audit;
};

// One route: its method and path template ("/v1/charts/{id}"), the scope it
// needs ("" for none) and a one-line summary.
struct ApiRoute {
  std::string_view method;
  std::string_view path;
  std::string_view scope;
  std::string_view summary;
};

// The HTTPS API server. Create binds the port; Run serves until Stop. Methods
// are safe to call from any thread (Stop not from a signal handler).
class ApiServer {
 public:
  // InvalidArgument: missing pipeline, stores, certificate or key; a
  // non-loopback host with insecure_http; bad limits. FailedPrecondition: the
  // certificate or key cannot be read or do not match. Unavailable: the
  // address cannot be bound (in use, not local).
  static absl::StatusOr<std::unique_ptr<ApiServer>> Create(const ApiServerOptions& options);
  // Stops (if running) and waits for Run to return.
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port.
  int port() const;
  // Accepts and serves connections until Stop; returns once every
  // connection has finished. Internal if the listening socket fails.
  absl::Status Run() const;
  // Stops accepting, lets requests in flight finish (their responses say
  // Connection: close) and closes idle connections. Idempotent; may come
  // before Run (Run then returns at once).
  void Stop() const;

  // The Prometheus text exposition GET /metrics serves.
  std::string MetricsText() const;

  // Every route the server answers, in a fixed order.
  static const std::vector<ApiRoute>& Routes();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace chartcoder

#endif  // CHARTCODER_SERVER_H_
