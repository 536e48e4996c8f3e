#include "src/internal/hcc_tables.h"

#include <cstring>

#include "absl/status/status.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// A whole non-negative decimal number of at most 6 digits.
std::optional<int> ParseSmallNumber(std::string_view s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// "70_74" -> [70, 74]; "95_GT" -> [95, open]; "66" -> [66, 66] when
// `single_allowed`.
bool ParseAgeRange(std::string_view s, bool single_allowed, int* min_age, int* max_age) {
  size_t us = s.find('_');
  if (us == std::string_view::npos) {
    if (!single_allowed) return false;
    std::optional<int> v = ParseSmallNumber(s);
    if (!v) return false;
    *min_age = *max_age = *v;
    return true;
  }
  std::optional<int> lo = ParseSmallNumber(s.substr(0, us));
  std::string_view hi_text = s.substr(us + 1);
  if (!lo) return false;
  if (hi_text == "GT") {
    *min_age = *lo;
    *max_age = kOpenAge;
    return true;
  }
  std::optional<int> hi = ParseSmallNumber(hi_text);
  if (!hi || *hi < *lo) return false;
  *min_age = *lo;
  *max_age = *hi;
  return true;
}

}  // namespace

std::optional<uint64_t> PackCodeKey(std::string_view code) {
  return PackTrimmedCodeKey(Trim(code));
}

std::string DottedCode(uint64_t key) {
  std::string out;
  AppendDottedCode(key, &out);
  return out;
}

absl::StatusOr<std::vector<int>> ParseHccGroup(std::string_view definition) {
  std::vector<std::string_view> words = Split(Trim(definition), ' ', /*skip_empty=*/true);
  size_t first = 0;
  bool any_of = false;
  if (words.size() >= 2 && words[0] == "any" && words[1] == "of") {
    any_of = true;
    first = 2;
  }
  if (words.size() <= first + 1 || words[first] != "HCC") {
    return absl::InvalidArgumentError(
        StrCat("expected 'any of HCC n n ...' or 'HCC n', got '", definition, "'"));
  }
  std::vector<int> hccs;
  for (size_t i = first + 1; i < words.size(); ++i) {
    std::optional<int> n = ParseSmallNumber(words[i]);
    if (!n || *n == 0) {
      return absl::InvalidArgumentError(
          StrCat("'", words[i], "' is not an HCC number in '", definition, "'"));
    }
    hccs.push_back(*n);
  }
  if (!any_of && hccs.size() != 1) {
    return absl::InvalidArgumentError(StrCat("several HCCs need 'any of' in '", definition, "'"));
  }
  return hccs;
}

absl::StatusOr<InteractionDefinition> ParseInteraction(std::string_view definition) {
  InteractionDefinition def;
  std::string_view body = Trim(definition);
  if (size_t paren = body.find('('); paren != std::string_view::npos) {
    std::string_view note = body.substr(paren);
    if (note.back() != ')') {
      return absl::InvalidArgumentError(StrCat("unbalanced parenthesis in '", definition, "'"));
    }
    note = Trim(note.substr(1, note.size() - 2));
    // "(institutional segment)" or "(institutional segment; remark)".
    std::string_view restriction = Trim(note.substr(0, note.find(';')));
    if (restriction != "institutional segment") {
      return absl::InvalidArgumentError(StrCat("unknown restriction '(", restriction, ")' in '",
                                               definition,
                                               "' (only '(institutional segment)' is known)"));
    }
    def.institutional_only = true;
    body = Trim(body.substr(0, paren));
  }
  for (std::string_view part : Split(body, '*')) {
    part = Trim(part);
    InteractionFactor f;
    if (part.empty()) {
      return absl::InvalidArgumentError(StrCat("empty factor in '", definition, "'"));
    }
    if (part == "DISABLED") {
      f.kind = InteractionFactor::Kind::kDisabled;
    } else if (std::optional<int> hcc = ParseHccTerm(part)) {
      f.kind = InteractionFactor::Kind::kHcc;
      f.hcc = *hcc;
    } else {
      for (char c : part) {
        if (!(IsUpper(c) || IsDigit(c) || (c >= 'a' && c <= 'z') || c == '_')) {
          return absl::InvalidArgumentError(
              StrCat("'", part, "' is not a variable name in '", definition, "'"));
        }
      }
      f.kind = InteractionFactor::Kind::kVariable;
      f.variable = std::string(part);
    }
    def.factors.push_back(std::move(f));
  }
  if (def.factors.size() < 2) {
    return absl::InvalidArgumentError(
        StrCat("an interaction needs 'A * B', got '", definition, "'"));
  }
  return def;
}

