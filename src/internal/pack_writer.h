// Builds a data pack in memory and writes it atomically.
//
//   PackWriter w;
//   StrRef s = w.strings().Add("E11.9");
//   w.AddArray(SectionId::kCodes, codes);
//   CC_RETURN_IF_ERROR(w.WriteFile("/tmp/x.ccpack"));
#ifndef CHARTCODER_SRC_INTERNAL_PACK_WRITER_H_
#define CHARTCODER_SRC_INTERNAL_PACK_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "src/internal/pack_format.h"

namespace chartcoder::internal {

// Interns strings into one blob; equal strings share storage.
class StringTableBuilder {
 public:
  StrRef Add(std::string_view s);
  const std::string& blob() const { return blob_; }

 private:
  std::string blob_;
  absl::flat_hash_map<std::string, StrRef> interned_;
};

// Collects sections; not thread-safe.
class PackWriter {
 public:
  StringTableBuilder& strings() { return strings_; }

  template <typename T>
  void AddArray(SectionId id, const std::vector<T>& records) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::string bytes(reinterpret_cast<const char*>(records.data()),
                      records.size() * sizeof(T));
    AddSection(id, sizeof(T), std::move(bytes));
  }
  void AddBlob(SectionId id, std::string bytes) {
    AddSection(id, 0, std::move(bytes));
  }

  // The finished pack (string table added as kStrings).
  std::string Serialize() const;
  // Writes to `path` through a temporary file and rename, so a reader never sees
  // a half-written pack. Internal on I/O failure (message names the path).
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Section {
    uint32_t id;
    uint32_t record_size;
    std::string bytes;
  };
  void AddSection(SectionId id, uint32_t record_size, std::string bytes);

  StringTableBuilder strings_;
  std::vector<Section> sections_;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PACK_WRITER_H_
