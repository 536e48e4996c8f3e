#include "src/internal/pg_schema.h"

#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

struct Step {
  int version;
  const char* description;
  const char* sql;
};

// Append-only: a released step is never edited; a change is a new step.
constexpr Step kSteps[] = {
    {1, "jobs, results and dead letters",
     R"sql(
CREATE TABLE cc_jobs (
  id bigserial PRIMARY KEY,
  chart_id text NOT NULL CHECK (chart_id <> '' AND octet_length(chart_id) <= 256),
  patient_id text NOT NULL DEFAULT '' CHECK (octet_length(patient_id) <= 256),
  ref text NOT NULL DEFAULT '',
  digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  sealed_payload bytea,
  demographics jsonb,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'leased', 'done')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  available_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  leased_at timestamptz,
  completed_at timestamptz,
  CONSTRAINT cc_jobs_chart_digest UNIQUE (chart_id, digest),
  CONSTRAINT cc_jobs_has_chart CHECK (ref <> '' OR sealed_payload IS NOT NULL)
);
CREATE INDEX cc_jobs_claimable ON cc_jobs (available_at, id) WHERE state <> 'done';
CREATE INDEX cc_jobs_completed ON cc_jobs (completed_at) WHERE state = 'done';

CREATE TABLE cc_results (
  id bigserial PRIMARY KEY,
  chart_id text NOT NULL,
  digest text NOT NULL,
  patient_id text NOT NULL DEFAULT '',
  result_json text,
  result_sealed bytea,
  key_id text,
  job_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cc_results_chart_digest UNIQUE (chart_id, digest),
  CONSTRAINT cc_results_one_form CHECK ((result_json IS NULL) <> (result_sealed IS NULL))
);
CREATE INDEX cc_results_patient ON cc_results (patient_id) WHERE patient_id <> '';

CREATE TABLE cc_dead_letter (
  job_id bigint PRIMARY KEY,
  chart_id text NOT NULL,
  patient_id text NOT NULL DEFAULT '',
  ref text NOT NULL DEFAULT '',
  digest text NOT NULL,
  sealed_payload bytea,
  demographics jsonb,
  attempts integer NOT NULL,
  error text NOT NULL,
  created_at timestamptz NOT NULL,
  dead_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
};

constexpr char kCreateMigrations[] = R"sql(
CREATE TABLE IF NOT EXISTS cc_schema_migrations (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// pg_advisory_xact_lock key: "chartcoder" folded into 63 bits.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7236123458714311731)";

std::string Rfc3339(std::string_view pg_timestamp) { return std::string(pg_timestamp); }

}  // namespace

int PgSchemaVersion() { return kSteps[std::size(kSteps) - 1].version; }

absl::StatusOr<int> PgAppliedVersion(PgConnection& conn) {
  absl::StatusOr<PgResult> exists =
      conn.Exec("SELECT to_regclass('cc_schema_migrations') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->Get(0, 0) != "t") return 0;
  absl::StatusOr<PgResult> r =
      conn.Exec("SELECT coalesce(max(version), 0) FROM cc_schema_migrations");
  if (!r.ok()) return r.status();
  return static_cast<int>(r->GetInt(0, 0));
}

absl::StatusOr<PgMigration> MigratePg(PgConnection& conn) {
  PgMigration m;
  bool first = true;
  for (const Step& step : kSteps) {
    absl::Status s = PgTransaction(conn, [&]() -> absl::Status {
      absl::StatusOr<PgResult> lock = conn.Exec(kMigrationLock);
      if (!lock.ok()) return lock.status();
      absl::Status created = conn.ExecScript(kCreateMigrations);
      if (!created.ok()) return created;
      absl::StatusOr<int> applied = PgAppliedVersion(conn);
      if (!applied.ok()) return applied.status();
      if (first) {
        m.from_version = *applied;
        m.to_version = *applied;
        first = false;
      }
      if (*applied > PgSchemaVersion()) {
        return absl::FailedPreconditionError(
            StrCat("the database schema is version ", *applied, ", newer than this chartcoder (",
                   PgSchemaVersion(), "): upgrade chartcoder"));
      }
      if (*applied >= step.version) return absl::OkStatus();
      absl::Status run = conn.ExecScript(step.sql);
      if (!run.ok()) return run;
      absl::StatusOr<PgResult> record = conn.Exec(
          "INSERT INTO cc_schema_migrations (version, description) VALUES ($1, $2)",
          {StrCat(step.version), step.description});
      if (!record.ok()) return record.status();
      m.to_version = step.version;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return m;
}

absl::Status CheckPgSchema(PgConnection& conn) {
  absl::StatusOr<int> applied = PgAppliedVersion(conn);
  if (!applied.ok()) return applied.status();
  if (*applied < PgSchemaVersion()) {
    return absl::FailedPreconditionError(
        StrCat("the database schema is version ", *applied, " and this chartcoder needs ",
               PgSchemaVersion(), ": run `chartcoder db migrate --db URL`"));
  }
  if (*applied > PgSchemaVersion()) {
    return absl::FailedPreconditionError(
        StrCat("the database schema is version ", *applied, ", newer than this chartcoder (",
               PgSchemaVersion(), "): upgrade chartcoder"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> PgInsertResult(PgConnection& conn, const EncodedResult& e,
                                    std::optional<int64_t> job_id) {
  absl::StatusOr<PgResult> r = conn.Exec(
      "INSERT INTO cc_results (chart_id, digest, patient_id, result_json, result_sealed, key_id, "
      "job_id) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7::bigint) "
      "ON CONFLICT (chart_id, digest) DO NOTHING",
      {e.chart_id, e.digest, e.patient_id, e.json ? PgParam(*e.json) : PgParam::Null(),
       e.sealed ? PgParam::Binary(*e.sealed) : PgParam::Null(), e.key_id,
       job_id ? PgParam(StrCat(*job_id)) : PgParam::Null()});
  if (!r.ok()) return r.status();
  return r->affected() == 1;
}

absl::StatusOr<std::vector<StoredResult>> PgReadResults(PgConnection& conn, bool by_patient,
                                                        std::string_view key,
                                                        const KeyProvider* keys) {
  std::string sql = StrCat(
      "SELECT chart_id, digest, patient_id, result_json, result_sealed, coalesce(key_id, ''), "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM cc_results WHERE ",
      by_patient ? "patient_id = $1 AND patient_id <> '' ORDER BY chart_id, created_at, id"
                 : "chart_id = $1 ORDER BY created_at, id");
  absl::StatusOr<PgResult> r = conn.Exec(sql, {PgParam(key)});
  if (!r.ok()) return r.status();
  std::vector<StoredResult> out;
  out.reserve(r->rows());
  for (int i = 0; i < r->rows(); ++i) {
    StoredResult s;
    s.record.chart_id = std::string(r->Get(i, 0));
    s.record.digest = std::string(r->Get(i, 1));
    s.record.patient_id = std::string(r->Get(i, 2));
    s.key_id = std::string(r->Get(i, 5));
    s.created_at = Rfc3339(r->Get(i, 6));
    if (!r->IsNull(i, 3)) {
      s.record.result_json = std::string(r->Get(i, 3));
    } else {
      s.sealed = true;
      absl::StatusOr<std::string> json = OpenStoredResult(r->GetBytea(i, 4), keys);
      if (!json.ok()) {
        return absl::Status(json.status().code(),
                            StrCat("a stored result: ", FromAbsl(json.status().message())));
      }
      s.record.result_json = std::move(*json);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace chartcoder::internal
