#!/usr/bin/env bash
# Generates sample data (ROWS, default 200000) and runs bank-analytics on 2 ranks, then prints
# /analytics/country_month, then writes the HTML report demo/report.html. Output: demo/bank.h5, demo/quality.h5 and
# demo/report.html (kept), data in demo/data.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mpi-env.sh
ROWS=${ROWS:-200000}
[ -x build/tessera ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j"$(nproc)"; }
if [ ! -f demo/data/manifest.json ]; then
  mpirun -n 2 build/tessera-gen --rows "$ROWS" --seed 1 --out demo/data --quiet
fi
mpirun -n 2 build/tessera run bank-analytics --data demo/data --out demo/bank.h5 --overwrite --profile
/usr/bin/python3 scripts/h5table.py demo/bank.h5 /analytics/country_month --head 20
# the data-quality job's tests and an HTML report of both outputs (docs/report.md)
mpirun -n 2 build/tessera run data-quality --data demo/data --out demo/quality.h5 --overwrite --quiet >/dev/null || true
build/tessera report demo/bank.h5 demo/quality.h5 -o demo/report.html --overwrite && echo "open demo/report.html in a browser"
