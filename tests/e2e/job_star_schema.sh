#!/usr/bin/env bash
# End-to-end check of star-schema and top-customers against the independent reference tests/e2e/ref_star_schema.py.
#   job_star_schema.sh BUILD_DIR      (env: STAR_ROWS=60000 STAR_SEED=5 KEEP_E2E=1 keeps the temp dir)
# Generates data with 3 % faults in 3 files, adds a file of orphan rows (unknown customer, unknown account, an
# account of another customer, plus a duplicate and a bad date among them: rule reasons come first), runs both
# jobs on 1, 2 and 4 ranks (and on 3 with shuffle joins forced), compares every table with the reference and the
# outputs of different runs with each other.
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

echo "== generating $ROWS rows (seed $SEED, 3 % faults) in $TMP"
check "tessera-gen" mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" \
  --rows-per-file $((ROWS / 3)) --out "$TMP/data" --faults 0.03 --quiet

# Orphans: tessera-gen's transactions always reference existing customers and accounts, so add a file of rows
# that do not. OTHER = an account that belongs to some customer other than customer 1.
OTHER=$(awk -F, 'NR > 1 && $2 != 1 { print $1; exit }' "$TMP/data/accounts.csv")
cat > "$TMP/data/transactions/part-99999.csv" <<EOF
txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,channel
900000001,2023-05-05,BRA,99999999,1,loan,energy,100.00,BRL,success,online
900000002,2023-05-06,ARG,1,99999999,fee,water,55.50,ARS,success,branch
900000003,2023-05-07,ARG,1,$OTHER,grant,sme,12.34,ARS,failed,atm
900000004,2023-05-08,CHL,88888888,77777777,loan,health,1.00,CLP,success,agent
900000001,2023-05-05,BRA,99999999,1,loan,energy,100.00,BRL,success,online
900000005,2023-02-30,BRA,99999999,1,loan,energy,100.00,BRL,success,online
900000006,2021-01-01,ARG,1,1,loan,energy,7.25,ARS,success,online
EOF
expect_orphans() {  # the added rows got exactly the expected reasons
  PYTHONPATH="$HERE/../../scripts" "$PY" - "$1" <<'PY'
import sys
from h5table import read_table
r = read_table(sys.argv[1], "/quality/rejects")
got = list(r[r.file == "part-99999.csv"][["line", "reason"]].itertuples(index=False, name=None))
want = [(2, "orphan_customer"), (3, "orphan_account"), (4, "orphan_account"), (5, "orphan_customer"),
        (6, "duplicate"), (7, "bad_date")]
print("added rows' rejects:", got)
sys.exit(0 if got == want else 1)
PY
}

for P in 1 2 4; do
  check "star-schema on $P rank(s)" run "$P" star-schema --data "$TMP/data" --out "$TMP/wh-$P.h5"
  check "top-customers on $P rank(s)" run "$P" top-customers --in "$TMP/wh-$P.h5" --out "$TMP/top-$P.h5"
  check "$P rank(s): every table == reference (top 100)" \
    "$PY" "$HERE/ref_star_schema.py" check "$TMP/data" "$TMP/wh-$P.h5" "$TMP/top-$P.h5" 100
  check "$P rank(s): the added rows rejected with the right reasons" expect_orphans "$TMP/wh-$P.h5"
done
# the dimensions are small enough to be broadcast: force the shuffle join (and point-to-point exchanges) once
shuffled() {  # both jobs on 3 ranks with shuffle joins and point-to-point exchanges
  TS_STAR_JOIN=shuffle TS_EXCHANGE=p2p run 3 star-schema --data "$TMP/data" --out "$TMP/wh-shuffle.h5" &&
    TS_STAR_JOIN=shuffle TS_EXCHANGE=p2p run 3 top-customers --in "$TMP/wh-shuffle.h5" --out "$TMP/top-shuffle.h5"
}
check "both jobs on 3 ranks, shuffle joins, p2p exchanges" shuffled
check "shuffle-join outputs == reference" \
  "$PY" "$HERE/ref_star_schema.py" check "$TMP/data" "$TMP/wh-shuffle.h5" "$TMP/top-shuffle.h5" 100
for P in 2 4 shuffle; do
  check "warehouse of 1 and $P rank(s) identical" "$PY" "$HERE/ref_star_schema.py" same "$TMP/wh-1.h5" "$TMP/wh-$P.h5"
  check "top-customers of 1 and $P rank(s) identical" \
    "$PY" "$HERE/ref_star_schema.py" same "$TMP/top-1.h5" "$TMP/top-$P.h5"
done
top7() {  # --limit 7 on 3 ranks: 7 ranked rows printed on stdout
  run 3 top-customers --in "$TMP/wh-2.h5" --out "$TMP/top7.h5" --limit 7 >"$TMP/top7.txt" || return
  cat "$TMP/top7.txt"
  [[ $(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ ' "$TMP/top7.txt") -eq 7 ]]
}
check "top-customers --limit 7 on 3 ranks prints 7 rows" top7
check "top 7 == reference" "$PY" "$HERE/ref_star_schema.py" check "$TMP/data" "$TMP/wh-2.h5" "$TMP/top7.h5" 7

echo "job_star_schema: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
