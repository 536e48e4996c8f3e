#include "chartcoder/codeset.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "src/internal/strings.h"
#include "src/internal/build_config.h"
#include "src/internal/pack_builder.h"
#include "src/internal/pack_format.h"
#include "src/internal/pack_reader.h"
#include "src/internal/search_words.h"
#include "src/internal/status_macros.h"

namespace chartcoder {

using internal::BlockRecord;
using internal::ChapterRecord;
using internal::CodeRangeRecord;
using internal::CodeRecord;
using internal::IndexTermRecord;
using internal::kNone;
using internal::MetaRecord;
using internal::NoteRecord;
using internal::SearchDocRecord;
using internal::SearchWordRecord;
using internal::SectionId;
using internal::StrRef;
using internal::TableRecord;

struct CodeSet::Views {
  absl::Span<const MetaRecord> meta;
  absl::Span<const ChapterRecord> chapters;
  absl::Span<const BlockRecord> blocks;
  absl::Span<const CodeRecord> codes;
  absl::Span<const uint32_t> children;
  absl::Span<const NoteRecord> notes;
  absl::Span<const CodeRangeRecord> refs;
  absl::Span<const IndexTermRecord> index[2];  // by IndexTable
  uint32_t roots[2] = {0, 0};                 // main terms come first
  absl::Span<const StrRef> cells;
  absl::Span<const SearchDocRecord> docs;
  absl::Span<const SearchWordRecord> words;
  absl::Span<const uint32_t> postings;
  double average_doc_words = 1;
  absl::Span<const TableRecord> tables;
  absl::Span<const StrRef> table_cells;
  std::vector<uint32_t> categories;
};

namespace {

// Case-insensitive (ASCII) three-way comparison, the order the builder sorts
// index main terms in.
int CompareFolded(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char x = absl::ascii_tolower(static_cast<unsigned char>(a[i]));
    const char y = absl::ascii_tolower(static_cast<unsigned char>(b[i]));
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

bool EqualsFolded(std::string_view a, std::string_view b) { return CompareFolded(a, b) == 0; }

// The first comma-separated part of a title: "Failure, failed" -> "Failure".
std::string_view FirstPart(std::string_view title) {
  size_t comma = title.find(',');
  return comma == std::string_view::npos ? title : title.substr(0, comma);
}

// "e11.9 " -> "E119"; empty when the text cannot be a code.
std::string NormalizeCodeKey(std::string_view code) {
  std::string key;
  for (char c : code) {
    if (c == '.' || c == ' ' || c == '\t') continue;
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return "";
    key.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (key.size() > 7) return "";
  return key;
}

bool InRange(uint64_t first, uint64_t count, size_t size) {
  return first <= size && count <= size - first;
}

}  // namespace

std::string_view NoteKindName(NoteKind kind) {
  switch (kind) {
    case NoteKind::kInclusionTerm: return "inclusion_term";
    case NoteKind::kIncludes: return "includes";
    case NoteKind::kExcludes1: return "excludes1";
    case NoteKind::kExcludes2: return "excludes2";
    case NoteKind::kCodeFirst: return "code_first";
    case NoteKind::kUseAdditionalCode: return "use_additional_code";
    case NoteKind::kCodeAlso: return "code_also";
    case NoteKind::kNote: return "note";
    case NoteKind::kSeventhCharacterNote: return "seventh_character_note";
  }
  return "unknown";
}

std::string_view SearchSourceName(SearchSource source) {
  switch (source) {
    case SearchSource::kDescription: return "description";
    case SearchSource::kInclusionTerm: return "inclusion_term";
    case SearchSource::kIndex: return "index";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Code
// ---------------------------------------------------------------------------

const CodeRecord& Code::rec() const { return set_->v_->codes[id_]; }
std::string_view Code::code() const { return set_->pack_->Str(rec().code); }
std::string_view Code::key() const { return set_->pack_->Str(rec().key); }
std::string_view Code::description() const { return set_->pack_->Str(rec().description); }
bool Code::billable() const { return rec().flags & internal::kCodeBillable; }
bool Code::requires_seventh_character() const {
  return rec().flags & internal::kCodeRequiresSeventh;
}
bool Code::is_seventh_character_expansion() const {
  return rec().flags & internal::kCodeSeventhExpansion;
}
int Code::depth() const { return rec().depth; }

std::optional<Code> Code::parent() const {
  if (rec().parent == kNone) return std::nullopt;
  return Code(set_, rec().parent);
}

std::vector<Code> Code::children() const {
  std::vector<Code> out;
  const CodeRecord& r = rec();
  for (uint32_t i = 0; i < r.child_count; ++i) {
    out.push_back(Code(set_, set_->v_->children[r.first_child + i]));
  }
  return out;
}

size_t Code::descendant_count() const { return rec().descendant_count; }

std::vector<Code> Code::descendants() const {
  std::vector<Code> out;
  const uint32_t n = rec().descendant_count;
  out.reserve(n);
  for (uint32_t i = 1; i <= n; ++i) out.push_back(Code(set_, id_ + i));
  return out;
}

bool Code::Contains(const Code& other) const {
  return other.set_ == set_ && other.id_ >= id_ && other.id_ - id_ <= rec().descendant_count;
}

std::string_view Code::chapter() const {
  const auto& v = *set_->v_;
  return set_->pack_->Str(v.chapters[v.blocks[rec().block].chapter].name);
}
std::string_view Code::chapter_description() const {
  const auto& v = *set_->v_;
  return set_->pack_->Str(v.chapters[v.blocks[rec().block].chapter].description);
}
std::string_view Code::block() const {
  return set_->pack_->Str(set_->v_->blocks[rec().block].id);
}
std::string_view Code::block_description() const {
  return set_->pack_->Str(set_->v_->blocks[rec().block].description);
}

namespace {

// `*note` made from record `n` (its refs' memory reused).
void FillNote(const internal::PackReader& pack, absl::Span<const CodeRangeRecord> refs,
              const NoteRecord& n, Note* note) {
  note->kind = static_cast<NoteKind>(n.kind);
  note->text = pack.Str(n.text);
  note->refs.clear();
  for (uint32_t i = 0; i < n.ref_count; ++i) {
    const CodeRangeRecord& r = refs[n.first_ref + i];
    note->refs.push_back({pack.Str(r.first), pack.Str(r.last)});
  }
}

Note MakeNote(const internal::PackReader& pack, absl::Span<const CodeRangeRecord> refs,
              const NoteRecord& n) {
  Note note;
  FillNote(pack, refs, n, &note);
  return note;
}

// Calls add(first, count) for each run of note records in effect at code
// `id` of block `block`: its own, its ancestors', its block's and its
// chapter's, nearest first. (`Views`: CodeSet's, deduced.)
template <typename Views, typename F>
void ForEachNoteRunInEffect(const Views& v, uint32_t id, uint32_t block, F add) {
  for (; id != kNone; id = v.codes[id].parent) add(v.codes[id].first_note, v.codes[id].note_count);
  const BlockRecord& b = v.blocks[block];
  add(b.first_note, b.note_count);
  const ChapterRecord& c = v.chapters[b.chapter];
  add(c.first_note, c.note_count);
}

void AppendNotes(const internal::PackReader& pack, absl::Span<const NoteRecord> notes,
                 absl::Span<const CodeRangeRecord> refs, uint32_t first, uint32_t count,
                 std::optional<NoteKind> kind, std::vector<Note>* out) {
  for (uint32_t i = 0; i < count; ++i) {
    const NoteRecord& n = notes[first + i];
    if (kind && static_cast<NoteKind>(n.kind) != *kind) continue;
    out->push_back(MakeNote(pack, refs, n));
  }
}

}  // namespace

std::vector<Note> Code::notes() const {
  std::vector<Note> out;
  const auto& v = *set_->v_;
  AppendNotes(*set_->pack_, v.notes, v.refs, rec().first_note, rec().note_count, std::nullopt,
              &out);
  return out;
}

std::vector<Note> Code::NotesInEffect(NoteKind kind) const {
  std::vector<Note> out;
  NotesInEffect(kind, &out);
  return out;
}

void Code::NotesInEffect(NoteKind kind, std::vector<Note>* out) const {
  const auto& v = *set_->v_;
  const internal::PackReader& pack = *set_->pack_;
  size_t n = 0;  // notes written; those of *out beyond are reused
  auto add = [&](uint32_t first, uint32_t count) {
    for (uint32_t i = 0; i < count; ++i) {
      const NoteRecord& r = v.notes[first + i];
      if (static_cast<NoteKind>(r.kind) != kind) continue;
      if (n == out->size()) out->emplace_back();
      FillNote(pack, v.refs, r, &(*out)[n++]);
    }
  };
  ForEachNoteRunInEffect(v, id_, rec().block, add);
  out->resize(n);
}

void Code::NotesInEffect(std::span<const NoteKind> kinds, std::vector<Note>* out) const {
  const auto& v = *set_->v_;
  const internal::PackReader& pack = *set_->pack_;
  // The records of the kinds asked for, nearest first (a code has few).
  absl::InlinedVector<uint32_t, 16> found;
  auto add = [&](uint32_t first, uint32_t count) {
    for (uint32_t i = first; i < first + count; ++i) {
      const NoteKind k = static_cast<NoteKind>(v.notes[i].kind);
      if (std::find(kinds.begin(), kinds.end(), k) != kinds.end()) found.push_back(i);
    }
  };
  ForEachNoteRunInEffect(v, id_, rec().block, add);
  size_t n = 0;  // notes written; those of *out beyond are reused
  for (const NoteKind kind : kinds) {
    for (const uint32_t i : found) {
      const NoteRecord& r = v.notes[i];
      if (static_cast<NoteKind>(r.kind) != kind) continue;
      if (n == out->size()) out->emplace_back();
      FillNote(pack, v.refs, r, &(*out)[n++]);
    }
  }
  out->resize(n);
}

// ---------------------------------------------------------------------------
// IndexTerm
// ---------------------------------------------------------------------------

const IndexTermRecord& IndexTerm::rec() const {
  return set_->v_->index[static_cast<int>(table_)][id_];
}
std::string_view IndexTerm::title() const { return set_->pack_->Str(rec().title); }
std::string_view IndexTerm::nonessential_modifiers() const {
  return set_->pack_->Str(rec().nemod);
}
std::string_view IndexTerm::code() const { return set_->pack_->Str(rec().code); }
std::string_view IndexTerm::manifestation_code() const { return set_->pack_->Str(rec().manif); }
std::string_view IndexTerm::see() const { return set_->pack_->Str(rec().see); }
std::string_view IndexTerm::see_also() const { return set_->pack_->Str(rec().see_also); }
std::string_view IndexTerm::see_category() const {
  return set_->pack_->Str(rec().see_category);
}
std::string_view IndexTerm::neoplasm_code(NeoplasmColumn column) const {
  const uint32_t c = static_cast<uint32_t>(column);
  if (c >= rec().cell_count) return {};
  return set_->pack_->Str(set_->v_->cells[rec().first_cell + c]);
}
int IndexTerm::level() const { return rec().level; }

std::optional<IndexTerm> IndexTerm::parent() const {
  if (rec().parent == kNone) return std::nullopt;
  return IndexTerm(set_, table_, rec().parent);
}

std::vector<IndexTerm> IndexTerm::children() const {
  std::vector<IndexTerm> out;
  for (uint32_t i = 0; i < rec().child_count; ++i) {
    out.push_back(IndexTerm(set_, table_, rec().first_child + i));
  }
  return out;
}

std::optional<IndexTerm> IndexTerm::FindChild(std::string_view title) const {
  std::optional<IndexTerm> partial;
  for (uint32_t i = 0; i < rec().child_count; ++i) {
    IndexTerm t(set_, table_, rec().first_child + i);
    if (EqualsFolded(t.title(), title)) return t;
    if (!partial && EqualsFolded(FirstPart(t.title()), title)) partial = t;
  }
  return partial;
}

std::string IndexTerm::Path() const {
  std::vector<std::string_view> parts;
  for (std::optional<IndexTerm> t = *this; t; t = t->parent()) parts.push_back(t->title());
  std::reverse(parts.begin(), parts.end());
  return internal::Join(parts, " > ");
}

// ---------------------------------------------------------------------------
// ReferenceTable
// ---------------------------------------------------------------------------

std::string_view ReferenceTable::name() const {
  return set_->pack_->Str(set_->v_->tables[id_].name);
}
size_t ReferenceTable::row_count() const { return set_->v_->tables[id_].row_count; }
size_t ReferenceTable::column_count() const { return set_->v_->tables[id_].column_count; }
std::string_view ReferenceTable::column_name(size_t column) const {
  const TableRecord& t = set_->v_->tables[id_];
  if (column >= t.column_count) return {};
  return set_->pack_->Str(set_->v_->table_cells[t.first_cell + column]);
}
int ReferenceTable::ColumnIndex(std::string_view name) const {
  for (size_t c = 0; c < column_count(); ++c) {
    if (column_name(c) == name) return static_cast<int>(c);
  }
  return -1;
}
std::string_view ReferenceTable::cell(size_t row, size_t column) const {
  const TableRecord& t = set_->v_->tables[id_];
  if (row >= t.row_count || column >= t.column_count) return {};
  return set_->pack_->Str(
      set_->v_->table_cells[t.first_cell + (row + 1) * t.column_count + column]);
}

// ---------------------------------------------------------------------------
// CodeSet
// ---------------------------------------------------------------------------

CodeSet::CodeSet() : v_(std::make_unique<Views>()) {}
CodeSet::~CodeSet() = default;

absl::StatusOr<std::unique_ptr<CodeSet>> CodeSet::Create(const CodeSetOptions& options) {
  std::unique_ptr<CodeSet> set(new CodeSet());
  CC_RETURN_IF_ERROR(set->Init(options));
  return set;
}

absl::Status CodeSet::Init(const CodeSetOptions& options) {
  std::string path = options.data_pack;
  if (path.empty()) {
    CC_ASSIGN_OR_RETURN(path, DefaultDataPackPath());
  }
  internal::PackReader::Options ro;
  ro.verify_hash = options.verify_checksum;
  CC_ASSIGN_OR_RETURN(pack_, internal::PackReader::Open(path, ro));
  const internal::PackReader& p = *pack_;
  Views& v = *v_;
  CC_ASSIGN_OR_RETURN(v.meta, p.Array<MetaRecord>(SectionId::kMeta));
  CC_ASSIGN_OR_RETURN(v.chapters, p.Array<ChapterRecord>(SectionId::kChapters));
  CC_ASSIGN_OR_RETURN(v.blocks, p.Array<BlockRecord>(SectionId::kBlocks));
  CC_ASSIGN_OR_RETURN(v.codes, p.Array<CodeRecord>(SectionId::kCodes));
  CC_ASSIGN_OR_RETURN(v.children, p.Array<uint32_t>(SectionId::kCodeChildren));
  CC_ASSIGN_OR_RETURN(v.notes, p.Array<NoteRecord>(SectionId::kNotes));
  CC_ASSIGN_OR_RETURN(v.refs, p.Array<CodeRangeRecord>(SectionId::kNoteRefs));
  CC_ASSIGN_OR_RETURN(v.index[0], p.Array<IndexTermRecord>(SectionId::kIndexTerms));
  CC_ASSIGN_OR_RETURN(v.index[1], p.Array<IndexTermRecord>(SectionId::kNeoplasmTerms));
  CC_ASSIGN_OR_RETURN(v.cells, p.Array<StrRef>(SectionId::kIndexCells));
  CC_ASSIGN_OR_RETURN(v.docs, p.Array<SearchDocRecord>(SectionId::kSearchDocs));
  CC_ASSIGN_OR_RETURN(v.words, p.Array<SearchWordRecord>(SectionId::kSearchWords));
  CC_ASSIGN_OR_RETURN(v.postings, p.Array<uint32_t>(SectionId::kSearchPostings));
  CC_ASSIGN_OR_RETURN(v.tables, p.Array<TableRecord>(SectionId::kTables));
  CC_ASSIGN_OR_RETURN(v.table_cells, p.Array<StrRef>(SectionId::kTableCells));

  // Check every reference once, so that later accessors need no checks.
  auto bad = [&](std::string_view what, size_t i) {
    return absl::DataLossError(
        internal::StrCat(p.name(), ": corrupted pack (", what, " record ", i, ")"));
  };
  for (size_t i = 0; i < v.meta.size(); ++i) {
    if (!p.ValidRef(v.meta[i].key) || !p.ValidRef(v.meta[i].value)) return bad("meta", i);
  }
  for (size_t i = 0; i < v.notes.size(); ++i) {
    const NoteRecord& n = v.notes[i];
    if (!p.ValidRef(n.text) || !InRange(n.first_ref, n.ref_count, v.refs.size()) ||
        n.kind > static_cast<uint8_t>(NoteKind::kSeventhCharacterNote)) {
      return bad("note", i);
    }
  }
  for (size_t i = 0; i < v.refs.size(); ++i) {
    if (!p.ValidRef(v.refs[i].first) || !p.ValidRef(v.refs[i].last)) return bad("note ref", i);
  }
  for (size_t i = 0; i < v.chapters.size(); ++i) {
    const ChapterRecord& c = v.chapters[i];
    if (!p.ValidRef(c.name) || !p.ValidRef(c.description) ||
        !InRange(c.first_note, c.note_count, v.notes.size())) {
      return bad("chapter", i);
    }
  }
  for (size_t i = 0; i < v.blocks.size(); ++i) {
    const BlockRecord& b = v.blocks[i];
    if (!p.ValidRef(b.id) || !p.ValidRef(b.description) || b.chapter >= v.chapters.size() ||
        !InRange(b.first_note, b.note_count, v.notes.size())) {
      return bad("block", i);
    }
  }
  for (uint32_t c : v.children) {
    if (c >= v.codes.size()) return bad("code child", c);
  }
  size_t billable = 0;
  for (size_t i = 0; i < v.codes.size(); ++i) {
    const CodeRecord& r = v.codes[i];
    if (!p.ValidRef(r.code) || !p.ValidRef(r.key) || !p.ValidRef(r.description) ||
        (r.parent != kNone && r.parent >= v.codes.size()) ||
        !InRange(r.first_child, r.child_count, v.children.size()) ||
        r.descendant_count >= v.codes.size() - i ||
        !InRange(r.first_note, r.note_count, v.notes.size()) || r.block >= v.blocks.size() ||
        (i > 0 && !(p.Str(v.codes[i - 1].key) < p.Str(r.key)))) {
      return bad("code", i);
    }
    if (r.parent == kNone) v.categories.push_back(static_cast<uint32_t>(i));
    if (r.flags & internal::kCodeBillable) ++billable;
  }
  if (v.codes.empty()) return absl::DataLossError(internal::StrCat(p.name(), ": pack has no codes"));
  for (int t = 0; t < 2; ++t) {
    auto terms = v.index[t];
    bool roots_done = false;
    for (size_t i = 0; i < terms.size(); ++i) {
      const IndexTermRecord& r = terms[i];
      if (!p.ValidRef(r.title) || !p.ValidRef(r.nemod) || !p.ValidRef(r.code) ||
          !p.ValidRef(r.manif) || !p.ValidRef(r.see) || !p.ValidRef(r.see_also) ||
          !p.ValidRef(r.see_category) || (r.parent != kNone && r.parent >= i) ||
          !InRange(r.first_child, r.child_count, terms.size()) ||
          (r.child_count > 0 && r.first_child <= i) ||
          !InRange(r.first_cell, r.cell_count, v.cells.size())) {
        return bad("index term", i);
      }
      if (r.parent == kNone) {
        if (roots_done) return bad("index term", i);
        v.roots[t] = static_cast<uint32_t>(i + 1);
      } else {
        roots_done = true;
      }
    }
  }
  for (size_t i = 0; i < v.cells.size(); ++i) {
    if (!p.ValidRef(v.cells[i])) return bad("index cell", i);
  }
  uint64_t total_words = 0;
  for (size_t i = 0; i < v.docs.size(); ++i) {
    if (!p.ValidRef(v.docs[i].text) || v.docs[i].code >= v.codes.size() ||
        v.docs[i].source > static_cast<uint8_t>(SearchSource::kIndex)) {
      return bad("search document", i);
    }
    total_words += v.docs[i].word_count;
  }
  v.average_doc_words =
      v.docs.empty() ? 1.0 : static_cast<double>(total_words) / v.docs.size();
  for (size_t i = 0; i < v.words.size(); ++i) {
    const SearchWordRecord& w = v.words[i];
    if (!p.ValidRef(w.word) || !InRange(w.first_posting, w.posting_count, v.postings.size())) {
      return bad("search word", i);
    }
  }
  for (uint32_t d : v.postings) {
    if (d >= v.docs.size()) return bad("search posting", d);
  }
  for (size_t i = 0; i < v.tables.size(); ++i) {
    const TableRecord& t = v.tables[i];
    if (!p.ValidRef(t.name) ||
        !InRange(t.first_cell, (uint64_t{t.row_count} + 1) * t.column_count,
                 v.table_cells.size())) {
      return bad("table", i);
    }
  }
  for (size_t i = 0; i < v.table_cells.size(); ++i) {
    if (!p.ValidRef(v.table_cells[i])) return bad("table cell", i);
  }

  // Facts about the pack.
  info_.path = path;
  info_.format_version = p.format_version();
  info_.size_bytes = p.size();
  for (const MetaRecord& m : v.meta) {
    info_.metadata[std::string(p.Str(m.key))] = std::string(p.Str(m.value));
  }
  auto meta_int = [&](const char* key) {
    int value = 0;
    auto it = info_.metadata.find(key);
    if (it != info_.metadata.end()) (void)internal::ParseInt(it->second, &value);
    return value;
  };
  info_.icd10cm_fiscal_year = meta_int("icd10cm.fiscal_year");
  info_.icd10cm_index_year = meta_int("icd10cm.index_year");
  info_.hcc_payment_year = meta_int("hcc.payment_year");
  if (auto it = info_.metadata.find("hcc.models"); it != info_.metadata.end()) {
    for (std::string_view m : internal::Split(it->second, ';', true)) info_.hcc_models.emplace_back(m);
  }
  info_.code_count = v.codes.size();
  info_.billable_code_count = billable;
  info_.index_term_count = v.index[0].size();
  info_.neoplasm_term_count = v.index[1].size();
  return absl::OkStatus();
}

size_t CodeSet::code_count() const { return v_->codes.size(); }

std::vector<Code> CodeSet::Categories() const {
  std::vector<Code> out;
  for (uint32_t id : v_->categories) out.push_back(Code(this, id));
  return out;
}

std::optional<Code> CodeSet::Find(std::string_view code) const {
  const std::string key = NormalizeCodeKey(code);
  if (key.empty()) return std::nullopt;
  auto codes = v_->codes;
  auto it = std::lower_bound(codes.begin(), codes.end(), key,
                             [&](const CodeRecord& r, const std::string& k) {
                               return pack_->Str(r.key) < k;
                             });
  if (it == codes.end() || pack_->Str(it->key) != key) return std::nullopt;
  return Code(this, static_cast<uint32_t>(it - codes.begin()));
}

bool CodeSet::IsBillable(std::string_view code) const {
  std::optional<Code> c = Find(code);
  return c && c->billable();
}

std::vector<Code> CodeSet::Expand(const CodeRange& range) const {
  std::vector<Code> out;
  auto strip = [](std::string_view s) {
    while (!s.empty() && (s.back() == '-' || s.back() == '.')) s.remove_suffix(1);
    return s;
  };
  std::optional<Code> first = Find(strip(range.first));
  if (!first) return out;
  uint32_t last_id = first->id_ + static_cast<uint32_t>(first->descendant_count());
  if (!range.last.empty()) {
    std::optional<Code> last = Find(strip(range.last));
    if (!last || last->id_ < first->id_) return out;
    last_id = last->id_ + static_cast<uint32_t>(last->descendant_count());
  }
  for (uint32_t id = first->id_; id <= last_id; ++id) out.push_back(Code(this, id));
  return out;
}

std::optional<IndexTerm> CodeSet::FindMainTerm(std::string_view title, IndexTable table) const {
  const int t = static_cast<int>(table);
  auto roots = v_->index[t].subspan(0, v_->roots[t]);
  auto it = std::lower_bound(roots.begin(), roots.end(), title,
                             [&](const IndexTermRecord& r, std::string_view q) {
                               return CompareFolded(pack_->Str(r.title), q) < 0;
                             });
  std::optional<IndexTerm> partial;
  for (; it != roots.end(); ++it) {
    std::string_view candidate = pack_->Str(it->title);
    if (CompareFolded(candidate.substr(0, title.size()), title) != 0) break;
    const uint32_t id = static_cast<uint32_t>(it - roots.begin());
    if (candidate.size() == title.size()) return IndexTerm(this, table, id);
    if (!partial && EqualsFolded(FirstPart(candidate), title)) {
      partial = IndexTerm(this, table, id);
    }
  }
  return partial;
}

std::optional<IndexTerm> CodeSet::LookupIndex(const std::vector<std::string_view>& path,
                                              IndexTable table) const {
  if (path.empty()) return std::nullopt;
  std::optional<IndexTerm> term = FindMainTerm(path[0], table);
  for (size_t i = 1; term && i < path.size(); ++i) term = term->FindChild(path[i]);
  return term;
}

size_t CodeSet::index_term_count(IndexTable table) const {
  return v_->index[static_cast<int>(table)].size();
}

std::vector<SearchHit> CodeSet::Search(std::string_view text,
                                       const SearchOptions& options) const {
  std::vector<std::string> words;
  internal::SearchWords(text, &words);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  const Views& v = *v_;
  const double n = static_cast<double>(v.docs.size());
  constexpr double kK1 = 1.2;
  constexpr double kB = 0.75;
  absl::flat_hash_map<uint32_t, double> doc_scores;
  for (const std::string& w : words) {
    auto it = std::lower_bound(v.words.begin(), v.words.end(), w,
                               [&](const SearchWordRecord& r, const std::string& q) {
                                 return pack_->Str(r.word) < q;
                               });
    if (it == v.words.end() || pack_->Str(it->word) != w) continue;
    const double df = it->posting_count;
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (uint32_t i = 0; i < it->posting_count; ++i) {
      const uint32_t doc = v.postings[it->first_posting + i];
      const double len = v.docs[doc].word_count;
      doc_scores[doc] +=
          idf * (kK1 + 1) / (1 + kK1 * (1 - kB + kB * len / v.average_doc_words));
    }
  }
  // Best document per code.
  absl::flat_hash_map<uint32_t, uint32_t> best_doc;
  for (const auto& [doc, score] : doc_scores) {
    const uint32_t code = v.docs[doc].code;
    if (options.billable_only && !(v.codes[code].flags & internal::kCodeBillable)) continue;
    auto [it, inserted] = best_doc.emplace(code, doc);
    if (!inserted && (score > doc_scores[it->second] ||
                      (score == doc_scores[it->second] && doc < it->second))) {
      it->second = doc;
    }
  }
  std::vector<SearchHit> hits;
  hits.reserve(best_doc.size());
  for (const auto& [code, doc] : best_doc) {
    hits.push_back({Code(this, code), doc_scores[doc], pack_->Str(v.docs[doc].text),
                    static_cast<SearchSource>(v.docs[doc].source)});
  }
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.code.billable() != b.code.billable()) return a.code.billable();
    if (a.code.depth() != b.code.depth()) return a.code.depth() < b.code.depth();
    return a.code.id() < b.code.id();
  });
  if (options.max_results >= 0 && hits.size() > static_cast<size_t>(options.max_results)) {
    hits.erase(hits.begin() + options.max_results, hits.end());
  }
  return hits;
}

absl::StatusOr<ReferenceTable> CodeSet::Table(std::string_view name) const {
  for (size_t i = 0; i < v_->tables.size(); ++i) {
    if (pack_->Str(v_->tables[i].name) == name) {
      return ReferenceTable(this, static_cast<uint32_t>(i));
    }
  }
  return absl::NotFoundError(internal::StrCat("data pack ", info_.path, " has no table ", name));
}

std::vector<std::string_view> CodeSet::TableNames() const {
  std::vector<std::string_view> out;
  for (const TableRecord& t : v_->tables) out.push_back(pack_->Str(t.name));
  return out;
}

std::string_view CodeSet::HccLabel(std::string_view model, std::string_view hcc) const {
  absl::StatusOr<ReferenceTable> labels = Table("hcc/ra_labels");
  if (!labels.ok()) return {};
  const int cc = labels->ColumnIndex("cc");
  const int label = labels->ColumnIndex("label");
  const int domain = labels->ColumnIndex("model_domain");
  const int version = labels->ColumnIndex("model_version");
  if (cc < 0 || label < 0 || domain < 0 || version < 0) return {};
  // "CMS-HCC Model V24" -> (CMS-HCC, V24); "CMS-HCC ESRD Model V21" -> (ESRD, V21);
  // "RxHCC Model V08" -> (RxHCC, R08).
  std::string_view want_version = model.substr(model.rfind(' ') + 1);
  std::string rx_version;
  std::string_view want_domain = "CMS-HCC";
  if (internal::Contains(model, "ESRD")) want_domain = "ESRD";
  if (model.starts_with("RxHCC")) {
    want_domain = "RxHCC";
    rx_version = internal::StrCat("R", want_version.substr(1));
    want_version = rx_version;
  }
  for (size_t r = 0; r < labels->row_count(); ++r) {
    if (labels->cell(r, cc) == hcc && labels->cell(r, domain) == want_domain &&
        labels->cell(r, version) == want_version) {
      return labels->cell(r, label);
    }
  }
  return {};
}

std::vector<HccCategory> CodeSet::HccCategories(std::string_view code) const {
  std::vector<HccCategory> out;
  const std::string key = NormalizeCodeKey(code);
  absl::StatusOr<ReferenceTable> map = Table("hcc/ra_dx_to_cc");
  if (key.empty() || !map.ok()) return out;
  const int dx = map->ColumnIndex("diagnosis_code");
  const int cc = map->ColumnIndex("cc");
  const int model = map->ColumnIndex("model_name");
  if (dx != 0 || cc < 0 || model < 0) return out;
  // Rows are sorted by diagnosis code (kTableSortedByFirstColumn).
  size_t lo = 0, hi = map->row_count();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (map->cell(mid, 0) < key) lo = mid + 1; else hi = mid;
  }
  for (size_t r = lo; r < map->row_count() && map->cell(r, 0) == key; ++r) {
    HccCategory h;
    h.model = map->cell(r, model);
    h.hcc = internal::StrCat(h.model.starts_with("RxHCC") ? "RXHCC" : "HCC", map->cell(r, cc));
    h.label = HccLabel(h.model, h.hcc);
    out.push_back(std::move(h));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Default pack location and building
// ---------------------------------------------------------------------------

absl::StatusOr<std::string> DefaultDataPackPath() {
  namespace fs = std::filesystem;
  constexpr const char* kName = "chartcoder.ccpack";
  std::vector<std::string> tried;
  if (const char* env = std::getenv("CHARTCODER_DATA"); env != nullptr && *env != '\0') {
    if (fs::is_regular_file(env)) return std::string(env);
    return absl::NotFoundError(
        internal::StrCat("CHARTCODER_DATA=", env, " does not name a data pack file"));
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / kName);
    candidates.push_back(exe.parent_path() / ".." / "share" / "chartcoder" / kName);
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&DefaultDataPackPath), &info) != 0 &&
      info.dli_fname != nullptr) {
    fs::path lib = fs::absolute(info.dli_fname, ec).parent_path();
    candidates.push_back(lib / CHARTCODER_LIB_TO_DATADIR / kName);
    candidates.push_back(lib / ".." / "share" / "chartcoder" / kName);
  }
  for (const fs::path& c : candidates) {
    if (fs::is_regular_file(c, ec)) return fs::weakly_canonical(c, ec).string();
    tried.push_back(c.lexically_normal().string());
  }
  return absl::NotFoundError(internal::StrCat(
      "no data pack found (set CHARTCODER_DATA or pass --data); tried ",
      internal::Join(tried, ", ")));
}

absl::Status BuildDataPack(const DataPackSources& sources, const std::string& output_path) {
  return internal::BuildPack(sources, output_path);
}

}  // namespace chartcoder
