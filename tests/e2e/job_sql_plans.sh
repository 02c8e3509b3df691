#!/usr/bin/env bash
# The planner's shapes on the TPC-H queries that used to cross-join or crash (issue 11), over small TPC-H-shaped
# tables built with range(): EXPLAIN ANALYZE must show hash joins only (no cross product: q5's customer-supplier
# nation cycle, q8 / q9's FROM part, supplier, lineitem where the first two meet only through lineitem, q11's comma
# join in a HAVING subquery, q19's join key repeated in every branch of an OR), correlated subqueries as joins on
# their outer values (q2, q17, q21), the same results on 1 and 3 ranks (some checked against DuckDB's answers);
# a real cross product that cannot fit under
# `ulimit -v` ends with exit 5 and a message naming the operator.
set -u
BUILD=${1:?usage: job_sql_plans.sh BUILD_DIR}
T=$BUILD/tessera
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -n "${2:-}" ] && head -40 "$2"; }

cat > "$tmp/load.sql" <<'SQL'
CREATE TABLE region AS SELECT range AS r_regionkey, CASE WHEN range = 0 THEN 'ASIA' ELSE 'R' || range END AS r_name FROM range(5);
CREATE TABLE nation AS SELECT range AS n_nationkey, range % 5 AS n_regionkey, CASE WHEN range = 7 THEN 'GERMANY' ELSE 'N' || range END AS n_name FROM range(25);
CREATE TABLE supplier AS SELECT range AS s_suppkey, range % 25 AS s_nationkey, 'S' || range AS s_name FROM range(100);
CREATE TABLE customer AS SELECT range AS c_custkey, range % 25 AS c_nationkey FROM range(1500);
CREATE TABLE part AS SELECT range AS p_partkey, CASE WHEN range % 7 = 0 THEN 'green' ELSE 'p' END AS p_name, 'Brand#' || (range % 5) AS p_brand, (range * 31) % 50 AS p_size FROM range(2000);
CREATE TABLE partsupp AS SELECT range % 2000 AS ps_partkey, (range % 2000 + range // 2000 * 25) % 100 AS ps_suppkey, CAST((range * 37) % 97 AS DOUBLE) AS ps_supplycost, (range * 13) % 300 AS ps_availqty FROM range(8000);
CREATE TABLE orders AS SELECT range AS o_orderkey, (range * 104729) % 1500 AS o_custkey, 1990 + range % 8 AS o_year FROM range(15000);
CREATE TABLE lineitem AS SELECT range // 4 AS l_orderkey, (range * 7919) % 2000 AS l_partkey, ((range * 7919) % 2000 + (range % 4) * 25) % 100 AS l_suppkey, 1 + (range * 17 + range // 2000) % 50 AS l_quantity, CAST((range * 101) % 1000 AS DOUBLE) AS l_extendedprice, CASE WHEN (range * 11) % 7 = 0 THEN 1 ELSE 0 END AS l_late FROM range(60000);
SQL

declare -A Q
Q[q5]="SELECT n_name, sum(l_extendedprice) AS revenue FROM customer, orders, lineitem, supplier, nation, region
 WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey AND c_nationkey = s_nationkey
 AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA' GROUP BY n_name ORDER BY revenue DESC, n_name"
Q[q8]="SELECT o_year, sum(l_extendedprice) AS v FROM part, supplier, lineitem, orders, customer, nation n1, nation n2, region
 WHERE p_partkey = l_partkey AND s_suppkey = l_suppkey AND l_orderkey = o_orderkey AND o_custkey = c_custkey
 AND c_nationkey = n1.n_nationkey AND n1.n_regionkey = r_regionkey AND r_name = 'ASIA' AND s_nationkey = n2.n_nationkey
 AND p_brand = 'Brand#3' GROUP BY o_year ORDER BY o_year"
Q[q9]="SELECT n_name, o_year, sum(l_extendedprice - ps_supplycost * l_quantity) AS profit FROM part, supplier, lineitem, partsupp, orders, nation
 WHERE s_suppkey = l_suppkey AND ps_suppkey = l_suppkey AND ps_partkey = l_partkey AND p_partkey = l_partkey
 AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey AND p_name LIKE '%green%' GROUP BY n_name, o_year ORDER BY n_name, o_year DESC"
Q[q11]="SELECT ps_partkey, sum(ps_supplycost * ps_availqty) AS value FROM partsupp, supplier, nation
 WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = 'GERMANY' GROUP BY ps_partkey
 HAVING sum(ps_supplycost * ps_availqty) > (SELECT sum(ps_supplycost * ps_availqty) * 0.01 FROM partsupp, supplier, nation
 WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = 'GERMANY') ORDER BY value DESC, ps_partkey"
Q[q19]="SELECT sum(l_extendedprice) AS revenue FROM lineitem, part
 WHERE (p_partkey = l_partkey AND p_brand = 'Brand#1' AND l_quantity BETWEEN 1 AND 11 AND p_size BETWEEN 1 AND 5)
 OR (p_partkey = l_partkey AND p_brand = 'Brand#2' AND l_quantity BETWEEN 10 AND 20 AND p_size BETWEEN 1 AND 10)
 OR (p_partkey = l_partkey AND p_brand = 'Brand#3' AND l_quantity BETWEEN 20 AND 30 AND p_size BETWEEN 1 AND 15)"
Q[q2]="SELECT s_name, p_partkey FROM part, supplier, partsupp, nation, region
 WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND p_size = 15 AND s_nationkey = n_nationkey
 AND n_regionkey = r_regionkey AND r_name = 'ASIA' AND ps_supplycost = (SELECT min(ps_supplycost)
 FROM partsupp, supplier, nation, region WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey
 AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA') ORDER BY s_name, p_partkey"
Q[q17]="SELECT sum(l_extendedprice) / 7.0 AS avg_yearly FROM lineitem, part WHERE p_partkey = l_partkey AND p_brand = 'Brand#3'
 AND l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)"
Q[q21]="SELECT s_name, count(*) AS numwait FROM supplier, lineitem l1, orders, nation
 WHERE s_suppkey = l1.l_suppkey AND o_orderkey = l1.l_orderkey AND l1.l_late = 1
 AND EXISTS (SELECT * FROM lineitem l2 WHERE l2.l_orderkey = l1.l_orderkey AND l2.l_suppkey <> l1.l_suppkey)
 AND NOT EXISTS (SELECT * FROM lineitem l3 WHERE l3.l_orderkey = l1.l_orderkey AND l3.l_suppkey <> l1.l_suppkey AND l3.l_late = 1)
 AND s_nationkey = n_nationkey AND n_name = 'GERMANY' GROUP BY s_name ORDER BY numwait DESC, s_name"

QS="q5 q8 q9 q11 q19 q2 q17 q21"
{ cat "$tmp/load.sql"
  for q in $QS; do echo "SELECT '$q plan' AS marker; EXPLAIN ANALYZE ${Q[$q]}; SELECT '$q result' AS marker; ${Q[$q]};"; done
} > "$tmp/all.sql"
for np in 1 3; do
  if ! mpirun -n $np --oversubscribe "$T" sql "$tmp/all.sql" --max-rows 1000 > "$tmp/all.$np.out" 2>&1; then
    bad "the queries failed on $np ranks" "$tmp/all.$np.out"; continue
  fi
  # split the output at the markers: plan and result of each query
  awk -v dir="$tmp" -v np=$np '/^ *q[0-9]+ (plan|result) *$/ { f = dir "/" $1 "." $2 "." np; next } f { print > f }' "$tmp/all.$np.out"
  for q in $QS; do
    if [ ! -s "$tmp/$q.plan.$np" ]; then bad "$q on $np ranks: no plan"; continue; fi
    if grep -q "JOIN cross" "$tmp/$q.plan.$np"; then bad "$q on $np ranks: a cross product" "$tmp/$q.plan.$np"; else ok; fi
    if [ "$(grep -c 'JOIN inner on' "$tmp/$q.plan.$np")" -ge 1 ]; then ok; else bad "$q on $np ranks: no hash join" "$tmp/$q.plan.$np"; fi
  done
done
for q in $QS; do
  case $q in q2|q17|q21)
    if grep -q "outer values" "$tmp/$q.plan.1"; then ok; else bad "$q: no decorrelated join" "$tmp/$q.plan.1"; fi;;
  esac
  # the data is built so that every query finds rows; the rows must not depend on the rank count
  if [ -s "$tmp/$q.result.1" ] && ! grep -q "^(0 rows)" "$tmp/$q.result.1" && cmp -s "$tmp/$q.result.1" "$tmp/$q.result.3"
  then ok; else bad "$q: no rows, or results differ between 1 and 3 ranks" "$tmp/$q.result.1"; fi
done

# a few answers computed by DuckDB 1.5 on the same data
check() { if grep -Eq "$2" "$tmp/$1.result.1"; then ok; else bad "$1: expected /$2/" "$tmp/$1.result.1"; fi; }
check q5 "N0 +\| +270000"
check q19 "711960"
check q17 "68502\.857"
check q21 "S32 +\| +343"
check q2 "S15 +\| +215"

# a cross product the query asks for, too large for the memory it is given: exit 5, naming the operator
{ cat "$tmp/load.sql"; echo "SELECT count(*) FROM lineitem a, lineitem b, lineitem c WHERE a.l_quantity < b.l_quantity;"; } > "$tmp/oom.sql"
(ulimit -v 2000000; mpirun -n 2 --oversubscribe "$T" sql "$tmp/oom.sql" > "$tmp/oom.out" 2>&1); rc=$?
if [ $rc = 5 ] && grep -q "out of memory.*JOIN" "$tmp/oom.out"; then ok; else bad "out of memory: exit $rc" "$tmp/oom.out"; fi

echo "job_sql_plans: $pass passed, $fail failed"
[ "$fail" = 0 ]
