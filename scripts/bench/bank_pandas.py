#!/usr/bin/python3
"""bank-analytics the way a competent analyst would write it in pandas: a benchmark peer of Tessera (bank.sh).

    bank_pandas.py DATA_DIR OUT_DIR

Writes country_month.csv, country_sector_month.csv and rejects.csv to OUT_DIR and prints one JSON line with the
seconds taken and the totals bank.sh cross-checks. Cleaning follows shared/domain.md exactly (line 1 of each file
is the header). The usual pandas idioms keep the per-row Python work small:
  * each file is split into lines once (exact bytes via latin-1, "\\r\\n" -> "\\n"); per-line comma and quote counts
    come from numpy on the bytes;
  * fast path: lines without quotes and with exactly 10 commas (>99 % of them) are parsed by pandas' C CSV reader,
    low-cardinality columns (dates, codes, categories) straight into categoricals and customer/account ids
    factorized, so trimming, case-folding and validation run once per distinct value, not once per row;
  * slow path: lines holding a quote go through an RFC 4180 regex (a few per mille); other lines are malformed;
  * money is int64 cents; groupby on integer keys.
"""
import datetime
import gzip
import io
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
REASONS = ["", "malformed_row", "bad_date", "unknown_country", "bad_category", "missing_amount", "bad_amount",
           "duplicate"]
WS = " \t"
INT_RE = r"[ \t]*[+-]?[0-9]+[ \t]*"
AMOUNT_RE = r"[ \t]*[+-]?[0-9]{1,16}(?:\.[0-9]{1,2})?[ \t]*"
# categoricals are worth it where values repeat; txn_id and amount are (nearly) unique per row
DTYPES = {c: "category" for c in COLS}
DTYPES.update(txn_id=str, amount=str, customer_id=str, account_id=str)  # ids: factorized (hash) instead of sorted
USE = [c for c in COLS if c != "currency"]  # the spec checks no rule on currency


def read_file(path):
    """(bytes of the file with "\r\n" -> "\n", offsets of its line ends, mask of data lines for the fast path)."""
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n")  # an optional \r before the \n is dropped
    if raw and not raw.endswith(b"\n"):
        raw += b"\n"
    b = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(b == 10)
    per_line = lambda hit: np.bincount(np.searchsorted(ends, np.flatnonzero(hit)), minlength=len(ends))[1:]
    # fast path: no quote, 10 commas, ASCII only (so str.isdigit means [0-9]+) and no NUL (which the C reader
    # would not pass through unchanged)
    plain = (per_line((b == ord('"')) | (b >= 128) | (b == 0)) == 0) & (per_line(b == ord(",")) == len(COLS) - 1)
    return raw, ends, plain


def get_lines(raw, ends, idx):
    """data lines idx (0-based, header excluded) as str, byte for byte (latin-1)."""
    starts = np.concatenate([[0], ends[:-1] + 1])[1:]
    return [raw[a:z].decode("latin-1") for a, z in zip(starts[idx], ends[1:][idx])]


