#include "chartcoder/work_queue.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "chartcoder/chart_io.h"
#include "chartcoder/result_store.h"
#include "chartcoder/sealed.h"
#include "src/internal/demographics_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/pg.h"
#include "src/internal/pg_schema.h"
#include "src/internal/result_codec.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::PgConnection;
using internal::PgParam;
using internal::PgResult;
using internal::StrCat;

constexpr int kDefaultMaxAttempts = 5;
constexpr size_t kSubmitBatch = 500;
// Most jobs ClaimBatch and CompleteBatch take at once.
constexpr int kMaxBatch = 1000;

std::string Millis(absl::Duration d) { return StrCat(absl::ToInt64Milliseconds(d)); }

// Columns a claim returns, in this order.
constexpr char kLeaseColumns[] =
    "id, lease_owner, attempts, max_attempts, chart_id, patient_id, ref, digest, sealed_payload, "
    "demographics::text";

absl::StatusOr<Lease> LeaseFromRow(const PgResult& r, int row) {
  Lease l;
  l.job_id = r.GetInt(row, 0);
  l.owner = std::string(r.Get(row, 1));
  l.attempt = static_cast<int>(r.GetInt(row, 2));
  l.max_attempts = static_cast<int>(r.GetInt(row, 3));
  l.chart_id = std::string(r.Get(row, 4));
  l.patient_id = std::string(r.Get(row, 5));
  l.ref = std::string(r.Get(row, 6));
  l.digest = std::string(r.Get(row, 7));
  l.sealed_payload = r.GetBytea(row, 8);
  if (!r.IsNull(row, 9)) {
    absl::StatusOr<Demographics> d = internal::ParseDemographicsJson(r.Get(row, 9));
    // A row the schema accepted but we cannot read: keep the lease so the
    // worker can fail it with this error.
    if (!d.ok()) return d.status();
    l.demographics = *d;
  }
  return l;
}

// The error text kept in the queue: the code and message, on one line, at
// most 2000 bytes.
std::string ErrorText(const absl::Status& s) {
  std::string text = StrCat(absl::StatusCodeToString(s.code()), ": ",
                            internal::FromAbsl(s.message()));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (text.size() > 2000) text.resize(2000);
  return text;
}

absl::Status ValidateJob(const JobSpec& j, size_t index) {
  auto bad = [index](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("job ", index + 1, ": ", why));
  };
  if (j.chart_id.empty()) return bad("no chart id");
  if (j.chart_id.size() > internal::kMaxIdBytes || j.patient_id.size() > internal::kMaxIdBytes) {
    return bad("chart and patient ids are limited to 256 bytes");
  }
  if (!IsValidChartDigest(j.digest)) {
    return bad("the digest must be the chart's SHA-256 as 64 lower-case hex digits");
  }
  if (j.ref.empty() == j.sealed_payload.empty()) {
    return bad("give exactly one of a reference and a sealed payload");
  }
  if (!j.sealed_payload.empty() && !LooksSealed(j.sealed_payload.substr(0, kSealedMagic.size()))) {
    return bad("an embedded chart must be sealed: chart text is never stored in the queue");
  }
  if (j.max_attempts < 0 || j.max_attempts > 100) return bad("max_attempts must be 0 to 100");
  return absl::OkStatus();
}

