#!/usr/bin/python3
"""Check a bank-analytics HDF5 output against reference.py's tables and the layout of docs/hdf5-layout.md.

    compare.py OUT.h5 REF_DIR DATA_DIR [--no-manifest]   output vs reference (+ manifest.json reject counts)
    compare.py --same A.h5 B.h5                          two outputs hold identical tables (attributes aside)

Integers and strings must match exactly, floats within 1e-9 relative (NaN == NaN), rows in the same order.
Prints the first mismatches and exits 1 on any; 0 when everything matches.
"""
import json
import math
import os
import re
import sys

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from h5table import read_table, _attr_strs  # noqa: E402

M = ["txn_count", "success_count", "success_rate", "volume_usd", "avg_amount_usd", "distinct_customers"]
MT = ["int64", "int64", "float64", "float64", "float64", "int64"]
SCHEMA = {  # table -> (columns, types, sort_keys)
    "analytics/country_month": (["country_code", "month"] + M, ["string", "date"] + MT, ["country_code", "month"]),
    "analytics/country_sector_month": (["country_code", "sector", "month"] + M, ["string", "string", "date"] + MT,
                                       ["country_code", "sector", "month"]),
    "analytics/country_month_indicators": (["country_code", "month"] + M + ["inflation_pct", "policy_rate_pct",
                                                                              "gdp_usd_bn"],
                                           ["string", "date"] + MT + ["float64"] * 3, ["country_code", "month"]),
    "quality/rejects": (["file", "line", "reason", "raw_line"], ["string", "int64", "string", "string"],
                        ["file", "line"]),
    "quality/summary": (["metric", "count"], ["string", "int64"], []),
}
BYTES_COLS = {("quality/rejects", "raw_line")}  # stored as bytes+offsets sub-groups
DTYPES = {"int64": "<i8", "int32": "<i4", "float64": "<f8", "date": "<i4"}
GROUP_ATTRS = ["columns", "types", "nrows", "sort_keys", "tessera_version", "job", "inputs", "created"]
ROOT_ATTRS = ["tessera_version", "job", "created"]
ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")
MAX_SHOWN = 10


class Report:
    def __init__(self):
        self.errors = 0

    def fail(self, msg):
        self.errors += 1
        if self.errors <= 60:
            print("  MISMATCH " + msg)
        elif self.errors == 61:
            print("  ... (more mismatches not shown)")


def attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def check_layout(f, name, rep):
    """Group attributes, dataset types, lengths, filters and string widths."""
    cols, types, keys = SCHEMA[name]
    g = f[name]
    for a in GROUP_ATTRS:
        if a not in g.attrs:
            rep.fail(f"/{name}: group attribute '{a}' missing")
    if "columns" in g.attrs and _attr_strs(g.attrs["columns"]) != cols:
        rep.fail(f"/{name}: columns attribute {_attr_strs(g.attrs['columns'])} != {cols}")
    if "types" in g.attrs and _attr_strs(g.attrs["types"]) != types:
        rep.fail(f"/{name}: types attribute {_attr_strs(g.attrs['types'])} != {types}")
    if "sort_keys" in g.attrs and _attr_strs(g.attrs["sort_keys"]) != keys:
        rep.fail(f"/{name}: sort_keys attribute {_attr_strs(g.attrs['sort_keys'])} != {keys}")
    if "job" in g.attrs and attr_str(g.attrs["job"]) != "bank-analytics":
        rep.fail(f"/{name}: job attribute {attr_str(g.attrs['job'])!r} != 'bank-analytics'")
    if "created" in g.attrs and not ISO_UTC.match(attr_str(g.attrs["created"])):
        rep.fail(f"/{name}: created attribute {attr_str(g.attrs['created'])!r} is not ISO-8601 UTC")
    nrows = int(g.attrs["nrows"]) if "nrows" in g.attrs else None
    for c, t in zip(cols, types):
        if c not in g:
            rep.fail(f"/{name}: column '{c}' missing")
            continue
        where = f"/{name}/{c}"
        if (name, c) in BYTES_COLS:
            sg = g[c]
            if not isinstance(sg, h5py.Group) or "offsets" not in sg or "bytes" not in sg:
                rep.fail(f"{where}: expected a bytes+offsets sub-group with 'offsets' and 'bytes'")
                continue
            if attr_str(sg.attrs.get("encoding", b"")) != "bytes+offsets":
                rep.fail(f"{where}: sub-group attribute encoding != 'bytes+offsets'")
            off, nb = sg["offsets"], sg["bytes"]
            if off.dtype.str != "<i8" or nb.dtype.str not in ("|u1", "<u1"):
                rep.fail(f"{where}: offsets/bytes dtypes {off.dtype.str}/{nb.dtype.str} != <i8/|u1")
            o = off[()]
            if nrows is not None and len(o) != nrows + 1:
                rep.fail(f"{where}/offsets: length {len(o)} != nrows + 1 = {nrows + 1}")
            if len(o) == 0 or o[0] != 0 or np.any(np.diff(o) < 0) or o[-1] != nb.shape[0]:
                rep.fail(f"{where}/offsets: must start at 0, never decrease and end at len(bytes) = {nb.shape[0]}")
            continue
        d = g[c]
        if not isinstance(d, h5py.Dataset) or d.ndim != 1:
            rep.fail(f"{where}: not a 1-D dataset")
            continue
        if nrows is not None and d.shape[0] != nrows:
            rep.fail(f"{where}: length {d.shape[0]} != nrows {nrows}")
        if d.chunks is None or d.compression != "gzip" or not d.shuffle:
            rep.fail(f"{where}: must be chunked with shuffle + deflate (chunks={d.chunks}, "
                     f"compression={d.compression}, shuffle={d.shuffle})")
        if t == "string":
            if d.dtype.kind != "S":
                rep.fail(f"{where}: dtype {d.dtype} is not a fixed-length string")
            else:
                v = d[()]
                width = max([1] + [len(x) for x in v])
                if d.dtype.itemsize != width:
                    rep.fail(f"{where}: string width {d.dtype.itemsize} != longest value {width}")
        elif d.dtype.str != DTYPES[t]:
            rep.fail(f"{where}: dtype {d.dtype.str} != {DTYPES[t]} ({t})")
        if t == "date" and attr_str(d.attrs.get("units", b"")) != "days since 1970-01-01":
            rep.fail(f"{where}: attribute units != 'days since 1970-01-01'")


def values_equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            a, b = float(a), float(b)
        except (TypeError, ValueError):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def py(v):
    return v.item() if isinstance(v, np.generic) else v


def show_row(df, i, keys):
    return ", ".join(f"{k}={py(df[k].iat[i])!r}" for k in keys) if i < len(df) else "<no row>"


def compare_frames(name, got, exp, rep, label=("h5", "reference")):
    """Row by row, in order; reports the first MAX_SHOWN differing cells."""
    keys = SCHEMA[name][2] or [SCHEMA[name][0][0]]
    if len(got) != len(exp):
        rep.fail(f"/{name}: {len(got)} rows in {label[0]}, {len(exp)} in {label[1]}")
    shown = 0
    for i in range(min(len(got), len(exp))):
        for c in exp.columns:
            if c not in got.columns:
                continue
            a, b = py(got[c].iat[i]), py(exp[c].iat[i])
            if not values_equal(a, b):
                rep.fail(f"/{name} row {i} ({show_row(exp, i, keys)}) column {c}: "
                         f"{label[0]}={a!r} {label[1]}={b!r}")
                shown += 1
                break
        if shown >= MAX_SHOWN:
            print(f"  ... /{name}: stopping after {MAX_SHOWN} differing rows")
            break
    return shown


