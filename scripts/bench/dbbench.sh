#!/usr/bin/env bash
# db-benchmark (h2oai / duckdblabs) group-by and join questions: Tessera's SQL front-end on 1 and 2 ranks vs DuckDB
# (2 threads) on the same CSV files, answers checked against each other (docs/dbbench.md).
#   scripts/bench/dbbench.sh N [K] [NA]     N rows (1e7 works), K groups (default 100), NA percent (default 0)
# env: BENCH_DIR=/tmp/tessera-bench  TESSERA_BUILD=<repo>/build  DBBENCH_TASKS="groupby join"
#      DBBENCH_PROFILE=1 (also pass --profile to tessera: the operators' profile lands in tessera-P.out)
# Data: $BENCH_DIR/dbbench-groupby-N-K-NA and $BENCH_DIR/dbbench-join-N (generated when missing);
# results: $BENCH_DIR/dbbench-out-<same suffix>/ (tessera-P.h5, tessera-P.err with the timing lines, tessera-P.out,
# duckdb.json). Exit status 1 when an answer differs or a run failed.
set -uo pipefail
N=$(printf '%.0f' "${1:?usage: dbbench.sh N [K] [NA]}")
K=$(printf '%.0f' "${2:-100}")
NA=${3:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${TESSERA_BUILD:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/tmp/tessera-bench}
TASKS=${DBBENCH_TASKS:-groupby join}
PY=/usr/bin/python3
. "$REPO/scripts/mpi-env.sh"
export BENCH_DIR

if [[ ! -d $BENCH_DIR/node/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$BENCH_DIR/node" --no-audit --no-fund @duckdb/node-api >/dev/null || exit 1
fi

status=0
for task in $TASKS; do
  case $task in
    groupby) suffix=groupby-$N-$K-$NA; gen=(--groups "$K" --na "$NA")
             title="db-benchmark groupby, N = $N, K = $K, NA = $NA %" ;;
    join)    suffix=join-$N; gen=()
             title="db-benchmark join, x = big = $N rows, medium = $((N >= 1000 ? N / 1000 : 1))"
             title+=", small = $((N >= 1000000 ? N / 1000000 : 1))" ;;
    *) echo "dbbench.sh: unknown task '$task' (groupby or join)" >&2; exit 2 ;;
  esac
  data=$BENCH_DIR/dbbench-$suffix
  out=$BENCH_DIR/dbbench-out-$suffix
  sql=$HERE/dbbench/$task.sql
  mkdir -p "$out"
  if [[ ! -f $data/dbbench.json ]]; then
    echo "generating $task data ($N rows) into $data" >&2
    mpirun -n 2 "$BUILD/tessera-gen" --dbbench "$task" --rows "$N" "${gen[@]}" --out "$data" --overwrite --quiet \
      || exit 1
  fi
  runs=()
  for P in 1 2; do
    echo "running tessera $task on $P rank(s)" >&2
    extra=()
    [[ ${DBBENCH_PROFILE:-0} == 1 ]] && extra=(--profile)
    # the contract: rank 0 prints one `stmt <i> <name> <seconds>` line per statement to stderr under --timing
    if ! mpirun -n "$P" "$BUILD/tessera" sql "$sql" --set "data=$data" --out "$out/tessera-$P.h5" --overwrite \
        --timing "${extra[@]}" >"$out/tessera-$P.out" 2>"$out/tessera-$P.err"; then
      echo "tessera $task on $P rank(s) failed; see $out/tessera-$P.err:" >&2
      tail -n 5 "$out/tessera-$P.err" >&2
      rm -f "$out/tessera-$P.h5"
    fi
    runs+=(--run "tessera-$P" "$out/tessera-$P.h5" "$out/tessera-$P.err")
  done
  echo "running duckdb $task (2 threads)" >&2
  node "$HERE/dbbench_duckdb.mjs" "$sql" "$data" 2 >"$out/duckdb.json" 2>"$out/duckdb.err" \
    || { echo "duckdb $task failed; see $out/duckdb.err" >&2; cat "$out/duckdb.err" >&2; exit 1; }
  "$PY" "$HERE/dbbench_check.py" --duckdb "$out/duckdb.json" --sql "$sql" --title "$title" "${runs[@]}" || status=1
done
exit $status
