// chartcoder serve: the HTTPS JSON API (chartcoder/server.h).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "chartcoder/result_store.h"
#include "chartcoder/server.h"
#include "chartcoder/tokens.h"
#include "chartcoder/work_queue.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"
#include "cli/pipeline_flags.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrCat;

constexpr std::string_view kName = "serve";

// "8388608", "512K", "8M", "1G" (powers of 1024).
absl::StatusOr<size_t> ParseBytes(std::string_view flag, std::string_view text) {
  std::string_view t = internal::Trim(text);
  uint64_t scale = 1;
  if (!t.empty()) {
    switch (t.back()) {
      case 'K': case 'k': scale = 1ull << 10; break;
      case 'M': case 'm': scale = 1ull << 20; break;
      case 'G': case 'g': scale = 1ull << 30; break;
      default: break;
    }
    if (scale != 1) t.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!internal::ParseInt(t, &n) || n == 0 || n > (1ull << 40) / scale) {
    return absl::InvalidArgumentError(
        StrCat("--", flag, " takes a positive size in bytes, e.g. 8M or 65536, got '", text, "'"));
  }
  return static_cast<size_t>(n * scale);
}

absl::StatusOr<absl::Duration> Seconds(const CommandLine& args, std::string_view flag,
                                       double fallback, double min) {
  absl::StatusOr<double> v = args.GetDouble(flag, fallback);
  if (!v.ok()) return v.status();
  if (*v < min || *v > 86400) {
    return absl::InvalidArgumentError(
        StrCat("--", flag, " must be between ", min, " and 86400 seconds"));
  }
  return absl::Seconds(*v);
}

// The audit log: one line per request appended to a file (created 0600), or
// stderr.
class AuditLog {
 public:
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path) {
    if (path.empty() || path == "-") return std::make_unique<AuditLog>(STDERR_FILENO, false);
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(
          StrCat("cannot open the audit log ", path, ": ", std::strerror(errno)));
    }
    return std::make_unique<AuditLog>(fd, true);
  }
  AuditLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~AuditLog() {
    if (owned_) ::close(fd_);
  }
  // One write per line: O_APPEND keeps lines whole.
  void Write(std::string_view line) {
    std::string l(line);
    l.push_back('\n');
    if (::write(fd_, l.data(), l.size()) < 0) {
      // Nothing better to do than say so once on stderr.
      if (!warned_.exchange(true)) std::fprintf(stderr, "chartcoder: cannot write the audit log\n");
    }
  }

 private:
  int fd_;
  bool owned_;
  std::atomic<bool> warned_{false};
};

