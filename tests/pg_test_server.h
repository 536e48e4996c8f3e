// A private PostgreSQL server for tests and benchmarks: a fresh cluster in a
// temporary folder, TLS on with a certificate made for 127.0.0.1/localhost,
// listening on a free port of 127.0.0.1. Started and stopped by the test;
// nothing else on the machine is touched.
//
//   auto pg = PgTestServer::Start({});
//   ASSERT_TRUE(pg.ok()) << pg.status();
//   std::string url = (*pg)->Url();  // sslmode=verify-full with the test CA
//   ASSERT_TRUE((*pg)->Restart().ok());
//
// As root the server runs as the `postgres` user (runuser), otherwise as the
// current user. Needs the Debian postgresql and openssl packages.
#ifndef CHARTCODER_TESTS_PG_TEST_SERVER_H_
#define CHARTCODER_TESTS_PG_TEST_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace chartcoder::testing {

struct PgTestServerOptions {
  // fsync and synchronous commit (off by default: tests do not survive
  // power loss, and it makes them faster; benchmarks turn it on).
  bool fsync = false;
  // max_connections of the server.
  int max_connections = 100;
};

class PgTestServer {
 public:
  // initdb, certificate, configuration, pg_ctl start. Internal with the
  // failing step and its log when something does not work.
  static absl::StatusOr<std::unique_ptr<PgTestServer>> Start(const PgTestServerOptions& options);
  // Stops the server (immediate) and removes its folder.
  ~PgTestServer();

  // A connection string for `dbname` over TLS with sslmode=verify-full and
  // the server's certificate as root certificate.
  std::string Url(const std::string& dbname = "postgres") const;
  // The same with sslmode=disable (plaintext; needs --insecure-db).
  std::string InsecureUrl(const std::string& dbname = "postgres") const;
  // CREATE DATABASE `name`.
  absl::Status CreateDatabase(const std::string& name) const;

  // pg_ctl restart -m immediate (the server is killed and recovers) or fast.
  absl::Status Restart(bool immediate = true) const;
  absl::Status Stop() const;
  absl::Status StartAgain() const;

  int port() const { return port_; }
  const std::string& root_cert() const { return root_cert_; }
  const std::string& dir() const { return dir_; }

 private:
  PgTestServer() = default;
  absl::Status PgCtl(const std::string& args) const;

  std::string dir_;
  std::string bin_;
  std::string root_cert_;
  int port_ = 0;
  bool as_postgres_ = false;
};

// A fixture whose suite shares one server, started before its first test
// and stopped after its last: `server_`.
class PgServerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PgTestServer::Start({});
    ASSERT_TRUE(pg.ok()) << pg.status();
    server_ = pg->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline PgTestServer* server_ = nullptr;
};

}  // namespace chartcoder::testing

#endif  // CHARTCODER_TESTS_PG_TEST_SERVER_H_
