// Results at rest: validation, sealing and opening, shared by the SQLite and
// PostgreSQL result stores and the queue worker's completing transaction.
#ifndef CHARTCODER_SRC_INTERNAL_RESULT_CODEC_H_
#define CHARTCODER_SRC_INTERNAL_RESULT_CODEC_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/keys.h"
#include "chartcoder/result_store.h"

namespace chartcoder::internal {

inline constexpr size_t kMaxIdBytes = 256;

// A result as stored: either the JSON or its sealed form.
struct EncodedResult {
  std::string chart_id;
  std::string digest;
  std::string patient_id;
  std::optional<std::string> json;    // set when not sealed
  std::optional<std::string> sealed;  // the sealed JSON
  std::string key_id;                 // the sealing key's id
};

// InvalidArgument names a missing or oversized field or a bad digest.
absl::Status ValidateResultRecord(const ResultRecord& record);
// Validates, and seals the JSON when `keys` is set (with `key_id`, or the
// active key). Codes of ValidateResultRecord and SealedWriter.
absl::StatusOr<EncodedResult> EncodeResult(const ResultRecord& record, const KeyProvider* keys,
                                           std::string_view key_id);
// The JSON of a stored result. FailedPrecondition: sealed and no keys;
// NotFound: unknown key; DataLoss: damaged or not sealed.
absl::StatusOr<std::string> OpenStoredResult(std::string_view sealed, const KeyProvider* keys);
// Seals `plaintext` into a string (key `key_id` or the active key).
absl::StatusOr<std::string> SealBytes(std::string_view plaintext, const KeyProvider& keys,
                                      std::string_view key_id);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_RESULT_CODEC_H_
