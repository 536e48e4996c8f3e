// Thin wrappers over OpenSSL's EVP interfaces for the sealed-file format and
// the keyring: random bytes, SHA-256, HKDF-SHA-256, scrypt, AES-256-GCM, and
// helpers that wipe secrets (OPENSSL_cleanse) when they go out of scope.
//
//   CC_ASSIGN_OR_RETURN(AesGcm gcm, AesGcm::Create(key));
//   CC_RETURN_IF_ERROR(gcm.Seal(nonce, aad, plaintext, out));  // out: size + 16
//
// Nothing here logs or puts key material into a status message.
#ifndef CHARTCODER_SRC_INTERNAL_CRYPTO_H_
#define CHARTCODER_SRC_INTERNAL_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace chartcoder::internal {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
inline constexpr size_t kSha256Size = 32;

// Overwrites `n` bytes at `p` in a way the compiler cannot elide.
void Cleanse(void* p, size_t n);
// Wipes the whole allocation of `s` (size and spare capacity), then clears it.
void CleanseString(std::string* s);

// Wipes a string when it goes out of scope. Reserve the capacity a secret
// needs before filling it so no reallocation leaves an unwiped copy behind.
class ScopedCleanse {
 public:
  explicit ScopedCleanse(std::string* s) : s_(s) {}
  ~ScopedCleanse() { CleanseString(s_); }
  ScopedCleanse(const ScopedCleanse&) = delete;
  ScopedCleanse& operator=(const ScopedCleanse&) = delete;

 private:
  std::string* s_;
};

// Cryptographically secure random bytes. RandomPrivateBytes draws from
// OpenSSL's private DRBG and is meant for key material. Internal if the
// generator fails.
absl::Status RandomBytes(absl::Span<uint8_t> out);
absl::Status RandomPrivateBytes(absl::Span<uint8_t> out);

std::array<uint8_t, kSha256Size> Sha256(std::string_view data);

// HKDF-SHA-256 (RFC 5869, extract then expand) into `out`.
absl::Status HkdfSha256(absl::Span<const uint8_t> ikm, absl::Span<const uint8_t> salt,
                        std::string_view info, absl::Span<uint8_t> out);

// scrypt (RFC 7914) with cost N = 2^log2_n, block size r, parallelism p.
// InvalidArgument when the parameters are out of range or need more than
// `max_memory` bytes.
absl::Status Scrypt(std::string_view passphrase, absl::Span<const uint8_t> salt, int log2_n,
                    uint32_t r, uint32_t p, uint64_t max_memory, absl::Span<uint8_t> out);
// The memory scrypt needs for these parameters (128 * N * r * p bytes).
uint64_t ScryptMemory(int log2_n, uint32_t r, uint32_t p);

// AES-256-GCM with one key and many nonces. The key schedule is computed once;
// each call sets only the nonce. Movable, not copyable; one per thread. The
// context (and with it the key schedule) is wiped when the object dies.
class AesGcm {
 public:
  // Internal if OpenSSL cannot set up the cipher.
  static absl::StatusOr<AesGcm> Create(absl::Span<const uint8_t> key);

  AesGcm(AesGcm&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }
  AesGcm& operator=(AesGcm&& other) noexcept;
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;
  ~AesGcm();

  // Encrypts `plaintext` into `out` (plaintext.size() + 16 bytes: ciphertext
  // then tag). `out` may equal `plaintext.data()`.
  absl::Status Seal(absl::Span<const uint8_t> nonce, absl::Span<const uint8_t> aad,
                    absl::Span<const uint8_t> plaintext, uint8_t* out);
  // Decrypts `sealed` (ciphertext then 16-byte tag) into `out`
  // (sealed.size() - 16 bytes) and checks the tag. Returns false when the tag
  // does not verify; `out` is then wiped. Internal on OpenSSL failures.
  absl::StatusOr<bool> Open(absl::Span<const uint8_t> nonce, absl::Span<const uint8_t> aad,
                            absl::Span<const uint8_t> sealed, uint8_t* out);

 private:
  explicit AesGcm(EVP_CIPHER_CTX* ctx) : ctx_(ctx) {}
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

// Standard base64 (RFC 4648 section 4) with '=' padding.
std::string Base64Encode(absl::Span<const uint8_t> bytes);
// Decodes canonical base64 (padded or unpadded) into `out`, which must hold
// the decoded size. Returns the number of bytes written; InvalidArgument on any
// character outside the alphabet, a bad length, non-zero padding bits, or when
// the result does not fit. Leaves no decoded bytes outside `out`.
absl::StatusOr<size_t> Base64Decode(std::string_view text, absl::Span<uint8_t> out);

// A byte view of a string, for the Span-taking functions above.
inline absl::Span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline absl::Span<uint8_t> MutableBytes(std::string* s) {
  return {reinterpret_cast<uint8_t*>(s->data()), s->size()};
}
inline std::string_view Chars(absl::Span<const uint8_t> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CRYPTO_H_