def per_value(s, func):
    """func applied to the distinct values of s (a Series of str), broadcast back to the rows."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniq = s.cat.codes.to_numpy(), s.cat.categories.astype(object)
    else:
        codes, uniq = pd.factorize(s)
    return np.asarray(func(pd.Series(np.asarray(uniq, dtype=object))))[codes]


def is_int64(x, ascii_only=False):
    """x: Series of untrimmed str. True where it is a trimmed int64."""
    ok = x.str.isdigit().to_numpy(dtype=bool) if ascii_only else np.zeros(len(x), bool)
    ok[~ok] = x[~ok].str.fullmatch(INT_RE).to_numpy(dtype=bool)
    big = np.zeros(len(x), bool)  # only values of 19+ digits can overflow int64: prefilter in float64
    big[ok] = ~(np.abs(pd.to_numeric(x[ok], errors="coerce").to_numpy(dtype=np.float64)) < 9e17)  # NaN: big
    long = ok & big
    ok[long] = [-2**63 <= int(v) < 2**63 for v in x[long]]
    return ok


def to_int(x):
    """trimmed ints of the valid values (0 elsewhere)."""
    ok = is_int64(x)
    out = np.zeros(len(x), np.int64)
    out[ok] = x[ok].str.strip(WS).astype(np.int64)
    return out


def month_index(x):
    """x: distinct date strings. year*12 + month-1 for real calendar dates in an accepted format, else -1."""
    x = x.str.strip(WS)
    ymd = pd.DataFrame(index=x.index, columns=["y", "m", "d"], dtype=object)
    for pattern in (r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})", r"(?P<d>[0-9]{2})/(?P<m>[0-9]{2})/(?P<y>[0-9]{4})",
                    r"(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})", r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"):
        e = x.str.extract("^" + pattern + "$")
        hit = e["y"].notna() & ymd["y"].isna()
        ymd.loc[hit] = e.loc[hit, ["y", "m", "d"]].values
    def real(y, m, d):  # a real calendar date (datetime.date: years 1..9999)
        try:
            datetime.date(int(y), int(m), int(d))
            return int(y) * 12 + int(m) - 1
        except (TypeError, ValueError):
            return -1
    return np.array([real(*r) for r in ymd.itertuples(index=False)], np.int64)


def parse_cents(a):
    """a: amount strings (untrimmed). (cents, ok, empty); cents only meaningful where ok."""
    ok = a.str.fullmatch(AMOUNT_RE).to_numpy(dtype=bool)
    v = pd.to_numeric(a[ok]).to_numpy(dtype=np.float64)
    c = np.rint(v * 100).astype(np.int64)
    big = np.flatnonzero(np.abs(v) >= 1e13)  # float64 cents are exact below this; above it, integer arithmetic
    for i, s in zip(big, a[ok].iloc[big].str.strip(WS)):
        whole, _, frac = s.partition(".")
        c[i] = int(whole) * 100 + (-1 if whole.startswith("-") else 1) * int(frac.ljust(2, "0"))
    cents = np.zeros(len(a), np.int64)
    cents[ok] = c
    empty = np.zeros(len(a), bool)
    empty[~ok] = a[~ok].str.strip(WS).to_numpy() == ""
    return cents, ok, empty


def check(f, well_formed, countries, ascii_only=False):
    """f: the 11 fields (str or categorical columns, no NaN). Per row: reason code and the cleaned values."""
    cc = per_value(f["country_code"], lambda u: pd.Index(countries).get_indexer(u.str.strip(WS).str.upper()))
    ym = per_value(f["txn_date"], month_index)
    bad_cat = np.zeros(len(f), bool)
    for c in ("txn_type", "channel"):
        bad_cat |= per_value(f[c], lambda u, c=c: ~u.str.strip(WS).str.lower().isin(VALID[c]))
    sector = per_value(f["sector"], lambda u: pd.Index(VALID["sector"]).get_indexer(u.str.strip(WS).str.lower()))
    status = per_value(f["status"], lambda u: pd.Index(VALID["status"]).get_indexer(u.str.strip(WS).str.lower()))
    bad_cat |= (sector < 0) | (status < 0)
    ids_ok = is_int64(f["txn_id"], ascii_only) & per_value(f["customer_id"], is_int64) & per_value(f["account_id"], is_int64)
    cents, amount_ok, empty = parse_cents(f["amount"])
    reason = np.select([~well_formed | ~ids_ok, ym < 0, cc < 0, bad_cat, empty, ~amount_ok | (cents <= 0)],
                       [1, 2, 3, 4, 5, 6], default=0).astype(np.int8)
    return pd.DataFrame({"reason": reason, "cc": cc, "ym": ym, "sector": sector, "success": status == 0,
                         "cents": cents, "customer_id": per_value(f["customer_id"], to_int)})


def clean_file(raw, ends, plain, countries):
    """per data line: reason code and cleaned values; slow-path lines (str) by line index."""
    n = len(plain)
    parts = []
    if plain.any():  # pandas' C reader on the file itself, skipping the header and the other lines
        f = pd.read_csv(io.BytesIO(raw), sep=",", header=None, names=COLS, usecols=USE, quoting=3, dtype=DTYPES,
                        engine="c", na_filter=False, lineterminator="\n", skip_blank_lines=False, low_memory=False,
                        skiprows=np.concatenate([[0], np.flatnonzero(~plain) + 1]), encoding="latin-1")
        assert len(f) == plain.sum()
        parts.append(check(f, np.ones(len(f), bool), countries, True).set_index(np.flatnonzero(plain)))
    other = np.flatnonzero(~plain)
    lines = pd.Series(get_lines(raw, ends, other), index=other, dtype=object)
    slow = lines.str.contains('"', regex=False) | (lines.str.count(",") == len(COLS) - 1)
    if slow.any():  # RFC 4180: a field is quoted (with "" escapes) or unquoted
        q = lines[slow].str.extract(ROW_RE)
        q.columns = COLS
        for c in USE:  # unquote: strip the outer quotes, "" -> "
            w = q[c].str.startswith('"').fillna(False)
            q.loc[w, c] = q.loc[w, c].str[1:-1].str.replace('""', '"', regex=False)
        well_formed = q["txn_id"].notna().to_numpy()
        parts.append(check(q.fillna(""), well_formed, countries).set_index(lines.index[slow]))
    rest = lines.index[~slow]  # no quote, wrong number of commas
    parts.append(pd.DataFrame({"reason": np.int8(1), "cc": -1, "ym": -1, "sector": -1, "success": False,
                               "cents": 0, "customer_id": 0}, index=rest))
    out = pd.concat(parts).sort_index()
    assert len(out) == n
    return out.reset_index(drop=True)


def aggregate(rows, fx, countries, keys):
    rows = rows.assign(ok_cents=rows["cents"].where(rows["success"], 0))
    g = rows.groupby(keys, sort=True).agg(txn_count=("success", "size"), success_count=("success", "sum"),
                                          cents=("ok_cents", "sum"))
    g["distinct_customers"] = rows[keys + ["customer_id"]].drop_duplicates().groupby(keys).size()
    g = g.reset_index()
    g["country_code"] = np.asarray(countries)[g["cc"]]
    if "sector" in keys:
        g["sector"] = np.asarray(VALID["sector"])[g["sector"]]
    g["ym"] = [f"{y:04d}-{m:02d}" for y, m in zip(g["ym"] // 12, g["ym"] % 12 + 1)]
    g = g.merge(fx, how="left", left_on=["country_code", "ym"], right_on=["country_code", "month"])
    g["month"] = pd.to_datetime(g["ym"], format="%Y-%m")
    g["success_rate"] = g["success_count"] / g["txn_count"]
    g["volume_usd"] = g["cents"] / 100 / g["usd_rate"]
    g["avg_amount_usd"] = g["volume_usd"] / g["success_count"].where(g["success_count"] > 0)
    names = ["country_code"] + (["sector"] if "sector" in keys else []) + ["month"]
    return g[names + ["txn_count", "success_count", "success_rate", "volume_usd", "avg_amount_usd",
                      "distinct_customers"]]


def main():
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    countries = sorted(pd.read_csv(os.path.join(data_dir, "countries.csv"), dtype=str)["country_code"])
    fx = pd.read_csv(os.path.join(data_dir, "fx_rates.csv"), dtype={"month": str})
    tdir = os.path.join(data_dir, "transactions")
    names = sorted(f for f in os.listdir(tdir) if f.endswith((".csv", ".csv.gz")))
    files, results = [], []
    for name in names:
        raw, ends, plain = read_file(os.path.join(tdir, name))
        files.append((raw, ends))
        results.append(clean_file(raw, ends, plain, countries))
    rows = pd.concat(results, ignore_index=True)
    file_of = np.repeat(np.arange(len(names)), [len(r) for r in results])
    line_of = np.concatenate([np.arange(len(r)) for r in results])  # 0-based data line
    lines = lambda idx: [l for i in range(len(names))
                         for l in get_lines(*files[i], line_of[idx][file_of[idx] == i])]  # in row order
    # duplicates: identical bytes give identical parsed values, so only rows whose values repeat are compared
    ok = rows["reason"].to_numpy() == 0
    cand = np.flatnonzero(ok & rows.duplicated(["cc", "ym", "sector", "success", "cents", "customer_id"],
                                               keep=False).to_numpy())
    dup = cand[pd.Series(lines(cand), dtype=object).duplicated().to_numpy()]  # earlier copies are clean too
    rows.loc[dup, "reason"] = 7
    rows_read = len(rows)
    bad = np.flatnonzero(rows["reason"].to_numpy() != 0)
    rejects = pd.DataFrame({"file": np.asarray(names)[file_of[bad]], "line": line_of[bad] + 2,
                            "reason": np.asarray(REASONS)[rows["reason"].to_numpy()[bad]], "raw": lines(bad)})
    clean = rows[rows["reason"].to_numpy() == 0]
    del files, rows
    cm = aggregate(clean, fx, countries, ["cc", "ym"])
    csm = aggregate(clean, fx, countries, ["cc", "sector", "ym"])
    os.makedirs(out_dir, exist_ok=True)
    cm.to_csv(os.path.join(out_dir, "country_month.csv"), index=False)
    csm.to_csv(os.path.join(out_dir, "country_sector_month.csv"), index=False)
    rejects.to_csv(os.path.join(out_dir, "rejects.csv"), index=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"system": "pandas", "threads": 1, "seconds": seconds, "rows_read": rows_read,
                      "txn_count": int(cm["txn_count"].sum()), "success_count": int(cm["success_count"].sum()),
                      "volume_usd": float(cm["volume_usd"].sum()), "country_months": len(cm),
                      "rejects": {k: int(v) for k, v in rejects["reason"].value_counts().items()}}))


if __name__ == "__main__":
    main()
