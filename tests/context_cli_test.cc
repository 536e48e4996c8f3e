// Tests of `chartcoder context`: JSON Lines in and out, error lines, exit codes,
// rule files and the data pack.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using testing::CommandResult;
using testing::Lines;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCli;
using ::testing::StartsWith;
using testing::TempDir;
using testing::WriteFileOrDie;

TEST(ContextCliTest, AssessesEachLine) {
  const std::string input =
      R"({"id":"a1","text":"Denies chest pain but reports dyspnea.","target":"chest pain"})"
      "\n"
      R"({"id":"a2","text":"Denies chest pain but reports dyspnea.","target":"Dyspnea"})"
      "\n"
      R"({"id":3,"text":"Mother had diabetes.","target":"diabetes"})"
      "\n"
      R"({"id":"a4","text":"Rule out MI.","target":"mi"})"
      "\n"
      R"({"id":"a5","text":"History of breast cancer.","target":"breast cancer"})"
      "\n"
      R"({"id":"a6","text":"Return if fever develops.","target":"fever"})"
      "\n"
      R"({"id":"a7","text":"No fever.","target":"cough"})"
      "\n";
  CommandResult r = RunCli({"context", "--input", "-"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7u) << r.out;
  simdjson::dom::parser p;
  struct Want {
    std::string id;
    bool found;
    const char* attribute;  // the one true attribute, or nullptr
  };
  const std::vector<Want> want = {{"a1", true, "negated"},    {"a2", true, nullptr},
                                  {"3", true, "family"},      {"a4", true, "uncertain"},
                                  {"a5", true, "historical"}, {"a6", true, "hypothetical"},
                                  {"a7", false, nullptr}};
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element e = p.parse(lines[i]);
    std::string_view id_s;
    int64_t id_i = 0;
    if (e["id"].get(id_s) == simdjson::SUCCESS) {
      EXPECT_EQ(id_s, want[i].id);
    } else {
      ASSERT_EQ(e["id"].get(id_i), simdjson::SUCCESS);
      EXPECT_EQ(std::to_string(id_i), want[i].id);
    }
    EXPECT_EQ(bool(e["found"]), want[i].found) << lines[i];
    for (const char* attr : {"negated", "uncertain", "historical", "hypothetical", "family"}) {
      const bool expected = want[i].attribute != nullptr && std::string(attr) == want[i].attribute;
      EXPECT_EQ(bool(e[attr]), expected) << lines[i] << " " << attr;
    }
  }
  // Span and cue offsets are bytes of the text.
  simdjson::dom::element first = p.parse(lines[0]);
  simdjson::dom::array span = first["span"];
  EXPECT_EQ(int64_t(span.at(0)), 7);
  EXPECT_EQ(int64_t(span.at(1)), 17);
  simdjson::dom::array cues = first["cues"];
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(std::string_view(cues.at(0)["kind"]), "negation");
  EXPECT_EQ(int64_t(cues.at(0)["span"].at(0)), 0);
  EXPECT_EQ(int64_t(cues.at(0)["span"].at(1)), 6);
  EXPECT_THAT(lines[1], HasSubstr(R"("kind":"terminator")"));
  EXPECT_THAT(lines[6], HasSubstr(R"("span":null)"));
}

