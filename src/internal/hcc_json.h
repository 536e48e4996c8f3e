// The JSON form of a risk score, shared by the CLI (`chartcoder raf --json`)
// and the chart pipeline, so a score reads the same everywhere.
//
//   std::string out;
//   JsonWriter w(&out);
//   WriteRiskScoreJson(score, &w);  // {"model":"V28","payment_year":2026,...}
#ifndef CHARTCODER_SRC_INTERNAL_HCC_JSON_H_
#define CHARTCODER_SRC_INTERNAL_HCC_JSON_H_

#include "absl/types/span.h"
#include "chartcoder/hcc.h"
#include "src/internal/json_writer.h"

namespace chartcoder::internal {

// One object: model, payment_year, segment, demographics and derived flags,
// hccs (with codes and coefficients), removed_hccs, edits, terms, scores and
// constants (null when unknown), every code with its status, and the codes
// that map to nothing, are not billable, or are not ICD-10-CM, listed apart.
// docs/raf.md documents every field.
void WriteRiskScoreJson(const RiskScore& score, JsonWriter* w);

// One object: weights, raw_score, normalized_score, coding_intensity_adjustment,
// payment_score (null when unknown).
void WriteBlendedRiskScoreJson(const BlendedRiskScore& blend, JsonWriter* w);

// What `chartcoder raf --json` prints and POST /v1/raf answers: the one
// score as WriteRiskScoreJson writes it, or with a blend {"blend": ...,
// "scores": [...]}.
void WriteRafResultJson(absl::Span<const RiskScore> scores, const BlendedRiskScore* blend,
                        JsonWriter* w);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_HCC_JSON_H_
