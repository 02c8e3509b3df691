#!/usr/bin/env bash
# Failure behaviour of bank-analytics (issue 5): injected faults end the whole job quickly with a message naming
# the rank and the cause; a killed write leaves only a temporary, which the next run removes with a warning; I/O
# problems give exit 3 and a message naming the file and the cause.
#   job_failures.sh BUILD_DIR        (KEEP_FAIL=1 keeps the temp dir)
#
# Fault cases (TESSERA_FAULT=RANK:POINT:KIND, rank P-1 of P = 2 and 4, on tessera-gen --rows 200000):
#   error@sort       -> exit 4, "rank R: injected error at sort"
#   oom@scan+clean   -> exit 5, "rank R: out of memory ..." (address space capped during the stage)
#   crash@exchange   -> exit != 0, "rank R: crashed with signal SIGSEGV in stage exchange"
#   kill@exchange    -> exit != 0, mpirun's "exited on signal 9"
#   hang@aggregate   -> (2 ranks only) ended by mpirun --timeout 2 only: exit != 0
# Each: no rank of this build's tessera left running afterwards; the table gives the seconds from the injection
# (its timestamp on stderr) to mpirun's exit.
# I/O cases (2 ranks, exit 3, message names the path and the strerror text): missing data directory, a data
# directory without CSV files, an unreadable part file (run as user nobody: root ignores permissions), a FIFO
# named part-*.csv (a directory so named is skipped with a warning, exit 0), existing output without --overwrite, missing output directory, read-only output
# directory (a read-only tmpfs), full disk (a 64 KiB tmpfs). The mount cases are skipped when mount is refused.
set -u
BUILD=$(cd "${1:?usage: job_failures.sh BUILD_DIR}" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$BUILD/tessera
. "$HERE/../../scripts/mpi-env.sh"
TMP=$(mktemp -d /tmp/tessera-fail.XXXXXX)
chmod 755 "$TMP"
MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  [[ -n ${KEEP_FAIL:-} ]] && echo "keeping $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $*"; [[ -f $TMP/err ]] && sed 's/^/      stderr: /' "$TMP/err" | head -8; }
ROWS=() # the table

# run_job NP [env...] -- args: sets rc, secs (wall), abort (seconds from the fault's timestamp to the end)
run_job() {
  local np=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  local t0 t1
  t0=$(date +%s.%N)
  env "${envs[@]}" timeout 60 mpirun -n "$np" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  t1=$(date +%s.%N)
  secs=$(printf '%.2f' "$(echo "$t1 - $t0" | bc)")
  local at
  at=$(grep -o 'injecting [a-z]* at [^ ]* (TESSERA_FAULT=[^)]*) at [0-9.]*' "$TMP/err" | head -1 | awk '{print $NF}')
  abort=$([[ -n $at ]] && printf '%.2f' "$(echo "$t1 - $at" | bc)" || echo "-")
}
# no process of this test's jobs (their arguments name $TMP) may survive; other tests run the same binary
survivors() {
  local i
  for i in 1 2 3 4 5; do
    pgrep -f "^$T run.*$TMP" >/dev/null || return 1
    sleep 0.2
  done
  return 0
}
# first line of stderr that says what happened (not the "armed"/"injecting" notes)
cause() { grep -v 'fault injection armed\|injecting\|address space capped' "$TMP/err" |
  grep -m1 'tessera:\|mpirun noticed\|time limit' | sed "s/^ *//; s|$TMP|TMP|g" | cut -c1-150; }
row() { ROWS+=("$(printf '%-16s %5s %5s %8s %9s  %s' "$1" "$2" "$rc" "$secs" "$abort" "$(cause)")"); }

mpirun -n 1 "$BUILD/tessera-gen" --rows 200000 --seed 5 --out "$TMP/data" --quiet || { echo "FAIL tessera-gen"; exit 1; }
chmod -R a+rX "$TMP/data"

