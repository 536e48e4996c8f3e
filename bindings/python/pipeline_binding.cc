// _chartcoder.Pipeline: charts in, typed results (str offsets) or the CLI's
// formatted output out; one chart, or many on a pool of C++ threads with the
// GIL released.
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bindings/python/binding.h"
#include "bindings/python/parallel.h"
#include "chartcoder/chart_io.h"
#include "chartcoder/pipeline.h"
#include "chartcoder/result.h"
#include "src/internal/strings.h"

namespace chartcoder::python {
namespace {

using internal::StrCat;

// ---------------------------------------------------------------------------
// ChartResult -> chartcoder._types.ChartResult

py::tuple SpanTuple(const OffsetMap& map, uint32_t begin, uint32_t end) {
  return py::make_tuple(map(begin), map(end));
}

py::str Slice(std::string_view text, uint32_t begin, uint32_t end) {
  if (begin > text.size()) return Str("");
  end = std::min<uint32_t>(end, static_cast<uint32_t>(text.size()));
  return Str(text.substr(begin, end > begin ? end - begin : 0));
}

py::object EvidenceToPy(const CodeEvidence& ev, std::string_view text, const OffsetMap& map) {
  py::tuple spans(ev.spans.size());
  for (size_t i = 0; i < ev.spans.size(); ++i) {
    spans[i] = SpanTuple(map, ev.spans[i].first, ev.spans[i].second);
  }
  return T().evidence(map(ev.begin), map(ev.end), Slice(text, ev.begin, ev.end), spans,
                      SpanTuple(map, ev.sentence_begin, ev.sentence_end), SectionStr(ev.section),
                      LexiconSourceStr(ev.source), Str(ev.lexicon_phrase), Str(ev.mention_code),
                      ev.weight, AssertionToPy(ev.assertion, map));
}

py::list HccList(const std::vector<ChartHcc>& hccs) {
  py::list out(hccs.size());
  for (size_t i = 0; i < hccs.size(); ++i) {
    const ChartHcc& h = hccs[i];
    py::list codes(h.codes.size());
    for (size_t j = 0; j < h.codes.size(); ++j) codes[j] = Str(h.codes[j]);
    out[i] = T().hcc(h.hcc, Str(h.label), codes, h.removed_by);
  }
  return out;
}

py::object ChartResultToPy(const ChartResult& r, const OffsetMap& map, py::object text_obj) {
  const std::string_view text = r.document ? r.document->text() : std::string_view();
  std::vector<py::object> model_names;
  for (const ModelHccs& m : r.hccs) model_names.push_back(Str(HccModelName(m.model)));

  // The payment HCCs each assigned code produced, per model.
  absl::flat_hash_map<std::string_view, std::vector<std::pair<size_t, int>>> hccs_by_code;
  for (size_t mi = 0; mi < r.hccs.size(); ++mi) {
    for (const ChartHcc& h : r.hccs[mi].hccs) {
      for (const std::string& c : h.codes) hccs_by_code[c].emplace_back(mi, h.hcc);
    }
  }
  py::list codes(r.codes.size());
  for (size_t i = 0; i < r.codes.size(); ++i) {
    const AssignedCode& c = r.codes[i];
    py::dict hccs;
    auto found = hccs_by_code.find(c.code);
    for (size_t mi = 0; mi < r.hccs.size(); ++mi) {
      std::vector<int> of_model;
      if (found != hccs_by_code.end()) {
        for (const auto& [model, hcc] : found->second) {
          if (model == mi) of_model.push_back(hcc);
        }
      }
      py::tuple tuple(of_model.size());  // () is Python's shared empty tuple
      for (size_t k = 0; k < of_model.size(); ++k) tuple[k] = py::int_(of_model[k]);
      hccs[model_names[mi]] = tuple;
    }
    py::list evidence(c.evidence.size());
    for (size_t j = 0; j < c.evidence.size(); ++j) {
      evidence[j] = EvidenceToPy(c.evidence[j], text, map);
    }
    codes[i] = T().assigned_code(Str(c.code), Str(c.description), c.score, Str(c.derivation),
                                 hccs, evidence,
                                 std::max<size_t>(c.evidence_count, c.evidence.size()));
  }
  py::list mentions(r.mentions.size());
  for (size_t i = 0; i < r.mentions.size(); ++i) {
    const Mention& m = r.mentions[i];
    mentions[i] = T().mention(map(m.begin), map(m.end), Slice(text, m.begin, m.end), Str(m.code),
                              SectionStr(m.section), LexiconSourceStr(m.source),
                              Str(m.lexicon_phrase),
                              m.coded,  // set by Pipeline::Code, which made every result here
                              AssertionToPy(m.assertion, map));
  }
  py::dict hccs, removed;
  for (size_t mi = 0; mi < r.hccs.size(); ++mi) {
    hccs[model_names[mi]] = HccList(r.hccs[mi].hccs);
    removed[model_names[mi]] = HccList(r.hccs[mi].removed);
  }
  py::object raf = py::none();
  if (!r.raf.empty()) {
    py::dict scores;
    for (const RiskScore& s : r.raf) scores[Str(HccModelName(s.model))] = RiskScoreToPy(s);
    raf = scores;
  }
  py::object blended = r.blended_raf ? BlendToPy(*r.blended_raf, py::dict()) : py::none();
  return T().chart_result(Str(r.id), std::move(text_obj), codes, mentions, hccs, removed, raf,
                          blended);
}

// ---------------------------------------------------------------------------
// The pipeline

// One chart of a batch, viewed without copying (the Python objects are held
// by the caller for the whole run).
struct Chart {
  TextArg text;
  std::string id;
  std::optional<Demographics> demographics;
};

// What a worker thread hands back: the result and, for non-ASCII text, the
// offset map (built off the GIL).
struct Coded {
  absl::StatusOr<ChartResult> result = absl::UnknownError("not coded");
  OffsetMap map;
};

struct Rendered {
  absl::Status status;
  std::string output;
};

int ThreadCount(int threads) {
  if (threads > 0) return threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Takes the GIL and checks for Ctrl-C (KeyboardInterrupt) and other signals.
bool CheckSignals() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  return true;
}

class PyPipeline {
 public:
  PyPipeline(std::shared_ptr<CodeSet> code_set, const py::object& data,
             const std::vector<std::string>& models, double min_score, bool inpatient,
             bool keep_symptoms, const std::string& profile,
             std::optional<double> normalization_v24,
             std::optional<double> normalization_v28,
             std::optional<double> coding_intensity_adjustment,
             const std::vector<std::pair<std::string, double>>& blend,
             const std::vector<std::string>& sections, const std::vector<std::string>& triggers,
             const std::string& encoding, bool repair_invalid_utf8, size_t max_chart_bytes,
             int64_t max_evidence) {
    PipelineOptions o;
    o.data_pack = FsPath(data);
    o.code_set = std::move(code_set);
    o.models.clear();
    for (const std::string& m : models) o.models.push_back(ModelFromPy(m));
    if (!(min_score >= 0 && min_score <= 1)) {
      Raise(absl::InvalidArgumentError(StrCat("min_score must be in [0, 1], got ", min_score)));
    }
    o.coder.min_score = min_score;
    o.coder.code_uncertain_diagnoses = inpatient;
    o.coder.keep_integral_symptoms = keep_symptoms;
    o.coder.profile = profile;
    o.normalization_v24 = normalization_v24;
    o.normalization_v28 = normalization_v28;
    o.coding_intensity_adjustment = coding_intensity_adjustment;
    for (const auto& [name, weight] : blend) o.blend.push_back({ModelFromPy(name), weight});
    o.text.sections.rule_files = sections;
    o.context.trigger_files = triggers;
    o.text.text = TextOptions(encoding, repair_invalid_utf8);
    if (max_chart_bytes == 0) Raise(absl::InvalidArgumentError("max_chart_bytes must be > 0"));
    o.max_chart_bytes = max_chart_bytes;
    if (max_evidence < 0 || max_evidence > int64_t{UINT32_MAX}) {
      Raise(absl::InvalidArgumentError(
          StrCat("max_evidence must be in [0, 4294967295] (0 keeps all), got ", max_evidence)));
    }
    o.max_evidence = static_cast<uint32_t>(max_evidence);
    text_options_ = o.text.text;
    max_chart_bytes_ = max_chart_bytes;
    absl::StatusOr<std::unique_ptr<Pipeline>> p;
    {
      py::gil_scoped_release release;
      p = Pipeline::Create(o);
    }
    pipeline_ = Unwrap(std::move(p));
  }

