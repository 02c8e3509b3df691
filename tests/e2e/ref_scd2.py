#!/usr/bin/python3
"""Independent reference for the scd2 job (docs/jobs/scd2.md), from the snapshot CSVs only.

  ref_scd2.py check OUT.h5 SNAP_DIR [SNAP_DIR ...] [--prev PREV.h5] [--mode new_record|invalidate]
              [--type1 COL,...]
      applies the snapshots in order (the first one is the initial load) with the given hard-delete mode
      (default new_record) and type-1 columns, compares every cell of OUT.h5's /warehouse/dim_customers_scd2 with
      the expected dimension, checks the SCD2 invariants and, with --prev, that the rows of the previous dimension
      survive (closed ones: only valid_to/is_current change; type-1 columns may be overwritten).
  ref_scd2.py same A.h5 B.h5
      the two dimensions are identical (every column, nulls included).
Prints one line per failure; exit status 1 when anything failed. scd_id is recomputed with hashlib as a dbt user
would: md5(customer_id || '|' || valid_from as YYYY-MM-DD).
"""
import datetime
import hashlib
import os
import sys

import h5py
import pandas as pd

GROUP = "/warehouse/dim_customers_scd2"
COLUMNS = ["customer_sk", "customer_id", "name", "email", "segment", "country_code", "opened_date", "scd_id",
           "valid_from", "valid_to", "is_current", "is_deleted"]
ATTRS = ["name", "email", "segment", "country_code", "opened_date"]
EPOCH = datetime.date(1970, 1, 1)


def days(iso):
    return (datetime.date.fromisoformat(iso) - EPOCH).days


def iso(d):
    return (EPOCH + datetime.timedelta(days=d)).isoformat()


def scd_id(cid, valid_from):
    return hashlib.md5(("%d|%s" % (cid, iso(valid_from))).encode()).hexdigest()


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
    return {int(r.customer_id): {"name": r.name, "email": r.email, "segment": r.segment,
                                 "country_code": r.country_code, "opened_date": days(r.opened_date)}
            for r in df.itertuples(index=False)}


def apply(dim, snap, date, mode="new_record", type1=()):
    """dim: list of row dicts. Returns the new list (docs/jobs/scd2.md, "Rules")."""
    tracked = [c for c in ATTRS if c not in type1]
    out, current = [], {}
    for r in dim:
        if r["is_current"]:
            current[r["customer_id"]] = r
        else:
            r = dict(r)
            if r["customer_id"] in snap:  # type-1 columns: every version takes the snapshot's value
                r.update({c: snap[r["customer_id"]][c] for c in type1})
            out.append(r)
    new = []  # (customer_id, attributes, is_deleted)
    for cid, r in current.items():
        r, s = dict(r), snap.get(cid)
        if s is not None:
            r.update({c: s[c] for c in type1})
            if not r["is_deleted"] and all(r[c] == s[c] for c in tracked):
                out.append(r)
                continue
            new.append((cid, s, 0))
        elif r["is_deleted"]:  # still deleted
            out.append(r)
            continue
        elif mode == "new_record":
            new.append((cid, {c: r[c] for c in ATTRS}, 1))
        r["valid_to"], r["is_current"] = date, 0
        out.append(r)
    new += [(cid, s, 0) for cid, s in snap.items() if cid not in current]
    sk = max([r["customer_sk"] for r in dim], default=0)
    for cid, attrs, deleted in sorted(new, key=lambda x: x[0]):
        sk += 1
        out.append(dict(customer_sk=sk, customer_id=cid, scd_id=scd_id(cid, date), valid_from=date,
                        valid_to=None, is_current=1, is_deleted=deleted, **attrs))
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
            v = [x.decode() for x in v] if v.dtype.kind == "S" else [int(x) for x in v]
            if c + ".valid" in g:
                v = [x if ok else None for x, ok in zip(v, g[c + ".valid"][()])]
            data[c] = v
        meta = {k: g.attrs[k] for k in ("sort_keys", "nrows")}
        meta["nullable"] = sorted(k[:-6] for k in g.keys() if k.endswith(".valid"))
    return [dict(zip(cols, t)) for t in zip(*[data[c] for c in cols])], meta


def tup(r):
    return tuple(r[c] for c in COLUMNS)


