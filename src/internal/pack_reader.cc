#include "src/internal/strings.h"
#include "src/internal/pack_reader.h"

#include <cstring>
#include <utility>

#include "src/internal/status_macros.h"
#include "xxhash.h"

namespace chartcoder::internal {

absl::StatusOr<std::unique_ptr<PackReader>> PackReader::Open(const std::string& path,
                                                             const Options& options) {
  CC_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  std::unique_ptr<PackReader> r(new PackReader());
  r->name_ = path;
  r->file_ = std::move(file);
  r->bytes_ = r->file_.data();
  return Init(std::move(r), options);
}

absl::StatusOr<std::unique_ptr<PackReader>> PackReader::FromBytes(std::string_view bytes,
                                                                  const Options& options) {
  std::unique_ptr<PackReader> r(new PackReader());
  r->name_ = "<memory>";
  r->bytes_ = bytes;
  return Init(std::move(r), options);
}

absl::StatusOr<std::unique_ptr<PackReader>> PackReader::Init(std::unique_ptr<PackReader> r,
                                                             const Options& options) {
  const std::string_view b = r->bytes_;
  const std::string& name = r->name_;
  if (b.empty()) return absl::DataLossError(internal::StrCat(name, ": empty file, not a data pack"));
  if (b.size() < sizeof(PackHeader) ||
      std::memcmp(b.data(), kPackMagic, sizeof(kPackMagic)) != 0) {
    return absl::DataLossError(internal::StrCat(name, ": not a chartcoder data pack (bad magic)"));
  }
  if (reinterpret_cast<uintptr_t>(b.data()) % 8 != 0) {
    return absl::InvalidArgumentError(internal::StrCat(name, ": pack bytes are not 8-byte aligned"));
  }
  PackHeader h;
  std::memcpy(&h, b.data(), sizeof(h));
  if (h.endian_marker != kPackEndianMarker) {
    return absl::FailedPreconditionError(
        internal::StrCat(name, ": pack was written on a machine of other byte order"));
  }
  if (h.format_version != kPackFormatVersion) {
    return absl::FailedPreconditionError(internal::StrCat(
        name, ": pack format version ", h.format_version, ", this library reads version ",
        kPackFormatVersion, "; rebuild the pack with `chartcoder pack`"));
  }
  if (h.file_size != b.size()) {
    return absl::DataLossError(internal::StrCat(name, ": truncated or extended pack (header says ",
                                            h.file_size, " bytes, file has ", b.size(), ")"));
  }
  if (options.verify_hash &&
      XXH3_64bits(b.data() + sizeof(PackHeader), b.size() - sizeof(PackHeader)) !=
          h.payload_hash) {
    return absl::DataLossError(
        internal::StrCat(name, ": pack is corrupted (content hash does not match)"));
  }
  const uint64_t table_end =
      sizeof(PackHeader) + uint64_t{h.section_count} * sizeof(SectionEntry);
  if (h.section_count > 4096 || table_end > b.size()) {
    return absl::DataLossError(internal::StrCat(name, ": malformed section table"));
  }
  r->format_version_ = h.format_version;
  r->section_count_ = h.section_count;
  r->sections_ = reinterpret_cast<const SectionEntry*>(b.data() + sizeof(PackHeader));
  for (uint32_t i = 0; i < h.section_count; ++i) {
    const SectionEntry& e = r->sections_[i];
    if (e.offset % 8 != 0 || e.offset < table_end || e.offset > b.size() ||
        e.size > b.size() - e.offset || (e.record_size != 0 && e.size % e.record_size != 0)) {
      return absl::DataLossError(
          internal::StrCat(name, ": section ", e.id, " lies outside the pack or is misaligned"));
    }
  }
  CC_ASSIGN_OR_RETURN(r->strings_, r->Blob(SectionId::kStrings));
  return r;
}

const SectionEntry* PackReader::Find(SectionId id) const {
  for (uint32_t i = 0; i < section_count_; ++i) {
    if (sections_[i].id == static_cast<uint32_t>(id)) return &sections_[i];
  }
  return nullptr;
}

bool PackReader::HasSection(SectionId id) const { return Find(id) != nullptr; }

absl::Status PackReader::Missing(SectionId id) const {
  return absl::DataLossError(
      internal::StrCat(name_, ": pack has no section ", static_cast<uint32_t>(id)));
}

absl::StatusOr<std::string_view> PackReader::Blob(SectionId id) const {
  const SectionEntry* e = Find(id);
  if (e == nullptr) return Missing(id);
  if (e->record_size != 0) {
    return absl::DataLossError(
        internal::StrCat(name_, ": section ", static_cast<uint32_t>(id), " is not a blob"));
  }
  return bytes_.substr(e->offset, e->size);
}

}  // namespace chartcoder::internal
