#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang and runs each for SECONDS_PER_TARGET (default 30) on a copy
# of its seed corpus and regression inputs, in a temporary directory (tests/fuzz is never written to).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]        TS_FUZZ_BUILD=DIR (default build-fuzz)  TS_FUZZ_TARGETS="csv rules"
#                                               TS_FUZZ_SEED=N (default: random; scripts/test.sh passes 1)
#
# Prints per target: executions, exec/s, coverage (edges), features, corpus size and crashes. Exit status 1 when a
# target crashed in Tessera's code (or violated one of its invariants): the input is kept under the printed
# directory, to be fixed and added to tests/fuzz/regressions/<target>/. fuzz_h5_read runs in fork mode and keeps
# going after a crash; its crashes whose first frame outside the sanitizer runtime and libc is inside libhdf5 are
# listed separately as HDF5 library findings and do not fail the run.
# Needs clang and libFuzzer, and llvm-symbolizer for readable reports (Debian: clang libclang-rt-14-dev llvm-14).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-30}
BUILD=${TS_FUZZ_BUILD:-build-fuzz}
TARGETS=${TS_FUZZ_TARGETS:-"parse csv csv_infer rules h5_read parquet"}
J=$(nproc)

command -v clang >/dev/null ||
  { echo "fuzz.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
CC=clang cmake -S . -B "$BUILD" -DTS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target fuzz_targets -j"$J" >"$BUILD/fuzz-build.log" 2>&1 ||
  { grep -E ": (warning|error):" "$BUILD/fuzz-build.log" | head -20; echo "fuzz.sh: build failed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tessera-fuzz.XXXXXX)
echo "fuzz.sh: ${SECONDS_PER_TARGET}s per target, work directory $WORK"
export LSAN_OPTIONS=suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# symbolized reports name the functions, which sorting libhdf5's crashes from ours needs (Debian: package llvm-14)
if ! command -v llvm-symbolizer >/dev/null; then
  if [ -x /usr/bin/llvm-symbolizer-14 ]; then
    export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
  else
    echo "fuzz.sh: warning: no llvm-symbolizer (apt-get install llvm-14): reports will not name functions" >&2
  fi
fi
. scripts/mpi-env.sh # fuzz_h5_read initialises MPI (one rank, no launcher)

max_len() { case $1 in parse) echo 512 ;; h5_read) echo 32768 ;; parquet) echo 16384 ;; *) echo 4096 ;; esac; }
dict() { case $1 in csv_infer) echo csv ;; *) echo "$1" ;; esac; }

# "hdf5" when the first frame of the replayed input's report outside the runtime and libc is in libhdf5, else "ours"
classify() {
  local bin=$1 input=$2 frame
  local runtime='__sanitizer|__asan|__ubsan|__interceptor|__lsan|fuzzer::|libc\.so|ld-linux|sysdeps/|libio/|string/'
  runtime+='| in (malloc|calloc|realloc|free|memcpy|memmove|memset|strlen|strdup) '
  frame=$("$bin" -runs=1 "$input" 2>&1 | grep -E '^ *#[0-9]+ 0x' | grep -vE "$runtime" | head -1 || true)
  case $frame in *libhdf5*) echo hdf5 ;; *) echo ours ;; esac
}

failed=0 kept=0
printf '%-10s %10s %8s %7s %7s %7s %8s\n' target execs exec/s cov ft corpus crashes
for t in $TARGETS; do
  bin=$BUILD/tests/fuzz/fuzz_$t
  corpus=$WORK/corpus_$t art=$WORK/artifacts_$t/ log=$WORK/fuzz_$t.log
  mkdir -p "$corpus" "$art" "$WORK/regressions_$t"
  cp -r tests/fuzz/corpus/"$t"/. "$corpus"/
  [ -d tests/fuzz/regressions/"$t" ] && cp -r tests/fuzz/regressions/"$t"/. "$WORK/regressions_$t"/
  args=(-max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=4096
        -artifact_prefix="$art" -print_final_stats=1)
  [ -n "${TS_FUZZ_SEED:-}" ] && args+=(-seed="$TS_FUZZ_SEED")
  [ -f tests/fuzz/"$(dict "$t")".dict ] && args+=(-dict="tests/fuzz/$(dict "$t").dict")
  rc=0
  if [ "$t" = h5_read ]; then
    # libhdf5 is not ours to fix: keep fuzzing after its crashes, hangs and memory blow-ups, sort them afterwards.
    # It allocates sizes read from corrupt files (hundreds of GB): let malloc fail as it would without ASan.
    ASAN_OPTIONS=fast_unwind_on_malloc=0:allocator_may_return_null=1 "$bin" "${args[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
      -ignore_ooms=1 "$corpus" "$WORK/regressions_$t" >"$log" 2>&1 || rc=$?
    stats=$({ grep -E '^#[0-9]+: cov:' "$log" || true; } | tail -1)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$stats")
    eps=$(sed -E 's/.*exec\/s:? ([0-9]+).*/\1/' <<<"$stats")
  else
    "$bin" "${args[@]}" "$corpus" "$WORK/regressions_$t" >"$log" 2>&1 || rc=$?
    stats=$({ grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" || true; } | tail -1)
    execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    eps=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  fi
  cov=$(grep -oE 'cov: [0-9]+' <<<"$stats" | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$stats" | grep -oE '[0-9]+' || true)
  ours=() hdf5=()
  for a in "$art"*; do
    [ -f "$a" ] || continue
    if [ "$t" = h5_read ] && [ "$(ASAN_OPTIONS=fast_unwind_on_malloc=0:allocator_may_return_null=1 classify "$bin" "$a")" = hdf5 ]; then
      hdf5+=("$a")
    else
      ours+=("$a")
    fi
  done
  [ "$rc" = 0 ] || [ ${#ours[@]} -gt 0 ] || ours+=("(exit status $rc, see $log)")
  printf '%-10s %10s %8s %7s %7s %7s %8s\n' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" \
    "$(find "$corpus" -type f | wc -l)" "${#ours[@]}"
  for a in "${ours[@]}"; do
    echo "  CRASH in Tessera: $a"
    failed=1
  done
  if [ ${#ours[@]} -gt 0 ]; then
    { grep -E 'ERROR|invariant|SUMMARY|^ *#[0-9]+ 0x' "$log" || true; } | head -30 | sed 's/^/    /' || true
  fi
  for a in "${hdf5[@]}"; do
    echo "  libhdf5 finding (not Tessera's code; reported separately): $a"
    kept=1
  done
done
if [ "$failed" = 0 ]; then
  echo "fuzz.sh: no crash in Tessera's code"
  [ "$kept" = 1 ] || rm -rf "$WORK"
else
  echo "fuzz.sh: FAILED; inputs and logs are in $WORK" >&2
fi
exit "$failed"
