// Demographics as JSON, the form queue jobs, Lambda events and manifests
// carry them in:
//   {"age":72,"sex":"F","dual":"full","orec":0,"institutional":false,
//    "new_enrollee":false,"chronic_snp":false,"segment":"CNA"}
// Only age and sex are required; the other keys take Demographics' defaults.
#ifndef CHARTCODER_SRC_INTERNAL_DEMOGRAPHICS_JSON_H_
#define CHARTCODER_SRC_INTERNAL_DEMOGRAPHICS_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "chartcoder/hcc.h"
#include "simdjson.h"

namespace chartcoder::internal {

// Parses one JSON object. InvalidArgument names the bad or unknown key.
absl::StatusOr<Demographics> ParseDemographicsJson(std::string_view json);
// The same from an already parsed element.
absl::StatusOr<Demographics> DemographicsFromJson(simdjson::dom::element element);
// The compact JSON object for `d` (keys with default values are included).
std::string DemographicsJson(const Demographics& d);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_DEMOGRAPHICS_JSON_H_
