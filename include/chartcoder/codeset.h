// chartcoder/codeset.h: the ICD-10-CM code set, its Alphabetic Index, the
// Table of Neoplasms and the reference tables (CMS-HCC model, abbreviations),
// loaded from a compiled data pack.
//
//   absl::StatusOr<std::unique_ptr<chartcoder::CodeSet>> codes =
//       chartcoder::CodeSet::Create({});  // the default pack
//   if (!codes.ok()) return codes.status();
//   if (std::optional<chartcoder::Code> c = (*codes)->Find("e119")) {
//     std::cout << c->code() << " " << c->description() << "\n";  // E11.9 Type 2 ...
//   }
//
// The pack is one memory-mapped file made by BuildDataPack() (the build does
// this once, and `chartcoder pack` does it for other sources). Loading it parses
// no XML or CSV.
#ifndef CHARTCODER_CODESET_H_
#define CHARTCODER_CODESET_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chartcoder {

namespace internal {
class PackReader;
struct CodeRecord;
struct IndexTermRecord;
}  // namespace internal

class CodeSet;

// The instructional notes of the Tabular List.
enum class NoteKind : uint8_t {
  kInclusionTerm = 0,
  kIncludes = 1,
  kExcludes1 = 2,
  kExcludes2 = 3,
  kCodeFirst = 4,
  kUseAdditionalCode = 5,
  kCodeAlso = 6,
  kNote = 7,
  kSeventhCharacterNote = 8,
};
// "inclusion_term", "excludes1", "use_additional_code", ...
std::string_view NoteKindName(NoteKind kind);

// A code or range named inside a note, as printed: {"E08.-", ""} (a category
// and all its codes), {"E87.70", ""}, {"I10", "I16"} (a range of categories).
struct CodeRange {
  std::string_view first;
  std::string_view last;  // empty for a single code or category
};

struct Note {
  NoteKind kind;
  std::string_view text;
  std::vector<CodeRange> refs;  // codes the text names, in order
};

// One code of the Tabular List, or a 7th-character expansion of one. A cheap
// value (a pointer and an index); valid while its CodeSet lives.
class Code {
 public:
  std::string_view code() const;         // dotted, upper case: "E11.9"
  std::string_view key() const;          // undotted: "E119"
  std::string_view description() const;  // the tabular title
  // Billable ("valid for HIPAA-covered transactions"): a leaf of the tabular
  // list, or a 7th-character expansion where a 7th character is required.
  bool billable() const;
  // True when a 7th character is required below this code (S72.001 needs one).
  bool requires_seventh_character() const;
  bool is_seventh_character_expansion() const;
  int depth() const;  // 0 for a 3-character category
  std::optional<Code> parent() const;
  std::vector<Code> children() const;
  // Every code below this one, in code order.
  std::vector<Code> descendants() const;
  size_t descendant_count() const;
  // True if `other` is this code or below it.
  bool Contains(const Code& other) const;

  std::string_view chapter() const;              // "4"
  std::string_view chapter_description() const;  // "Endocrine, nutritional ..."
  std::string_view block() const;                // "E08-E13"
  std::string_view block_description() const;

  // Notes printed at this code.
  std::vector<Note> notes() const;
  // Notes of `kind` that apply here: this code's, its ancestors', its block's
  // and its chapter's (an Excludes1 at E11 applies to E11.9), nearest first.
  std::vector<Note> NotesInEffect(NoteKind kind) const;
  // The same into `*out` (replacing its contents), reusing the memory of
  // its vector and of the notes it held: for a caller that reads the notes
  // of many codes in turn.
  void NotesInEffect(NoteKind kind, std::vector<Note>* out) const;
  // The notes of each of `kinds` that apply here, into `*out` as above: those
  // NotesInEffect(kinds[0]) gives, then those of kinds[1], and so on, read in
  // one walk up the tree instead of one walk per kind.
  void NotesInEffect(std::span<const NoteKind> kinds, std::vector<Note>* out) const;

  uint32_t id() const { return id_; }  // stable within one pack
  const CodeSet& code_set() const { return *set_; }
  friend bool operator==(const Code& a, const Code& b) {
    return a.set_ == b.set_ && a.id_ == b.id_;
  }
  friend bool operator!=(const Code& a, const Code& b) { return !(a == b); }

 private:
  friend class CodeSet;
  Code(const CodeSet* set, uint32_t id) : set_(set), id_(id) {}
  const internal::CodeRecord& rec() const;
  const CodeSet* set_;
  uint32_t id_;
};

