// code_chart: what a service embedding chartcoder does, in one short program.
//
//   code_chart CHART.txt [--age 72 --sex F]
//
// It creates the Pipeline once (loading the data pack is the expensive part:
// do it at start-up, not per request), codes one chart file, and prints each
// assigned ICD-10-CM code with its evidence, then the V28 HCCs and, with the
// member's age and sex, the V28 RAF score. A Pipeline is immutable: a real
// service shares this one object between all its request threads.
//
// Charts are PHI. This program prints evidence to stdout because that is its
// job; a service must not write chart text to its logs.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "chartcoder/chart_io.h"
#include "chartcoder/pipeline.h"

namespace {

int Fail(std::string_view what, const absl::Status& status) {
  // absl::Status::message() is an absl::string_view: copy it for printf.
  std::fprintf(stderr, "code_chart: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               std::string(status.message()).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: code_chart CHART.txt [--age N --sex F|M]\n");
    return 1;
  }
  const std::string path = argv[1];
  chartcoder::Demographics member;  // age -1: no RAF unless given
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--age") {
      member.age = std::atoi(argv[i + 1]);
    } else if (flag == "--sex") {
      absl::StatusOr<chartcoder::Sex> sex = chartcoder::ParseSex(argv[i + 1]);
      if (!sex.ok()) return Fail("--sex", sex.status());
      member.sex = *sex;
    } else {
      std::fprintf(stderr, "code_chart: unknown flag %s\n", argv[i]);
      return 1;
    }
  }
  const bool scored = member.age >= 0;

  // 1. Once per process: the pipeline, over the installed data pack (found
  //    beside the library; PipelineOptions::data_pack names another).
  chartcoder::PipelineOptions options;
  options.models = {chartcoder::HccModel::kV28};
  absl::StatusOr<std::unique_ptr<chartcoder::Pipeline>> pipeline =
      chartcoder::Pipeline::Create(options);
  if (!pipeline.ok()) return Fail("pipeline", pipeline.status());

  // 2. Per chart: read it (plain UTF-8 here; ChartReadOptions::keys opens
  //    sealed charts) and code it. Errors are statuses, never exceptions.
  absl::StatusOr<std::string> text = chartcoder::ReadChartFile(path, {});
  if (!text.ok()) return Fail(path, text.status());
  absl::StatusOr<chartcoder::ChartResult> result =
      (*pipeline)->Code(path, *text, scored ? &member : nullptr);
  if (!result.ok()) return Fail(path, result.status());

  // 3. Use the result. Offsets are bytes of the chart text.
  const std::string_view chart = result->document->text();
  std::printf("%s: %zu codes\n", path.c_str(), result->codes.size());
  for (const chartcoder::AssignedCode& code : result->codes) {
    std::printf("%-8s %.2f  %s\n", code.code.c_str(), code.score, code.description.c_str());
    // The strongest evidence first; show up to two.
    for (size_t i = 0; i < code.evidence.size() && i < 2; ++i) {
      const chartcoder::CodeEvidence& ev = code.evidence[i];
      const std::string_view words = chart.substr(ev.begin, ev.end - ev.begin);
      std::printf("           \"%.*s\" [%u, %u) in %s\n", static_cast<int>(words.size()),
                  words.data(), ev.begin, ev.end,
                  std::string(chartcoder::SectionKindName(ev.section)).c_str());
    }
  }
  for (const chartcoder::ModelHccs& model : result->hccs) {
    for (const chartcoder::ChartHcc& hcc : model.hccs) {
      std::printf("%s HCC%d  %s\n", std::string(chartcoder::HccModelName(model.model)).c_str(),
                  hcc.hcc, hcc.label.c_str());
    }
  }
  for (const chartcoder::RiskScore& raf : result->raf) {
    std::printf("RAF %s (%s, payment year %d): %.3f", std::string(chartcoder::HccModelName(raf.model)).c_str(),
                std::string(chartcoder::SegmentCode(raf.segment)).c_str(), raf.payment_year,
                raf.raw_score);
    if (raf.normalized_score) std::printf(", normalized %.3f", *raf.normalized_score);
    std::printf("\n");
  }
  return 0;
}
