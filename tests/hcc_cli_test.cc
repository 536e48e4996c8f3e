// Tests of `chartcoder raf`: one member (text, JSON, blends), usage errors,
// and the streamed CSV batch with bad rows.
#include <filesystem>
#include <string>

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

TEST(RafCliTest, OneMemberReadable) {
  CommandResult r = RunCli({"raf", "--model", "V28", "--age", "72", "--sex", "F", "E11.9", "I50.9",
                            "n184", "I10", "I21.1", "XYZ"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("segment CNA"));
  EXPECT_THAT(r.out, HasSubstr("HCC38"));
  EXPECT_THAT(r.out, HasSubstr("CNA_DIABETES_HF_V28"));
  EXPECT_THAT(r.out, HasSubstr("raw score                          1.723"));
  EXPECT_THAT(r.out, HasSubstr("give --normalization"));
  EXPECT_THAT(r.out, HasSubstr("I10"));
  EXPECT_THAT(r.out, HasSubstr("not valid for payment"));
  EXPECT_THAT(r.out, HasSubstr("XYZ"));
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(RafCliTest, OneMemberJsonWithConstants) {
  CommandResult r = RunCli({"raf", "--model", "v28", "--age", "72", "--sex", "female", "--dual",
                            "partial", "--normalization", "1.045", "--coding-adjustment", "5.9%",
                            "--json", "E11.9;I50.9,N18.4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::string_view(e["segment"]), "CPA");
  EXPECT_EQ(std::string_view(e["demographics"]["dual"]), "partial");
  EXPECT_EQ(e["hccs"].get_array().size(), 3u);
  EXPECT_DOUBLE_EQ(double(e["normalization_factor"]), 1.045);
  EXPECT_DOUBLE_EQ(double(e["coding_intensity_adjustment"]), 0.059);
  const double raw = double(e["raw_score"]);
  const double normalized = double(e["normalized_score"]);
  EXPECT_NEAR(normalized, raw / 1.045, 0.0005);
  EXPECT_NEAR(double(e["payment_score"]), normalized * 0.941, 0.0005);
}

TEST(RafCliTest, Blends) {
  CommandResult r =
      RunCli({"raf", "--blend", "V24=0.33,V28=0.67", "--normalization", "V24=1.146,V28=1.015",
              "--age", "50", "--sex", "M", "--orec", "1", "--json", "F10.20", "F20.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(e["scores"].get_array().size(), 2u);
  EXPECT_DOUBLE_EQ(double(e["blend"]["weights"]["V24"]), 0.33);
  EXPECT_DOUBLE_EQ(double(e["blend"]["raw_score"]), 0.92893);
  EXPECT_DOUBLE_EQ(double(e["blend"]["normalized_score"]), 0.878);
  EXPECT_DOUBLE_EQ(double(e["blend"]["payment_score"]), 0.826);

  // The pack's year (2026) is published as 100% V28.
  CommandResult pub = RunCli({"raf", "--blend", "published", "--age", "72", "--sex", "F", "E11.9"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_THAT(pub.out, HasSubstr("Blend (CMS, Announcement of Calendar Year (CY) 2026"));
  EXPECT_THAT(pub.out, HasSubstr("weight V28                         1.000"));
}

// Without --model or --blend: the model CMS pays with in the pack's year
// (2026: V28 alone), as in `chartcoder raf --input members.csv`.
TEST(RafCliTest, DefaultModelIsThePaymentYears) {
  CommandResult one = RunCli({"raf", "--age", "72", "--sex", "F", "E11.9"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, StartsWith("CMS-HCC V28, payment year 2026"));
  EXPECT_THAT(one.out, Not(HasSubstr("Blend")));
  CommandResult batch =
      RunCli({"raf", "--input", "-"}, "member_id,age,sex,codes\nx,72,F,E11.9\n");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_THAT(batch.out, HasSubstr("\nx,V28,CNA,0.561,"));
}

TEST(RafCliTest, UsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"raf", "--model", "V28", "--blend", "published", "--age", "72", "--sex", "F"},
      {"raf", "--model", "V22", "--age", "72", "--sex", "F"},
      {"raf", "--model", "V28", "--sex", "F", "E11.9"},   // no age
      {"raf", "--model", "V28", "--age", "72", "E11.9"},  // no sex
      {"raf", "--model", "V28", "--age", "200", "--sex", "F"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "X"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "F", "--dual", "maybe"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "F", "--orec", "7"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "F", "--segment", "XX"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "F", "--normalization", "0"},
      {"raf", "--model", "V28", "--age", "72", "--sex", "F", "--coding-adjustment", "150%"},
      {"raf", "--blend", "V24=0.5,V28=0.6", "--age", "72", "--sex", "F", "E11.9"},
      {"raf", "--blend", "V24=0.5,V28=0.5", "--normalization", "1.1", "--age", "72", "--sex", "F"},
      // Forced segment without a cell for the member.
      {"raf", "--model", "V28", "--age", "45", "--sex", "M", "--segment", "CNA"},
      {"raf", "--model", "V28", "--input", "x.csv", "--json"},
      {"raf", "--model", "V28", "--output", "x.csv", "--age", "72", "--sex", "F"},
  };
  for (const auto& args : cases) {
    CommandResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("chartcoder raf: ")) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(RafCliTest, HelpDescribesTheBatchFormat) {
  CommandResult r = RunCli({"help", "raf"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("member_id, age, sex, codes"));
  EXPECT_THAT(r.out, HasSubstr("--input"));
}

TEST(RafCliTest, BatchScoresGoodRowsAndReportsBadOnes) {
  TempDir dir;
  const std::string in = dir.File("members.csv");
  WriteFileOrDie(in,
                 "member_id,age,sex,dual,orec,institutional,new_enrollee,codes\n"
                 "m-secret-1,72,F,none,0,0,0,E11.9 I50.9 N18.4\n"
                 "m-secret-2,abc,F,none,0,0,0,E11.9\n"  // line 3: bad age
                 "\"m, 3\",50,M,full,1,no,no,\"F20.0;F10.20, XYZ\"\n"
                 "m-secret-4,72,F,none,0,0\n"  // line 5: too few fields
                 "\n"
                 "m5,88,F,NA,0,1,0,G30.9 L89.154 I50.9\r\n"
                 "m-secret-6,70,F,none,9,0,0,E11.9\n"  // line 8: bad OREC
                 "m7,66,F,none,0,0,1,E11.9\n");
  const std::string out = dir.File("scores.csv");
  CommandResult r = RunCli({"raf", "--model", "V28", "--input", in, "--output", out});
  EXPECT_EQ(r.exit_code, 2);
  std::vector<std::string> err = Lines(r.err);
  ASSERT_EQ(err.size(), 4u) << r.err;
  EXPECT_THAT(err[0], HasSubstr("members.csv:3: age is not a whole number"));
  EXPECT_THAT(err[1], HasSubstr("members.csv:5: expected 8 fields, got 6"));
  EXPECT_THAT(err[2], HasSubstr("members.csv:8: OREC must be"));
  EXPECT_THAT(err[3], HasSubstr("3 of 7 members not scored"));
  // Member identifiers never reach stderr.
  EXPECT_THAT(r.err, Not(HasSubstr("secret")));

  std::vector<std::string> rows = Lines(testing::ReadFileOrDie(out));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0],
            "member_id,model,segment,raw_score,normalized_score,payment_score,hccs,"
            "unmapped_codes,not_billable_codes,invalid_codes");
  EXPECT_EQ(rows[1], "m-secret-1,V28,CNA,1.723,,,HCC38 HCC226 HCC327,,,");
  EXPECT_EQ(rows[2], "\"m, 3\",V28,CFD,1.109,,,HCC139 HCC151,,,XYZ");
  EXPECT_EQ(rows[3], "m5,V28,INS,2.387,,,HCC127 HCC226 HCC379,,,");
  EXPECT_EQ(rows[4], "m7,V28,NE,0.532,,,HCC38,,,");
}

TEST(RafCliTest, BatchFromStdinWithConstantsAndOptionalColumns) {
  CommandResult r = RunCli({"raf", "--model", "V24", "--normalization", "1.146", "--input", "-"},
                           "\xEF\xBB\xBFMEMBER_ID,Age,Sex,Codes,segment\n"
                           "a,72,F,E11.9 I50.9 N18.4 I10,\n"
                           "b,72,F,E11.9,INS\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  // 1.388 / 1.146 = 1.211; * 0.941 = 1.140.
  EXPECT_EQ(rows[1], "a,V24,CNA,1.388,1.211,1.140,HCC19 HCC85 HCC137,I10,,");
  EXPECT_THAT(rows[2], StartsWith("b,V24,INS,"));
}

TEST(RafCliTest, BatchQuotesOddInvalidCodes) {
  CommandResult r = RunCli({"raf", "--model", "V28", "--input", "-"},
                           "member_id,age,sex,codes\nq,72,F,\"E11.9 X\"\"Y\"\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], "q,V28,CNA,0.561,,,HCC38,,,\"X\"\"Y\"");
}

TEST(RafCliTest, BatchBlendColumns) {
  CommandResult r = RunCli({"raf", "--blend", "V24=0.33,V28=0.67", "--input", "-"},
                           "member_id,age,sex,codes\nx,72,F,E11.9 I50.9 I21.1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            "member_id,segment,raw_score_V24,normalized_score_V24,hccs_V24,raw_score_V28,"
            "normalized_score_V28,hccs_V28,blended_raw_score,normalized_score,payment_score,"
            "not_billable_codes,invalid_codes");
  EXPECT_THAT(rows[1], StartsWith("x,CNA,0.943,,HCC19 HCC85,1.033,,HCC38 HCC226,1.003,,,"));
  EXPECT_THAT(rows[1], HasSubstr(",I21.1,"));
}

TEST(RafCliTest, BatchHeaderProblemsAreFatal) {
  TempDir dir;
  const std::string out = dir.File("scores.csv");
  struct Case {
    std::string input;
    std::string message;
  } const cases[] = {
      {"member_id,age,sex\nx,72,F\n", "header: the header has no codes column"},
      {"member_id,age,sex,codes,new_enrolee\nx,72,F,E11.9,0\n", "unknown column 'new_enrolee'"},
      {"member_id,age,age,sex,codes\n", "column age twice"},
      {"", "no header row"},
  };
  for (const Case& c : cases) {
    const std::string in = dir.File("in.csv");
    WriteFileOrDie(in, c.input);
    CommandResult r = RunCli({"raf", "--model", "V28", "--input", in, "--output", out});
    EXPECT_EQ(r.exit_code, 2) << c.input;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    // No output that could pass for a result.
    EXPECT_FALSE(std::filesystem::exists(out)) << c.input;
  }
  CommandResult missing = RunCli({"raf", "--model", "V28", "--input", dir.File("nope.csv")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("cannot open"));
}

}  // namespace
}  // namespace chartcoder
