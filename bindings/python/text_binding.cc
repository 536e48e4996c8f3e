// _chartcoder.TextAnalyzer and _chartcoder.Context: tokens, sentences and
// sections of a note, and ConText assertion of any phrase or span of it.
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/python/binding.h"
#include "chartcoder/codeset.h"
#include "chartcoder/context.h"
#include "chartcoder/text.h"
#include "chartcoder/tokenizer.h"
#include "src/internal/strings.h"

namespace chartcoder::python {
namespace {

using internal::StrCat;

struct TextAnalyzerArgs {
  std::shared_ptr<const CodeSet> code_set;
  std::vector<std::string> sections;
  std::vector<std::string> extra_abbreviations;
  std::string encoding = "utf-8";
  bool repair_invalid_utf8 = false;
};

TextAnalyzerOptions AnalyzerOptions(const TextAnalyzerArgs& a) {
  TextAnalyzerOptions o;
  o.code_set = a.code_set.get();
  o.sections.rule_files = a.sections;
  o.extra_abbreviations = a.extra_abbreviations;
  o.text = TextOptions(a.encoding, a.repair_invalid_utf8);
  return o;
}

// A TextAnalyzer with the code set it reads (which must outlive it).
class PyTextAnalyzer {
 public:
  explicit PyTextAnalyzer(TextAnalyzerArgs args) : args_(std::move(args)) {
    const TextAnalyzerOptions options = AnalyzerOptions(args_);
    absl::StatusOr<std::unique_ptr<TextAnalyzer>> a;
    {
      py::gil_scoped_release release;
      a = TextAnalyzer::Create(options);
    }
    analyzer_ = Unwrap(std::move(a));
    text_options_ = options.text;
  }

  // Analyzes `text` (str or bytes) with the GIL released.
  Document Analyze(const TextArg& text) const {
    Check(CheckStrEncoding(text, text_options_, "text"));
    absl::StatusOr<Document> doc;
    {
      py::gil_scoped_release release;
      doc = analyzer_->Analyze(text.bytes);
    }
    return Unwrap(std::move(doc));
  }

  py::object AnalyzeToPy(py::handle text) const {
    const TextArg in = ViewText(text, "text");
    const Document doc = Analyze(in);
    const OffsetMap map(doc.text());
    py::list tokens(doc.tokens().size());
    for (size_t i = 0; i < doc.tokens().size(); ++i) {
      const Token& t = doc.tokens()[i];
      tokens[i] = T().token(map(t.begin), map(t.end), Str(t.norm), Str(TokenKindName(t.kind)));
    }
    py::list sentences(doc.sentences().size());
    for (size_t i = 0; i < doc.sentences().size(); ++i) {
      const Sentence& s = doc.sentences()[i];
      py::object range = py::reinterpret_steal<py::object>(
          PyObject_CallFunction(reinterpret_cast<PyObject*>(&PyRange_Type), "II", s.first_token,
                                s.end_token));
      if (!range) throw py::error_already_set();
      sentences[i] = T().sentence(map(s.begin), map(s.end), s.section, range,
                                  s.is(kSentenceHeader), s.is(kSentenceListItem));
    }
    py::list sections(doc.sections().size());
    for (size_t i = 0; i < doc.sections().size(); ++i) {
      const chartcoder::Section& s = doc.sections()[i];
      sections[i] = T().section(SectionStr(s.kind), map(s.begin), map(s.end),
                                map(s.header_begin), map(s.header_end));
    }
    return T().document(TextObject(in, doc.text()), tokens, sentences, sections);
  }

  const TextAnalyzerArgs& args() const { return args_; }

 private:
  TextAnalyzerArgs args_;
  std::unique_ptr<TextAnalyzer> analyzer_;
  ChartTextOptions text_options_;
};

// A ContextAnalyzer with the TextAnalyzer that prepares its documents.
class PyContext {
 public:
  PyContext(TextAnalyzerArgs text_args, std::vector<std::string> triggers, bool use_builtin,
            int forward_scope, int backward_scope)
      : analyzer_(text_args) {
    ContextOptions o;
    o.code_set = text_args.code_set.get();
    o.use_builtin_triggers = use_builtin;
    o.trigger_files = std::move(triggers);
    o.default_forward_scope = forward_scope;
    o.default_backward_scope = backward_scope;
    o.extra_abbreviations = text_args.extra_abbreviations;
    absl::StatusOr<std::unique_ptr<ContextAnalyzer>> c;
    {
      py::gil_scoped_release release;
      c = ContextAnalyzer::Create(o);
    }
    context_ = Unwrap(std::move(c));
  }

