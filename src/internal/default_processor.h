// The chart processor every runner uses (`chartcoder worker`, the Lambda
// bootstrap): the chart pipeline over the loaded data pack.
#ifndef CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_
#define CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/executor.h"
#include "chartcoder/pipeline.h"

namespace chartcoder::internal {

// A PipelineProcessor over a Pipeline made with `options` and sharing
// `code_set`. Errors of Pipeline::Create.
absl::StatusOr<std::shared_ptr<const ChartProcessor>> MakeDefaultProcessor(
    std::shared_ptr<const CodeSet> code_set, PipelineOptions options = {});

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_
