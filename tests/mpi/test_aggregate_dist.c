/* ts_aggregate_distributed on P ranks against the naive reference of tests/unit/test_aggregate_full.c.
 * Row g of the global table is a function of g alone and rank r holds a contiguous block of rows, so the global
 * table (and its row order, which FIRST/LAST follow) is the same for every P. The result is gathered to rank 0
 * and checked there against the reference over the whole table, built on rank 0: the two-phase path (every
 * decomposable aggregate) and the row-exchange path (quantiles, count distinct). */
#include <mpi.h>
#include <stdlib.h>

#define TS_AGG_REF_ONLY
#include "../unit/test_aggregate_full.c"
#include "ts_aggregate_dist.h"
#include "ts_exchange.h"

/* Rows [lo, hi) of the global table of a layout (dist: 0 random, 1 all-equal keys, 2 hot key). */
static ts_table *rows_of(ts_dict *d, int dist, int64_t lo, int64_t hi)
{
    ts_table *t = ref_schema("in", d);
    for (int64_t g = lo; g < hi; g++) {
        ts_test_rng r = ts_rng_seed(UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(g + 1) + (uint64_t)dist);
        ts_rng_next(&r);
        ref_row(t, &r, dist, 300);
    }
    return t;
}

/* Moves every row of *t to rank 0. */
static void gather(ts_ctx *ctx, ts_table **t)
{
    int32_t *dest = calloc((size_t)ts_table_rows(*t) + 1, sizeof *dest);
    CHECK_OK(ts_exchange_rows_move(ctx, t, dest));
    free(dest);
}

/* Routes the rows by the hash of key `ks` (as an earlier aggregation by ks would have left them) and records it. */
static void run_layout(ts_ctx *ctx, ts_dict *d, int dist, int64_t n, int skew, const char *const *keys, int nkeys,
                       const ts_agg *aggs, int naggs, const char *what, int prepartitioned);

static void partition_by_ks(ts_ctx *ctx, ts_table **t)
{
    static const char *const ks[] = {"ks"};
    int32_t *dest = calloc((size_t)ts_table_rows(*t) + 1, sizeof *dest);
    CHECK_OK(ts_aggregate_dest(*t, ks, 1, ctx->size, dest));
    CHECK_OK(ts_exchange_rows_move(ctx, t, dest));
    free(dest);
    ts_table_set_partitioned(*t, ks, 1);
}

static void run(ts_ctx *ctx, ts_dict *d, int dist, int64_t n, int skew, const char *const *keys, int nkeys,
                const ts_agg *aggs, int naggs, const char *what)
{
    run_layout(ctx, d, dist, n, skew, keys, nkeys, aggs, naggs, what, 0);
}

/* prepartitioned: the input is already hash-partitioned on ks (a subset of the keys): the aggregation must not
 * exchange a byte, and must give the same groups. */
static void run_layout(ts_ctx *ctx, ts_dict *d, int dist, int64_t n, int skew, const char *const *keys, int nkeys,
                       const ts_agg *aggs, int naggs, const char *what, int prepartitioned)
{
    const int p = ctx->size, r = ctx->rank;
    /* skew: rank 0 gets nothing, the last rank the most */
    int64_t lo = n * r / p, hi = n * (r + 1) / p;
    if (skew && p > 1)
        lo = r == 0 ? 0 : n * (r - 1) / (p - 1), hi = r == 0 ? 0 : n * r / (p - 1);
    ts_table *local = rows_of(d, dist, lo, hi), *out = NULL;
    if (prepartitioned)
        partition_by_ks(ctx, &local);
    const int64_t sent = ctx->bytes_sent;
    if (!CHECK_OK(ts_aggregate_distributed(ctx, local, keys, nkeys, aggs, naggs, "agg", &out))) {
        ts_table_free(local);
        return;
    }
    if (prepartitioned)
        CHECK(ctx->bytes_sent == sent && out->npart == 1, "%s: %lld bytes exchanged by an aggregation over "
              "partitioned input", what, (long long)(ctx->bytes_sent - sent));
    /* each group on exactly one rank: the global group count equals the reference's */
    gather(ctx, &out);
    if (r == 0) {
        ts_table *all = rows_of(d, dist, 0, n);
        char w[160];
        snprintf(w, sizeof w, "%s P=%d dist %d n %lld skew %d", what, p, dist, (long long)n, skew);
        CHECK(ref_check(all, keys, nkeys, aggs, naggs, out, 1, 1e-12, w) == 0, "%s", w);
        ts_table_free(all);
    }
    ts_table_free(out), ts_table_free(local);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 1;
    }
    ts_dict *d = ref_dict();
    static const char *const k1[] = {"ks"}, *const k3[] = {"ks", "kf", "ki"}, *const k2[] = {"kd", "kt"};
    const int64_t sizes[] = {0, 5, 2500};
    for (int dist = 0; dist < 3; dist++)
        for (int s = 0; s < 3; s++)
            for (int skew = 0; skew < 2; skew++) {
                run(&ctx, d, dist, sizes[s], skew, k1, 1, REF_DECOMP, REF_NDECOMP, "two-phase ks");
                run(&ctx, d, dist, sizes[s], skew, k3, 3, REF_DECOMP, REF_NDECOMP, "two-phase ks,kf,ki");
                run(&ctx, d, dist, sizes[s], skew, k2, 2, REF_ROWS, REF_NROWS, "rows kd,kt");
                run(&ctx, d, dist, sizes[s], skew, k3, 3, REF_ROWS, REF_NROWS, "rows ks,kf,ki");
                /* order-free aggregates (the exchange that partitions reorders rows: no FIRST/LAST here) */
                run_layout(&ctx, d, dist, sizes[s], skew, k3, 3, REF_DECOMP, 8, "partitioned ks,kf,ki", 1);
                run_layout(&ctx, d, dist, sizes[s], skew, k1, 1, REF_ROWS, REF_NROWS, "partitioned rows ks", 1);
            }
    ts_dict_release(d);
    /* every rank's verdict: a failure on rank 0 fails the run on every rank */
    long failed = ts_test_failed, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    ts_test_failed = any;
    const int rc = ctx.rank == 0 ? TS_TEST_DONE("test_aggregate_dist") : (any ? 1 : 0);
    ts_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
