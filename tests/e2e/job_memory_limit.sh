#!/usr/bin/env bash
# bank-analytics under --memory-limit (docs/architecture.md, "Memory budget"):
#  1. partitioned mode forced on small data (TESSERA_PARTITIONS) gives output identical to the in-memory mode,
#     on 1, 2 and 4 ranks, and removes its spill files;
#  2. a limit 10x smaller than the input data: the peak resident memory of every rank stays under it (VmHWM,
#     reported by the job and checked here), the output is identical to an unlimited run, every input row is
#     accounted for (the summary of both runs agrees with the manifest), and the peak RSS of both runs is printed;
#  3. errors: a limit below what the process needs, a spill directory that cannot be written.
set -u
BUILD=${1:?usage: job_memory_limit.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$BUILD/tessera
G=$BUILD/tessera-gen
PY=/usr/bin/python3
SAME="$PY $HERE/h5_identical.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
ko() { fail=$((fail+1)); echo "FAIL $*"; }
check() { # check NAME command...: passes when the command exits 0
  local name=$1; shift
  if "$@" >"$tmp/log" 2>&1; then ok; else ko "$name"; head -20 "$tmp/log"; fi
}
mpi() { local n=$1; shift; mpirun -n "$n" --oversubscribe "$@"; }
# the largest "peak memory X MiB" a run reported, in bytes
peak_of() { sed -n 's/^peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$1" | awk '{printf "%d\n", $1 * 1048576}'; }

# 1. forced partitions on small data
check "gen small" mpi 2 "$G" --rows 60000 --seed 5 --rows-per-file 20000 --out "$tmp/small" --quiet
check "in-memory reference" mpi 2 "$T" run bank-analytics --data "$tmp/small" --out "$tmp/ref.h5" --quiet
mkdir -p "$tmp/spill"
for np in 1 2 4; do
  check "partitioned np$np" env TESSERA_PARTITIONS=7 mpirun -n $np --oversubscribe -x TESSERA_PARTITIONS \
    "$T" run bank-analytics --data "$tmp/small" --out "$tmp/part$np.h5" --spill-dir "$tmp/spill" --quiet
  check "partitioned np$np = in-memory" $SAME "$tmp/ref.h5" "$tmp/part$np.h5"
done
check "spill files removed" bash -c "[ -z \"\$(ls -A '$tmp/spill')\" ]"

# 2. a limit 10x smaller than the data
ROWS=${TS_MEMLIMIT_ROWS:-5000000}
check "gen big" mpi 2 "$G" --rows "$ROWS" --seed 9 --out "$tmp/big" --quiet
bytes=$(du -sb "$tmp/big" | cut -f1)
limit=$((bytes / 10))
# an explicit limit far above the need: the in-memory mode, with its peak reported
check "unlimited run" mpi 2 "$T" run bank-analytics --data "$tmp/big" --out "$tmp/full.h5" --memory-limit 8G --quiet
cp "$tmp/log" "$tmp/full.log"
check "limited run" mpi 2 "$T" run bank-analytics --data "$tmp/big" --out "$tmp/lim.h5" --memory-limit "$limit" \
  --spill-dir "$tmp/spill" --profile
cp "$tmp/log" "$tmp/lim.log"
peak=$(peak_of "$tmp/lim.log")
full=$(peak_of "$tmp/full.log")
check "in-memory mode without a tight limit" bash -c "grep -q '; 1 partition,' '$tmp/full.log'"
echo "data $((bytes / 1048576)) MiB on 2 ranks: limit $((limit / 1048576)) MiB per rank; peak RSS per rank (max)" \
     "with the limit $((${peak:-0} / 1048576)) MiB, without it $((${full:-0} / 1048576)) MiB"
check "partitioned under the limit" grep -q "partitions spilled to" "$tmp/lim.log"
check "peak RSS $peak <= limit $limit" test -n "$peak" -a "$peak" -le "$limit"
check "no over-limit warning" bash -c "! grep -q 'exceeded --memory-limit' '$tmp/lim.log'"
check "limited = unlimited output" $SAME "$tmp/full.h5" "$tmp/lim.h5"
check "every row accounted for" $PY - "$tmp/lim.h5" "$tmp/big/manifest.json" <<'EOF'
import sys, json, h5py
f = h5py.File(sys.argv[1]); m = json.load(open(sys.argv[2]))
s = dict(zip([x.decode() for x in f['/quality/summary/metric'][:]], f['/quality/summary/count'][:]))
assert s['rows_read'] == m['rows'], (s['rows_read'], m['rows'])
assert s['rows_clean'] + s['rows_rejected'] == s['rows_read']
assert len(f['/quality/rejects/line']) == s['rows_rejected']
EOF
check "spill files removed after the big run" bash -c "[ -z \"\$(ls -A '$tmp/spill')\" ]"

# 3. errors
mpi 2 "$T" run bank-analytics --data "$tmp/small" --out "$tmp/e1.h5" --memory-limit 1M >"$tmp/e1.log" 2>&1
rc=$?
check "tiny limit: exit 2 ($rc)" test $rc -eq 2
check "tiny limit: message" grep -q "memory-limit 1.0 MiB is too small" "$tmp/e1.log"
TESSERA_PARTITIONS=3 mpirun -n 2 --oversubscribe -x TESSERA_PARTITIONS "$T" run bank-analytics --data "$tmp/small" \
  --out "$tmp/e2.h5" --spill-dir "$tmp/nonexistent" >"$tmp/e2.log" 2>&1
rc=$?
check "bad spill dir: exit 3 ($rc)" test $rc -eq 3
check "bad spill dir: message names the file" grep -q "spill file $tmp/nonexistent/tessera-spill-.*: create failed" "$tmp/e2.log"
check "bad spill dir: no output" test ! -e "$tmp/e2.h5"

echo "job_memory_limit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