int Run(const CommandLine& args) {
  if (!args.positional().empty()) return UsageError(kName, "takes no arguments (see --help)");
  ApiServerOptions o;
  o.host = args.Get("host", "127.0.0.1");
  o.insecure_http = args.Has("insecure-http");
  if (o.insecure_http && (args.Has("cert") || args.Has("key"))) {
    return UsageError(kName, "--insecure-http serves plain HTTP: drop --cert and --key");
  }
  if (!o.insecure_http && (!args.Has("cert") || !args.Has("key"))) {
    return UsageError(kName,
                      "give --cert FILE and --key FILE (PEM) for HTTPS, or --insecure-http for "
                      "plain HTTP on loopback");
  }
  o.cert_file = args.Get("cert");
  o.key_file = args.Get("key");
  absl::StatusOr<long long> port = args.GetInt("port", 8443, 0, 65535);
  if (!port.ok()) return UsageError(kName, port.status());
  o.port = static_cast<int>(*port);
  absl::StatusOr<long long> connections = args.GetInt("connections", 0, 1, 4096);
  if (!connections.ok()) return UsageError(kName, connections.status());
  o.threads = static_cast<int>(*connections);
  absl::StatusOr<long long> per_client = args.GetInt("connections-per-client", 0, 1, 4096);
  if (!per_client.ok()) return UsageError(kName, per_client.status());
  o.max_connections_per_client = static_cast<int>(*per_client);
  absl::StatusOr<int> coding = ThreadsFromFlags(args);
  if (!coding.ok()) return UsageError(kName, coding.status());
  o.max_concurrent_coding = *coding;
  if (args.Has("max-body")) {
    absl::StatusOr<size_t> b = ParseBytes("max-body", args.Get("max-body"));
    if (!b.ok()) return UsageError(kName, b.status());
    o.max_body_bytes = *b;
  }
  if (args.Has("max-headers")) {
    absl::StatusOr<size_t> b = ParseBytes("max-headers", args.Get("max-headers"));
    if (!b.ok()) return UsageError(kName, b.status());
    o.max_header_bytes = *b;
  }
  absl::StatusOr<absl::Duration> request_timeout = Seconds(args, "request-timeout", 30, 0.1);
  absl::StatusOr<absl::Duration> keep_alive = Seconds(args, "keep-alive", 5, 0.1);
  absl::StatusOr<absl::Duration> token_cache = Seconds(args, "token-cache", 2, 0);
  for (const auto* d : {&request_timeout, &keep_alive, &token_cache}) {
    if (!d->ok()) return UsageError(kName, d->status());
  }
  o.request_timeout = *request_timeout;
  o.keep_alive_timeout = *keep_alive;
  absl::StatusOr<double> rate = args.GetDouble("rate-limit", 20);
  absl::StatusOr<double> burst = args.GetDouble("rate-burst", rate.ok() ? 2 * *rate : 40);
  if (!rate.ok()) return UsageError(kName, rate.status());
  if (!burst.ok()) return UsageError(kName, burst.status());
  if (*rate < 0 || *burst < 0) return UsageError(kName, "--rate-limit and --rate-burst must be >= 0");
  o.rate_limit = *rate;
  o.rate_burst = *rate > 0 ? std::max(1.0, *burst) : *burst;

  absl::StatusOr<PipelineOptions> pipeline_options = PipelineOptionsFromFlags(args);
  if (!pipeline_options.ok()) return UsageError(kName, pipeline_options.status());

  absl::StatusOr<std::string> location = StoreLocation(args);
  if (!location.ok()) return Fail(location.status());
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  auto open_failed = [](const absl::Status& s) {
    return absl::IsInvalidArgument(s) ? UsageError(kName, s) : Fail(s);
  };
  ResultStoreOptions ro;
  ro.location = *location;
  ro.allow_insecure = args.Has("insecure-db");
  ro.keys = keys->get();
  absl::StatusOr<std::unique_ptr<ResultStore>> results = OpenResultStore(ro);
  if (!results.ok()) return open_failed(results.status());
  TokenStoreOptions to;
  to.location = *location;
  to.allow_insecure = ro.allow_insecure;
  to.cache_ttl = *token_cache;
  absl::StatusOr<std::unique_ptr<TokenStore>> tokens = TokenStore::Open(to);
  if (!tokens.ok()) return open_failed(tokens.status());
  std::unique_ptr<WorkQueue> queue;
  if (!IsSqliteLocation(*location)) {
    WorkQueueOptions qo;
    qo.url = *location;
    qo.allow_insecure = ro.allow_insecure;
    absl::StatusOr<std::unique_ptr<WorkQueue>> q = WorkQueue::Create(qo);
    if (!q.ok()) return open_failed(q.status());
    queue = std::move(*q);
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> audit = AuditLog::Open(args.Get("audit-log"));
  if (!audit.ok()) return Fail(audit.status());
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = Pipeline::Create(*pipeline_options);
  if (!pipeline.ok()) return Fail(pipeline.status());
  o.pipeline = pipeline->get();
  o.results = results->get();
  o.tokens = tokens->get();
  o.queue = queue.get();
  AuditLog* log = audit->get();
  o.audit = [log](std::string_view line) { log->Write(line); };

  // SIGINT and SIGTERM go to one thread that stops the server; every other
  // thread (the server's included) inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<ApiServer>> server = ApiServer::Create(o);
  if (!server.ok()) return open_failed(server.status());
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const struct timespec tick = {0, 200 * 1000 * 1000};
    while (!done.load()) {
      siginfo_t info;
      int sig = sigtimedwait(&stop_signals, &info, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "chartcoder: %s: finishing requests in flight\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        (*server)->Stop();
        return;
      }
    }
  });
  std::fprintf(stderr, "chartcoder: serving %s://%s:%d (%s; audit log: %s)\n",
               o.insecure_http ? "http" : "https",
               o.host.find(':') != std::string::npos ? ("[" + o.host + "]").c_str() : o.host.c_str(),
               (*server)->port(), (*results)->Describe().c_str(),
               args.Get("audit-log", "-") == "-" ? "stderr" : args.Get("audit-log").c_str());
  absl::Status run = (*server)->Run();
  done = true;
  watcher.join();
  if (!run.ok()) return Fail(run);
  std::fprintf(stderr, "chartcoder: stopped\n");
  return kExitOk;
}

}  // namespace

