// chartcoder/hcc.h: CMS-HCC risk models V24 and V28. Codes and a member's
// demographics in; HCCs, hierarchies, interactions and the RAF score out, with
// every step explained.
//
//   std::shared_ptr<const chartcoder::CodeSet> codes = ...;  // CodeSet::Create({})
//   chartcoder::RiskModelOptions options;
//   options.code_set = codes;
//   options.model = chartcoder::HccModel::kV28;
//   absl::StatusOr<std::unique_ptr<chartcoder::RiskModel>> model =
//       chartcoder::RiskModel::Create(options);
//   if (!model.ok()) return model.status();
//   chartcoder::Demographics member;
//   member.age = 72;
//   member.sex = chartcoder::Sex::kFemale;
//   std::vector<std::string_view> dx = {"E11.9", "I50.9", "N18.4"};
//   absl::StatusOr<chartcoder::RiskScore> score = (*model)->Score(dx, member);
//   // score->raw_score == 1.723; score->hccs: HCC38 HCC226 HCC327; score->terms:
//   // F70_74, HCC38, HCC226, HCC327, DIABETES_HF_V28, HF_KIDNEY_V28, D3.
//
// Everything the model knows comes from the CMS tables compiled into the data
// pack (mappings, hierarchies, coefficients, labels, age/sex edits, the
// interaction definitions) plus chartcoder's curated supplements for CMS rules
// those tables do not express; docs/raf.md describes the logic and sources.
#ifndef CHARTCODER_HCC_H_
#define CHARTCODER_HCC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "chartcoder/codeset.h"

