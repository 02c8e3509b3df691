/* The HTML report: reading the tables, profiling their columns, the highlights found by column names, the page. */
#include "ts_report.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ts_date.h"
#include "ts_h5_read.h"
#include "ts_report_svg.h"
#include "ts_sql.h"

#define TOP_VALUES 10
#define MAX_SERIES 10
#define HIST_BINS 20
#define CELL_CHARS 80

typedef struct rtable {
    char *file, *group;
    ts_table *t;     /* NULL when it could not be read */
    char *error;     /* why, then */
} rtable;

typedef struct report {
    FILE *out;
    rtable *tables;
    int n;
    int sample_rows;
} report;

/* ---- values -------------------------------------------------------------------------------------------------- */

static int is_numeric(const ts_column *c)
{
    return c->type == TS_T_INT32 || c->type == TS_T_INT64 || c->type == TS_T_FLOAT64 || c->type == TS_T_DECIMAL;
}

static int is_text(const ts_column *c) { return c->type == TS_T_STRING || c->type == TS_T_DICT; }

#define MICROS_PER_DAY 86400000000LL

static int is_time(const ts_column *c) { return c->type == TS_T_DATE || c->type == TS_T_TIMESTAMP; }

/* The day of a valid row of a DATE or TIMESTAMP column (days since 1970-01-01; a timestamp's day is its floor). */
static int32_t day_of(const ts_column *c, int64_t i)
{
    if (c->type == TS_T_DATE)
        return TS_COL(c, int32_t)[i];
    const int64_t us = TS_COL(c, int64_t)[i];
    return (int32_t)(us / MICROS_PER_DAY - (us % MICROS_PER_DAY < 0));
}

/* Row i as a double (NaN for NULL): numbers, decimals by value, dates as days, timestamps as fractional days,
 * booleans as 0/1. */
static double num(const ts_column *c, int64_t i)
{
    if (!ts_column_is_valid(c, i))
        return NAN;
    switch (c->type) {
    case TS_T_BOOL: return TS_COL(c, uint8_t)[i];
    case TS_T_INT32: case TS_T_DATE: return TS_COL(c, int32_t)[i];
    case TS_T_INT64: return (double)TS_COL(c, int64_t)[i];
    case TS_T_FLOAT64: return TS_COL(c, double)[i];
    case TS_T_DECIMAL: return (double)TS_COL(c, int64_t)[i] / pow(10, c->scale);
    case TS_T_TIMESTAMP: return (double)TS_COL(c, int64_t)[i] / (double)MICROS_PER_DAY;
    default: return NAN;
    }
}

static const char *text(const ts_column *c, int64_t i, int64_t *len)
{
    if (c->type == TS_T_DICT)
        return ts_dict_value(c->dict, TS_COL(c, int32_t)[i], len);
    const int64_t *off = TS_COL(c, int64_t);
    *len = off[i + 1] - off[i];
    return c->bytes + off[i];
}

/* Distinct text values and their counts, most frequent first (ties by text): rows sorted by value, then runs. */
typedef struct value_count {
    const char *s;
    int64_t len, count;
} value_count;

