// chartcoder pack: compile official reference files into a data pack.
#include <cstdio>

#include "chartcoder/codeset.h"
#include "cli/cli.h"

namespace chartcoder::cli {
namespace {

int Run(const CommandLine& args) {
  if (!args.Has("source") || !args.Has("output")) {
    return UsageError("pack", "give --source DIR and --output FILE");
  }
  if (!args.positional().empty()) return UsageError("pack", "takes no arguments");
  DataPackSources sources;
  sources.source_dir = args.Get("source");
  sources.curated_dir = args.Get("curated");
  for (const std::string& t : args.GetAll("train")) {
    const size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == t.size()) {
      return UsageError("pack", "--train takes NAME=FILE.jsonl");
    }
    sources.training_corpora.emplace_back(t.substr(0, eq), t.substr(eq + 1));
  }
  absl::Status s = BuildDataPack(sources, args.Get("output"));
  if (!s.ok()) return Fail(s);
  CodeSetOptions options;
  options.data_pack = args.Get("output");
  absl::StatusOr<std::unique_ptr<CodeSet>> check = CodeSet::Create(options);
  if (!check.ok()) return Fail(check.status());
  const DataPackInfo& info = (*check)->info();
  std::fprintf(stderr,
               "chartcoder: wrote %s (%.1f MiB): ICD-10-CM FY%d, %zu codes (%zu billable), "
               "%zu index terms, HCC payment year %d\n",
               info.path.c_str(), info.size_bytes / 1048576.0, info.icd10cm_fiscal_year,
               info.code_count, info.billable_code_count, info.index_term_count,
               info.hcc_payment_year);
  return kExitOk;
}

}  // namespace

const Command& PackCommand() {
  static const Command* const kCommand = new Command{
      "pack", "compile official reference files into a data pack",
      "Usage: chartcoder pack --source DIR [--curated DIR] [--train NAME=FILE]... --output FILE\n\n"
      "DIR holds icd10cm/ (CDC/NCHS tabular list, index and neoplasm table XML),\n"
      "hcc/ (CMS-HCC mapping, coefficient, hierarchy and label CSVs) and optionally\n"
      "abbreviations/. --curated adds chartcoder's own tables (the repository's data/).\n"
      "--train learns a coding profile from a coded corpus (which word groups\n"
      "predict which gold codes); `chartcoder code --profile NAME` applies it.\n"
      "The pack is written atomically and checked by loading it.",
      {{"source", "DIR", "folder with the official reference files"},
       {"curated", "DIR", "folder with chartcoder's curated tables"},
       {"output", "FILE", "the pack to write"},
       {"train", "NAME=FILE",
        "learn the coding profile NAME from a coded JSON Lines corpus (id, text, codes)", true}},
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
