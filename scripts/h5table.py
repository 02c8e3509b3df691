#!/usr/bin/python3
"""Read Tessera HDF5 tables (docs/hdf5-layout.md) into pandas, without Tessera.

    h5table.py FILE.h5                     list the tables and their row counts
    h5table.py FILE.h5 /analytics/country_month [--head N] [--csv]

Importable:  from h5table import read_table, list_tables
Needs h5py + pandas (Debian: /usr/bin/python3).
"""
import argparse
import sys

import h5py
import numpy as np
import pandas as pd


def _attr_strs(v):
    """HDF5 string-array attributes come back as bytes, str or numpy arrays of either."""
    if isinstance(v, (bytes, str)):
        v = [v]
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(v).ravel()] if len(v) else []


def _column(g, name, decode, dates):
    obj = g[name]
    if isinstance(obj, h5py.Group):
        # bytes+offsets column: value i = bytes[offsets[i]:offsets[i+1]] (kept as Python bytes)
        off, buf = obj["offsets"][()], obj["bytes"][()].tobytes()
        return pd.Series([buf[off[i]:off[i + 1]] for i in range(len(off) - 1)], dtype=object)
    a = obj[()]
    if a.dtype.kind == "S":
        # fixed-length NUL-padded strings: h5py strips the trailing NULs; surrogateescape keeps any byte exact
        return pd.Series([x.decode("utf-8", "surrogateescape") for x in a] if decode else list(a), dtype=object)
    units = obj.attrs.get("units", b"")
    units = units.decode() if isinstance(units, bytes) else str(units)
    if dates and units.startswith("days since 1970-01-01"):
        return pd.Series(a.astype("int64").astype("datetime64[D]").astype("datetime64[ns]"))
    if dates and units.startswith("microseconds since 1970-01-01"):
        return pd.Series(a.astype("int64").astype("datetime64[us]").astype("datetime64[ns]"))
    return pd.Series(a)


def read_table(path, group, decode=True, dates=True):
    """One Tessera table as a DataFrame, columns in the order of the group's `columns` attribute.

    decode: fixed-length strings -> str (else bytes); dates: `date` columns -> datetime64 (else int32 days).
    Nullable columns (companion `<col>.valid`) get missing values where valid == 0."""
    with h5py.File(path, "r") as f:
        g = f[group]
        cols = _attr_strs(g.attrs["columns"])
        data = {}
        for c in cols:
            s = _column(g, c, decode, dates)
            if f"{c}.valid" in g:
                valid = g[f"{c}.valid"][()].astype(bool)
                s = s.astype(object).where(valid, None) if s.dtype == object else s.where(valid)
            data[c] = s
        return pd.DataFrame(data, columns=cols)


def list_tables(path):
    """[(group path, nrows)] for every group carrying a `columns` attribute."""
    out = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and "columns" in obj.attrs and "nrows" in obj.attrs:
                out.append(("/" + name, int(obj.attrs["nrows"])))
        f.visititems(visit)
    return out


def main():
    ap = argparse.ArgumentParser(description="Print a Tessera HDF5 table as a pandas DataFrame.")
    ap.add_argument("file")
    ap.add_argument("group", nargs="?")
    ap.add_argument("--head", type=int, default=None, help="print only the first N rows")
    ap.add_argument("--csv", action="store_true", help="write CSV to stdout instead of a pretty table")
    a = ap.parse_args()
    if a.group is None:
        for name, n in list_tables(a.file):
            print(f"{name}\t{n} rows")
        return 0
    df = read_table(a.file, a.group)
    if a.head is not None:
        df = df.head(a.head)
    if a.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", None if a.head else 60, "display.width", 200,
                               "display.max_columns", None):
            print(df)
    return 0


if __name__ == "__main__":
    sys.exit(main())
