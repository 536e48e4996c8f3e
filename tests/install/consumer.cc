// Links the installed library, loads the installed data pack without being
// told where it is, and looks codes up. Exit code 0 only if all checks pass.
#include <cstdio>
#include <string>

#include "chartcoder/codeset.h"
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
  std::printf("consumer: chartcoder %s, pack %s: %s %s\n",
              std::string(chartcoder::LibraryVersion()).c_str(),
              (*codes)->info().path.c_str(), std::string(c->code()).c_str(),
              std::string(c->description()).c_str());
  return 0;
}
