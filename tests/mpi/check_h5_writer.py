#!/usr/bin/python3
"""Verifies the file written by test_h5_writer (see the build/run comment there).

    /usr/bin/python3 tests/mpi/check_h5_writer.py OUT.h5 NRANKS

Recomputes every value from the global row index i with the same rules as test_h5_writer.c, and checks the
layout contract: attributes, dtypes, units, validity datasets, bytes+offsets groups, chunking and filters
(shuffle before deflate), and that no temporary or abandoned file is left next to OUT.h5."""
import os
import re
import sys

import h5py
import numpy as np

CATS = ["DE", "FR", "GB", "Schweiz", ""]
SHUFFLE, DEFLATE = 2, 1
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def rows_of(r, p, base, step):
    return 0 if p >= 3 and r == 2 else base + step * r


def total(p, base, step):
    return sum(rows_of(r, p, base, step) for r in range(p))


def name_of(i, n):
    return b"L" * 40 if i == n - 1 else f"n{i}".encode() + b"x" * ((7 * i) % 11)


def raw_of(i):
    return b"" if i % 5 == 4 else b"r\0" + str(i).encode() + b"\0" * (i % 3)


def strs(v):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(v).ravel()]


def check_dataset(g, name, n, dtype, where):
    d = g[name]
    check(d.shape == (n,), f"{where}/{name}: shape {d.shape}, want ({n},)")
    check(d.dtype == np.dtype(dtype), f"{where}/{name}: dtype {d.dtype}, want {dtype}")
    check(d.chunks is not None and 1 <= d.chunks[0] and (n == 0 or d.chunks[0] <= n),
          f"{where}/{name}: chunks {d.chunks} for {n} rows")
    if d.chunks:
        check(d.chunks[0] * d.dtype.itemsize <= max(1 << 20, d.dtype.itemsize),
              f"{where}/{name}: chunk of {d.chunks[0]} elements exceeds 1 MiB")
    plist = d.id.get_create_plist()
    filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
    check(filters == [SHUFFLE, DEFLATE], f"{where}/{name}: filters {filters}, want shuffle then deflate")
    if DEFLATE in filters:
        check(list(plist.get_filter(filters.index(DEFLATE))[2]) == [1], f"{where}/{name}: deflate level not 1")
    return d[()]


def check_table_attrs(f, path, cols, types, n, keys):
    g = f[path]
    a = g.attrs
    check(strs(a["columns"]) == cols, f"{path}: columns {strs(a['columns'])}")
    check(strs(a["types"]) == types, f"{path}: types {strs(a['types'])}")
    check(int(a["nrows"]) == n and a["nrows"].dtype == np.int64, f"{path}: nrows {a['nrows']!r}, want {n}")
    check(strs(a["sort_keys"]) == keys and a["sort_keys"].shape == (len(keys),), f"{path}: sort_keys {a['sort_keys']!r}")
    for k, want in [("tessera_version", "0.1.0-test"), ("job", "test-h5-writer"), ("inputs", "/data/in")]:
        check(strs(a[k]) == [want], f"{path}: {k} = {a[k]!r}")
    check(strs(a["created"]) == strs(f.attrs["created"]), f"{path}: created differs from the root's")
    return g


