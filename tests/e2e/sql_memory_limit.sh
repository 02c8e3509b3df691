#!/usr/bin/env bash
# `tessera sql --memory-limit`: the TPC-H queries at SF 0.01 under a limit whose operator share (TESSERA_OP_MEMORY)
# is far below their hash tables, on 1, 2 and 4 ranks. Asserts (a) every answer equals DuckDB's checked-in answer
# (tests/tpch/expected, compared by scripts/bench/tpch/tpch.py check), (b) operators really spilled (the `spill`
# lines of --timing: bytes > 0 for the aggregation-heavy q18 and q10 and the join-heavy q09, and in total for at
# least 8 queries), (c) the spill directory is empty afterwards, (d) inner / left / semi / anti grace hash joins over
# keys with NULLs and duplicates equal answers computed in Python (generated data), and (e) aggregates without
# mergeable states (median, count DISTINCT) spill their input rows and equal Python's answers, while one group above
# the working memory fails with exit 5 and a message naming the operator and the limit;
# (f) full sorts (ORDER BY without LIMIT) spill sorted runs and equal Python's order; (g) windows spill and equal
# Python's answers, one partition above the share fails with exit 5; (h) the loaded tables went to cold storage
# (files; engine/ops/ts_cold.h) and the queries answered from them.
#   tests/e2e/sql_memory_limit.sh BUILD_DIR [SHARED_DIR]   (env RANKS="1 2 4": the rank counts; MEM_GB=4: the
#   address-space cap per process, 0 for none as ASan needs)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: sql_memory_limit.sh BUILD_DIR SHARED_DIR}" && pwd)
SHARED=${2:-$REPO/../shared}
[[ -d $SHARED/tpch ]] || SHARED=/work/shared
SHARED=$(cd "$SHARED" && pwd) || exit 1
PY=/usr/bin/python3
. "$REPO/scripts/mpi-env.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$SHARED/tpch/gen.sh" 0.01 "$tmp/data" >/dev/null || exit 1
mkdir -p "$tmp/spill"
export TESSERA_OP_MEMORY=64K
LIMIT=${LIMIT:-40M} # per rank: above the process baseline (ASan: ~60 MiB) by 8 MiB at least
# tpch.py runs BIN sql SCRIPT ...: the wrapper adds the limit and keeps rank 0's --timing lines
cat > "$tmp/tessera" <<WRAP
#!/usr/bin/env bash
exec "$BUILD/tessera" "\$@" --memory-limit "$LIMIT" --spill-dir "$tmp/spill" 2> >(tee -a "$tmp/stderr.\$OMPI_COMM_WORLD_RANK" >&2)
WRAP
chmod +x "$tmp/tessera"
queries=(q01 q02 q03 q04 q05 q06 q07 q08 q09 q10 q11 q12 q13 q14 q15 q16 q17 q18 q19 q20 q21 q22)
fail() { echo "FAIL: $*"; exit 1; }
for P in ${RANKS:-1 2 4}; do
  rm -f "$tmp"/stderr.*
  "$PY" "$REPO/scripts/bench/tpch/tpch.py" run --tessera "$tmp/tessera" --ranks "$P" --data "$tmp/data" \
    --queries "$SHARED/tpch/queries" --out "$tmp/out$P" --timeout 120 --mem-limit-gb "${MEM_GB:-4}" "${queries[@]}" || fail "run P=$P"
  "$PY" "$REPO/scripts/bench/tpch/tpch.py" check --expected "$REPO/tests/tpch/expected" --results "$tmp/out$P" \
    "${queries[@]}" > "$tmp/check$P" || { cat "$tmp/check$P"; fail "answers differ on $P ranks"; }
  # spill lines: statement numbers after the 8 load statements name the queries in order
  "$PY" - "$tmp/stderr.0" "$P" "${queries[@]}" <<'PYEOF' || exit 1
import re, sys
path, P, queries = sys.argv[1], sys.argv[2], sys.argv[3:]
spilled, cold = {}, {}
for line in open(path):
    m = re.match(r"^spill (\d+) (\S+) (\d+)$", line.strip())
    if m and int(m.group(1)) > 8:
        spilled[queries[int(m.group(1)) - 9]] = int(m.group(3))
    elif m:
        cold[m.group(2)] = int(m.group(3))