// "file:///a%20b" -> "/a b"; paths pass through. InvalidArgument for other
// schemes.
absl::StatusOr<std::string> RefToPath(std::string_view ref) {
  size_t colon = ref.find("://");
  if (colon == std::string_view::npos) return std::string(ref);
  std::string_view scheme = ref.substr(0, colon);
  if (scheme != "file") {
    return absl::InvalidArgumentError(
        StrCat("no reader for ", scheme,
               ":// chart references: use a path on a shared file system or embed sealed charts"));
  }
  std::string_view rest = ref.substr(colon + 3);
  if (!rest.empty() && rest[0] != '/') {
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (host != "localhost") {
      return absl::InvalidArgumentError("file:// references must name a local path");
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = hex(rest[i + 1]), lo = hex(rest[i + 2]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("a bad %-escape in a file:// URI");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(rest[i]);
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// WorkQueue

struct WorkQueue::Impl {
  explicit Impl(internal::PgConnectOptions o, size_t pool) : pool(std::move(o), pool) {}
  mutable internal::PgPool pool;
  mutable std::mutex rng_mu;
  mutable std::mt19937_64 rng{std::random_device{}()};

  double Jitter() const {
    std::lock_guard<std::mutex> lock(rng_mu);
    return std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  }

  // Runs an UPDATE that touches the job only while `lease` still holds it
  // ($1 job id, $2 owner, $3 attempt, then `extra`); true when it did.
  absl::StatusOr<bool> UpdateHeldLease(const char* sql, const Lease& lease,
                                       std::vector<std::string> extra) const {
    std::vector<std::string> params = {StrCat(lease.job_id), lease.owner, StrCat(lease.attempt)};
    for (std::string& e : extra) params.push_back(std::move(e));
    bool ours = false;
    absl::Status s = pool.Run(
        [&](PgConnection& conn) -> absl::Status {
          std::vector<PgParam> p(params.begin(), params.end());
          absl::StatusOr<PgResult> r = conn.ExecPrepared(sql, p);
          if (!r.ok()) return r.status();
          ours = r->affected() == 1;
          return absl::OkStatus();
        },
        3);
    if (!s.ok()) return s;
    return ours;
  }
};

WorkQueue::WorkQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WorkQueue::~WorkQueue() = default;

absl::StatusOr<std::unique_ptr<WorkQueue>> WorkQueue::Create(const WorkQueueOptions& options) {
  internal::PgConnectOptions connect;
  connect.url = options.url;
  connect.allow_insecure = options.allow_insecure;
  connect.connect_timeout_seconds = options.connect_timeout_seconds;
  connect.application_name = "chartcoder-queue";
  if (options.pool_size < 1 || options.pool_size > 256) {
    return absl::InvalidArgumentError("pool_size must be 1 to 256");
  }
  auto impl = std::make_unique<Impl>(std::move(connect), options.pool_size);
  absl::Status s = impl->pool.Run([](PgConnection&) { return absl::OkStatus(); });
  if (!s.ok()) return s;
  return std::unique_ptr<WorkQueue>(new WorkQueue(std::move(impl)));
}

absl::StatusOr<int> WorkQueue::Migrate() const {
  int version = 0;
  absl::Status s = impl_->pool.Run([&](PgConnection& conn) -> absl::Status {
    absl::StatusOr<internal::PgMigration> m = internal::MigratePg(conn);
    if (!m.ok()) return m.status();
    version = m->to_version;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return version;
}

absl::Status WorkQueue::CheckSchema() const {
  return impl_->pool.Run([](PgConnection& conn) { return internal::CheckPgSchema(conn); }, 3);
}

absl::StatusOr<SubmitSummary> WorkQueue::Submit(const std::vector<JobSpec>& jobs) const {
  for (size_t i = 0; i < jobs.size(); ++i) {
    absl::Status v = ValidateJob(jobs[i], i);
    if (!v.ok()) return v;
  }
  SubmitSummary summary;
  for (size_t start = 0; start < jobs.size(); start += kSubmitBatch) {
    size_t end = std::min(jobs.size(), start + kSubmitBatch);
    SubmitSummary batch;
    // A batch is one transaction, so retrying it after a lost connection
    // cannot queue a job twice (and (chart_id, digest) is unique anyway).
    absl::Status s = impl_->pool.Run(
        [&](PgConnection& conn) -> absl::Status {
          batch = SubmitSummary();
          return internal::PgTransaction(conn, [&]() -> absl::Status {
            for (size_t i = start; i < end; ++i) {
              const JobSpec& j = jobs[i];
              absl::StatusOr<PgResult> r = conn.Exec(
                  "INSERT INTO cc_jobs (chart_id, patient_id, ref, digest, sealed_payload, "
                  "demographics, max_attempts) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) "
                  "ON CONFLICT (chart_id, digest) DO NOTHING",
                  {j.chart_id, j.patient_id, j.ref, j.digest,
                   j.sealed_payload.empty() ? PgParam::Null() : PgParam::Binary(j.sealed_payload),
                   j.demographics ? PgParam(internal::DemographicsJson(*j.demographics))
                                  : PgParam::Null(),
                   StrCat(j.max_attempts == 0 ? kDefaultMaxAttempts : j.max_attempts)});
              if (!r.ok()) return r.status();
              if (r->affected() == 1) ++batch.queued; else ++batch.duplicates;
            }
            return absl::OkStatus();
          });
        },
        3);
    if (!s.ok()) return s;
    summary.queued += batch.queued;
    summary.duplicates += batch.duplicates;
  }
  return summary;
}

absl::StatusOr<std::optional<Lease>> WorkQueue::Claim(std::string_view owner,
                                                     absl::Duration lease) const {
  absl::StatusOr<std::vector<Lease>> batch = ClaimBatch(owner, lease, 1);
  if (!batch.ok()) return batch.status();
  if (batch->empty()) return std::nullopt;
  return std::move(batch->front());
}

absl::StatusOr<std::vector<Lease>> WorkQueue::ClaimBatch(std::string_view owner,
                                                         absl::Duration lease,
                                                         int max_jobs) const {
  if (owner.empty()) return absl::InvalidArgumentError("a claim needs a worker id");
  if (lease < absl::Seconds(1)) return absl::InvalidArgumentError("a lease of at least 1 s");
  if (max_jobs < 1 || max_jobs > kMaxBatch) {
    return absl::InvalidArgumentError(StrCat("a batch of 1 to ", kMaxBatch, " jobs"));
  }
  std::vector<Lease> claimed;
  // One statement: pick the longest-waiting due jobs, skipping rows other
  // clients are claiming right now. A job whose lease expired on its last
  // attempt (its worker died or stalled every time) is moved to the dead
  // letters with the error of its last failed attempt, if any; the others
  // are leased. Not retried: a claim whose answer was lost costs the jobs an
  // attempt, and their leases expire. Prepared (a statement per batch size:
  // the LIMIT is in the text, so the generic plan knows it).
  const std::string sql =
      StrCat("WITH picked AS MATERIALIZED ("
             "  SELECT id, available_at, state = 'leased' AND attempts >= max_attempts AS spent "
             "  FROM cc_jobs WHERE state <> 'done' AND available_at <= now() "
             "  ORDER BY available_at, id FOR UPDATE SKIP LOCKED LIMIT ", max_jobs, "), "
             "gone AS (DELETE FROM cc_jobs WHERE id IN (SELECT id FROM picked WHERE spent) "
             "  RETURNING *), "
             "dead AS (INSERT INTO cc_dead_letter (job_id, chart_id, patient_id, ref, digest, "
             "  sealed_payload, demographics, attempts, error, created_at) "
             "  SELECT id, chart_id, patient_id, ref, digest, sealed_payload, demographics, "
             "  attempts, left('ABORTED: the lease expired on the last of ' || attempts || "
             "  ' attempts (the worker died or stalled while coding)' || "
             "  coalesce('; an earlier attempt failed: ' || last_error, ''), 2000), created_at "
             "  FROM gone ON CONFLICT (job_id) DO UPDATE SET error = EXCLUDED.error, "
             "  dead_at = now()), "
             "claimed AS (UPDATE cc_jobs SET state = 'leased', lease_owner = $1, "
             "  attempts = attempts + 1, available_at = now() + $2 * interval '1 millisecond', "
             "  leased_at = now() WHERE id IN (SELECT id FROM picked WHERE NOT spent) "
             "  RETURNING ", kLeaseColumns, ") "
             "SELECT claimed.* FROM claimed JOIN picked USING (id) "
             "ORDER BY picked.available_at, id");
  absl::Status s = impl_->pool.Run([&](PgConnection& conn) -> absl::Status {
    absl::StatusOr<PgResult> r = conn.ExecPrepared(sql, {owner, Millis(lease)});
    if (!r.ok()) return r.status();
    claimed.clear();
    for (int row = 0; row < r->rows(); ++row) {
      absl::StatusOr<Lease> l = LeaseFromRow(*r, row);
      if (!l.ok()) {
        // A row the schema accepted but we cannot read: keep the lease with
        // the fields needed to fail the job (an empty chart id tells).
        Lease minimal;
        minimal.job_id = r->GetInt(row, 0);
        minimal.owner = std::string(owner);
        minimal.attempt = static_cast<int>(r->GetInt(row, 2));
        minimal.max_attempts = static_cast<int>(r->GetInt(row, 3));
        claimed.push_back(std::move(minimal));
        continue;
      }
      claimed.push_back(std::move(*l));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return claimed;
}

absl::StatusOr<bool> WorkQueue::Renew(const Lease& lease, absl::Duration duration) const {
  return impl_->UpdateHeldLease(
      "UPDATE cc_jobs SET available_at = now() + $4 * interval '1 millisecond' "
      "WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'leased'",
      lease, {Millis(duration)});
}

absl::StatusOr<std::vector<bool>> WorkQueue::RenewBatch(const std::vector<const Lease*>& leases,
                                                        absl::Duration duration) const {
  if (leases.size() > static_cast<size_t>(kMaxBatch)) {
    return absl::InvalidArgumentError(StrCat("a batch of 0 to ", kMaxBatch, " leases"));
  }
  if (duration < absl::Seconds(1)) return absl::InvalidArgumentError("a lease of at least 1 s");
  std::vector<bool> ours(leases.size(), false);
  if (leases.empty()) return ours;
  std::vector<std::optional<std::string>> ids, owners, attempts;
  std::unordered_map<int64_t, size_t> position;  // job id -> index in `leases`
  for (size_t i = 0; i < leases.size(); ++i) {
    if (leases[i] == nullptr) return absl::InvalidArgumentError(StrCat("lease ", i + 1, ": null"));
    position.emplace(leases[i]->job_id, i);
    ids.push_back(StrCat(leases[i]->job_id));
    owners.push_back(leases[i]->owner);
    attempts.push_back(StrCat(leases[i]->attempt));
  }
  const std::vector<PgParam> params = {internal::PgArray(ids), internal::PgArray(owners),
                                       internal::PgArray(attempts), Millis(duration)};
  static constexpr char kSql[] =
      "UPDATE cc_jobs j SET available_at = now() + $4 * interval '1 millisecond' "
      "FROM unnest($1::bigint[], $2::text[], $3::integer[]) AS h(id, owner, attempt) "
      "WHERE j.id = h.id AND j.lease_owner = h.owner AND j.attempts = h.attempt "
      "AND j.state = 'leased' RETURNING j.id";
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        absl::StatusOr<PgResult> r = conn.ExecPrepared(kSql, params);
        if (!r.ok()) return r.status();
        ours.assign(leases.size(), false);
        for (int row = 0; row < r->rows(); ++row) {
          auto at = position.find(r->GetInt(row, 0));
          if (at == position.end()) return absl::InternalError("a renewal of a job not asked");
          ours[at->second] = true;
        }
        return absl::OkStatus();
      },
      3);
  if (!s.ok()) return s;
  // A job listed twice is ours at each place if at one.
  for (size_t i = 0; i < leases.size(); ++i) ours[i] = ours[position[leases[i]->job_id]];
  return ours;
}

absl::StatusOr<bool> WorkQueue::Complete(const Lease& lease, std::string_view result_json,
                                         const KeyProvider* keys, std::string_view key_id) const {
  absl::StatusOr<std::vector<CompleteOutcome>> done =
      CompleteBatch({JobCompletion{&lease, result_json}}, keys, key_id);
  if (!done.ok()) return done.status();
  return done->front() != CompleteOutcome::kLeaseLost;
}

absl::StatusOr<std::vector<CompleteOutcome>> WorkQueue::CompleteBatch(
    const std::vector<JobCompletion>& completions, const KeyProvider* keys,
    std::string_view key_id) const {
  if (completions.empty()) return std::vector<CompleteOutcome>();
  if (completions.size() > static_cast<size_t>(kMaxBatch)) {
    return absl::InvalidArgumentError(StrCat("a batch of 1 to ", kMaxBatch, " jobs"));
  }
  // One array per column: the leases, then the encoded results.
  std::vector<std::optional<std::string>> ids, owners, attempts, chart_ids, digests, patient_ids,
      jsons, sealed, key_ids;
  std::unordered_map<int64_t, size_t> position;  // job id -> index in `completions`
  for (size_t i = 0; i < completions.size(); ++i) {
    const JobCompletion& c = completions[i];
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          completions.size() == 1 ? std::string(why) : StrCat("completion ", i + 1, ": ", why));
    };
    if (c.lease == nullptr) return bad("no lease");
    const Lease& lease = *c.lease;
    if (!position.emplace(lease.job_id, i).second) return bad("the same job twice in one batch");
    ResultRecord record;
    record.chart_id = lease.chart_id;
    record.digest = lease.digest;
    record.patient_id = lease.patient_id;
    record.result_json = std::string(c.result_json);
    absl::StatusOr<internal::EncodedResult> e = internal::EncodeResult(record, keys, key_id);
    if (!e.ok()) return bad(internal::FromAbsl(e.status().message()));
    ids.push_back(StrCat(lease.job_id));
    owners.push_back(lease.owner);
    attempts.push_back(StrCat(lease.attempt));
    chart_ids.push_back(std::move(e->chart_id));
    digests.push_back(std::move(e->digest));
    patient_ids.push_back(std::move(e->patient_id));
    jsons.push_back(std::move(e->json));
    sealed.push_back(e->sealed ? std::optional<std::string>(internal::PgByteaText(*e->sealed))
                               : std::nullopt);
    key_ids.push_back(std::move(e->key_id));
  }
  std::vector<PgParam> params;
  for (const auto* column :
       {&ids, &owners, &attempts, &chart_ids, &digests, &patient_ids, &jsons, &sealed, &key_ids}) {
    params.push_back(internal::PgArray(*column));
  }
  // One statement, so one transaction: the jobs whose lease still holds are
  // marked done and their results inserted unless (chart id, digest) has one.
  // Safe to retry: after a commit whose answer was lost, the retry finds the
  // jobs done and changes nothing (they then read as lost leases).
  static constexpr char kSql[] =
      "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], "
      "  $5::text[], $6::text[], $7::text[], $8::bytea[], $9::text[]) AS i(id, owner, attempt, "
      "  chart_id, digest, patient_id, result_json, result_sealed, key_id)), "
      "done AS (UPDATE cc_jobs j SET state = 'done', completed_at = now(), lease_owner = NULL, "
      "  last_error = NULL FROM input i WHERE j.id = i.id AND j.lease_owner = i.owner AND "
      "  j.attempts = i.attempt AND j.state = 'leased' RETURNING j.id), "
      "stored AS (INSERT INTO cc_results (chart_id, digest, patient_id, result_json, "
      "  result_sealed, key_id, job_id) SELECT i.chart_id, i.digest, i.patient_id, "
      "  i.result_json, i.result_sealed, nullif(i.key_id, ''), i.id FROM input i "
      "  JOIN done USING (id) ON CONFLICT (chart_id, digest) DO NOTHING RETURNING job_id) "
      "SELECT done.id, stored.job_id IS NOT NULL FROM done LEFT JOIN stored "
      "ON stored.job_id = done.id";
  std::vector<CompleteOutcome> outcomes;
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        absl::StatusOr<PgResult> r = conn.ExecPrepared(kSql, params);
        if (!r.ok()) return r.status();
        outcomes.assign(completions.size(), CompleteOutcome::kLeaseLost);
        for (int row = 0; row < r->rows(); ++row) {
          auto at = position.find(r->GetInt(row, 0));
          if (at == position.end()) return absl::InternalError("a completion for a job not asked");
          outcomes[at->second] = r->Get(row, 1) == "t" ? CompleteOutcome::kCompleted
                                               : CompleteOutcome::kAlreadyStored;
        }
        return absl::OkStatus();
      },
      3);
  if (!s.ok()) return s;
  return outcomes;
}

absl::StatusOr<FailOutcome> WorkQueue::Fail(const Lease& lease, const absl::Status& error,
                                            const RetryPolicy& retry) const {
  const std::string text = ErrorText(error.ok() ? absl::UnknownError("failed") : error);
  FailOutcome outcome = FailOutcome::kLeaseLost;
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        outcome = FailOutcome::kLeaseLost;
        return internal::PgTransaction(conn, [&]() -> absl::Status {
          std::vector<PgParam> key = {StrCat(lease.job_id), lease.owner, StrCat(lease.attempt)};
          absl::StatusOr<PgResult> row = conn.Exec(
              "SELECT attempts, max_attempts FROM cc_jobs WHERE id = $1 AND lease_owner = $2 "
              "AND attempts = $3 AND state = 'leased' FOR UPDATE",
              key);
          if (!row.ok()) return row.status();
          if (row->rows() == 0) return absl::OkStatus();
          const int64_t attempts = row->GetInt(0, 0), max_attempts = row->GetInt(0, 1);
          if (attempts >= max_attempts) {
            absl::StatusOr<PgResult> moved = conn.Exec(
                "WITH gone AS (DELETE FROM cc_jobs WHERE id = $1 RETURNING *) "
                "INSERT INTO cc_dead_letter (job_id, chart_id, patient_id, ref, digest, "
                "sealed_payload, demographics, attempts, error, created_at) "
                "SELECT id, chart_id, patient_id, ref, digest, sealed_payload, demographics, "
                "attempts, $2, created_at FROM gone "
                "ON CONFLICT (job_id) DO UPDATE SET error = EXCLUDED.error, dead_at = now()",
                {StrCat(lease.job_id), text});
            if (!moved.ok()) return moved.status();
            outcome = FailOutcome::kDeadLettered;
            return absl::OkStatus();
          }
          double base = absl::ToDoubleSeconds(retry.base_delay);
          double delay = std::min(absl::ToDoubleSeconds(retry.max_delay),
                                  base * std::pow(2.0, static_cast<double>(attempts - 1)));
          delay *= impl_->Jitter();
          absl::StatusOr<PgResult> requeued = conn.Exec(
              "UPDATE cc_jobs SET state = 'queued', lease_owner = NULL, last_error = $2, "
              "available_at = now() + $3 * interval '1 millisecond' WHERE id = $1",
              {StrCat(lease.job_id), text, StrCat(static_cast<int64_t>(delay * 1000))});
          if (!requeued.ok()) return requeued.status();
          outcome = FailOutcome::kRetrying;
          return absl::OkStatus();
        });
      },
      3);
  if (!s.ok()) return s;
  return outcome;
}

absl::StatusOr<bool> WorkQueue::Release(const Lease& lease) const {
  return impl_->UpdateHeldLease(
      "UPDATE cc_jobs SET state = 'queued', lease_owner = NULL, available_at = now(), "
      "attempts = attempts - 1 WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND "
      "state = 'leased'",
      lease, {});
}

absl::StatusOr<QueueStatus> WorkQueue::Status() const {
  QueueStatus st;
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        absl::Status schema = internal::CheckPgSchema(conn);
        if (!schema.ok()) return schema;
        st.schema_version = internal::PgSchemaVersion();
        absl::StatusOr<PgResult> r = conn.Exec(
            "SELECT count(*) FILTER (WHERE state = 'queued'), "
            "count(*) FILTER (WHERE state = 'queued' AND available_at > now()), "
            "count(*) FILTER (WHERE state = 'leased'), "
            "count(*) FILTER (WHERE state = 'leased' AND available_at < now()), "
            "count(*) FILTER (WHERE state = 'done'), "
            "(SELECT count(*) FROM cc_dead_letter), "
            "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state <> "
            "'done')), 0)::float8, "
            "count(*) FILTER (WHERE state = 'done' AND completed_at > now() - interval '60 "
            "seconds') FROM cc_jobs");
        if (!r.ok()) return r.status();
        st.queued = r->GetInt(0, 0);
        st.retry_waiting = r->GetInt(0, 1);
        st.leased = r->GetInt(0, 2);
        st.expired_leases = r->GetInt(0, 3);
        st.done = r->GetInt(0, 4);
        st.dead = r->GetInt(0, 5);
        st.oldest_age_seconds = r->GetDouble(0, 6);
        st.done_last_minute = r->GetInt(0, 7);
        st.throughput_per_second = st.done_last_minute / 60.0;
        return absl::OkStatus();
      },
      3);
  if (!s.ok()) return s;
  return st;
}

