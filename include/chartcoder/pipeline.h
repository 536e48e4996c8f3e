// chartcoder/pipeline.h: one chart in, its codes, HCCs and RAF out.
//
//   auto pipeline = chartcoder::Pipeline::Create({});  // the default data pack
//   if (!pipeline.ok()) return pipeline.status();
//   chartcoder::Demographics member{.age = 72, .sex = chartcoder::Sex::kFemale};
//   absl::StatusOr<chartcoder::ChartResult> r =
//       (*pipeline)->Code("chart-1", chart_text, &member);
//   for (const chartcoder::AssignedCode& c : r->codes) { ... c.code, c.score, c.evidence ... }
//
// The pipeline composes the components: TextAnalyzer (tokens, sentences,
// sections), Extractor (lexicon mentions), ContextAnalyzer (assertions), Coder
// (codes), RiskModel (HCCs per model and, with demographics, RAF). It is
// immutable and safe to share across threads; each Code() call has its own
// working state.
#ifndef CHARTCODER_PIPELINE_H_
#define CHARTCODER_PIPELINE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/coder.h"
#include "chartcoder/context.h"
#include "chartcoder/extractor.h"
#include "chartcoder/hcc.h"
#include "chartcoder/tokenizer.h"

namespace chartcoder {

// A payment HCC of one model, after hierarchies, with the codes behind it.
struct ChartHcc {
  int hcc = 0;
  std::string label;
  std::vector<std::string> codes;  // assigned codes that produced it
  int removed_by = 0;              // in ModelHccs::removed: the HCC whose hierarchy removed it
};

// The HCCs of the chart's codes under one model. Without demographics no
// age/sex edits are applied (they need the member's age and sex).
struct ModelHccs {
  HccModel model = HccModel::kV28;
  std::vector<ChartHcc> hccs;
  std::vector<ChartHcc> removed;  // dropped by a hierarchy or a CMS rule
};

struct ChartResult {
  std::string id;
  // The analyzed chart; evidence and mention offsets are bytes of
  // document->text().
  std::shared_ptr<const Document> document;
  std::vector<AssignedCode> codes;  // ranked by score
  std::vector<Mention> mentions;    // every mention not inside a longer one, text order
  std::vector<ModelHccs> hccs;      // one per model of PipelineOptions::models
  // With demographics: the RAF score per model, and the blend when
  // PipelineOptions::blend has weights.
  std::vector<RiskScore> raf;
  std::optional<BlendedRiskScore> blended_raf;
};

struct PipelineOptions {
  // The data pack. Default empty: DefaultDataPackPath(). Ignored when
  // `code_set` is given.
  std::string data_pack;
  // An already loaded pack to share (several pipelines, or the caller's own
  // look-ups). Default none: the pipeline loads `data_pack`.
  std::shared_ptr<const CodeSet> code_set;
  // Tokenizer and sectionizer settings (code_set is filled in).
  TextAnalyzerOptions text;
  // Assertion settings (code_set is filled in).
  ContextOptions context;
  // Coder settings (code_set is filled in).
  CoderOptions coder;
  // Models for HCCs and RAF. Default V24 and V28.
  std::vector<HccModel> models = {HccModel::kV24, HccModel::kV28};
  // Normalization factor and coding-intensity adjustment per model (see
  // RiskModelOptions); unset means the published value for the pack's year,
  // if any.
  std::optional<double> normalization_v24;
  std::optional<double> normalization_v28;
  std::optional<double> coding_intensity_adjustment;
  // Blend weights for a blended RAF (e.g. {V24 0.33, V28 0.67}). Default none:
  // the published blend of the pack's payment year when there is one.
  std::vector<BlendWeight> blend;
  // Largest chart accepted, in bytes. Default 16 MiB (ResourceExhausted).
  size_t max_chart_bytes = 16u << 20;
  // The most evidence kept per assigned code, strongest first: a long chart
  // may say "diabetes" thousands of times. AssignedCode::evidence_count still
  // counts every span and Mention::coded marks every mention used. 0 keeps
  // all. Default 20.
  uint32_t max_evidence = 20;
};

class Pipeline {
 public:
  // The errors of CodeSet::Create, TextAnalyzer::Create, ContextAnalyzer::Create,
  // Extractor::Create, Coder::Create and RiskModel::Create.
  static absl::StatusOr<std::unique_ptr<Pipeline>> Create(const PipelineOptions& options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Codes one chart (UTF-8, or as PipelineOptions::text says). With
  // `demographics`, also scores RAF. InvalidArgument: invalid UTF-8 (byte
  // offset named) or bad demographics. ResourceExhausted: chart too large.
  absl::StatusOr<ChartResult> Code(std::string_view id, std::string_view chart,
                                   const Demographics* demographics = nullptr) const;
  absl::StatusOr<ChartResult> Code(std::string_view chart,
                                   const Demographics* demographics = nullptr) const {
    return Code("", chart, demographics);
  }

  const CodeSet& code_set() const;
  std::shared_ptr<const CodeSet> shared_code_set() const;
  const std::vector<HccModel>& models() const;

 private:
  struct Rep;
  explicit Pipeline(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_PIPELINE_H_
