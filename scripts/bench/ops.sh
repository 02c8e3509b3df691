#!/usr/bin/env bash
# Operator benchmark (issue 3): join of N x N/10 rows, group-by with 10^2, 10^5 and ~N groups, sort of N rows,
# in Tessera (1 and 2 ranks, `tessera run bench-ops`) and in DuckDB (2 threads) on the same CSV files, with the
# results checked against each other (row counts and checksums).
#   scripts/bench/ops.sh N          env: BENCH_DIR=/tmp/tessera-bench  TESSERA_BUILD=<repo>/build
set -euo pipefail
N=${1:?usage: ops.sh N}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${TESSERA_BUILD:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/tmp/tessera-bench}
DATA=$BENCH_DIR/ops-$N
OUT=$BENCH_DIR/ops-out-$N
PY=/usr/bin/python3
. "$REPO/scripts/mpi-env.sh"
export BENCH_DIR
mkdir -p "$OUT"
if [[ ! -f $DATA/y/part-00000.csv ]]; then
  echo "generating $N rows into $DATA" >&2
  "$PY" "$HERE/ops_gen.py" "$N" "$DATA"
fi
if [[ ! -d $BENCH_DIR/node/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$BENCH_DIR/node" --no-audit --no-fund @duckdb/node-api >/dev/null
fi
for P in 1 2; do
  echo "running tessera on $P rank(s)" >&2
  mpirun -n "$P" "$BUILD/tessera" run bench-ops --data "$DATA" --out "$OUT/tessera-$P.h5" --overwrite --profile \
    --quiet >"$OUT/tessera-$P.out" 2>"$OUT/tessera-$P.profile"
done
echo "running duckdb (2 threads)" >&2
node "$HERE/ops_duckdb.mjs" "$DATA" 2 >"$OUT/duckdb.json"

"$PY" - "$N" "$OUT" <<'PYEOF'
import json, re, sys
n, out = int(sys.argv[1]), sys.argv[2]
def stages(path):  # stage name -> max seconds over ranks, from the --profile table
    t = {}
    for line in open(path):
        m = re.match(r"^(scan x|scan y|join|group g2|group g5|group g7|sort)\s{2,}.*?\s([0-9.]+)/([0-9.]+)\s", line)
        if m:
            t[m.group(1)] = float(m.group(3))
    return t
def checks(path):  # operation -> (rows, checksum) printed by the job
    c = {}
    for line in open(path):
        m = re.match(r"^(.*?)\s+rows (\d+)\s+checksum (\d+)", line)
        if m:
            op = m.group(1).strip()
            key = "join" if op.startswith("join") else op.replace("group by ", "group ").replace("sort by v3, id", "sort")
            c[key] = (int(m.group(2)), m.group(3))
    return c
t1, t2 = stages(f"{out}/tessera-1.profile"), stages(f"{out}/tessera-2.profile")
d = json.load(open(f"{out}/duckdb.json"))
names = {"scan x": f"scan x ({n:,} rows CSV)", "scan y": f"scan y ({n // 10:,} rows CSV)",
         "join": f"join {n:,} x {n // 10:,}", "group g2": "group-by, 10^2 groups", "group g5": "group-by, 10^5 groups",
         "group g7": f"group-by, ~{n:,} groups", "sort": f"sort {n:,} rows by (v3, id)"}
print(f"\noperator benchmark, N = {n:,}  (seconds; DuckDB 2 threads; ratio = DuckDB / Tessera 2 ranks)")
print(f"{'operation':<32}{'tessera-1':>11}{'tessera-2':>11}{'duckdb':>9}{'ratio':>8}")
for k, label in names.items():
    a, b, c = t1.get(k, float('nan')), t2.get(k, float('nan')), d["seconds"].get(k, float('nan'))
    print(f"{label:<32}{a:>11.3f}{b:>11.3f}{c:>9.3f}{c / b if b else float('nan'):>7.1f}x")
bad = 0
for run in (1, 2):
    got = checks(f"{out}/tessera-{run}.out")
    for k, (rows, cs) in d["checks"].items():
        if got.get(k) != (rows, cs):
            bad += 1
            print(f"MISMATCH tessera-{run} {k}: {got.get(k)} vs duckdb {(rows, cs)}")
print("results agree (rows and checksums of every operation, 1 and 2 ranks vs DuckDB)" if not bad else "RESULTS DIFFER")
sys.exit(1 if bad else 0)
PYEOF
