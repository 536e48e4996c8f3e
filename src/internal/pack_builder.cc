#include "src/internal/strings.h"
#include "src/internal/pack_builder.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"
#include "src/internal/build_config.h"
#include "src/internal/csv.h"
#include "src/internal/icd10cm_xml.h"
#include "src/internal/lexicon_builder.h"
#include "src/internal/pack_format.h"
#include "src/internal/pack_writer.h"
#include "src/internal/profile_builder.h"
#include "src/internal/search_words.h"
#include "src/internal/status_macros.h"

namespace chartcoder::internal {
namespace {

namespace fs = std::filesystem;

struct FoundFile {
  fs::path path;
  int year = 0;
};

// The newest file in `dir` whose name fully matches `pattern` (one capture
// group: the year). NotFound names the folder and what was looked for.
absl::StatusOr<FoundFile> FindNewest(const fs::path& dir, const std::string& pattern,
                                     std::string_view what) {
  RE2 re(pattern);
  FoundFile best;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    std::string year;
    if (RE2::FullMatch(name, re, &year)) {
      int y = 0;
      if (ParseInt(year, &y) && y > best.year) best = {e.path(), y};
    }
  }
  if (ec) {
    return absl::NotFoundError(StrCat(dir.string(), ": cannot read folder (", what,
                                            " expected here): ", ec.message()));
  }
  if (best.year == 0) {
    return absl::NotFoundError(
        StrCat(dir.string(), ": no ", what, " file (looked for ", pattern, ")"));
  }
  return best;
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path.string(), ": cannot open"));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Undot(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != '.') out.push_back(c);
  }
  return out;
}

std::string FoldAscii(std::string_view s) { return AsciiLower(s); }

class Builder {
 public:
  void Meta(std::string_view key, std::string_view value) {
    meta_[std::string(key)] = std::string(value);
  }

  absl::Status AddSourceDigest(const fs::path& root, const fs::path& file,
                               std::string_view bytes) {
    std::error_code ec;
    fs::path rel = fs::relative(file, root, ec);
    Meta(StrCat("source.", ec ? file.filename().string() : rel.string(), ".sha256"),
         Sha256Hex(bytes));
    return absl::OkStatus();
  }

