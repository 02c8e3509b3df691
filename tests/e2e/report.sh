#!/usr/bin/env bash
# `tessera report`: the HTML page of bank-analytics + data-quality outputs checked against the HDF5 data read with
# h5py (tests/e2e/check_report.py: every table's section, row count, schema, profile counts, sample cells, the
# highlight charts' series and bars), rendered in headless Chromium (the screenshot is not blank; the rendered DOM
# holds the charts; a blank page fails the same check), HTML escaping of hostile strings, a foreign HDF5 file, and
# the errors: corrupt, truncated, non-HDF5, table-less and missing inputs, an existing output, bad usage.
# REPORT_LIGHT=1 (the sanitizer build's run) skips Chromium, the data-quality job and the mpirun variant.
set -u
BUILD=${1:?usage: report.sh BUILD_DIR}
T=$BUILD/tessera
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
expect() { # expect NAME WANT_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$tmp/out"; }; then ok
  else bad "$name: rc=$rc (want $want, pattern '$pat'):"; head -5 "$tmp/out"; fi
}

mpirun -n 2 "$BUILD/tessera-gen" --rows "${REPORT_ROWS:-20000}" --seed 5 --faults 0.04 --out "$tmp/data" --quiet || exit 1
mpirun -n 2 "$T" run bank-analytics --data "$tmp/data" --out "$tmp/bank.h5" --quiet || exit 1
LIGHT=${REPORT_LIGHT:-0}
inputs=("$tmp/bank.h5")
if [ "$LIGHT" = 0 ]; then
  mpirun -n 2 "$T" run data-quality --data "$tmp/data" --out "$tmp/quality.h5" --quiet >/dev/null
  [ -f "$tmp/quality.h5" ] || exit 1
  inputs+=("$tmp/quality.h5")
fi

expect report 0 "wrote" -- "$T" report "${inputs[@]}" -o "$tmp/r.html"
if $PY "$here/check_report.py" html "$tmp/r.html" "${inputs[@]}" >"$tmp/check" 2>&1; then ok
else bad "page vs HDF5:"; tail -20 "$tmp/check"; fi
if [ "$LIGHT" = 0 ]; then # under mpirun, rank 0 writes it
  expect report-mpirun 0 "wrote" -- mpirun -n 2 "$T" report "$tmp/bank.h5" -o "$tmp/r2.html"
  if $PY "$here/check_report.py" html "$tmp/r2.html" "$tmp/bank.h5" >"$tmp/check" 2>&1; then ok
  else bad "page of one file:"; tail -20 "$tmp/check"; fi
fi

# hostile strings are escaped; invalid UTF-8 becomes U+FFFD; a foreign file's groups of 1-D datasets are tables
$PY - "$tmp" <<'PYEOF'
import sys, h5py, numpy as np
d = sys.argv[1]
vals = [b'<script>alert("x")</script>', b"a&b 'q' <i>", b"\xff\xfe bad utf-8", b"ok"]
with h5py.File(d + "/escape.h5", "w") as f:
    g = f.create_group("evil")
    g.attrs["columns"] = np.array([b"s", b"n"], dtype="S8")
    g.attrs["types"] = np.array([b"string", b"int64"], dtype="S8")
    g.attrs["nrows"] = np.int64(4)
    g.attrs["sort_keys"] = np.array([], dtype="S1")
    g["s"] = np.array(vals, dtype="S40")
    g["n"] = np.arange(4, dtype=np.int64)
    g = f.create_group("events")  # a TIMESTAMP column (int64 microseconds, CF units) and a NULL in it
    g.attrs["columns"] = np.array([b"id", b"at"], dtype="S8")
    g.attrs["types"] = np.array([b"int64", b"timestamp"], dtype="S9")
    g.attrs["nrows"] = np.int64(4)
    g.attrs["sort_keys"] = np.array([], dtype="S1")
    g["id"] = np.arange(4, dtype=np.int64)
    us = [1706742000500000, 1709251199000000, -86400000001, 0]  # 2024-01-31 23:00:00.5 ... 1969-12-30 23:59:59.999999: 55 years, a yearly line
    g["at"] = np.array(us, dtype=np.int64)
    g["at"].attrs["units"] = b"microseconds since 1970-01-01 00:00:00"
    g["at.valid"] = np.array([1, 1, 1, 0], dtype=np.uint8)
with h5py.File(d + "/foreign.h5", "w") as f:
    f["measurements/temp"] = np.linspace(-5, 30, 50).astype(np.float32)
    f["measurements/station"] = (np.arange(50) % 7).astype(np.int16)
    f["images/frame"] = np.zeros((4, 4))
