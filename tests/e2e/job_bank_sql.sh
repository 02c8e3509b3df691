#!/usr/bin/env bash
# jobs/bank_analytics.sql against the independent Python reference (tests/e2e/reference.py + compare.py, which also
# checks the rejects against manifest.json and the HDF5 layout), on 1, 2 and 4 ranks, and cell for cell against
# the built-in `tessera run bank-analytics` (floats bit for bit, raw lines byte for byte); then under --memory-limit
# with a tiny operator share (TESSERA_OP_MEMORY), where the cleaning scan runs partitioned into cold storage, the
# distinct counts spill their rows (grace) and the exchanges go cold: the same tables, and no spill file left.
set -u
BUILD=$(cd "${1:?usage: job_bank_sql.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}
ROWS=${E2E_ROWS:-100000}
TMP=$(mktemp -d /tmp/tessera-banksql.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
check() {
  local what=$1; shift
  if "$@" >"$TMP/last.log" 2>&1; then echo "PASS  $what"; passed=$((passed + 1))
  else echo "FAIL  $what (exit $?)"; sed 's/^/      /' "$TMP/last.log" | head -30; failed=$((failed + 1)); fi
}
sql() { # sql P OUT
  timeout 600 mpirun --oversubscribe -n "$1" "$BUILD/tessera" sql "$REPO/jobs/bank_analytics.sql" --quiet \
    --set data="$TMP/data" --set rules="$REPO/jobs/rules/bank_transactions.rules" --job-name bank-analytics --out "$2"
}
check "tessera-gen" mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed 11 \
  --rows-per-file $((ROWS / 3)) --out "$TMP/data" --faults 0.03 --quiet
# indicator gaps, so the enrichment's NULLs are exercised
grep -vE '^ARG,2021-[0-9]+,inflation_pct,' "$TMP/data/indicators.csv" >"$TMP/ind.csv" && mv "$TMP/ind.csv" "$TMP/data/indicators.csv"
check "reference" "$PY" "$HERE/reference.py" "$TMP/data" "$TMP/ref"
check "built-in job on 2 ranks" timeout 600 mpirun --oversubscribe -n 2 "$BUILD/tessera" run bank-analytics \
  --data "$TMP/data" --out "$TMP/job.h5" --quiet
for P in 1 2 4; do
  check "bank_analytics.sql on $P rank(s)" sql "$P" "$TMP/sql-$P.h5"
  check "sql on $P rank(s) == reference + manifest" "$PY" "$HERE/compare.py" "$TMP/sql-$P.h5" "$TMP/ref" "$TMP/data"
  check "sql on $P rank(s) == built-in job, exactly" "$PY" "$HERE/compare_exact.py" "$TMP/job.h5" "$TMP/sql-$P.h5"
done
mkdir -p "$TMP/spill"
for P in 1 2 4; do
  check "bank_analytics.sql under a memory limit on $P rank(s)" env TESSERA_OP_MEMORY=256K timeout 600 \
    mpirun --oversubscribe -n "$P" -x TESSERA_OP_MEMORY "$BUILD/tessera" sql "$REPO/jobs/bank_analytics.sql" --timing \
    --set data="$TMP/data" --set rules="$REPO/jobs/rules/bank_transactions.rules" --job-name bank-analytics \
    --out "$TMP/lim-$P.h5" --memory-limit 400M --spill-dir "$TMP/spill"
  cp "$TMP/last.log" "$TMP/lim-$P.log"
  check "limited sql on $P rank(s) == built-in job, exactly" "$PY" "$HERE/compare_exact.py" "$TMP/job.h5" "$TMP/lim-$P.h5"
  check "limited sql on $P rank(s): the load and the aggregations spilled" bash -c "grep -qE '^spill 1 txn [1-9]' \
    '$TMP/lim-$P.log' && grep -qE '^spill 3 analytics.country_month [1-9]' '$TMP/lim-$P.log'"
  check "limited sql on $P rank(s): no spill file left" bash -c "[ -z \"\$(ls -A '$TMP/spill')\" ]"
done
echo "e2e_bank_sql: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
