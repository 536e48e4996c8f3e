// Tests of ChartText: UTF-8 validation and repair, code-page conversion, the
// normalized view and its offset map.
#include "chartcoder/text.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;

ChartText Make(std::string_view bytes, ChartTextOptions options = {}) {
  absl::StatusOr<ChartText> t = ChartText::FromBytes(bytes, options);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(t).value();
}

// The text() bytes a normalized range maps to.
std::string Source(const ChartText& t, size_t nb, size_t ne) {
  TextSpan s = t.ToTextSpan(static_cast<uint32_t>(nb), static_cast<uint32_t>(ne));
  return std::string(t.text().substr(s.begin, s.end - s.begin));
}

TEST(ChartTextTest, AsciiIsKeptAndLowerCasedOneToOne) {
  ChartText t = Make("Pt w/ CHF.\r\nEF 35%\tBP 140/90");
  EXPECT_EQ(t.text(), "Pt w/ CHF.\r\nEF 35%\tBP 140/90");
  EXPECT_EQ(t.normalized(), "pt w/ chf. \nef 35% bp 140/90");
  EXPECT_TRUE(t.is_ascii());
  EXPECT_EQ(t.replacement_count(), 0u);
  for (uint32_t i = 0; i <= t.normalized().size(); ++i) {
    EXPECT_EQ(t.ToTextOffset(i), i);
    EXPECT_EQ(t.ToNormalizedOffset(i), i);
  }
}

TEST(ChartTextTest, AsciiNormalizationMatchesTheRulesOnRandomText) {
  // Every ASCII byte, in runs long enough for the eight-bytes-at-a-time path.
  auto expected = [](const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\r') {
        out += i + 1 < s.size() && s[i + 1] == '\n' ? ' ' : '\n';
      } else if (c == '\n' || c == '\v' || c == '\f') {
        out += '\n';
      } else if (c < 0x20 || c == 0x7F) {
        out += ' ';
      } else if (c == '`') {
        out += '\'';
      } else if (c >= 'A' && c <= 'Z') {
        out += static_cast<char>(c - 'A' + 'a');
      } else {
        out += c;
      }
    }
    return out;
  };
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string s(rng() % 120, ' ');
    const bool printable = round % 2 == 0;
    for (char& c : s) c = static_cast<char>(printable ? 0x20 + rng() % 0x5F : rng() % 0x80);
    ChartText t = Make(s);
    EXPECT_EQ(t.normalized(), expected(s)) << ::testing::PrintToString(s);
  }
}

TEST(ChartTextTest, LoneCarriageReturnIsALineBreak) {
  ChartText t = Make("HPI:\rcough\r\n\rfever");
  EXPECT_EQ(t.normalized(), "hpi:\ncough \n\nfever");
}

TEST(ChartTextTest, ControlCharactersBecomeSpaces) {
  ChartText t =
      Make(std::string("a\0b\x01"
                       "c\x7f"
                       "d\fe\vf`s",
                       13));
  EXPECT_EQ(t.normalized(), std::string("a b c d\ne\nf's"));
}

TEST(ChartTextTest, InvalidUtf8NamesTheByteOffset) {
  absl::StatusOr<ChartText> t = ChartText::FromBytes("chest pain \xC3\x28 noted");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("byte offset 11"));
  for (std::string_view bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                               "\xF8\x88\x80\x80\x80", "\xFF", "ok\xE2\x82", "\x80"}) {
    EXPECT_FALSE(ChartText::FromBytes(bad).ok()) << ::testing::PrintToString(bad);
  }
  // Valid edge cases: the largest code points of each length, and U+FFFD
  // itself.
  for (std::string_view good : {"\x7F", "\xDF\xBF", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF",
                                "\xEF\xBF\xBD", "\xE0\xA0\x80", "\xF0\x90\x80\x80"}) {
    EXPECT_TRUE(ChartText::FromBytes(good).ok()) << ::testing::PrintToString(good);
  }
}

