#!/usr/bin/env python3
"""scaling_plot.py SCALING.csv OUT.svg [--title TEXT]: draws the CSV written by slurm/scaling.sbatch
(series,ranks,rows,seconds,speedup,efficiency[,...]) as one SVG with three panels: wall time, speedup and
parallel efficiency against the number of ranks (log2 axis), one line per series, ideal scaling dashed.

Standard library only, so it runs with any python3 on a cluster's login node (no matplotlib there, nor here).
Exit codes: 0 written, 2 usage or a CSV without the needed columns/rows."""
import csv
import math
import sys
from xml.sax.saxutils import escape

NEEDED = ("series", "ranks", "rows", "seconds", "speedup", "efficiency")
COLORS = {"strong": "#1f77b4", "weak": "#d62728"}
OTHER_COLORS = ["#2ca02c", "#9467bd", "#8c564b", "#ff7f0e"]
PANEL_W, PANEL_H, MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 330, 270, 56, 14, 34, 44
TOP = 58  # room for the title and the legend


def fail(msg):
    print("scaling_plot.py: " + msg, file=sys.stderr)
    sys.exit(2)


def read_points(path):
    """{series: [(ranks, rows, seconds, speedup, efficiency)] sorted by ranks}, in the CSV's series order."""
    try:
        with open(path, newline="") as f:
            rd = csv.DictReader(f)
            missing = [c for c in NEEDED if c not in (rd.fieldnames or [])]
            if missing:
                fail("%s lacks column(s) %s" % (path, ", ".join(missing)))
            series = {}
            for i, r in enumerate(rd, start=2):
                try:
                    p = (int(r["ranks"]), int(r["rows"]), float(r["seconds"]), float(r["speedup"]),
                         float(r["efficiency"]))
                except ValueError:
                    fail("%s line %d: not a number in %s" % (path, i, r))
                series.setdefault(r["series"], []).append(p)
    except OSError as e:
        fail("cannot read %s: %s" % (path, e.strerror))
    if not series:
        fail("%s has no data rows" % path)
    return {k: sorted(v) for k, v in series.items()}


def nice_ticks(top):
    """About five round ticks from 0 covering top (steps 1, 2, 2.5, 5 times a power of ten)."""
    if top <= 0 or not math.isfinite(top):
        top = 1.0
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def fmt(v):
    return ("%.2f" % v).rstrip("0").rstrip(".") if v != int(v) else "%d" % v


class Panel:
    """One chart: x = log2(ranks) over all ranks present, y linear from 0."""

    def __init__(self, x0, title, ylabel, all_ranks, ymax):
        self.x0, self.title, self.ylabel = x0, title, ylabel
        self.ranks = sorted(set(all_ranks))
        lo, hi = math.log2(self.ranks[0]), math.log2(self.ranks[-1])
        pad = 0.06 * (hi - lo) if hi > lo else 1.0  # keeps the end points off the frame
        self.lo, self.span = lo - pad, hi - lo + 2 * pad
        self.yticks = nice_ticks(ymax * 1.08)
        self.ytop = self.yticks[-1]
        self.left, self.top = x0 + MARGIN_L, TOP + MARGIN_T
        self.w, self.h = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B

    def px(self, ranks):
        return self.left + (math.log2(ranks) - self.lo) / self.span * self.w

    def py(self, v):
        return self.top + self.h - min(max(v, 0.0), self.ytop) / self.ytop * self.h

    def frame(self):
        out = ['<text x="%.1f" y="%d" class="ptitle">%s</text>' % (self.left + self.w / 2, TOP + 20,
                                                                    escape(self.title))]
        for t in self.yticks:
            y = self.py(t)
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>' % (self.left, y,
                                                                                          self.left + self.w, y))
            out.append('<text x="%.1f" y="%.1f" class="ytick">%s</text>' % (self.left - 5, y + 4, fmt(t)))
        for r in self.ranks:
            x = self.px(r)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/>' % (x, self.top + self.h, x,
                                                                                     self.top + self.h + 4))
            out.append('<text x="%.1f" y="%d" class="xtick">%d</text>' % (x, self.top + self.h + 17, r))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>' % (self.left, self.top, self.w,
                                                                                   self.h))
        out.append('<text x="%.1f" y="%d" class="xlabel">ranks</text>' % (self.left + self.w / 2,
                                                                           self.top + self.h + 36))
        cy = self.top + self.h / 2
        out.append('<text x="%d" y="%.1f" class="ylabel" transform="rotate(-90 %d %.1f)">%s</text>'
                   % (self.x0 + 14, cy, self.x0 + 14, cy, escape(self.ylabel)))
        return out

    def line(self, name, color, pts, what, unit, dashed=False):
        """pts: [(ranks, value)]; a polyline plus one circle per point with a hover title."""
        coords = " ".join("%.1f,%.1f" % (self.px(r), self.py(v)) for r, v in pts)
        cls = "ideal" if dashed else "series %s" % escape(name)
        out = ['<polyline points="%s" class="%s" stroke="%s"/>' % (coords, cls, color)]
        if not dashed:
            for r, v in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="3.2" fill="%s"><title>%s, %d ranks: %s %s%s</title>'
                           '</circle>' % (self.px(r), self.py(v), color, escape(name), r, what, fmt(round(v, 3)),
                                          unit))
        return out