absl::StatusOr<std::vector<DeadLetter>> WorkQueue::DeadLetters(int limit) const {
  std::vector<DeadLetter> out;
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        absl::StatusOr<PgResult> r = conn.Exec(
            "SELECT job_id, chart_id, patient_id, ref, attempts, error, "
            "to_char(dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
            "FROM cc_dead_letter ORDER BY dead_at DESC, job_id DESC LIMIT $1",
            {StrCat(std::max(0, limit))});
        if (!r.ok()) return r.status();
        out.clear();
        for (int i = 0; i < r->rows(); ++i) {
          DeadLetter d;
          d.job_id = r->GetInt(i, 0);
          d.chart_id = std::string(r->Get(i, 1));
          d.patient_id = std::string(r->Get(i, 2));
          d.ref = std::string(r->Get(i, 3));
          d.attempts = static_cast<int>(r->GetInt(i, 4));
          d.error = std::string(r->Get(i, 5));
          d.dead_at = std::string(r->Get(i, 6));
          out.push_back(std::move(d));
        }
        return absl::OkStatus();
      },
      3);
  if (!s.ok()) return s;
  return out;
}

// ---------------------------------------------------------------------------
// Status output

std::string QueueStatusJson(const QueueStatus& s) {
  std::string out;
  internal::JsonWriter w(&out);
  w.BeginObject();
  w.Field("queued", s.queued);
  w.Field("retry_waiting", s.retry_waiting);
  w.Field("leased", s.leased);
  w.Field("expired_leases", s.expired_leases);
  w.Field("done", s.done);
  w.Field("dead", s.dead);
  w.Key("oldest_age_seconds");
  w.Fixed(s.oldest_age_seconds, 3);
  w.Field("done_last_minute", s.done_last_minute);
  w.Key("throughput_per_second");
  w.Fixed(s.throughput_per_second, 3);
  w.Field("schema_version", s.schema_version);
  w.EndObject();
  return out;
}

