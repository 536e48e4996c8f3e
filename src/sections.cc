// Section kinds and header rules (the matching itself is in tokenizer.cc,
// which finds headers while it splits sentences).
#include "chartcoder/sections.h"

#include <array>

#include "absl/status/status.h"
#include "chartcoder/codeset.h"
#include "src/internal/rule_table.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr std::array<std::string_view, kSectionKindCount> kSectionKindNames = {
    "none",
    "chief_complaint",
    "history_of_present_illness",
    "past_medical_history",
    "past_surgical_history",
    "family_history",
    "social_history",
    "review_of_systems",
    "physical_exam",
    "vitals",
    "labs",
    "imaging",
    "assessment",
    "plan",
    "assessment_and_plan",
    "diagnoses",
    "problem_list",
    "medications",
    "allergies",
    "procedures",
    "hospital_course",
    "discharge_instructions",
    "immunizations",
    "other",
};

const std::vector<std::string_view> kRequired = {"header", "kind"};
const std::vector<std::string_view> kOptional = {"strict"};

absl::StatusOr<std::vector<SectionRule>> RulesFromRows(const std::vector<internal::RuleRow>& rows) {
  std::vector<SectionRule> rules;
  rules.reserve(rows.size());
  for (const internal::RuleRow& row : rows) {
    SectionRule rule;
    rule.header = row.cells[0];
    if (rule.header.empty()) {
      return absl::InvalidArgumentError(StrCat(row.where, ": empty header phrase"));
    }
    std::optional<SectionKind> kind = ParseSectionKind(row.cells[1]);
    if (!kind.has_value() || *kind == SectionKind::kNone) {
      return absl::InvalidArgumentError(StrCat(
          row.where, ": unknown section kind '", row.cells[1], "' (",
          internal::Join(
              std::vector<std::string_view>(kSectionKindNames.begin() + 1, kSectionKindNames.end()),
              ", "),
          ")"));
    }
    rule.kind = *kind;
    const std::string strict = internal::AsciiLower(row.cells[2]);
    if (strict == "yes" || strict == "true" || strict == "1") {
      rule.strict = true;
    } else if (!(strict.empty() || strict == "no" || strict == "false" || strict == "0")) {
      return absl::InvalidArgumentError(
          StrCat(row.where, ": strict must be yes, no or empty, not '", row.cells[2], "'"));
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace

std::string_view SectionKindName(SectionKind kind) {
  const size_t i = static_cast<size_t>(kind);
  return i < kSectionKindNames.size() ? kSectionKindNames[i] : "unknown";
}

std::optional<SectionKind> ParseSectionKind(std::string_view name) {
  const std::string n = internal::AsciiLower(internal::Trim(name));
  for (size_t i = 0; i < kSectionKindNames.size(); ++i) {
    if (n == kSectionKindNames[i]) return static_cast<SectionKind>(i);
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<SectionRule>> ParseSectionRules(std::string_view tsv,
                                                           std::string_view source_name) {
  CC_ASSIGN_OR_RETURN(std::vector<internal::RuleRow> rows,
                      internal::ParseRuleTable(tsv, source_name, kRequired, kOptional));
  return RulesFromRows(rows);
}

absl::StatusOr<std::vector<SectionRule>> ReadSectionRuleFile(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::vector<internal::RuleRow> rows,
                      internal::ReadRuleFile(path, kRequired, kOptional));
  return RulesFromRows(rows);
}

absl::StatusOr<std::vector<SectionRule>> BuiltinSectionRules(const CodeSet* code_set) {
  CC_ASSIGN_OR_RETURN(
      std::vector<internal::RuleRow> rows,
      internal::BuiltinRuleTable(code_set, "section_headers", kRequired, kOptional));
  return RulesFromRows(rows);
}

}  // namespace chartcoder
