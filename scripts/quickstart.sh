#!/usr/bin/env bash
# Installs what is needed, builds chartcoder, and runs it on the example charts.
# Usage: scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
build/bin/chartcoder version
# Until chart coding lands, look up the codes the example charts document.
build/bin/chartcoder lookup E11.22 N18.4 I50.22 J44.1 E66.01 Z89.512
