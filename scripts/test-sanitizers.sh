#!/usr/bin/env bash
# Builds the library, CLI, tests and fuzz drivers with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ and runs the C++ tests there.
# (The Python tests and the install consumer run in the normal build only.)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHARTCODER_SANITIZE=ON \
  -DCHARTCODER_BUILD_PYTHON=OFF -DCHARTCODER_BUILD_BENCHMARKS=OFF
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E '^(install_consumer|python_tests|python_typing)$'