std::string QueueStatusPrometheus(const QueueStatus& s) {
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    internal::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  metric("chartcoder_queue_jobs", "gauge", "Jobs by state (dead: in the dead-letter table).");
  for (auto [state, n] : {std::pair<const char*, int64_t>{"queued", s.queued},
                          {"leased", s.leased},
                          {"done", s.done},
                          {"dead", s.dead}}) {
    internal::StrAppend(&out, "chartcoder_queue_jobs{state=\"", state, "\"} ", n, "\n");
  }
  metric("chartcoder_queue_retry_waiting_jobs", "gauge", "Queued jobs waiting out a backoff.");
  internal::StrAppend(&out, "chartcoder_queue_retry_waiting_jobs ", s.retry_waiting, "\n");
  metric("chartcoder_queue_expired_leases", "gauge", "Leased jobs whose lease ran out.");
  internal::StrAppend(&out, "chartcoder_queue_expired_leases ", s.expired_leases, "\n");
  metric("chartcoder_queue_oldest_job_age_seconds", "gauge",
         "Age of the oldest queued or leased job.");
  internal::StrAppend(&out, "chartcoder_queue_oldest_job_age_seconds ", s.oldest_age_seconds,
                      "\n");
  metric("chartcoder_queue_throughput_jobs_per_second", "gauge",
         "Jobs completed per second over the last minute.");
  internal::StrAppend(&out, "chartcoder_queue_throughput_jobs_per_second ",
                      s.throughput_per_second, "\n");
  return out;
}

