// chartcoder submit --db URL PATH...: queue charts for the workers.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chartcoder/chart_io.h"
#include "chartcoder/result_store.h"
#include "chartcoder/sealed.h"
#include "cli/cli.h"
#include "cli/db_flags.h"
#include "cli/keys_flags.h"
#include "simdjson.h"
#include "src/internal/crypto.h"
#include "src/internal/demographics_json.h"
#include "src/internal/result_codec.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrCat;

// "notes/c1.txt.sealed" -> "c1".
std::string DefaultChartId(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const char* ext : {".sealed", ".txt", ".text", ".md"}) {
    std::string_view e = ext;
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
      name.resize(name.size() - e.size());
    }
  }
  return name;
}

struct Item {
  std::string path;
  std::string chart_id;
  std::string patient_id;
  std::optional<Demographics> demographics;
};

// Builds the job for one chart: reads it (decrypting a sealed one) for its
// digest; embeds it sealed when asked.
absl::StatusOr<JobSpec> MakeJob(const Item& item, bool embed, const KeyProvider* keys,
                                const std::string& key_id, int max_attempts) {
  ChartReadOptions read;
  read.keys = keys;
  ChartSourceInfo info;
  absl::StatusOr<std::string> chart = ReadChartFile(item.path, read, &info);
  if (!chart.ok()) return chart.status();
  JobSpec j;
  j.chart_id = item.chart_id.empty() ? DefaultChartId(item.path) : item.chart_id;
  j.patient_id = item.patient_id;
  j.demographics = item.demographics;
  j.digest = ChartDigest(*chart);
  j.max_attempts = max_attempts;
  if (!embed) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(item.path, ec);
    if (ec) return absl::InternalError(StrCat("cannot make ", item.path, " absolute"));
    j.ref = abs.lexically_normal().string();
    return j;
  }
  if (info.sealed) {
    std::ifstream in(item.path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return absl::InternalError(StrCat("cannot read ", item.path));
    j.sealed_payload = ss.str();
    return j;
  }
  if (keys == nullptr) {
    return absl::FailedPreconditionError(
        StrCat(item.path, " is not sealed: --embed stores only sealed charts in the queue; give "
                          "a key (--keyring or $CHARTCODER_KEY) to seal it on the way in"));
  }
  absl::StatusOr<std::string> sealed = internal::SealBytes(*chart, *keys, key_id);
  internal::CleanseString(&*chart);
  if (!sealed.ok()) return sealed.status();
  j.sealed_payload = std::move(*sealed);
  return j;
}

// One JSON object per line: {"path":..,"chart_id":..,"patient_id":..,"demographics":{..}}.
absl::StatusOr<std::vector<Item>> ReadManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read the manifest ", path));
  std::vector<Item> items;
  std::string line;
  simdjson::dom::parser parser;
  int n = 0;
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  while (std::getline(in, line)) {
    ++n;
    if (internal::Trim(line).empty()) continue;
    auto where = [&](std::string_view why) {
      return absl::InvalidArgumentError(StrCat(path, " line ", n, ": ", why));
    };
    simdjson::dom::element e;
    if (parser.parse(line).get(e) != simdjson::SUCCESS) return where("not valid JSON");
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) return where("not a JSON object");
    Item item;
    for (auto field : o) {
      std::string_view key = field.key;
      if (key == "demographics") {
        absl::StatusOr<Demographics> d = internal::DemographicsFromJson(field.value);
        if (!d.ok()) return where(internal::FromAbsl(d.status().message()));
        item.demographics = *d;
        continue;
      }
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS) {
        return where(StrCat("\"", key, "\" must be a string"));
      }
      if (key == "path") item.path = std::string(v);
      else if (key == "chart_id") item.chart_id = std::string(v);
      else if (key == "patient_id") item.patient_id = std::string(v);
      else return where(StrCat("unknown key \"", key, "\""));
    }
    if (item.path.empty()) return where("no \"path\"");
    if (std::filesystem::path(item.path).is_relative()) item.path = (base / item.path).string();
    items.push_back(std::move(item));
  }
  return items;
}

