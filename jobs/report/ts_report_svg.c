/* SVG charts of the report. Coordinates are in CSS pixels of a fixed viewBox; the page scales them (width: 100%). */
#include "ts_report_svg.h"

#include <math.h>
#include <string.h>

#include "ts_date.h"

#define W 660
#define FONT "font-family=\"system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif\""

/* Tableau 10: distinct for colour-blind readers too, readable on white. */
static const char *const PALETTE[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NPALETTE 10

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static int utf8_len(const unsigned char *s, int64_t n)
{
    const int len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n || (len == 2 && s[0] < 0xC2))
        return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

void ts_html_text(FILE *out, const char *s, int64_t len)
{
    if (len < 0)
        len = (int64_t)strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    for (int64_t i = 0; i < len;) {
        const unsigned char c = u[i];
        const int n = utf8_len(u + i, len - i);
        if (!n || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
            fputs("\xef\xbf\xbd", out); /* U+FFFD for bytes that are not text: the page stays valid UTF-8 */
            i++;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fwrite(u + i, 1, (size_t)n, out);
        }
        i += n;
    }
}

void ts_fmt_value(char *buf, size_t cap, double v, ts_fmt fmt)
{
    if (isnan(v)) {
        snprintf(buf, cap, "n/a");
        return;
    }
    if (fmt == TS_FMT_DATE) {
        int y, m, d;
        ts_civil_from_days((int32_t)floor(v), &y, &m, &d);
        snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
        return;
    }
    if (fmt == TS_FMT_PERCENT) {
        snprintf(buf, cap, "%.*f%%", fabs(v) >= 0.1 || v == 0 ? 1 : 2, 100 * v);
        return;
    }
    const double a = fabs(v);
    static const char *const unit[] = {"", "k", "M", "B", "T"};
    int u = 0;
    double s = v;
    while (fabs(s) >= 1000 && u < 4)
        s /= 1000, u++;
    if (u == 0 && a != floor(a))
        snprintf(buf, cap, "%.3g", v);
    else
        snprintf(buf, cap, "%.*f%s", u == 0 ? 0 : fabs(s) < 10 ? 2 : fabs(s) < 100 ? 1 : 0, s, unit[u]);
}

/* A value in full for a tooltip: counts and amounts exactly, shares as percentages with two decimals. */
static void exact_value(char *buf, size_t cap, double v, ts_fmt fmt)
{
    if (fmt == TS_FMT_NUMBER && !isnan(v))
        snprintf(buf, cap, fabs(v) >= 1e15 || v == floor(v) ? "%.15g" : "%.2f", v);
    else if (fmt == TS_FMT_PERCENT && !isnan(v))
        snprintf(buf, cap, "%.2f%%", 100 * v);
    else
        ts_fmt_value(buf, cap, v, fmt);
}

/* ---- axes ---------------------------------------------------------------------------------------------------- */

/* "Nice" ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `want` of them. */
static int nice_ticks(double lo, double hi, int want, double *ticks, int cap)
{
    if (!(hi > lo)) {
        hi = lo + (lo == 0 ? 1 : fabs(lo) * 0.1);
        lo = lo - (hi - lo);
    }
    const double raw = (hi - lo) / want, p = pow(10, floor(log10(raw))), f = raw / p;
    const double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
    int n = 0;
    for (double t = floor(lo / step) * step; n < cap && t <= hi + step * 0.5; t += step)
        ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

static void svg_open(FILE *out, const char *title, int h)
{
    fprintf(out, "<figure class=\"chart\"><svg viewBox=\"0 0 %d %d\" role=\"img\" %s font-size=\"12\">", W, h, FONT);
    fputs("<title>", out), ts_html_text(out, title, -1), fputs("</title>", out);
    fprintf(out, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">", 8);
    ts_html_text(out, title, -1);
    fputs("</text>", out);
}

static void svg_close(FILE *out) { fputs("</svg></figure>\n", out); }

/* A mark's tooltip: <title>label: value</title>. */
static void tip(FILE *out, const char *label, const char *value)
{
    fputs("<title>", out), ts_html_text(out, label, -1), fputs(": ", out), ts_html_text(out, value, -1);
    fputs("</title>", out);
}

typedef struct plot {
    double x0, x1, y0, y1;   /* data range */
    int left, right, top, bottom; /* pixel box */
} plot;

static double px(const plot *p, double x) { return p->left + (x - p->x0) / (p->x1 - p->x0) * (p->right - p->left); }
static double py(const plot *p, double y) { return p->bottom - (y - p->y0) / (p->y1 - p->y0) * (p->bottom - p->top); }

/* The y axis: grid lines and labels at nice ticks; widens p->y0..y1 to them. */
static void y_axis(FILE *out, plot *p, ts_fmt fmt, const char *label)
{
    double t[32];
    const int n = nice_ticks(p->y0, p->y1, 5, t, 32);
    p->y0 = t[0] < p->y0 ? t[0] : p->y0, p->y1 = t[n - 1] > p->y1 ? t[n - 1] : p->y1;
    char buf[32];
    for (int i = 0; i < n; i++) {
        const double y = py(p, t[i]);
        fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", p->left, p->right, y, y);
        ts_fmt_value(buf, sizeof buf, t[i], fmt);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>", p->left - 6, y + 4, buf);
    }
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/>", p->left, p->right, p->bottom,
            p->bottom);
    if (label && *label) {
        fprintf(out, "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">",
                (p->top + p->bottom) / 2);
        ts_html_text(out, label, -1);
        fputs("</text>", out);
    }
}

static void x_label(FILE *out, const plot *p, const char *label)
{
    if (!label || !*label)
        return;
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">", (p->left + p->right) / 2,
            p->bottom + 34);
    ts_html_text(out, label, -1);
    fputs("</text>", out);
}

