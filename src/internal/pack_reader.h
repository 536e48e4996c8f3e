// Opens a data pack: maps it, checks header, section table and hash, and hands
// out typed, bounds-checked views of its sections.
//
//   CC_ASSIGN_OR_RETURN(std::unique_ptr<PackReader> pack, PackReader::Open(path, {}));
//   CC_ASSIGN_OR_RETURN(absl::Span<const CodeRecord> codes,
//                       pack->Array<CodeRecord>(SectionId::kCodes));
#ifndef CHARTCODER_SRC_INTERNAL_PACK_READER_H_
#define CHARTCODER_SRC_INTERNAL_PACK_READER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "src/internal/strings.h"
#include "src/internal/mapped_file.h"
#include "src/internal/pack_format.h"

namespace chartcoder::internal {

// Immutable after Open; safe for concurrent use. Views stay valid while the
// reader lives.
class PackReader {
 public:
  struct Options {
    // Hash every byte after the header before use (XXH3-64, a few ms for the
    // full pack). Turn off only for packs already verified in this process.
    bool verify_hash = true;
  };

  // NotFound: no file at `path`. DataLoss: not a pack, truncated, hash
  // mismatch, malformed section table. FailedPrecondition: another format
  // version. Messages name the path.
  static absl::StatusOr<std::unique_ptr<PackReader>> Open(const std::string& path,
                                                          const Options& options);
  // Same checks over bytes the caller keeps alive (used by tests and fuzzers).
  static absl::StatusOr<std::unique_ptr<PackReader>> FromBytes(std::string_view bytes,
                                                               const Options& options);

  bool HasSection(SectionId id) const;
  // The raw bytes of a blob section. DataLoss when missing.
  absl::StatusOr<std::string_view> Blob(SectionId id) const;

  // The records of an array section. DataLoss when the section is missing or
  // its record size differs from sizeof(T).
  template <typename T>
  absl::StatusOr<absl::Span<const T>> Array(SectionId id) const {
    const SectionEntry* e = Find(id);
    if (e == nullptr) return Missing(id);
    if (e->record_size != sizeof(T)) {
      return absl::DataLossError(internal::StrCat(
          name_, ": section ", static_cast<uint32_t>(id), " has records of ",
          e->record_size, " bytes, expected ", sizeof(T)));
    }
    return absl::Span<const T>(reinterpret_cast<const T*>(bytes_.data() + e->offset),
                               e->size / sizeof(T));
  }

  // A string of kStrings; callers validate refs first with ValidRef().
  std::string_view Str(StrRef ref) const {
    return strings_.substr(ref.offset, ref.length);
  }
  bool ValidRef(StrRef ref) const {
    return ref.offset <= strings_.size() && ref.length <= strings_.size() - ref.offset;
  }
  const std::string& name() const { return name_; }
  size_t size() const { return bytes_.size(); }
  uint32_t format_version() const { return format_version_; }

 private:
  PackReader() = default;
  static absl::StatusOr<std::unique_ptr<PackReader>> Init(std::unique_ptr<PackReader> r,
                                                          const Options& options);
  const SectionEntry* Find(SectionId id) const;
  absl::Status Missing(SectionId id) const;

  std::string name_;
  MappedFile file_;
  std::string_view bytes_;
  std::string_view strings_;
  const SectionEntry* sections_ = nullptr;
  uint32_t section_count_ = 0;
  uint32_t format_version_ = 0;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PACK_READER_H_
