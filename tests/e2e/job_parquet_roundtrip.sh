#!/usr/bin/env bash
# Parquet round trips against DuckDB (npm @duckdb/node-api, installed on first use into BUILD/duckdb-node; the test
# is skipped, exit 77, only when npm cannot install it):
#   1. Tessera on 1, 2 and 4 ranks reads a DuckDB-written fixture (every type) and writes it back with COPY: one
#      file per codec, a small row-group size, a Hive-partitioned directory, CSV. DuckDB reads each and finds
#      exactly the fixture's rows; for Parquet files it also checks the codec, dictionary-encoded strings and that
#      every column chunk's min/max/null-count statistics are the true ones.
#   2. bank-analytics --format parquet: DuckDB reads every output table and finds the rows of the HDF5 output.
#   3. bank-analytics on Parquet transactions (DuckDB's conversion of the generated CSV, all columns as text)
#      writes the same HDF5 datasets as on the CSV files.
set -euo pipefail
BUILD=$(cd "${1:?usage: job_parquet_roundtrip.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FX=$REPO/tests/sql/data/parquet
. "$REPO/scripts/mpi-env.sh"
export DUCKDB_NODE_DIR=${DUCKDB_NODE_DIR:-$BUILD/duckdb-node}
if [[ ! -d $DUCKDB_NODE_DIR/node_modules/@duckdb/node-api ]]; then
  if ! command -v npm >/dev/null || ! timeout 600 npm install --prefix "$DUCKDB_NODE_DIR" --no-audit --no-fund \
       @duckdb/node-api >"$BUILD/duckdb-npm.log" 2>&1; then
    echo "SKIP: DuckDB (npm @duckdb/node-api) could not be installed, see $BUILD/duckdb-npm.log; the DuckDB-written"
    echo "      fixtures are still checked by tests/sql/parquet.test"
    exit 77
  fi
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-parquet.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CHECK="node $HERE/parquet_duckdb_check.mjs"
T=$BUILD/tessera

echo "== 1. COPY ... TO on 1, 2, 4 ranks, read by DuckDB"
for P in 1 2 4; do
  O=$WORK/np$P
  mkdir -p "$O"
  mpirun -n "$P" "$T" sql --quiet -c "
    CREATE TABLE t AS SELECT * FROM read_parquet('$FX/types_v2_zstd.parquet');
    COPY (SELECT * FROM t ORDER BY id) TO '$O/uncompressed.parquet' (FORMAT parquet, COMPRESSION uncompressed);
    COPY t TO '$O/snappy.parquet' (FORMAT parquet);
    COPY t TO '$O/gzip.parquet' (FORMAT parquet, COMPRESSION gzip, ROW_GROUP_SIZE 100);
    COPY t TO '$O/zstd.parquet' (FORMAT parquet, COMPRESSION zstd);
    COPY t TO '$O/parts' (FORMAT parquet, PARTITION_BY (country, yr));
    COPY t TO '$O/ranks/' (FORMAT parquet);
    COPY t TO '$O/t.csv' (HEADER)"
  { for c in uncompressed snappy gzip zstd; do echo "compare $FX/types_v2_zstd.parquet $O/$c.parquet $c"; done
    for o in parts ranks t.csv; do echo "compare $FX/types_v2_zstd.parquet $O/$o"; done; } | $CHECK -
  [[ -f $O/parts/_SUCCESS && -f $O/ranks/_SUCCESS ]] || { echo "FAIL: no _SUCCESS marker"; exit 1; }
  n=$(find "$O/ranks" -name 'part-*.parquet' | wc -l)
  [[ $n -ge 1 && $n -le $P ]] || { echo "FAIL: $n part files from $P ranks (one per rank with rows)"; exit 1; }
  if find "$O" -name '*.tmp-*' | grep -q .; then echo "FAIL: temporary files left"; exit 1; fi
  echo "np$P: 4 codecs, partitioned, per-rank and CSV outputs match the fixture"
done

echo "== 2. bank-analytics --format parquet"
mpirun -n 2 "$BUILD/tessera-gen" --rows 20000 --seed 11 --out "$WORK/gen" >/dev/null 2>&1
for P in 1 2 4; do
  mpirun -n "$P" "$T" run bank-analytics --data "$WORK/gen" --out "$WORK/bank$P" --format parquet --quiet
done
mpirun -n 2 "$T" run bank-analytics --data "$WORK/gen" --out "$WORK/bank.h5" --quiet
[[ -f $WORK/bank2/_tessera ]] || { echo "FAIL: no _tessera file"; exit 1; }
TABLES="analytics/country_month analytics/country_sector_month analytics/country_month_indicators quality/rejects
        quality/summary"
sql=""
for tbl in $TABLES; do sql+="COPY (SELECT * FROM read_h5('$WORK/bank.h5', '/$tbl')) TO '$WORK/h5_${tbl//\//_}.csv'; "; done
"$T" sql --quiet -c "$sql"
for tbl in $TABLES; do
  for P in 1 2 4; do echo "same $WORK/h5_${tbl//\//_}.csv $WORK/bank$P/$tbl"; done
done | $CHECK -
echo "bank-analytics: every table of the Parquet outputs (1, 2, 4 ranks) equals the HDF5 output"

echo "== 3. bank-analytics on Parquet transactions"
# the same rows as CSV (a/) and as Parquet (b/): DuckDB's reading of the generated files (all text; lines it
# cannot parse dropped), so bad dates, unknown countries, bad amounts and duplicates are in both
mkdir -p "$WORK/a/data/transactions" "$WORK/b/data/transactions"
cp "$WORK"/gen/*.csv "$WORK/a/data/" && cp "$WORK"/gen/*.csv "$WORK/b/data/"
for f in "$WORK"/gen/transactions/*.csv; do
  base=$(basename "$f" .csv)
  echo "convert $f $WORK/a/data/transactions/$base.csv $WORK/b/data/transactions/$base.parquet"
done | $CHECK -
(cd "$WORK/a" && mpirun -n 2 "$T" run bank-analytics --data data --out out.h5 --quiet)
(cd "$WORK/b" && mpirun -n 2 "$T" run bank-analytics --data data --out out.h5 --quiet)
# every dataset identical, except the rejects' file names (part-*.csv / part-*.parquet) and raw lines (the CSV
# text of a Parquet row is Tessera's rendering, DuckDB's CSV writer quotes differently)
diffs=$(/usr/bin/python3 "$HERE/h5_identical.py" "$WORK/a/out.h5" "$WORK/b/out.h5" |
        grep -v -E '^DIFF quality/rejects/(file|raw_line/bytes|raw_line/offsets):' || true)
[[ -z $diffs ]] || { echo "FAIL: the Parquet input's output differs:"; echo "$diffs"; exit 1; }
echo "bank-analytics: Parquet transactions give the same output as the same rows in CSV"
echo "job_parquet_roundtrip: all checks passed"
