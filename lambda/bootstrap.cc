// bootstrap: chartcoder as an AWS Lambda function (custom runtime,
// provided.al2023). Lambda runs it from the deployment zip's root with
// AWS_LAMBDA_RUNTIME_API set; it serves invocations until the sandbox ends.
//
// Environment:
//   CHARTCODER_DB                where SQS results go: a PostgreSQL URL
//                                (verify-full TLS) or sqlite:PATH
//   CHARTCODER_INSECURE_DB=1     allow a non-verify-full sslmode
//   CHARTCODER_KEY / _KEY_FD     keys for sealed charts; results are sealed
//                                with the active key when given
//   CHARTCODER_DATA              the data pack (default: share/chartcoder/
//                                beside lib/ in the zip)
//   CHARTCODER_SAFETY_MARGIN_MS  records are not started later than the
//                                deadline minus this (default 2000)
//   CHARTCODER_THREADS           records coded at once (default: cores)
//   CHARTCODER_LAMBDA_MAX_INVOCATIONS  exit after N (tests; default: never)
// Logs (stdout, to CloudWatch) carry request ids, counts and errors only.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "chartcoder/codeset.h"
#include "chartcoder/keys.h"
#include "chartcoder/lambda_runtime.h"
#include "chartcoder/result_store.h"
#include "src/internal/default_processor.h"
#include "src/internal/strings.h"

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

int64_t EnvInt(const char* name, int64_t fallback) {
  int64_t v = 0;
  std::string s = Env(name);
  return !s.empty() && chartcoder::internal::ParseInt(std::string_view(s), &v) && v >= 0 ? v
                                                                                       : fallback;
}

int InitFailed(const absl::Status& s) {
  std::printf("chartcoder bootstrap: init failed: %s\n", std::string(s.message()).c_str());
  absl::Status reported = chartcoder::ReportLambdaInitError("", s);
  if (!reported.ok()) {
    std::printf("chartcoder bootstrap: %s\n", std::string(reported.message()).c_str());
  }
  return 1;
}

int Main() {
  using namespace chartcoder;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = KeyProviderFromEnvironment();
  if (!keys.ok()) return InitFailed(keys.status());
  if (std::getenv(kKeyEnvVar) != nullptr) unsetenv(kKeyEnvVar);
  CodeSetOptions pack;
  pack.data_pack = Env("CHARTCODER_DATA");
  absl::StatusOr<std::unique_ptr<CodeSet>> codes = CodeSet::Create(pack);
  if (!codes.ok()) return InitFailed(codes.status());
  absl::StatusOr<std::shared_ptr<const ChartProcessor>> processor =
      internal::MakeDefaultProcessor(std::shared_ptr<const CodeSet>(std::move(*codes)));
  if (!processor.ok()) return InitFailed(processor.status());
  std::unique_ptr<ResultStore> store;
  if (!Env("CHARTCODER_DB").empty()) {
    ResultStoreOptions o;
    o.location = Env("CHARTCODER_DB");
    o.allow_insecure = Env("CHARTCODER_INSECURE_DB") == "1";
    o.keys = keys->get();
    absl::StatusOr<std::unique_ptr<ResultStore>> s = OpenResultStore(o);
    if (!s.ok()) return InitFailed(s.status());
    store = std::move(*s);
  }
  LambdaRuntimeOptions o;
  o.event.keys = keys->get();
  o.event.store = store.get();
  o.event.safety_margin = absl::Milliseconds(EnvInt("CHARTCODER_SAFETY_MARGIN_MS", 2000));
  o.event.threads = static_cast<int>(
      EnvInt("CHARTCODER_THREADS", std::max(1u, std::thread::hardware_concurrency())));
  o.max_invocations = EnvInt("CHARTCODER_LAMBDA_MAX_INVOCATIONS", 0);
  o.on_invocation = [](std::string_view id, const LambdaResponse& r, absl::Duration elapsed) {
    std::printf("chartcoder bootstrap: request %.*s %s in %lld ms (%d failed records, %d not "
                "started before the deadline)\n",
                static_cast<int>(id.size()), id.data(), r.ok ? "answered" : "failed",
                static_cast<long long>(absl::ToInt64Milliseconds(elapsed)), r.failed_records,
                r.skipped_for_deadline);
  };
  absl::Status s = RunLambdaRuntime(*processor, o);
  if (!s.ok()) {
    std::printf("chartcoder bootstrap: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main() { return Main(); }
