// chartcoder rewrap FILE...: move sealed files to another key (after a
// rotation) by re-wrapping their data keys; the payloads are not decrypted.
#include <cstdio>
#include <string>

#include "chartcoder/sealed.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"

namespace chartcoder::cli {
namespace {

int Run(const CommandLine& args) {
  if (args.positional().empty()) return UsageError("rewrap", "give at least one FILE");
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = RequireKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  int status = kExitOk;
  size_t changed = 0;
  for (const std::string& path : args.positional()) {
    absl::StatusOr<RewrapResult> r = RewrapSealedFile(path, **keys, args.Get("key-id"));
    if (!r.ok()) {
      status = Fail(r.status());
      continue;
    }
    if (r->changed) {
      ++changed;
      std::fprintf(stderr, "chartcoder: %s: key %s -> %s\n", path.c_str(), r->old_key_id.c_str(),
                   r->new_key_id.c_str());
    } else {
      std::fprintf(stderr, "chartcoder: %s: already uses key %s\n", path.c_str(),
                   r->new_key_id.c_str());
    }
  }
  if (args.positional().size() > 1) {
    std::fprintf(stderr, "chartcoder: re-wrapped %zu of %zu files\n", changed,
                 args.positional().size());
  }
  return status;
}

}  // namespace

const Command& RewrapCommand() {
  static const Command* const kCommand = new Command{
      "rewrap", "move sealed files to the active key without decrypting them",
      "Usage: chartcoder rewrap [--keyring FILE] [--key-id ID] FILE...\n\n"
      "Re-wraps each sealed FILE's data key under the keyring's active key (or --key-id),\n"
      "after 'chartcoder keys rotate'. The old key must still be in the keyring. Only\n"
      "the header changes: the payload is copied as it is (never decrypted) into a new\n"
      "file that replaces FILE atomically, keeping its permissions. Files already on\n"
      "the key are left alone. Exit code 2 if any FILE fails; the others are done.",
      Concat({KeyringFlags(), {{"key-id", "ID", "key to move to (default: the active key)"}}}),
      &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
