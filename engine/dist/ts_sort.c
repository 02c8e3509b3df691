/* Distributed sorting: the sample sort and the global top k (local pieces in ops/ts_sort_local.c). */
#include "ts_sort.h"

#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_mem.h"

#define ORDER_COL "__sort_order"

/* Adds ORDER_COL = global input position (exclusive prefix sum of row counts + local index). */
static ts_err add_order(ts_ctx *ctx, ts_table *t)
{
    const int64_t n = ts_table_rows(t);
    int64_t first = 0;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        first = 0; /* MPI_Exscan leaves rank 0's result undefined */
    ts_column *c;
    TS_TRY(ts_table_add(t, ORDER_COL, TS_T_INT64, 0, NULL, &c));
    TS_TRY(ts_column_reserve(c, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(c, int64_t)[i] = first + i;
    c->len = n;
    return TS_OK;
}

static void drop_last_column(ts_table *t) { ts_column_free(t->cols[--t->ncols]); }

ts_err ts_sort_allgather(ts_ctx *ctx, const ts_table *t, ts_table **out)
{
    *out = NULL;
    const int64_t n = ts_table_rows(t);
    ts_table *rep;
    TS_TRY(ts_table_new_like(t, t->name, &rep));
    int64_t *pick = malloc(8 * (size_t)(n * ctx->size + 1));
    int32_t *dest = malloc(4 * (size_t)(n * ctx->size + 1));
    ts_err err = pick && dest ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int r = 0; !err && r < ctx->size; r++) /* every row, once per destination rank */
        for (int64_t i = 0; i < n; i++)
            pick[r * n + i] = i, dest[r * n + i] = r;
    if (!err)
        err = ts_table_append_rows(rep, t, pick, n * ctx->size);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, rep, dest, out);
    free(pick), free(dest), ts_table_free(rep);
    return err;
}

/* Every rank receives every rank's regular samples of its sorted rows (in rank order), then picks the same
 * P-1 splitters. */
static ts_err gather_samples(ts_ctx *ctx, const ts_table *t, const ts_sort_key *keys, int nkeys, ts_table **all)
{
    const int64_t n = ts_table_rows(t), per = n < 32 ? n : 32;
    ts_table *keys_only, *rep = NULL;
    TS_TRY(ts_table_new("samples", &keys_only));
    ts_err err = TS_OK;
    int64_t pick[32];
    for (int k = 0; !err && k < nkeys; k++) {
        ts_column *c;
        err = ts_column_new_like(ts_table_col(t, keys[k].name), &c);
        if (!err)
            err = ts_table_adopt(keys_only, c);
    }
    for (int64_t s = 0; s < per; s++)
        pick[s] = (2 * s + 1) * n / (2 * per);
    for (int k = 0; !err && k < nkeys; k++)
        err = ts_column_append_rows(keys_only->cols[k], ts_table_col(t, keys[k].name), pick, per);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_sort_allgather(ctx, keys_only, &rep);
    ts_table_free(keys_only);
    if (!err)
        err = ts_sort_local_keys(&rep, keys, nkeys);
    *all = rep;
    return err;
}

ts_err ts_sort_dest(const ts_table *t, const ts_table *splitters, const ts_sort_key *keys, int nkeys, int32_t *dest)
{
    ts_sort_keyset row_keys, split_keys;
    TS_TRY(ts_sort_keyset_resolve(t, keys, nkeys, &row_keys));
    TS_TRY(ts_sort_keyset_resolve(splitters, keys, nkeys, &split_keys));
    const int64_t n = ts_table_rows(t);
    const int m = (int)ts_table_rows(splitters);
    for (int64_t i = 0; i < n; i++) {
        int lo = 0, hi = m; /* the answer lies in [lo, hi] */
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (ts_sort_keyset_cmp(&split_keys, mid - 1, &row_keys, i) <= 0)
                lo = mid;
            else
                hi = mid - 1;
        }
        dest[i] = lo;
    }
    return TS_OK;
}

/* Destination of each (locally sorted) row: the number of splitters (samples[mid * m / P], mid = 1 .. P-1) not
 * greater than it. */
static ts_err splitter_ranks(ts_ctx *ctx, const ts_table *t, const ts_table *samples, const ts_sort_key *keys,
                             int nkeys, int32_t *dest)
{
    const int64_t m = ts_table_rows(samples);
    int64_t pick[1024];
    int np = 0;
    for (int mid = 1; m && mid < ctx->size && np < 1024; mid++) /* m == 0 only when no rank has rows */
        pick[np++] = (int64_t)mid * m / ctx->size;
    ts_table *split;
    TS_TRY(ts_table_new_like(samples, "splitters", &split));
    ts_err err = ts_table_append_rows(split, samples, pick, np);
    if (!err)
        err = ts_sort_dest(t, split, keys, nkeys, dest);
    ts_table_free(split);
    return err;
}

