#!/usr/bin/env python3
"""TPC-H with Tessera: run the 22 queries, check the answers, print the comparison table.

  tpch.py run --tessera BIN --ranks P --data DIR --queries DIR --out DIR [--mpirun CMD] [--timeout S]
              [--mem-limit-gb G] [qNN ...]
      Loads the .tbl files of DIR with load.sql, then runs every query in one `tessera sql` process
      (--format csv --timing). A query that fails (error, crash, timeout) is recorded with its message and the run
      goes on in a new process (the load again, then the queries after it), so one failure never hides the
      others. Writes OUT/qNN.csv per answered query and OUT/run.json: load seconds and peak bytes, per query
      seconds and peak resident bytes (max and min over the ranks) or the error.
  tpch.py check --expected DIR [--official] --results DIR [qNN ...]
      Compares every answer with the expected one, in order (every TPC-H query orders its result or returns one
      row). --official: the TPC's answers (`|`-separated, numbers rounded to 2 decimals: a number must round to
      the printed one; strings as printed there, which drops their leading and trailing blanks); otherwise DuckDB's (CSV as duckdb.mjs writes it: numbers equal within 1e-9 relative,
      column names equal). Strings and dates compare exactly, NULL is an empty field. --peer DIR: an answer that
      differs from the expected one but equals the peer engine's (DuckDB's, same run) counts as right, with a note
      (the TPC's file for q17 disagrees with DuckDB by 0.03). Prints one line per query, exits 1 when one differs
      or is missing.
  tpch.py report --sf SF --tessera P=DIR ... --duckdb FILE --checks FILE
      The comparison table of tpch.sh (markdown).
"""
import argparse
import csv
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NLOAD = 8  # CREATE TABLE statements of load.sql


def query_names(qdir, only):
    names = sorted(f[:-4] for f in os.listdir(qdir) if re.fullmatch(r"q\d+\.sql", f))
    return [q for q in names if not only or q in only]


def read_query(qdir, q):
    text = open(os.path.join(qdir, q + ".sql")).read().strip()
    return text[:-1] if text.endswith(";") else text


def split_results(stdout):
    """CSV results, each ended by one blank line -> list of (header, rows). A one-column row holding NULL is a blank
    line too: of n blank lines in a row after a header, the last ends the result and the others are NULL rows."""
    out, cur, blanks = [], None, 0
    for row in csv.reader(io.StringIO(stdout)):
        if row == []:
            blanks += cur is not None
            continue
        if cur is not None and blanks:  # a new header: the blanks before it were NULL rows and the terminator
            cur[1].extend([[""]] * (blanks - 1))
            out.append(cur)
            cur, blanks = None, 0
        if cur is None:
            cur = (row, [])
        else:
            cur[1].append(row)
    if cur is not None:
        cur[1].extend([[""]] * max(blanks - 1, 0))
        out.append(cur)
    return out


def last_error(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("tessera")]
    if lines:
        return lines[0][:300]
    lines = [l for l in stderr.splitlines() if l.strip() and not l.startswith(("stmt ", "mem ", "---"))]
    return (lines[-1] if lines else "no message")[:300]


def run_watched(cmd, timeout, mem_limit_gb):
    """Runs cmd; kills it when no statement finishes for `timeout` seconds (its stderr gets a `stmt` line per
    statement). mem_limit_gb > 0 caps each process's address space (RLIMIT_AS, inherited by the ranks), so a query
    that explodes fails with Tessera's out-of-memory error (exit 5) instead of exhausting the machine.
    Returns (exit code, stdout, stderr)."""
    def limit():
        if mem_limit_gb > 0:
            import resource
            b = int(mem_limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))
    out = tempfile.TemporaryFile("w+")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
                         start_new_session=True)
    err, last = [], time.time()
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(p.stderr, selectors.EVENT_READ)
    while True:
        if sel.select(timeout=1.0):
            line = p.stderr.readline()
            if not line:
                break
            err.append(line)
            if line.startswith("stmt "):
                last = time.time()
        elif time.time() - last > timeout:
            os.killpg(p.pid, signal.SIGKILL)
            err.append("tessera: timed out: no statement finished in %d s\n" % timeout)
            break
    code = p.wait()
    out.seek(0)
    stdout = out.read()
    out.close()
    return code, stdout, "".join(err)


