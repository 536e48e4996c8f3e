#!/usr/bin/env bash
# End-to-end throughput and peak memory of `chartcoder code` on >= 100 MB of
# chart text (docs/PERFORMANCE.md, "Chart coding (issue 5)").
#
# Usage: scripts/bench-code.sh [--mb 100] [--threads "1 2"] [--stages-mb 20]
#
# 1. Generates the charts once (scripts/gen-charts.py, seed 1) as
#    build/bench/charts-<MB>mb.jsonl: the example charts varied (sections
#    shuffled, abbreviations swapped, numbers, dates and laterality changed).
# 2. Runs `/usr/bin/time -v build/bin/chartcoder code --input-format jsonl
#    --threads N FILE --output /dev/null` for each N and prints wall time,
#    CPU time, MB/s, MB/s per core (chart bytes / wall / N) and peak RSS.
# 3. Baseline in the same run: the pipeline's stages one by one over the
#    first --stages-mb MB of the same file, one thread
#    (build/bin/pipeline_benchmark --benchmark_filter=File): the text front end
#    alone, + extractor, + coder, Pipeline::Code, + JSON.
# Needs a Release build in build/ (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release).
set -euo pipefail
cd "$(dirname "$0")/.."

mb=100
threads="1 2"
stages_mb=20
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --stages-mb) stages_mb="$2"; shift 2 ;;
    *) echo "usage: $0 [--mb 100] [--threads \"1 2\"] [--stages-mb 20]" >&2; exit 1 ;;
  esac
done

cli=build/bin/chartcoder
[ -x "$cli" ] || { echo "bench-code: build first ($cli missing)" >&2; exit 1; }
mkdir -p build/bench
input="build/bench/charts-${mb}mb.jsonl"
if [ ! -s "$input" ]; then
  /usr/bin/python3 scripts/gen-charts.py --mb "$mb" --output "$input" --seed 1
fi
# Chart bytes (the "text" fields), not the JSON around them.
chart_bytes=$(/usr/bin/python3 -c '
import json, sys
print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1], encoding="utf-8")))' "$input")
charts=$(wc -l < "$input")

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $input: $charts charts, $chart_bytes bytes of chart text ($(stat -c %s "$input") bytes of JSON Lines)"
echo

for n in $threads; do
  log=$(mktemp)
  /usr/bin/time -v "$cli" code --input-format jsonl --threads "$n" "$input" --output /dev/null \
    2> "$log" || { tail -5 "$log" >&2; rm -f "$log"; exit 1; }
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  user=$(sed -n 's/.*User time (seconds): //p' "$log")
  sys=$(sed -n 's/.*System time (seconds): //p' "$log")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  rm -f "$log"
  /usr/bin/python3 - "$n" "$wall" "$user" "$sys" "$rss" "$chart_bytes" <<'EOF'
import sys
n, wall, user, sys_t, rss, nbytes = sys.argv[1:]
n = int(n)
parts = [float(p) for p in wall.split(":")]
secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
mb = int(nbytes) / 1e6
cpu = float(user) + float(sys_t)
print(f"--threads {n}: wall {secs:.1f} s, CPU {cpu:.1f} s, {mb / secs:.2f} MB/s, "
      f"{mb / secs / n:.2f} MB/s per core (wall), {mb / cpu:.2f} MB/s per CPU-second, "
      f"peak RSS {int(rss) / 1024:.0f} MiB")
EOF
done

echo
echo "stages, one thread, first $stages_mb MB of the same charts:"
CHARTCODER_BENCH_JSONL="$input" CHARTCODER_BENCH_MB="$stages_mb" \
  build/bin/pipeline_benchmark --benchmark_filter='BM_PipelineFile' 2>/dev/null |
  grep BM_PipelineFile