static void x_tick(FILE *out, const plot *p, double x, const char *text)
{
    const double X = px(p, x);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/>", X, X, p->bottom, p->bottom + 4);
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">", X, p->bottom + 17);
    ts_html_text(out, text, -1);
    fputs("</text>", out);
}

/* Time ticks: first days of years (or of quarters / months for shorter spans). */
static void time_axis(FILE *out, const plot *p)
{
    int y0, m0, d0, y1, m1, d1;
    ts_civil_from_days((int32_t)p->x0, &y0, &m0, &d0);
    ts_civil_from_days((int32_t)p->x1, &y1, &m1, &d1);
    const int months = (y1 - y0) * 12 + (m1 - m0);
    const int every = months > 36 ? 12 : months > 12 ? 3 : 1;
    char buf[16];
    int shown = 0;
    for (int k = 0; k <= months + 1 && shown < 24; k++) {
        const int mm = (y0 * 12 + m0 - 1 + k), y = mm / 12, m = mm % 12 + 1;
        if ((every == 12 && m != 1) || (every == 3 && (m - 1) % 3))
            continue;
        const double day = ts_days_from_civil(y, m, 1);
        if (day < p->x0 || day > p->x1)
            continue;
        if (every == 12)
            snprintf(buf, sizeof buf, "%d", y);
        else
            snprintf(buf, sizeof buf, "%d-%02d", y, m);
        x_tick(out, p, day, buf), shown++;
    }
}

static int legend_width(const char *name) { return 26 + 7 * (int)(strlen(name) < 24 ? strlen(name) : 24); }

/* Rows a legend of these names takes. */
static int legend_rows(const char *const *names, int n)
{
    int x = 60, row = 0;
    for (int i = 0; i < n; i++) {
        if (x + legend_width(names[i]) > W - 10)
            x = 60, row++;
        x += legend_width(names[i]);
    }
    return row + 1;
}

