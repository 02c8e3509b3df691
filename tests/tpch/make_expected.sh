#!/usr/bin/env bash
# Writes tests/tpch/expected/qNN.csv: DuckDB's answers to the 22 TPC-H queries of ../shared/tpch/queries on SF 0.01
# data from ../shared/tpch/gen.sh (dbgen is deterministic, so run_tpch.sh regenerates the same data), loaded with
# scripts/bench/tpch/load.sql. A development tool: the test suite only reads the files it writes.
#   tests/tpch/make_expected.sh [SHARED_DIR]      env: DUCKDB_NODE_DIR (default /tmp/tessera-bench/node)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SHARED=$(cd "${1:-$REPO/../shared}" && pwd)
NODE_DIR=${DUCKDB_NODE_DIR:-/tmp/tessera-bench/node}
if [[ ! -d $NODE_DIR/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$NODE_DIR" --no-audit --no-fund @duckdb/node-api >/dev/null
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$SHARED/tpch/gen.sh" 0.01 "$tmp/data" >&2
rm -f "$HERE"/expected/q*.csv
DUCKDB_NODE_DIR=$NODE_DIR node "$REPO/scripts/bench/tpch/duckdb.mjs" "$tmp/data" "$SHARED/tpch/queries" \
  "$HERE/expected" 1 >"$tmp/duckdb.json"
if grep -q '"error"' "$tmp/duckdb.json"; then cat "$tmp/duckdb.json" >&2; exit 1; fi
echo "wrote $(ls "$HERE"/expected/q*.csv | wc -l) answers to $HERE/expected" >&2