  py::object Code(py::handle text, const std::string& id, py::handle demographics) const {
    const Chart chart = MakeChart(text, id, demographics, "text");
    Coded c;
    {
      py::gil_scoped_release release;
      c = CodeOne(chart);
    }
    if (!c.result.ok()) Raise(c.result.status());
    return ChartResultToPy(*c.result, c.map, TextObject(chart.text, c.result->document->text()));
  }

  py::list CodeMany(const py::sequence& texts, const py::object& ids,
                    const py::object& demographics, int threads, bool return_errors,
                    size_t first_index) const {
    const std::vector<Chart> charts = MakeCharts(texts, ids, demographics);
    py::list out(charts.size());
    const py::object exception_for =
        py::module_::import("chartcoder._errors").attr("exception_for");
    const ScopedGcPause gc_pause;
    {
      py::gil_scoped_release release;
      RunInOrder<Coded>(
          charts.size(), ThreadCount(threads), 4 * static_cast<size_t>(ThreadCount(threads)),
          [&](size_t i) { return CodeOne(charts[i]); },
          [&](size_t i, Coded& c) {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            if (c.result.ok()) {
              out[i] = ChartResultToPy(*c.result, c.map,
                                       TextObject(charts[i].text, c.result->document->text()));
            } else {
              const absl::Status s =
                  Annotate(c.result.status(), ChartName(charts, i, first_index));
              if (!return_errors) Raise(s);
              out[i] = exception_for(absl::StatusCodeToString(s.code()),
                                     std::string(internal::FromAbsl(s.message())));
            }
            c = Coded();  // free the C++ result now, not at the end of the run
            return true;
          },
          &CheckSignals);
    }
    return out;
  }

