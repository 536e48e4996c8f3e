// chartcoder/lambda_runtime.h: chartcoder as an AWS Lambda function with a
// custom runtime: the client side of the Lambda Runtime API (next invocation,
// response, invocation error, init error, the deadline) and the event
// handling: SQS batches with partial-batch responses, and direct invocations.
//
//   chartcoder::LambdaRuntimeOptions o;          // api from $AWS_LAMBDA_RUNTIME_API
//   o.event.store = store.get();                 // where SQS results go
//   absl::Status s = chartcoder::RunLambdaRuntime(processor, o);  // loops forever
//
// SQS event: {"Records":[{"messageId":"m1","body":"<chart message>",...},...]}
// answered with {"batchItemFailures":[{"itemIdentifier":"m1"},...]}: the
// records that failed, and those not started because the deadline minus the
// safety margin had passed (SQS redelivers them). A chart message is JSON:
//   {"chart_id":"c1","patient_id":"m1","demographics":{"age":72,"sex":"F"},
//    "ref":"/mnt/charts/c1.txt","digest":"<sha-256 hex, optional>"}
// or, instead of ref, "sealed_chart":"<base64 of a sealed chart>". A direct
// invocation is one chart message, with "chart":"<text>" allowed too; the
// response is the result JSON.
#ifndef CHARTCODER_LAMBDA_RUNTIME_H_
#define CHARTCODER_LAMBDA_RUNTIME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "chartcoder/executor.h"
#include "chartcoder/keys.h"
#include "chartcoder/result_store.h"

namespace chartcoder {

struct LambdaEventOptions {
  // Keys for sealed charts and for sealing stored results (not owned; may be
  // null).
  const KeyProvider* keys = nullptr;
  // Where results of SQS records are stored (not owned). Required for SQS
  // events: their results have nowhere else to go. Direct invocations store
  // their result too when set.
  const ResultStore* store = nullptr;
  // A record is started only while now + safety_margin < deadline.
  // Default 2 s.
  absl::Duration safety_margin = absl::Seconds(2);
  // Records coded at once. Default 1 (Lambda gives one vCPU per 1,769 MB).
  int threads = 1;
  // Largest chart, in bytes. Default 64 MiB.
  size_t max_chart_bytes = 64 << 20;
};

// How an invocation ended.
struct LambdaResponse {
  // True: `body` is the function's response. False: the invocation failed;
  // `body` is the error document {"errorMessage":...,"errorType":...}.
  bool ok = true;
  std::string body;
  // The records reported as batchItemFailures (SQS events only).
  int failed_records = 0;
  int skipped_for_deadline = 0;
};

// Handles one event that must be answered by `deadline`. Never fails as a
// whole for a bad SQS record (that record is reported instead); an event
// that is not JSON, a direct invocation that fails, or an SQS event without a
// store gives ok = false with the error.
LambdaResponse HandleLambdaEvent(std::string_view event_json, absl::Time deadline,
                                 std::shared_ptr<const ChartProcessor> processor,
                                 const LambdaEventOptions& options);

struct LambdaRuntimeOptions {
  // host:port of the Runtime API; default $AWS_LAMBDA_RUNTIME_API.
  std::string api;
  LambdaEventOptions event;
  // Return after this many invocations (0 = serve forever, as in Lambda).
  int64_t max_invocations = 0;
  // Called with each invocation's request id and outcome (for logs).
  std::function<void(std::string_view request_id, const LambdaResponse& response,
                     absl::Duration elapsed)>
      on_invocation;
};

// Serves invocations: GET .../invocation/next, handle, POST the response or
// the error. InvalidArgument: no API address; Unavailable: the Runtime API
// cannot be reached or answers with an error.
absl::Status RunLambdaRuntime(std::shared_ptr<const ChartProcessor> processor,
                              const LambdaRuntimeOptions& options);

// Reports a failed initialization (POST /runtime/init/error); the function
// then exits. `api` as in LambdaRuntimeOptions.
absl::Status ReportLambdaInitError(std::string_view api, const absl::Status& error);

}  // namespace chartcoder

#endif  // CHARTCODER_LAMBDA_RUNTIME_H_
