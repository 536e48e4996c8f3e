// chartcoder results --db URL --chart ID | --patient ID: read stored results.
#include <cstdio>

#include "chartcoder/result_store.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

int RunResults(const CommandLine& args) {
  if (!args.positional().empty()) return UsageError("results", "takes no arguments");
  if (args.Has("chart") == args.Has("patient")) {
    return UsageError("results", "give one of --chart ID and --patient ID");
  }
  absl::StatusOr<std::string> url = DbUrl(args);
  if (!url.ok()) return UsageError("results", url.status());
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  ResultStoreOptions o;
  o.location = *url;
  o.allow_insecure = args.Has("insecure-db");
  o.keys = keys->get();
  absl::StatusOr<std::unique_ptr<ResultStore>> store = OpenResultStore(o);
  if (!store.ok()) {
    return absl::IsInvalidArgument(store.status()) ? UsageError("results", store.status())
                                                   : Fail(store.status());
  }
  absl::StatusOr<std::vector<StoredResult>> results =
      args.Has("chart") ? (*store)->GetByChart(args.Get("chart"))
                        : (*store)->GetByPatient(args.Get("patient"));
  if (!results.ok()) return Fail(results.status());
  if (results->empty()) {
    return Fail(absl::NotFoundError(args.Has("chart") ? "no results for that chart"
                                                      : "no results for that patient"));
  }
  std::string out;
  for (const StoredResult& r : *results) {
    internal::JsonWriter w(&out);
    w.BeginObject();
    w.Field("chart_id", r.record.chart_id);
    w.Field("patient_id", r.record.patient_id);
    w.Field("digest", r.record.digest);
    w.Field("created_at", r.created_at);
    w.Field("sealed", r.sealed);
    w.Key("result");
    w.Raw(r.record.result_json);
    w.EndObject();
    out.push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace

const Command& ResultsCommand() {
  static const Command* const kCommand = new Command{
      "results", "stored results of a chart or a patient (PostgreSQL or SQLite)",
      "Usage: chartcoder results --db URL (--chart ID | --patient ID)\n\n"
      "Prints one JSON object per stored result: chart_id, patient_id, digest (the chart's\n"
      "SHA-256), created_at, sealed, and result (the coded chart). A chart coded from two\n"
      "different versions has two results, oldest first. --db is the queue's PostgreSQL\n"
      "URL, or sqlite:PATH for a local result store. Sealed results need the key.",
      Concat({DbFlags(), KeyringFlags(),
              {{"chart", "ID", "the results of this chart"},
               {"patient", "ID", "the results of this patient's charts"}}}),
      &RunResults};
  return *kCommand;
}

}  // namespace chartcoder::cli
