// Helpers shared by the chart-coding tests (extractor, coder, pipeline,
// result): one Pipeline over the test pack per test binary, coding that fails
// the test on error, and invariants every result must keep.
#ifndef CHARTCODER_TESTS_CODING_TEST_SUPPORT_H_
#define CHARTCODER_TESTS_CODING_TEST_SUPPORT_H_

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chartcoder/pipeline.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace chartcoder::testing {

// The test pack, shared (not owned: TestCodeSet() lives for the process).
inline std::shared_ptr<const CodeSet> SharedTestCodeSet() {
  return std::shared_ptr<const CodeSet>(&TestCodeSet(), [](const CodeSet*) {});
}

// Pipeline::Create with default options over the test pack, made once.
inline const Pipeline& TestPipeline() {
  static const Pipeline* const kPipeline = [] {
    PipelineOptions o;
    o.code_set = SharedTestCodeSet();
    absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Create(o);
    EXPECT_TRUE(p.ok()) << p.status();
    return p->release();
  }();
  return *kPipeline;
}

inline ChartResult CodeOrFail(std::string_view text, const Demographics* member = nullptr,
                              const Pipeline& p = TestPipeline()) {
  absl::StatusOr<ChartResult> r = p.Code("test", text, member);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(r).value() : ChartResult();
}

// The assigned codes, in rank order.
inline std::vector<std::string> CodesOf(const std::vector<AssignedCode>& codes) {
  std::vector<std::string> out;
  for (const AssignedCode& c : codes) out.push_back(c.code);
  return out;
}
inline std::vector<std::string> CodesOf(const ChartResult& r) { return CodesOf(r.codes); }

// The example charts (examples/charts/*.txt), sorted.
inline std::vector<std::string> ExampleChartPaths() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() + "/examples/charts")) {
    if (e.path().extension() == ".txt") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every assigned code is billable and ranked; every evidence span lies in
// the text.
inline void ExpectWellFormedCodes(const std::vector<AssignedCode>& codes, std::string_view text,
                                  const std::string& what) {
  for (size_t i = 0; i < codes.size(); ++i) {
    const AssignedCode& c = codes[i];
    std::optional<Code> known = TestCodeSet().Find(c.code);
    ASSERT_TRUE(known.has_value()) << what << ": " << c.code << " is not in the code set";
    EXPECT_TRUE(known->billable()) << what << ": non-billable " << c.code;
    EXPECT_EQ(known->description(), c.description) << what;
    EXPECT_GE(c.score, 0.0) << what;
    EXPECT_LE(c.score, 1.0) << what;
    if (i > 0) {
      EXPECT_GE(codes[i - 1].score, c.score) << what << ": not ranked at " << c.code;
    }
    EXPECT_FALSE(c.evidence.empty()) << what << ": " << c.code << " without evidence";
    for (const CodeEvidence& ev : c.evidence) {
      EXPECT_LE(ev.begin, ev.end) << what << " " << c.code;
      EXPECT_LE(ev.end, text.size()) << what << " " << c.code;
      EXPECT_LE(ev.sentence_begin, ev.begin) << what << " " << c.code;
      EXPECT_LE(ev.end, ev.sentence_end) << what << " " << c.code;
      EXPECT_LE(ev.sentence_end, text.size()) << what << " " << c.code;
      for (const auto& [b, e] : ev.spans) {
        EXPECT_LT(b, e) << what << " " << c.code;
        EXPECT_LE(e, text.size()) << what << " " << c.code;
      }
      EXPECT_GE(ev.weight, 0.0);
      EXPECT_LE(ev.weight, 1.0);
    }
  }
  for (size_t i = 0; i < codes.size(); ++i) {
    for (size_t j = i + 1; j < codes.size(); ++j) {
      EXPECT_NE(codes[i].code, codes[j].code) << what << ": assigned twice";
    }
  }
}

}  // namespace chartcoder::testing

#endif  // CHARTCODER_TESTS_CODING_TEST_SUPPORT_H_
