// chartcoder version: library, pack format, code-set year, HCC models.
#include <cstdio>

#include "absl/strings/str_join.h"
#include "chartcoder/codeset.h"
#include "chartcoder/version.h"
#include "cli/cli.h"
#include "src/internal/strings.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

int Run(const CommandLine& args) {
  absl::StatusOr<std::unique_ptr<CodeSet>> codes = LoadCodeSet(args);
  if (!codes.ok()) return Fail(codes.status());
  const DataPackInfo& info = (*codes)->info();
  if (args.Has("json")) {
    std::string out;
    internal::JsonWriter w(&out);
    w.BeginObject();
    w.Field("library_version", LibraryVersion());
    w.Field("pack_format_version", static_cast<int64_t>(info.format_version));
    w.Field("data_pack", info.path);
    w.Field("icd10cm_fiscal_year", info.icd10cm_fiscal_year);
    w.Field("icd10cm_index_year", info.icd10cm_index_year);
    w.Field("hcc_payment_year", info.hcc_payment_year);
    w.Key("hcc_models");
    w.BeginArray();
    for (const std::string& m : info.hcc_models) w.String(m);
    w.EndArray();
    w.Field("codes", static_cast<int64_t>(info.code_count));
    w.Field("billable_codes", static_cast<int64_t>(info.billable_code_count));
    if (args.Has("metadata")) {
      w.Key("metadata");
      w.BeginObject();
      for (const auto& [k, v] : info.metadata) w.Field(k, v);
      w.EndObject();
    }
    w.EndObject();
    std::printf("%s\n", out.c_str());
    return kExitOk;
  }
  std::printf("chartcoder %.*s\n", static_cast<int>(LibraryVersion().size()),
              LibraryVersion().data());
  std::printf("data pack:          %s (format %u, %.1f MiB)\n", info.path.c_str(),
              info.format_version, info.size_bytes / 1048576.0);
  std::printf("ICD-10-CM:          FY%d tabular list, FY%d index (%zu codes, %zu billable)\n",
              info.icd10cm_fiscal_year, info.icd10cm_index_year, info.code_count,
              info.billable_code_count);
  std::printf("HCC payment year:   %d\n", info.hcc_payment_year);
  std::printf("HCC models:         %s\n", internal::Join(info.hcc_models, ", ").c_str());
  if (args.Has("metadata")) {
    std::printf("\nmetadata:\n");
    for (const auto& [k, v] : info.metadata) std::printf("  %-40s %s\n", k.c_str(), v.c_str());
  }
  return kExitOk;
}

}  // namespace

const Command& VersionCommand() {
  static const Command* const kCommand = new Command{
      "version", "print the library version and what the data pack holds",
      "Usage: chartcoder version [--json] [--metadata] [--data PACK]\n\n"
      "Prints the library version, the data pack's format version, the ICD-10-CM\n"
      "fiscal year and the CMS-HCC models and payment year it was built from.",
      {DataFlag(),
       {"json", "", "print one JSON object"},
       {"metadata", "", "also print every fact the pack builder recorded (sources, counts)"}},
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
