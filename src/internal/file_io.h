// File helpers for encrypted I/O: errno to status, whole reads and writes, and
// an output file that appears under its name only when committed.
//
//   CC_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::Create("/data/out.sealed", 0600));
//   CC_RETURN_IF_ERROR(f.Write(bytes));
//   CC_RETURN_IF_ERROR(f.Commit());  // fsync, then rename into place
#ifndef CHARTCODER_SRC_INTERNAL_FILE_IO_H_
#define CHARTCODER_SRC_INTERNAL_FILE_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chartcoder::internal {

// A status for a failed system call: "<subject>: <what>: <strerror>". ENOENT
// and ENOTDIR map to NotFound, ENOSPC/EDQUOT/EFBIG to ResourceExhausted,
// EACCES/EPERM/EROFS/EISDIR/EEXIST to FailedPrecondition, EIO to DataLoss,
// anything else to Internal.
absl::Status ErrnoStatus(int err, std::string_view subject, std::string_view what);

// Reads up to `n` bytes, retrying on EINTR and short reads; fewer than `n`
// only at end of file. Returns the count.
absl::StatusOr<size_t> ReadFull(int fd, char* buf, size_t n, std::string_view subject);
// Writes all of `data`, retrying on EINTR and short writes.
absl::Status WriteFull(int fd, std::string_view data, std::string_view subject);

// A file written under a hidden temporary name (or no name at all, with
// O_TMPFILE) and renamed over `path` by Commit() after fsync. Until then
// `path` is untouched; if the object dies uncommitted the data is discarded,
// and with O_TMPFILE not even a crash leaves a partial file behind. Movable;
// one per thread.
class AtomicFile {
 public:
  // How the data is kept until Commit.
  enum class Staging {
    kUnnamedIfPossible,  // O_TMPFILE where the file system supports it
    kHiddenName,         // always a hidden ".<name>.<random>.tmp" file
  };
  // Creates the hidden file in the directory of `path` with permissions
  // `mode` (applied exactly, whatever the umask). NotFound when the directory
  // does not exist; FailedPrecondition when it cannot be written.
  static absl::StatusOr<AtomicFile> Create(const std::string& path, mode_t mode,
                                           Staging staging = Staging::kUnnamedIfPossible);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  absl::Status Write(std::string_view data) { return WriteFull(fd_, data, path_); }
  // Flushes to disk and renames over `path`; afterwards the object is empty.
  // A `path` that is a device, pipe or socket ("/dev/null") is written in
  // place from the start and Commit only closes it.
  // With `replace` false the file is linked under `path` instead, failing
  // with FailedPrecondition (and discarding the data) if `path` exists.
  absl::Status Commit(bool replace = true);
  // Discards the data now (the destructor does this too).
  void Discard();

 private:
  AtomicFile() = default;

  std::string path_;       // the final name
  std::string temp_path_;  // the hidden name; empty with O_TMPFILE
  int fd_ = -1;
  mode_t mode_ = 0600;
  bool direct_ = false;  // a device or pipe, written in place (nothing staged)
};

// The directory part of `path` ("." when it has none).
std::string DirName(const std::string& path);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_FILE_IO_H_