// Which index tree a term belongs to.
enum class IndexTable : uint8_t {
  kDiseases = 0,   // Alphabetic Index to Diseases and Injuries
  kNeoplasms = 1,  // Table of Neoplasms
};

// Columns of the Table of Neoplasms, in printed order.
enum class NeoplasmColumn : uint8_t {
  kMalignantPrimary = 0,
  kMalignantSecondary = 1,
  kCarcinomaInSitu = 2,
  kBenign = 3,
  kUncertainBehavior = 4,
  kUnspecifiedBehavior = 5,
};

// One main term or subterm of the Alphabetic Index or the Table of Neoplasms.
// A cheap value; valid while its CodeSet lives.
class IndexTerm {
 public:
  std::string_view title() const;  // without non-essential modifiers
  // Non-essential modifiers as printed, each in parentheses: "(chronic) (congestive)".
  std::string_view nonessential_modifiers() const;
  // The code printed at the term; empty if none. May be incomplete and end in
  // "-" ("S72.0-") where the Tabular List must be consulted for more characters.
  std::string_view code() const;
  std::string_view manifestation_code() const;  // the bracketed code, if any
  std::string_view see() const;                 // "see" cross-reference
  std::string_view see_also() const;
  std::string_view see_category() const;        // "see category"/"see subcategory"
  // Table of Neoplasms only: the code in `column`, empty for "-" or none.
  std::string_view neoplasm_code(NeoplasmColumn column) const;
  int level() const;  // 0 for a main term
  IndexTable table() const { return table_; }
  std::optional<IndexTerm> parent() const;
  std::vector<IndexTerm> children() const;
  // The first child whose title equals `title` (ASCII case-insensitive).
  std::optional<IndexTerm> FindChild(std::string_view title) const;
  // "Failure, failed > heart > congestive"
  std::string Path() const;

 private:
  friend class CodeSet;
  IndexTerm(const CodeSet* set, IndexTable table, uint32_t id)
      : set_(set), table_(table), id_(id) {}
  const internal::IndexTermRecord& rec() const;
  const CodeSet* set_;
  IndexTable table_;
  uint32_t id_;
};

// A CSV/TSV reference table compiled into the pack (the CMS-HCC model files,
// abbreviation inventories, chartcoder's curated tables). A cheap value; valid
// while its CodeSet lives.
class ReferenceTable {
 public:
  std::string_view name() const;  // "hcc/ra_dx_to_cc", "abbreviations/vanderbilt_clinic_notes"
  size_t row_count() const;
  size_t column_count() const;
  std::string_view column_name(size_t column) const;
  // The column named `name`, or -1.
  int ColumnIndex(std::string_view name) const;
  std::string_view cell(size_t row, size_t column) const;

 private:
  friend class CodeSet;
  ReferenceTable(const CodeSet* set, uint32_t id) : set_(set), id_(id) {}
  const CodeSet* set_;
  uint32_t id_;
};

// What a pack holds and where it came from.
struct DataPackInfo {
  std::string path;
  uint32_t format_version = 0;
  uint64_t size_bytes = 0;
  int icd10cm_fiscal_year = 0;       // from the tabular list's <version>
  int icd10cm_index_year = 0;        // from the alphabetic index's <version>
  int hcc_payment_year = 0;          // from the CMS-HCC table file names
  std::vector<std::string> hcc_models;  // "CMS-HCC Model V24", "CMS-HCC Model V28", ...
  size_t code_count = 0;             // tabular codes and 7th-character expansions
  size_t billable_code_count = 0;
  size_t index_term_count = 0;
  size_t neoplasm_term_count = 0;
  std::map<std::string, std::string> metadata;  // every fact recorded by the builder
};

// A code's payment-model category, from the CMS mapping tables.
struct HccCategory {
  std::string_view model;  // as named by CMS: "CMS-HCC Model V28"
  std::string hcc;         // "HCC38"
  std::string_view label;  // "Diabetes with Glycemic, Unspecified, or No Complications"
};

// Where a search hit was found.
enum class SearchSource : uint8_t {
  kDescription = 0,
  kInclusionTerm = 1,
  kIndex = 2,
};
std::string_view SearchSourceName(SearchSource source);

struct SearchOptions {
  // Most hits returned. Default 10.
  int max_results = 10;
  // Only billable codes. Default false: categories are returned too.
  bool billable_only = false;
};

struct SearchHit {
  Code code;
  double score = 0;               // BM25 over words, higher is better
  std::string_view matched_text;  // the description, inclusion term or index path
  SearchSource source = SearchSource::kDescription;
};

