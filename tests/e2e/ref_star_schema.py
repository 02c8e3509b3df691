#!/usr/bin/python3
"""Independent reference for the star-schema and top-customers jobs (docs/jobs/star-schema.md).

    ref_star_schema.py check DATA_DIR WAREHOUSE.h5 [TOP.h5 LIMIT]   compare the job outputs with the reference
    ref_star_schema.py same A.h5 B.h5                                 the two files hold identical tables

Shares no code with the C engine. Transaction cleaning (domain.md's rules) comes from reference.py (the
bank-analytics reference); everything after it (keys, orphans, FX, dates, ranking) is re-implemented here with
plain Python and exact integer cents. Integers and strings must match exactly, floats within 1e-9 relative.
Exit 0 when everything matches, 1 otherwise (each difference is printed).
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
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from h5table import _attr_strs, read_table  # noqa: E402
from reference import (COLUMNS, REASONS, check_row, parse_amount, parse_date, parse_int,  # noqa: E402
                       read_lines, split_fields)

EPOCH = dt.date(1970, 1, 1)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
ALL_REASONS = REASONS + ["orphan_customer", "orphan_account"]
TYPES = {
    "warehouse/dim_customers": ["int64", "int64", "string", "string", "string", "string", "date"],
    "warehouse/dim_accounts": ["int64", "int64", "int64", "string", "date", "string"],
    "warehouse/dim_dates": ["int32", "date", "int32", "int32", "int32", "int32", "int32", "bool", "string"],
    "warehouse/fact_transactions": ["int64", "int32", "int64", "int64", "string", "string", "string", "string",
                                    "string", "decimal(18,2)", "string", "float64"],
    "quality/rejects": ["string", "int64", "string", "string"],
    "quality/summary": ["string", "int64"],
    "analytics/top_customers": ["int64", "int64", "int64", "string", "string", "float64", "int64"],
}
SORT_KEYS = {"warehouse/dim_customers": ["customer_key"], "warehouse/dim_accounts": ["account_key"],
             "warehouse/dim_dates": ["date_key"], "warehouse/fact_transactions": ["txn_id"],
             "quality/rejects": ["file", "line"], "quality/summary": [], "analytics/top_customers": ["rank"]}


def read_csv(path):
    """Rows of a clean reference CSV as dicts of trimmed strings (spaces and tabs, as the engine trims)."""
    with open(path, newline="") as fh:
        return [{k.strip(" \t"): v.strip(" \t") for k, v in r.items()} for r in csv.DictReader(fh)]


def iso_days(s):
    return (dt.date.fromisoformat(s) - EPOCH).days


def dims(data):
    """dim_customers, dim_accounts (lists of tuples in key order) and the lookups the fact needs."""
    custs = sorted(read_csv(os.path.join(data, "customers.csv")), key=lambda r: int(r["customer_id"]))
    ckey = {int(r["customer_id"]): k for k, r in enumerate(custs, start=1)}
    dim_c = [(k, int(r["customer_id"]), r["name"], r["email"], r["segment"], r["country_code"],
              iso_days(r["opened_date"])) for k, r in enumerate(custs, start=1)]
    accts = sorted(read_csv(os.path.join(data, "accounts.csv")), key=lambda r: int(r["account_id"]))
    akey = {int(r["account_id"]): (k, int(r["customer_id"])) for k, r in enumerate(accts, start=1)}
    dim_a = [(k, int(r["account_id"]), ckey.get(int(r["customer_id"])), r["product"], iso_days(r["opened_date"]),
              r["currency"]) for k, r in enumerate(accts, start=1)]
    return dim_c, dim_a, ckey, akey


def fields_of(raw, layout):
    """The trimmed fields of a clean line, by column name."""
    f = split_fields(raw)
    return {c.decode(): f[i].strip(b" \t") for c, i in zip(COLUMNS, layout[1])}


def fact_row(raw, layout, ckey, akey, currency, fx):
    """(reason, None) for an orphan, else (None, fact tuple without its sort position)."""
    f = fields_of(raw, layout)
    cust, acct = parse_int(f["customer_id"]), parse_int(f["account_id"])
    if cust not in ckey:
        return "orphan_customer", None
    if acct not in akey or akey[acct][1] != cust:
        return "orphan_account", None
    days = parse_date(f["txn_date"])
    d = EPOCH + dt.timedelta(days=days)
    country = f["country_code"].upper().decode()
    cents = parse_amount(f["amount"])
    rate = fx.get((country, f"{d.year:04d}-{d.month:02d}"))
    usd = float(Fraction(cents, 100) / rate) if rate else float("nan")
    return None, (parse_int(f["txn_id"]), d.year * 10000 + d.month * 100 + d.day, ckey[cust], akey[acct][0],
                  country, f["txn_type"].lower().decode(), f["sector"].lower().decode(),
                  f["status"].lower().decode(), f["channel"].lower().decode(), cents, currency[country], usd, days)


def dim_dates(days):
    if not days:
        return []
    out = []
    for x in range(min(days), max(days) + 1):
        d = EPOCH + dt.timedelta(days=x)
        wd = d.isoweekday()
        out.append((d.year * 10000 + d.month * 100 + d.day, x, d.year, (d.month - 1) // 3 + 1, d.month, d.day, wd,
                    wd >= 6, MONTHS[d.month - 1]))
    return out


def warehouse(data):
    """Every expected table of star-schema, as {name: (columns, rows)}."""
    dim_c, dim_a, ckey, akey = dims(data)
    countries = read_csv(os.path.join(data, "countries.csv"))
    codes = {r["country_code"].encode() for r in countries}
    currency = {r["country_code"]: r["currency"] for r in countries}
    fx = {(r["country_code"], r["month"]): Fraction(r["usd_rate"])
          for r in read_csv(os.path.join(data, "fx_rates.csv"))}
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
            if reason is None:
                reason, row = fact_row(raw, layout, ckey, akey, currency, fx)
            if reason:
                rejects.append((name, no, reason, raw))
            else:
                fact.append(row + ((fi, no),))
    fact.sort(key=lambda r: (r[0], r[-1]))
    rejects.sort(key=lambda r: (r[0].encode(), r[1]))
    per = {r: 0 for r in ALL_REASONS}
    for r in rejects:
        per[r[2]] += 1
    summary = [("rows_read", rows_read), ("rows_clean", len(fact)), ("rows_rejected", len(rejects))] + \
        [(r, per[r]) for r in ALL_REASONS]
    return {
        "warehouse/dim_customers": (["customer_key", "customer_id", "name", "email", "segment", "country_code",
                                     "opened_date"], dim_c),
        "warehouse/dim_accounts": (["account_key", "account_id", "customer_key", "product", "opened_date",
                                    "currency"], dim_a),
        "warehouse/dim_dates": (["date_key", "date", "year", "quarter", "month", "day", "weekday", "is_weekend",
                                 "month_name"], dim_dates([r[12] for r in fact])),
        "warehouse/fact_transactions": (["txn_id", "date_key", "customer_key", "account_key", "country_code",
                                         "txn_type", "sector", "status", "channel", "amount", "currency",
                                         "amount_usd"], [r[:12] for r in fact]),
        "quality/rejects": (["file", "line", "reason", "raw_line"], rejects),
        "quality/summary": (["metric", "count"], summary),
    }, per


def top_customers(wh, limit):
    """analytics/top_customers from the reference warehouse: successful amount_usd summed per customer."""
    tot = {}
    for r in wh["warehouse/fact_transactions"][1]:
        if r[7] == "success":
            t = tot.setdefault(r[2], [0.0, 0])
            t[0] += r[11]
            t[1] += 1
    by_key = {r[0]: r for r in wh["warehouse/dim_customers"][1]}
    order = sorted(tot.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    rows = [(i, k, by_key[k][1], by_key[k][2], by_key[k][5], t[0], t[1]) for i, (k, t) in enumerate(order, 1)]
    return ["rank", "customer_key", "customer_id", "name", "country_code", "total_usd", "txn_count"], rows


class Report:
    def __init__(self):
        self.errors = 0

    def fail(self, msg):
        self.errors += 1
        if self.errors <= 30:
            print("  MISMATCH " + msg)


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def py(v):
    """numpy / pandas scalars -> plain Python (bool, int, float, str, bytes, None)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return v
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    try:
        import pandas as pd
        if v is pd.NA:
            return None
    except ImportError:
        pass
    return v