static const ts_column *sort_col;
static int by_text(const void *a, const void *b)
{
    int64_t la, lb;
    const char *sa = text(sort_col, *(const int64_t *)a, &la), *sb = text(sort_col, *(const int64_t *)b, &lb);
    const int c = memcmp(sa, sb, (size_t)(la < lb ? la : lb));
    return c ? c : (la > lb) - (la < lb);
}
static int by_count(const void *a, const void *b)
{
    const value_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    const int c = memcmp(x->s, y->s, (size_t)(x->len < y->len ? x->len : y->len));
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* *out (malloc'ed, caller frees) holds the distinct non-NULL values; returns how many (-1: out of memory). */
static int64_t count_values(const ts_column *c, value_count **out)
{
    int64_t n = 0, *idx = malloc(sizeof *idx * (size_t)(c->len + 1));
    value_count *v = malloc(sizeof *v * (size_t)(c->len + 1));
    if (!idx || !v) {
        free(idx), free(v);
        return -1;
    }
    for (int64_t i = 0; i < c->len; i++)
        if (ts_column_is_valid(c, i))
            idx[n++] = i;
    sort_col = c;
    qsort(idx, (size_t)n, sizeof *idx, by_text);
    int64_t nv = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t len;
        const char *s = text(c, idx[i], &len);
        if (nv && v[nv - 1].len == len && !memcmp(v[nv - 1].s, s, (size_t)len))
            v[nv - 1].count++;
        else
            v[nv++] = (value_count){s, len, 1};
    }
    free(idx);
    qsort(v, (size_t)nv, sizeof *v, by_count);
    *out = v;
    return nv;
}

/* ---- page parts ------------------------------------------------------------------------------------------------ */

static const char *CSS =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;margin:0;"
    "background:#f6f7f9}"
    "main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}"
    "header{background:#1f3a5f;color:#fff;padding:18px 24px}header h1{margin:0;font-size:22px}"
    "header p{margin:4px 0 0;opacity:.85}"
    "h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f3a5f;padding-bottom:4px}"
    "h3{font-size:15px;margin:18px 0 6px;color:#1f3a5f}"
    "section>h2:first-child,nav>h2:first-child{margin-top:12px}"
    "section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:4px 18px 16px;margin:18px 0}"
    "nav{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:8px 18px;margin:18px 0}"
    "nav ol{margin:4px 0;padding-left:22px}nav a{color:#1f3a5f;text-decoration:none}nav a:hover{text-decoration:underline}"
    ".meta{color:#666;margin:2px 0 10px}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    "figure.chart{margin:0;flex:1 1 520px;max-width:660px;background:#fff;border:1px solid #eceef1;border-radius:4px}"
    "figure.chart svg{width:100%;height:auto;display:block}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;font-size:12.5px;margin:4px 0}"
    "th,td{border:1px solid #e1e4e8;padding:3px 8px;text-align:left;vertical-align:top;white-space:nowrap}"
    "th{background:#eef1f5}tr:nth-child(even) td{background:#fafbfc}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".null{color:#aaa;font-style:italic}"
    ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}"
    ".kpi{border:1px solid #dde1e6;border-radius:6px;padding:8px 14px;min-width:120px}"
    ".kpi b{display:block;font-size:20px}.kpi span{color:#666;font-size:12px}"
    ".pass{color:#1a7f37;font-weight:600}.warn{color:#9a6700;font-weight:600}.fail{color:#cf222e;font-weight:600}"
    ".err{color:#cf222e}footer{color:#888;font-size:12px;margin-top:24px}";

static void cell(FILE *out, const ts_column *c, int64_t row)
{
    if (!ts_column_is_valid(c, row)) {
        fputs("<td class=\"null\">NULL</td>", out);
        return;
    }
    char buf[128];
    int64_t len;
    const char *s;
    if (is_text(c)) {
        s = text(c, row, &len);
    } else {
        len = ts_sql_format_cell(c, row, buf, sizeof buf);
        s = buf;
    }
    fputs(is_numeric(c) ? "<td class=\"n\">" : "<td>", out);
    int64_t cut = len, chars = 0;
    for (int64_t i = 0; i < len; i++) /* at most CELL_CHARS characters (UTF-8 lead bytes) */
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > CELL_CHARS) {
            cut = i;
            break;
        }
    ts_html_text(out, s, cut);
    fputs(cut < len ? "\xe2\x80\xa6</td>" : "</td>", out);
}

static void anchor_id(char *buf, size_t cap, int i) { snprintf(buf, cap, "t%d", i + 1); }

/* ---- per table --------------------------------------------------------------------------------------------------- */

static void schema(report *r, const ts_table *t)
{
    FILE *out = r->out;
    fputs("<h3>Schema and profile</h3><div class=\"scroll\"><table><tr><th>column</th><th>type</th>"
          "<th>non-null</th><th>distinct</th><th>min</th><th>max</th><th>mean</th></tr>\n", out);
    for (int k = 0; k < t->ncols; k++) {
        const ts_column *c = t->cols[k];
        char type[48], a[64] = "", b[64] = "", m[48] = "", d[32] = "";
        ts_type_name(c->type == TS_T_DICT ? TS_T_STRING : c->type, c->scale, type, sizeof type);
        int64_t valid = 0;
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        for (int64_t i = 0; i < c->len; i++)
            if (ts_column_is_valid(c, i)) {
                valid++;
                const double v = num(c, i);
                if (!isnan(v))
                    lo = v < lo ? v : lo, hi = v > hi ? v : hi, sum += v;
            }
        if (is_text(c)) {
            value_count *v = NULL;
            const int64_t nv = count_values(c, &v);
            if (nv >= 0)
                snprintf(d, sizeof d, "%lld", (long long)nv);
            free(v);
        } else if (valid && c->type == TS_T_TIMESTAMP) { /* exact, as the sample prints them */
            int64_t tlo = INT64_MAX, thi = INT64_MIN;
            for (int64_t i = 0; i < c->len; i++)
                if (ts_column_is_valid(c, i)) {
                    const int64_t v = TS_COL(c, int64_t)[i];
                    tlo = v < tlo ? v : tlo, thi = v > thi ? v : thi;
                }
            a[ts_format_timestamp(tlo, a)] = 0, b[ts_format_timestamp(thi, b)] = 0;
        } else if (valid && lo <= hi) {
            const ts_fmt f = c->type == TS_T_DATE ? TS_FMT_DATE : TS_FMT_NUMBER;
            if (c->type == TS_T_DATE || c->type == TS_T_FLOAT64)
                ts_fmt_value(a, sizeof a, lo, f), ts_fmt_value(b, sizeof b, hi, f);
            else
                snprintf(a, sizeof a, "%.15g", lo), snprintf(b, sizeof b, "%.15g", hi);
            if (is_numeric(c))
                ts_fmt_value(m, sizeof m, sum / (double)valid, TS_FMT_NUMBER);
        }
        fputs("<tr><td>", out), ts_html_text(out, c->name, -1);
        fprintf(out, "</td><td>%s</td><td class=\"n\">%lld</td><td class=\"n\">%s</td><td class=\"n\">", type,
                (long long)valid, d);
        ts_html_text(out, a, -1), fputs("</td><td class=\"n\">", out), ts_html_text(out, b, -1);
        fprintf(out, "</td><td class=\"n\">%s</td></tr>\n", m);
    }
    fputs("</table></div>\n", out);
}

static void sample(report *r, const ts_table *t)
{
    FILE *out = r->out;
    const int64_t rows = ts_table_rows(t), n = rows < r->sample_rows ? rows : r->sample_rows;
    fprintf(out, "<h3>Sample: first %lld of %lld rows</h3><div class=\"scroll\"><table><tr>", (long long)n,
            (long long)rows);
    for (int k = 0; k < t->ncols; k++)
        fputs("<th>", out), ts_html_text(out, t->cols[k]->name, -1), fputs("</th>", out);
    fputs("</tr>\n", out);
    for (int64_t i = 0; i < n; i++) {
        fputs("<tr>", out);
        for (int k = 0; k < t->ncols; k++)
            cell(out, t->cols[k], i);
        fputs("</tr>\n", out);
    }
    fputs("</table></div>\n", out);
}

static void chart_title(char *buf, size_t cap, const char *what, const char *col)
{
    snprintf(buf, cap, "%s %.60s", what, col);
}

static void numeric_chart(report *r, const ts_column *c)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < c->len; i++) {
        const double v = num(c, i);
        if (!isnan(v) && isfinite(v))
            lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    if (!(hi > lo))
        return; /* no values, or one value: the profile says it all */
    double edges[HIST_BINS + 1];
    int64_t counts[HIST_BINS] = {0};
    int nb = HIST_BINS;
    if ((c->type == TS_T_INT32 || c->type == TS_T_INT64) && hi - lo + 1 < HIST_BINS)
        nb = (int)(hi - lo + 1), lo -= 0.5, hi += 0.5; /* small integer ranges: one bin per value */
    for (int b = 0; b <= nb; b++)
        edges[b] = lo + (hi - lo) * b / nb;
    for (int64_t i = 0; i < c->len; i++) {
        const double v = num(c, i);
        if (isnan(v) || !isfinite(v))
            continue;
        int b = (int)((v - lo) / (hi - lo) * nb);
        counts[b < 0 ? 0 : b >= nb ? nb - 1 : b]++;
    }
    char title[96];
    chart_title(title, sizeof title, "Distribution of", c->name);
    ts_svg_histogram(r->out, title, c->name, edges, counts, nb, TS_FMT_NUMBER);
}