def cmd_run(a):
    os.makedirs(a.out, exist_ok=True)
    load = open(os.path.join(HERE, "load.sql")).read()
    todo = query_names(a.queries, a.only)
    res = {"ranks": a.ranks, "load": None, "queries": {}}
    mpirun = a.mpirun.split()
    while todo:
        script = load + "\n" + "".join(read_query(a.queries, q) + ";\n" for q in todo)
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(script)
            path = f.name
        cmd = mpirun + ["-n", str(a.ranks), a.tessera, "sql", path, "--set", "data=" + a.data, "--format", "csv",
                        "--timing", "--quiet"]
        if a.memory_limit:
            cmd += ["--memory-limit", a.memory_limit] + (["--spill-dir", a.spill_dir] if a.spill_dir else [])
        try:
            code, stdout, stderr = run_watched(cmd, a.timeout, a.mem_limit_gb)
        finally:
            os.unlink(path)
        secs, mem, spill = {}, {}, {}
        for line in stderr.splitlines():
            m = re.match(r"^spill\s+(\d+)\s+\S+\s+(\d+)\s*$", line)
            if m:
                spill[int(m.group(1))] = int(m.group(2))
            m = re.match(r"^stmt\s+(\d+)\s+\S+\s+([0-9.eE+-]+)\s*$", line)
            if m:
                secs[int(m.group(1))] = float(m.group(2))
            m = re.match(r"^mem\s+(\d+)\s+\S+\s+(\d+)\s+(\d+)\s*$", line)
            if m:
                mem[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
        if res["load"] is None:
            # the script is parsed whole before anything runs: a syntax error in a query stops the load too
            m = re.search(re.escape(path) + r":(\d+):\d+:", stderr)
            first = load.count("\n") + 2
            if m and int(m.group(1)) >= first and not secs:
                line, k = int(m.group(1)) - first, 0
                while k + 1 < len(todo) and line >= read_query(a.queries, todo[k]).count("\n") + 1:
                    line -= read_query(a.queries, todo[k]).count("\n") + 1
                    k += 1
                res["queries"][todo[k]] = {"error": last_error(stderr)}
                todo = todo[:k] + todo[k + 1:]
                continue
            if not all(i in secs for i in range(1, NLOAD + 1)):
                err = last_error(stderr)
                res["load"] = {"error": err}
                for q in todo:
                    res["queries"][q] = {"error": "load failed: " + err}
                break
            res["load"] = {"seconds": sum(secs[i] for i in range(1, NLOAD + 1)),
                           "peak_bytes": max(mem.get(i, (0, 0))[0] for i in range(1, NLOAD + 1)),
                           "spill_bytes": sum(spill.get(i, 0) for i in range(1, NLOAD + 1))}
        results = split_results(stdout)
        done = 0
        for k, q in enumerate(todo):
            i = NLOAD + 1 + k
            if i not in secs or k >= len(results):
                break
            header, rows = results[k]
            with open(os.path.join(a.out, q + ".csv"), "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)
            res["queries"][q] = {"seconds": secs[i], "peak_bytes": mem.get(i, (0, 0))[0],
                                 "peak_bytes_min": mem.get(i, (0, 0))[1], "spill_bytes": spill.get(i, 0)}
            done += 1
        if done == len(todo):
            break
        failed = todo[done]
        res["queries"][failed] = {"error": last_error(stderr) + (" (exit %d)" % code if code > 0 else "")}
        todo = todo[done + 1:]
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump(res, f, indent=1)
    return 0


def read_table(path, official):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter="|" if official else ","))
    return rows[0], [r if r else [""] for r in rows[1:]]  # a blank line is a one-column row holding NULL


