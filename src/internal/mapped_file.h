// A read-only memory mapping of a whole file.
//
//   absl::StatusOr<MappedFile> f = MappedFile::Open("/path/pack.ccpack");
//   if (f.ok()) Use(f->data());
#ifndef CHARTCODER_SRC_INTERNAL_MAPPED_FILE_H_
#define CHARTCODER_SRC_INTERNAL_MAPPED_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace chartcoder::internal {

// Owns a private read-only mapping; movable, not copyable. An empty file maps to
// an empty view. Safe for concurrent reads.
class MappedFile {
 public:
  // NotFound if the file does not exist; InvalidArgument if it is not a regular
  // file; Internal for other system errors (message names the path and errno).
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view data() const {
    return {static_cast<const char*>(addr_), size_};
  }
  size_t size() const { return size_; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_MAPPED_FILE_H_
