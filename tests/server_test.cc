// The HTTPS API end to end with real clients over TLS: curl (--cacert) and
// cpp-httplib's SSLClient with verification on. Every route: the happy
// path, 401 (no token, bad token, revoked token), 403 (scope), 413, 400
// (malformed JSON, with a message), 404, 429; TLS 1.1 refused; plain HTTP
// only on loopback; the audit log; SQLite and PostgreSQL stores.
#include "chartcoder/server.h"

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "chartcoder/keys.h"
#include "chartcoder/pipeline.h"
#include "chartcoder/result.h"
#include "chartcoder/result_store.h"
#include "chartcoder/tokens.h"
#include "chartcoder/work_queue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/pg_test_server.h"
#include "tests/server_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::Curl;
using testing::CurlAnswer;

constexpr char kDiabetesChart[] =
    "Assessment: Type 2 diabetes mellitus without complications, E11.9. Continue metformin.\n";
constexpr char kCkdChart[] =
    "Assessment: type 2 diabetes with diabetic chronic kidney disease, E11.22. CKD stage 3b, "
    "N18.32.\n";

// Everything a test server needs, shared by the suites: the pipeline (slow
// to build) and the certificates.
struct Shared {
  testing::TempDir dir;
  testing::TestPki pki;
  std::unique_ptr<Pipeline> pipeline;
};

Shared* shared = nullptr;

void SetUpShared() {
  if (shared != nullptr) return;
  shared = new Shared;
  absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki(shared->dir.path());
  ASSERT_TRUE(pki.ok()) << pki.status();
  shared->pki = *pki;
  PipelineOptions o;
  o.data_pack = testing::TestPackPath();
  auto p = Pipeline::Create(o);
  ASSERT_TRUE(p.ok()) << p.status();
  shared->pipeline = std::move(*p);
}

// Writes a JSON object of the strings given (key, value, key, value...).
std::string JsonObject(std::initializer_list<std::pair<std::string, std::string>> fields,
                       const std::string& raw_tail = "") {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) out += ",";
    out += "\"" + k + "\":\"";
    for (char c : v) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else {
        out += c;
      }
    }
    out += "\"";
  }
  if (!raw_tail.empty()) out += (out.size() > 1 ? "," : "") + raw_tail;
  return out + "}";
}

std::string ErrorCode(const std::string& body) {
  simdjson::dom::parser p;
  std::string_view code;
  if (p.parse(body)["error"]["code"].get_string().get(code) != simdjson::SUCCESS) return "?";
  return std::string(code);
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetUpShared(); }

  void SetUp() override {
    ASSERT_NE(shared, nullptr);
    ASSERT_NE(shared->pipeline, nullptr);
    db_ = "sqlite:" + dir_.File("cc.db");
    ResultStoreOptions ro;
    ro.location = db_;
    auto results = OpenResultStore(ro);
    ASSERT_TRUE(results.ok()) << results.status();
    results_ = std::move(*results);
    TokenStoreOptions to;
    to.location = db_;
    to.cache_ttl = absl::Milliseconds(200);
    auto tokens = TokenStore::Open(to);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = std::move(*tokens);
    read_ = tokens_->Create(TokenScope::kRead, "reader")->token;
    code_ = tokens_->Create(TokenScope::kCode, "coder")->token;
    admin_ = tokens_->Create(TokenScope::kAdmin, "admin")->token;
  }

  // The server goes first: its threads write to audit_.
  void TearDown() override { server_.reset(); }

  ApiServerOptions Options() {
    ApiServerOptions o;
    o.port = 0;
    o.cert_file = shared->pki.cert;
    o.key_file = shared->pki.key;
    o.pipeline = shared->pipeline.get();
    o.results = results_.get();
    o.tokens = tokens_.get();
    o.threads = 8;
    o.rate_limit = 1000;
    o.rate_burst = 1000;
    o.audit = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(audit_mu_);
      audit_.emplace_back(line);
    };
    return o;
  }

  void Start(const ApiServerOptions& o) {
    auto s = testing::RunningServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    port_ = server_->port();
  }
  void Start() { Start(Options()); }

  CurlAnswer Call(const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "", const std::string& extra = "") {
    std::string args = extra;
    if (!token.empty()) args += " -H 'Authorization: Bearer " + token + "'";
    if (!body.empty()) {
      const std::string file = dir_.File("body" + std::to_string(++bodies_) + ".json");
      testing::WriteFileOrDie(file, body);
      args += " -H 'Content-Type: application/json' --data-binary @" + file;
    }
    return Curl(port_, shared->pki.ca_cert, method, path, args);
  }

  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->set_ca_cert_path(shared->pki.ca_cert.c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(30, 0);
    return c;
  }

  std::vector<std::string> AuditLines() {
    std::lock_guard<std::mutex> lock(audit_mu_);
    return audit_;
  }

  testing::TempDir dir_;
  std::string db_;
  std::unique_ptr<ResultStore> results_;
  std::unique_ptr<TokenStore> tokens_;
  std::string read_, code_, admin_;
  std::unique_ptr<testing::RunningServer> server_;
  int port_ = 0;
  int bodies_ = 0;
  std::mutex audit_mu_;
  std::vector<std::string> audit_;
};

