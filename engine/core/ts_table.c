#include "ts_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_err ts_table_new(const char *name, ts_table **out)
{
    *out = NULL;
    if (strlen(name) >= sizeof(*out)->name)
        TS_FAIL(TS_ERR_USAGE, "table name '%.60s...' is longer than %zu bytes", name, sizeof(*out)->name - 1);
    ts_table *t = calloc(1, sizeof *t);
    if (!t)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for table '%s'", name);
    snprintf(t->name, sizeof t->name, "%s", name);
    *out = t;
    return TS_OK;
}

void ts_table_free(ts_table *t)
{
    if (!t)
        return;
    for (int i = 0; !t->borrowed && i < t->ncols; i++)
        ts_column_free(t->cols[i]);
    free(t->cols);
    free(t);
}

/* Room for one more column in t->cols (doubling). */
static ts_err grow_cols(ts_table *t)
{
    if (t->ncols < t->cap_cols)
        return TS_OK;
    const int cap = t->cap_cols ? 2 * t->cap_cols : 16;
    ts_column **grown = realloc(t->cols, sizeof *grown * (size_t)cap);
    if (!grown)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the column list of table '%s' (%d columns)", t->name, t->ncols);
    t->cols = grown, t->cap_cols = cap;
    return TS_OK;
}

ts_err ts_table_adopt(ts_table *t, ts_column *c)
{
    ts_err err = TS_OK;
    if (ts_table_col(t, c->name))
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "table '%s' already has a column '%s'",
                             t->name, c->name);
    if (!err)
        err = grow_cols(t);
    if (err) {
        ts_column_free(c);
        return err;
    }
    t->cols[t->ncols++] = c;
    return TS_OK;
}

ts_err ts_table_borrow(ts_table *t, ts_column *c)
{
    TS_TRY(grow_cols(t));
    t->cols[t->ncols++] = c;
    return TS_OK;
}

ts_err ts_table_add(ts_table *t, const char *name, ts_type type, int scale, ts_dict *dict, ts_column **out)
{
    ts_column *c;
    TS_TRY(ts_column_new(name, type, scale, dict, &c));
    TS_TRY(ts_table_adopt(t, c));
    if (out)
        *out = c;
    return TS_OK;
}

ts_column *ts_table_col(const ts_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i]->name, name) == 0)
            return t->cols[i];
    return NULL;
}

ts_err ts_table_need(const ts_table *t, const char *name, ts_column **out)
{
    *out = ts_table_col(t, name);
    if (!*out)
        TS_FAIL(TS_ERR_USAGE, "table '%s' has no column '%s'", t->name, name);
    return TS_OK;
}

int64_t ts_table_rows(const ts_table *t) { return t->ncols ? t->cols[0]->len : 0; }

ts_err ts_table_new_like(const ts_table *t, const char *name, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    for (int i = 0; i < t->ncols; i++) {
        ts_column *c;
        ts_err err = ts_column_new_like(t->cols[i], &c);
        if (!err)
            err = ts_table_adopt(*out, c);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            TS_TRY(err);
        }
    }
    return TS_OK;
}

ts_err ts_table_append_rows(ts_table *dst, const ts_table *src, const int64_t *idx, int64_t n)
{
    if (dst->ncols != src->ncols)
        TS_FAIL(TS_ERR_INTERNAL, "append to table '%s' from '%s': schemas differ", dst->name, src->name);
    for (int i = 0; i < src->ncols; i++)
        TS_TRY(ts_column_append_rows(dst->cols[i], src->cols[i], idx, n));
    return TS_OK;
}

void ts_table_keep_rows(ts_table *t, const int64_t *idx, int64_t n)
{
    for (int i = 0; i < t->ncols; i++)
        ts_column_keep_rows(t->cols[i], idx, n);
}

ts_err ts_table_view(const ts_table *t, const char *const *names, int n, ts_table **out)
{
    TS_TRY(ts_table_new(t->name, out));
    (*out)->borrowed = 1;
    for (int k = 0; k < n; k++) {
        ts_column *c = ts_table_col(t, names[k]);
        const ts_err err = !c ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                               "table '%s' has no column '%s'", t->name, names[k])
                           : ts_table_col(*out, names[k]) ? TS_OK : ts_table_borrow(*out, c);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            TS_TRY(err);
        }
    }
    return TS_OK;
}

void ts_table_set_sorted(ts_table *t, const char *const *keys, int n)
{
    t->nsort = n > 8 ? 8 : n;
    for (int i = 0; i < t->nsort; i++)
        snprintf(t->sort_keys[i], TS_NAME_MAX, "%s", keys[i]);
}

void ts_table_set_partitioned(ts_table *t, const char *const *keys, int n)
{
    t->npart = n > 8 ? 0 : n; /* more keys than recorded: claim nothing */
    for (int i = 0; i < t->npart; i++)
        snprintf(t->part_keys[i], TS_NAME_MAX, "%s", keys[i]);
}

void ts_table_truncate(ts_table *t, int64_t n)
{
    for (int i = 0; i < t->ncols; i++) {
        ts_column *c = t->cols[i];
        if (n >= c->len)
            continue;
        if (c->type == TS_T_STRING)
            c->nbytes = TS_COL(c, int64_t)[n];
        for (int64_t r = n; c->valid && r < c->len; r++) /* appends later only clear the bits of their NULLs */
            c->valid[r >> 6] |= UINT64_C(1) << (r & 63);
        c->len = n;
    }
}
