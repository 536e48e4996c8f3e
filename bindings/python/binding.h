// Shared helpers of the _chartcoder module: raising chartcoder's exceptions
// for a failed absl::Status, the Python classes of chartcoder._types, str
// arguments viewed as UTF-8 without copying, and byte offsets converted to
// str indices.
//
// Threading: everything here needs the GIL except OffsetMap, IndexMap and
// the TextArg view, which are plain data once built.
#ifndef CHARTCODER_BINDINGS_PYTHON_BINDING_H_
#define CHARTCODER_BINDINGS_PYTHON_BINDING_H_

#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/context.h"
#include "chartcoder/extractor.h"
#include "chartcoder/hcc.h"
#include "chartcoder/sections.h"
#include "chartcoder/text.h"

namespace chartcoder::python {

namespace py = pybind11;

// Raises the chartcoder exception for `status` (chartcoder._errors maps the
// code name to the class: InvalidArgumentError, NotFoundError, ...).
[[noreturn]] void Raise(const absl::Status& status);
inline void Check(const absl::Status& status) {
  if (!status.ok()) Raise(status);
}
template <typename T>
T Unwrap(absl::StatusOr<T>&& value) {
  if (!value.ok()) Raise(value.status());
  return *std::move(value);
}

// Pauses Python's cyclic garbage collector while a batch of results is
// built: the results hold no reference cycles, and without the pause the
// collector re-scans the growing result list over and over (a third of the
// conversion time on a 1,000-chart batch). Restores the previous state. Made
// and destroyed with the GIL held.
class ScopedGcPause {
 public:
  ScopedGcPause() : was_enabled_(PyGC_Disable() != 0) {}
  ~ScopedGcPause() {
    if (was_enabled_) PyGC_Enable();
  }
  ScopedGcPause(const ScopedGcPause&) = delete;
  ScopedGcPause& operator=(const ScopedGcPause&) = delete;

 private:
  bool was_enabled_;
};

// The status with `prefix` and ": " before its message (same code).
absl::Status Annotate(const absl::Status& status, std::string_view prefix);

// A Python str of UTF-8 bytes (raises UnicodeDecodeError if they are not).
py::str Str(std::string_view utf8);
// None for nullopt, else the value.
template <typename T>
py::object Optional(const std::optional<T>& v) {
  return v ? py::cast(*v) : py::none();
}

// The data classes of chartcoder._types, looked up once (constructed
// positionally: field order is part of the binding).
struct Types {
  py::object cue, assertion, context_result, token, sentence, section, document;
  py::object evidence, assigned_code, mention, hcc, chart_result;
  py::object demographics, scored_hcc, removed_hcc, edit, score_term, code_outcome, risk_score,
      blended_risk_score, categorization;
  py::object code, note, search_hit, hcc_category, index_term, data_pack_info, table;
  py::object key_info, sealed_file_info;
  // The 32 assertions without cues (Assertion is frozen, so results share
  // them), indexed by their flags: negated 1, uncertain 2, historical 4,
  // hypothetical 8, family 16.
  std::array<py::object, 32> plain_assertions;
};
const Types& T();
// Looks the classes up; called once, when the module is imported.
void InitTypes();

// A text argument: a str (viewed through its UTF-8 form, which Python caches
// in the object) or bytes, without copying. The view stays valid while
// `owner` lives; it may be read without the GIL.
struct TextArg {
  py::object owner;
  std::string_view bytes;
  bool is_str = false;
};
// InvalidArgumentError (naming `what`) for a str that cannot be UTF-8
// (lone surrogates); TypeError for anything but str and bytes.
TextArg ViewText(py::handle obj, std::string_view what);

// Text reading options: encoding "utf-8" (default), "windows-1252" or
// "latin-1"; InvalidArgument names an unknown encoding.
ChartTextOptions TextOptions(const std::string& encoding, bool repair_invalid_utf8);
// A str is always read as UTF-8: InvalidArgument (naming `what`) when
// `options` say another encoding (pass bytes instead).
absl::Status CheckStrEncoding(const TextArg& text, const ChartTextOptions& options,
                              std::string_view what);
// The text every offset of a result indexes: the input str itself when the
// analyzed text is byte-identical to it, else the analyzed text decoded.
py::object TextObject(const TextArg& input, std::string_view analyzed);

// A file-system path argument: str, bytes or os.PathLike; None is "".
std::string FsPath(py::handle obj);

// Byte offsets of a UTF-8 text -> indices of the Python str. Built in one
// pass, only for non-ASCII text (ASCII offsets are the indices): the number
// of characters before every 64-byte block, the rest counted on lookup.
class OffsetMap {
 public:
  OffsetMap() = default;
  explicit OffsetMap(std::string_view utf8);
  // The index of the character holding byte `offset` (offsets at or past the
  // end map to the length).
  int64_t operator()(uint32_t offset) const;
  bool ascii() const { return ascii_; }

 private:
  std::string_view text_;
  bool ascii_ = true;
  std::vector<uint32_t> blocks_;  // characters before block i (64 bytes each)
};

// The reverse: str indices -> byte offsets of the same text.
class IndexMap {
 public:
  explicit IndexMap(std::string_view utf8);
  size_t length() const { return length_; }  // in characters
  // InvalidArgument (naming `what`) unless 0 <= start <= end <= length.
  absl::StatusOr<std::pair<uint32_t, uint32_t>> ToBytes(int64_t start, int64_t end,
                                                        std::string_view what) const;

 private:
  bool ascii_ = true;
  size_t length_ = 0;
  std::vector<uint32_t> starts_;  // byte offset of each character, then the size
};

// Python values of C++ results (need the GIL).
py::object AssertionToPy(const Assertion& a, const OffsetMap& map);
py::object DemographicsToPy(const Demographics& d);
// Interned names of enums that recur in every result.
py::object SectionStr(SectionKind kind);
py::object LexiconSourceStr(LexiconSource source);
py::object RiskScoreToPy(const RiskScore& score);
py::object CategorizationToPy(const RiskScore& score);
py::object BlendToPy(const BlendedRiskScore& blend, py::dict components);

// A chartcoder._types.Demographics (or any object with its attributes) ->
// C++. InvalidArgument names the bad field.
absl::StatusOr<Demographics> DemographicsFromPy(py::handle obj);

// "V24" -> HccModel; InvalidArgument names the text.
HccModel ModelFromPy(const std::string& name);

// Register the classes and functions of each component on the module.
void RegisterCodeSet(py::module_& m);
void RegisterText(py::module_& m);
void RegisterHcc(py::module_& m);
void RegisterPipeline(py::module_& m);
void RegisterSealed(py::module_& m);

}  // namespace chartcoder::python

#endif  // CHARTCODER_BINDINGS_PYTHON_BINDING_H_
