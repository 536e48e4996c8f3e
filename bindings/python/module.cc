// _chartcoder: a thin one-to-one binding of the chartcoder C++ API. The
// `chartcoder` package on top maps status codes to exceptions. The GIL is
// released around calls on immutable objects.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "chartcoder/codeset.h"
#include "chartcoder/version.h"

namespace py = pybind11;

namespace {

// Raises chartcoder's exception for a failed status: the Python package maps
// the code name to its exception class.
[[noreturn]] void Raise(const absl::Status& status) {
  py::object errors = py::module_::import("chartcoder._errors");
  errors.attr("raise_status")(absl::StatusCodeToString(status.code()),
                              std::string(status.message()));
  throw py::error_already_set();
}

py::dict CodeToDict(const chartcoder::Code& c) {
  py::dict d;
  d["code"] = std::string(c.code());
  d["description"] = std::string(c.description());
  d["billable"] = c.billable();
  auto p = c.parent();
  d["parent"] = p ? py::cast(std::string(p->code())) : py::none();
  py::list kids;
  for (const auto& k : c.children()) kids.append(std::string(k.code()));
  d["children"] = kids;
  d["chapter"] = std::string(c.chapter());
  d["block"] = std::string(c.block());
  return d;
}

}  // namespace

PYBIND11_MODULE(_chartcoder, m) {
  m.doc() = "Thin binding of the chartcoder C++ library; use the chartcoder package.";
  m.def("library_version", [] { return std::string(chartcoder::LibraryVersion()); });

  py::class_<chartcoder::CodeSet, std::shared_ptr<chartcoder::CodeSet>>(m, "CodeSet")
      .def(py::init([](const std::string& data) {
             chartcoder::CodeSetOptions o;
             o.data_pack = data;
             auto s = chartcoder::CodeSet::Create(o);
             if (!s.ok()) Raise(s.status());
             return std::shared_ptr<chartcoder::CodeSet>(std::move(*s));
           }),
           py::arg("data") = "")
      .def("find",
           [](const chartcoder::CodeSet& s, const std::string& code) -> py::object {
             auto c = s.Find(code);
             if (!c) return py::none();
             return CodeToDict(*c);
           })
      .def("is_billable", &chartcoder::CodeSet::IsBillable)
      .def("search",
           [](const chartcoder::CodeSet& s, const std::string& text, int limit,
              bool billable_only) {
             chartcoder::SearchOptions o;
             o.max_results = limit;
             o.billable_only = billable_only;
             std::vector<chartcoder::SearchHit> hits;
             {
               py::gil_scoped_release release;
               hits = s.Search(text, o);
             }
             py::list out;
             for (const auto& h : hits) {
               py::dict d = CodeToDict(h.code);
               d["score"] = h.score;
               d["matched"] = std::string(h.matched_text);
               d["source"] = std::string(chartcoder::SearchSourceName(h.source));
               out.append(d);
             }
             return out;
           },
           py::arg("text"), py::arg("limit") = 10, py::arg("billable_only") = false)
      .def("hcc_categories",
           [](const chartcoder::CodeSet& s, const std::string& code) {
             py::list out;
             for (const auto& h : s.HccCategories(code)) {
               py::dict d;
               d["model"] = std::string(h.model);
               d["hcc"] = h.hcc;
               d["label"] = std::string(h.label);
               out.append(d);
             }
             return out;
           })
      .def_property_readonly("info", [](const chartcoder::CodeSet& s) {
        const auto& i = s.info();
        py::dict d;
        d["path"] = i.path;
        d["format_version"] = i.format_version;
        d["icd10cm_fiscal_year"] = i.icd10cm_fiscal_year;
        d["hcc_payment_year"] = i.hcc_payment_year;
        d["hcc_models"] = i.hcc_models;
        d["code_count"] = i.code_count;
        d["billable_code_count"] = i.billable_code_count;
        return d;
      });
}
