#include "chartcoder/work_queue.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

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
          absl::StatusOr<PgResult> r = conn.Exec(sql, p);
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
  if (owner.empty()) return absl::InvalidArgumentError("a claim needs a worker id");
  if (lease < absl::Seconds(1)) return absl::InvalidArgumentError("a lease of at least 1 s");
  while (true) {
    std::optional<Lease> claimed;
    absl::Status s = impl_->pool.Run([&](PgConnection& conn) -> absl::Status {
      // One statement: pick the longest-waiting due job, skipping rows other
      // workers are claiming right now, and lease it.
      absl::StatusOr<PgResult> r = conn.Exec(
          StrCat("UPDATE cc_jobs SET state = 'leased', lease_owner = $1, attempts = attempts + 1, "
                 "available_at = now() + $2 * interval '1 millisecond', leased_at = now() "
                 "WHERE id = (SELECT id FROM cc_jobs WHERE state <> 'done' AND available_at <= "
                 "now() ORDER BY available_at, id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING ",
                 kLeaseColumns),
          {owner, Millis(lease)});
      if (!r.ok()) return r.status();
      if (r->rows() == 0) return absl::OkStatus();
      absl::StatusOr<Lease> l = LeaseFromRow(*r, 0);
      if (!l.ok()) {
        // Keep the lease; the minimal fields are enough to fail the job.
        Lease minimal;
        minimal.job_id = r->GetInt(0, 0);
        minimal.owner = std::string(owner);
        minimal.attempt = static_cast<int>(r->GetInt(0, 2));
        minimal.max_attempts = static_cast<int>(r->GetInt(0, 3));
        claimed = minimal;
        return absl::OkStatus();
      }
      claimed = std::move(*l);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (!claimed || claimed->attempt <= claimed->max_attempts) return claimed;
    // Every allowed attempt was claimed and none finished (the workers died
    // or were killed while coding it): a chart that kills workers.
    absl::StatusOr<FailOutcome> dead = Fail(
        *claimed,
        absl::AbortedError(StrCat("the lease expired on each of ", claimed->max_attempts,
                                  " attempts (the worker died or stalled while coding)")),
        RetryPolicy());
    if (!dead.ok()) return dead.status();
  }
}

absl::StatusOr<bool> WorkQueue::Renew(const Lease& lease, absl::Duration duration) const {
  return impl_->UpdateHeldLease(
      "UPDATE cc_jobs SET available_at = now() + $4 * interval '1 millisecond' "
      "WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'leased'",
      lease, {Millis(duration)});
}

absl::StatusOr<bool> WorkQueue::Complete(const Lease& lease, std::string_view result_json,
                                         const KeyProvider* keys, std::string_view key_id) const {
  ResultRecord record;
  record.chart_id = lease.chart_id;
  record.digest = lease.digest;
  record.patient_id = lease.patient_id;
  record.result_json = std::string(result_json);
  absl::StatusOr<internal::EncodedResult> encoded = internal::EncodeResult(record, keys, key_id);
  if (!encoded.ok()) return encoded.status();
  bool ours = false;
  // Safe to retry: if a commit went through but its answer was lost, the
  // retry finds the job done and changes nothing.
  absl::Status s = impl_->pool.Run(
      [&](PgConnection& conn) -> absl::Status {
        ours = false;
        absl::Status tx = internal::PgTransaction(conn, [&]() -> absl::Status {
          absl::StatusOr<PgResult> r = conn.Exec(
              "UPDATE cc_jobs SET state = 'done', completed_at = now(), lease_owner = NULL, "
              "last_error = NULL WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND "
              "state = 'leased'",
              {StrCat(lease.job_id), lease.owner, StrCat(lease.attempt)});
          if (!r.ok()) return r.status();
          if (r->affected() != 1) return absl::AbortedError("lease lost");
          absl::StatusOr<bool> inserted = internal::PgInsertResult(conn, *encoded, lease.job_id);
          if (!inserted.ok()) return inserted.status();
          ours = true;
          return absl::OkStatus();
        });
        if (absl::IsAborted(tx) && tx.message() == "lease lost") return absl::OkStatus();
        return tx;
      },
      3);
  if (!s.ok()) return s;
  return ours;
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

// The chart being coded on a helper thread while the worker renews its lease.
struct Running {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::StatusOr<std::string> result = absl::UnknownError("not run");
};

void HandleLease(WorkerShared& w, const Lease& lease) {
  const WorkerOptions& o = w.options;
  absl::Time start = absl::Now();
  auto event = [&](WorkerEvent::Kind kind, absl::Status status = absl::OkStatus()) {
    w.Event(WorkerEvent{kind, lease.job_id, lease.attempt, std::move(status), absl::Now() - start});
  };
  auto fail = [&](const absl::Status& error) {
    absl::StatusOr<FailOutcome> f = WithDatabase<FailOutcome>(
        w, [&] { return w.queue->Fail(lease, error, o.retry); }, true);
    if (!f.ok()) {
      event(WorkerEvent::kDatabaseError, f.status());
      return;
    }
    if (*f == FailOutcome::kDeadLettered) event(WorkerEvent::kDeadLettered, error);
    else if (*f == FailOutcome::kRetrying) event(WorkerEvent::kFailed, error);
    else event(WorkerEvent::kLeaseLost);
  };

  if (lease.chart_id.empty()) {  // the row could not be read (see Claim)
    fail(absl::DataLossError("the job's demographics in the queue are unreadable"));
    return;
  }
  absl::StatusOr<ChartJob> job = LoadLeasedChart(lease, o.keys, o.max_chart_bytes);
  if (!job.ok()) {
    fail(job.status());
    return;
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
  // Renew the lease every lease/3 until the chart is coded. When stopping,
  // wait up to drain_timeout, then release the job and leave the coder.
  const absl::Duration renew_every = std::max(o.lease / 3, absl::Milliseconds(100));
  absl::Time next_renew = absl::Now() + renew_every;
  absl::Time drain_deadline = absl::InfiniteFuture();
  bool lost = false;
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
      coder.detach();
      absl::StatusOr<bool> released =
          WithDatabase<bool>(w, [&] { return w.queue->Release(lease); }, true);
      event(released.ok() && *released ? WorkerEvent::kReleased : WorkerEvent::kLeaseLost);
      return;
    }
    if (now >= next_renew && !lost) {
      absl::StatusOr<bool> renewed =
          WithDatabase<bool>(w, [&] { return w.queue->Renew(lease, o.lease); }, true);
      if (renewed.ok() && !*renewed) lost = true;
      next_renew = absl::Now() + renew_every;
    }
  }
  coder.join();
  if (!running->result.ok()) {
    fail(running->result.status());
    return;
  }
  const KeyProvider* seal_keys = o.seal_results ? o.keys : nullptr;
  absl::StatusOr<bool> completed = WithDatabase<bool>(
      w, [&] { return w.queue->Complete(lease, *running->result, seal_keys, o.key_id); }, true);
  if (!completed.ok()) {
    if (internal::IsTransientPgError(completed.status())) {
      // The database stayed away: the lease will expire and the job runs
      // again elsewhere.
      event(WorkerEvent::kDatabaseError, completed.status());
      w.Fatal(completed.status());
    } else {
      fail(completed.status());  // e.g. a result the store rejects
    }
    return;
  }
  event(*completed ? WorkerEvent::kCompleted : WorkerEvent::kLeaseLost);
}

void WorkerLoop(WorkerShared& w) {
  const WorkerOptions& o = w.options;
  while (!w.Stopping()) {
    if (o.max_jobs > 0 && w.started.load() >= o.max_jobs) return;
    absl::StatusOr<std::optional<Lease>> claimed = WithDatabase<std::optional<Lease>>(
        w, [&] { return w.queue->Claim(o.worker_id, o.lease); }, false);
    if (!claimed.ok()) {
      if (!w.Stopping()) w.Fatal(claimed.status());
      return;
    }
    if (!claimed->has_value()) {
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
    if (o.max_jobs > 0 && w.started.fetch_add(1) >= o.max_jobs) {
      (void)w.queue->Release(**claimed);
      return;
    }
    HandleLease(w, **claimed);
    std::lock_guard<std::mutex> lock(w.mu);
    w.last_activity = absl::Now();
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
  if (options.max_jobs < 0) return absl::InvalidArgumentError("max_jobs must be >= 0");
  absl::Status schema = queue.CheckSchema();
  if (!schema.ok()) return schema;
  WorkerShared w;
  w.queue = &queue;
  w.processor = std::move(processor);
  w.options = options;
  if (w.options.worker_id.empty()) w.options.worker_id = DefaultWorkerId();
  w.stop = stop;
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
