// chartcoder/result.h: a ChartResult written as JSON (one line per chart), as
// a FHIR R4 Bundle of Condition resources, or as a self-contained HTML
// evidence report for a coder to review.
//
//   std::string line = chartcoder::ChartResultJson(result);     // schema: docs/output-schema.md
//   std::string fhir = chartcoder::ChartResultFhir(result);     // {"resourceType":"Bundle",...}
//   std::string html = chartcoder::ChartResultHtml(result);     // <!DOCTYPE html>...
//
// Offsets are bytes of the chart text (result.document->text()). The outputs
// hold chart text (evidence): they are PHI, like the chart.
#ifndef CHARTCODER_RESULT_H_
#define CHARTCODER_RESULT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/pipeline.h"

namespace chartcoder {

enum class OutputFormat : uint8_t {
  kJsonLines = 0,  // one JSON object per chart and line
  kFhir = 1,       // one FHIR R4 Bundle (JSON) per chart and line
  kHtml = 2,       // one HTML document per chart
};
// "jsonl", "fhir", "html".
std::string_view OutputFormatName(OutputFormat format);
// InvalidArgument names the accepted formats.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

// The chart as one JSON object (no trailing newline): id, codes (ranked, with
// evidence and HCCs), mentions (with assertions), hccs per model, raf when
// scored. Version field "schema": 1.
std::string ChartResultJson(const ChartResult& result);

// A FHIR R4 Bundle (type "collection") of Condition resources, one per
// assigned code, coded in ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm),
// with evidence offsets in an extension. The chart id is the Bundle's
// identifier (and its id when it is a valid FHIR id: [A-Za-z0-9.-]{1,64});
// entries have stable urn:uuid fullUrls. One JSON object, no newline.
std::string ChartResultFhir(const ChartResult& result);

// A self-contained HTML page (no external resources): the chart with the
// evidence highlighted, assertion badges, the codes, HCCs and the RAF
// breakdown.
std::string ChartResultHtml(const ChartResult& result);

// The chart in `format` (JSON and FHIR end with a newline).
std::string FormatChartResult(const ChartResult& result, OutputFormat format);

// The record written in place of a chart that could not be coded: JSON
// {"id":..., "error": {"code": "INVALID_ARGUMENT", "message": ...}} (FHIR: an
// OperationOutcome naming the chart in an extension; HTML: a page naming the
// error). Never holds chart text.
std::string ErrorRecord(std::string_view id, const absl::Status& status, OutputFormat format);

}  // namespace chartcoder

#endif  // CHARTCODER_RESULT_H_