class Checker:
    def __init__(self):
        self.fails = 0

    def fail(self, msg):
        self.fails += 1
        if self.fails <= 20:
            print("FAIL", msg)

    def check(self, out_path, snaps, prev_path, mode, type1):
        dim = []
        for d in snaps:
            dim = apply(dim, load_snapshot(d), snapshot_date(d), mode, type1)
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
        if meta["nullable"] != ["valid_to"]:  # the schema never depends on the data
            self.fail("%s: nullable columns %s, expected ['valid_to']" % (out_path, meta["nullable"]))
        self.invariants(out_path, got, load_snapshot(snaps[-1]), mode)
        if prev_path:
            self.survivors(out_path, got, prev_path, type1)

    def invariants(self, path, rows, last_snap, mode):
        by_id = {}
        for r in rows:
            by_id.setdefault(r["customer_id"], []).append(r)
            if r["scd_id"] != scd_id(r["customer_id"], r["valid_from"]):
                self.fail("%s: customer %d: scd_id %s is not md5(id|valid_from)" % (path, r["customer_id"],
                                                                                      r["scd_id"]))
        sks = sorted(r["customer_sk"] for r in rows)
        if sks != list(range(1, len(rows) + 1)):
            self.fail("%s: customer_sk is not dense 1..%d" % (path, len(rows)))
        for cid, vs in by_id.items():
            cur = [v for v in vs if v["is_current"]]
            live = [v for v in cur if not v["is_deleted"]]
            if cid in last_snap and (len(cur) != 1 or len(live) != 1):
                self.fail("%s: live customer %d has %d current versions" % (path, cid, len(cur)))
            if cid not in last_snap and (live or len(cur) != (1 if mode == "new_record" else 0)):
                self.fail("%s: deleted customer %d has current versions %r" % (path, cid, cur))
            for v in vs:
                if (v["valid_to"] is None) != bool(v["is_current"]):
                    self.fail("%s: customer %d: valid_to %r with is_current %r" % (path, cid, v["valid_to"],
                                                                                   v["is_current"]))
                if v["valid_to"] is not None and v["valid_to"] <= v["valid_from"]:
                    self.fail("%s: customer %d: empty interval" % (path, cid))
            for a, b in zip(vs, vs[1:]):  # sorted by valid_from: intervals must not overlap
                if a["valid_to"] is None or a["valid_to"] > b["valid_from"]:
                    self.fail("%s: customer %d: overlapping versions" % (path, cid))
                if mode == "new_record" and a["valid_to"] != b["valid_from"]:
                    self.fail("%s: customer %d: a gap in the history (new_record keeps it continuous)" % (path, cid))
            if cid in last_snap and live and any(live[0][c] != last_snap[cid][c] for c in ATTRS):
                self.fail("%s: customer %d: current version differs from the snapshot" % (path, cid))

    def survivors(self, path, rows, prev_path, type1):
        prev, _ = read_dim(prev_path)
        by_sk = {r["customer_sk"]: r for r in rows}
        for p in prev:
            r = by_sk.get(p["customer_sk"])
            if r is None:
                self.fail("%s: version sk=%d of %s vanished" % (path, p["customer_sk"], prev_path))
                continue
            same = [c for c in COLUMNS if c not in type1]
            if not r["is_current"] and p["is_current"]:
                same = [c for c in same if c not in ("valid_to", "is_current")]
            if tuple(r[c] for c in same) != tuple(p[c] for c in same):
                self.fail("%s: version sk=%d changed: %r -> %r" % (path, p["customer_sk"], tup(p), tup(r)))


def main(argv):
    c = Checker()
    if len(argv) > 2 and argv[1] == "check":
        args, opts = [], {"--prev": None, "--mode": "new_record", "--type1": ""}
        it = iter(argv[2:])
        for a in it:
            if a in opts:
                opts[a] = next(it)
            else:
                args.append(a)
        c.check(args[0], args[1:], opts["--prev"], opts["--mode"], [x for x in opts["--type1"].split(",") if x])
    elif len(argv) == 4 and argv[1] == "same":
        a, _ = read_dim(argv[2])
        b, _ = read_dim(argv[3])
        if [tup(r) for r in a] != [tup(r) for r in b]:
            c.fail("%s and %s differ" % (argv[2], argv[3]))
    else:
        raise SystemExit(__doc__)
    return 1 if c.fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
