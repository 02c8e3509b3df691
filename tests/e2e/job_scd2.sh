#!/usr/bin/env bash
# scd2 end to end (docs/jobs/scd2.md): tessera-gen --snapshot 0/1/2, initial load + two applies on 1, 2 and 4
# ranks, every output cell against the independent reference tests/e2e/ref_scd2.py (plus SCD2 invariants and
# survival of the previous versions), identical outputs for every P, generator determinism across rank counts,
# --snapshot 0 = no flag, idempotent re-apply, and the errors (older snapshot, missing customers.csv).
set -u
BUILD=${1:?usage: job_scd2.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$BUILD/tessera
G=$BUILD/tessera-gen
PY=/usr/bin/python3
REF="$PY $HERE/ref_scd2.py"
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
ROWS=40000 SEED=11

# generator: snapshots 0..2; determinism across rank counts; --snapshot 0 is the plain output
for k in 0 1 2; do
  check "gen snapshot $k" mpi 2 "$G" --rows $ROWS --seed $SEED --rows-per-file 10000 --snapshot $k --out "$tmp/s$k" --quiet
done
check "gen snapshot 2 on 1 rank" mpi 1 "$G" --rows $ROWS --seed $SEED --rows-per-file 10000 --snapshot 2 --out "$tmp/s2p1" --quiet
check "gen snapshot 2 on 3 ranks" mpi 3 "$G" --rows $ROWS --seed $SEED --rows-per-file 10000 --snapshot 2 --out "$tmp/s2p3" --quiet
check "gen --snapshot 2 same bytes on 1/2/3 ranks" bash -c "diff -r '$tmp/s2' '$tmp/s2p1' && diff -r '$tmp/s2' '$tmp/s2p3'"
check "gen without --snapshot" mpi 3 "$G" --rows $ROWS --seed $SEED --rows-per-file 10000 --out "$tmp/plain" --quiet
check "gen --snapshot 0 = no flag" diff -r "$tmp/s0" "$tmp/plain"
check "gen snapshot 0 writes no snapshot.txt" test ! -e "$tmp/s0/snapshot.txt"
check "snapshot 1/2 dates" bash -c "grep -qx snapshot_date=2026-02-01 '$tmp/s1/snapshot.txt' && grep -qx snapshot_date=2026-03-01 '$tmp/s2/snapshot.txt' && grep -q '\"snapshot_date\": \"2026-03-01\"' '$tmp/s2/manifest.json'"
check "snapshots change only customers.csv" bash -c "diff -r -x customers.csv -x manifest.json -x snapshot.txt '$tmp/s0' '$tmp/s2'"
# evolution: some changed, some deleted, new ids above the old maximum; untouched customers keep their line
check "snapshot 1 evolves snapshot 0" $PY - "$tmp/s0/customers.csv" "$tmp/s1/customers.csv" <<'EOF'
import sys, csv
a = {r[0]: r for r in csv.reader(open(sys.argv[1]))}; b = {r[0]: r for r in csv.reader(open(sys.argv[2]))}
del a["customer_id"], b["customer_id"]
changed = sum(1 for k in a if k in b and a[k] != b[k]); deleted = sum(1 for k in a if k not in b)
new = [int(k) for k in b if k not in a]; n = len(a)
assert 0.02 * n < changed < 0.07 * n, changed
assert 0.002 * n < deleted < 0.03 * n, deleted
assert len(new) == n // 50 and min(new) > max(map(int, a)), new[:3]
assert all(a[k][5] == b[k][5] and a[k][4] == b[k][4] for k in a if k in b)  # opened_date, country stay
EOF

# the job on 1, 2 and 4 ranks
for P in 1 2 4; do
  d=$tmp/p$P
  mkdir -p "$d"
  check "P=$P initial load" mpi $P "$T" run scd2 --data "$tmp/s0" --out "$d/d0.h5" --quiet
  check "P=$P apply snapshot 1" mpi $P "$T" run scd2 --data "$tmp/s1" --in "$d/d0.h5" --out "$d/d1.h5" --quiet
  check "P=$P apply snapshot 2" mpi $P "$T" run scd2 --data "$tmp/s2" --in "$d/d1.h5" --out "$d/d2.h5" --quiet
  check "P=$P d0 vs reference" $REF check "$d/d0.h5" "$tmp/s0"
  check "P=$P d1 vs reference" $REF check "$d/d1.h5" "$tmp/s0" "$tmp/s1" --prev "$d/d0.h5"
  check "P=$P d2 vs reference" $REF check "$d/d2.h5" "$tmp/s0" "$tmp/s1" "$tmp/s2" --prev "$d/d1.h5"
done
for P in 2 4; do
  for i in 0 1 2; do
    check "d$i identical on 1 and $P ranks" $REF same "$tmp/p1/d$i.h5" "$tmp/p$P/d$i.h5"
  done
done
# the reference notices a wrong history (guards against a checker that passes everything)
if $REF check "$tmp/p1/d1.h5" "$tmp/s0" "$tmp/s2" >/dev/null 2>&1; then ko "reference accepts a wrong dimension"; else ok; fi

# re-applying the latest snapshot changes nothing
check "re-apply snapshot 2" mpi 2 "$T" run scd2 --data "$tmp/s2" --in "$tmp/p2/d2.h5" --out "$tmp/again.h5" --quiet
check "re-apply is a no-op" $REF same "$tmp/p2/d2.h5" "$tmp/again.h5"
# errors: an older snapshot (usage, 2), a directory without customers.csv (I/O, 3)
mpi 2 "$T" run scd2 --data "$tmp/s1" --in "$tmp/p2/d2.h5" --out "$tmp/old.h5" --quiet >"$tmp/log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "before the dimension's latest version" "$tmp/log" && [ ! -e "$tmp/old.h5" ]; then ok
else ko "older snapshot: rc=$rc"; head -5 "$tmp/log"; fi
mkdir -p "$tmp/empty"
mpi 2 "$T" run scd2 --data "$tmp/empty" --out "$tmp/none.h5" --quiet >"$tmp/log" 2>&1
rc=$?
if [ $rc = 3 ] && grep -q "customers.csv" "$tmp/log"; then ok; else ko "missing customers.csv: rc=$rc"; head -5 "$tmp/log"; fi

echo "job_scd2: $pass passed, $fail failed"
[ "$fail" = 0 ]
