// chartcoder code PATH...: code charts to ICD-10-CM, HCCs and RAF.
#include <atomic>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chartcoder/chart_io.h"
#include "chartcoder/executor.h"
#include "chartcoder/pipeline.h"
#include "chartcoder/result.h"
#include "cli/chart_inputs.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "cli/member_flags.h"
#include "cli/pipeline_flags.h"
#include "cli/progress.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

using internal::StrCat;

// A file name for a chart id: letters, digits, '-', '_' and '.' kept.
std::string FileNameFor(std::string_view id, size_t index) {
  std::string base = std::filesystem::path(std::string(id)).filename().string();
  std::string out;
  for (char c : base) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = StrCat("chart-", index);
  return out;
}

int Run(const CommandLine& args) {
  if (args.positional().empty()) {
    return UsageError("code", "give the charts: files, folders, or a JSON Lines file with "
                              "--input-format jsonl ('-' for stdin)");
  }
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(args.Get("format", "jsonl"));
  if (!format.ok()) return UsageError("code", format.status());
  InputFormat input_format = InputFormat::kFiles;
  const std::string in_fmt = args.Get("input-format", "files");
  if (in_fmt == "jsonl") {
    input_format = InputFormat::kJsonLines;
  } else if (in_fmt != "files") {
    return UsageError("code", "--input-format is files or jsonl");
  }
  absl::StatusOr<int> threads = ThreadsFromFlags(args);
  if (!threads.ok()) return UsageError("code", threads.status());
  std::optional<Demographics> member;
  if (args.Has("age") || args.Has("sex")) {
    absl::StatusOr<Demographics> d = DemographicsFromFlags(args);
    if (!d.ok()) return UsageError("code", d.status());
    member = *d;
  }
  const std::string output = args.Get("output");
  if (args.Has("seal-output") && output.empty()) {
    return UsageError("code", "--seal-output needs --output (sealed results go to a file)");
  }

  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  absl::StatusOr<OutputOptions> out_options = OutputOptionsFromFlags(args, keys->get());
  if (!out_options.ok()) return Fail(out_options.status());
  ChartInputOptions in_options;
  in_options.format = input_format;
  in_options.keys = keys->get();
  absl::StatusOr<std::unique_ptr<ChartInputReader>> reader =
      ChartInputReader::Open(args.positional(), in_options);
  if (!reader.ok()) return Fail(reader.status());
  absl::StatusOr<PipelineOptions> pipeline_options = PipelineOptionsFromFlags(args);
  if (!pipeline_options.ok()) return UsageError("code", pipeline_options.status());
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = Pipeline::Create(*pipeline_options);
  if (!pipeline.ok()) return Fail(pipeline.status());

  // Where results go: one stream (JSON Lines, FHIR), or one HTML file per
  // chart in the --output folder.
  const bool html = *format == OutputFormat::kHtml;
  std::unique_ptr<OutputFile> out_file;
  if (html) {
    if (output.empty() && (input_format == InputFormat::kJsonLines || (*reader)->total() != 1)) {
      return UsageError("code", "--format html writes one page per chart: give --output FOLDER "
                                "(stdout takes a single chart)");
    }
    if (!output.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(output, ec);
      if (ec) return Fail(absl::FailedPreconditionError(StrCat(output, ": ", ec.message())));
    }
  } else if (!output.empty()) {
    absl::StatusOr<std::unique_ptr<OutputFile>> f = OutputFile::Create(output, *out_options);
    if (!f.ok()) return Fail(f.status());
    out_file = std::move(*f);
  }

  Progress progress("charts", (*reader)->total(), StderrIsTerminal());
  // The charts are coded by a ThreadPoolExecutor (bounded queue, so charts
  // stream through) and handed on in input order by InOrderDelivery, on one
  // executor thread at a time. The processor formats each result, so the
  // formatting runs in parallel too.
  const Pipeline& p = **pipeline;
  const OutputFormat fmt = *format;
  auto processor = std::make_shared<FunctionProcessor>(
      [&p, fmt](const ChartJob& job) -> absl::StatusOr<std::string> {
        absl::StatusOr<ChartResult> r =
            p.Code(job.id, job.chart, job.demographics ? &*job.demographics : nullptr);
        if (!r.ok()) return r.status();
        return FormatChartResult(*r, fmt);
      });
  ThreadPoolOptions pool_options;
  pool_options.processor = processor;
  pool_options.threads = *threads;
  pool_options.queue_capacity = 4 * static_cast<size_t>(*threads);
  absl::StatusOr<std::unique_ptr<ThreadPoolExecutor>> pool =
      ThreadPoolExecutor::Create(pool_options);
  if (!pool.ok()) return Fail(pool.status());

  // Inputs that could not be read are not coded: their read errors wait here,
  // by submission order, for the delivery of their (empty) job.
  std::mutex read_mu;
  std::deque<absl::Status> read_status;
  std::atomic<uint64_t> bytes_read{0};
  size_t done = 0, failed = 0;
  absl::Status write_error;
  InOrderDelivery in_order([&](JobOutcome o) {
    absl::Status read;
    {
      std::lock_guard<std::mutex> lock(read_mu);
      read = std::move(read_status.front());
      read_status.pop_front();
    }
    absl::StatusOr<std::string> result = read.ok() ? std::move(o.result) : read;
    ++done;
    if (!result.ok()) {
      ++failed;
      // One line naming the chart and the reason; never chart text.
      std::string msg(internal::FromAbsl(result.status().message()));
      for (char& ch : msg) {
        if (ch == '\n') ch = ' ';
      }
      std::fprintf(stderr, "%schartcoder: %s: %s\n", StderrIsTerminal() ? "\r" : "",
                   o.id.c_str(), msg.c_str());
    }
    const std::string text = result.ok() ? *std::move(result)
                                         : ErrorRecord(o.id, result.status(), fmt);
    if (write_error.ok()) {
      if (html && !output.empty()) {
        const std::string path =
            (std::filesystem::path(output) / (FileNameFor(o.id, done) + ".html")).string();
        absl::StatusOr<std::unique_ptr<OutputFile>> f = OutputFile::Create(path, *out_options);
        absl::Status s = f.ok() ? (*f)->Append(text) : f.status();
        if (s.ok()) s = (*f)->Commit();
        if (!s.ok()) write_error = s;
      } else if (out_file) {
        absl::Status s = out_file->Append(text);
        if (!s.ok()) write_error = s;
      } else {
        std::fwrite(text.data(), 1, text.size(), stdout);
      }
    }
    progress.Update(done, bytes_read.load(), failed);
  });
  ChartInput in;
  while ((*reader)->Next(&in)) {
    bytes_read.store((*reader)->bytes_read());
    ChartJob job;
    job.id = std::move(in.id);
    if (in.status.ok()) {
      job.chart = std::move(in.text);
      job.demographics = in.demographics ? in.demographics : member;
    }
    {
      std::lock_guard<std::mutex> lock(read_mu);
      read_status.push_back(std::move(in.status));
    }
    absl::Status s = (*pool)->Submit(std::move(job), in_order.Callback());
    if (!s.ok()) return Fail(s);
    in = ChartInput();
  }
  absl::Status drained = (*pool)->Drain();
  if (!drained.ok()) return Fail(drained);
  progress.Finish();
  if (!write_error.ok()) return Fail(write_error);
  if (out_file) {
    absl::Status s = out_file->Commit();
    if (!s.ok()) return Fail(s);
  }
  std::fflush(stdout);
  if (failed > 0) {
    std::fprintf(stderr, "chartcoder: %zu of %zu charts could not be coded (error records written)\n",
                 failed, done);
    return kExitData;
  }
  return kExitOk;
}

}  // namespace