struct CodeSetOptions {
  // Path of the data pack. Default empty: DefaultDataPackPath().
  std::string data_pack;
  // Check the pack's content hash when loading (a few milliseconds). Default true.
  bool verify_checksum = true;
};

// The loaded data pack. Immutable; safe for concurrent use.
class CodeSet {
 public:
  // NotFound: no pack at the path (or no default pack). DataLoss: not a pack,
  // truncated or corrupted. FailedPrecondition: a pack of another format version.
  static absl::StatusOr<std::unique_ptr<CodeSet>> Create(const CodeSetOptions& options);
  ~CodeSet();
  CodeSet(const CodeSet&) = delete;
  CodeSet& operator=(const CodeSet&) = delete;

  const DataPackInfo& info() const { return info_; }

  // The code written `code`: dotted or not, any case, surrounding spaces
  // ignored ("e11.9", "E119 "). nullopt if the code set has no such code.
  std::optional<Code> Find(std::string_view code) const;
  // True if `code` exists and is billable.
  bool IsBillable(std::string_view code) const;
  // The codes of a note reference: "E08.-" is E08 and everything below it,
  // "I10-I16" every category from I10 to I16 and their codes.
  std::vector<Code> Expand(const CodeRange& range) const;
  Code CodeAt(uint32_t id) const { return Code(this, id); }
  size_t code_count() const;
  // The 3-character categories, in code order.
  std::vector<Code> Categories() const;

  // A main term by title, ASCII case-insensitive; matches the whole printed
  // title ("Failure, failed") or its first comma-separated part ("failure").
  std::optional<IndexTerm> FindMainTerm(std::string_view title,
                                        IndexTable table = IndexTable::kDiseases) const;
  // Follows subterms from a main term: {"Failure", "heart", "congestive"}.
  // Returns the deepest term reached only if every step matched.
  std::optional<IndexTerm> LookupIndex(const std::vector<std::string_view>& path,
                                       IndexTable table = IndexTable::kDiseases) const;
  size_t index_term_count(IndexTable table) const;
  IndexTerm IndexTermAt(IndexTable table, uint32_t id) const {
    return IndexTerm(this, table, id);
  }

  // Best codes for free text, ranked, from descriptions, inclusion terms and
  // index paths.
  std::vector<SearchHit> Search(std::string_view text, const SearchOptions& options) const;

  // CMS-HCC (and other) model categories the code maps to, in every model of
  // the pack. Undotted or dotted input. Works for codes newer than the tabular
  // list too (the mapping tables may be of a later fiscal year).
  std::vector<HccCategory> HccCategories(std::string_view code) const;

  // A reference table by name. NotFound if the pack has none.
  absl::StatusOr<ReferenceTable> Table(std::string_view name) const;
  std::vector<std::string_view> TableNames() const;

  // For chartcoder's own components: the raw pack.
  const internal::PackReader& pack() const { return *pack_; }

 private:
  friend class Code;
  friend class IndexTerm;
  friend class ReferenceTable;
  struct Views;
  CodeSet();
  absl::Status Init(const CodeSetOptions& options);
  std::string_view HccLabel(std::string_view model, std::string_view hcc) const;

  std::unique_ptr<internal::PackReader> pack_;
  std::unique_ptr<Views> v_;
  DataPackInfo info_;
};

// The default data pack: $CHARTCODER_DATA if set; else chartcoder.ccpack beside
// the running executable, then in ../share/chartcoder/ from the executable and
// from the directory of libchartcoder itself (the build tree and an installed
// tree both work). NotFound names every place tried.
absl::StatusOr<std::string> DefaultDataPackPath();

// Sources for BuildDataPack().
struct DataPackSources {
  // Folder with the official files: icd10cm/ (tabular and index XML, neoplasm
  // table), hcc/ (CMS-HCC CSV tables), abbreviations/ (TSV/CSV inventories).
  std::string source_dir;
  // chartcoder's curated tables (the repository's data/ folder); may be empty.
  std::string curated_dir;
  // Coded corpora to learn coding profiles from, as (profile name, JSON Lines
  // file of {"id", "text", "codes"}); each becomes the table
  // "profile/<name>" (see CoderOptions::profile). Default none.
  std::vector<std::pair<std::string, std::string>> training_corpora;
};

// Compiles the sources into a pack at `output_path` (written atomically).
// NotFound: a required source file is missing (named in the message).
// InvalidArgument / DataLoss: a source file is malformed (file and line named).
// FailedPrecondition: the HCC tables are of different payment years.
absl::Status BuildDataPack(const DataPackSources& sources, const std::string& output_path);

}  // namespace chartcoder

#endif  // CHARTCODER_CODESET_H_
