#!/usr/bin/python3
"""Drives `tessera sql` (the interactive shell) through a pseudo-terminal, as a person at a terminal would.

    sql_shell_pty.py TESSERA HOME_DIR MODE
MODE mpirunN: an interactive bash runs `mpirun -n N tessera sql` (rank 0 relays the terminal); direct1: bash runs
`tessera sql` with no launcher (the terminal is rank 0's standard input, Ctrl-C is a SIGINT). Every expected output
below was worked out by hand from the statements. Prints one line per check and "N passed, M failed"."""
import os
import pty
import re
import select
import signal
import sys
import time

TESSERA, HOME, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
RANKS = int(MODE[6:]) if MODE.startswith("mpirun") else 1
PROMPT, MORE = "tessera> ", "   ...> "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")
# A statement that runs for minutes: glibc's backtracking matcher on a back-reference pattern, ~70 us a row.
LONG = ("SELECT count(*) FROM range(2000000) WHERE regexp_matches(CAST(range AS VARCHAR) || 'abcabcabcabc', "
        "'^(.*)(.*)\\2\\1z$');")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + detail if detail else ""))


class Term:
    def __init__(self):
        env = dict(os.environ, HOME=HOME, PS1="$ ", TERM="xterm")
        env.pop("TESSERA_HISTORY", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
        import fcntl, struct, termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.buf = ""   # everything seen (escape sequences and \r removed)
        self.mark = 0   # expect() searches from here

    def pump(self, seconds):
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.buf += ANSI.sub("", data.decode("utf-8", "replace"))

    def send(self, text):
        os.write(self.fd, text.encode())

    def expect(self, pattern, timeout=20.0):
        """Waits until pattern (a regex) appears after the mark; moves the mark past it. Returns the text before
        the match (since the mark), or None on timeout."""
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf, self.mark)
            if m:
                seen = self.buf[self.mark:m.start()]
                self.mark = m.end()
                return seen
            if time.time() > end:
                return None
            self.pump(0.1)

    def run(self, line, timeout=20.0):
        """Types a line and returns the output up to the next prompt (or None)."""
        self.send(line + "\r")
        out = self.expect(re.escape(PROMPT), timeout)
        return None if out is None else out.split("\n", 1)[1] if "\n" in out else ""

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


t = Term()
t.pump(0.5)
launch = "mpirun -n %d " % RANKS if MODE.startswith("mpirun") else ""
t.send(f"{launch}{TESSERA} sql; echo RC=$?\r")
banner = t.expect(re.escape(PROMPT), 60)
check("banner", banner is not None and f"SQL shell on {RANKS} rank" in banner, repr(banner))

out = t.run("CREATE TABLE t AS SELECT range AS x, range % 3 AS g FROM range(10);")
check("create table", out is not None and out.strip() == "", repr(out))

# multi-line statement: the continuation prompt, then the aligned result
t.send("SELECT g, count(*) AS n,\r")
check("continuation prompt", t.expect(re.escape(MORE)) is not None)
out = t.run("  sum(x) AS s FROM t GROUP BY g ORDER BY g;")
want = "  g | n | s  \n ---+---+----\n  0 | 4 | 18 \n  1 | 3 | 12 \n  2 | 3 | 15 \n(3 rows)\n"
check("multi-line statement", out is not None and want in out, repr(out))

# an error is reported and the session (and its tables) survive it
out = t.run("SELECT nope FROM t;")
check("error reported", out is not None and "unknown column 'nope'" in out and "^~~~" in out, repr(out))
out = t.run("SELECT count(*) AS c, sum(x) AS s FROM t;")
check("session alive after error", out is not None and "  10 | 45 " in out, repr(out))

# an error raised on one rank only (row 7 lives on the last rank): reported with that rank, every rank goes on
out = t.run("SELECT CAST(CASE WHEN range = 7 THEN 'x' ELSE '1' END AS INTEGER) AS v FROM range(10);")
check("error on one rank reported", out is not None and "rank %d:" % (RANKS - 1) in out and
      "could not convert string 'x'" in out, repr(out))
out = t.run("SELECT count(*) AS c, sum(x) AS s FROM t;")
check("every rank goes on after it", out is not None and "  10 | 45 " in out, repr(out))

