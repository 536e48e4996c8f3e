// Links the installed library, loads the installed data pack without being
// told where it is, looks codes up, and seals and reads back a chart. Exit
// code 0 only if all checks pass.
#include <cstdio>
#include <string>

#include "chartcoder/chart_io.h"
#include "chartcoder/codeset.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"
#include "chartcoder/version.h"

int main() {
  auto codes = chartcoder::CodeSet::Create({});
  if (!codes.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(codes.status().message()).c_str());
    return 1;
  }
  auto c = (*codes)->Find("e11.9");
  if (!c || c->description() != "Type 2 diabetes mellitus without complications" ||
      !c->billable()) {
    std::fprintf(stderr, "consumer: E11.9 not found or wrong\n");
    return 1;
  }
  bool v28 = false;
  for (const auto& h : (*codes)->HccCategories("E119")) {
    if (h.model == "CMS-HCC Model V28" && h.hcc == "HCC38") v28 = true;
  }
  if (!v28) {
    std::fprintf(stderr, "consumer: E11.9 does not map to V28 HCC38\n");
    return 1;
  }
  // Sealed charts through the installed headers.
  auto keys = chartcoder::InMemoryKeyProvider::Parse(
      "consumer:Y29uc3VtZXIta2V5LW1hdGVyaWFsLTMyLWJ5dGVzISE=", "consumer key");
  if (!keys.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(keys.status().message()).c_str());
    return 1;
  }
  auto sealed = chartcoder::SealBytes("ASSESSMENT: CKD stage 4.", **keys);
  if (!sealed.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(sealed.status().message()).c_str());
    return 1;
  }
  chartcoder::ChartReadOptions read;
  read.keys = keys->get();
  auto chart = chartcoder::ReadChartBytes(*sealed, read);
  if (!chart.ok() || *chart != "ASSESSMENT: CKD stage 4.") {
    std::fprintf(stderr, "consumer: sealed round trip failed\n");
    return 1;
  }
  std::printf("consumer: chartcoder %s, pack %s: %s %s\n",
              std::string(chartcoder::LibraryVersion()).c_str(),
              (*codes)->info().path.c_str(), std::string(c->code()).c_str(),
              std::string(c->description()).c_str());
  return 0;
}
