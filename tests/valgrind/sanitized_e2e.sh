#!/usr/bin/env bash
# Runs an end-to-end script (tests/e2e/*.sh BUILD_DIR) with the binaries of an ASan + UBSan build:
#   sanitized_e2e.sh SCRIPT BUILD_DIR
# Sanitizer reports go to files (log_path), not to the outputs the script checks, and any report fails the test
# even when the script expected the job to fail (bad input, injected faults). Open MPI's own start-up leaks are
# suppressed (tests/lsan-ompi.supp).
set -u
SCRIPT=${1:?usage: sanitized_e2e.sh SCRIPT BUILD_DIR}
BUILD=${2:?usage: sanitized_e2e.sh SCRIPT BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1:log_path=$reports/san
export LSAN_OPTIONS=suppressions=$here/../lsan-ompi.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/san
bash "$SCRIPT" "$BUILD"
rc=$?
found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  echo "sanitizer reports from $(basename "$SCRIPT"):"
  for f in $found; do echo "==== $f"; head -60 "$f"; done
  [ "$rc" != 0 ] || rc=1
fi
exit "$rc"