def as_number(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def same_cell(exp, got, official):
    if exp == got or (official and exp == got.strip()):  # the TPC's files drop the blanks around strings
        return True
    e, g = as_number(exp), as_number(got)
    if e is None or g is None:
        return False
    if official:  # printed to 2 decimals: got must round to it
        return abs(g - e) <= 0.005 + 1e-9 * abs(e)
    return abs(g - e) <= 1e-9 * max(abs(e), abs(g)) or abs(g - e) <= 1e-12


def compare(exp_path, got_path, official):
    """None when equal, else a short reason."""
    eh, erows = read_table(exp_path, official)
    gh, grows = read_table(got_path, False)
    if len(eh) != len(gh):
        return "%d columns, expected %d" % (len(gh), len(eh))
    if not official and [h.lower() for h in eh] != [h.lower() for h in gh]:
        return "column names %s, expected %s" % (gh, eh)
    if len(erows) != len(grows):
        return "%d rows, expected %d" % (len(grows), len(erows))
    for r, (er, gr) in enumerate(zip(erows, grows)):
        if len(er) != len(gr):
            return "row %d has %d fields, expected %d" % (r + 1, len(gr), len(er))
        for c, (e, g) in enumerate(zip(er, gr)):
            if not same_cell(e, g, official):
                return "row %d column %s: %r, expected %r" % (r + 1, eh[c], g, e)
    return None


def cmd_check(a):
    names = sorted(f[:-4] for f in os.listdir(a.expected) if re.fullmatch(r"q\d+\.csv", f))
    names = [q for q in names if not a.only or q in a.only]
    bad = 0
    status = {}
    run = {}
    if os.path.exists(os.path.join(a.results, "run.json")):
        run = json.load(open(os.path.join(a.results, "run.json"))).get("queries", {})
    for q in names:
        got = os.path.join(a.results, q + ".csv")
        if not os.path.exists(got):
            why = run.get(q, {}).get("error", "no answer")
        else:
            why = compare(os.path.join(a.expected, q + ".csv"), got, a.official)
            peer = os.path.join(a.peer, q + ".csv") if a.peer else None
            if why and peer and os.path.exists(peer) and compare(peer, got, False) is None:
                print("%s: the expected file differs (%s), but the answer equals %s's" % (q, why, a.peer))
                why = None  # a reference answer both engines disagree with (the TPC's q17 file, for one)
        status[q] = "ok" if why is None else why
        bad += why is not None
        print("%s %s%s" % (q, "ok" if why is None else "WRONG" if os.path.exists(got) else "FAILED",
                           "" if why is None else ": " + why))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(status, f, indent=1)
    return 1 if bad else 0


def fmt_s(v):
    return "%.3f" % v if v is not None else "-"


def fmt_mib(b):
    return "%.0f" % (b / 2**20) if b else "-"


def cmd_report(a):
    runs = []
    for spec in a.tessera:
        p, d = spec.split("=", 1)
        runs.append((int(p), json.load(open(os.path.join(d, "run.json")))))
    duck = json.load(open(a.duckdb))
    checks = {}
    for spec in a.checks:
        p, f = spec.split("=", 1)
        checks[int(p)] = json.load(open(f))
    qs = sorted(set(duck["queries"]) | {q for _, r in runs for q in r["queries"]})
    print("TPC-H SF %s: Tessera (%s) vs DuckDB %s (%d threads); seconds, peak resident MiB per rank (max over ranks)"
          % (a.sf, ", ".join("%d rank%s" % (p, "s" if p > 1 else "") for p, _ in runs), duck["version"],
             duck["threads"]))
    print()
    # under --memory-limit: the bytes written to spill files and cold tables (the most of any rank)
    spilling = any(t.get("spill_bytes") for _, r in runs for t in list(r["queries"].values()) + [r.get("load") or {}])
    sp = " spill MiB %dr |" if spilling else ""
    head = "| query |" + "".join((" tessera %dr s | answer %dr | peak MiB %dr |" + sp) % ((p, p, p, p) if spilling
                                 else (p, p, p)) for p, _ in runs)
    head += " duckdb s | duckdb MiB |" + "".join(" ratio %dr |" % p for p, _ in runs)
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    tot = {p: 0.0 for p, _ in runs}
    totd = 0.0
    complete = {p: True for p, _ in runs}
    for q in qs:
        d = duck["queries"].get(q, {})
        ds = d.get("seconds")
        line = "| %s |" % q
        ratios = ""
        for p, r in runs:
            t = r["queries"].get(q, {})
            ok = checks.get(p, {}).get(q)
            verdict = "ok" if ok == "ok" else ("wrong" if ok and "seconds" in t else "FAILED")
            if "seconds" in t:
                line += " %s | %s | %s |" % (fmt_s(t["seconds"]), verdict, fmt_mib(t.get("peak_bytes")))
                line += " %s |" % fmt_mib(t.get("spill_bytes", 0)) if spilling else ""
                tot[p] += t["seconds"]
                ratios += " %s |" % ("%.2f" % (t["seconds"] / ds) if ds else "-")
            else:
                line += " - | FAILED | - |" + (" - |" if spilling else "")
                ratios += " - |"
                complete[p] = False
        if ds is not None:
            totd += ds
        line += " %s | %s |%s" % (fmt_s(ds), fmt_mib(d.get("peak_bytes")), ratios)
        print(line)
    line = "| total |"
    for p, _ in runs:
        line += " %s%s | | |" % (fmt_s(tot[p]), "" if complete[p] else " (answered only)") + (" |" if spilling else "")
    line += " %s | |" % fmt_s(totd)
    for p, _ in runs:
        line += " %s |" % ("%.2f" % (tot[p] / totd) if totd and complete[p] else "-")
    print(line)
    print()
    for p, r in runs:
        ld = r.get("load") or {}
        print("load, tessera %d rank%s: %s s, peak %s MiB per rank%s%s" % (
            p, "s" if p > 1 else "", fmt_s(ld.get("seconds")), fmt_mib(ld.get("peak_bytes")),
            ", wrote %s MiB of cold tables per rank (max)" % fmt_mib(ld["spill_bytes"]) if ld.get("spill_bytes") else "",
            "" if "error" not in ld else " (FAILED: %s)" % ld["error"]))
    print("load, duckdb: %s s, peak %s MiB" % (fmt_s(duck["load"]["seconds"]), fmt_mib(duck["load"]["peak_bytes"])))
    failures = [(p, q, t["error"]) for p, r in runs for q, t in sorted(r["queries"].items()) if "error" in t]
    failures += [("duckdb", q, t["error"]) for q, t in sorted(duck["queries"].items()) if "error" in t]
    for who, q, err in failures:
        print("failed: %s %s: %s" % (q, "tessera %s ranks" % who if who != "duckdb" else "duckdb", err))
    for p, c in sorted(checks.items()):
        for q, s in sorted(c.items()):
            if s != "ok" and "error" not in runs[[x for x, _ in runs].index(p)][1]["queries"].get(q, {}):
                print("wrong: %s tessera %d ranks: %s" % (q, p, s))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--tessera", required=True)
    r.add_argument("--ranks", type=int, required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--queries", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--mpirun", default="mpirun")
    r.add_argument("--timeout", type=int, default=600, help="seconds per statement (query or load statement)")
    r.add_argument("--mem-limit-gb", type=float, default=0, help="address-space cap per process (0: none)")
    r.add_argument("--memory-limit", help="tessera's --memory-limit per rank (e.g. 3G)")
    r.add_argument("--spill-dir", help="tessera's --spill-dir")
    r.add_argument("only", nargs="*")
    c = sub.add_parser("check")
    c.add_argument("--expected", required=True)
    c.add_argument("--results", required=True)
    c.add_argument("--official", action="store_true")
    c.add_argument("--json")
    c.add_argument("--peer", help="answers of another engine (DuckDB's): an answer that differs from --expected "
                                  "but equals the peer's (within 1e-9) counts as right, with a note")
    c.add_argument("only", nargs="*")
    p = sub.add_parser("report")
    p.add_argument("--sf", required=True)
    p.add_argument("--tessera", action="append", default=[])
    p.add_argument("--duckdb", required=True)
    p.add_argument("--checks", action="append", default=[])
    a = ap.parse_args()
    return {"run": cmd_run, "check": cmd_check, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
