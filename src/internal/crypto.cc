#include "src/internal/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>
#include <cstring>

#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

const EVP_CIPHER* Aes256Gcm() {
  // Fetched once; the provider keeps the implementation alive for the process.
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

absl::Status OpenSslError(std::string_view what) {
  return absl::InternalError(internal::StrCat("OpenSSL ", what, " failed"));
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

// Runs an EVP_KDF by name with the given parameters into `out`.
absl::Status DeriveWithKdf(const char* name, OSSL_PARAM* params, absl::Span<uint8_t> out) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
  if (kdf == nullptr) return OpenSslError(internal::StrCat(name, " fetch"));
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return OpenSslError(internal::StrCat(name, " context"));
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) {
    Cleanse(out.data(), out.size());
    return OpenSslError(name);
  }
  return absl::OkStatus();
}

}  // namespace

void Cleanse(void* p, size_t n) {
  if (p != nullptr && n > 0) OPENSSL_cleanse(p, n);
}

void CleanseString(std::string* s) {
  s->resize(s->capacity());
  Cleanse(s->data(), s->size());
  s->clear();
}

absl::Status RandomBytes(absl::Span<uint8_t> out) {
  if (!FitsInt(out.size()) || RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return absl::OkStatus();
}

absl::Status RandomPrivateBytes(absl::Span<uint8_t> out) {
  if (!FitsInt(out.size()) || RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return OpenSslError("RAND_priv_bytes");
  }
  return absl::OkStatus();
}

std::array<uint8_t, kSha256Size> Sha256(std::string_view data) {
  std::array<uint8_t, kSha256Size> out{};
  unsigned int len = 0;
  // EVP_Digest with a static EVP_MD cannot fail short of memory exhaustion.
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

absl::Status HkdfSha256(absl::Span<const uint8_t> ikm, absl::Span<const uint8_t> salt,
                        std::string_view info, absl::Span<uint8_t> out) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  return DeriveWithKdf(OSSL_KDF_NAME_HKDF, params, out);
}

uint64_t ScryptMemory(int log2_n, uint32_t r, uint32_t p) {
  if (log2_n < 1 || log2_n > 40) return UINT64_MAX;
  return 128ull * (uint64_t{1} << log2_n) * r * p;
}

absl::Status Scrypt(std::string_view passphrase, absl::Span<const uint8_t> salt, int log2_n,
                    uint32_t r, uint32_t p, uint64_t max_memory, absl::Span<uint8_t> out) {
  if (log2_n < 1 || log2_n > 40 || r == 0 || p == 0 || r > 1024 || p > 1024) {
    return absl::InvalidArgumentError(
        internal::StrCat("scrypt parameters out of range: log2(N)=", log2_n, " r=", r, " p=", p));
  }
  const uint64_t needed = ScryptMemory(log2_n, r, p);
  if (needed > max_memory) {
    return absl::InvalidArgumentError(internal::StrCat("scrypt parameters need ", needed >> 20,
                                                       " MiB, more than the limit of ",
                                                       max_memory >> 20, " MiB"));
  }
  uint64_t n = uint64_t{1} << log2_n;
  // OpenSSL counts its own bookkeeping against maxmem; leave headroom.
  uint64_t maxmem = needed + (needed / 8) + (1 << 20);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(passphrase.data()), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  return DeriveWithKdf(OSSL_KDF_NAME_SCRYPT, params, out);
}

absl::StatusOr<AesGcm> AesGcm::Create(absl::Span<const uint8_t> key) {
  if (key.size() != kAesKeySize) {
    return absl::InternalError("AES-256-GCM needs a 32-byte key");
  }
  const EVP_CIPHER* cipher = Aes256Gcm();
  if (cipher == nullptr) return OpenSslError("AES-256-GCM fetch");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslError("cipher context");
  // The direction is chosen per call; EVP_CipherInit_ex2 with enc = -1 keeps
  // the key schedule and only changes what the next init asks for.
  if (EVP_CipherInit_ex2(ctx, cipher, key.data(), nullptr, 1, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslError("AES-256-GCM key setup");
  }
  return AesGcm(ctx);
}

AesGcm& AesGcm::operator=(AesGcm&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

AesGcm::~AesGcm() {
  // EVP_CIPHER_CTX_free wipes the key schedule and GCM state.
  EVP_CIPHER_CTX_free(ctx_);
}

absl::Status AesGcm::Seal(absl::Span<const uint8_t> nonce, absl::Span<const uint8_t> aad,
                          absl::Span<const uint8_t> plaintext, uint8_t* out) {
  if (ctx_ == nullptr || nonce.size() != kGcmNonceSize || !FitsInt(plaintext.size()) ||
      !FitsInt(aad.size())) {
    return absl::InternalError("AES-256-GCM seal called with bad arguments");
  }
  int len = 0;
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce.data(), 1, nullptr) != 1 ||
      (!aad.empty() &&
       EVP_CipherUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (!plaintext.empty() && EVP_CipherUpdate(ctx_, out, &len, plaintext.data(),
                                              static_cast<int>(plaintext.size())) != 1) ||
      EVP_CipherFinal_ex(ctx_, out + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, kGcmTagSize, out + plaintext.size()) != 1) {
    return OpenSslError("AES-256-GCM seal");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> AesGcm::Open(absl::Span<const uint8_t> nonce, absl::Span<const uint8_t> aad,
                                  absl::Span<const uint8_t> sealed, uint8_t* out) {
  if (ctx_ == nullptr || nonce.size() != kGcmNonceSize || sealed.size() < kGcmTagSize ||
      !FitsInt(sealed.size()) || !FitsInt(aad.size())) {
    return absl::InternalError("AES-256-GCM open called with bad arguments");
  }
  const size_t n = sealed.size() - kGcmTagSize;
  // The tag is copied out first: `out` may alias `sealed`.
  uint8_t tag[kGcmTagSize];
  std::memcpy(tag, sealed.data() + n, kGcmTagSize);
  int len = 0;
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce.data(), 0, nullptr) != 1 ||
      (!aad.empty() &&
       EVP_CipherUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (n > 0 && EVP_CipherUpdate(ctx_, out, &len, sealed.data(), static_cast<int>(n)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1) {
    Cleanse(out, n);
    return OpenSslError("AES-256-GCM open");
  }
  // Final compares the tag in constant time; on mismatch the plaintext in
  // `out` is unauthenticated and is wiped before anyone can see it.
  if (EVP_CipherFinal_ex(ctx_, out + n, &len) != 1) {
    Cleanse(out, n);
    return false;
  }
  return true;
}

std::string Base64Encode(absl::Span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= uint32_t{bytes[i + 1]} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<size_t> Base64Decode(std::string_view text, absl::Span<uint8_t> out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 == 0 && !text.empty()) {
    if (text.back() == '=') text.remove_suffix(1);
    if (text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("base64 text has a bad length");
  const size_t decoded = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  if (decoded > out.size()) {
    return absl::InvalidArgumentError(internal::StrCat("base64 text decodes to ", decoded,
                                                       " bytes, expected at most ", out.size()));
  }
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) {
      Cleanse(out.data(), o);
      return absl::InvalidArgumentError("base64 text has a character outside the alphabet");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  // Canonical encodings leave the unused low bits zero.
  if ((acc & ((1u << bits) - 1)) != 0) {
    Cleanse(out.data(), o);
    Cleanse(&acc, sizeof(acc));
    return absl::InvalidArgumentError("base64 text is not canonical");
  }
  Cleanse(&acc, sizeof(acc));
  return o;
}

}  // namespace chartcoder::internal
