#!/usr/bin/env bash
# Measurements behind docs/scaling.md: weak scaling of bank-analytics, the MPI exchange's latency and bandwidth on
# this machine, bytes and messages per rank of the bank job and of TPC-H queries, and the cost model's projection.
set -uo pipefail
ME=scaling.sh
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() {
  cat <<'END'
usage: scripts/bench/scaling.sh [options]
Measures, then prints markdown tables (docs/scaling.md explains them):
  exchange  scripts/bench/exchange_bench.c (MPI_Allreduce + MPI_Alltoallv, as ts_exchange does per column) on each
            rank count >= 2, and the least-squares fit T = alpha*(P-1) + beta*bytes_leaving_the_rank
  bank      weak scaling of `tessera run bank-analytics --profile`: ROWS_PER_RANK x P rows (tessera-gen --seed 7),
            runs interleaved (1 2 4 1 2 4 ...) so that load drifts hit every point alike; median per point;
            one extra run per P >= 2 under Open MPI's pml monitoring (bytes and messages per rank)
  tpch      TPC-H queries at SF 1 on the rank counts >= 2, each after load.sql, under pml monitoring; a run of
            load.sql alone is subtracted (bytes and messages of the query itself)
  model     the projection to 1,024 ranks (scripts/bench/scaling.py model) from the three parts above
options:
  --work DIR            where data, logs and results go (default /tmp/tessera-scaling)
  --rows-per-rank N     bank rows per rank (default 2500000)
  --ranks "1 2 4"       rank counts (default "1 2 4"; the model needs 1, 2 and 4)
  --repeat K            bank runs per point (default 3)
  --parts "exchange bank tpch model"   what to run (default all)
  --tpch-data DIR       TPC-H SF 1 .tbl files (default /work/data/tpch/sf1)
  --queries "q03 q09 q18"  TPC-H queries (default those three)
  --keep                keep the generated bank data (default: deleted at the end)
  -h, --help            this text
env: TESSERA_BUILD (default <repo>/build), TPCH_SHARED (default <repo>/../shared, then /work/shared),
     ALPHA_NET (s, default 2e-6), NODE_BW (bytes/s, default 12.5e9), RANKS_PER_NODE (default 32): the model's
     network assumptions.
Exit status: 0, 1 when a run failed, 2 usage.
END
}

WORK=/tmp/tessera-scaling ROWS=2500000 RANKS="1 2 4" REPEAT=3 PARTS="exchange bank tpch model" KEEP=0
TPCH_DATA=/work/data/tpch/sf1 QUERIES="q03 q09 q18"
while (($#)); do
  case $1 in
    --work) WORK=$2; shift ;;
    --rows-per-rank) ROWS=$2; shift ;;
    --ranks) RANKS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --parts) PARTS=$2; shift ;;
    --tpch-data) TPCH_DATA=$2; shift ;;
    --queries) QUERIES=$2; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "$ME: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ $ROWS =~ ^[0-9]+$ && $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "$ME: --rows-per-rank and --repeat take numbers" >&2; exit 2; }
BUILD=${TESSERA_BUILD:-$REPO/build}
SHARED=${TPCH_SHARED:-$REPO/../shared}
[[ -d $SHARED/tpch ]] || SHARED=/work/shared
PY=python3
. "$REPO/scripts/mpi-env.sh"
mkdir -p "$WORK/logs" "$WORK/mon"
WORK=$(cd "$WORK" && pwd)
status=0
has() { [[ " $PARTS " == *" $1 "* ]]; }
# monitored: mpirun options that make Open MPI write every rank's sent bytes and messages per peer at MPI_Finalize
# and, through scripts/bench/mpi_count.c (PMPI), the collective calls of every kind in PREFIX.<rank>.count
monitored() {
  echo --mca pml_monitoring_enable 2 --mca pml_monitoring_enable_output 3 --mca pml_monitoring_filename "$1" \
    -x LD_PRELOAD="$WORK/libmpi_count.so" -x MPI_COUNT_OUT="$1"
}
echo "# $ME: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -Is); ranks $RANKS" >&2

if has exchange; then
  mpicc -O2 -o "$WORK/exchange_bench" "$HERE/exchange_bench.c" || exit 1
  benches=()
  for p in $RANKS; do
    ((p >= 2)) || continue
    echo "+ mpirun -n $p $WORK/exchange_bench" >&2
    nice mpirun -n "$p" "$WORK/exchange_bench" >"$WORK/exchange-$p.txt" || status=1
    benches+=("$WORK/exchange-$p.txt")
  done
  echo "## exchange microbenchmark (scripts/bench/exchange_bench.c)"
  $PY "$HERE/scaling.py" fit "${benches[@]}" | tee "$WORK/fit.txt"
fi

if has bank || has tpch; then
  mpicc -O2 -shared -fPIC -o "$WORK/libmpi_count.so" "$HERE/mpi_count.c" || exit 1
fi

