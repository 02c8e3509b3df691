#!/usr/bin/env bash
# Checkpoint/resume of bank-analytics (--checkpoint DIR, --resume; issue 5), on 1, 2 and 4 ranks:
#   - a run killed at the write stage (TESSERA_FAULT=RANK:write:kill) exits non-zero, leaves no output and the
#     checkpoints 06-aggregate.h5 and 08-sort.h5; --resume skips stages 2-8 and its output is identical, dataset
#     for dataset and byte for byte (h5_identical.py), to an uninterrupted run's;
#   - without 08-sort.h5, --resume starts from 06-aggregate.h5 (stages 2-6 skipped) with the same output;
#   - an injected error at sort leaves only 06-aggregate.h5, and resuming from it gives the same output;
# then (2 ranks): a rank killed while 08-sort.h5 is being written (h5-write point) leaves 06-aggregate.h5 and a
# temporary but no 08-sort.h5, and the resume uses 06; --resume with another rank count, with a changed input
# file or with other rules is refused (exit 2, message naming the difference); --resume into an empty directory
# runs every stage; a new run without --resume clears the old checkpoints; the partitioned plan
# (TESSERA_PARTITIONS=3) resumes from its own checkpoints (04-rejects.h5, 06-sort.h5).
#   job_checkpoint.sh BUILD_DIR        (KEEP_CK=1 keeps the temp dir)
set -u
BUILD=$(cd "${1:?usage: job_checkpoint.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$BUILD/tessera
. "$HERE/../../scripts/mpi-env.sh"
TMP=$(mktemp -d /tmp/tessera-ck.XXXXXX)
if [[ -n ${KEEP_CK:-} ]]; then echo "keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $*"; [[ -f $TMP/err ]] && sed 's/^/      stderr: /' "$TMP/err" | head -8; }
job() { # job NP [VAR=value...] -- tessera run args: sets rc; stderr in $TMP/err
  local np=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 120 mpirun -n "$np" "$T" run bank-analytics --quiet "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
same() { # same A B NAME: the outputs are identical
  if $PY "$HERE/h5_identical.py" "$1" "$2" >"$TMP/cmp" 2>&1; then ok; else ko "$3: outputs differ"; head -5 "$TMP/cmp"; fi
}
has() { grep -qF -- "$1" "$TMP/err"; }

D=$TMP/data
mpirun -n 1 "$BUILD/tessera-gen" --rows 60000 --rows-per-file 20000 --seed 21 --out "$D" --quiet ||
  { echo "FAIL tessera-gen"; exit 1; }

for np in 1 2 4; do
  r=$((np - 1)) ck=$TMP/ck$np ref=$TMP/ref$np.h5 out=$TMP/out$np.h5
  job $np -- --data "$D" --out "$ref"
  [[ $rc -eq 0 ]] || { ko "np=$np: uninterrupted run failed (exit $rc)"; continue; }

  job $np TESSERA_FAULT=$r:write:kill -- --data "$D" --out "$out" --checkpoint "$ck"
  if [[ $rc -ne 0 && ! -e $out && -f $ck/06-aggregate.h5 && -f $ck/08-sort.h5 ]]; then ok; else
    ko "np=$np kill@write: want exit != 0, no output, 06-aggregate.h5 and 08-sort.h5 (exit $rc: $(ls "$ck" 2>&1 | xargs))"; fi

  job $np -- --data "$D" --out "$out" --checkpoint "$ck" --resume
  if [[ $rc -eq 0 ]] && has "resume: skipping stages 2-8 (checkpoint $ck/08-sort.h5); re-running reference"; then ok
  else ko "np=$np resume from 08-sort: exit $rc or no resume message"; fi
  same "$ref" "$out" "np=$np resume from 08-sort"

  rm -f "$ck/08-sort.h5" "$out"
  job $np -- --data "$D" --out "$out" --checkpoint "$ck" --resume
  if [[ $rc -eq 0 ]] && has "resume: skipping stages 2-6 (checkpoint $ck/06-aggregate.h5)"; then ok
  else ko "np=$np resume from 06-aggregate: exit $rc or no resume message"; fi
  same "$ref" "$out" "np=$np resume from 06-aggregate"

  rm -f "$out"
  job $np TESSERA_FAULT=$r:sort:error -- --data "$D" --out "$out" --checkpoint "$ck"
  if [[ $rc -eq 4 && -f $ck/06-aggregate.h5 && ! -e $ck/08-sort.h5 ]] && has "rank $r: injected error at sort" &&
    has "removed 2 checkpoints of an earlier run"; then ok
  else ko "np=$np error@sort: want exit 4, only 06-aggregate.h5 (exit $rc: $(ls "$ck" | xargs))"; fi
  job $np -- --data "$D" --out "$out" --checkpoint "$ck" --resume
  if [[ $rc -eq 0 ]] && has "(checkpoint $ck/06-aggregate.h5)"; then ok; else ko "np=$np resume after error@sort: exit $rc"; fi
  same "$ref" "$out" "np=$np resume after error@sort"
done

# killed while a checkpoint is written: 06's four tables (3 + /meta) pass h5-write, the 6th is 08-sort's 2nd
ck=$TMP/ckw out=$TMP/outw.h5
job 2 TESSERA_FAULT=1:h5-write:kill:6 -- --data "$D" --out "$out" --checkpoint "$ck"
if [[ $rc -ne 0 && -f $ck/06-aggregate.h5 && ! -e $ck/08-sort.h5 ]] && ls -A "$ck" | grep -q '^\.08-sort\.h5\.tmp-'; then ok
else ko "kill during the 08-sort checkpoint: want 06-aggregate.h5 and a temporary only (exit $rc: $(ls -A "$ck" | xargs))"; fi
job 2 -- --data "$D" --out "$out" --checkpoint "$ck" --resume
if [[ $rc -eq 0 ]] && has "(checkpoint $ck/06-aggregate.h5)" && [[ -f $ck/08-sort.h5 ]]; then ok
else ko "resume after a kill during a checkpoint write: exit $rc"; fi
same "$TMP/ref2.h5" "$out" "resume after a kill during a checkpoint write"

# refusals: another rank count, a changed input (also edited in place with size and mtime kept), other rules
# (exit 2, the difference named)
job 4 -- --data "$D" --out "$TMP/x.h5" --checkpoint "$TMP/ck2" --resume
if [[ $rc -eq 2 ]] && has "ranks: 2 in the checkpoint, 4 now" && [[ ! -e $TMP/x.h5 ]]; then ok; else ko "resume on 4 ranks of a 2-rank checkpoint: exit $rc"; fi
printf 'x' >>"$D/transactions/part-00002.csv"
job 2 -- --data "$D" --out "$TMP/x.h5" --checkpoint "$TMP/ck2" --resume
if [[ $rc -eq 2 ]] && has "transactions/part-00002.csv: " && has "in the checkpoint"; then ok; else ko "resume after an input file changed: exit $rc"; fi
$PY - "$D/transactions/part-00002.csv" <<'EOF'
import sys; p = sys.argv[1]; b = open(p, 'rb').read(); open(p, 'wb').write(b[:-1])
EOF
# an edit in place that keeps the size and the modification time (cp -p, touch -r): the sampled content differs
# (files over 1 MiB are sampled: tests/unit/test_fingerprint.c checks which bytes count)
f=$D/transactions/part-00001.csv
cp -p "$f" "$TMP/orig.csv"
$PY - "$f" <<'EOF'
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); i = b.index(b'\n', 1000) - 1  # row ~12
b[i] = ord('7') if b[i] != ord('7') else ord('8'); open(p, 'wb').write(bytes(b))
EOF
touch -r "$TMP/orig.csv" "$f"
job 2 -- --data "$D" --out "$TMP/x.h5" --checkpoint "$TMP/ck2" --resume
if [[ $rc -eq 2 ]] && has "transactions/part-00001.csv: " && has "sampled"; then ok
else ko "resume after a same-size edit with the mtime kept: exit $rc"; fi
cp -p "$TMP/orig.csv" "$f"
sed 's/^/# /' "$HERE/../../jobs/rules/bank_transactions.rules" | head -1 >"$TMP/r.rules"
cat "$HERE/../../jobs/rules/bank_transactions.rules" >>"$TMP/r.rules"
job 2 -- --data "$D" --out "$TMP/x.h5" --checkpoint "$TMP/ck2" --resume --rules "$TMP/r.rules"
if [[ $rc -eq 2 ]] && has "rules: fnv1a64:"; then ok; else ko "resume with other rules: exit $rc"; fi

