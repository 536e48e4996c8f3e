#include "src/internal/strings.h"
#include "src/internal/csv.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace chartcoder::internal {

absl::StatusOr<DelimitedTable> ParseDelimited(std::string_view text, char delimiter,
                                              std::string_view name) {
  DelimitedTable table;
  const bool quoting = delimiter != '\t';
  size_t i = 0;
  int line = 1;
  // Skip a UTF-8 byte-order mark.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size()) {
    std::vector<std::string> record;
    std::string field;
    const int record_line = line;
    bool end_of_record = false;
    bool any_content = false;
    while (!end_of_record) {
      if (i >= text.size()) {
        record.push_back(std::move(field));
        break;
      }
      char c = text[i];
      if (quoting && c == '"' && field.empty()) {
        // Quoted field.
        ++i;
        any_content = true;
        while (true) {
          if (i >= text.size()) {
            return absl::InvalidArgumentError(internal::StrCat(
                name, ":", record_line, ": quoted field is not closed"));
          }
          char q = text[i++];
          if (q == '"') {
            if (i < text.size() && text[i] == '"') {
              field.push_back('"');
              ++i;
            } else {
              break;
            }
          } else {
            if (q == '\n') ++line;
            field.push_back(q);
          }
        }
        continue;
      }
      if (c == delimiter) {
        record.push_back(std::move(field));
        field.clear();
        any_content = true;
        ++i;
      } else if (c == '\n' || c == '\r') {
        record.push_back(std::move(field));
        field.clear();
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        end_of_record = true;
      } else {
        field.push_back(c);
        any_content = true;
        ++i;
      }
    }
    if (!any_content && record.size() == 1 && record[0].empty()) continue;
    table.rows.push_back(std::move(record));
    table.line_numbers.push_back(record_line);
  }
  return table;
}

}  // namespace chartcoder::internal
