#!/usr/bin/env bash
# `tessera sql` at its limits (issue 10): an allocation failure in a join is exit 5 with a clear message (not a
# crash); and the other cases added below, each with its exit code and the message it must print.
set -u
BUILD=${1:?usage: job_sql_limits.sh BUILD_DIR}
T=$BUILD/tessera
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
expect() { # expect NAME WANT_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$tmp/out"; }; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL $name: rc=$rc (want $want, pattern '$pat'), output:"; head -8 "$tmp/out"; fi
}
MPI="mpirun -n 2 --oversubscribe"

# a cross join of 10^10 pairs under a 1.2 GB address-space limit: out of memory (5), never a crash
expect join-oom 5 "out of memory for the matches of a join" -- \
  bash -c "ulimit -v 1200000; $MPI $T sql -c 'SELECT count(*) FROM range(100000) a, range(100000) b'"

echo "job_sql_limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
