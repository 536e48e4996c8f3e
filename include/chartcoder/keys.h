// chartcoder/keys.h: key-encryption keys for sealed files: where they come
// from (a keyring file, an environment variable, a file descriptor) and how a
// keyring is created and rotated.
//
//   absl::StatusOr<std::unique_ptr<chartcoder::Keyring>> ring =
//       chartcoder::Keyring::Open("/etc/chartcoder/keyring", {});
//   if (!ring.ok()) return ring.status();
//   // ... pass **ring (a KeyProvider) to SealedWriter, SealedReader, chart_io.
//
// A key-encryption key (KEK) never encrypts chart bytes itself: each sealed
// file has its own random data key, wrapped by a KEK and stored in the file's
// header (docs/sealed-format.md). Rotating adds a new active KEK; older keys
// stay in the keyring to open older files until those are re-wrapped
// (RewrapSealedFile in chartcoder/sealed.h). Key material is wiped from
// memory (OPENSSL_cleanse) when the objects holding it die.
#ifndef CHARTCODER_KEYS_H_
#define CHARTCODER_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chartcoder {

// A 256-bit secret key. Move-only; the bytes are wiped on destruction and
// when moved from. Copy() makes an explicit copy.
class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  SecretKey() = default;
  // A fresh key from OpenSSL's private random generator. Internal if the
  // generator fails.
  static absl::StatusOr<SecretKey> Generate();
  // InvalidArgument unless `bytes` is exactly 32 bytes.
  static absl::StatusOr<SecretKey> FromBytes(std::string_view bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  SecretKey Copy() const;
  bool empty() const { return !set_; }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return kSize; }

 private:
  void Wipe();

  std::array<uint8_t, kSize> bytes_{};
  bool set_ = false;
};

// Key ids name keys in headers and keyrings: 1 to 63 characters from
// [A-Za-z0-9._-], starting with a letter or digit.
inline constexpr size_t kMaxKeyIdLength = 63;
bool IsValidKeyId(std::string_view id);

// Where key-encryption keys come from. Implementations are immutable and
// safe for concurrent use.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // A copy of the key named `key_id`. NotFound when this provider has no such
  // key (the message names the id and the provider, never key material).
  virtual absl::StatusOr<SecretKey> GetKey(std::string_view key_id) const = 0;
  // The id of the key new files are sealed with. FailedPrecondition when the
  // provider has no active key.
  virtual absl::StatusOr<std::string> ActiveKeyId() const = 0;
  // Where the keys come from, for messages: "keyring /etc/x", "$CHARTCODER_KEY".
  virtual std::string Describe() const = 0;
};

// Keys held in memory, e.g. parsed from $CHARTCODER_KEY. Immutable; safe for
// concurrent use.
class InMemoryKeyProvider : public KeyProvider {
 public:
  struct Entry {
    std::string id;
    SecretKey key;
  };
  // `active_id` must name one of `keys` (or be empty for a read-only
  // provider); `description` is what Describe() returns.
  InMemoryKeyProvider(std::vector<Entry> keys, std::string active_id, std::string description);

  // Parses key specs "ID:BASE64KEY", separated by commas, spaces or newlines;
  // the first is the active key. BASE64KEY is 32 bytes in standard base64.
  // InvalidArgument names the problem (never the key). `description` names
  // the source in messages.
  static absl::StatusOr<std::unique_ptr<InMemoryKeyProvider>> Parse(std::string_view specs,
                                                                    std::string description);

  absl::StatusOr<SecretKey> GetKey(std::string_view key_id) const override;
  absl::StatusOr<std::string> ActiveKeyId() const override;
  std::string Describe() const override { return description_; }

 private:
  std::map<std::string, SecretKey, std::less<>> keys_;
  std::string active_id_;
  std::string description_;
};

// "ID:BASE64KEY" for `key`, the form $CHARTCODER_KEY and $CHARTCODER_KEY_FD
// take. The result is key material: wipe it when done.
std::string FormatKeySpec(std::string_view id, const SecretKey& key);

// The environment variables read by KeyProviderFromEnvironment().
inline constexpr char kKeyEnvVar[] = "CHARTCODER_KEY";          // key specs
inline constexpr char kKeyFdEnvVar[] = "CHARTCODER_KEY_FD";     // fd to read key specs from
inline constexpr char kKeyringEnvVar[] = "CHARTCODER_KEYRING";  // keyring file path

// Reads key specs (as for InMemoryKeyProvider::Parse, at most 64 KiB) from
// `fd` until end of file, then closes it. InvalidArgument on bad specs;
// Internal/NotFound on read errors.
absl::StatusOr<std::unique_ptr<KeyProvider>> KeyProviderFromFd(int fd);