int RunSubmit(const CommandLine& args) {
  absl::StatusOr<long long> attempts = args.GetInt("max-attempts", 5, 1, 100);
  if (!attempts.ok()) return UsageError("submit", attempts.status());
  std::vector<Item> items;
  if (args.Has("manifest")) {
    absl::StatusOr<std::vector<Item>> m = ReadManifest(args.Get("manifest"));
    if (!m.ok()) return Fail(m.status());
    items = std::move(*m);
  }
  if (args.Has("id") && args.positional().size() != 1) {
    return UsageError("submit", "--id names one chart: give exactly one PATH with it");
  }
  std::optional<Demographics> demographics;
  if (args.Has("demographics")) {
    absl::StatusOr<Demographics> d = internal::ParseDemographicsJson(args.Get("demographics"));
    if (!d.ok()) return UsageError("submit", d.status());
    demographics = *d;
  }
  for (const std::string& p : args.positional()) {
    items.push_back(Item{p, args.Get("id"), args.Get("patient"), demographics});
  }
  if (items.empty()) return UsageError("submit", "give chart PATHs or --manifest FILE");
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  absl::StatusOr<std::unique_ptr<WorkQueue>> queue = OpenQueue(args);
  if (!queue.ok()) {
    return absl::IsInvalidArgument(queue.status()) ? UsageError("submit", queue.status())
                                                   : Fail(queue.status());
  }
  absl::Status schema = (*queue)->CheckSchema();
  if (!schema.ok()) return Fail(schema);
  // Every chart is read and checked before anything is queued: a bad path
  // queues nothing.
  std::vector<JobSpec> jobs;
  jobs.reserve(items.size());
  for (const Item& item : items) {
    absl::StatusOr<JobSpec> j =
        MakeJob(item, args.Has("embed"), keys->get(), args.Get("key-id"), *attempts);
    if (!j.ok()) return Fail(j.status());
    jobs.push_back(std::move(*j));
  }
  absl::StatusOr<SubmitSummary> s = (*queue)->Submit(jobs);
  if (!s.ok()) return Fail(s.status());
  if (args.Has("json")) {
    std::printf("{\"queued\":%lld,\"duplicates\":%lld}\n", static_cast<long long>(s->queued),
                static_cast<long long>(s->duplicates));
  } else {
    std::printf("queued %lld, already queued or done %lld\n", static_cast<long long>(s->queued),
                static_cast<long long>(s->duplicates));
  }
  return kExitOk;
}

}  // namespace

const Command& SubmitCommand() {
  static const Command* const kCommand = new Command{
      "submit", "queue charts for the workers (by reference, or embedded sealed)",
      "Usage: chartcoder submit --db URL [--patient ID] [--demographics JSON] PATH...\n"
      "       chartcoder submit --db URL --manifest charts.jsonl\n\n"
      "Queues each chart by reference: its absolute path and the SHA-256 of its text, which\n"
      "the worker checks. Chart text is never stored in the queue unless sealed: --embed\n"
      "stores a sealed chart itself (a plain one is sealed with the active key on the way\n"
      "in), for workers without the shared file system. The chart id is the file name\n"
      "without .txt/.sealed unless --id or the manifest gives one. A chart already queued\n"
      "or done with the same id and content is not queued again.\n"
      "A manifest has one JSON object per line: {\"path\":\"c1.txt\",\"chart_id\":\"c1\",\n"
      "\"patient_id\":\"m1\",\"demographics\":{\"age\":72,\"sex\":\"F\"}} (paths relative to it).",
      Concat({DbFlags(), KeyringFlags(),
              {{"id", "ID", "chart id (one PATH only)"},
               {"patient", "ID", "patient (member) id for every PATH"},
               {"demographics", "JSON",
                "demographics for every PATH: {\"age\":72,\"sex\":\"F\",\"dual\":\"none\",...}"},
               {"manifest", "FILE", "JSON Lines of charts to queue"},
               {"embed", "", "store the sealed chart in the queue instead of its path"},
               {"key-id", "ID", "--embed: key to seal plain charts with (default: active)"},
               {"max-attempts", "N", "attempts before a job is dead-lettered (default 5)"},
               {"json", "", "print the counts as JSON"}}}),
      &RunSubmit};
  return *kCommand;
}

}  // namespace chartcoder::cli
