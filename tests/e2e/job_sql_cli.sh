#!/usr/bin/env bash
# `tessera sql` contract: help and usage errors (exit 2), located SQL errors with a caret and hints (exit 2), unparsable
# CSV values (exit 4, file and line), an existing output (exit 3), EXPLAIN, parameters, and CREATE TABLE results
# in the HDF5 output (dotted names as groups) identical on 1 and 3 ranks, checked with h5py against values
# computed here by hand; TIMESTAMP columns in the output and back; --format csv.
set -u
BUILD=${1:?usage: job_sql_cli.sh BUILD_DIR}
T=$BUILD/tessera
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
expect() { # expect NAME WANT_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$tmp/out"; }; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL $name: rc=$rc (want $want, pattern '$pat'), output:"; head -8 "$tmp/out"; fi
}
MPI="mpirun -n 2 --oversubscribe"
expect help 0 "tessera sql SCRIPT.sql" -- "$T" sql --help
expect no-script 0 "" -- "$T" sql </dev/null   # no script: statements from standard input (here none)
expect both 2 "not both" -- "$T" sql x.sql -c "SELECT 1"
expect bad-mode 2 "--mode is one of" -- "$T" sql -c "SELECT 1" --mode json
expect bad-set 2 "NAME=VALUE" -- "$T" sql -c "SELECT 1" --set novalue
expect syntax 2 "1:13: syntax error: expected FROM" -- $MPI "$T" sql -c "SELECT a, b FORM t"
expect caret 2 "            ^~~~" -- $MPI "$T" sql -c "SELECT a, b FORM t"
expect unknown-table 2 "unknown table 'nope'" -- $MPI "$T" sql -c "SELECT * FROM nope"
expect hint 2 "did you mean 'amount'" -- $MPI "$T" sql -c "CREATE TABLE t AS SELECT 1 AS amount; SELECT amout FROM t"
expect unknown-param 2 "unknown parameter" -- $MPI "$T" sql -c 'SELECT ${nope}'
expect missing-script 3 "cannot open SQL script" -- $MPI "$T" sql "$tmp/none.sql"
printf 'id,amount,day\n1,10.5,2024-01-31\n2,x,2024-02-01\n3,7.25,2024-02-29\n' > "$tmp/t.csv"
expect csv-types 0 "day" -- "$T" sql -c "SELECT * FROM read_csv('$tmp/t.csv')"
printf 'id,amount\n1,10\n2,abc\n' > "$tmp/bad.csv"
expect csv-reject 4 "bad.csv:3: column 'amount'" -- $MPI "$T" sql -c "SELECT * FROM read_csv('$tmp/bad.csv', types={'amount': 'BIGINT'})"
expect csv-ignore 0 "(1 row)" -- $MPI "$T" sql -c "SELECT * FROM read_csv('$tmp/bad.csv', types={'amount': 'BIGINT'}, ignore_errors=true)"
expect csv-rejects-table 0 "bad.csv" -- $MPI "$T" sql -c "SELECT * FROM read_csv('$tmp/bad.csv', types={'amount': 'BIGINT'}, rejects='r'); SELECT file, line, raw_line FROM r"
expect explain 0 "AGGREGATE" -- $MPI "$T" sql -c "EXPLAIN SELECT range % 2, count(*) FROM range(10) GROUP BY 1"
expect explain-analyze 0 "rows 10 " -- $MPI "$T" sql -c "EXPLAIN ANALYZE SELECT * FROM range(10)"
cat > "$tmp/job.sql" <<'SQL'
-- a small job: two tables, one in a group
CREATE TABLE src AS SELECT range AS i, range % ${k} AS g, CAST(range AS DOUBLE) / 4 AS x FROM range(${n});
CREATE TABLE stats.by_g AS
  SELECT g, count(*) AS n, sum(i) AS s, max(x) AS mx FROM src GROUP BY g ORDER BY g;
DROP TABLE src;
SQL
for P in 1 3; do
  expect "job-$P" 0 "" -- mpirun -n $P --oversubscribe "$T" sql "$tmp/job.sql" --set k=3 --set n=10 --out "$tmp/o$P.h5"
done
expect exists 3 "exists" -- $MPI "$T" sql "$tmp/job.sql" --set k=3 --set n=10 --out "$tmp/o1.h5"
if "$PY" - "$tmp/o1.h5" "$tmp/o3.h5" <<'PY'
import sys, h5py
# by hand: i in 0..9, g = i % 3 -> g0: 0,3,6,9  g1: 1,4,7  g2: 2,5,8 ; x = i / 4
want = {"g": [0, 1, 2], "n": [4, 3, 3], "s": [18, 12, 15], "mx": [2.25, 1.75, 2.0]}
for path in sys.argv[1:]:
    f = h5py.File(path, "r")
    assert "src" not in f, "a dropped table was written"
    t = f["stats/by_g"]
    got = {k: list(t[k][:]) for k in want}
    assert got == want, (path, got)
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL job outputs"; fi
# TIMESTAMP columns in the HDF5 output: int64 microseconds with CF units, read back by read_h5
echo "CREATE TABLE ev AS SELECT range AS id, TIMESTAMP '2024-01-31 23:00:00.5' + to_hours(range) AS at FROM range(4);" \
  > "$tmp/ts.sql"
expect ts-write 0 "" -- $MPI "$T" sql "$tmp/ts.sql" --out "$tmp/ts.h5"
if "$PY" - "$tmp/ts.h5" <<'PY'
import sys, datetime, h5py
f = h5py.File(sys.argv[1], "r")
t = f["ev"]
assert t["at"].dtype == "int64", t["at"].dtype
assert t["at"].attrs["units"] in (b"microseconds since 1970-01-01 00:00:00", "microseconds since 1970-01-01 00:00:00")
types = [x.decode() if isinstance(x, bytes) else x for x in t.attrs["types"]]
assert types == ["int64", "timestamp"], types
epoch = datetime.datetime(1970, 1, 1)
want = [(datetime.datetime(2024, 1, 31, 23, 0, 0, 500000) + datetime.timedelta(hours=h) - epoch) // datetime.timedelta(microseconds=1) for h in range(4)]
assert sorted(int(v) for v in t["at"][:]) == want, list(t["at"][:])
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL timestamp output"; fi
expect ts-read 0 "2024-02-01 02:00:00.5" -- $MPI "$T" sql -c "SELECT max(at) FROM read_h5('$tmp/ts.h5', '/ev')"
expect csv-format 0 '^1,"a,b",,""$' -- "$T" sql -c "SELECT 1 AS x, 'a,b' AS y, NULL AS z, '' AS e" --format csv
expect bad-format 2 "table or csv" -- "$T" sql -c "SELECT 1" --format json
echo "sql cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
