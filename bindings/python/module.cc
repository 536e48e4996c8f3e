// _chartcoder: a thin binding of the chartcoder C++ library. The chartcoder
// package on top of it is the API to use (see chartcoder/__init__.py).
//
// Conventions of every binding here:
//  - a failed absl::Status raises the chartcoder exception of its code
//    (chartcoder._errors: InvalidArgumentError is a ValueError, NotFoundError
//    a KeyError, DataLossError, ...);
//  - the GIL is released around every call into the C++ objects that does
//    real work (coding, scoring, search, analysis, crypto, file I/O; not
//    around O(1) look-ups such as CodeSet.find, where releasing costs more
//    than the call);
//  - results are the data classes of chartcoder._types, and every offset in
//    them is an index into a Python str (byte offsets converted per text).
#include <pybind11/pybind11.h>

#include <string>

#include "bindings/python/binding.h"
#include "chartcoder/version.h"

PYBIND11_MODULE(_chartcoder, m) {
  namespace cc = chartcoder::python;
  m.doc() = "Thin binding of the chartcoder C++ library; use the chartcoder package.";
  cc::InitTypes();
  m.def("library_version", [] { return std::string(chartcoder::LibraryVersion()); });
  cc::RegisterCodeSet(m);
  cc::RegisterText(m);
  cc::RegisterHcc(m);
  cc::RegisterSealed(m);
  cc::RegisterPipeline(m);
}
