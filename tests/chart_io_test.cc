#include "chartcoder/chart_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::chartcoder::testing::FileMode;
using ::chartcoder::testing::ListDir;
using ::chartcoder::testing::ReadFileOrDie;
using ::chartcoder::testing::TempDir;
using ::chartcoder::testing::WriteFileOrDie;
using ::testing::HasSubstr;

constexpr char kChart[] =
    "CHIEF COMPLAINT: shortness of breath.\n"
    "ASSESSMENT: Type 2 diabetes mellitus with diabetic chronic kidney disease, stage 4.\n";

std::unique_ptr<KeyProvider> TestKeys(const std::string& id = "chart-key", char fill = 'A') {
  std::vector<InMemoryKeyProvider::Entry> entries;
  entries.push_back({id, *SecretKey::FromBytes(std::string(32, fill))});
  return std::make_unique<InMemoryKeyProvider>(std::move(entries), id, "test keys");
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

class ChartIoTest : public ::testing::Test {
 protected:
  ChartIoTest() : keys_(TestKeys()) {}
  std::string Sealed(std::string_view text) { return *SealBytes(text, *keys_); }

  TempDir dir_;
  std::unique_ptr<KeyProvider> keys_;
};

TEST_F(ChartIoTest, ReadsPlainAndSealedChartsAlike) {
  WriteFileOrDie(dir_.File("plain.txt"), kChart);
  WriteFileOrDie(dir_.File("chart.sealed"), Sealed(kChart));
  ChartReadOptions options;
  options.keys = keys_.get();
  ChartSourceInfo info;
  absl::StatusOr<std::string> plain = ReadChartFile(dir_.File("plain.txt"), options, &info);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, kChart);
  EXPECT_FALSE(info.sealed);
  absl::StatusOr<std::string> sealed = ReadChartFile(dir_.File("chart.sealed"), options, &info);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(*sealed, kChart);
  EXPECT_TRUE(info.sealed);
  EXPECT_EQ(info.key_id, "chart-key");

  EXPECT_EQ(*ReadChartBytes(kChart, options), kChart);
  EXPECT_EQ(*ReadChartBytes(Sealed(kChart), options, &info), kChart);
  EXPECT_TRUE(info.sealed);
}

TEST_F(ChartIoTest, PlainChartsNeedNoKeys) {
  WriteFileOrDie(dir_.File("plain.txt"), kChart);
  EXPECT_EQ(*ReadChartFile(dir_.File("plain.txt"), {}), kChart);
}

