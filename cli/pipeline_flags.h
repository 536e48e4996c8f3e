// Flags that configure the chart pipeline, shared by `code` and `eval`.
#ifndef CHARTCODER_CLI_PIPELINE_FLAGS_H_
#define CHARTCODER_CLI_PIPELINE_FLAGS_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/pipeline.h"
#include "cli/cli.h"

namespace chartcoder::cli {

// --data, --models, --min-score, --inpatient, --keep-symptoms, --threads.
std::vector<FlagSpec> PipelineFlags();

// The pipeline the flags describe. InvalidArgument names a bad flag; the
// errors of Pipeline::Create.
absl::StatusOr<std::unique_ptr<Pipeline>> PipelineFromFlags(const CommandLine& args);

// --threads N (default: every core). InvalidArgument names the flag.
absl::StatusOr<int> ThreadsFromFlags(const CommandLine& args);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_PIPELINE_FLAGS_H_