/* Rows per month (per year past 20 years) of a date or timestamp column, as a line. */
static void date_chart(report *r, const ts_column *c)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int64_t i = 0; i < c->len; i++)
        if (ts_column_is_valid(c, i)) {
            const int32_t d = day_of(c, i);
            lo = d < lo ? d : lo, hi = d > hi ? d : hi;
        }
    if (lo >= hi)
        return;
    int y0, m0, d0, y1, m1, d1;
    ts_civil_from_days(lo, &y0, &m0, &d0), ts_civil_from_days(hi, &y1, &m1, &d1);
    const int yearly = y1 - y0 > 20, n = yearly ? y1 - y0 + 1 : (y1 - y0) * 12 + m1 - m0 + 1;
    if (n > 2000)
        return; /* dates over millennia: the profile's min and max say more than a line */
    double *x = calloc((size_t)n, sizeof *x), *y = calloc((size_t)n, sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return;
    }
    for (int k = 0; k < n; k++)
        x[k] = yearly ? ts_days_from_civil(y0 + k, 1, 1) : ts_days_from_civil(y0 + (m0 - 1 + k) / 12, (m0 - 1 + k) % 12 + 1, 1);
    for (int64_t i = 0; i < c->len; i++)
        if (ts_column_is_valid(c, i)) {
            int yy, mm, dd;
            ts_civil_from_days(day_of(c, i), &yy, &mm, &dd);
            y[yearly ? yy - y0 : (yy - y0) * 12 + mm - m0] += 1;
        }
    char title[96];
    chart_title(title, sizeof title, yearly ? "Rows per year of" : "Rows per month of", c->name);
    const char *series[] = {"rows"};
    ts_svg_lines(r->out, title, "rows", x, n, series, y, 1, TS_FMT_NUMBER);
    free(x), free(y);
}

