// chartcoder eval: accuracy of the coder against gold codes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "chartcoder/evaluation.h"
#include "chartcoder/pipeline.h"
#include "cli/chart_inputs.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "cli/ordered_runner.h"
#include "cli/pipeline_flags.h"
#include "cli/progress.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrCat;

void WriteMetrics(const char* name, const EvalMetrics& m, internal::JsonWriter* w) {
  w->Key(name);
  w->BeginObject();
  w->Key("precision");
  w->Fixed(m.precision, 4);
  w->Key("recall");
  w->Fixed(m.recall, 4);
  w->Key("f1");
  w->Fixed(m.f1, 4);
  w->Key("map");
  w->Fixed(m.map, 4);
  w->Key("documents");
  w->Uint(m.documents);
  w->Key("ranked_documents");
  w->Uint(m.ranked_documents);
  w->Key("gold");
  w->Uint(m.gold);
  w->Key("predicted");
  w->Uint(m.predicted);
  w->Key("correct");
  w->Uint(m.correct);
  w->EndObject();
}

void PrintMetrics(const char* name, const EvalMetrics& m) {
  std::printf("%-10s P %.4f  R %.4f  F1 %.4f  MAP %.4f   (%zu correct of %zu predicted, %zu gold)\n",
              name, m.precision, m.recall, m.f1, m.map, m.correct, m.predicted, m.gold);
}

struct Predicted {
  absl::Status status;
  std::vector<std::string> ranked;
};

int Run(const CommandLine& args) {
  if (!args.Has("input")) {
    return UsageError("eval", "give --input FILE.jsonl (lines with id, text, codes) or "
                              "--input FOLDER (charts with .codes side files)");
  }
  absl::StatusOr<int> threads = ThreadsFromFlags(args);
  if (!threads.ok()) return UsageError("eval", threads.status());
  const std::string input = args.Get("input");
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(input, ec);
  EvalOptions eo;
  std::string scope_path = args.Get("scope");
  if (scope_path.empty() && folder && std::filesystem::exists(input + "/scope.tsv")) {
    scope_path = input + "/scope.tsv";
  }
  if (!scope_path.empty()) {
    std::ifstream in(scope_path, std::ios::binary);
    if (!in) return Fail(absl::NotFoundError(StrCat(scope_path, ": cannot open scope file")));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::StatusOr<std::vector<std::pair<std::string, bool>>> scope = Evaluator::ParseScope(text);
    if (!scope.ok()) return Fail(absl::InvalidArgumentError(
        StrCat(scope_path, ": ", internal::FromAbsl(scope.status().message()))));
    eo.scope = std::move(*scope);
  }
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  ChartInputOptions io;
  io.format = folder ? InputFormat::kFiles : InputFormat::kJsonLines;
  io.read_side_files = folder;
  io.extensions = {".txt"};
  io.keys = keys->get();
  absl::StatusOr<std::unique_ptr<ChartInputReader>> reader = ChartInputReader::Open({input}, io);
  if (!reader.ok()) return Fail(reader.status());
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = PipelineFromFlags(args);
  if (!pipeline.ok()) return Fail(pipeline.status());
  RiskModelOptions ro;
  ro.code_set = (*pipeline)->shared_code_set();
  ro.model = HccModel::kV28;
  absl::StatusOr<std::unique_ptr<RiskModel>> v28 = RiskModel::Create(ro);
  if (!v28.ok()) return Fail(v28.status());
  eo.hcc_model = v28->get();
  if (!args.Has("exact-codes")) eo.code_set = &(*pipeline)->code_set();
  Evaluator eval(eo);

  Progress progress("documents", (*reader)->total(), StderrIsTerminal());
  size_t done = 0, failed = 0;
  const Pipeline& p = **pipeline;
  RunOrdered<ChartInput, Predicted>(
      *threads, 4 * static_cast<size_t>(*threads),
      [&](ChartInput* in) { return (*reader)->Next(in); },
      [&](ChartInput& in) {
        Predicted out;
        if (!in.status.ok()) {
          out.status = in.status;
          return out;
        }
        absl::StatusOr<ChartResult> r = p.Code(in.id, in.text);
        if (!r.ok()) {
          out.status = r.status();
          return out;
        }
        for (const AssignedCode& c : r->codes) out.ranked.push_back(c.code);
        return out;
      },
      [&](ChartInput& in, Predicted& pr) {
        ++done;
        if (!pr.status.ok()) {
          ++failed;
          std::fprintf(stderr, "%schartcoder: %s: %s\n", StderrIsTerminal() ? "\r" : "",
                       in.id.c_str(), std::string(pr.status.message()).c_str());
        } else {
          eval.Add(in.id, in.gold, pr.ranked, in.must_not);
        }
        progress.Update(done, (*reader)->bytes_read(), failed);
      });
  progress.Finish();
  const EvalReport report = eval.Report();
  if (args.Has("json")) {
    std::string out;
    internal::JsonWriter w(&out);
    w.BeginObject();
    w.Field("input", input);
    WriteMetrics("code", report.code, &w);
    WriteMetrics("category", report.category, &w);
    WriteMetrics("hcc_v28", report.hcc, &w);
    w.Key("trap_hits");
    w.Uint(report.trap_hits);
    w.Key("failed");
    w.Uint(failed);
    w.EndObject();
    std::printf("%s\n", out.c_str());
  } else {
    std::printf("%s: %zu documents\n", input.c_str(), report.code.documents);
    PrintMetrics("code", report.code);
    PrintMetrics("category", report.category);
    PrintMetrics("hcc V28", report.hcc);
    if (report.trap_hits > 0 || folder) {
      std::printf("traps hit: %zu", report.trap_hits);
      for (size_t i = 0; i < report.trap_examples.size() && i < 10; ++i) {
        std::printf("%s %s in %s", i == 0 ? " (" : ",", report.trap_examples[i].second.c_str(),
                    report.trap_examples[i].first.c_str());
      }
      std::printf("%s\n", report.trap_examples.empty() ? "" : ")");
    }
  }
  if (failed > 0) {
    std::fprintf(stderr, "chartcoder: %zu documents could not be coded and are not counted\n",
                 failed);
    return kExitData;
  }
  return kExitOk;
}

}  // namespace

