// Checks the example chart set in examples/charts/: every chart has a side
// file of expected codes and traps in the documented format, every expected
// code is a billable code of the pack's ICD-10-CM year, and the README lists
// every chart. The set is the project's accuracy test data, so a typo here
// would silently skew every accuracy figure.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chartcoder/codeset.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "src/internal/strings.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ReadFileOrDie;
using testing::SourceDir;
using testing::TestCodeSet;

constexpr size_t kMinChartBytes = 1024;
constexpr size_t kMaxChartBytes = 20 * 1024;
constexpr size_t kMinCharts = 24;

std::string ChartDir() { return SourceDir() + "/examples/charts"; }

// Chart names (file stems) of examples/charts/*.txt, sorted.
std::vector<std::string> ChartNames() {
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(ChartDir())) {
    if (e.is_regular_file() && e.path().extension() == ".txt") {
      names.push_back(e.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

struct SideFile {
  std::vector<std::string> expected;
  std::vector<std::string> traps;
};

// Parses `<name>.codes`, reporting every format problem as a test failure.
SideFile ParseSideFile(const std::string& name, const std::string& text) {
  SideFile out;
  std::vector<std::string_view> lines = internal::Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  EXPECT_FALSE(lines.empty()) << name << ".codes is empty";
  if (lines.empty()) return out;
  const std::string header = internal::StrCat("# ", name, ".txt ");
  EXPECT_EQ(lines[0].substr(0, header.size()), header)
      << name << ".codes must start with '" << header << "— description'";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    const std::string where = internal::StrCat(name, ".codes:", i + 1);
    EXPECT_FALSE(line.empty()) << where << ": empty line";
    EXPECT_EQ(line.find('\r'), std::string_view::npos)
        << where << ": CR in line";
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string_view::npos)
        << where << ": no TAB after the code";
    if (tab == std::string_view::npos) continue;
    std::string_view code = line.substr(0, tab);
    EXPECT_FALSE(internal::Trim(line.substr(tab + 1)).empty())
        << where << ": no justification";
    const bool trap = !code.empty() && code[0] == '!';
    if (trap) code.remove_prefix(1);
    EXPECT_FALSE(code.empty()) << where << ": no code";
    (trap ? out.traps : out.expected).emplace_back(code);
  }
  return out;
}

TEST(ExampleChartsTest, AtLeastTheAgreedNumberOfCharts) {
  EXPECT_GE(ChartNames().size(), kMinCharts);
}

TEST(ExampleChartsTest, ChartsAreUtf8WithinSizeLimits) {
  for (const std::string& name : ChartNames()) {
    const std::string text = ReadFileOrDie(ChartDir() + "/" + name + ".txt");
    EXPECT_GE(text.size(), kMinChartBytes) << name;
    EXPECT_LE(text.size(), kMaxChartBytes) << name;
    EXPECT_TRUE(IsValidUtf8(text)) << name << ".txt is not valid UTF-8";
  }
}

TEST(ExampleChartsTest, EveryChartHasASideFileAndViceVersa) {
  const std::vector<std::string> names = ChartNames();
  for (const std::string& name : names) {
    EXPECT_TRUE(fs::exists(ChartDir() + "/" + name + ".codes"))
        << name << ".codes missing";
  }
  for (const fs::directory_entry& e : fs::directory_iterator(ChartDir())) {
    if (e.path().extension() != ".codes") continue;
    const std::string stem = e.path().stem().string();
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), stem))
        << stem << ".codes has no chart " << stem << ".txt";
  }
}

TEST(ExampleChartsTest, ExpectedCodesAreBillableAndTrapsAreRealCodes) {
  const CodeSet& codes = TestCodeSet();
  for (const std::string& name : ChartNames()) {
    const std::string path = ChartDir() + "/" + name + ".codes";
    if (!fs::exists(path))
      continue;  // reported by EveryChartHasASideFileAndViceVersa
    const std::string text = ReadFileOrDie(path);
    EXPECT_TRUE(IsValidUtf8(text)) << name << ".codes is not valid UTF-8";
    SideFile side = ParseSideFile(name, text);
    EXPECT_FALSE(side.expected.empty()) << name << ": no expected codes";
    std::set<std::string> seen;
    for (const std::string& c : side.expected) {
      std::optional<Code> code = codes.Find(c);
      ASSERT_TRUE(code.has_value()) << name << ": unknown code " << c;
      EXPECT_TRUE(code->billable()) << name << ": " << c << " is not billable";
      EXPECT_EQ(code->code(), c)
          << name << ": write codes dotted and upper case";
      EXPECT_TRUE(seen.insert(c).second)
          << name << ": " << c << " listed twice";
    }
    for (const std::string& c : side.traps) {
      std::optional<Code> code = codes.Find(c);
      ASSERT_TRUE(code.has_value()) << name << ": unknown trap code " << c;
      EXPECT_EQ(code->code(), c)
          << name << ": write codes dotted and upper case";
      EXPECT_TRUE(seen.insert(c).second)
          << name << ": " << c
          << " is listed twice or both expected and a trap";
    }
  }
}

TEST(ExampleChartsTest, ReadmeListsEveryChart) {
  const std::string readme = ReadFileOrDie(ChartDir() + "/README.md");
  for (const std::string& name : ChartNames()) {
    EXPECT_THAT(readme, HasSubstr("`" + name + ".txt`"))
        << name << " missing from README.md";
  }
}

TEST(ExampleChartsTest, ParserRejectsMalformedSideFiles) {
  // The checks above are only as good as the parser: make sure it fails on
  // each kind of damage.
  EXPECT_NONFATAL_FAILURE(ParseSideFile("a", "# a.txt x\nE11.9 no tab\n"),
                          "no TAB");
  EXPECT_NONFATAL_FAILURE(ParseSideFile("a", "# b.txt x\nE11.9\tok\n"),
                          "must start with");
  EXPECT_NONFATAL_FAILURE(ParseSideFile("a", "# a.txt x\nE11.9\t \n"),
                          "no justification");
  EXPECT_NONFATAL_FAILURE(ParseSideFile("a", "# a.txt x\nE11.9\tok\r\n"),
                          "CR in line");
  EXPECT_NONFATAL_FAILURE(ParseSideFile("a", "# a.txt x\n\nE11.9\tok\n"),
                          "empty line");
  SideFile ok =
      ParseSideFile("a", "# a.txt — fine\nE11.9\tdm\n!I50.9\ttrap: negated\n");
  EXPECT_EQ(ok.expected, std::vector<std::string>{"E11.9"});
  EXPECT_EQ(ok.traps, std::vector<std::string>{"I50.9"});
}

TEST(ExampleChartsTest, Utf8Validator) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(
      IsValidUtf8("98.6 \xC2\xB0"
                  "F, 5 \xC2\xB5g, 1\xE2\x80\x93"
                  "2"));
  EXPECT_FALSE(IsValidUtf8("\xB0"));  // lone continuation byte (Latin-1 degree)
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x80"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace chartcoder
