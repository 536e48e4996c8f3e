#include "chartcoder/keys.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/internal/crypto.h"
#include "src/internal/file_io.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr std::string_view kKeyringMagic = "chartcoder-keyring v1";
constexpr std::string_view kScryptSaltLabel = "chartcoder/keyring/v1/scrypt";
constexpr size_t kScryptSaltSize = 16;
constexpr size_t kMaxKeyringBytes = 1 << 20;
constexpr size_t kMaxKeySpecBytes = 64 << 10;
// Reading accepts scrypt parameters up to this much memory.
constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;

// Reads a whole small file (a keyring) from `fd` into `out`, whose capacity is
// reserved first so the secret is never copied by a reallocation.
absl::Status ReadSecretFile(int fd, const std::string& name, size_t limit, std::string* out) {
  out->reserve(limit + 1);
  out->resize(limit + 1);
  CC_ASSIGN_OR_RETURN(size_t n, internal::ReadFull(fd, out->data(), limit + 1, name));
  out->resize(n);
  if (n > limit) {
    return absl::ResourceExhaustedError(
        StrCat(name, ": larger than the limit of ", limit, " bytes"));
  }
  return absl::OkStatus();
}

std::string NowRfc3339() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

absl::StatusOr<std::string> GenerateKeyId() {
  uint8_t r[4];
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(r)));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = StrCat("k", absl::FormatTime("%Y%m%d", absl::Now(), absl::UTCTimeZone()), "-");
  for (uint8_t b : r) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

bool IsTimestampToken(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '.' ||
          c == '+')) {
      return false;
    }
  }
  return true;
}

// Decodes base64 key material into a SecretKey (exactly 32 bytes).
absl::StatusOr<SecretKey> DecodeKey(std::string_view b64) {
  uint8_t raw[SecretKey::kSize + 3];
  absl::StatusOr<size_t> n = internal::Base64Decode(b64, absl::MakeSpan(raw));
  absl::StatusOr<SecretKey> key =
      !n.ok() ? absl::StatusOr<SecretKey>(n.status())
              : SecretKey::FromBytes(std::string_view(reinterpret_cast<const char*>(raw), *n));
  internal::Cleanse(raw, sizeof(raw));
  if (!key.ok()) {
    return absl::InvalidArgumentError("key material is not 32 bytes of standard base64");
  }
  return key;
}

// The protection line of a passphrase-protected keyring.
struct ScryptParams {
  int log2_n = 17;
  uint32_t r = 8;
  uint32_t p = 1;
  std::array<uint8_t, kScryptSaltSize> salt{};

  std::string Line() const {
    return StrCat("protection scrypt log2n=", log2_n, " r=", r, " p=", p,
                  " salt=", internal::Base64Encode(salt));
  }
};

// The key-encryption key of a protected keyring.
absl::StatusOr<SecretKey> PassphraseKey(std::string_view passphrase, const ScryptParams& params) {
  std::string salt(kScryptSaltLabel);
  salt.append(internal::Chars(params.salt));
  uint8_t out[SecretKey::kSize];
  absl::Status s = internal::Scrypt(passphrase, internal::Bytes(salt), params.log2_n, params.r,
                                    params.p, kMaxScryptMemory, absl::MakeSpan(out));
  absl::StatusOr<SecretKey> key =
      s.ok() ? SecretKey::FromBytes(std::string_view(reinterpret_cast<char*>(out), sizeof(out)))
             : absl::StatusOr<SecretKey>(s);
  internal::Cleanse(out, sizeof(out));
  return key;
}

// The parsed content of a keyring file.
struct KeyringContent {
  bool is_protected = false;
  ScryptParams scrypt;
  std::vector<std::pair<KeyInfo, SecretKey>> keys;
};

absl::Status Malformed(const std::string& path, size_t line, std::string_view what) {
  return absl::DataLossError(StrCat("keyring ", path, " line ", line, ": ", what));
}

