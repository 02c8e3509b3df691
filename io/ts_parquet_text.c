#include "ts_parquet_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_parquet_read.h"
#include "ts_table.h"

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static ts_err room(text *t, size_t n)
{
    if (t->len + n <= t->cap)
        return TS_OK;
    size_t cap = t->cap ? t->cap * 2 : 1 << 20;
    while (cap < t->len + n)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p)
        TS_FAIL(TS_ERR_NOMEM, "out of memory rendering a Parquet file as text (%zu bytes)", cap);
    t->p = p, t->cap = cap;
    return TS_OK;
}

static void put_quoted(text *t, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        memcpy(t->p + t->len, s, n), t->len += n;
        return;
    }
    t->p[t->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            t->p[t->len++] = '"';
        t->p[t->len++] = s[i];
    }
    t->p[t->len++] = '"';
}

/* TIME: microseconds since midnight as HH:MM:SS[.ffffff]. */
static int format_micros(int64_t us, char *buf, size_t cap)
{
    int64_t days, rest;
    ts_timestamp_split(us, &days, &rest);
    const int64_t secs = rest / 1000000, frac = rest % 1000000;
    int n = snprintf(buf, cap, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac)
        n += snprintf(buf + n, cap - (size_t)n, ".%06d", (int)frac);
    return n;
}

static int format_cell(const ts_pq_column *pc, const ts_column *c, int64_t r, char *buf, size_t cap)
{
    switch (c->type) {
    case TS_T_BOOL: return snprintf(buf, cap, "%s", TS_COL(c, uint8_t)[r] ? "true" : "false");
    case TS_T_INT32: return snprintf(buf, cap, "%" PRId32, TS_COL(c, int32_t)[r]);
    case TS_T_DATE: ts_format_date(TS_COL(c, int32_t)[r], buf); return 10;
    case TS_T_TIMESTAMP: return ts_format_timestamp(TS_COL(c, int64_t)[r], buf);
    case TS_T_INT64:
        if (pc->temporal)
            return format_micros(TS_COL(c, int64_t)[r], buf, cap);
        return snprintf(buf, cap, "%" PRId64, TS_COL(c, int64_t)[r]);
    case TS_T_DECIMAL: {
        const int64_t v = TS_COL(c, int64_t)[r];
        uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, p = 1;
        for (int i = 0; i < c->scale; i++)
            p *= 10;
        if (!c->scale)
            return snprintf(buf, cap, "%" PRId64, v);
        return snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / p, c->scale, mag % p);
    }
    default: { /* FLOAT64: the fewest digits that read back */
        const double v = TS_COL(c, double)[r];
        int n = 0;
        for (int prec = 15; prec <= 17; prec++)
            if ((n = snprintf(buf, cap, "%.*g", prec, v)) > 0 && strtod(buf, NULL) == v)
                break;
        return n;
    }
    }
}

static ts_err render(const ts_pq_file *f, text *t)
{
    ts_column *cols[TS_MAX_COLS] = {0};
    if (f->ncols > TS_MAX_COLS)
        TS_FAIL(TS_ERR_DATA, "%s has %d columns: at most %d are supported", f->path, f->ncols, TS_MAX_COLS);
    ts_pq_reader r = {0};
    ts_err err = TS_OK;
    for (int c = 0; !err && c < f->ncols; c++) {
        err = ts_column_new(f->cols[c].name, f->cols[c].type, f->cols[c].scale, NULL, &cols[c]);
        ts_pq_target tg = {cols[c], NULL};
        for (int g = 0; !err && g < f->meta.nrgs; g++)
            err = ts_pq_read_chunk(&r, f, g, c, &tg);
    }
    ts_pq_reader_free(&r);
    for (int c = 0; !err && c < f->ncols; c++) {
        if (!(err = room(t, 2 * strlen(f->cols[c].name) + 4))) {
            if (c)
                t->p[t->len++] = ',';
            put_quoted(t, f->cols[c].name, strlen(f->cols[c].name));
        }
    }
    if (!err && !(err = room(t, 1)))
        t->p[t->len++] = '\n';
    const int64_t rows = f->ncols ? cols[0]->len : 0;
    char buf[64];
    for (int64_t i = 0; !err && i < rows; i++) {
        for (int c = 0; !err && c < f->ncols; c++) {
            const ts_column *col = cols[c];
            const char *s = buf;
            size_t n = 0;
            if (!ts_column_is_valid(col, i)) {
                n = 0;
            } else if (col->type == TS_T_STRING) {
                const int64_t *off = TS_COL(col, int64_t);
                s = col->bytes + off[i], n = (size_t)(off[i + 1] - off[i]);
            } else {
                n = (size_t)format_cell(&f->cols[c], col, i, buf, sizeof buf);
            }
            if ((err = room(t, 2 * n + 4)))
                break;
            if (c)
                t->p[t->len++] = ',';
            put_quoted(t, s, n);
        }
        if (!err && !(err = room(t, 1)))
            t->p[t->len++] = '\n';
    }
    for (int c = 0; c < f->ncols; c++)
        ts_column_free(cols[c]);
    return err;
}

ts_err ts_pq_load_csv(const ts_file_info *fi, ts_file_data *out)
{
    memset(out, 0, sizeof *out);
    ts_pq_file *f;
    TS_TRY(ts_pq_open(fi->path, &f));
    text t = {0};
    const ts_err err = render(f, &t);
    ts_pq_close(f);
    if (err) {
        free(t.p);
        return err;
    }
    out->heap = t.p ? t.p : malloc(1);
    out->data = out->heap, out->len = (int64_t)t.len;
    if (!out->heap)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    return TS_OK;
}