# ---- injected faults ----------------------------------------------------------------------------------------
fault_case() { # fault_case NP KIND POINT EXPECT_RC('' = any non-zero) MESSAGE_REGEX [extra mpirun args]
  local np=$1 kind=$2 point=$3 want=$4 re=$5; shift 5
  local r=$((np - 1))
  run_job "$np" TESSERA_FAULT="$r:$point:$kind" -- "$@" "$T" run bank-analytics --data "$TMP/data" \
    --out "$TMP/f.h5" --overwrite --quiet
  row "$kind@$point" "$np"
  local name="$kind@$point on $np ranks"
  if [[ -n $want && $rc -ne $want ]] || [[ $rc -eq 0 || $rc -eq 124 ]]; then ko "$name: exit $rc (want ${want:-non-zero})"; return; fi
  grep -Eq "$re" "$TMP/err" || { ko "$name: stderr lacks /$re/"; return; }
  [[ -e $TMP/f.h5 ]] && { ko "$name: an output appeared"; return; }
  survivors && { ko "$name: tessera processes still running"; pgrep -af "^$T run.*$TMP"; return; }
  ok
}
for np in 2 4; do
  r=$((np - 1))
  fault_case $np error sort 4 "rank $r: injected error at sort"
  fault_case $np oom scan+clean 5 "out of memory: rank $r: .*out of memory"
  fault_case $np crash exchange "" "tessera: rank $r: crashed with signal SIGSEGV in stage exchange"
  fault_case $np kill exchange "" "rank $r .*exited on signal 9"
done
fault_case 2 hang aggregate "" "time limit for job execution has been reached" --timeout 2

# ---- crash-safe output: a rank killed while the file is being written ---------------------------------------
run_job 2 TESSERA_FAULT=1:h5-write:kill:3 -- "$T" run bank-analytics --data "$TMP/data" --out "$TMP/safe.h5" --quiet
row "kill@h5-write:3" 2
tmpf=$(ls -A "$TMP" | grep '^\.safe\.h5\.tmp-' | head -1)
if [[ $rc -ne 0 && ! -e $TMP/safe.h5 && -n $tmpf && -s $TMP/$tmpf ]]; then ok; else
  ko "kill during write: want a non-zero exit, no $TMP/safe.h5 and a non-empty temporary (exit $rc, temp '$tmpf')"; fi
run_job 2 -- "$T" run bank-analytics --data "$TMP/data" --out "$TMP/safe.h5" --quiet
if [[ $rc -eq 0 ]] && grep -qE "removed a partial output left by an interrupted run \(pid [0-9]+ on host [^)]*\): $TMP/\.safe\.h5\.tmp-" "$TMP/err" &&
  [[ -z $(ls -A "$TMP" | grep '^\.safe\.h5\.tmp-') ]]; then ok; else
  ko "rerun after the kill: want exit 0, the warning and no temporary (exit $rc)"; fi
run_job 2 -- "$T" run bank-analytics --data "$TMP/data" --out "$TMP/clean.h5" --quiet
if [[ $rc -eq 0 ]] && $PY "$HERE/h5_identical.py" "$TMP/safe.h5" "$TMP/clean.h5" >"$TMP/cmp"; then ok; else
  ko "the rerun's output differs from an uninterrupted run's"; cat "$TMP/cmp"; fi

