#include "src/internal/rule_table.h"

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/status/status.h"
#include "chartcoder/codeset.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

struct EmbeddedTableEntry {
  const char* name;
  const unsigned char* bytes;
  size_t size;
};

#include "src/internal/embedded_tables.inc"

}  // namespace

absl::StatusOr<std::vector<RuleRow>> ParseRuleTable(std::string_view text, std::string_view source,
                                                    const std::vector<std::string_view>& required,
                                                    const std::vector<std::string_view>& optional) {
  std::vector<RuleRow> rows;
  size_t columns = 0;  // of the header; 0 until it is read
  int line_number = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("#") || Trim(line).empty()) continue;
    std::vector<std::string_view> cells = Split(line, '\t');
    const std::string where = StrCat(source, ":", line_number);
    if (columns == 0) {
      if (cells.size() < required.size() || cells.size() > required.size() + optional.size()) {
        return absl::InvalidArgumentError(
            StrCat(where, ": the header must be '", Join(required, "<TAB>"), "'",
                   optional.empty() ? "" : " followed by optional '",
                   optional.empty() ? "" : Join(optional, "<TAB>"), optional.empty() ? "" : "'"));
      }
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string_view want =
            c < required.size() ? required[c] : optional[c - required.size()];
        if (AsciiLower(Trim(cells[c])) != want) {
          return absl::InvalidArgumentError(StrCat(where, ": header column ", c + 1, " is '",
                                                   Trim(cells[c]), "', expected '", want, "'"));
        }
      }
      columns = cells.size();
      continue;
    }
    if (cells.size() < required.size() || cells.size() > columns) {
      return absl::InvalidArgumentError(StrCat(where, ": ", cells.size(), " fields, expected ",
                                               required.size() == columns ? "" : "from ",
                                               required.size(),
                                               required.size() == columns ? "" : " to ",
                                               required.size() == columns ? "" : StrCat(columns)));
    }
    RuleRow row;
    row.where = where;
    for (std::string_view c : cells) row.cells.emplace_back(Trim(c));
    row.cells.resize(required.size() + optional.size());
    rows.push_back(std::move(row));
  }
  if (columns == 0) {
    return absl::InvalidArgumentError(
        StrCat(source, ": no header row ('", Join(required, "<TAB>"), "')"));
  }
  return rows;
}

absl::StatusOr<std::vector<RuleRow>> ReadRuleFile(const std::string& path,
                                                  const std::vector<std::string_view>& required,
                                                  const std::vector<std::string_view>& optional) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(StrCat(path, ": no such rule file"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(StrCat(path, ": is a folder, not a rule file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(StrCat(path, ": cannot be read"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::InvalidArgumentError(StrCat(path, ": read error"));
  return ParseRuleTable(text, path, required, optional);
}

absl::StatusOr<std::vector<RuleRow>> PackRuleTable(const CodeSet& code_set, std::string_view name,
                                                   const std::vector<std::string_view>& required,
                                                   const std::vector<std::string_view>& optional) {
  absl::StatusOr<ReferenceTable> table = code_set.Table(name);
  if (!table.ok()) {
    return absl::NotFoundError(
        StrCat("the data pack has no table ", name, " (build the pack with --curated data)"));
  }
  std::vector<int> index;
  for (std::string_view column : required) {
    const int c = table->ColumnIndex(column);
    if (c < 0) {
      return absl::InvalidArgumentError(
          StrCat("pack table ", name, " has no column '", column, "'"));
    }
    index.push_back(c);
  }
  for (std::string_view column : optional) index.push_back(table->ColumnIndex(column));
  std::vector<RuleRow> rows;
  rows.reserve(table->row_count());
  for (size_t r = 0; r < table->row_count(); ++r) {
    RuleRow row;
    row.where = StrCat("pack table ", name, " row ", r + 1);
    for (int c : index)
      row.cells.emplace_back(c < 0 ? std::string_view() : Trim(table->cell(r, c)));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<RuleRow>> BuiltinRuleTable(
    const CodeSet* code_set, std::string_view name, const std::vector<std::string_view>& required,
    const std::vector<std::string_view>& optional) {
  if (code_set == nullptr) {
    return ParseRuleTable(EmbeddedTable(name), StrCat("data/", name, ".tsv (built in)"), required,
                          optional);
  }
  return PackRuleTable(*code_set, StrCat("curated/", name), required, optional);
}

std::string_view EmbeddedTable(std::string_view name) {
  for (const auto& t : kEmbeddedTables) {
    if (name == t.name) return {reinterpret_cast<const char*>(t.bytes), t.size};
  }
  return {};
}

}  // namespace chartcoder::internal
