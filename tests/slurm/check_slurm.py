#!/usr/bin/python3
"""Checks of tests/slurm/test_slurm.sh (Debian's python3: h5py, pandas).

  check_slurm.py rows OUT.h5 REF_DIR
      OUT.h5 has /analytics/country_month with as many rows as the independent reference
      (tests/e2e/reference.py's analytics__country_month.pkl), every column the same length.
  check_slurm.py scaling SCALING.csv SCALING.svg STRONG_ROWS WEAK_ROWS_PER_RANK RANK [RANK ...]
      the CSV has the header of slurm/scaling.sbatch and one row per (series, rank) in order; rows are
      STRONG_ROWS (strong) or WEAK_ROWS_PER_RANK x ranks (weak); speedup and efficiency are recomputed here
      from the seconds; the SVG is well-formed XML with each series drawn in all three panels, one point per row.
Prints what it checked; exit 1 on the first failed check."""
import csv
import os
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def rows(out, ref):
    import h5py
    import pandas as pd
    expected = len(pd.read_pickle(os.path.join(ref, "analytics__country_month.pkl")))
    with h5py.File(out, "r") as f:
        if "analytics/country_month" not in f:
            fail("%s has no /analytics/country_month" % out)
        g = f["analytics/country_month"]
        lengths = {k: (len(g[k]["offsets"]) - 1 if isinstance(g[k], h5py.Group) else len(g[k])) for k in g}
    if set(lengths.values()) != {expected}:
        fail("%s /analytics/country_month column lengths %s, reference has %d rows" % (out, lengths, expected))
    print("%s: /analytics/country_month has %d rows in %d columns, as the reference" % (out, expected, len(lengths)))


def close(a, b, tol=0.0015):  # the CSV rounds to 3 decimals
    return abs(a - b) <= tol + 1e-3 * abs(b)


def scaling(csv_path, svg_path, strong_rows, weak_rows, ranks):
    with open(csv_path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        body = list(rd)
    want = ["series", "ranks", "rows", "seconds", "speedup", "efficiency", "profile_seconds"]
    if header != want:
        fail("CSV header %s, expected %s" % (header, want))
    expected_keys = [(s, r) for s in ("strong", "weak") for r in ranks]
    keys = [(r[0], int(r[1])) for r in body]
    if keys != expected_keys:
        fail("CSV (series, ranks) rows %s, expected %s" % (keys, expected_keys))
    base = {}
    for r in body:
        series, n, nrows, sec, sp, eff, prof = r[0], int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]), \
            float(r[6])
        want_rows = strong_rows if series == "strong" else weak_rows * n
        if nrows != want_rows:
            fail("%s on %d ranks: %d rows, expected %d" % (series, n, nrows, want_rows))
        if not (0 < prof <= sec):
            fail("%s on %d ranks: profile total %.3f s not in (0, wall %.3f s]" % (series, n, prof, sec))
        r0, t0 = base.setdefault(series, (n, sec))
        if series == "strong":
            want_sp, want_eff = t0 / sec, t0 / sec * r0 / n
        else:
            want_eff, want_sp = t0 / sec, t0 / sec * n / r0
        if not (close(sp, want_sp) and close(eff, want_eff)):
            fail("%s on %d ranks: speedup %.3f efficiency %.3f, expected %.3f %.3f from the seconds"
                 % (series, n, sp, eff, want_sp, want_eff))
    print("%s: %d rows (strong and weak on ranks %s), rows, speedup and efficiency consistent"
          % (csv_path, len(body), " ".join(map(str, ranks))))
    try:
        root = ET.parse(svg_path).getroot()
    except (ET.ParseError, OSError) as e:
        fail("%s is not a readable SVG: %s" % (svg_path, e))
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        fail("%s root element is %s" % (svg_path, root.tag))
    for s in ("strong", "weak"):
        lines = [p for p in root.iter(ns + "polyline") if p.get("class") == "series " + s]
        if len(lines) != 3 or any(len(p.get("points").split()) != len(ranks) for p in lines):
            fail("%s: series %s drawn as %d polylines, expected 3 of %d points" % (svg_path, s, len(lines),
                                                                                  len(ranks)))
    circles = len(list(root.iter(ns + "circle")))
    if circles != 3 * len(body):
        fail("%s: %d points, expected %d (3 panels x %d rows)" % (svg_path, circles, 3 * len(body), len(body)))
    print("%s: well-formed, both series in 3 panels, %d points" % (svg_path, circles))


def main(a):
    if len(a) == 3 and a[0] == "rows":
        rows(a[1], a[2])
    elif len(a) >= 6 and a[0] == "scaling":
        scaling(a[1], a[2], int(a[3]), int(a[4]), [int(x) for x in a[5:]])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
