// _chartcoder.CodeSet: the data pack's code set, index, HCC mappings and
// reference tables.
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/python/binding.h"
#include "chartcoder/codeset.h"
#include "src/internal/strings.h"

namespace chartcoder::python {
namespace {

using internal::StrCat;

py::object CodeToPy(const Code& c) {
  std::optional<Code> parent = c.parent();
  const std::vector<Code> kids = c.children();
  py::list children(kids.size());
  for (size_t i = 0; i < kids.size(); ++i) children[i] = Str(kids[i].code());
  return T().code(Str(c.code()), Str(c.description()), c.billable(),
                  parent ? py::object(Str(parent->code())) : py::none(), children,
                  Str(c.chapter()), Str(c.chapter_description()), Str(c.block()),
                  Str(c.block_description()), c.requires_seventh_character(), c.depth());
}

py::object NoteToPy(const Note& n) {
  py::list refs(n.refs.size());
  for (size_t i = 0; i < n.refs.size(); ++i) {
    const CodeRange& r = n.refs[i];
    refs[i] = r.last.empty() ? Str(r.first) : Str(StrCat(r.first, "-", r.last));
  }
  return T().note(Str(NoteKindName(n.kind)), Str(n.text), refs);
}

py::object IndexTermToPy(const IndexTerm& t) {
  const std::vector<IndexTerm> kids = t.children();
  py::list children(kids.size());
  for (size_t i = 0; i < kids.size(); ++i) children[i] = Str(kids[i].title());
  return T().index_term(Str(t.title()), Str(t.Path()), Str(t.code()),
                        Str(t.manifestation_code()), Str(t.see()), Str(t.see_also()), t.level(),
                        children);
}

Code FindOrRaise(const CodeSet& s, const std::string& code) {
  std::optional<Code> c = s.Find(code);
  if (!c) Raise(absl::NotFoundError(StrCat("no ICD-10-CM code '", code, "' in the data pack")));
  return *c;
}

IndexTable ParseIndexTable(const std::string& name) {
  if (name == "diseases") return IndexTable::kDiseases;
  if (name == "neoplasms") return IndexTable::kNeoplasms;
  Raise(absl::InvalidArgumentError(
      StrCat("unknown index table '", name, "' (use diseases or neoplasms)")));
}

constexpr NoteKind kAllNoteKinds[] = {
    NoteKind::kInclusionTerm, NoteKind::kIncludes,          NoteKind::kExcludes1,
    NoteKind::kExcludes2,     NoteKind::kCodeFirst,         NoteKind::kUseAdditionalCode,
    NoteKind::kCodeAlso,      NoteKind::kNote,              NoteKind::kSeventhCharacterNote};

NoteKind ParseNoteKind(const std::string& name) {
  for (NoteKind k : kAllNoteKinds) {
    if (NoteKindName(k) == name) return k;
  }
  std::vector<std::string_view> names;
  for (NoteKind k : kAllNoteKinds) names.push_back(NoteKindName(k));
  Raise(absl::InvalidArgumentError(
      StrCat("unknown note kind '", name, "' (use ", internal::Join(names, ", "), ")")));
}

}  // namespace

void RegisterCodeSet(py::module_& m) {
  m.def("default_data_pack_path", [] { return Unwrap(DefaultDataPackPath()); },
        "The data pack used when none is given: $CHARTCODER_DATA, else the pack\n"
        "installed beside libchartcoder. NotFoundError names every place tried.");

  py::class_<CodeSet, std::shared_ptr<CodeSet>>(
      m, "CodeSet",
      "The ICD-10-CM code set, its Alphabetic Index and the CMS-HCC reference tables,\n"
      "loaded from a data pack (memory-mapped). Immutable; safe to share between threads.")
      .def(py::init([](const py::object& data, bool verify_checksum) {
             CodeSetOptions o;
             o.data_pack = FsPath(data);
             o.verify_checksum = verify_checksum;
             absl::StatusOr<std::unique_ptr<CodeSet>> s;
             {
               py::gil_scoped_release release;
               s = CodeSet::Create(o);
             }
             return std::shared_ptr<CodeSet>(Unwrap(std::move(s)));
           }),
           py::arg("data") = py::none(), py::arg("verify_checksum") = true,
           "Loads the pack at `data` (default: default_data_pack_path()).\n"
           "NotFoundError: no pack there. DataLossError: not a pack, truncated or corrupt.\n"
           "FailedPreconditionError: a pack of another format version.")
      .def("find",
           [](const CodeSet& s, const std::string& code) -> py::object {
             std::optional<Code> c = s.Find(code);
             return c ? CodeToPy(*c) : py::none();
           },
           py::arg("code"),
           "The code, dotted or not, any case (\"e119\", \"E11.9\"); None if there is none.")
      .def("__getitem__",
           [](const CodeSet& s, const std::string& code) { return CodeToPy(FindOrRaise(s, code)); },
           py::arg("code"), "The code; NotFoundError (a KeyError) if there is none.")
      .def("__contains__",
           [](const CodeSet& s, const std::string& code) { return s.Find(code).has_value(); })
      .def("__len__", &CodeSet::code_count)
      .def("is_billable", &CodeSet::IsBillable, py::arg("code"),
           "True if the code exists and is billable (valid for HIPAA transactions).")
      .def("descendants",
           [](const CodeSet& s, const std::string& code) {
             std::vector<std::string> out;
             for (const Code& d : FindOrRaise(s, code).descendants()) out.emplace_back(d.code());
             return out;
           },
           py::arg("code"), "Every code below `code`, in code order. NotFoundError if unknown.")
      .def("categories",
           [](const CodeSet& s) {
             std::vector<std::string> out;
             for (const Code& c : s.Categories()) out.emplace_back(c.code());
             return out;
           },
           "The 3-character categories, in code order.")
      .def("notes",
           [](const CodeSet& s, const std::string& code, std::optional<std::string> kind,
              bool in_effect) {
             const Code c = FindOrRaise(s, code);
             std::vector<Note> notes;
             if (!in_effect) {
               notes = c.notes();
               if (kind) {
                 const NoteKind k = ParseNoteKind(*kind);
                 std::erase_if(notes, [k](const Note& n) { return n.kind != k; });
               }
             } else if (kind) {
               notes = c.NotesInEffect(ParseNoteKind(*kind));
             } else {
               for (NoteKind k : kAllNoteKinds) {
                 std::vector<Note> more = c.NotesInEffect(k);
                 notes.insert(notes.end(), more.begin(), more.end());
               }
             }
             py::list out(notes.size());
             for (size_t i = 0; i < notes.size(); ++i) out[i] = NoteToPy(notes[i]);
             return out;
           },
           py::arg("code"), py::arg("kind") = py::none(), py::arg("in_effect") = false,
           "The instructional notes printed at `code` (kind: \"excludes1\", ...; None for all).\n"
           "With in_effect=True: the notes that apply there, the code's own and those of\n"
           "its ancestors, block and chapter, nearest first. NotFoundError if unknown.")
      .def("search",
           [](const CodeSet& s, const std::string& text, int limit, bool billable_only) {
             if (limit < 1) Raise(absl::InvalidArgumentError("search: limit must be at least 1"));
             SearchOptions o;
             o.max_results = limit;
             o.billable_only = billable_only;
             std::vector<SearchHit> hits;
             {
               py::gil_scoped_release release;
               hits = s.Search(text, o);
             }
             py::list out(hits.size());
             for (size_t i = 0; i < hits.size(); ++i) {
               const SearchHit& h = hits[i];
               out[i] = T().search_hit(Str(h.code.code()), Str(h.code.description()),
                                       h.code.billable(), h.score, Str(h.matched_text),
                                       Str(SearchSourceName(h.source)));
             }
             return out;
           },
           py::arg("text"), py::arg("limit") = 10, py::arg("billable_only") = false,
           "The best codes for free text, ranked (BM25 over descriptions, inclusion terms\n"
           "and Alphabetic Index paths).")
      .def("hcc_categories",
           [](const CodeSet& s, const std::string& code) {
             const std::vector<HccCategory> cats = s.HccCategories(code);
             py::list out(cats.size());
             for (size_t i = 0; i < cats.size(); ++i) {
               out[i] = T().hcc_category(Str(cats[i].model), Str(cats[i].hcc), Str(cats[i].label));
             }
             return out;
           },
           py::arg("code"), "The payment-model categories the code maps to, in every model.")
      .def("lookup_index",
           [](const CodeSet& s, py::object path, const std::string& table) -> py::object {
             std::vector<std::string> steps;
             if (py::isinstance<py::str>(path)) {
               const std::string joined = path.cast<std::string>();
               for (std::string_view p : internal::Split(joined, '>')) {
                 steps.emplace_back(internal::Trim(p));
               }
             } else {
               steps = path.cast<std::vector<std::string>>();
             }
             std::vector<std::string_view> views(steps.begin(), steps.end());
             std::optional<IndexTerm> t = s.LookupIndex(views, ParseIndexTable(table));
             return t ? IndexTermToPy(*t) : py::none();
           },
           py::arg("path"), py::arg("table") = "diseases",
           "Follows the Alphabetic Index from a main term: \"Failure > heart > congestive\"\n"
           "or [\"Failure\", \"heart\", \"congestive\"]; None unless every step matches.\n"
           "table: \"diseases\" or \"neoplasms\".")
      .def("table",
           [](const CodeSet& s, const std::string& name) {
             const ReferenceTable t = Unwrap(s.Table(name));
             py::list columns(t.column_count());
             for (size_t c = 0; c < t.column_count(); ++c) columns[c] = Str(t.column_name(c));
             py::list rows(t.row_count());
             for (size_t r = 0; r < t.row_count(); ++r) {
               py::tuple row(t.column_count());
               for (size_t c = 0; c < t.column_count(); ++c) row[c] = Str(t.cell(r, c));
               rows[r] = row;
             }
             return T().table(Str(t.name()), columns, rows);
           },
           py::arg("name"),
           "A reference table (\"hcc/ra_labels\", \"curated/...\"); NotFoundError if none.")
      .def("table_names",
           [](const CodeSet& s) {
             std::vector<std::string> out;
             for (std::string_view n : s.TableNames()) out.emplace_back(n);
             return out;
           },
           "The names of the reference tables in the pack.")
      .def_property_readonly(
          "info",
          [](const CodeSet& s) {
            const DataPackInfo& i = s.info();
            return T().data_pack_info(i.path, i.format_version, i.size_bytes,
                                      i.icd10cm_fiscal_year, i.icd10cm_index_year,
                                      i.hcc_payment_year, i.hcc_models, i.code_count,
                                      i.billable_code_count, i.index_term_count,
                                      i.neoplasm_term_count, i.metadata);
          },
          "What the pack holds and where it came from (DataPackInfo).")
      .def("__repr__", [](const CodeSet& s) {
        return StrCat("<chartcoder.CodeSet ", s.info().path, " (ICD-10-CM FY",
                      s.info().icd10cm_fiscal_year, ", HCC PY", s.info().hcc_payment_year, ")>");
      });
}

}  // namespace chartcoder::python