// Keys for containers and serverless functions: from the file descriptor
// named by $CHARTCODER_KEY_FD if set, else from $CHARTCODER_KEY. Returns a
// null pointer when neither is set. InvalidArgument on a malformed variable.
absl::StatusOr<std::unique_ptr<KeyProvider>> KeyProviderFromEnvironment();

// Options for opening and changing keyrings.
struct KeyringOptions {
  // Passphrase of a protected keyring; empty for an unprotected one. Opening a
  // protected keyring without it is FailedPrecondition. Keyring::Create uses
  // it to protect the new file. The caller owns (and should wipe) it.
  std::string passphrase;
  // scrypt cost for keyrings written with a passphrase: N = 2^scrypt_log2_n,
  // block size r, parallelism p. The default (2^17, 8, 1) takes 128 MiB and
  // about half a second. Stored in the file; reading accepts up to 1 GiB.
  int scrypt_log2_n = 17;
  uint32_t scrypt_r = 8;
  uint32_t scrypt_p = 1;
};

// What a keyring says about one key (never the key itself).
struct KeyInfo {
  std::string id;
  std::string created;  // RFC 3339 UTC: "2026-11-26T10:04:05Z"
  bool active = false;  // seals new files; exactly one key is active
};

// Options for Keyring::AddKey.
struct AddKeyOptions {
  // Id for the new key; empty = generated ("k20261126-9f3a61c2").
  std::string id;
  // Make the new key the active one (rotation); the previous active key is
  // kept for opening older files.
  bool activate = false;
};

// A keyring file: keys with ids, one active key for new files, older keys for
// reading. The file must be private to its owner (no group or other
// permission bits); it may be protected by a passphrase (scrypt +
// AES-256-GCM). Format: docs/sealed-format.md. A Keyring object is an
// immutable snapshot of the file; safe for concurrent use. The static
// functions that change the file lock it and replace it atomically.
class Keyring : public KeyProvider {
 public:
  // Opens an existing keyring. NotFound if the file does not exist;
  // FailedPrecondition if it is readable or writable by group or others, or
  // protected and no passphrase was given; DataLoss if it is malformed, or
  // the passphrase is wrong, or the protected content was changed;
  // InvalidArgument if its scrypt parameters are beyond the limits.
  static absl::StatusOr<std::unique_ptr<Keyring>> Open(const std::string& path,
                                                       const KeyringOptions& options);
  // Creates a keyring with one new active key (id `key.id`, or generated),
  // mode 0600. FailedPrecondition if `path` exists; InvalidArgument on a bad
  // id or scrypt parameters.
  static absl::StatusOr<std::unique_ptr<Keyring>> Create(const std::string& path,
                                                         const KeyringOptions& options,
                                                         const AddKeyOptions& key = {});
  // Adds a new key to an existing keyring and returns its id. Codes as for
  // Open, plus InvalidArgument for a bad id and FailedPrecondition when the id
  // is taken.
  static absl::StatusOr<std::string> AddKey(const std::string& path, const KeyringOptions& options,
                                            const AddKeyOptions& key);
  // Rotation: adds a new key and makes it active. Returns its id.
  static absl::StatusOr<std::string> Rotate(const std::string& path, const KeyringOptions& options);
  // Removes a retired key (once no file needs it: see RewrapSealedFile).
  // NotFound for an unknown id; FailedPrecondition for the active key; other
  // codes as for Open.
  static absl::Status RemoveKey(const std::string& path, const KeyringOptions& options,
                                std::string_view key_id);
  // Rewrites the keyring protected by `new_passphrase` (empty: unprotected),
  // with the scrypt cost in `options`. Codes as for Open.
  static absl::Status SetPassphrase(const std::string& path, const KeyringOptions& options,
                                    std::string_view new_passphrase);

  ~Keyring() override;

  // The keys in file order.
  std::vector<KeyInfo> List() const;
  bool is_protected() const { return protected_; }
  const std::string& path() const { return path_; }

  absl::StatusOr<SecretKey> GetKey(std::string_view key_id) const override;
  absl::StatusOr<std::string> ActiveKeyId() const override;
  std::string Describe() const override;

 private:
  struct Slot {
    KeyInfo info;
    SecretKey key;
  };
  Keyring() = default;
  static std::unique_ptr<Keyring> Build(std::string path, bool is_protected,
                                        std::vector<std::pair<KeyInfo, SecretKey>> keys);

  std::string path_;
  bool protected_ = false;
  std::vector<Slot> slots_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_KEYS_H_
