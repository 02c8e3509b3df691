#include "ts_distinct.h"

#include <string.h>

#include "ts_exchange.h"
#include "ts_keyhash.h"
#include "ts_keys.h"
#include "ts_mem.h"

#define POS_COL "__distinct_pos"

/* NULL-aware equality: for DISTINCT two NULLs are the same value (unlike join keys). */
static int same_keys(const ts_key_cols *k, int64_t i, int64_t j) { return ts_key_same(k, i, j); }

static double order_value(const ts_column *c, int64_t i)
{
    return c->type == TS_T_FLOAT64 ? TS_COL(c, double)[i] : (double)ts_key_value(c, i);
}

/* 1 when row i should replace the kept row j: better ordering value, or equal and earlier input position. */
static int better(const ts_column *ord, const ts_column *pos, ts_keep keep, int64_t i, int64_t j)
{
    if (ord) {
        const int vi = ts_column_is_valid(ord, i), vj = ts_column_is_valid(ord, j);
        if (vi != vj)
            return vi; /* a row with an ordering value beats one without */
        if (vi) {
            const double a = order_value(ord, i), b = order_value(ord, j);
            if (a != b)
                return keep == TS_KEEP_LATEST ? a > b : a < b;
        }
    }
    return TS_COL(pos, int64_t)[i] < TS_COL(pos, int64_t)[j];
}

/* Chained hash table of kept rows: winner[] holds, per distinct value, the row kept so far. */
static ts_err pick_rows(const ts_table *t, const ts_distinct_spec *spec, int64_t **keep, int64_t *nkeep)
{
    ts_key_cols k;
    TS_TRY(ts_key_cols_resolve(t, spec->cols, spec->ncols, &k));
    const ts_column *ord = spec->order ? ts_table_col(t, spec->order) : NULL, *pos = ts_table_col(t, POS_COL);
    if (spec->order && !ord)
        TS_FAIL(TS_ERR_USAGE, "distinct: no ordering column '%s' in '%s'", spec->order, t->name);
    const int64_t n = ts_table_rows(t);
    uint64_t slots = 16;
    while (slots < (uint64_t)n * 2)
        slots <<= 1;
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    int64_t *head = ts_big(8 * slots), *next = ts_big(8 * (size_t)(n + 1)), *win = ts_big(8 * (size_t)(n + 1));
    if (!h || !head || !next || !win) {
        ts_free(h), ts_free(head), ts_free(next), ts_free(win);
        TS_FAIL(TS_ERR_NOMEM, "out of memory in distinct over %lld rows", (long long)n);
    }
    memset(head, 0xff, 8 * slots);
    ts_key_hash_rows(&k, n, h); /* NULLs hash alike, so equal tuples with NULLs share a chain */
    int64_t groups = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t s = h[i] & (slots - 1);
        int64_t g = head[s];
        while (g >= 0 && !(h[win[g]] == h[i] && same_keys(&k, win[g], i)))
            g = next[g];
        if (g < 0) {
            win[groups] = i, next[groups] = head[s], head[s] = groups++;
        } else if (better(ord, pos, spec->keep, i, win[g])) {
            win[g] = i;
        }
    }
    ts_free(h), ts_free(head), ts_free(next);
    /* kept rows in input order */
    uint8_t *mark = ts_big_zero((size_t)n + 1);
    if (!mark) {
        ts_free(win);
        TS_FAIL(TS_ERR_NOMEM, "out of memory in distinct");
    }
    for (int64_t g = 0; g < groups; g++)
        mark[win[g]] = 1;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (mark[i])
            win[m++] = i;
    ts_free(mark);
    *keep = win, *nkeep = m;
    return TS_OK;
}

/* Input position column (global order), then partition by the hash of the distinct columns. */
static ts_err partition(ts_ctx *ctx, ts_table **t, const ts_distinct_spec *spec)
{
    const int64_t n = ts_table_rows(*t);
    int64_t first = 0;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        first = 0;
    ts_column *pos;
    TS_TRY(ts_table_add(*t, POS_COL, TS_T_INT64, 0, NULL, &pos));
    TS_TRY(ts_column_reserve(pos, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(pos, int64_t)[i] = first + i;
    pos->len = n;
    ts_key_cols k;
    TS_TRY(ts_key_cols_resolve(*t, spec->cols, spec->ncols, &k));
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    int32_t *dest = ts_big(4 * (size_t)(n + 1));
    ts_err err = h && dest ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err) {
        ts_key_hash_rows(&k, n, h);
        for (int64_t i = 0; i < n; i++)
            dest[i] = (int32_t)(h[i] % (uint64_t)ctx->size);
    }
    ts_free(h);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows_move(ctx, t, dest);
    ts_free(dest);
    return err;
}

ts_err ts_distinct(ts_ctx *ctx, ts_table **t, const ts_distinct_spec *spec, int64_t *removed)
{
    TS_TRY(ts_ctx_check(ctx, partition(ctx, t, spec)));
    int64_t *keep = NULL, m = 0;
    const int64_t n = ts_table_rows(*t);
    ts_err err = ts_ctx_check(ctx, pick_rows(*t, spec, &keep, &m));
    if (!err) {
        ts_table_keep_rows(*t, keep, m);
        ts_column_free((*t)->cols[--(*t)->ncols]); /* the position column */
        if (removed)
            *removed = n - m;
    }
    ts_free(keep);
    return err;
}
