// Result writers: JSON Lines, FHIR R4, HTML and error records, from real
// pipeline results and from hand-made ones with awkward text; and the JSON
// Schema's enumerations against the library's own names (so a new section
// kind, source or cue kind cannot reach the output without the schema).
#include "chartcoder/result.h"

#include <set>
#include <string>
#include <vector>

#include "chartcoder/context.h"
#include "chartcoder/extractor.h"
#include "chartcoder/sections.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "src/internal/strings.h"
#include "tests/coding_test_support.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::CodeOrFail;
using testing::ReadFileOrDie;

constexpr char kChart[] =
    "ASSESSMENT: Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 4.\n"
    "Pt says \"my sugar's <300> & fine\"\\ \xC3\xA9t\xC3\xA9 \xE2\x80\x94 no pneumonia.\n"
    "<script>alert('x')</script> Chronic systolic heart failure.\n";

std::set<std::string> StringsOf(simdjson::dom::element e) {
  std::set<std::string> out;
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element x : a) {
    std::string_view s;
    if (x.get_string().get(s) == simdjson::SUCCESS) out.emplace(s);
  }
  return out;
}

// [begin, end) of a JSON span array.
std::pair<uint64_t, uint64_t> SpanOf(simdjson::dom::element e) {
  uint64_t b = 0, en = 0;
  simdjson::dom::array a;
  simdjson::dom::element x;
  EXPECT_EQ(e.get_array().get(a), simdjson::SUCCESS);
  if (a.at(0).get(x) == simdjson::SUCCESS) {
    EXPECT_EQ(x.get_uint64().get(b), simdjson::SUCCESS);
  }
  if (a.at(1).get(x) == simdjson::SUCCESS) {
    EXPECT_EQ(x.get_uint64().get(en), simdjson::SUCCESS);
  }
  return {b, en};
}

class SchemaEnumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json_ = ReadFileOrDie(testing::SourceDir() + "/docs/chart-result.schema.json");
    ASSERT_EQ(parser_.parse(json_).get(schema_), simdjson::SUCCESS);
  }
  std::set<std::string> Enum(const char* def) {
    return StringsOf(schema_["$defs"][def]["enum"].value());
  }
  std::string json_;
  simdjson::dom::parser parser_;
  simdjson::dom::element schema_;
};

TEST_F(SchemaEnumTest, SectionNamesMatchTheLibrary) {
  std::set<std::string> names;
  for (int i = 0; i < kSectionKindCount; ++i) {
    names.emplace(SectionKindName(static_cast<SectionKind>(i)));
  }
  EXPECT_EQ(Enum("section"), names);
}

TEST_F(SchemaEnumTest, LexiconSourcesMatchTheLibrary) {
  // Every named source (values are dense from 0; the first unnamed one ends
  // the list).
  std::set<std::string> names;
  for (int i = 0; i < 256; ++i) {
    const std::string_view name = LexiconSourceName(static_cast<LexiconSource>(i));
    if (name == "unknown") break;
    names.emplace(name);
  }
  EXPECT_GE(names.size(), 7u);
  EXPECT_EQ(Enum("source"), names)
      << "a LexiconSource was added or renamed: update the 'source' enum of "
         "docs/chart-result.schema.json and docs/output-schema.md";
}

TEST_F(SchemaEnumTest, CueKindsMatchTheLibrary) {
  // Every kind an Assertion can carry: all but kIgnore (rule files only).
  std::set<std::string> names;
  for (int i = 0; i < kCueKindCount; ++i) {
    if (static_cast<CueKind>(i) != CueKind::kIgnore) {
      names.emplace(CueKindName(static_cast<CueKind>(i)));
    }
  }
  EXPECT_EQ(Enum("cue_kind"), names);
}

TEST_F(SchemaEnumTest, ModelsMatchTheLibrary) {
  EXPECT_EQ(Enum("model"), (std::set<std::string>{std::string(HccModelName(HccModel::kV24)),
                                                  std::string(HccModelName(HccModel::kV28))}));
}

