// chartcoder inspect FILE...: what a sealed file's header says. Reads only
// the header; needs no key and never prints plaintext.
#include <cstdio>
#include <string>

#include "chartcoder/sealed.h"
#include "cli/cli.h"
#include "src/internal/json_writer.h"

namespace chartcoder::cli {
namespace {

void PrintText(const std::string& path, const SealedFileInfo& info) {
  std::printf("%s\n", path.c_str());
  std::printf(
      "  format:        chartcoder sealed file, version %d "
      "(AES-256-GCM segments, HKDF-SHA-256, AES-256-GCM key wrap)\n",
      info.header.format_version);
  std::printf("  key id:        %s\n", info.header.key_id.c_str());
  std::printf("  segment size:  %u bytes\n", info.header.segment_size);
  std::printf("  file size:     %llu bytes\n", static_cast<unsigned long long>(info.file_size));
  if (info.size_consistent) {
    std::printf("  segments:      %llu\n", static_cast<unsigned long long>(info.segment_count));
    std::printf("  payload size:  %llu bytes (from the file size; verified only by decrypting)\n",
                static_cast<unsigned long long>(info.plaintext_size));
  } else {
    std::printf(
        "  payload size:  unknown: the file size does not fit the format "
        "(truncated or extended)\n");
  }
}

void PrintJson(const std::string& path, const SealedFileInfo& info) {
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Field("path", path);
  w.Field("format_version", info.header.format_version);
  w.Field("key_id", info.header.key_id);
  w.Key("segment_size");
  w.Uint(info.header.segment_size);
  w.Key("file_size");
  w.Uint(info.file_size);
  w.Field("size_consistent", info.size_consistent);
  if (info.size_consistent) {
    w.Key("segment_count");
    w.Uint(info.segment_count);
    w.Key("payload_size");
    w.Uint(info.plaintext_size);
  }
  w.EndObject();
  std::printf("%s\n", out.c_str());
}

int Run(const CommandLine& args) {
  if (args.positional().empty()) return UsageError("inspect", "give at least one FILE");
  int status = kExitOk;
  for (const std::string& path : args.positional()) {
    absl::StatusOr<SealedFileInfo> info = InspectSealedFile(path);
    if (!info.ok()) {
      status = Fail(info.status());
      continue;
    }
    if (args.Has("json")) {
      PrintJson(path, *info);
    } else {
      PrintText(path, *info);
    }
  }
  return status;
}

}  // namespace

const Command& InspectCommand() {
  static const Command* const kCommand =
      new Command{"inspect",
                  "show a sealed file's header (no key needed, no plaintext)",
                  "Usage: chartcoder inspect [--json] FILE...\n\n"
                  "Prints each sealed file's format version, key id and segment size, and the\n"
                  "segment count and payload size its length implies. Only the header is read:\n"
                  "no key is needed and nothing is decrypted, so nothing here is authenticated.\n"
                  "Exit code 2 if any FILE is not a sealed file or its header is damaged.",
                  {{"json", "", "one JSON object per file"}},
                  &Run};
  return *kCommand;
}

}  // namespace chartcoder::cli
