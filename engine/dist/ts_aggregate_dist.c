#include "ts_aggregate_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_hash.h"
#include "ts_keys.h"
#include "ts_partition.h"

ts_err ts_aggregate_dest(const ts_table *t, const char *const *keys, int nkeys, int nranks, int32_t *dest)
{
    return ts_partition_dest(t, keys, nkeys, nranks, dest);
}

/* Adds column `name` of in to the borrowing view unless present (a key may also be an input). */
static ts_err view_add(ts_table *view, const ts_table *in, const char *name)
{
    if (!name || ts_table_col(view, name))
        return TS_OK;
    ts_column *c;
    TS_TRY(ts_table_need(in, name, &c));
    return ts_table_borrow(view, c);
}

/* The columns the aggregation reads, borrowed from in (view does not own them: never ts_table_free it; free
 * view->cols, its column list, even on failure). */
static ts_err needed_columns(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs,
                             int naggs, ts_table *view)
{
    memset(view, 0, sizeof *view);
    memcpy(view->name, in->name, sizeof view->name);
    for (int k = 0; k < nkeys; k++)
        TS_TRY(view_add(view, in, keys[k]));
    for (int a = 0; a < naggs; a++) {
        TS_TRY(view_add(view, in, aggs[a].input));
        TS_TRY(view_add(view, in, aggs[a].where));
        if (aggs[a].kind == TS_AGG_FIRST || aggs[a].kind == TS_AGG_LAST || aggs[a].kind >= TS_AGG_COVAR_POP)
            TS_TRY(view_add(view, in, aggs[a].order)); /* an ordering, or covariances' second argument */
    }
    return TS_OK;
}

/* Sends the rows of t by key hash; *moved (new) holds the rows this rank receives. */
static ts_err route(ts_ctx *ctx, const ts_table *t, const char *const *keys, int nkeys, ts_table **moved)
{
    int32_t *dest = malloc(4 * (size_t)(ts_table_rows(t) + 1));
    ts_err err = dest ? ts_aggregate_dest(t, keys, nkeys, ctx->size, dest)
                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory routing rows");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, t, dest, moved);
    free(dest);
    return err;
}

