// Flags that configure the chart pipeline, shared by `code` and `eval`.
#ifndef CHARTCODER_CLI_PIPELINE_FLAGS_H_
#define CHARTCODER_CLI_PIPELINE_FLAGS_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/pipeline.h"
#include "cli/cli.h"

namespace chartcoder::cli {

// How charts are coded: --models, --min-score, --inpatient, --keep-symptoms,
// --profile, --max-evidence.
std::vector<FlagSpec> CodingFlags();

// --data, the CodingFlags and --threads.
std::vector<FlagSpec> PipelineFlags();

// The options the --data and CodingFlags describe. InvalidArgument names a
// bad flag.
absl::StatusOr<PipelineOptions> PipelineOptionsFromFlags(const CommandLine& args);

// --threads N (default: every core). InvalidArgument names the flag.
absl::StatusOr<int> ThreadsFromFlags(const CommandLine& args);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_PIPELINE_FLAGS_H_