  absl::Status AddTabular(const ParsedTabular& t, const std::string& path) {
    StringTableBuilder& s = w_.strings();
    // Chapters and blocks.
    std::vector<ChapterRecord> chapters;
    for (const ParsedChapter& c : t.chapters) {
      auto [first, count] = AddNotes(c.notes);
      chapters.push_back({s.Add(c.name), s.Add(c.description), first, count});
    }
    std::vector<BlockRecord> blocks;
    for (const ParsedBlock& b : t.blocks) {
      auto [first, count] = AddNotes(b.notes);
      blocks.push_back({s.Add(b.id), s.Add(b.description), static_cast<uint32_t>(b.chapter),
                        first, count, 0});
    }
    // Codes, sorted by undotted key.
    const size_t n = t.codes.size();
    std::vector<std::string> keys(n);
    for (size_t i = 0; i < n; ++i) keys[i] = Undot(t.codes[i].code);
    std::vector<uint32_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
    std::vector<uint32_t> new_id(n);
    for (size_t i = 0; i < n; ++i) new_id[order[i]] = static_cast<uint32_t>(i);
    for (size_t i = 1; i < n; ++i) {
      if (keys[order[i]] == keys[order[i - 1]]) {
        return absl::InvalidArgumentError(
            StrCat(path, ": code ", t.codes[order[i]].code, " appears twice"));
      }
    }
    std::vector<uint32_t> descendants(n, 0);
    // Children come after their parent in document order, so a reverse pass
    // sums subtree sizes.
    for (size_t i = n; i-- > 0;) {
      if (t.codes[i].parent >= 0) descendants[t.codes[i].parent] += 1 + descendants[i];
    }
    // The largest new id in each subtree (children follow parents in
    // document order, so a reverse pass sees children first).
    std::vector<uint32_t> max_below(n);
    for (size_t i = 0; i < n; ++i) max_below[i] = new_id[i];
    for (size_t i = n; i-- > 0;) {
      const int p = t.codes[i].parent;
      if (p >= 0) max_below[p] = std::max(max_below[p], max_below[i]);
    }
    std::vector<CodeRecord> codes(n);
    std::vector<uint32_t> child_ids;
    size_t billable = 0;
    for (size_t i = 0; i < n; ++i) {
      const ParsedCode& c = t.codes[order[i]];
      CodeRecord& r = codes[i];
      r.code = s.Add(c.code);
      r.key = s.Add(keys[order[i]]);
      r.description = s.Add(c.description);
      r.parent = c.parent < 0 ? kNone : new_id[c.parent];
      std::vector<uint32_t> kids;
      for (int k : c.children) kids.push_back(new_id[k]);
      std::sort(kids.begin(), kids.end());
      r.first_child = static_cast<uint32_t>(child_ids.size());
      r.child_count = static_cast<uint32_t>(kids.size());
      child_ids.insert(child_ids.end(), kids.begin(), kids.end());
      r.descendant_count = descendants[order[i]];
      auto [first, count] = AddNotes(c.notes);
      r.first_note = first;
      r.note_count = count;
      r.block = static_cast<uint32_t>(c.block);
      r.flags = (c.billable ? kCodeBillable : 0) |
                (c.seventh_expansion ? kCodeSeventhExpansion : 0) |
                (c.requires_seventh ? kCodeRequiresSeventh : 0);
      r.depth = static_cast<uint8_t>(std::min(c.depth, 255));
      if (c.billable) ++billable;
      // Descendants must follow contiguously in code order (Code::Contains
      // and Code::descendants rely on it).
      if (max_below[order[i]] != i + r.descendant_count) {
        return absl::InvalidArgumentError(StrCat(
            path, ": codes below ", c.code, " are not contiguous in code order"));
      }
    }
    // Search documents: descriptions and inclusion terms.
    for (size_t i = 0; i < n; ++i) {
      const ParsedCode& c = t.codes[order[i]];
      AddDoc(c.description, static_cast<uint32_t>(i), DocSource::kDescription);
      for (const ParsedNote& note : c.notes) {
        if (note.kind == NoteKind::kInclusionTerm) {
          AddDoc(note.text, static_cast<uint32_t>(i), DocSource::kInclusionTerm);
        }
      }
    }
    code_ids_.clear();
    for (size_t i = 0; i < n; ++i) code_ids_[keys[order[i]]] = static_cast<uint32_t>(i);
    parsed_to_pack_ = new_id;
    w_.AddArray(SectionId::kChapters, chapters);
    w_.AddArray(SectionId::kBlocks, blocks);
    w_.AddArray(SectionId::kCodes, codes);
    w_.AddArray(SectionId::kCodeChildren, child_ids);
    Meta("icd10cm.fiscal_year", StrCat(t.version));
    Meta("icd10cm.code_count", StrCat(n));
    Meta("icd10cm.billable_code_count", StrCat(billable));
    return absl::OkStatus();
  }