def check_counts(summary, rejects, manifest, rep):
    s = dict(zip(summary["metric"], (int(x) for x in summary["count"])))
    order = ["rows_read", "rows_clean", "rows_rejected", "malformed_row", "bad_date", "unknown_country",
             "bad_category", "missing_amount", "bad_amount", "duplicate"]
    if list(summary["metric"]) != order:
        rep.fail(f"/quality/summary: metrics {list(summary['metric'])} != {order}")
    if s.get("rows_read") != s.get("rows_clean", 0) + s.get("rows_rejected", 0):
        rep.fail(f"rows_read {s.get('rows_read')} != rows_clean {s.get('rows_clean')} + "
                 f"rows_rejected {s.get('rows_rejected')}")
    if s.get("rows_rejected") != len(rejects):
        rep.fail(f"rows_rejected {s.get('rows_rejected')} != /quality/rejects rows {len(rejects)}")
    per = rejects["reason"].value_counts().to_dict()
    for r in order[3:]:
        if s.get(r) != per.get(r, 0):
            rep.fail(f"summary {r}={s.get(r)} but /quality/rejects holds {per.get(r, 0)} such rows")
    if manifest is None:
        return
    for r, n in manifest.get("rejects", {}).items():
        if per.get(r, 0) != n:
            rep.fail(f"rejects with reason {r}: {per.get(r, 0)} in h5, {n} in manifest.json")
    for k in ("rows_rejected", "rows_clean"):
        if k in manifest and s.get(k) != manifest[k]:
            rep.fail(f"summary {k}={s.get(k)}, manifest.json {k}={manifest[k]}")
    if "files" in manifest:
        total = sum(x.get("rows", 0) for x in manifest["files"])
        if s.get("rows_read") != total:
            rep.fail(f"summary rows_read={s.get('rows_read')}, manifest.json files hold {total} rows")


def compare_to_reference(h5path, ref_dir, data_dir, use_manifest):
    rep = Report()
    print(f"compare {h5path} with reference {ref_dir}")
    with h5py.File(h5path, "r") as f:
        for a in ROOT_ATTRS:
            if a not in f.attrs:
                rep.fail(f"root attribute '{a}' missing")
        present = [n for n in SCHEMA if n in f]
        for n in SCHEMA:
            if n not in f:
                rep.fail(f"table /{n} missing")
        for n in present:
            check_layout(f, n, rep)
    got = {n: read_table(h5path, n, dates=False) for n in present}
    for n in present:
        exp = pd.read_pickle(os.path.join(ref_dir, n.replace("/", "__") + ".pkl"))
        compare_frames(n, got[n], exp, rep)
        print(f"  /{n}: {len(got[n])} rows checked")
    if "quality/summary" in got and "quality/rejects" in got:
        manifest = None
        if use_manifest:
            with open(os.path.join(data_dir, "manifest.json")) as fh:
                manifest = json.load(fh)
        check_counts(got["quality/summary"], got["quality/rejects"], manifest, rep)
    return rep


def compare_outputs(a, b):
    """Every column dataset of every table equal between two outputs (NaN == NaN, floats bit-for-bit)."""
    rep = Report()
    print(f"compare tables of {a} and {b}")
    for n in SCHEMA:
        try:
            ta, tb = read_table(a, n, dates=False), read_table(b, n, dates=False)
        except KeyError as e:
            rep.fail(f"/{n}: {e}")
            continue
        if list(ta.columns) != list(tb.columns):
            rep.fail(f"/{n}: columns {list(ta.columns)} != {list(tb.columns)}")
            continue
        if compare_frames(n, ta, tb, rep, label=(os.path.basename(a), os.path.basename(b))) == 0 \
                and len(ta) == len(tb):
            # bit-for-bit: money results must not depend on the number of ranks
            for c in ta.columns:
                if ta[c].dtype.kind == "f" and not np.array_equal(ta[c].values, tb[c].values, equal_nan=True):
                    rep.fail(f"/{n} column {c}: floats equal within 1e-9 but not bit-for-bit")
        print(f"  /{n}: {len(ta)} rows checked")
    return rep


def main(argv):
    if len(argv) == 3 and argv[0] == "--same":
        rep = compare_outputs(argv[1], argv[2])
    elif len(argv) in (3, 4) and (len(argv) == 3 or argv[3] == "--no-manifest"):
        rep = compare_to_reference(argv[0], argv[1], argv[2], use_manifest=len(argv) == 3)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if rep.errors:
        print(f"FAIL: {rep.errors} mismatch(es)")
        return 1
    print("OK: all tables match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