/* A legend of coloured swatches in rows under the plot. Returns the height used. */
static int legend(FILE *out, const char *const *names, int n, int y)
{
    int x = 60, row = 0;
    for (int i = 0; i < n; i++) {
        const int w = legend_width(names[i]);
        if (x + w > W - 10)
            x = 60, row++;
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y + row * 18 - 10,
                PALETTE[i % NPALETTE]);
        fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#333\">", x + 16, y + row * 18);
        ts_html_text(out, names[i], strlen(names[i]) < 24 ? -1 : 24);
        fputs("</text>", out);
        x += w;
    }
    return (row + 1) * 18;
}

/* ---- charts ---------------------------------------------------------------------------------------------------- */

void ts_svg_histogram(FILE *out, const char *title, const char *xlabel, const double *edges, const int64_t *counts,
                      int nbins, ts_fmt xfmt)
{
    const int h = 260;
    plot p = {edges[0], edges[nbins], 0, 1, 70, W - 20, 34, h - 46};
    for (int i = 0; i < nbins; i++)
        p.y1 = (double)counts[i] > p.y1 ? (double)counts[i] : p.y1;
    if (!(p.x1 > p.x0))
        p.x1 = p.x0 + 1;
    svg_open(out, title, h);
    y_axis(out, &p, TS_FMT_NUMBER, "rows");
    char a[32], b[32], c[48];
    for (int i = 0; i < nbins; i++) {
        const double x0 = px(&p, edges[i]), x1 = px(&p, edges[i + 1]), y = py(&p, (double)counts[i]);
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x0 + 0.5, y,
                x1 - x0 - 1 > 0.5 ? x1 - x0 - 1 : 0.5, p.bottom - y, PALETTE[0]);
        ts_fmt_value(a, sizeof a, edges[i], xfmt), ts_fmt_value(b, sizeof b, edges[i + 1], xfmt);
        char range[80];
        snprintf(range, sizeof range, "%s to %s", a, b);
        snprintf(c, sizeof c, "%lld rows", (long long)counts[i]);
        tip(out, range, c);
        fputs("</rect>", out);
    }
    if (xfmt == TS_FMT_DATE) {
        time_axis(out, &p);
    } else {
        double t[32];
        const int n = nice_ticks(p.x0, p.x1, 6, t, 32);
        for (int i = 0; i < n; i++)
            if (t[i] >= p.x0 - 1e-9 * fabs(p.x0) && t[i] <= p.x1 + 1e-9 * fabs(p.x1))
                ts_fmt_value(a, sizeof a, t[i], xfmt), x_tick(out, &p, t[i], a);
    }
    x_label(out, &p, xlabel);
    svg_close(out);
}

void ts_svg_bars(FILE *out, const char *title, const char *const *labels, const double *values, int n, ts_fmt fmt)
{
    const int bar = 20, h = 44 + n * (bar + 6) + 10, left = 170;
    double max = 0;
    for (int i = 0; i < n; i++)
        max = values[i] > max ? values[i] : max;
    if (max <= 0)
        max = 1;
    svg_open(out, title, h);
    char buf[32];
    for (int i = 0; i < n; i++) {
        const int y = 34 + i * (bar + 6);
        const double w = values[i] > 0 ? values[i] / max * (W - left - 80) : 0;
        const size_t len = strlen(labels[i]);
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#333\">", left - 8, y + 15);
        ts_html_text(out, labels[i], len > 24 ? 23 : (int64_t)len);
        fputs(len > 24 ? "\xe2\x80\xa6</text>" : "</text>", out);
        exact_value(buf, sizeof buf, values[i], fmt);
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">", left, y, w, bar,
                PALETTE[0]);
        tip(out, labels[i], buf);
        fputs("</rect>", out);
        ts_fmt_value(buf, sizeof buf, values[i], fmt);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" fill=\"#333\">%s</text>", left + w + 6, y + 15, buf);
    }
    svg_close(out);
}