def check_main(f, p):
    n = total(p, 7, 5)
    i = np.arange(n, dtype=np.int64)
    path = "/analytics/everything"
    cols = ["flag", "qty", "big", "price", "day", "amount", "name", "note", "maybe", "raw", "cat"]
    types = ["bool", "int32", "int64", "float64", "date", "decimal(18,2)", "string", "string", "int64", "string",
             "string"]
    g = check_table_attrs(f, path, cols, types, n, ["day", "name"])

    want = {"flag": ("u1", (i % 3 == 0).astype("u1")), "qty": ("<i4", i * 7 - 50),
            "big": ("<i8", i * 1000000007 - 3), "price": ("<f8", i * 0.25 - 1.5), "day": ("<i4", 19000 + i),
            "amount": ("<i8", i * 101 - 5)}
    for c, (dt, vals) in want.items():
        got = check_dataset(g, c, n, dt, path)
        check(np.array_equal(got, vals), f"{path}/{c}: values differ: {got[:8]} vs {vals[:8]}")
        check(f"{c}.valid" not in g, f"{path}: {c} has no nulls but a {c}.valid")
    check(strs(g["day"].attrs["units"]) == ["days since 1970-01-01"], f"{path}/day: units {g['day'].attrs.get('units')!r}")
    check(int(g["amount"].attrs["scale"]) == 2, f"{path}/amount: scale {g['amount'].attrs.get('scale')!r}")

    names = [name_of(k, n) for k in range(n)]
    got = check_dataset(g, "name", n, "S40", path)  # 40 = the one long value on the last rank
    check(list(got) == names, f"{path}/name: values differ: {list(got)[:4]}")

    note_valid = (i % 4 != 1).astype("u1")
    width = max(len(f"note {k}") for k in range(n) if note_valid[k])
    got = check_dataset(g, "note", n, f"S{width}", path)
    check(list(got) == [f"note {k}".encode() if note_valid[k] else b"" for k in range(n)], f"{path}/note: values")
    check(np.array_equal(check_dataset(g, "note.valid", n, "u1", path), note_valid), f"{path}/note.valid")

    maybe_valid = ~((i >= n // 2) & (i % 3 == 0))
    got = check_dataset(g, "maybe", n, "<i8", path)
    check(np.array_equal(got, np.where(maybe_valid, -i, 0)), f"{path}/maybe: values (nulls must read 0): {got}")
    check(np.array_equal(check_dataset(g, "maybe.valid", n, "u1", path), maybe_valid.astype("u1")),
          f"{path}/maybe.valid")

    got = check_dataset(g, "cat", n, "S7", path)
    check(list(got) == [CATS[k % 5].encode() for k in range(n)], f"{path}/cat: values {list(got)[:6]}")

    check_bytes(g, "raw", [raw_of(k) for k in range(n)], path)


def check_bytes(g, name, values, path):
    sub = g[name]
    check(isinstance(sub, h5py.Group), f"{path}/{name}: not a group")
    check(strs(sub.attrs["encoding"]) == ["bytes+offsets"], f"{path}/{name}: encoding attribute")
    want_off = np.concatenate([[0], np.cumsum([len(v) for v in values], dtype=np.int64)]).astype(np.int64)
    off = check_dataset(sub, "offsets", len(values) + 1, "<i8", f"{path}/{name}")
    check(np.array_equal(off, want_off), f"{path}/{name}/offsets: {off[:8]} vs {want_off[:8]}")
    buf = check_dataset(sub, "bytes", int(want_off[-1]), "u1", f"{path}/{name}").tobytes()
    check(buf == b"".join(values), f"{path}/{name}/bytes: payload differs")


def check_big(f, p):
    n = total(p, 150000, 1001)
    i = np.arange(n, dtype=np.int64)
    path = "/big/numbers"
    g = check_table_attrs(f, path, ["v", "x", "b"], ["int64", "float64", "bool"], n, [])
    check(np.array_equal(check_dataset(g, "v", n, "<i8", path), (i * i) % 1000003), f"{path}/v: values")
    check(np.array_equal(check_dataset(g, "x", n, "<f8", path), i / 8.0), f"{path}/x: values")
    check(np.array_equal(check_dataset(g, "b", n, "u1", path), (i % 7 == 0).astype("u1")), f"{path}/b: values")
    check(g["v"].chunks == ((1 << 20) // 8,), f"{path}/v: chunks {g['v'].chunks}, want 1 MiB of int64")


def check_empty(f):
    path = "/analytics/rejects"
    g = check_table_attrs(f, path, ["line", "reason", "line_no"], ["string", "string", "int64"], 0, [])
    check_bytes(g, "line", [], path)
    check_dataset(g, "reason", 0, "S1", path)
    check_dataset(g, "line_no", 0, "<i8", path)


def main():
    path, p = sys.argv[1], int(sys.argv[2])
    with h5py.File(path, "r") as f:
        for k, want in [("tessera_version", "0.1.0-test"), ("job", "test-h5-writer")]:
            check(strs(f.attrs[k]) == [want], f"/: {k} = {f.attrs[k]!r}")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", strs(f.attrs["created"])[0]) is not None,
              f"/: created {f.attrs['created']!r} is not ISO-8601 UTC")
        check("bad" not in f and "ok" not in f, "groups of the abandoned file leaked into the output")
        check_main(f, p)
        check_big(f, p)
        check_empty(f)
    d, base = os.path.split(os.path.abspath(path))
    left = [e for e in os.listdir(d) if e.startswith(f".{base}.tmp-")]
    check(not left, f"temporaries left behind: {left}")
    check(not os.path.exists(path + ".abandoned.h5"), "the abandoned file exists")
    check(not [e for e in os.listdir(d) if e.startswith(f".{base}.abandoned.h5.tmp-")],
          "the abandoned file's temporary exists")
    for e in errors:
        print("FAIL:", e)
    print(f"check_h5_writer {path} ({p} ranks): {'FAILED' if errors else 'ok'}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
