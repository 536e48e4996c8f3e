// Flags shared by every command that reads or writes sealed files: where the
// keys come from (--keyring, --passphrase-file, or the environment) and
// whether output is sealed (--seal-output, --key-id).
//
//   const Command& CodeCommand() {  // flags: Concat({...}, KeyringFlags(), SealOutputFlags())
//   ...
//   absl::StatusOr<std::unique_ptr<KeyProvider>> keys = LoadKeyProvider(args);
//   if (!keys.ok()) return Fail(keys.status());
//   ChartReadOptions read;
//   read.keys = keys->get();  // null when no key is configured: plain charts only
#ifndef CHARTCODER_CLI_KEYS_FLAGS_H_
#define CHARTCODER_CLI_KEYS_FLAGS_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/chart_io.h"
#include "chartcoder/keys.h"
#include "cli/cli.h"

namespace chartcoder::cli {

// --keyring FILE and --passphrase-file FILE.
std::vector<FlagSpec> KeyringFlags();
// --seal-output and --key-id ID.
std::vector<FlagSpec> SealOutputFlags();
// The flag lists one after the other.
std::vector<FlagSpec> Concat(std::initializer_list<std::vector<FlagSpec>> lists);

// The keyring path: --keyring, else $CHARTCODER_KEYRING, else "".
std::string KeyringPath(const CommandLine& args);

// Reads a passphrase: the first line of the file at `path`, without its line
// end, into `*passphrase` (which the caller wipes). InvalidArgument for an
// empty passphrase or a file over 4 KiB; NotFound when the file does not exist.
absl::Status ReadPassphraseFile(const std::string& path, std::string* passphrase);
// KeyringOptions with the passphrase from --passphrase-file, if given.
absl::StatusOr<KeyringOptions> KeyringOptionsFromFlags(const CommandLine& args);

// Wipes the value of $CHARTCODER_KEY in this process's environment (also what
// /proc/PID/environ shows) and unsets it, so no child process inherits it.
// LoadKeyProvider calls it after reading keys from that variable.
void ScrubKeyFromEnvironment();

// The keys the command line configures, in this order: --keyring FILE, then
// $CHARTCODER_KEY_FD, $CHARTCODER_KEY, then $CHARTCODER_KEYRING. A null
// pointer when none is configured. Errors of Keyring::Open and
// KeyProviderFromEnvironment. Call it once per process: the key file
// descriptor is read and closed, and $CHARTCODER_KEY is scrubbed.
absl::StatusOr<std::unique_ptr<KeyProvider>> LoadKeyProvider(const CommandLine& args);
// As LoadKeyProvider, but FailedPrecondition (naming the flag and the
// variables) when no key is configured.
absl::StatusOr<std::unique_ptr<KeyProvider>> RequireKeyProvider(const CommandLine& args);

// OutputOptions from --seal-output and --key-id. FailedPrecondition when
// --seal-output is given and `keys` is null.
absl::StatusOr<OutputOptions> OutputOptionsFromFlags(const CommandLine& args,
                                                     const KeyProvider* keys);

}  // namespace chartcoder::cli

#endif  // CHARTCODER_CLI_KEYS_FLAGS_H_
