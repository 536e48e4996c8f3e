// chartcoder keys list|rotate|export|passwd --keyring FILE: manage a keyring.
#include <cstdio>
#include <string>

#include "chartcoder/keys.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"
#include "src/internal/crypto.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

int List(const std::string& path, const KeyringOptions& options, bool json) {
  absl::StatusOr<std::unique_ptr<Keyring>> ring = Keyring::Open(path, options);
  if (!ring.ok()) return Fail(ring.status());
  std::vector<KeyInfo> keys = (*ring)->List();
  if (json) {
    std::string out;
    internal::JsonWriter w(&out);
    w.BeginObject();
    w.Field("keyring", path);
    w.Field("protected", (*ring)->is_protected());
    w.Key("keys");
    w.BeginArray();
    for (const KeyInfo& k : keys) {
      w.BeginObject();
      w.Field("id", k.id);
      w.Field("created", k.created);
      w.Field("active", k.active);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", out.c_str());
    return kExitOk;
  }
  for (const KeyInfo& k : keys) {
    std::printf("%-24s %s  %s\n", k.id.c_str(), k.created.c_str(), k.active ? "active" : "retired");
  }
  return kExitOk;
}

int Rotate(const std::string& path, const KeyringOptions& options) {
  absl::StatusOr<std::string> id = Keyring::Rotate(path, options);
  if (!id.ok()) return Fail(id.status());
  std::fprintf(stderr,
               "chartcoder: %s: new active key %s; older keys still open older files "
               "('chartcoder rewrap' moves them to the new key)\n",
               path.c_str(), id->c_str());
  std::printf("%s\n", id->c_str());
  return kExitOk;
}

int Export(const std::string& path, const KeyringOptions& options, const CommandLine& args) {
  absl::StatusOr<std::unique_ptr<Keyring>> ring = Keyring::Open(path, options);
  if (!ring.ok()) return Fail(ring.status());
  std::string id = args.Get("id");
  if (id.empty()) id = *(*ring)->ActiveKeyId();
  absl::StatusOr<SecretKey> key = (*ring)->GetKey(id);
  if (!key.ok()) return Fail(key.status());
  std::string spec = FormatKeySpec(id, *key);
  std::printf("%s\n", spec.c_str());
  std::fflush(stdout);
  internal::CleanseString(&spec);
  return kExitOk;
}

int Remove(const std::string& path, const KeyringOptions& options, const CommandLine& args) {
  if (!args.Has("id")) return UsageError("keys", "remove needs --id ID");
  absl::Status s = Keyring::RemoveKey(path, options, args.Get("id"));
  if (!s.ok()) return Fail(s);
  std::fprintf(stderr,
               "chartcoder: removed key %s from %s; files still sealed with it can no longer be "
               "opened with this keyring\n",
               args.Get("id").c_str(), path.c_str());
  return kExitOk;
}

int Passwd(const std::string& path, const KeyringOptions& options, const CommandLine& args) {
  const bool remove = args.Has("remove-passphrase");
  if (remove == args.Has("new-passphrase-file")) {
    return UsageError("keys", "passwd takes --new-passphrase-file FILE or --remove-passphrase");
  }
  std::string next;
  internal::ScopedCleanse wipe(&next);
  if (!remove) {
    absl::Status read = ReadPassphraseFile(args.Get("new-passphrase-file"), &next);
    if (!read.ok()) return Fail(read);
  }
  absl::Status s = Keyring::SetPassphrase(path, options, next);
  if (!s.ok()) return Fail(s);
  std::fprintf(stderr, "chartcoder: %s is now %s\n", path.c_str(),
               remove ? "unprotected (keep it mode 0600)" : "protected by the new passphrase");
  return kExitOk;
}

int Run(const CommandLine& args) {
  if (args.positional().size() != 1) {
    return UsageError("keys", "give one action: list, rotate, export, remove or passwd");
  }
  const std::string& action = args.positional()[0];
  const std::string path = KeyringPath(args);
  if (path.empty()) return UsageError("keys", "give --keyring FILE");
  absl::StatusOr<KeyringOptions> options = KeyringOptionsFromFlags(args);
  if (!options.ok()) return Fail(options.status());
  internal::ScopedCleanse wipe(&options->passphrase);
  if (action == "list") return List(path, *options, args.Has("json"));
  if (action == "rotate") return Rotate(path, *options);
  if (action == "export") return Export(path, *options, args);
  if (action == "remove") return Remove(path, *options, args);
  if (action == "passwd") return Passwd(path, *options, args);
  return UsageError("keys",
                    "unknown action '" + action + "' (list, rotate, export, remove, passwd)");
}

}  // namespace

const Command& KeysCommand() {
  static const Command* const kCommand = new Command{
      "keys", "list, rotate, export or remove keys, or change a keyring's passphrase",
      "Usage: chartcoder keys list   --keyring FILE [--json]\n"
      "       chartcoder keys rotate --keyring FILE\n"
      "       chartcoder keys export --keyring FILE [--id ID]\n"
      "       chartcoder keys remove --keyring FILE --id ID\n"
      "       chartcoder keys passwd --keyring FILE (--new-passphrase-file F | "
      "--remove-passphrase)\n\n"
      "list    the keys' ids, creation times and which one is active (never key material)\n"
      "rotate  adds a new key and makes it active; older keys stay to open older files\n"
      "        until 'chartcoder rewrap' moves those to the new key\n"
      "export  prints ID:BASE64KEY for $CHARTCODER_KEY or $CHARTCODER_KEY_FD (containers,\n"
      "        Lambda). This is the secret key itself: send it only to a secret store.\n"
      "remove  deletes a retired key, once 'chartcoder rewrap' has moved every file off it\n"
      "passwd  protects the keyring with a new passphrase, or removes the protection\n\n"
      "A protected keyring needs its current passphrase (--passphrase-file) for every action.",
      Concat({KeyringFlags(),
              {{"json", "", "list as JSON"},
               {"id", "ID", "export: this key instead of the active one; remove: the key"},
               {"new-passphrase-file", "FILE", "passwd: file holding the new passphrase"},
               {"remove-passphrase", "", "passwd: store the keyring unprotected"}}}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
