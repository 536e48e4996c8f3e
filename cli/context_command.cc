// chartcoder context --input FILE.jsonl: ConText assertion of a target phrase
// in each line's text.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "chartcoder/context.h"
#include "chartcoder/text.h"
#include "chartcoder/tokenizer.h"
#include "cli/cli.h"
#include "simdjson.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrCat;

constexpr char kUsage[] =
    "Usage: chartcoder context --input FILE.jsonl [--output FILE] [--data PACK]\n"
    "                          [--triggers FILE]... [--sections FILE]...\n\n"
    "Reads JSON Lines {\"id\": ..., \"text\": \"...\", \"target\": \"...\"} (FILE '-' is stdin),\n"
    "finds the target phrase in the text (any case, compared in the normalized view;\n"
    "the first occurrence wins, one at word boundaries before one inside a word) and\n"
    "writes one line per input:\n"
    "  {\"id\":...,\"found\":true,\"span\":[begin,end],\"negated\":false,\"uncertain\":false,\n"
    "   \"historical\":false,\"hypothetical\":false,\"family\":false,\n"
    "   \"cues\":[{\"kind\":\"negation\",\"attribute\":\"negation\",\"span\":[0,6]}]}\n"
    "Spans are UTF-8 byte offsets into the text. A target not in the text gives\n"
    "\"found\":false and \"span\":null. A line that cannot be read gives\n"
    "{\"line\":N,\"id\":...,\"error\":\"...\"} and the run goes on; the exit code is then 2.\n"
    "Blank lines are skipped. The trigger lexicon and section headers are those\n"
    "compiled into chartcoder, or the data pack's with --data; --triggers and\n"
    "--sections add rule files (formats: data/context_triggers.tsv,\n"
    "data/section_headers.tsv).";

// One input line's fields, or the reason it cannot be read.
struct Input {
  bool has_id = false;
  std::string id_json;  // the id as JSON: "\"a1\"" or "42"
  std::string_view text;
  std::string_view target;
};

