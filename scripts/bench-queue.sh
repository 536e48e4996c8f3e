#!/usr/bin/env bash
# The work queue's throughput figures for docs/PERFORMANCE.md (issues 7 and
# its follow-up): the queue alone (claim + complete of empty jobs from 1, 2
# and 4 client threads, one job at a time and in batches of 16 and 64) and 1,
# 2 and 4 `chartcoder worker` processes (--batch 1 and 16) coding 2,000 chart
# files with the full pipeline, each against a private TLS PostgreSQL the
# benchmark starts; first with fsync off (as the tests run), then with
# durable commits (fsync and synchronous_commit on).
#
# Usage: scripts/bench-queue.sh [BUILD_DIR] [REPETITIONS]   (default build 3)
#   BASELINE=DIR   also runs DIR/bin/work_queue_benchmark's per-job
#       BM_WorkQueueClaimComplete, with DIR/lib's libchartcoder (a build tree
#       of an earlier commit, or a copy of its bin/ and lib/), in the same
#       session, before the current one, as the baseline.
#   FSYNC="0 1"      which settings to run (default both).
#   FILTER=REGEX     which benchmarks of the current build (default all).
# The charts: scripts/gen-charts.py --mb 12 --seed 7 (the example charts
# varied; every fourth with demographics), of which the benchmark writes
# the first 2,000 out as files. Prints the machine load before each part.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
reps="${2:-3}"
cmake --build "$build" --target work_queue_benchmark chartcoder_cli
mkdir -p "$build/bench"
charts="$build/bench/queue-charts.jsonl"
[ -s "$charts" ] || /usr/bin/python3 scripts/gen-charts.py --mb 12 --seed 7 --output "$charts"
export CHARTCODER_BENCH_QUEUE_JSONL="$charts" CHARTCODER_BENCH_QUEUE_CHARTS=2000
# Each benchmark process starts its PostgreSQL under a private TMPDIR; a
# server left running there (a benchmark killed, or one built before it
# stopped its server at exit) is stopped afterwards.
cleanup() {  # TMPDIR
  local pid_file
  for pid_file in "$1"/chartcoder_pg_*/data/postmaster.pid; do
    [ -f "$pid_file" ] || continue
    local data="${pid_file%/postmaster.pid}"
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | tail -1)/pg_ctl" -D "$data" \
        -m immediate -w stop > /dev/null || true
    else
      pg_ctl -D "$data" -m immediate -w stop > /dev/null || true
    fi
  done
  rm -rf "$1"
}
run() {  # BINARY FILTER
  local tmp
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"
  TMPDIR="$tmp" "$1" --benchmark_filter="$2" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true 2>&1 | grep -E '^(BM_|Run on|CPU|Load)' |
    grep -vE '_(mean|stddev|cv) ' || echo "(failed: exit status $?)"
  cleanup "$tmp"
}
for fsync in ${FSYNC:-0 1}; do
  echo "== fsync $([ "$fsync" = 1 ] && echo on || echo off)"
  export CHARTCODER_BENCH_FSYNC="$fsync"
  if [ -n "${BASELINE:-}" ]; then
    echo "-- baseline $BASELINE; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    LD_LIBRARY_PATH="$BASELINE/lib" run "$BASELINE/bin/work_queue_benchmark" \
      'BM_WorkQueueClaimComplete/'
  fi
  echo "-- current; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  run "$build/bin/work_queue_benchmark" "${FILTER:-.}"
  echo "-- done; load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