// Parses the "key ID CREATED STATE BASE64" lines of a keyring body.
absl::Status ParseKeyLines(std::string_view body, const std::string& path, size_t first_line,
                           KeyringContent* content) {
  size_t line_no = first_line;
  int active = 0;
  for (std::string_view line : internal::Split(body, '\n')) {
    ++line_no;
    line = internal::Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> f = internal::Split(line, ' ', /*skip_empty=*/true);
    if (f.size() != 5 || f[0] != "key") {
      return Malformed(path, line_no, "expected 'key ID CREATED active|retired BASE64KEY'");
    }
    if (!IsValidKeyId(f[1])) return Malformed(path, line_no, "invalid key id");
    for (const auto& [info, key] : content->keys) {
      if (info.id == f[1]) return Malformed(path, line_no, StrCat("duplicate key id ", f[1]));
    }
    if (!IsTimestampToken(f[2])) return Malformed(path, line_no, "invalid creation time");
    if (f[3] != "active" && f[3] != "retired") {
      return Malformed(path, line_no, "state must be 'active' or 'retired'");
    }
    absl::StatusOr<SecretKey> key = DecodeKey(f[4]);
    if (!key.ok()) return Malformed(path, line_no, internal::FromAbsl(key.status().message()));
    KeyInfo info{std::string(f[1]), std::string(f[2]), f[3] == "active"};
    active += info.active;
    content->keys.emplace_back(std::move(info), *std::move(key));
  }
  if (content->keys.empty()) return absl::DataLossError(StrCat("keyring ", path, " has no keys"));
  if (active != 1) {
    return absl::DataLossError(
        StrCat("keyring ", path, " has ", active, " active keys; it must have exactly one"));
  }
  return absl::OkStatus();
}

// The key lines of `content`, into `out` (reserved up front; wipe it after use).
void SerializeKeyLines(const KeyringContent& content, std::string* out) {
  out->reserve(content.keys.size() * 192 + 64);
  for (const auto& [info, key] : content.keys) {
    std::string b64 = internal::Base64Encode(absl::MakeConstSpan(key.data(), key.size()));
    internal::StrAppend(out, "key ", info.id, " ", info.created, " ",
                        info.active ? "active" : "retired", " ", b64, "\n");
    internal::CleanseString(&b64);
  }
}