TEST(ResultJsonTest, RoundTripsAwkwardTextAndOffsets) {
  ChartResult r = CodeOrFail(kChart);
  ASSERT_FALSE(r.codes.empty());
  const std::string line = ChartResultJson(r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line per chart";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  int64_t schema = 0;
  ASSERT_EQ(doc["schema"].get_int64().get(schema), simdjson::SUCCESS);
  EXPECT_EQ(schema, 1);
  uint64_t bytes = 0;
  ASSERT_EQ(doc["bytes"].get_uint64().get(bytes), simdjson::SUCCESS);
  EXPECT_EQ(bytes, sizeof(kChart) - 1);
  const std::string_view text(kChart);
  // Every evidence and mention text is the exact slice of the chart.
  size_t checked = 0;
  auto slice_matches = [&](simdjson::dom::element item) {
    simdjson::dom::element span;
    std::string_view got;
    ASSERT_EQ(item["span"].get(span), simdjson::SUCCESS);
    ASSERT_EQ(item["text"].get_string().get(got), simdjson::SUCCESS);
    const auto [b, e] = SpanOf(span);
    EXPECT_EQ(got, text.substr(b, e - b));
    ++checked;
  };
  simdjson::dom::array codes, evidence, mentions;
  ASSERT_EQ(doc["codes"].get_array().get(codes), simdjson::SUCCESS);
  for (simdjson::dom::element c : codes) {
    ASSERT_EQ(c["evidence"].get_array().get(evidence), simdjson::SUCCESS);
    for (simdjson::dom::element ev : evidence) slice_matches(ev);
  }
  ASSERT_EQ(doc["mentions"].get_array().get(mentions), simdjson::SUCCESS);
  for (simdjson::dom::element m : mentions) slice_matches(m);
  EXPECT_GT(checked, 3u);
  // The mention after the multi-byte characters is found at its byte offset.
  const size_t hf = text.find("Chronic systolic heart failure");
  EXPECT_THAT(line, HasSubstr(internal::StrCat("\"span\":[", hf, ",")));
  EXPECT_THAT(line, Not(HasSubstr("\"raf\"")));
}

// The five assertion attributes of every mention and piece of evidence, in
// each of their 32 combinations, with "coded" before them in a mention.
TEST(ResultJsonTest, WritesEveryCombinationOfAssertionAttributes) {
  ChartResult r = CodeOrFail(kChart);
  ASSERT_FALSE(r.codes.empty());
  ASSERT_FALSE(r.codes[0].evidence.empty());
  ASSERT_FALSE(r.mentions.empty());
  const CodeEvidence ev = r.codes[0].evidence[0];
  const Mention mention = r.mentions[0];
  r.codes.resize(1);
  r.codes[0].evidence.clear();
  r.mentions.clear();
  auto assertion = [](int bits) {
    Assertion a;
    a.negated = bits & 1;
    a.uncertain = bits & 2;
    a.historical = bits & 4;
    a.hypothetical = bits & 8;
    a.family = bits & 16;
    return a;
  };
  for (int bits = 0; bits < 32; ++bits) {
    r.codes[0].evidence.push_back(ev);
    r.codes[0].evidence.back().assertion = assertion(bits);
    r.mentions.push_back(mention);
    r.mentions.back().assertion = assertion(bits);
    r.mentions.back().coded = bits % 3 == 0;
  }
  const std::string line = ChartResultJson(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  const char* const kNames[] = {"negated", "uncertain", "historical", "hypothetical", "family"};
  auto expect_flags = [&](simdjson::dom::element o, int bits) {
    for (int k = 0; k < 5; ++k) {
      bool v = !(bits >> k & 1);
      ASSERT_EQ(o[kNames[k]].get_bool().get(v), simdjson::SUCCESS) << kNames[k];
      EXPECT_EQ(v, (bits >> k & 1) != 0) << kNames[k] << " of " << bits;
    }
  };
  simdjson::dom::array evidence, mentions;
  ASSERT_EQ(doc["codes"].at(0)["evidence"].get_array().get(evidence), simdjson::SUCCESS);
  ASSERT_EQ(doc["mentions"].get_array().get(mentions), simdjson::SUCCESS);
  ASSERT_EQ(evidence.size(), 32u);
  ASSERT_EQ(mentions.size(), 32u);
  int bits = 0;
  for (simdjson::dom::element e : evidence) {
    simdjson::dom::object a;
    ASSERT_EQ(e["assertion"].get_object().get(a), simdjson::SUCCESS);
    EXPECT_EQ(a.size(), 5u);
    expect_flags(e["assertion"], bits++);
  }
  bits = 0;
  for (simdjson::dom::element m : mentions) {
    bool coded = false;
    ASSERT_EQ(m["coded"].get_bool().get(coded), simdjson::SUCCESS);
    EXPECT_EQ(coded, bits % 3 == 0);
    expect_flags(m, bits++);
  }
  EXPECT_THAT(line, HasSubstr(R"("coded":true,"negated":false,"uncertain":false,)"
                              R"("historical":false,"hypothetical":false,"family":false,"cues")"));
  EXPECT_THAT(line, HasSubstr(R"("assertion":{"negated":true,"uncertain":true,)"
                              R"("historical":true,"hypothetical":true,"family":true}})"));
}

TEST(ResultJsonTest, FormatsAndNames) {
  for (OutputFormat f : {OutputFormat::kJsonLines, OutputFormat::kFhir, OutputFormat::kHtml}) {
    absl::StatusOr<OutputFormat> parsed = ParseOutputFormat(OutputFormatName(f));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, f);
  }
  absl::StatusOr<OutputFormat> bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("jsonl, fhir or html"));

  ChartResult r = CodeOrFail(kChart);
  EXPECT_EQ(FormatChartResult(r, OutputFormat::kJsonLines), ChartResultJson(r) + "\n");
  EXPECT_EQ(FormatChartResult(r, OutputFormat::kFhir), ChartResultFhir(r) + "\n");
  EXPECT_EQ(FormatChartResult(r, OutputFormat::kHtml), ChartResultHtml(r));
}