TEST_F(ChartIoTest, SealedChartWithoutKeysNamesTheKeyringFlag) {
  WriteFileOrDie(dir_.File("chart.sealed"), Sealed(kChart));
  absl::StatusOr<std::string> r = ReadChartFile(dir_.File("chart.sealed"), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(r.status()), HasSubstr("--keyring"));
  EXPECT_THAT(Message(r.status()), HasSubstr("chart.sealed"));
  EXPECT_EQ(ReadChartBytes(Sealed(kChart), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ChartIoTest, ADamagedMagicIsNeverReadAsPlainText) {
  std::string sealed = Sealed(kChart);
  sealed[3] ^= 0x04;
  ChartReadOptions options;
  options.keys = keys_.get();
  absl::StatusOr<std::string> r = ReadChartBytes(sealed, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(r.status()), HasSubstr("magic is damaged"));
  // Without keys it is still recognized as sealed, not passed on as text.
  EXPECT_EQ(ReadChartBytes(sealed, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ChartIoTest, ErrorsCarryThePathAndTheRightCode) {
  ChartReadOptions options;
  options.keys = keys_.get();
  absl::StatusOr<std::string> missing = ReadChartFile(dir_.File("nope.txt"), options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()), HasSubstr("nope.txt"));
  EXPECT_EQ(ReadChartFile(dir_.path(), options).status().code(),
            absl::StatusCode::kFailedPrecondition);

  std::string truncated = Sealed(std::string(200000, 'x'));
  truncated.resize(truncated.size() - 100);
  WriteFileOrDie(dir_.File("cut.sealed"), truncated);
  absl::StatusOr<std::string> cut = ReadChartFile(dir_.File("cut.sealed"), options);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(cut.status()), HasSubstr("cut.sealed: segment 3"));

  auto other = TestKeys("other-key");
  options.keys = other.get();
  WriteFileOrDie(dir_.File("chart.sealed"), Sealed(kChart));
  EXPECT_EQ(ReadChartFile(dir_.File("chart.sealed"), options).status().code(),
            absl::StatusCode::kNotFound);
  auto wrong = TestKeys("chart-key", 'B');
  options.keys = wrong.get();
  EXPECT_EQ(ReadChartFile(dir_.File("chart.sealed"), options).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(ChartIoTest, EmptyInputIsDataLossUnlessAllowed) {
  WriteFileOrDie(dir_.File("empty.txt"), "");
  WriteFileOrDie(dir_.File("empty.sealed"), Sealed(""));
  ChartReadOptions options;
  options.keys = keys_.get();
  for (const char* name : {"empty.txt", "empty.sealed"}) {
    absl::StatusOr<std::string> r = ReadChartFile(dir_.File(name), options);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << name;
    EXPECT_THAT(Message(r.status()), HasSubstr("empty")) << name;
  }
  EXPECT_EQ(ReadChartBytes("", options).status().code(), absl::StatusCode::kDataLoss);
  options.allow_empty = true;
  EXPECT_EQ(*ReadChartFile(dir_.File("empty.txt"), options), "");
  EXPECT_EQ(*ReadChartFile(dir_.File("empty.sealed"), options), "");
}

TEST_F(ChartIoTest, SizeLimitIsResourceExhaustedForPlainAndSealed) {
  const std::string big(100000, 'y');
  WriteFileOrDie(dir_.File("big.txt"), big);
  WriteFileOrDie(dir_.File("big.sealed"), Sealed(big));
  ChartReadOptions options;
  options.keys = keys_.get();
  options.max_bytes = big.size();
  EXPECT_EQ(ReadChartFile(dir_.File("big.txt"), options)->size(), big.size());
  EXPECT_EQ(ReadChartFile(dir_.File("big.sealed"), options)->size(), big.size());
  options.max_bytes = big.size() - 1;
  for (const char* name : {"big.txt", "big.sealed"}) {
    absl::StatusOr<std::string> r = ReadChartFile(dir_.File(name), options);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << name;
    EXPECT_THAT(Message(r.status()), HasSubstr("99999 bytes")) << name;
  }
  EXPECT_EQ(ReadChartBytes(Sealed(big), options).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(ChartIoTest, ReadsStandardInput) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string sealed = Sealed(kChart);
  ASSERT_EQ(::write(fds[1], sealed.data(), sealed.size()), static_cast<ssize_t>(sealed.size()));
  ::close(fds[1]);
  int saved = ::dup(STDIN_FILENO);
  ::dup2(fds[0], STDIN_FILENO);
  ::close(fds[0]);
  ChartReadOptions options;
  options.keys = keys_.get();
  absl::StatusOr<std::string> r = ReadChartFile("-", options);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, kChart);
}

// ---------------------------------------------------------------------------
// OutputFile

TEST_F(ChartIoTest, PlainOutputAppearsOnlyOnCommitWithPrivatePermissions) {
  const std::string path = dir_.File("results.jsonl");
  WriteFileOrDie(path, "old results\n");
  ::chmod(path.c_str(), 0644);
  auto out = OutputFile::Create(path, {});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Append("{\"code\":\"E11.22\"}\n").ok());
  ASSERT_TRUE((*out)->Append(std::string(300000, 'z')).ok());  // bigger than the buffer
  EXPECT_EQ(ReadFileOrDie(path), "old results\n");             // untouched until Commit
  EXPECT_EQ(ListDir(dir_.path()), std::vector<std::string>{"results.jsonl"});
  ASSERT_TRUE((*out)->Commit().ok());
  EXPECT_EQ(ReadFileOrDie(path), "{\"code\":\"E11.22\"}\n" + std::string(300000, 'z'));
  EXPECT_EQ(FileMode(path), 0600u);
  EXPECT_EQ((*out)->bytes_appended(), 18u + 300000u);
  EXPECT_EQ((*out)->Append("late").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*out)->Commit().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ListDir(dir_.path()), std::vector<std::string>{"results.jsonl"});
}

TEST_F(ChartIoTest, UncommittedOutputLeavesNothingBehind) {
  const std::string path = dir_.File("results.jsonl");
  {
    auto out = OutputFile::Create(path, {});
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append("partial").ok());
  }
  EXPECT_TRUE(ListDir(dir_.path()).empty());
  WriteFileOrDie(path, "keep me");
  {
    OutputOptions o;
    o.seal = true;
    o.keys = keys_.get();
    auto out = OutputFile::Create(path, o);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append(std::string(200000, 'q')).ok());
  }
  EXPECT_EQ(ReadFileOrDie(path), "keep me");
  EXPECT_EQ(ListDir(dir_.path()), std::vector<std::string>{"results.jsonl"});
}