absl::StatusOr<CountVariables> ParseCountVariables(std::string_view variable) {
  // "<P>1..<P><n> / <P><n+1>P"
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("expected count variables like 'D1..D9 / D10P', got '", variable, "'"));
  };
  std::vector<std::string_view> halves = Split(variable, '/');
  if (halves.size() != 2) return bad();
  std::string_view range = Trim(halves[0]);
  std::string_view top = Trim(halves[1]);
  size_t dots = range.find("..");
  if (dots == std::string_view::npos) return bad();
  std::string_view first = range.substr(0, dots);
  std::string_view last = range.substr(dots + 2);
  size_t digits = first.find_first_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos) return bad();
  std::string_view prefix = first.substr(0, digits);
  if (first.substr(digits) != "1" || !last.starts_with(prefix) || !top.starts_with(prefix) ||
      !top.ends_with("P")) {
    return bad();
  }
  std::optional<int> n = ParseSmallNumber(last.substr(prefix.size()));
  std::optional<int> t =
      ParseSmallNumber(top.substr(prefix.size(), top.size() - prefix.size() - 1));
  if (!n || !t || *n < 1 || *t != *n + 1) return bad();
  return CountVariables{std::string(prefix), *t};
}

std::optional<CoefficientName> SplitCoefficientName(std::string_view name) {
  size_t us = name.find('_');
  if (us == std::string_view::npos || us + 1 >= name.size()) return std::nullopt;
  absl::StatusOr<Segment> segment = ParseSegment(name.substr(0, us));
  if (!segment.ok()) return std::nullopt;
  return CoefficientName{*segment, name.substr(us + 1)};
}

std::optional<AgeSexCell> ParseAgeSexCell(std::string_view term) {
  if (term.size() < 2 || (term[0] != 'F' && term[0] != 'M') || !IsDigit(term[1])) {
    return std::nullopt;
  }
  AgeSexCell cell;
  cell.sex = term[0] == 'F' ? Sex::kFemale : Sex::kMale;
  if (!ParseAgeRange(term.substr(1), /*single_allowed=*/false, &cell.min_age, &cell.max_age)) {
    return std::nullopt;
  }
  return cell;
}

std::optional<NewEnrolleeCell> ParseNewEnrolleeCell(std::string_view term) {
  NewEnrolleeCell ne;
  if (term.starts_with("NMCAID_")) {
    term.remove_prefix(7);
  } else if (term.starts_with("MCAID_")) {
    ne.medicaid = true;
    term.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  if (term.starts_with("NORIGDIS_")) {
    term.remove_prefix(9);
  } else if (term.starts_with("ORIGDIS_")) {
    ne.originally_disabled = true;
    term.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  if (term.size() < 4 || !term.starts_with("NE") || (term[2] != 'F' && term[2] != 'M')) {
    return std::nullopt;
  }
  ne.cell.sex = term[2] == 'F' ? Sex::kFemale : Sex::kMale;
  if (!ParseAgeRange(term.substr(3), /*single_allowed=*/true, &ne.cell.min_age, &ne.cell.max_age)) {
    return std::nullopt;
  }
  return ne;
}

std::optional<int> ParseHccTerm(std::string_view term) {
  if (!term.starts_with("HCC")) return std::nullopt;
  std::optional<int> n = ParseSmallNumber(term.substr(3));
  if (!n || *n == 0) return std::nullopt;
  return n;
}

}  // namespace chartcoder::internal
