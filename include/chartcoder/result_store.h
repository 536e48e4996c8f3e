// chartcoder/result_store.h: where coding results live: SQLite for one
// machine (the default), PostgreSQL for many (the same database as the work
// queue, chartcoder/work_queue.h). Results are sealed at rest when keys are
// configured.
//
//   chartcoder::ResultStoreOptions o;
//   o.location = "sqlite:/var/lib/chartcoder/results.db";  // or a PostgreSQL URL
//   o.keys = keys.get();  // optional: seal results with the active key
//   auto store = chartcoder::OpenResultStore(o);
//   if (!store.ok()) return store.status();
//   absl::StatusOr<bool> inserted = (*store)->Put({.chart_id = "c1", .digest = d, .result_json = j});
//   auto results = (*store)->GetByChart("c1");
//
// A result is keyed by (chart id, content digest): putting the same chart
// twice keeps the first result (idempotent), so a job run twice by two
// workers leaves one result.
#ifndef CHARTCODER_RESULT_STORE_H_
#define CHARTCODER_RESULT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/keys.h"

namespace chartcoder {

// The SHA-256 of `chart` (its plaintext bytes) as 64 lower-case hex digits:
// the content digest that keys jobs and results.
std::string ChartDigest(std::string_view chart);
// True for 64 lower-case hex digits.
bool IsValidChartDigest(std::string_view digest);

// One result to store.
struct ResultRecord {
  // The chart's id. Required, at most 256 bytes.
  std::string chart_id;
  // ChartDigest of the chart's plaintext. Required.
  std::string digest;
  // The patient (member) id; may be empty. At most 256 bytes.
  std::string patient_id;
  // The result: one JSON object, as a ChartProcessor returns it.
  std::string result_json;
};

// A stored result, opened.
struct StoredResult {
  ResultRecord record;
  // Whether it is sealed at rest, and with which key.
  bool sealed = false;
  std::string key_id;
  // When it was stored, RFC 3339 UTC ("2026-11-26T10:04:05Z").
  std::string created_at;
};

// Results by chart and patient. Implementations are safe for concurrent use.
class ResultStore {
 public:
  virtual ~ResultStore() = default;
  // Stores `record` unless a result for (chart_id, digest) exists. Returns
  // true when it was stored, false when one was already there (which is kept
  // unchanged). InvalidArgument: missing or oversized fields, a bad digest.
  // Unavailable: the database cannot be reached. Codes of sealing.
  virtual absl::StatusOr<bool> Put(const ResultRecord& record) const = 0;
  // Every result for the chart (one per digest), oldest first. An unknown
  // chart gives an empty list. FailedPrecondition: a result is sealed and no
  // keys are configured; NotFound: its key is unknown; DataLoss: it does not
  // authenticate.
  virtual absl::StatusOr<std::vector<StoredResult>> GetByChart(std::string_view chart_id) const = 0;
  // Every result for the patient, by chart id then age. Codes of GetByChart.
  virtual absl::StatusOr<std::vector<StoredResult>> GetByPatient(
      std::string_view patient_id) const = 0;
  // Number of stored results.
  virtual absl::StatusOr<int64_t> Count() const = 0;
  // "sqlite /path/results.db", "postgresql host=db dbname=cc" (no password).
  virtual std::string Describe() const = 0;
};

struct ResultStoreOptions {
  // Where the results are: "sqlite:PATH" or a path ending in .db, .sqlite or
  // .sqlite3 for SQLite (the file is created); otherwise a PostgreSQL
  // connection string or postgresql:// URI. Required.
  std::string location;
  // PostgreSQL only: permit an sslmode other than verify-full (the default).
  bool allow_insecure = false;
  // Keys (not owned; may be null). With keys, new results are sealed with the
  // active key (or key_id) and sealed results can be read.
  const KeyProvider* keys = nullptr;
  // The key to seal with; empty = the active key.
  std::string key_id;
};

// Opens the store `options.location` names. InvalidArgument: no location, a
// bad URL or TLS setting; Unavailable: the database cannot be reached;
// FailedPrecondition: a PostgreSQL schema that is missing or out of date (run
// `chartcoder db migrate`), or one newer than this build; codes of SQLite.
absl::StatusOr<std::unique_ptr<ResultStore>> OpenResultStore(const ResultStoreOptions& options);

// True when `location` names a SQLite store rather than PostgreSQL.
bool IsSqliteLocation(std::string_view location);

}  // namespace chartcoder

#endif  // CHARTCODER_RESULT_STORE_H_
