// chartcoder raf: CMS-HCC V24/V28 risk scores for one member (flags and
// codes) or a CSV file of members, streamed.
#include <sys/stat.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chartcoder/codeset.h"
#include "chartcoder/hcc.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "cli/member_flags.h"
#include "src/internal/csv.h"
#include "src/internal/hcc_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrAppend;
using internal::StrCat;

constexpr std::string_view kName = "raf";

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

// The models to score and, for a blend, their weights.
struct Plan {
  std::vector<HccModel> models;
  std::vector<BlendWeight> weights;  // empty: a single model, no blend
  std::string blend_source;          // the publication, for --blend published
};

// "V24=0.33,V28=0.67" -> per-model values.
absl::StatusOr<std::vector<std::pair<HccModel, double>>> ParseModelValues(std::string_view flag,
                                                                          std::string_view text) {
  std::vector<std::pair<HccModel, double>> out;
  for (std::string_view part : internal::Split(text, ',', true)) {
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("--", flag, " takes MODEL=VALUE pairs (V24=0.33,V28=0.67), got '", text, "'"));
    }
    absl::StatusOr<HccModel> model = ParseHccModel(part.substr(0, eq));
    if (!model.ok()) return model.status();
    double v = 0;
    if (!internal::ParseDouble(part.substr(eq + 1), &v)) {
      return absl::InvalidArgumentError(
          StrCat("--", flag, ": '", part.substr(eq + 1), "' is not a number"));
    }
    for (const auto& [m, unused] : out) {
      if (m == *model) {
        return absl::InvalidArgumentError(StrCat("--", flag, " names ", HccModelName(m), " twice"));
      }
    }
    out.emplace_back(*model, v);
  }
  if (out.empty()) return absl::InvalidArgumentError(StrCat("--", flag, " is empty"));
  return out;
}

absl::StatusOr<Plan> ParsePlan(const CommandLine& args, int payment_year) {
  Plan plan;
  if (args.Has("model") && args.Has("blend")) {
    return absl::InvalidArgumentError("give --model or --blend, not both");
  }
  if (args.Has("model")) {
    absl::StatusOr<HccModel> m = ParseHccModel(args.Get("model"));
    if (!m.ok()) return m.status();
    plan.models.push_back(*m);
    return plan;
  }
  const std::string blend = args.Get("blend", "published");
  if (blend == "published") {
    std::optional<PublishedBlend> p = PublishedBlendFor(payment_year);
    if (!p) {
      return absl::InvalidArgumentError(
          StrCat("no published model blend for payment year ", payment_year,
                 " is known to chartcoder; give --model V24|V28 or --blend V24=W,V28=W"));
    }
    // Without --blend, a year CMS pays with one model is scored as that model.
    if (!args.Has("blend") && p->weights.size() == 1) {
      plan.models.push_back(p->weights[0].model);
      return plan;
    }
    plan.weights = p->weights;
    plan.blend_source = std::string(p->source);
  } else {
    absl::StatusOr<std::vector<std::pair<HccModel, double>>> w = ParseModelValues("blend", blend);
    if (!w.ok()) return w.status();
    for (const auto& [m, v] : *w) plan.weights.push_back({m, v});
  }
  for (const BlendWeight& w : plan.weights) plan.models.push_back(w.model);
  return plan;
}

// "0.059" or "5.9%".
absl::StatusOr<double> ParseFraction(std::string_view flag, std::string_view text) {
  std::string_view t = internal::Trim(text);
  const bool percent = t.ends_with("%");
  if (percent) t.remove_suffix(1);
  double v = 0;
  if (!internal::ParseDouble(t, &v)) {
    return absl::InvalidArgumentError(
        StrCat("--", flag, " must be a fraction (0.059) or a percentage (5.9%), got '", text, "'"));
  }
  return percent ? v / 100 : v;
}

