// Flags that describe a Medicare member (age, sex, dual status, OREC, ...),
// shared by `raf` and `code`.
#ifndef CHARTCODER_CLI_MEMBER_FLAGS_H_
#define CHARTCODER_CLI_MEMBER_FLAGS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/hcc.h"
#include "cli/cli.h"

namespace chartcoder::cli {

// --age, --sex, --dual, --orec, --institutional, --new-enrollee, --csnp, --segment.
std::vector<FlagSpec> MemberFlags();

// The member the flags describe. InvalidArgument names the flag: --age and
// --sex are required, the others optional.
absl::StatusOr<Demographics> DemographicsFromFlags(const CommandLine& args);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_MEMBER_FLAGS_H_
