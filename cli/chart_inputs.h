// Where charts come from on the command line: files and folders, or JSON
// Lines ({"id", "text", optional "demographics", optional "codes"}), read one
// at a time so any number of charts streams through.
#ifndef CHARTCODER_CLI_CHART_INPUTS_H_
#define CHARTCODER_CLI_CHART_INPUTS_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/chart_io.h"
#include "chartcoder/hcc.h"
#include "chartcoder/keys.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace chartcoder::cli {

struct ChartInput {
  std::string id;    // the path, or the JSON line's "id" (else "line N")
  std::string text;  // the chart (decrypted when sealed)
  std::optional<Demographics> demographics;
  std::vector<std::string> gold;      // expected codes (eval)
  std::vector<std::string> must_not;  // codes that must not be assigned (eval)
  absl::Status status;                // not OK: this input could not be read
};

enum class InputFormat { kFiles, kJsonLines };

struct ChartInputOptions {
  InputFormat format = InputFormat::kFiles;
  // Keys for sealed charts; null for plain charts only.
  const KeyProvider* keys = nullptr;
  // Folders contribute files with these extensions (all files when empty).
  std::vector<std::string> extensions = {".txt", ".text", ".note", ".sealed"};
  // Read "<chart>.codes" side files next to chart files (expected codes and
  // "!"-prefixed traps), for evaluation.
  bool read_side_files = false;
  // Largest chart read, in bytes.
  size_t max_bytes = 16u << 20;
};

class ChartInputReader {
 public:
  // NotFound: a path does not exist. The files of folders are listed now
  // (sorted); their contents are read by Next().
  static absl::StatusOr<std::unique_ptr<ChartInputReader>> Open(
      const std::vector<std::string>& paths, const ChartInputOptions& options);
  ~ChartInputReader();

  // The next input, or false at the end. An input that cannot be read comes
  // back with a non-OK status (and its id or line number), never silently.
  bool Next(ChartInput* out);

  // Files to read (files mode), or 0 when unknown (JSON Lines).
  size_t total() const { return files_.size(); }
  size_t bytes_read() const { return bytes_read_; }

 private:
  ChartInputReader() = default;
  bool NextFile(ChartInput* out);
  bool NextLine(ChartInput* out);

  ChartInputOptions options_;
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::vector<std::string> jsonl_paths_;
  size_t next_jsonl_ = 0;
  FILE* jsonl_ = nullptr;
  bool jsonl_is_stdin_ = false;
  // The current JSON line (getline's buffer, reused) and the parser, reused
  // so a line costs no allocation once they are large enough.
  char* line_buf_ = nullptr;
  size_t line_cap_ = 0;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::string jsonl_name_;
  size_t line_ = 0;
  size_t bytes_read_ = 0;
};

// Parses a side file: expected codes, and "!"-prefixed codes that must not be
// assigned; '#' comments; the code is the first field of each line.
void ParseSideFile(std::string_view text, std::vector<std::string>* gold,
                   std::vector<std::string>* must_not);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_CHART_INPUTS_H_
