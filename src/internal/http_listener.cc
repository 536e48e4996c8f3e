#include "src/internal/http_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

// The connection served on this thread: set by the loop for the life of a
// connection, read by handlers running inside it (httplib's handler
// signature has no room for it).
thread_local HttpConnection* current_connection = nullptr;

class CurrentScope {
 public:
  explicit CurrentScope(HttpConnection* c) { current_connection = c; }
  ~CurrentScope() { current_connection = nullptr; }
};

int64_t MillisUntil(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - SteadyClock::now()).count();
}

SteadyClock::time_point After(absl::Duration d) {
  return SteadyClock::now() + absl::ToChronoNanoseconds(d);
}

// Waits for `events` on `fd` up to `timeout_ms` (>= 0). True when ready
// (or hung up: the next read or write says what happened).
bool PollFor(int fd, short events, int64_t timeout_ms) {
  struct pollfd p = {fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, timeout_ms)));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown reason";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

HttpConnection* HttpConnection::Current() { return current_connection; }

// httplib reads requests through this stream and writes responses to it. It
// buffers reads (httplib reads request lines a byte at a time), bounds every
// wait by the I/O timeout and the exchange's deadline, and counts the bytes of
// request line and headers against their budget.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, SSL* ssl, const ConnectionLimits& limits, HttpConnection* conn)
      : fd_(fd), ssl_(ssl), limits_(limits), conn_(conn) {}

  // A new request begins: its deadline runs from now.
  void BeginRequest() {
    read_deadline_ = After(limits_.request_timeout);
    write_deadline_.reset();
    header_bytes_ = 0;
  }
  bool broken() const { return broken_; }
  bool has_buffered() const { return pos_ < len_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0); }

  bool is_readable() const override {
    return has_buffered() || PollFor(fd_, POLLIN, 0);
  }
  bool is_writable() const override { return !broken_ && PollFor(fd_, POLLOUT, 0); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_ && !Fill()) return broken_ || conn_->exchange_.timed_out ? -1 : 0;
    size_t n = std::min(size, len_ - pos_);
    Exchange& ex = conn_->exchange_;
    if (!ex.headers_done) {
      header_bytes_ += n;
      if (header_bytes_ > limits_.max_header_bytes) {
        ex.headers_too_large = true;
        ex.close_after = true;
        return -1;
      }
    }
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    ex.bytes_in += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (broken_) return -1;
    // The response must be written within the request timeout from its
    // first byte.
    if (!write_deadline_) write_deadline_ = After(limits_.request_timeout);
    size_t done = 0;
    while (done < size) {
      ssize_t n;
      int want = 0;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        int r = SSL_write(ssl_, ptr + done, static_cast<int>(std::min<size_t>(size - done, 1 << 30)));
        if (r > 0) {
          n = r;
        } else {
          int e = SSL_get_error(ssl_, r);
          if (e == SSL_ERROR_WANT_WRITE) {
            want = POLLOUT;
          } else if (e == SSL_ERROR_WANT_READ) {
            want = POLLIN;
          } else {
            return Broken();
          }
          n = 0;
        }
      } else {
        n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK) return Broken();
          want = POLLOUT;
          n = 0;
        }
      }
      done += static_cast<size_t>(n);
      if (want != 0 && !Wait(want, *write_deadline_)) return Broken();
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) Describe(a, len, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) Describe(a, len, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  static void Describe(const sockaddr_storage& a, socklen_t len, std::string& ip, int& port) {
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, serv,
                      sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host;
      port = std::atoi(serv);
    }
  }

  ssize_t Broken() {
    broken_ = true;
    ERR_clear_error();
    return -1;
  }

  // Waits for `events` up to the I/O timeout and `deadline`. A miss marks
  // the exchange timed out.
  bool Wait(short events, SteadyClock::time_point deadline) {
    const int64_t io = absl::ToInt64Milliseconds(limits_.io_timeout);
    if (PollFor(fd_, events, std::min(io, MillisUntil(deadline)))) return true;
    conn_->exchange_.timed_out = true;
    conn_->exchange_.close_after = true;
    return false;
  }

  // Reads more bytes into the buffer. False at the end of the stream
  // (broken_ unset) or on error or timeout (broken_ set).
  bool Fill() {
    pos_ = len_ = 0;
    for (;;) {
      int want = 0;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        int r = SSL_read(ssl_, buf_.data(), static_cast<int>(buf_.size()));
        if (r > 0) {
          len_ = static_cast<size_t>(r);
          return true;
        }
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN) return false;
        if (e == SSL_ERROR_WANT_READ) {
          want = POLLIN;
        } else if (e == SSL_ERROR_WANT_WRITE) {
          want = POLLOUT;
        } else {
          Broken();
          return false;
        }
      } else {
        ssize_t r = ::recv(fd_, buf_.data(), buf_.size(), 0);
        if (r > 0) {
          len_ = static_cast<size_t>(r);
          return true;
        }
        if (r == 0) return false;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          Broken();
          return false;
        }
        want = POLLIN;
      }
      // A timeout leaves the stream usable for the 408 answer.
      if (!Wait(want, read_deadline_)) return false;
    }
  }

  const int fd_;
  SSL* const ssl_;
  const ConnectionLimits& limits_;
  HttpConnection* const conn_;
  std::array<char, 16384> buf_;
  size_t pos_ = 0, len_ = 0;
  size_t header_bytes_ = 0;
  bool broken_ = false;
  SteadyClock::time_point read_deadline_;
  std::optional<SteadyClock::time_point> write_deadline_;
};

