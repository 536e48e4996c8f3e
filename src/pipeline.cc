#include "chartcoder/pipeline.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "src/internal/chart_words.h"
#include "src/internal/lexicon.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {

using internal::StrCat;

namespace {

std::string Undot(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != '.') out.push_back(c);
  }
  return out;
}

// For codes of the pack's tabular list that a later fiscal year split (G20 ->
// G20.A1 ... G20.C in FY2024), the payment model's mapping has only the new
// codes. When every successor in the mapping maps to the same HCCs of the
// model, the chart's code is scored as its first successor, and the
// derivation says so. Built once per model from the mapping table.
absl::flat_hash_map<std::string, std::string> SuccessorCodes(const CodeSet& codes,
                                                             HccModel model) {
  absl::flat_hash_map<std::string, std::string> out;
  absl::StatusOr<ReferenceTable> map = codes.Table("hcc/ra_dx_to_cc");
  if (!map.ok()) return out;
  const int dx = map->ColumnIndex("diagnosis_code");
  const int cc = map->ColumnIndex("cc");
  const int name = map->ColumnIndex("model_name");
  if (dx < 0 || cc < 0 || name < 0) return out;
  const std::string_view full = HccModelFullName(model);
  // successor key -> its HCCs; then grouped by the pack code it extends.
  std::map<std::string, std::set<std::string>> successors;
  for (size_t r = 0; r < map->row_count(); ++r) {
    if (map->cell(r, name) != full) continue;
    const std::string key(map->cell(r, dx));
    if (codes.Find(key)) continue;  // the pack knows it: no bridging needed
    successors[key].insert(std::string(map->cell(r, cc)));
  }
  std::map<std::string, std::pair<std::string, std::set<std::string>>> by_parent;
  std::set<std::string> conflicting;
  for (const auto& [key, hccs] : successors) {
    // The longest prefix that is a billable code of the pack, and itself
    // absent from the mapping.
    for (size_t len = key.size() - 1; len >= 3; --len) {
      std::optional<Code> c = codes.Find(key.substr(0, len));
      if (!c) continue;
      if (!c->billable()) break;
      const std::string parent(c->key());
      auto it = by_parent.find(parent);
      if (it == by_parent.end()) {
        by_parent.emplace(parent, std::make_pair(key, hccs));
      } else if (it->second.second != hccs) {
        conflicting.insert(parent);
      }
      break;
    }
  }
  for (const auto& [parent, first] : by_parent) {
    if (conflicting.contains(parent)) continue;
    // Only where the pack's code itself has no mapping row.
    bool mapped = false;
    for (const HccCategory& h : codes.HccCategories(parent)) mapped |= h.model == full;
    if (!mapped) out.emplace(parent, first.first);
  }
  return out;
}

// One thread's memory for coding charts over one lexicon: the words of the
// written forms it has met (kept from chart to chart, see ChartWords) and the
// extractor's and the coder's scratch. Owned by the thread that calls
// Pipeline::Code, never by the shared pipeline.
struct ChartWorkspace {
  explicit ChartWorkspace(const std::shared_ptr<const internal::Lexicon>& lex)
      : lexicon(lex), words(*lex) {}
  // Which lexicon (a weak reference: its control block outlives it, so a
  // later lexicon never compares equal to a destroyed one).
  std::weak_ptr<const internal::Lexicon> lexicon;
  internal::ChartWords words;
  internal::ExtractScratch extract;
  internal::CoderScratch code;
};

// The calling thread's workspace for `lexicon`. A thread keeps a few, for
// callers that alternate between pipelines; those of destroyed pipelines are
// dropped.
ChartWorkspace& ThreadWorkspace(const std::shared_ptr<const internal::Lexicon>& lexicon) {
  constexpr size_t kKept = 4;
  thread_local std::vector<std::unique_ptr<ChartWorkspace>> kept;
  for (const std::unique_ptr<ChartWorkspace>& w : kept) {
    if (!w->lexicon.owner_before(lexicon) && !lexicon.owner_before(w->lexicon)) return *w;
  }
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [](const std::unique_ptr<ChartWorkspace>& w) {
                              return w->lexicon.expired();
                            }),
             kept.end());
  if (kept.size() >= kKept) kept.erase(kept.begin());
  kept.push_back(std::make_unique<ChartWorkspace>(lexicon));
  return *kept.back();
}

}  // namespace