  // One ContextResult per target: a phrase (str, found as `chartcoder
  // context` finds it) or a (start, end) span of str indices.
  py::list Assess(py::handle text, const py::list& targets) const {
    const TextArg in = ViewText(text, "text");
    const Document doc = analyzer_.Analyze(in);
    const std::string_view analyzed = doc.text();
    struct Target {
      bool phrase = false;
      std::string text;
      uint32_t begin = 0, end = 0;
    };
    std::vector<Target> wanted(targets.size());
    std::optional<IndexMap> index;
    for (size_t i = 0; i < targets.size(); ++i) {
      py::handle t = targets[i];
      if (py::isinstance<py::str>(t)) {
        wanted[i].phrase = true;
        wanted[i].text = t.cast<std::string>();
        continue;
      }
      if (!py::isinstance<py::tuple>(t) && !py::isinstance<py::list>(t)) {
        throw py::type_error(StrCat("target ", i, ": expected a phrase (str) or a (start, end) "
                                    "span, got ", Py_TYPE(t.ptr())->tp_name));
      }
      py::sequence span = py::reinterpret_borrow<py::sequence>(t);
      if (span.size() != 2) {
        throw py::type_error(StrCat("target ", i, ": a span is (start, end)"));
      }
      if (!index) index.emplace(analyzed);
      const auto bytes = Unwrap(index->ToBytes(span[0].cast<int64_t>(), span[1].cast<int64_t>(),
                                               StrCat("target ", i)));
      wanted[i].begin = bytes.first;
      wanted[i].end = bytes.second;
    }
    struct Found {
      std::optional<TextSpan> span;
      Assertion assertion;
    };
    std::vector<Found> found(wanted.size());
    {
      py::gil_scoped_release release;
      for (size_t i = 0; i < wanted.size(); ++i) {
        if (wanted[i].phrase) {
          found[i].span = FindPhrase(doc.chart_text(), wanted[i].text);
        } else {
          found[i].span = TextSpan{wanted[i].begin, wanted[i].end};
        }
        if (found[i].span) {
          found[i].assertion = context_->Assess(doc, found[i].span->begin, found[i].span->end);
        }
      }
    }
    const OffsetMap map(analyzed);
    py::list out(found.size());
    for (size_t i = 0; i < found.size(); ++i) {
      const Found& f = found[i];
      out[i] = T().context_result(f.span.has_value(),
                                  f.span ? py::object(py::int_(map(f.span->begin))) : py::none(),
                                  f.span ? py::object(py::int_(map(f.span->end))) : py::none(),
                                  AssertionToPy(f.assertion, map));
    }
    return out;
  }

  py::list Rules() const {
    py::list out;
    for (const TriggerRule& r : context_->rules()) {
      out.append(py::make_tuple(r.phrase, Str(CueKindName(r.kind)),
                                Str(TriggerDirectionName(r.direction)), r.max_scope));
    }
    return out;
  }

 private:
  PyTextAnalyzer analyzer_;
  std::unique_ptr<ContextAnalyzer> context_;
};

}  // namespace

void RegisterText(py::module_& m) {
  py::class_<PyTextAnalyzer>(
      m, "TextAnalyzer",
      "Splits notes into tokens, sentences and sections. Immutable; thread-safe.")
      .def(py::init([](std::shared_ptr<CodeSet> code_set, std::vector<std::string> sections,
                       std::vector<std::string> extra_abbreviations, std::string encoding,
                       bool repair_invalid_utf8) {
             return std::make_unique<PyTextAnalyzer>(
                 TextAnalyzerArgs{std::move(code_set), std::move(sections),
                                  std::move(extra_abbreviations), std::move(encoding),
                                  repair_invalid_utf8});
           }),
           py::arg("code_set") = nullptr, py::arg("sections") = std::vector<std::string>(),
           py::arg("extra_abbreviations") = std::vector<std::string>(),
           py::arg("encoding") = "utf-8", py::arg("repair_invalid_utf8") = false)
      .def("analyze", &PyTextAnalyzer::AnalyzeToPy, py::arg("text"),
           "The Document of `text` (str, or bytes in the analyzer's encoding).");

  py::class_<PyContext>(
      m, "Context",
      "ConText assertion of phrases or spans of a text. Immutable; thread-safe.")
      .def(py::init([](std::shared_ptr<CodeSet> code_set, std::vector<std::string> triggers,
                       std::vector<std::string> sections, bool use_builtin_triggers,
                       int forward_scope, int backward_scope) {
             return std::make_unique<PyContext>(
                 TextAnalyzerArgs{std::move(code_set), std::move(sections), {}, "utf-8", false},
                 std::move(triggers), use_builtin_triggers, forward_scope, backward_scope);
           }),
           py::arg("code_set") = nullptr, py::arg("triggers") = std::vector<std::string>(),
           py::arg("sections") = std::vector<std::string>(),
           py::arg("use_builtin_triggers") = true, py::arg("forward_scope") = 12,
           py::arg("backward_scope") = 5)
      .def("assess", &PyContext::Assess, py::arg("text"), py::arg("targets"),
           "One ContextResult per target (a phrase, or a (start, end) span of str indices);\n"
           "the text is analyzed once.")
      .def("rules", &PyContext::Rules,
           "The trigger rules in effect: (phrase, kind, direction, max_scope) tuples.");
}

}  // namespace chartcoder::python