TEST(ChartTextTest, RepairReplacesMaximalSubparts) {
  ChartTextOptions options;
  options.repair_invalid_utf8 = true;
  // Unicode's example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 gives
  // a FFFD FFFD FFFD b FFFD c FFFD FFFD d.
  ChartText t = Make("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", options);
  EXPECT_EQ(t.text(),
            "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD"
            "d");
  EXPECT_EQ(t.replacement_count(), 6u);
  ChartText valid = Make("already fine \xC3\xA9", options);
  EXPECT_EQ(valid.text(), "already fine \xC3\xA9");
  EXPECT_EQ(valid.replacement_count(), 0u);
}

TEST(ChartTextTest, Windows1252AndLatin1AreConverted) {
  ChartTextOptions options;
  options.encoding = TextEncoding::kWindows1252;
  // 0x93/0x94 curly quotes, 0x96 en dash, 0xE9 e-acute, 0x95 bullet.
  ChartText t = Make(
      "\x95 \x93"
      "Caf\xE9\x94 \x96 r/o MI",
      options);
  EXPECT_EQ(t.text(),
            "\xE2\x80\xA2 \xE2\x80\x9C"
            "Caf\xC3\xA9\xE2\x80\x9D \xE2\x80\x93 r/o MI");
  EXPECT_EQ(t.normalized(), "* \"caf\xC3\xA9\" - r/o mi");
  EXPECT_EQ(t.source_encoding(), TextEncoding::kWindows1252);

  options.encoding = TextEncoding::kLatin1;
  ChartText l = Make(
      "Caf\xE9 \xB0"
      "F",
      options);
  EXPECT_EQ(l.text(),
            "Caf\xC3\xA9 \xC2\xB0"
            "F");
}

TEST(ChartTextTest, UndefinedWindows1252BytesAreC1Controls) {
  // As in the WHATWG Encoding Standard: 0x81 0x8D 0x8F 0x90 0x9D map to
  // U+0081...
  ChartTextOptions options;
  options.encoding = TextEncoding::kWindows1252;
  ChartText t = Make("abc\x81x\x80", options);
  EXPECT_EQ(t.text(), "abc\xC2\x81x\xE2\x82\xAC");  // 0x80 is the euro sign
  EXPECT_EQ(t.normalized(), "abc x\xE2\x82\xAC");
  EXPECT_EQ(t.replacement_count(), 0u);
}

TEST(ChartTextTest, SizeLimitIsResourceExhausted) {
  ChartTextOptions options;
  options.max_bytes = 10;
  EXPECT_TRUE(ChartText::FromBytes("0123456789", options).ok());
  absl::StatusOr<ChartText> t = ChartText::FromBytes("0123456789A", options);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted);
  // Conversion that grows the text past the limit.
  options.encoding = TextEncoding::kLatin1;
  absl::StatusOr<ChartText> grown = ChartText::FromBytes("\xE9\xE9\xE9\xE9\xE9\xE9", options);
  ASSERT_FALSE(grown.ok());
  EXPECT_EQ(grown.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ChartTextTest, EncodingNames) {
  EXPECT_EQ(*ParseTextEncoding("UTF8"), TextEncoding::kUtf8);
  EXPECT_EQ(*ParseTextEncoding("cp1252"), TextEncoding::kWindows1252);
  EXPECT_EQ(*ParseTextEncoding("ISO-8859-1"), TextEncoding::kLatin1);
  EXPECT_FALSE(ParseTextEncoding("ebcdic").ok());
  for (TextEncoding e : {TextEncoding::kUtf8, TextEncoding::kWindows1252, TextEncoding::kLatin1}) {
    EXPECT_EQ(*ParseTextEncoding(TextEncodingName(e)), e);
  }
}

TEST(ChartTextTest, DashesQuotesBulletsAndSpacesAreUnified) {
  // en dash, em dash, minus, curly quotes, prime, NBSP, thin space, ideographic
  // space, bullet, Symbol-font bullet, line separator.
  ChartText t = Make(
      "\xE2\x80\x93\xE2\x80\x94\xE2\x88\x92 \xE2\x80\x98x\xE2\x80\x99 "
      "\xE2\x80\x9Cy\xE2\x80\x9D "
      "5\xE2\x80\xB2\xC2\xA0"
      "a\xE2\x80\x89"
      "b\xE3\x80\x80"
      "c \xE2\x80\xA2 \xEF\x82\xB7 "
      "\xE2\x80\xA8"
      "d");
  EXPECT_EQ(t.normalized(), "--- 'x' \"y\" 5' a b c * * \nd");
  EXPECT_FALSE(t.is_ascii());
}