struct Pipeline::Rep {
  PipelineOptions options;
  std::shared_ptr<const CodeSet> codes;
  std::unique_ptr<TextAnalyzer> analyzer;
  std::unique_ptr<ContextAnalyzer> context;
  std::shared_ptr<const internal::Lexicon> lexicon;  // one, for the extractor and the coder
  std::unique_ptr<Extractor> extractor;
  std::unique_ptr<Coder> coder;
  std::vector<std::unique_ptr<RiskModel>> models;
  std::vector<absl::flat_hash_map<std::string, std::string>> successors;  // per model
  std::vector<BlendWeight> blend;
};

Pipeline::Pipeline(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Pipeline::~Pipeline() = default;

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(const PipelineOptions& options) {
  auto rep = std::make_unique<Rep>();
  rep->options = options;
  if (options.code_set != nullptr) {
    rep->codes = options.code_set;
  } else {
    CodeSetOptions co;
    co.data_pack = options.data_pack;
    CC_ASSIGN_OR_RETURN(std::unique_ptr<CodeSet> codes, CodeSet::Create(co));
    rep->codes = std::move(codes);
  }
  const CodeSet* codes = rep->codes.get();
  TextAnalyzerOptions to = options.text;
  to.code_set = codes;
  CC_ASSIGN_OR_RETURN(rep->analyzer, TextAnalyzer::Create(to));
  ContextOptions xo = options.context;
  xo.code_set = codes;
  xo.extra_abbreviations = to.extra_abbreviations;
  CC_ASSIGN_OR_RETURN(rep->context, ContextAnalyzer::Create(xo));
  ExtractorOptions eo;
  eo.code_set = codes;
  eo.context = rep->context.get();
  CC_ASSIGN_OR_RETURN(rep->lexicon, internal::Lexicon::Create(*codes));
  CC_ASSIGN_OR_RETURN(rep->extractor, internal::ExtractorAccess::Create(eo, rep->lexicon));
  CoderOptions co = options.coder;
  co.code_set = codes;
  CC_ASSIGN_OR_RETURN(rep->coder, internal::CoderAccess::Create(co, rep->lexicon));
  for (HccModel model : options.models) {
    RiskModelOptions ro;
    ro.code_set = rep->codes;
    ro.model = model;
    ro.normalization_factor =
        model == HccModel::kV24 ? options.normalization_v24 : options.normalization_v28;
    ro.coding_intensity_adjustment = options.coding_intensity_adjustment;
    CC_ASSIGN_OR_RETURN(std::unique_ptr<RiskModel> rm, RiskModel::Create(ro));
    rep->models.push_back(std::move(rm));
    rep->successors.push_back(SuccessorCodes(*codes, model));
  }
  rep->blend = options.blend;
  if (rep->blend.empty()) {
    if (std::optional<PublishedBlend> pb = PublishedBlendFor(codes->info().hcc_payment_year)) {
      // Only when every blended model is one the pipeline scores.
      bool all = true;
      for (const BlendWeight& w : pb->weights) {
        all &= std::find(options.models.begin(), options.models.end(), w.model) !=
               options.models.end();
      }
      if (all && pb->weights.size() > 1) rep->blend = pb->weights;
    }
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(rep)));
}

const CodeSet& Pipeline::code_set() const { return *rep_->codes; }
std::shared_ptr<const CodeSet> Pipeline::shared_code_set() const { return rep_->codes; }
const std::vector<HccModel>& Pipeline::models() const { return rep_->options.models; }

