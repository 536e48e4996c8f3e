#include "src/internal/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace chartcoder::internal {
namespace {

using ::chartcoder::testing::ListDir;
using ::chartcoder::testing::ReadFileOrDie;
using ::chartcoder::testing::TempDir;
using ::chartcoder::testing::WriteFileOrDie;

class AtomicFileTest : public ::testing::TestWithParam<AtomicFile::Staging> {};

TEST_P(AtomicFileTest, CommitReplacesAtomicallyWithTheRequestedMode) {
  TempDir dir;
  const std::string path = dir.File("out");
  WriteFileOrDie(path, "old");
  mode_t old_umask = ::umask(077);
  absl::StatusOr<AtomicFile> f = AtomicFile::Create(path, 0640, GetParam());
  ::umask(old_umask);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Write("new contents").ok());
  EXPECT_EQ(ReadFileOrDie(path), "old");
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_EQ(ReadFileOrDie(path), "new contents");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out"});
}

TEST_P(AtomicFileTest, DiscardLeavesNothing) {
  TempDir dir;
  {
    absl::StatusOr<AtomicFile> f = AtomicFile::Create(dir.File("out"), 0600, GetParam());
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Write("secret").ok());
    AtomicFile moved = *std::move(f);  // the moved-to object owns the data
  }
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST_P(AtomicFileTest, CommitWithoutReplaceRefusesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.File("out");
  absl::StatusOr<AtomicFile> first = AtomicFile::Create(path, 0600, GetParam());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->Write("one").ok());
  ASSERT_TRUE(first->Commit(/*replace=*/false).ok());
  absl::StatusOr<AtomicFile> second = AtomicFile::Create(path, 0600, GetParam());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->Write("two").ok());
  EXPECT_EQ(second->Commit(/*replace=*/false).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFileOrDie(path), "one");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out"});
}

TEST_P(AtomicFileTest, MissingDirectoryIsNotFound) {
  TempDir dir;
  EXPECT_EQ(AtomicFile::Create(dir.File("a/b"), 0600, GetParam()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(AtomicFile::Create(dir.path(), 0600, GetParam()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Staging, AtomicFileTest,
                         ::testing::Values(AtomicFile::Staging::kUnnamedIfPossible,
                                           AtomicFile::Staging::kHiddenName));

TEST(AtomicFileDeviceTest, DevNullStaysADevice) {
  // Staging and renaming over /dev/null would replace the device with a
  // regular file (seen once: `chartcoder code --output /dev/null` as root).
  absl::StatusOr<AtomicFile> f = AtomicFile::Create("/dev/null", 0600);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Write("discarded").ok());
  ASSERT_TRUE(f->Commit().ok());
  struct stat st;
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(ErrnoStatusTest, MapsToTheHouseCodes) {
  EXPECT_EQ(ErrnoStatus(ENOENT, "f", "open").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus(ENOSPC, "f", "write").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus(EACCES, "f", "open").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoStatus(EIO, "f", "read").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrnoStatus(EBADF, "f", "read").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(std::string(ErrnoStatus(ENOENT, "f", "cannot open").message()),
            "f: cannot open: No such file or directory");
}

}  // namespace
}  // namespace chartcoder::internal
