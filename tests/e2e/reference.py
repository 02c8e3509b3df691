#!/usr/bin/python3
"""Independent reference implementation of the bank-analytics job (shared/domain.md).

    reference.py DATA_DIR OUT_DIR

When DATA_DIR/manifest.json exists, the reject counts per reason must equal the manifest's (exit 1 otherwise).
Writes the expected tables to OUT_DIR as pickled DataFrames (<group path with '/' -> '__'>.pkl, e.g.
analytics__country_month.pkl) plus human-readable CSVs. Shares no code with the C engine: every parsing rule is
re-implemented here from the spec, on bytes, with exact integer cents.

Choices where domain.md is silent (the engine must match them):
- line 1 of a transaction file is its header when its (trimmed) field names include all 11 column names, in any
  order, extra columns allowed (ignored; rows must then have as many fields as the header). Otherwise line 1 is a
  data row in the canonical column order (so a garbage file loses nothing). A 0-byte file has no lines.
- lines are split on '\\n' only; a final segment after the last '\\n' is a line only if non-empty; a '\\r' right
  before the '\\n' (or at the very end of an unterminated last line) is dropped; an empty line is a row (1 field ->
  malformed_row).
- a quoted field starts with '"' as its very first byte; anything after its closing quote other than ',' or the end
  of the line (spaces included) makes the row malformed_row.
- duplicates compare the raw line (after '\\r' removal) across all files in file-name order.
- transaction files are the names ending in .csv or .csv.gz in DATA_DIR/transactions, sorted by byte order.
"""
import csv
import datetime as dt
import gzip
import json
import os
import re
import sys
import time
from fractions import Fraction

import pandas as pd

COLUMNS = [b"txn_id", b"txn_date", b"country_code", b"customer_id", b"account_id", b"txn_type", b"sector",
           b"amount", b"currency", b"status", b"channel"]
CANONICAL = (len(COLUMNS), list(range(len(COLUMNS))))  # (fields a row has, position of each column)
TXN_TYPES = {b"loan", b"disbursement", b"repayment", b"transfer", b"fee", b"grant"}
SECTORS = {b"agriculture", b"education", b"energy", b"health", b"housing", b"infrastructure", b"sme",
           b"technology", b"transport", b"water"}
STATUSES = {b"success", b"failed", b"pending", b"reversed"}
CHANNELS = {b"agent", b"atm", b"branch", b"mobile", b"online"}
REASONS = ["malformed_row", "bad_date", "unknown_country", "bad_category", "missing_amount", "bad_amount",
           "duplicate"]
MEASURES = ["txn_count", "success_count", "success_rate", "volume_usd", "avg_amount_usd", "distinct_customers"]

INT_RE = re.compile(rb"[+-]?[0-9]+")
AMOUNT_RE = re.compile(rb"([+-]?)([0-9]{1,16})(?:\.([0-9]{1,2}))?")
DATE_FORMS = [(re.compile(rb"([0-9]{4})-([0-9]{2})-([0-9]{2})"), (0, 1, 2)),   # YYYY-MM-DD -> y, m, d
              (re.compile(rb"([0-9]{2})/([0-9]{2})/([0-9]{4})"), (2, 1, 0)),   # DD/MM/YYYY
              (re.compile(rb"([0-9]{4})/([0-9]{2})/([0-9]{2})"), (0, 1, 2)),   # YYYY/MM/DD
              (re.compile(rb"([0-9]{4})([0-9]{2})([0-9]{2})"), (0, 1, 2))]     # YYYYMMDD
EPOCH = dt.date(1970, 1, 1)
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def split_fields(line):
    """RFC 4180 split of one line; None when a quoted field is unterminated or followed by text."""
    if b'"' not in line:
        return line.split(b",")
    fields, i, n = [], 0, len(line)
    while True:
        if i < n and line[i] == 0x22:  # quoted field: "" is an escaped quote
            buf, i = bytearray(), i + 1
            while True:
                j = line.find(b'"', i)
                if j < 0:
                    return None  # runs past the end of the line
                buf += line[i:j]
                if j + 1 < n and line[j + 1] == 0x22:
                    buf += b'"'
                    i = j + 2
                else:
                    i = j + 1
                    break
            fields.append(bytes(buf))
            if i == n:
                return fields
            if line[i] != 0x2C:
                return None  # text after the closing quote
            i += 1
        else:  # unquoted: a quote in here is an ordinary byte
            j = line.find(b",", i)
            if j < 0:
                fields.append(line[i:])
                return fields
            fields.append(line[i:j])
            i = j + 1


