#!/usr/bin/env bash
# End-to-end check of bank-analytics against the independent Python reference (tests/e2e/reference.py).
#   run_e2e.sh BUILD_DIR        (env: E2E_ROWS=200000 E2E_SEED=42 KEEP_E2E=1 keeps the temp dir)
# Generates ~200k rows with 3 % faults in 4 files, runs the job on 1, 2 and 4 ranks, compares each output with the
# reference (compare.py), checks the three outputs hold identical tables, then repeats on .csv.gz input (2 ranks).
set -u
BUILD=$(cd "${1:?usage: run_e2e.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3 has h5py + pandas; the pyenv one on PATH does not
ROWS=${E2E_ROWS:-200000}
SEED=${E2E_SEED:-42}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE
for exe in "$BUILD/tessera" "$BUILD/tessera-gen"; do
  [[ -x $exe ]] || { echo "run_e2e: $exe not built" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/tessera-e2e.XXXXXX)
if [[ -n ${KEEP_E2E:-} ]]; then echo "keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
passed=0 failed=0
check() {  # check "what" cmd...: runs cmd, records the verdict, shows the output of failures
  local what=$1; shift
  if "$@" >"$TMP/last.log" 2>&1; then
    echo "PASS  $what"; passed=$((passed + 1)); grep "^job on" "$TMP/last.log" | sed "s/^/      /"
  else
    echo "FAIL  $what (exit $?)"; sed 's/^/      /' "$TMP/last.log" | head -40; failed=$((failed + 1))
  fi
}
run_job() {  # run_job P DATA OUT: the job under mpirun with a hard time limit (SIGTERM, not SIGKILL)
  local t0=$SECONDS
  timeout 600 mpirun --oversubscribe -n "$1" "$BUILD/tessera" run bank-analytics --data "$2" --out "$3" || return
  echo "job on $1 rank(s): $((SECONDS - t0)) s"
}

echo "== generating $ROWS rows (seed $SEED, 3 % faults) in $TMP"
check "tessera-gen csv" mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" \
  --rows-per-file $((ROWS / 4)) --out "$TMP/data" --faults 0.03 --quiet
check "tessera-gen csv.gz" mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed "$SEED" \
  --rows-per-file $((ROWS / 4)) --out "$TMP/data-gz" --faults 0.03 --gzip --quiet
# indicator gaps, so the enrichment's NULLs are tested: ARG's 2021 inflation and all of URY's GDP go missing
grep -vE '^ARG,2021-[0-9]+,inflation_pct,|^URY,[0-9-]+,gdp_usd_bn,' "$TMP/data/indicators.csv" >"$TMP/ind.csv" &&
  mv "$TMP/ind.csv" "$TMP/data/indicators.csv"
check "reference csv (rejects agree with manifest.json)" "$PY" "$HERE/reference.py" "$TMP/data" "$TMP/ref"
cat "$TMP/last.log"

for P in 1 2 4; do
  check "bank-analytics on $P rank(s)" run_job "$P" "$TMP/data" "$TMP/out-$P.h5"
  check "output of $P rank(s) == reference + manifest" "$PY" "$HERE/compare.py" "$TMP/out-$P.h5" "$TMP/ref" "$TMP/data"
done
check "1-rank and 2-rank outputs hold identical tables" "$PY" "$HERE/compare.py" --same "$TMP/out-1.h5" "$TMP/out-2.h5"
check "1-rank and 4-rank outputs hold identical tables" "$PY" "$HERE/compare.py" --same "$TMP/out-1.h5" "$TMP/out-4.h5"

echo "== .csv.gz input"
check "reference csv.gz" "$PY" "$HERE/reference.py" "$TMP/data-gz" "$TMP/ref-gz"
check "bank-analytics on 2 ranks, gzip input" run_job 2 "$TMP/data-gz" "$TMP/out-gz.h5"
check "gzip output == reference + manifest" "$PY" "$HERE/compare.py" "$TMP/out-gz.h5" "$TMP/ref-gz" "$TMP/data-gz"

echo "e2e_bank_analytics: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