namespace chartcoder {

// The CMS-HCC model versions chartcoder scores.
enum class HccModel : uint8_t {
  kV24 = 24,  // 2020 CMS-HCC model, 86 payment HCCs
  kV28 = 28,  // 2024 CMS-HCC model, 115 payment HCCs
};
std::string_view HccModelName(HccModel model);      // "V24"
std::string_view HccModelFullName(HccModel model);  // "CMS-HCC Model V24", as in the CMS tables
// "V24", "v28", "24", "CMS-HCC Model V28". InvalidArgument names the text.
absl::StatusOr<HccModel> ParseHccModel(std::string_view text);

// Sex as CMS codes it (1 male, 2 female).
enum class Sex : uint8_t {
  kUnspecified = 0,
  kMale = 1,
  kFemale = 2,
};
std::string_view SexName(Sex sex);  // "M", "F", "" for unspecified
// "F", "female", "2", "M", "male", "1" (any case). InvalidArgument otherwise.
absl::StatusOr<Sex> ParseSex(std::string_view text);

// Medicare-Medicaid dual eligibility, as the CMS-HCC segments use it.
enum class DualStatus : uint8_t {
  kNone = 0,     // not dual eligible (MMR dual status code 00, 09 or none)
  kPartial = 1,  // partial-benefit dual: QMB only, SLMB only, QDWI, QI (01, 03, 05, 06)
  kFull = 2,     // full-benefit dual (02, 04, 08)
};
std::string_view DualStatusName(DualStatus dual);  // "none", "partial", "full"
// "none", "partial", "full" (any case), or a two-digit CMS dual status code
// (00-06, 08, 09; "NA" is none). InvalidArgument otherwise.
absl::StatusOr<DualStatus> ParseDualStatus(std::string_view text);

// The nine CMS-HCC model segments (coefficient prefixes).
enum class Segment : uint8_t {
  kCommunityNonDualAged = 0,          // CNA
  kCommunityNonDualDisabled = 1,      // CND
  kCommunityFullDualAged = 2,         // CFA
  kCommunityFullDualDisabled = 3,     // CFD
  kCommunityPartialDualAged = 4,      // CPA
  kCommunityPartialDualDisabled = 5,  // CPD
  kInstitutional = 6,                 // INS: long-term institutional
  kNewEnrollee = 7,                   // NE
  kSnpNewEnrollee = 8,                // SNPNE: new enrollee in a chronic-condition SNP
};
inline constexpr int kSegmentCount = 9;
std::string_view SegmentCode(Segment segment);         // "CNA"
std::string_view SegmentDescription(Segment segment);  // "community, non-dual, aged"
// "CNA", "ins", ... InvalidArgument otherwise.
absl::StatusOr<Segment> ParseSegment(std::string_view text);

// What CMS knows about a member. Plain values; validated by RiskModel::Score.
struct Demographics {
  // Age in whole years on February 1 of the payment year (CMS's AGEF).
  // Required: 0 to 130. Default -1 (unset).
  int age = -1;
  // Required. Default unspecified.
  Sex sex = Sex::kUnspecified;
  // Dual eligibility; partial or full also means Medicaid for the
  // institutional (LTIMCAID) and new-enrollee (MCAID) terms. Default none.
  DualStatus dual = DualStatus::kNone;
  // Original reason for Medicare entitlement (OREC): 0 old age, 1 disability,
  // 2 ESRD, 3 disability and ESRD. Default 0.
  int orec = 0;
  // Long-term institutional: 90+ days in an institution (the INS segment).
  // Default false.
  bool institutional = false;
  // New enrollee: fewer than 12 months of Part B in the data collection year
  // (the NE segment; diagnoses are listed but not scored). Default false.
  bool new_enrollee = false;
  // Enrolled in a chronic-condition special needs plan; a new enrollee in one
  // is scored in the SNPNE segment. Default false.
  bool chronic_snp = false;
  // Forces this segment instead of choosing it as CMS does. Default unset.
  std::optional<Segment> segment;
};

// What happened to one input code.
enum class CodeStatus : uint8_t {
  kMapped = 0,         // valid; produced at least one HCC of this model
  kNoHcc = 1,          // valid ICD-10-CM; maps to no HCC of this model
  kNotBillable = 2,    // an ICD-10-CM category/subcategory header: not valid for payment
  kInvalid = 3,        // not an ICD-10-CM code
  kRemovedByEdit = 4,  // valid, but an age/sex edit made it invalid for this member
};
std::string_view CodeStatusName(CodeStatus status);  // "mapped", "no_hcc", ...

struct CodeResult {
  // The code dotted and upper case ("E11.9"); for kInvalid the input as
  // given, trimmed.
  std::string code;
  CodeStatus status = CodeStatus::kInvalid;
  // HCCs this code produced after age/sex edits and before hierarchies.
  int hcc_count = 0;
  std::array<int16_t, 4> hccs{};
  // Index of the first input position holding this code (inputs that repeat
  // a code are folded into one result).
  uint32_t input_index = 0;
};

// An HCC the member has after hierarchies.
struct HccResult {
  int hcc = 0;             // 38
  std::string_view label;  // "Diabetes with Glycemic, Unspecified, or No Complications"
  bool scored = false;     // has a coefficient in the member's segment
  double coefficient = 0;  // that coefficient (0 when not scored)
};

enum class HccRemoval : uint8_t {
  kHierarchy = 0,    // a higher-ranked HCC of the same family is present
  kRequirement = 1,  // a CMS rule keeps this HCC only together with others
};
std::string_view HccRemovalName(HccRemoval reason);  // "hierarchy", "requirement"

struct RemovedHcc {
  int hcc = 0;
  std::string_view label;
  HccRemoval reason = HccRemoval::kHierarchy;
  int removed_by = 0;     // kHierarchy: the HCC that removed it
  std::string_view rule;  // kRequirement: the rule ("requires any of HCC 221 222 ...")
};

enum class EditAction : uint8_t {
  kInvalid = 0,   // the code counts for nothing for this member
  kOverride = 1,  // the code maps to `hcc` instead of its usual HCCs
};

// An age/sex edit (CMS's MCE-style edits) applied to a code.
struct EditResult {
  uint32_t code_index = 0;  // into RiskScore::codes
  EditAction action = EditAction::kInvalid;
  int hcc = 0;                   // kOverride: the HCC assigned
  std::string_view description;  // from the edit table
};

enum class TermKind : uint8_t {
  kDemographic = 0,         // the age/sex cell (or the new-enrollee cell)
  kOriginallyDisabled = 1,  // OriginallyDisabled_Female/_Male, ORIGDS
  kMedicaid = 2,            // LTIMCAID
  kHcc = 3,
  kInteraction = 4,  // disease x disease and disabled x disease interactions
  kHccCount = 5,     // D1..D9, D10P: number of payment HCCs
};
std::string_view TermKindName(TermKind kind);  // "demographic", "hcc", ...

// One variable of the score with its coefficient.
struct ScoreTerm {
  TermKind kind = TermKind::kDemographic;
  std::string_view name;      // "F70_74", "HCC38", "DIABETES_HF_V28", "D3"
  std::string_view variable;  // the coefficient's name: "CNA_F70_74"
  double coefficient = 0;
  int hcc = 0;  // kHcc only
};

// The score of one member under one model, with its explanation. String views
// point into the RiskModel that produced it and stay valid while it lives.
struct RiskScore {
  HccModel model = HccModel::kV28;
  int payment_year = 0;
  Segment segment = Segment::kCommunityNonDualAged;
  bool segment_forced = false;
  Demographics demographics;
  bool disabled = false;             // CMS DISABL: under 65 and OREC not 0
  bool originally_disabled = false;  // CMS ORIGDS: OREC 1 and not disabled
  bool medicaid = false;             // dual status partial or full

