#!/usr/bin/python3
"""Independent reference for the star-schema and top-customers jobs (docs/jobs/star-schema.md).

    ref_star_schema.py check DATA_DIR WAREHOUSE.h5 [--top TOP.h5 LIMIT] [--prev-data DIR[,DIR...]] [--scd2 DIM.h5]
        compare the job's outputs with the reference. --prev-data: the data directories of the earlier builds
        whose warehouses were chained through --in (oldest first): the key maps evolve through them. --scd2: the
        scd2 dimension the job was given (read here as an input, with h5py).
    ref_star_schema.py same A.h5 B.h5
        the two files hold identical tables

Shares no code with the C engine. Transaction cleaning (domain.md's rules) comes from reference.py (the
bank-analytics reference); everything after it (key maps, unknown members, flags, FX, dates, as-of versions,
ranking) is re-implemented here with plain Python and exact integer cents. Integers and strings must match
exactly, floats within 1e-9 relative. Which columns are nullable (have a `.valid` companion) is checked too: it
must never depend on the data. Exit 0 when everything matches, 1 otherwise (each difference is printed).
"""
import csv
import datetime as dt
import math
import os
import sys
from fractions import Fraction

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference import (COLUMNS, REASONS, check_row, parse_amount, parse_date, parse_int,  # noqa: E402
                       read_lines, split_fields)

EPOCH = dt.date(1970, 1, 1)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FLAGS = ["orphan_customer", "orphan_account", "account_customer_mismatch", "missing_fx_rate", "no_customer_version"]
U = "Unknown"
SCD2_COLS = ["customer_sk", "customer_id", "name", "email", "segment", "country_code", "opened_date", "scd_id",
             "valid_from", "valid_to", "is_current", "is_deleted"]
# table: (columns, types, sort_keys, nullable columns)
LAYOUT = {
    "warehouse/dim_customers": (["customer_key", "customer_id", "name", "email", "segment", "country_code",
                                 "opened_date"], ["int64", "int64", "string", "string", "string", "string", "date"],
                                ["customer_key"], ["opened_date"]),
    "warehouse/dim_accounts": (["account_key", "account_id", "customer_key", "product", "opened_date", "currency"],
                               ["int64", "int64", "int64", "string", "date", "string"], ["account_key"],
                               ["opened_date"]),
    "warehouse/dim_countries": (["country_key", "country_code", "name", "currency", "region", "income_group"],
                                ["int64", "string", "string", "string", "string", "string"], ["country_key"], []),
    "warehouse/dim_dates": (["date_key", "date", "year", "quarter", "month", "day", "weekday", "is_weekend",
                             "month_name"],
                            ["int32", "date", "int32", "int32", "int32", "int32", "int32", "bool", "string"],
                            ["date_key"], ["date", "year", "quarter", "month", "day", "weekday", "is_weekend"]),
    "warehouse/dim_customers_scd2": (SCD2_COLS, ["int64", "int64", "string", "string", "string", "string", "date",
                                                 "string", "date", "date", "bool", "bool"],
                                     ["customer_id", "valid_from"],
                                     ["opened_date", "valid_from", "valid_to", "is_current", "is_deleted"]),
    "warehouse/fact_transactions": (["txn_id", "date_key", "customer_key", "account_key", "country_key",
                                     "customer_sk", "country_code", "txn_type", "sector", "status", "channel",
                                     "amount", "currency", "amount_usd", "quality_flags"],
                                    ["int64", "int32", "int64", "int64", "int64", "int64", "string", "string",
                                     "string", "string", "string", "decimal(18,2)", "string", "float64", "int32"],
                                    ["txn_id"], ["amount_usd"]),
    "warehouse/customer_key_map": (["customer_id", "customer_key"], ["int64", "int64"], ["customer_key"], []),
    "warehouse/account_key_map": (["account_id", "account_key"], ["int64", "int64"], ["account_key"], []),
    "warehouse/country_key_map": (["country_code", "country_key"], ["string", "int64"], ["country_key"], []),
    "quality/rejects": (["file", "line", "reason", "raw_line"], ["string", "int64", "string", "string"],
                        ["file", "line"], []),
    "quality/summary": (["metric", "count"], ["string", "int64"], [], []),
    "analytics/top_customers": (["rank", "customer_key", "customer_id", "name", "country_code", "total_usd",
                                 "txn_count", "unconverted_count"],
                                ["int64", "int64", "int64", "string", "string", "float64", "int64", "int64"],
                                ["rank"], ["total_usd"]),
}


def read_csv(path):
    """Rows of a clean reference CSV as dicts of trimmed strings (spaces and tabs, as the engine trims)."""
    with open(path, newline="") as fh:
        return [{k.strip(" \t"): v.strip(" \t") for k, v in r.items()} for r in csv.DictReader(fh)]


