#include "cli/pipeline_flags.h"

#include <thread>

#include "src/internal/strings.h"

namespace chartcoder::cli {

std::vector<FlagSpec> CodingFlags() {
  return {{"models", "LIST", "HCC models to report: V24,V28 (default both)"},
          {"min-score", "S", "assign codes scoring at least S in [0,1] (default 0.5)"},
          {"inpatient", "",
           "code uncertain diagnoses as established (inpatient rule, guideline II.H)"},
          {"keep-symptoms", "",
           "keep symptom codes a diagnosis of the same sentence explains, abnormal findings "
           "read only from imaging or lab results, and an unspecified infection beside a named "
           "one"},
          {"profile", "NAME",
           "apply the coding profile NAME learned from a coded corpus (see chartcoder pack "
           "--train; the build learns 'codiesp' when ../shared/data/codiesp is present)"},
          {"max-evidence", "N",
           "list at most N evidence mentions per code (default 20; 0 lists all; "
           "evidence_count always counts all)"}};
}

std::vector<FlagSpec> PipelineFlags() {
  std::vector<FlagSpec> flags = {DataFlag()};
  for (FlagSpec& f : CodingFlags()) flags.push_back(std::move(f));
  flags.push_back({"threads", "N", "charts coded at once (default: every core)"});
  return flags;
}

absl::StatusOr<int> ThreadsFromFlags(const CommandLine& args) {
  const long long cores = std::max(1u, std::thread::hardware_concurrency());
  absl::StatusOr<long long> n = args.GetInt("threads", cores, 1, 1024);
  if (!n.ok()) return n.status();
  return static_cast<int>(*n);
}

absl::StatusOr<PipelineOptions> PipelineOptionsFromFlags(const CommandLine& args) {
  PipelineOptions o;
  o.data_pack = args.Get("data");
  if (args.Has("models")) {
    o.models.clear();
    for (std::string_view m : internal::Split(args.Get("models"), ',', true)) {
      absl::StatusOr<HccModel> model = ParseHccModel(internal::Trim(m));
      if (!model.ok()) return model.status();
      o.models.push_back(*model);
    }
  }
  absl::StatusOr<double> min_score = args.GetDouble("min-score", 0.5);
  if (!min_score.ok()) return min_score.status();
  if (*min_score < 0 || *min_score > 1) {
    return absl::InvalidArgumentError("--min-score must be in [0, 1]");
  }
  o.coder.min_score = *min_score;
  o.coder.code_uncertain_diagnoses = args.Has("inpatient");
  o.coder.keep_integral_symptoms = args.Has("keep-symptoms");
  o.coder.profile = args.Get("profile");
  absl::StatusOr<long long> max_evidence =
      args.GetInt("max-evidence", static_cast<long long>(o.max_evidence), 0, 1 << 30);
  if (!max_evidence.ok()) return max_evidence.status();
  o.max_evidence = static_cast<uint32_t>(*max_evidence);
  return o;
}

}  // namespace chartcoder::cli
