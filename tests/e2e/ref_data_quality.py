#!/usr/bin/python3
"""Independent reference of the data-quality job (docs/jobs/data-quality.md), for the bank rules.

    ref_data_quality.py DATA_DIR TESTS_FILE QUALITY.h5 [QUALITY2.h5 ...] [--in FILE.h5]

Recomputes from the CSV bytes (parsing per shared/domain.md, helpers from reference.py) the column profile, every
test (raw or cleaned values, where conditions, dbt's counting, warn_if / error_if, the failures tables) on the
transactions, on other CSV files (types inferred by the rules of docs) and on HDF5 tables (read with h5py), and
the quality-score histogram and statistics, then compares them with each QUALITY.h5 (outputs of the same job on
different rank counts): counts and texts exactly, shares and statistics within 1e-9 relative. Prints one line per mismatch; exit 1 if any. Shares no code with the C engine.
"""
import csv
import datetime as dt
import glob
import math
import os
import re
import sys
from fractions import Fraction

import h5py
import numpy as np

from reference import (CHANNELS, COLUMNS, EPOCH, SECTORS, STATUSES, TXN_TYPES, parse_amount, parse_date,
                       parse_int, read_lines, split_fields)

NAMES = [c.decode() for c in COLUMNS]
TYPES = {"txn_id": "int64", "txn_date": "date", "country_code": "category", "customer_id": "int64",
         "account_id": "int64", "txn_type": "category", "sector": "category", "amount": "decimal(18,2)",
         "currency": "string", "status": "category", "channel": "category"}
# how tests see the transactions' columns: (type, folding of raw text)
TX_COLS = {"txn_id": ("int", None), "txn_date": ("date", None), "country_code": ("cat", "upper"),
           "customer_id": ("int", None), "account_id": ("int", None), "txn_type": ("cat", "lower"),
           "sector": ("cat", "lower"), "amount": ("dec", None), "currency": ("str", None),
           "status": ("cat", "lower"), "channel": ("cat", "lower")}
OPS = {"=": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c < 0, "<=": lambda c: c <= 0,
       ">": lambda c: c > 0, ">=": lambda c: c >= 0}
DEC_ANY = re.compile(rb"[+-]?([0-9]*)\.?([0-9]*)")
ISO = re.compile(rb"([0-9]{4})-([0-9]{2})-([0-9]{2})")
BAD = object()  # a raw text that is not a value of its column's type


def ref_column(data_dir, name, col):
    with open(os.path.join(data_dir, name), newline="") as fh:
        return [r[col].strip(" \t") for r in csv.DictReader(fh)]


def typed(name, f, countries):
    """The cleaned value of a trimmed field (None: empty or invalid)."""
    if name in ("txn_id", "customer_id", "account_id"):
        return parse_int(f)
    if name == "txn_date":
        return parse_date(f)
    if name == "country_code":
        u = f.upper()
        return u if u in countries else None
    if name == "amount":
        v = parse_amount(f)
        return None if v is None else Fraction(v, 100)
    if name == "currency":
        return f if f else None
    sets = {"txn_type": TXN_TYPES, "sector": SECTORS, "status": STATUSES, "channel": CHANNELS}[name]
    low = f.lower()
    return low if low in sets else None


def text_of(v, kind):
    """A value as the engine prints it (dq_format_value)."""
    if v is None:
        return ""
    if kind == "date":
        return (EPOCH + dt.timedelta(days=v)).isoformat()
    if kind == "dec":
        c = int(v * 100)
        return "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)
    if kind == "float":
        return "%.17g" % v
    if kind == "bool":
        return "true" if v else "false"
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    return str(v)


# --- tables ------------------------------------------------------------------------------------------------
class Table:
    """cols: [(name, type, fold)]; rows: [{"raw": [bytes|None], "clean": [value|None], "pos": (file, line)}]."""

    def __init__(self, spec, cols, rows, h5=False):
        self.spec, self.cols, self.rows, self.h5 = spec, cols, rows, h5
        self.index = {c[0]: i for i, c in enumerate(cols)}


