#!/usr/bin/env bash
# The whole bank-analytics job under ASan+UBSan (run from the sanitizer build): faulty data (20 % faults), gzip
# input with a truncated member, 1 to 3 ranks. Any sanitizer report or non-zero exit fails the test.
set -u
BUILD=${1:?usage: sanitized_job.sh BUILD_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
run() { # run NAME NP DATA
  if mpirun --oversubscribe -n "$2" "$BUILD/tessera" run bank-analytics --data "$3" --out "$tmp/out.h5" --overwrite \
       --quiet >"$tmp/log" 2>&1 && ! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$tmp/log"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL $1 on $2 rank(s):"; grep -m5 -E "ERROR|runtime error|tessera:" "$tmp/log"
  fi
}
mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows 20000 --seed 9 --faults 0.2 --rows-per-file 7000 \
  --out "$tmp/plain" --quiet || { echo "generator failed"; exit 1; }
mpirun --oversubscribe -n 2 "$BUILD/tessera-gen" --rows 20000 --seed 9 --faults 0.2 --rows-per-file 7000 --gzip \
  --out "$tmp/gz" --quiet || { echo "generator failed"; exit 1; }
f=$(ls "$tmp"/gz/transactions/*.gz | tail -1)
head -c $(( $(stat -c %s "$f") / 2 )) "$f" >"$f.cut" && mv "$f.cut" "$f"   # truncated gzip stream
for np in 1 2 3; do
  run plain "$np" "$tmp/plain"
  run gzip-truncated "$np" "$tmp/gz"
done
echo "sanitized_job: $pass passed, $fail failed"
[ "$fail" = 0 ]
