// Parsers for the CDC/NCHS ICD-10-CM XML files (Tabular List, Alphabetic
// Index, Table of Neoplasms). Used only when building a data pack.
//
//   CC_ASSIGN_OR_RETURN(ParsedTabular t, ParseTabularXml(".../icd10cm_tabular_2023.xml"));
#ifndef CHARTCODER_SRC_INTERNAL_ICD10CM_XML_H_
#define CHARTCODER_SRC_INTERNAL_ICD10CM_XML_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"

namespace chartcoder::internal {

struct ParsedNote {
  NoteKind kind;
  std::string text;
};

struct ParsedChapter {
  std::string name;
  std::string description;
  std::vector<ParsedNote> notes;
};

struct ParsedBlock {
  std::string id;
  std::string description;
  int chapter = 0;
  std::vector<ParsedNote> notes;
};

struct ParsedCode {
  std::string code;  // dotted
  std::string description;
  int parent = -1;   // index into ParsedTabular::codes
  std::vector<int> children;
  std::vector<ParsedNote> notes;
  int block = 0;
  int depth = 0;
  bool billable = false;
  bool seventh_expansion = false;
  bool requires_seventh = false;
};

struct ParsedTabular {
  int version = 0;  // fiscal year from <version>
  std::vector<ParsedChapter> chapters;
  std::vector<ParsedBlock> blocks;
  std::vector<ParsedCode> codes;  // document order, expansions after their code
};

// Reads the Tabular List. Leaves become billable codes, except where a
// <sevenChrDef> applies (nearest ancestor's wins): then the leaf is padded with
// "X" to six characters and each 7th character becomes a billable child whose
// description is the leaf's plus ", " and the character's meaning.
// NotFound: no file. InvalidArgument: not well-formed XML or not a tabular list
// (message names the file and line).
absl::StatusOr<ParsedTabular> ParseTabularXml(const std::string& path);

struct ParsedTerm {
  std::string title;  // non-essential modifiers removed, spaces collapsed
  std::string nemod;  // "(chronic) (congestive)"
  std::string code;
  std::string manif;
  std::string see;
  std::string see_also;
  std::string see_category;
  std::vector<std::string> cells;  // neoplasm table: 6 codes, "" for none
  std::vector<ParsedTerm> children;
};

struct ParsedIndex {
  int version = 0;
  std::vector<ParsedTerm> main_terms;
};

// Reads the Alphabetic Index or the Table of Neoplasms (same schema; the table
// carries <cell col="2..7">). Errors as ParseTabularXml.
absl::StatusOr<ParsedIndex> ParseIndexXml(const std::string& path);

// The codes and ranges named in a note's text, as (first, last) pairs.
std::vector<std::pair<std::string, std::string>> ExtractCodeRefs(std::string_view text);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_ICD10CM_XML_H_