def transactions(data_dir):
    countries = {c.encode() for c in ref_column(data_dir, "countries.csv", "country_code")}
    rows_read, rows = 0, []
    for path in sorted(glob.glob(os.path.join(data_dir, "transactions", "*.csv*")), key=lambda p: p.encode()):
        if not (path.endswith(".csv") or path.endswith(".csv.gz")):
            continue
        layout, lines = read_lines(path)
        for no, raw in lines:
            rows_read += 1
            fields = split_fields(raw)
            if fields is None or len(fields) != layout[0]:
                continue
            f = [fields[i].strip(b" \t") for i in layout[1]]
            rows.append({"raw": [x if x != b"" else None for x in f],
                         "clean": [typed(NAMES[k], f[k], countries) for k in range(len(f))],
                         "pos": (os.path.basename(path), no)})
    cols = [(n, TX_COLS[n][0], TX_COLS[n][1]) for n in NAMES]
    return rows_read, Table("transactions", cols, rows)


def infer(values):
    """The type read_csv infers for a column (non-empty values): int, float, date or str."""
    vals = [v for v in values if v != b""]
    if vals and all(re.fullmatch(rb"-?(0|[1-9][0-9]*)", v) and -2**63 <= int(v) < 2**63 for v in vals):
        return "int"
    if vals and all(re.fullmatch(rb"-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?", v) for v in vals):
        return "float"
    if vals and all(ISO.fullmatch(v) and parse_date(v) is not None for v in vals):
        return "date"
    return "str"


def csv_table(data_dir, spec):
    path = spec if spec.startswith("/") else os.path.join(data_dir, spec)
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [l[:-1] if l.endswith(b"\r") else l for l in lines]
    header = [h.strip(b" \t").decode() for h in split_fields(lines[0])]
    body = [(no, split_fields(l)) for no, l in enumerate(lines[1:], start=2)]
    body = [(no, [x.strip(b" \t") for x in f]) for no, f in body if f is not None and len(f) == len(header)]
    kinds = [infer([f[k] for _, f in body]) for k in range(len(header))]
    conv = {"int": int, "float": float, "date": parse_date, "str": lambda b: b}
    rows = [{"raw": [x if x != b"" else None for x in f],
             "clean": [conv[kinds[k]](x) if x != b"" else None for k, x in enumerate(f)],
             "pos": (os.path.basename(path), no)} for no, f in body]
    return Table(spec, [(h, k, None) for h, k in zip(header, kinds)], rows)


H5_KIND = {"int32": "int", "int64": "int", "float64": "float", "date": "date", "bool": "bool", "string": "str"}


def h5_table(spec, in_path):
    path, group = spec.split(":", 1) if ":/" in spec else (in_path, spec)
    with h5py.File(path, "r") as f:
        g = f[group]
        names = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
        types = [t.decode() if isinstance(t, bytes) else t for t in g.attrs["types"]]
        data = []
        for c, t in zip(names, types):
            a = g[c][()]
            vals = list(a) if a.dtype.kind == "S" else a.tolist()
            if t.startswith("decimal"):
                s = int(t.split(",")[1].rstrip(")"))
                vals = [Fraction(v, 10 ** s) for v in vals]
            if c + ".valid" in g:
                vals = [v if ok else None for v, ok in zip(vals, g[c + ".valid"][()])]
            data.append(vals)
    kinds = ["dec" if t.startswith("decimal") else H5_KIND[t] for t in types]
    n = len(data[0]) if data else 0
    rows = [{"raw": None, "clean": [d[i] for d in data], "pos": i} for i in range(n)]
    return Table(spec, [(c, k, None) for c, k in zip(names, kinds)], rows, h5=True)


