// Helpers shared by the tests: the data pack built with the tree, temporary
// folders, running the CLI.
#ifndef CHARTCODER_TESTS_TEST_SUPPORT_H_
#define CHARTCODER_TESTS_TEST_SUPPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "chartcoder/codeset.h"

namespace chartcoder::testing {

// The pack built by this build tree.
std::string TestPackPath();
// Loaded once per test binary and shared (CodeSet is immutable).
const CodeSet& TestCodeSet();
// The repository root and the reference-data folder the pack was built from.
std::string SourceDir();
std::string DataSourceDir();

// A fresh empty folder, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& bytes);
// The names in a folder, sorted (to check that no temporary file is left).
std::vector<std::string> ListDir(const std::string& dir);
// The permission bits of a file (0600), or a test failure and 0.
unsigned FileMode(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// In a forked child: replaces the process with the built `chartcoder` and
// `args`; exits 127 when that fails.
[[noreturn]] void ExecCli(const std::vector<std::string>& args);
// Runs the built `chartcoder` with `args` (no shell), feeding `stdin_data`.
CommandResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data = "");
// The lines of `s` (a command's output), without their '\n'.
std::vector<std::string> Lines(const std::string& s);

}  // namespace chartcoder::testing

#endif  // CHARTCODER_TESTS_TEST_SUPPORT_H_
