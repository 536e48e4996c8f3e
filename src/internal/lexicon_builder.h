// Compiles the clinical lexicon into a data pack: phrases from tabular titles
// and inclusion terms, Alphabetic Index paths, the Table of Neoplasms,
// chartcoder's curated synonyms, and the unambiguous senses of the clinical
// abbreviation inventories. See pack_format.h (kLex* sections) for the layout
// and src/internal/lexicon.h for the matcher that reads it.
//
//   CC_RETURN_IF_ERROR(BuildLexicon(sources, &writer, &meta));
#ifndef CHARTCODER_SRC_INTERNAL_LEXICON_BUILDER_H_
#define CHARTCODER_SRC_INTERNAL_LEXICON_BUILDER_H_

#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/internal/csv.h"
#include "src/internal/icd10cm_xml.h"
#include "src/internal/pack_writer.h"

namespace chartcoder::internal {

struct LexiconSources {
  const ParsedTabular* tabular = nullptr;
  // For each code of `tabular` (by its index there), its id in the pack.
  const std::vector<uint32_t>* code_ids = nullptr;
  // Undotted code -> pack id, for resolving codes named in the index.
  const absl::flat_hash_map<std::string, uint32_t>* code_by_key = nullptr;
  const ParsedIndex* index = nullptr;
  const ParsedIndex* neoplasms = nullptr;
  // Reference tables by pack name ("abbreviations/...", "curated/synonyms"),
  // header row first.
  const std::map<std::string, DelimitedTable>* tables = nullptr;
};

// Adds the kLex* sections to `writer` and counts to `meta` ("lexicon.*").
// InvalidArgument names a curated table row that cannot be used (bad code,
// empty phrase).
absl::Status BuildLexicon(const LexiconSources& sources, PackWriter* writer,
                          std::map<std::string, std::string>* meta);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_LEXICON_BUILDER_H_
