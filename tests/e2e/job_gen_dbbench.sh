#!/usr/bin/env bash
# tessera-gen --dbbench (docs/dbbench.md): groupby and join data on 1, 2 and 3 ranks must be byte-identical and
# follow the db-benchmark spec, checked independently with pandas: row counts, formats, value ranges, exact NULL
# counts, rough uniformity; for join the table sizes, the id4..id6 = "id" + id1..id3 strings, key uniqueness and
# the 90 % key overlap between the sides. Also the usage errors and the removal of stale part files.
#   job_gen_dbbench.sh BUILD_DIR      (env: KEEP_E2E=1 keeps the temp dir)
set -u
BUILD=$(cd "${1:?usage: job_gen_dbbench.sh BUILD_DIR}" && pwd) || exit 2
PY=${TESSERA_PYTHON:-/usr/bin/python3}  # Debian's python3 has pandas
G=$BUILD/tessera-gen
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
       OMPI_MCA_btl_vader_single_copy_mechanism=none
[[ -x $G ]] || { echo "job_gen_dbbench: $G not built" >&2; exit 2; }

TMP=$(mktemp -d /tmp/tessera-dbbench.XXXXXX)
if [[ -n ${KEEP_E2E:-} ]]; then echo "keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
passed=0 failed=0
check() {  # check "what" cmd...: runs cmd, records the verdict, shows the output of failures
  local what=$1; shift
  if "$@" >"$TMP/last.log" 2>&1; then
    echo "PASS  $what"; passed=$((passed + 1))
  else
    echo "FAIL  $what (exit $?)"; sed 's/^/      /' "$TMP/last.log" | head -40; failed=$((failed + 1))
  fi
}
gen() {  # gen P ARGS...
  local np=$1; shift
  timeout 300 mpirun --oversubscribe -n "$np" "$G" --quiet "$@"
}
exits() {  # exits CODE cmd...: cmd fails with exactly CODE
  local want=$1; shift
  "$@"; local rc=$?
  [[ $rc -eq $want ]] || { echo "exit $rc, expected $want"; return 1; }
}

for P in 1 2 3; do
  check "groupby N=10000 K=10 NA=5 on $P rank(s)" \
    gen "$P" --dbbench groupby --rows 10000 --groups 10 --na 5 --rows-per-file 3000 --out "$TMP/g$P"
  check "join N=20000 on $P rank(s)" gen "$P" --dbbench join --rows 20000 --rows-per-file 6000 --out "$TMP/j$P"
done
for P in 2 3; do
  check "groupby files of 1 and $P rank(s) identical" diff -r "$TMP/g1" "$TMP/g$P"
  check "join files of 1 and $P rank(s) identical" diff -r "$TMP/j1" "$TMP/j$P"
done

groupby_spec() {
  "$PY" - "$TMP/g2" <<'PY'
import glob, json, re, sys
import pandas as pd
d = sys.argv[1]
N, K, NA = 10000, 10, 5
files = sorted(glob.glob(f"{d}/x/part-*.csv"))
assert [f.rsplit("/", 1)[1] for f in files] == [f"part-{i:05d}.csv" for i in range(4)], files
for f in files:
    assert open(f).readline() == "id1,id2,id3,id4,id5,id6,v1,v2,v3\n", f
x = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
assert len(x) == N, len(x)
nk = N // K
for c in x.columns:  # exactly as.integer(N * NA / 100) empty fields per column
    assert (x[c] == "").sum() == N * NA // 100, (c, (x[c] == "").sum())
def vals(c):
    return x[c][x[c] != ""]
def check_ints(c, lo, hi):
    v = vals(c)
    assert v.str.fullmatch(r"[1-9][0-9]*").all(), c
    n = v.astype(int)
    assert n.min() >= lo and n.max() <= hi, (c, n.min(), n.max())
    return n
for c in ("id1", "id2"):
    v = vals(c)
    assert v.str.fullmatch(r"id[0-9]{3}").all(), c
    n = v.str[2:].astype(int)
    assert set(n) == set(range(1, K + 1)), c
    counts = n.value_counts()  # uniform: 950 expected per value
    assert counts.min() > 800 and counts.max() < 1100, (c, counts.min(), counts.max())
v = vals("id3")
assert v.str.fullmatch(r"id[0-9]{10}").all()
n3 = v.str[2:].astype(int)
assert n3.min() >= 1 and n3.max() <= nk and n3.nunique() > 0.99 * nk, (n3.min(), n3.max(), n3.nunique())
for c in ("id4", "id5"):
    assert set(check_ints(c, 1, K)) == set(range(1, K + 1)), c
assert check_ints("id6", 1, nk).nunique() > 0.99 * nk
assert set(check_ints("v1", 1, 5)) == set(range(1, 6))
assert set(check_ints("v2", 1, 15)) == set(range(1, 16))
v3 = vals("v3")
assert v3.str.fullmatch(r"[0-9]{1,2}\.[0-9]{6}").all()
f3 = v3.astype(float)
assert f3.min() >= 0 and f3.max() < 100 and abs(f3.mean() - 50) < 2, (f3.min(), f3.max(), f3.mean())
# the NULLs of different columns fall on different rows (independent samples, as in the R script)
assert ((x.id1 == "") & (x.id2 == "")).sum() < 100
m = json.load(open(f"{d}/dbbench.json"))
assert m["task"] == "groupby" and m["rows"] == N and m["groups"] == K and m["na_pct"] == NA and m["seed"] == 108
assert m["tables"]["x"]["rows"] == N and m["tables"]["x"]["files"] == 4
print("groupby data follows the spec")
PY
}
check "groupby data follows the spec (pandas)" groupby_spec

