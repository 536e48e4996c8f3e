// chartcoder decrypt IN OUT: open a sealed file, streaming in constant memory;
// OUT appears only after the whole file has been verified.
#include <cstdio>

#include "chartcoder/chart_io.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"

namespace chartcoder::cli {
namespace {

int RunDecrypt(const CommandLine& args) {
  if (args.positional().size() != 2) return UsageError("decrypt", "give IN and OUT");
  if (args.positional()[1] == "-") {
    return UsageError("decrypt",
                      "OUT must be a file: it appears only after every segment has been "
                      "verified, which standard output cannot do");
  }
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = RequireKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  absl::StatusOr<FileConversion> done = UnsealFile(in, out, **keys);
  if (!done.ok()) return Fail(done.status());
  std::fprintf(stderr, "chartcoder: opened %s -> %s (%llu bytes, key %s, authenticated)\n",
               in.c_str(), out.c_str(), static_cast<unsigned long long>(done->plaintext_bytes),
               done->key_id.c_str());
  return kExitOk;
}

}  // namespace

const Command& DecryptCommand() {
  static const Command* const kCommand = new Command{
      "decrypt", "open a sealed file, verifying every segment",
      "Usage: chartcoder decrypt [--keyring FILE] IN OUT\n\n"
      "Decrypts the sealed file IN (- for standard input) into the file OUT (mode 0600).\n"
      "OUT is written under a hidden name and appears only after the final segment has\n"
      "been verified: a wrong key, an unknown key id, a truncated, extended, reordered\n"
      "or changed file leaves no output and exits with code 2.",
      KeyringFlags(), &RunDecrypt};
  return *kCommand;
}

}  // namespace chartcoder::cli