# the load: the tables above the share became cold tables (files), lineitem and orders at least
print("P=%s cold tables written by the load (bytes): %s" % (P, " ".join("%s=%d" % kv for kv in sorted(cold.items()))))
if cold.get("lineitem", 0) <= 0 or cold.get("orders", 0) <= 0:
    sys.exit("FAIL: the load wrote no cold table for lineitem / orders on %s ranks" % P)
print("P=%s spilled (bytes, most of any rank): %s" % (P, " ".join("%s=%d" % kv for kv in sorted(spilled.items()))))
for q in ("q09", "q10", "q16", "q18"): # q16: COUNT(DISTINCT) as two aggregations
    if spilled.get(q, 0) <= 0:
        sys.exit("FAIL: %s did not spill on %s ranks" % (q, P))
if len(spilled) < 8:
    sys.exit("FAIL: only %d queries spilled on %s ranks" % (len(spilled), P))
PYEOF
  [[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind on $P ranks: $(ls "$tmp/spill" | head -3)"
done
# join semantics in the grace hash join: inner, left, semi (IN) and anti (NOT EXISTS) joins over keys with NULLs and
# duplicates, build sides far above the share; the expected answers computed here in Python
"$PY" - "$tmp" <<'PYEOF' || exit 1
import random, sys
from collections import defaultdict
tmp = sys.argv[1]
random.seed(7)
def gen(name, n, nullp):
    rows = []
    with open("%s/%s.csv" % (tmp, name), "w") as f:
        f.write("id,k,s\n")
        for i in range(n):
            k = None if random.random() < nullp else random.randint(0, 20000)
            f.write("%d,%s,s%d\n" % (i, "" if k is None else k, random.randint(0, 50)))
            rows.append((i, k))
    return rows
L, R = gen("l", 30000, 0.05), gen("r", 20000, 0.05)
idx = defaultdict(list)
for i, k in R:
    if k is not None:
        idx[k].append(i)
inner = [(a, b) for a, k in L if k is not None for b in idx.get(k, [])]
left = []
for a, k in L:
    m = idx.get(k, []) if k is not None else []
    left += [(a, b) for b in m] if m else [(a, None)]
semi = [a for a, k in L if k is not None and k in idx]
anti = [a for a, k in L if not (k is not None and k in idx)]
with open("%s/joins.expected" % tmp, "w") as f:
    f.write("inner,%d,%d,%d,%d\n" % (len(inner), sum(a for a, b in inner), sum(b for a, b in inner),
                                     sum(a * b for a, b in inner)))
    f.write("left,%d,%d,%d,%d\n" % (len(left), sum(1 for a, b in left if b is not None), sum(a for a, b in left),
                                    sum(-1 if b is None else b for a, b in left)))
    f.write("semi,%d,%d\nanti,%d,%d\n" % (len(semi), sum(semi), len(anti), sum(anti)))
PYEOF
cat > "$tmp/joins.sql" <<SQL
CREATE TABLE l AS SELECT * FROM read_csv('$tmp/l.csv', header=true, columns={'id': 'BIGINT', 'k': 'BIGINT', 's': 'VARCHAR'});
CREATE TABLE r AS SELECT * FROM read_csv('$tmp/r.csv', header=true, columns={'id': 'BIGINT', 'k': 'BIGINT', 's': 'VARCHAR'});
SELECT 'inner', count(*), sum(l.id), sum(r.id), sum(l.id * r.id) FROM l JOIN r ON l.k = r.k;
SELECT 'left', count(*), count(r.id), sum(l.id), sum(coalesce(r.id, -1)) FROM l LEFT JOIN r ON l.k = r.k;
SELECT 'semi', count(*), sum(id) FROM l WHERE k IN (SELECT k FROM r);
SELECT 'anti', count(*), sum(id) FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.k = l.k);
EXPLAIN ANALYZE SELECT 'left', count(*), count(r.id) FROM l LEFT JOIN r ON l.k = r.k;
SQL
for P in ${RANKS:-1 2 4}; do
  TESSERA_OP_MEMORY=16K mpirun -n "$P" "$BUILD/tessera" sql "$tmp/joins.sql" --memory-limit "$LIMIT" --spill-dir "$tmp/spill" --quiet \
    --format csv > "$tmp/joins.out$P" 2>&1 || { cat "$tmp/joins.out$P"; fail "joins on $P ranks"; }
  diff <(grep -E '^(inner|left|semi|anti),' "$tmp/joins.out$P") "$tmp/joins.expected" \
    || fail "grace join answers differ from Python's on $P ranks"
  grep -q 'JOIN left on k = k .* spilled .*grace hash join' "$tmp/joins.out$P" \
    || { grep JOIN "$tmp/joins.out$P"; fail "the left join did not run as a grace hash join on $P ranks"; }
  [[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by the joins on $P ranks"
done
echo "grace hash join: inner, left, semi, anti with NULL keys equal Python's answers on ${RANKS:-1 2 4} ranks"
# aggregates without mergeable states (exact medians, distinct counts) over their share: the input rows spill by
# key hash and the groups are computed a partition at a time; the answers equal Python's from the .tbl file
{ cat "$REPO/scripts/bench/tpch/load.sql"; cat <<SQL
SELECT l_orderkey % 997 AS g, count(*) AS n, count(DISTINCT l_suppkey) AS ds, median(l_partkey) AS med
FROM lineitem GROUP BY 1 ORDER BY 1;
EXPLAIN ANALYZE SELECT l_orderkey % 997 AS g, median(l_partkey) FROM lineitem GROUP BY 1;
SQL
} > "$tmp/grace_agg.sql"
"$PY" - "$tmp/data/lineitem.tbl" > "$tmp/grace_agg.expected" <<'PYEOF' || exit 1
import sys
from collections import defaultdict
groups = defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split("|")
    groups[int(f[0]) % 997].append((int(f[1]), int(f[2])))
for g in sorted(groups):
    parts = sorted(p for p, s in groups[g])
    n = len(parts)
    med = parts[n // 2] if n % 2 else (parts[n // 2 - 1] + parts[n // 2]) / 2
    print("%d,%d,%d,%.1f" % (g, n, len({s for p, s in groups[g]}), med))
PYEOF
for P in ${RANKS:-1 2 4}; do
  TESSERA_OP_MEMORY=16K mpirun -n "$P" "$BUILD/tessera" sql "$tmp/grace_agg.sql" --memory-limit "$LIMIT" \
    --set data="$tmp/data" --spill-dir "$tmp/spill" --quiet --format csv > "$tmp/grace_agg.out$P" 2>&1 || { cat "$tmp/grace_agg.out$P"; fail "grace aggregation on $P ranks"; }
  "$PY" - "$tmp/grace_agg.out$P" "$tmp/grace_agg.expected" <<'PYEOF' || fail "grace aggregation answers differ from Python's on $P ranks"
import sys
got = [l.strip().split(",") for l in open(sys.argv[1]) if l[:1].isdigit()]
want = [l.strip().split(",") for l in open(sys.argv[2])]
assert len(got) == len(want) == 997, (len(got), len(want))
for g, w in zip(got, want):
    assert g[:3] == w[:3] and abs(float(g[3]) - float(w[3])) < 1e-9, (g, w)
PYEOF
  grep -q 'input rows spilled by key hash, [0-9]* rounds' "$tmp/grace_agg.out$P" \
    || { grep -i aggregate "$tmp/grace_agg.out$P"; fail "the distinct count did not spill its input rows on $P ranks"; }
  [[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by the grace aggregation on $P ranks"
done
echo "grace aggregation: median and count(DISTINCT) over their share equal Python's answers on ${RANKS:-1 2 4} ranks"
# one group whose values alone outgrow the working memory (a partition cannot be split further): exit 5, the
# operator and the limit named, no spill file left
cat > "$tmp/quantile.sql" <<SQL
SELECT range % 1 AS g, median(range) FROM range(0, 8000000) GROUP BY 1;
SQL
out=$(mpirun -n 1 "$BUILD/tessera" sql "$tmp/quantile.sql" --memory-limit "$LIMIT" --spill-dir "$tmp/spill" --quiet \
  2>&1 >/dev/null)
rc=$?
[[ $rc == 5 ]] || fail "one median group over the working memory: exit $rc, not 5: $out"
grep -q 'aggregate: a spill partition.* more than the .* of working memory --memory-limit [0-9.]* MiB leaves' <<<"$out" \
  || fail "message: $out"
[[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind after the failure"
# full sorts (ORDER BY without LIMIT) spill sorted runs and merge them: multi-key, DESC, NULLS FIRST / LAST, strings,
# ties (stable: input order), and a big ORDER BY over TPC-H's lineitem; the expected orders computed here in Python
"$PY" - "$tmp" <<'PYEOF' || exit 1
import csv, random, sys
from decimal import Decimal
tmp = sys.argv[1]
random.seed(11)
words = ["a", "ab", "abc", "B", "b", "ba", "zz", "z", "Zeta", "alpha", "alp", "m n", "x|y"]
rows = []
with open("%s/srt.csv" % tmp, "w") as f:
    f.write("id,k,s\n")
    for i in range(30000):
        k = None if random.random() < 0.1 else random.randint(0, 40)
        s = None if random.random() < 0.1 else random.choice(words) + str(random.randint(0, 30))
        f.write("%d,%s,%s\n" % (i, "" if k is None else k, "" if s is None else s))
        rows.append((i, k, s))
def order(rows, spec):  # spec: [(column, desc, nulls_last)]: stable sorts from the last key to the first
    out = list(rows)
    for c, desc, nl in reversed(spec):  # sorted(reverse=True) keeps equal rows in order too
        nonnull = sorted([r for r in out if r[c] is not None], key=lambda r: r[c], reverse=desc)
        nulls = [r for r in out if r[c] is None]
        out = nonnull + nulls if nl else nulls + nonnull
    return out
def show(v):
    return "~" if v is None else str(v)
with open("%s/srt.expected" % tmp, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for r in order(rows, [(1, True, True), (2, False, False), (0, False, False)]):
        w.writerow(["A", r[0], "" if r[1] is None else r[1], show(r[2]), r[2] or ""])
    for r in order(rows, [(2, True, False)]):
        w.writerow(["B", r[0], show(r[2])])
    for r in order(rows, [(1, False, True), (0, True, False)]):
        w.writerow(["C", r[0], show(r[1])])
    li = []
    for line in open("%s/data/lineitem.tbl" % tmp):
        x = line.split("|")
        li.append((int(x[0]), int(x[3]), Decimal(x[5]), x[15]))
    for r in sorted(li, key=lambda r: (-r[2], r[0], r[1])):
        w.writerow(["D", r[0], r[1], r[2], r[3]])
PYEOF
{ sed -n '/CREATE TABLE lineitem/,$p' "$REPO/scripts/bench/tpch/load.sql"; cat <<SQL; } > "$tmp/sort.sql"
CREATE TABLE t AS SELECT * FROM read_csv('$tmp/srt.csv', header=true, columns={'id': 'BIGINT', 'k': 'BIGINT', 's': 'VARCHAR'});
SELECT 'A', id, k, coalesce(s, '~'), s FROM t ORDER BY k DESC NULLS LAST, s NULLS FIRST, id;
SELECT 'B', id, coalesce(s, '~') FROM t ORDER BY s DESC NULLS FIRST;
SELECT 'C', id, coalesce(CAST(k AS VARCHAR), '~') FROM t ORDER BY k NULLS LAST, id DESC;
SELECT 'D', l_orderkey, l_linenumber, l_extendedprice, l_comment FROM lineitem ORDER BY l_extendedprice DESC, l_orderkey, l_linenumber;
SQL
for P in ${RANKS:-1 2 4}; do
  TESSERA_OP_MEMORY=32K mpirun -n "$P" "$BUILD/tessera" sql "$tmp/sort.sql" --memory-limit "$LIMIT" --spill-dir "$tmp/spill" \
    --quiet --format csv --timing --set data="$tmp/data" > "$tmp/sort.out$P" 2> "$tmp/sort.err$P" \
    || { cat "$tmp/sort.err$P"; fail "ORDER BY under the limit on $P ranks"; }
  "$PY" - "$tmp/sort.out$P" "$tmp/srt.expected" <<'PYEOF' || fail "ORDER BY answers differ from Python's on $P ranks"
import csv, sys
from decimal import Decimal
got = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] in "ABCD" and len(r[0]) == 1]
want = list(csv.reader(open(sys.argv[2])))
norm = lambda r: r[:3] + [str(Decimal(r[3]))] + r[4:] if r[0] == "D" else r
bad = [i for i, (a, b) in enumerate(zip(got, want)) if norm(a) != norm(b)]
if len(got) != len(want) or bad:
    i = bad[0] if bad else min(len(got), len(want))
    sys.exit("%d rows, %d expected; first difference at %d: %s vs %s" % (len(got), len(want), i,
             got[i] if i < len(got) else None, want[i] if i < len(want) else None))
PYEOF
  # statements 3-6 are the four ORDER BYs (after lineitem and t): each must have spilled
  for st in 3 4 5 6; do
    grep -qE "^spill $st query [1-9][0-9]*$" "$tmp/sort.err$P" || { grep '^spill' "$tmp/sort.err$P"; fail "statement $st did not spill on $P ranks"; }
  done
  [[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by the sorts on $P ranks"
done
echo "ORDER BY: multi-key, DESC, NULLS FIRST/LAST, ties, strings and lineitem spilled sorted runs on ${RANKS:-1 2 4} ranks and equal Python's order"
# an error after runs were spilled (a CAST failing in the sort's input past row 25000): exit 4, no spill file left
out=$(TESSERA_OP_MEMORY=32K mpirun -n 2 "$BUILD/tessera" sql --memory-limit "$LIMIT" --spill-dir "$tmp/spill" --quiet -c "
  CREATE TABLE u AS SELECT range AS id, CASE WHEN range < 25000 THEN CAST(range AS VARCHAR) ELSE 'x' END AS s FROM range(30000);
  SELECT id, CAST(s AS BIGINT) AS v FROM u ORDER BY v DESC;" 2>&1 >/dev/null)
rc=$?
[[ $rc == 4 ]] || fail "a failing sort input: exit $rc, not 4: $out"
[[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by a failed sort"
# windows (g): past their share they sort externally by (PARTITION BY, ORDER BY) and are evaluated a partition at a
# time: ROW_NUMBER / RANK / DENSE_RANK over ties and NULLs, ROWS frames, LAG / LEAD with a default, RANGE frames over
# peers, string and multi-column partition keys with NULLs, a rank filter; every window statement must spill; the
# expected values computed here in Python (rows compared as sets: the statements have no ORDER BY)
"$PY" - "$tmp" <<'PYEOF' || exit 1
import random, sys
from collections import defaultdict
tmp = sys.argv[1]
random.seed(5)
rows = []
with open("%s/win.csv" % tmp, "w") as f:
    f.write("id,g,s,x\n")
    for i in range(40000):
        g = None if random.random() < 0.03 else random.randint(0, 150)
        s = None if random.random() < 0.05 else random.choice(["u", "v", "w"])
        x = None if random.random() < 0.1 else random.randint(0, 60)
        f.write("%d,%s,%s,%s\n" % (i, "" if g is None else g, "" if s is None else s, "" if x is None else x))
        rows.append({"id": i, "g": g, "s": s, "x": x})
def parts(keys):
    d = defaultdict(list)
    for r in rows:
        d[tuple(r[k] for k in keys)].append(r)
    return d.values()
def okey(v, nulls_first, desc=False):  # a sort key: NULLs first or last, values ascending or descending
    if v is None:
        return (0,) if nulls_first else (2,)
    return (1, -v if desc else v)
def ranks(p, key):  # RANK and DENSE_RANK by key(row)
    ks = sorted(key(r) for r in p)
    distinct = sorted(set(ks))
    import bisect
    return {r["id"]: (bisect.bisect_left(ks, key(r)) + 1, bisect.bisect_left(distinct, key(r)) + 1) for r in p}
S = lambda v: "" if v is None else str(v)
out = []
for p in parts(["g"]):
    o = sorted(p, key=lambda r: (okey(r["x"], True), -r["id"]))
    rn = {r["id"]: i + 1 for i, r in enumerate(o)}
    rk = ranks(p, lambda r: okey(r["x"], True))
    for r in p:
        out.append("W1,%d,%d,%d,%d" % (r["id"], rn[r["id"]], rk[r["id"]][0], rk[r["id"]][1]))
    o = sorted(p, key=lambda r: r["id"])
    for i, r in enumerate(o):
        fr = [q["x"] for q in o[max(0, i - 2):i + 2] if q["x"] is not None]
        lg = o[i - 1]["x"] if i >= 1 else None
        ld = o[i + 2]["x"] if i + 2 < len(o) else -1
        out.append("W2,%d,%s,%s,%s" % (r["id"], S(sum(fr) if fr else None), S(lg), S(ld)))
    rk = ranks(p, lambda r: okey(r["x"], False, True))
    for r in p:
        if rk[r["id"]][0] <= 3:
            out.append("W4,%d,%d" % (r["id"], rk[r["id"]][0]))
for p in parts(["g", "s"]):
    mn = min(r["id"] for r in p)
    for r in p:
        k = okey(r["x"], False)
        v = [q["x"] for q in p if okey(q["x"], False) <= k and q["x"] is not None]
        out.append("W3,%d,%s,%d,%d" % (r["id"], S(sum(v) if v else None), len(p), mn))
open("%s/win.expected" % tmp, "w").write("\n".join(sorted(out)) + "\n")
PYEOF
cat > "$tmp/win.sql" <<SQL
CREATE TABLE t AS SELECT * FROM read_csv('$tmp/win.csv', header=true, columns={'id': 'BIGINT', 'g': 'BIGINT', 's': 'VARCHAR', 'x': 'BIGINT'});
SELECT 'W1', id, row_number() OVER (PARTITION BY g ORDER BY x NULLS FIRST, id DESC), rank() OVER (PARTITION BY g ORDER BY x NULLS FIRST), dense_rank() OVER (PARTITION BY g ORDER BY x NULLS FIRST) FROM t;
SELECT 'W2', id, sum(x) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING), lag(x) OVER (PARTITION BY g ORDER BY id), lead(x, 2, -1) OVER (PARTITION BY g ORDER BY id) FROM t;
SELECT 'W3', id, sum(x) OVER (PARTITION BY g, s ORDER BY x NULLS LAST), count(*) OVER (PARTITION BY g, s), min(id) OVER (PARTITION BY s, g) FROM t;
SELECT 'W4', id, rk FROM (SELECT id, rank() OVER (PARTITION BY g ORDER BY x DESC NULLS LAST) AS rk FROM t) q WHERE rk <= 3;
SQL
for P in ${RANKS:-1 2 4}; do
  TESSERA_OP_MEMORY=64K mpirun -n "$P" "$BUILD/tessera" sql "$tmp/win.sql" --memory-limit "$LIMIT" --spill-dir "$tmp/spill" \
    --quiet --format csv --timing > "$tmp/win.out$P" 2> "$tmp/win.err$P" \
    || { cat "$tmp/win.err$P"; fail "windows under the limit on $P ranks"; }
  diff <(grep -E '^W[1-4],' "$tmp/win.out$P" | LC_ALL=C sort) <(LC_ALL=C sort "$tmp/win.expected") > "$tmp/win.diff" \
    || { head -5 "$tmp/win.diff"; fail "window answers differ from Python's on $P ranks"; }
  for st in 2 3 4 5; do
    grep -qE "^spill $st query [1-9][0-9]*$" "$tmp/win.err$P" || { grep '^spill' "$tmp/win.err$P"; fail "window statement $st did not spill on $P ranks"; }
  done
  [[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by the windows on $P ranks"
done
# one partition alone above the share (no PARTITION BY): exit 5, the window named, no spill file left
out=$(TESSERA_OP_MEMORY=64K mpirun -n 2 "$BUILD/tessera" sql --memory-limit "$LIMIT" --spill-dir "$tmp/spill" --quiet -c "
  CREATE TABLE u AS SELECT range AS id FROM range(40000);
  SELECT id, sum(id) OVER (ORDER BY id) AS running FROM u;" 2>&1 >/dev/null)
rc=$?
[[ $rc == 5 ]] || fail "a window partition over the share: exit $rc, not 5: $out"
grep -q 'window sum: one window partition of [0-9]* rows holds .* more than its share .* of --memory-limit' <<<"$out" \
  || fail "message: $out"
[[ -z $(ls -A "$tmp/spill") ]] || fail "spill files left behind by a failed window"
echo "windows: ranking, frames, lag/lead, RANGE peers, NULL and string partition keys spilled on ${RANKS:-1 2 4} ranks and equal Python's answers"
echo "sql_memory_limit: ${#queries[@]} TPC-H queries equal DuckDB's answers under --memory-limit on ${RANKS:-1 2 4} ranks, spilling"