TEST(ChartTextTest, NfkcCaseFoldingAndIgnorables) {
  // Full-width "ＣＨＦ", ligature "ﬁ", "ß", Kelvin sign, superscript two,
  // soft hyphen and zero-width space inside a word, byte-order mark.
  ChartText t = Make(
      "\xEF\xBB\xBF\xEF\xBC\xA3\xEF\xBC\xA8\xEF\xBC\xA6 \xEF\xAC\x81ne "
      "Stra\xC3\x9F"
      "e "
      "\xE2\x84\xAA m\xC2\xB2 dia\xC2\xAD"
      "be\xE2\x80\x8Btes");
  EXPECT_EQ(t.normalized(), "chf fine strasse k m2 diabetes");
  // Every normalized character maps back inside the text.
  const std::string_view n = t.normalized();
  EXPECT_EQ(Source(t, 0, 3),
            "\xEF\xBC\xA3\xEF\xBC\xA8\xEF\xBC\xA6");  // BOM not included
  const size_t fine = n.find("fine");
  EXPECT_EQ(Source(t, fine, fine + 4), "\xEF\xAC\x81ne");
  EXPECT_EQ(Source(t, fine, fine + 1),
            "\xEF\xAC\x81");  // half of the ligature: all of it
  const size_t diab = n.find("diabetes");
  EXPECT_EQ(Source(t, diab, diab + 8),
            "dia\xC2\xAD"
            "be\xE2\x80\x8Btes");
  EXPECT_EQ(t.ToTextOffset(static_cast<uint32_t>(n.size())), t.text().size());
}

TEST(ChartTextTest, CombiningMarksComposeWithTheirBase) {
  // "Sjogren" written with o + combining diaeresis, and precomposed.
  ChartText decomposed = Make("Sjo\xCC\x88gren");
  ChartText composed = Make("Sj\xC3\xB6gren");
  EXPECT_EQ(decomposed.normalized(), composed.normalized());
  EXPECT_EQ(decomposed.normalized(), "sj\xC3\xB6gren");
  const size_t o = decomposed.normalized().find("\xC3\xB6");
  EXPECT_EQ(Source(decomposed, o, o + 2), "o\xCC\x88");
  EXPECT_EQ(Source(decomposed, 0, decomposed.normalized().size()), "Sjo\xCC\x88gren");
}

TEST(ChartTextTest, UpperCaseAccentsFoldAndMapOneToOne) {
  ChartText t = Make("M\xC3\x89NI\xC3\x88RE disease");
  EXPECT_EQ(t.normalized(), "m\xC3\xA9ni\xC3\xA8re disease");
  EXPECT_EQ(Source(t, 0, t.normalized().find(' ')), "M\xC3\x89NI\xC3\x88RE");
}

TEST(ChartTextTest, ToNormalizedOffsetInvertsToTextOffset) {
  ChartText t = Make(
      "A \xE2\x80\x93 \xEF\xAC\x81 \xC2\xAD x \xEF\xBC\xA1"
      "bc");
  const std::string_view n = t.normalized();
  EXPECT_EQ(n, "a - fi  x abc");
  for (uint32_t k = 0; k <= n.size(); ++k) {
    const uint32_t off = t.ToTextOffset(k);
    EXPECT_LE(off, t.text().size());
    EXPECT_LE(t.ToNormalizedOffset(off), k) << k;
  }
  // A byte inside a multi-byte character maps to the character's output.
  const uint32_t dash = static_cast<uint32_t>(t.text().find("\xE2\x80\x93"));
  EXPECT_EQ(t.ToNormalizedOffset(dash + 1), 2u);
  EXPECT_EQ(t.ToTextSpan(2, 3), (TextSpan{dash, dash + 3}));
  EXPECT_EQ(t.ToTextSpan(5, 5), (TextSpan{t.ToTextOffset(5), t.ToTextOffset(5)}));
}