# --- values --------------------------------------------------------------------------------------------------
def parse_raw(text, kind, fold, date_any):
    if text is None:
        return None
    if kind == "int":
        v = parse_int(text)
        return BAD if v is None else v
    if kind == "dec":
        m = DEC_ANY.fullmatch(text)
        if not m or not (m.group(1) or m.group(2)) or len(m.group(1) + m.group(2)) > 18 or text.endswith(b"."):
            return BAD
        return Fraction(text.decode())
    if kind == "date":
        v = parse_date(text) if date_any else (parse_date(text) if ISO.fullmatch(text) else None)
        return BAD if v is None else v
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return BAD
    if kind == "cat":
        return text.upper() if fold == "upper" else text.lower()
    return text


def value(table, row, k, layer):
    name, kind, fold = table.cols[k]
    if layer == "raw":
        return parse_raw(row["raw"][k], kind, fold, table.spec == "transactions")
    return row["clean"][k]


def cmp(a, b):
    """-1/0/1, None when a NULL is involved, BAD when a value is not one of its type."""
    if a is None or b is None:
        return None
    if a is BAD or b is BAD:
        return BAD
    if isinstance(a, bytes) != isinstance(b, bytes):
        return BAD
    return (a > b) - (a < b)


def constant(kind, fold, tok):
    tok = tok[1:-1] if len(tok) >= 2 and tok[0] == tok[-1] == "'" else tok
    b = tok.encode()
    if kind == "int":
        v = parse_int(b)
    elif kind == "dec":
        v = parse_raw(b, "dec", None, False)
    elif kind == "date":
        v = parse_date(b) if ISO.fullmatch(b) else None
    elif kind == "float":
        v = float(tok)
    elif kind == "cat":
        v = b.upper() if fold == "upper" else b.lower()
    else:
        v = b
    return None if v is BAD else v


# --- the tests file ------------------------------------------------------------------------------------------
def tokens(line):
    out, cur, q = [], "", False
    for ch in line:
        if ch == "'":
            q = not q
        if not q and ch == "#":
            break
        if not q and ch in " \t\r\n":
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def unquote(s):
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == "'" else s


def parse_tests(path):
    tests, table = [], "transactions"
    for no, line in enumerate(open(path, encoding="utf-8"), start=1):
        tok = tokens(line)
        if not tok:
            continue
        if tok[0] == "table":
            table = unquote(tok[1])
            continue
        t = {"kind": tok[0], "table": table, "line": no, "warn": False, "layer": None, "where": [],
             "warn_if": ("!=", 0), "error_if": ("!=", 0), "store": 100, "name": None}
        pos = []
        for x in tok[1:]:
            key, _, v = x.partition("=")
            v = unquote(v)
            if key == "severity" and _:
                t["warn"] = v == "warn"
            elif key == "values" and _:
                t["layer"] = v
            elif key == "where" and _:
                m = re.match(r"\s*(\w+)\s*(!=|<=|>=|=|<|>)\s*(.*)$", v)
                t["where"].append((m.group(1), m.group(2), m.group(3).strip()))
            elif key in ("warn_if", "error_if") and _:
                m = re.match(r"\s*(!=|<=|>=|=|<|>)\s*(\d+)\s*$", v)
                t[key] = (m.group(1), int(m.group(2)))
            elif key == "store_failures" and _:
                t["store"] = int(v)
            elif key == "name" and _:
                t["name"] = v
            else:
                pos.append(x)
        t["args"] = pos
        tests.append(t)
    return tests


def label(spec):
    if spec == "transactions":
        return ""
    if not (spec.endswith(".csv") or spec.endswith(".csv.gz")):
        return spec.rsplit("/", 1)[1]
    return os.path.basename(spec).split(".")[0]


def test_name(t):
    if t["name"]:
        return t["name"]
    if t["kind"] == "expression":
        return t["args"][0]
    lab = label(t["table"])
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "%s_%s%s" % (t["kind"], lab + "_" if lab else "", t["args"][0]))


def holds(th, n):
    return OPS[th[0]]((n > th[1]) - (n < th[1]))