# --resume with nothing to resume from runs everything
job 2 -- --data "$D" --out "$TMP/e.h5" --checkpoint "$TMP/empty" --resume
if [[ $rc -eq 0 ]] && has "resume: no checkpoint of this run in $TMP/empty: running every stage"; then ok; else ko "resume into an empty dir: exit $rc"; fi
same "$TMP/ref2.h5" "$TMP/e.h5" "resume into an empty dir"

# the partitioned plan (memory budget) checkpoints after its rejects stage and after sort
ck=$TMP/ckp out=$TMP/outp.h5
job 2 TESSERA_PARTITIONS=3 TESSERA_FAULT=0:write:kill -- --data "$D" --out "$out" --checkpoint "$ck"
if [[ $rc -ne 0 && -f $ck/04-rejects.h5 && -f $ck/06-sort.h5 ]]; then ok; else ko "partitioned kill@write: exit $rc: $(ls "$ck" 2>&1 | xargs)"; fi
rm -f "$ck/06-sort.h5"
job 2 TESSERA_PARTITIONS=3 -- --data "$D" --out "$out" --checkpoint "$ck" --resume
if [[ $rc -eq 0 ]] && has "resume: skipping stages 2-4 (checkpoint $ck/04-rejects.h5)"; then ok; else ko "partitioned resume: exit $rc"; fi
same "$TMP/ref2.h5" "$out" "partitioned resume"

echo "job_checkpoint: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