def h5_rows(path, name):
    df = read_table(path, "/" + name, decode=True, dates=False)
    cols = list(df.columns)
    return cols, [tuple(py(v) for v in row) for row in df.itertuples(index=False, name=None)]


def check_layout(path, name, rep):
    with h5py.File(path, "r") as f:
        g = f["/" + name]
        types, keys = _attr_strs(g.attrs["types"]), _attr_strs(g.attrs["sort_keys"])
    if types != TYPES[name]:
        rep.fail(f"{name}: types {types}, expected {TYPES[name]}")
    if keys != SORT_KEYS[name]:
        rep.fail(f"{name}: sort_keys {keys}, expected {SORT_KEYS[name]}")


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


def check(data, wh_path, top_path=None, limit=None):
    rep = Report()
    wh, _ = warehouse(data)
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
        compare(name, h5_rows(wh_path, name), exp, rep)
    if top_path:
        name = "analytics/top_customers"
        check_layout(top_path, name, rep)
        compare(name, h5_rows(top_path, name), top_customers(wh, limit), rep)
    s = dict(wh["quality/summary"][1])
    print(f"reference: {s['rows_read']} rows, {s['rows_clean']} fact rows, {s['rows_rejected']} rejects "
          f"(orphan_customer {s['orphan_customer']}, orphan_account {s['orphan_account']}), "
          f"{len(wh['warehouse/dim_dates'][1])} dates: {'OK' if rep.errors == 0 else f'{rep.errors} mismatches'}")
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
            compare(name, h5_rows(a, name), h5_rows(b, name), rep, (a, b))
    print(f"{a} vs {b}: {len(ta)} tables, {'identical' if rep.errors == 0 else f'{rep.errors} differences'}")
    return rep.errors == 0


def main(argv):
    if len(argv) in (4, 6) and argv[1] == "check":
        return 0 if check(argv[2], argv[3], *(argv[4:5] + [int(x) for x in argv[5:6]])) else 1
    if len(argv) == 4 and argv[1] == "same":
        return 0 if same(argv[2], argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