const Command& EvalCommand() {
  static const Command* const kCommand = new Command{
      "eval", "measure coding accuracy against gold codes (P/R/F1, MAP; code, category, HCC)",
      "Usage: chartcoder eval --input FILE.jsonl|FOLDER [--scope FILE] [--json] [--threads N]\n\n"
      "Codes every document and compares the ranked codes with the gold codes:\n"
      "micro precision, recall and F1 over (document, code) pairs, and MAP over each\n"
      "document's ranked list (mean over documents with a prediction), at the full\n"
      "code, the 3-character category and the CMS-HCC V28 level (after hierarchies).\n\n"
      "FILE.jsonl has lines {\"id\", \"text\", \"codes\": [...]} (optional \"must_not\").\n"
      "A FOLDER holds charts NAME.txt with side files NAME.codes (one code per line;\n"
      "'!CODE' lines are traps: codes that must not be assigned) and optionally\n"
      "scope.tsv: lines PREFIX<TAB>count|ignore deciding which predicted codes count\n"
      "(the longest prefix wins; ignored codes are neither right nor wrong).\n\n"
      "Gold codes of an older ICD-10-CM edition that were later split (R51 ->\n"
      "R51.0/R51.9) match a predicted code below them unless --exact-codes is given.",
      Concat({{{"input", "PATH", "JSON Lines file or folder of charts with side files"},
               {"scope", "FILE", "which codes count (default FOLDER/scope.tsv if present)"},
               {"json", "", "print one JSON object"},
               {"exact-codes", "",
                "compare codes exactly (default: a gold code that this code set knows only "
                "as a header, from an older edition, matches a predicted code below it)"}},
              PipelineFlags(),
              KeyringFlags()}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