def sort_key(v):
    """Value order of the engine's sort: NULL first, numbers by value, texts bytewise."""
    return (0, 0) if v is None else (1, v)


def run_test(t, tables, data_dir, in_path):
    tab = tables[t["table"]]
    layer = t["layer"] or ("stored" if tab.h5 else "raw")
    kind = t["kind"]

    def v(row, name):
        return value(tab, row, tab.index[name], layer)

    def operand(row, name, tok):
        if tok[0] != "'" and tok in tab.index:
            return v(row, tok)
        _, k, fold = tab.cols[tab.index[name]]
        return constant(k, fold, tok)

    def passes(row):
        return all(cmp(v(row, l), operand(row, l, r)) not in (None, BAD) and OPS[o](cmp(v(row, l), operand(row, l, r)))
                   for l, o, r in t["where"])

    rows = [r for r in tab.rows if passes(r)]
    col = t["args"][1] if kind == "expression" else t["args"][0]
    cols = col.split(",")

    def text(row, name):
        k = tab.index[name]
        if layer == "raw":
            x = row["raw"][k]
            return None if x is None else x.decode("utf-8", "surrogateescape")
        x = row["clean"][k]
        return None if x is None else text_of(x, tab.cols[k][1])

    failing, groups = [], None
    if kind == "not_null":
        failing = [r for r in rows if v(r, col) is None]
    elif kind == "expression":
        _, left, op, right = t["args"]
        failing = [r for r in rows if cmp(v(r, left), operand(r, left, right)) is BAD or
                   (cmp(v(r, left), operand(r, left, right)) is not None and not OPS[op](cmp(v(r, left), operand(r, left, right))))]
        cols = [left] + ([right] if right[0] != "'" and right in tab.index and right != left else [])
    elif kind == "relationships":
        target, pcol = t["args"][1].rsplit(":", 1)
        integer = tab.cols[tab.index[col]][1] == "int"
        if target.endswith(".csv") or target.endswith(".csv.gz"):
            parent = ref_column(data_dir, target, pcol)
            parent = {int(x) for x in parent} if integer else {x.encode() for x in parent}
        else:
            pt = h5_table(target, in_path)
            parent = {r["clean"][pt.index[pcol]] for r in pt.rows}
        failing = [r for r in rows if v(r, col) is BAD or (v(r, col) is not None and v(r, col) not in parent)]
    else:  # unique, accepted_values: groups of values
        def gkey(row, name):  # raw: the text (case-folded for a category), else the value
            if layer != "raw":
                return v(row, name)
            _, kk, fold = tab.cols[tab.index[name]]
            x = row["raw"][tab.index[name]]
            return x if x is None or kk != "cat" else (x.upper() if fold == "upper" else x.lower())
        counts = {}
        for r in rows:
            key = tuple(gkey(r, c) for c in cols)
            counts[key] = counts.get(key, 0) + 1
        if kind == "unique":
            groups = {k: n for k, n in counts.items() if n > 1 and (len(cols) > 1 or k[0] is not None)}
        else:
            _, kk, fold = tab.cols[tab.index[col]]
            ok = [unquote(x) for x in re.findall(r"(?:'[^']*'|[^,])+", t["args"][1])]
            ok = {x.upper() if fold == "upper" else x.lower() for x in ok} if kk == "cat" else set(ok)
            groups = {k: n for k, n in counts.items()
                      if k[0] is not None and text_of(k[0], kk if layer != "raw" else "str") not in ok}
    if groups is not None:
        failures, failing_rows = len(groups), sum(groups.values())
        kinds = [tab.cols[tab.index[c]][1] for c in cols]
        top = sorted(groups.items(), key=lambda kv: [sort_key(x) for x in kv[0]])[:t["store"]]
        names = ["value_field"] if kind == "accepted_values" else cols
        table = (names + ["n_records"],
                 [tuple(text_of(x, k if layer != "raw" else "str") if x is not None else None
                        for x, k in zip(key, kinds)) + (n,) for key, n in top])
    else:
        failures = failing_rows = len(failing)
        first = sorted(failing, key=lambda r: r["pos"] if tab.h5 else (r["pos"][0].encode(), r["pos"][1]))[:t["store"]]
        where_cols = (["row"] if tab.h5 else ["file", "line"]) + cols
        table = (where_cols, [((r["pos"],) if tab.h5 else r["pos"]) + tuple(text(r, c) for c in cols) for r in first])
    status = "fail" if not t["warn"] and holds(t["error_if"], failures) else \
        "warn" if holds(t["warn_if"], failures) else "pass"
    return {"name": test_name(t), "table": t["table"], "column": col, "values": layer,
            "severity": "warn" if t["warn"] else "error", "rows": len(rows), "failures": failures,
            "failing_rows": failing_rows, "status": status,
            "failures_rows": table if failures and t["store"] else None}


