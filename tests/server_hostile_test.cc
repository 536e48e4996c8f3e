// The API server under 10,000 hostile requests from several threads: garbage
// instead of a TLS handshake, handshakes cut mid-way, random bodies and
// random request lines over TLS, oversize headers and bodies, clients that
// trickle bytes or stall. Good requests interleaved with them must all
// succeed, and afterwards the server still answers /healthz and a good
// POST /v1/code, with no connection left open.
#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chartcoder/pipeline.h"
#include "chartcoder/result.h"
#include "chartcoder/result_store.h"
#include "chartcoder/server.h"
#include "chartcoder/tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;

constexpr char kChart[] =
    "Assessment: Type 2 diabetes mellitus with diabetic chronic kidney disease, E11.22.\n";

// The first flight of a real TLS client: a ClientHello, made against memory
// buffers.
std::string ClientHello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

std::string RandomBytes(std::mt19937& rng, size_t n, bool printable) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(printable ? 32 + rng() % 95 : rng() % 256);
  return s;
}

// Sends raw bytes on a plain TCP connection, then closes it.
void SendAndClose(int port, const std::string& bytes) {
  int fd = testing::ConnectLoopback(port);
  if (fd < 0) return;
  (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  char buf[512];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
  ::close(fd);
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::MakeTestPki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    PipelineOptions po;
    po.data_pack = testing::TestPackPath();
    auto pipeline = Pipeline::Create(po);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = std::move(*pipeline);
    const std::string db = "sqlite:" + dir_.File("cc.db");
    ResultStoreOptions ro;
    ro.location = db;
    results_ = std::move(OpenResultStore(ro)).value();
    TokenStoreOptions to;
    to.location = db;
    to.cache_ttl = absl::Seconds(2);
    tokens_ = std::move(TokenStore::Open(to)).value();
    good_token_ = tokens_->Create(TokenScope::kCode, "good")->token;
    bad_token_ = tokens_->Create(TokenScope::kCode, "hostile")->token;

    ApiServerOptions o;
    o.port = 0;
    o.cert_file = pki_.cert;
    o.key_file = pki_.key;
    o.pipeline = pipeline_.get();
    o.results = results_.get();
    o.tokens = tokens_.get();
    o.threads = 32;
    o.max_body_bytes = 64 << 10;
    o.handshake_timeout = absl::Seconds(1);
    o.request_timeout = absl::Seconds(1);
    o.io_timeout = absl::Milliseconds(500);
    o.keep_alive_timeout = absl::Seconds(1);
    o.rate_limit = 100000;
    o.rate_burst = 100000;
    o.audit = [this](std::string_view) { audit_lines_.fetch_add(1); };
    auto s = testing::RunningServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    port_ = server_->port();
    absl::StatusOr<ChartResult> r = pipeline_->Code("good", kChart);
    ASSERT_TRUE(r.ok());
    expected_ = ChartResultJson(*r);
  }
  void TearDown() override { server_.reset(); }

  // A request over TLS; the status of the answer (0: none, the connection
  // closed). Reconnects when `client` is closed or missing.
  int Exchange(std::unique_ptr<testing::RawTlsClient>& client, const std::string& request) {
    if (client == nullptr || !client->ok()) {
      client = std::make_unique<testing::RawTlsClient>(port_, pki_.ca_cert);
      if (!client->ok()) return 0;
    }
    if (!client->Send(request)) {
      client.reset();
      return 0;
    }
    std::string answer = client->ReceiveResponse();
    if (answer.rfind("HTTP/1.1 ", 0) != 0) {
      client.reset();
      return 0;
    }
    int status = std::atoi(answer.c_str() + 9);
    if (answer.find("Connection: close") != std::string::npos) client.reset();
    return status;
  }

  void Count(int status) {
    hostile_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    ++statuses_[status];
    if (status >= 500) server_errors_.push_back(status);
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<ResultStore> results_;
  std::unique_ptr<TokenStore> tokens_;
  std::string good_token_, bad_token_, expected_;
  std::unique_ptr<testing::RunningServer> server_;
  int port_ = 0;
  std::atomic<int> hostile_{0};
  std::atomic<int> audit_lines_{0};
  std::mutex mu_;
  std::vector<int> server_errors_;
  std::map<int, int> statuses_;  // 0: no answer (connection refused, cut or closed)
};

TEST_F(HostileTest, TenThousandHostileRequestsAndEveryGoodOneAnswered) {
  const auto start = std::chrono::steady_clock::now();
  const std::string hello = ClientHello();
  ASSERT_GT(hello.size(), 50u);
  std::atomic<bool> done{false};
  std::vector<std::thread> hostile;

  // Garbage instead of a TLS handshake.
  hostile.emplace_back([&] {
    std::mt19937 rng(1);
    for (int i = 0; i < 2000; ++i) {
      SendAndClose(port_, RandomBytes(rng, 1 + rng() % 2048, i % 2 == 0));
      Count(0);
    }
  });
  // Handshakes cut mid-way, some with a byte flipped.
  hostile.emplace_back([&] {
    std::mt19937 rng(2);
    for (int i = 0; i < 1500; ++i) {
      std::string h = hello.substr(0, 1 + rng() % (hello.size() - 1));
      if (i % 3 == 0) h[rng() % h.size()] ^= static_cast<char>(1 + rng() % 255);
      SendAndClose(port_, h);
      Count(0);
    }
  });
  // Random bodies with a valid token over keep-alive TLS connections.
  hostile.emplace_back([&] {
    std::mt19937 rng(3);
    std::unique_ptr<testing::RawTlsClient> c;
    for (int i = 0; i < 4000; ++i) {
      std::string body = RandomBytes(rng, rng() % 4096, i % 2 == 0);
      if (i % 5 == 0) body = "{\"text\": " + body;  // almost JSON
      const char* path = i % 7 == 0 ? "/v1/raf" : "/v1/code";
      int status = Exchange(c, std::string("POST ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                   "Authorization: Bearer " + bad_token_ +
                                   "\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body);
      Count(status);
    }
  });
  // Random request lines and headers, and binary garbage, over TLS.
  hostile.emplace_back([&] {
    std::mt19937 rng(4);
    std::unique_ptr<testing::RawTlsClient> c;
    for (int i = 0; i < 1500; ++i) {
      std::string request;
      switch (i % 4) {
        case 0:
          request = RandomBytes(rng, 1 + rng() % 200, true) + "\r\n\r\n";
          break;
        case 1:
          request = "GET /" + RandomBytes(rng, rng() % 300, true) + " HTTP/1.1\r\n" +
                    RandomBytes(rng, rng() % 100, true) + ": x\r\n\r\n";
          break;
        case 2:
          request = RandomBytes(rng, 1 + rng() % 512, false) + "\r\n\r\n";
          break;
        default:
          request = "GET /v1/charts/%00%ff%2e%2e%2f HTTP/1.1\r\nAuthorization: Bearer " +
                    RandomBytes(rng, 84, true) + "\r\n\r\n";
      }
      Count(Exchange(c, request));
    }
  });
  // Oversize headers, oversize and lying Content-Lengths, chunked bodies.
  hostile.emplace_back([&] {
    std::mt19937 rng(5);
    std::unique_ptr<testing::RawTlsClient> c;
    for (int i = 0; i < 1000; ++i) {
      std::string request;
      switch (i % 4) {
        case 0: {
          request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
          for (int h = 0; h < 12; ++h) request += "X-Pad: " + std::string(7000, 'p') + "\r\n";
          request += "\r\n";
          break;
        }
        case 1:
          request = "POST /v1/code HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n";
          break;
        case 2:
          request = "POST /v1/code HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n";
          break;
        default:
          request = "POST /v1/code HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "ffffffff\r\n" + RandomBytes(rng, 100, true);
      }
      Count(Exchange(c, request));
    }
  });
  // Slow clients: trickle a request a byte at a time, or stall after part of
  // one (a handshake, a request line, half a body), four at a time.
  for (int t = 0; t < 4; ++t) {
    hostile.emplace_back([&, t] {
      std::mt19937 rng(10 + t);
      for (int i = 0; i < 10; ++i) {
        if (i % 3 == 0) {
          // A stalled handshake: half a ClientHello, then nothing.
          int fd = testing::ConnectLoopback(port_);
          (void)!::send(fd, hello.data(), hello.size() / 2, MSG_NOSIGNAL);
          char b;
          (void)!::recv(fd, &b, 1, 0);  // returns when the server gives up
          ::close(fd);
        } else {
          testing::RawTlsClient slow(port_, pki_.ca_cert);
          const std::string request =
              "POST /v1/code HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n"
              "Authorization: Bearer " + bad_token_ + "\r\n\r\n{\"text\": \"";
          for (size_t k = 0; k < request.size() && slow.Send(request.substr(k, 1)); ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 30));
            if (i % 3 == 2 && k > request.size() / 2) break;  // then stall
          }
          slow.Receive();  // the 408, or nothing: the server closed
        }
        Count(0);
      }
    });
  }

  // Good requests all along: each must succeed, with the right answer.
  int good = 0;
  std::vector<std::string> good_failures;
  std::thread good_client([&] {
    httplib::SSLClient c("127.0.0.1", port_);
    c.set_ca_cert_path(pki_.ca_cert.c_str());
    c.enable_server_certificate_verification(true);
    c.set_bearer_token_auth(good_token_.c_str());
    c.set_connection_timeout(10, 0);
    c.set_read_timeout(10, 0);
    const std::string body = "{\"id\":\"good\",\"text\":\"" +
                             std::string(kChart, sizeof kChart - 2) + "\\n\"}";
    while (!done.load()) {
      httplib::Result r = c.Post("/v1/code", body, "application/json");
      if (!r || r->status != 200 || r->body != expected_) {
        good_failures.push_back(r ? std::to_string(r->status) + " " + r->body.substr(0, 200)
                                  : httplib::to_string(r.error()));
      }
      httplib::Result h = c.Get("/healthz");
      if (!h || h->status != 200) good_failures.push_back("healthz");
      good += 2;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& t : hostile) t.join();
  done = true;
  good_client.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_GE(hostile_.load(), 10000);
  EXPECT_GT(good, 20);
  EXPECT_THAT(good_failures, ::testing::IsEmpty());
  EXPECT_THAT(server_errors_, ::testing::IsEmpty()) << "5xx answers to hostile requests";
  EXPECT_LT(elapsed, std::chrono::seconds(60));

  // Still serving, and every hostile connection is gone.
  testing::CurlAnswer h = testing::Curl(port_, pki_.ca_cert, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  testing::WriteFileOrDie(dir_.File("good.json"), "{\"id\":\"good\",\"text\":\"" +
                                                      std::string(kChart, sizeof kChart - 2) +
                                                      "\\n\"}");
  testing::CurlAnswer code = testing::Curl(
      port_, pki_.ca_cert, "POST", "/v1/code",
      "-H 'Authorization: Bearer " + good_token_ +
          "' -H 'Content-Type: application/json' --data-binary @" + dir_.File("good.json"));
  EXPECT_EQ(code.status, 200);
  EXPECT_EQ(code.body, expected_);
  std::string metrics;
  for (int i = 0; i < 50; ++i) {
    metrics = server_->server().MetricsText();
    if (metrics.find("chartcoder_http_open_connections 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(metrics, HasSubstr("chartcoder_http_open_connections 0\n"));
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("chartcoder_http_tls_handshake_failures_total 0\n")));
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("chartcoder_http_timeouts_total 0\n")));
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("chartcoder_http_oversize_headers_total 0\n")));
  std::string by_status;
  for (const auto& [status, n] : statuses_) by_status += " " + std::to_string(status) + ":" + std::to_string(n);
  std::printf("hostile: %d requests (by answer:%s), %d good ones, %.1f s; %d audit lines\n",
              hostile_.load(), by_status.c_str(), good,
              std::chrono::duration<double>(elapsed).count(), audit_lines_.load());
  // The requests that reached HTTP were answered, not dropped.
  EXPECT_GT(statuses_[400], 3000);
  EXPECT_GT(statuses_[431], 200);
  EXPECT_GT(statuses_[413], 200);
  EXPECT_GT(statuses_[411], 200);
}

}  // namespace
}  // namespace chartcoder
