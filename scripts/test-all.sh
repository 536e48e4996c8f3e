#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test (C++ tests, fuzz targets
# over their corpora, the install consumer, the Python tests), then the same C++
# tests built with AddressSanitizer and UndefinedBehaviorSanitizer.
# Usage: scripts/test-all.sh        (CHARTCODER_SKIP_SANITIZERS=1 skips the second build)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ "${CHARTCODER_SKIP_SANITIZERS:-0}" != 1 ]; then
  scripts/test-sanitizers.sh
fi
echo "test-all: every test passed"