  // Flattens an index tree breadth-first: main terms first (sorted by folded
  // title), then each term's children contiguously.
  void AddIndex(const ParsedIndex& index, SectionId id, bool add_search_docs) {
    StringTableBuilder& s = w_.strings();
    std::vector<const ParsedTerm*> order;
    std::vector<uint32_t> parents;
    for (const ParsedTerm& t : index.main_terms) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const ParsedTerm* a, const ParsedTerm* b) {
      return FoldAscii(a->title) < FoldAscii(b->title);
    });
    parents.assign(order.size(), kNone);
    std::vector<IndexTermRecord> recs;
    std::vector<std::string> paths;
    for (size_t i = 0; i < order.size(); ++i) {
      const ParsedTerm& t = *order[i];
      IndexTermRecord r{};
      r.title = s.Add(t.title);
      r.nemod = s.Add(t.nemod);
      r.code = s.Add(t.code);
      r.manif = s.Add(t.manif);
      r.see = s.Add(t.see);
      r.see_also = s.Add(t.see_also);
      r.see_category = s.Add(t.see_category);
      r.parent = parents[i];
      r.level = r.parent == kNone ? 0 : static_cast<uint8_t>(recs[r.parent].level + 1);
      r.first_cell = static_cast<uint32_t>(cells_.size());
      r.cell_count = static_cast<uint32_t>(t.cells.size());
      for (const std::string& c : t.cells) cells_.push_back(s.Add(c));
      r.first_child = static_cast<uint32_t>(order.size());
      r.child_count = static_cast<uint32_t>(t.children.size());
      for (const ParsedTerm& c : t.children) {
        order.push_back(&c);
        parents.push_back(static_cast<uint32_t>(i));
      }
      paths.push_back(r.parent == kNone ? t.title
                                        : StrCat(paths[r.parent], " > ", t.title));
      recs.push_back(r);
      if (add_search_docs && !t.code.empty()) {
        std::string key = Undot(t.code);
        while (!key.empty() && (key.back() == '-')) key.pop_back();
        auto it = code_ids_.find(key);
        if (it != code_ids_.end()) {
          AddDoc(paths.back(), it->second, DocSource::kIndex);
        } else {
          ++unresolved_index_codes_;
        }
      }
    }
    w_.AddArray(id, recs);
  }

  absl::Status AddTable(std::string name, const DelimitedTable& t, bool has_header,
                        const std::string& path) {
    if (t.rows.empty()) {
      return absl::InvalidArgumentError(StrCat(path, ": empty table"));
    }
    StringTableBuilder& s = w_.strings();
    size_t columns = t.rows[0].size();
    std::vector<std::vector<std::string>> rows(t.rows.begin() + (has_header ? 1 : 0),
                                               t.rows.end());
    std::vector<std::string> header;
    if (has_header) {
      header = t.rows[0];
    } else {
      for (size_t c = 0; c < columns; ++c) header.push_back(StrCat("column", c + 1));
    }
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].size() != columns) {
        return absl::InvalidArgumentError(
            StrCat(path, ":", t.line_numbers[r + (has_header ? 1 : 0)], ": row has ",
                         rows[r].size(), " fields, the header has ", columns));
      }
    }
    uint32_t flags = 0;
    if (name == "hcc/ra_dx_to_cc") {
      std::stable_sort(rows.begin(), rows.end());
      flags |= kTableSortedByFirstColumn;
      auto col = std::find(header.begin(), header.end(), "model_name");
      if (col == header.end()) {
        return absl::InvalidArgumentError(StrCat(path, ": no model_name column"));
      }
      std::set<std::string> models;
      for (const auto& row : rows) models.insert(row[col - header.begin()]);
      Meta("hcc.models", Join(models, ";"));
    }
    TableRecord rec{};
    rec.name = s.Add(name);
    rec.column_count = static_cast<uint32_t>(columns);
    rec.row_count = static_cast<uint32_t>(rows.size());
    rec.first_cell = static_cast<uint32_t>(table_cells_.size());
    rec.flags = flags;
    for (const std::string& h : header) table_cells_.push_back(s.Add(h));
    for (const auto& row : rows) {
      for (const std::string& cell : row) table_cells_.push_back(s.Add(cell));
    }
    tables_.push_back(rec);
    return absl::OkStatus();
  }

  absl::Status AddLexicon(const ParsedTabular& tabular, const ParsedIndex& index,
                          const ParsedIndex& neoplasms,
                          const std::map<std::string, DelimitedTable>& tables) {
    LexiconSources src;
    src.tabular = &tabular;
    src.code_ids = &parsed_to_pack_;
    src.code_by_key = &code_ids_;
    src.index = &index;
    src.neoplasms = &neoplasms;
    src.tables = &tables;
    return BuildLexicon(src, &w_, &meta_);
  }

  absl::Status Finish(const std::string& output_path) {
    BuildSearchIndex();
    StringTableBuilder& s = w_.strings();
    w_.AddArray(SectionId::kNotes, notes_);
    w_.AddArray(SectionId::kNoteRefs, note_refs_);
    w_.AddArray(SectionId::kIndexCells, cells_);
    w_.AddArray(SectionId::kTables, tables_);
    w_.AddArray(SectionId::kTableCells, table_cells_);
    Meta("index.unresolved_codes", StrCat(unresolved_index_codes_));
    std::vector<MetaRecord> meta;
    for (const auto& [k, v] : meta_) meta.push_back({s.Add(k), s.Add(v)});
    w_.AddArray(SectionId::kMeta, meta);
    return w_.WriteFile(output_path);
  }

 private:
  std::pair<uint32_t, uint32_t> AddNotes(const std::vector<ParsedNote>& notes) {
    StringTableBuilder& s = w_.strings();
    const uint32_t first = static_cast<uint32_t>(notes_.size());
    for (const ParsedNote& n : notes) {
      NoteRecord r{};
      r.text = s.Add(n.text);
      r.kind = static_cast<uint8_t>(n.kind);
      r.first_ref = static_cast<uint32_t>(note_refs_.size());
      for (const auto& [a, b] : ExtractCodeRefs(n.text)) {
        note_refs_.push_back({s.Add(a), s.Add(b)});
      }
      r.ref_count = static_cast<uint32_t>(note_refs_.size()) - r.first_ref;
      notes_.push_back(r);
    }
    return {first, static_cast<uint32_t>(notes.size())};
  }

  void AddDoc(std::string_view text, uint32_t code, DocSource source) {
    std::vector<std::string> words;
    SearchWords(text, &words);
    if (words.empty()) return;
    const uint32_t doc = static_cast<uint32_t>(docs_.size());
    docs_.push_back({w_.strings().Add(text), code,
                     static_cast<uint16_t>(std::min<size_t>(words.size(), 65535)),
                     static_cast<uint8_t>(source), 0});
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (std::string& word : words) postings_[std::move(word)].push_back(doc);
  }

  void BuildSearchIndex() {
    StringTableBuilder& s = w_.strings();
    std::vector<SearchWordRecord> words;
    std::vector<uint32_t> postings;
    for (const auto& [word, docs] : postings_) {  // std::map: sorted by word
      words.push_back({s.Add(word), static_cast<uint32_t>(postings.size()),
                       static_cast<uint32_t>(docs.size())});
      postings.insert(postings.end(), docs.begin(), docs.end());
    }
    w_.AddArray(SectionId::kSearchDocs, docs_);
    w_.AddArray(SectionId::kSearchWords, words);
    w_.AddArray(SectionId::kSearchPostings, postings);
  }

  PackWriter w_;
  std::map<std::string, std::string> meta_;
  std::vector<NoteRecord> notes_;
  std::vector<CodeRangeRecord> note_refs_;
  std::vector<StrRef> cells_;
  std::vector<SearchDocRecord> docs_;
  std::map<std::string, std::vector<uint32_t>> postings_;
  std::vector<TableRecord> tables_;
  std::vector<StrRef> table_cells_;
  absl::flat_hash_map<std::string, uint32_t> code_ids_;
  std::vector<uint32_t> parsed_to_pack_;
  size_t unresolved_index_codes_ = 0;
};