const Command& CodeCommand() {
  static const Command* const kCommand = new Command{
      "code", "code charts: ICD-10-CM codes with evidence, HCCs, and RAF with demographics",
      "Usage: chartcoder code [--format jsonl|html|fhir] [--output PATH] [--threads N]\n"
      "                       [--input-format files|jsonl] [--age N --sex F|M ...] PATH...\n\n"
      "Codes each chart: finds the diagnoses it names and whether each is affirmed,\n"
      "negated, uncertain, historical, hypothetical or a relative's; assigns the most\n"
      "specific billable ICD-10-CM codes the text supports, ranked by score, with the\n"
      "evidence for each; maps them to CMS-HCC V24 and V28 HCCs; and, with a member's\n"
      "demographics, scores RAF.\n\n"
      "PATH is a chart file (plain or sealed), a folder (its .txt, .text, .note and\n"
      ".sealed files, recursively), or with --input-format jsonl a file of lines\n"
      "{\"id\", \"text\", optional \"demographics\": {\"age\", \"sex\", \"dual\", \"orec\",\n"
      "\"institutional\", \"new_enrollee\"}}. '-' reads stdin.\n\n"
      "Output (stdout or --output): jsonl, one JSON object per chart (schema in\n"
      "docs/output-schema.md); fhir, one FHIR R4 Bundle per chart and line; html, one\n"
      "evidence report per chart, written into the --output folder. A chart that\n"
      "cannot be read or coded gives an error record naming it and the reason; the\n"
      "others go on, and the exit code is 2 at the end. Sealed charts are read with\n"
      "the keyring; --seal-output seals the output file.",
      Concat({{{"format", "FORMAT", "jsonl (default), html or fhir"},
               {"output", "PATH", "output file (jsonl, fhir) or folder (html); default stdout"},
               {"input-format", "FORMAT", "files (default) or jsonl"}},
              PipelineFlags(),
              MemberFlags(),
              KeyringFlags(),
              SealOutputFlags()}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