absl::Status ParseLine(simdjson::dom::parser& parser, const std::string& line, Input* in) {
  simdjson::dom::element doc;
  if (auto error = parser.parse(line).get(doc); error) {
    return absl::InvalidArgumentError(StrCat("not JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  simdjson::dom::element id;
  if (obj["id"].get(id) == simdjson::SUCCESS) {
    std::string_view s;
    int64_t i;
    uint64_t u;
    if (id.get(s) == simdjson::SUCCESS) {
      in->id_json = internal::JsonQuote(s);
    } else if (id.get(i) == simdjson::SUCCESS) {
      in->id_json = StrCat(i);
    } else if (id.get(u) == simdjson::SUCCESS) {
      in->id_json = StrCat(u);
    } else {
      return absl::InvalidArgumentError("\"id\" must be a string or an integer");
    }
    in->has_id = true;
  } else {
    return absl::InvalidArgumentError("no \"id\"");
  }
  if (obj["text"].get(in->text) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("no \"text\" string");
  }
  if (obj["target"].get(in->target) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("no \"target\" string");
  }
  return absl::OkStatus();
}

void WriteSpan(internal::JsonWriter& w, uint32_t begin, uint32_t end) {
  w.BeginArray();
  w.Uint(begin);
  w.Uint(end);
  w.EndArray();
}

std::string ErrorLine(size_t line_number, const Input& in, const absl::Status& status) {
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Key("line");
  w.Uint(line_number);
  if (in.has_id) {
    w.Key("id");
    w.Raw(in.id_json);
  }
  w.Field("error", internal::FromAbsl(status.message()));
  w.EndObject();
  return out;
}

std::string ResultLine(const Input& in, const std::optional<TextSpan>& span, const Assertion& a) {
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Key("id");
  w.Raw(in.id_json);
  w.Field("found", span.has_value());
  w.Key("span");
  if (span.has_value()) {
    WriteSpan(w, span->begin, span->end);
  } else {
    w.Null();
  }
  w.Field("negated", a.negated);
  w.Field("uncertain", a.uncertain);
  w.Field("historical", a.historical);
  w.Field("hypothetical", a.hypothetical);
  w.Field("family", a.family);
  w.Key("cues");
  w.BeginArray();
  for (const Cue& c : a.cues) {
    w.BeginObject();
    w.Field("kind", CueKindName(c.kind));
    w.Field("attribute", CueKindName(c.attribute));
    w.Key("span");
    WriteSpan(w, c.begin, c.end);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

int Run(const CommandLine& args) {
  if (!args.Has("input")) return UsageError("context", "give --input FILE.jsonl ('-' for stdin)");
  if (!args.positional().empty()) {
    return UsageError("context", StrCat("unexpected argument '", args.positional()[0], "'"));
  }
  std::unique_ptr<CodeSet> codes;
  if (args.Has("data")) {
    absl::StatusOr<std::unique_ptr<CodeSet>> loaded = LoadCodeSet(args);
    if (!loaded.ok()) return Fail(loaded.status());
    codes = std::move(loaded).value();
  }
  TextAnalyzerOptions text_options;
  text_options.code_set = codes.get();
  text_options.sections.rule_files = args.GetAll("sections");
  absl::StatusOr<std::unique_ptr<TextAnalyzer>> analyzer = TextAnalyzer::Create(text_options);
  if (!analyzer.ok()) return Fail(analyzer.status());
  ContextOptions context_options;
  context_options.code_set = codes.get();
  context_options.trigger_files = args.GetAll("triggers");
  absl::StatusOr<std::unique_ptr<ContextAnalyzer>> context =
      ContextAnalyzer::Create(context_options);
  if (!context.ok()) return Fail(context.status());

  const std::string input = args.Get("input");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) return Fail(absl::NotFoundError(StrCat(input, ": cannot open")));
    in = &file;
  }
  FILE* out = stdout;
  const std::string output = args.Get("output", "-");
  if (output != "-") {
    out = std::fopen(output.c_str(), "wb");
    if (out == nullptr) return Fail(absl::InvalidArgumentError(StrCat(output, ": cannot write")));
  }

  simdjson::dom::parser parser;
  std::string line, result;
  size_t line_number = 0, failed = 0;
  while (std::getline(*in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (internal::Trim(line).empty()) continue;
    Input item;
    absl::Status status = ParseLine(parser, line, &item);
    if (status.ok()) {
      absl::StatusOr<Document> doc = (*analyzer)->Analyze(item.text);
      if (doc.ok()) {
        const std::optional<TextSpan> span = FindPhrase(doc->chart_text(), item.target);
        const Assertion a =
            span.has_value() ? (*context)->Assess(*doc, span->begin, span->end) : Assertion{};
        result = ResultLine(item, span, a);
      } else {
        status = doc.status();
      }
    }
    if (!status.ok()) {
      ++failed;
      result = ErrorLine(line_number, item, status);
    }
    result.push_back('\n');
    if (std::fwrite(result.data(), 1, result.size(), out) != result.size()) {
      if (out != stdout) std::fclose(out);
      return Fail(absl::InternalError(StrCat(output, ": write failed")));
    }
  }
  const bool read_error = in->bad();
  const bool close_error = out != stdout ? std::fclose(out) != 0 : std::fflush(out) != 0;
  if (read_error) return Fail(absl::DataLossError(StrCat(input, ": read error")));
  if (close_error) return Fail(absl::InternalError(StrCat(output, ": write failed")));
  if (failed > 0) {
    std::fprintf(stderr, "chartcoder: %zu of %zu input lines could not be read\n", failed,
                 line_number);
    return kExitData;
  }
  return kExitOk;
}

}  // namespace

const Command& ContextCommand() {
  static const Command* const kCommand =
      new Command{"context",
                  "assert negation, uncertainty, history, hypothesis and family of phrases in text",
                  kUsage,
                  {{"input", "FILE", "JSON Lines input, '-' for stdin"},
                   {"output", "FILE", "where to write the results (default stdout)"},
                   {"data", "PACK",
                    "read the trigger and header tables from this data pack (default: the tables "
                    "compiled into chartcoder)"},
                   {"triggers", "FILE", "more ConText triggers (TSV)", true},
                   {"sections", "FILE", "more section header rules (TSV)", true}},
                  &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
