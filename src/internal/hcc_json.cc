#include "src/internal/hcc_json.h"

#include <optional>

namespace chartcoder::internal {
namespace {

// Scores are sums of 3-decimal coefficients; 6 decimals drop binary noise
// (1.3880000000000001) without losing a digit CMS publishes.
constexpr int kScoreDecimals = 6;

void OptionalNumber(JsonWriter* w, std::string_view key, const std::optional<double>& v) {
  w->Key(key);
  if (v) {
    w->Fixed(*v, kScoreDecimals);
  } else {
    w->Null();
  }
}

void CodeList(JsonWriter* w, std::string_view key, const RiskScore& score, CodeStatus status) {
  w->Key(key);
  w->BeginArray();
  for (const CodeResult& c : score.codes) {
    if (c.status == status) w->String(c.code);
  }
  w->EndArray();
}

void CodesOf(JsonWriter* w, const RiskScore& score, int hcc) {
  w->Key("codes");
  w->BeginArray();
  for (std::string_view c : score.CodesOf(hcc)) w->String(c);
  w->EndArray();
}

}  // namespace

void WriteRiskScoreJson(const RiskScore& score, JsonWriter* w) {
  const Demographics& d = score.demographics;
  w->BeginObject();
  w->Field("model", HccModelName(score.model));
  w->Field("payment_year", score.payment_year);
  w->Field("segment", SegmentCode(score.segment));
  w->Field("segment_description", SegmentDescription(score.segment));
  w->Field("segment_forced", score.segment_forced);
  w->Key("demographics");
  w->BeginObject();
  w->Field("age", d.age);
  w->Field("sex", SexName(d.sex));
  w->Field("dual", DualStatusName(d.dual));
  w->Field("orec", d.orec);
  w->Field("institutional", d.institutional);
  w->Field("new_enrollee", d.new_enrollee);
  w->Field("chronic_snp", d.chronic_snp);
  w->Field("disabled", score.disabled);
  w->Field("originally_disabled", score.originally_disabled);
  w->Field("medicaid", score.medicaid);
  w->EndObject();

  w->Key("hccs");
  w->BeginArray();
  for (const HccResult& h : score.hccs) {
    w->BeginObject();
    w->Field("hcc", h.hcc);
    w->Field("label", h.label);
    CodesOf(w, score, h.hcc);
    w->Field("scored", h.scored);
    w->Key("coefficient");
    if (h.scored) {
      w->Fixed(h.coefficient, kScoreDecimals);
    } else {
      w->Null();
    }
    w->EndObject();
  }
  w->EndArray();

  w->Key("removed_hccs");
  w->BeginArray();
  for (const RemovedHcc& r : score.removed_hccs) {
    w->BeginObject();
    w->Field("hcc", r.hcc);
    w->Field("label", r.label);
    CodesOf(w, score, r.hcc);
    w->Field("reason", HccRemovalName(r.reason));
    if (r.reason == HccRemoval::kHierarchy) {
      w->Field("removed_by", r.removed_by);
    } else {
      w->Field("rule", r.rule);
    }
    w->EndObject();
  }
  w->EndArray();

  w->Key("edits");
  w->BeginArray();
  for (const EditResult& e : score.edits) {
    w->BeginObject();
    w->Field("code", score.codes[e.code_index].code);
    w->Field("action", e.action == EditAction::kInvalid ? "invalid" : "override");
    if (e.action == EditAction::kOverride) w->Field("hcc", e.hcc);
    w->Field("description", e.description);
    w->EndObject();
  }
  w->EndArray();

  w->Key("terms");
  w->BeginArray();
  for (const ScoreTerm& t : score.terms) {
    w->BeginObject();
    w->Field("kind", TermKindName(t.kind));
    w->Field("name", t.name);
    w->Field("variable", t.variable);
    w->Key("coefficient");
    w->Fixed(t.coefficient, kScoreDecimals);
    w->EndObject();
  }
  w->EndArray();

  w->Field("payment_hcc_count", score.payment_hcc_count);
  w->Key("raw_score");
  w->Fixed(score.raw_score, kScoreDecimals);
  w->Key("demographic_score");
  w->Fixed(score.demographic_score, kScoreDecimals);
  w->Key("disease_score");
  w->Fixed(score.disease_score, kScoreDecimals);
  OptionalNumber(w, "normalization_factor", score.normalization_factor);
  OptionalNumber(w, "normalized_score", score.normalized_score);
  OptionalNumber(w, "coding_intensity_adjustment", score.coding_intensity_adjustment);
  OptionalNumber(w, "payment_score", score.payment_score);

  w->Key("codes");
  w->BeginArray();
  for (const CodeResult& c : score.codes) {
    w->BeginObject();
    w->Field("code", c.code);
    w->Field("status", CodeStatusName(c.status));
    w->Key("hccs");
    w->BeginArray();
    for (int i = 0; i < c.hcc_count; ++i) w->Int(c.hccs[i]);
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  CodeList(w, "unmapped_codes", score, CodeStatus::kNoHcc);
  CodeList(w, "not_billable_codes", score, CodeStatus::kNotBillable);
  CodeList(w, "invalid_codes", score, CodeStatus::kInvalid);
  CodeList(w, "edited_out_codes", score, CodeStatus::kRemovedByEdit);
  w->EndObject();
}

void WriteBlendedRiskScoreJson(const BlendedRiskScore& blend, JsonWriter* w) {
  w->BeginObject();
  w->Key("weights");
  w->BeginObject();
  for (const BlendWeight& b : blend.weights) {
    w->Key(HccModelName(b.model));
    w->Fixed(b.weight, kScoreDecimals);
  }
  w->EndObject();
  w->Key("raw_score");
  w->Fixed(blend.raw_score, kScoreDecimals);
  OptionalNumber(w, "normalized_score", blend.normalized_score);
  OptionalNumber(w, "coding_intensity_adjustment", blend.coding_intensity_adjustment);
  OptionalNumber(w, "payment_score", blend.payment_score);
  w->EndObject();
}

void WriteRafResultJson(absl::Span<const RiskScore> scores, const BlendedRiskScore* blend,
                        JsonWriter* w) {
  if (blend == nullptr && scores.size() == 1) {
    WriteRiskScoreJson(scores[0], w);
    return;
  }
  w->BeginObject();
  w->Key("blend");
  if (blend != nullptr) {
    WriteBlendedRiskScoreJson(*blend, w);
  } else {
    w->Null();
  }
  w->Key("scores");
  w->BeginArray();
  for (const RiskScore& s : scores) WriteRiskScoreJson(s, w);
  w->EndArray();
  w->EndObject();
}

}  // namespace chartcoder::internal
