// chartcoder search TEXT: best matching codes for free text.
#include <cstdio>
#include <string>

#include "absl/strings/str_join.h"
#include "chartcoder/codeset.h"
#include "cli/cli.h"
#include "src/internal/strings.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

int Run(const CommandLine& args) {
  if (args.positional().empty()) return UsageError("search", "give the TEXT to search for");
  absl::StatusOr<long long> limit = args.GetInt("limit", 10, 1, 1000);
  if (!limit.ok()) return UsageError("search", limit.status());
  absl::StatusOr<std::unique_ptr<CodeSet>> loaded = LoadCodeSet(args);
  if (!loaded.ok()) return Fail(loaded.status());
  const std::string text = internal::Join(args.positional(), " ");
  SearchOptions options;
  options.max_results = static_cast<int>(*limit);
  options.billable_only = args.Has("billable");
  std::vector<SearchHit> hits = (*loaded)->Search(text, options);
  if (args.Has("json")) {
    std::string out;
    internal::JsonWriter w(&out);
    w.BeginArray();
    for (const SearchHit& h : hits) {
      w.BeginObject();
      w.Field("code", h.code.code());
      w.Field("description", h.code.description());
      w.Field("billable", h.code.billable());
      w.Key("score");
      w.Fixed(h.score, 3);
      w.Field("matched", h.matched_text);
      w.Field("source", SearchSourceName(h.source));
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", out.c_str());
  } else {
    for (const SearchHit& h : hits) {
      std::printf("%-9s %s %6.2f  %s\n", std::string(h.code.code()).c_str(),
                  h.code.billable() ? "B" : " ", h.score,
                  std::string(h.code.description()).c_str());
      if (h.source != SearchSource::kDescription) {
        std::printf("          %*s  via %s: %s\n", 8, "",
                    std::string(SearchSourceName(h.source)).c_str(),
                    std::string(h.matched_text).c_str());
      }
    }
  }
  if (hits.empty()) {
    std::fprintf(stderr, "chartcoder: no code matches '%s'\n", text.c_str());
    return kExitData;
  }
  return kExitOk;
}

}  // namespace

const Command& SearchCommand() {
  static const Command* const kCommand = new Command{
      "search", "find the codes that best match free text",
      "Usage: chartcoder search [--limit N] [--billable] [--json] TEXT...\n\n"
      "Ranks codes by how well TEXT matches their titles, inclusion terms and the\n"
      "Alphabetic Index (BM25 over words; plurals folded). 'B' marks billable codes.",
      {DataFlag(),
       {"limit", "N", "most codes to print (default 10)"},
       {"billable", "", "only billable codes"},
       {"json", "", "print a JSON array"}},
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
