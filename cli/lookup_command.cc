// chartcoder lookup CODE...: description, billable, parent and HCCs of codes.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chartcoder/codeset.h"
#include "cli/cli.h"
#include "src/internal/strings.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

// V24 and V28 CMS-HCC categories of a code ("HCC19"), by model version.
std::vector<HccCategory> PaymentHccs(const CodeSet& codes, std::string_view code,
                                     bool all_models) {
  std::vector<HccCategory> out;
  for (HccCategory& h : codes.HccCategories(code)) {
    if (all_models || h.model == "CMS-HCC Model V24" || h.model == "CMS-HCC Model V28") {
      out.push_back(std::move(h));
    }
  }
  return out;
}

int Run(const CommandLine& args) {
  if (args.positional().empty()) return UsageError("lookup", "give at least one CODE");
  absl::StatusOr<std::unique_ptr<CodeSet>> loaded = LoadCodeSet(args);
  if (!loaded.ok()) return Fail(loaded.status());
  const CodeSet& codes = **loaded;
  const bool json = args.Has("json");
  const bool all_models = args.Has("all-models");
  const bool notes = args.Has("notes");
  int failures = 0;
  for (const std::string& query : args.positional()) {
    std::optional<Code> c = codes.Find(query);
    std::vector<HccCategory> hccs = PaymentHccs(codes, query, all_models);
    if (json) {
      std::string out;
      internal::JsonWriter w(&out);
      w.BeginObject();
      w.Field("query", query);
      w.Field("found", c.has_value());
      if (c) {
        w.Field("code", c->code());
        w.Field("description", c->description());
        w.Field("billable", c->billable());
        w.Key("parent");
        if (auto p = c->parent()) w.String(p->code()); else w.Null();
        w.Key("children");
        w.BeginArray();
        for (const Code& k : c->children()) w.String(k.code());
        w.EndArray();
        w.Field("chapter", c->chapter());
        w.Field("block", c->block());
        if (notes) {
          w.Key("notes");
          w.BeginArray();
          for (const Note& n : c->notes()) {
            w.BeginObject();
            w.Field("kind", NoteKindName(n.kind));
            w.Field("text", n.text);
            w.EndObject();
          }
          w.EndArray();
        }
      }
      w.Key("hccs");
      w.BeginArray();
      for (const HccCategory& h : hccs) {
        w.BeginObject();
        w.Field("model", h.model);
        w.Field("hcc", h.hcc);
        w.Field("label", h.label);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      std::printf("%s\n", out.c_str());
    } else if (c) {
      std::printf("%s  %s\n", std::string(c->code()).c_str(),
                  std::string(c->description()).c_str());
      std::printf("  billable: %s\n", c->billable() ? "yes" : "no");
      if (auto p = c->parent()) {
        std::printf("  parent:   %s  %s\n", std::string(p->code()).c_str(),
                    std::string(p->description()).c_str());
      }
      std::vector<Code> kids = c->children();
      if (!kids.empty()) {
        std::vector<std::string> names;
        for (const Code& k : kids) names.emplace_back(k.code());
        std::printf("  children: %s\n", internal::Join(names, " ").c_str());
      }
      std::printf("  block:    %s  %s\n", std::string(c->block()).c_str(),
                  std::string(c->block_description()).c_str());
      if (notes) {
        for (const Note& n : c->notes()) {
          std::printf("  %s: %s\n", std::string(NoteKindName(n.kind)).c_str(),
                      std::string(n.text).c_str());
        }
      }
    } else if (!hccs.empty()) {
      std::printf("%s  (not in the FY%d tabular list; in the HCC mapping tables)\n",
                  query.c_str(), codes.info().icd10cm_fiscal_year);
    }
    if (!json && (c || !hccs.empty())) {
      if (hccs.empty()) {
        std::printf("  HCC:      none\n");
      } else {
        for (const HccCategory& h : hccs) {
          std::printf("  %-22s %s  %s\n", std::string(h.model).c_str(), h.hcc.c_str(),
                      std::string(h.label).c_str());
        }
      }
    }
    if (!c && hccs.empty()) {
      if (!json) {
        std::fprintf(stderr, "chartcoder: %s is not an ICD-10-CM code (FY%d)\n", query.c_str(),
                     codes.info().icd10cm_fiscal_year);
      }
      ++failures;
    }
  }
  return failures == 0 ? kExitOk : kExitData;
}

}  // namespace

const Command& LookupCommand() {
  static const Command* const kCommand = new Command{
      "lookup", "describe ICD-10-CM codes: title, billable, parent, V24/V28 HCCs",
      "Usage: chartcoder lookup [--json] [--notes] [--all-models] CODE...\n\n"
      "Looks up each CODE (dotted or not, any case) and prints its title, whether it\n"
      "is billable, its parent and children, and the CMS-HCC V24 and V28 categories it\n"
      "maps to. Exit code 2 if any CODE is unknown (the others are still printed).",
      {DataFlag(),
       {"json", "", "one JSON object per code"},
       {"notes", "", "also print the code's instructional notes"},
       {"all-models", "", "HCCs of every model in the pack (ESRD, RxHCC, V22...)"}},
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