# --- scores (as before) ----------------------------------------------------------------------------------------
def scores(rows, data_dir):
    cur = dict(zip(ref_column(data_dir, "countries.csv", "country_code"),
                   ref_column(data_dir, "countries.csv", "currency")))
    fx = set(zip(ref_column(data_dir, "fx_rates.csv", "country_code"), ref_column(data_dir, "fx_rates.csv", "month")))
    ic, idt, icur = NAMES.index("country_code"), NAMES.index("txn_date"), NAMES.index("currency")
    n = len(NAMES)
    out = []
    for r in rows:
        present, vals = [x is not None for x in r["raw"]], r["clean"]
        nn = sum(present)
        nv = sum(v is not None for v in vals)
        c = 0
        country = vals[ic].decode() if vals[ic] is not None else None
        if country is not None:
            c += vals[icur] is not None and vals[icur].upper().decode("latin-1") == cur.get(country)
            if vals[idt] is not None:
                d = EPOCH + dt.timedelta(days=vals[idt])
                c += (country, "%04d-%02d" % (d.year, d.month)) in fx
        out.append(Fraction(nn, n) / 3 + Fraction(nv, n) / 3 + Fraction(c, 2) / 3)
    return out


def read_h5(f, group):
    g = f[group]
    cols = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
    out = {}
    for c in cols:
        a = g[c][()]
        vals = [x.decode("utf-8", "surrogateescape") for x in a] if a.dtype.kind == "S" else a.tolist()
        if c + ".valid" in g:
            vals = [x if ok else None for x, ok in zip(vals, g[c + ".valid"][()])]
        out[c] = vals
    return cols, out


def expected(data_dir, tests_path, in_path):
    """Everything the job should write, computed once."""
    rows_read, tx = transactions(data_dir)
    tests = parse_tests(tests_path)
    tables = {"transactions": tx}
    for t in tests:
        spec = t["table"]
        if spec not in tables:
            csvfile = spec.endswith(".csv") or spec.endswith(".csv.gz")
            tables[spec] = csv_table(data_dir, spec) if csvfile else h5_table(spec, in_path)
    results = [run_test(t, tables, data_dir, in_path) for t in tests]
    return rows_read, tx.rows, results, scores(tx.rows, data_dir)


