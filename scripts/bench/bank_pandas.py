#!/usr/bin/python3
"""bank-analytics the way an analyst would write it in pandas: a benchmark peer of Tessera (scripts/bench/bank.sh).

    bank_pandas.py DATA_DIR OUT_DIR

Writes country_month.csv, country_sector_month.csv and rejects.csv to OUT_DIR and prints one JSON line with the
seconds taken and the totals bank.sh cross-checks. Cleaning follows shared/domain.md, vectorized with pandas'
string methods (line 1 of each file is taken as the header).
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import pandas as pd

COLS = ["txn_id", "txn_date", "country_code", "customer_id", "account_id", "txn_type", "sector", "amount",
        "currency", "status", "channel"]
FIELD = r'("(?:[^"]|"")*"|[^",][^,]*|)'  # quoted with "" escapes | unquoted (never starts with ") | empty
ROW_RE = "^" + ",".join([FIELD] * len(COLS)) + "$"
VALID = {"txn_type": ["loan", "disbursement", "repayment", "transfer", "fee", "grant"],
         "sector": ["agriculture", "education", "energy", "health", "housing", "infrastructure", "sme",
                    "technology", "transport", "water"],
         "status": ["success", "failed", "pending", "reversed"],
         "channel": ["agent", "atm", "branch", "mobile", "online"]}


def read_lines(data_dir):
    tdir = os.path.join(data_dir, "transactions")
    frames = []
    for name in sorted(f for f in os.listdir(tdir) if f.endswith((".csv", ".csv.gz"))):
        path = os.path.join(tdir, name)
        raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
        lines = raw.decode("latin-1").split("\n")  # latin-1: one char per byte, so lines keep their exact bytes
        if lines[-1] == "":
            lines.pop()
        s = pd.Series(lines[1:], dtype=object).str.removesuffix("\r")
        frames.append(pd.DataFrame({"file": name, "line": np.arange(2, len(lines) + 1), "raw": s}))
    return pd.concat(frames, ignore_index=True)


def is_int64(x):
    ok = x.str.fullmatch(r"[+-]?[0-9]+").fillna(False)
    long = ok & (x.str.len() >= 19)  # only these can overflow int64
    ok[long] = x[long].map(lambda v: -2**63 <= int(v) < 2**63)
    return ok


def parse_dates(x):
    norm = np.select(
        [x.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False),
         x.str.fullmatch(r"[0-9]{2}/[0-9]{2}/[0-9]{4}").fillna(False),
         x.str.fullmatch(r"[0-9]{4}/[0-9]{2}/[0-9]{2}").fillna(False),
         x.str.fullmatch(r"[0-9]{8}").fillna(False)],
        [x, x.str[6:10] + "-" + x.str[3:5] + "-" + x.str[0:2], x.str.replace("/", "-", regex=False),
         x.str[0:4] + "-" + x.str[4:6] + "-" + x.str[6:8]], default="")
    return pd.to_datetime(pd.Series(norm, index=x.index), format="%Y-%m-%d", errors="coerce")


def parse_cents(x):
    """int64 cents where the amount has the allowed form, else NaN."""
    m = x.str.extract(r"^([+-]?)([0-9]{1,16})(?:\.([0-9]{1,2}))?$")
    ok = m[1].notna()
    cents = pd.Series(np.nan, index=x.index)
    whole = m.loc[ok, 1].astype("int64")
    frac = m.loc[ok, 2].fillna("").str.ljust(2, "0").astype("int64")
    cents[ok] = np.where(m.loc[ok, 0] == "-", -1, 1) * (whole * 100 + frac)
    return cents


def clean(df, countries):
    # Fast path: most lines hold no quote and split on commas; the others go through the RFC 4180 regex.
    raw = df["raw"]
    quoted = raw.str.contains('"', regex=False)
    plain = ~quoted & (raw.str.count(",") == len(COLS) - 1)
    f = pd.DataFrame(index=df.index, columns=COLS, dtype=object)
    f.loc[plain] = raw[plain].str.split(",", expand=True).values
    if quoted.any():
        q = raw[quoted].str.extract(ROW_RE)
        for c in q.columns:  # unquote: strip the outer quotes, "" -> "
            w = q[c].str.startswith('"').fillna(False)
            q.loc[w, c] = q.loc[w, c].str[1:-1].str.replace('""', '"', regex=False)
        f.loc[quoted] = q.values
    well_formed = f["txn_id"].notna()
    for c in COLS:
        f[c] = f[c].str.strip(" \t")
    date = parse_dates(f["txn_date"])
    country = f["country_code"].str.upper()
    cents = parse_cents(f["amount"])
    bad_cat = ~f["txn_type"].str.lower().isin(VALID["txn_type"])
    for c in ("sector", "status", "channel"):
        bad_cat |= ~f[c].str.lower().isin(VALID[c])
    reason = pd.Series(np.select(
        [~well_formed | ~(is_int64(f["txn_id"]) & is_int64(f["customer_id"]) & is_int64(f["account_id"])),
         date.isna(), ~country.isin(countries), bad_cat, f["amount"] == "", ~(cents > 0)],
        ["malformed_row", "bad_date", "unknown_country", "bad_category", "missing_amount", "bad_amount"],
        default=""), index=df.index)
    ok = reason == ""
    reason[ok & df["raw"].duplicated()] = "duplicate"  # earlier copies are clean too: same bytes, same verdict
    df = df.assign(reason=reason)
    c = ok & (reason == "")
    rows = pd.DataFrame({"country_code": country[c], "sector": f.loc[c, "sector"].str.lower(),
                         "month": date[c].dt.to_period("M").dt.to_timestamp(),
                         "customer_id": f.loc[c, "customer_id"].astype("int64"),
                         "success": f.loc[c, "status"].str.lower() == "success",
                         "cents": cents[c].astype("int64")})
    return rows, df[df["reason"] != ""]


def aggregate(rows, fx, keys):
    rows = rows.assign(ok_cents=rows["cents"].where(rows["success"], 0))
    g = rows.groupby(keys).agg(txn_count=("success", "size"), success_count=("success", "sum"),
                               cents=("ok_cents", "sum"), distinct_customers=("customer_id", "nunique"))
    g = g.reset_index()
    g["ym"] = g["month"].dt.strftime("%Y-%m")
    g = g.merge(fx, how="left", left_on=["country_code", "ym"], right_on=["country_code", "month"],
                suffixes=("", "_fx"))
    g["success_rate"] = g["success_count"] / g["txn_count"]
    g["volume_usd"] = g["cents"] / 100 / g["usd_rate"]
    g["avg_amount_usd"] = g["volume_usd"] / g["success_count"].where(g["success_count"] > 0)
    return g[keys + ["txn_count", "success_count", "success_rate", "volume_usd", "avg_amount_usd",
                     "distinct_customers"]]


def main():
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    countries = set(pd.read_csv(os.path.join(data_dir, "countries.csv"), dtype=str)["country_code"])
    fx = pd.read_csv(os.path.join(data_dir, "fx_rates.csv"), dtype={"month": str})
    df = read_lines(data_dir)
    rows, rejects = clean(df, countries)
    cm = aggregate(rows, fx, ["country_code", "month"])
    csm = aggregate(rows, fx, ["country_code", "sector", "month"])
    os.makedirs(out_dir, exist_ok=True)
    cm.to_csv(os.path.join(out_dir, "country_month.csv"), index=False)
    csm.to_csv(os.path.join(out_dir, "country_sector_month.csv"), index=False)
    rejects[["file", "line", "reason", "raw"]].to_csv(os.path.join(out_dir, "rejects.csv"), index=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"system": "pandas", "threads": 1, "seconds": seconds, "rows_read": len(df),
                      "txn_count": int(cm["txn_count"].sum()), "success_count": int(cm["success_count"].sum()),
                      "volume_usd": float(cm["volume_usd"].sum()), "country_months": len(cm),
                      "rejects": {k: int(v) for k, v in rejects["reason"].value_counts().items()}}))


if __name__ == "__main__":
    main()