/* Top values of a text column, unless nearly every value is distinct (ids, raw lines). Returns 1 if drawn. */
static int text_chart(report *r, const ts_column *c)
{
    value_count *v = NULL;
    const int64_t nv = count_values(c, &v);
    int drawn = 0;
    if (nv > 0 && !(nv > 50 && nv * 2 > c->len)) {
        const int n = nv < TOP_VALUES ? (int)nv : TOP_VALUES;
        char *labels[TOP_VALUES];
        double values[TOP_VALUES];
        for (int i = 0; i < n; i++) {
            labels[i] = strndup(v[i].s, (size_t)v[i].len);
            values[i] = (double)v[i].count;
        }
        char title[120];
        snprintf(title, sizeof title, "%s values of %.60s (rows)", nv > TOP_VALUES ? "Top" : "All", c->name);
        if (nv > TOP_VALUES)
            snprintf(title + strlen(title), sizeof title - strlen(title), ", %lld distinct", (long long)nv);
        ts_svg_bars(r->out, title, (const char *const *)labels, values, n, TS_FMT_NUMBER);
        for (int i = 0; i < n; i++)
            free(labels[i]);
        drawn = 1;
    }
    free(v);
    return drawn;
}

static void column_charts(report *r, const ts_table *t)
{
    FILE *out = r->out;
    fputs("<h3>Columns</h3><div class=\"charts\">\n", out);
    int skipped = 0;
    for (int k = 0; k < t->ncols; k++) {
        const ts_column *c = t->cols[k];
        if (is_numeric(c))
            numeric_chart(r, c);
        else if (is_time(c))
            date_chart(r, c);
        else if (is_text(c) || c->type == TS_T_BOOL) {
            if (c->type == TS_T_BOOL) {
                int64_t n[3] = {0};
                for (int64_t i = 0; i < c->len; i++)
                    n[ts_column_is_valid(c, i) ? TS_COL(c, uint8_t)[i] != 0 : 2]++;
                const char *labels[] = {"false", "true", "NULL"};
                const double v[] = {(double)n[0], (double)n[1], (double)n[2]};
                char title[96];
                chart_title(title, sizeof title, "Values of", c->name);
                ts_svg_bars(out, title, labels, v, n[2] ? 3 : 2, TS_FMT_NUMBER);
            } else if (!text_chart(r, c)) {
                skipped++;
            }
        }
    }
    fputs("</div>\n", out);
    if (skipped)
        fprintf(out, "<p class=\"meta\">%d text column%s with mostly distinct values (identifiers, raw lines) "
                     "shown in the profile only.</p>\n", skipped, skipped == 1 ? "" : "s");
}

static void table_section(report *r, int i)
{
    const rtable *rt = &r->tables[i];
    FILE *out = r->out;
    char id[16];
    anchor_id(id, sizeof id, i);
    fprintf(out, "<section id=\"%s\"><h2>", id);
    ts_html_text(out, rt->group, -1);
    fputs("</h2><p class=\"meta\">", out);
    ts_html_text(out, rt->file, -1);
    if (!rt->t) {
        fputs("</p><p class=\"err\">Could not read this table: ", out);
        ts_html_text(out, rt->error ? rt->error : "unknown error", -1);
        fputs("</p></section>\n", out);
        return;
    }
    fprintf(out, " &middot; %lld rows &middot; %d columns", (long long)ts_table_rows(rt->t), rt->t->ncols);
    if (rt->t->nsort) {
        fputs(" &middot; sorted by ", out);
        for (int k = 0; k < rt->t->nsort; k++)
            fputs(k ? ", " : "", out), ts_html_text(out, rt->t->sort_keys[k], -1);
    }
    fputs("</p>\n", out);
    schema(r, rt->t);
    sample(r, rt->t);
    if (ts_table_rows(rt->t))
        column_charts(r, rt->t);
    fputs("</section>\n", out);
}

/* ---- highlights ---------------------------------------------------------------------------------------------- */

static const ts_column *col(const ts_table *t, const char *name)
{
    for (int k = 0; k < t->ncols; k++)
        if (!strcasecmp(t->cols[k]->name, name))
            return t->cols[k];
    return NULL;
}

static const ts_column *text_col(const ts_table *t, const char *name)
{
    const ts_column *c = col(t, name);
    return c && is_text(c) ? c : NULL;
}

static const ts_column *num_col(const ts_table *t, const char *name)
{
    const ts_column *c = col(t, name);
    return c && is_numeric(c) ? c : NULL;
}

/* The first readable table with these columns (text columns where named so). Prefers tables without `avoid`. */
static const rtable *find(const report *r, const char *text_a, const char *date_b, const char *num_c,
                          const char *avoid)
{
    const rtable *best = NULL;
    for (int i = 0; i < r->n; i++) {
        const ts_table *t = r->tables[i].t;
        if (!t || !ts_table_rows(t) || (text_a && !text_col(t, text_a)) || (num_c && !num_col(t, num_c)))
            continue;
        if (date_b && !(col(t, date_b) && col(t, date_b)->type == TS_T_DATE))
            continue;
        if (!best || (avoid && best->t && col(best->t, avoid) && !col(t, avoid)))
            best = &r->tables[i];
    }
    return best;
}