TEST(ChartTextTest, MovedTextKeepsItsViews) {
  ChartText a = Make("Short");  // fits in a small-string buffer
  std::string_view v = a.text();
  std::string_view nv = a.normalized();
  ChartText b = std::move(a);
  EXPECT_EQ(b.text().data(), v.data());
  EXPECT_EQ(b.normalized().data(), nv.data());
  EXPECT_EQ(nv, "short");
}

TEST(ChartTextTest, NormalizeForMatchingAgreesWithTheView) {
  EXPECT_EQ(NormalizeForMatching("Crohn\xE2\x80\x99s  Disease"), "crohn's  disease");
  EXPECT_EQ(NormalizeForMatching("bad \xFF byte"), "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(NormalizeForMatching(""), "");
}

// Random strings of valid pieces: the map is monotonic and in range.
TEST(ChartTextTest, OffsetMapIsMonotonicOnRandomText) {
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           " ",
                                           "\r\n",
                                           "\n",
                                           "\t",
                                           "\xC3\xA9",
                                           "\xC3\x89",
                                           "\xE2\x80\x93",
                                           "\xEF\xAC\x81",
                                           "\xC2\xAD",
                                           "\xE2\x80\x8B",
                                           "o\xCC\x88",
                                           "\xCC\x88",
                                           "\xEF\xBC\xA1",
                                           "\xC3\x9F",
                                           "\xF0\x9F\x98\x80",
                                           "\xE2\x85\xAB",
                                           "\xEF\xB7\xBA",
                                           "1",
                                           "."};
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string s;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) s += pieces[rng() % pieces.size()];
    ChartText t = Make(s);
    uint32_t prev = 0;
    for (uint32_t k = 0; k <= t.normalized().size(); ++k) {
      const uint32_t off = t.ToTextOffset(k);
      EXPECT_GE(off, prev);
      EXPECT_LE(off, t.text().size());
      prev = off;
      const TextSpan span = t.ToTextSpan(k, k + 1);
      EXPECT_LE(span.begin, span.end);
      EXPECT_LE(span.end, t.text().size());
    }
    EXPECT_EQ(t.ToTextOffset(static_cast<uint32_t>(t.normalized().size())), s.size());
    // The batch form agrees with one call per range.
    std::vector<TextSpan> ranges;
    for (uint32_t k = 0; k + 2 <= t.normalized().size(); k += 2) ranges.push_back({k, k + 2});
    std::vector<TextSpan> batch = ranges;
    t.ToTextSpans(batch);
    for (size_t i = 0; i < ranges.size(); ++i) {
      EXPECT_EQ(batch[i], t.ToTextSpan(ranges[i].begin, ranges[i].end)) << i;
    }
  }
}

TEST(FindPhraseTest, FirstOccurrenceAnyCaseAtWordBoundaries) {
  ChartText t = Make("Family hx: MI in father.\nPatient had an MI in 2019.");
  std::optional<TextSpan> s = FindPhrase(t, "mi");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(t.text().substr(s->begin, s->end - s->begin), "MI");
  EXPECT_EQ(s->begin, t.text().find("MI"));  // not the "mi" of "Family"
  // Inside a word only when there is nothing better.
  ChartText u = Make("Hypertension");
  std::optional<TextSpan> in = FindPhrase(u, "TENSION");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->begin, 5u);
  EXPECT_FALSE(FindPhrase(u, "diabetes").has_value());
  EXPECT_FALSE(FindPhrase(u, "  \n ").has_value());
  EXPECT_FALSE(FindPhrase(u, "").has_value());
}

TEST(FindPhraseTest, WhiteSpaceAndCharacterVariantsMatch) {
  ChartText t = Make("Chronic  kidney\r\ndisease \xE2\x80\x93 stage 3; Crohn\xE2\x80\x99s");
  std::optional<TextSpan> s = FindPhrase(t, " chronic kidney disease ");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(t.text().substr(s->begin, s->end - s->begin), "Chronic  kidney\r\ndisease");
  std::optional<TextSpan> d = FindPhrase(t, "disease - stage 3");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(t.text().substr(d->begin, d->end - d->begin), "disease \xE2\x80\x93 stage 3");
  std::optional<TextSpan> c = FindPhrase(t, "CROHN'S");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(t.text().substr(c->begin, c->end - c->begin), "Crohn\xE2\x80\x99s");
}

}  // namespace
}  // namespace chartcoder
