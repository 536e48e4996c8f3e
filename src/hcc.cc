// CMS-HCC V24/V28 risk scoring. Create() compiles the pack's tables into dense
// arrays and bit sets; Score() is then a few hash look-ups and bit operations
// per member. The logic follows the CMS SAS software (V2422P2M for V24,
// V2823T2M for V28, their hierarchy, edit and AGESEXV2 macros); docs/raf.md
// describes it.
#include "chartcoder/hcc.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "src/internal/hcc_tables.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {

using internal::StrCat;

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kSegmentCodes[kSegmentCount] = {"CNA", "CND", "CFA", "CFD",  "CPA",
                                                           "CPD", "INS", "NE",  "SNPNE"};
constexpr std::string_view kSegmentDescriptions[kSegmentCount] = {
    "community, non-dual, aged",
    "community, non-dual, disabled",
    "community, full-benefit dual, aged",
    "community, full-benefit dual, disabled",
    "community, partial-benefit dual, aged",
    "community, partial-benefit dual, disabled",
    "long-term institutional",
    "new enrollee",
    "new enrollee in a chronic-condition special needs plan",
};

bool IsNewEnrolleeSegment(Segment s) {
  return s == Segment::kNewEnrollee || s == Segment::kSnpNewEnrollee;
}

}  // namespace

std::string_view HccModelName(HccModel model) { return model == HccModel::kV24 ? "V24" : "V28"; }

std::string_view HccModelFullName(HccModel model) {
  return model == HccModel::kV24 ? "CMS-HCC Model V24" : "CMS-HCC Model V28";
}

absl::StatusOr<HccModel> ParseHccModel(std::string_view text) {
  std::string t = internal::AsciiUpper(internal::Trim(text));
  if (t.starts_with("CMS-HCC MODEL ")) t = t.substr(14);
  if (t == "V24" || t == "24") return HccModel::kV24;
  if (t == "V28" || t == "28") return HccModel::kV28;
  return absl::InvalidArgumentError(StrCat("unknown CMS-HCC model '", text, "' (use V24 or V28)"));
}

std::string_view SexName(Sex sex) {
  switch (sex) {
    case Sex::kMale:
      return "M";
    case Sex::kFemale:
      return "F";
    case Sex::kUnspecified:
      break;
  }
  return "";
}

absl::StatusOr<Sex> ParseSex(std::string_view text) {
  std::string t = internal::AsciiLower(internal::Trim(text));
  if (t == "f" || t == "female" || t == "2") return Sex::kFemale;
  if (t == "m" || t == "male" || t == "1") return Sex::kMale;
  return absl::InvalidArgumentError(StrCat("unknown sex '", text, "' (use F or M)"));
}

std::string_view DualStatusName(DualStatus dual) {
  switch (dual) {
    case DualStatus::kPartial:
      return "partial";
    case DualStatus::kFull:
      return "full";
    case DualStatus::kNone:
      break;
  }
  return "none";
}

absl::StatusOr<DualStatus> ParseDualStatus(std::string_view text) {
  std::string t = internal::AsciiLower(internal::Trim(text));
  // Names, and the Medicare-Medicaid dual status codes of the MMR: 01 QMB
  // only, 03 SLMB only, 05 QDWI, 06 QI are partial benefit; 02 QMB+, 04
  // SLMB+, 08 other full benefit are full; 00 and 09 (other dual without
  // Medicaid coverage) are not Medicaid.
  if (t == "none" || t == "na" || t == "00" || t == "09") return DualStatus::kNone;
  if (t == "partial" || t == "01" || t == "03" || t == "05" || t == "06") {
    return DualStatus::kPartial;
  }
  if (t == "full" || t == "02" || t == "04" || t == "08") return DualStatus::kFull;
  return absl::InvalidArgumentError(StrCat(
      "unknown dual status '", text, "' (use none, partial, full or a CMS dual status code)"));
}

std::string_view SegmentCode(Segment segment) { return kSegmentCodes[static_cast<int>(segment)]; }

std::string_view SegmentDescription(Segment segment) {
  return kSegmentDescriptions[static_cast<int>(segment)];
}

absl::StatusOr<Segment> ParseSegment(std::string_view text) {
  std::string t = internal::AsciiUpper(internal::Trim(text));
  for (int i = 0; i < kSegmentCount; ++i) {
    if (t == kSegmentCodes[i]) return static_cast<Segment>(i);
  }
  return absl::InvalidArgumentError(
      StrCat("unknown segment '", text, "' (use CNA, CND, CFA, CFD, CPA, CPD, INS, NE or SNPNE)"));
}

std::string_view CodeStatusName(CodeStatus status) {
  switch (status) {
    case CodeStatus::kMapped:
      return "mapped";
    case CodeStatus::kNoHcc:
      return "no_hcc";
    case CodeStatus::kNotBillable:
      return "not_billable";
    case CodeStatus::kInvalid:
      return "invalid";
    case CodeStatus::kRemovedByEdit:
      return "removed_by_edit";
  }
  return "invalid";
}

std::string_view HccRemovalName(HccRemoval reason) {
  return reason == HccRemoval::kHierarchy ? "hierarchy" : "requirement";
}

std::string_view TermKindName(TermKind kind) {
  switch (kind) {
    case TermKind::kDemographic:
      return "demographic";
    case TermKind::kOriginallyDisabled:
      return "originally_disabled";
    case TermKind::kMedicaid:
      return "medicaid";
    case TermKind::kHcc:
      return "hcc";
    case TermKind::kInteraction:
      return "interaction";
    case TermKind::kHccCount:
      return "hcc_count";
  }
  return "demographic";
}

