// chartcoder encrypt IN OUT: seal a file, streaming in constant memory.
#include <cstdio>

#include "chartcoder/chart_io.h"
#include "cli/cli.h"
#include "cli/keys_flags.h"

namespace chartcoder::cli {
namespace {

int RunEncrypt(const CommandLine& args) {
  if (args.positional().size() != 2) return UsageError("encrypt", "give IN and OUT");
  absl::StatusOr<long long> segment =
      args.GetInt("segment-size", kDefaultSegmentSize, kMinSegmentSize, kMaxSegmentSize);
  if (!segment.ok()) return UsageError("encrypt", segment.status());
  absl::StatusOr<std::unique_ptr<KeyProvider>> keys = RequireKeyProvider(args);
  if (!keys.ok()) return Fail(keys.status());
  OutputOptions options;
  options.keys = keys->get();
  options.key_id = args.Get("key-id");
  options.segment_size = static_cast<uint32_t>(*segment);
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  absl::StatusOr<FileConversion> done = SealFile(in, out, options);
  if (!done.ok()) return Fail(done.status());
  if (out != "-") {
    std::fprintf(stderr, "chartcoder: sealed %s -> %s (%llu bytes, key %s)\n", in.c_str(),
                 out.c_str(), static_cast<unsigned long long>(done->plaintext_bytes),
                 done->key_id.c_str());
  }
  return kExitOk;
}

}  // namespace

const Command& EncryptCommand() {
  static const Command* const kCommand = new Command{
      "encrypt", "seal a file (AES-256-GCM, authenticated, streamed)",
      "Usage: chartcoder encrypt [--keyring FILE] [--key-id ID] IN OUT\n\n"
      "Seals IN into OUT with a fresh data key wrapped by the active key (or --key-id).\n"
      "IN may be - (standard input) and OUT - (standard output). OUT (mode 0600) appears\n"
      "only when complete. Memory use does not grow with the file. Format:\n"
      "docs/sealed-format.md.",
      Concat({KeyringFlags(),
              {{"key-id", "ID", "key to seal with (default: the active key)"},
               {"segment-size", "BYTES",
                "plaintext bytes per authenticated segment (default 65536)"}}}),
      &RunEncrypt};
  return *kCommand;
}

}  // namespace chartcoder::cli
