#include "src/internal/default_processor.h"

#include <utility>

namespace chartcoder::internal {

absl::StatusOr<std::shared_ptr<const ChartProcessor>> MakeDefaultProcessor(
    std::shared_ptr<const CodeSet> code_set, PipelineOptions options) {
  options.code_set = std::move(code_set);
  absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Create(options);
  if (!p.ok()) return p.status();
  return std::shared_ptr<const ChartProcessor>(
      std::make_shared<PipelineProcessor>(std::shared_ptr<const Pipeline>(std::move(*p))));
}

}  // namespace chartcoder::internal
