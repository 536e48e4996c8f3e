// Compiles the official reference files into a data pack (see pack_format.h).
//
//   CC_RETURN_IF_ERROR(BuildPack({"/data", "/repo/data"}, "/out/chartcoder.ccpack"));
#ifndef CHARTCODER_SRC_INTERNAL_PACK_BUILDER_H_
#define CHARTCODER_SRC_INTERNAL_PACK_BUILDER_H_

#include <string>

#include "absl/status/status.h"
#include "chartcoder/codeset.h"

namespace chartcoder::internal {

// See chartcoder::BuildDataPack() for the contract.
absl::Status BuildPack(const DataPackSources& sources, const std::string& output_path);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PACK_BUILDER_H_