absl::StatusOr<KeyringContent> ParseKeyring(const std::string& text, const std::string& path,
                                            const KeyringOptions& options) {
  KeyringContent content;
  // Header lines: the magic, then for a protected keyring the protection,
  // nonce and sealed lines. Comment lines may come first.
  std::vector<std::string_view> lines = internal::Split(text, '\n');
  size_t i = 0;
  while (i < lines.size() &&
         (internal::Trim(lines[i]).empty() || internal::Trim(lines[i]).front() == '#')) {
    ++i;
  }
  if (i == lines.size() || internal::Trim(lines[i]) != kKeyringMagic) {
    return absl::DataLossError(
        StrCat("keyring ", path, " is not a chartcoder keyring (no '", kKeyringMagic, "' line)"));
  }
  ++i;
  std::string_view rest = i < lines.size()
                              ? std::string_view(text).substr(lines[i].data() - text.data())
                              : std::string_view();
  if (!rest.starts_with("protection ")) {
    if (!options.passphrase.empty()) {
      // A passphrase for an unprotected keyring is a mistake worth reporting:
      // the user believes the keys are protected.
      return absl::FailedPreconditionError(
          StrCat("keyring ", path, " is not protected by a passphrase, but one was given"));
    }
    CC_RETURN_IF_ERROR(ParseKeyLines(rest, path, i, &content));
    return content;
  }
  content.is_protected = true;
  // protection scrypt log2n=N r=R p=P salt=B64 / nonce B64 / sealed B64
  auto field = [&](size_t at, std::string_view name) -> std::vector<std::string_view> {
    if (at >= lines.size()) return {};
    std::vector<std::string_view> f = internal::Split(internal::Trim(lines[at]), ' ', true);
    if (f.empty() || f[0] != name) return {};
    return f;
  };
  std::vector<std::string_view> prot = field(i, "protection");
  std::vector<std::string_view> nonce_line = field(i + 1, "nonce");
  std::vector<std::string_view> sealed_line = field(i + 2, "sealed");
  if (prot.size() != 6 || prot[1] != "scrypt" || !prot[2].starts_with("log2n=") ||
      !prot[3].starts_with("r=") || !prot[4].starts_with("p=") || !prot[5].starts_with("salt=") ||
      nonce_line.size() != 2 || sealed_line.size() != 2) {
    return Malformed(path, i + 1,
                     "expected 'protection scrypt log2n=N r=R p=P salt=B64', then 'nonce B64' "
                     "and 'sealed B64' lines");
  }
  ScryptParams& sp = content.scrypt;
  if (!internal::ParseInt(prot[2].substr(6), &sp.log2_n) ||
      !internal::ParseInt(prot[3].substr(2), &sp.r) ||
      !internal::ParseInt(prot[4].substr(2), &sp.p)) {
    return Malformed(path, i + 1, "scrypt parameters are not numbers");
  }
  absl::StatusOr<size_t> salt_len =
      internal::Base64Decode(prot[5].substr(5), absl::MakeSpan(sp.salt));
  std::array<uint8_t, internal::kGcmNonceSize> nonce{};
  absl::StatusOr<size_t> nonce_len = internal::Base64Decode(nonce_line[1], absl::MakeSpan(nonce));
  if (!salt_len.ok() || *salt_len != kScryptSaltSize || !nonce_len.ok() ||
      *nonce_len != nonce.size()) {
    return Malformed(path, i + 1, "bad salt or nonce");
  }
  std::string sealed(sealed_line[1].size() / 4 * 3 + 3, '\0');
  absl::StatusOr<size_t> sealed_len =
      internal::Base64Decode(sealed_line[1], internal::MutableBytes(&sealed));
  if (!sealed_len.ok() || *sealed_len < internal::kGcmTagSize) {
    return Malformed(path, i + 3, "the sealed keys are not valid base64 of a sealed key list");
  }
  sealed.resize(*sealed_len);
  for (size_t j = i + 3; j < lines.size(); ++j) {
    std::string_view l = internal::Trim(lines[j]);
    if (!l.empty() && l.front() != '#') {
      return Malformed(path, j + 1, "unexpected line after the sealed keys");
    }
  }
  if (options.passphrase.empty()) {
    return absl::FailedPreconditionError(
        StrCat("keyring ", path, " is protected by a passphrase; give it with --passphrase-file"));
  }
  if (internal::ScryptMemory(sp.log2_n, sp.r, sp.p) > kMaxScryptMemory || sp.log2_n < 10) {
    return absl::InvalidArgumentError(
        StrCat("keyring ", path, ": scrypt parameters log2n=", sp.log2_n, " r=", sp.r, " p=", sp.p,
               " are outside the accepted range (2^10 <= N, memory <= 1 GiB)"));
  }
  CC_ASSIGN_OR_RETURN(SecretKey kek, PassphraseKey(options.passphrase, sp));
  CC_ASSIGN_OR_RETURN(internal::AesGcm gcm,
                      internal::AesGcm::Create(absl::MakeConstSpan(kek.data(), kek.size())));
  const std::string aad = StrCat(kKeyringMagic, "\n", sp.Line(), "\n");
  std::string body(sealed.size() - internal::kGcmTagSize, '\0');
  internal::ScopedCleanse wipe_body(&body);
  CC_ASSIGN_OR_RETURN(bool authentic, gcm.Open(nonce, internal::Bytes(aad), internal::Bytes(sealed),
                                               reinterpret_cast<uint8_t*>(body.data())));
  if (!authentic) {
    return absl::DataLossError(
        StrCat("keyring ", path, ": wrong passphrase, or the protected keyring was changed"));
  }
  CC_RETURN_IF_ERROR(ParseKeyLines(body, path, i + 3, &content));
  return content;
}