/* Distinct values of a text column in order of a measure's total (largest first); at most cap. */
static int categories(const ts_column *c, const ts_column *measure, char **names, int cap)
{
    value_count *v = NULL;
    const int64_t nv = count_values(c, &v);
    if (nv <= 0) {
        free(v);
        return 0;
    }
    /* totals of the measure per value; past 256 values the most frequent ones are taken (bounded time) */
    double *tot = nv <= 256 ? calloc((size_t)nv, sizeof *tot) : NULL;
    for (int64_t i = 0; tot && i < c->len; i++) {
        if (!ts_column_is_valid(c, i))
            continue;
        int64_t len;
        const char *s = text(c, i, &len);
        for (int64_t k = 0; k < nv; k++)
            if (v[k].len == len && !memcmp(v[k].s, s, (size_t)len)) {
                const double x = measure ? num(measure, i) : 1;
                tot[k] += isnan(x) ? 0 : x;
                break;
            }
    }
    int n = 0;
    for (; n < cap && n < nv; n++) { /* selection of the largest totals (v is already by count) */
        int64_t best = tot ? -1 : n;
        for (int64_t k = 0; tot && k < nv; k++)
            if (tot[k] > -INFINITY && (best < 0 || tot[k] > tot[best]))
                best = k;
        if (best < 0)
            break;
        names[n] = strndup(v[best].s, (size_t)v[best].len);
        if (tot)
            tot[best] = -INFINITY;
    }
    free(tot), free(v);
    return n;
}

static int find_name(char **names, int n, const char *s, int64_t len)
{
    for (int i = 0; i < n; i++)
        if ((int64_t)strlen(names[i]) == len && !memcmp(names[i], s, (size_t)len))
            return i;
    return -1;
}