def iso_days(s):
    return (dt.date.fromisoformat(s) - EPOCH).days


def assign(ids, prev):
    """Stable keys: prev's key for a known id, max + 1, + 2, ... for new ids in id order. Returns the new map."""
    m = dict(prev)
    top = max(m.values(), default=0)
    for i in sorted(x for x in set(ids) if x not in m):
        top += 1
        m[i] = top
    return m


def sources(data):
    custs = read_csv(os.path.join(data, "customers.csv"))
    accts = read_csv(os.path.join(data, "accounts.csv"))
    ctrys = read_csv(os.path.join(data, "countries.csv"))
    return custs, accts, ctrys


def key_maps(chain):
    """The customer, account and country key maps after building each data directory of chain in turn."""
    maps = [{}, {}, {}]
    for d in chain:
        custs, accts, ctrys = sources(d)
        maps = [assign([int(r["customer_id"]) for r in custs], maps[0]),
                assign([int(r["account_id"]) for r in accts], maps[1]),
                assign([r["country_code"] for r in ctrys], maps[2])]
    return maps


def read_h5(path, group):
    """(columns, rows) of a Tessera table read with h5py: strings decoded, NULL (valid = 0) as None."""
    with h5py.File(path, "r") as f:
        g = f[group]
        cols = [c.decode() if isinstance(c, bytes) else str(c) for c in g.attrs["columns"]]
        data = []
        for c in cols:
            obj = g[c]
            if isinstance(obj, h5py.Group):  # bytes+offsets
                off, buf = obj["offsets"][()], obj["bytes"][()].tobytes()
                vals = [buf[off[i]:off[i + 1]] for i in range(len(off) - 1)]
            else:
                a = obj[()]
                vals = [x.decode("utf-8", "surrogateescape") for x in a] if a.dtype.kind == "S" else a.tolist()
            if c + ".valid" in g:
                vals = [v if ok else None for v, ok in zip(vals, g[c + ".valid"][()])]
            data.append(vals)
    return cols, [tuple(r) for r in zip(*data)] if data else []


def version_on(versions, cust, days):
    """customer_sk of the version of cust valid on days: valid_from <= d < valid_to (open: no end), the
    earliest version also covering the days before it; -1 when none."""
    vs = versions.get(cust, [])
    for i, (sk, vf, vt) in enumerate(vs):
        if (i == 0 or vf <= days) and (vt is None or days < vt):
            return sk
    return -1


