// Helpers for the API server tests: a throwaway CA and a server certificate
// for 127.0.0.1, running curl, a raw TLS client for hostile input, and a
// server running in-process on a free port.
#ifndef CHARTCODER_TESTS_SERVER_TEST_SUPPORT_H_
#define CHARTCODER_TESTS_SERVER_TEST_SUPPORT_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/server.h"
#include "tests/test_support.h"

namespace chartcoder::testing {

// PEM files of a throwaway CA and a server certificate it signed for
// 127.0.0.1 and localhost (EC P-256), made with the openssl command.
struct TestPki {
  std::string ca_cert;
  std::string cert;
  std::string key;
  std::string other_key;  // a key that matches nothing
};

inline absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  TestPki p;
  p.ca_cert = dir + "/ca.pem";
  p.cert = dir + "/server.pem";
  p.key = dir + "/server.key";
  p.other_key = dir + "/other.key";
  const std::string log = dir + "/openssl.log";
  WriteFileOrDie(dir + "/ext.cnf",
                 "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                 "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  const std::vector<std::string> steps = {
      "openssl req -x509" + ec + "-days 2 -subj /CN=chartcoder-test-ca -addext "
          "basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout " +
          dir + "/ca.key -out " + p.ca_cert,
      "openssl req" + ec + "-subj /CN=127.0.0.1 -keyout " + p.key + " -out " + dir + "/server.csr",
      "openssl x509 -req -in " + dir + "/server.csr -CA " + p.ca_cert + " -CAkey " + dir +
          "/ca.key -CAcreateserial -days 2 -extfile " + dir + "/ext.cnf -out " + p.cert,
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + p.other_key,
  };
  for (const std::string& s : steps) {
    if (std::system((s + " >>" + log + " 2>&1").c_str()) != 0) {
      return absl::InternalError("failed: " + s + "\n" + ReadFileOrDie(log));
    }
  }
  return p;
}

// Runs a command line through the shell with a timeout; its stdout (and
// stderr when `merge_stderr`) and exit code.
inline CommandResult RunShell(const std::string& command, bool merge_stderr = false) {
  CommandResult r;
  std::string cmd = "timeout 60 " + command + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int status = ::pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// A curl answer: the HTTP status (0 when there was none), the body, and
// curl's exit code.
struct CurlAnswer {
  int status = 0;
  std::string body;
  int exit_code = -1;
};

// curl over HTTPS to 127.0.0.1:`port` with `ca` as the only trusted root;
// `extra` is more curl arguments (already shell-quoted).
inline CurlAnswer Curl(int port, const std::string& ca, const std::string& method,
                       const std::string& path, const std::string& extra = "") {
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + path;
  CommandResult r = RunShell("curl -sS --cacert " + ca + " -X " + method + " " + extra +
                             " -w '\\n%{http_code}' '" + url + "'");
  CurlAnswer a;
  a.exit_code = r.exit_code;
  size_t nl = r.out.rfind('\n');
  if (nl != std::string::npos) {
    a.status = std::atoi(r.out.c_str() + nl + 1);
    a.body = r.out.substr(0, nl);
  }
  return a;
}

// A connected TCP socket to 127.0.0.1:port (from the loopback address
// `source`, e.g. "127.0.0.2", when given), or -1.
inline int ConnectLoopback(int port, const char* source = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// A blocking TLS client connection (verification against `ca`), for sending
// bytes the HTTP clients would not send.
class RawTlsClient {
 public:
  RawTlsClient(int port, const std::string& ca, const char* source = nullptr) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = ConnectLoopback(port, source);
    if (fd_ < 0) return;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~RawTlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  bool ok() const { return ok_; }
  bool Send(const std::string& bytes) {
    if (!ok_) return false;
    bool sent = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
                static_cast<int>(bytes.size());
    ERR_clear_error();
    return sent;
  }
  // Reads until the peer closes, the timeout (SO_RCVTIMEO, 5 s) passes, or
  // `until` appears.
  std::string Receive(const std::string& until = "") {
    std::string out;
    char buf[16384];
    while (ok_) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, n);
      if (!until.empty() && out.find(until) != std::string::npos) break;
    }
    ERR_clear_error();
    return out;
  }
  // One complete HTTP/1.1 response (headers and a Content-Length body).
  std::string ReceiveResponse() {
    std::string out = Receive("\r\n\r\n");
    size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) return out;
    size_t cl = out.find("Content-Length: ");
    size_t want = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
    char buf[16384];
    while (ok_ && out.size() < end + 4 + want) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, n);
    }
    ERR_clear_error();
    return out;
  }
  // True when the server has closed the connection (reads end without data).
  bool Closed() {
    char c;
    int n = SSL_read(ssl_, &c, 1);
    ERR_clear_error();
    return n <= 0;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
};

// An ApiServer running on a thread; stopped and joined when this dies
// (also when a test fails half-way).
class RunningServer {
 public:
  static absl::StatusOr<std::unique_ptr<RunningServer>> Start(const ApiServerOptions& options) {
    absl::StatusOr<std::unique_ptr<ApiServer>> s = ApiServer::Create(options);
    if (!s.ok()) return s.status();
    auto r = std::unique_ptr<RunningServer>(new RunningServer(std::move(*s)));
    return r;
  }
  ~RunningServer() {
    server_->Stop();
    thread_.join();
  }
  ApiServer& server() { return *server_; }
  int port() const { return server_->port(); }
  const absl::Status& run_status() const { return run_status_; }

 private:
  explicit RunningServer(std::unique_ptr<ApiServer> s) : server_(std::move(s)) {
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  std::unique_ptr<ApiServer> server_;
  absl::Status run_status_;
  std::thread thread_;
};

}  // namespace chartcoder::testing

#endif  // CHARTCODER_TESTS_SERVER_TEST_SUPPORT_H_