TEST(ResultJsonTest, AnEmptyResultStillWrites) {
  ChartResult empty;  // no document
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(ChartResultJson(empty)).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(parser.parse(ChartResultFhir(empty)).get(doc), simdjson::SUCCESS);
  EXPECT_THAT(ChartResultHtml(empty), StartsWith("<!DOCTYPE html>"));
}

TEST(ResultFhirTest, ChartIdBecomesIdOnlyWhenValid) {
  ChartResult r = CodeOrFail(kChart);
  r.id = "chart-42.v1";
  EXPECT_THAT(ChartResultFhir(r), HasSubstr("\"id\":\"chart-42.v1\""));
  for (const char* bad : {"charts/a.txt", "line 7", "a_b",
                          "0123456789012345678901234567890123456789012345678901234567890123x"}) {
    r.id = bad;
    const std::string fhir = ChartResultFhir(r);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(fhir).get(doc), simdjson::SUCCESS);
    std::string_view v;
    EXPECT_NE(doc["id"].get_string().get(v), simdjson::SUCCESS) << bad;
    EXPECT_EQ(doc["identifier"]["value"].get_string().value(), bad);
  }
}

TEST(ResultHtmlTest, EscapesTheChartAndHighlightsEvidence) {
  ChartResult r = CodeOrFail(kChart);
  r.id = "<b>id</b>";
  const std::string html = ChartResultHtml(r);
  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>id</b>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;my sugar&#39;s &lt;300&gt; &amp; fine&quot;"));
  EXPECT_THAT(html, HasSubstr("<mark class=\"ev\""));
  EXPECT_THAT(html, HasSubstr("<mark class=\"neg\""));  // "no pneumonia"
  EXPECT_THAT(html, HasSubstr("badge b-neg"));
  // Self-contained: no external resources.
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  for (const AssignedCode& c : r.codes) {
    EXPECT_THAT(html, HasSubstr("<tr class=\"code-row\" data-code=\"" + c.code + "\">"));
  }
}

TEST(ErrorRecordTest, EveryFormatNamesTheChartAndTheReasonOnly) {
  const absl::Status s = absl::InvalidArgumentError("invalid UTF-8 at byte 17");
  const std::string json = ErrorRecord("charts/x.txt", s, OutputFormat::kJsonLines);
  EXPECT_EQ(json,
            "{\"schema\":1,\"id\":\"charts/x.txt\",\"error\":{\"code\":\"INVALID_ARGUMENT\","
            "\"message\":\"invalid UTF-8 at byte 17\"}}\n");
  const std::string fhir =
      ErrorRecord("charts/x.txt", absl::DataLossError("bad tag"), OutputFormat::kFhir);
  EXPECT_THAT(fhir, StartsWith("{\"resourceType\":\"OperationOutcome\""));
  EXPECT_THAT(fhir, HasSubstr("\"code\":\"exception\""));
  EXPECT_THAT(fhir, HasSubstr("\"valueString\":\"charts/x.txt\""));
  EXPECT_THAT(fhir, Not(HasSubstr("\"id\":")));  // a path is no FHIR id
  const std::string html = ErrorRecord("<x>", s, OutputFormat::kHtml);
  EXPECT_THAT(html, HasSubstr("&lt;x&gt;"));
  EXPECT_THAT(html, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(html, Not(HasSubstr("<x>")));
}

}  // namespace
}  // namespace chartcoder