def render(series, title):
    colors, spare = {}, iter(OTHER_COLORS)
    for name in series:
        colors[name] = COLORS.get(name) or next(spare, "#444444")
    all_ranks = [p[0] for pts in series.values() for p in pts]
    r0 = {name: pts[0][0] for name, pts in series.items()}
    max_speed = max([p[3] for pts in series.values() for p in pts] +
                    [p[0] / r0[n] for n, pts in series.items() for p in pts])
    panels = [
        (Panel(0, "wall time of the job step", "seconds", all_ranks,
               max(p[2] for pts in series.values() for p in pts)), 2, "", " s"),
        (Panel(PANEL_W, "speedup (weak: scaled)", "speedup", all_ranks, max_speed), 3, "speedup ", ""),
        (Panel(2 * PANEL_W, "parallel efficiency", "efficiency", all_ranks,
               max([1.0] + [p[4] for pts in series.values() for p in pts])), 4, "efficiency ", ""),
    ]
    width, height = 3 * PANEL_W, TOP + PANEL_H
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (width, height, width, height),
           '<style>text{font-family:DejaVu Sans,Arial,sans-serif;font-size:11px;fill:#222}'
           '.title{font-size:15px;font-weight:bold}.ptitle{font-size:12px;text-anchor:middle}'
           '.xtick,.xlabel,.ylabel{text-anchor:middle}.ytick{text-anchor:end}'
           '.grid{stroke:#e4e4e4}.axis{stroke:#444}.frame{fill:none;stroke:#444}'
           'polyline{fill:none;stroke-width:2}.ideal{stroke-dasharray:5 4;stroke-width:1.2}</style>',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="12" y="20" class="title">%s</text>' % escape(title)]
    lx = 12
    for name, pts in series.items():
        label = "%s (%s rows at %d rank%s)" % (name, format(pts[0][1], ","), pts[0][0], "" if pts[0][0] == 1 else "s")
        out.append('<line x1="%d" y1="40" x2="%d" y2="40" stroke="%s" stroke-width="2"/>' % (lx, lx + 22,
                                                                                             colors[name]))
        out.append('<text x="%d" y="44">%s</text>' % (lx + 27, escape(label)))
        lx += 40 + 6 * len(label)
    out.append('<line x1="%d" y1="40" x2="%d" y2="40" stroke="#888" class="ideal"/>' % (lx, lx + 22))
    out.append('<text x="%d" y="44">ideal</text>' % (lx + 27))
    for panel, col, what, unit in panels:
        out += panel.frame()
        if col == 3:  # ideal speedup: proportional to the ranks from the first point of each series
            for name, pts in series.items():
                out += panel.line(name, "#888", [(p[0], p[0] / r0[name]) for p in pts], "", "", dashed=True)
        if col == 4:
            out += panel.line("ideal", "#888", [(r, 1.0) for r in panel.ranks], "", "", dashed=True)
        for name, pts in series.items():
            out += panel.line(name, colors[name], [(p[0], p[col]) for p in pts], what, unit)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    args, title = [], "Tessera bank-analytics scaling"
    it = iter(argv)
    for a in it:
        if a == "--title":
            title = next(it, None) or fail("--title needs a value")
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    if len(args) != 2:
        fail("usage: scaling_plot.py SCALING.csv OUT.svg [--title TEXT]")
    svg = render(read_points(args[0]), title)
    try:
        with open(args[1], "w") as f:
            f.write(svg)
    except OSError as e:
        fail("cannot write %s: %s" % (args[1], e.strerror))
    print("scaling_plot.py: wrote %s" % args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