bool LooksNumeric(std::string_view s) {
  double d;
  return ParseDouble(s, &d);
}

// Adds every table file in `dir` (sorted by name) under `prefix/`. For files
// whose stem ends in _YYYY the year is cut from the table name and returned in
// `years` by table name.
absl::Status AddTablesFrom(Builder* b, const fs::path& root, const fs::path& dir,
                           const std::string& prefix, bool comments,
                           std::map<std::string, int>* years,
                           std::map<std::string, DelimitedTable>* parsed) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::string name = e.path().filename().string();
    if ((ext == ".csv" || ext == ".tsv") && !name.starts_with("golden_")) {
      files.push_back(e.path());
    }
  }
  if (ec) return absl::NotFoundError(StrCat(dir.string(), ": ", ec.message()));
  std::sort(files.begin(), files.end());
  static const LazyRE2 kYear = {R"((.*)_((?:19|20)\d\d))"};
  // Table name -> (year, file): only the newest year of a table is compiled.
  std::map<std::string, std::pair<int, fs::path>> chosen;
  for (const fs::path& f : files) {
    std::string stem = f.stem().string();
    std::string base = stem;
    std::string year_text;
    int year = 0;
    if (RE2::FullMatch(stem, *kYear, &base, &year_text)) ParseInt(year_text, &year);
    std::string name = StrCat(prefix, "/", base);
    auto it = chosen.find(name);
    if (it == chosen.end() || it->second.first < year) chosen[name] = {year, f};
  }
  for (const auto& [name, entry] : chosen) {
    const auto& [year, f] = entry;
    CC_ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    CC_RETURN_IF_ERROR(b->AddSourceDigest(root, f, text));
    if (comments) {
      // '#' lines are comments in chartcoder's own tables; blank them to keep
      // line numbers in error messages.
      std::string kept;
      for (std::string_view line : Split(text, '\n')) {
        if (!line.starts_with("#")) StrAppend(&kept, line);
        kept += "\n";
      }
      text = std::move(kept);
    }
    const char delim = f.extension() == ".tsv" ? '\t' : ',';
    CC_ASSIGN_OR_RETURN(DelimitedTable t, ParseDelimited(text, delim, f.string()));
    // Tab-separated inventories may come without a header row; a first row
    // with a number in it is data.
    bool has_header = true;
    if (delim == '\t' && !t.rows.empty()) {
      for (const std::string& cell : t.rows[0]) {
        if (LooksNumeric(cell)) has_header = false;
      }
    }
    CC_RETURN_IF_ERROR(b->AddTable(name, t, has_header, f.string()));
    if (year > 0) (*years)[name] = year;
    (*parsed)[name] = std::move(t);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BuildPack(const DataPackSources& sources, const std::string& output_path) {
  if (sources.source_dir.empty()) {
    return absl::InvalidArgumentError("no reference-data source folder given");
  }
  const fs::path root(sources.source_dir);
  if (!fs::is_directory(root)) {
    return absl::NotFoundError(StrCat(root.string(), ": no such folder"));
  }
  Builder b;
  b.Meta("builder.version", CHARTCODER_VERSION_STRING);

  // ICD-10-CM: tabular list, alphabetic index, table of neoplasms.
  const fs::path icd = root / "icd10cm";
  CC_ASSIGN_OR_RETURN(FoundFile tab_file,
                      FindNewest(icd, R"(icd-?10-?cm[_-]tabular[_-](\d{4})\.xml)",
                                 "ICD-10-CM tabular list XML"));
  CC_ASSIGN_OR_RETURN(FoundFile idx_file,
                      FindNewest(icd, R"(icd-?10-?cm[_-]index[_-](\d{4})\.xml)",
                                 "ICD-10-CM alphabetic index XML"));
  CC_ASSIGN_OR_RETURN(FoundFile neo_file,
                      FindNewest(icd, R"(icd-?10-?cm[_-]neoplasm[_-](\d{4})\.xml)",
                                 "ICD-10-CM table of neoplasms XML"));
  CC_ASSIGN_OR_RETURN(ParsedTabular tab, ParseTabularXml(tab_file.path.string()));
  CC_RETURN_IF_ERROR(b.AddTabular(tab, tab_file.path.string()));
  CC_ASSIGN_OR_RETURN(ParsedIndex idx, ParseIndexXml(idx_file.path.string()));
  b.AddIndex(idx, SectionId::kIndexTerms, /*add_search_docs=*/true);
  b.Meta("icd10cm.index_year", StrCat(idx.version));
  CC_ASSIGN_OR_RETURN(ParsedIndex neo, ParseIndexXml(neo_file.path.string()));
  b.AddIndex(neo, SectionId::kNeoplasmTerms, /*add_search_docs=*/false);
  b.Meta("icd10cm.neoplasm_year", StrCat(neo.version));
  for (const fs::path& f : {tab_file.path, idx_file.path, neo_file.path}) {
    CC_ASSIGN_OR_RETURN(std::string bytes, ReadFile(f));
    CC_RETURN_IF_ERROR(b.AddSourceDigest(root, f, bytes));
  }

  // CMS-HCC model tables.
  std::map<std::string, int> years;
  const fs::path hcc = root / "hcc";
  if (!fs::is_directory(hcc)) {
    return absl::NotFoundError(StrCat(hcc.string(), ": no CMS-HCC table folder"));
  }
  std::map<std::string, DelimitedTable> tables;
  CC_RETURN_IF_ERROR(AddTablesFrom(&b, root, hcc, "hcc", false, &years, &tables));
  for (const char* required : {"hcc/ra_dx_to_cc", "hcc/ra_coefficients", "hcc/ra_hierarchies",
                               "hcc/ra_labels"}) {
    if (years.find(required) == years.end()) {
      return absl::NotFoundError(StrCat(hcc.string(), ": no ", required + 4,
                                              "_YYYY.csv (CMS-HCC table with payment year)"));
    }
  }
  int payment_year = 0;
  for (const auto& [name, year] : years) {
    if (payment_year == 0) payment_year = year;
    if (year != payment_year) {
      return absl::FailedPreconditionError(StrCat(
          hcc.string(), ": CMS-HCC tables are of different payment years (", name, " is ",
          year, ", another is ", payment_year, ")"));
    }
  }
  b.Meta("hcc.payment_year", StrCat(payment_year));

  // Abbreviation inventories (optional) and curated tables.
  const fs::path abbr = root / "abbreviations";
  if (fs::is_directory(abbr)) {
    CC_RETURN_IF_ERROR(AddTablesFrom(&b, root, abbr, "abbreviations", false, &years, &tables));
  }
  if (!sources.curated_dir.empty()) {
    const fs::path curated(sources.curated_dir);
    if (!fs::is_directory(curated)) {
      return absl::NotFoundError(StrCat(curated.string(), ": no such folder"));
    }
    CC_RETURN_IF_ERROR(AddTablesFrom(&b, curated, curated, "curated", true, &years, &tables));
  }
  for (const auto& [name, corpus] : sources.training_corpora) {
    DelimitedTable t;
    CC_RETURN_IF_ERROR(LearnProfile(corpus, ProfileOptions(), &t));
    CC_RETURN_IF_ERROR(b.AddTable(StrCat("profile/", name), t, true, corpus));
    CC_ASSIGN_OR_RETURN(std::string bytes, ReadFile(corpus));
    CC_RETURN_IF_ERROR(b.AddSourceDigest(fs::path(corpus).parent_path(), corpus, bytes));
    b.Meta(StrCat("profile.", name, ".associations"), StrCat(t.rows.size() - 1));
  }
  CC_RETURN_IF_ERROR(b.AddLexicon(tab, idx, neo, tables));
  return b.Finish(output_path);
}

}  // namespace chartcoder::internal