  py::str Render(py::handle text, const std::string& format, const std::string& id,
                 py::handle demographics) const {
    const OutputFormat f = Unwrap(ParseOutputFormat(format));
    const Chart chart = MakeChart(text, id, demographics, "text");
    Rendered r;
    {
      py::gil_scoped_release release;
      r = RenderOne(chart, f);
    }
    Check(r.status);
    return Str(r.output);
  }

  py::list RenderMany(const py::sequence& texts, const std::string& format, const py::object& ids,
                      const py::object& demographics, int threads, bool records,
                      size_t first_index) const {
    const OutputFormat f = Unwrap(ParseOutputFormat(format));
    const std::vector<Chart> charts = MakeCharts(texts, ids, demographics);
    py::list out(charts.size());
    {
      py::gil_scoped_release release;
      RunInOrder<Rendered>(
          charts.size(), ThreadCount(threads), 4 * static_cast<size_t>(ThreadCount(threads)),
          [&](size_t i) { return RenderOne(charts[i], f); },
          [&](size_t i, Rendered& r) {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            if (!r.status.ok() && !records) {
              Raise(Annotate(r.status, ChartName(charts, i, first_index)));
            }
            out[i] = Str(r.output);
            return true;
          },
          &CheckSignals);
    }
    return out;
  }