// ---------------------------------------------------------------------------
// Worker

absl::StatusOr<ChartJob> LoadLeasedChart(const Lease& lease, const KeyProvider* keys,
                                         size_t max_chart_bytes) {
  ChartReadOptions read;
  read.keys = keys;
  read.max_bytes = max_chart_bytes;
  absl::StatusOr<std::string> chart;
  if (!lease.sealed_payload.empty()) {
    chart = ReadChartBytes(lease.sealed_payload, read);
  } else {
    absl::StatusOr<std::string> path = RefToPath(lease.ref);
    if (!path.ok()) return path.status();
    chart = ReadChartFile(*path, read);
  }
  if (!chart.ok()) return chart.status();
  if (ChartDigest(*chart) != lease.digest) {
    return absl::DataLossError(
        "the chart's SHA-256 differs from the digest it was queued with: it changed since it "
        "was submitted");
  }
  ChartJob job;
  job.id = lease.chart_id;
  job.patient_id = lease.patient_id;
  job.chart = std::move(*chart);
  job.demographics = lease.demographics;
  return job;
}

namespace {

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "host");
  return StrCat(host, ":", static_cast<int64_t>(getpid()));
}

// What one worker thread shares with the others.
struct WorkerShared {
  const WorkQueue* queue;
  std::shared_ptr<const ChartProcessor> processor;
  WorkerOptions options;
  const std::atomic<bool>* stop;
  std::mutex mu;  // serializes on_event and the stats
  WorkerStats stats;
  std::atomic<int64_t> started{0};
  std::atomic<bool> give_up{false};
  std::atomic<bool> idled{false};
  absl::Status fatal;
  absl::Time last_activity = absl::Now();

