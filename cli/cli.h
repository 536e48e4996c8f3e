// Shared pieces of the `chartcoder` command-line tool: the command table,
// flag parsing and error reporting. The CLI only parses flags, calls the
// public API and prints.
#ifndef CHARTCODER_CLI_CLI_H_
#define CHARTCODER_CLI_CLI_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"

namespace chartcoder::cli {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;  // bad flags or arguments
inline constexpr int kExitData = 2;   // bad input, bad data, failed work

struct FlagSpec {
  std::string name;        // without dashes: "data"
  std::string value_name;  // "" for a boolean flag, else shown in help: "FILE"
  std::string help;
  bool repeatable = false;
};

// Parsed arguments of one command.
class CommandLine {
 public:
  // Accepts "--name value", "--name=value", boolean "--name", and "--" to end
  // flags. InvalidArgument names an unknown flag or a missing value.
  static absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& args,
                                           const std::vector<FlagSpec>& specs);

  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The last value given for `name`, or `fallback`.
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  std::vector<std::string> GetAll(std::string_view name) const;
  // An integer flag within [min, max]; InvalidArgument names the flag.
  absl::StatusOr<long long> GetInt(std::string_view name, long long fallback, long long min,
                                   long long max) const;
  absl::StatusOr<double> GetDouble(std::string_view name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

struct Command {
  const char* name;
  const char* summary;  // one line for `chartcoder --help`
  const char* usage;    // full help text
  std::vector<FlagSpec> flags;
  int (*run)(const CommandLine& args);
};

// The flags every command that reads the data pack takes.
FlagSpec DataFlag();

// Loads the pack named by --data, or the default pack.
absl::StatusOr<std::unique_ptr<CodeSet>> LoadCodeSet(const CommandLine& args);

// Prints "chartcoder: <message>" to stderr and returns kExitData.
int Fail(const absl::Status& status);
// Prints "chartcoder: <message>" plus a hint to stderr and returns kExitUsage.
int UsageError(std::string_view command, std::string_view message);
int UsageError(std::string_view command, const absl::Status& status);

// True when stderr is a terminal (progress bars go there only then).
bool StderrIsTerminal();

// Each command, defined in cli/<name>_command.cc.
const Command& VersionCommand();
const Command& LookupCommand();
const Command& SearchCommand();
const Command& PackCommand();
const Command& RafCommand();
const Command& KeygenCommand();
const Command& KeysCommand();
const Command& EncryptCommand();
const Command& DecryptCommand();
const Command& InspectCommand();
const Command& RewrapCommand();
const Command& ContextCommand();
const Command& CodeCommand();
const Command& EvalCommand();
const Command& DbCommand();
const Command& SubmitCommand();
const Command& WorkerCommand();
const Command& StatusCommand();
const Command& ResultsCommand();

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_CLI_H_