// The file text of `content`, protected by `passphrase` when not empty.
absl::StatusOr<std::string> SerializeKeyring(const KeyringContent& content,
                                             std::string_view passphrase, int scrypt_log2_n,
                                             uint32_t scrypt_r, uint32_t scrypt_p) {
  std::string out = StrCat(
      "# chartcoder keyring: secret key material. Keep it private (mode 0600).\n"
      "# Format: docs/sealed-format.md. Change it only with chartcoder keygen/keys.\n",
      kKeyringMagic, "\n");
  std::string body;
  internal::ScopedCleanse wipe_body(&body);
  SerializeKeyLines(content, &body);
  if (passphrase.empty()) {
    out.reserve(out.size() + body.size());
    out.append(body);
    return out;
  }
  ScryptParams sp;
  sp.log2_n = scrypt_log2_n;
  sp.r = scrypt_r;
  sp.p = scrypt_p;
  if (sp.log2_n < 10 || internal::ScryptMemory(sp.log2_n, sp.r, sp.p) > kMaxScryptMemory) {
    return absl::InvalidArgumentError(
        StrCat("scrypt parameters log2n=", sp.log2_n, " r=", sp.r, " p=", sp.p,
               " are outside the accepted range (2^10 <= N, memory <= 1 GiB)"));
  }
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(sp.salt)));
  std::array<uint8_t, internal::kGcmNonceSize> nonce{};
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(nonce)));
  CC_ASSIGN_OR_RETURN(SecretKey kek, PassphraseKey(passphrase, sp));
  CC_ASSIGN_OR_RETURN(internal::AesGcm gcm,
                      internal::AesGcm::Create(absl::MakeConstSpan(kek.data(), kek.size())));
  const std::string aad = StrCat(kKeyringMagic, "\n", sp.Line(), "\n");
  std::string sealed(body.size() + internal::kGcmTagSize, '\0');
  CC_RETURN_IF_ERROR(gcm.Seal(nonce, internal::Bytes(aad), internal::Bytes(body),
                              reinterpret_cast<uint8_t*>(sealed.data())));
  internal::StrAppend(&out, sp.Line(), "\nnonce ", internal::Base64Encode(nonce), "\nsealed ",
                      internal::Base64Encode(internal::Bytes(sealed)), "\n");
  return out;
}

// Opens `path` for reading and checks that it is a private regular file.
absl::StatusOr<int> OpenPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus(errno, StrCat("keyring ", path), "cannot open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return internal::ErrnoStatus(err, StrCat("keyring ", path), "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(StrCat("keyring ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(
        StrCat("keyring ", path, " is accessible by group or others (mode ", mode,
               "); it holds secret keys: run 'chmod 600 ", path, "'"));
  }
  return fd;
}

absl::StatusOr<KeyringContent> ReadKeyring(int fd, const std::string& path,
                                           const KeyringOptions& options) {
  std::string text;
  internal::ScopedCleanse wipe(&text);
  CC_RETURN_IF_ERROR(ReadSecretFile(fd, StrCat("keyring ", path), kMaxKeyringBytes, &text));
  return ParseKeyring(text, path, options);
}

// Writes `content` to `path` atomically with mode 0600. With `replace` false
// the call fails (FailedPrecondition) if `path` exists.
absl::Status WriteKeyring(const std::string& path, const KeyringContent& content,
                          std::string_view passphrase, int scrypt_log2_n, uint32_t scrypt_r,
                          uint32_t scrypt_p, bool replace) {
  CC_ASSIGN_OR_RETURN(std::string text,
                      SerializeKeyring(content, passphrase, scrypt_log2_n, scrypt_r, scrypt_p));
  internal::ScopedCleanse wipe(&text);
  CC_ASSIGN_OR_RETURN(internal::AtomicFile file, internal::AtomicFile::Create(path, 0600));
  CC_RETURN_IF_ERROR(file.Write(text));
  return file.Commit(replace);
}

