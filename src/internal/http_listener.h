// The connection layer under the API server: cpp-httplib parses requests
// and routes them, but each accepted socket is served by our own loop, so
// that every connection is bounded in time and size whatever the client
// does:
//   - TLS (OpenSSL, 1.2 or newer) is negotiated here, within a deadline;
//   - a request must arrive in full within a deadline from its first byte,
//     and its request line and headers within a byte budget;
//   - each read and write waits at most an I/O timeout, and a response must
//     be written within a deadline;
//   - an idle keep-alive connection is closed after a timeout, and a
//     connection after a number of requests.
// cpp-httplib's own loop (Debian's 0.11) has per-read timeouts only, so a
// client trickling a byte at a time would hold a worker thread forever.
//
//   HttpListener listener(ctx, limits, hooks);   // ctx: nullptr for plain HTTP
//   listener.Get("/healthz", handler);           // the httplib::Server API
//   int port = listener.Bind("127.0.0.1", 0);
//   listener.Serve();  // until Shutdown()
//
// Handlers find the exchange (request record) they serve with
// HttpConnection::Current().
#ifndef CHARTCODER_SRC_INTERNAL_HTTP_LISTENER_H_
#define CHARTCODER_SRC_INTERNAL_HTTP_LISTENER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace chartcoder::internal {

using SteadyClock = std::chrono::steady_clock;

struct ConnectionLimits {
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  absl::Duration io_timeout = absl::Seconds(10);
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  int keep_alive_requests = 1000;
  size_t max_header_bytes = 64u << 10;
  // Connections one client address may have open at once (0: no limit);
  // more are closed as soon as they are accepted.
  int max_per_client = 0;
};

// What one request did; filled in by the loop and by the server's handlers,
// read when the request is over.
struct Exchange {
  SteadyClock::time_point start;  // first byte of the request available
  std::string method;             // "" until the request line parsed
  int route = -1;                 // the server's route index; -1 none
  std::string token_id;           // "" when no valid token
  std::string request_id;
  int status = 0;                  // 0: no response decided
  uint64_t bytes_in = 0;           // request bytes (line, headers, body)
  uint64_t bytes_out = 0;          // response body bytes
  bool headers_done = false;       // the pre-routing hook saw the headers
  bool headers_too_large = false;  // the header budget ran out
  bool timed_out = false;          // a deadline or I/O timeout passed
  bool close_after = false;        // close the connection after the response
  bool written = false;            // the response was written in full
};

// Events on connections, for metrics.
enum class ConnectionEvent {
  kAccepted,
  kTlsFailed,   // handshake failed or timed out
  kTimedOut,    // a request or response missed its deadline
  kTooLarge,    // request line and headers over the budget
  kRefused,     // over the per-client connection limit
  kClosed,
};

// The connection a worker thread is serving.
class HttpConnection {
 public:
  // The connection served on this thread, or nullptr outside a request.
  static HttpConnection* Current();
  Exchange& exchange() { return exchange_; }

 private:
  friend class HttpListener;
  friend class ConnectionStream;
  Exchange exchange_;
};

// An httplib::Server whose sockets are served by the loop above. Route
// registration, pre-routing, error and logger hooks are httplib's.
class HttpListener : public httplib::Server {
 public:
  struct Hooks {
    // After each request that got a response decided (exchange.status != 0).
    std::function<void(const Exchange& exchange, double seconds)> on_request_end;
    std::function<void(ConnectionEvent event)> on_connection_event;
  };
  // `tls`: the server context (not owned; outlives the listener), or nullptr
  // for plain HTTP.
  HttpListener(SSL_CTX* tls, ConnectionLimits limits, Hooks hooks, int threads);
  ~HttpListener() override;

  // Binds host:port (0: any free port) with a listen backlog of 1024.
  // Unavailable names the address when it cannot be bound.
  absl::StatusOr<int> Bind(const std::string& host, int port);
  // Accepts until Shutdown; returns when every connection is done. False if
  // the listening socket failed.
  bool Serve();
  // Stops accepting; connections finish the request in flight and close.
  void Shutdown();
  bool shutting_down() const { return stopping_.load(std::memory_order_relaxed); }
  int open_connections() const { return open_.load(std::memory_order_relaxed); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  SSL* Handshake(int fd);
  // Waits until `fd` is readable, up to `timeout`, waking to notice
  // Shutdown. False on timeout, error or shutdown.
  bool WaitForRequest(int fd, SSL* ssl, absl::Duration timeout);

  SSL_CTX* tls_;
  ConnectionLimits limits_;
  Hooks hooks_;
  // Takes a connection slot for the peer of `sock`; false when the peer
  // has max_per_client. `peer` is set for Release.
  bool Admit(int sock, std::string* peer);
  void Release(const std::string& peer);

  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::mutex clients_mu_;
  std::unordered_map<std::string, int> clients_;  // open connections per peer address
};

// Builds the server TLS context: TLS 1.2 minimum, forward-secret AEAD
// ciphers for TLS 1.2, no renegotiation or compression, the certificate
// chain and key from PEM files. FailedPrecondition names the file and
// OpenSSL's reason; InvalidArgument when a path is empty. The caller frees
// the context with SSL_CTX_free.
absl::StatusOr<SSL_CTX*> NewServerTlsContext(const std::string& cert_file,
                                             const std::string& key_file);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_HTTP_LISTENER_H_
