#include "ts_chunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"

ts_err ts_chunk_new(const char *name, ts_chunk **out)
{
    ts_chunk *c = calloc(1, sizeof *c);
    if (!c)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a chunk");
    snprintf(c->schema.name, sizeof c->schema.name, "%s", name);
    c->schema.borrowed = 1;
    c->schema.cols = c->schema_cols, c->schema.cap_cols = TS_MAX_COLS;
    *out = c;
    return TS_OK;
}

void ts_chunk_free(ts_chunk *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->schema.ncols; i++) {
        if (c->owned[i]) {
            ts_column *v = c->viewing[i] ? &c->store[i] : &c->col[i];
            ts_free(v->data), ts_free(v->bytes), ts_free(v->valid), ts_free(v->valid_spare);
        }
        ts_dict_release(c->col[i].dict);
    }
    free(c);
}

static ts_err add_column(ts_chunk *c, const char *name, ts_type type, int scale, ts_dict *dict, int *idx)
{
    if (c->schema.ncols == TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "'%s': more than %d columns", c->schema.name, TS_MAX_COLS);
    if (strlen(name) >= TS_NAME_MAX)
        TS_FAIL(TS_ERR_USAGE, "column name '%s' is longer than %d bytes", name, TS_NAME_MAX - 1);
    const int i = c->schema.ncols++;
    ts_column *v = &c->col[i];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = type, v->scale = scale, v->dict = ts_dict_retain(dict);
    c->schema.cols[i] = v;
    c->viewing[i] = 1; /* no arrays yet */
    if (idx)
        *idx = i;
    return TS_OK;
}

ts_err ts_chunk_add_view(ts_chunk *c, const char *name, const ts_column *like, int *idx)
{
    return add_column(c, name, like->type, like->scale, like->dict, idx);
}

ts_err ts_chunk_add_vector(ts_chunk *c, const char *name, ts_type type, int scale, ts_dict *dict, int *idx)
{
    int i = 0;
    TS_TRY(add_column(c, name, type, scale, dict, &i));
    if (idx)
        *idx = i;
    ts_column *v;
    return ts_chunk_vector(c, i, &v);
}

ts_err ts_chunk_vector(ts_chunk *c, int i, ts_column **out)
{
    ts_column *v = &c->col[i];
    if (c->viewing[i]) {
        if (c->owned[i]) { /* bring the kept arrays back */
            v->data = c->store[i].data, v->bytes = c->store[i].bytes, v->bytes_cap = c->store[i].bytes_cap;
            v->valid = c->store[i].valid, v->valid_spare = c->store[i].valid_spare, v->cap = c->store[i].cap;
        } else {
            v->data = v->bytes = NULL, v->valid = v->valid_spare = NULL, v->cap = v->bytes_cap = 0;
            c->owned[i] = 1, c->viewing[i] = 0;
            /* every row's value slot up front, and a first payload for strings: filling never reallocates but
             * for strings longer than seen before */
            TS_TRY(ts_column_reserve(v, TS_CHUNK_ROWS, v->type == TS_T_STRING ? 16 * TS_CHUNK_ROWS : 0));
        }
        c->viewing[i] = 0;
    }
    ts_column_clear(v);
    *out = v;
    return TS_OK;
}

ts_err ts_chunk_add_like(ts_chunk *c, const ts_table *t, int views)
{
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *s = t->cols[i];
        TS_TRY(views ? ts_chunk_add_view(c, s->name, s, NULL)
                     : ts_chunk_add_vector(c, s->name, s->type, s->scale, s->dict, NULL));
    }
    return TS_OK;
}

void ts_chunk_begin(ts_chunk *c, int64_t n)
{
    c->n = n, c->sel = NULL, c->nsel = 0;
    for (int i = 0; i < c->schema.ncols; i++)
        if (c->owned[i] && !c->viewing[i])
            ts_column_clear(&c->col[i]);
}

ts_err ts_chunk_set_view(ts_chunk *c, int i, const ts_column *src, int64_t start, int64_t n)
{
    ts_column *v = &c->col[i];
    if (src->valid && (start & 63))
        TS_FAIL(TS_ERR_INTERNAL, "a view of column '%s' with nulls starts at row %lld, not a multiple of 64",
                src->name, (long long)start);
    if (c->owned[i] && !c->viewing[i]) /* keep the vector's arrays aside */
        c->store[i] = *v;
    c->viewing[i] = 1;
    const size_t w = ts_type_width(src->type);
    v->data = (char *)src->data + (size_t)start * w; /* STRING: offsets[start ..], absolute into src->bytes */
    v->bytes = src->bytes, v->nbytes = src->nbytes;
    v->valid = src->valid ? src->valid + start / 64 : NULL;
    v->valid_spare = NULL;
    v->len = n, v->cap = n, v->bytes_cap = 0;
    return TS_OK;
}