TEST(ContextCliTest, BadLinesGiveErrorLinesAndExitTwo) {
  TempDir dir;
  const std::string input = R"({"id":"ok1","text":"No fever.","target":"fever"})"
                            "\n"
                            "this is not json\n"
                            "\n"
                            R"({"id":"t1","target":"fever"})"
                            "\n"
                            R"({"id":{"x":1},"text":"a","target":"a"})"
                            "\n"
                            R"(["id","text"])"
                            "\n"
                            R"({"text":"No fever.","target":"fever"})"
                            "\n"
                            R"({"id":"ok2","text":"Possible pneumonia.","target":"pneumonia"})"
                            "\r\n";
  WriteFileOrDie(dir.File("in.jsonl"), input);
  CommandResult r = RunCli({"context", "--input", dir.File("in.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("chartcoder: 5 of 8 input lines"));
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7u) << r.out;
  EXPECT_THAT(lines[0], StartsWith(R"({"id":"ok1","found":true)"));
  EXPECT_THAT(lines[1], StartsWith(R"({"line":2,"error":"not JSON)"));
  EXPECT_EQ(lines[2], R"({"line":4,"id":"t1","error":"no \"text\" string"})");
  EXPECT_THAT(lines[3], HasSubstr(R"("line":5,"error":"\"id\" must be a string or an integer")"));
  EXPECT_EQ(lines[4], R"({"line":6,"error":"not a JSON object"})");
  EXPECT_EQ(lines[5], R"({"line":7,"error":"no \"id\""})");
  EXPECT_THAT(lines[6], StartsWith(R"({"id":"ok2","found":true)"));
  EXPECT_THAT(lines[6], HasSubstr(R"("uncertain":true)"));
}

TEST(ContextCliTest, OutputFileAndUsageErrors) {
  TempDir dir;
  WriteFileOrDie(dir.File("in.jsonl"), R"({"id":"a","text":"No cough.","target":"cough"})"
                                       "\n");
  CommandResult r =
      RunCli({"context", "--input", dir.File("in.jsonl"), "--output", dir.File("out.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(testing::ReadFileOrDie(dir.File("out.jsonl")), HasSubstr(R"("negated":true)"));

  CommandResult usage = RunCli({"context"});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_THAT(usage.err, HasSubstr("--input"));
  CommandResult extra = RunCli({"context", "--input", "-", "stray"});
  EXPECT_EQ(extra.exit_code, 1);
  CommandResult missing = RunCli({"context", "--input", dir.File("nope.jsonl")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, StartsWith("chartcoder: "));
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);
  CommandResult help = RunCli({"help", "context"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: chartcoder context"));
  CommandResult list = RunCli({"--help"});
  EXPECT_THAT(list.out, HasSubstr("context"));
}

TEST(ContextCliTest, RuleFilesAndTheDataPack) {
  TempDir dir;
  WriteFileOrDie(dir.File("triggers.tsv"),
                 "phrase\tkind\tdirection\tmax_scope\nnixed\tnegation\tbackward\t3\n");
  WriteFileOrDie(dir.File("sections.tsv"), "header\tkind\nKin\tfamily_history\n");
  const std::string input = R"({"id":"t","text":"Pneumonia nixed.","target":"pneumonia"})"
                            "\n"
                            R"({"id":"s","text":"Kin:\nglaucoma","target":"glaucoma"})"
                            "\n";
  CommandResult plain = RunCli({"context", "--input", "-"}, input);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.out, Not(HasSubstr(R"("negated":true)")));
  EXPECT_THAT(plain.out, Not(HasSubstr(R"("family":true)")));
  CommandResult custom =
      RunCli({"context", "--input", "-", "--triggers", dir.File("triggers.tsv"), "--sections",
              dir.File("sections.tsv"), "--data", testing::TestPackPath()},
             input);
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  std::vector<std::string> lines = Lines(custom.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("negated":true)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("family":true)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("kind":"section_default","attribute":"family")"));

  WriteFileOrDie(dir.File("bad.tsv"), "phrase\tkind\tdirection\tmax_scope\nx\tmaybe\tforward\t\n");
  CommandResult bad = RunCli({"context", "--input", "-", "--triggers", dir.File("bad.tsv")}, input);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("bad.tsv:2"));
  EXPECT_EQ(bad.out, "");
}

TEST(ContextCliTest, TextsThatCannotBeReadAreErrorLines) {
  // A lone surrogate escape is not UTF-8; the line fails, the run goes on.
  const std::string input = R"({"id":"u","text":"fever \ud800 x","target":"fever"})"
                            "\n"
                            R"({"id":"v","text":"No fever.","target":"FEVER"})"
                            "\n";
  CommandResult r = RunCli({"context", "--input", "-"}, input);
  EXPECT_EQ(r.exit_code, 2);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines[0], StartsWith(R"({"line":1,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("negated":true)"));
}

}  // namespace
}  // namespace chartcoder
