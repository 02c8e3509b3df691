#!/usr/bin/env python3
"""Writes the SQL conformance suite's small CSV files (customers, accounts, transactions, typed) next to this
script. Deterministic (fixed seed, no clock): rerunning it rewrites identical files, which are committed.

The data is made to exercise SQL semantics rather than to look real: empty fields (NULL) in every column kind,
keys that match nothing on the other side of a join, a few duplicate keys, negative amounts, ties."""
import datetime
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20240607)

FIRST = ["Ana", "Ben", "Carla", "Dmitri", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars",
         "Mona", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Meyer", "Dubois", "Smith", "Jansen", "Rossi", "Novak", "Garcia", "Berg", "Costa", "Weber"]
COUNTRIES = ["DE", "FR", "US", "UK", "NL", "IT"]
CITIES = {"DE": ["Berlin", "Hamburg"], "FR": ["Paris", "Lyon"], "US": ["Boston", "Austin"],
          "UK": ["London", "Leeds"], "NL": ["Utrecht"], "IT": ["Rome", "Milan"]}
KINDS = ["checking", "savings", "credit"]
CURRENCIES = ["EUR", "EUR", "USD", "GBP"]
CATEGORIES = ["groceries", "rent", "travel", "salary", "fuel", "dining", "utilities"]
MERCHANTS = ["ACME Foods", "acme travel", "Blue Bottle", "City Rentals", "FuelCo", "Green Grocer",
             "Rail & Sail", "the corner shop", "Utility Works", "100% Organic"]


def day(start, span):
    return start + datetime.timedelta(days=rng.randrange(span))


def money(lo, hi):
    """A 2-decimal amount as text (exact in decimal, so sums are exact up to float rounding)."""
    cents = rng.randrange(int(lo * 100), int(hi * 100) + 1)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def maybe(value, p_empty):
    return "" if rng.random() < p_empty else value


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def customers():
    rows = []
    ids = list(range(1, 49)) + [12, 30]  # two duplicate keys
    for cid in ids:
        country = rng.choice(COUNTRIES)
        rows.append([str(cid), f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     maybe(country, 0.1), maybe(rng.choice(CITIES[country]), 0.1),
                     day(datetime.date(2019, 1, 1), 5 * 365).isoformat(),
                     "true" if rng.random() < 0.3 else "false",
                     maybe(f"{rng.randrange(0, 1000) / 10:.1f}", 0.12)])
    return rows


def accounts():
    rows = []
    for aid in range(100, 220):
        cid = rng.randrange(1, 56)  # 49..55 have no customer
        rows.append([str(aid), maybe(str(cid), 0.05), rng.choice(KINDS),
                     day(datetime.date(2020, 1, 1), 4 * 365).isoformat(),
                     maybe(money(-2000, 50000), 0.06), rng.choice(CURRENCIES)])
    return rows


def transactions():
    rows = []
    ids = list(range(1, 1996)) + [7, 250, 999, 1500, 1995]  # five duplicate keys
    for tid in ids:
        category = rng.choice(CATEGORIES)
        if category == "salary":
            amount = money(1500, 6000)
        elif category == "rent":
            amount = money(-2500, -400)
        else:
            amount = money(-300, 40)
        rows.append([str(tid), maybe(str(rng.randrange(100, 226)), 0.02),  # 220..225: no account
                     day(datetime.date(2023, 1, 1), 731).isoformat(),
                     maybe(amount, 0.03), maybe(category, 0.04), maybe(rng.choice(MERCHANTS), 0.05),
                     maybe("true" if rng.random() < 0.05 else "false", 0.02)])
    return rows


def typed():
    """Values whose auto-detected type differs from the one a columns= list can force."""
    rows = []
    for i in range(1, 13):
        rows.append([str(i * 7), str(i * 3), f"{i}.5" if i % 4 else "", f"2024-0{1 + i % 9}-1{i % 10}",
                     ["true", "false", ""][i % 3] if i != 6 else "false"])
    return rows


def events():
    """Timestamps: whole seconds, fractions, 'T' separators, NULLs, times around midnight and month ends."""
    rows = []
    start = datetime.datetime(2023, 12, 30, 22, 0, 0)
    for i in range(1, 41):
        at = start + datetime.timedelta(seconds=rng.randrange(0, 70 * 86400), microseconds=rng.choice([0, 0, 500000, 123456]))
        text = at.isoformat(sep=rng.choice([" ", " ", "T"]))
        rows.append([str(i), str(rng.randrange(100, 110)), maybe(text, 0.1), rng.choice(["login", "payment", "logout"]),
                     at.date().isoformat()])
    return rows


write("customers.csv", ["customer_id", "name", "country", "city", "signup_date", "vip", "score"], customers())
write("accounts.csv", ["account_id", "customer_id", "kind", "opened", "balance", "currency"], accounts())
write("transactions.csv", ["txn_id", "account_id", "txn_date", "amount", "category", "merchant", "flagged"],
      transactions())
write("typed.csv", ["code", "qty", "price", "day", "answer"], typed())
def tbl():
    """dbgen's format: '|'-delimited, no header, every line ending with '|'."""
    return [[str(i), f"item {i}", f"{i * 1.25:.2f}", f"2024-01-{i:02d}", ""] for i in range(1, 8)]


def write_tbl(name, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        for r in rows:
            f.write("|".join(r) + "\n")


write("events.csv", ["event_id", "account_id", "happened", "kind", "day"], events())
write_tbl("items.tbl", tbl())