// Locks the keyring at `path` against concurrent changes, reads it, lets
// `change` modify it, and writes it back (protected as before unless
// `new_passphrase` is given).
template <typename Change>
absl::Status ChangeKeyring(const std::string& path, const KeyringOptions& options,
                           const std::string_view* new_passphrase, Change change) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    CC_ASSIGN_OR_RETURN(int fd, OpenPrivateFile(path));
    absl::Cleanup close_fd = [fd] { ::close(fd); };
    if (::flock(fd, LOCK_EX) != 0) {
      return internal::ErrnoStatus(errno, StrCat("keyring ", path), "cannot lock");
    }
    // Another process may have replaced the file while we waited for the
    // lock; then the lock is on a stale inode and we start again.
    struct stat held, now;
    if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &now) != 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
      continue;
    }
    CC_ASSIGN_OR_RETURN(KeyringContent content, ReadKeyring(fd, path, options));
    CC_RETURN_IF_ERROR(change(&content));
    std::string_view passphrase = new_passphrase != nullptr ? *new_passphrase
                                  : content.is_protected    ? std::string_view(options.passphrase)
                                                            : std::string_view();
    // A protected keyring keeps the cost it was written with unless the
    // passphrase changes.
    const bool keep_cost = content.is_protected && new_passphrase == nullptr;
    return WriteKeyring(path, content, passphrase,
                        keep_cost ? content.scrypt.log2_n : options.scrypt_log2_n,
                        keep_cost ? content.scrypt.r : options.scrypt_r,
                        keep_cost ? content.scrypt.p : options.scrypt_p, /*replace=*/true);
  }
  return absl::InternalError(StrCat("keyring ", path, " kept changing while being locked"));
}

absl::StatusOr<std::pair<KeyInfo, SecretKey>> NewKey(const AddKeyOptions& options) {
  std::string id = options.id;
  if (id.empty()) {
    CC_ASSIGN_OR_RETURN(id, GenerateKeyId());
  } else if (!IsValidKeyId(id)) {
    return absl::InvalidArgumentError(
        StrCat("key id '", id, "' is not valid: use 1 to ", kMaxKeyIdLength,
               " characters from A-Z a-z 0-9 . _ -, starting with a letter or digit"));
  }
  CC_ASSIGN_OR_RETURN(SecretKey key, SecretKey::Generate());
  return std::make_pair(KeyInfo{std::move(id), NowRfc3339(), options.activate}, std::move(key));
}

}  // namespace

// ---------------------------------------------------------------------------
// SecretKey

absl::StatusOr<SecretKey> SecretKey::Generate() {
  SecretKey k;
  CC_RETURN_IF_ERROR(internal::RandomPrivateBytes(absl::MakeSpan(k.bytes_)));
  k.set_ = true;
  return k;
}

absl::StatusOr<SecretKey> SecretKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kSize) {
    return absl::InvalidArgumentError(StrCat("a key is ", kSize, " bytes, got ", bytes.size()));
  }
  SecretKey k;
  std::memcpy(k.bytes_.data(), bytes.data(), kSize);
  k.set_ = true;
  return k;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_), set_(other.set_) {
  other.Wipe();
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    set_ = other.set_;
    other.Wipe();
  }
  return *this;
}

SecretKey::~SecretKey() { Wipe(); }

void SecretKey::Wipe() {
  internal::Cleanse(bytes_.data(), bytes_.size());
  set_ = false;
}

SecretKey SecretKey::Copy() const {
  SecretKey k;
  k.bytes_ = bytes_;
  k.set_ = set_;
  return k;
}

bool IsValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdLength) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id.front())) return false;
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// InMemoryKeyProvider

InMemoryKeyProvider::InMemoryKeyProvider(std::vector<Entry> keys, std::string active_id,
                                         std::string description)
    : active_id_(std::move(active_id)), description_(std::move(description)) {
  for (Entry& e : keys) keys_.emplace(std::move(e.id), std::move(e.key));
}

