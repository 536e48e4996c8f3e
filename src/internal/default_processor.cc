#include "src/internal/default_processor.h"

#include "src/internal/listed_codes_processor.h"

namespace chartcoder::internal {

absl::StatusOr<std::shared_ptr<const ChartProcessor>> MakeDefaultProcessor(
    std::shared_ptr<const CodeSet> code_set) {
  absl::StatusOr<std::unique_ptr<ListedCodesProcessor>> p =
      ListedCodesProcessor::Create(std::move(code_set));
  if (!p.ok()) return p.status();
  return std::shared_ptr<const ChartProcessor>(std::move(*p));
}

}  // namespace chartcoder::internal
