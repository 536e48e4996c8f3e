#include "src/internal/result_codec.h"

#include "chartcoder/chart_io.h"
#include "chartcoder/sealed.h"
#include "src/internal/crypto.h"
#include "src/internal/strings.h"

namespace chartcoder {

std::string ChartDigest(std::string_view chart) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<uint8_t, internal::kSha256Size> sum = internal::Sha256(chart);
  std::string out;
  out.reserve(2 * sum.size());
  for (uint8_t b : sum) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool IsValidChartDigest(std::string_view digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace internal {

absl::Status ValidateResultRecord(const ResultRecord& r) {
  if (r.chart_id.empty()) return absl::InvalidArgumentError("a result without a chart id");
  if (r.chart_id.size() > kMaxIdBytes || r.patient_id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("chart and patient ids are limited to ", kMaxIdBytes, " bytes"));
  }
  if (!IsValidChartDigest(r.digest)) {
    return absl::InvalidArgumentError(
        "a result's digest must be the chart's SHA-256 as 64 lower-case hex digits");
  }
  if (r.result_json.empty()) return absl::InvalidArgumentError("an empty result");
  return absl::OkStatus();
}

absl::StatusOr<std::string> SealBytes(std::string_view plaintext, const KeyProvider& keys,
                                      std::string_view key_id) {
  std::string sealed;
  sealed.reserve(SealedSize(plaintext.size()));
  StringSink sink(&sealed);
  SealedWriterOptions o;
  o.key_id = std::string(key_id);
  absl::StatusOr<std::unique_ptr<SealedWriter>> w = SealedWriter::Create(&sink, keys, o);
  if (!w.ok()) return w.status();
  absl::Status s = (*w)->Append(plaintext);
  if (s.ok()) s = (*w)->Finish();
  if (!s.ok()) return s;
  return sealed;
}

absl::StatusOr<EncodedResult> EncodeResult(const ResultRecord& record, const KeyProvider* keys,
                                           std::string_view key_id) {
  absl::Status valid = ValidateResultRecord(record);
  if (!valid.ok()) return valid;
  EncodedResult e;
  e.chart_id = record.chart_id;
  e.digest = record.digest;
  e.patient_id = record.patient_id;
  if (keys == nullptr) {
    e.json = record.result_json;
    return e;
  }
  absl::StatusOr<std::string> sealed = SealBytes(record.result_json, *keys, key_id);
  if (!sealed.ok()) return sealed.status();
  absl::StatusOr<SealedHeaderInfo> header = InspectSealed(*sealed);
  if (!header.ok()) return header.status();
  e.key_id = header->key_id;
  e.sealed = std::move(*sealed);
  return e;
}

absl::StatusOr<std::string> OpenStoredResult(std::string_view sealed, const KeyProvider* keys) {
  if (!LooksSealed(sealed.substr(0, kSealedMagic.size()))) {
    return absl::DataLossError("a stored sealed result is not in the sealed format");
  }
  if (keys == nullptr) {
    return absl::FailedPreconditionError(
        "the results are sealed: give the keys (--keyring, $CHARTCODER_KEY or "
        "$CHARTCODER_KEYRING)");
  }
  ChartReadOptions read;
  read.keys = keys;
  return ReadChartBytes(sealed, read);
}

}  // namespace internal
}  // namespace chartcoder