// --normalization F (one model) or V24=F,V28=F (any number of models).
absl::StatusOr<std::optional<double>> NormalizationFor(const CommandLine& args, HccModel model,
                                                       size_t model_count) {
  if (!args.Has("normalization")) return std::optional<double>();
  const std::string text = args.Get("normalization");
  if (text.find('=') == std::string::npos) {
    if (model_count != 1) {
      return absl::InvalidArgumentError(
          "a blend needs a normalization factor per model: --normalization V24=F,V28=F");
    }
    double v = 0;
    if (!internal::ParseDouble(text, &v)) {
      return absl::InvalidArgumentError(
          StrCat("--normalization must be a number, got '", text, "'"));
    }
    return std::optional<double>(v);
  }
  absl::StatusOr<std::vector<std::pair<HccModel, double>>> values =
      ParseModelValues("normalization", text);
  if (!values.ok()) return values.status();
  for (const auto& [m, v] : *values) {
    if (m == model) return std::optional<double>(v);
  }
  return absl::InvalidArgumentError(
      StrCat("--normalization gives no factor for ", HccModelName(model)));
}

absl::StatusOr<std::vector<std::unique_ptr<RiskModel>>> CreateModels(
    const CommandLine& args, const std::shared_ptr<const CodeSet>& codes, const Plan& plan) {
  std::optional<double> adjustment;
  if (args.Has("coding-adjustment")) {
    absl::StatusOr<double> a = ParseFraction("coding-adjustment", args.Get("coding-adjustment"));
    if (!a.ok()) return a.status();
    adjustment = *a;
  }
  std::vector<std::unique_ptr<RiskModel>> models;
  for (HccModel m : plan.models) {
    RiskModelOptions options;
    options.code_set = codes;
    options.model = m;
    absl::StatusOr<std::optional<double>> norm = NormalizationFor(args, m, plan.models.size());
    if (!norm.ok()) return norm.status();
    options.normalization_factor = *norm;
    options.coding_intensity_adjustment = adjustment;
    absl::StatusOr<std::unique_ptr<RiskModel>> model = RiskModel::Create(options);
    if (!model.ok()) return model.status();
    models.push_back(*std::move(model));
  }
  return models;
}

// "1", "true", "yes", "y" / "0", "false", "no", "n".
std::optional<bool> ParseBool(std::string_view text) {
  std::string t = internal::AsciiLower(internal::Trim(text));
  if (t == "1" || t == "true" || t == "yes" || t == "y") return true;
  if (t == "0" || t == "false" || t == "no" || t == "n") return false;
  return std::nullopt;
}

// Codes separated by spaces, tabs, commas or semicolons.
void SplitCodes(std::string_view text, std::vector<std::string_view>* out) {
  static constexpr auto kSeparator = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {' ', '\t', ',', ';'}) t[c] = true;
    return t;
  }();
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    while (p < end && kSeparator[static_cast<unsigned char>(*p)]) ++p;
    const char* start = p;
    while (p < end && !kSeparator[static_cast<unsigned char>(*p)]) ++p;
    if (p > start) out->emplace_back(start, static_cast<size_t>(p - start));
  }
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// ---------------------------------------------------------------------------
// One member
// ---------------------------------------------------------------------------

std::string CodeListOf(const RiskScore& s, CodeStatus status) {
  std::string out;
  for (const CodeResult& c : s.codes) {
    if (c.status != status) continue;
    if (!out.empty()) out += ' ';
    out += c.code;
  }
  return out;
}