HttpListener::HttpListener(SSL_CTX* tls, ConnectionLimits limits, Hooks hooks, int threads)
    : tls_(tls), limits_(limits), hooks_(std::move(hooks)) {
  const size_t n = static_cast<size_t>(std::max(1, threads));
  new_task_queue = [n] { return new httplib::ThreadPool(n); };
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // server bind the same port and take half its connections.
  set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
}

HttpListener::~HttpListener() = default;

absl::StatusOr<int> HttpListener::Bind(const std::string& host, int port) {
  errno = 0;
  int bound = port;
  if (port == 0) {
    bound = bind_to_any_port(host);
    if (bound < 0) bound = 0;
  } else if (!bind_to_port(host, port)) {
    bound = 0;
  }
  if (bound <= 0) {
    const int e = errno;
    return absl::UnavailableError(StrCat("cannot listen on ", host, ":", port, ": ",
                                         e != 0 ? std::strerror(e) : "not an address here"));
  }
  // httplib listens with a backlog of 5; a burst of clients connecting at
  // once should wait in the kernel, not be dropped.
  ::listen(svr_sock_.load(), 1024);
  return bound;
}

bool HttpListener::Serve() {
  if (stopping_) return true;
  return listen_after_bind();
}

void HttpListener::Shutdown() {
  stopping_ = true;
  // What httplib::Server::stop() does, but also before the accept loop has
  // started (stop() only acts on a running server).
  socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock != INVALID_SOCKET) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
}

SSL* HttpListener::Handshake(int fd) {
  SSL* ssl = SSL_new(tls_);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  const SteadyClock::time_point deadline = After(limits_.handshake_timeout);
  const int64_t io = absl::ToInt64Milliseconds(limits_.io_timeout);
  for (;;) {
    ERR_clear_error();
    int r = SSL_accept(ssl);
    if (r == 1) return ssl;
    int e = SSL_get_error(ssl, r);
    short want = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    const int64_t left = MillisUntil(deadline);
    if (want == 0 || left <= 0 || stopping_ || !PollFor(fd, want, std::min(io, left))) {
      ERR_clear_error();
      SSL_free(ssl);
      return nullptr;
    }
  }
}

bool HttpListener::WaitForRequest(int fd, SSL* ssl, absl::Duration timeout) {
  if (ssl != nullptr && SSL_pending(ssl) > 0) return true;
  const SteadyClock::time_point deadline = After(timeout);
  for (;;) {
    if (PollFor(fd, POLLIN, 0)) return true;
    const int64_t left = MillisUntil(deadline);
    if (stopping_ || left <= 0) return false;
    // Wake every 100 ms to notice Shutdown.
    if (PollFor(fd, POLLIN, std::min<int64_t>(left, 100))) return true;
  }
}