with h5py.File(d + "/notables.h5", "w") as f:
    f["matrix"] = np.zeros((3, 3))
PYEOF
expect escape-report 0 "wrote" -- "$T" report "$tmp/escape.h5" -o "$tmp/e.html"
if ! grep -q "<script" "$tmp/e.html" && grep -q "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" "$tmp/e.html" \
   && grep -q "a&amp;b &#39;q&#39; &lt;i&gt;" "$tmp/e.html" && grep -q $'\xef\xbf\xbd\xef\xbf\xbd bad utf-8' "$tmp/e.html" \
   && $PY -c "open('$tmp/e.html', encoding='utf-8').read()"; then ok; else bad "escaping"; grep -n "script\|bad utf" "$tmp/e.html" | head; fi
if $PY "$here/check_report.py" escape "$tmp/e.html" "$tmp/escape.h5" >"$tmp/check" 2>&1; then ok
else bad "escaped page vs HDF5:"; tail -20 "$tmp/check"; fi
grep -q "<td>2024-01-31 23:00:00.5</td>" "$tmp/e.html" && grep -q "<td>1969-12-30 23:59:59.999999</td>" "$tmp/e.html" \
  && grep -q "Rows per year of at" "$tmp/e.html" && ok || bad "timestamps in the report"
expect foreign 0 "wrote" -- "$T" report "$tmp/foreign.h5" -o "$tmp/f.html"
grep -q "/measurements</h2>" "$tmp/f.html" && grep -q "50 rows" "$tmp/f.html" && grep -q "Distribution of temp" "$tmp/f.html" \
  && ok || bad "foreign file's table"

# errors
head -c 4096 "$tmp/bank.h5" >"$tmp/truncated.h5"
head -c 20000 /dev/urandom >"$tmp/random.h5"
echo "not hdf5" >"$tmp/text.h5"
expect truncated 3 "truncated.h5" -- "$T" report "$tmp/truncated.h5" -o "$tmp/x.html"
expect random 3 "random.h5" -- "$T" report "$tmp/random.h5" -o "$tmp/x.html"
expect text 3 "text.h5" -- "$T" report "$tmp/text.h5" -o "$tmp/x.html"
expect no-tables 4 "no tables" -- "$T" report "$tmp/notables.h5" -o "$tmp/x.html"
expect missing 3 "none.h5" -- "$T" report "$tmp/none.h5" -o "$tmp/x.html"
expect exists 3 "exists" -- "$T" report "$tmp/bank.h5" -o "$tmp/r.html"
expect no-output 2 "-o FILE" -- "$T" report "$tmp/bank.h5"
expect no-input 2 "at least one" -- "$T" report -o "$tmp/x.html"
expect help 0 "tessera report FILE.h5" -- "$T" report --help
[ ! -e "$tmp/x.html" ] && ! ls "$tmp"/.x.html.tmp-* >/dev/null 2>&1 && ok || bad "a failed report left a file"

# Chromium: a screenshot that is not blank, and the rendered DOM holds the charts
chrome() { # chrome OUTPUT_ARGS... (a fresh profile each time; no network, no GPU)
  local prof; prof=$(mktemp -d -p "$tmp")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$prof" "$@" 2>>"$tmp/chromium.log"
}
if [ "$LIGHT" = 0 ]; then
  if ! command -v chromium >/dev/null; then
    bad "chromium is not installed (scripts/setup.sh --deps installs it)"
  else
    chrome --window-size=1100,1600 --screenshot="$tmp/shot.png" "file://$tmp/r.html" >/dev/null
    if $PY "$here/check_report.py" png "$tmp/shot.png" >"$tmp/check" 2>&1; then ok; cat "$tmp/check" | head -1
    else bad "screenshot:"; cat "$tmp/check"; tail -5 "$tmp/chromium.log"; fi
    chrome --dump-dom "file://$tmp/r.html" >"$tmp/dom.html"
    if $PY "$here/check_report.py" dom "$tmp/dom.html" 20 >"$tmp/check" 2>&1; then ok
    else bad "rendered DOM:"; cat "$tmp/check"; fi
    # the blank check is not vacuous: an empty page fails it
    printf '<!DOCTYPE html><html><body></body></html>' >"$tmp/blank.html"
    chrome --window-size=1100,1600 --screenshot="$tmp/blank.png" "file://$tmp/blank.html" >/dev/null
    if ! $PY "$here/check_report.py" png "$tmp/blank.png" >/dev/null 2>&1; then ok; else bad "a blank page passed the check"; fi
  fi
fi

echo "report: $pass passed, $fail failed"
[ "$fail" = 0 ]
