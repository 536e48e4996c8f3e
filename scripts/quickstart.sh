#!/usr/bin/env bash
# Installs what is needed, builds chartcoder, and codes the example charts.
# Usage: scripts/quickstart.sh
#
# Leaves in build/quickstart/: results.jsonl (one JSON line per chart),
# reports/*.html (one evidence report per chart) and accuracy.txt (the run
# against the expected codes in examples/charts/*.codes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
cli=build/bin/chartcoder
out=build/quickstart
mkdir -p "$out/reports"
"$cli" version
"$cli" code examples/charts --output "$out/results.jsonl"
"$cli" code examples/charts --format html --output "$out/reports"
"$cli" eval --input examples/charts | tee "$out/accuracy.txt"
echo
echo "Coded $(wc -l < "$out/results.jsonl") charts: $out/results.jsonl, HTML reports in $out/reports/"
# One chart's codes, as a taste (the JSON schema: docs/output-schema.md).
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, sys
first = json.loads(open(sys.argv[1]).readline())
print(f"{first['id']}:")
for c in first["codes"]:
    print(f"  {c['code']:<9} {c['score']:.3f}  {c['description']}")
PY
