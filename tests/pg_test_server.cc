#include "tests/pg_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "src/internal/pg.h"

namespace chartcoder::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''"; else out.push_back(c);
  }
  return out + "'";
}

// Runs `command` with /bin/sh, output to `log`. The exit status.
int Shell(const std::string& command, const std::string& log) {
  std::string full = "(" + command + ") >>" + Quote(log) + " 2>&1 </dev/null";
  int rc = std::system(full.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string FindBinDir() {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(e.path() / "bin" / "pg_ctl")) found.push_back(e.path().string());
  }
  if (found.empty()) return "";
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return std::atoi(std::filesystem::path(a).filename().c_str()) <
           std::atoi(std::filesystem::path(b).filename().c_str());
  });
  return found.back() + "/bin";
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgTestServer>> PgTestServer::Start(
    const PgTestServerOptions& options) {
  std::unique_ptr<PgTestServer> s(new PgTestServer());
  s->bin_ = FindBinDir();
  if (s->bin_.empty()) {
    return absl::FailedPreconditionError(
        "no PostgreSQL server under /usr/lib/postgresql: run scripts/install-deps.sh");
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "chartcoder_pg_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  s->dir_ = tmpl;
  const std::string log = s->dir_ + "/setup.log";
  s->as_postgres_ = geteuid() == 0;
  std::string run_as = "";
  if (s->as_postgres_) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) return absl::FailedPreconditionError("no `postgres` user on this machine");
    if (chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError("cannot chown the server folder to postgres");
    }
    run_as = "runuser -u postgres -- ";
  }
  const std::string data = s->dir_ + "/data";
  if (Shell(run_as + s->bin_ + "/initdb -D " + Quote(data) +
                " -U postgres -A trust -E UTF8 --locale=C --no-sync",
            log) != 0) {
    return absl::InternalError("initdb failed: " + Tail(log));
  }
  // A self-signed certificate for the addresses the tests connect to; it is
  // also the root certificate the clients verify against.
  const std::string key = s->dir_ + "/server.key", crt = s->dir_ + "/server.crt";
  if (Shell(run_as + "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 -keyout " +
                Quote(key) + " -out " + Quote(crt) +
                " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1",
            log) != 0) {
    return absl::InternalError("openssl req failed: " + Tail(log));
  }
  chmod(key.c_str(), 0600);
  s->root_cert_ = s->dir_ + "/root.crt";
  std::error_code ec;
  std::filesystem::copy_file(crt, s->root_cert_, ec);
  if (ec) return absl::InternalError("cannot copy the certificate");
  s->port_ = FreePort();
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# chartcoder test server\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "port = " << s->port_ << "\n"
         << "unix_socket_directories = '" << s->dir_ << "'\n"
         << "ssl = on\nssl_cert_file = '" << crt << "'\nssl_key_file = '" << key << "'\n"
         << "max_connections = " << options.max_connections << "\n"
         << "fsync = " << (options.fsync ? "on" : "off") << "\n"
         << "synchronous_commit = " << (options.fsync ? "on" : "off") << "\n"
         << "full_page_writes = " << (options.fsync ? "on" : "off") << "\n"
         << "shared_buffers = 128MB\nlog_min_messages = warning\n";
    std::ofstream hba(data + "/pg_hba.conf", std::ios::trunc);
    hba << "local all all trust\n"
        << "hostssl all all 127.0.0.1/32 trust\n"
        << "hostnossl all all 127.0.0.1/32 trust\n";
    if (!conf || !hba) return absl::InternalError("cannot write the server configuration");
  }
  absl::Status started = s->PgCtl("start");
  if (!started.ok()) return started;
  return s;
}

PgTestServer::~PgTestServer() {
  if (dir_.empty()) return;
  if (!bin_.empty() && std::filesystem::exists(dir_ + "/data/postmaster.pid")) {
    (void)PgCtl("-m immediate stop");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status PgTestServer::PgCtl(const std::string& args) const {
  const std::string log = dir_ + "/pg_ctl.log";
  std::string cmd = (as_postgres_ ? "runuser -u postgres -- " : "") + bin_ + "/pg_ctl -D " +
                    Quote(dir_ + "/data") + " -l " + Quote(dir_ + "/server.log") + " -w -t 60 " +
                    args;
  if (Shell(cmd, log) != 0) {
    return absl::InternalError("pg_ctl " + args + " failed: " + Tail(log) + "\nserver log: " +
                               Tail(dir_ + "/server.log"));
  }
  return absl::OkStatus();
}

std::string PgTestServer::Url(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname +
         " sslmode=verify-full sslrootcert=" + root_cert_;
}

std::string PgTestServer::InsecureUrl(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname +
         " sslmode=disable";
}

absl::Status PgTestServer::CreateDatabase(const std::string& name) const {
  internal::PgConnectOptions o;
  o.url = Url();
  absl::StatusOr<internal::PgConnection> conn = internal::PgConnection::Connect(o);
  if (!conn.ok()) return conn.status();
  return conn->ExecScript("CREATE DATABASE \"" + name + "\"");
}

absl::Status PgTestServer::Restart(bool immediate) const {
  return PgCtl(immediate ? "-m immediate restart" : "-m fast restart");
}

absl::Status PgTestServer::Stop() const { return PgCtl("-m fast stop"); }

absl::Status PgTestServer::StartAgain() const { return PgCtl("start"); }

}  // namespace chartcoder::testing
