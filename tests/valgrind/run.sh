#!/usr/bin/env bash
# Runs one MPI test program under valgrind memcheck on NP ranks: run.sh NP PROGRAM [ARGS...]
# Fails (non-zero) on the program's own failure, on any memcheck error (invalid read/write, use of uninitialised
# values, bad free) and on definite leaks. Open MPI / PMIx start-up noise is suppressed by ompi-debian12.supp next
# to this script. Each rank writes its own log; the logs of failing ranks are printed.
set -u
NP=${1:?usage: run.sh NP PROGRAM [ARGS...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# Tessera's large blocks are private mappings and a pool of freed mappings, which memcheck cannot see into
# (engine/core/ts_mem.c): take everything from the heap so block bounds, uninitialised bytes and leaks are checked.
export TS_MEM_HEAP=1
mpirun -n "$NP" valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --num-callers=40 --suppressions="$here/ompi-debian12.supp" \
  --log-file="$logs/vg.%p.log" "$@"
rc=$?
# Belt and braces: a memcheck error in any rank fails the test even if mpirun's status lost the 99.
bad=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/vg.*.log 2>/dev/null | xargs -r grep -l "ERROR SUMMARY" || true)
if [ "$rc" != 0 ] || [ -n "$bad" ]; then
  echo "valgrind run failed: exit status $rc"
  for f in ${bad:-$logs/vg.*.log}; do echo "==== $f"; cat "$f"; done
  [ "$rc" != 0 ] || rc=99
  exit "$rc"
fi
echo "valgrind: ${NP} rank(s) clean: $(grep -h "ERROR SUMMARY" "$logs"/vg.*.log | head -1 | sed 's/^==[0-9]*== //')"
