#!/usr/bin/env bash
# Measures the sealed-file figures recorded in docs/PERFORMANCE.md (issue 6):
# the openssl speed baseline, the Google Benchmarks (seal/open 1 GiB streamed),
# and `chartcoder encrypt` / `decrypt` end to end on 100 MiB and 1 GiB files
# with peak RSS, all in one run so the ratios are comparable.
# Usage: scripts/bench-sealed.sh [BUILD_DIR]      (default: build; needs ~4.5 GiB in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cli=$build/bin/chartcoder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

speed() {
  openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | awk '/^AES-256-GCM/ {
    printf "openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3: %.2f GB/s\n", $2 / 1e6 }'
}

echo "== machine"
lscpu | sed -n 's/^Model name: *//p'
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== baseline (before)"
speed

echo "== Google Benchmark (median of 5 repetitions; bytes_per_second in GiB/s)"
"$build/bin/sealed_benchmark" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_counters_tabular=true

echo "== end to end: chartcoder encrypt / decrypt (files in $work, fsync included)"
"$cli" keygen --keyring "$work/keyring" >/dev/null 2>&1
for size in 100M 1G; do
  head -c "$size" /dev/urandom >"$work/plain"
  for step in encrypt decrypt; do
    if [ "$step" = encrypt ]; then args=("$work/plain" "$work/sealed"); else args=("$work/sealed" "$work/out"); fi
    /usr/bin/time -f "$size $step: %e s wall, %U s user, %S s sys, peak RSS %M KiB" \
      "$cli" "$step" --keyring "$work/keyring" "${args[@]}" 2>&1 | grep -v '^chartcoder:'
  done
  cmp "$work/plain" "$work/out"
  rm -f "$work/plain" "$work/sealed" "$work/out"
done

echo "== baseline (after)"
speed