join_spec() {
  "$PY" - "$TMP/j2" <<'PY'
import glob, json, sys
import pandas as pd
d, N = sys.argv[1], 20000
heads = {"x": "id1,id2,id3,id4,id5,id6,v1", "small": "id1,id4,v2", "medium": "id1,id2,id4,id5,v2",
         "big": "id1,id2,id3,id4,id5,id6,v2"}
sizes = {"x": N, "small": 1, "medium": N // 1000, "big": N}  # N / 10^6 rounds up to one row
t = {}
for name, head in heads.items():
    files = sorted(glob.glob(f"{d}/{name}/part-*.csv"))
    for f in files:
        assert open(f).readline() == head + "\n", f
    t[name] = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
    assert len(t[name]) == sizes[name], (name, len(t[name]))
    df = t[name]
    for k, s in (("id1", "id4"), ("id2", "id5"), ("id3", "id6")):
        if k in df:
            assert df[k].str.fullmatch(r"[1-9][0-9]*").all(), (name, k)
            assert (df[s] == "id" + df[k]).all(), (name, s)
    v = "v1" if name == "x" else "v2"
    assert df[v].str.fullmatch(r"[0-9]{1,2}\.[0-9]{6}").all(), name
x, small, medium, big = (t[n] for n in ("x", "small", "medium", "big"))
keys = lambda df, c: set(df[c].astype(int))
# key spaces: n keys a side, 90 % of them common (n - n // 10), all within 1..n + n // 10
for col, n, rhs in (("id1", 1, [small, medium, big]), ("id2", N // 1000, [medium, big]), ("id3", N, [big])):
    lk = keys(x, col)
    assert len(lk) == n, (col, len(lk))
    for r in rhs:
        rk = keys(r, col)
        assert len(rk) == n and len(lk & rk) == n - n // 10, (col, len(rk), len(lk & rk))
        assert max(lk | rk) <= n + n // 10 and min(lk | rk) >= 1, col
assert x.id3.is_unique and big.id3.is_unique and medium.id2.is_unique and small.id1.is_unique
m = json.load(open(f"{d}/dbbench.json"))
assert m["task"] == "join" and {k: v["rows"] for k, v in m["tables"].items()} == sizes
assert m["key_spaces"]["id3"] == {"keys_per_side": N, "common": N - N // 10, "max": N + N // 10}
print("join data follows the spec")
PY
}
check "join data follows the spec (pandas)" join_spec

seeded() {  # another seed gives other data; the same seed the same bytes
  gen 2 --dbbench groupby --rows 10000 --groups 10 --na 5 --rows-per-file 3000 --seed 7 --out "$TMP/s7" &&
    ! cmp -s "$TMP/g1/x/part-00000.csv" "$TMP/s7/x/part-00000.csv" &&
    gen 1 --dbbench groupby --rows 10000 --groups 10 --na 5 --rows-per-file 3000 --seed 108 --out "$TMP/s108" &&
    diff -r "$TMP/g1" "$TMP/s108"
}
check "--seed: 108 is the default, another seed changes the data" seeded
stale() {  # --overwrite with fewer files leaves no stale part file, and a join over a groupby dir leaves no x part
  gen 2 --dbbench groupby --rows 10000 --groups 10 --rows-per-file 5000 --out "$TMP/g3" --overwrite &&
    [[ $(ls "$TMP/g3/x" | wc -l) -eq 2 ]] &&
    gen 2 --dbbench join --rows 2000 --out "$TMP/g3" --overwrite && [[ $(ls "$TMP/g3/x" | wc -l) -eq 1 ]] &&
    [[ $(wc -l <"$TMP/g3/x/part-00000.csv") -eq 2001 ]]
}
check "--overwrite removes stale part files" stale
check "an existing data set needs --overwrite" \
  exits 2 gen 1 --dbbench groupby --rows 100 --groups 10 --out "$TMP/g1"
check "--na with join is a usage error" exits 2 gen 1 --dbbench join --rows 100 --na 5 --out "$TMP/e1"
check "--groups above --rows is a usage error" exits 2 gen 1 --dbbench groupby --rows 5 --groups 10 --out "$TMP/e2"
check "--na above 100 is a usage error" exits 2 gen 1 --dbbench groupby --rows 5 --na 101 --out "$TMP/e3"
check "--gzip with --dbbench is a usage error" exits 2 gen 1 --dbbench groupby --rows 5 --gzip --out "$TMP/e4"
check "--groups without --dbbench is a usage error" exits 2 gen 1 --rows 5 --seed 1 --groups 3 --out "$TMP/e5"
check "--dbbench sort is a usage error" exits 2 gen 1 --dbbench sort --rows 5 --out "$TMP/e6"

echo "job_gen_dbbench: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
