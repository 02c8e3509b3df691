#!/usr/bin/env bash
# Checkpoint / resume of SQL scripts (tessera sql SCRIPT --checkpoint DIR [--resume]; sql/ts_sql_checkpoint.h),
# with jobs/bank_analytics.sql on generated data:
#   on 1, 2 and 4 ranks: a rank killed before statement 5 (TESSERA_FAULT=RANK:stmt-5:kill) leaves checkpoints of
#   statements 1-4 and no output; --resume skips statements 1-4 and its output is identical, dataset for dataset
#   and byte for byte, to an uninterrupted run's; an injected error before statement 7 exits 4 and the resume
#   skips 1-6 with the same output;
#   on 2 ranks: each table is written once (statement 2's checkpoint holds fx and the list, not txn again);
#   --resume after a complete run skips every statement and gives the same output; an edited statement 6 resumes
#   after statement 5; another rank count, or a changed input file, is refused with exit 2 naming the difference;
#   a run without --resume removes the old checkpoints; a script with a view is refused.
#   job_sql_checkpoint.sh BUILD_DIR
set -u
BUILD=$(cd "${1:?usage: job_sql_checkpoint.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
T=$BUILD/tessera
. "$REPO/scripts/mpi-env.sh"
TMP=$(mktemp -d /tmp/tessera-sqlck.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $*"; sed 's/^/      stderr: /' "$TMP/err" | grep -v '^      stderr: -\|^      stderr: $' | head -6; }
has() { grep -qF -- "$1" "$TMP/err"; }
sql() { # sql NP SCRIPT [VAR=value...] -- args: sets rc; stderr in $TMP/err
  local np=$1 script=$2; shift 2
  local envs=(X=1)
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 300 mpirun --oversubscribe -n "$np" -x TESSERA_FAULT "$T" sql "$script" --quiet \
    --set data="$TMP/data" --set rules="$REPO/jobs/rules/bank_transactions.rules" --job-name bank-analytics "$@" \
    >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
same() { if $PY "$HERE/h5_identical.py" "$1" "$2" >"$TMP/cmp" 2>&1; then ok; else ko "$3: outputs differ"; head -5 "$TMP/cmp"; fi; }
export TESSERA_FAULT=
BANK=$REPO/jobs/bank_analytics.sql

mpirun -n 1 "$BUILD/tessera-gen" --rows 60000 --rows-per-file 20000 --seed 23 --out "$TMP/data" --quiet ||
  { echo "FAIL tessera-gen"; exit 1; }

for np in 1 2 4; do
  r=$((np - 1)) ck=$TMP/ck$np ref=$TMP/ref$np.h5 out=$TMP/out$np.h5
  sql $np "$BANK" -- --out "$ref"
  [[ $rc -eq 0 ]] || { ko "np=$np: uninterrupted run failed (exit $rc)"; continue; }
  sql $np "$BANK" TESSERA_FAULT=$r:stmt-5:kill -- --out "$out" --checkpoint "$ck"
  if [[ $rc -ne 0 && ! -e $out && -f $ck/04-analytics.country_sector_month.h5 && ! -e $ck/05-analytics.country_month_indicators.h5 ]]
  then ok; else ko "np=$np kill@stmt-5: want exit != 0, no output, checkpoints 1-4 only (exit $rc: $(ls "$ck" | xargs))"; fi
  sql $np "$BANK" -- --out "$out" --checkpoint "$ck" --resume
  if [[ $rc -eq 0 ]] && has "resume: skipping statements 1-4 (checkpoint $ck/04-analytics.country_sector_month.h5)"
  then ok; else ko "np=$np resume after stmt 4: exit $rc or no resume message"; fi
  same "$ref" "$out" "np=$np resume after statement 4"
  rm -f "$out"
  sql $np "$BANK" TESSERA_FAULT=$r:stmt-7:error -- --out "$out" --checkpoint "$ck"
  if [[ $rc -eq 4 && ! -e $out ]] && has "rank $r: injected error at stmt-7" && has "removed 9 checkpoints of an earlier run"
  then ok; else ko "np=$np error@stmt-7: want exit 4, the fault and the clearing named (exit $rc)"; fi
  sql $np "$BANK" -- --out "$out" --checkpoint "$ck" --resume
  if [[ $rc -eq 0 ]] && has "resume: skipping statements 1-6"; then ok; else ko "np=$np resume after stmt 6: exit $rc"; fi
  same "$ref" "$out" "np=$np resume after statement 6"
done

ck=$TMP/ck2 out=$TMP/again.h5
# each table once: statement 2's checkpoint holds fx and the list; statement 1's the load and the quality tables
if $PY - "$ck" <<'EOF'; then ok; else ko "checkpoint contents"; fi
import sys, h5py
d = sys.argv[1]
def tables(name):
    with h5py.File("%s/%s" % (d, name), "r") as f:
        return sorted(f["tables"].keys())
t1, t2 = tables("01-txn.h5"), tables("02-fx.h5")
assert len(t1) == 4 and "catalog" in t1, t1   # txn, quality_rejects, quality_summary, the list
assert len(t2) == 2 and "catalog" in t2, t2   # fx, the list
EOF
sql 2 "$BANK" -- --out "$out" --checkpoint "$ck" --resume
if [[ $rc -eq 0 ]] && has "resume: skipping statements 1-9"; then ok; else ko "resume of a complete run: exit $rc"; fi
same "$TMP/ref2.h5" "$out" "resume of a complete run"
sed 's/ORDER BY file, line;/ORDER BY file, line, reason;/' "$BANK" >"$TMP/edited.sql"
sql 2 "$TMP/edited.sql" -- --out "$TMP/ref-edited.h5"
rm -f "$out"
sql 2 "$TMP/edited.sql" -- --out "$out" --checkpoint "$ck" --resume
if [[ $rc -eq 0 ]] && has "resume: skipping statements 1-5"; then ok; else ko "an edited statement 6: exit $rc"; fi
same "$TMP/ref-edited.h5" "$out" "resume with statement 6 edited"
sql 1 "$BANK" -- --out "$TMP/x.h5" --checkpoint "$ck" --resume
if [[ $rc -eq 2 ]] && has "ranks: 2 in the checkpoint, 1 now"; then ok; else ko "another rank count: exit $rc"; fi
f=$(ls "$TMP/data/transactions/"* | head -1)
sed -i '2s/.$/X/' "$f"
sql 2 "$TMP/edited.sql" -- --out "$TMP/x.h5" --checkpoint "$ck" --resume
if [[ $rc -eq 2 ]] && has "input:$f"; then ok; else ko "a changed input file: exit $rc"; fi
sql 2 "$BANK" -- --out "$TMP/y.h5" --checkpoint "$ck"
if [[ $rc -eq 0 ]] && has "removed "; then ok; else ko "a new run clearing old checkpoints: exit $rc"; fi
printf 'CREATE VIEW v AS SELECT 1 AS x;\nCREATE TABLE t AS SELECT * FROM v;\n' >"$TMP/view.sql"
sql 2 "$TMP/view.sql" -- --checkpoint "$TMP/ckv"
if [[ $rc -eq 2 ]] && has "statement 1 defines a view"; then ok; else ko "a script with a view: exit $rc"; fi

echo "sql_checkpoint: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
