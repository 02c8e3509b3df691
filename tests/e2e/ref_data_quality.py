#!/usr/bin/python3
"""Independent reference of the data-quality job (docs/jobs/data-quality.md), for the bank rules.

    ref_data_quality.py DATA_DIR TESTS_FILE QUALITY.h5

Recomputes from the CSV bytes (parsing per shared/domain.md, helpers from reference.py) the column profile, the
tests' failing rows and the quality-score histogram and statistics, then compares them with QUALITY.h5: counts
and texts exactly, shares and statistics within 1e-9 relative. Prints one line per mismatch; exit 1 if any.
Shares no code with the C engine.
"""
import csv
import glob
import os
import sys
from fractions import Fraction

import h5py
import numpy as np

from reference import (CHANNELS, COLUMNS, EPOCH, SECTORS, STATUSES, TXN_TYPES, parse_amount, parse_date,
                       parse_int, read_lines, split_fields)
import datetime as dt

NAMES = [c.decode() for c in COLUMNS]
TYPES = {"txn_id": "int64", "txn_date": "date", "country_code": "category", "customer_id": "int64",
         "account_id": "int64", "txn_type": "category", "sector": "category", "amount": "decimal(18,2)",
         "currency": "string", "status": "category", "channel": "category"}


def ref_column(data_dir, name, col):
    with open(os.path.join(data_dir, name), newline="") as fh:
        return [r[col].strip() for r in csv.DictReader(fh)]


def typed(name, f, countries):
    """The cleaned value of a trimmed field (None: empty or invalid)."""
    if name in ("txn_id", "customer_id", "account_id"):
        return parse_int(f)
    if name == "txn_date":
        return parse_date(f)
    if name == "country_code":
        u = f.upper()
        return u.decode() if u in countries else None
    if name == "amount":
        return parse_amount(f)
    if name == "currency":
        return f.decode("latin-1") if f else None
    sets = {"txn_type": TXN_TYPES, "sector": SECTORS, "status": STATUSES, "channel": CHANNELS}[name]
    low = f.lower()
    return low.decode() if low in sets else None


