#!/usr/bin/env bash
# Builds the library, CLI, tests and fuzz drivers with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ and runs the C++ tests there.
# (The Python tests and the install consumer run in the normal build only.)
set -euo pipefail
cd "$(dirname "$0")/.."
# -O1 with line tables only (-g1): the sanitizers still see every access and
# report file:line, and the build is faster than -O2 -g (the whole CI run must
# stay under 30 minutes; see docs/PERFORMANCE.md, "CI").
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DCHARTCODER_SANITIZE=ON \
  -DCHARTCODER_BUILD_PYTHON=OFF -DCHARTCODER_BUILD_BENCHMARKS=OFF -DCHARTCODER_TESTS_PER_BINARY=ON
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E '^(install_consumer|python_tests|python_typing)$'
