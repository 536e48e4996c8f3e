// Helpers shared by the text front-end tests: one default TextAnalyzer per
// test binary, and analysis that fails the test on error.
#ifndef CHARTCODER_TESTS_TEXT_TEST_SUPPORT_H_
#define CHARTCODER_TESTS_TEXT_TEST_SUPPORT_H_

#include <memory>
#include <string_view>
#include <utility>

#include "chartcoder/tokenizer.h"
#include "gtest/gtest.h"

namespace chartcoder::testing {

// TextAnalyzer::Create({}), made once (it is immutable).
inline const TextAnalyzer& DefaultAnalyzer() {
  static const TextAnalyzer* const kAnalyzer = [] {
    absl::StatusOr<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::Create({});
    EXPECT_TRUE(a.ok()) << a.status();
    return a->release();
  }();
  return *kAnalyzer;
}

// `a` (default: DefaultAnalyzer()) applied to `text`; a failure fails the test.
inline Document AnalyzeOrFail(std::string_view text, const TextAnalyzer& a = DefaultAnalyzer()) {
  absl::StatusOr<Document> d = a.Analyze(text);
  EXPECT_TRUE(d.ok()) << d.status();
  return std::move(d).value();
}

}  // namespace chartcoder::testing

#endif  // CHARTCODER_TESTS_TEXT_TEST_SUPPORT_H_