  bool Stopping() const {
    return give_up.load() || (stop != nullptr && stop->load(std::memory_order_relaxed));
  }

  void Event(WorkerEvent e) {
    std::lock_guard<std::mutex> lock(mu);
    switch (e.kind) {
      case WorkerEvent::kCompleted: ++stats.completed; break;
      case WorkerEvent::kDuplicate: ++stats.completed; ++stats.duplicates; break;
      case WorkerEvent::kFailed: ++stats.failed; break;
      case WorkerEvent::kDeadLettered: ++stats.failed; ++stats.dead_lettered; break;
      case WorkerEvent::kLeaseLost: ++stats.leases_lost; break;
      case WorkerEvent::kReleased: ++stats.released; break;
      default: break;
    }
    if (options.on_event) options.on_event(e);
  }

  void Fatal(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (fatal.ok()) fatal = std::move(s);
    give_up = true;
  }
};

// Sleeps up to `d`, waking early when the worker is stopping.
void Nap(WorkerShared& w, absl::Duration d) {
  absl::Time until = absl::Now() + d;
  while (!w.Stopping() && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(50), until - absl::Now()));
  }
}

// Runs a database call, riding out outages for database_retry_limit.
template <typename T, typename Fn>
absl::StatusOr<T> WithDatabase(WorkerShared& w, Fn&& fn, bool keep_trying_when_stopping) {
  absl::Time first_failure = absl::InfinitePast();
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    absl::StatusOr<T> r = fn();
    if (r.ok() || !internal::IsTransientPgError(r.status())) {
      if (r.ok() && first_failure != absl::InfinitePast()) {
        w.Event(WorkerEvent{WorkerEvent::kDatabaseBack, 0, 0, absl::OkStatus(),
                            absl::Now() - first_failure});
      }
      return r;
    }
    absl::Time now = absl::Now();
    if (first_failure == absl::InfinitePast()) {
      first_failure = now;
      w.Event(WorkerEvent{WorkerEvent::kDatabaseError, 0, 0, r.status(), absl::ZeroDuration()});
    }
    if (now - first_failure > w.options.database_retry_limit ||
        (w.Stopping() && !keep_trying_when_stopping)) {
      return r;
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

// The chart being coded on a helper thread while the worker renews leases.
struct Running {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::StatusOr<std::string> result = absl::UnknownError("not run");
};

// A claimed job on its way through its batch.
struct Held {
  Lease lease;
  absl::Time start;       // when this job's turn came (for its event)
  bool lost = false;      // a renewal found the lease gone
  bool coded = false;     // `result` waits for the batch's completion
  bool finished = false;  // done, failed, released or lost: nothing left to do
  std::string result;
};

void JobEvent(WorkerShared& w, Held& h, WorkerEvent::Kind kind,
              absl::Status status = absl::OkStatus()) {
  h.finished = true;
  w.Event(WorkerEvent{kind, h.lease.job_id, h.lease.attempt, std::move(status),
                      absl::Now() - h.start});
}

void FailJob(WorkerShared& w, Held& h, const absl::Status& error) {
  absl::StatusOr<FailOutcome> f = WithDatabase<FailOutcome>(
      w, [&] { return w.queue->Fail(h.lease, error, w.options.retry); }, true);
  if (!f.ok()) JobEvent(w, h, WorkerEvent::kDatabaseError, f.status());
  else if (*f == FailOutcome::kDeadLettered) JobEvent(w, h, WorkerEvent::kDeadLettered, error);
  else if (*f == FailOutcome::kRetrying) JobEvent(w, h, WorkerEvent::kFailed, error);
  else JobEvent(w, h, WorkerEvent::kLeaseLost);
}

// False when the database stayed away (the lease will expire instead).
bool ReleaseJob(WorkerShared& w, Held& h) {
  absl::StatusOr<bool> released =
      WithDatabase<bool>(w, [&] { return w.queue->Release(h.lease); }, true);
  if (!released.ok()) {
    JobEvent(w, h, WorkerEvent::kDatabaseError, released.status());
    return false;
  }
  JobEvent(w, h, *released ? WorkerEvent::kReleased : WorkerEvent::kLeaseLost);
  return true;
}

// Completes coded jobs in one statement. A result the store refuses fails
// the statement: then each job is completed alone, so only that one fails.
void CompleteJobs(WorkerShared& w, const std::vector<Held*>& coded) {
  if (coded.empty()) return;
  std::vector<JobCompletion> batch;
  for (Held* h : coded) batch.push_back({&h->lease, h->result});
  const KeyProvider* seal_keys = w.options.seal_results ? w.options.keys : nullptr;
  absl::StatusOr<std::vector<CompleteOutcome>> outcomes =
      WithDatabase<std::vector<CompleteOutcome>>(
          w, [&] { return w.queue->CompleteBatch(batch, seal_keys, w.options.key_id); }, true);
  if (!outcomes.ok()) {
    if (internal::IsTransientPgError(outcomes.status())) {
      // The database stayed away: the leases will expire and the jobs run
      // again elsewhere.
      JobEvent(w, *coded.front(), WorkerEvent::kDatabaseError, outcomes.status());
      w.Fatal(outcomes.status());
    } else if (coded.size() > 1) {
      for (Held* h : coded) CompleteJobs(w, {h});
    } else {
      FailJob(w, *coded.front(), outcomes.status());  // e.g. a result the store rejects
    }
    return;
  }
  for (size_t i = 0; i < coded.size(); ++i) {
    coded[i]->result.clear();
    switch ((*outcomes)[i]) {
      case CompleteOutcome::kCompleted: JobEvent(w, *coded[i], WorkerEvent::kCompleted); break;
      case CompleteOutcome::kAlreadyStored: JobEvent(w, *coded[i], WorkerEvent::kDuplicate); break;
      case CompleteOutcome::kLeaseLost: JobEvent(w, *coded[i], WorkerEvent::kLeaseLost); break;
    }
  }
}

// Codes a claimed batch one job after another while renewing the lease of
// every job not yet finished, then completes the coded ones together. Once
// stopping, the running chart finishes (or is released after
// drain_timeout) and the jobs not started are released.
void HandleBatch(WorkerShared& w, std::vector<Lease> leases) {
  const WorkerOptions& o = w.options;
  std::vector<Held> held(leases.size());
  for (size_t i = 0; i < leases.size(); ++i) {
    held[i].lease = std::move(leases[i]);
    held[i].start = absl::Now();
  }
  // Every lease/3, between charts and while one is coded, the lease of each
  // job not finished is renewed (the one coded, those waiting their turn and
  // those waiting for the batch's completion).
  const absl::Duration renew_every = std::max(o.lease / 3, absl::Milliseconds(100));
  absl::Time next_renew = absl::Now() + renew_every;
  // One statement renews them all (a batch of 100 is one round trip, not
  // 100: under load the last of 100 single renewals came after the lease).
  auto renew_due = [&] {
    if (absl::Now() < next_renew) return;
    std::vector<Held*> open;
    std::vector<const Lease*> leases;
    for (Held& h : held) {
      if (h.finished || h.lost) continue;
      open.push_back(&h);
      leases.push_back(&h.lease);
    }
    if (!leases.empty()) {
      absl::StatusOr<std::vector<bool>> renewed = WithDatabase<std::vector<bool>>(
          w, [&] { return w.queue->RenewBatch(leases, o.lease); }, true);
      if (renewed.ok() && renewed->size() == open.size()) {
        for (size_t i = 0; i < open.size(); ++i) {
          if (!(*renewed)[i]) open[i]->lost = true;
        }
      }  // else the database stayed away: try again next time
    }
    next_renew = absl::Now() + renew_every;
  };
  absl::Time drain_deadline = absl::InfiniteFuture();
  for (Held& h : held) {
    if (w.Stopping()) break;
    renew_due();
    h.start = absl::Now();
    if (h.lost) {  // another worker has it now: do not code it twice
      JobEvent(w, h, WorkerEvent::kLeaseLost);
      continue;
    }
    if (h.lease.chart_id.empty()) {  // the row could not be read (see ClaimBatch)
      FailJob(w, h, absl::DataLossError("the job's demographics in the queue are unreadable"));
      continue;
    }
    absl::StatusOr<ChartJob> job = LoadLeasedChart(h.lease, o.keys, o.max_chart_bytes);
    if (!job.ok()) {
      FailJob(w, h, job.status());
      continue;
    }
    auto running = std::make_shared<Running>();
    std::thread coder([running, processor = w.processor, job = std::move(*job)]() mutable {
      absl::StatusOr<std::string> r = processor->Process(job);
      job.chart.clear();
      std::lock_guard<std::mutex> lock(running->mu);
      running->result = std::move(r);
      running->done = true;
      running->cv.notify_all();
    });
    bool abandoned = false;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(running->mu);
        running->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return running->done; });
        if (running->done) break;
      }
      absl::Time now = absl::Now();
      if (w.Stopping() && drain_deadline == absl::InfiniteFuture()) {
        drain_deadline = now + o.drain_timeout;
      }
      if (now >= drain_deadline) {
        coder.detach();  // it finishes on its own; its result is dropped
        ReleaseJob(w, h);
        abandoned = true;
        break;
      }
      renew_due();
    }
    if (abandoned) break;
    coder.join();
    if (!running->result.ok()) {
      FailJob(w, h, running->result.status());
      continue;
    }
    h.result = std::move(*running->result);
    h.coded = true;
  }
  std::vector<Held*> coded;
  for (Held& h : held) {
    if (h.coded && !h.finished) coded.push_back(&h);
  }
  CompleteJobs(w, coded);
  if (w.give_up) return;  // the database stayed away: the leases expire
  for (Held& h : held) {  // not started: stopping
    if (!h.finished && !ReleaseJob(w, h)) return;
  }
}

