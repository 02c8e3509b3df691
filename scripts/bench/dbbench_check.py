#!/usr/bin/python3
"""Checks Tessera's db-benchmark answers against DuckDB's and prints the timing table (docs/dbbench.md).

    dbbench_check.py --duckdb DUCKDB.json --sql QUESTIONS.sql [--title TEXT]
                     --run tessera-1 OUT1.h5 TIMING1 --run tessera-2 OUT2.h5 TIMING2

DUCKDB.json comes from dbbench_duckdb.mjs. Each --run names a Tessera run: the HDF5 file holding its answer
tables /q1, /q2, ... and the file holding its rank 0 stderr, whose `stmt <i> <name> <seconds>` lines give the
time of each statement (statements not named qN are the load, summed). For every answer the same checksums as
dbbench_duckdb.mjs are computed from the HDF5 table: row count; per column the non-NULL count; for numbers the
sum of the finite values and the count of NaNs; for strings the count of distinct values. Row, NULL, NaN and
distinct counts must be equal; sums agree to a relative 1e-9 (1e-6 for the quantile, standard deviation and
correlation columns). Exit status 1 when any answer of any run differs or is missing. Needs h5py + numpy.
"""
import argparse
import json
import math
import os
import re
import sys

import h5py
import numpy as np

LOOSE = {"median_v3", "sd_v3", "r2"}  # results of quantile / stddev / corr: 1e-6
TOL, LOOSE_TOL = 1e-9, 1e-6


def attr_strs(v):
    if isinstance(v, (bytes, str)):
        v = [v]
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(v).ravel()]


def column_values(g, name, typ):
    """(values, kind) of one column: numbers as float64/int64 arrays, strings as a numpy bytes array or list."""
    obj = g[name]
    if isinstance(obj, h5py.Group):  # bytes+offsets string column
        off, buf = obj["offsets"][()], obj["bytes"][()].tobytes()
        return [buf[off[i]:off[i + 1]] for i in range(len(off) - 1)], "str"
    a = obj[()]
    if a.dtype.kind == "S":
        return a, "str"
    m = re.match(r"decimal\(\d+,\s*(\d+)\)", typ)
    if m:
        return a.astype(np.float64) / 10.0 ** int(m.group(1)), "num"
    return a, "num"


def h5_checksums(path, table):
    """The checksums of one Tessera answer table, or None when the file or table is missing."""
    try:
        f = h5py.File(path, "r")
    except OSError:
        return None
    with f:
        if table not in f:
            return None
        g = f[table]
        names = attr_strs(g.attrs["columns"])
        types = attr_strs(g.attrs["types"]) if "types" in g.attrs else [""] * len(names)
        out = {"rows": int(g.attrs["nrows"]), "columns": []}
        for name, typ in zip(names, types):
            vals, kind = column_values(g, name, typ)
            valid = g[f"{name}.valid"][()].astype(bool) if f"{name}.valid" in g else None
            n = int(valid.sum()) if valid is not None else len(vals)
            if kind == "str":
                if isinstance(vals, list):
                    kept = {v for i, v in enumerate(vals) if valid is None or valid[i]}
                    distinct = len(kept)
                else:
                    distinct = len(np.unique(vals if valid is None else vals[valid]))
                out["columns"].append({"name": name, "kind": "str", "n": n, "distinct": distinct})
            else:
                v = vals if valid is None else vals[valid]
                if v.dtype.kind == "f":
                    nan = int(np.isnan(v).sum())
                    total = float(np.sum(v[np.isfinite(v)], dtype=np.float64))
                else:
                    nan, total = 0, float(int(np.sum(v.astype(np.int64), dtype=np.int64)))
                out["columns"].append({"name": name, "kind": "num", "n": n, "sum": total, "nan": nan})
        return out


