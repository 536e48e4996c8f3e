// Parsers for the small languages inside the CMS-HCC tables: diagnosis code
// keys, coefficient variable names ("CNA_F70_74", "NE_MCAID_ORIGDIS_NEF66"),
// and the interaction definitions ("any of HCC 17 18 19", "HF_V28 * HCC238
// (institutional segment)", "D1..D9 / D10P").
//
//   std::optional<uint64_t> key = PackCodeKey("e11.9");    // the key of E119
//   absl::StatusOr<std::vector<int>> g = ParseHccGroup("any of HCC 35 36 37 38");
#ifndef CHARTCODER_SRC_INTERNAL_HCC_TABLES_H_
#define CHARTCODER_SRC_INTERNAL_HCC_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/hcc.h"

namespace chartcoder::internal {

// ICD-10-CM codes are at most 7 characters; a key packs the undotted,
// upper-case characters into the bytes of an integer (first character in the
// lowest byte, zero padding). Never 0 for a valid code.
inline constexpr size_t kMaxCodeLength = 7;

// The key of `code` (dotted or not, any case, no surrounding white space), or
// nullopt when it cannot be an ICD-10-CM code: not 3 to 7 letters and digits
// starting with a letter, or a dot anywhere but after the third character.
// Inline: it runs for every code scored.
inline std::optional<uint64_t> PackTrimmedCodeKey(std::string_view code) {
  uint64_t key = 0;
  size_t n = 0;
  for (size_t i = 0; i < code.size(); ++i) {
    char c = code[i];
    if (c == '.') {
      if (i != 3) return std::nullopt;  // only after the category, once
      continue;
    }
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const bool letter = c >= 'A' && c <= 'Z';
    if ((!letter && !(c >= '0' && c <= '9')) || n == kMaxCodeLength || (n == 0 && !letter)) {
      return std::nullopt;
    }
    key |= static_cast<uint64_t>(static_cast<uint8_t>(c)) << (8 * n++);
  }
  if (n < 3) return std::nullopt;
  return key;
}
// The same, ignoring surrounding ASCII white space.
std::optional<uint64_t> PackCodeKey(std::string_view code);

// Appends the dotted code of `key` to `out`: "E11.9".
inline void AppendDottedCode(uint64_t key, std::string* out) {
  char buf[kMaxCodeLength + 1];
  size_t n = 0;
  for (size_t i = 0; i < kMaxCodeLength && (key >> (8 * i)) != 0; ++i) {
    if (i == 3) buf[n++] = '.';
    buf[n++] = static_cast<char>((key >> (8 * i)) & 0xff);
  }
  out->append(buf, n);
}
std::string DottedCode(uint64_t key);

// "any of HCC 17 18 19" or "HCC 85": the HCC numbers, in order.
// InvalidArgument names the problem.
absl::StatusOr<std::vector<int>> ParseHccGroup(std::string_view definition);

struct InteractionFactor {
  enum class Kind : uint8_t { kVariable, kHcc, kDisabled };
  Kind kind = Kind::kVariable;
  std::string variable;  // kVariable: a group or interaction defined earlier
  int hcc = 0;           // kHcc
};
struct InteractionDefinition {
  std::vector<InteractionFactor> factors;  // all must be present
  // "(institutional segment ...)": the variable belongs to the INS segment only.
  bool institutional_only = false;
};
// "A * B", "HCC47 * CANCER", "DISABLED * HF_V28 (institutional segment)".
// InvalidArgument names the problem.
absl::StatusOr<InteractionDefinition> ParseInteraction(std::string_view definition);

// "D1..D9 / D10P": count variables D1 to D9 and a top bucket D10P (10 or more).
struct CountVariables {
  std::string prefix;  // "D"
  int top = 0;         // 10
};
absl::StatusOr<CountVariables> ParseCountVariables(std::string_view variable);

// "CNA_HCC19" -> {CNA, "HCC19"}. nullopt when the prefix is not a segment.
struct CoefficientName {
  Segment segment;
  std::string_view term;
};
std::optional<CoefficientName> SplitCoefficientName(std::string_view name);

// An age/sex cell: "F70_74" (ages 70 to 74), "M95_GT" (95 and over), and for
// new enrollees "NEF66" (66 only), "NEM0_34".
struct AgeSexCell {
  Sex sex = Sex::kUnspecified;
  int min_age = 0;
  int max_age = 0;  // kOpenAge for "_GT"
};
inline constexpr int kOpenAge = 1 << 20;
// "F70_74", "M95_GT".
std::optional<AgeSexCell> ParseAgeSexCell(std::string_view term);

// "NMCAID_NORIGDIS_NEF66": a new-enrollee cell with Medicaid status and
// originally-disabled status.
struct NewEnrolleeCell {
  bool medicaid = false;
  bool originally_disabled = false;
  AgeSexCell cell;
};
std::optional<NewEnrolleeCell> ParseNewEnrolleeCell(std::string_view term);

// "HCC38" -> 38.
std::optional<int> ParseHccTerm(std::string_view term);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_HCC_TABLES_H_
