#!/usr/bin/env bash
# The work queue's throughput figures for docs/PERFORMANCE.md (issue 7): the
# queue alone (claim + complete of empty jobs, 1-4 client threads) and 1, 2
# and 4 `chartcoder worker` processes coding 2,000 chart files, each against a
# private TLS PostgreSQL the benchmark starts; first with fsync off (as the
# tests run), then with durable commits (fsync and synchronous_commit on).
# Usage: scripts/bench-queue.sh [BUILD_DIR]     (default build; takes ~1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
cmake --build "$build" --target work_queue_benchmark chartcoder_cli
echo "== fsync off"
CHARTCODER_BENCH_FSYNC=0 "$build/bin/work_queue_benchmark" 2>&1 | grep -E '^(BM_|Run on|CPU|Load)'
echo "== fsync on"
CHARTCODER_BENCH_FSYNC=1 "$build/bin/work_queue_benchmark" 2>&1 | grep -E '^(BM_|Run on|CPU|Load)'