ts_err ts_chunk_view_table(ts_chunk *c, const ts_table *t, int64_t start, int64_t n)
{
    ts_chunk_begin(c, n);
    for (int i = 0; i < c->schema.ncols && i < t->ncols; i++)
        TS_TRY(ts_chunk_set_view(c, i, t->cols[i], start, n));
    return TS_OK;
}

const int32_t *ts_chunk_rows(const ts_chunk *c, int32_t *buf)
{
    if (c->sel)
        return c->sel;
    for (int32_t i = 0; i < (int32_t)c->n; i++)
        buf[i] = i;
    return buf;
}

void ts_chunk_select(ts_chunk *c, const int32_t *rows, int n)
{
    if (rows != c->sel_buf)
        memmove(c->sel_buf, rows, sizeof *rows * (size_t)n);
    c->sel = c->sel_buf, c->nsel = n;
}

/* Gather of fixed-width values by a 32-bit selection. */
#define GATHER_SEL(T)                                                                                         \
    do {                                                                                                      \
        const T *s = (const T *)src->data;                                                                    \
        T *d = (T *)dst->data + dst->len;                                                                     \
        if (sel)                                                                                              \
            for (int64_t k = 0; k < n; k++)                                                                   \
                d[k] = s[sel[k]];                                                                             \
        else if (n)                                                                                           \
            memcpy(d, s, (size_t)n * sizeof(T));                                                              \
    } while (0)

static ts_err append_strings_sel(ts_column *dst, const ts_column *src, const int32_t *sel, int64_t n)
{
    const int64_t *so = TS_COL(src, int64_t);
    int64_t need = 0;
    for (int64_t k = 0; k < n; k++) {
        const int64_t r = sel ? sel[k] : k;
        need += so[r + 1] - so[r];
    }
    TS_TRY(ts_column_reserve(dst, dst->len + n, dst->nbytes + need));
    int64_t *dof = TS_COL(dst, int64_t);
    char *out = dst->bytes;
    int64_t at = dst->nbytes;
    for (int64_t k = 0; k < n; k++) {
        const int64_t r = sel ? sel[k] : k, l = so[r + 1] - so[r];
        if (l)
            memcpy(out + at, src->bytes + so[r], (size_t)l);
        at += l;
        dof[dst->len + k + 1] = at;
    }
    dst->nbytes = at;
    return TS_OK;
}

ts_err ts_column_append_sel(ts_column *dst, const ts_column *src, const int32_t *sel, int64_t n)
{
    if (dst->type != src->type)
        TS_FAIL(TS_ERR_INTERNAL, "append to column '%s' from a column of another type", dst->name);
    const int64_t base = dst->len;
    if (src->type == TS_T_STRING) {
        TS_TRY(append_strings_sel(dst, src, sel, n));
    } else {
        TS_TRY(ts_column_reserve(dst, dst->len + n, 0));
        switch (ts_type_width(src->type)) {
        case 1: GATHER_SEL(uint8_t); break;
        case 4: GATHER_SEL(uint32_t); break;
        default: GATHER_SEL(uint64_t); break;
        }
    }
    dst->len = base + n;
    if (src->valid)
        for (int64_t k = 0; k < n; k++)
            if (!ts_column_is_valid(src, sel ? sel[k] : k))
                TS_TRY(ts_column_set_null(dst, base + k));
    return TS_OK;
}

ts_err ts_chunk_append_to(const ts_chunk *c, ts_table *dst)
{
    if (dst->ncols != c->schema.ncols)
        TS_FAIL(TS_ERR_INTERNAL, "appending chunk '%s' to table '%s': schemas differ", c->schema.name, dst->name);
    for (int i = 0; i < c->schema.ncols; i++)
        TS_TRY(ts_column_append_sel(dst->cols[i], &c->col[i], c->sel, ts_chunk_live(c)));
    return TS_OK;
}

ts_err ts_chunk_gather(const ts_chunk *src, ts_chunk *dst)
{
    ts_chunk_begin(dst, ts_chunk_live(src));
    for (int i = 0; i < src->schema.ncols; i++) {
        ts_column *v;
        TS_TRY(ts_chunk_vector(dst, i, &v));
        TS_TRY(ts_column_append_sel(v, &src->col[i], src->sel, ts_chunk_live(src)));
    }
    return TS_OK;
}

int64_t ts_chunk_bytes(const ts_chunk *c)
{
    int64_t b = 0;
    for (int i = 0; i < c->schema.ncols; i++)
        if (c->owned[i]) {
            const ts_column *v = c->viewing[i] ? &c->store[i] : &c->col[i];
            b += v->cap * (int64_t)ts_type_width(v->type) + v->bytes_cap + (v->valid || v->valid_spare ? v->cap / 8 : 0);
        }
    return b;
}
