#!/usr/bin/env bash
# Parquet benchmark: TPC-H lineitem as Parquet (snappy, written by DuckDB) read by Tessera (1 and 2 ranks) and by
# DuckDB (1 and 2 threads): a scan that decodes every column and a group-by (TPC-H Q1's aggregates), answers
# checked against each other; then the file sizes of the same table as CSV (dbgen's .tbl), Parquet (DuckDB's and
# Tessera's writer, snappy) and HDF5 (Tessera's output format).
#   scripts/bench/parquet.sh [SF]        SF 1 by default: $TPCH_DIR/lineitem.tbl (TPCH_DIR=/work/data/tpch/sf$SF)
# env: BENCH_DIR=/tmp/tessera-bench  TESSERA_BUILD=<repo>/build  RUNS=2 (best of RUNS per system)
# Times are the statements' own (tessera sql --timing; DuckDB: around the query), not process start-up.
set -euo pipefail
SF=${1:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${TESSERA_BUILD:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/tmp/tessera-bench}
TPCH_DIR=${TPCH_DIR:-/work/data/tpch/sf$SF}
RUNS=${RUNS:-2}
OUT=$BENCH_DIR/parquet-sf$SF
. "$REPO/scripts/mpi-env.sh"
export DUCKDB_NODE_DIR=$BENCH_DIR/node
mkdir -p "$OUT"
[[ -f $TPCH_DIR/lineitem.tbl ]] || { echo "parquet.sh: no $TPCH_DIR/lineitem.tbl (/work/shared/tpch/gen.sh $SF DIR)" >&2; exit 2; }
if [[ ! -d $DUCKDB_NODE_DIR/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$DUCKDB_NODE_DIR" --no-audit --no-fund @duckdb/node-api >/dev/null
fi
PQ=$OUT/lineitem.parquet
if [[ ! -f $PQ ]]; then
  echo "converting $TPCH_DIR/lineitem.tbl to $PQ (DuckDB, snappy)" >&2
  node "$HERE/parquet_duckdb.mjs" convert "$TPCH_DIR/lineitem.tbl" "$PQ"
fi

SCAN="SELECT count(*), min(l_orderkey), max(l_partkey), sum(l_suppkey), sum(l_linenumber), sum(l_quantity),
  sum(l_extendedprice), sum(l_discount), sum(l_tax), min(l_returnflag), max(l_linestatus), min(l_shipdate),
  max(l_commitdate), min(l_receiptdate), max(l_shipinstruct), min(l_shipmode), max(l_comment)
  FROM read_parquet('$PQ')"
GROUP="SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
  sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax))
  AS sum_charge, avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc,
  count(*) AS count_order FROM read_parquet('$PQ') WHERE l_shipdate <= DATE '1998-09-02'
  GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus"

best() { sort -g | head -1; }
for P in 1 2; do
  for r in $(seq "$RUNS"); do
    mpirun -n "$P" "$BUILD/tessera" sql --quiet --timing --format csv -c "$SCAN; $GROUP" >"$OUT/tessera-$P.out" 2>"$OUT/tessera-$P-$r.err"
  done
  for k in 1 2; do
    cat "$OUT"/tessera-$P-*.err | awk -v k=$k '$1 == "stmt" && $2 == k {print $4}' | best >"$OUT/tessera-$P-q$k.s"
  done
  for T in $P; do
    node "$HERE/parquet_duckdb.mjs" time "$T" "$RUNS" "$SCAN" "$GROUP" >"$OUT/duckdb-$T.json"
  done
done

# sizes of the same table in each format (the HDF5 and Tessera-written Parquet from Tessera itself)
if [[ ! -f $OUT/lineitem.h5 || ! -f $OUT/lineitem_tessera.parquet ]]; then
  mpirun -n 2 "$BUILD/tessera" sql --quiet --overwrite --out "$OUT/lineitem.h5" -c "
    CREATE TABLE lineitem AS SELECT * FROM read_parquet('$PQ');
    COPY lineitem TO '$OUT/lineitem_tessera.parquet' (FORMAT parquet, COMPRESSION snappy, OVERWRITE)"
fi

/usr/bin/python3 - "$OUT" "$TPCH_DIR/lineitem.tbl" "$PQ" <<'PYEOF'
import csv as csvmod, json, os, re, sys
out, tbl, pq = sys.argv[1:4]
def tessera_rows(p):  # --format csv: each result a header, its rows and a blank line; the rows of all results
    rows, header_next = [], True
    for r in csvmod.reader(open(p, newline="")):
        if not r:
            header_next = True
        elif header_next:
            header_next = False
        else:
            rows.append(r)
    return rows
def close(a, b):
    try:
        x, y = float(a), float(b)
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
    except ValueError:
        return a == b
status = 0
print(f"| system | ranks/threads | scan, every column (s) | group-by, TPC-H Q1 (s) |")
print("|---|---|---|---|")
res = {}
for p in (1, 2):
    t = [float(open(f"{out}/tessera-{p}-q{k}.s").read() or 'nan') for k in (1, 2)]
    d = json.load(open(f"{out}/duckdb-{p}.json"))
    res[p] = (t, d)
    print(f"| Tessera | {p} | {t[0]:.2f} | {t[1]:.2f} |")
    print(f"| DuckDB | {p} | {d['seconds'][0]:.2f} | {d['seconds'][1]:.2f} |")
    trows = tessera_rows(f"{out}/tessera-{p}.out")
    drows = d['rows']
    if len(trows) != len(drows) or any(len(a) != len(b) or not all(close(x, y) for x, y in zip(a, b)) for a, b in zip(trows, drows)):
        print(f"ANSWERS DIFFER on {p}: tessera {trows} duckdb {drows}", file=sys.stderr)
        status = 1
print()
for p in (1, 2):
    t, d = res[p]
    print(f"DuckDB / Tessera at {p}: scan {d['seconds'][0] / t[0]:.2f}x, group-by {d['seconds'][1] / t[1]:.2f}x")
print()
mib = lambda f: os.path.getsize(f) / 2**20
print("| format | file | MiB | vs CSV |")
print("|---|---|---|---|")
csv = mib(tbl)
for name, f in (("CSV (dbgen .tbl)", tbl), ("Parquet, snappy (DuckDB)", pq),
                ("Parquet, snappy (Tessera)", f"{out}/lineitem_tessera.parquet"), ("HDF5 (Tessera, deflate 1)", f"{out}/lineitem.h5")):
    print(f"| {name} | {os.path.basename(f)} | {mib(f):.0f} | {mib(f) / csv:.2f} |")
print("answers agree" if status == 0 else "ANSWERS DIFFER")
sys.exit(status)
PYEOF