absl::StatusOr<std::unique_ptr<InMemoryKeyProvider>> InMemoryKeyProvider::Parse(
    std::string_view specs, std::string description) {
  std::vector<Entry> entries;
  std::string token;
  size_t index = 0;
  size_t start = 0;
  auto is_sep = [](char c) { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (start < specs.size()) {
    if (is_sep(specs[start])) {
      ++start;
      continue;
    }
    size_t end = start;
    while (end < specs.size() && !is_sep(specs[end])) ++end;
    std::string_view spec = specs.substr(start, end - start);
    start = end;
    ++index;
    size_t colon = spec.find(':');
    // Messages never repeat the token: it may be key material.
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat(description, ": key ", index, " is not in the form ID:BASE64KEY"));
    }
    std::string_view id = spec.substr(0, colon);
    if (!IsValidKeyId(id)) {
      return absl::InvalidArgumentError(StrCat(description, ": key ", index,
                                               " has an invalid id (1 to ", kMaxKeyIdLength,
                                               " characters from A-Z a-z 0-9 . _ -)"));
    }
    for (const Entry& e : entries) {
      if (e.id == id) {
        return absl::InvalidArgumentError(StrCat(description, ": key id ", id, " appears twice"));
      }
    }
    absl::StatusOr<SecretKey> key = DecodeKey(spec.substr(colon + 1));
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          StrCat(description, ": key ", id, ": ", internal::FromAbsl(key.status().message())));
    }
    entries.push_back({std::string(id), *std::move(key)});
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(StrCat(description, ": no keys (expected ID:BASE64KEY)"));
  }
  std::string active = entries.front().id;
  return std::make_unique<InMemoryKeyProvider>(std::move(entries), std::move(active),
                                               std::move(description));
}

absl::StatusOr<SecretKey> InMemoryKeyProvider::GetKey(std::string_view key_id) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end()) {
    return absl::NotFoundError(StrCat("key ", key_id, " is not in ", description_));
  }
  return it->second.Copy();
}

absl::StatusOr<std::string> InMemoryKeyProvider::ActiveKeyId() const {
  if (active_id_.empty()) {
    return absl::FailedPreconditionError(StrCat(description_, " has no active key"));
  }
  return active_id_;
}

std::string FormatKeySpec(std::string_view id, const SecretKey& key) {
  std::string b64 = internal::Base64Encode(absl::MakeConstSpan(key.data(), key.size()));
  std::string out;
  out.reserve(id.size() + 1 + b64.size());
  internal::StrAppend(&out, id, ":", b64);
  internal::CleanseString(&b64);
  return out;
}

absl::StatusOr<std::unique_ptr<KeyProvider>> KeyProviderFromFd(int fd) {
  std::string text;
  internal::ScopedCleanse wipe(&text);
  const std::string name = StrCat("key file descriptor ", fd);
  absl::Status read = ReadSecretFile(fd, name, kMaxKeySpecBytes, &text);
  ::close(fd);
  CC_RETURN_IF_ERROR(read);
  CC_ASSIGN_OR_RETURN(std::unique_ptr<InMemoryKeyProvider> p,
                      InMemoryKeyProvider::Parse(text, name));
  return std::unique_ptr<KeyProvider>(std::move(p));
}

absl::StatusOr<std::unique_ptr<KeyProvider>> KeyProviderFromEnvironment() {
  if (const char* fd_text = std::getenv(kKeyFdEnvVar); fd_text != nullptr && *fd_text != '\0') {
    int fd = -1;
    if (!internal::ParseInt(fd_text, &fd) || fd < 0) {
      return absl::InvalidArgumentError(
          StrCat("$", kKeyFdEnvVar, " must be a file descriptor number, got '", fd_text, "'"));
    }
    return KeyProviderFromFd(fd);
  }
  if (const char* specs = std::getenv(kKeyEnvVar); specs != nullptr && *specs != '\0') {
    CC_ASSIGN_OR_RETURN(std::unique_ptr<InMemoryKeyProvider> p,
                        InMemoryKeyProvider::Parse(specs, StrCat("$", kKeyEnvVar)));
    return std::unique_ptr<KeyProvider>(std::move(p));
  }
  return std::unique_ptr<KeyProvider>();
}

// ---------------------------------------------------------------------------
// Keyring

Keyring::~Keyring() = default;

absl::StatusOr<std::unique_ptr<Keyring>> Keyring::Open(const std::string& path,
                                                       const KeyringOptions& options) {
  CC_ASSIGN_OR_RETURN(int fd, OpenPrivateFile(path));
  absl::StatusOr<KeyringContent> content = ReadKeyring(fd, path, options);
  ::close(fd);
  if (!content.ok()) return content.status();
  return Build(path, content->is_protected, std::move(content->keys));
}