void PrintScore(const RiskScore& s, const RiskModel& model) {
  const Demographics& d = s.demographics;
  std::printf("CMS-HCC %s, payment year %d, segment %s (%s%s)\n",
              std::string(HccModelName(s.model)).c_str(), s.payment_year,
              std::string(SegmentCode(s.segment)).c_str(),
              std::string(SegmentDescription(s.segment)).c_str(),
              s.segment_forced ? ", forced" : "");
  std::printf("member: age %d, sex %s, dual %s, OREC %d%s%s%s%s%s\n", d.age,
              std::string(SexName(d.sex)).c_str(), std::string(DualStatusName(d.dual)).c_str(),
              d.orec, d.institutional ? ", institutional" : "",
              d.new_enrollee ? ", new enrollee" : "", d.chronic_snp ? ", C-SNP" : "",
              s.disabled ? ", disabled" : "", s.originally_disabled ? ", originally disabled" : "");
  std::printf("\nHCCs\n");
  if (s.hccs.empty()) std::printf("  none\n");
  for (const HccResult& h : s.hccs) {
    std::printf("  %-7s %8s  %s  [%s]\n", StrCat("HCC", h.hcc).c_str(),
                h.scored ? Number(h.coefficient).c_str() : "unscored", std::string(h.label).c_str(),
                internal::Join(s.CodesOf(h.hcc), " ").c_str());
  }
  if (!s.removed_hccs.empty()) {
    std::printf("\nRemoved HCCs\n");
    for (const RemovedHcc& r : s.removed_hccs) {
      std::string why = r.reason == HccRemoval::kHierarchy
                            ? StrCat("hierarchy: HCC", r.removed_by, " outranks it")
                            : std::string(r.rule);
      std::printf("  %-7s %s  [%s]\n          %s\n", StrCat("HCC", r.hcc).c_str(),
                  std::string(r.label).c_str(), internal::Join(s.CodesOf(r.hcc), " ").c_str(),
                  why.c_str());
    }
  }
  if (!s.edits.empty()) {
    std::printf("\nAge/sex edits\n");
    for (const EditResult& e : s.edits) {
      std::string what = e.action == EditAction::kInvalid ? std::string("invalid for this member")
                                                          : StrCat("assigned to HCC", e.hcc);
      std::printf("  %-8s %s (%s)\n", s.codes[e.code_index].code.c_str(), what.c_str(),
                  std::string(e.description).c_str());
    }
  }
  std::printf("\nScore terms\n");
  for (const ScoreTerm& t : s.terms) {
    std::string note(TermKindName(t.kind));
    if (t.kind == TermKind::kHccCount) StrAppend(&note, " (", s.payment_hcc_count, " HCCs)");
    std::printf("  %-32s %7s  %s\n", std::string(t.variable).c_str(), Number(t.coefficient).c_str(),
                note.c_str());
  }
  std::printf("  %-32s %7s  (demographic %s, disease %s)\n", "raw score",
              Number(s.raw_score).c_str(), Number(s.demographic_score).c_str(),
              Number(s.disease_score).c_str());
  if (s.normalized_score) {
    std::printf("  %-32s %7s  (raw / %s; %s)\n", "normalized score",
                Number(*s.normalized_score).c_str(),
                internal::StrCat(*s.normalization_factor).c_str(),
                std::string(model.normalization_source()).c_str());
  } else {
    std::printf(
        "  %-32s %7s  (no published normalization factor for %d is known to "
        "chartcoder: give --normalization)\n",
        "normalized score", "-", s.payment_year);
  }
  if (s.payment_score) {
    std::printf("  %-32s %7s  (x (1 - %s); %s)\n", "payment score",
                Number(*s.payment_score).c_str(),
                internal::StrCat(*s.coding_intensity_adjustment).c_str(),
                std::string(model.coding_adjustment_source()).c_str());
  } else {
    std::printf("  %-32s %7s  (%s)\n", "payment score", "-",
                s.normalized_score ? "no coding-intensity adjustment known: give "
                                     "--coding-adjustment"
                                   : "needs the normalized score");
  }
  struct {
    CodeStatus status;
    const char* title;
  } const lists[] = {{CodeStatus::kNoHcc, "no HCC in this model"},
                     {CodeStatus::kNotBillable, "not valid for payment (not billable)"},
                     {CodeStatus::kRemovedByEdit, "invalid for this member (edit)"},
                     {CodeStatus::kInvalid, "not ICD-10-CM codes"}};
  bool header = false;
  for (const auto& l : lists) {
    std::string codes = CodeListOf(s, l.status);
    if (codes.empty()) continue;
    if (!header) std::printf("\nCodes\n");
    header = true;
    std::printf("  %-38s %s\n", l.title, codes.c_str());
  }
}

