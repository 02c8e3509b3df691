#!/usr/bin/env bash
# Bad-input acceptance cases for bank-analytics, each under `mpirun -n 2` with `timeout 60` (no crash, no hang).
#   bad_input.sh BUILD_DIR        (KEEP_BAD=1 keeps the temp dir)
#
# Expected outcome of each case:
#   truncated     last line cut mid-field, no final newline       -> exit 0, cut row in /quality/rejects
#   stray_quote   lines with unterminated / misplaced quotes      -> exit 0, rows in /quality/rejects
#   garbage       part-00009.csv of random bytes incl. NULs       -> exit 0, its lines in /quality/rejects
#   empty_file    a 0-byte part file beside normal ones           -> exit 0, contributes no rows
#   header_only   the only file holds just the header             -> exit 0, empty tables, all counts 0
#   missing_dir   --data names a directory that does not exist    -> exit 3, stderr names the path
#   no_txn_dir    --data directory without transactions/          -> exit 3, stderr names the path
#   out_exists    --out names an existing file, no --overwrite    -> exit != 0, stderr message, file untouched
# "exit 0" cases are checked with h5py (rows_read == rows_clean + rows_rejected) and then fully against
# reference.py (compare.py --no-manifest), so the rejects carry the right file, line, reason and raw bytes.
set -u
BUILD=$(cd "${1:?usage: bad_input.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${TESSERA_PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none HDF5_USE_FILE_LOCKING=FALSE
for exe in "$BUILD/tessera" "$BUILD/tessera-gen"; do
  [[ -x $exe ]] || { echo "bad_input: $exe not built" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/tessera-bad.XXXXXX)
if [[ -n ${KEEP_BAD:-} ]]; then echo "keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
passed=0 failed=0
ok() { echo "PASS  $1"; passed=$((passed + 1)); }
ko() { echo "FAIL  $1"; [[ -f $TMP/err ]] && sed 's/^/      stderr: /' "$TMP/err" | head -10; failed=$((failed + 1)); }

job() {  # job DATA OUT [extra args]: sets $rc; stdout+stderr kept in $TMP/out, $TMP/err
  timeout 60 mpirun --oversubscribe -n 2 "$BUILD/tessera" run bank-analytics --data "$1" --out "$2" "${@:3}" \
    >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# A small clean data set to damage; the manifest goes since its counts no longer hold.
mpirun --oversubscribe -n 1 "$BUILD/tessera-gen" --rows 4000 --rows-per-file 1000 --seed 11 --faults 0 --out "$TMP/base" --quiet \
  || { echo "FAIL  tessera-gen"; exit 1; }
rm -f "$TMP/base/manifest.json"
mkcase() { rm -rf "$TMP/$1"; cp -r "$TMP/base" "$TMP/$1"; echo "$TMP/$1"; }

"$PY" - "$(mkcase truncated)" "$(mkcase stray_quote)" "$(mkcase garbage)" "$(mkcase empty_file)" \
  "$(mkcase header_only)" <<'EOF'
import glob, os, random, sys
trunc, stray, garbage, empty, header = sys.argv[1:]
def parts(d): return sorted(glob.glob(os.path.join(d, "transactions", "part-*.csv")))

# truncated: drop the final newline and cut the last line in the middle of its 8th field (amount)
p = parts(trunc)[-1]
data = open(p, "rb").read().rstrip(b"\n")
head, _, last = data.rpartition(b"\n")
cut = [i for i, ch in enumerate(last) if ch == ord(",")][6] + 3
open(p, "wb").write(head + b"\n" + last[:cut])

# stray quotes: unterminated quoted field, text after a closing quote, a quote inside an unquoted field
p = parts(stray)[0]
lines = open(p, "rb").read().split(b"\n")
for k, bad in ((3, b'"sme'), (5, b'"sme"x'), (7, b'sm"e')):
    f = lines[k].split(b",")
    f[6] = bad
    lines[k] = b",".join(f)
open(p, "wb").write(b"\n".join(lines))

# garbage: random bytes (NULs, quotes, CRs, newlines included), named like a data file
rnd = random.Random(9)
open(os.path.join(garbage, "transactions", "part-00009.csv"), "wb").write(
    bytes(rnd.randrange(256) for _ in range(65536)) + b"\x00\x00\n\"\r\n,,,\x00")

# empty: a 0-byte part beside the normal ones
open(os.path.join(empty, "transactions", "part-00008.csv"), "wb").close()

# header only: the one and only transaction file
ps = parts(header)
hdr = open(ps[0], "rb").read().split(b"\n")[0] + b"\n"
for q in ps:
    os.remove(q)
open(os.path.join(header, "transactions", "part-00000.csv"), "wb").write(hdr)
EOF
[[ $? -eq 0 ]] || { echo "FAIL  building the bad inputs"; exit 1; }

ACCOUNT='import h5py, sys
f = h5py.File(sys.argv[1], "r")
s = dict(zip([m.decode() for m in f["quality/summary/metric"][()]], f["quality/summary/count"][()]))
n = f["quality/rejects"].attrs["nrows"]
print("rows_read=%d rows_clean=%d rows_rejected=%d" % (s["rows_read"], s["rows_clean"], s["rows_rejected"]))
sys.exit(not (s["rows_read"] == s["rows_clean"] + s["rows_rejected"] == s["rows_clean"] + n))'

for c in truncated stray_quote garbage empty_file header_only; do
  job "$TMP/$c" "$TMP/$c.h5"
  if [[ $rc -ne 0 ]]; then ko "$c: expected exit 0, got $rc"; continue; fi
  if ! acc=$("$PY" -c "$ACCOUNT" "$TMP/$c.h5" 2>&1); then ko "$c: rows not accounted: $acc"; continue; fi
  if "$PY" "$HERE/reference.py" "$TMP/$c" "$TMP/ref-$c" >/dev/null &&
     "$PY" "$HERE/compare.py" "$TMP/$c.h5" "$TMP/ref-$c" "$TMP/$c" --no-manifest >"$TMP/cmp" 2>&1; then
    ok "$c: exit 0, $acc, tables match the reference"
  else
    ko "$c: exit 0, $acc, but tables differ from the reference"; sed 's/^/      /' "$TMP/cmp" | head -20
  fi
done

# missing --data directory / no transactions/ inside it: exit 3 naming the path
mkdir -p "$TMP/no_txn"
cp "$TMP/base/"*.csv "$TMP/no_txn/"
for c in missing_dir no_txn; do
  job "$TMP/$c" "$TMP/$c.h5"
  if [[ $rc -eq 3 ]] && grep -qF "$TMP/$c" "$TMP/err"; then
    ok "$c: exit 3, stderr names $TMP/$c"
  else
    ko "$c: expected exit 3 and the path on stderr, got exit $rc"
  fi
  [[ -e $TMP/$c.h5 ]] && ko "$c: an output file was left behind"
done

# existing output without --overwrite: refuse, leave the file byte for byte as it was
echo "precious" >"$TMP/exists.h5"
sum=$(sha256sum <"$TMP/exists.h5")
job "$TMP/base" "$TMP/exists.h5"
if [[ $rc -ne 0 && $rc -ne 124 && -s $TMP/err && $(sha256sum <"$TMP/exists.h5") == "$sum" ]]; then
  ok "out_exists: exit $rc, message on stderr, file untouched"
else
  ko "out_exists: expected a non-zero exit, a message and the file untouched (exit $rc)"
fi
job "$TMP/base" "$TMP/exists.h5" --overwrite
if [[ $rc -eq 0 ]] && "$PY" -c "import h5py,sys; h5py.File(sys.argv[1],'r')" "$TMP/exists.h5" 2>/dev/null; then
  ok "out_exists: --overwrite replaces it (exit 0)"
else
  ko "out_exists: --overwrite should succeed (exit $rc)"
fi

echo "bad_input: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
