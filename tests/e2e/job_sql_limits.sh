#!/usr/bin/env bash
# `tessera sql` at its limits (issue 10): an allocation failure in a join is exit 5 with a clear message (not a
# crash); usage errors printed once; table names checked when CREATE TABLE runs; overflow messages naming the
# user's expression; long names (a 70-byte CSV header, 1000-byte aliases, 300-byte table names) kept whole; a
# 600-column table through SQL and HDF5; IN lists and CASE of any length. Expected values are computed here.
set -u
BUILD=${1:?usage: job_sql_limits.sh BUILD_DIR}
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
MPI="mpirun --oversubscribe"
MPI2="$MPI -n 2"

# a cross join of 10^10 pairs under a 1.2 GB address-space limit: out of memory (5), never a crash
expect join-oom 5 "out of memory for the matches of a join" -- \
  bash -c "ulimit -v 1200000; $MPI2 $T sql -c 'SELECT count(*) FROM range(100000) a, range(100000) b'"

# usage errors: one message (rank 0's), one prefix, whatever the rank count
$MPI -n 3 "$T" run bank-analytics --data "$tmp" --out "$tmp/x.h5" --memory-limit abc >"$tmp/out" 2>&1
if [ $? = 2 ] && [ "$(grep -c '^tessera run: --memory-limit' "$tmp/out")" = 1 ] && ! grep -q 'tessera run: tessera run' "$tmp/out"
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL usage-once:"; head -5 "$tmp/out"; fi
$MPI -n 3 "$T" sql --bogus >"$tmp/out" 2>&1
if [ $? = 2 ] && [ "$(grep -c '^tessera sql: unknown' "$tmp/out")" = 1 ]; then pass=$((pass+1))
else fail=$((fail+1)); echo "FAIL usage-once-sql:"; head -5 "$tmp/out"; fi

# table names are checked when CREATE TABLE runs, with the rule (not by the HDF5 writer at the end)
expect name-dots 2 "table name '..' is not valid: it has an empty part" -- $MPI2 "$T" sql -c 'CREATE TABLE ".." AS SELECT 1 AS x' --out "$tmp/n1.h5"
expect name-slash 2 "table name '../evil' is not valid: it has an empty part" -- $MPI2 "$T" sql -c 'CREATE TABLE "../evil" AS SELECT 1 AS x' --out "$tmp/n2.h5"
expect name-slash2 2 "it has a '/'" -- $MPI2 "$T" sql -c 'CREATE TABLE "a/b" AS SELECT 1 AS x' --out "$tmp/n3.h5"
expect name-group 2 "table 'a' conflicts with table 'a.b'" -- $MPI2 "$T" sql -c 'CREATE TABLE a.b AS SELECT 1 AS x; CREATE TABLE a AS SELECT 2 AS y' --out "$tmp/n4.h5"
expect name-group2 2 "table 'a.b' conflicts with table 'a'" -- $MPI2 "$T" sql -c 'CREATE TABLE a AS SELECT 2 AS y; CREATE TABLE a.b AS SELECT 1 AS x' --out "$tmp/n5.h5"
expect name-group-dropped 0 "" -- $MPI2 "$T" sql -c 'CREATE TABLE a AS SELECT 2 AS y; DROP TABLE a; CREATE TABLE a.b AS SELECT 1 AS x' --out "$tmp/n6.h5"
[ -e "$tmp/n1.h5" ] || [ -e "$tmp/n2.h5" ] || [ -e "$tmp/n4.h5" ] && { fail=$((fail+1)); echo "FAIL: an output was written for a refused name"; }