const Command& ServeCommand() {
  static const Command* const kCommand = new Command{
      "serve", "the HTTPS JSON API: code charts, score members, read stored results",
      "Usage: chartcoder serve --cert FILE --key FILE [--host 127.0.0.1] [--port 8443]\n"
      "                        [--db URL] [--audit-log FILE] [limits...]\n"
      "       chartcoder serve --insecure-http [--host 127.0.0.1] ...   (loopback only)\n\n"
      "Serves HTTPS (TLS 1.2 or newer) with the PEM certificate chain and key. Routes\n"
      "(docs/openapi.yaml): POST /v1/code, POST /v1/raf, GET /v1/charts/{id},\n"
      "GET /v1/patients/{id}/hccs?model=V28, GET /v1/jobs/summary, GET /metrics (Prometheus)\n"
      "and GET /healthz. Every route but /healthz needs Authorization: Bearer TOKEN with a\n"
      "token from `chartcoder tokens create`; scopes nest: read < code < admin.\n\n"
      "Results and tokens live in --db: a SQLite file (the default) or PostgreSQL (migrated\n"
      "by `chartcoder db migrate`; then /v1/jobs/summary reports the work queue). POST\n"
      "/v1/code stores its result only when the request says \"store\": true. With keys\n"
      "(--keyring, $CHARTCODER_KEY...), stored results are sealed at rest with the active\n"
      "key, and sealed ones are opened to be read.\n\n"
      "One JSON line per request goes to the audit log (stderr by default): time, request\n"
      "id, token id, method, route template, status, latency, bytes; never chart text, chart\n"
      "or patient ids, or secrets. SIGINT or SIGTERM stops the server after the requests in\n"
      "flight. The README's \"Serve the API\" section walks through a first request.",
      Concat({{{"cert", "FILE", "TLS certificate chain (PEM)"},
               {"key", "FILE", "TLS private key (PEM)"},
               {"host", "ADDR", "address to listen on (default 127.0.0.1)"},
               {"port", "N", "TCP port (default 8443; 0 picks a free one)"},
               {"insecure-http", "", "serve plain HTTP instead of TLS (loopback hosts only)"},
               {"audit-log", "FILE", "append the audit lines to FILE (created 0600; default stderr)"},
               {"connections", "N",
                "connections served at once, one thread each (default 8 per core, at least 64)"},
               {"connections-per-client", "N",
                "connections one client address may hold (default half of --connections; "
                "behind a proxy, raise it to --connections)"},
               {"max-body", "SIZE", "largest request body, e.g. 8M (default 8M; 413 above)"},
               {"max-headers", "SIZE", "largest request line and headers (default 64K; 431 above)"},
               {"request-timeout", "S",
                "a request must arrive, and its response be written, within S seconds (default "
                "30)"},
               {"keep-alive", "S", "close idle connections after S seconds (default 5)"},
               {"rate-limit", "N", "requests per second per token (default 20; 0: no limit)"},
               {"rate-burst", "N", "requests a token may send at once (default 2 x rate)"},
               {"token-cache", "S",
                "trust a verified token for S seconds: a revoked token stops working within S "
                "(default 2; 0 checks the database every request)"}},
              StoreFlags(), KeyringFlags(), PipelineFlags()}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
