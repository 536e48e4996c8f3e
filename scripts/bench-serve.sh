#!/usr/bin/env bash
# Load test of `chartcoder serve` on loopback with wrk (docs/PERFORMANCE.md,
# "HTTPS API (issue 8)").
#
# Usage: scripts/bench-serve.sh [--duration 10s] [--connections 8] [--wrk-threads 1]
#                               [--chart examples/charts/office_t2dm_ckd3b_htn.txt]
#
# 1. Makes a throwaway certificate, a SQLite store and a code-scope token in a
#    temporary folder, and starts `chartcoder serve` on a free port of
#    127.0.0.1 (TLS; rate limit off, so that wrk measures the server, not
#    the limiter; --threads 2 charts coded at once).
# 2. Stores every example chart for one patient (POST /v1/code with
#    "store": true), then runs `wrk --latency` (keep-alive TLS connections)
#    against: GET /healthz (the baseline: no token, no work), POST /v1/code
#    with the chart (not stored), GET /v1/charts/{id} and
#    GET /v1/patients/{id}/hccs, each with a bearer token (wrk Lua scripts).
# 3. Baseline for POST /v1/code in the same run: `chartcoder code --threads 2`
#    in-process on 1,000 copies of the same chart (JSON Lines), charts/s.
# Prints requests/s, p50 and p99 latency per route. The server and wrk are
# stopped when the script ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s
connections=8
wrk_threads=1
chart=examples/charts/office_t2dm_ckd3b_htn.txt
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --wrk-threads) wrk_threads="$2"; shift 2 ;;
    --chart) chart="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration 10s] [--connections 8] [--wrk-threads 1] [--chart FILE]" >&2
       exit 1 ;;
  esac
done

cli=$PWD/build/bin/chartcoder
[ -x "$cli" ] || { echo "bench-serve: build first ($cli missing)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-serve: needs wrk (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
db="sqlite:$work/cc.db"
token=$("$cli" tokens create --scope code --name bench --db "$db" 2>/dev/null)

"$cli" serve --cert "$work/cert.pem" --key "$work/key.pem" --port 0 --db "$db" \
  --rate-limit 0 --threads 2 --connections $((connections + 8)) \
  --connections-per-client $((connections + 8)) \
  --audit-log "$work/audit.log" 2> "$work/serve.log" &
server_pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*serving https://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.log")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "bench-serve: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base="https://127.0.0.1:$port"

# Request bodies: the chart (coded, not stored), and every example chart
# stored for one patient.
/usr/bin/python3 - "$chart" "$work" examples/charts <<'EOF'
import json, os, sys
chart, work, examples = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(chart, encoding="utf-8").read()
json.dump({"id": os.path.basename(chart), "text": text}, open(f"{work}/code.json", "w"))
with open(f"{work}/charts.jsonl", "w") as out:
    for _ in range(2000):
        out.write(json.dumps({"id": os.path.basename(chart), "text": text}) + "\n")
for name in sorted(os.listdir(examples)):
    if name.endswith(".txt"):
        body = {"id": name, "text": open(os.path.join(examples, name), encoding="utf-8").read(),
                "patient_id": "bench-member", "store": True}
        json.dump(body, open(f"{work}/store-{name}.json", "w"))
EOF
stored=0
for f in "$work"/store-*.json; do
  status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/cert.pem" "$base/v1/code" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary @"$f")
  [ "$status" = 200 ] || { echo "bench-serve: storing $f: HTTP $status" >&2; exit 1; }
  stored=$((stored + 1))
done
chart_id=$(basename "$chart")

cat > "$work/get.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
EOF
cat > "$work/post.lua" <<EOF
local f = assert(io.open("$work/code.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: TLS on 127.0.0.1, SQLite store ($stored charts stored), rate limit off, 2 coding threads"
echo "wrk: $wrk_threads thread(s), $connections keep-alive connections, $duration per route"
echo "chart: $chart ($(stat -c %s "$chart") bytes)"
echo
printf '%-30s %11s %10s %10s %8s %14s\n' route "requests/s" "p50" "p99" "non-2xx" "server CPU/req"

ticks=$(getconf CLK_TCK)
server_cpu() {  # user + system clock ticks of the server so far
  awk '{print $14 + $15}' "/proc/$server_pid/stat"
}
run() {  # label url [lua]
  local label="$1" url="$2" lua="${3:-}"
  local out before after
  before=$(server_cpu)
  if [ -n "$lua" ]; then
    out=$(wrk -t "$wrk_threads" -c "$connections" -d "$duration" --latency -s "$lua" "$url")
  else
    out=$(wrk -t "$wrk_threads" -c "$connections" -d "$duration" --latency "$url")
  fi
  after=$(server_cpu)
  local rps p50 p99 bad n cpu
  rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  bad=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *//p')
  n=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  cpu=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$n" 'BEGIN {printf "%.3f ms", t * 1000 / hz / n}')
  printf '%-30s %11s %10s %10s %8s %14s\n' "$label" "$rps" "$p50" "$p99" "${bad:-0}" "$cpu"
}

# The in-process baseline: the same chart, coded by the CLI with 2 threads
# (run just before and just after POST /v1/code: the machine is shared).
baseline() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" \
    "$cli" code --input-format jsonl --threads 2 "$work/charts.jsonl" --output /dev/null
  read -r wall user sys < "$work/time"
  awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
    printf "%-30s %11.1f %10s %10s %8s %11.3f ms\n", "chartcoder code (in-process)", 2000 / w, "-", "-", "-", (u + s) / 2}'
}

run "GET /healthz (no token, no work)" "$base/healthz"
baseline
run "POST /v1/code" "$base/v1/code" "$work/post.lua"
baseline
run "GET /v1/charts/{id}" "$base/v1/charts/$chart_id" "$work/get.lua"
run "GET /v1/patients/{id}/hccs" "$base/v1/patients/bench-member/hccs?model=V28" "$work/get.lua"
echo
echo "chartcoder code (in-process): --threads 2 over 2000 copies of the chart (JSON Lines), pack load"
echo "included; requests/s there is charts/s, CPU/req is CPU per chart."
echo "audit lines written: $(wc -l < "$work/audit.log")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