bool HttpListener::Admit(int sock, std::string* peer) {
  if (limits_.max_per_client <= 0) return true;
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  char host[NI_MAXHOST];
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      ::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
    return true;
  }
  std::lock_guard<std::mutex> lock(clients_mu_);
  int& n = clients_[host];
  if (n >= limits_.max_per_client) return false;
  ++n;
  *peer = host;
  return true;
}

void HttpListener::Release(const std::string& peer) {
  if (peer.empty()) return;
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = clients_.find(peer);
  if (it != clients_.end() && --it->second <= 0) clients_.erase(it);
}

bool HttpListener::process_and_close_socket(socket_t sock) {
  auto event = [this](ConnectionEvent e) {
    if (hooks_.on_connection_event) hooks_.on_connection_event(e);
  };
  std::string peer;
  if (!Admit(sock, &peer)) {
    event(ConnectionEvent::kRefused);
    ::close(sock);
    return false;
  }
  open_.fetch_add(1, std::memory_order_relaxed);
  event(ConnectionEvent::kAccepted);
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);

  SSL* ssl = nullptr;
  bool ok = true;
  if (tls_ != nullptr) {
    ssl = Handshake(sock);
    if (ssl == nullptr) {
      event(ConnectionEvent::kTlsFailed);
      ok = false;
    }
  }
  bool clean = true;
  if (ok) {
    HttpConnection conn;
    CurrentScope scope(&conn);
    ConnectionStream stream(sock, ssl, limits_, &conn);
    for (int served = 0; served < limits_.keep_alive_requests; ++served) {
      if (!stream.has_buffered() && !WaitForRequest(sock, ssl, limits_.keep_alive_timeout)) break;
      if (stopping_ && served > 0) break;
      conn.exchange_ = Exchange();
      Exchange& ex = conn.exchange_;
      ex.start = SteadyClock::now();
      stream.BeginRequest();
      const bool last = served + 1 == limits_.keep_alive_requests || stopping_;
      bool closed = false;
      const bool processed = process_request(stream, last, closed, nullptr);
      if (ex.timed_out) event(ConnectionEvent::kTimedOut);
      if (ex.headers_too_large) event(ConnectionEvent::kTooLarge);
      if (ex.status != 0 && hooks_.on_request_end) {
        const double seconds =
            std::chrono::duration<double>(SteadyClock::now() - ex.start).count();
        hooks_.on_request_end(ex, seconds);
      }
      if (!processed || stream.broken()) clean = false;
      if (!processed || closed || last || ex.close_after || stream.broken() || stopping_) break;
    }
  }
  if (ssl != nullptr) {
    // One non-blocking close_notify; a client that is gone does not matter.
    if (clean) SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  event(ConnectionEvent::kClosed);
  Release(peer);
  open_.fetch_sub(1, std::memory_order_relaxed);
  return ok;
}

absl::StatusOr<SSL_CTX*> NewServerTlsContext(const std::string& cert_file,
                                             const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs a certificate file and a key file");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("cannot create a TLS context: " + OpenSslReason());
  auto fail = [ctx](absl::Status s) {
    SSL_CTX_free(ctx);
    return s;
  };
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return fail(absl::InternalError("cannot require TLS 1.2: " + OpenSslReason()));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: forward secrecy and AEAD only (TLS 1.3 suites are all AEAD).
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") != 1) {
    return fail(absl::InternalError("cannot set the TLS 1.2 ciphers: " + OpenSslReason()));
  }
  static constexpr unsigned char kSessionContext[] = "chartcoder";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return fail(absl::FailedPreconditionError(
        StrCat("cannot use the certificate ", cert_file, ": ", OpenSslReason())));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return fail(absl::FailedPreconditionError(StrCat(
          "the private key ", key_file, " does not match the certificate ", cert_file)));
    }
    return fail(absl::FailedPreconditionError(
        StrCat("cannot use the private key ", key_file, ": ", OpenSslReason())));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail(absl::FailedPreconditionError(StrCat(
        "the private key ", key_file, " does not match the certificate ", cert_file)));
  }
  ERR_clear_error();
  return ctx;
}

}  // namespace chartcoder::internal