  std::vector<CodeResult> codes;         // one per distinct input code, input order
  std::vector<HccResult> hccs;           // after hierarchies, ascending
  std::vector<RemovedHcc> removed_hccs;  // in the order they were removed
  std::vector<EditResult> edits;
  std::vector<ScoreTerm> terms;  // demographic, HCCs, interactions, count
  int payment_hcc_count = 0;     // HCCs after hierarchies (the D-variable)

  double raw_score = 0;          // sum of the terms' coefficients
  double demographic_score = 0;  // demographic, originally-disabled, Medicaid terms
  double disease_score = 0;      // raw - demographic: HCCs, interactions, count
  // Set when a normalization factor is known (given or published).
  std::optional<double> normalization_factor;
  std::optional<double> normalized_score;  // round(raw / factor, 3)
  std::optional<double> coding_intensity_adjustment;
  // round(normalized * (1 - adjustment), 3), when both constants are known.
  std::optional<double> payment_score;

  // The codes (dotted) that produced `hcc`, in input order.
  std::vector<std::string_view> CodesOf(int hcc) const;
};

// A published payment-year constant and where it was published.
struct PublishedValue {
  double value = 0;
  std::string_view source;
};
// The normalization factor CMS published for a model and payment year, if
// chartcoder carries it (see docs/raf.md); nullopt otherwise.
std::optional<PublishedValue> PublishedNormalizationFactor(HccModel model, int payment_year);
// The MA coding-intensity (coding pattern) adjustment for a payment year, as
// a fraction (0.059), if chartcoder carries it; nullopt otherwise.
std::optional<PublishedValue> PublishedCodingIntensityAdjustment(int payment_year);

struct RiskModelOptions {
  // The loaded data pack. Required. The RiskModel keeps this reference and
  // reads labels and edit descriptions from it, so it lives as long as any
  // RiskModel (and any RiskScore) made from it.
  std::shared_ptr<const CodeSet> code_set;
  // The model to score. Default V28.
  HccModel model = HccModel::kV28;
  // Payment year. Default 0: the pack's (CodeSet::info().hcc_payment_year).
  // Another year is refused: the pack holds one year's tables.
  int payment_year = 0;
  // Divides the raw score (CMS normalization factor, > 0). Default unset: the
  // published factor for the model and year if known, else no normalized or
  // payment score is computed.
  std::optional<double> normalization_factor;
  // MA coding-intensity adjustment as a fraction in [0, 1) (0.059 for
  // 5.9%). Default unset: the published value for the year if known, else no
  // payment score is computed.
  std::optional<double> coding_intensity_adjustment;
};

// One CMS-HCC model for one payment year, compiled from the pack's tables
// into dense arrays at Create. Immutable; safe for concurrent use.
class RiskModel {
 public:
  // InvalidArgument: no code set, or bad constants. FailedPrecondition: a
  // payment year other than the pack's. NotFound: the pack lacks a table the
  // model needs (named). DataLoss: a table is malformed or inconsistent (table,
  // row and problem named).
  static absl::StatusOr<std::unique_ptr<RiskModel>> Create(const RiskModelOptions& options);
  ~RiskModel();
  RiskModel(const RiskModel&) = delete;
  RiskModel& operator=(const RiskModel&) = delete;