  py::object CodeFile(const py::object& path_arg, const KeyProvider* keys,
                      const std::optional<std::string>& id, py::handle demographics) const {
    const std::string path = FsPath(path_arg);
    std::optional<Demographics> d;
    if (!demographics.is_none()) d = Unwrap(DemographicsFromPy(demographics));
    ChartReadOptions read;
    read.keys = keys;
    read.max_bytes = max_chart_bytes_;
    Coded c;
    {
      py::gil_scoped_release release;
      absl::StatusOr<std::string> text = ReadChartFile(path, read);
      if (text.ok()) {
        c.result = pipeline_->Code(id.value_or(path), *text, d ? &*d : nullptr);
        if (c.result.ok()) c.map = OffsetMap(c.result->document->text());
      } else {
        c.result = text.status();
      }
    }
    if (!c.result.ok()) Raise(c.result.status());
    return ChartResultToPy(*c.result, c.map, Str(c.result->document->text()));
  }

  const Pipeline& pipeline() const { return *pipeline_; }

 private:
  Chart MakeChart(py::handle text, const std::string& id, py::handle demographics,
                  std::string_view what) const {
    Chart c;
    c.text = ViewText(text, what);
    Check(CheckStrEncoding(c.text, text_options_, what));
    c.id = id;
    if (!demographics.is_none()) c.demographics = Unwrap(DemographicsFromPy(demographics));
    return c;
  }

  // texts: a sequence of str/bytes; ids: None or a sequence of str of the
  // same length; demographics: None, one Demographics for all, or a sequence
  // of Demographics-or-None of the same length.
  std::vector<Chart> MakeCharts(const py::sequence& texts, const py::object& ids,
                                const py::object& demographics) const {
    const size_t n = texts.size();
    std::vector<std::string> id_list;
    if (!ids.is_none()) {
      id_list = ids.cast<std::vector<std::string>>();
      if (id_list.size() != n) {
        Raise(absl::InvalidArgumentError(
            StrCat("ids: ", id_list.size(), " ids for ", n, " charts")));
      }
    }
    const bool per_chart = !demographics.is_none() && !py::hasattr(demographics, "age");
    py::sequence demo_list;
    if (per_chart) {
      demo_list = py::reinterpret_borrow<py::sequence>(demographics);
      if (demo_list.size() != n) {
        Raise(absl::InvalidArgumentError(
            StrCat("demographics: ", demo_list.size(), " entries for ", n, " charts")));
      }
    }
    std::optional<Demographics> shared;
    if (!demographics.is_none() && !per_chart) {
      shared = Unwrap(DemographicsFromPy(demographics));
    }
    std::vector<Chart> charts(n);
    for (size_t i = 0; i < n; ++i) {
      const std::string what = StrCat("texts[", i, "]");
      charts[i].text = ViewText(texts[i], what);
      Check(CheckStrEncoding(charts[i].text, text_options_, what));
      if (!id_list.empty()) charts[i].id = std::move(id_list[i]);
      if (per_chart) {
        py::object d = demo_list[i];
        if (!d.is_none()) {
          absl::StatusOr<Demographics> parsed = DemographicsFromPy(d);
          if (!parsed.ok()) Raise(Annotate(parsed.status(), StrCat("demographics[", i, "]")));
          charts[i].demographics = *parsed;
        }
      } else {
        charts[i].demographics = shared;
      }
    }
    return charts;
  }

  // "chart 7 (id)": the chart's index in the caller's whole sequence.
  static std::string ChartName(const std::vector<Chart>& charts, size_t i, size_t first_index) {
    const size_t n = first_index + i;
    if (charts[i].id.empty()) return StrCat("chart ", n);
    return StrCat("chart ", n, " (", charts[i].id, ")");
  }

  // No GIL.
  Coded CodeOne(const Chart& chart) const {
    Coded c;
    c.result = pipeline_->Code(chart.id, chart.text.bytes,
                               chart.demographics ? &*chart.demographics : nullptr);
    if (c.result.ok()) c.map = OffsetMap(c.result->document->text());
    return c;
  }

  // No GIL. Failed charts give the CLI's error record and the status.
  Rendered RenderOne(const Chart& chart, OutputFormat format) const {
    Rendered r;
    absl::StatusOr<ChartResult> result = pipeline_->Code(
        chart.id, chart.text.bytes, chart.demographics ? &*chart.demographics : nullptr);
    if (result.ok()) {
      r.output = FormatChartResult(*result, format);
    } else {
      r.status = result.status();
      r.output = ErrorRecord(chart.id, r.status, format);
    }
    return r;
  }

