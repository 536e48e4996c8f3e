// Tests of learning a coding profile from a coded corpus (LearnProfile).
#include "src/internal/profile_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/csv.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFileOrDie;

// The (gram, code) rows of a learned table, header left out.
std::vector<std::pair<std::string, std::string>> GramCodes(const internal::DelimitedTable& t) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t r = 1; r < t.rows.size(); ++r) out.emplace_back(t.rows[r][0], t.rows[r][1]);
  return out;
}

std::string Corpus() {
  // "hematuria" is in every document; each of its five codes is in all of
  // them too, so all five tie at precision 1 and max_codes_per_gram decides.
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out += "{\"id\":\"d" + std::to_string(i) +
           "\",\"text\":\"Hematuria.\",\"codes\":[\"R31.9\",\"N39.0\",\"C67.9\",\"N20.0\","
           "\"A41.9\"]}\n";
  }
  return out;
}

TEST(ProfileBuilderTest, TiesInPrecisionAreBrokenByCodeSoTheTableIsTheSameEveryTime) {
  TempDir dir;
  const std::string path = dir.path() + "/train.jsonl";
  WriteFileOrDie(path, Corpus());
  internal::ProfileOptions o;
  o.max_gram = 1;
  o.min_documents = 3;
  o.max_codes_per_gram = 3;
  internal::DelimitedTable t;
  ASSERT_TRUE(internal::LearnProfile(path, o, &t).ok());
  ASSERT_FALSE(t.rows.empty());
  EXPECT_THAT(t.rows[0], ElementsAre("gram", "code", "documents", "precision"));
  // The three smallest codes of the five that tie, in code order.
  std::vector<std::pair<std::string, std::string>> rows = GramCodes(t);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].second, "A41.9");
  EXPECT_EQ(rows[1].second, "C67.9");
  EXPECT_EQ(rows[2].second, "N20.0");
  // Learned again, the same table.
  internal::DelimitedTable again;
  ASSERT_TRUE(internal::LearnProfile(path, o, &again).ok());
  EXPECT_EQ(GramCodes(again), rows);
}

TEST(ProfileBuilderTest, ABadLineIsNamed) {
  TempDir dir;
  const std::string path = dir.path() + "/train.jsonl";
  WriteFileOrDie(path, Corpus() + "{not json\n");
  internal::DelimitedTable t;
  absl::Status s = internal::LearnProfile(path, internal::ProfileOptions(), &t);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("train.jsonl:5"));
}

}  // namespace
}  // namespace chartcoder