std::vector<std::string_view> RiskScore::CodesOf(int hcc) const {
  std::vector<std::string_view> out;
  for (const CodeResult& c : codes) {
    for (int i = 0; i < c.hcc_count; ++i) {
      if (c.hccs[i] == hcc) {
        out.push_back(c.code);
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Published payment-year constants. Each names its publication; years not
// listed have no default and the caller supplies the value.
// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kRateAnnouncement2024 =
    "CMS, Announcement of Calendar Year (CY) 2024 Medicare Advantage (MA) Capitation Rates "
    "and Part C and Part D Payment Policies";
constexpr std::string_view kRateAnnouncement2025 =
    "CMS, Announcement of Calendar Year (CY) 2025 Medicare Advantage (MA) Capitation Rates "
    "and Part C and Part D Payment Policies";
constexpr std::string_view kRateAnnouncement2026 =
    "CMS, Announcement of Calendar Year (CY) 2026 Medicare Advantage (MA) Capitation Rates "
    "and Part C and Part D Payment Policies";
constexpr std::string_view kCodingAdjustmentSource =
    "CMS Rate Announcements CY2019 to CY2026: the minimum MA coding pattern adjustment of 5.9% "
    "set by section 1853(a)(1)(C)(ii) of the Social Security Act";

}  // namespace

std::optional<PublishedValue> PublishedNormalizationFactor(HccModel model, int payment_year) {
  if (payment_year == 2024) {
    return PublishedValue{model == HccModel::kV24 ? 1.146 : 1.015, kRateAnnouncement2024};
  }
  return std::nullopt;
}

std::optional<PublishedValue> PublishedCodingIntensityAdjustment(int payment_year) {
  if (payment_year >= 2019 && payment_year <= 2026) {
    return PublishedValue{0.059, kCodingAdjustmentSource};
  }
  return std::nullopt;
}

std::optional<PublishedBlend> PublishedBlendFor(int payment_year) {
  switch (payment_year) {
    case 2024:
      return PublishedBlend{{{HccModel::kV24, 0.67}, {HccModel::kV28, 0.33}},
                            kRateAnnouncement2024};
    case 2025:
      return PublishedBlend{{{HccModel::kV24, 0.33}, {HccModel::kV28, 0.67}},
                            kRateAnnouncement2025};
    case 2026:
      return PublishedBlend{{{HccModel::kV28, 1.0}}, kRateAnnouncement2026};
    default:
      return std::nullopt;
  }
}

namespace {

// CMS rounds scores to 3 decimals, half away from zero. The small tolerance
// absorbs binary floating-point error in sums of 3-decimal coefficients
// (0.4995 stored as 0.49949999...).
double Round3(double x) {
  const double scaled = std::fabs(x) * 1000.0;
  const double r = std::floor(scaled + 0.5 + 1e-9) / 1000.0;
  return x < 0 ? -r : r;
}

// ---------------------------------------------------------------------------
// Compiled model
// ---------------------------------------------------------------------------

// A set of dense HCC indices (at most 256 HCCs per model).
struct Bits {
  std::array<uint64_t, 4> w{};

  void Set(int i) { w[i >> 6] |= uint64_t{1} << (i & 63); }
  void Reset(int i) { w[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  bool Test(int i) const { return (w[i >> 6] >> (i & 63)) & 1; }
  bool Any() const { return (w[0] | w[1] | w[2] | w[3]) != 0; }
  bool Intersects(const Bits& o) const {
    return ((w[0] & o.w[0]) | (w[1] & o.w[1]) | (w[2] & o.w[2]) | (w[3] & o.w[3])) != 0;
  }
  int Count() const {
    return std::popcount(w[0]) + std::popcount(w[1]) + std::popcount(w[2]) + std::popcount(w[3]);
  }
  Bits And(const Bits& o) const {
    Bits r;
    for (int i = 0; i < 4; ++i) r.w[i] = w[i] & o.w[i];
    return r;
  }
  void Remove(const Bits& o) {
    for (int i = 0; i < 4; ++i) w[i] &= ~o.w[i];
  }
  // Calls f(index) for every member, ascending.
  template <typename F>
  void ForEach(F f) const {
    for (int i = 0; i < 4; ++i) {
      uint64_t x = w[i];
      while (x != 0) {
        f(i * 64 + std::countr_zero(x));
        x &= x - 1;
      }
    }
  }
};
constexpr int kMaxHccs = 256;
constexpr int kMaxAge = 130;
constexpr int kMaxVariables = 128;
constexpr int kMaxCcsPerCode = 4;

// A coefficient; absent when `variable` is empty.
struct Coef {
  double value = 0;
  std::string_view variable;  // "CNA_HCC19", a cell of the pack's table
  bool present() const { return !variable.empty(); }
};

enum CodeFlags : uint8_t {
  kInPack = 1,     // in the code set's tabular list
  kBillable = 2,   // billable in the code set
  kInMapping = 4,  // in ra_dx_to_cc for any model
};

// 8 bytes (16 with its key), so the table of ~100,000 codes stays small
// enough for the cache.
struct CodeEntry {
  uint8_t flags = 0;  // CodeFlags in bits 0-2, the number of edits in bits 3-7
  uint8_t cc_count = 0;
  std::array<uint8_t, kMaxCcsPerCode> cc{};  // dense HCC indices in this model
  uint16_t edit_first = 0;                   // edits[edit_first, +edit_count())
  int edit_count() const { return flags >> 3; }
};
static_assert(sizeof(CodeEntry) == 8);
constexpr size_t kMaxEdits = 1u << 16;
constexpr int kMaxEditsPerCode = 31;

struct Edit {
  Sex sex = Sex::kUnspecified;  // kUnspecified: any
  int min_age = 0;
  int max_age = std::numeric_limits<int>::max();
  EditAction action = EditAction::kInvalid;
  int cc = -1;  // dense index for kOverride
  std::string_view description;
};

struct Requirement {
  int cc = 0;
  Bits any_of;
  std::string rule;  // "requires any of HCC 221 222 224 225 226 (source)"
};

struct HierarchyParent {
  int cc = 0;
  Bits children;
};

// A group ("any of HCC ...") or an interaction ("A * B") of the definitions
// table, with its coefficient in each segment.
struct Variable {
  std::string name;
  bool is_group = false;
  Bits any_of;  // group
  struct Factor {
    internal::InteractionFactor::Kind kind;
    int index = 0;  // kVariable: an earlier variable; kHcc: dense HCC index
  };
  std::vector<Factor> factors;  // interaction
  bool institutional_only = false;
  std::array<Coef, kSegmentCount> coef{};
};

// Everything Score() needs, compiled from the tables.
struct Model {
  std::shared_ptr<const CodeSet> code_set;
  HccModel model = HccModel::kV28;
  int payment_year = 0;
  std::optional<double> normalization;
  std::optional<double> adjustment;
  std::string normalization_source;
  std::string adjustment_source;

  std::vector<int> hcc_numbers;  // dense index -> HCC number, ascending
  std::vector<std::string_view> hcc_labels;
  absl::flat_hash_map<int, int> hcc_index;  // HCC number -> dense index

  absl::flat_hash_map<uint64_t, CodeEntry> codes;
  std::vector<Edit> edits;
  std::vector<Requirement> requirements;
  std::vector<HierarchyParent> parents;  // in the order of the hierarchy table
  Bits parent_mask;
  // True when `parents` is in ascending HCC order (the CMS tables are): then
  // Score visits only the parents present. parent_slot: dense index -> index
  // into `parents`, -1 for none.
  bool parents_ascending = true;
  std::vector<int16_t> parent_slot;
  std::vector<Variable> variables;
  // Per segment, the variables with a coefficient there, in table order.
  std::array<std::vector<int>, kSegmentCount> scored_variables;

  // A group or interaction's value for HCCs `kept` after hierarchies.
  bool VariableOn(int v, const Bits& kept, bool disabled) const {
    const Variable& var = variables[v];
    if (var.is_group) return kept.Intersects(var.any_of);
    for (const Variable::Factor& f : var.factors) {
      switch (f.kind) {
        case internal::InteractionFactor::Kind::kVariable:
          if (!VariableOn(f.index, kept, disabled)) return false;
          break;
        case internal::InteractionFactor::Kind::kHcc:
          if (!kept.Test(f.index)) return false;
          break;
        case internal::InteractionFactor::Kind::kDisabled:
          if (!disabled) return false;
          break;
      }
    }
    return true;
  }

  int count_top = 0;             // 10 for D1..D9 / D10P; 0 when the model has no count terms
  std::vector<Coef> count_coef;  // [segment * (count_top + 1) + n]
  std::vector<Coef> hcc_coef;    // [segment * hcc count + dense index]
  std::array<Coef, kSegmentCount> orig_disabled_female{}, orig_disabled_male{}, origds{},
      ltimcaid{};
  std::vector<Coef> cells;
  // [segment][sex 0 male / 1 female][age 0..kMaxAge][medicaid][originally disabled]
  // -> index into `cells`, -1 for none.
  std::vector<int16_t> cell_lookup;

  static size_t CellSlot(int segment, Sex sex, int age, bool medicaid, bool origdis) {
    return ((((static_cast<size_t>(segment) * 2 + (sex == Sex::kFemale ? 1 : 0)) * (kMaxAge + 1) +
              static_cast<size_t>(age)) *
                 2 +
             (medicaid ? 1 : 0)) *
                2 +
            (origdis ? 1 : 0));
  }
  const Coef& HccCoef(Segment s, int index) const {
    return hcc_coef[static_cast<size_t>(s) * hcc_numbers.size() + index];
  }
};

// ---------------------------------------------------------------------------
// Loading the tables
// ---------------------------------------------------------------------------

// A pack table with its columns resolved by name.
class Table {
 public:
  static absl::StatusOr<Table> Open(const CodeSet& codes, std::string_view name,
                                    std::initializer_list<std::string_view> columns) {
    CC_ASSIGN_OR_RETURN(ReferenceTable t, codes.Table(name));
    Table out(t);
    for (std::string_view c : columns) {
      int i = t.ColumnIndex(c);
      if (i < 0) {
        return absl::DataLossError(StrCat("table ", name, " has no column '", c, "'"));
      }
      out.columns_.push_back(i);
    }
    return out;
  }
  size_t rows() const { return table_.row_count(); }
  // Column by its position in the list given to Open().
  std::string_view cell(size_t row, size_t column) const {
    return internal::Trim(table_.cell(row, static_cast<size_t>(columns_[column])));
  }
  absl::Status Error(size_t row, std::string_view problem) const {
    return absl::DataLossError(StrCat("table ", table_.name(), " row ", row + 1, ": ", problem));
  }

 private:
  explicit Table(ReferenceTable t) : table_(t) {}
  ReferenceTable table_;
  std::vector<int> columns_;
};

class ModelBuilder {
 public:
  ModelBuilder(Model* m, const CodeSet& codes) : m_(m), codes_(codes) {}

  absl::Status Build() {
    const HccModel model = m_->model;
    version_ = HccModelName(model);                           // "V24"
    full_name_ = HccModelFullName(model);                     // "CMS-HCC Model V24"
    coef_version_ = model == HccModel::kV24 ? "C24" : "C28";  // coefficient table
    CC_RETURN_IF_ERROR(LoadLabels());
    CC_RETURN_IF_ERROR(LoadCodes());
    CC_RETURN_IF_ERROR(LoadEdits());
    CC_RETURN_IF_ERROR(LoadHierarchies());
    CC_RETURN_IF_ERROR(LoadRules());
    CC_RETURN_IF_ERROR(LoadDefinitions());
    CC_RETURN_IF_ERROR(LoadCoefficients());
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<int> Index(int hcc, const Table& t, size_t row) const {
    auto it = m_->hcc_index.find(hcc);
    if (it == m_->hcc_index.end()) {
      return t.Error(row, StrCat("HCC ", hcc, " is not a payment HCC of ", full_name_,
                                 " (not in hcc/ra_labels)"));
    }
    return it->second;
  }

  // The model's payment HCCs: hcc/ra_labels rows of the CMS-HCC domain.
  absl::Status LoadLabels() {
    CC_ASSIGN_OR_RETURN(Table t, Table::Open(codes_, "hcc/ra_labels",
                                             {"cc", "label", "model_domain", "model_version"}));
    std::vector<std::pair<int, std::string_view>> hccs;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 2) != "CMS-HCC" || t.cell(r, 3) != version_) continue;
      std::optional<int> n = internal::ParseHccTerm(t.cell(r, 0));
      if (!n) return t.Error(r, StrCat("'", t.cell(r, 0), "' is not an HCC ('HCC38')"));
      hccs.emplace_back(*n, t.cell(r, 1));
    }
    if (hccs.empty()) {
      return absl::NotFoundError(StrCat("table hcc/ra_labels has no HCCs of ", full_name_));
    }
    if (hccs.size() > kMaxHccs) {
      return absl::DataLossError(StrCat(full_name_, " has ", hccs.size(),
                                        " HCCs; chartcoder supports at most ", kMaxHccs));
    }
    std::sort(hccs.begin(), hccs.end());
    for (const auto& [n, label] : hccs) {
      if (!m_->hcc_index.emplace(n, static_cast<int>(m_->hcc_numbers.size())).second) {
        return absl::DataLossError(
            StrCat("table hcc/ra_labels lists HCC ", n, " of ", full_name_, " twice"));
      }
      m_->hcc_numbers.push_back(n);
      m_->hcc_labels.push_back(label);
    }
    return absl::OkStatus();
  }

  // Every code of the code set and of any model's mapping, with this model's
  // HCCs.
  absl::Status LoadCodes() {
    const size_t n = codes_.code_count();
    m_->codes.reserve(n + 1024);
    for (size_t i = 0; i < n; ++i) {
      Code c = codes_.CodeAt(static_cast<uint32_t>(i));
      std::optional<uint64_t> key = internal::PackCodeKey(c.key());
      if (!key) continue;  // not shaped like a code; unreachable with CDC files
      CodeEntry& e = m_->codes[*key];
      e.flags |= kInPack;
      if (c.billable()) e.flags |= kBillable;
    }
    CC_ASSIGN_OR_RETURN(
        Table t, Table::Open(codes_, "hcc/ra_dx_to_cc", {"diagnosis_code", "cc", "model_name"}));
    for (size_t r = 0; r < t.rows(); ++r) {
      std::optional<uint64_t> key = internal::PackCodeKey(t.cell(r, 0));
      if (!key) return t.Error(r, StrCat("'", t.cell(r, 0), "' is not an ICD-10-CM code"));
      CodeEntry& e = m_->codes[*key];
      e.flags |= kInMapping;
      if (t.cell(r, 2) != full_name_) continue;
      int cc = 0;
      if (!internal::ParseInt(t.cell(r, 1), &cc)) {
        return t.Error(r, StrCat("'", t.cell(r, 1), "' is not an HCC number"));
      }
      CC_ASSIGN_OR_RETURN(int index, Index(cc, t, r));
      if (std::find(e.cc.begin(), e.cc.begin() + e.cc_count, index) != e.cc.begin() + e.cc_count) {
        continue;  // the same pair twice
      }
      if (e.cc_count == kMaxCcsPerCode) {
        return t.Error(r, StrCat(t.cell(r, 0), " maps to more than ", kMaxCcsPerCode, " HCCs of ",
                                 full_name_));
      }
      e.cc[e.cc_count++] = static_cast<uint8_t>(index);
    }
    return absl::OkStatus();
  }

  // Age/sex edits: hcc/ra_dx_edits, or for a model that table does not cover,
  // chartcoder's supplement curated/hcc_dx_edits (same columns).
  absl::Status LoadEdits() {
    CC_ASSIGN_OR_RETURN(bool found, LoadEditsFrom("hcc/ra_dx_edits"));
    if (!found) {
      CC_ASSIGN_OR_RETURN(found, LoadEditsFrom("curated/hcc_dx_edits"));
    }
    // Group by code, keeping table order within a code (first match wins).
    std::stable_sort(edits_by_key_.begin(), edits_by_key_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    if (edits_by_key_.size() >= kMaxEdits) {
      return absl::DataLossError(StrCat(edits_by_key_.size(), " age/sex edits for ", full_name_,
                                        "; chartcoder supports fewer than ", kMaxEdits));
    }
    for (size_t i = 0; i < edits_by_key_.size(); ++i) {
      const auto& [key, edit] = edits_by_key_[i];
      CodeEntry& e = m_->codes[key];
      if (e.edit_count() == 0) e.edit_first = static_cast<uint16_t>(m_->edits.size());
      if (e.edit_count() == kMaxEditsPerCode) {
        return absl::DataLossError(
            StrCat("more than ", kMaxEditsPerCode, " age/sex edits for one code of ", full_name_));
      }
      e.flags = static_cast<uint8_t>(e.flags + (1 << 3));
      m_->edits.push_back(edit);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> LoadEditsFrom(std::string_view name) {
    CC_ASSIGN_OR_RETURN(Table t,
                        Table::Open(codes_, name,
                                    {"icd10", "edit_type", "sex", "age_min", "age_max", "action",
                                     "cc_override", "model_name", "description"}));
    bool found = false;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 7) != full_name_) continue;
      found = true;
      std::optional<uint64_t> key = internal::PackCodeKey(t.cell(r, 0));
      if (!key) return t.Error(r, StrCat("'", t.cell(r, 0), "' is not an ICD-10-CM code"));
      Edit edit;
      edit.description = t.cell(r, 8);
      const std::string_view type = t.cell(r, 1);
      const std::string_view sex = t.cell(r, 2);
      const std::string_view min_age = t.cell(r, 3);
      const std::string_view max_age = t.cell(r, 4);
      if (!sex.empty()) {
        if (sex == "1") {
          edit.sex = Sex::kMale;
        } else if (sex == "2") {
          edit.sex = Sex::kFemale;
        } else {
          return t.Error(r, StrCat("sex '", sex, "' is not 1 (male) or 2 (female)"));
        }
      }
      if (!min_age.empty() && !internal::ParseInt(min_age, &edit.min_age)) {
        return t.Error(r, StrCat("age_min '", min_age, "' is not a whole number"));
      }
      if (!max_age.empty() && !internal::ParseInt(max_age, &edit.max_age)) {
        return t.Error(r, StrCat("age_max '", max_age, "' is not a whole number"));
      }
      if (type == "sex"   ? sex.empty()
          : type == "age" ? (min_age.empty() && max_age.empty())
                          : true) {
        return t.Error(r, StrCat("edit_type '", type,
                                 "' needs sex (type 'sex') or age_min/age_max (type 'age')"));
      }
      const std::string_view action = t.cell(r, 5);
      if (action == "invalid") {
        edit.action = EditAction::kInvalid;
      } else if (action == "override") {
        edit.action = EditAction::kOverride;
        int cc = 0;
        if (!internal::ParseInt(t.cell(r, 6), &cc)) {
          return t.Error(r, StrCat("cc_override '", t.cell(r, 6), "' is not an HCC number"));
        }
        CC_ASSIGN_OR_RETURN(edit.cc, Index(cc, t, r));
      } else {
        return t.Error(r, StrCat("action '", action, "' is not 'invalid' or 'override'"));
      }
      edits_by_key_.emplace_back(*key, edit);
    }
    return found;
  }

  // hcc/ra_hierarchies: "if the parent is present, the child is removed",
  // applied parent by parent in table order to the HCCs still present, as the
  // CMS hierarchy macro (V28115H1, V24H86H1) does.
  absl::Status LoadHierarchies() {
    CC_ASSIGN_OR_RETURN(Table t,
                        Table::Open(codes_, "hcc/ra_hierarchies",
                                    {"cc_parent", "cc_child", "model_domain", "model_version"}));
    absl::flat_hash_map<int, size_t> parent_slot;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 2) != "CMS-HCC" || t.cell(r, 3) != version_) continue;
      int parent = 0, child = 0;
      if (!internal::ParseInt(t.cell(r, 0), &parent) || !internal::ParseInt(t.cell(r, 1), &child)) {
        return t.Error(r, "cc_parent and cc_child must be HCC numbers");
      }
      CC_ASSIGN_OR_RETURN(int p, Index(parent, t, r));
      CC_ASSIGN_OR_RETURN(int c, Index(child, t, r));
      if (p == c) return t.Error(r, StrCat("HCC ", parent, " is its own child"));
      auto [it, inserted] = parent_slot.emplace(p, m_->parents.size());
      if (inserted) m_->parents.push_back({p, {}});
      m_->parents[it->second].children.Set(c);
      m_->parent_mask.Set(p);
    }
    m_->parent_slot.assign(m_->hcc_numbers.size(), -1);
    for (size_t i = 0; i < m_->parents.size(); ++i) {
      m_->parent_slot[m_->parents[i].cc] = static_cast<int16_t>(i);
      if (i > 0 && m_->parents[i].cc < m_->parents[i - 1].cc) m_->parents_ascending = false;
    }
    return absl::OkStatus();
  }

  // curated/hcc_rules: CMS rules the official tables do not express.
  absl::Status LoadRules() {
    CC_ASSIGN_OR_RETURN(Table t, Table::Open(codes_, "curated/hcc_rules",
                                             {"model", "rule", "hcc", "definition", "source"}));
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 0) != version_) continue;
      if (t.cell(r, 1) != "requires") {
        return t.Error(r, StrCat("unknown rule '", t.cell(r, 1), "' (known: requires)"));
      }
      int hcc = 0;
      if (!internal::ParseInt(t.cell(r, 2), &hcc)) {
        return t.Error(r, StrCat("'", t.cell(r, 2), "' is not an HCC number"));
      }
      Requirement req;
      CC_ASSIGN_OR_RETURN(req.cc, Index(hcc, t, r));
      absl::StatusOr<std::vector<int>> group = internal::ParseHccGroup(t.cell(r, 3));
      if (!group.ok()) return t.Error(r, internal::FromAbsl(group.status().message()));
      for (int n : *group) {
        CC_ASSIGN_OR_RETURN(int i, Index(n, t, r));
        req.any_of.Set(i);
      }
      req.rule = StrCat("requires ", t.cell(r, 3), " (", t.cell(r, 4), ")");
      m_->requirements.push_back(std::move(req));
    }
    return absl::OkStatus();
  }

  // hcc/hcc_interaction_definitions_v24_v28: groups, interactions, counts.
  absl::Status LoadDefinitions() {
    CC_ASSIGN_OR_RETURN(Table t, Table::Open(codes_, "hcc/hcc_interaction_definitions_v24_v28",
                                             {"model", "variable", "kind", "definition"}));
    absl::flat_hash_map<std::string, int> by_name;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 0) != version_) continue;
      const std::string_view name = t.cell(r, 1);
      const std::string_view kind = t.cell(r, 2);
      const std::string_view def = t.cell(r, 3);
      if (kind == "count") {
        absl::StatusOr<internal::CountVariables> count = internal::ParseCountVariables(name);
        if (!count.ok()) return t.Error(r, internal::FromAbsl(count.status().message()));
        if (m_->count_top != 0) return t.Error(r, "a second count definition");
        m_->count_top = count->top;
        count_prefix_ = count->prefix;
        continue;
      }
      Variable v;
      v.name = std::string(name);
      if (kind == "group") {
        v.is_group = true;
        absl::StatusOr<std::vector<int>> group = internal::ParseHccGroup(def);
        if (!group.ok()) return t.Error(r, internal::FromAbsl(group.status().message()));
        for (int n : *group) {
          CC_ASSIGN_OR_RETURN(int i, Index(n, t, r));
          v.any_of.Set(i);
        }
      } else if (kind == "interaction") {
        absl::StatusOr<internal::InteractionDefinition> inter = internal::ParseInteraction(def);
        if (!inter.ok()) return t.Error(r, internal::FromAbsl(inter.status().message()));
        v.institutional_only = inter->institutional_only;
        for (const internal::InteractionFactor& f : inter->factors) {
          Variable::Factor factor{f.kind, 0};
          if (f.kind == internal::InteractionFactor::Kind::kHcc) {
            CC_ASSIGN_OR_RETURN(factor.index, Index(f.hcc, t, r));
          } else if (f.kind == internal::InteractionFactor::Kind::kVariable) {
            auto it = by_name.find(f.variable);
            if (it == by_name.end()) {
              return t.Error(r, StrCat("'", f.variable, "' is not defined above"));
            }
            factor.index = it->second;
          }
          v.factors.push_back(factor);
        }
      } else {
        return t.Error(r, StrCat("unknown kind '", kind, "' (group, interaction, count)"));
      }
      if (!by_name.emplace(v.name, static_cast<int>(m_->variables.size())).second) {
        return t.Error(r, StrCat("'", name, "' is defined twice"));
      }
      if (m_->variables.size() == kMaxVariables) {
        return t.Error(r, StrCat("more than ", kMaxVariables, " variables"));
      }
      m_->variables.push_back(std::move(v));
    }
    variable_index_ = std::move(by_name);
    return absl::OkStatus();
  }

  // hcc/ra_coefficients: every variable of the model, by segment. A variable
  // chartcoder cannot compute is an error, so no coefficient is ever ignored.
  absl::Status LoadCoefficients() {
    CC_ASSIGN_OR_RETURN(Table t,
                        Table::Open(codes_, "hcc/ra_coefficients",
                                    {"coefficient", "value", "model_domain", "model_version"}));
    const size_t n_hcc = m_->hcc_numbers.size();
    m_->hcc_coef.assign(kSegmentCount * n_hcc, Coef{});
    m_->count_coef.assign(kSegmentCount * (m_->count_top + 1), Coef{});
    m_->cell_lookup.assign(Model::CellSlot(kSegmentCount, Sex::kMale, 0, false, false), -1);
    std::array<bool, kSegmentCount> segment_seen{};
    for (size_t r = 0; r < t.rows(); ++r) {
      if (t.cell(r, 3) != coef_version_) continue;
      if (t.cell(r, 2) != "CMS-HCC") {
        return t.Error(r, StrCat("model_domain '", t.cell(r, 2), "' for version ", coef_version_,
                                 " (expected CMS-HCC)"));
      }
      const std::string_view variable = t.cell(r, 0);
      Coef coef{0, variable};
      if (!internal::ParseDouble(t.cell(r, 1), &coef.value) || !std::isfinite(coef.value)) {
        return t.Error(r, StrCat("value '", t.cell(r, 1), "' of ", variable, " is not a number"));
      }
      std::optional<internal::CoefficientName> name = internal::SplitCoefficientName(variable);
      if (!name) {
        return t.Error(r,
                       StrCat("'", variable, "' does not start with a segment (CNA_ ... SNPNE_)"));
      }
      const int seg = static_cast<int>(name->segment);
      segment_seen[seg] = true;
      CC_RETURN_IF_ERROR(Place(t, r, name->segment, name->term, coef));
    }
    for (int s = 0; s < kSegmentCount; ++s) {
      if (!segment_seen[s]) {
        return absl::DataLossError(StrCat("table hcc/ra_coefficients has no ", coef_version_,
                                          " coefficients for segment ", kSegmentCodes[s]));
      }
      for (size_t v = 0; v < m_->variables.size(); ++v) {
        if (m_->variables[v].coef[s].present()) {
          m_->scored_variables[s].push_back(static_cast<int>(v));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status Place(const Table& t, size_t r, Segment segment, std::string_view term,
                     const Coef& coef) {
    const int seg = static_cast<int>(segment);
    auto set = [&](Coef* slot) -> absl::Status {
      if (slot->present()) return t.Error(r, StrCat(coef.variable, " is listed twice"));
      *slot = coef;
      return absl::OkStatus();
    };
    if (std::optional<int> hcc = internal::ParseHccTerm(term)) {
      CC_ASSIGN_OR_RETURN(int i, Index(*hcc, t, r));
      return set(&m_->hcc_coef[seg * m_->hcc_numbers.size() + i]);
    }
    if (auto it = variable_index_.find(std::string(term)); it != variable_index_.end()) {
      Variable& v = m_->variables[it->second];
      if (v.institutional_only && segment != Segment::kInstitutional) {
        return t.Error(r, StrCat(coef.variable, ": ", v.name,
                                 " is defined for the institutional segment only"));
      }
      return set(&v.coef[seg]);
    }
    if (term == "OriginallyDisabled_Female") return set(&m_->orig_disabled_female[seg]);
    if (term == "OriginallyDisabled_Male") return set(&m_->orig_disabled_male[seg]);
    if (term == "ORIGDS") return set(&m_->origds[seg]);
    if (term == "LTIMCAID") return set(&m_->ltimcaid[seg]);
    if (m_->count_top > 0 && term.starts_with(count_prefix_)) {
      std::string_view rest = term.substr(count_prefix_.size());
      const bool top = rest.ends_with("P");
      if (top) rest.remove_suffix(1);
      int n = 0;
      if (internal::ParseInt(rest, &n) &&
          (top ? n == m_->count_top : (n >= 1 && n < m_->count_top))) {
        return set(&m_->count_coef[seg * (m_->count_top + 1) + n]);
      }
    }
    if (IsNewEnrolleeSegment(segment)) {
      if (std::optional<internal::NewEnrolleeCell> ne = internal::ParseNewEnrolleeCell(term)) {
        return AddCell(t, r, seg, ne->cell, ne->medicaid, ne->originally_disabled, coef);
      }
    } else if (std::optional<internal::AgeSexCell> cell = internal::ParseAgeSexCell(term)) {
      // Community and institutional cells do not depend on Medicaid or
      // originally-disabled status.
      for (int mcaid = 0; mcaid < 2; ++mcaid) {
        for (int orig = 0; orig < 2; ++orig) {
          CC_RETURN_IF_ERROR(AddCell(t, r, seg, *cell, mcaid, orig, coef, mcaid + orig > 0));
        }
      }
      return absl::OkStatus();
    }
    return t.Error(r, StrCat("chartcoder cannot compute variable '", term, "' of ", coef.variable,
                             " (not an HCC, cell, count or defined variable)"));
  }

  absl::Status AddCell(const Table& t, size_t r, int seg, const internal::AgeSexCell& cell,
                       bool medicaid, bool origdis, const Coef& coef, bool same_cell = false) {
    if (!same_cell) {
      if (m_->cells.size() == static_cast<size_t>(std::numeric_limits<int16_t>::max())) {
        return t.Error(r, "too many age/sex cells");
      }
      m_->cells.push_back(coef);
    }
    const int16_t index = static_cast<int16_t>(m_->cells.size() - 1);
    const int hi = std::min(cell.max_age, kMaxAge);
    for (int age = cell.min_age; age <= hi; ++age) {
      int16_t& slot = m_->cell_lookup[Model::CellSlot(seg, cell.sex, age, medicaid, origdis)];
      if (slot >= 0) {
        return t.Error(r, StrCat(coef.variable, " overlaps ", m_->cells[slot].variable));
      }
      slot = index;
    }
    return absl::OkStatus();
  }

  Model* m_;
  const CodeSet& codes_;
  std::string_view version_, full_name_, coef_version_;
  std::vector<std::pair<uint64_t, Edit>> edits_by_key_;
  absl::flat_hash_map<std::string, int> variable_index_;
  std::string count_prefix_;
};

// The dotted code of `key` into `out`, replacing its contents. Local to this
// file so the hot loop calls it directly (or inlines it).
void SetDottedCode(uint64_t key, std::string* out) {
  char buf[internal::kMaxCodeLength + 1];
  size_t n = 0;
  for (size_t i = 0; i < internal::kMaxCodeLength; ++i) {
    const char c = static_cast<char>((key >> (8 * i)) & 0xff);
    if (c == 0) break;
    if (i == 3) buf[n++] = '.';
    buf[n++] = c;
  }
  out->assign(buf, n);
}

absl::Status ValidateDemographics(const Demographics& d) {
  if (d.age < 0 || d.age > kMaxAge) {
    return absl::InvalidArgumentError(
        StrCat("age must be a whole number from 0 to ", kMaxAge, ", got ", d.age));
  }
  if (d.sex != Sex::kFemale && d.sex != Sex::kMale) {
    return absl::InvalidArgumentError("sex is required (F or M)");
  }
  if (d.orec < 0 || d.orec > 3) {
    return absl::InvalidArgumentError(
        StrCat("OREC must be 0 (old age), 1 (disability), 2 (ESRD) or 3 (disability and "
               "ESRD), got ",
               d.orec));
  }
  if (static_cast<int>(d.dual) > 2) return absl::InvalidArgumentError("unknown dual status");
  if (d.segment && static_cast<int>(*d.segment) >= kSegmentCount) {
    return absl::InvalidArgumentError("unknown segment");
  }
  return absl::OkStatus();
}

// The segment CMS scores a member in: new enrollees (SNP or not) first, then
// long-term institutional, else community by dual status and age (aged is 65
// and over).
Segment ChooseSegment(const Demographics& d) {
  if (d.new_enrollee) return d.chronic_snp ? Segment::kSnpNewEnrollee : Segment::kNewEnrollee;
  if (d.institutional) return Segment::kInstitutional;
  const bool aged = d.age >= 65;
  switch (d.dual) {
    case DualStatus::kFull:
      return aged ? Segment::kCommunityFullDualAged : Segment::kCommunityFullDualDisabled;
    case DualStatus::kPartial:
      return aged ? Segment::kCommunityPartialDualAged : Segment::kCommunityPartialDualDisabled;
    case DualStatus::kNone:
      break;
  }
  return aged ? Segment::kCommunityNonDualAged : Segment::kCommunityNonDualDisabled;
}

}  // namespace

// ---------------------------------------------------------------------------
// RiskModel
// ---------------------------------------------------------------------------

// Codes -> HCCs (with the member's age/sex edits when `d` is given), then the
// rules that keep an HCC only with others, then hierarchies. Fills
// out->codes, out->edits and out->removed_hccs; returns the HCCs kept.
Bits MapCodesToHccs(const Model& m, absl::Span<const std::string_view> input,
                    const Demographics* d, RiskScore* out) {
  // Codes -> HCCs, with age/sex edits. First every code's key, prefetching
  // its slot of the code table so the look-ups' cache misses overlap.
  auto trim = [](std::string_view t) {
    return !t.empty() && (t.front() <= ' ' || t.back() <= ' ') ? internal::Trim(t) : t;
  };
  absl::InlinedVector<uint64_t, 32> keys(input.size());  // 0: not shaped like a code
  for (size_t i = 0; i < input.size(); ++i) {
    keys[i] = internal::PackTrimmedCodeKey(trim(input[i])).value_or(0);
    if (keys[i] != 0) m.codes.prefetch(keys[i]);
  }
  Bits present;
  // Duplicates: a scan of the earlier keys for the first 64 codes, a hash set
  // of keys after that.
  constexpr size_t kScanned = 64;
  absl::flat_hash_set<uint64_t> seen_many;
  if (input.size() > kScanned) seen_many.insert(keys.begin(), keys.begin() + kScanned);
  absl::flat_hash_set<std::string_view> seen_invalid;  // texts of invalid codes, past 64
  bool seen_invalid_filled = false;
  for (size_t i = 0; i < input.size(); ++i) {
    const uint64_t key = keys[i];
    if (key == 0) {
      const std::string_view trimmed = trim(input[i]);
      bool repeat = false;
      if (i < kScanned) {
        for (size_t j = 0; j < i && !repeat; ++j) {
          repeat = keys[j] == 0 && trim(input[j]) == trimmed;
        }
      } else {
        if (!seen_invalid_filled) {
          for (size_t j = 0; j < kScanned; ++j) {
            if (keys[j] == 0) seen_invalid.insert(trim(input[j]));
          }
          seen_invalid_filled = true;
        }
        repeat = !seen_invalid.insert(trimmed).second;
      }
      if (repeat) continue;
      CodeResult& r = out->codes.emplace_back();
      r.code.assign(trimmed);
      r.status = CodeStatus::kInvalid;
      r.input_index = static_cast<uint32_t>(i);
      continue;
    }
    if (i < kScanned) {
      if (std::find(keys.begin(), keys.begin() + i, key) != keys.begin() + i) continue;
    } else if (!seen_many.insert(key).second) {
      continue;
    }
    CodeResult& r = out->codes.emplace_back();
    r.input_index = static_cast<uint32_t>(i);
    auto it = m.codes.find(key);
    const CodeEntry* e = it == m.codes.end() ? nullptr : &it->second;
    if (e == nullptr || !(e->flags & (kInMapping | kBillable))) {
      if (e != nullptr && (e->flags & kInPack)) {
        r.status = CodeStatus::kNotBillable;
        SetDottedCode(key, &r.code);
      } else {
        r.status = CodeStatus::kInvalid;
        r.code.assign(trim(input[i]));
      }
      continue;
    }
    SetDottedCode(key, &r.code);
    const Edit* edit = nullptr;
    for (int k = 0; d != nullptr && k < e->edit_count(); ++k) {
      const Edit& candidate = m.edits[e->edit_first + k];
      if ((candidate.sex == Sex::kUnspecified || candidate.sex == d->sex) &&
          d->age >= candidate.min_age && d->age <= candidate.max_age) {
        edit = &candidate;
        break;
      }
    }
    if (edit != nullptr) {
      const uint32_t code_index = static_cast<uint32_t>(out->codes.size() - 1);
      if (edit->action == EditAction::kInvalid) {
        r.status = CodeStatus::kRemovedByEdit;
        out->edits.push_back({code_index, EditAction::kInvalid, 0, edit->description});
        continue;
      }
      out->edits.push_back(
          {code_index, EditAction::kOverride, m.hcc_numbers[edit->cc], edit->description});
      r.status = CodeStatus::kMapped;
      r.hcc_count = 1;
      r.hccs[0] = static_cast<int16_t>(m.hcc_numbers[edit->cc]);
      present.Set(edit->cc);
      continue;
    }
    r.status = e->cc_count > 0 ? CodeStatus::kMapped : CodeStatus::kNoHcc;
    r.hcc_count = e->cc_count;
    for (int k = 0; k < e->cc_count; ++k) {
      r.hccs[k] = static_cast<int16_t>(m.hcc_numbers[e->cc[k]]);
      present.Set(e->cc[k]);
    }
  }

  // Rules that keep an HCC only together with others (before hierarchies).
  for (const Requirement& req : m.requirements) {
    if (present.Test(req.cc) && !present.Intersects(req.any_of)) {
      present.Reset(req.cc);
      out->removed_hccs.push_back(
          {m.hcc_numbers[req.cc], m.hcc_labels[req.cc], HccRemoval::kRequirement, 0, req.rule});
    }
  }
  // Hierarchies, parent by parent in table order, on the HCCs still present.
  Bits kept = present;
  auto apply_parent = [&](const HierarchyParent& p) {
    const Bits drop = kept.And(p.children);
    if (!drop.Any()) return;
    drop.ForEach([&](int c) {
      out->removed_hccs.push_back(
          {m.hcc_numbers[c], m.hcc_labels[c], HccRemoval::kHierarchy, m.hcc_numbers[p.cc], {}});
    });
    kept.Remove(p.children);
  };
  if (m.parents_ascending) {
    // Only the parents present, ascending (= table order); one removed by an
    // earlier parent no longer acts.
    kept.And(m.parent_mask).ForEach([&](int c) {
      if (kept.Test(c)) apply_parent(m.parents[m.parent_slot[c]]);
    });
  } else if (kept.Intersects(m.parent_mask)) {
    for (const HierarchyParent& p : m.parents) {
      if (kept.Test(p.cc)) apply_parent(p);
    }
  }

  return kept;
}

struct RiskModel::Impl : Model {};

RiskModel::RiskModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RiskModel::~RiskModel() = default;

absl::StatusOr<std::unique_ptr<RiskModel>> RiskModel::Create(const RiskModelOptions& options) {
  if (options.code_set == nullptr) {
    return absl::InvalidArgumentError("RiskModelOptions.code_set is required");
  }
  if (options.model != HccModel::kV24 && options.model != HccModel::kV28) {
    return absl::InvalidArgumentError("RiskModelOptions.model must be V24 or V28");
  }
  const int pack_year = options.code_set->info().hcc_payment_year;
  if (options.payment_year != 0 && options.payment_year != pack_year) {
    return absl::FailedPreconditionError(
        StrCat("the data pack holds the CMS-HCC tables of payment year ", pack_year, ", not ",
               options.payment_year, "; build a pack from that year's tables"));
  }
  auto impl = std::make_unique<Impl>();
  impl->code_set = options.code_set;
  impl->model = options.model;
  impl->payment_year = pack_year;
  if (options.normalization_factor) {
    const double f = *options.normalization_factor;
    if (!std::isfinite(f) || f <= 0) {
      return absl::InvalidArgumentError(
          StrCat("normalization factor must be a positive number, got ", f));
    }
    impl->normalization = f;
    impl->normalization_source = "option";
  } else if (auto p = PublishedNormalizationFactor(options.model, pack_year)) {
    impl->normalization = p->value;
    impl->normalization_source = std::string(p->source);
  }
  if (options.coding_intensity_adjustment) {
    const double a = *options.coding_intensity_adjustment;
    if (!std::isfinite(a) || a < 0 || a >= 1) {
      return absl::InvalidArgumentError(StrCat(
          "coding-intensity adjustment must be a fraction in [0, 1) (0.059 for 5.9%), got ", a));
    }
    impl->adjustment = a;
    impl->adjustment_source = "option";
  } else if (auto p = PublishedCodingIntensityAdjustment(pack_year)) {
    impl->adjustment = p->value;
    impl->adjustment_source = std::string(p->source);
  }
  ModelBuilder builder(impl.get(), *options.code_set);
  CC_RETURN_IF_ERROR(builder.Build());
  return std::unique_ptr<RiskModel>(new RiskModel(std::move(impl)));
}

HccModel RiskModel::model() const { return impl_->model; }
int RiskModel::payment_year() const { return impl_->payment_year; }
std::optional<double> RiskModel::normalization_factor() const { return impl_->normalization; }
std::optional<double> RiskModel::coding_intensity_adjustment() const { return impl_->adjustment; }
std::string_view RiskModel::normalization_source() const { return impl_->normalization_source; }
std::string_view RiskModel::coding_adjustment_source() const { return impl_->adjustment_source; }
std::vector<int> RiskModel::Hccs() const { return impl_->hcc_numbers; }

std::string_view RiskModel::HccLabel(int hcc) const {
  auto it = impl_->hcc_index.find(hcc);
  return it == impl_->hcc_index.end() ? std::string_view() : impl_->hcc_labels[it->second];
}

absl::StatusOr<RiskScore> RiskModel::Score(absl::Span<const std::string_view> codes,
                                           const Demographics& demographics) const {
  RiskScore out;
  CC_RETURN_IF_ERROR(ScoreInto(codes, demographics, &out));
  return out;
}

absl::StatusOr<RiskScore> RiskModel::Score(const std::vector<std::string>& codes,
                                           const Demographics& demographics) const {
  std::vector<std::string_view> views(codes.begin(), codes.end());
  return Score(absl::MakeConstSpan(views), demographics);
}

absl::Status RiskModel::ScoreInto(absl::Span<const std::string_view> input, const Demographics& d,
                                  RiskScore* out) const {
  const Impl& m = *impl_;
  out->codes.clear();
  out->hccs.clear();
  out->removed_hccs.clear();
  out->edits.clear();
  out->terms.clear();
  out->model = m.model;
  out->payment_year = m.payment_year;
  out->demographics = d;
  out->payment_hcc_count = 0;
  out->raw_score = out->demographic_score = out->disease_score = 0;
  out->normalization_factor = m.normalization;
  out->coding_intensity_adjustment = m.adjustment;
  out->normalized_score.reset();
  out->payment_score.reset();
  out->segment = Segment::kCommunityNonDualAged;
  out->segment_forced = out->disabled = out->originally_disabled = out->medicaid = false;

  CC_RETURN_IF_ERROR(ValidateDemographics(d));
  if (input.size() > kMaxCodes) {
    return absl::ResourceExhaustedError(
        StrCat(input.size(), " codes for one member; at most ", kMaxCodes, " are scored"));
  }
  // CMS AGESEXV2: disabled = under 65 and entitled by other than age;
  // originally disabled = entitled by disability (OREC 1) and no longer disabled.
  const bool disabled = d.age < 65 && d.orec != 0;
  const bool origds = d.orec == 1 && !disabled;
  const bool medicaid = d.dual != DualStatus::kNone;
  const Segment segment = d.segment ? *d.segment : ChooseSegment(d);
  const int seg = static_cast<int>(segment);
  out->disabled = disabled;
  out->originally_disabled = origds;
  out->medicaid = medicaid;
  out->segment = segment;
  out->segment_forced = d.segment.has_value();

  // The demographic cell. New enrollees: CMS AGESEXV2 puts a 64-year-old
  // entitled by age (OREC 0) in the age-65 cell; their Medicaid and
  // originally-disabled (65+ and OREC 1) status select the cell group.
  int cell_age = d.age;
  bool cell_origdis = false;
  if (IsNewEnrolleeSegment(segment)) {
    if (d.age == 64 && d.orec == 0) cell_age = 65;
    cell_origdis = d.age >= 65 && d.orec == 1;
  }
  const int16_t cell = m.cell_lookup[Model::CellSlot(seg, d.sex, cell_age, medicaid, cell_origdis)];
  if (cell < 0) {
    const std::string what = StrCat("segment ", SegmentCode(segment), " of ", HccModelName(m.model),
                                    " has no age/sex cell for a ", d.age, "-year-old ",
                                    d.sex == Sex::kFemale ? "female" : "male");
    if (d.segment) return absl::InvalidArgumentError(what);
    return absl::DataLossError(StrCat(what, " (hcc/ra_coefficients is incomplete)"));
  }
  {
    const Coef& c = m.cells[cell];
    out->terms.push_back({TermKind::kDemographic,
                          c.variable.substr(SegmentCode(segment).size() + 1), c.variable, c.value,
                          0});
  }
  auto add_demographic = [&](const Coef& c, TermKind kind) {
    if (c.present()) {
      out->terms.push_back(
          {kind, c.variable.substr(SegmentCode(segment).size() + 1), c.variable, c.value, 0});
    }
  };
  if (origds) {
    add_demographic(d.sex == Sex::kFemale ? m.orig_disabled_female[seg] : m.orig_disabled_male[seg],
                    TermKind::kOriginallyDisabled);
    add_demographic(m.origds[seg], TermKind::kOriginallyDisabled);
  }
  if (medicaid) add_demographic(m.ltimcaid[seg], TermKind::kMedicaid);

  Bits kept = MapCodesToHccs(m, input, &d, out);

  // HCC terms.
  kept.ForEach([&](int c) {
    const Coef& coef = m.HccCoef(segment, c);
    out->hccs.push_back(
        {m.hcc_numbers[c], m.hcc_labels[c], coef.present(), coef.present() ? coef.value : 0});
    if (coef.present()) {
      out->terms.push_back({TermKind::kHcc, coef.variable.substr(SegmentCode(segment).size() + 1),
                            coef.variable, coef.value, m.hcc_numbers[c]});
    }
  });
  // Groups and interactions with a coefficient in the segment, on the HCCs
  // after hierarchies.
  for (int v : m.scored_variables[seg]) {
    const Variable& var = m.variables[v];
    if ((var.institutional_only && segment != Segment::kInstitutional) ||
        !m.VariableOn(v, kept, disabled)) {
      continue;
    }
    const Coef& coef = var.coef[seg];
    out->terms.push_back({TermKind::kInteraction,
                          coef.variable.substr(SegmentCode(segment).size() + 1), coef.variable,
                          coef.value, 0});
  }
  // The number of payment HCCs, capped at the top bucket.
  const int n = kept.Count();
  out->payment_hcc_count = n;
  if (m.count_top > 0 && n > 0) {
    const Coef& coef = m.count_coef[seg * (m.count_top + 1) + std::min(n, m.count_top)];
    if (coef.present()) {
      out->terms.push_back({TermKind::kHccCount,
                            coef.variable.substr(SegmentCode(segment).size() + 1), coef.variable,
                            coef.value, 0});
    }
  }

  for (const ScoreTerm& term : out->terms) {
    out->raw_score += term.coefficient;
    if (term.kind == TermKind::kDemographic || term.kind == TermKind::kOriginallyDisabled ||
        term.kind == TermKind::kMedicaid) {
      out->demographic_score += term.coefficient;
    }
  }
  out->disease_score = out->raw_score - out->demographic_score;
  if (m.normalization) {
    out->normalized_score = Round3(out->raw_score / *m.normalization);
    if (m.adjustment) out->payment_score = Round3(*out->normalized_score * (1 - *m.adjustment));
  }
  return absl::OkStatus();
}

absl::StatusOr<RiskScore> RiskModel::Categorize(absl::Span<const std::string_view> codes) const {
  const Impl& m = *impl_;
  if (codes.size() > kMaxCodes) {
    return absl::ResourceExhaustedError(
        StrCat(codes.size(), " codes for one member; at most ", kMaxCodes, " are mapped"));
  }
  RiskScore out;
  out.model = m.model;
  out.payment_year = m.payment_year;
  Bits kept = MapCodesToHccs(m, codes, nullptr, &out);
  kept.ForEach([&](int c) {
    out.hccs.push_back({m.hcc_numbers[c], m.hcc_labels[c], false, 0});
  });
  out.payment_hcc_count = kept.Count();
  return out;
}

// ---------------------------------------------------------------------------
// Blends
// ---------------------------------------------------------------------------

absl::StatusOr<BlendedRiskScore> BlendScores(absl::Span<const RiskScore* const> scores,
                                             absl::Span<const BlendWeight> weights) {
  if (weights.empty()) return absl::InvalidArgumentError("a blend needs at least one weight");
  BlendedRiskScore out;
  out.weights.assign(weights.begin(), weights.end());
  double total = 0;
  double normalized = 0;
  bool all_normalized = true;
  const RiskScore* first = nullptr;
  for (size_t i = 0; i < weights.size(); ++i) {
    const BlendWeight& w = weights[i];
    if (!std::isfinite(w.weight) || w.weight < 0 || w.weight > 1) {
      return absl::InvalidArgumentError(
          StrCat("blend weight of ", HccModelName(w.model), " must be in [0, 1], got ", w.weight));
    }
    for (size_t j = 0; j < i; ++j) {
      if (weights[j].model == w.model) {
        return absl::InvalidArgumentError(
            StrCat(HccModelName(w.model), " is weighted twice in the blend"));
      }
    }
    const RiskScore* score = nullptr;
    for (const RiskScore* s : scores) {
      if (s != nullptr && s->model == w.model) score = s;
    }
    if (score == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("the blend weighs ", HccModelName(w.model), " but no score of it is given"));
    }
    if (first == nullptr) {
      first = score;
    } else if (score->payment_year != first->payment_year ||
               score->coding_intensity_adjustment != first->coding_intensity_adjustment) {
      return absl::InvalidArgumentError(
          "blended scores must share the payment year and coding-intensity adjustment");
    }
    total += w.weight;
    out.raw_score += w.weight * score->raw_score;
    if (score->normalized_score) {
      normalized += w.weight * *score->normalized_score;
    } else {
      all_normalized = false;
    }
  }
  for (const RiskScore* s : scores) {
    bool weighted = false;
    for (const BlendWeight& w : weights)
      weighted = weighted || (s != nullptr && s->model == w.model);
    if (!weighted) {
      return absl::InvalidArgumentError("a score is given for a model the blend does not weigh");
    }
  }
  if (std::fabs(total - 1.0) > 1e-6) {
    return absl::InvalidArgumentError(StrCat("blend weights must sum to 1, got ", total));
  }
  out.coding_intensity_adjustment = first->coding_intensity_adjustment;
  if (all_normalized) {
    out.normalized_score = Round3(normalized);
    if (out.coding_intensity_adjustment) {
      out.payment_score = Round3(*out.normalized_score * (1 - *out.coding_intensity_adjustment));
    }
  }
  return out;
}

}  // namespace chartcoder
