#!/usr/bin/env bash
# TPC-H: Tessera's SQL front-end on 1 and 2 ranks vs DuckDB (2 threads) on the same dbgen .tbl files, loaded the
# same way (scripts/bench/tpch/load.sql), every answer checked.
#   scripts/bench/tpch.sh SF            e.g. scripts/bench/tpch.sh 1
# env: BENCH_DIR=/tmp/tessera-bench  TESSERA_BUILD=<repo>/build  TPCH_SHARED=<repo>/../shared
#      TPCH_DATA=DIR (the .tbl files; default: /work/data/tpch/sfSF when present, else $BENCH_DIR/tpch-sfSF,
#      generated once with ../shared/tpch/gen.sh)  TPCH_RANKS="1 2"  TPCH_TIMEOUT=600 (seconds per query)
#      TPCH_MEM_GB=6 (address-space cap per Tessera process: a query that explodes fails with exit 5 instead of
#      taking the machine)  TPCH_MEMORY_LIMIT=3G (Tessera's --memory-limit per rank; the table then shows each
#      query's spill volume, and the address-space cap is off unless TPCH_MEM_GB is set: cold tables are file
#      mappings)  TPCH_SPILL_DIR=DIR (--spill-dir)
# Answers: at SF 1 against the TPC's official answers (../shared/tpch/answers/sf1: numbers to the 2 decimals
# printed there, strings exact, order exact; where that file and DuckDB disagree (q17), DuckDB's answer of the same
# run counts, with a note), at other scale factors against DuckDB's answers of the same run.
# Prints per query the seconds on each rank count, the verdict and the peak resident memory per rank (max over the
# ranks, high-water mark reset at each statement), DuckDB's seconds and peak, the ratios, and the load apart.
# A query that fails (error, crash, timeout) is reported and the run goes on. Results: $BENCH_DIR/tpch-out-sfSF/.
# Exit status 1 when an answer is wrong or missing.
set -uo pipefail
SF=${1:?usage: tpch.sh SF}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${TESSERA_BUILD:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/tmp/tessera-bench}
SHARED=${TPCH_SHARED:-$REPO/../shared}
[[ -d $SHARED/tpch ]] || SHARED=/work/shared
RANKS=${TPCH_RANKS:-1 2}
PY=/usr/bin/python3
. "$REPO/scripts/mpi-env.sh"

if [[ -n ${TPCH_DATA:-} ]]; then data=$TPCH_DATA
elif [[ -f /work/data/tpch/sf$SF/lineitem.tbl ]]; then data=/work/data/tpch/sf$SF
else data=$BENCH_DIR/tpch-sf$SF
fi
if [[ ! -f $data/lineitem.tbl ]]; then
  echo "generating TPC-H SF $SF into $data" >&2
  tmp=$data.tmp-$$
  "$SHARED/tpch/gen.sh" "$SF" "$tmp" >&2 && mv "$tmp" "$data" || { rm -rf "$tmp"; exit 1; }
fi
if [[ ! -d $BENCH_DIR/node/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$BENCH_DIR/node" --no-audit --no-fund @duckdb/node-api >/dev/null || exit 1
fi
out=$BENCH_DIR/tpch-out-sf$SF
rm -rf "$out"; mkdir -p "$out/duckdb"

echo "running duckdb (2 threads) on $data" >&2
DUCKDB_NODE_DIR=$BENCH_DIR/node node "$HERE/tpch/duckdb.mjs" "$data" "$SHARED/tpch/queries" "$out/duckdb" 2 \
  >"$out/duckdb.json" 2>"$out/duckdb.err" || { echo "duckdb failed:" >&2; cat "$out/duckdb.err" >&2; exit 1; }
if [[ $SF == 1 && -d $SHARED/tpch/answers/sf1 ]]; then
  expected=(--expected "$SHARED/tpch/answers/sf1" --official --peer "$out/duckdb")
else expected=(--expected "$out/duckdb")
fi

status=0
report=()
as_cap=6; [[ -n ${TPCH_MEMORY_LIMIT:-} ]] && as_cap=0
for P in $RANKS; do
  echo "running tessera on $P rank(s)" >&2
  "$PY" "$HERE/tpch/tpch.py" run --tessera "$BUILD/tessera" --ranks "$P" --data "$data" --queries "$SHARED/tpch/queries" \
    --out "$out/tessera-$P" --timeout "${TPCH_TIMEOUT:-600}" --mem-limit-gb "${TPCH_MEM_GB:-$as_cap}" \
    ${TPCH_MEMORY_LIMIT:+--memory-limit "$TPCH_MEMORY_LIMIT"} ${TPCH_SPILL_DIR:+--spill-dir "$TPCH_SPILL_DIR"} || status=1
  "$PY" "$HERE/tpch/tpch.py" check "${expected[@]}" --results "$out/tessera-$P" --json "$out/check-$P.json" \
    >"$out/check-$P.txt" || status=1
  report+=(--tessera "$P=$out/tessera-$P" --checks "$P=$out/check-$P.json")
done
if [[ $SF == 1 ]]; then  # DuckDB itself against the official answers: the checker's own sanity check
  "$PY" "$HERE/tpch/tpch.py" check --expected "$SHARED/tpch/answers/sf1" --official --results "$out/duckdb" \
    >"$out/check-duckdb.txt" \
    || echo "note: DuckDB's answers differ from the official ones: $out/check-duckdb.txt" >&2
fi
"$PY" "$HERE/tpch/tpch.py" report --sf "$SF" --duckdb "$out/duckdb.json" "${report[@]}"
[[ -f $out/check-duckdb.txt ]] && grep -v ' ok$' "$out/check-duckdb.txt" | sed 's/^/DuckDB against the TPC file: /'
grep -h "equals" "$out"/check-[0-9]*.txt 2>/dev/null | sed 's/^/note: /'
exit $status
