#!/usr/bin/python3
"""Independent reference for the scd2 job (docs/jobs/scd2.md), from the snapshot CSVs only.

  ref_scd2.py check OUT.h5 SNAP_DIR [SNAP_DIR ...] [--prev PREV.h5]
      applies the snapshots in order (the first one is the initial load), compares every cell of OUT.h5's
      /warehouse/dim_customers_scd2 with the expected dimension, checks the SCD2 invariants and, with --prev,
      that the rows of the previous dimension survive byte for byte (closed ones: only valid_to/is_current change).
  ref_scd2.py same A.h5 B.h5
      the two dimensions are identical (every column, nulls included).
Prints one line per failure; exit status 1 when anything failed.
"""
import datetime
import os
import sys

import h5py
import numpy as np
import pandas as pd

GROUP = "/warehouse/dim_customers_scd2"
COLUMNS = ["customer_sk", "customer_id", "name", "email", "segment", "country_code", "opened_date", "row_hash",
           "valid_from", "valid_to", "is_current"]
TRACKED = ["name", "email", "segment", "country_code", "opened_date"]
EPOCH = datetime.date(1970, 1, 1)
M64 = (1 << 64) - 1


# --- Tessera's 128-bit hash (kernels/ts_hash.c), reimplemented --------------------------------------------
def _mix(a, b):
    r = a * b
    return (r & M64) ^ (r >> 64)


def _fin(x):
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & M64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & M64
    return x ^ (x >> 33)


def _hash_bytes(p, seed):
    k1, k2 = 0xA0761D6478BD642F, 0xE7037ED1A0B428DB
    n, i = len(p), 0
    h = seed ^ _mix(seed ^ k1, n ^ k2)
    while n >= 16:
        h = _mix(int.from_bytes(p[i:i + 8], "little") ^ k1 ^ h, int.from_bytes(p[i + 8:i + 16], "little") ^ k2)
        i, n = i + 16, n - 16
    if n >= 8:
        h = _mix(int.from_bytes(p[i:i + 8], "little") ^ k1 ^ h, k2 ^ n)
        i, n = i + 8, n - 8
    if n:
        h = _mix(int.from_bytes(p[i:i + n], "little") ^ k1 ^ h, k2 ^ (n << 3))
    return _fin(h)


def row_hash(attrs):
    """attrs: the tracked attributes as text (opened_date YYYY-MM-DD): 4-byte LE length + bytes each."""
    buf = b"".join(len(v.encode()).to_bytes(4, "little") + v.encode() for v in attrs)
    lo, hi = _hash_bytes(buf, 0x243F6A8885A308D3), _hash_bytes(buf, 0x13198A2E03707344)
    return "%016x%016x" % (hi, lo)


# --- expected dimension ----------------------------------------------------------------------------------
def days(iso):
    return (datetime.date.fromisoformat(iso) - EPOCH).days


def snapshot_date(d):
    p = os.path.join(d, "snapshot.txt")
    if not os.path.exists(p):
        return days("2026-01-01")
    for line in open(p):
        if line.startswith("snapshot_date="):
            return days(line.strip().split("=", 1)[1])
    raise SystemExit("%s: no snapshot_date" % p)


def load_snapshot(d):
    df = pd.read_csv(os.path.join(d, "customers.csv"), dtype=str, keep_default_na=False)
    snap = {}
    for r in df.itertuples(index=False):
        attrs = [getattr(r, c) for c in TRACKED]
        snap[int(r.customer_id)] = {"name": r.name, "email": r.email, "segment": r.segment,
                                    "country_code": r.country_code, "opened_date": days(r.opened_date),
                                    "row_hash": row_hash(attrs)}
    return snap


def apply(dim, snap, date):
    """dim: list of row dicts. Returns the new list (SCD2 semantics of docs/jobs/scd2.md)."""
    out, current = [], {}
    for r in dim:
        if r["is_current"]:
            current[r["customer_id"]] = r
        else:
            out.append(dict(r))
    new_ids = []
    for cid, r in current.items():
        s = snap.get(cid)
        if s is not None and s["row_hash"] == r["row_hash"]:
            out.append(dict(r))
            continue
        closed = dict(r)
        closed["valid_to"], closed["is_current"] = date, 0
        out.append(closed)
        if s is not None:
            new_ids.append(cid)
    new_ids += [cid for cid in snap if cid not in current]
    sk = max([r["customer_sk"] for r in dim], default=0)
    for cid in sorted(new_ids):
        sk += 1
        out.append(dict(customer_sk=sk, customer_id=cid, valid_from=date, valid_to=None, is_current=1,
                        **snap[cid]))
    out.sort(key=lambda r: (r["customer_id"], r["valid_from"]))
    return out