absl::StatusOr<ChartResult> Pipeline::Code(std::string_view id, std::string_view chart,
                                           const Demographics* demographics) const {
  const Rep& r = *rep_;
  if (chart.size() > r.options.max_chart_bytes) {
    return absl::ResourceExhaustedError(StrCat("chart of ", chart.size(), " bytes; the limit is ",
                                               r.options.max_chart_bytes));
  }
  ChartResult out;
  out.id = std::string(id);
  CC_ASSIGN_OR_RETURN(Document doc, r.analyzer->Analyze(chart));
  out.document = std::make_shared<const Document>(std::move(doc));
  // Each distinct written form is normalized once per thread, for both (the
  // thread's workspace keeps them from chart to chart).
  ChartWorkspace& ws = ThreadWorkspace(r.lexicon);
  ws.words.StartChart(out.document->tokens().size() / 2);
  std::vector<Mention> mentions =
      internal::ExtractorAccess::Extract(*r.extractor, *out.document, &ws.words, &ws.extract);
  out.codes =
      internal::CoderAccess::Assign(*r.coder, *out.document, mentions, &ws.words, &ws.code);
  absl::flat_hash_set<uint64_t> coded;  // begin << 32 | end of every piece of evidence
  for (AssignedCode& c : out.codes) {
    for (const CodeEvidence& ev : c.evidence) coded.insert(uint64_t{ev.begin} << 32 | ev.end);
    if (r.options.max_evidence != 0 && c.evidence.size() > r.options.max_evidence) {
      c.evidence.resize(r.options.max_evidence);
    }
  }
  // (Room made once: a Mention is large, and moving it as the vector grows
  // costs more than counting.)
  out.mentions.reserve(std::count_if(mentions.begin(), mentions.end(),
                                     [](const Mention& m) { return !m.subsumed; }));
  for (Mention& m : mentions) {
    if (m.subsumed) continue;
    m.coded = coded.contains(uint64_t{m.begin} << 32 | m.end);
    out.mentions.push_back(std::move(m));
  }
  // HCCs per model, with split codes bridged to their successors.
  std::vector<std::string> assigned;
  for (const AssignedCode& c : out.codes) assigned.push_back(c.code);
  for (size_t mi = 0; mi < r.models.size(); ++mi) {
    const RiskModel& model = *r.models[mi];
    std::vector<std::string> scored = assigned;
    std::map<std::string, std::string> bridged;  // successor -> chart code
    for (std::string& code : scored) {
      auto it = r.successors[mi].find(Undot(code));
      if (it != r.successors[mi].end()) {
        bridged[it->second] = code;
        code = it->second;
      }
    }
    std::vector<std::string_view> views(scored.begin(), scored.end());
    CC_ASSIGN_OR_RETURN(RiskScore cat, model.Categorize(views));
    ModelHccs mh;
    mh.model = model.model();
    auto chart_code = [&](std::string_view c) {
      auto it = bridged.find(Undot(c));
      return it == bridged.end() ? std::string(c) : it->second;
    };
    for (const HccResult& h : cat.hccs) {
      ChartHcc ch;
      ch.hcc = h.hcc;
      ch.label = std::string(h.label);
      for (std::string_view c : cat.CodesOf(h.hcc)) ch.codes.push_back(chart_code(c));
      mh.hccs.push_back(std::move(ch));
    }
    for (const RemovedHcc& h : cat.removed_hccs) {
      ChartHcc ch;
      ch.hcc = h.hcc;
      ch.label = std::string(h.label);
      ch.removed_by = h.removed_by;
      for (std::string_view c : cat.CodesOf(h.hcc)) ch.codes.push_back(chart_code(c));
      mh.removed.push_back(std::move(ch));
    }
    out.hccs.push_back(std::move(mh));
    if (demographics != nullptr) {
      CC_ASSIGN_OR_RETURN(RiskScore s, model.Score(views, *demographics));
      out.raf.push_back(std::move(s));
    }
  }
  if (demographics != nullptr && !r.blend.empty()) {
    std::vector<const RiskScore*> scores;
    for (const RiskScore& s : out.raf) scores.push_back(&s);
    CC_ASSIGN_OR_RETURN(BlendedRiskScore b, BlendScores(scores, r.blend));
    out.blended_raf = std::move(b);
  }
  return out;
}

}  // namespace chartcoder
