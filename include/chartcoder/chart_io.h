// chartcoder/chart_io.h: reading charts and writing results, sealed or plain,
// without the caller juggling plaintext copies.
//
//   chartcoder::ChartReadOptions read;
//   read.keys = keys.get();  // may be null when no key is configured
//   absl::StatusOr<std::string> chart = chartcoder::ReadChartFile(path, read);
//   if (!chart.ok()) return chart.status();  // sealed without a key: FailedPrecondition
//
//   chartcoder::OutputOptions write;
//   write.seal = true;
//   write.keys = keys.get();
//   auto out = chartcoder::OutputFile::Create("results.jsonl.sealed", write);
//   CC_RETURN_IF_ERROR((*out)->Append(json_line));
//   CC_RETURN_IF_ERROR((*out)->Commit());  // the file appears only now
//
// Input is recognized as sealed by its magic (chartcoder/sealed.h) and
// decrypted as a stream; every byte returned has been authenticated. chart_io
// returns bytes: validating them as UTF-8 is the text front end's job.
#ifndef CHARTCODER_CHART_IO_H_
#define CHARTCODER_CHART_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"

namespace chartcoder {

// Reads a file or a file descriptor. One per thread.
class FileSource final : public ByteSource {
 public:
  // Opens `path`; "-" is standard input. NotFound if it does not exist;
  // FailedPrecondition if it is a directory or cannot be read.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path);
  // Reads `fd`, which the caller keeps open; `name` is used in messages.
  FileSource(int fd, std::string name);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  absl::StatusOr<std::string_view> Read(size_t max_bytes) override;
  const std::string& name() const { return name_; }
  // The size of a regular file; nullopt for pipes and terminals.
  std::optional<uint64_t> size() const { return size_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
  std::optional<uint64_t> size_;
  std::string buffer_;
};

inline constexpr size_t kDefaultMaxChartBytes = 64 << 20;

struct ChartReadOptions {
  // Keys for sealed input (not owned; may be null). A sealed chart without
  // keys is FailedPrecondition, naming --keyring.
  const KeyProvider* keys = nullptr;
  // Largest chart accepted, in plaintext bytes (default 64 MiB); more is
  // ResourceExhausted.
  size_t max_bytes = kDefaultMaxChartBytes;
  // Accept an empty input as an empty chart. By default it is DataLoss: an
  // empty chart file is almost always a failed export or a truncated copy.
  bool allow_empty = false;
};

// How a chart was stored.
struct ChartSourceInfo {
  bool sealed = false;
  std::string key_id;  // the sealed file's key id
};

// Reads a whole chart from `source`, decrypting it if it is sealed. `name`
// prefixes messages (a path, "standard input", "job 123"). Fills `info` if
// not null.
//   DataLoss: empty input (unless allowed); a sealed input that is damaged,
//     truncated, extended, or does not authenticate with its key.
//   NotFound: the sealed input's key id is not among the keys.
//   FailedPrecondition: sealed input and no keys, or an unknown format version.
//   ResourceExhausted: more than max_bytes.
// Nothing is returned unless the whole input verified.
absl::StatusOr<std::string> ReadChart(ByteSource* source, std::string_view name,
                                      const ChartReadOptions& options,
                                      ChartSourceInfo* info = nullptr);
// ReadChart on the file at `path` ("-": standard input); plus NotFound when
// the file does not exist.
absl::StatusOr<std::string> ReadChartFile(const std::string& path, const ChartReadOptions& options,
                                          ChartSourceInfo* info = nullptr);
// ReadChart on bytes in memory (a queue job, a Lambda event body).
absl::StatusOr<std::string> ReadChartBytes(std::string_view bytes, const ChartReadOptions& options,
                                           ChartSourceInfo* info = nullptr);

struct OutputOptions {
  // Write a sealed file (needs `keys`).
  bool seal = false;
  // Keys for sealing (not owned).
  const KeyProvider* keys = nullptr;
  // Key id to seal with; empty = the active key.
  std::string key_id;
  // Plaintext bytes per sealed segment.
  uint32_t segment_size = kDefaultSegmentSize;
  // Permission bits of the file (as for chmod). Results are PHI: private by
  // default.
  uint32_t mode = 0600;
};

// An output file, plain or sealed, that appears under its name only when
// Commit() succeeds: it is written under a hidden name (or none, with
// O_TMPFILE), flushed to disk and renamed into place. If the object dies
// uncommitted, or any step fails, nothing is left at `path` (an existing file
// there is untouched). The path "-" writes to standard output instead, which
// cannot be atomic. Not thread-safe; one per output.
class OutputFile final : public ByteSink {
 public:
  // InvalidArgument: seal without keys, bad segment size. NotFound: the
  // directory does not exist, or the key id is unknown. FailedPrecondition:
  // the directory is not writable, `path` is a directory, no active key.
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(const std::string& path,
                                                            const OutputOptions& options);
  ~OutputFile() override;

  // Writes (seals) `bytes`. File-system errors; FailedPrecondition after
  // Commit or after an error.
  absl::Status Append(std::string_view bytes) override;
  // Finishes the sealed stream, flushes and renames into place.
  absl::Status Commit();

  const std::string& path() const;
  bool sealed() const;
  // The key id a sealed output is sealed with; empty for plain output.
  std::string key_id() const;
  // Bytes given to Append, and bytes in the file (with sealing overhead).
  uint64_t bytes_appended() const;
  uint64_t bytes_written() const;

 private:
  class Impl;
  explicit OutputFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What SealFile and UnsealFile did.
struct FileConversion {
  uint64_t plaintext_bytes = 0;
  uint64_t output_bytes = 0;
  std::string key_id;
};

// Seals the file at `in` ("-": standard input) into `out` ("-": standard
// output) with `options` (seal is implied). Streams in constant memory.
// FailedPrecondition if `in` is already sealed; codes of OutputFile and of
// reading `in` otherwise.
absl::StatusOr<FileConversion> SealFile(const std::string& in, const std::string& out,
                                        const OutputOptions& options);
// Decrypts the sealed file at `in` ("-": standard input) into the file `out`,
// which appears only after the final segment verified: on any error nothing
// is written. Codes of SealedReader (DataLoss for a file that is not sealed),
// InvalidArgument if `out` is "-".
absl::StatusOr<FileConversion> UnsealFile(const std::string& in, const std::string& out,
                                          const KeyProvider& keys);

}  // namespace chartcoder

#endif  // CHARTCODER_CHART_IO_H_