# ---- I/O errors: exit 3, the path and the cause ------------------------------------------------------------
small=$TMP/small
mkdir -p "$small/transactions"
cp "$TMP/data/"*.csv "$small/"
head -c 300000 "$TMP/data/transactions/part-00000.csv" >"$small/transactions/part-00000.csv"
io_case() { # io_case NAME DATA OUT REGEX [extra args]: expects exit 3 and REGEX on stderr
  local name=$1 data=$2 out=$3 re=$4; shift 4
  run_job 2 -- "$T" run bank-analytics --data "$data" --out "$out" --quiet "$@"
  abort="-"
  row "$name" 2
  if [[ $rc -eq 3 ]] && grep -Eq "$re" "$TMP/err"; then ok; else ko "$name: want exit 3 and /$re/ (exit $rc)"; fi
}
io_case missing-data "$TMP/nowhere" "$TMP/o.h5" "'$TMP/nowhere' does not exist: No such file or directory"
mkdir -p "$TMP/nocsv/transactions" && cp "$small/"*.csv "$TMP/nocsv/"
io_case no-csv "$TMP/nocsv" "$TMP/o.h5" "$TMP/nocsv/transactions.*without .csv"
mkdir -p "$TMP/isdir" && cp -r "$small/." "$TMP/isdir/" && mkdir "$TMP/isdir/transactions/part-00001.csv"
# a sub-directory named like a part file is skipped (ts_list_inputs' contract), with a warning naming it
run_job 2 -- "$T" run bank-analytics --data "$TMP/isdir" --out "$TMP/d.h5" --quiet
abort="-"
row dir-as-csv 2
if [[ $rc -eq 0 ]] && grep -q "warning: skipping '$TMP/isdir/transactions/part-00001.csv': Is a directory" "$TMP/err"
then ok; else ko "dir-as-csv: want exit 0 and a warning (exit $rc)"; fi
mkdir -p "$TMP/fifo" && cp -r "$small/." "$TMP/fifo/" && mkfifo "$TMP/fifo/transactions/part-00001.csv"
io_case fifo-as-csv "$TMP/fifo" "$TMP/o.h5" "cannot read input '$TMP/fifo/transactions/part-00001.csv': it is a FIFO \(named pipe\), not a regular file"
echo precious >"$TMP/exists.h5"
io_case out-exists "$small" "$TMP/exists.h5" "'$TMP/exists.h5' already exists"
grep -qx precious "$TMP/exists.h5" || ko "out-exists: the existing file was modified"
io_case out-dir-missing "$small" "$TMP/nodir/o.h5" "cannot create $TMP/nodir/o.h5: directory $TMP/nodir: No such file or directory"

# unreadable input: root reads anything, so the job runs as nobody (EACCES for real)
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  mkdir -p "$TMP/perm" "$TMP/perm_out" && cp -r "$small/." "$TMP/perm/" && chmod 777 "$TMP/perm_out"
  cp "$small/transactions/part-00000.csv" "$TMP/perm/transactions/part-00001.csv"
  chmod -R a+rX "$TMP/perm" && chmod 000 "$TMP/perm/transactions/part-00001.csv"
  t0=$(date +%s.%N)
  runuser -u nobody -- env HOME="$TMP/perm_out" OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none \
    OMPI_MCA_rmaps_base_oversubscribe=1 HDF5_USE_FILE_LOCKING=FALSE timeout 60 mpirun -n 2 "$T" run bank-analytics \
    --data "$TMP/perm" --out "$TMP/perm_out/o.h5" --quiet >"$TMP/out" 2>"$TMP/err"
  rc=$? secs=$(printf '%.2f' "$(echo "$(date +%s.%N) - $t0" | bc)") abort="-"
  row unreadable-csv 2
  re="cannot read input '$TMP/perm/transactions/part-00001.csv': Permission denied"
  if [[ $rc -eq 3 ]] && grep -q "$re" "$TMP/err"; then ok; else ko "unreadable-csv: want exit 3 and /$re/ (exit $rc)"; fi
else
  echo "SKIP unreadable-csv: no user nobody or no runuser"
fi

# read-only output directory and full disk: small tmpfs mounts (root only; skipped where mount is refused)
mkdir -p "$TMP/ro" "$TMP/full"
if mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null; then
  MOUNTS+=("$TMP/ro")
  io_case out-dir-readonly "$small" "$TMP/ro/o.h5" "cannot create $TMP/ro/o.h5: directory $TMP/ro is not writable: Read-only file system"
else
  echo "SKIP out-dir-readonly: cannot mount a tmpfs here"
fi
if mount -t tmpfs -o size=64k tmpfs "$TMP/full" 2>/dev/null; then
  MOUNTS+=("$TMP/full")
  io_case disk-full "$TMP/data" "$TMP/full/o.h5" "$TMP/full/o.h5.*No space left on device"
  [[ -z $(ls -A "$TMP/full") ]] || { ko "disk-full: files left on the full disk: $(ls -A "$TMP/full")"; }
else
  echo "SKIP disk-full: cannot mount a tmpfs here"
fi

printf '\n%-16s %5s %5s %8s %9s  %s\n' case ranks exit "total s" "abort s" message
printf '%s\n' "${ROWS[@]}"
echo "job_failures: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