def text(name, v):
    if v is None:
        return ""
    if name == "txn_date":
        return (EPOCH + dt.timedelta(days=v)).isoformat()
    if name == "amount":
        return "%s%d.%02d" % ("-" if v < 0 else "", abs(v) // 100, abs(v) % 100)
    return str(v)


def load_rows(data_dir):
    countries = {c.encode() for c in ref_column(data_dir, "countries.csv", "country_code")}
    rows_read, rows = 0, []
    for path in sorted(glob.glob(os.path.join(data_dir, "transactions", "*.csv*"))):
        if not (path.endswith(".csv") or path.endswith(".csv.gz")):
            continue
        layout, lines = read_lines(path)
        for _no, raw in lines:
            rows_read += 1
            fields = split_fields(raw)
            if fields is None or len(fields) != layout[0]:
                continue
            f = [fields[i].strip(b" \t") for i in layout[1]]
            rows.append(([x != b"" for x in f], [typed(NAMES[k], f[k], countries) for k in range(len(f))]))
    return rows_read, rows


def parse_tests(path):
    tests = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#")[0].split()
        if not line:
            continue
        warn = line[-1] == "severity=warn"
        if line[-1].startswith("severity="):
            line = line[:-1]
        kind = line[0]
        if kind == "expression":
            tests.append((line[1], line[2], warn, kind, line[2:]))
        else:
            tests.append(("%s_%s" % (kind, line[1]), line[1], warn, kind, line[2:]))
    return tests


def constant(name, tok):
    if name == "amount":
        return Fraction(tok) * 100
    if name == "txn_date":
        return (dt.date.fromisoformat(tok) - EPOCH).days
    if name in ("txn_id", "customer_id", "account_id"):
        return int(tok)
    return tok.strip("'")


def failing(test, rows, data_dir):
    _name, col, _warn, kind, args = test
    k = NAMES.index(col)
    vals = [r[1][k] for r in rows]
    if kind == "not_null":
        return sum(v is None for v in vals)
    if kind == "unique":
        counts = {}
        for v in vals:
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
        return sum(c for c in counts.values() if c > 1)
    if kind == "accepted_values":
        ok = set(args[0].split(","))
        return sum(v is not None and text(col, v) not in ok for v in vals)
    if kind == "relationships":
        file, rcol = args[0].split(":")
        ref = ref_column(data_dir, file, rcol)
        ref = {int(x) for x in ref} if isinstance(next((v for v in vals if v is not None), ""), int) else set(ref)
        return sum(v is not None and v not in ref for v in vals)
    if kind == "expression":
        _l, op, r = args
        if r in NAMES:
            other = [row[1][NAMES.index(r)] for row in rows]
        else:
            other = [constant(col, r)] * len(vals)
        ops = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
               "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
        return sum(a is not None and b is not None and not ops[op](a, b) for a, b in zip(vals, other))
    raise ValueError(kind)


def scores(rows, data_dir):
    cur = dict(zip(ref_column(data_dir, "countries.csv", "country_code"),
                   ref_column(data_dir, "countries.csv", "currency")))
    fx = set(zip(ref_column(data_dir, "fx_rates.csv", "country_code"), ref_column(data_dir, "fx_rates.csv", "month")))
    ic, idt, icur = NAMES.index("country_code"), NAMES.index("txn_date"), NAMES.index("currency")
    n = len(NAMES)
    out = []
    for present, vals in rows:
        nn = sum(present)
        nv = sum(v is not None for v in vals)
        c = 0
        country = vals[ic]
        if country is not None:
            c += vals[icur] is not None and vals[icur].upper() == cur.get(country)
            if vals[idt] is not None:
                d = EPOCH + dt.timedelta(days=vals[idt])
                c += (country, "%04d-%02d" % (d.year, d.month)) in fx
        out.append(Fraction(nn, n) / 3 + Fraction(nv, n) / 3 + Fraction(c, 2) / 3)
    return out


def read_table(f, group):
    g = f[group]
    cols = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
    out = {}
    for c in cols:
        a = g[c][()]
        out[c] = [x.decode() for x in a] if a.dtype.kind == "S" else list(a)
    return out


def main():
    data_dir, tests_path, h5 = sys.argv[1:4]
    rows_read, rows = load_rows(data_dir)
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

    with h5py.File(h5, "r") as f:
        cols = read_table(f, "/quality/columns")
        tests = read_table(f, "/quality/tests")
        hist = read_table(f, "/quality/score_histogram")
        stats = dict(zip(*read_table(f, "/quality/score_summary").values()))
        summ = dict(zip(*read_table(f, "/quality/summary").values()))
    same("summary rows_read", int(summ["rows_read"]), rows_read)
    same("summary rows_profiled", int(summ["rows_profiled"]), len(rows))
    same("columns", cols["column"], NAMES)
    N = len(rows)
    for k, name in enumerate(NAMES):
        if k >= len(cols["column"]):
            break
        vals = [r[1][k] for r in rows if r[1][k] is not None]
        non_null = sum(r[0][k] for r in rows)
        distinct = len(set(vals))
        same(name + ".type", cols["type"][k], TYPES[name])
        same(name + ".rows", int(cols["rows"][k]), N)
        same(name + ".non_null", int(cols["non_null"][k]), non_null)
        same(name + ".valid", int(cols["valid"][k]), len(vals))
        same(name + ".distinct", int(cols["distinct"][k]), distinct)
        close(name + ".completeness", float(cols["completeness"][k]), non_null / N)
        close(name + ".validity", float(cols["validity"][k]), len(vals) / N)
        close(name + ".uniqueness", float(cols["uniqueness"][k]), distinct / len(vals) if vals else float("nan"))
        if isinstance(vals[0], str):
            lo, hi = min(vals, key=lambda s: s.encode("latin-1")), max(vals, key=lambda s: s.encode("latin-1"))
        else:
            lo, hi = min(vals), max(vals)
        same(name + ".min", cols["min"][k], text(name, lo))
        same(name + ".max", cols["max"][k], text(name, hi))
    expected = parse_tests(tests_path)
    same("tests", tests["test"], [t[0] for t in expected])
    for i, t in enumerate(expected[:len(tests["test"])]):
        n = failing(t, rows, data_dir)
        same(t[0] + ".failing_rows", int(tests["failing_rows"][i]), n)
        same(t[0] + ".severity", tests["severity"][i], "warn" if t[2] else "error")
        same(t[0] + ".status", tests["status"][i], "pass" if n == 0 else "warn" if t[2] else "fail")
        same(t[0] + ".column", tests["column"][i], t[1])
    sc = scores(rows, data_dir)
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
    for b in bad:
        print("MISMATCH", b)
    print("ref_data_quality: %d rows, %d tests, %d mismatches" % (len(rows), len(expected), len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