# dot-commands
out = t.run(".tables")
check(".tables", out is not None and out.strip() == "t", repr(out))
out = t.run(".schema t")
check(".schema", out is not None and "CREATE TABLE t(x BIGINT, g BIGINT);  -- 10 rows" in out, repr(out))
out = t.run(".schema nope")
check(".schema unknown", out is not None and "no table or view named 'nope'" in out, repr(out))
q = "SELECT g, count(*) AS n FROM t WHERE g < 2 GROUP BY g ORDER BY g;"
t.run(".mode csv")
out = t.run(q)
check(".mode csv", out is not None and "g,n\n0,4\n1,3\n" in out, repr(out))
t.run(".mode markdown")
out = t.run(q)
check(".mode markdown", out is not None and "| g | n |\n|---|---|\n| 0 | 4 |\n| 1 | 3 |\n" in out, repr(out))
t.run(".mode line")
out = t.run(q)
check(".mode line", out is not None and "g = 0\nn = 4\n\ng = 1\nn = 3\n" in out, repr(out))
t.run(".mode table")
out = t.run("SELECT 'ab' AS name, 7 AS v;")
check(".mode table", out is not None and "+------+---+\n| name | v |\n+------+---+\n| ab   | 7 |\n+------+---+\n" in out,
      repr(out))
out = t.run(".mode")
check(".mode (show)", out is not None and "current output mode: table" in out, repr(out))
t.run(".mode aligned")
out = t.run(".mode json")
check(".mode refuses unknown", out is not None and "mode should be one of" in out, repr(out))
out = t.run(".frobnicate")
check("unknown dot-command", out is not None and 'unknown command or invalid arguments: "frobnicate"' in out, repr(out))
t.run(".timer on")
out = t.run("SELECT 1 AS one;")
check(".timer on", out is not None and re.search(r"Run Time \(s\): real [0-9.]+ cpu [0-9.]+ \(%d rank" % RANKS, out),
      repr(out))
t.run(".timer off")
out = t.run("SELECT 2 AS two;")
check(".timer off", out is not None and "Run Time" not in out, repr(out))
out = t.run(".help")
check(".help", out is not None and ".read FILE" in out and ".schema" in out, repr(out))

# .read: statements of a file, with errors located in the file
script = os.path.join(HOME, "part.sql")
with open(script, "w") as f:
    f.write("CREATE TABLE u AS SELECT x * 2 AS y FROM t;\nSELECT bad FROM u;\nSELECT max(y) AS m\n  FROM u;\n")
out = t.run(".read " + script)
check(".read runs the file", out is not None and "  18 " in out, repr(out))
check(".read error names file and line", out is not None and "part.sql:2:8: unknown column 'bad'" in out, repr(out))
out = t.run(".read /nonexistent/x.sql")
check(".read missing file", out is not None and "cannot open" in out, repr(out))

# Ctrl-C at the prompt drops the line being typed (and a pending multi-line statement)
t.send("SELECT garbage FROM")
t.pump(0.3)
t.send("\x03")
t.expect(re.escape(PROMPT))
out = t.run("SELECT 7 AS seven;")
check("Ctrl-C clears the line", out is not None and "seven" in out and "garbage" not in out, repr(out))

# Ctrl-C during a long statement: cancelled on every rank, prompt back, the session goes on
t.send(LONG + "\r")
t.pump(2.0)
t0 = time.time()
t.send("\x03")
out = t.expect(re.escape(PROMPT), 120)
waited = time.time() - t0
check("Ctrl-C cancels a running statement", out is not None and "Cancelled" in out, repr(out))
print("     (cancelled %.1f s after Ctrl-C)" % waited)
limit = float(os.environ.get("SHELL_CANCEL_LIMIT", "20"))
check("cancel is prompt (< %.0f s; the statement needs minutes)" % limit, waited < limit, "%.1f s" % waited)
out = t.run("SELECT count(*) AS c, sum(x) AS s FROM t;")
check("next statement after cancel", out is not None and "  10 | 45 " in out, repr(out))

# history: Up recalls the last statement; the file keeps statements, multi-line ones on one line
t.send("\x1b[A\r")
out = t.expect(re.escape(PROMPT))
check("Up arrow recalls history", out is not None and "  10 | 45 " in out, repr(out))

t.send(".quit\r")
rc = t.expect(r"RC=(\d+)", 30)
check("quit exits 0", rc is not None and re.search(r"RC=0", t.buf) is not None, repr(t.buf[-200:]))
t.close()
hist = open(os.path.join(HOME, ".tessera_history")).read() if os.path.exists(os.path.join(HOME, ".tessera_history")) else ""
check("history file", "_HiStOrY_V2_" in hist and "SELECT\\040count(*)\\040AS\\040c" in hist and
      "SELECT\\040g,\\040count(*)\\040AS\\040n,\\040\\040\\040sum(x)" in hist, repr(hist[:300]))

# Ctrl-D on an empty line leaves too
t = Term()
t.pump(0.5)
t.send(f"{launch}{TESSERA} sql; echo RC=$?\r")
t.expect(re.escape(PROMPT), 60)
t.send("\x04")
check("Ctrl-D exits 0", t.expect(r"RC=0", 30) is not None, repr(t.buf[-200:]))
t.close()

print("sql shell (%s): %d passed, %d failed" % (MODE, passed, failed))
sys.exit(1 if failed else 0)