# an avg overflow names the user's expression, not a partial-state column
expect avg-overflow 4 "avg(x): the sum overflows int64" -- $MPI2 "$T" sql -c "SELECT avg(x) FROM (VALUES (9223372036854775807), (9223372036854775807)) t(x)"
# an error inside an aggregation's pipeline is located once, where it happens (the product, not the sum), and names
# its rank once
expect one-location 4 "^tessera: bad input data: rank [0-9]: -c:1:75: column 'x': '\*': integer overflow" -- $MPI2 "$T" sql -c "CREATE TABLE t AS SELECT range AS x FROM range(3); SELECT k, sum(x) FROM (SELECT x % 2 AS k, CAST(x AS BIGINT) * 4611686018427387904 AS x FROM t) GROUP BY k"
expect one-rank-tag 4 "^tessera: bad input data: rank [0-9]: -c:1:99: sum(x): the sum overflows int64" -- $MPI2 "$T" sql -c "CREATE TABLE t AS SELECT * FROM (VALUES (9223372036854775807), (1), (5)) v(x); SELECT x % 2 AS k, sum(x) FROM t GROUP BY 1"
expect one-rank-tag-merge 4 "^tessera: bad input data: rank [0-9]: -c:1:8: avg(x): the sum overflows int64 (partial" -- $MPI2 "$T" sql -c "SELECT avg(x) FROM (VALUES (9223372036854775807), (9223372036854775807)) t(x)"

# long names: a 70-byte CSV header, a 1000-byte alias, a 300-byte table name, all written to HDF5 and read back;
# past 1024 bytes a clear error, never a cut name
c70=$(printf 'c%.0s' $(seq 70)); a1000=$(printf 'a%.0s' $(seq 1000)); t300=$(printf 't%.0s' $(seq 300)); a1100=$(printf 'b%.0s' $(seq 1100))
printf '%s,v\n1,10\n2,20\n' "$c70" > "$tmp/long.csv"
cat > "$tmp/long.sql" <<SQL
CREATE TABLE $t300 AS SELECT $c70 AS "$a1000", v FROM read_csv('$tmp/long.csv');
CREATE TABLE s.$t300 AS SELECT sum("$a1000") AS total FROM $t300;
SQL
expect long-names 0 "" -- $MPI2 "$T" sql "$tmp/long.sql" --out "$tmp/long.h5"
if "$PY" - "$tmp/long.h5" "$t300" "$a1000" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
t, a = f[sys.argv[2]], sys.argv[3]
assert [c.decode() for c in t.attrs["columns"]] == [a, "v"], t.attrs["columns"]
assert list(t[a][:]) == [1, 2] and list(t["v"][:]) == [10, 20]
assert list(f["s"][sys.argv[2]]["total"][:]) == [3]
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL long names in the output"; fi
expect long-read-back 0 "(1 row)" -- $MPI2 "$T" sql -c "SELECT sum(\"$a1000\") FROM read_h5('$tmp/long.h5', '/$t300')"
expect too-long-alias 2 "names are at most 1024 bytes" -- $MPI2 "$T" sql -c "SELECT 1 AS $a1100"
expect too-long-table 2 "names are at most 1024 bytes" -- $MPI2 "$T" sql -c "CREATE TABLE $a1100 AS SELECT 1 AS x"

# 100 columns of 1000-byte names: the columns attribute (100 KB) is past HDF5's 64 KiB compact attribute limit
"$PY" -c "print('CREATE TABLE w AS SELECT ' + ', '.join('range + %d AS n%03d' % (k, k) + 'x' * 996 for k in range(100)) + ' FROM range(10);')" >"$tmp/dense.sql"
expect dense-attrs 0 "" -- $MPI2 "$T" sql "$tmp/dense.sql" --out "$tmp/dense.h5"
if "$PY" - "$tmp/dense.h5" <<'PY'
import sys, h5py
w = h5py.File(sys.argv[1], "r")["w"]
c = [x.decode() for x in w.attrs["columns"]]
assert len(c) == 100 and all(len(n) == 1000 for n in c) and w[c[99]][:].tolist() == list(range(99, 109))
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL 100 columns of 1000-byte names"; fi

