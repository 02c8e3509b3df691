#!/usr/bin/env bash
# The SQL shell (`tessera sql` without a script): interactive sessions driven through a pseudo-terminal
# (tests/e2e/sql_shell_pty.py: statements, multi-line input, errors that keep the session, dot-commands, Ctrl-C at
# the prompt and during a long statement, history) on 1 rank without a launcher, and under mpirun on 1 and 2
# ranks; then statements piped to standard input (exit status, --bail, located errors, --mode). Expected outputs
# are written out by hand.
set -u
BUILD=${1:?usage: sql_shell.sh BUILD_DIR}
T=$BUILD/tessera
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

# under the sanitizers everything is slower: allow a minute from Ctrl-C to the prompt, and drive the two terminal
# paths (SIGINT without a launcher, the relay under mpirun) once each
modes="direct1 mpirun1 mpirun2"
[ -z "${ASAN_OPTIONS:-}" ] || { export SHELL_CANCEL_LIMIT=60; modes="direct1 mpirun2"; }
for mode in $modes; do
  mkdir -p "$tmp/home-$mode"
  if /usr/bin/python3 "$here/sql_shell_pty.py" "$T" "$tmp/home-$mode" "$mode" >"$tmp/pty-$mode.log" 2>&1; then ok
  else bad "interactive session ($mode):"; grep -v '^ok' "$tmp/pty-$mode.log" | head -20; fi
done

# statements from standard input: a failure is reported with its line, the rest still runs, the exit status is the
# first failure's code (as sqlite3's and DuckDB's shells do); --bail stops at the failure
cat > "$tmp/in.sql" <<'SQL'
CREATE TABLE t AS SELECT range AS x FROM range(4);
SELECT sum(x) AS s FROM t;
SELECT missing
  FROM t;
.mode csv
SELECT x, x * x AS sq FROM t ORDER BY x;
SQL
for np in 1 2; do
  mpirun -n $np "$T" sql <"$tmp/in.sql" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ "$rc" = 2 ] && ok || bad "stdin np=$np: exit $rc, want 2"
  grep -q "stdin:3:8: unknown column 'missing'" "$tmp/err" && ok || { bad "stdin np=$np: error location"; cat "$tmp/err"; }
  printf '  s \n ---\n  6 \n(1 row)\nx,sq\n0,0\n1,1\n2,4\n3,9\n\n' | cmp -s - "$tmp/out" && ok || { bad "stdin np=$np: output"; cat "$tmp/out"; }
  mpirun -n $np "$T" sql --bail <"$tmp/in.sql" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ "$rc" = 2 ] && ! grep -q "x,sq" "$tmp/out" && ok || { bad "--bail np=$np: exit $rc"; cat "$tmp/out"; }
done
printf 'SELECT 1 AS a;\nSELECT 2 AS b\n' | "$T" sql --mode markdown >"$tmp/out" 2>&1; rc=$?
[ "$rc" = 0 ] && printf '| a |\n|---|\n| 1 |\n| b |\n|---|\n| 2 |\n' | cmp -s - "$tmp/out" && ok || { bad "--mode, last statement without ';' (exit $rc)"; cat "$tmp/out"; }
# splitting: ';' inside strings, quoted names and comments does not end a statement; two statements on a line
printf "SELECT ';' AS \"a;b\" /* ; */, 'it''s' AS c; -- ; SELECT 0;\nSELECT 2 AS two; SELECT\n3 AS three;\n" |
  "$T" sql --mode csv >"$tmp/out" 2>&1
printf "a;b,c\n;,it's\n\ntwo\n2\n\nthree\n3\n\n" | cmp -s - "$tmp/out" && ok || { bad "statement splitting"; cat "$tmp/out"; }
# csv: RFC 4180 quoting (comma, quote, leading blank, empty string), NULL as an empty field, a blank line after
# each result (the same format as --format csv)
printf 'SELECT %s AS s, %s AS q, NULL AS n, %s AS p, %s AS e;\n' "'a,b'" "'say \"hi\"'" "' pad'" "''" |
  mpirun -n 2 "$T" sql --mode csv >"$tmp/out" 2>&1
printf 's,q,n,p,e\n"a,b","say ""hi""",," pad",""\n\n' | cmp -s - "$tmp/out" && ok || { bad "csv quoting"; cat "$tmp/out"; }
# TIMESTAMP columns: .schema names the type; the modes print DuckDB's text of the value
printf "CREATE TABLE ev AS SELECT 1 AS id, TIMESTAMP '2024-01-31 23:00:00.5' AS at;\n.schema ev\n.mode line\nSELECT * FROM ev;\n.mode table\nSELECT at FROM ev;\n" |
  mpirun -n 2 "$T" sql >"$tmp/out" 2>&1
printf 'CREATE TABLE ev(id BIGINT, at TIMESTAMP);  -- 1 row\nid = 1\nat = 2024-01-31 23:00:00.5\n+-----------------------+\n|          at           |\n+-----------------------+\n| 2024-01-31 23:00:00.5 |\n+-----------------------+\n' |
  cmp -s - "$tmp/out" && ok || { bad "timestamps in the shell"; cat "$tmp/out"; }
printf '.bogus\nSELECT 1 AS a;\n' | "$T" sql >"$tmp/out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q "(1 row)" "$tmp/out" && ok || { bad "unknown dot-command in a pipe: exit $rc"; cat "$tmp/out"; }
# CREATE TABLE results of a session go to --out when it ends
printf 'CREATE TABLE kept AS SELECT range AS v FROM range(3);\n' | mpirun -n 2 "$T" sql --out "$tmp/s.h5" >/dev/null 2>&1
/usr/bin/python3 -c "import h5py,sys; v=list(h5py.File(sys.argv[1])['/kept/v'][()]); sys.exit(v != [0, 1, 2])" "$tmp/s.h5" \
  && ok || bad "--out of a session"

echo "sql shell: $pass passed, $fail failed"
[ "$fail" = 0 ]
