#!/usr/bin/env bash
# End-to-end check of the data-quality job against the independent Python reference (ref_data_quality.py).
#   job_data_quality.sh BUILD_DIR     (env: DQ_ROWS=30000 DQ_SEED=7 KEEP_E2E=1 keeps the temp dir)
# Generates DQ_ROWS rows with 5 % faults and runs the job on 1, 2 and 4 ranks with the built-in tests (which now
# fail on dirty input: exit 4, the report and the output complete) and with a tests file using every feature
# (raw and cleaned values, where, thresholds, multi-column unique, typed constants, tests of other CSV files and
# of a star-schema warehouse given with --in or by path, failures tables); compares each output with the
# reference (counts, texts and failures tables exactly, shares 1e-9 relative). Then: the built-in tests pass on
# clean data (exit 0), a file of 100 tests, and the usage errors (exit 2, nothing written) of invalid constants
# (2021-02-30, 20230101 for a date, 1.5 for an integer, an order on a category), duplicate names and more.
set -u
BUILD=$(cd "${1:?usage: job_data_quality.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3 has h5py + pandas
ROWS=${DQ_ROWS:-30000}
SEED=${DQ_SEED:-7}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE
for exe in "$BUILD/tessera" "$BUILD/tessera-gen"; do
  [[ -x $exe ]] || { echo "job_data_quality: $exe not built" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/tessera-dq.XXXXXX)
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
dq() {  # dq P DATA OUT [options]: the job under mpirun with a time limit; returns the job's exit status
  local p=$1 data=$2 out=$3; shift 3
  timeout 600 mpirun --oversubscribe -n "$p" "$BUILD/tessera" run data-quality --data "$data" --out "$out" \
    --quiet "$@"
}
expect_rc() {  # expect_rc WANT cmd...: passes when cmd exits with status WANT
  local want=$1; shift
  "$@"; local rc=$?
  echo "exit status $rc (want $want)"
  [[ $rc -eq $want ]]
}
REF() { "$PY" "$HERE/ref_data_quality.py" "$@"; }

echo "== generating $ROWS rows (seed $SEED, 5 % faults) in $TMP"
check "tessera-gen" "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" --faults 0.05 --out "$TMP/data" --quiet
check "star-schema warehouse of the same data" timeout 600 mpirun --oversubscribe -n 2 "$BUILD/tessera" run star-schema \
  --data "$TMP/data" --out "$TMP/wh.h5" --quiet
BUILTIN="$HERE/../../jobs/rules/bank_transactions_tests.rules"

# the built-in tests on dirty input: the raw-value tests fail (accepted values, relationships, positive amounts)
for P in 1 2 4; do
  check "built-in tests on $P rank(s): exit 4 on dirty input" expect_rc 4 dq "$P" "$TMP/data" "$TMP/q$P.h5"
done
check "built-in tests on 1, 2 and 4 ranks == reference" REF "$TMP/data" "$BUILTIN" "$TMP/q1.h5" "$TMP/q2.h5" "$TMP/q4.h5"
check "the default accepted_values test fails on dirty input (failures = distinct bad values)" "$PY" - "$TMP/q2.h5" <<'PY'
import sys, h5py
g = h5py.File(sys.argv[1])["/quality/tests"]
row = list(g["test"][()]).index(b"accepted_values_status")
assert g["status"][row] == b"fail" and g["values"][row] == b"raw", (g["status"][row], g["values"][row])
assert 0 < g["failures"][row] < g["failing_rows"][row], "dbt counts distinct values, the rows are more"
print("accepted_values_status:", g["failures"][row], "bad values on", g["failing_rows"][row], "rows")
PY

# every feature, on the transactions, on other CSV files and on the warehouse (by --in and by path)
cat >"$TMP/features.tests" <<EOF
# raw and cleaned values of the same column
not_null        txn_date                  name=date_raw
not_null        txn_date  values=clean    name=date_clean warn_if=>0 error_if=>100000
not_null        amount    values=clean    severity=warn store_failures=3
# dbt's counting: duplicated values, distinct bad values; NULLs of a single column are no values
unique          txn_id                    severity=warn
unique          txn_id    values=clean    where=status=success where='amount > 1000' name=unique_big_success
unique          customer_id,account_id    severity=warn store_failures=5
accepted_values status    SUCCESS,Failed,pending,reversed values=clean   # constants folded as the rules fold
accepted_values sector    agriculture,education,energy,health,housing severity=warn store_failures=0
accepted_values currency  'ARS',BRL,CLP,COP,MXN   where=country_code=ARG severity=warn
# typed constants: decimals beyond the column's scale, dates, categories, strings; columns against columns
expression      amt_small  amount < 1000.505  where=currency='BRL' warn_if=>10 error_if=>100000
expression      cust_ne_acct customer_id != account_id severity=warn
expression      is_success status = SUCCESS values=clean severity=warn
expression      before_2024 txn_date < 2024-01-01 values=clean where=status!=success severity=warn
expression      brl_only currency = BRL where=country_code=bra severity=warn
expression      never_true txn_id < 0 warn_if=>=0
relationships   customer_id customers.csv:customer_id values=clean where=channel=online
table customers.csv
unique          email
expression      opened_recent opened_date >= 2010-01-01 values=clean severity=warn
relationships   customer_id accounts.csv:customer_id severity=warn
table /warehouse/fact_transactions
not_null        amount_usd
unique          txn_id
relationships   customer_key /warehouse/dim_customers:customer_key
expression      flags_zero quality_flags = 0 warn_if=>5
expression      usd_positive amount_usd > 0 where=status=success
table $TMP/wh.h5:/warehouse/dim_accounts
relationships   customer_key $TMP/wh.h5:/warehouse/dim_customers:customer_key
accepted_values product credit_card,savings,current,term_deposit,loan severity=warn
EOF
for P in 1 2 4; do
  check "features on $P rank(s): exit 4" expect_rc 4 dq "$P" "$TMP/data" "$TMP/f$P.h5" --tests "$TMP/features.tests" --in "$TMP/wh.h5"
done
check "features on 1, 2 and 4 ranks == reference" REF "$TMP/data" "$TMP/features.tests" "$TMP/f1.h5" "$TMP/f2.h5" "$TMP/f4.h5" --in "$TMP/wh.h5"
same_h5() {  # the two files hold the same tables, cell for cell
  "$PY" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
other = []
b.visititems(lambda n, o: other.append(n) if isinstance(o, h5py.Dataset) else None)
assert sorted(names) == sorted(other), set(names) ^ set(other)
for n in names:
    x, y = a[n][()], b[n][()]
    assert x.shape == y.shape and (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else (x == y).all()), n
print(len(names), "datasets equal")
PY
}
for P in 2 4; do
  check "built-in: 1 and $P rank(s) give the same file" same_h5 "$TMP/q1.h5" "$TMP/q$P.h5"
  check "features: 1 and $P rank(s) give the same file" same_h5 "$TMP/f1.h5" "$TMP/f$P.h5"
done

# clean data: the built-in tests pass (exit 0)
check "tessera-gen without faults" "$BUILD/tessera-gen" --rows 5000 --seed 3 --faults 0 --out "$TMP/clean" --quiet
check "built-in tests pass on clean data (exit 0, 2 ranks)" expect_rc 0 dq 2 "$TMP/clean" "$TMP/clean.h5"
check "clean data == reference" REF "$TMP/clean" "$BUILTIN" "$TMP/clean.h5"

# more than 64 tests (issue 10: an undocumented limit of 64)
for i in $(seq 1 100); do echo "expression e$i amount > $i severity=warn"; done >"$TMP/hundred.tests"
check "100 tests run (exit 0, 2 ranks)" expect_rc 0 dq 2 "$TMP/clean" "$TMP/h.h5" --tests "$TMP/hundred.tests"
check "100 tests == reference" REF "$TMP/clean" "$TMP/hundred.tests" "$TMP/h.h5"

# usage errors, found before the data is read: exit 2, the message names the problem, no output
bad() {  # bad RANKS NAME PATTERN TEST-LINE...: a tests file of these lines is refused on each of RANKS
  local ranks=$1 name=$2 pattern=$3; shift 3
  printf '%s\n' "$@" >"$TMP/bad.tests"
  for P in $ranks; do
    dq "$P" "$TMP/data" "$TMP/bad.h5" --tests "$TMP/bad.tests" >"$TMP/bad.log" 2>&1
    local rc=$?
    if [[ $rc -eq 2 ]] && grep -q -- "$pattern" "$TMP/bad.log" && [[ ! -e $TMP/bad.h5 ]]; then
      echo "PASS  $name ($P rank(s))"; passed=$((passed + 1))
    else
      echo "FAIL  $name ($P rank(s)): exit $rc"; head -5 "$TMP/bad.log"; failed=$((failed + 1))
    fi
  done
}
bad "1 2" "2021-02-30 is no date (issue 10.13)" "'2021-02-30' is not a date" "expression feb txn_date > 2021-02-30"
bad 2 "20230101 is no date constant" "'20230101' is not a date" "expression d txn_date < 20230101"
bad 2 "1.5 is no integer" "'1.5' is not an integer" "expression i txn_id >= 1.5"
bad 2 "categories compare with = and != only" "compares with = and != only" "expression s status > success"
bad 2 "a where condition is typed too" "'soon' is not a date" "not_null amount where=txn_date>soon"
bad 2 "unknown column" "has no column 'amout'" "not_null amout"
bad 2 "two tests of one name" "a second test named 'not_null_amount'" "not_null amount" "not_null amount values=clean"
bad 2 "a bad threshold" "expected OP N" "not_null amount warn_if=lots"
bad 2 "values=raw on an HDF5 table" "values= applies to CSV tables" "table $TMP/wh.h5:/warehouse/dim_dates" "not_null date values=raw"
bad 2 "a table that is none" "use transactions, FILE.csv" "table customers.txt" "not_null x"

echo "job_data_quality: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
