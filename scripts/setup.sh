#!/usr/bin/env bash
# Installs Tessera's build and test dependencies (Debian 12 packages) and builds it into build/.
#   scripts/setup.sh          packages + release build
#   scripts/setup.sh --deps   packages only (what .ci/run uses before scripts/test.sh)
# Runs apt-get through sudo when not root. The packages beyond the build's (MPI, parallel HDF5, zlib) serve the
# tests: h5py/pandas (independent references), valgrind, Slurm + munge (a real single-node cluster), clang and
# its runtime (libFuzzer). libedit gives the SQL shell line editing and history; Chromium renders the HTML report in
# its test.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools zlib1g-dev \
  libsnappy-dev libzstd-dev \
  python3-h5py python3-numpy python3-pandas \
  valgrind slurm-wlm munge clang libclang-rt-14-dev llvm-14 \
  libedit-dev chromium </dev/null >/dev/null
# Node.js + npm for DuckDB (npm @duckdb/node-api), which checks Tessera's Parquet files in the tests
# (tests/e2e/job_parquet_roundtrip.sh) and serves the benchmarks; kept when a Node.js is already installed
command -v npm >/dev/null || $SUDO apt-get install -y -qq --no-install-recommends nodejs npm </dev/null >/dev/null
[ "${1:-}" = --deps ] && exit 0
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/tessera and build/tessera-gen"