ts_err ts_sort_distributed_by(ts_ctx *ctx, ts_table **t, const ts_sort_key *keys, int nkeys)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    if (ctx->size == 1)
        return ts_sort_local_keys(t, keys, nkeys);
    /* the input position as a last key makes every row distinct: stable, and balanced under duplicates */
    ts_sort_key ext[9];
    memcpy(ext, keys, sizeof *keys * (size_t)nkeys);
    ext[nkeys] = (ts_sort_key){ORDER_COL, 0, 0};
    TS_TRY(ts_ctx_check(ctx, add_order(ctx, *t)));
    /* a view does not own the order column it was given: the sorted copy has its own, so free this one */
    ts_column *view_order = (*t)->borrowed ? (*t)->cols[(*t)->ncols - 1] : NULL;
    ts_err err = ts_ctx_check(ctx, ts_sort_local_keys(t, ext, nkeys + 1));
    if (view_order) {
        if (err) /* *t is still the view */
            (*t)->ncols--;
        ts_column_free(view_order);
    }
    ts_table *samples = NULL;
    if (!err)
        err = gather_samples(ctx, *t, ext, nkeys + 1, &samples);
    const int64_t n = ts_table_rows(*t);
    int32_t *dest = ts_big(4 * (size_t)(n + 1));
    if (!err)
        err = dest ? splitter_ranks(ctx, *t, samples, ext, nkeys + 1, dest)
                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows_move(ctx, t, dest);
    ts_free(dest), ts_table_free(samples);
    if (!err)
        err = ts_ctx_check(ctx, ts_sort_local_keys(t, ext, nkeys + 1));
    TS_TRY(err);
    drop_last_column(*t);
    ts_sort_record_keys(*t, keys, nkeys);
    return TS_OK;
}

/* ---- top k ------------------------------------------------------------------------------------------------- */

ts_err ts_top_k(ts_ctx *ctx, const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t k, ts_table **out)
{
    if (k < 0)
        TS_FAIL(TS_ERR_USAGE, "top-k needs k >= 0, not %lld", (long long)k);
    ts_sort_key ext[9];
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    memcpy(ext, keys, sizeof *keys * (size_t)nkeys);
    ext[nkeys] = (ts_sort_key){ORDER_COL, 0, 0};
    ts_table *work, *gathered = NULL;
    TS_TRY(ts_table_new_like(t, t->name, &work));
    ts_err err = ts_table_append_rows(work, t, NULL, ts_table_rows(t));
    err = ts_ctx_check(ctx, err ? err : add_order(ctx, work));
    ts_sort_keyset ks;
    int64_t *best = NULL, m = 0;
    int32_t *dest = NULL;
    if (!err)
        err = ts_sort_keyset_resolve(work, ext, nkeys + 1, &ks);
    if (!err)
        err = ts_sort_local_top(work, &ks, k, &best, &m);
    if (!err && !(dest = calloc((size_t)m + 1, sizeof *dest)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    ts_table *picked = NULL;
    if (!err)
        err = ts_table_new_like(work, t->name, &picked);
    if (!err)
        err = ts_table_append_rows(picked, work, best, m);
    err = ts_ctx_check(ctx, err);
    if (!err) /* every candidate to rank 0, which sorts P * k rows and keeps k */
        err = ts_exchange_rows(ctx, picked, dest, &gathered);
    if (!err)
        err = ts_sort_local_keys(&gathered, ext, nkeys + 1);
    if (!err && ts_table_rows(gathered) > k) {
        int64_t *first = ts_big(8 * (size_t)(k + 1));
        for (int64_t i = 0; first && i < k; i++)
            first[i] = i;
        if (first)
            ts_table_keep_rows(gathered, first, k);
        else
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        ts_free(first);
    }
    err = ts_ctx_check(ctx, err);
    ts_free(best), free(dest), ts_table_free(work), ts_table_free(picked);
    if (err) {
        ts_table_free(gathered);
        return err;
    }
    drop_last_column(gathered);
    ts_sort_record_keys(gathered, keys, nkeys);
    *out = gathered;
    return TS_OK;
}


/* ---- shorthand ------------------------------------------------------------------------------------------------ */

ts_err ts_sort_distributed(ts_ctx *ctx, ts_table **t, const char *const *keys, int nkeys)
{
    ts_sort_key k[8];
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    return ts_sort_distributed_by(ctx, t, k, ts_sort_ascending(keys, nkeys, k));
}

