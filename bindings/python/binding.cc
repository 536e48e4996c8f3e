#include "bindings/python/binding.h"

#include <algorithm>
#include <array>

#include "src/internal/strings.h"

namespace chartcoder::python {

using internal::StrCat;

namespace {

// Set once when the module is imported (see InitTypes), then read-only.
const Types* g_types = nullptr;
py::object* g_raise_status = nullptr;

bool IsLead(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

bool IsAscii(std::string_view s) {
  unsigned char any = 0;
  for (char c : s) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// Interned str objects for the names of a small enum, made once.
template <typename Enum, int kCount>
py::object EnumStr(Enum value, std::string_view (*name)(Enum)) {
  static std::array<py::object, kCount>* table = [name] {
    auto* t = new std::array<py::object, kCount>;
    for (int i = 0; i < kCount; ++i) (*t)[i] = Str(name(static_cast<Enum>(i)));
    return t;
  }();
  const int i = static_cast<int>(value);
  if (i < 0 || i >= kCount) return Str(name(value));
  return (*table)[i];
}

}  // namespace

py::object LexiconSourceStr(LexiconSource source) {
  return EnumStr<LexiconSource, 8>(source, &LexiconSourceName);
}

void InitTypes() {
  py::module_ t = py::module_::import("chartcoder._types");
  auto* types = new Types;
  auto get = [&t](const char* name) { return t.attr(name); };
  types->cue = get("Cue");
  types->assertion = get("Assertion");
  for (size_t bits = 0; bits < types->plain_assertions.size(); ++bits) {
    // negated, uncertain, historical, hypothetical, family: bits 0-4.
    types->plain_assertions[bits] =
        types->assertion((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0,
                         (bits & 16) != 0, py::tuple());
  }
  types->context_result = get("ContextResult");
  types->token = get("Token");
  types->sentence = get("Sentence");
  types->section = get("Section");
  types->document = get("Document");
  types->evidence = get("Evidence");
  types->assigned_code = get("AssignedCode");
  types->mention = get("Mention");
  types->hcc = get("Hcc");
  types->chart_result = get("ChartResult");
  types->demographics = get("Demographics");
  types->scored_hcc = get("ScoredHcc");
  types->removed_hcc = get("RemovedHcc");
  types->edit = get("Edit");
  types->score_term = get("ScoreTerm");
  types->code_outcome = get("CodeOutcome");
  types->risk_score = get("RiskScore");
  types->blended_risk_score = get("BlendedRiskScore");
  types->categorization = get("Categorization");
  types->code = get("Code");
  types->note = get("Note");
  types->search_hit = get("SearchHit");
  types->hcc_category = get("HccCategory");
  types->index_term = get("IndexTerm");
  types->data_pack_info = get("DataPackInfo");
  types->table = get("Table");
  types->key_info = get("KeyInfo");
  types->sealed_file_info = get("SealedFileInfo");
  g_types = types;
  g_raise_status = new py::object(py::module_::import("chartcoder._errors").attr("raise_status"));
}

const Types& T() { return *g_types; }

void Raise(const absl::Status& status) {
  (*g_raise_status)(absl::StatusCodeToString(status.code()),
                    std::string(internal::FromAbsl(status.message())));
  throw py::error_already_set();  // raise_status always raises
}

absl::Status Annotate(const absl::Status& status, std::string_view prefix) {
  return absl::Status(status.code(),
                      internal::ToAbsl(StrCat(prefix, ": ", internal::FromAbsl(status.message()))));
}

py::str Str(std::string_view utf8) {
  PyObject* s = PyUnicode_DecodeUTF8(utf8.data(), static_cast<Py_ssize_t>(utf8.size()), "strict");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

TextArg ViewText(py::handle obj, std::string_view what) {
  TextArg out;
  out.owner = py::reinterpret_borrow<py::object>(obj);
  if (PyUnicode_Check(obj.ptr())) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(obj.ptr(), &n);
    if (p == nullptr) {
      // A lone surrogate: find it to name its index.
      PyErr_Clear();
      const Py_ssize_t len = PyUnicode_GetLength(obj.ptr());
      Py_ssize_t at = 0;
      for (; at < len; ++at) {
        const Py_UCS4 c = PyUnicode_ReadChar(obj.ptr(), at);
        if (c >= 0xD800 && c <= 0xDFFF) break;
      }
      Raise(absl::InvalidArgumentError(
          StrCat(what, ": the text holds a lone surrogate at index ", at,
                 " and cannot be encoded as UTF-8")));
    }
    out.bytes = std::string_view(p, static_cast<size_t>(n));
    out.is_str = true;
  } else if (PyBytes_Check(obj.ptr())) {
    out.bytes = std::string_view(PyBytes_AS_STRING(obj.ptr()),
                                 static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr())));
  } else {
    throw py::type_error(StrCat(what, ": expected str or bytes, got ",
                                Py_TYPE(obj.ptr())->tp_name));
  }
  return out;
}

std::string FsPath(py::handle obj) {
  if (obj.is_none()) return "";
  py::object path = py::reinterpret_steal<py::object>(PyOS_FSPath(obj.ptr()));
  if (!path) throw py::error_already_set();
  if (PyBytes_Check(path.ptr())) return std::string(path.cast<py::bytes>());
  return path.cast<std::string>();
}

ChartTextOptions TextOptions(const std::string& encoding, bool repair_invalid_utf8) {
  ChartTextOptions o;
  o.encoding = Unwrap(ParseTextEncoding(encoding));
  o.repair_invalid_utf8 = repair_invalid_utf8;
  return o;
}

absl::Status CheckStrEncoding(const TextArg& text, const ChartTextOptions& options,
                              std::string_view what) {
  if (text.is_str && options.encoding != TextEncoding::kUtf8) {
    return absl::InvalidArgumentError(
        StrCat(what, ": a str is always UTF-8; pass bytes to read ",
               TextEncodingName(options.encoding), " text"));
  }
  return absl::OkStatus();
}

py::object TextObject(const TextArg& input, std::string_view analyzed) {
  if (input.is_str && analyzed == input.bytes) return input.owner;
  return Str(analyzed);
}

// ---------------------------------------------------------------------------
// Offsets

OffsetMap::OffsetMap(std::string_view utf8) : text_(utf8), ascii_(IsAscii(utf8)) {
  if (ascii_) return;
  blocks_.resize(utf8.size() / 64 + 2);
  uint32_t count = 0;
  for (size_t b = 0; b < utf8.size(); b += 64) {
    blocks_[b / 64] = count;
    const size_t e = std::min(b + 64, utf8.size());
    for (size_t i = b; i < e; ++i) count += IsLead(utf8[i]);
  }
  blocks_.back() = count;  // the length, for offsets at or past the end
}

int64_t OffsetMap::operator()(uint32_t offset) const {
  if (offset >= text_.size()) return ascii_ ? text_.size() : blocks_.back();
  if (ascii_) return offset;
  const size_t block = offset / 64;
  int64_t count = blocks_[block];
  for (size_t i = block * 64; i < offset; ++i) count += IsLead(text_[i]);
  return count;
}

IndexMap::IndexMap(std::string_view utf8) : ascii_(IsAscii(utf8)) {
  if (ascii_) {
    length_ = utf8.size();
    starts_.push_back(static_cast<uint32_t>(utf8.size()));
    return;
  }
  for (size_t i = 0; i < utf8.size(); ++i) {
    if (IsLead(utf8[i])) starts_.push_back(static_cast<uint32_t>(i));
  }
  length_ = starts_.size();
  starts_.push_back(static_cast<uint32_t>(utf8.size()));
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> IndexMap::ToBytes(int64_t start, int64_t end,
                                                                std::string_view what) const {
  if (start < 0 || end < start || static_cast<uint64_t>(end) > length_) {
    return absl::InvalidArgumentError(StrCat(what, ": span (", start, ", ", end,
                                             ") is not within the text of length ", length_));
  }
  if (ascii_) return std::make_pair(static_cast<uint32_t>(start), static_cast<uint32_t>(end));
  return std::make_pair(starts_[start], starts_[end]);
}

// ---------------------------------------------------------------------------
// Conversions

namespace {

// negated, uncertain, historical, hypothetical, family as bits 0-4 (the
// index of Types::plain_assertions).
size_t AssertionBits(bool negated, bool uncertain, bool historical, bool hypothetical,
                     bool family) {
  return size_t{negated} | size_t{uncertain} << 1 | size_t{historical} << 2 |
         size_t{hypothetical} << 3 | size_t{family} << 4;
}

}  // namespace

py::object AssertionToPy(const Assertion& a, const OffsetMap& map) {
  if (a.cues.empty()) {
    return T().plain_assertions[AssertionBits(a.negated, a.uncertain, a.historical,
                                              a.hypothetical, a.family)];
  }
  py::tuple cues(a.cues.size());
  for (size_t i = 0; i < a.cues.size(); ++i) {
    const Cue& c = a.cues[i];
    cues[i] = T().cue(EnumStr<CueKind, kCueKindCount>(c.kind, &CueKindName),
                      EnumStr<CueKind, kCueKindCount>(c.attribute, &CueKindName), map(c.begin),
                      map(c.end));
  }
  return T().assertion(a.negated, a.uncertain, a.historical, a.hypothetical, a.family, cues);
}

py::object SectionStr(SectionKind kind) {
  return EnumStr<SectionKind, kSectionKindCount>(kind, &SectionKindName);
}

py::object DemographicsToPy(const Demographics& d) {
  return T().demographics(d.age, Str(SexName(d.sex)), Str(DualStatusName(d.dual)), d.orec,
                          d.institutional, d.new_enrollee, d.chronic_snp,
                          d.segment ? py::object(Str(SegmentCode(*d.segment))) : py::none());
}

namespace {

py::list CodesOf(const RiskScore& score, int hcc) {
  py::list out;
  for (std::string_view c : score.CodesOf(hcc)) out.append(Str(c));
  return out;
}

py::list ScoredHccs(const RiskScore& score) {
  py::list out(score.hccs.size());
  for (size_t i = 0; i < score.hccs.size(); ++i) {
    const HccResult& h = score.hccs[i];
    out[i] = T().scored_hcc(h.hcc, Str(h.label), CodesOf(score, h.hcc), h.scored,
                            h.scored ? py::object(py::float_(h.coefficient)) : py::none());
  }
  return out;
}

py::list RemovedHccs(const RiskScore& score) {
  py::list out(score.removed_hccs.size());
  for (size_t i = 0; i < score.removed_hccs.size(); ++i) {
    const RemovedHcc& r = score.removed_hccs[i];
    const bool hierarchy = r.reason == HccRemoval::kHierarchy;
    out[i] = T().removed_hcc(r.hcc, Str(r.label), CodesOf(score, r.hcc),
                             Str(HccRemovalName(r.reason)),
                             hierarchy ? py::object(py::int_(r.removed_by)) : py::none(),
                             hierarchy ? py::none() : py::object(Str(r.rule)));
  }
  return out;
}

py::list CodeOutcomes(const RiskScore& score) {
  py::list out(score.codes.size());
  for (size_t i = 0; i < score.codes.size(); ++i) {
    const CodeResult& c = score.codes[i];
    py::list hccs(c.hcc_count);
    for (int j = 0; j < c.hcc_count; ++j) hccs[j] = py::int_(c.hccs[j]);
    out[i] = T().code_outcome(Str(c.code), Str(CodeStatusName(c.status)), hccs);
  }
  return out;
}

}  // namespace

py::object RiskScoreToPy(const RiskScore& s) {
  py::list edits(s.edits.size());
  for (size_t i = 0; i < s.edits.size(); ++i) {
    const EditResult& e = s.edits[i];
    const bool override_hcc = e.action == EditAction::kOverride;
    edits[i] = T().edit(Str(s.codes[e.code_index].code), override_hcc ? "override" : "invalid",
                        override_hcc ? py::object(py::int_(e.hcc)) : py::none(),
                        Str(e.description));
  }
  py::list terms(s.terms.size());
  for (size_t i = 0; i < s.terms.size(); ++i) {
    const ScoreTerm& t = s.terms[i];
    terms[i] = T().score_term(Str(TermKindName(t.kind)), Str(t.name), Str(t.variable),
                              t.coefficient);
  }
  py::tuple args = py::make_tuple(
      Str(HccModelName(s.model)), s.payment_year, Str(SegmentCode(s.segment)),
      Str(SegmentDescription(s.segment)), s.segment_forced, DemographicsToPy(s.demographics),
      s.disabled, s.originally_disabled, s.medicaid, ScoredHccs(s), RemovedHccs(s), edits, terms,
      s.payment_hcc_count, s.raw_score, s.demographic_score, s.disease_score,
      Optional(s.normalization_factor), Optional(s.normalized_score),
      Optional(s.coding_intensity_adjustment), Optional(s.payment_score), CodeOutcomes(s));
  return T().risk_score(*args);
}

py::object CategorizationToPy(const RiskScore& s) {
  return T().categorization(Str(HccModelName(s.model)), ScoredHccs(s), RemovedHccs(s),
                            s.payment_hcc_count, CodeOutcomes(s));
}

py::object BlendToPy(const BlendedRiskScore& b, py::dict components) {
  py::dict weights;
  for (const BlendWeight& w : b.weights) weights[Str(HccModelName(w.model))] = w.weight;
  return T().blended_risk_score(weights, b.raw_score, Optional(b.normalized_score),
                                Optional(b.coding_intensity_adjustment), Optional(b.payment_score),
                                components);
}

absl::StatusOr<Demographics> DemographicsFromPy(py::handle obj) {
  auto field = [&obj](const char* name) -> py::object {
    if (!py::hasattr(obj, name)) {
      throw py::type_error(StrCat("demographics: expected chartcoder.Demographics, got ",
                                  Py_TYPE(obj.ptr())->tp_name, " (no '", name, "')"));
    }
    return obj.attr(name);
  };
  auto text = [](const py::object& v) { return std::string(py::str(v)); };
  Demographics d;
  py::object age = field("age");
  if (!PyLong_Check(age.ptr()) || PyBool_Check(age.ptr())) {
    return absl::InvalidArgumentError(StrCat("demographics: age must be a whole number, got ",
                                             text(py::repr(age))));
  }
  const long long a = age.cast<long long>();
  if (a < 0 || a > 130) {
    return absl::InvalidArgumentError(StrCat("demographics: age ", a, " is not in 0..130"));
  }
  d.age = static_cast<int>(a);
  absl::StatusOr<Sex> sex = ParseSex(text(field("sex")));
  if (!sex.ok()) return Annotate(sex.status(), "demographics");
  d.sex = *sex;
  absl::StatusOr<DualStatus> dual = ParseDualStatus(text(field("dual")));
  if (!dual.ok()) return Annotate(dual.status(), "demographics");
  d.dual = *dual;
  py::object orec = field("orec");
  if (!PyLong_Check(orec.ptr()) || PyBool_Check(orec.ptr())) {
    return absl::InvalidArgumentError(StrCat("demographics: orec must be 0, 1, 2 or 3, got ",
                                             text(py::repr(orec))));
  }
  d.orec = orec.cast<int>();
  d.institutional = py::bool_(field("institutional"));
  d.new_enrollee = py::bool_(field("new_enrollee"));
  d.chronic_snp = py::bool_(field("chronic_snp"));
  py::object segment = field("segment");
  if (!segment.is_none()) {
    absl::StatusOr<Segment> s = ParseSegment(text(segment));
    if (!s.ok()) return Annotate(s.status(), "demographics");
    d.segment = *s;
  }
  return d;
}

HccModel ModelFromPy(const std::string& name) { return Unwrap(ParseHccModel(name)); }

}  // namespace chartcoder::python
