#include "ts_csv_write.h"

#include <stdlib.h>
#include <string.h>

#include "ts_expr.h"

static ts_err room(char **buf, size_t *len, size_t *cap, size_t need)
{
    if (*len + need <= *cap)
        return TS_OK;
    size_t n = *cap ? *cap : 1 << 16;
    while (n < *len + need)
        n *= 2;
    char *b = realloc(*buf, n);
    if (!b)
        TS_FAIL(TS_ERR_NOMEM, "out of memory formatting CSV (%zu bytes)", n);
    *buf = b, *cap = n;
    return TS_OK;
}

/* One field, quoted when needed; empty strings quoted so they differ from NULL. */
static ts_err field(const char *s, size_t n, char delim, int is_null, char **buf, size_t *len, size_t *cap)
{
    if (is_null)
        return TS_OK;
    int quote = n == 0;
    size_t quotes = 0;
    for (size_t i = 0; i < n; i++) {
        const char c = s[i];
        quotes += c == '"';
        quote |= c == delim || c == '"' || c == '\n' || c == '\r';
    }
    TS_TRY(room(buf, len, cap, n + quotes + 2));
    char *o = *buf + *len;
    if (quote)
        *o++ = '"';
    if (!quotes) {
        memcpy(o, s, n), o += n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"')
                *o++ = '"';
            *o++ = s[i];
        }
    }
    if (quote)
        *o++ = '"';
    *len = (size_t)(o - *buf);
    return TS_OK;
}

ts_err ts_csv_writer_init(ts_csv_writer *w, const ts_table *t, const int *cols, int ncols, char delim)
{
    memset(w, 0, sizeof *w);
    w->t = t, w->ncols = ncols, w->delim = delim;
    memcpy(w->cols, cols, sizeof *cols * (size_t)ncols);
    for (int c = 0; c < ncols; c++) {
        const ts_column *col = t->cols[cols[c]];
        if (col->type == TS_T_STRING || col->type == TS_T_DICT)
            continue;
        ts_expr *e = ts_x_cast(ts_x_col(col->name), TS_T_STRING, 0, 0);
        const ts_err err = e ? ts_expr_eval(e, t, col->name, &w->text[c])
                             : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        ts_expr_free(e);
        if (err) {
            ts_csv_writer_free(w);
            return err;
        }
    }
    return TS_OK;
}

void ts_csv_writer_free(ts_csv_writer *w)
{
    for (int c = 0; c < w->ncols; c++)
        ts_column_free(w->text[c]);
    memset(w, 0, sizeof *w);
}

ts_err ts_csv_header(const ts_csv_writer *w, char **buf, size_t *len, size_t *cap)
{
    for (int c = 0; c < w->ncols; c++) {
        if (c) {
            TS_TRY(room(buf, len, cap, 1));
            (*buf)[(*len)++] = w->delim;
        }
        const char *name = w->t->cols[w->cols[c]]->name;
        TS_TRY(field(name, strlen(name), w->delim, 0, buf, len, cap));
    }
    TS_TRY(room(buf, len, cap, 1));
    (*buf)[(*len)++] = '\n';
    return TS_OK;
}

ts_err ts_csv_rows(const ts_csv_writer *w, const int64_t *rows, int64_t n, char **buf, size_t *len, size_t *cap)
{
    if (!rows)
        n = ts_table_rows(w->t);
    for (int64_t i = 0; i < n; i++) {
        const int64_t r = rows ? rows[i] : i;
        for (int c = 0; c < w->ncols; c++) {
            if (c) {
                TS_TRY(room(buf, len, cap, 1));
                (*buf)[(*len)++] = w->delim;
            }
            const ts_column *orig = w->t->cols[w->cols[c]], *col = w->text[c] ? w->text[c] : orig;
            const int is_null = !ts_column_is_valid(orig, r);
            const char *s = "";
            int64_t l = 0;
            if (!is_null && col->type == TS_T_DICT) {
                s = ts_dict_value(col->dict, TS_COL(col, int32_t)[r], &l);
            } else if (!is_null) {
                const int64_t *off = TS_COL(col, int64_t);
                s = col->bytes + off[r], l = off[r + 1] - off[r];
            }
            TS_TRY(field(s, (size_t)l, w->delim, is_null, buf, len, cap));
        }
        TS_TRY(room(buf, len, cap, 1));
        (*buf)[(*len)++] = '\n';
    }
    return TS_OK;
}
