#!/usr/bin/env bash
# CLI contract: help texts, usage errors (exit 2), I/O errors (exit 3) with the path in the message,
# and refusing to overwrite an existing output.
set -u
BUILD=${1:?usage: cli_usage.sh BUILD_DIR}
T=$BUILD/tessera
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
expect() { # expect NAME WANT_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ] && grep -q -- "$pat" "$tmp/out"; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL $name: rc=$rc (want $want), output:"; head -5 "$tmp/out"; fi
}
MPI="mpirun -n 2 --oversubscribe"
DATA=$tmp/data
mpirun -n 1 "$BUILD/tessera-gen" --rows 2000 --seed 3 --out "$DATA" --quiet
expect help 0 "usage: mpirun" -- "$T" --help
expect run-help 0 "\-\-data DIR" -- "$T" run --help
expect no-args 2 "usage" -- "$T"
expect bad-command 2 "unknown command" -- "$T" frobnicate
expect unknown-job 2 "unknown job" -- "$T" run nojob --data "$tmp" --out "$tmp/o.h5"
expect missing-out 2 "needs --out FILE" -- "$T" run bank-analytics --data "$tmp"
expect bad-option 2 "unknown or incomplete option" -- "$T" run bank-analytics --bogus
expect gen-help 0 "rows" -- "$BUILD/tessera-gen" --help
expect missing-dir 3 "$tmp/nope" -- $MPI "$T" run bank-analytics --data "$tmp/nope" --out "$tmp/o.h5" --quiet
mkdir -p "$tmp/empty"
expect no-transactions 3 "transactions" -- $MPI "$T" run bank-analytics --data "$tmp/empty" --out "$tmp/o.h5" --quiet
printf 'table t\norder x\nmalformed x\ncolumn a int64 reject=nope\n' > "$tmp/bad.rules"
expect bad-rules 2 "bad.rules:4: reason 'nope'" -- $MPI "$T" run bank-analytics --data "$DATA" --out "$tmp/r.h5" --rules "$tmp/bad.rules" --quiet
expect missing-rules 3 "cannot open rules file" -- $MPI "$T" run bank-analytics --data "$DATA" --out "$tmp/r.h5" --rules "$tmp/none.rules" --quiet
# table rules from a --rules file run end to end (the job reports their reasons)
{ sed 's/^order .*/& orphan_customer dup_txn_id/' "$(dirname "$0")/../../jobs/rules/bank_transactions.rules"
  printf 'unique txn_id reject=dup_txn_id\nreferences customer_id customers.csv:customer_id reject=orphan_customer\n'
} >"$tmp/table.rules"
expect table-rules 0 "dup_txn_id" -- $MPI "$T" run bank-analytics --data "$DATA" --out "$tmp/t.h5" --rules "$tmp/table.rules" --quiet
echo keep > "$tmp/exists.h5"
expect exists 3 "already exists" -- $MPI "$T" run bank-analytics --data "$tmp/empty" --out "$tmp/exists.h5" --quiet
if [ "$(cat "$tmp/exists.h5")" = keep ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL existing output modified"; fi
echo "cli_usage: $pass passed, $fail failed"
[ "$fail" = 0 ]