def parse_int(f):
    if not INT_RE.fullmatch(f):
        return None
    v = int(f)
    return v if INT64_MIN <= v <= INT64_MAX else None


def parse_date(f):
    """days since 1970-01-01, or None."""
    for rx, (yi, mi, di) in DATE_FORMS:
        m = rx.fullmatch(f)
        if m:
            g = m.groups()
            try:
                return (dt.date(int(g[yi]), int(g[mi]), int(g[di])) - EPOCH).days
            except ValueError:  # not a real calendar date (also year 0000)
                return None
    return None


def parse_amount(f):
    """cents (> 0) or None."""
    m = AMOUNT_RE.fullmatch(f)
    if not m:
        return None
    sign, whole, frac = m.groups()
    cents = int(whole) * 100 + int((frac or b"").ljust(2, b"0"))
    if sign == b"-":
        cents = -cents
    return cents if cents > 0 else None


def month_start(days):
    d = EPOCH + dt.timedelta(days=days)
    return (dt.date(d.year, d.month, 1) - EPOCH).days


def header_layout(line):
    """(nfields, positions of COLUMNS) when line names all the columns, else None."""
    fields = split_fields(line)
    if fields is None:
        return None
    names = [x.strip(b" \t") for x in fields]
    if not set(COLUMNS) <= set(names):
        return None
    return len(names), [names.index(c) for c in COLUMNS]


def check_row(raw, countries, layout=CANONICAL):
    """(reason, None) or (None, (country, month_days, sector, customer_id, cents, is_success))."""
    fields = split_fields(raw)
    if fields is None or len(fields) != layout[0]:
        return "malformed_row", None
    f = [fields[i].strip(b" \t") for i in layout[1]]
    txn_id, date_s, country, cust, acct, ttype, sector, amount, _cur, status, channel = f
    if parse_int(txn_id) is None or parse_int(acct) is None:
        return "malformed_row", None
    cust_id = parse_int(cust)
    if cust_id is None:
        return "malformed_row", None
    days = parse_date(date_s)
    if days is None:
        return "bad_date", None
    country = country.upper()  # bytes.upper/lower are ASCII-only, as the spec requires
    if country not in countries:
        return "unknown_country", None
    sector, status = sector.lower(), status.lower()
    if ttype.lower() not in TXN_TYPES or sector not in SECTORS or status not in STATUSES \
            or channel.lower() not in CHANNELS:
        return "bad_category", None
    if amount == b"":
        return "missing_amount", None
    cents = parse_amount(amount)
    if cents is None:
        return "bad_amount", None
    return None, (country.decode(), month_start(days), sector.decode(), cust_id, cents, status == b"success")


def read_lines(path):
    """(layout, [(line number, raw bytes)]) of the data rows of one file."""
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as fh:
        data = fh.read()
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the terminating newline does not start another line (and a 0-byte file has none)
    rows = [(no, line[:-1] if line.endswith(b"\r") else line) for no, line in enumerate(lines, start=1)]
    layout = header_layout(rows[0][1]) if rows else None
    return (layout, rows[1:]) if layout else (CANONICAL, rows)