void ts_svg_lines(FILE *out, const char *title, const char *ylabel, const double *x, int nx,
                  const char *const *series, const double *y, int nseries, ts_fmt yfmt)
{
    const int h = 266 + legend_rows(series, nseries) * 18;
    plot p = {x[0], x[nx - 1], INFINITY, -INFINITY, 70, W - 20, 34, 240};
    for (int i = 0; i < nseries * nx; i++)
        if (!isnan(y[i]))
            p.y0 = y[i] < p.y0 ? y[i] : p.y0, p.y1 = y[i] > p.y1 ? y[i] : p.y1;
    if (!isfinite(p.y0))
        p.y0 = 0, p.y1 = 1;
    if (yfmt != TS_FMT_PERCENT && p.y0 > 0 && p.y0 < 0.5 * p.y1)
        p.y0 = 0; /* amounts start at zero unless they vary little */
    if (!(p.x1 > p.x0))
        p.x0 -= 15, p.x1 += 15;
    svg_open(out, title, h);
    y_axis(out, &p, yfmt, ylabel);
    time_axis(out, &p);
    char v[32], d[32];
    for (int s = 0; s < nseries; s++) {
        const char *colour = PALETTE[s % NPALETTE];
        fprintf(out, "<g><title>");
        ts_html_text(out, series[s], -1);
        fprintf(out, "</title><path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" d=\"", colour);
        int pen = 0;
        for (int i = 0; i < nx; i++) {
            const double val = y[s * nx + i];
            if (isnan(val)) {
                pen = 0;
                continue;
            }
            fprintf(out, "%c%.1f %.1f ", pen ? 'L' : 'M', px(&p, x[i]), py(&p, val));
            pen = 1;
        }
        fputs("\"/>", out);
        if (nx <= 120) /* points with tooltips when they are few enough to hover */
            for (int i = 0; i < nx; i++) {
                const double val = y[s * nx + i];
                if (isnan(val))
                    continue;
                exact_value(v, sizeof v, val, yfmt), ts_fmt_value(d, sizeof d, x[i], TS_FMT_DATE);
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\">", px(&p, x[i]), py(&p, val),
                        colour);
                char label[96];
                snprintf(label, sizeof label, "%.40s, %s", series[s], d);
                tip(out, label, v);
                fputs("</circle>", out);
            }
        fputs("</g>", out);
    }
    legend(out, series, nseries, 272);
    svg_close(out);
}

void ts_svg_stacked(FILE *out, const char *title, const char *const *rows, int nrows, const char *const *cols,
                    int ncols, const double *m)
{
    const int bar = 18, left = 90, top = 34, lrows = legend_rows(cols, ncols);
    const int h = top + nrows * (bar + 5) + 14 + lrows * 18 + 10;
    svg_open(out, title, h);
    char buf[32];
    for (int r = 0; r < nrows; r++) {
        const int y = top + r * (bar + 5);
        double total = 0, x = left;
        for (int c = 0; c < ncols; c++)
            total += m[r * ncols + c] > 0 ? m[r * ncols + c] : 0;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#333\">", left - 8, y + 13);
        ts_html_text(out, rows[r], strlen(rows[r]) > 12 ? 12 : -1);
        fputs("</text>", out);
        for (int c = 0; c < ncols && total > 0; c++) {
            const double share = (m[r * ncols + c] > 0 ? m[r * ncols + c] : 0) / total, w = share * (W - left - 20);
            fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">", x, y, w, bar,
                    PALETTE[c % NPALETTE]);
            char label[96];
            snprintf(label, sizeof label, "%.40s, %.40s", rows[r], cols[c]);
            ts_fmt_value(buf, sizeof buf, share, TS_FMT_PERCENT);
            tip(out, label, buf);
            fputs("</rect>", out);
            x += w;
        }
    }
    legend(out, cols, ncols, top + nrows * (bar + 5) + 18);
    svg_close(out);
}
