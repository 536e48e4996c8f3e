// The chart processor every runner uses (`chartcoder worker`, the Lambda
// bootstrap): the one place where the chart pipeline is plugged in.
#ifndef CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_
#define CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/executor.h"

namespace chartcoder::internal {

// Until chartcoder/pipeline.h lands this is the ListedCodesProcessor over
// `code_set`. Errors of its Create.
absl::StatusOr<std::shared_ptr<const ChartProcessor>> MakeDefaultProcessor(
    std::shared_ptr<const CodeSet> code_set);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_DEFAULT_PROCESSOR_H_
