#!/usr/bin/env bash
# bank-analytics benchmark: Tessera on 1 and 2 ranks vs pandas (bank_pandas.py) vs DuckDB (bank_duckdb.mjs, exact
# rules; bank_duckdb_native.mjs, DuckDB's own CSV reader and approximate reject rules).
#   scripts/bench/bank.sh ROWS          env: BENCH_DIR=/tmp/tessera-bench  TESSERA_BUILD=<repo>/build  SEED=1
# Data is generated once per ROWS into $BENCH_DIR/ROWS and reused. Times are wall-clock as a user sees them
# (mpirun / interpreter start-up included). The 2-rank Tessera run uses --profile; its report (stderr) is kept in
# $OUT/tessera-2.profile and printed after the table. Then checks that the exact systems agree on the totals: sum
# of txn_count and success_count, sum of volume_usd (1e-6 relative) and the reject count per reason; for
# duckdb-native it only prints how far its totals are from Tessera's.
set -euo pipefail
ROWS=${1:?usage: bank.sh ROWS}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${TESSERA_BUILD:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/tmp/tessera-bench}
DATA=$BENCH_DIR/$ROWS
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3: h5py + pandas
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE BENCH_DIR
for exe in tessera tessera-gen; do
  [[ -x $BUILD/$exe ]] || { echo "bank.sh: $BUILD/$exe not built (set TESSERA_BUILD)" >&2; exit 2; }
done

if [[ ! -f $DATA/manifest.json ]]; then  # generate into a temp name so an interrupted run is never reused
  echo "generating $ROWS rows into $DATA"
  rm -rf "$DATA.tmp"
  mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows "$ROWS" --seed "${SEED:-1}" --out "$DATA.tmp" --quiet
  mv "$DATA.tmp" "$DATA"
fi
if [[ ! -d $BENCH_DIR/node/node_modules/@duckdb/node-api ]]; then
  npm install --prefix "$BENCH_DIR/node" --no-audit --no-fund @duckdb/node-api >/dev/null
fi

OUT=$BENCH_DIR/out-$ROWS
mkdir -p "$OUT"
TIMES=$OUT/times.txt
: >"$TIMES"
timed() {  # timed NAME PARALLELISM cmd...: wall-clock seconds appended to $TIMES
  local name=$1 par=$2 t0 t1
  shift 2
  echo "running $name ($par)" >&2
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v n="$name" -v p="$par" 'BEGIN { printf "%s %s %.3f\n", n, p, b - a }' >>"$TIMES"
}
timed tessera 1 mpirun --oversubscribe -n 1 "$BUILD/tessera" run bank-analytics --data "$DATA" \
  --out "$OUT/tessera-1.h5" --overwrite
profiled() {  # profiled cmd...: stderr (the --profile report) to $OUT/tessera-2.profile, shown if cmd fails
  "$@" 2>"$OUT/tessera-2.profile" || { cat "$OUT/tessera-2.profile" >&2; return 1; }
}
timed tessera 2 profiled mpirun --oversubscribe -n 2 "$BUILD/tessera" run bank-analytics --data "$DATA" \
  --out "$OUT/tessera-2.h5" --overwrite --profile
timed pandas 1 "$PY" "$HERE/bank_pandas.py" "$DATA" "$OUT/pandas" >"$OUT/pandas.json"
timed duckdb 2 node "$HERE/bank_duckdb.mjs" "$DATA" "$OUT/duckdb" 2 >"$OUT/duckdb.json"
timed duckdb-native 2 node "$HERE/bank_duckdb_native.mjs" "$DATA" "$OUT/duckdb-native" 2 >"$OUT/duckdb-native.json"

"$PY" - "$ROWS" "$TIMES" "$OUT" <<'EOF'
import json, sys
import h5py, numpy as np
rows, times, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
runs = [l.split() for l in open(times)]
ref = next(float(s) for n, p, s in runs if n == "tessera" and p == "2")
print(f"\nbank-analytics, {rows:,} rows")
LABEL = {"duckdb-native": "duckdb-native (approximate rejects)"}
w = max(len(LABEL.get(n, n)) for n, _, _ in runs) + 2
print(f"{'system':<{w}}{'ranks/threads':>14}{'seconds':>10}{'rows/s':>14}{'vs tessera-2':>14}")
for n, p, s in runs:
    s = float(s)
    print(f"{LABEL.get(n, n):<{w}}{p:>14}{s:>10.2f}{rows / s:>14,.0f}{s / ref:>13.2f}x")

prof = open(f"{out}/tessera-2.profile").read()
print(f"\ntessera 2 ranks --profile ({out}/tessera-2.profile):\n" + prof.rstrip())
import re
UNIT = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
peaks = [tuple(float(v) * UNIT[u] for v, u in zip(m.group(1, 3), m.group(2, 4))) for m in
         (re.search(r"([\d.]+) (\w+)/([\d.]+) (\w+)\s*$", l) for l in prof.splitlines()) if m]
if peaks:  # the last column of each stage: peak RSS, min/max over ranks
    lo, hi = max(p[0] for p in peaks), max(p[1] for p in peaks)
    print(f"peak RSS per rank (max over stages): {lo / 2**20:.1f} MiB on the lowest rank, "
          f"{hi / 2**20:.1f} MiB on the highest")
else:
    print("peak RSS per rank: not found in the profile")

def tessera(path):
    with h5py.File(path, "r") as f:
        cm, sm = f["analytics/country_month"], f["quality/summary"]
        summ = dict(zip((m.decode() for m in sm["metric"][()]), (int(c) for c in sm["count"][()])))
        return {"txn_count": int(cm["txn_count"][()].sum()), "success_count": int(cm["success_count"][()].sum()),
                "volume_usd": float(np.nansum(cm["volume_usd"][()])),
                "rejects": {k: v for k, v in list(summ.items())[3:] if v}}

systems = {"tessera-1": tessera(f"{out}/tessera-1.h5"), "tessera-2": tessera(f"{out}/tessera-2.h5"),
           "pandas": json.load(open(f"{out}/pandas.json")), "duckdb": json.load(open(f"{out}/duckdb.json"))}
base, bad = systems["tessera-2"], []
native = json.load(open(f"{out}/duckdb-native.json"))
rel = lambda k: (native[k] - base[k]) / base[k]
print(f"\nduckdb-native vs tessera-2 (not checked): txn_count {rel('txn_count'):+.4%}, "
      f"success_count {rel('success_count'):+.4%}, volume_usd {rel('volume_usd'):+.4%}; "
      f"rejects {native['rejects']}")
for name, t in systems.items():
    for k in ("txn_count", "success_count"):
        if t[k] != base[k]:
            bad.append(f"{name} {k}={t[k]} vs tessera-2 {base[k]}")
    if abs(t["volume_usd"] - base["volume_usd"]) > 1e-6 * abs(base["volume_usd"]):
        bad.append(f"{name} volume_usd={t['volume_usd']!r} vs tessera-2 {base['volume_usd']!r}")
    if {k: v for k, v in t["rejects"].items() if v} != base["rejects"]:
        bad.append(f"{name} rejects={t['rejects']} vs tessera-2 {base['rejects']}")
print(f"\ntotals (tessera-2): txn_count={base['txn_count']} success_count={base['success_count']} "
      f"volume_usd={base['volume_usd']:.6f} rejects={base['rejects']}")
if bad:
    print("DISAGREEMENT:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("tessera-1, tessera-2, pandas and duckdb agree on the totals")
EOF