def warehouse(data, prev_data=(), scd2=None):
    """Every expected table of star-schema, as {name: (columns, rows)}."""
    cmap, amap, nmap = key_maps(list(prev_data) + [data])
    custs, accts, ctrys = sources(data)
    ckey = {int(r["customer_id"]): cmap[int(r["customer_id"])] for r in custs}  # current customers only
    akey = {int(r["account_id"]): (amap[int(r["account_id"])], int(r["customer_id"])) for r in accts}
    nkey = {r["country_code"]: nmap[r["country_code"]] for r in ctrys}
    dim_c = [(-1, -1, U, U, U, U, None)] + sorted(
        (ckey[int(r["customer_id"])], int(r["customer_id"]), r["name"], r["email"], r["segment"], r["country_code"],
         iso_days(r["opened_date"])) for r in custs)
    dim_a = [(-1, -1, -1, U, None, U)] + sorted(
        (akey[int(r["account_id"])][0], int(r["account_id"]), ckey.get(int(r["customer_id"]), -1), r["product"],
         iso_days(r["opened_date"]), r["currency"]) for r in accts)
    dim_n = [(-1, U, U, U, U, U)] + sorted(
        (nkey[r["country_code"]], r["country_code"], r["name"], r["currency"], r["region"], r["income_group"])
        for r in ctrys)
    codes = {r["country_code"].encode() for r in ctrys}
    currency = {r["country_code"]: r["currency"] for r in ctrys}
    fx = {(r["country_code"], r["month"]): Fraction(r["usd_rate"])
          for r in read_csv(os.path.join(data, "fx_rates.csv"))}
    versions, scd2_rows = {}, []
    if scd2:
        _, scd2_rows = read_h5(scd2, "/warehouse/dim_customers_scd2")
        scd2_rows.sort(key=lambda r: (r[1], r[8]))
        for r in scd2_rows:
            versions.setdefault(r[1], []).append((r[0], r[8], r[9]))
    tdir = os.path.join(data, "transactions")
    files = sorted((x for x in os.listdir(tdir) if x.endswith(".csv") or x.endswith(".csv.gz")),
                   key=lambda s: s.encode())
    seen, rejects, fact, rows_read = set(), [], [], 0
    for fi, name in enumerate(files):
        layout, rows = read_lines(os.path.join(tdir, name))
        for no, raw in rows:
            rows_read += 1
            reason, _ = check_row(raw, codes, layout)
            if reason is None and raw in seen:
                reason = "duplicate"
            seen.add(raw)
            if reason:
                rejects.append((name, no, reason, raw))
                continue
            f = split_fields(raw)
            f = {c.decode(): f[i].strip(b" \t") for c, i in zip(COLUMNS, layout[1])}
            cust, acct = parse_int(f["customer_id"]), parse_int(f["account_id"])
            days = parse_date(f["txn_date"])
            d = EPOCH + dt.timedelta(days=days)
            country = f["country_code"].upper().decode()
            cents = parse_amount(f["amount"])
            flags = 0
            ck = ckey.get(cust, -1)
            flags |= 1 if ck == -1 else 0
            ak, owner = akey.get(acct, (-1, None))
            flags |= 2 if ak == -1 else (4 if owner != cust else 0)
            rate = fx.get((country, f"{d.year:04d}-{d.month:02d}"))
            usd = float(Fraction(cents, 100) / rate) if rate else None
            flags |= 8 if usd is None else 0
            sk = version_on(versions, cust, days) if scd2 else -1
            flags |= 16 if scd2 and sk == -1 else 0
            fact.append((parse_int(f["txn_id"]), d.year * 10000 + d.month * 100 + d.day, ck, ak, nkey[country], sk,
                         country, f["txn_type"].lower().decode(), f["sector"].lower().decode(),
                         f["status"].lower().decode(), f["channel"].lower().decode(), cents, currency[country], usd,
                         flags, days, (fi, no)))
    fact.sort(key=lambda r: (r[0], r[-1]))
    rejects.sort(key=lambda r: (r[0].encode(), r[1]))
    per = {r: sum(1 for x in rejects if x[2] == r) for r in REASONS}
    flagged = {name: sum(1 for r in fact if r[14] >> b & 1) for b, name in enumerate(FLAGS)}
    summary = [("rows_read", rows_read), ("rows_clean", len(fact)), ("rows_rejected", len(rejects))] + \
        [(r, per[r]) for r in REASONS] + [(n, flagged[n]) for n in FLAGS]
    days = [r[15] for r in fact]
    dates = [(-1, None, None, None, None, None, None, None, U)]
    for x in range(min(days), max(days) + 1) if days else []:
        d = EPOCH + dt.timedelta(days=x)
        wd = d.isoweekday()
        dates.append((d.year * 10000 + d.month * 100 + d.day, x, d.year, (d.month - 1) // 3 + 1, d.month, d.day,
                      wd, int(wd >= 6), MONTHS[d.month - 1]))
    tables = {
        "warehouse/dim_customers": dim_c, "warehouse/dim_accounts": dim_a, "warehouse/dim_countries": dim_n,
        "warehouse/dim_dates": dates,
        "warehouse/dim_customers_scd2": [(-1, -1, U, U, U, U, None, U, None, None, None, None)] + scd2_rows,
        "warehouse/fact_transactions": [r[:15] for r in fact],
        "warehouse/customer_key_map": sorted(((i, k) for i, k in cmap.items()), key=lambda x: x[1]),
        "warehouse/account_key_map": sorted(((i, k) for i, k in amap.items()), key=lambda x: x[1]),
        "warehouse/country_key_map": sorted(((i, k) for i, k in nmap.items()), key=lambda x: x[1]),
        "quality/rejects": rejects, "quality/summary": summary,
    }
    return {name: (LAYOUT[name][0], rows) for name, rows in tables.items()}


def top_customers(wh, limit):
    """analytics/top_customers from the reference warehouse: successful amount_usd summed per customer, NULL
    amounts skipped and counted, NULL totals last, the unknown member not ranked."""
    per = {}
    for r in wh["warehouse/fact_transactions"][1]:
        if r[9] == "success" and r[2] != -1:
            per.setdefault(r[2], []).append(r[13])
    tot = {k: (math.fsum(v for v in vs if v is not None) if any(v is not None for v in vs) else None, len(vs),
               sum(v is None for v in vs)) for k, vs in per.items()}
    by_key = {r[0]: r for r in wh["warehouse/dim_customers"][1]}
    order = sorted(tot.items(), key=lambda kv: (kv[1][0] is None, -(kv[1][0] or 0.0), kv[0]))[:limit]
    rows = [(i, k, by_key[k][1], by_key[k][2], by_key[k][5], t[0], t[1], t[2]) for i, (k, t) in enumerate(order, 1)]
    return LAYOUT["analytics/top_customers"][0], rows


