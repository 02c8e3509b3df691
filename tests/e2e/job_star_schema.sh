#!/usr/bin/env bash
# End-to-end check of star-schema and top-customers against the independent reference tests/e2e/ref_star_schema.py.
#   job_star_schema.sh BUILD_DIR      (env: STAR_ROWS=60000 STAR_SEED=5 KEEP_E2E=1 keeps the temp dir)
# Build A: generated data with 3 % faults in 3 files, FX rates missing for Brazil (all months) and for Argentina in
# 2023, plus a file of problem rows (unknown customer, unknown account, an account of another customer, a
# duplicate, a bad date, dates without FX rate and after the scd2 snapshot). Build B: the same data with one
# customer removed and one added (id 0, which would renumber every key were keys positions), built with --in A
# (key maps) and --scd2 (a type-2 customer dimension from tessera-gen snapshots 0 and 1). Both builds on 1, 2 and
# 4 ranks (B also on 3 with shuffle joins forced), every table against the reference, outputs identical across
# rank counts, top-customers on each (NULL totals last, unconverted counts), and explicit checks of the stable
# keys, the unknown member and the versions.
set -u
BUILD=$(cd "${1:?usage: job_star_schema.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3 has h5py + pandas
ROWS=${STAR_ROWS:-60000}
SEED=${STAR_SEED:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE
for exe in "$BUILD/tessera" "$BUILD/tessera-gen"; do
  [[ -x $exe ]] || { echo "job_star_schema: $exe not built" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/tessera-star.XXXXXX)
if [[ -n ${KEEP_E2E:-} ]]; then echo "keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
passed=0 failed=0
check() {  # check "what" cmd...: runs cmd, records the verdict, shows the output of failures
  local what=$1; shift
  if "$@" >"$TMP/last.log" 2>&1; then
    echo "PASS  $what"; passed=$((passed + 1))
  else
    echo "FAIL  $what (exit $?)"; sed 's/^/      /' "$TMP/last.log" | head -40; failed=$((failed + 1))
  fi
}
run() {  # run P JOB ARGS...: a job under mpirun with a hard time limit
  local np=$1; shift
  timeout 600 mpirun --oversubscribe -n "$np" "$BUILD/tessera" run "$@"
}
REF="$HERE/ref_star_schema.py"

echo "== generating $ROWS rows (seed $SEED, 3 % faults) in $TMP"
gen() { mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" --rows-per-file $((ROWS / 3)) \
          --faults 0.03 --quiet "$@"; }
check "tessera-gen" gen --out "$TMP/A"
check "tessera-gen --snapshot 1" gen --snapshot 1 --out "$TMP/s1"
# FX gaps: no rate for Brazil at all, none for Argentina in 2023
grep -v -e '^BRA,' -e '^ARG,2023-' "$TMP/A/fx_rates.csv" >"$TMP/fx" && mv "$TMP/fx" "$TMP/A/fx_rates.csv"

# the problem rows. OTHER = an account of some customer other than customer 1; CHANGED = a customer whose
# attributes change in snapshot 1 (a second version from 2026-02-01), DELETED = one deleted by it
OTHER=$(awk -F, 'NR > 1 && $2 != 1 { print $1; exit }' "$TMP/A/accounts.csv")
read -r CHANGED DELETED < <($PY - "$TMP/A/customers.csv" "$TMP/s1/customers.csv" <<'PY'
import csv, sys
a = {r[0]: r for r in csv.reader(open(sys.argv[1]))}; b = {r[0]: r for r in csv.reader(open(sys.argv[2]))}
ids = [k for k in a if k not in ("customer_id", "1", "3")]
changed = min((k for k in ids if k in b and a[k] != b[k]), key=int)
deleted = min((k for k in ids if k not in b), key=int)
print(changed, deleted)
PY
)
acct_of() { awk -F, -v c="$1" 'NR > 1 && $2 == c { print $1; exit }' "$TMP/A/accounts.csv"; }
AC=$(acct_of "$CHANGED") AD=$(acct_of "$DELETED") A3=$(acct_of 3)
cat > "$TMP/A/transactions/part-99999.csv" <<EOF
txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,channel
900000001,2023-05-05,CHL,99999999,1,loan,energy,100.00,CLP,success,online
900000002,2023-05-06,CHL,1,99999999,fee,water,55.50,CLP,success,branch
900000003,2023-05-07,CHL,1,$OTHER,grant,sme,12.34,CLP,failed,atm
900000004,2023-05-08,CHL,88888888,77777777,loan,health,1.00,CLP,success,agent
900000001,2023-05-05,CHL,99999999,1,loan,energy,100.00,CLP,success,online
900000005,2023-02-30,CHL,99999999,1,loan,energy,100.00,CLP,success,online
900000006,2021-01-01,ARG,1,1,loan,energy,7.25,ARS,success,online
900000007,2026-03-15,CHL,$CHANGED,$AC,loan,energy,10.00,CLP,success,online
900000008,2025-06-01,CHL,$CHANGED,$AC,loan,energy,20.00,CLP,success,online
900000009,2026-03-15,CHL,$DELETED,$AD,loan,energy,30.00,CLP,success,online
900000010,2024-03-15,CHL,3,$A3,loan,energy,40.00,CLP,success,online
EOF
# B: customer 3 gone, customer 0 added (with account 0); the rest is A
mkdir -p "$TMP/B"
cp -r "$TMP/A/transactions" "$TMP/A/countries.csv" "$TMP/A/fx_rates.csv" "$TMP/B/"
awk -F, 'NR == 1 { print; print "0,Ana Zero,ana.zero.0@example.com,retail,URY,2020-01-01"; next } $1 != 3' \
  "$TMP/A/customers.csv" >"$TMP/B/customers.csv"
awk -F, 'NR == 1 { print; print "0,0,savings,2020-01-02,UYU"; next } { print }' "$TMP/A/accounts.csv" >"$TMP/B/accounts.csv"
# the scd2 dimension: snapshot 0 (A's customers) then snapshot 1, with the deleted customer's version closed
check "scd2 initial load" run 2 scd2 --data "$TMP/A" --out "$TMP/d0.h5" --hard-deletes invalidate --quiet
check "scd2 snapshot 1" run 2 scd2 --data "$TMP/s1" --in "$TMP/d0.h5" --out "$TMP/d1.h5" --hard-deletes invalidate --quiet

for P in 1 2 4; do
  check "A: star-schema on $P rank(s)" run "$P" star-schema --data "$TMP/A" --out "$TMP/A-$P.h5"
  check "A: top-customers on $P rank(s)" run "$P" top-customers --in "$TMP/A-$P.h5" --out "$TMP/topA-$P.h5"
  check "A: $P rank(s): every table == reference (top 100)" \
    "$PY" "$REF" check "$TMP/A" "$TMP/A-$P.h5" --top "$TMP/topA-$P.h5" 100
  check "B: star-schema --in A --scd2 on $P rank(s)" \
    run "$P" star-schema --data "$TMP/B" --in "$TMP/A-$P.h5" --scd2 "$TMP/d1.h5" --out "$TMP/B-$P.h5"
  check "B: $P rank(s): every table == reference" \
    "$PY" "$REF" check "$TMP/B" "$TMP/B-$P.h5" --prev-data "$TMP/A" --scd2 "$TMP/d1.h5"
done
# the joins with small dimensions broadcast them: force the shuffle joins (and point-to-point exchanges) once
shuffled() {
  TS_STAR_JOIN=shuffle TS_EXCHANGE=p2p run 3 star-schema --data "$TMP/B" --in "$TMP/A-1.h5" --scd2 "$TMP/d1.h5" \
    --out "$TMP/B-shuffle.h5" &&
    TS_STAR_JOIN=shuffle TS_EXCHANGE=p2p run 3 top-customers --in "$TMP/B-shuffle.h5" --out "$TMP/topB-shuffle.h5"
}
check "B: both jobs on 3 ranks, shuffle joins, p2p exchanges" shuffled
check "B: shuffle-join outputs == reference" \
  "$PY" "$REF" check "$TMP/B" "$TMP/B-shuffle.h5" --prev-data "$TMP/A" --scd2 "$TMP/d1.h5" --top "$TMP/topB-shuffle.h5" 100
for P in 2 4; do
  check "A: warehouse of 1 and $P rank(s) identical" "$PY" "$REF" same "$TMP/A-1.h5" "$TMP/A-$P.h5"
  check "A: top-customers of 1 and $P rank(s) identical" "$PY" "$REF" same "$TMP/topA-1.h5" "$TMP/topA-$P.h5"
  check "B: warehouse of 1 and $P rank(s) identical" "$PY" "$REF" same "$TMP/B-1.h5" "$TMP/B-$P.h5"
done
check "B: warehouse of 1 rank and of 3 shuffling ranks identical" "$PY" "$REF" same "$TMP/B-1.h5" "$TMP/B-shuffle.h5"

# what the issue asked for, spelled out
check "a customer added between two builds keeps every other key; a removed one keeps its key in the map" \
  "$PY" - "$TMP/A-2.h5" "$TMP/B-2.h5" <<'PY'
import sys, h5py
def col(p, t, c):
    return h5py.File(p)["/warehouse/" + t][c][()].tolist()
def keys(p, t, i, k):
    return dict(zip(col(p, t, i), col(p, t, k)))
a, b = keys(sys.argv[1], "dim_customers", "customer_id", "customer_key"), keys(sys.argv[2], "dim_customers", "customer_id", "customer_key")
assert all(b[i] == k for i, k in a.items() if i in b), "a key changed"
top = max(keys(sys.argv[1], "customer_key_map", "customer_id", "customer_key").values())
assert b[0] == top + 1, ("customer 0 got", b[0], "expected", top + 1)
assert 3 in a and 3 not in b, "customer 3 should be gone from dim_customers"
mb = keys(sys.argv[2], "customer_key_map", "customer_id", "customer_key")
assert mb[3] == a[3], "the removed customer's key left the key map (it could be reused)"
ab, bb = keys(sys.argv[1], "dim_accounts", "account_id", "account_key"), keys(sys.argv[2], "dim_accounts", "account_id", "account_key")
assert all(bb[i] == k for i, k in ab.items()) and bb[0] == max(ab.values()) + 1, "account keys"
print("customers kept", sum(1 for i in a if i in b), "keys; customer 0 ->", b[0])
PY
check "orphan facts land on the unknown member, flagged; every clean row is in the fact" \
  "$PY" - "$TMP/A-4.h5" "$TMP/B-4.h5" "$CHANGED" "$DELETED" <<'PY'
import sys, h5py
def table(p, t):
    g = h5py.File(p)["/warehouse/" + t]
    return {c: g[c][()].tolist() for c in ("txn_id", "customer_key", "account_key", "customer_sk", "quality_flags")}
a, b = table(sys.argv[1], "fact_transactions"), table(sys.argv[2], "fact_transactions")
row = lambda t, i: {c: t[c][t["txn_id"].index(i)] for c in t}
assert row(a, 900000001)["customer_key"] == -1 and row(a, 900000001)["quality_flags"] & 1
assert row(a, 900000002)["account_key"] == -1 and row(a, 900000002)["quality_flags"] & 2
assert row(a, 900000003)["quality_flags"] == 4 and row(a, 900000003)["account_key"] > 0
r4 = row(a, 900000004)
assert r4["customer_key"] == -1 and r4["account_key"] == -1 and r4["quality_flags"] & 3 == 3
assert row(a, 900000007)["quality_flags"] & 8, "2026 has no FX rate"
assert row(a, 900000010)["customer_key"] > 0 and row(b, 900000010)["customer_key"] == -1, "customer 3 removed in B"
# versions (B has --scd2): the changed customer's 2025 row is on its first version, the 2026 row on its second;
# the deleted customer (invalidate) has no version on 2026-03-15
v1, v2 = row(b, 900000008)["customer_sk"], row(b, 900000007)["customer_sk"]
assert v1 > 0 and v2 > 0 and v1 != v2, (v1, v2)
assert row(b, 900000009)["customer_sk"] == -1 and row(b, 900000009)["quality_flags"] & 16
assert all(sk == -1 for sk in a["customer_sk"]), "without --scd2 every version key is the unknown member"
print("ok")
PY
top_all() {  # every customer ranked: the NULL totals (Brazil has no FX rate) come last
  run 2 top-customers --in "$TMP/A-2.h5" --out "$TMP/top-all.h5" --limit 1000000 >/dev/null &&
    "$PY" "$REF" check "$TMP/A" "$TMP/A-2.h5" --top "$TMP/top-all.h5" 1000000 &&
    "$PY" - "$TMP/top-all.h5" <<'PY'
import sys, h5py
g = h5py.File(sys.argv[1])["/analytics/top_customers"]
valid, unconv, cc = g["total_usd.valid"][()], g["unconverted_count"][()], g["country_code"][()]
n = int((valid == 0).sum())
assert n > 0 and (valid[len(valid) - n:] == 0).all(), "NULL totals are not last"
assert all(c == b"BRA" for c, v in zip(cc, valid) if not v), "a NULL total outside Brazil"
assert (unconv[valid == 1] > 0).any(), "no partially converted total (Argentina 2023)"
print(n, "NULL totals, last")
PY
}
check "top-customers --limit 1000000 on 2 ranks: NULL totals last, unconverted counted, == reference" top_all
top7() {  # --limit 7 on 3 ranks: 7 ranked rows printed on stdout
  run 3 top-customers --in "$TMP/A-2.h5" --out "$TMP/top7.h5" --limit 7 >"$TMP/top7.txt" || return
  cat "$TMP/top7.txt"
  [[ $(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' "$TMP/top7.txt") -eq 7 ]]
}
check "top-customers --limit 7 on 3 ranks prints 7 rows" top7
check "top 7 == reference" "$PY" "$REF" check "$TMP/A" "$TMP/A-2.h5" --top "$TMP/top7.h5" 7
# a key map that would overflow: the next new key does not fit int64 (exit 4, nothing written)
overflow() {
  cp "$TMP/A-2.h5" "$TMP/big.h5" &&
    "$PY" -c "import h5py; g = h5py.File('$TMP/big.h5', 'r+')['/warehouse/customer_key_map']; k = g['customer_key'][()]; k[-1] = 2**63 - 1; g['customer_key'][...] = k" &&
    run 2 star-schema --data "$TMP/B" --in "$TMP/big.h5" --out "$TMP/big-out.h5" >"$TMP/big.log" 2>&1
  local rc=$?
  cat "$TMP/big.log"
  [[ $rc -eq 4 ]] && grep -q "overflow" "$TMP/big.log" && [[ ! -e $TMP/big-out.h5 ]]
}
check "a key map whose next key would overflow int64 is refused (exit 4)" overflow

echo "job_star_schema: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