TEST_F(ChartIoTest, SealedOutputReadsBack) {
  const std::string path = dir_.File("results.jsonl.sealed");
  OutputOptions o;
  o.seal = true;
  o.keys = keys_.get();
  auto out = OutputFile::Create(path, o);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE((*out)->sealed());
  EXPECT_EQ((*out)->key_id(), "chart-key");
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    std::string line = "{\"chart\":" + std::to_string(i) + ",\"codes\":[\"E11.22\",\"N18.4\"]}\n";
    expected += line;
    ASSERT_TRUE((*out)->Append(line).ok());
  }
  ASSERT_TRUE((*out)->Commit().ok());
  EXPECT_EQ((*out)->bytes_written(), SealedSize(expected.size()));
  EXPECT_EQ(FileMode(path), 0600u);
  const std::string bytes = ReadFileOrDie(path);
  EXPECT_TRUE(bytes.starts_with(kSealedMagic));
  EXPECT_EQ(bytes.find("E11.22"), std::string::npos);
  ChartReadOptions read;
  read.keys = keys_.get();
  EXPECT_EQ(*ReadChartFile(path, read), expected);
}

TEST_F(ChartIoTest, OutputErrors) {
  OutputOptions o;
  o.seal = true;
  EXPECT_EQ(OutputFile::Create(dir_.File("x"), o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.keys = keys_.get();
  o.key_id = "absent";
  EXPECT_EQ(OutputFile::Create(dir_.File("x"), o).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(OutputFile::Create(dir_.File("no/such/dir/x"), {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OutputFile::Create(dir_.path(), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ListDir(dir_.path()).empty());
}

// ---------------------------------------------------------------------------
// SealFile / UnsealFile

TEST_F(ChartIoTest, SealAndUnsealFilesStreaming) {
  std::string big;
  for (int i = 0; i < 40000; ++i) big += "line " + std::to_string(i) + " of a long chart\n";
  WriteFileOrDie(dir_.File("in.txt"), big);
  OutputOptions o;
  o.keys = keys_.get();
  absl::StatusOr<FileConversion> sealed = SealFile(dir_.File("in.txt"), dir_.File("c.sealed"), o);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->plaintext_bytes, big.size());
  EXPECT_EQ(sealed->output_bytes, SealedSize(big.size()));
  EXPECT_EQ(sealed->key_id, "chart-key");
  absl::StatusOr<FileConversion> opened =
      UnsealFile(dir_.File("c.sealed"), dir_.File("out.txt"), *keys_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->key_id, "chart-key");
  EXPECT_EQ(ReadFileOrDie(dir_.File("out.txt")), big);
  EXPECT_EQ(FileMode(dir_.File("out.txt")), 0600u);
}

TEST_F(ChartIoTest, SealingInPlaceReplacesThePlainFile) {
  WriteFileOrDie(dir_.File("chart.txt"), kChart);
  OutputOptions o;
  o.keys = keys_.get();
  ASSERT_TRUE(SealFile(dir_.File("chart.txt"), dir_.File("chart.txt"), o).ok());
  EXPECT_TRUE(ReadFileOrDie(dir_.File("chart.txt")).starts_with(kSealedMagic));
  ChartReadOptions read;
  read.keys = keys_.get();
  EXPECT_EQ(*ReadChartFile(dir_.File("chart.txt"), read), kChart);
}

TEST_F(ChartIoTest, ConversionErrors) {
  WriteFileOrDie(dir_.File("chart.txt"), kChart);
  WriteFileOrDie(dir_.File("chart.sealed"), Sealed(kChart));
  OutputOptions o;
  o.keys = keys_.get();
  EXPECT_EQ(SealFile(dir_.File("chart.sealed"), dir_.File("twice"), o).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UnsealFile(dir_.File("chart.txt"), dir_.File("out"), *keys_).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(UnsealFile(dir_.File("chart.sealed"), "-", *keys_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UnsealFile(dir_.File("missing"), dir_.File("out"), *keys_).status().code(),
            absl::StatusCode::kNotFound);
  // A damaged file never replaces an existing output.
  WriteFileOrDie(dir_.File("out"), "previous");
  std::string damaged = Sealed(std::string(150000, 'd'));
  damaged[damaged.size() - 5] ^= 1;
  WriteFileOrDie(dir_.File("damaged.sealed"), damaged);
  EXPECT_EQ(UnsealFile(dir_.File("damaged.sealed"), dir_.File("out"), *keys_).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadFileOrDie(dir_.File("out")), "previous");
  EXPECT_EQ(ListDir(dir_.path()),
            (std::vector<std::string>{"chart.sealed", "chart.txt", "damaged.sealed", "out"}));
}

}  // namespace
}  // namespace chartcoder
