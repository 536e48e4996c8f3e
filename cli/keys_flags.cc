#include "cli/keys_flags.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "src/internal/crypto.h"
#include "src/internal/file_io.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {
namespace {

constexpr size_t kMaxPassphraseBytes = 4096;

std::string NoKeyMessage() {
  return internal::StrCat("no key configured: give --keyring FILE, or set $", kKeyEnvVar,
                          " (ID:BASE64KEY), $", kKeyFdEnvVar, " or $", kKeyringEnvVar);
}

}  // namespace

std::vector<FlagSpec> KeyringFlags() {
  return {{"keyring", "FILE",
           internal::StrCat("keyring with the keys (default: $", kKeyFdEnvVar, ", $", kKeyEnvVar,
                            " or $", kKeyringEnvVar, ")")},
          {"passphrase-file", "FILE", "file holding the keyring's passphrase (first line)"}};
}

std::vector<FlagSpec> SealOutputFlags() {
  return {{"seal-output", "", "write the output as a sealed file (needs a key)"},
          {"key-id", "ID", "key to seal with (default: the active key)"}};
}

std::vector<FlagSpec> Concat(std::initializer_list<std::vector<FlagSpec>> lists) {
  std::vector<FlagSpec> out;
  for (const std::vector<FlagSpec>& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

std::string KeyringPath(const CommandLine& args) {
  if (args.Has("keyring")) return args.Get("keyring");
  const char* env = std::getenv(kKeyringEnvVar);
  return env != nullptr ? env : "";
}

absl::Status ReadPassphraseFile(const std::string& path, std::string* passphrase) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus(errno, path, "cannot open passphrase file");
  std::string& text = *passphrase;
  internal::CleanseString(&text);
  text.reserve(kMaxPassphraseBytes + 1);
  text.resize(kMaxPassphraseBytes + 1);
  absl::StatusOr<size_t> n = internal::ReadFull(fd, text.data(), text.size(), path);
  ::close(fd);
  if (!n.ok()) {
    internal::CleanseString(&text);
    return n.status();
  }
  text.resize(*n);
  if (text.size() > kMaxPassphraseBytes) {
    internal::CleanseString(&text);
    return absl::InvalidArgumentError(
        internal::StrCat(path, ": passphrase file longer than ", kMaxPassphraseBytes, " bytes"));
  }
  // The first line, without the newline an editor or `echo` adds.
  if (size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) {
    return absl::InvalidArgumentError(internal::StrCat(path, ": the passphrase is empty"));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyringOptions> KeyringOptionsFromFlags(const CommandLine& args) {
  KeyringOptions options;
  if (args.Has("passphrase-file")) {
    absl::Status s = ReadPassphraseFile(args.Get("passphrase-file"), &options.passphrase);
    if (!s.ok()) return s;
  }
  return options;
}

void ScrubKeyFromEnvironment() {
  if (char* value = std::getenv(kKeyEnvVar); value != nullptr) {
    internal::Cleanse(value, std::strlen(value));
    ::unsetenv(kKeyEnvVar);
  }
}

absl::StatusOr<std::unique_ptr<KeyProvider>> LoadKeyProvider(const CommandLine& args) {
  auto open_keyring = [&](const std::string& path) -> absl::StatusOr<std::unique_ptr<KeyProvider>> {
    absl::StatusOr<KeyringOptions> options = KeyringOptionsFromFlags(args);
    if (!options.ok()) return options.status();
    internal::ScopedCleanse wipe(&options->passphrase);
    absl::StatusOr<std::unique_ptr<Keyring>> ring = Keyring::Open(path, *options);
    if (!ring.ok()) return ring.status();
    return std::unique_ptr<KeyProvider>(*std::move(ring));
  };
  if (args.Has("keyring")) return open_keyring(args.Get("keyring"));
  absl::StatusOr<std::unique_ptr<KeyProvider>> env = KeyProviderFromEnvironment();
  if (env.ok() && *env != nullptr) ScrubKeyFromEnvironment();
  if (!env.ok() || *env != nullptr) return env;
  if (std::string path = KeyringPath(args); !path.empty()) return open_keyring(path);
  if (args.Has("passphrase-file")) {
    return absl::InvalidArgumentError("--passphrase-file needs a keyring: give --keyring FILE");
  }
  return std::unique_ptr<KeyProvider>();
}

absl::StatusOr<std::unique_ptr<KeyProvider>> RequireKeyProvider(const CommandLine& args) {
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
  if (keys.ok() && *keys == nullptr) return absl::FailedPreconditionError(NoKeyMessage());
  return keys;
}

absl::StatusOr<OutputOptions> OutputOptionsFromFlags(const CommandLine& args,
                                                     const KeyProvider* keys) {
  OutputOptions options;
  options.seal = args.Has("seal-output");
  options.key_id = args.Get("key-id");
  options.keys = keys;
  if (options.seal && keys == nullptr) {
    return absl::FailedPreconditionError(
        internal::StrCat("--seal-output needs a key; ", NoKeyMessage()));
  }
  return options;
}

}  // namespace chartcoder::cli