void WorkerLoop(WorkerShared& w) {
  const WorkerOptions& o = w.options;
  while (!w.Stopping()) {
    int64_t want = o.batch;
    if (o.max_jobs > 0) {
      want = std::min(want, o.max_jobs - w.started.load());
      if (want <= 0) return;
    }
    absl::StatusOr<std::vector<Lease>> claimed = WithDatabase<std::vector<Lease>>(
        w, [&] { return w.queue->ClaimBatch(o.worker_id, o.lease, static_cast<int>(want)); },
        false);
    if (!claimed.ok()) {
      if (!w.Stopping()) w.Fatal(claimed.status());
      return;
    }
    if (claimed->empty()) {
      if (o.idle_exit > absl::ZeroDuration()) {
        absl::Time last;
        {
          std::lock_guard<std::mutex> lock(w.mu);
          last = w.last_activity;
        }
        if (absl::Now() - last >= o.idle_exit) {
          w.idled = true;
          return;
        }
      }
      Nap(w, o.poll_interval);
      continue;
    }
    // Other threads claim too: jobs past max_jobs go back at once.
    std::vector<Lease> mine;
    bool over = false;
    for (Lease& l : *claimed) {
      if (o.max_jobs > 0 && w.started.fetch_add(1) >= o.max_jobs) {
        (void)w.queue->Release(l);
        over = true;
      } else {
        mine.push_back(std::move(l));
      }
    }
    if (!mine.empty()) HandleBatch(w, std::move(mine));
    {
      std::lock_guard<std::mutex> lock(w.mu);
      w.last_activity = absl::Now();
    }
    if (over) return;
  }
}

}  // namespace

