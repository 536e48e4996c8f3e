// Fuzzes the data-pack loader: any bytes either load into a CodeSet whose
// accessors stay inside the mapping, or give a clean error status.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "chartcoder/codeset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char tmpl[] = "/tmp/chartcoder_pack_fuzz_XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    return std::string(tmpl);
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  for (bool verify : {true, false}) {
    chartcoder::CodeSetOptions options;
    options.data_pack = path;
    // Without the hash check the structural validation is what stands between
    // corrupt records and out-of-bounds reads.
    options.verify_checksum = verify;
    auto set = chartcoder::CodeSet::Create(options);
    if (!set.ok()) continue;
    const chartcoder::CodeSet& s = **set;
    size_t sink = 0;
    for (size_t i = 0; i < s.code_count(); ++i) {
      chartcoder::Code c = s.CodeAt(static_cast<uint32_t>(i));
      sink += c.code().size() + c.description().size() + c.children().size();
      sink += c.chapter().size() + c.block().size();
      for (const auto& n : c.NotesInEffect(chartcoder::NoteKind::kExcludes1)) {
        for (const auto& r : n.refs) sink += s.Expand(r).size();
      }
      if (auto p = c.parent()) sink += p->code().size();
      if (auto again = s.Find(c.code())) sink += again->id();
    }
    for (auto table : {chartcoder::IndexTable::kDiseases, chartcoder::IndexTable::kNeoplasms}) {
      for (size_t i = 0; i < s.index_term_count(table); ++i) {
        chartcoder::IndexTerm t = s.IndexTermAt(table, static_cast<uint32_t>(i));
        sink += t.Path().size() + t.children().size() +
                t.neoplasm_code(chartcoder::NeoplasmColumn::kBenign).size();
      }
    }
    sink += s.Search("diabetes kidney fracture", {}).size();
    sink += s.HccCategories("E11.9").size();
    sink += s.LookupIndex({"diabetes", "type 2"}).has_value();
    for (std::string_view name : s.TableNames()) {
      auto t = s.Table(name);
      if (t.ok() && t->row_count() > 0) sink += t->cell(0, 0).size();
    }
    if (sink == 1) std::fputc(' ', stderr);
  }
  return 0;
}
