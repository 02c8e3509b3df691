#!/usr/bin/env bash
# End-to-end check of the data-quality job against the independent Python reference (ref_data_quality.py).
#   job_data_quality.sh BUILD_DIR     (env: DQ_ROWS=50000 DQ_SEED=7 KEEP_E2E=1 keeps the temp dir)
# Generates DQ_ROWS rows with 5 % faults, runs the job with its built-in tests on 1, 2 and 4 ranks and compares each
# output with the reference (counts exact, shares 1e-9 relative); then checks the exit status: 4 (and the output
# still written and correct) when an error-severity test fails, 0 when every error-severity test passes, and a
# usage error for a broken tests file.
set -u
BUILD=$(cd "${1:?usage: job_data_quality.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3 has h5py + pandas
ROWS=${DQ_ROWS:-50000}
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
dq() {  # dq P OUT [options]: the job under mpirun with a time limit; returns the job's exit status
  local p=$1 out=$2; shift 2
  timeout 600 mpirun --oversubscribe -n "$p" "$BUILD/tessera" run data-quality --data "$TMP/data" --out "$out" \
    --quiet "$@"
}
expect_rc() {  # expect_rc WANT cmd...: passes when cmd exits with status WANT
  local want=$1; shift
  "$@"; local rc=$?
  echo "exit status $rc (want $want)"
  [[ $rc -eq $want ]]
}

echo "== generating $ROWS rows (seed $SEED, 5 % faults) in $TMP"
check "tessera-gen" "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" --faults 0.05 --out "$TMP/data" --quiet
BUILTIN="$HERE/../../jobs/rules/bank_transactions_tests.rules"
for P in 1 2 4; do
  check "data-quality on $P rank(s) (built-in tests, exit 0)" expect_rc 0 dq "$P" "$TMP/q$P.h5"
  check "matches the reference on $P rank(s)" "$PY" "$HERE/ref_data_quality.py" "$TMP/data" "$BUILTIN" "$TMP/q$P.h5"
done

# an error-severity test that fails (duplicates exist) next to ones that pass: exit 4, output still complete
cat >"$TMP/failing.tests" <<'EOF'
unique          txn_id                                    # error severity: the duplicate rows fail it
relationships   customer_id customers.csv:customer_id
expression      small_amounts amount < 1000.5 severity=warn
accepted_values channel agent,atm,branch severity=warn
expression      not_before_2023 txn_date >= 2023-01-01 severity=warn
EOF
check "error-severity failure exits 4 (2 ranks)" expect_rc 4 dq 2 "$TMP/fail.h5" --tests "$TMP/failing.tests"
check "failing run's output matches the reference" "$PY" "$HERE/ref_data_quality.py" "$TMP/data" \
  "$TMP/failing.tests" "$TMP/fail.h5"

# only passing error-severity tests (a failing warn-severity one does not change the status)
cat >"$TMP/passing.tests" <<'EOF'
relationships   account_id accounts.csv:account_id
accepted_values status success,failed,pending,reversed severity=error
expression      positive amount > 0
not_null        amount severity=warn
EOF
check "passing error-severity tests exit 0 (4 ranks)" expect_rc 0 dq 4 "$TMP/pass.h5" --tests "$TMP/passing.tests"
check "passing run's output matches the reference" "$PY" "$HERE/ref_data_quality.py" "$TMP/data" \
  "$TMP/passing.tests" "$TMP/pass.h5"

printf 'unique txn_id\nbogus_test amount\n' >"$TMP/broken.tests"
check "broken tests file is a usage error (exit 2)" expect_rc 2 dq 2 "$TMP/broken.h5" --tests "$TMP/broken.tests"
check "no output after a usage error" test ! -e "$TMP/broken.h5"

echo "job_data_quality: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