def differences(got, want):
    """Human-readable differences between two checksum records (empty when they agree)."""
    if got is None:
        return ["answer table missing"]
    diffs = []
    if got["rows"] != want["rows"]:
        diffs.append(f"rows {got['rows']} vs {want['rows']}")
    gnames = [c["name"] for c in got["columns"]]
    wnames = [c["name"] for c in want["columns"]]
    if gnames != wnames:
        diffs.append(f"columns {gnames} vs {wnames}")
    wcols = {c["name"]: c for c in want["columns"]}
    for g in got["columns"]:
        w = wcols.get(g["name"])
        if w is None:
            continue
        if g["kind"] != w["kind"]:
            diffs.append(f"{g['name']}: {g['kind']} vs {w['kind']}")
            continue
        for k in ("n", "nan", "distinct"):
            if k in w and g.get(k) != w[k]:
                diffs.append(f"{g['name']}.{k} {g.get(k)} vs {w[k]}")
        if "sum" in w:
            tol = LOOSE_TOL if g["name"] in LOOSE else TOL
            a, b = g["sum"], w["sum"]
            if not abs(a - b) <= tol * max(abs(a), abs(b), 1.0):
                diffs.append(f"{g['name']}.sum {a!r} vs {b!r}")
    return diffs


def timings(path):
    """{'load': seconds, 'qN': seconds} from `stmt <i> <name> <seconds>` lines; {} when the file is missing."""
    t = {}
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return t
    for line in lines:
        m = re.match(r"^stmt\s+\d+\s+(\S+)\s+([0-9.eE+-]+)\s*$", line)
        if not m:
            continue
        name, sec = m.group(1).lower(), float(m.group(2))
        key = name if re.fullmatch(r"q\d+", name) else "load"
        t[key] = t.get(key, 0.0) + sec
    return t


def labels(sql_path):
    """{'qN': 'label'} from the script's `-- qN: label` comments."""
    out = {}
    if sql_path:
        for line in open(sql_path):
            m = re.match(r"^--\s*(q\d+):\s*(.*?)\s*$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def fmt(x):
    return f"{x:.3f}" if x is not None and not math.isnan(x) else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duckdb", required=True, help="JSON written by dbbench_duckdb.mjs")
    ap.add_argument("--sql", help="the questions' script (for the labels)")
    ap.add_argument("--title", default="db-benchmark")
    ap.add_argument("--run", nargs=3, action="append", default=[], metavar=("NAME", "H5", "TIMING"))
    a = ap.parse_args()

    duck = json.load(open(a.duckdb))
    questions = sorted(duck["answers"], key=lambda q: int(q[1:]))
    names = labels(a.sql)
    times = [timings(t) for _, _, t in a.run]
    last = a.run[-1][0] if a.run else "-"
    print(f"\n{a.title}  (seconds; DuckDB {duck.get('version', '')} {duck.get('threads', '?')} threads; "
          f"ratio = DuckDB / {last})")
    width = max([len(f"{q} {names.get(q, '')}") for q in questions] + [10]) + 2
    head = f"{'question':<{width}}" + "".join(f"{r[0]:>12}" for r in a.run) + f"{'duckdb':>10}{'ratio':>8}  result"
    print(head)
    bad = []
    for q in ["load"] + questions:
        ts = [t.get(q, float("nan")) for t in times]
        d = duck["seconds"].get(q, float("nan"))
        ratio = d / ts[-1] if ts and ts[-1] and not math.isnan(ts[-1]) else float("nan")
        result = ""
        if q != "load":
            diffs = []
            for run, h5, _ in a.run:
                if os.path.exists(h5):
                    diffs += [f"{run} {q}: {m}" for m in differences(h5_checksums(h5, "/" + q), duck["answers"][q])]
                else:
                    diffs.append(None)  # reported once per run below
            result = "MISMATCH" if any(diffs) else "missing" if diffs else "agree"
            bad += [m for m in diffs if m]
        label = q if q == "load" else f"{q} {names.get(q, '')}"
        print(f"{label:<{width}}" + "".join(f"{fmt(x):>12}" for x in ts) + f"{fmt(d):>10}"
              + (f"{ratio:>7.2f}x" if not math.isnan(ratio) else f"{'-':>8}") + f"  {result}")
    for run, h5, _ in a.run:
        if not os.path.exists(h5):
            bad.append(f"{run}: no answers ({h5} missing: the run failed)")
    for msg in bad:
        print("MISMATCH " + msg)
    print("answers agree (rows and checksums of every question, every run vs DuckDB)" if not bad
          else f"ANSWERS DIFFER ({len(bad)} difference(s))")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