absl::StatusOr<WorkerStats> RunWorker(const WorkQueue& queue,
                                      std::shared_ptr<const ChartProcessor> processor,
                                      const WorkerOptions& options,
                                      const std::atomic<bool>* stop) {
  if (processor == nullptr) return absl::InvalidArgumentError("a worker needs a processor");
  if (options.concurrency < 1 || options.concurrency > 256) {
    return absl::InvalidArgumentError("concurrency must be 1 to 256");
  }
  if (options.lease < absl::Seconds(1)) {
    return absl::InvalidArgumentError("the lease must be at least 1 second");
  }
  if (options.batch < 1 || options.batch > kMaxBatch) {
    return absl::InvalidArgumentError(StrCat("batch must be 1 to ", kMaxBatch));
  }
  if (options.max_jobs < 0) return absl::InvalidArgumentError("max_jobs must be >= 0");
  WorkerShared w;
  w.queue = &queue;
  w.processor = std::move(processor);
  w.options = options;
  if (w.options.worker_id.empty()) w.options.worker_id = DefaultWorkerId();
  w.stop = stop;
  // The schema check rides out an outage like every later call: a worker
  // (re)started while the database restarts waits for it.
  absl::StatusOr<bool> schema = WithDatabase<bool>(
      w,
      [&]() -> absl::StatusOr<bool> {
        absl::Status s = queue.CheckSchema();
        if (!s.ok()) return s;
        return true;
      },
      false);
  if (!schema.ok()) {
    if (w.Stopping() && internal::IsTransientPgError(schema.status())) return w.stats;
    return schema.status();
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < options.concurrency; ++i) threads.emplace_back([&w] { WorkerLoop(w); });
  WorkerLoop(w);
  for (std::thread& t : threads) t.join();
  if (!w.fatal.ok()) return w.fatal;
  if (w.idled.load()) {
    w.Event(WorkerEvent{WorkerEvent::kIdleExit, 0, 0, absl::OkStatus(), absl::ZeroDuration()});
  }
  return w.stats;
}

}  // namespace chartcoder