int RunOne(const CommandLine& args, const Plan& plan,
           const std::vector<std::unique_ptr<RiskModel>>& models) {
  absl::StatusOr<Demographics> d = DemographicsFromFlags(args);
  if (!d.ok()) return UsageError(kName, d.status());
  std::vector<std::string_view> codes;
  for (const std::string& a : args.positional()) SplitCodes(a, &codes);
  std::vector<RiskScore> scores;
  for (const auto& model : models) {
    absl::StatusOr<RiskScore> s = model->Score(codes, *d);
    // InvalidArgument is about the member the flags describe.
    if (!s.ok() && s.status().code() == absl::StatusCode::kInvalidArgument) {
      return UsageError(kName, s.status());
    }
    if (!s.ok()) return Fail(s.status());
    scores.push_back(*std::move(s));
  }
  std::optional<BlendedRiskScore> blend;
  if (!plan.weights.empty()) {
    std::vector<const RiskScore*> ptrs;
    for (const RiskScore& s : scores) ptrs.push_back(&s);
    absl::StatusOr<BlendedRiskScore> b = BlendScores(ptrs, plan.weights);
    if (!b.ok()) return UsageError(kName, b.status());
    blend = *b;
  }
  if (args.Has("json")) {
    std::string out;
    internal::JsonWriter w(&out);
    internal::WriteRafResultJson(scores, blend ? &*blend : nullptr, &w);
    std::printf("%s\n", out.c_str());
    return kExitOk;
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (i > 0) std::printf("\n");
    PrintScore(scores[i], *models[i]);
  }
  if (blend) {
    std::printf("\nBlend");
    if (!plan.blend_source.empty()) std::printf(" (%s)", plan.blend_source.c_str());
    std::printf("\n");
    for (const BlendWeight& w : blend->weights) {
      std::printf("  %-32s %7s\n", StrCat("weight ", HccModelName(w.model)).c_str(),
                  Number(w.weight).c_str());
    }
    std::printf("  %-32s %7s\n", "blended raw score", Number(blend->raw_score).c_str());
    std::printf("  %-32s %7s\n", "blended normalized score",
                blend->normalized_score ? Number(*blend->normalized_score).c_str() : "-");
    std::printf("  %-32s %7s\n", "payment score",
                blend->payment_score ? Number(*blend->payment_score).c_str() : "-");
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// A CSV file of members
// ---------------------------------------------------------------------------

// Columns of the input, by name (any order). member_id, age, sex and codes are
// required; the others default as the flags do.
struct Columns {
  int member_id = -1, age = -1, sex = -1, codes = -1, dual = -1, orec = -1, institutional = -1,
      new_enrollee = -1, csnp = -1, segment = -1;
  size_t count = 0;
};

absl::StatusOr<Columns> ParseHeader(const std::vector<std::string_view>& fields) {
  Columns c;
  c.count = fields.size();
  struct {
    std::string_view name;
    int* slot;
  } const known[] = {{"member_id", &c.member_id},
                     {"age", &c.age},
                     {"sex", &c.sex},
                     {"codes", &c.codes},
                     {"dual", &c.dual},
                     {"orec", &c.orec},
                     {"institutional", &c.institutional},
                     {"new_enrollee", &c.new_enrollee},
                     {"csnp", &c.csnp},
                     {"segment", &c.segment}};
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string name = internal::AsciiLower(internal::Trim(fields[i]));
    bool found = false;
    for (const auto& k : known) {
      if (name != k.name) continue;
      if (*k.slot >= 0) return absl::InvalidArgumentError(StrCat("column ", name, " twice"));
      *k.slot = static_cast<int>(i);
      found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(StrCat("unknown column '", name,
                                               "' (known: member_id, age, sex, codes, dual, orec, "
                                               "institutional, new_enrollee, csnp, segment)"));
    }
  }
  for (const auto& k : known) {
    if (*k.slot < 0 &&
        (k.name == "member_id" || k.name == "age" || k.name == "sex" || k.name == "codes")) {
      return absl::InvalidArgumentError(StrCat("the header has no ", k.name, " column"));
    }
  }
  return c;
}

// Splits one CSV line into fields. Quoted fields (RFC 4180, doubled quotes)
// are unquoted into `storage`; a record may not span lines.
absl::Status SplitCsvLine(std::string_view line, std::vector<std::string_view>* fields,
                          std::vector<std::string>* storage) {
  fields->clear();
  if (line.find('"') == std::string_view::npos) {
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      fields->push_back(
          line.substr(start, comma == std::string_view::npos ? comma : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<internal::DelimitedTable> t = internal::ParseDelimited(line, ',', "line");
  if (!t.ok() || t->rows.size() != 1) {
    return absl::InvalidArgumentError("malformed quoting (a quoted field must close on its line)");
  }
  *storage = std::move(t->rows[0]);
  for (const std::string& f : *storage) fields->push_back(f);
  return absl::OkStatus();
}

absl::Status MemberFromRow(const Columns& c, const std::vector<std::string_view>& f,
                           Demographics* d, std::vector<std::string_view>* codes) {
  *d = Demographics();
  if (f.size() != c.count) {
    return absl::InvalidArgumentError(StrCat("expected ", c.count, " fields, got ", f.size()));
  }
  if (internal::Trim(f[c.member_id]).empty()) return absl::InvalidArgumentError("no member_id");
  if (!internal::ParseInt(f[c.age], &d->age)) {
    return absl::InvalidArgumentError("age is not a whole number");
  }
  absl::StatusOr<Sex> sex = ParseSex(f[c.sex]);
  if (!sex.ok()) return absl::InvalidArgumentError("sex is not F or M");
  d->sex = *sex;
  if (c.dual >= 0) {
    absl::StatusOr<DualStatus> dual = ParseDualStatus(f[c.dual]);
    if (!dual.ok())
      return absl::InvalidArgumentError("dual is not none, partial, full or a CMS code");
    d->dual = *dual;
  }
  if (c.orec >= 0 && !internal::ParseInt(f[c.orec], &d->orec)) {
    return absl::InvalidArgumentError("orec is not a whole number");
  }
  struct {
    int column;
    bool* value;
    std::string_view name;
  } const flags[] = {{c.institutional, &d->institutional, "institutional"},
                     {c.new_enrollee, &d->new_enrollee, "new_enrollee"},
                     {c.csnp, &d->chronic_snp, "csnp"}};
  for (const auto& flag : flags) {
    if (flag.column < 0) continue;
    std::optional<bool> b = ParseBool(f[flag.column]);
    if (!b)
      return absl::InvalidArgumentError(StrCat(flag.name, " is not 0/1, true/false or yes/no"));
    *flag.value = *b;
  }
  if (c.segment >= 0 && !internal::Trim(f[c.segment]).empty()) {
    absl::StatusOr<Segment> seg = ParseSegment(f[c.segment]);
    if (!seg.ok()) return absl::InvalidArgumentError("segment is not a CMS-HCC segment code");
    d->segment = *seg;
  }
  codes->clear();
  SplitCodes(f[c.codes], codes);
  return absl::OkStatus();
}

void AppendCsvField(std::string* out, std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char ch : v) {
    if (ch == '"') out->push_back('"');
    out->push_back(ch);
  }
  out->push_back('"');
}

// `v` with 3 decimals ("1.723"), without printf: this runs for every member.
void AppendScore(std::string* out, double v) {
  if (!std::isfinite(v) || std::fabs(v) >= 1e15) {
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%.3f", v);
    out->append(buf, static_cast<size_t>(n));
    return;
  }
  long long thousandths = std::llround(std::fabs(v) * 1000);
  if (v < 0 && thousandths != 0) out->push_back('-');
  StrAppend(out, thousandths / 1000);
  const int frac = static_cast<int>(thousandths % 1000);
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out->append(digits, 4);
}

void AppendOptionalScore(std::string* out, const std::optional<double>& v) {
  if (v) AppendScore(out, *v);
}

void AppendHccs(std::string* out, const RiskScore& s) {
  for (size_t i = 0; i < s.hccs.size(); ++i) {
    if (i > 0) out->push_back(' ');
    StrAppend(out, "HCC", s.hccs[i].hcc);
  }
}

// The codes of `status`, space-separated, as one CSV field.
void AppendCodes(std::string* out, const RiskScore& s, CodeStatus status) {
  const size_t start = out->size();
  bool needs_quotes = false;
  for (const CodeResult& c : s.codes) {
    if (c.status != status) continue;
    if (out->size() > start) out->push_back(' ');
    out->append(c.code);
    // Only a code that is not ICD-10-CM can hold these.
    needs_quotes = needs_quotes || (status == CodeStatus::kInvalid &&
                                    c.code.find_first_of(",\"\n\r") != std::string::npos);
  }
  if (needs_quotes) {
    std::string list = out->substr(start);
    out->resize(start);
    AppendCsvField(out, list);
  }
}

std::string OutputHeader(const Plan& plan) {
  if (plan.weights.empty()) {
    return "member_id,model,segment,raw_score,normalized_score,payment_score,hccs,"
           "unmapped_codes,not_billable_codes,invalid_codes\n";
  }
  std::string h = "member_id,segment";
  for (HccModel m : plan.models) {
    const std::string_view n = HccModelName(m);
    StrAppend(&h, ",raw_score_", n, ",normalized_score_", n, ",hccs_", n);
  }
  h += ",blended_raw_score,normalized_score,payment_score,not_billable_codes,invalid_codes\n";
  return h;
}

// One output row (OutputHeader's columns) for a scored member.
void AppendRow(std::string* out, std::string_view member_id, const std::vector<RiskScore>& scores,
               const std::optional<BlendedRiskScore>& blend) {
  AppendCsvField(out, member_id);
  const RiskScore& first = scores[0];
  if (!blend) {
    StrAppend(out, ",", HccModelName(first.model), ",", SegmentCode(first.segment), ",");
    AppendScore(out, first.raw_score);
    *out += ',';
    AppendOptionalScore(out, first.normalized_score);
    *out += ',';
    AppendOptionalScore(out, first.payment_score);
    *out += ',';
    AppendHccs(out, first);
    *out += ',';
    AppendCodes(out, first, CodeStatus::kNoHcc);
  } else {
    StrAppend(out, ",", SegmentCode(first.segment));
    for (const RiskScore& s : scores) {
      *out += ',';
      AppendScore(out, s.raw_score);
      *out += ',';
      AppendOptionalScore(out, s.normalized_score);
      *out += ',';
      AppendHccs(out, s);
    }
    *out += ',';
    AppendScore(out, blend->raw_score);
    *out += ',';
    AppendOptionalScore(out, blend->normalized_score);
    *out += ',';
    AppendOptionalScore(out, blend->payment_score);
  }
  *out += ',';
  AppendCodes(out, first, CodeStatus::kNotBillable);
  *out += ',';
  AppendCodes(out, first, CodeStatus::kInvalid);
  *out += '\n';
}

// A progress line on stderr, redrawn at most 4 times a second.
class Progress {
 public:
  Progress(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
  void Update(uint64_t bytes, uint64_t rows, bool force = false) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    if (total_ > 0) {
      const int pct =
          static_cast<int>(100.0 * static_cast<double>(bytes) / static_cast<double>(total_));
      const int filled = pct / 4;
      std::fprintf(stderr, "\r[%.*s%.*s] %3d%%  %llu scored", filled, "#########################",
                   25 - filled, "                         ", pct,
                   static_cast<unsigned long long>(rows));
    } else {
      std::fprintf(stderr, "\r%llu scored", static_cast<unsigned long long>(rows));
    }
    drawn_ = true;
  }
  // Clears the progress line so a message can be printed in its place.
  void Break() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\x1b[K");
  }
  void Finish(uint64_t bytes, uint64_t rows) {
    if (!enabled_) return;
    Update(bytes, rows, true);
    if (drawn_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  uint64_t total_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

int RunBatch(const CommandLine& args, const Plan& plan,
             const std::vector<std::unique_ptr<RiskModel>>& models) {
  if (!args.positional().empty()) {
    return UsageError(kName, "give codes on the command line or --input, not both");
  }
  if (args.Has("json")) return UsageError(kName, "--json is for one member; --input writes CSV");
  const std::string input_name = args.Get("input");
  const std::string output_name = args.Get("output", "-");
  FILE* in = input_name == "-" ? stdin : std::fopen(input_name.c_str(), "rb");
  if (in == nullptr) return Fail(absl::NotFoundError(StrCat("cannot open ", input_name)));
  uint64_t total_bytes = 0;
  struct stat st;
  if (in != stdin && ::fstat(::fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
    total_bytes = static_cast<uint64_t>(st.st_size);
  }
  FILE* out = output_name == "-" ? stdout : std::fopen(output_name.c_str(), "wb");
  if (out == nullptr) {
    if (in != stdin) std::fclose(in);
    return Fail(absl::InvalidArgumentError(StrCat("cannot write ", output_name)));
  }
  Progress progress(StderrIsTerminal(), total_bytes);

  char* line_buf = nullptr;
  size_t line_cap = 0;
  uint64_t line_no = 0, bytes = 0, scored = 0, bad = 0;
  std::optional<Columns> columns;
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  std::vector<std::string_view> codes;
  std::vector<RiskScore> scores(models.size());
  std::vector<const RiskScore*> score_ptrs;
  for (const RiskScore& s : scores) score_ptrs.push_back(&s);
  Demographics d;
  std::string buffer = OutputHeader(plan);
  int exit_code = kExitOk;
  ssize_t n;
  while ((n = ::getline(&line_buf, &line_cap, in)) > 0) {
    ++line_no;
    bytes += static_cast<uint64_t>(n);
    std::string_view line(line_buf, static_cast<size_t>(n));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    if (internal::Trim(line).empty()) continue;
    absl::Status split = SplitCsvLine(line, &fields, &storage);
    if (!columns) {
      absl::StatusOr<Columns> c = split.ok() ? ParseHeader(fields) : absl::StatusOr<Columns>(split);
      if (!c.ok()) {
        std::fprintf(stderr, "chartcoder: %s:%llu: header: %s\n", input_name.c_str(),
                     static_cast<unsigned long long>(line_no),
                     std::string(c.status().message()).c_str());
        exit_code = kExitData;
        break;
      }
      columns = *c;
      continue;
    }
    absl::Status st_row = split.ok() ? MemberFromRow(*columns, fields, &d, &codes) : split;
    for (size_t i = 0; st_row.ok() && i < models.size(); ++i) {
      st_row = models[i]->ScoreInto(codes, d, &scores[i]);
    }
    std::optional<BlendedRiskScore> blend;
    if (st_row.ok() && !plan.weights.empty()) {
      absl::StatusOr<BlendedRiskScore> b = BlendScores(score_ptrs, plan.weights);
      if (b.ok()) {
        blend = *b;
      } else {
        st_row = b.status();
      }
    }
    if (!st_row.ok()) {
      ++bad;
      progress.Break();
      std::fprintf(stderr, "chartcoder: %s:%llu: %s\n", input_name.c_str(),
                   static_cast<unsigned long long>(line_no), std::string(st_row.message()).c_str());
      continue;
    }
    ++scored;
    AppendRow(&buffer, internal::Trim(fields[columns->member_id]), scores, blend);
    if (buffer.size() > (1 << 16)) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
    if ((scored & 0xfff) == 0) progress.Update(bytes, scored);
  }
  std::free(line_buf);
  const bool read_error = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  if (exit_code == kExitOk && !columns && !read_error) {
    std::fprintf(stderr, "chartcoder: %s: no header row (member_id,age,sex,codes,...)\n",
                 input_name.c_str());
    exit_code = kExitData;
  }
  if (exit_code == kExitOk) std::fwrite(buffer.data(), 1, buffer.size(), out);
  progress.Finish(bytes, scored);
  bool write_error = std::fflush(out) != 0 || std::ferror(out) != 0;
  if (out != stdout) {
    write_error = std::fclose(out) != 0 || write_error;
    // A file without its rows must not look like a result.
    if (exit_code != kExitOk || read_error) std::remove(output_name.c_str());
  }
  if (read_error) {
    std::fprintf(stderr, "chartcoder: %s: read error\n", input_name.c_str());
    return kExitData;
  }
  if (write_error) {
    std::fprintf(stderr, "chartcoder: %s: write error\n", output_name.c_str());
    return kExitData;
  }
  if (bad > 0) {
    std::fprintf(stderr, "chartcoder: %llu of %llu members not scored (lines above)\n",
                 static_cast<unsigned long long>(bad),
                 static_cast<unsigned long long>(bad + scored));
    return kExitData;
  }
  return exit_code;
}

int Run(const CommandLine& args) {
  absl::StatusOr<std::unique_ptr<CodeSet>> loaded = LoadCodeSet(args);
  if (!loaded.ok()) return Fail(loaded.status());
  std::shared_ptr<const CodeSet> codes(std::move(*loaded));
  absl::StatusOr<Plan> plan = ParsePlan(args, codes->info().hcc_payment_year);
  if (!plan.ok()) return UsageError(kName, plan.status());
  absl::StatusOr<std::vector<std::unique_ptr<RiskModel>>> models = CreateModels(args, codes, *plan);
  if (!models.ok()) {
    return models.status().code() == absl::StatusCode::kInvalidArgument
               ? UsageError(kName, models.status())
               : Fail(models.status());
  }
  if (args.Has("input")) return RunBatch(args, *plan, *models);
  if (args.Has("output")) return UsageError(kName, "--output needs --input");
  return RunOne(args, *plan, *models);
}

}  // namespace

const Command& RafCommand() {
  static const Command* const kCommand = new Command{
      "raf",
      "CMS-HCC V24/V28 HCCs and risk scores for a member or a CSV of members",
      "Usage: chartcoder raf [--model V24|V28] --age N --sex F|M [--dual none|partial|full]\n"
      "                      [--orec 0|1|2|3] [--institutional] [--new-enrollee] [--csnp]\n"
      "                      [--segment SEG] [--json] CODE...\n"
      "       chartcoder raf [--model V24|V28] --input members.csv [--output scores.csv]\n"
      "       chartcoder raf --blend V24=0.33,V28=0.67|published ...\n\n"
      "Without --model or --blend the model is the one CMS's published blend for the\n"
      "pack's payment year uses (V28 alone for 2026; the blend for a blended year).\n\n"
      "Maps the ICD-10-CM codes (dotted or not, separated by spaces, commas or\n"
      "semicolons) to the model's HCCs, applies age/sex edits, hierarchies and\n"
      "interactions, and prints every score term, the raw score and, when the\n"
      "constants are known (given, or published for the pack's payment year), the\n"
      "normalized score round(raw / normalization, 3) and the payment score\n"
      "round(normalized * (1 - coding adjustment), 3). Codes that map to nothing, are\n"
      "not billable or are not ICD-10-CM are listed apart.\n\n"
      "--input reads a CSV with a header row: member_id, age, sex, codes (required)\n"
      "and dual, orec, institutional, new_enrollee, csnp, segment (optional; absent\n"
      "columns take the flag defaults). One row per member; codes separated by spaces\n"
      "or semicolons. Rows are scored as they stream; a bad row is reported on stderr\n"
      "with its line number, the others are still scored, and the exit code is 2.\n"
      "docs/raf.md describes the output columns and the model.",
      Concat({{DataFlag(),
       {"model", "MODEL",
        "the CMS-HCC model: V24 or V28 (default: what CMS pays with in the pack's payment "
        "year, if published: V28 for 2026)"},
       {"blend", "WEIGHTS",
        "score V24 and V28 and blend them: V24=0.33,V28=0.67, or "
        "'published' for the pack's payment year"},
       {"normalization", "F", "normalization factor (V24=F,V28=F for a blend)"},
       {"coding-adjustment", "A", "MA coding-intensity adjustment: 0.059 or 5.9%"},
       {"input", "FILE", "score the members of a CSV file ('-' for stdin)"},
       {"output", "FILE", "where --input's scores go (default stdout)"},
       {"json", "", "print JSON"}},
              MemberFlags()}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
