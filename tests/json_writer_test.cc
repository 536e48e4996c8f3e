// The JSON writer every output goes through: string escaping (ASCII runs,
// quotes, control characters, UTF-8 kept, invalid bytes replaced) and the
// structure, checked by parsing the output back with simdjson.
#include "src/internal/json_writer.h"

#include <string>
#include <string_view>
#include <utility>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace chartcoder::internal {
namespace {

// `s` written as a JSON string and parsed back.
std::string RoundTrip(std::string_view s) {
  std::string json = JsonQuote(s);
  simdjson::dom::parser parser;
  std::string_view back;
  EXPECT_EQ(parser.parse(json).get_string().get(back), simdjson::SUCCESS) << json;
  return std::string(back);
}

TEST(JsonWriterTest, EscapesWhatJsonRequiresAndNothingElse) {
  EXPECT_EQ(JsonQuote("plain text, 42% / A1c 8.2"), "\"plain text, 42% / A1c 8.2\"");
  EXPECT_EQ(JsonQuote("say \"no\"\\"), R"("say \"no\"\\")");
  EXPECT_EQ(JsonQuote("a\nb\tc\rd"), R"("a\nb\tc\rd")");
  EXPECT_EQ(JsonQuote(std::string("x\x01y\x1f", 4)), R"("x\u0001y\u001f")");
  EXPECT_EQ(JsonQuote(""), "\"\"");
}

TEST(JsonWriterTest, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonQuote("caf\xC3\xA9 \xE2\x80\x94 ok"), "\"caf\xC3\xA9 \xE2\x80\x94 ok\"");
  EXPECT_EQ(JsonQuote("a\xFF" "b"), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_EQ(JsonQuote("\xC3"), "\"\xEF\xBF\xBD\"");  // cut sequence at the end
}

TEST(JsonWriterTest, EveryByteRoundTrips) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xF0\x9F\x98\x80";
  EXPECT_EQ(RoundTrip(all), all);
  std::string long_run(10000, 'a');
  long_run += '"';
  long_run += std::string(10000, 'b');
  EXPECT_EQ(RoundTrip(long_run), long_run);
}

TEST(JsonWriterTest, WritesNestedStructures) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("id", "c1");
  w.Key("codes");
  w.BeginArray();
  w.String("E11.22");
  w.String("N18.32");
  w.EndArray();
  w.Field("n", 2);
  w.Field("ok", true);
  w.EndObject();
  EXPECT_EQ(out, R"({"id":"c1","codes":["E11.22","N18.32"],"n":2,"ok":true})");
}

// Plain runs are scanned eight bytes at a time: a byte that needs escaping
// (or a UTF-8 sequence) at any place of a word, and near the end, is still
// seen.
TEST(JsonWriterTest, EscapesAtEveryPositionOfLongStrings) {
  const std::pair<std::string_view, std::string_view> kSpecial[] = {
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"},
      {"\x1f", "\\u001f"}, {"\x7f", "\x7f"}, {"\xC3\xA9", "\xC3\xA9"}, {"\xFF", "\xEF\xBF\xBD"},
      {" ", " "}, {"~", "~"}};
  for (size_t length : {1, 7, 8, 9, 15, 16, 17, 23, 31}) {
    for (size_t at = 0; at < length; ++at) {
      for (const auto& [raw, escaped] : kSpecial) {
        std::string in(at, 'a');
        in.append(raw).append(length - at - 1, 'a');
        std::string want = "\"";
        want.append(at, 'a').append(escaped).append(length - at - 1, 'a').push_back('"');
        EXPECT_EQ(JsonQuote(in), want) << "length " << length << " at " << at;
      }
    }
  }
}

// A key and its value go out together when both are short and plain; a key
// or value that needs escaping (at any place, in words of eight bytes), or is
// long, takes the general path. The result is the same either way.
TEST(JsonWriterTest, FieldsEscapeKeysAndValuesAtEveryPosition) {
  const std::pair<std::string_view, std::string_view> kSpecial[] = {
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"},
      {"\x1f", "\\u001f"}, {"\x7f", "\x7f"}, {"\xC3\xA9", "\xC3\xA9"}, {"\xFF", "\xEF\xBF\xBD"},
      {" ", " "}, {"~", "~"}};
  for (size_t length : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 59, 60, 61, 119, 120, 121, 130}) {
    for (size_t at = 0; at < length; ++at) {
      for (const auto& [raw, escaped] : kSpecial) {
        std::string in(at, 'a');
        in.append(raw).append(length - at - 1, 'b');
        std::string want(at, 'a');
        want.append(escaped).append(length - at - 1, 'b');
        std::string out;
        JsonWriter w(&out);
        w.BeginObject();
        w.Field("k", in);
        w.Field(in, "v");
        w.Field(in, in);
        w.Field(in, true);
        w.Field(in, -12);
        w.EndObject();
        EXPECT_EQ(out, "{\"k\":\"" + want + "\",\"" + want + "\":\"v\",\"" + want + "\":\"" +
                           want + "\",\"" + want + "\":true,\"" + want + "\":-12}")
            << "length " << length << " at " << at;
      }
    }
  }
}

TEST(JsonWriterTest, WritesPairsAndScalarFieldsWithSeparators) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.BeginObject();
  w.PairField("span", 0, 18446744073709551615ULL);
  w.Key("spans");
  w.BeginArray();
  w.Pair(1, 2);
  w.Pair(30, 400);
  w.EndArray();
  w.Field("neg", false);
  w.Field("n", int64_t{-9223372036854775807LL - 1});
  w.Field("e", "");
  w.Field("", "x");
  w.EndObject();
  w.Pair(5, 6);
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  EXPECT_EQ(out,
            R"([{"span":[0,18446744073709551615],"spans":[[1,2],[30,400]],"neg":false,)"
            R"("n":-9223372036854775808,"e":"","":"x"},[5,6],{}])");
  // The output is complete after every call: callers may read it between calls.
  std::string line;
  JsonWriter l(&line);
  l.BeginObject();
  l.Field("a", true);
  EXPECT_EQ(line, R"({"a":true)");
  l.PairField("b", 1, 2);
  EXPECT_EQ(line, R"({"a":true,"b":[1,2])");
  // Pre-rendered members, first in an object and after others.
  std::string members;
  JsonWriter m(&members);
  m.BeginArray();
  m.BeginObject();
  m.Members(R"("x":1,"y":[])");
  m.Field("z", false);
  m.EndObject();
  m.BeginObject();
  m.Field("z", true);
  m.Members(R"("x":1)");
  m.EndObject();
  m.EndArray();
  EXPECT_EQ(members, R"([{"x":1,"y":[],"z":false},{"z":true,"x":1}])");
}

}  // namespace
}  // namespace chartcoder::internal
