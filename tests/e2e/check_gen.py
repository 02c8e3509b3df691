#!/usr/bin/python3
"""Independent check of a tessera-gen output directory against domain.md.

Reads DIR/manifest.json and every file, re-applies the reader rules of domain.md on its own (RFC 4180 field
splitting, trimming, integer / date / amount rules, category lists, duplicates by exact bytes across all files
in file-name order), and asserts that the per-reason reject counts, the per-file row and byte counts, the
normalised-row counts and the reference tables agree with the manifest. Also checks the referential integrity
of the clean rows (customer / account exist, currency matches the country). Standard library only.

usage: check_gen.py DIR      (exit 0 when everything matches; prints the first failures otherwise)
"""
import datetime
import gzip
import json
import os
import re
import sys

COUNTRIES = {"ARG": "ARS", "BOL": "BOB", "BRA": "BRL", "CHL": "CLP", "COL": "COP", "CRI": "CRC", "ECU": "USD",
             "MEX": "MXN", "PER": "PEN", "URY": "UYU"}
TXN_TYPES = {"loan", "disbursement", "repayment", "transfer", "fee", "grant"}
SECTORS = {"agriculture", "education", "energy", "health", "housing", "infrastructure", "sme", "technology",
           "transport", "water"}
STATUSES = {"success", "failed", "pending", "reversed"}
CHANNELS = {"agent", "atm", "branch", "mobile", "online"}
HEADER = "txn_id,txn_date,country_code,customer_id,account_id,txn_type,sector,amount,currency,status,channel"
REASONS = ["malformed_row", "bad_date", "unknown_country", "bad_category", "missing_amount", "bad_amount",
           "duplicate"]
REFERENCE = ["countries.csv", "fx_rates.csv", "indicators.csv", "demographics.csv", "customers.csv", "accounts.csv"]

INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
AMOUNT_RE = re.compile(r"([+-]?)([0-9]{1,16})(?:\.([0-9]{1,2}))?", re.ASCII)
DATE_RES = [(re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII), (0, 1, 2)),
            (re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})", re.ASCII), (2, 1, 0)),
            (re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2})", re.ASCII), (0, 1, 2)),
            (re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII), (0, 1, 2))]
UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def split_fields(line):
    """RFC 4180 on one line: a field is quoted only when its first character is '"'. None when malformed."""
    if '"' not in line:
        return line.split(",")
    fields, i, n = [], 0, len(line)
    while True:
        if i < n and line[i] == '"':
            parts, j = [], i + 1
            while True:
                k = line.find('"', j)
                if k < 0:
                    return None  # quote never closed on this line
                parts.append(line[j:k])
                if k + 1 < n and line[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            fields.append("".join(parts))
            if i == n:
                return fields
            if line[i] != ",":
                return None  # text after the closing quote
            i += 1
        else:
            k = line.find(",", i)
            if k < 0:
                fields.append(line[i:])
                return fields
            fields.append(line[i:k])
            i = k + 1


def parse_int(s):
    if not INT_RE.fullmatch(s):
        return None
    v = int(s)
    return v if INT64_MIN <= v <= INT64_MAX else None


def parse_date(s):
    for rx, (yi, mi, di) in DATE_RES:
        m = rx.fullmatch(s)
        if m:
            g = m.groups()
            try:
                return datetime.date(int(g[yi]), int(g[mi]), int(g[di]))
            except ValueError:
                return None
    return None


def parse_amount_cents(s):
    m = AMOUNT_RE.fullmatch(s)
    if not m:
        return None
    sign, ip, fp = m.groups()
    cents = int(ip) * 100 + int((fp or "0").ljust(2, "0"))
    return -cents if sign == "-" else cents


def classify(raw):
    """(reason or None, parsed values) for one transaction line without its '\\n' (domain.md's order)."""
    line = raw[:-1] if raw.endswith("\r") else raw
    fields = split_fields(line)
    if fields is None or len(fields) != 11:
        return "malformed_row", None
    f = [x.strip(" \t") for x in fields]
    ids = [parse_int(f[0]), parse_int(f[3]), parse_int(f[4])]
    if None in ids:
        return "malformed_row", None
    date = parse_date(f[1])
    if date is None:
        return "bad_date", None
    country = f[2].translate(UPPER)
    if country not in COUNTRIES:
        return "unknown_country", None
    cats = [f[5].translate(LOWER), f[6].translate(LOWER), f[9].translate(LOWER), f[10].translate(LOWER)]
    if cats[0] not in TXN_TYPES or cats[1] not in SECTORS or cats[2] not in STATUSES or cats[3] not in CHANNELS:
        return "bad_category", None
    if f[7] == "":
        return "missing_amount", None
    cents = parse_amount_cents(f[7])
    if cents is None or cents <= 0:
        return "bad_amount", None
    return None, (ids, date, country, cats, cents, f[8], fields)


def canonical(v):
    ids, date, country, cats, cents, currency, _ = v
    return "%d,%s,%s,%d,%d,%s,%s,%d.%02d,%s,%s,%s" % (ids[0], date.isoformat(), country, ids[1], ids[2], cats[0],
                                                    cats[1], cents // 100, cents % 100, currency, cats[2], cats[3])


def normalized_kind(raw, v):
    """Which kind of non-canonical (but valid) form a kept row has, or None when canonical."""
    if raw == canonical(v):
        return None
    if raw.endswith("\r"):
        return "crlf"
    if '"' in raw:
        return "quoted_field"
    if any(x != x.strip(" \t") for x in v[6]):
        return "padding"
    if v[6][1] != v[1].isoformat():
        return "date_format"
    return "category_case"


def read_csv_simple(path):
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    check(text.endswith("\n") and "\r" not in text, "%s: lines must end in \\n only" % path)
    lines = text.split("\n")[:-1]
    header = lines[0].split(",")
    return header, [ln.split(",") for ln in lines[1:]]


def check_reference(d, man, n_rows):
    refs = {}
    for name in REFERENCE:
        header, rows = read_csv_simple(os.path.join(d, name))
        check(all(len(r) == len(header) for r in rows), "%s: ragged rows" % name)
        check(man["reference"].get(name) == len(rows),
              "%s: manifest says %s rows, file has %d" % (name, man["reference"].get(name), len(rows)))
        refs[name] = (header, rows)
    h, rows = refs["countries.csv"]
    check(h == ["country_code", "name", "currency", "region", "income_group"], "countries.csv header")
    check({r[0]: r[2] for r in rows} == COUNTRIES, "countries.csv codes/currencies")
    h, rows = refs["fx_rates.csv"]
    check(h == ["country_code", "month", "usd_rate"], "fx_rates.csv header")
    months = ["%04d-%02d" % (y, m) for y in range(2021, 2026) for m in range(1, 13)]
    check(sorted((r[0], r[1]) for r in rows) == sorted((c, m) for c in COUNTRIES for m in months),
          "fx_rates.csv must have one row per country and month 2021-01..2025-12")
    check(all(re.fullmatch(r"[0-9]+\.[0-9]{6}", r[2]) and float(r[2]) > 0 for r in rows), "fx usd_rate format")
    check(all(r[2] == "1.000000" for r in rows if r[0] == "ECU"), "ECU usd_rate must be 1.000000")
    h, rows = refs["indicators.csv"]
    have = {(r[0], r[1], r[2]) for r in rows}
    for ind in ("gdp_usd_bn", "inflation_pct", "policy_rate_pct", "unemployment_pct"):
        check(all((c, m, ind) in have for c in COUNTRIES for m in months), "indicators.csv lacks %s rows" % ind)
    h, rows = refs["customers.csv"]
    n_cust = max(100, n_rows // 20)
    check([int(r[0]) for r in rows] == list(range(1, n_cust + 1)), "customers.csv ids must be 1..%d" % n_cust)
    customers = {int(r[0]): r[4] for r in rows}
    h, rows = refs["accounts.csv"]
    check([int(r[0]) for r in rows] == list(range(1, len(rows) + 1)), "accounts.csv ids must be dense from 1")
    per_cust = {}
    for r in rows:
        per_cust[int(r[1])] = per_cust.get(int(r[1]), 0) + 1
    check(set(per_cust) == set(customers) and all(1 <= c <= 3 for c in per_cust.values()),
          "every customer needs 1..3 accounts")
    accounts = {int(r[0]): int(r[1]) for r in rows}
    return customers, accounts


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as fh:
        man = json.load(fh)
    customers, accounts = check_reference(d, man, man["rows"])

    tdir = os.path.join(d, "transactions")
    names = sorted("transactions/" + n for n in os.listdir(tdir))
    check(names == [f["name"] for f in man["files"]], "files on disk differ from the manifest's list")
    k = man["rows_per_file"]
    check(len(names) == max(1, -(-man["rows"] // k)), "file count must be ceil(rows / rows_per_file)")

    rejects = dict.fromkeys(REASONS, 0)
    normalized = {}
    seen = set()
    clean_ids = set()
    total = clean = success = 0
    for entry in man["files"]:
        path = os.path.join(d, entry["name"])
        check(os.path.getsize(path) == entry["bytes"], "%s: size differs from manifest" % entry["name"])
        data = open(path, "rb").read()
        if entry["name"].endswith(".gz"):
            data = gzip.decompress(data)
        text = data.decode("utf-8")
        check(text.endswith("\n"), "%s must end with a newline" % entry["name"])
        lines = text.split("\n")[:-1]
        check(lines[0] == HEADER, "%s: header" % entry["name"])
        check(len(lines) - 1 == entry["rows"], "%s: %d rows, manifest says %d" % (entry["name"], len(lines) - 1,
                                                                              entry["rows"]))
        for raw in lines[1:]:
            total += 1
            reason, v = classify(raw)
            if reason is None:
                if raw in seen:
                    reason = "duplicate"
                seen.add(raw)
            if reason:
                rejects[reason] += 1
                continue
            clean += 1
            ids, date, country, cats, cents, currency, _ = v
            kind = normalized_kind(raw, v)
            if kind:
                normalized[kind] = normalized.get(kind, 0) + 1
            success += cats[2] == "success"
            check(ids[0] not in clean_ids, "txn_id %d appears twice among clean rows" % ids[0])
            clean_ids.add(ids[0])
            check(datetime.date(2021, 1, 1) <= date <= datetime.date(2025, 12, 31), "date out of range: " + raw)
            check(customers.get(ids[1]) == country, "customer %d missing or of another country: %s" % (ids[1], raw))
            check(accounts.get(ids[2]) == ids[1], "account %d is not customer %d's: %s" % (ids[2], ids[1], raw))
            check(currency == COUNTRIES[country], "currency differs from the country's: " + raw)
            if len(failures) > 20:
                break

    check(total == man["rows"], "rows: %d read, manifest says %d" % (total, man["rows"]))
    for r in REASONS:
        check(rejects[r] == man["rejects"][r], "%s: checker %d, manifest %d" % (r, rejects[r], man["rejects"][r]))
    check(sum(rejects.values()) == man["rows_rejected"], "rows_rejected")
    check(clean == man["rows_clean"], "rows_clean: checker %d, manifest %d" % (clean, man["rows_clean"]))
    for kind, n in man["normalized"].items():
        check(normalized.get(kind, 0) == n, "normalized %s: checker %d, manifest %d" % (kind, normalized.get(kind, 0), n))
    check(sum(normalized.values()) == man["rows_normalized"], "rows_normalized")
    if clean > 10000:
        check(0.93 < success / clean < 0.97, "success share %.3f is not about 95 %%" % (success / clean))

    if failures:
        print("check_gen: %d failure(s) in %s" % (len(failures), d))
        for f in failures[:20]:
            print("  " + f)
        sys.exit(1)
    print("check_gen: OK %s: %d rows in %d files, %d clean, rejects %s, normalized %s" % (
        d, total, len(names), clean, json.dumps(rejects), json.dumps(normalized, sort_keys=True)))


if __name__ == "__main__":
    main()