# wide tables: 600 columns through create, select, aggregate, group by, join, distinct, HDF5 and back, against
# sums computed here in Python
"$PY" - "$tmp" <<'PY'
import sys
d = sys.argv[1]
n, w = 1000, 599  # rows; columns besides id
cols = ", ".join(f"(range * {k}) % 1009 AS c{k}" for k in range(1, w + 1))
sums = ", ".join(f"sum(c{k})" for k in range(1, w + 1))
with open(f"{d}/wide.sql", "w") as f:
    f.write(f"CREATE TABLE wide AS SELECT range AS id, {cols} FROM range({n});\n")
    f.write(f"CREATE TABLE sums AS SELECT count(*) AS n, {sums} FROM wide;\n")
    f.write("CREATE TABLE groups AS SELECT id % 7 AS g, sum(c599) AS s, max(c300) AS m FROM wide GROUP BY g ORDER BY g;\n")
    f.write("CREATE TABLE joined AS SELECT * FROM wide a JOIN (SELECT id AS k, c2 AS z FROM wide WHERE id < 10) b ON a.id = b.k;\n")
    f.write("CREATE TABLE dist AS SELECT DISTINCT " + ", ".join(f"c{k}" for k in range(1, w + 1)) + " FROM wide;\n")
    f.write("SELECT c1, c599 FROM wide WHERE id = 999;\n")  # by hand: 999 % 1009 = 999, 999 * 599 % 1009 = 64
want = [n] + [sum((i * k) % 1009 for i in range(n)) for k in range(1, w + 1)]
with open(f"{d}/wide.want", "w") as f:
    f.write(" ".join(map(str, want)))
PY
expect wide 0 "  999 |   64 " -- $MPI2 "$T" sql "$tmp/wide.sql" --out "$tmp/wide.h5"
if "$PY" - "$tmp/wide.h5" "$tmp/wide.want" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
want = list(map(int, open(sys.argv[2]).read().split()))
w = f["wide"]
assert len(w.attrs["columns"]) == 600 and w.attrs["nrows"] == 1000, (len(w.attrs["columns"]), w.attrs["nrows"])
assert [int(f["sums"][c][0]) for c in [c.decode() for c in f["sums"].attrs["columns"]]] == want
assert sorted(w["c599"][:].tolist()) == sorted((i * 599) % 1009 for i in range(1000))
g = f["groups"]
assert g["g"][:].tolist() == list(range(7))
assert g["s"][:].tolist() == [sum((i * 599) % 1009 for i in range(1000) if i % 7 == r) for r in range(7)]
assert g["m"][:].tolist() == [max((i * 300) % 1009 for i in range(1000) if i % 7 == r) for r in range(7)]
j = f["joined"]
assert len(j.attrs["columns"]) == 602 and j.attrs["nrows"] == 10
assert sorted(zip(j["id"][:].tolist(), j["z"][:].tolist())) == [(i, (i * 2) % 1009) for i in range(10)]
assert f["dist"].attrs["nrows"] == 1000 and len(f["dist"].attrs["columns"]) == 599
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL wide table outputs"; fi
want_sum=$(cut -d' ' -f600 "$tmp/wide.want")
expect wide-read-back 0 " $want_sum " -- $MPI2 "$T" sql -c "SELECT count(*), sum(c599) FROM read_h5('$tmp/wide.h5', '/wide')"

# IN lists and CASE of any length (5000 values, 600 branches), against counts computed here
"$PY" - "$tmp" <<'PY'
import sys
d = sys.argv[1]
vals = ",".join(str(i * 7) for i in range(5000))
case = " ".join(f"WHEN range % 1000 = {i} THEN {i * 2}" for i in range(600))
with open(f"{d}/big.sql", "w") as f:
    f.write(f"SELECT count(*) AS n_in FROM range(100000) WHERE range IN ({vals});\n")
    f.write(f"SELECT sum(CASE {case} ELSE -1 END) AS s_case FROM range(100000);\n")
    f.write("SELECT coalesce(" + ",".join(["NULL"] * 200) + ", 7) AS co;\n")
PY
# by hand: multiples of 7 below 35000 -> 5000; per 1000: 2 * (0 + ... + 599) - 400 = 359000, times 100
expect in-case 0 "35900000" -- $MPI2 "$T" sql "$tmp/big.sql"
grep -q "  5000 " "$tmp/out" && grep -q " 7 " "$tmp/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL IN list / coalesce:"; cat "$tmp/out"; }

echo "job_sql_limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
