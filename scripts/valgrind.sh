#!/usr/bin/env bash
# The MPI tests under valgrind memcheck (tests/valgrind/tests.cmake): builds BUILD_DIR (default build-vg) as
# RelWithDebInfo, so reports carry file:line, then runs the tests labelled `valgrind` (each MPI test program on
# 2 ranks). Exit status 0 only if every run is clean. Extra arguments go to ctest (e.g. -R window).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mpi-env.sh
B=${BUILD_DIR:-build-vg}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)"; exit 2; }
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$(nproc)" >"$B/build.log" 2>&1 ||
  { grep -E ": (warning|error):" "$B/build.log" | head -20; exit 1; }
# one test at a time: each already runs 2 ranks, and memcheck on oversubscribed cores only gets slower
(cd "$B" && ctest --output-on-failure -L valgrind "$@")
