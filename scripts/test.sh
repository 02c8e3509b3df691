#!/usr/bin/env bash
# The test suite: a release build with every test (unit, MPI on 1/2/4 ranks, end-to-end against the Python
# reference, Slurm, MPI tests under valgrind, the >2^31-byte exchange), a short run of each fuzz target, then an
# ASan+UBSan build running the unit, MPI and error-path end-to-end tests. Exit status 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mpi-env.sh
J=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
build() { # fails on any compiler diagnostic (the flags make warnings errors anyway)
  cmake --build "$1" -j"$J" >"$1/build.log" 2>&1 || { grep -E ": (warning|error):" "$1/build.log" | head -20; exit 1; }
}
build build
(cd build && ctest --output-on-failure -j"$J")

# A fixed seed makes the short run a reproducible gate (the same inputs in the same order on every machine); the
# long runs explore with random seeds and their findings land in tests/fuzz/regressions, replayed here every time.
echo "== fuzz targets (libFuzzer + ASan/UBSan), 10 s each, seed 1 (long runs: scripts/fuzz.sh 600)"
TS_FUZZ_SEED=1 scripts/fuzz.sh 10

echo "== sanitizer build (ASan + UBSan): unit and MPI tests, the job, end-to-end error paths"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTS_SANITIZE=ON >/dev/null
build build-asan
export ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan-ompi.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# the e2e scripts that fit CI's time under the sanitizers: bad input and the CLI's errors (their error paths);
# job_sanitized (label mpi) runs the whole job
(cd build-asan && ctest --output-on-failure -j"$J" -L 'unit|mpi|e2e' -E 'asan_job_|asan_run_e2e')