/* Two-phase: partial states per local group, exchange of the states, merge. */
static ts_err two_phase(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs,
                        int naggs, const char *name, ts_table **out)
{
    /* global position of this rank's first row: FIRST/LAST follow the global row order */
    int64_t n = ts_table_rows(in), base = 0;
    TS_MPI(MPI_Exscan(&n, &base, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        base = 0;
    ts_table *part = NULL, *moved = NULL;
    ts_err err = ts_ctx_check(ctx, ts_aggregate_partial(in, keys, nkeys, aggs, naggs, base, "partial", &part));
    if (!err)
        err = route(ctx, part, keys, nkeys, &moved);
    ts_table_free(part);
    if (!err)
        err = ts_ctx_check(ctx, ts_aggregate_merge(moved, keys, nkeys, aggs, naggs, name, out));
    ts_table_free(moved);
    return err;
}

/* One phase: the rows move, then each rank aggregates its groups. */
static ts_err by_rows(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs,
                     int naggs, const char *name, ts_table **out)
{
    ts_table view, *moved = NULL;
    ts_err err = ts_ctx_check(ctx, needed_columns(in, keys, nkeys, aggs, naggs, &view));
    if (!err)
        err = route(ctx, &view, keys, nkeys, &moved);
    if (!err)
        err = ts_ctx_check(ctx, ts_hash_aggregate(moved, keys, nkeys, aggs, naggs, name, out));
    free(view.cols);
    ts_table_free(moved);
    return err;
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Groups among n rows estimated from d distinct keys in a uniform sample of s of them: the G solving
 * G (1 - exp(-s / G)) = d (the expected distinct count of s draws from G equally likely keys), by bisection. */
static double estimate_groups(double d, double s, double n)
{
    if (d >= s)
        return n;
    double lo = d, hi = n > d ? n : d;
    for (int it = 0; it < 100; it++) {
        const double g = 0.5 * (lo + hi);
        if (g * (1 - exp(-s / g)) < d)
            lo = g;
        else
            hi = g;
    }
    return 0.5 * (lo + hi);
}

/* 1 when the keys look nearly unique (a sample of every rank's rows estimates more groups than half the rows):
 * partial states would be as many as the rows and the two-phase aggregation would do the work twice. */
ts_err ts_aggregate_mostly_distinct(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys, int *out,
                                    double *groups_per_row)
{
    enum { SAMPLE = 1 << 16 };
    const int64_t n = ts_table_rows(in), m = n < SAMPLE ? n : SAMPLE;
    int64_t *idx = malloc(sizeof *idx * (size_t)(m + 1));
    int32_t *hash = malloc(sizeof *hash * (size_t)(m + 1));
    ts_table view = {.cols = NULL}, *sample = NULL;
    ts_err err = idx && hash ? needed_columns(in, keys, nkeys, NULL, 0, &view)
                             : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < m; i++) /* evenly spaced rows */
        idx[i] = i * n / m;
    if (!err)
        err = ts_table_new_like(&view, "sample", &sample);
    if (!err)
        err = ts_table_append_rows(sample, &view, idx, m);
    if (!err) /* 31-bit key hashes: "ranks" as many as an int32 holds */
        err = ts_aggregate_dest(sample, keys, nkeys, INT32_MAX, hash);
    ts_table_free(sample);
    free(view.cols);
    double ratio[2] = {0, 0}; /* sum over ranks of estimated groups / rows, ranks with rows */
    if (!err && m) {
        qsort(hash, (size_t)m, sizeof *hash, cmp_i32);
        int64_t d = 0;
        for (int64_t i = 0; i < m; i++)
            d += i == 0 || hash[i] != hash[i - 1];
        ratio[0] = estimate_groups((double)d, (double)m, (double)n) / (double)n, ratio[1] = 1;
    }
    free(idx), free(hash);
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, ratio, 2, MPI_DOUBLE, MPI_SUM, ctx->comm));
    *out = ratio[1] > 0 && ratio[0] / ratio[1] > 0.5;
    if (groups_per_row)
        *groups_per_row = ratio[1] > 0 ? ratio[0] / ratio[1] : 0;
    return TS_OK;
}

int ts_aggregate_is_local(const ts_table *in, const char *const *keys, int nkeys)
{
    return ts_partitioned_on(in, keys, nkeys);
}

ts_err ts_aggregate_distributed(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys,
                                const ts_agg *aggs, int naggs, const char *name, ts_table **out)
{
    *out = NULL;
    ts_err err;
    int distinct = 0;
    const int local = ctx->size == 1 || ts_aggregate_is_local(in, keys, nkeys);
    if (local) /* nothing to combine: one pass */
        err = ts_ctx_check(ctx, ts_hash_aggregate(in, keys, nkeys, aggs, naggs, name, out));
    else if (!(err = nkeys ? ts_aggregate_mostly_distinct(ctx, in, keys, nkeys, &distinct, NULL) : TS_OK) &&
             ts_agg_decomposable(aggs, naggs) && !distinct)
        err = two_phase(ctx, in, keys, nkeys, aggs, naggs, name, out);
    else if (!err)
        err = by_rows(ctx, in, keys, nkeys, aggs, naggs, name, out);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
        TS_TRY(err);
    }
    if (local && in->npart) { /* groups stayed where the input's partitioning put them */
        const char *kept[8];
        for (int p = 0; p < in->npart; p++)
            kept[p] = in->part_keys[p];
        ts_table_set_partitioned(*out, kept, in->npart);
    } else {
        ts_table_set_partitioned(*out, keys, nkeys);
    }
    return TS_OK;
}