# --- reading Tessera's output -----------------------------------------------------------------------------
def read_dim(path):
    with h5py.File(path, "r") as f:
        g = f[GROUP]
        cols = [c.decode() if isinstance(c, bytes) else c for c in g.attrs["columns"]]
        if cols != COLUMNS:
            raise SystemExit("%s: columns %s, expected %s" % (path, cols, COLUMNS))
        data = {}
        for c in cols:
            v = g[c][()]
            if v.dtype.kind == "S":
                v = [x.decode() for x in v]
            else:
                v = [int(x) for x in v]
            if c + ".valid" in g:
                valid = g[c + ".valid"][()]
                v = [x if ok else None for x, ok in zip(v, valid)]
            data[c] = v
        meta = {k: g.attrs[k] for k in ("sort_keys", "nrows")}
    rows = [dict(zip(cols, t)) for t in zip(*[data[c] for c in cols])]
    return rows, meta


def tup(r):
    return tuple(r[c] for c in COLUMNS)


class Checker:
    def __init__(self):
        self.fails = 0

    def fail(self, msg):
        self.fails += 1
        if self.fails <= 20:
            print("FAIL", msg)

    def check(self, out_path, snaps, prev_path):
        dim = []
        for d in snaps:
            dim = apply(dim, load_snapshot(d), snapshot_date(d))
        got, meta = read_dim(out_path)
        if len(got) != len(dim):
            self.fail("%s: %d rows, expected %d" % (out_path, len(got), len(dim)))
        for i, (g, e) in enumerate(zip(got, dim)):
            for c in COLUMNS:
                if g[c] != e[c]:
                    self.fail("%s row %d (customer %s) column %s: %r, expected %r"
                              % (out_path, i, e["customer_id"], c, g[c], e[c]))
        keys = [k.decode() if isinstance(k, bytes) else k for k in meta["sort_keys"]]
        if keys != ["customer_id", "valid_from"]:
            self.fail("%s: sort_keys %s" % (out_path, keys))
        self.invariants(out_path, got, load_snapshot(snaps[-1]))
        if prev_path:
            self.survivors(out_path, got, prev_path)

    def invariants(self, path, rows, last_snap):
        by_id = {}
        for r in rows:
            by_id.setdefault(r["customer_id"], []).append(r)
        sks = sorted(r["customer_sk"] for r in rows)
        if sks != list(range(1, len(rows) + 1)):
            self.fail("%s: customer_sk is not dense 1..%d" % (path, len(rows)))
        for cid, vs in by_id.items():
            cur = [v for v in vs if v["is_current"]]
            if cid in last_snap and len(cur) != 1:
                self.fail("%s: live customer %d has %d current versions" % (path, cid, len(cur)))
            if cid not in last_snap and cur:
                self.fail("%s: deleted customer %d has a current version" % (path, cid))
            for v in vs:
                if (v["valid_to"] is None) != bool(v["is_current"]):
                    self.fail("%s: customer %d: valid_to %r with is_current %r" % (path, cid, v["valid_to"],
                                                                                   v["is_current"]))
                if v["valid_to"] is not None and v["valid_to"] <= v["valid_from"]:
                    self.fail("%s: customer %d: empty interval" % (path, cid))
            for a, b in zip(vs, vs[1:]):  # sorted by valid_from: intervals must not overlap
                if a["valid_to"] is None or a["valid_to"] > b["valid_from"]:
                    self.fail("%s: customer %d: overlapping versions" % (path, cid))
            if cid in last_snap and cur and cur[0]["row_hash"] != last_snap[cid]["row_hash"]:
                self.fail("%s: customer %d: current version differs from the snapshot" % (path, cid))

    def survivors(self, path, rows, prev_path):
        prev, _ = read_dim(prev_path)
        by_sk = {r["customer_sk"]: r for r in rows}
        for p in prev:
            r = by_sk.get(p["customer_sk"])
            if r is None:
                self.fail("%s: version sk=%d of %s vanished" % (path, p["customer_sk"], prev_path))
                continue
            same = COLUMNS if (r["is_current"] or not p["is_current"]) else COLUMNS[:-2]
            if tuple(r[c] for c in same) != tuple(p[c] for c in same):
                self.fail("%s: version sk=%d changed: %r -> %r" % (path, p["customer_sk"], tup(p), tup(r)))


def main(argv):
    c = Checker()
    if argv[1] == "check":
        args, prev = argv[2:], None
        if "--prev" in args:
            i = args.index("--prev")
            prev = args[i + 1]
            args = args[:i] + args[i + 2:]
        c.check(args[0], args[1:], prev)
    elif argv[1] == "same":
        a, _ = read_dim(argv[2])
        b, _ = read_dim(argv[3])
        if [tup(r) for r in a] != [tup(r) for r in b]:
            c.fail("%s and %s differ" % (argv[2], argv[3]))
    else:
        raise SystemExit(__doc__)
    return 1 if c.fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
