#!/usr/bin/python3
"""Checks a `tessera report` page against the HDF5 files it shows, read independently with h5py.

    check_report.py html REPORT.html FILE.h5 [FILE.h5 ...]   structure and values of the page
    check_report.py png SHOT.png                             a screenshot is not blank
    check_report.py dom DOM.html                             Chromium's rendered DOM holds the charts

Prints one line per failed check and "N passed, M failed"; exit 1 on any failure."""
import html.parser
import math
import struct
import sys
import zlib

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail)[:400] if detail else ""))


class Page(html.parser.HTMLParser):
    """Collects sections (id, h2 text, tables as lists of rows of cell texts), svg titles and tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections, self.svg_titles, self.tags, self.stack = [], [], [], []
        self.text = None   # collecting text of the current element of interest
        self.cur_table = self.cur_row = None
        self.in_svg = 0
        self.title_depth = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.sections.append({"id": a.get("id"), "h2": "", "meta": "", "tables": [], "svgs": 0})
        sec = self.sections[-1] if self.sections else None
        if tag == "svg":
            self.in_svg += 1
            if sec is not None:
                sec["svgs"] += 1
        if tag == "title" and self.in_svg:
            self.text, self.title_depth = "", True
        if tag in ("h2",) and sec is not None:
            self.text = ""
        if tag == "p" and sec is not None and a.get("class") == "meta":
            self.text = ""
            self.stack.append("meta")
        if tag == "table" and sec is not None:
            self.cur_table = []
            sec["tables"].append(self.cur_table)
        if tag == "tr" and self.cur_table is not None:
            self.cur_row = []
            self.cur_table.append(self.cur_row)
        if tag in ("td", "th") and self.cur_row is not None:
            self.text = ""

    def handle_endtag(self, tag):
        sec = self.sections[-1] if self.sections else None
        if tag == "svg":
            self.in_svg -= 1
        if tag == "title" and self.title_depth:
            self.svg_titles.append(self.text)
            self.text, self.title_depth = None, None
        if tag == "h2" and sec is not None and self.text is not None:
            sec["h2"], self.text = self.text, None
        if tag == "p" and self.stack and self.stack[-1] == "meta":
            self.stack.pop()
            sec["meta"] = sec["meta"] or self.text  # the first: file, rows, columns
            self.text = None
        if tag in ("td", "th") and self.cur_row is not None and self.text is not None:
            self.cur_row.append(self.text)
            self.text = None
        if tag == "table":
            self.cur_table = None

    def handle_data(self, data):
        if self.text is not None:
            self.text += data


def same_number(text, value):
    if isinstance(value, float) and math.isnan(value):
        return text == "nan"
    try:
        return float(text) == float(value) or abs(float(text) - float(value)) <= 1e-12 * abs(float(value))
    except ValueError:
        return False


def check_html(path, files):
    import h5py
    import numpy as np
    sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/scripts")
    from h5table import read_table
    page = Page()
    page.feed(open(path, encoding="utf-8").read())
    check("no script elements", "script" not in page.tags and "iframe" not in page.tags, page.tags.count("script"))
    text = open(path, encoding="utf-8").read()
    check("self-contained (no external resources)", "http://" not in text.replace("http://www.w3.org", "")
          and "https://" not in text and "<link" not in text and " src=" not in text)
    by_h2 = {}
    for s in page.sections:
        by_h2.setdefault(s["h2"], []).append(s)
    groups = []
    for f in files:
        with h5py.File(f, "r") as h:
            def visit(name, obj):
                if isinstance(obj, h5py.Group) and "columns" in obj.attrs:
                    groups.append((f, "/" + name, obj))
            h.visititems(visit)
            for f_, g, obj in [x for x in groups if x[0] == f]:
                secs = [s for s in by_h2.get(g, []) if f.rsplit("/", 1)[-1] in s["meta"]]
                check("section for " + g, len(secs) == 1, [s["h2"] for s in page.sections])
                if len(secs) != 1:
                    continue
                sec = secs[0]
                nrows = int(obj.attrs["nrows"])
                cols = [c.decode() if isinstance(c, bytes) else c for c in obj.attrs["columns"]]
                types = [c.decode() if isinstance(c, bytes) else c for c in obj.attrs["types"]]
                check("row count of " + g, "%d rows" % nrows in sec["meta"] and "%d columns" % len(cols) in sec["meta"],
                      sec["meta"])
                schema, sample = sec["tables"][0], sec["tables"][1]
                check("schema columns of " + g, [r[0] for r in schema[1:]] == cols, [r[0] for r in schema[1:]])
                check("schema types of " + g, [r[1] for r in schema[1:]] == types, [r[1] for r in schema[1:]])
                df = read_table(f_, g)
                for r, c in zip(schema[1:], cols):
                    valid = int(df[c].notna().sum()) if not (df[c].dtype.kind == "f") else nrows
                    if c + ".valid" in obj:
                        valid = int(obj[c + ".valid"][()].sum())
                    check("non-null count %s.%s" % (g, c), r[2] == str(valid), (r[2], valid))
                    if df[c].dtype == object and r[3]:
                        check("distinct count %s.%s" % (g, c), r[3] == str(df[c].dropna().nunique()),
                              (r[3], df[c].dropna().nunique()))
                check("sample header of " + g, sample[0] == cols, sample[0])
                for i, row in enumerate(sample[1:]):
                    for c, ty, cell in zip(cols, types, row):
                        v = df[c].iloc[i]
                        if c + ".valid" in obj and not obj[c + ".valid"][i]:
                            ok = cell == "NULL"
                        elif ty == "timestamp":  # DuckDB's text: seconds, then the microseconds without trailing 0s
                            frac = ("%06d" % v.microsecond).rstrip("0")
                            ok = cell == v.strftime("%Y-%m-%d %H:%M:%S") + ("." + frac if frac else "")
                        elif isinstance(v, (bytes, bytearray)):
                            want = v.decode("utf-8", "replace")
                            ok = cell == want or (cell.endswith("\u2026") and want.startswith(cell[:-1]))
                        elif isinstance(v, str):  # undecodable bytes come as surrogates: the page shows U+FFFD
                            v = v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                            ok = cell == v or (cell.endswith("\u2026") and v.startswith(cell[:-1]))
                        elif hasattr(v, "strftime"):
                            ok = cell == v.strftime("%Y-%m-%d")
                        elif isinstance(v, (bool, np.bool_)):
                            ok = cell == ("true" if v else "false")
                        else:
                            ok = same_number(cell, v)
                        if not ok:
                            check("sample cell %s[%d].%s" % (g, i, c), False, (cell, v))
                            break
                    else:
                        continue
                    break
                else:
                    check("sample rows of " + g, len(sample) - 1 == min(nrows, 10), len(sample) - 1)
    return page


def check_bank(page, bank, quality):
    import h5py
    titles = page.svg_titles
    cm = None
    with h5py.File(bank, "r") as h:
        cm = {k: h["/analytics/country_month/" + k][()]
              for k in ("country_code", "month", "volume_usd", "success_count", "txn_count")}
        summary = dict(zip([m.decode() for m in h["/quality/summary/metric"][()]], h["/quality/summary/count"][()]))
    check("volume chart", "Volume in USD per country over months" in titles)
    check("success rate chart", "Success rate per country over months" in titles)
    check("sector mix charts", any(t.startswith("Sector mix") for t in titles))
    countries = sorted(set(c.decode() for c in cm["country_code"]))
    check("a line per country", all(c in titles for c in countries), countries)
    months = len(set(cm["month"]))
    points = [t for t in titles if t.split(",")[0] in countries and t.count(", 20") == 1 and "%" not in t]
    check("a point per country and month (volume)", len(points) == len(cm["month"]), (len(points), len(cm["month"]), months))
    import datetime
    tips = set(titles)
    bad_vol = bad_rate = 0
    for c, m, v, sc, tc in zip(cm["country_code"], cm["month"], cm["volume_usd"], cm["success_count"], cm["txn_count"]):
        day = (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(m))).isoformat()
        want = "%s, %s: %s" % (c.decode(), day, ("%.15g" % v) if v == math.floor(v) else "%.2f" % v)
        bad_vol += want not in tips
        bad_rate += ("%s, %s: %.2f%%" % (c.decode(), day, 100.0 * (float(sc) / float(tc)))) not in tips
    check("volume per country and month = h5py's", bad_vol == 0, bad_vol)
    check("success rate per country and month = h5py's", bad_rate == 0, bad_rate)
    for reason, n in summary.items():
        if not reason.startswith("rows_"):
            check("rejects bar " + reason, "%s: %d" % (reason, n) in titles, [t for t in titles if t.startswith(reason)])
    if quality:
        with h5py.File(quality, "r") as h:
            status = [s.decode() for s in h["/quality/tests/status"][()]]
        for s in ("pass", "warn", "fail"):
            want = "%s: %d" % (s, status.count(s))
            check("tests bar " + s, want in titles, [t for t in titles if t.split(":")[0] == s])


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) with zlib only."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    bpp = 4 if ctype == 6 else 3
    raw, stride = zlib.decompress(idat), w * bpp
    prev, rows, i = bytearray(stride), [], 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path):
    w, h, bpp, rows = png_pixels(path)
    colours, ink = set(), 0
    for line in rows[::2]:
        for x in range(0, len(line), bpp * 2):
            px = line[x:x + 3]
            colours.add(px)
            ink += px != b"\xff\xff\xff" and px != b"\xf6\xf7\xf9"  # white and the page background
    total = len(rows[::2]) * ((w + 1) // 2)
    print("screenshot %dx%d: %d distinct colours, %.1f%% of pixels not background" % (w, h, len(colours), 100.0 * ink / total))
    check("screenshot has many colours (charts, text)", len(colours) >= 50, len(colours))
    check("screenshot is not blank", ink > total * 0.05, ink)


def check_dom(path, min_svgs):
    page = Page()
    page.feed(open(path, encoding="utf-8", errors="replace").read())
    n = page.tags.count("svg")
    check("rendered DOM holds the charts (%d svg)" % n, n >= min_svgs, n)
    check("rendered DOM has the highlight charts", "Volume in USD per country over months" in page.svg_titles and
          "Rejected rows per reason" in page.svg_titles, page.svg_titles[:5])


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "html":
        p = check_html(sys.argv[2], sys.argv[3:])
        check_bank(p, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif mode == "escape":
        p = check_html(sys.argv[2], sys.argv[3:])
    elif mode == "png":
        check_png(sys.argv[2])
    elif mode == "dom":
        check_dom(sys.argv[2], int(sys.argv[3]))
    print("report checks (%s): %d passed, %d failed" % (mode, passed, failed))
    sys.exit(1 if failed else 0)
