// chartcoder keygen --keyring FILE: create a keyring, or add a key to one.
#include <sys/stat.h>

#include <cstdio>

#include "chartcoder/keys.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "src/internal/crypto.h"

namespace chartcoder::cli {
namespace {

int Run(const CommandLine& args) {
  if (!args.positional().empty()) return UsageError("keygen", "takes no arguments");
  const std::string path = KeyringPath(args);
  if (path.empty()) return UsageError("keygen", "give --keyring FILE");
  absl::StatusOr<KeyringOptions> options = KeyringOptionsFromFlags(args);
  if (!options.ok()) return Fail(options.status());
  internal::ScopedCleanse wipe(&options->passphrase);
  AddKeyOptions key;
  key.id = args.Get("id");
  key.activate = args.Has("activate");
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    absl::StatusOr<std::unique_ptr<Keyring>> ring = Keyring::Create(path, *options, key);
    if (!ring.ok()) return Fail(ring.status());
    std::string id = *(*ring)->ActiveKeyId();
    std::fprintf(stderr, "chartcoder: created keyring %s (mode 0600%s) with active key %s\n",
                 path.c_str(), (*ring)->is_protected() ? ", passphrase-protected" : "", id.c_str());
    std::printf("%s\n", id.c_str());
    return kExitOk;
  }
  absl::StatusOr<std::string> id = Keyring::AddKey(path, *options, key);
  if (!id.ok()) return Fail(id.status());
  std::fprintf(stderr, "chartcoder: added key %s to %s%s\n", id->c_str(), path.c_str(),
               key.activate ? "; it is now the active key"
                            : " (not active: 'chartcoder keys rotate' adds an active key)");
  std::printf("%s\n", id->c_str());
  return kExitOk;
}

}  // namespace

const Command& KeygenCommand() {
  static const Command* const kCommand = new Command{
      "keygen", "create a keyring, or add a key to one",
      "Usage: chartcoder keygen --keyring FILE [--passphrase-file F] [--id ID] [--activate]\n\n"
      "Creates the keyring FILE (mode 0600) holding one new random 256-bit key, the\n"
      "active key that seals new files. If FILE exists, adds a new key to it; the key\n"
      "becomes the active one only with --activate ('chartcoder keys rotate' does\n"
      "both). With --passphrase-file a new keyring is protected by that passphrase\n"
      "(scrypt, 128 MiB); an existing protected keyring needs it to be changed.\n"
      "Prints the new key's id on standard output.",
      Concat({KeyringFlags(),
              {{"id", "ID", "id for the new key (default: generated, e.g. k20261126-9f3a61c2)"},
               {"activate", "", "make the added key the active key"}}}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
