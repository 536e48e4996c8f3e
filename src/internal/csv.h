// Reads delimited text tables: RFC 4180 CSV (quoted fields, doubled quotes,
// CRLF) and plain tab-separated files.
//
//   CC_ASSIGN_OR_RETURN(Table t, ParseDelimited(text, ',', "ra_labels_2026.csv"));
#ifndef CHARTCODER_SRC_INTERNAL_CSV_H_
#define CHARTCODER_SRC_INTERNAL_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace chartcoder::internal {

struct DelimitedTable {
  std::vector<std::vector<std::string>> rows;  // every record, header included
  std::vector<int> line_numbers;               // 1-based first line of each record
};

// Splits `text` into records. `delimiter` is ',' (quotes honoured) or '\t'
// (no quoting). Blank lines are skipped. InvalidArgument names `name` and the
// line of an unterminated quoted field.
absl::StatusOr<DelimitedTable> ParseDelimited(std::string_view text, char delimiter,
                                              std::string_view name);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CSV_H_
