#!/usr/bin/env bash
# Hostile inputs and outputs at the I/O layer (issue 10), through the command line, on 1 and 2 ranks; every run
# under `timeout` (a hang fails the case). Runs in the plain build (e2e_io_hostile) and under ASan+UBSan
# (asan_io_hostile). The cases that mount a tmpfs or run as user nobody are skipped where that is refused.
#   io_hostile.sh BUILD_DIR        (KEEP_HOSTILE=1 keeps the temp dir)
#
#   many-files      a directory of 40 part files (bank-analytics, read_csv): exit 0, every row (the listing read
#                   freed memory from 17 files on: SIGSEGV from 33)
#   disk-full       a tmpfs with 0 bytes free, and one with room for only part of the output: bank-analytics,
#                   sql --out, --checkpoint: exit 3 with "No space left on device" on every rank, no hang, nothing
#                   left on the disk (2 ranks hung in HDF5; 1 rank crashed in MPI_Finalize)
#   same-out        a job writing out.h5 (hung at its write) and a second one with the same --out: the second is
#                   refused (exit 3, naming the first's pid); once the first is killed, a third removes its
#                   temporary and succeeds (the second once deleted the first's temporary)
#   by-name         read_csv over files whose headers order the columns differently: the right sums (once 102
#                   instead of 300, exit 0); a file lacking a column: exit 4 naming it
#   truncated       a file truncated while the scan reads it (TESSERA_FAULT truncate): exit 3 "changed while being
#                   read" (SIGBUS before)
#   regex           a rules pattern= that would compile to ~12 GB: exit 2 naming file:line; a 2,000-byte value
#                   matching its pattern is kept (never matched before)
#   broken-inputs   a dangling symlink part file: exit 3 naming it; read_csv of a FIFO: "FIFO"; a .csv.gz of
#                   random bytes: exit 3 "not a gzip file"
#   headers         a header lacking a column: the warning names it and the header is no data row; a column
#                   named twice: exit 4; CR-only line endings: a hint (warning in the job, error in read_csv)
#   wide            read_csv of a 600-column file (63 columns were the limit)
#   delim           read_csv delim='||': exit 2 (its first byte was used silently)
#   unreadable      countries.csv unreadable (as nobody): "Permission denied", not "lacks countries.csv"
set -u
BUILD=$(cd "${1:?usage: io_hostile.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/mpi-env.sh"
T=$BUILD/tessera
TMP=$(mktemp -d /tmp/tessera-hostile.XXXXXX)
chmod 755 "$TMP"
MOUNTS=()
A_PID=
cleanup() {
  [[ -n $A_PID ]] && kill -9 "$A_PID" 2>/dev/null
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  [[ -n ${KEEP_HOSTILE:-} ]] && echo "keeping $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $*"; [[ -f $TMP/err ]] && grep -v '^ *$' "$TMP/err" | sed 's/^/      stderr: /' | head -6; }
# run NP [env...] -- args: sets rc (124: the time limit, a hang)
run() {
  local np=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 90 mpirun -n "$np" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
# expect NAME WANT_RC REGEX: the last run's exit code and a line of its stderr
expect() {
  if [[ $rc -eq $2 ]] && grep -Eq -- "$3" "$TMP/err"; then ok; else ko "$1: want exit $2 and /$3/ (exit $rc)"; fi
}
sql_value() { grep -E '^ +-?[0-9]' "$TMP/out" | head -1 | tr -s ' ' | sed 's/ $//'; } # the first result row

mpirun -n 1 "$BUILD/tessera-gen" --rows 800 --rows-per-file 20 --seed 3 --out "$TMP/many" --quiet ||
  { echo "FAIL tessera-gen"; exit 1; }
chmod -R a+rX "$TMP/many"
nfiles=$(ls "$TMP/many/transactions" | wc -l)

# ---- many-files ----------------------------------------------------------------------------------------------
for np in 1 2; do
  run $np -- "$T" run bank-analytics --data "$TMP/many" --out "$TMP/many_$np.h5" --quiet
  expect "many-files ($nfiles files, $np ranks)" 0 "rows read 800,"
  run $np -- "$T" sql -c "SELECT count(*) FROM read_csv('$TMP/many/transactions')"
  [[ $rc -eq 0 && $(sql_value) == " 800" ]] && ok || ko "many-files read_csv on $np ranks: exit $rc, '$(sql_value)'"
done

# ---- disk-full -----------------------------------------------------------------------------------------------
if mkdir -p "$TMP/full" && mount -t tmpfs -o size=1m tmpfs "$TMP/full" 2>/dev/null; then
  MOUNTS+=("$TMP/full")
  dd if=/dev/zero of="$TMP/full/fill" bs=4k >/dev/null 2>&1 # 0 bytes free
  mkdir -p "$TMP/full/ck"
  for np in 1 2; do
    run $np -- "$T" run bank-analytics --data "$TMP/many" --out "$TMP/full/o.h5" --quiet
    expect "disk-full bank-analytics ($np ranks)" 3 "cannot create $TMP/full/o.h5: No space left on device"
    run $np -- "$T" sql -c "CREATE TABLE t AS SELECT * FROM range(1000)" --out "$TMP/full/s.h5"
    expect "disk-full sql --out ($np ranks)" 3 "$TMP/full/s.h5: No space left on device"
    run $np -- "$T" run bank-analytics --data "$TMP/many" --out "$TMP/ck_$np.h5" --checkpoint "$TMP/full/ck" --quiet
    expect "disk-full --checkpoint ($np ranks)" 3 "$TMP/full/ck/.*No space left on device"
    left=$(ls -A "$TMP/full" "$TMP/full/ck" | grep -v '^fill$\|^ck$\|^$\|:$')
    [[ -z $left ]] && ok || ko "disk-full ($np ranks): files left on the disk: $left"
  done
  # room for the file's start but not for all of it: the failure comes between datasets, still on every rank
  umount "$TMP/full" && mount -t tmpfs -o size=4300k tmpfs "$TMP/full"
  mpirun -n 1 "$BUILD/tessera-gen" --rows 30000 --faults 0.2 --seed 4 --out "$TMP/mid" --quiet
  for np in 1 2; do
    run $np -- "$T" run bank-analytics --data "$TMP/mid" --out "$TMP/full/o.h5" --quiet
    expect "disk-full mid-write ($np ranks)" 3 "cannot write /.* in $TMP/full/o.h5: No space left on device"
    [[ -z $(ls -A "$TMP/full") ]] && ok || ko "disk-full mid-write ($np ranks): left $(ls -A "$TMP/full")"
  done
else
  echo "SKIP disk-full: cannot mount a tmpfs here"
fi

# ---- same-out: a second job with the same --out ------------------------------------------------------------------
TESSERA_FAULT=0:h5-write:hang timeout 120 mpirun -n 2 "$T" run bank-analytics --data "$TMP/many" \
  --out "$TMP/same.h5" --quiet >"$TMP/a_out" 2>"$TMP/a_err" &
A_PID=$!
for _ in $(seq 300); do ls -A "$TMP" | grep -q '^\.same\.h5\.tmp-[0-9]*$' && break; sleep 0.2; done
a_tmp=$(ls -A "$TMP" | grep '^\.same\.h5\.tmp-[0-9]*$' | head -1)
run 2 -- "$T" run bank-analytics --data "$TMP/many" --out "$TMP/same.h5" --overwrite --quiet
expect "same-out: the second job" 3 "cannot write $TMP/same.h5: another job is writing it now \(pid ${a_tmp##*-}"
[[ -n $a_tmp && -e $TMP/$a_tmp ]] && ok || ko "same-out: the first job's temporary '$a_tmp' was removed"
# the first job dies as under SIGKILL: its ranks (children of its mpirun, the child of timeout $A_PID)
for mp in $(pgrep -P "$A_PID"); do for r in $(pgrep -P "$mp"); do kill -9 "$r"; done; done
wait "$A_PID" 2>/dev/null; A_PID=
sleep 0.5
run 2 -- "$T" run bank-analytics --data "$TMP/many" --out "$TMP/same.h5" --quiet
expect "same-out: after the first job died" 0 "removed a partial output left by an interrupted run \(pid ${a_tmp##*-}"
[[ -s $TMP/same.h5 && -z $(ls -A "$TMP" | grep '^\.same\.h5\.tmp-') ]] && ok ||
  ko "same-out: want same.h5 and no temporary: $(ls -A "$TMP" | grep same)"

# ---- by-name -------------------------------------------------------------------------------------------------------
mkdir -p "$TMP/bn"
printf 'amount,fee\n100,1\n' >"$TMP/bn/f1.csv"
printf 'fee,amount\n2,200\n' >"$TMP/bn/f2.csv"
printf 'fee\n7\n' >"$TMP/bn/f3.csv"
for np in 1 2; do
  run $np -- "$T" sql -c "SELECT sum(amount), sum(fee) FROM read_csv('$TMP/bn/f[12].csv')"
  [[ $rc -eq 0 && $(sql_value) == " 300 | 3" ]] && ok || ko "by-name on $np ranks: exit $rc, '$(sql_value)' (want 300 | 3)"
  run $np -- "$T" sql -c "SELECT sum(fee) FROM read_csv('$TMP/bn/f[13].csv')"
  expect "by-name lacking a column ($np ranks)" 4 "f3.csv: its header lacks column 'amount'"
done

# ---- truncated mid-scan --------------------------------------------------------------------------------------------
for np in 1 2; do
  rm -rf "$TMP/trunc" && cp -r "$TMP/mid" "$TMP/trunc"
  run $np TESSERA_FAULT='*:scan-range:truncate' -- "$T" run bank-analytics --data "$TMP/trunc" --out "$TMP/t.h5" --quiet
  expect "truncated ($np ranks)" 3 "transactions/part-[0-9]*.csv' changed while being read"
done

# ---- regex -----------------------------------------------------------------------------------------------------------
printf 'table t\norder malformed bad\nmalformed malformed\ncolumn id int64 reject=malformed\ncolumn note string pattern=%s reject=bad\n' \
  '(x{1,255}){1,255}{1,255}' >"$TMP/huge.rules"
printf 'table t\norder malformed bad\nmalformed malformed\ncolumn id int64 reject=malformed\ncolumn note string pattern=a+ reject=bad\n' \
  >"$TMP/long.rules"
{ echo "id,note"; echo "1,$(head -c 2000 /dev/zero | tr '\0' a)"; echo "2,abc"; } >"$TMP/long.csv"
for np in 1 2; do
  run $np -- "$T" sql -c "SELECT count(*) FROM read_csv('$TMP/long.csv', rules='$TMP/huge.rules')"
  expect "regex too large ($np ranks)" 2 "huge.rules:5: column 'note': pattern .* is too large to compile"
  run $np -- "$T" sql -c "SELECT count(*), max(length(note)) FROM read_csv('$TMP/long.csv', rules='$TMP/long.rules')"
  [[ $rc -eq 0 && $(sql_value) == " 1 | 2000" ]] && ok || ko "a 2,000-byte value matching pattern= is kept ($np ranks): exit $rc, '$(sql_value)'"
done

# ---- broken inputs --------------------------------------------------------------------------------------------------
rm -rf "$TMP/dangling" && cp -r "$TMP/many" "$TMP/dangling" && ln -s /nonexistent/part.csv "$TMP/dangling/transactions/part-99999.csv"
run 2 -- "$T" run bank-analytics --data "$TMP/dangling" --out "$TMP/x.h5" --quiet
expect "dangling symlink" 3 "part-99999.csv': it is a symbolic link to '/nonexistent/part.csv', which does not exist"
mkfifo "$TMP/fifo.csv"
run 1 -- "$T" sql -c "SELECT count(*) FROM read_csv('$TMP/fifo.csv')"
expect "read_csv of a FIFO" 3 "fifo.csv': it is a FIFO \(named pipe\), not a regular file"
rm -rf "$TMP/gz" && cp -r "$TMP/many" "$TMP/gz" && head -c 4000 /dev/urandom | (printf 'x'; cat) >"$TMP/gz/transactions/part-99999.csv.gz"
run 2 -- "$T" run bank-analytics --data "$TMP/gz" --out "$TMP/x.h5" --quiet
expect "random .csv.gz" 3 "part-99999.csv.gz' is not a gzip file"

# ---- headers ----------------------------------------------------------------------------------------------------------
rm -rf "$TMP/hdr" && cp -r "$TMP/many" "$TMP/hdr"
f=$TMP/hdr/transactions/part-00000.csv
cut -d, -f1-10 "$f" >"$f.cut" && mv "$f.cut" "$f" # no channel column (header and rows)
run 2 -- "$T" run bank-analytics --data "$TMP/hdr" --out "$TMP/h.h5" --quiet --overwrite
expect "header lacking a column" 0 "part-00000.csv: its header lacks column 'channel'"
/usr/bin/python3 - "$TMP/h.h5" <<'EOF' && ok || ko "header lacking a column: the header must not be a rejected data row"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
raw = f["/quality/rejects/raw_line/bytes"][()].tobytes()
sys.exit(1 if b"txn_id,txn_date" in raw else 0)
EOF
rm -rf "$TMP/dup" && cp -r "$TMP/many" "$TMP/dup"
f=$TMP/dup/transactions/part-00001.csv
sed -i '1s/$/,amount/; 2,$s/$/,1.00/' "$f"
run 2 -- "$T" run bank-analytics --data "$TMP/dup" --out "$TMP/h.h5" --quiet --overwrite
expect "header naming a column twice" 4 "part-00001.csv: its header names column 'amount' twice"
tr '\n' '\r' <"$TMP/bn/f1.csv" >"$TMP/cr.csv"
run 1 -- "$T" sql -c "SELECT count(*) FROM read_csv('$TMP/cr.csv')"
expect "read_csv of a CR-only file" 4 "old Mac \(CR-only\) line endings"
rm -rf "$TMP/crjob" && cp -r "$TMP/many" "$TMP/crjob"
f=$TMP/crjob/transactions/part-00002.csv
tr '\n' '\r' <"$f" >"$f.cr" && mv "$f.cr" "$f"
run 2 -- "$T" run bank-analytics --data "$TMP/crjob" --out "$TMP/h.h5" --quiet --overwrite
expect "a CR-only part file in the job" 0 "part-00002.csv: line 1 holds carriage returns .*CR-only"

# ---- wide -----------------------------------------------------------------------------------------------------------------
/usr/bin/python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write(','.join('c%d' % c for c in range(600)) + '\n')
    for r in range(50):
        f.write(','.join(str(r * 1000 + c) for c in range(600)) + '\n')
" "$TMP/wide.csv"
for np in 1 2; do
  run $np -- "$T" sql -c "SELECT count(*), sum(c599) - sum(c0) FROM read_csv('$TMP/wide.csv')"
  [[ $rc -eq 0 && $(sql_value) == " 50 | 29950" ]] && ok || ko "wide: 600 columns on $np ranks: exit $rc, '$(sql_value)' (want 50 | 29950)"
done

# ---- delim ------------------------------------------------------------------------------------------------------------------
run 1 -- "$T" sql -c "SELECT * FROM read_csv('$TMP/bn/f1.csv', delim='||')"
expect "multi-character delim" 2 "delim='\|\|' must be exactly one character"

# ---- unreadable reference file (as nobody: root reads anything) ---------------------------------------------------------------
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  rm -rf "$TMP/perm" && cp -r "$TMP/many" "$TMP/perm" && mkdir -p "$TMP/perm_out" && chmod 777 "$TMP/perm_out"
  chmod -R a+rX "$TMP/perm" && chmod 000 "$TMP/perm/countries.csv"
  runuser -u nobody -- env HOME="$TMP/perm_out" OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none \
    OMPI_MCA_rmaps_base_oversubscribe=1 HDF5_USE_FILE_LOCKING=FALSE timeout 60 mpirun -n 2 "$T" run bank-analytics \
    --data "$TMP/perm" --out "$TMP/perm_out/o.h5" --quiet >"$TMP/out" 2>"$TMP/err"
  rc=$?
  expect "unreadable countries.csv" 3 "cannot read '$TMP/perm/countries.csv': Permission denied"
else
  echo "SKIP unreadable: no user nobody or no runuser"
fi

echo "io_hostile: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
