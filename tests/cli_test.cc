// Tests of the `chartcoder` binary: help, exit codes, one-line errors, and the
// foundation commands (version, lookup, search, pack).
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "src/internal/pack_format.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::RunCli;
using testing::TempDir;
using testing::TestPackPath;
using testing::WriteFileOrDie;

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CliTest, HelpListsEveryCommand) {
  testing::CommandResult r = RunCli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"version", "lookup", "search", "pack", "help"}) {
    EXPECT_THAT(r.out, HasSubstr(c));
  }
  for (const char* c : {"version", "lookup", "search", "pack"}) {
    testing::CommandResult h = RunCli({"help", c});
    EXPECT_EQ(h.exit_code, 0) << c;
    EXPECT_THAT(h.out, StartsWith("Usage: chartcoder ")) << c;
    testing::CommandResult h2 = RunCli({c, "--help"});
    EXPECT_EQ(h2.out, h.out) << c;
  }
}

TEST(CliTest, UsageErrorsExitOneWithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{}, {"frobnicate"}, {"lookup"}, {"lookup", "--bogus", "E11.9"},
                                             {"search", "--limit", "zero", "x"}, {"help", "nope"},
                                             {"pack", "--source"}}) {
    testing::CommandResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << ::testing::PrintToString(args);
    if (!args.empty()) {
      EXPECT_EQ(Lines(r.err), 1) << r.err;
      EXPECT_THAT(r.err, StartsWith("chartcoder")) << r.err;
    }
  }
}

TEST(CliTest, VersionNamesYearsAndModels) {
  testing::CommandResult r = RunCli({"version", "--data", TestPackPath()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FY2023"));
  EXPECT_THAT(r.out, HasSubstr("2026"));
  EXPECT_THAT(r.out, HasSubstr("CMS-HCC Model V28"));
  r = RunCli({"version", "--json", "--data", TestPackPath()});
  ASSERT_EQ(r.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(r.out);
  EXPECT_EQ(int64_t(e["pack_format_version"]), int64_t{internal::kPackFormatVersion});
  EXPECT_EQ(int64_t(e["icd10cm_fiscal_year"]), 2023);
  EXPECT_EQ(int64_t(e["hcc_payment_year"]), 2026);
}

TEST(CliTest, FindsThePackBesideItWithoutFlags) {
  testing::CommandResult r = RunCli({"lookup", "E11.9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Type 2 diabetes mellitus without complications"));
}

TEST(CliTest, LookupJson) {
  testing::CommandResult r = RunCli({"lookup", "--json", "e1122", "I50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Lines(r.out), 2);
  simdjson::dom::parser p;
  std::string first = r.out.substr(0, r.out.find('\n'));
  simdjson::dom::element e = p.parse(first);
  EXPECT_EQ(std::string_view(e["code"]), "E11.22");
  EXPECT_TRUE(bool(e["billable"]));
  EXPECT_EQ(std::string_view(e["parent"]), "E11.2");
  bool v24 = false, v28 = false;
  for (simdjson::dom::element h : e["hccs"].get_array()) {
    std::string_view model = h["model"];
    std::string_view hcc = h["hcc"];
    v24 |= model == "CMS-HCC Model V24" && hcc == "HCC18";
    v28 |= model == "CMS-HCC Model V28" && hcc == "HCC37";
  }
  EXPECT_TRUE(v24);
  EXPECT_TRUE(v28);
}

TEST(CliTest, UnknownCodeExitsTwoButPrintsTheOthers) {
  testing::CommandResult r = RunCli({"lookup", "E11.9", "QQ9.9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("E11.9"));
  EXPECT_EQ(Lines(r.err), 1);
  EXPECT_THAT(r.err, HasSubstr("QQ9.9 is not an ICD-10-CM code"));
}

TEST(CliTest, Search) {
  testing::CommandResult r = RunCli({"search", "--limit", "3", "congestive", "heart", "failure"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("I50.9"));
  r = RunCli({"search", "--json", "--billable", "diabetes type 2"});
  ASSERT_EQ(r.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(r.out);
  EXPECT_GT(e.get_array().size(), 0u);
  r = RunCli({"search", "zzzqqq"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CliTest, BadPacksExitTwoWithOneLine) {
  TempDir dir;
  WriteFileOrDie(dir.File("junk.ccpack"), "junk");
  WriteFileOrDie(dir.File("empty.ccpack"), "");
  for (const std::string& pack :
       {dir.File("junk.ccpack"), dir.File("empty.ccpack"), dir.File("missing.ccpack")}) {
    testing::CommandResult r = RunCli({"lookup", "--data", pack, "E11.9"});
    EXPECT_EQ(r.exit_code, 2) << pack;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(pack));
    EXPECT_EQ(r.out, "");
  }
}

TEST(CliTest, PackCommandBuildsAndReportsMissingSources) {
  TempDir dir;
  testing::CommandResult r =
      RunCli({"pack", "--source", testing::SourceDir() + "/tests/data/minisource", "--output",
              dir.File("mini.ccpack")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("FY2030"));
  r = RunCli({"lookup", "--data", dir.File("mini.ccpack"), "S72.001A"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunCli({"pack", "--source", dir.File("nothing"), "--output", dir.File("x.ccpack")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1);
}

}  // namespace
}  // namespace chartcoder