  std::unique_ptr<Pipeline> pipeline_;
  ChartTextOptions text_options_;
  size_t max_chart_bytes_ = 0;
};

// "INVALID_ARGUMENT" -> the code; anything else is kUnknown.
absl::StatusCode ParseStatusCode(std::string_view name) {
  for (absl::StatusCode c :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kInternal}) {
    if (absl::StatusCodeToString(c) == name) return c;
  }
  return absl::StatusCode::kUnknown;
}

}  // namespace

void RegisterPipeline(py::module_& m) {
  m.def("error_record",
        [](const std::string& id, const std::string& code, const std::string& message,
           const std::string& format) {
          const OutputFormat f = Unwrap(ParseOutputFormat(format));
          return Str(
              ErrorRecord(id, absl::Status(ParseStatusCode(code), internal::ToAbsl(message)), f));
        },
        py::arg("id"), py::arg("code"), py::arg("message"), py::arg("format") = "jsonl",
        "The record `chartcoder code` writes for a chart it could not code.");

  py::class_<PyPipeline>(
      m, "Pipeline",
      "Codes charts: ICD-10-CM codes with evidence, mentions with assertions, HCCs\n"
      "per model and, with demographics, RAF. Immutable; thread-safe.")
      .def(py::init<std::shared_ptr<CodeSet>, const py::object&,
                    const std::vector<std::string>&, double, bool, bool, const std::string&,
                    std::optional<double>,
                    std::optional<double>, std::optional<double>,
                    const std::vector<std::pair<std::string, double>>&,
                    const std::vector<std::string>&, const std::vector<std::string>&,
                    const std::string&, bool, size_t, int64_t>(),
           py::arg("code_set") = nullptr, py::arg("data") = py::none(),
           py::arg("models") = std::vector<std::string>{"V24", "V28"},
           py::arg("min_score") = 0.5, py::arg("inpatient") = false,
           py::arg("keep_symptoms") = false, py::arg("profile") = "",
           py::arg("normalization_v24") = py::none(),
           py::arg("normalization_v28") = py::none(),
           py::arg("coding_intensity_adjustment") = py::none(),
           py::arg("blend") = std::vector<std::pair<std::string, double>>(),
           py::arg("sections") = std::vector<std::string>(),
           py::arg("triggers") = std::vector<std::string>(), py::arg("encoding") = "utf-8",
           py::arg("repair_invalid_utf8") = false, py::arg("max_chart_bytes") = size_t{16} << 20,
           py::arg("max_evidence") = 20)
      .def("code", &PyPipeline::Code, py::arg("text"), py::arg("id") = "",
           py::arg("demographics") = py::none())
      .def("code_many", &PyPipeline::CodeMany, py::arg("texts"), py::arg("ids") = py::none(),
           py::arg("demographics") = py::none(), py::arg("threads") = 0,
           py::arg("return_errors") = false, py::arg("first_index") = 0)
      .def("render", &PyPipeline::Render, py::arg("text"), py::arg("format") = "jsonl",
           py::arg("id") = "", py::arg("demographics") = py::none())
      .def("render_many", &PyPipeline::RenderMany, py::arg("texts"), py::arg("format") = "jsonl",
           py::arg("ids") = py::none(), py::arg("demographics") = py::none(),
           py::arg("threads") = 0, py::arg("error_records") = false, py::arg("first_index") = 0)
      .def("code_file", &PyPipeline::CodeFile, py::arg("path"), py::arg("keys") = nullptr,
           py::arg("id") = py::none(), py::arg("demographics") = py::none())
      .def_property_readonly(
          "code_set",
          [](const PyPipeline& p) {
            return std::const_pointer_cast<CodeSet>(p.pipeline().shared_code_set());
          })
      .def_property_readonly("models", [](const PyPipeline& p) {
        std::vector<std::string> out;
        for (HccModel m : p.pipeline().models()) out.emplace_back(HccModelName(m));
        return out;
      });
}

}  // namespace chartcoder::python