std::unique_ptr<Keyring> Keyring::Build(std::string path, bool is_protected,
                                        std::vector<std::pair<KeyInfo, SecretKey>> keys) {
  std::unique_ptr<Keyring> ring(new Keyring());
  ring->path_ = std::move(path);
  ring->protected_ = is_protected;
  for (auto& [info, key] : keys) ring->slots_.push_back({std::move(info), std::move(key)});
  return ring;
}

absl::StatusOr<std::unique_ptr<Keyring>> Keyring::Create(const std::string& path,
                                                         const KeyringOptions& options,
                                                         const AddKeyOptions& key) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return absl::FailedPreconditionError(StrCat("keyring ", path, " already exists"));
  }
  AddKeyOptions first = key;
  first.activate = true;
  KeyringContent content;
  CC_ASSIGN_OR_RETURN(auto slot, NewKey(first));
  content.keys.push_back(std::move(slot));
  CC_RETURN_IF_ERROR(WriteKeyring(path, content, options.passphrase, options.scrypt_log2_n,
                                  options.scrypt_r, options.scrypt_p, /*replace=*/false));
  return Build(path, !options.passphrase.empty(), std::move(content.keys));
}

absl::StatusOr<std::string> Keyring::AddKey(const std::string& path, const KeyringOptions& options,
                                            const AddKeyOptions& key) {
  std::string id;
  CC_RETURN_IF_ERROR(ChangeKeyring(path, options, nullptr, [&](KeyringContent* c) {
    CC_ASSIGN_OR_RETURN(auto slot, NewKey(key));
    for (const auto& existing : c->keys) {
      if (existing.first.id == slot.first.id) {
        return absl::FailedPreconditionError(
            StrCat("keyring ", path, " already has a key ", slot.first.id));
      }
    }
    if (key.activate) {
      for (auto& existing : c->keys) existing.first.active = false;
    }
    id = slot.first.id;
    c->keys.push_back(std::move(slot));
    return absl::OkStatus();
  }));
  return id;
}

absl::StatusOr<std::string> Keyring::Rotate(const std::string& path,
                                            const KeyringOptions& options) {
  AddKeyOptions key;
  key.activate = true;
  return AddKey(path, options, key);
}

absl::Status Keyring::RemoveKey(const std::string& path, const KeyringOptions& options,
                                std::string_view key_id) {
  return ChangeKeyring(path, options, nullptr, [&](KeyringContent* c) {
    for (auto it = c->keys.begin(); it != c->keys.end(); ++it) {
      if (it->first.id != key_id) continue;
      if (it->first.active) {
        return absl::FailedPreconditionError(
            StrCat("key ", key_id, " is the active key of keyring ", path,
                   "; rotate first, then re-wrap the files that use it"));
      }
      c->keys.erase(it);
      return absl::OkStatus();
    }
    return absl::NotFoundError(StrCat("key ", key_id, " is not in keyring ", path));
  });
}

absl::Status Keyring::SetPassphrase(const std::string& path, const KeyringOptions& options,
                                    std::string_view new_passphrase) {
  return ChangeKeyring(path, options, &new_passphrase,
                       [](KeyringContent*) { return absl::OkStatus(); });
}

std::vector<KeyInfo> Keyring::List() const {
  std::vector<KeyInfo> out;
  for (const Slot& s : slots_) out.push_back(s.info);
  return out;
}

absl::StatusOr<SecretKey> Keyring::GetKey(std::string_view key_id) const {
  for (const Slot& s : slots_) {
    if (s.info.id == key_id) return s.key.Copy();
  }
  return absl::NotFoundError(StrCat("key ", key_id, " is not in keyring ", path_));
}

absl::StatusOr<std::string> Keyring::ActiveKeyId() const {
  for (const Slot& s : slots_) {
    if (s.info.active) return s.info.id;
  }
  return absl::FailedPreconditionError(StrCat("keyring ", path_, " has no active key"));
}

std::string Keyring::Describe() const { return StrCat("keyring ", path_); }

}  // namespace chartcoder