def load_ref(data_dir):
    with open(os.path.join(data_dir, "countries.csv"), newline="") as fh:
        countries = {r["country_code"].strip().encode() for r in csv.DictReader(fh)}
    fx = {}
    with open(os.path.join(data_dir, "fx_rates.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            fx[(r["country_code"].strip(), r["month"].strip())] = Fraction(r["usd_rate"].strip())
    return countries, fx


INDICATORS = ["inflation_pct", "policy_rate_pct", "gdp_usd_bn"]


def load_indicators(data_dir):
    """(country, first day of month) -> {indicator: value} from indicators.csv's long format (absent file: {})."""
    path = os.path.join(data_dir, "indicators.csv")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            y, m = r["month"].strip().split("-")
            out.setdefault((r["country_code"].strip(), dt.date(int(y), int(m), 1)), {})[r["indicator"].strip()] = \
                float(r["value"])
    return out


def measures(acc, rate):
    """acc = [txn_count, success_count, success_cents, customer set]; one division by the rate per group."""
    n, s, cents, custs = acc
    vol = float(Fraction(cents, 100) / rate) if rate else float("nan")
    return [n, s, s / n, vol, vol / s if s else float("nan"), len(custs)]


def run(data_dir):
    tdir = os.path.join(data_dir, "transactions")
    files = sorted((x for x in os.listdir(tdir) if x.endswith(".csv") or x.endswith(".csv.gz")),
                   key=lambda s: s.encode())
    countries, fx = load_ref(data_dir)
    seen = set()
    rejects = []  # (file, line, reason, raw)
    cm, csm = {}, {}
    rows_read = 0
    for name in files:
        layout, rows = read_lines(os.path.join(tdir, name))
        for no, raw in rows:
            rows_read += 1
            reason, row = check_row(raw, countries, layout)
            if reason is None and raw in seen:
                reason = "duplicate"
            seen.add(raw)  # identical bytes always get the same verdict, so only the first copy matters
            if reason:
                rejects.append((name, no, reason, raw))
                continue
            country, month, sector, cust, cents, ok = row
            for acc in (cm.setdefault((country, month), [0, 0, 0, set()]),
                        csm.setdefault((country, sector, month), [0, 0, 0, set()])):
                acc[0] += 1
                acc[3].add(cust)
                if ok:
                    acc[1] += 1
                    acc[2] += cents

    def fx_rate(country, month):
        d = EPOCH + dt.timedelta(days=month)
        return fx.get((country, f"{d.year:04d}-{d.month:02d}"))

    t_cm = pd.DataFrame([[c, m] + measures(a, fx_rate(c, m)) for (c, m), a in sorted(cm.items())],
                        columns=["country_code", "month"] + MEASURES)
    t_csm = pd.DataFrame([[c, s, m] + measures(a, fx_rate(c, m)) for (c, s, m), a in sorted(csm.items())],
                         columns=["country_code", "sector", "month"] + MEASURES)
    for t in (t_cm, t_csm):
        t["month"] = t["month"].astype("int32")
        for col in ("txn_count", "success_count", "distinct_customers"):
            t[col] = t[col].astype("int64")
        for col in ("success_rate", "volume_usd", "avg_amount_usd"):
            t[col] = t[col].astype("float64")
    rejects.sort(key=lambda r: (r[0].encode(), r[1]))
    t_rej = pd.DataFrame(rejects, columns=["file", "line", "reason", "raw_line"])
    t_rej["line"] = t_rej["line"].astype("int64")
    per_reason = {r: 0 for r in REASONS}
    for r in rejects:
        per_reason[r[2]] += 1
    clean = sum(a[0] for a in cm.values())
    summary = [("rows_read", rows_read), ("rows_clean", clean), ("rows_rejected", len(rejects))] + \
        [(r, per_reason[r]) for r in REASONS]
    t_sum = pd.DataFrame(summary, columns=["metric", "count"]).astype({"count": "int64"})
    t_ind = t_cm.copy()  # issue 3's enrichment: left join with the month's indicators (NaN = NULL)
    ind = load_indicators(data_dir)
    for name in INDICATORS:
        t_ind[name] = [ind.get((c, EPOCH + dt.timedelta(days=int(m))), {}).get(name, float("nan"))
                       for c, m in zip(t_cm["country_code"], t_cm["month"])]
        t_ind[name] = t_ind[name].astype("float64")
    return {"analytics/country_month": t_cm, "analytics/country_sector_month": t_csm,
            "analytics/country_month_indicators": t_ind, "quality/rejects": t_rej, "quality/summary": t_sum}


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    tables = run(data_dir)
    os.makedirs(out_dir, exist_ok=True)
    for name, df in tables.items():
        base = os.path.join(out_dir, name.replace("/", "__"))
        df.to_pickle(base + ".pkl")
        if name != "quality/rejects":
            df.to_csv(base + ".csv", index=False)
        else:  # raw bytes shown escaped for humans; the pickle keeps them exact
            df.assign(raw_line=df["raw_line"].map(lambda b: b.decode("latin-1").encode("unicode_escape")
                                                 .decode())).to_csv(base + ".csv", index=False)
    s = dict(zip(tables["quality/summary"]["metric"], tables["quality/summary"]["count"]))
    print(f"reference: {s['rows_read']} rows read, {s['rows_clean']} clean, {s['rows_rejected']} rejected, "
          f"{len(tables['analytics/country_month'])} country-months, {time.perf_counter() - t0:.2f} s -> {out_dir}")
    mpath = os.path.join(data_dir, "manifest.json")
    if os.path.exists(mpath):
        with open(mpath) as fh:
            want = json.load(fh).get("rejects", {})
        bad = {r: (s.get(r), n) for r, n in want.items() if s.get(r) != n}
        if bad:
            print(f"reference disagrees with manifest.json (reason: (reference, manifest)): {bad}", file=sys.stderr)
            return 1
        print("reference: reject counts per reason equal manifest.json's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
