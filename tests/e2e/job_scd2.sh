#!/usr/bin/env bash
# scd2 end to end (docs/jobs/scd2.md): tessera-gen --snapshot 0/1/2, initial load + two applies on 1, 2 and 4
# ranks in both hard-delete modes (new_record with the defaults; invalidate with --type1 email), every output cell
# against the independent reference tests/e2e/ref_scd2.py (plus SCD2 invariants, md5 scd_id, survival of the
# previous versions), identical outputs for every P, generator determinism across rank counts, --snapshot 0 = no
# flag; then hand-made snapshots: delete-only, back-dated after it (refused), a deleted customer returning; and
# the refusals: re-applying a snapshot, an older one, a missing customers.csv, and --in dimensions that are
# corrupt (keys near INT64_MAX, duplicate keys, overlapping or doubly current versions).
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
refused() { # refused NAME RC PATTERN OUT command...: exits RC, prints PATTERN, writes no OUT
  local name=$1 want=$2 pattern=$3 out=$4; shift 4
  "$@" >"$tmp/log" 2>&1
  local rc=$?
  if [ $rc = "$want" ] && grep -q -- "$pattern" "$tmp/log" && [ ! -e "$out" ]; then ok
  else ko "$name: rc=$rc (want $want)"; grep -m5 "tessera\|error" "$tmp/log"; fi
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

# hand-made snapshots after s2: a delete-only one (2026-06-01: 7 customers gone, nothing else changes), a
# back-dated one (2026-05-15) and one where the deleted customers return unchanged (2026-07-01)
mkdir -p "$tmp/del" "$tmp/back" "$tmp/ret"
awk -F, 'NR == 1 || NR > 1000 || NR % 150 != 7' "$tmp/s2/customers.csv" >"$tmp/del/customers.csv"
echo snapshot_date=2026-06-01 >"$tmp/del/snapshot.txt"
cp "$tmp/s2/customers.csv" "$tmp/back/customers.csv"; echo snapshot_date=2026-05-15 >"$tmp/back/snapshot.txt"
cp "$tmp/s2/customers.csv" "$tmp/ret/customers.csv"; echo snapshot_date=2026-07-01 >"$tmp/ret/snapshot.txt"
check "delete-only snapshot deletes 7 customers" test "$(( $(wc -l <"$tmp/s2/customers.csv") - $(wc -l <"$tmp/del/customers.csv") ))" = 7

# the job on 1, 2 and 4 ranks, both hard-delete modes
MODES="new invalidate"
opts() { if [ "$1" = new ]; then echo ""; else echo "--hard-deletes invalidate --type1 email"; fi; }
refopts() { if [ "$1" = new ]; then echo "--mode new_record"; else echo "--mode invalidate --type1 email"; fi; }
for m in $MODES; do
  for P in 1 2 4; do
    d=$tmp/$m$P
    mkdir -p "$d"
    o=$(opts $m) r=$(refopts $m)
    check "$m P=$P initial load" mpi $P "$T" run scd2 --data "$tmp/s0" --out "$d/d0.h5" --quiet $o
    if [ $m = new ]; then  # the invalidate chain skips snapshot 1: s2 then brings two snapshots' changes at once
      check "$m P=$P apply snapshot 1" mpi $P "$T" run scd2 --data "$tmp/s1" --in "$d/d0.h5" --out "$d/d1.h5" --quiet $o
      S1=$tmp/s1 prev1=$d/d1.h5
    else
      S1="" prev1=$d/d0.h5
    fi
    check "$m P=$P apply snapshot 2" mpi $P "$T" run scd2 --data "$tmp/s2" --in "$prev1" --out "$d/d2.h5" --quiet $o
    check "$m P=$P apply the delete-only snapshot" mpi $P "$T" run scd2 --data "$tmp/del" --in "$d/d2.h5" --out "$d/d3.h5" --quiet $o
    refused "$m P=$P back-dated snapshot after the delete-only one" 2 "not after 2026-06-01" "$d/back.h5" \
      mpi $P "$T" run scd2 --data "$tmp/back" --in "$d/d3.h5" --out "$d/back.h5" --quiet $o
    check "$m P=$P the deleted customers return" mpi $P "$T" run scd2 --data "$tmp/ret" --in "$d/d3.h5" --out "$d/d4.h5" --quiet $o
    check "$m P=$P d0 vs reference" $REF check "$d/d0.h5" "$tmp/s0" $r
    [ $m = new ] && check "$m P=$P d1 vs reference" $REF check "$d/d1.h5" "$tmp/s0" "$tmp/s1" --prev "$d/d0.h5" $r
    check "$m P=$P d2 vs reference" $REF check "$d/d2.h5" "$tmp/s0" $S1 "$tmp/s2" --prev "$prev1" $r
    check "$m P=$P d3 vs reference" $REF check "$d/d3.h5" "$tmp/s0" $S1 "$tmp/s2" "$tmp/del" --prev "$d/d2.h5" $r
    check "$m P=$P d4 vs reference" $REF check "$d/d4.h5" "$tmp/s0" $S1 "$tmp/s2" "$tmp/del" "$tmp/ret" --prev "$d/d3.h5" $r
  done
  for P in 2 4; do
    for i in 0 1 2 3 4; do
      [ -e "$tmp/${m}1/d$i.h5" ] || continue
      check "$m d$i identical on 1 and $P ranks" $REF same "$tmp/${m}1/d$i.h5" "$tmp/$m$P/d$i.h5"
    done
  done
done
# the reference notices a wrong history and wrong options (guards against a checker that passes everything)
if $REF check "$tmp/new1/d1.h5" "$tmp/s0" "$tmp/s2" >/dev/null 2>&1; then ko "reference accepts a wrong dimension"; else ok; fi
if $REF check "$tmp/invalidate1/d2.h5" "$tmp/s0" "$tmp/s2" >/dev/null 2>&1; then ko "reference accepts the wrong mode"; else ok; fi
# what the modes mean, on the deleted customers of the delete-only snapshot
check "new_record: 7 current is_deleted versions, invalidate: none; the type-1 email changed no version" $PY - "$tmp" <<'EOF'
import sys, h5py
t = sys.argv[1]
def rows(p):
    g = h5py.File(p)["/warehouse/dim_customers_scd2"]
    return list(zip(*[g[c][()] for c in ("customer_id", "email", "is_current", "is_deleted", "valid_from")]))
june = 20605  # 2026-06-01, the delete-only snapshot
new, inv = rows(t + "/new2/d3.h5"), rows(t + "/invalidate2/d3.h5")
assert sum(1 for r in new if r[2] and r[3] and r[4] == june) == 7, "new_record deletion records"
assert sum(1 for r in inv if r[3]) == 0, "invalidate marks nothing"
# with --type1 email every version of a customer carries its current e-mail
emails = {}
for cid, email, cur, dele, since in rows(t + "/invalidate2/d2.h5"):
    emails.setdefault(cid, set()).add(email)
assert all(len(v) == 1 for v in emails.values()), "type-1 email differs between versions"
EOF

# refusals: re-applying the latest snapshot, an older snapshot (usage, 2), a directory without customers.csv (3)
refused "re-applying snapshot 2" 2 "not after 2026-03-01" "$tmp/again.h5" \
  mpi 2 "$T" run scd2 --data "$tmp/s2" --in "$tmp/new2/d2.h5" --out "$tmp/again.h5" --quiet
refused "an older snapshot" 2 "not after 2026-03-01" "$tmp/old.h5" \
  mpi 2 "$T" run scd2 --data "$tmp/s1" --in "$tmp/new2/d2.h5" --out "$tmp/old.h5" --quiet
mkdir -p "$tmp/empty"
refused "missing customers.csv" 3 "customers.csv" "$tmp/none.h5" mpi 2 "$T" run scd2 --data "$tmp/empty" --out "$tmp/none.h5" --quiet
refused "--type1 of a column that is no attribute" 2 "not an attribute" "$tmp/t1.h5" \
  mpi 1 "$T" run scd2 --data "$tmp/s0" --out "$tmp/t1.h5" --type1 customer_id --quiet

# corrupt --in dimensions (issue 10.12): each is refused with exit 4 and a message, nothing written
corrupt() { # corrupt NAME PYTHON-STATEMENTS: a copy of new2/d1.h5 with g = the dimension group, as $tmp/bad-NAME.h5
  cp "$tmp/new2/d1.h5" "$tmp/bad-$1.h5"
  $PY -c "
import h5py, numpy as np
g = h5py.File('$tmp/bad-$1.h5', 'r+')['/warehouse/dim_customers_scd2']
sk, cid, cur, to, tov = (g[c][()] for c in ('customer_sk', 'customer_id', 'is_current', 'valid_to', 'valid_to.valid'))
closed = int(np.flatnonzero(cur == 0)[0])  # a closed version; its customer's next version follows it
$2"
}
corrupt overflow "sk[np.argmax(sk)] = 2**63 - 2; g['customer_sk'][...] = sk"
corrupt dupkey "sk[1] = sk[0]; g['customer_sk'][...] = sk"
corrupt overlap "to[closed] += 5; g['valid_to'][...] = to"
corrupt twocurrent "cur[closed] = 1; tov[closed] = 0; g['is_current'][...] = cur; g['valid_to.valid'][...] = tov"
corrupt negative "sk[3] = -1; g['customer_sk'][...] = sk"
for P in 1 2; do
  refused "P=$P --in with customer_sk near INT64_MAX" 4 "overflow" "$tmp/o.h5" \
    mpi $P "$T" run scd2 --data "$tmp/s2" --in "$tmp/bad-overflow.h5" --out "$tmp/o.h5" --quiet
  refused "P=$P --in with a duplicate customer_sk" 4 "duplicate keys" "$tmp/o.h5" \
    mpi $P "$T" run scd2 --data "$tmp/s2" --in "$tmp/bad-dupkey.h5" --out "$tmp/o.h5" --quiet
done
for P in 2; do
  refused "P=$P --in with overlapping versions" 4 "overlapping versions" "$tmp/o.h5" \
    mpi $P "$T" run scd2 --data "$tmp/s2" --in "$tmp/bad-overlap.h5" --out "$tmp/o.h5" --quiet
  refused "P=$P --in with two current versions" 4 "current version followed" "$tmp/o.h5" \
    mpi $P "$T" run scd2 --data "$tmp/s2" --in "$tmp/bad-twocurrent.h5" --out "$tmp/o.h5" --quiet
  refused "P=$P --in with a negative customer_sk" 4 "not positive" "$tmp/o.h5" \
    mpi $P "$T" run scd2 --data "$tmp/s2" --in "$tmp/bad-negative.h5" --out "$tmp/o.h5" --quiet
done

echo "job_scd2: $pass passed, $fail failed"
[ "$fail" = 0 ]
