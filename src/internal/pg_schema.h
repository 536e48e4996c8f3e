// The PostgreSQL schema shared by the work queue and the result store:
// versioned migrations, the schema check every connection makes, and the
// result rows (written inside the worker's completing transaction).
//
// Tables (all prefixed cc_):
//   cc_schema_migrations(version, description, applied_at)
//   cc_jobs(id, chart_id, patient_id, ref, digest, sealed_payload,
//           demographics, state queued|leased|done, attempts, max_attempts,
//           available_at, lease_owner, last_error, created_at, leased_at,
//           completed_at)     UNIQUE (chart_id, digest)
//   cc_results(id, chart_id, digest, patient_id, result_json | result_sealed,
//              key_id, job_id, created_at)   UNIQUE (chart_id, digest)
//   cc_dead_letter(job_id, chart_id, patient_id, ref, digest, sealed_payload,
//                  demographics, attempts, error, created_at, dead_at)
// available_at is when a job may next be claimed: the next attempt's time
// while it is queued (backoff), the lease's expiry while it is leased (the
// visibility timeout), so one partial index serves every claim.
#ifndef CHARTCODER_SRC_INTERNAL_PG_SCHEMA_H_
#define CHARTCODER_SRC_INTERNAL_PG_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/result_store.h"
#include "src/internal/pg.h"
#include "src/internal/result_codec.h"

namespace chartcoder::internal {

// The schema version this build writes and reads.
int PgSchemaVersion();

// What MigratePg did.
struct PgMigration {
  int from_version = 0;
  int to_version = 0;
};

// Brings the schema up to PgSchemaVersion(), one transaction per step, under
// an advisory lock so concurrent migrators wait for each other. Idempotent.
// FailedPrecondition when the database is newer than this build.
absl::StatusOr<PgMigration> MigratePg(PgConnection& conn);
// The applied version (0 for an empty database).
absl::StatusOr<int> PgAppliedVersion(PgConnection& conn);
// FailedPrecondition unless the schema is exactly PgSchemaVersion(), with a
// message telling to run `chartcoder db migrate` (or to upgrade chartcoder).
absl::Status CheckPgSchema(PgConnection& conn);

// Inserts a result unless (chart_id, digest) has one; true when inserted.
absl::StatusOr<bool> PgInsertResult(PgConnection& conn, const EncodedResult& result,
                                    std::optional<int64_t> job_id);
// Results WHERE chart_id = key (by_patient false) or patient_id = key.
absl::StatusOr<std::vector<StoredResult>> PgReadResults(PgConnection& conn, bool by_patient,
                                                        std::string_view key,
                                                        const KeyProvider* keys);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PG_SCHEMA_H_
