#include "src/internal/strings.h"
#include "src/internal/pack_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/internal/strings.h"
#include "xxhash.h"

namespace chartcoder::internal {

StrRef StringTableBuilder::Add(std::string_view s) {
  auto it = interned_.find(ToAbsl(s));
  if (it != interned_.end()) return it->second;
  StrRef ref{static_cast<uint32_t>(blob_.size()), static_cast<uint32_t>(s.size())};
  blob_.append(s);
  interned_.emplace(std::string(s), ref);
  return ref;
}

void PackWriter::AddSection(SectionId id, uint32_t record_size, std::string bytes) {
  sections_.push_back({static_cast<uint32_t>(id), record_size, std::move(bytes)});
}

std::string PackWriter::Serialize() const {
  std::vector<const Section*> all;
  Section strings{static_cast<uint32_t>(SectionId::kStrings), 0, strings_.blob()};
  all.push_back(&strings);
  for (const Section& s : sections_) all.push_back(&s);

  auto align8 = [](uint64_t n) { return (n + 7) & ~uint64_t{7}; };
  uint64_t offset = align8(sizeof(PackHeader) + all.size() * sizeof(SectionEntry));
  std::vector<SectionEntry> entries;
  for (const Section* s : all) {
    entries.push_back({s->id, s->record_size, offset, s->bytes.size()});
    offset = align8(offset + s->bytes.size());
  }
  std::string out(offset, '\0');
  PackHeader header{};
  std::memcpy(header.magic, kPackMagic, sizeof(kPackMagic));
  header.format_version = kPackFormatVersion;
  header.endian_marker = kPackEndianMarker;
  header.file_size = out.size();
  header.section_count = static_cast<uint32_t>(entries.size());
  std::memcpy(out.data() + sizeof(PackHeader), entries.data(),
              entries.size() * sizeof(SectionEntry));
  for (size_t i = 0; i < all.size(); ++i) {
    std::memcpy(out.data() + entries[i].offset, all[i]->bytes.data(),
                all[i]->bytes.size());
  }
  header.payload_hash =
      XXH3_64bits(out.data() + sizeof(PackHeader), out.size() - sizeof(PackHeader));
  std::memcpy(out.data(), &header, sizeof(header));
  return out;
}

absl::Status PackWriter::WriteFile(const std::string& path) const {
  const std::string bytes = Serialize();
  const std::string tmp = internal::StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        internal::StrCat(tmp, ": cannot create: ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(
          internal::StrCat(tmp, ": write failed: ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        internal::StrCat(tmp, ": cannot flush: ", std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        internal::StrCat(path, ": cannot rename into place: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace chartcoder::internal