def compare(h5, data_dir, rows_read, rows, results, sc):
    bad = []

    def close(what, got, want):
        if want == 0 or got != got or want != want:
            ok = (got != got and want != want) or got == want
        else:
            ok = abs(got - want) <= 1e-9 * abs(want)
        if not ok:
            bad.append("%s: got %r, want %r" % (what, got, want))

    def same(what, got, want):
        if got != want:
            bad.append("%s: got %r, want %r" % (what, got, want))

    f = h5py.File(h5, "r")
    _, cols = read_h5(f, "/quality/columns")
    _, tests = read_h5(f, "/quality/tests")
    _, hist = read_h5(f, "/quality/score_histogram")
    _, st = read_h5(f, "/quality/score_summary")
    stats = dict(zip(st["metric"], st["value"]))
    _, sm = read_h5(f, "/quality/summary")
    summ = dict(zip(sm["metric"], sm["count"]))
    same("summary rows_read", int(summ["rows_read"]), rows_read)
    same("summary rows_profiled", int(summ["rows_profiled"]), len(rows))
    same("columns", cols["column"], NAMES)
    N = len(rows)
    for k, name in enumerate(NAMES):
        if k >= len(cols["column"]):
            break
        vals = [r["clean"][k] for r in rows if r["clean"][k] is not None]
        non_null = sum(r["raw"][k] is not None for r in rows)
        distinct = len(set(vals))
        same(name + ".type", cols["type"][k], TYPES[name])
        same(name + ".rows", int(cols["rows"][k]), N)
        same(name + ".non_null", int(cols["non_null"][k]), non_null)
        same(name + ".valid", int(cols["valid"][k]), len(vals))
        same(name + ".distinct", int(cols["distinct"][k]), distinct)
        close(name + ".completeness", float(cols["completeness"][k]), non_null / N)
        close(name + ".validity", float(cols["validity"][k]), len(vals) / N)
        close(name + ".uniqueness", float(cols["uniqueness"][k]), distinct / len(vals) if vals else float("nan"))
        kind = TX_COLS[name][0]
        same(name + ".min", cols["min"][k], text_of(min(vals), kind))
        same(name + ".max", cols["max"][k], text_of(max(vals), kind))
    same("tests", tests["test"], [r["name"] for r in results])
    for i, r in enumerate(results[:len(tests["test"])]):
        for c in ("table", "column", "values", "severity", "status"):
            same("%s.%s" % (r["name"], c), tests[c][i], r[c])
        for c in ("rows", "failures", "failing_rows"):
            same("%s.%s" % (r["name"], c), int(tests[c][i]), r[c])
        group = "/quality/failures/" + r["name"]
        same("%s.failures_table" % r["name"], tests["failures_table"][i], group if r["failures_rows"] else "")
        if r["failures_rows"]:
            if group not in f:
                bad.append("%s: no failures table" % group)
                continue
            gcols, g = read_h5(f, group)
            ecols, erows = r["failures_rows"]
            same(group + " columns", gcols, ecols)
            got = list(zip(*[g[c] for c in gcols])) if gcols == ecols else []
            got = [tuple(int(x) if isinstance(x, (int, np.integer)) else x for x in row) for row in got]
            same(group + " rows", got, erows)
    buckets = [0] * 10
    for s in sc:
        buckets[min(int(s * 10), 9)] += 1  # exact: Fraction * 10 floors exactly
    same("histogram.bucket", [float(b) for b in hist["bucket"]], [b / 10 for b in range(10)])
    same("histogram.rows", [int(r) for r in hist["rows"]], buckets)
    arr = np.array([float(s) for s in sc])
    close("score mean", float(stats["mean"]), float(sum(sc) / len(sc)))
    close("score p10", float(stats["p10"]), float(np.quantile(arr, 0.1)))
    close("score p50", float(stats["p50"]), float(np.quantile(arr, 0.5)))
    same("score rows", float(stats["rows"]), float(len(sc)))
    for b in bad[:40]:
        print("MISMATCH", h5, b)
    print("ref_data_quality: %s: %d rows, %d tests, %d mismatches" % (h5, len(rows), len(results), len(bad)))
    return not bad


def main():
    args = sys.argv[1:]
    in_path = None
    if "--in" in args:
        i = args.index("--in")
        in_path = args[i + 1]
        args = args[:i] + args[i + 2:]
    data_dir, tests_path, outputs = args[0], args[1], args[2:]
    exp = expected(data_dir, tests_path, in_path)
    ok = [compare(h5, data_dir, *exp) for h5 in outputs]
    sys.exit(0 if outputs and all(ok) else 1)


if __name__ == "__main__":
    main()