TEST_F(ServerTest, HealthzNeedsNoTokenOverCurlAndHttplib) {
  Start();
  CurlAnswer a = Call("GET", "/healthz", "");
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"status":"ok"})");
  auto c = Client();
  httplib::Result r = c->Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_THAT(r->get_header_value("Strict-Transport-Security"), StartsWith("max-age="));
  EXPECT_FALSE(r->get_header_value("X-Request-Id").empty());
}

// Every route but /healthz: no token, a malformed or unknown token, a token
// with the wrong secret and a revoked token are all 401 with a JSON error.
TEST_F(ServerTest, EveryRouteNeedsAValidToken) {
  Start();
  absl::StatusOr<IssuedToken> doomed = tokens_->Create(TokenScope::kAdmin, "doomed");
  ASSERT_TRUE(doomed.ok());
  ASSERT_TRUE(tokens_->Revoke(doomed->info.id).ok());
  std::string wrong = admin_;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (const ApiRoute& route : ApiServer::Routes()) {
    if (route.path == "/healthz") continue;
    std::string path(route.path);
    if (path.find("{id}") != std::string::npos) path.replace(path.find("{id}"), 4, "x1");
    const std::string body = route.method == "POST" ? "{}" : "";
    for (const std::string& token : {std::string(), std::string("nonsense"), wrong, doomed->token}) {
      CurlAnswer a = Call(std::string(route.method), path, token, body);
      EXPECT_EQ(a.status, 401) << route.path << " token " << token;
      EXPECT_EQ(ErrorCode(a.body), "unauthenticated") << a.body;
    }
    CurlAnswer revoked = Call(std::string(route.method), path, doomed->token, body);
    EXPECT_THAT(revoked.body, HasSubstr("revoked"));
    CurlAnswer none = Call(std::string(route.method), path, "", body);
    EXPECT_THAT(none.body, HasSubstr("Authorization: Bearer TOKEN"));
  }
  // The library's own client, with the header it sets for a bearer token.
  auto c = Client();
  c->set_bearer_token_auth("nope");
  httplib::Result r = c->Get("/v1/jobs/summary");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"chartcoder\", error=\"invalid_token\"");
}

TEST_F(ServerTest, RevocationTakesEffectWithinTheCacheTime) {
  Start();
  absl::StatusOr<IssuedToken> t = tokens_->Create(TokenScope::kRead, "short-lived");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", t->token).status, 200);
  // Revoked by another process (its own store: no shared cache).
  TokenStoreOptions o;
  o.location = db_;
  auto other = TokenStore::Open(o);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Revoke(t->info.id).ok());
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", t->token).status, 401);
}

TEST_F(ServerTest, ScopesNest) {
  Start();
  const std::string code_body = JsonObject({{"text", kDiabetesChart}});
  const std::string raf_body = R"({"codes":["E11.9"],"demographics":{"age":70,"sex":"F"}})";
  CurlAnswer a = Call("POST", "/v1/code", read_, code_body);
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(ErrorCode(a.body), "forbidden");
  EXPECT_THAT(a.body, HasSubstr("needs a token with scope code (this one has read)"));
  EXPECT_EQ(Call("POST", "/v1/raf", read_, raf_body).status, 403);
  EXPECT_EQ(Call("POST", "/v1/code", code_, code_body).status, 200);
  EXPECT_EQ(Call("POST", "/v1/raf", admin_, raf_body).status, 200);
  for (const std::string& t : {read_, code_, admin_}) {
    EXPECT_EQ(Call("GET", "/v1/jobs/summary", t).status, 200);
    EXPECT_EQ(Call("GET", "/metrics", t).status, 200);
  }
}

// POST /v1/code answers exactly the JSON line `chartcoder code` prints.
TEST_F(ServerTest, CodeAnswersWhatTheCliPrints) {
  Start();
  const std::string path = testing::SourceDir() + "/examples/charts/office_t2dm_ckd3b_htn.txt";
  const std::string chart = testing::ReadFileOrDie(path);
  testing::CommandResult cli = testing::RunCli({"code", path});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  CurlAnswer a = Call("POST", "/v1/code", code_, JsonObject({{"id", path}, {"text", chart}}));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body + "\n", cli.out);
  EXPECT_THAT(a.body, HasSubstr("\"code\":\"E11.22\""));
  // With demographics: the RAF is in the answer; the httplib client agrees.
  const std::string body =
      JsonObject({{"id", "c1"}, {"text", chart}}, R"("demographics":{"age":71,"sex":"M"})");
  auto c = Client();
  c->set_bearer_token_auth(code_.c_str());
  httplib::Result r = c->Post("/v1/code", body, "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  Demographics member;
  member.age = 71;
  member.sex = Sex::kMale;
  absl::StatusOr<ChartResult> direct = shared->pipeline->Code("c1", chart, &member);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(r->body, ChartResultJson(*direct));
  EXPECT_THAT(r->body, HasSubstr("\"raf\":{"));
  EXPECT_EQ(r->get_header_value("X-Chartcoder-Stored"), "");  // nothing stored unasked
  EXPECT_EQ(results_->Count().value(), 0);
}

