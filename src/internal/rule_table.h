// Reading chartcoder's small rule tables (section headers, ConText
// triggers): from TSV text or a file (with '#' comments), from the data pack's
// curated/<name> table, or from the copy compiled into the library.
//
//   CC_ASSIGN_OR_RETURN(std::vector<RuleRow> rows,
//                       ParseRuleTable(text, "my.tsv", {"header", "kind"}, {"strict"}));
//   for (const RuleRow& r : rows) Use(r.cells[0], r.cells[1], r.cells[2], r.where);
#ifndef CHARTCODER_SRC_INTERNAL_RULE_TABLE_H_
#define CHARTCODER_SRC_INTERNAL_RULE_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace chartcoder {
class CodeSet;
}

namespace chartcoder::internal {

struct RuleRow {
  std::string where;               // "file.tsv:12" or "pack table curated/x row 3", for messages
  std::vector<std::string> cells;  // required columns, then optional ones ("" when absent)
};

// Parses tab-separated `text`: lines starting with '#' and blank lines are
// skipped; the first other line is the header and must name the `required`
// columns in order, optionally followed by some of `optional` in order. A
// data row may omit trailing optional cells. InvalidArgument names `source`,
// the line and the problem.
absl::StatusOr<std::vector<RuleRow>> ParseRuleTable(std::string_view text, std::string_view source,
                                                    const std::vector<std::string_view>& required,
                                                    const std::vector<std::string_view>& optional);

// Reads a rule file. NotFound if it does not exist; InvalidArgument if it
// cannot be read or is malformed.
absl::StatusOr<std::vector<RuleRow>> ReadRuleFile(const std::string& path,
                                                  const std::vector<std::string_view>& required,
                                                  const std::vector<std::string_view>& optional);

// The rows of the pack's table `name` ("curated/section_headers"), columns
// found by name. NotFound if the pack has no such table; InvalidArgument if a
// required column is missing.
absl::StatusOr<std::vector<RuleRow>> PackRuleTable(const CodeSet& code_set, std::string_view name,
                                                   const std::vector<std::string_view>& required,
                                                   const std::vector<std::string_view>& optional);

// The built-in table `name` ("section_headers"): the pack's curated/<name>
// when `code_set` is given, else the copy compiled into the library.
absl::StatusOr<std::vector<RuleRow>> BuiltinRuleTable(
    const CodeSet* code_set, std::string_view name, const std::vector<std::string_view>& required,
    const std::vector<std::string_view>& optional);

// data/<name>.tsv as compiled into the library ("section_headers",
// "context_triggers"); empty if there is no such table.
std::string_view EmbeddedTable(std::string_view name);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_RULE_TABLE_H_
