#!/usr/bin/env bash
# Installs every Debian 12 package chartcoder needs to build, test and benchmark.
# Idempotent: runs `apt-get update` and `apt-get install` only when a package is missing.
# Usage: scripts/install-deps.sh        (as root, or with sudo available)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # libraries
  libabsl-dev libre2-dev libicu-dev libeigen3-dev libssl-dev libsqlite3-dev libpq-dev
  libpugixml-dev libxxhash-dev libsimdjson-dev libcpp-httplib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # python bindings
  python3-dev pybind11-dev python3-pytest python3-distributed python3-jsonschema mypy
  # servers and tools used by tests
  postgresql openssl curl wrk hyperfine chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