TEST_F(ServerTest, StoredChartsAreReadBackAndAggregatedPerPatient) {
  Start();
  CurlAnswer a = Call("POST", "/v1/code", code_,
                      JsonObject({{"id", "chart-a"}, {"text", kDiabetesChart},
                                  {"patient_id", "member-7"}},
                                 R"("store":true)"));
  ASSERT_EQ(a.status, 200) << a.body;
  CurlAnswer b = Call("POST", "/v1/code", code_,
                      JsonObject({{"id", "chart-b"}, {"text", kCkdChart}, {"patient_id", "member-7"}},
                                 R"("store":true)"));
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(results_->Count().value(), 2);
  // The same chart again is kept once.
  auto c = Client();
  c->set_bearer_token_auth(code_.c_str());
  httplib::Result again = c->Post(
      "/v1/code",
      JsonObject({{"id", "chart-a"}, {"text", kDiabetesChart}, {"patient_id", "member-7"}},
                 R"("store":true)"),
      "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get_header_value("X-Chartcoder-Stored"), "existing");
  EXPECT_EQ(results_->Count().value(), 2);

  CurlAnswer chart = Call("GET", "/v1/charts/chart-a", read_);
  ASSERT_EQ(chart.status, 200) << chart.body;
  EXPECT_THAT(chart.body, StartsWith(R"({"chart_id":"chart-a","results":[{"chart_id":"chart-a","patient_id":"member-7","digest":")"));
  EXPECT_THAT(chart.body, HasSubstr("\"result\":" + a.body + "}"));

  httplib::Result h = c->Get("/v1/patients/member-7/hccs?model=V28");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200) << h->body;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(h->body);
  EXPECT_EQ(std::string_view(doc["patient_id"]), "member-7");
  EXPECT_EQ(std::string_view(doc["model"]), "V28");
  EXPECT_EQ(simdjson::dom::array(doc["charts"]).size(), 2u);
  // E11.9 (HCC 38) and E11.22 (HCC 37) across the charts: the hierarchy keeps 37.
  bool has37 = false, removed38 = false;
  for (simdjson::dom::element e : simdjson::dom::array(doc["hccs"])) {
    if (int64_t(e["hcc"]) == 37) {
      has37 = true;
      EXPECT_EQ(simdjson::minify(e["charts"]), R"(["chart-b"])");
    }
    EXPECT_NE(int64_t(e["hcc"]), 38);
  }
  for (simdjson::dom::element e : simdjson::dom::array(doc["removed_hccs"])) {
    if (int64_t(e["hcc"]) == 38) {
      removed38 = true;
      EXPECT_EQ(int64_t(e["removed_by"]), 37);
      EXPECT_EQ(std::string_view(e["reason"]), "hierarchy");
    }
  }
  EXPECT_TRUE(has37) << h->body;
  EXPECT_TRUE(removed38) << h->body;
  CurlAnswer v24 = Call("GET", "/v1/patients/member-7/hccs?model=V24", read_);
  EXPECT_EQ(v24.status, 200);
  EXPECT_THAT(v24.body, HasSubstr("\"model\":\"V24\""));

  CurlAnswer summary = Call("GET", "/v1/jobs/summary", read_);
  EXPECT_EQ(summary.body, R"({"backend":"sqlite","results":2,"queue":null})");
}

// With keys, stored results are sealed at rest and opened for reading.
TEST_F(ServerTest, StoredResultsAreSealedWithKeys) {
  auto ring = Keyring::Create(dir_.File("ring"), {});
  ASSERT_TRUE(ring.ok()) << ring.status();
  ResultStoreOptions ro;
  ro.location = "sqlite:" + dir_.File("sealed.db");
  ro.keys = ring->get();
  auto sealed = OpenResultStore(ro);
  ASSERT_TRUE(sealed.ok());
  ApiServerOptions o = Options();
  o.results = sealed->get();
  Start(o);
  const std::string marker = "Quetzalcoatl";
  CurlAnswer a = Call("POST", "/v1/code", code_,
                      JsonObject({{"id", "s-1"}, {"text", std::string(kDiabetesChart) + marker}},
                                 R"("store":true)"));
  ASSERT_EQ(a.status, 200) << a.body;
  CurlAnswer c = Call("GET", "/v1/charts/s-1", read_);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_THAT(c.body, HasSubstr("\"sealed\":true,\"result\":" + a.body));
  server_.reset();
  sealed->reset();
  // Not in the database file in the clear.
  std::string bytes = testing::ReadFileOrDie(dir_.File("sealed.db"));
  if (std::filesystem::exists(dir_.File("sealed.db-wal"))) {
    bytes += testing::ReadFileOrDie(dir_.File("sealed.db-wal"));
  }
  EXPECT_EQ(bytes.find(marker), std::string::npos);
  EXPECT_EQ(bytes.find("E11.9"), std::string::npos);
}

TEST_F(ServerTest, NotFoundAndBadRequests) {
  Start();
  struct Case {
    std::string method, path, body;
    int status;
    std::string code, message;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/charts/never-stored", "", 404, "not_found", "no stored results for this chart"},
      {"GET", "/v1/patients/nobody/hccs", "", 404, "not_found", "no stored results for this patient"},
      {"GET", "/v1/nothing", "", 404, "not_found", "no such route"},
      {"GET", "/v1/code", "", 405, "method_not_allowed", "/v1/code takes POST"},
      {"GET", "/v1/patients/x/hccs?model=V99", "", 400, "invalid_argument", "V24 or V28"},
      {"GET", "/v1/patients/x/hccs?year=2020", "", 400, "invalid_argument", "\\\"year\\\""},
      {"POST", "/v1/code", "{\"text\": \"abc\"", 400, "invalid_json", "not valid JSON"},
      {"POST", "/v1/code", "[1,2]", 400, "invalid_json", "must be a JSON object"},
      {"POST", "/v1/code", "{\"text\": 5}", 400, "invalid_argument", "\\\"text\\\" must be a string"},
      {"POST", "/v1/code", "{\"id\": \"x\"}", 400, "invalid_argument", "\\\"text\\\" (the chart) is required"},
      {"POST", "/v1/code", "{\"text\": \"a\", \"colour\": 1}", 400, "invalid_argument", "unknown key \\\"colour\\\""},
      {"POST", "/v1/code", "{\"text\": \"a\", \"store\": true}", 400, "invalid_argument", "needs the chart's \\\"id\\\""},
      {"POST", "/v1/code", "{\"text\": \"a\", \"demographics\": {\"age\": 300, \"sex\": \"F\"}}", 400,
       "invalid_argument", "0 to 130"},
      {"POST", "/v1/code", "{\"text\": \"\\udc00 bad\"}", 400, "invalid_json", "not valid JSON"},
      {"POST", "/v1/raf", "{\"codes\": \"E11.9\", \"demographics\": {\"age\": 70, \"sex\": \"F\"}}", 400,
       "invalid_argument", "an array of strings"},
      {"POST", "/v1/raf", "{\"codes\": []}", 400, "invalid_argument", "\\\"demographics\\\""},
      {"POST", "/v1/raf", "{\"codes\": [\"E11.9\"", 400, "invalid_json", "not valid JSON"},
      {"POST", "/v1/raf", "", 411, "length_required", "needs Content-Length"},
      {"POST", "/v1/raf", "{\"codes\": [], \"demographics\": {\"age\": 70, \"sex\": \"F\"}, \"model\": \"V99\"}",
       400, "invalid_argument", "\\\"model\\\" must be"},
  };
  for (const Case& c : cases) {
    CurlAnswer a = Call(c.method, c.path, admin_, c.body);
    EXPECT_EQ(a.status, c.status) << c.method << " " << c.path << " " << c.body << " -> " << a.body;
    EXPECT_EQ(ErrorCode(a.body), c.code) << a.body;
    EXPECT_THAT(a.body, HasSubstr(c.message)) << c.body;
  }
  CurlAnswer empty = Call("POST", "/v1/code", admin_, "", "-H 'Content-Length: 0'");
  EXPECT_EQ(empty.status, 400);
  EXPECT_THAT(empty.body, HasSubstr("the body is empty"));
  // A form body (curl -d's default type) is refused, not parsed as a form.
  CurlAnswer form = Call("POST", "/v1/code", admin_, "", "-d 'text=abc'");
  EXPECT_EQ(form.status, 415);
  EXPECT_THAT(form.body, HasSubstr("application/json"));
}

TEST_F(ServerTest, TooLargeBodiesAndHeadersAndChunkedBodies) {
  ApiServerOptions o = Options();
  o.max_body_bytes = 4096;
  Start(o);
  const std::string big = JsonObject({{"text", std::string(5000, 'x')}});
  CurlAnswer a = Call("POST", "/v1/code", code_, big);
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(ErrorCode(a.body), "payload_too_large");
  EXPECT_THAT(a.body, HasSubstr("the limit is 4096"));
  // Also before authentication, and on every route: the body is never read.
  for (const ApiRoute& route : ApiServer::Routes()) {
    std::string path(route.path);
    if (path.find("{id}") != std::string::npos) path.replace(path.find("{id}"), 4, "x1");
    for (const std::string& token : {std::string(), read_}) {
      CurlAnswer t = Call(std::string(route.method), path, token, big);
      EXPECT_EQ(t.status, 413) << route.path;
      EXPECT_EQ(ErrorCode(t.body), "payload_too_large");
    }
  }
  auto c = Client();
  c->set_bearer_token_auth(code_.c_str());
  httplib::Result r = c->Post("/v1/code", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->get_header_value("Connection"), "close");
  // Chunked bodies have no length to check first: 411.
  CurlAnswer chunked = Call("POST", "/v1/code", code_, big, "-H 'Transfer-Encoding: chunked'");
  EXPECT_EQ(chunked.status, 411);
  EXPECT_EQ(ErrorCode(chunked.body), "length_required");
  // Headers: 64 KiB in all (431), 8 KiB per line (400).
  std::string many;
  for (int i = 0; i < 10; ++i) many += " -H 'X-Pad-" + std::to_string(i) + ": " + std::string(7000, 'p') + "'";
  CurlAnswer headers = Call("GET", "/healthz", "", "", many);
  EXPECT_EQ(headers.status, 431);
  EXPECT_EQ(ErrorCode(headers.body), "headers_too_large");
  CurlAnswer line = Call("GET", "/healthz", "", "", "-H 'X-Long: " + std::string(9000, 'l') + "'");
  EXPECT_EQ(line.status, 400);
  EXPECT_EQ(ErrorCode(line.body), "bad_request");
  // The server still answers.
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

TEST_F(ServerTest, RateLimitPerToken) {
  ApiServerOptions o = Options();
  o.rate_limit = 0.5;
  o.rate_burst = 2;
  Start(o);
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", read_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", read_).status, 200);
  auto c = Client();
  c->set_bearer_token_auth(read_.c_str());
  httplib::Result r = c->Get("/v1/jobs/summary");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(ErrorCode(r->body), "rate_limited");
  const int retry = std::atoi(r->get_header_value("Retry-After").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 2);
  // Another token has its own bucket; /healthz has none.
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", admin_).status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

TEST_F(ServerTest, RafAnswersWhatTheCliPrints) {
  Start();
  testing::CommandResult cli =
      testing::RunCli({"raf", "--json", "--age", "72", "--sex", "F", "--dual", "full", "E11.9",
                       "I50.9", "N18.4"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  CurlAnswer a = Call("POST", "/v1/raf", code_,
                      R"({"codes":["E11.9","I50.9","N18.4"],"demographics":{"age":72,"sex":"F","dual":"full"}})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body + "\n", cli.out);
  cli = testing::RunCli({"raf", "--json", "--age", "72", "--sex", "F", "--blend",
                         "V24=0.33,V28=0.67", "E11.9"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  a = Call("POST", "/v1/raf", code_,
           R"({"codes":["E11.9"],"demographics":{"age":72,"sex":"F"},"blend":{"V24":0.33,"V28":0.67}})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body + "\n", cli.out);
  a = Call("POST", "/v1/raf", code_,
           R"({"codes":["E11.9"],"demographics":{"age":72,"sex":"F"},"blend":{"V24":0.5,"V28":0.6}})");
  EXPECT_EQ(a.status, 400);
}

TEST_F(ServerTest, TlsOneOneAndPlainHttpAreRefused) {
  Start();
  testing::CommandResult old = testing::RunShell(
      "curl -sS --cacert " + shared->pki.ca_cert + " --tlsv1.1 --tls-max 1.1 https://127.0.0.1:" +
          std::to_string(port_) + "/healthz",
      true);
  EXPECT_NE(old.exit_code, 0) << old.out;
  testing::CommandResult tls12 = testing::RunShell(
      "curl -sS --cacert " + shared->pki.ca_cert + " --tlsv1.2 --tls-max 1.2 https://127.0.0.1:" +
          std::to_string(port_) + "/healthz",
      true);
  EXPECT_EQ(tls12.exit_code, 0) << tls12.out;
  EXPECT_EQ(tls12.out, R"({"status":"ok"})");
  testing::CommandResult plain =
      testing::RunShell("curl -sS http://127.0.0.1:" + std::to_string(port_) + "/healthz", true);
  EXPECT_NE(plain.exit_code, 0);
  // A client that does not trust the CA refuses the server.
  testing::CommandResult untrusted =
      testing::RunShell("curl -sS https://127.0.0.1:" + std::to_string(port_) + "/healthz", true);
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_THAT(server_->server().MetricsText(),
              HasSubstr("chartcoder_http_tls_handshake_failures_total "));
}

TEST_F(ServerTest, PlainHttpOnlyOnLoopbackAndCertificatesChecked) {
  ApiServerOptions o = Options();
  o.insecure_http = true;
  o.cert_file.clear();
  o.key_file.clear();
  o.host = "0.0.0.0";
  absl::StatusOr<std::unique_ptr<ApiServer>> s = ApiServer::Create(o);
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("only served on a loopback address"));
  o.host = "::";
  EXPECT_TRUE(absl::IsInvalidArgument(ApiServer::Create(o).status()));
  o.host = "127.0.0.1";
  Start(o);
  testing::CommandResult plain =
      testing::RunShell("curl -sS http://127.0.0.1:" + std::to_string(port_) + "/healthz", true);
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.out, R"({"status":"ok"})");

  ApiServerOptions t = Options();
  t.cert_file.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(ApiServer::Create(t).status()));
  t = Options();
  t.cert_file = dir_.File("missing.pem");
  absl::Status missing = ApiServer::Create(t).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(missing)) << missing;
  EXPECT_THAT(std::string(missing.message()), HasSubstr("missing.pem"));
  t = Options();
  t.key_file = shared->pki.other_key;
  absl::Status mismatch = ApiServer::Create(t).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(mismatch)) << mismatch;
  EXPECT_THAT(std::string(mismatch.message()), HasSubstr("does not match"));
  // A port in use.
  t = Options();
  t.port = port_;
  EXPECT_TRUE(absl::IsUnavailable(ApiServer::Create(t).status()));
}

// One line per request; never chart text, chart or patient ids, or the
// token's secret.
TEST_F(ServerTest, AuditLogNamesRoutesNotIdentifiers) {
  Start();
  const std::string secret_words = "Zanzibar hypertension narrative";
  const std::string chart = std::string(kDiabetesChart) + secret_words + "\n";
  ASSERT_EQ(Call("POST", "/v1/code", code_,
                 JsonObject({{"id", "chart-ID-4242"}, {"text", chart}, {"patient_id", "MRN-777001"}},
                            R"("store":true)"))
                .status,
            200);
  EXPECT_EQ(Call("GET", "/v1/charts/chart-ID-4242", read_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/patients/MRN-777001/hccs", read_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/charts/chart-ID-9999", read_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/jobs/summary", read_.substr(0, 30) + "x").status, 401);
  EXPECT_EQ(Call("POST", "/v1/code", read_, JsonObject({{"text", chart}})).status, 403);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  server_.reset();  // a line is written after its response: stop to see them all
  std::vector<std::string> lines = AuditLines();
  ASSERT_EQ(lines.size(), 8u);
  const std::string all = ::testing::PrintToString(lines);
  for (const std::string& secret : {std::string("Zanzibar"), std::string("chart-ID-4242"),
                                    std::string("chart-ID-9999"), std::string("MRN-777001"),
                                    std::string("diabetes"), code_.substr(20), read_.substr(20)}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;
  }
  const std::string code_id = code_.substr(3, 16), read_id = read_.substr(3, 16);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("\"token\":\"" + code_id + "\""), HasSubstr("\"method\":\"POST\""),
                              HasSubstr("\"route\":\"/v1/code\""), HasSubstr("\"status\":200"),
                              HasSubstr("\"latency_ms\":"), HasSubstr("\"bytes_out\":")));
  EXPECT_THAT(lines[1], AllOf(HasSubstr("\"token\":\"" + read_id + "\""),
                              HasSubstr("\"route\":\"/v1/charts/{id}\"")));
  EXPECT_THAT(lines[2], HasSubstr("\"route\":\"/v1/patients/{id}/hccs\""));
  EXPECT_THAT(lines[3], AllOf(HasSubstr("\"route\":\"/v1/charts/{id}\""), HasSubstr("\"status\":404")));
  EXPECT_THAT(lines[4], AllOf(HasSubstr("\"token\":null"), HasSubstr("\"status\":401")));
  EXPECT_THAT(lines[5], AllOf(HasSubstr("\"token\":null"), HasSubstr("\"status\":401")));
  EXPECT_THAT(lines[6], AllOf(HasSubstr("\"token\":\"" + read_id + "\""), HasSubstr("\"status\":403")));
  EXPECT_THAT(lines[7], AllOf(HasSubstr("\"token\":null"), HasSubstr("\"route\":\"/healthz\"")));
  for (const std::string& l : lines) {
    simdjson::dom::parser p;
    EXPECT_EQ(p.parse(l).error(), simdjson::SUCCESS) << l;
  }
}

TEST_F(ServerTest, MetricsCountRequests) {
  Start();
  EXPECT_EQ(Call("POST", "/v1/code", code_, JsonObject({{"text", kDiabetesChart}})).status, 200);
  EXPECT_EQ(Call("GET", "/v1/charts/none", read_).status, 404);
  // Requests are counted once their response is written: wait for it.
  for (int i = 0; i < 200 && !::testing::Value(server_->server().MetricsText(),
                                               HasSubstr("status=\"404\"} 1"));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CurlAnswer m = Call("GET", "/metrics", read_);
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("chartcoder_http_requests_total{route=\"/v1/code\",status=\"200\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("chartcoder_http_requests_total{route=\"/v1/charts/{id}\",status=\"404\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("chartcoder_http_request_duration_seconds_count{route=\"/v1/code\"} 1\n"));
  EXPECT_THAT(m.body, HasSubstr("chartcoder_http_requests_in_flight 1\n"));  // this one
  EXPECT_THAT(m.body, HasSubstr("chartcoder_charts_coded_total 1\n"));
  EXPECT_THAT(m.body, HasSubstr(absl::StrCat("chartcoder_chart_bytes_total ", strlen(kDiabetesChart), "\n")));
}

TEST_F(ServerTest, SlowClientsAreCutOffAndKeepAliveWorks) {
  ApiServerOptions o = Options();
  o.request_timeout = absl::Milliseconds(800);
  o.io_timeout = absl::Milliseconds(500);
  Start(o);
  // A client that sends half a request and stalls gets 408 and a closed
  // connection.
  testing::RawTlsClient slow(port_, shared->pki.ca_cert);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const auto start = std::chrono::steady_clock::now();
  std::string answer = slow.Receive();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 408"));
  // One trickling a byte every 200 ms never finishes within the deadline.
  testing::RawTlsClient trickle(port_, shared->pki.ca_cert);
  ASSERT_TRUE(trickle.ok());
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(40, 's');
  bool cut = false;
  for (char c : request) {
    if (!trickle.Send(std::string(1, c))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(6)) break;
  }
  EXPECT_TRUE(cut || trickle.Closed());
  // Keep-alive: several requests on one connection.
  testing::RawTlsClient keep(port_, shared->pki.ca_cert);
  ASSERT_TRUE(keep.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(keep.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_THAT(keep.ReceiveResponse(), AllOf(StartsWith("HTTP/1.1 200"), HasSubstr("{\"status\":\"ok\"}")));
  }
  // A rejected request with a body it did not read closes the connection,
  // so the body is never taken for a request.
  ASSERT_TRUE(keep.Send("POST /v1/code HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"));
  EXPECT_THAT(keep.ReceiveResponse(), AllOf(StartsWith("HTTP/1.1 401"), HasSubstr("Connection: close")));
  EXPECT_TRUE(keep.Closed());
  EXPECT_THAT(server_->server().MetricsText(), Not(HasSubstr("chartcoder_http_timeouts_total 0\n")));
}

// Idle connections hold worker threads; one client address may hold only
// its share, so the others are still served.
TEST_F(ServerTest, OneClientCannotHoldEveryConnection) {
  ApiServerOptions o = Options();
  o.threads = 4;
  o.max_connections_per_client = 2;
  Start(o);
  std::vector<std::unique_ptr<testing::RawTlsClient>> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(std::make_unique<testing::RawTlsClient>(port_, shared->pki.ca_cert));
    ASSERT_TRUE(idle.back()->ok());
  }
  testing::RawTlsClient refused(port_, shared->pki.ca_cert);
  EXPECT_FALSE(refused.ok());
  // Another client address is served (and counts on its own).
  CurlAnswer other = Call("GET", "/healthz", "", "", "--interface 127.0.0.2");
  EXPECT_EQ(other.status, 200);
  EXPECT_THAT(server_->server().MetricsText(),
              HasSubstr("chartcoder_http_refused_connections_total 1\n"));
  // A slot frees when a connection closes.
  idle.pop_back();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    served = Call("GET", "/healthz", "").status == 200;
  }
  EXPECT_TRUE(served);
}

TEST_F(ServerTest, StopFinishesRequestsInFlight) {
  Start();
  std::atomic<int> status{0};
  std::thread t([&] {
    status = Call("POST", "/v1/code", code_,
                  JsonObject({{"text", testing::ReadFileOrDie(testing::SourceDir() +
                                                              "/examples/charts/office_t2dm_ckd3b_htn.txt")}}))
                 .status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server_->server().Stop();
  t.join();
  EXPECT_TRUE(status == 200 || status == 0) << status;  // answered, or refused before accept
  server_.reset();  // Run returned
  EXPECT_NE(Call("GET", "/healthz", "").exit_code, 0);
}

// docs/openapi.yaml documents every route the server answers, with its
// scope, and nothing else.
TEST_F(ServerTest, OpenApiDocumentMatchesTheRoutes) {
  const std::string yaml = testing::ReadFileOrDie(testing::SourceDir() + "/docs/openapi.yaml");
  ASSERT_THAT(yaml, StartsWith("openapi: 3."));
  std::set<std::string> documented;
  std::string path, method;
  bool in_paths = false;
  for (const std::string& line : testing::Lines(yaml)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!line.empty() && line[0] != ' ') in_paths = false;
    if (!in_paths) continue;
    if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
    } else if (line.rfind("    ", 0) == 0 && line[4] != ' ' && line.back() == ':') {
      method = absl::AsciiStrToUpper(line.substr(4, line.size() - 5));
    } else if (line.rfind("      x-chartcoder-scope: ", 0) == 0) {
      documented.insert(method + " " + path + " " + line.substr(26));
    }
  }
  std::set<std::string> served;
  for (const ApiRoute& r : ApiServer::Routes()) {
    served.insert(std::string(r.method) + " " + std::string(r.path) + " " +
                  (r.scope.empty() ? std::string("none") : std::string(r.scope)));
  }
  EXPECT_EQ(documented, served);
  // And the running server answers each documented route (not "no such route").
  Start();
  for (const ApiRoute& r : ApiServer::Routes()) {
    std::string p(r.path);
    if (p.find("{id}") != std::string::npos) p.replace(p.find("{id}"), 4, "doc-1");
    CurlAnswer a = Call(std::string(r.method), p, admin_, r.method == "POST" ? "{}" : "");
    EXPECT_THAT(a.body, Not(HasSubstr("no such route"))) << r.path;
    EXPECT_NE(a.status, 405) << r.path;
  }
}

// The PostgreSQL store: results, tokens and the queue summary.
class ServerPgTest : public testing::PgServerSuite {
 protected:
  static void SetUpTestSuite() {
    PgServerSuite::SetUpTestSuite();
    SetUpShared();
  }
};

TEST_F(ServerPgTest, ResultsTokensAndQueueOnPostgres) {
  ASSERT_TRUE(server_->CreateDatabase("api").ok());
  const std::string url = server_->Url("api");
  WorkQueueOptions qo;
  qo.url = url;
  auto queue = WorkQueue::Create(qo);
  ASSERT_TRUE(queue.ok()) << queue.status();
  ASSERT_TRUE((*queue)->Migrate().ok());
  ResultStoreOptions ro;
  ro.location = url;
  auto results = OpenResultStore(ro);
  ASSERT_TRUE(results.ok()) << results.status();
  TokenStoreOptions to;
  to.location = url;
  auto tokens = TokenStore::Open(to);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const std::string code = (*tokens)->Create(TokenScope::kCode)->token;
  const std::string read = (*tokens)->Create(TokenScope::kRead)->token;

  ApiServerOptions o;
  o.port = 0;
  o.cert_file = shared->pki.cert;
  o.key_file = shared->pki.key;
  o.pipeline = shared->pipeline.get();
  o.results = results->get();
  o.tokens = tokens->get();
  o.queue = queue->get();
  o.threads = 4;
  o.audit = [](std::string_view) {};
  auto running = testing::RunningServer::Start(o);
  ASSERT_TRUE(running.ok()) << running.status();
  const int port = (*running)->port();
  const std::string ca = shared->pki.ca_cert;
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("b.json"),
                          JsonObject({{"id", "pg-1"}, {"text", kCkdChart}, {"patient_id", "m-1"}},
                                     R"("store":true)"));
  auto auth = [](const std::string& t) { return " -H 'Authorization: Bearer " + t + "'"; };
  CurlAnswer a = Curl(port, ca, "POST", "/v1/code",
                      auth(code) + " -H 'Content-Type: application/json' --data-binary @" +
                          dir.File("b.json"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ((*results)->Count().value(), 1);
  CurlAnswer c = Curl(port, ca, "GET", "/v1/charts/pg-1", auth(read));
  EXPECT_EQ(c.status, 200);
  EXPECT_THAT(c.body, HasSubstr("\"result\":" + a.body));
  CurlAnswer h = Curl(port, ca, "GET", "/v1/patients/m-1/hccs", auth(read));
  EXPECT_EQ(h.status, 200);
  EXPECT_THAT(h.body, HasSubstr("{\"hcc\":37,"));
  CurlAnswer s = Curl(port, ca, "GET", "/v1/jobs/summary", auth(read));
  EXPECT_EQ(s.status, 200);
  EXPECT_THAT(s.body, AllOf(StartsWith(R"({"backend":"postgresql","results":1,"queue":{"queued":0,)"),
                            HasSubstr("\"schema_version\":2")));
  EXPECT_EQ(Curl(port, ca, "GET", "/v1/charts/none", auth(read)).status, 404);
  EXPECT_EQ(Curl(port, ca, "POST", "/v1/code", auth(read) + " -d '{}'").status, 403);
  CurlAnswer m = Curl(port, ca, "GET", "/metrics", auth(read));
  EXPECT_THAT(m.body, HasSubstr("chartcoder_queue_jobs{state=\"queued\"} 0"));
  ASSERT_TRUE((*tokens)->Revoke(TokenStore::IdOf(read)).ok());
  EXPECT_EQ(Curl(port, ca, "GET", "/v1/jobs/summary", auth(read)).status, 401);
}

TEST(LoopbackTest, Hosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.3.2.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

}  // namespace
}  // namespace chartcoder