  // Scores a member. Codes dotted or not, any case; duplicates are folded.
  // InvalidArgument: bad demographics, or a forced segment with no age/sex
  // cell for the member. ResourceExhausted: more than kMaxCodes codes.
  absl::StatusOr<RiskScore> Score(absl::Span<const std::string_view> codes,
                                  const Demographics& demographics) const;
  absl::StatusOr<RiskScore> Score(const std::vector<std::string>& codes,
                                  const Demographics& demographics) const;
  absl::StatusOr<RiskScore> Score(std::initializer_list<std::string_view> codes,
                                  const Demographics& demographics) const {
    return Score(absl::Span<const std::string_view>(codes.begin(), codes.size()), demographics);
  }
  // The same, into `out`, reusing its storage: a member of up to 32 codes
  // (each at most 15 characters) allocates nothing once `out` has held one
  // with as many. `out` is overwritten (also on error).
  absl::Status ScoreInto(absl::Span<const std::string_view> codes, const Demographics& demographics,
                         RiskScore* out) const;

  // The HCCs of `codes` without a member: the mapping, the rules that keep an
  // HCC only with others, and hierarchies, but no age/sex edits (they need
  // age and sex) and no score. Fills codes, hccs (scored false),
  // removed_hccs and payment_hcc_count of the result. ResourceExhausted:
  // more than kMaxCodes codes.
  absl::StatusOr<RiskScore> Categorize(absl::Span<const std::string_view> codes) const;

  static constexpr size_t kMaxCodes = 100000;

  HccModel model() const;
  int payment_year() const;
  // The constants in effect (given or published), and where they came from.
  std::optional<double> normalization_factor() const;
  std::optional<double> coding_intensity_adjustment() const;
  std::string_view normalization_source() const;  // "option" or the publication
  std::string_view coding_adjustment_source() const;
  // The model's payment HCCs, ascending, and their labels.
  std::vector<int> Hccs() const;
  std::string_view HccLabel(int hcc) const;  // "" if not an HCC of the model

 private:
  struct Impl;
  explicit RiskModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Payment years that blend models (e.g. 2025: 33% V24 + 67% V28).
struct BlendWeight {
  HccModel model = HccModel::kV28;
  double weight = 0;
};
struct PublishedBlend {
  std::vector<BlendWeight> weights;
  std::string_view source;
};
// The model blend CMS published for a payment year, if chartcoder carries it.
std::optional<PublishedBlend> PublishedBlendFor(int payment_year);

struct BlendedRiskScore {
  std::vector<BlendWeight> weights;  // as given
  double raw_score = 0;              // sum of weight * raw score
  // Sum of weight * normalized score, rounded to 3 decimals; set when every
  // component has one.
  std::optional<double> normalized_score;
  std::optional<double> coding_intensity_adjustment;
  // round(normalized * (1 - adjustment), 3).
  std::optional<double> payment_score;
};

// Blends scores of the same member under different models: CMS normalizes
// each model's score, blends them, then applies the coding adjustment once.
// InvalidArgument: weights not in [0, 1] or not summing to 1, a model given
// twice, a weight without a score, components of different payment years or
// coding adjustments.
absl::StatusOr<BlendedRiskScore> BlendScores(absl::Span<const RiskScore* const> scores,
                                             absl::Span<const BlendWeight> weights);

}  // namespace chartcoder

#endif  // CHARTCODER_HCC_H_