if has bank; then
  for p in $RANKS; do
    d=$WORK/bank-$p
    if [[ ! -f $d/manifest.json ]]; then
      echo "+ tessera-gen --rows $((ROWS * p)) --seed 7 --out $d" >&2
      nice "$BUILD/tessera-gen" --rows $((ROWS * p)) --seed 7 --out "$d" --overwrite --quiet || exit 1
    fi
  done
  : >"$WORK/bank-runs.tsv"
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for p in $RANKS; do
      log=$WORK/logs/bank-$p-$rep.log
      echo "+ mpirun -n $p tessera run bank-analytics --data $WORK/bank-$p --out $WORK/bank-$p.h5 --profile  (run $rep)" >&2
      /usr/bin/time -o "$WORK/time.txt" -f "%e %U %S" nice mpirun -n "$p" "$BUILD/tessera" run bank-analytics \
        --data "$WORK/bank-$p" --out "$WORK/bank-$p.h5" --overwrite --profile --quiet >"$log" 2>&1 || {
        echo "$ME: bank-analytics on $p ranks failed:" >&2; tail -n 5 "$log" >&2; status=1; continue; }
      read -r wall user sys <"$WORK/time.txt"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" $((ROWS * p)) "$rep" "$wall" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$log" >>"$WORK/bank-runs.tsv"
    done
  done
  for p in $RANKS; do # bytes and messages (not timed)
    ((p >= 2)) || continue
    rm -f "$WORK/mon/bank-$p".*.prof
    nice mpirun -n "$p" $(monitored "$WORK/mon/bank-$p") "$BUILD/tessera" run bank-analytics --data "$WORK/bank-$p" \
      --out "$WORK/bank-mon.h5" --overwrite --quiet >/dev/null 2>&1 || status=1
  done
  # rows per (country, month) key: the model's load-balance input
  /usr/bin/python3 -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); \
print('\n'.join(str(int(x)) for x in f['analytics/country_month/txn_count'][:]))" \
    "$WORK/bank-$(set -- $RANKS; echo "$1").h5" >"$WORK/keyrows.txt" || status=1
  echo "## bank-analytics weak scaling ($ROWS rows per rank)"
  $PY "$HERE/scaling.py" bank "$WORK/bank-runs.tsv"
  echo
  mons=(); for p in $RANKS; do ((p >= 2)) && mons+=("$WORK/mon/bank-$p"); done
  ((${#mons[@]})) && $PY "$HERE/scaling.py" monitor "${mons[@]}"
  rm -f "$WORK"/bank-*.h5 "$WORK/bank-mon.h5"
  ((KEEP)) || for p in $RANKS; do rm -rf "$WORK/bank-$p"; done
fi

if has tpch; then
  [[ -f $TPCH_DATA/lineitem.tbl ]] || { echo "$ME: no TPC-H data in $TPCH_DATA (--tpch-data)" >&2; exit 1; }
  for p in $RANKS; do
    ((p >= 2)) || continue
    for q in load $QUERIES; do
      sql=$WORK/tpch-$q.sql
      { cat "$HERE/tpch/load.sql"; [[ $q == load ]] || cat "$SHARED/tpch/queries/$q.sql"; } >"$sql"
      rm -f "$WORK/mon/tpch-$q-$p".*.prof
      echo "+ mpirun -n $p tessera sql $sql --set data=$TPCH_DATA --timing  (monitored)" >&2
      nice mpirun -n "$p" $(monitored "$WORK/mon/tpch-$q-$p") "$BUILD/tessera" sql "$sql" --set "data=$TPCH_DATA" \
        --format csv --timing --quiet >"$WORK/logs/tpch-$q-$p.out" 2>"$WORK/logs/tpch-$q-$p.err" || {
        echo "$ME: $q on $p ranks failed" >&2; status=1; }
    done
  done
  # query, 2-rank seconds, bytes over all ranks at P=2 and P=4, messages per rank (max) at P=2 and P=4 (load subtracted)
  $PY "$HERE/scaling.py" tpchtab "$WORK" $QUERIES >"$WORK/tpch.tsv" || status=1
  echo "## TPC-H SF 1: bytes and messages of the query (load subtracted)"
  cat "$WORK/tpch.tsv"
fi

if has model; then
  [[ -f $WORK/fit.txt && -f $WORK/bank-runs.tsv && -f $WORK/tpch.tsv ]] || {
    echo "$ME: the model needs the exchange, bank and tpch parts' results in $WORK" >&2; exit 1; }
  # alpha, and beta_big (out-of-cache: shuffled columns are megabytes per destination)
  read -r alpha beta < <(awk '/^alpha =/ { print $3 * 1e-6, $13 * 1e-9 }' "$WORK/fit.txt")
  echo "## projection (alpha $alpha s, beta $beta s/B on this machine's shared memory)"
  $PY "$HERE/scaling.py" model --alpha "$alpha" --beta "$beta" --bank "$WORK/bank-runs.tsv" --keys "$WORK/keyrows.txt" \
    --tpch "$WORK/tpch.tsv" --bank-count "$WORK/mon/bank-2.0.count" --alpha-net "${ALPHA_NET:-2e-6}" \
    --node-bw "${NODE_BW:-12.5e9}" --ranks-per-node "${RANKS_PER_NODE:-32}"
fi
exit $status
