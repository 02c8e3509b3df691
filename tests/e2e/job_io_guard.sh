#!/usr/bin/env bash
# Every job refuses an --out that is one of its inputs (issue 10: `top-customers --in W --out W --overwrite`
# replaced its own input): the same file by name, through a symbolic or a hard link, a file of --data, an output
# not created yet inside --data/transactions, --rules/--tests. Exit status 2, the input untouched, nothing written.
# On 1 and 2 ranks; each refusal happens before any work (about 10 s in all).
set -u
BUILD=$(cd "${1:?usage: job_io_guard.sh BUILD_DIR}" && pwd) || exit 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE
TMP=$(mktemp -d /tmp/tessera-guard.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
T() { local np=$1; shift; timeout 120 mpirun --oversubscribe -n "$np" "$BUILD/tessera" run "$@" --quiet; }
refused() {  # refused WHAT FILE NP ARGS...: exit 2 naming --out, FILE's bytes unchanged
  local what=$1 file=$2 np=$3; shift 3
  local before after rc
  before=$(cksum <"$file" 2>/dev/null)
  T "$np" "$@" >"$TMP/log" 2>&1; rc=$?
  after=$(cksum <"$file" 2>/dev/null)
  if [[ $rc -eq 2 && $before == "$after" ]] && grep -q -- "--out" "$TMP/log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL  $what on $np rank(s): exit $rc"; head -5 "$TMP/log"
  fi
}
"$BUILD/tessera-gen" --rows 3000 --seed 4 --out "$TMP/data" --quiet || { echo "tessera-gen failed"; exit 1; }
T 2 star-schema --data "$TMP/data" --out "$TMP/w.h5" >/dev/null 2>&1 || { echo "star-schema failed"; exit 1; }
T 2 scd2 --data "$TMP/data" --out "$TMP/d.h5" >/dev/null 2>&1 || { echo "scd2 failed"; exit 1; }
ln -s "$TMP/w.h5" "$TMP/w-sym.h5"
ln "$TMP/w.h5" "$TMP/w-hard.h5"
mkdir -p "$TMP/sub"
printf 'not_null txn_id\n' >"$TMP/t.tests"
for np in 1 2; do
  refused "top-customers --in W --out W --overwrite" "$TMP/w.h5" $np top-customers --in "$TMP/w.h5" --out "$TMP/w.h5" --overwrite
  refused "top-customers: output through a symbolic link" "$TMP/w.h5" $np top-customers --in "$TMP/w-sym.h5" --out "$TMP/w.h5" --overwrite
  refused "top-customers: output is a hard link of the input" "$TMP/w.h5" $np top-customers --in "$TMP/w.h5" --out "$TMP/w-hard.h5" --overwrite
  refused "top-customers: input named through ../" "$TMP/w.h5" $np top-customers --in "$TMP/sub/../w.h5" --out "$TMP/w.h5" --overwrite
  refused "scd2 --in D --out D" "$TMP/d.h5" $np scd2 --data "$TMP/data" --in "$TMP/d.h5" --out "$TMP/d.h5" --overwrite
  refused "star-schema --out a CSV of --data" "$TMP/data/customers.csv" $np star-schema --data "$TMP/data" --out "$TMP/data/customers.csv" --overwrite
  refused "bank-analytics --out a new file in --data/transactions" "$TMP/data/countries.csv" $np bank-analytics --data "$TMP/data" --out "$TMP/data/transactions/out.h5"
  refused "data-quality --out its --tests file" "$TMP/t.tests" $np data-quality --data "$TMP/data" --tests "$TMP/t.tests" --out "$TMP/t.tests" --overwrite
  refused "data-quality --out its --rules file (not created yet)" "$TMP/t.tests" $np data-quality --data "$TMP/data" --rules "$TMP/new.rules" --out "$TMP/new.rules"
done
[[ ! -e $TMP/data/transactions/out.h5 ]] || { failed=$((failed + 1)); echo "FAIL  an output was written in transactions/"; }
# an output next to the inputs but not one of them is fine
if T 2 top-customers --in "$TMP/w.h5" --out "$TMP/data/top.h5" >/dev/null 2>&1; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL  top-customers --out DATA/top.h5 (not an input) was refused"; fi
echo "job_io_guard: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
