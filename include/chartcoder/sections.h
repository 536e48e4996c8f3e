// chartcoder/sections.h: canonical section kinds of a clinical note and the
// header rules that find them.
//
//   chartcoder::SectionOptions options;
//   options.rule_files = {"my_headers.tsv"};  // added to the built-in rules
//   // ... passed in TextAnalyzerOptions; every Document then has sections():
//   for (const chartcoder::Section& s : doc.sections()) {
//     std::cout << chartcoder::SectionKindName(s.kind) << " " << s.begin << "-" << s.end;
//   }
//
// A header is a known phrase ("Past Medical History", "PMH", "A/P",
// "Impression", ...) at the start of a line, in any case, followed by a colon,
// or alone on its line, or (ALL-CAPS headers of non-strict rules) followed by
// text on the same line. A header followed by a colon also counts at the start
// of a sentence in mid-line ("... stable. Plan: ..."). The rules come from the
// curated table data/section_headers.tsv (compiled into the data pack as
// `curated/section_headers`, and into the library) plus user rule files.
#ifndef CHARTCODER_SECTIONS_H_
#define CHARTCODER_SECTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace chartcoder {

class CodeSet;

// Canonical section kinds. Values are stable (they may be stored).
enum class SectionKind : uint8_t {
  kNone = 0,  // text before the first header
  kChiefComplaint = 1,
  kHistoryOfPresentIllness = 2,
  kPastMedicalHistory = 3,
  kPastSurgicalHistory = 4,
  kFamilyHistory = 5,
  kSocialHistory = 6,
  kReviewOfSystems = 7,
  kPhysicalExam = 8,
  kVitals = 9,
  kLabs = 10,
  kImaging = 11,  // imaging and other results (studies, ECG, pathology)
  kAssessment = 12,
  kPlan = 13,
  kAssessmentAndPlan = 14,
  kDiagnoses = 15,  // "Dx", "Diagnoses", "Final/Discharge/Admitting Diagnosis"
  kProblemList = 16,
  kMedications = 17,
  kAllergies = 18,
  kProcedures = 19,
  kHospitalCourse = 20,
  kDischargeInstructions = 21,
  kImmunizations = 22,
  kOther = 23,  // a recognised header of no kind above ("Disposition", "Signature")
};
inline constexpr int kSectionKindCount = 24;

// "none", "chief_complaint", "history_of_present_illness",
// "past_medical_history", ..., "other": the names used in rule files and JSON.
std::string_view SectionKindName(SectionKind kind);
// The kind named `name` (as SectionKindName prints it, any case), or nullopt.
std::optional<SectionKind> ParseSectionKind(std::string_view name);

// One section of a document: its header (empty for the leading kNone
// section) and the text up to the next header or the end. Byte offsets into
// the document's text().
struct Section {
  SectionKind kind = SectionKind::kNone;
  uint32_t begin = 0;           // header_begin; 0 for the first section
  uint32_t end = 0;             // the next section's begin, or text().size()
  uint32_t header_begin = 0;    // the header phrase ("Past Medical History")
  uint32_t header_end = 0;      // after the header and its colon, if any
  uint32_t first_sentence = 0;  // sentences [first_sentence, end_sentence)
  uint32_t end_sentence = 0;
};

// One header rule: a phrase and the kind it starts.
struct SectionRule {
  std::string header;  // "past medical history"; matched token by token, any case
  SectionKind kind = SectionKind::kOther;
  // Strict rules ("PE", "CC", "SH": also ordinary words or abbreviations) need
  // a colon, or to stand alone on their line; never header + text without colon.
  bool strict = false;
};

// Parses a rule table: tab-separated, a header row `header<TAB>kind[<TAB>strict]`,
// then one rule per line; '#' lines and blank lines are skipped; `strict` is
// "yes"/"no"/empty. InvalidArgument names `source_name`, the line and the
// problem (unknown kind, empty header, wrong column count).
absl::StatusOr<std::vector<SectionRule>> ParseSectionRules(std::string_view tsv,
                                                           std::string_view source_name);
// Reads a rule file in that format. NotFound if it does not exist;
// InvalidArgument if it is unreadable or malformed.
absl::StatusOr<std::vector<SectionRule>> ReadSectionRuleFile(const std::string& path);

// The built-in rules: the pack's `curated/section_headers` table when
// `code_set` is given (NotFound if the pack has none; InvalidArgument if it is
// malformed), else the copy of data/section_headers.tsv compiled into the
// library.
absl::StatusOr<std::vector<SectionRule>> BuiltinSectionRules(const CodeSet* code_set);

struct SectionOptions {
  // Start from the built-in rules (see BuiltinSectionRules). Default true.
  bool use_builtin_rules = true;
  // Rule files (ParseSectionRules format) read at creation, in order, after
  // the built-ins. A later rule for the same header phrase replaces earlier
  // ones. Default none.
  std::vector<std::string> rule_files;
  // Rules given directly, applied last. Default none.
  std::vector<SectionRule> extra_rules;
};

}  // namespace chartcoder

#endif  // CHARTCODER_SECTIONS_H_