class Report:
    def __init__(self):
        self.errors = 0

    def fail(self, msg):
        self.errors += 1
        if self.errors <= 30:
            print("  MISMATCH " + msg)


def same_value(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def check_layout(path, name, rep):
    cols, types, keys, nullable = LAYOUT[name]
    with h5py.File(path, "r") as f:
        g = f["/" + name]
        got_types = [t.decode() if isinstance(t, bytes) else str(t) for t in g.attrs["types"]]
        got_keys = [t.decode() if isinstance(t, bytes) else str(t) for t in g.attrs["sort_keys"]]
        got_null = sorted(k[:-6] for k in g.keys() if k.endswith(".valid"))
    if got_types != types:
        rep.fail(f"{name}: types {got_types}, expected {types}")
    if got_keys != keys:
        rep.fail(f"{name}: sort_keys {got_keys}, expected {keys}")
    if got_null != sorted(nullable):
        rep.fail(f"{name}: nullable columns {got_null}, expected {sorted(nullable)} (the schema must not depend on "
                 "the data)")


def compare(name, got, exp, rep, labels=("h5", "reference")):
    gcols, grows = got
    ecols, erows = exp
    if gcols != ecols:
        rep.fail(f"{name}: columns {gcols}, {labels[1]} {ecols}")
        return
    if len(grows) != len(erows):
        rep.fail(f"{name}: {len(grows)} rows in {labels[0]}, {len(erows)} in {labels[1]}")
    for i, (g, e) in enumerate(zip(grows, erows)):
        bad = [c for c, a, b in zip(gcols, g, e) if not same_value(a, b)]
        if bad:
            rep.fail(f"{name} row {i}: {bad}: {labels[0]} {g} != {labels[1]} {e}")
            if rep.errors > 30:
                return


def check(data, wh_path, top=None, prev_data=(), scd2=None):
    rep = Report()
    wh = warehouse(data, prev_data, scd2)
    mpath = os.path.join(data, "manifest.json")
    if os.path.exists(mpath):  # the reference's own cleaning agrees with what the generator injected
        import json
        with open(mpath) as fh:
            manifest = json.load(fh)
        want = manifest.get("rejects", {})
        listed = {os.path.basename(x["name"]) for x in manifest.get("files", [])}
        for r in REASONS:  # files the test added are not the generator's: leave them out of this count
            n = sum(1 for x in wh["quality/rejects"][1] if x[2] == r and x[0] in listed)
            if n != want.get(r, 0):
                rep.fail(f"reference: {n} {r} rejects, manifest.json says {want.get(r, 0)}")
    for name, exp in wh.items():
        check_layout(wh_path, name, rep)
        compare(name, read_h5(wh_path, "/" + name), exp, rep)
    if top:
        name = "analytics/top_customers"
        check_layout(top[0], name, rep)
        compare(name, read_h5(top[0], "/" + name), top_customers(wh, int(top[1])), rep)
    s = dict(wh["quality/summary"][1])
    flags = ", ".join(f"{n} {s[n]}" for n in FLAGS)
    print(f"reference: {s['rows_read']} rows, {s['rows_clean']} fact rows, {s['rows_rejected']} rejects, flagged: "
          f"{flags}; {len(wh['warehouse/dim_dates'][1]) - 1} dates: "
          f"{'OK' if rep.errors == 0 else f'{rep.errors} mismatches'}")
    return rep.errors == 0


def tables_of(path):
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Group) and "columns" in o.attrs else None)
    return sorted(out)


def same(a, b):
    rep = Report()
    ta, tb = tables_of(a), tables_of(b)
    if ta != tb:
        rep.fail(f"tables {ta} != {tb}")
    for name in ta:
        if name in tb:
            compare(name, read_h5(a, "/" + name), read_h5(b, "/" + name), rep, (a, b))
    print(f"{a} vs {b}: {len(ta)} tables, {'identical' if rep.errors == 0 else f'{rep.errors} differences'}")
    return rep.errors == 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "check":
        data, wh, rest = argv[2], argv[3], argv[4:]
        top, prev, scd2 = None, (), None
        while rest:
            if rest[0] == "--top" and len(rest) >= 3:
                top, rest = (rest[1], rest[2]), rest[3:]
            elif rest[0] == "--prev-data" and len(rest) >= 2:
                prev, rest = [x for x in rest[1].split(",") if x], rest[2:]
            elif rest[0] == "--scd2" and len(rest) >= 2:
                scd2, rest = rest[1], rest[2:]
            else:
                print(__doc__, file=sys.stderr)
                return 2
        return 0 if check(data, wh, top, prev, scd2) else 1
    if len(argv) == 4 and argv[1] == "same":
        return 0 if same(argv[2], argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