/* The first position of sorted v[0..n) whose value is >= d. */
static int lower_bound(const int32_t *v, int n, int32_t d)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (v[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* value(category, month) = sum(num) / sum(den) over the table's rows (den NULL: sums of num). */
static void series_chart(report *r, const ts_table *t, const char *cat_name, const char *num_name,
                         const char *den_name, const char *title, const char *ylabel, ts_fmt fmt)
{
    const ts_column *cat = text_col(t, cat_name), *month = col(t, "month"), *nc = num_col(t, num_name);
    const ts_column *dc = den_name ? num_col(t, den_name) : NULL;
    char *names[MAX_SERIES];
    const int ns = categories(cat, col(t, "volume_usd") ? col(t, "volume_usd") : nc, names, MAX_SERIES);
    int32_t *days = malloc(sizeof *days * (size_t)(month->len + 1));
    int nx = 0;
    for (int64_t i = 0; days && i < month->len; i++) /* distinct months, sorted */
        if (ts_column_is_valid(month, i)) {
            const int32_t d = TS_COL(month, int32_t)[i];
            const int lo = lower_bound(days, nx, d);
            if (lo < nx && days[lo] == d)
                continue;
            memmove(days + lo + 1, days + lo, sizeof *days * (size_t)(nx - lo));
            days[lo] = d, nx++;
        }
    double *x = calloc((size_t)nx + 1, sizeof *x), *sn = calloc((size_t)(ns * nx) + 1, sizeof *sn),
           *sd = calloc((size_t)(ns * nx) + 1, sizeof *sd);
    if (days && x && sn && sd && ns && nx) {
        for (int k = 0; k < nx; k++)
            x[k] = days[k];
        for (int64_t i = 0; i < t->cols[0]->len; i++) {
            if (!ts_column_is_valid(cat, i) || !ts_column_is_valid(month, i))
                continue;
            int64_t len;
            const char *s = text(cat, i, &len);
            const int si = find_name(names, ns, s, len);
            if (si < 0)
                continue;
            const int lo = lower_bound(days, nx, TS_COL(month, int32_t)[i]); /* present: every month is listed */
            const double a = num(nc, i), b = dc ? num(dc, i) : 1;
            if (!isnan(a) && !isnan(b))
                sn[si * nx + lo] += a, sd[si * nx + lo] += b;
        }
        for (int k = 0; k < ns * nx; k++)
            sn[k] = sd[k] != 0 ? (dc ? sn[k] / sd[k] : sn[k]) : NAN;
        ts_svg_lines(r->out, title, ylabel, x, nx, (const char *const *)names, sn, ns, fmt);
    }
    for (int i = 0; i < ns; i++)
        free(names[i]);
    free(days), free(x), free(sn), free(sd);
}

/* Total of a measure per sector (bars), and each country's split over the sectors (stacked 100 % bars). */
static void sector_mix(report *r, const ts_table *t, const char *measure)
{
    const ts_column *sec = text_col(t, "sector"), *m = num_col(t, measure), *cty = text_col(t, "country_code");
    char *secs[MAX_SERIES], *ctys[24];
    const int ns = categories(sec, m, secs, MAX_SERIES), nc = cty ? categories(cty, m, ctys, 24) : 0;
    double tot[MAX_SERIES] = {0}, *mix = calloc((size_t)(nc * ns) + 1, sizeof *mix);
    for (int64_t i = 0; mix && i < sec->len; i++) {
        if (!ts_column_is_valid(sec, i))
            continue;
        int64_t len;
        const char *s = text(sec, i, &len);
        const int si = find_name(secs, ns, s, len);
        const double v = num(m, i);
        if (si < 0 || isnan(v))
            continue;
        tot[si] += v;
        if (nc && ts_column_is_valid(cty, i)) {
            const char *cs = text(cty, i, &len);
            const int ci = find_name(ctys, nc, cs, len);
            if (ci >= 0)
                mix[ci * ns + si] += v;
        }
    }
    char title[120];
    snprintf(title, sizeof title, "Sector mix: %s per sector", !strcmp(measure, "volume_usd") ? "volume in USD" : measure);
    ts_svg_bars(r->out, title, (const char *const *)secs, tot, ns, TS_FMT_NUMBER);
    if (nc && mix)
        ts_svg_stacked(r->out, "Sector mix per country (share of volume)", (const char *const *)ctys, nc,
                       (const char *const *)secs, ns, mix);
    for (int i = 0; i < ns; i++)
        free(secs[i]);
    for (int i = 0; i < nc; i++)
        free(ctys[i]);
    free(mix);
}

/* A count with thousands separators: 1234567 -> "1,234,567". */
static void thousands(char *buf, size_t cap, double v)
{
    char digits[32];
    const int n = snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t k = 0;
    if (v < 0 && k + 1 < cap)
        buf[k++] = '-';
    for (int i = 0; i < n && k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = 0;
}

static void kpi(FILE *out, const char *label, const char *value)
{
    fputs("<div class=\"kpi\"><b>", out), ts_html_text(out, value, -1), fputs("</b><span>", out);
    ts_html_text(out, label, -1), fputs("</span></div>", out);
}

static int is_total_metric(const char *s, int64_t len)
{
    return len >= 5 && !memcmp(s, "rows_", 5);
}

/* Rejected rows per reason: a (metric, count) summary, else counts of a `reason` column. */
static int rejects_chart(report *r)
{
    const rtable *sum = find(r, "metric", NULL, "count", NULL);
    FILE *out = r->out;
    if (sum) {
        const ts_column *mc = text_col(sum->t, "metric"), *cc = num_col(sum->t, "count");
        char *labels[32];
        double values[32];
        int n = 0;
        fputs("<div class=\"kpis\">", out);
        for (int64_t i = 0; i < mc->len; i++) {
            int64_t len;
            const char *s = text(mc, i, &len);
            char buf[32], name[64];
            thousands(buf, sizeof buf, num(cc, i));
            snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), s);
            if (is_total_metric(s, len)) {
                for (char *p = name; *p; p++)
                    *p = *p == '_' ? ' ' : *p;
                kpi(out, name, buf);
            } else if (n < 32) {
                labels[n] = strndup(s, (size_t)len), values[n++] = num(cc, i);
            }
        }
        fputs("</div>", out);
        if (n) {
            fputs("<div class=\"charts\">", out);
            ts_svg_bars(out, "Rejected rows per reason", (const char *const *)labels, values, n, TS_FMT_NUMBER);
            fputs("</div>", out);
        }
        for (int i = 0; i < n; i++)
            free(labels[i]);
        return 1;
    }
    const rtable *rej = find(r, "reason", NULL, NULL, NULL);
    if (!rej)
        return 0;
    fputs("<div class=\"charts\">", out);
    text_chart(r, text_col(rej->t, "reason"));
    fputs("</div>", out);
    return 1;
}

/* Data-quality tests: counts per status and the list. */
static int tests_table(report *r)
{
    const rtable *tt = find(r, "test", NULL, NULL, NULL);
    if (!tt || !text_col(tt->t, "status"))
        return 0;
    const ts_table *t = tt->t;
    const ts_column *name = text_col(t, "test"), *st = text_col(t, "status"), *fr = num_col(t, "failing_rows");
    const ts_column *cl = text_col(t, "column"), *sv = text_col(t, "severity");
    const char *labels[] = {"pass", "warn", "fail"};
    double counts[3] = {0};
    for (int64_t i = 0; i < st->len; i++) {
        int64_t len;
        const char *s = text(st, i, &len);
        for (int k = 0; k < 3; k++)
            if (len == (int64_t)strlen(labels[k]) && !memcmp(s, labels[k], (size_t)len))
                counts[k]++;
    }
    FILE *out = r->out;
    fputs("<h3>Data-quality tests</h3><div class=\"kpis\">", out);
    char buf[32];
    const char *names[] = {"tests passed", "tests warned", "tests failed"};
    for (int k = 0; k < 3; k++)
        thousands(buf, sizeof buf, counts[k]), kpi(out, names[k], buf);
    fputs("</div><div class=\"charts\">", out);
    ts_svg_bars(out, "Data-quality tests by status", labels, counts, 3, TS_FMT_NUMBER);
    fputs("</div><div class=\"scroll\"><table><tr><th>test</th><th>column</th><th>severity</th>"
          "<th>failing rows</th><th>status</th></tr>\n", out);
    for (int64_t i = 0; i < st->len; i++) {
        int64_t len;
        const char *s = text(st, i, &len);
        char cls[8];
        snprintf(cls, sizeof cls, "%.*s", (int)(len < 4 ? len : 4), s);
        fputs("<tr>", out);
        cell(out, name, i);
        if (cl)
            cell(out, cl, i);
        else
            fputs("<td></td>", out);
        if (sv)
            cell(out, sv, i);
        else
            fputs("<td></td>", out);
        if (fr)
            cell(out, fr, i);
        else
            fputs("<td></td>", out);
        fprintf(out, "<td class=\"%s\">", !strcmp(cls, "pass") || !strcmp(cls, "warn") || !strcmp(cls, "fail") ? cls : "");
        ts_html_text(out, s, len);
        fputs("</td></tr>\n", out);
    }
    fputs("</table></div>\n", out);
    return 1;
}

/* Per-column validity and completeness (a data-quality profile), and the row-score histogram. */
static void quality_profile(report *r)
{
    const rtable *p = find(r, "column", NULL, "validity", NULL);
    const rtable *h = find(r, NULL, NULL, "bucket", NULL);
    if (p && num_col(p->t, "completeness")) {
        const ts_column *c = text_col(p->t, "column"), *v = num_col(p->t, "validity");
        const int n = c->len < 32 ? (int)c->len : 32;
        char *labels[32];
        double values[32];
        for (int i = 0; i < n; i++) {
            int64_t len;
            const char *s = text(c, i, &len);
            labels[i] = strndup(s, (size_t)len), values[i] = num(v, i);
        }
        ts_svg_bars(r->out, "Validity per column (share of rows)", (const char *const *)labels, values, n,
                    TS_FMT_PERCENT);
        for (int i = 0; i < n; i++)
            free(labels[i]);
    }
    if (h && num_col(h->t, "rows")) {
        const ts_column *b = num_col(h->t, "bucket"), *rows = num_col(h->t, "rows");
        const int n = b->len < 40 ? (int)b->len : 40;
        double edges[41];
        int64_t counts[40];
        for (int i = 0; i < n; i++)
            edges[i] = num(b, i), counts[i] = (int64_t)num(rows, i);
        edges[n] = n > 1 ? edges[n - 1] + (edges[n - 1] - edges[n - 2]) : edges[0] + 1;
        ts_svg_histogram(r->out, "Row quality scores", "score", edges, counts, n, TS_FMT_NUMBER);
    }
}

/* Returns the number of highlight charts and tables written; the caller adds the table of contents entries. */
static void highlights(report *r, int *has_bank, int *has_quality)
{
    FILE *out = r->out;
    const rtable *vol = find(r, "country_code", "month", "volume_usd", "sector");
    const rtable *mix = find(r, "sector", NULL, "volume_usd", NULL);
    *has_bank = vol || mix;
    if (*has_bank) {
        fputs("<section id=\"bank\"><h2>Bank analytics</h2><div class=\"charts\">\n", out);
        if (vol) {
            series_chart(r, vol->t, "country_code", "volume_usd", NULL, "Volume in USD per country over months",
                         "USD", TS_FMT_NUMBER);
            if (num_col(vol->t, "success_count") && num_col(vol->t, "txn_count"))
                series_chart(r, vol->t, "country_code", "success_count", "txn_count",
                             "Success rate per country over months", "success rate", TS_FMT_PERCENT);
            else if (num_col(vol->t, "success_rate"))
                series_chart(r, vol->t, "country_code", "success_rate", NULL, "Success rate per country over months",
                             "success rate", TS_FMT_PERCENT);
        }
        if (mix)
            sector_mix(r, mix->t, "volume_usd");
        fputs("</div></section>\n", out);
    }
    const int rej = find(r, "metric", NULL, "count", NULL) || find(r, "reason", NULL, NULL, NULL);
    const int tests = find(r, "test", NULL, NULL, NULL) != NULL;
    const int prof = find(r, "column", NULL, "validity", NULL) || find(r, NULL, NULL, "bucket", NULL);
    *has_quality = rej || tests || prof;
    if (!*has_quality)
        return;
    fputs("<section id=\"quality\"><h2>Data quality</h2>\n", out);
    if (rej)
        rejects_chart(r);
    if (tests)
        tests_table(r);
    if (prof) {
        fputs("<h3>Profile</h3><div class=\"charts\">", out);
        quality_profile(r);
        fputs("</div>", out);
    }
    fputs("</section>\n", out);
}

/* ---- the page ---------------------------------------------------------------------------------------------------- */

static void page(report *r, const ts_report_options *opt)
{
    FILE *out = r->out;
    char when[64];
    const time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Tessera report: ", out);
    for (int i = 0; i < opt->ninputs; i++)
        fputs(i ? ", " : "", out), ts_html_text(out, opt->inputs[i], -1);
    fprintf(out, "</title><style>%s</style></head><body>\n<header><h1>Tessera report</h1><p>", CSS);
    for (int i = 0; i < opt->ninputs; i++)
        fputs(i ? " &middot; " : "", out), ts_html_text(out, opt->inputs[i], -1);
    fprintf(out, " &middot; %d table%s &middot; generated %s by Tessera %s</p></header><main>\n", r->n,
            r->n == 1 ? "" : "s", when, TS_VERSION);
    /* the highlights go to a memory buffer first: the table of contents lists only those found */
    char *hbuf = NULL;
    size_t hlen = 0;
    FILE *h = open_memstream(&hbuf, &hlen);
    int bank = 0, quality = 0;
    if (h) {
        r->out = h;
        highlights(r, &bank, &quality);
        fclose(h);
        r->out = out;
    }
    fputs("<nav><h2>Contents</h2><ol>", out);
    if (bank)
        fputs("<li><a href=\"#bank\">Bank analytics</a></li>", out);
    if (quality)
        fputs("<li><a href=\"#quality\">Data quality</a></li>", out);
    fputs("<li>Tables<ol>", out);
    for (int i = 0; i < r->n; i++) {
        char id[16];
        anchor_id(id, sizeof id, i);
        fprintf(out, "<li><a href=\"#%s\">", id);
        ts_html_text(out, r->tables[i].group, -1);
        if (r->tables[i].t)
            fprintf(out, "</a> <span class=\"meta\">%lld rows</span></li>", (long long)ts_table_rows(r->tables[i].t));
        else
            fputs("</a> <span class=\"err\">unreadable</span></li>", out);
    }
    fputs("</ol></li></ol></nav>\n", out);
    if (hbuf)
        fwrite(hbuf, 1, hlen, out);
    free(hbuf);
    for (int i = 0; i < r->n; i++)
        table_section(r, i);
    fputs("<footer>Charts are inline SVG; hover a mark for its value. Tables are read with Tessera's HDF5 reader "
          "(docs/hdf5-layout.md).</footer></main></body></html>\n", out);
}

/* ---- reading ------------------------------------------------------------------------------------------------------ */

static ts_err load(report *r, const ts_report_options *opt)
{
    for (int f = 0; f < opt->ninputs; f++) {
        const char *path = opt->inputs[f];
        char **names = NULL;
        int n = 0;
        TS_TRY(ts_h5_list_tables(MPI_COMM_SELF, path, &names, &n));
        rtable *grown = realloc(r->tables, sizeof *grown * (size_t)(r->n + n + 1));
        if (!grown) {
            free(names);
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        }
        r->tables = grown;
        for (int i = 0; i < n; i++) {
            rtable *rt = &r->tables[r->n++];
            *rt = (rtable){strdup(path), strdup(names[i]), NULL, NULL};
            if (ts_h5_read_table(MPI_COMM_SELF, path, names[i], NULL, 0, &rt->t) != TS_OK)
                rt->error = strdup(ts_error_headline()), ts_error_clear();
        }
        free(names);
    }
    if (!r->n)
        TS_FAIL(TS_ERR_DATA, "%s%s: no tables (a table is a group of 1-D datasets of equal length, "
                             "docs/hdf5-layout.md)", opt->inputs[0], opt->ninputs > 1 ? " and the other inputs" : "");
    return TS_OK;
}

ts_err ts_report_write(const ts_report_options *opt)
{
    struct stat st;
    if (!opt->overwrite && stat(opt->out_path, &st) == 0)
        TS_FAIL(TS_ERR_IO, "%s exists (pass --overwrite to replace it)", opt->out_path);
    report r = {.sample_rows = opt->sample_rows > 0 ? opt->sample_rows : 10};
    ts_err err = load(&r, opt);
    char tmp[4096];
    const char *slash = strrchr(opt->out_path, '/');
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%d", slash ? (int)(slash - opt->out_path + 1) : 0, opt->out_path,
             slash ? slash + 1 : opt->out_path, (int)getpid());
    if (!err && !(r.out = fopen(tmp, "w")))
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot write %s: %s", opt->out_path,
                             strerror(errno));
    if (!err) {
        page(&r, opt);
        const int bad = ferror(r.out) | (fclose(r.out) != 0);
        if (bad || rename(tmp, opt->out_path) != 0) {
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot write %s: %s", opt->out_path,
                                 strerror(errno));
            unlink(tmp);
        }
    }
    for (int i = 0; i < r.n; i++)
        ts_table_free(r.tables[i].t), free(r.tables[i].file), free(r.tables[i].group), free(r.tables[i].error);
    free(r.tables);
    return err;
}
