// The byte layout of the sealed-file header (docs/sealed-format.md) and the
// per-file secrets a writer draws at random. Tests use SealedWriterFactory to
// fix the secrets and check the output against the specification byte for
// byte.
#ifndef CHARTCODER_SRC_INTERNAL_SEALED_FORMAT_H_
#define CHARTCODER_SRC_INTERNAL_SEALED_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"

namespace chartcoder::internal {

// Header offsets and sizes (big-endian integers).
inline constexpr size_t kMagicOffset = 0;         // 8 bytes
inline constexpr size_t kVersionOffset = 8;       // 1 byte
inline constexpr size_t kSuiteOffset = 9;         // 1 byte
inline constexpr size_t kSegmentSizeOffset = 12;  // 4 bytes
inline constexpr size_t kSaltOffset = 16;         // 32 bytes
inline constexpr size_t kSaltSize = 32;
inline constexpr size_t kNoncePrefixOffset = 48;  // 7 bytes
inline constexpr size_t kNoncePrefixSize = 7;
inline constexpr size_t kStreamParamsSize = 64;   // [0, 64): bound to every segment
inline constexpr size_t kKeyIdLengthOffset = 64;  // 1 byte
inline constexpr size_t kKeyIdOffset = 65;        // 63 bytes, zero padded
inline constexpr size_t kWrapAadSize = 132;       // [0, 132): associated data of the wrap
inline constexpr size_t kWrapNonceOffset = 132;   // 12 bytes
inline constexpr size_t kWrappedKeyOffset = 144;  // 32 bytes + 16-byte tag
// Reserved ranges that must be zero.
inline constexpr std::pair<size_t, size_t> kReservedRanges[] = {{10, 12}, {55, 64}, {128, 132}};

// Suite 1: AES-256-GCM segments, HKDF-SHA-256 payload key, AES-256-GCM wrap.
inline constexpr uint8_t kSuiteAes256GcmHkdfSha256 = 1;
inline constexpr std::string_view kPayloadKeyInfo = "chartcoder/sealed/v1/payload";

// The random values behind one sealed file.
struct SealedFileSecrets {
  std::array<uint8_t, 32> data_key{};
  std::array<uint8_t, kSaltSize> salt{};
  std::array<uint8_t, kNoncePrefixSize> nonce_prefix{};
  std::array<uint8_t, 12> wrap_nonce{};
  ~SealedFileSecrets();
};

struct SealedWriterFactory {
  // SealedWriter::Create with the given secrets instead of random ones.
  static absl::StatusOr<std::unique_ptr<SealedWriter>> Create(ByteSink* sink,
                                                              const KeyProvider& keys,
                                                              const SealedWriterOptions& options,
                                                              const SealedFileSecrets& secrets);
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_SEALED_FORMAT_H_
