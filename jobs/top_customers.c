/* top-customers (docs/jobs/star-schema.md): reads a star-schema warehouse, totals the successful amount_usd per
 * customer (distributed aggregation; a transaction without a USD amount is skipped by the sum and counted as
 * unconverted, as SQL's sum skips NULLs), keeps the top N with ts_top_k (NULL totals last) and names them by a
 * join on dim_customers. The unknown member (customer_key -1: transactions of customers missing from
 * customers.csv) is not a customer and is not ranked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_common.h"
#include "ts_aggregate_dist.h"
#include "ts_exchange.h"
#include "ts_output.h"
#include "ts_h5_read.h"
#include "ts_jobs.h"
#include "ts_join_dist.h"
#include "ts_plan.h"
#include "ts_sort.h"

#define TOP_DEFAULT 100

typedef struct top_state {
    const ts_job_args *args;
    int64_t limit;
    ts_table *fact;      /* customer_key, status, amount_usd (only those columns are read) */
    ts_table *customers; /* customer_key, customer_id, name, country_code */
    ts_table *totals;    /* customer_key, total_usd, txn_count, unconverted_count: this rank's groups */
    ts_table *top;       /* the result, all on rank 0 */
    int64_t unknown[2];  /* successful transactions of the unknown member, and how many lack a USD amount */
} top_state;

static ts_err stage_read(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    top_state *s = vs;
    static const char *const fcols[] = {"customer_key", "status", "amount_usd"};
    static const char *const ccols[] = {"customer_key", "customer_id", "name", "country_code"};
    TS_TRY(ts_h5_read_table(ctx->comm, s->args->in_path, "/warehouse/fact_transactions", fcols, 3, &s->fact));
    TS_TRY(ts_h5_read_table(ctx->comm, s->args->in_path, "/warehouse/dim_customers", ccols, 4, &s->customers));
    st->rows_out = ts_table_rows(s->fact) + ts_table_rows(s->customers);
    return TS_OK;
}

/* Keeps the fact rows whose status is "success" (the status column comes back from HDF5 as STRING); a NaN
 * amount_usd (warehouses of earlier versions stored NaN for a missing rate) becomes NULL. */
static ts_err keep_successful(ts_table *t)
{
    ts_column *status, *usd;
    TS_TRY(ts_table_need(t, "status", &status));
    TS_TRY(ts_table_need(t, "amount_usd", &usd));
    for (int64_t i = 0; i < usd->len; i++)
        if (isnan(TS_COL(usd, double)[i]))
            TS_TRY(ts_column_set_null(usd, i));
    const int64_t n = status->len, *off = TS_COL(status, int64_t);
    int64_t *keep = malloc(8 * (size_t)(n + 1)), nk = 0;
    if (!keep)
        TS_FAIL(TS_ERR_NOMEM, "out of memory filtering %lld fact rows", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (off[i + 1] - off[i] == 7 && memcmp(status->bytes + off[i], "success", 7) == 0)
            keep[nk++] = i;
    ts_table_keep_rows(t, keep, nk);
    free(keep);
    return TS_OK;
}

/* total_usd NULL where no transaction was converted (SQL's sum of NULLs), unconverted_count = txn_count -
 * converted (then dropped); the unknown member's group leaves the ranking (its counts are kept for the report). */
static ts_err finish_totals(top_state *s)
{
    ts_table *t = s->totals;
    ts_column *key, *total, *count, *conv;
    TS_TRY(ts_table_need(t, "customer_key", &key));
    TS_TRY(ts_table_need(t, "total_usd", &total));
    TS_TRY(ts_table_need(t, "txn_count", &count));
    TS_TRY(ts_table_need(t, "unconverted_count", &conv));
    const int64_t n = ts_table_rows(t);
    int64_t *keep = malloc(8 * (size_t)(n + 1)), nk = 0;
    if (!keep)
        TS_FAIL(TS_ERR_NOMEM, "out of memory ranking %lld customers", (long long)n);
    TS_TRY(ts_column_make_nullable(total)); /* so a group without converted amounts can be set NULL */
    for (int64_t i = 0; i < n; i++) {
        int64_t *u = &TS_COL(conv, int64_t)[i];
        const int64_t c = TS_COL(count, int64_t)[i];
        if (*u == 0)
            ts_column_set_null(total, i); /* the bitmap exists: cannot fail */
        *u = c - *u;
        if (TS_COL(key, int64_t)[i] == -1)
            s->unknown[0] += c, s->unknown[1] += *u;
        else
            keep[nk++] = i;
    }
    ts_table_keep_rows(t, keep, nk);
    free(keep);
    return TS_OK;
}

/* Per customer: total_usd = sum of the successful transactions' amount_usd (NULLs skipped), txn_count =
 * successful transactions, unconverted_count = those without amount_usd. Customers without a successful
 * transaction have no row (they cannot be in a top list of totals). */
static ts_err stage_aggregate(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    top_state *s = vs;
    static const char *const keys[] = {"customer_key"};
    static const ts_agg aggs[] = {{TS_AGG_SUM, "amount_usd", NULL, "total_usd", 0, NULL},
                                  {TS_AGG_COUNT, NULL, NULL, "txn_count", 0, NULL},
                                  {TS_AGG_COUNT, "amount_usd", NULL, "unconverted_count", 0, NULL}};
    st->rows_in = ts_table_rows(s->fact);
    TS_TRY(ts_ctx_check(ctx, keep_successful(s->fact)));
    TS_TRY(ts_aggregate_distributed(ctx, s->fact, keys, 1, aggs, 3, "totals", &s->totals));
    ts_table_free(s->fact);
    s->fact = NULL;
    TS_TRY(ts_ctx_check(ctx, finish_totals(s)));
    int64_t g[2];
    TS_MPI(MPI_Allreduce(s->unknown, g, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
    s->unknown[0] = g[0], s->unknown[1] = g[1];
    st->rows_out = ts_table_rows(s->totals);
    return TS_OK;
}

/* Ranking order: total desc with NULL totals last (as SQL's ORDER BY ... DESC NULLS LAST), then customer_key
 * asc, so ties are broken the same way for every P. */
static const ts_sort_key RANK_ORDER[] = {{"total_usd", 1, 1}, {"customer_key", 0, 0}};

/* Adds rank = 1..n (rows already in ranking order) as the first column. */
static ts_err add_rank(ts_table *t)
{
    ts_column *r;
    const int64_t n = ts_table_rows(t);
    TS_TRY(ts_column_new("rank", TS_T_INT64, 0, NULL, &r));
    ts_err err = ts_column_reserve(r, n, 0);
    if (!err)
        err = ts_table_adopt(t, r);
    if (err) {
        ts_column_free(r);
        return err;
    }
    for (int64_t i = 0; i < n; i++)
        TS_COL(r, int64_t)[i] = i + 1;
    r->len = n;
    memmove(t->cols + 1, t->cols, sizeof r * (size_t)(t->ncols - 1));
    t->cols[0] = r;
    return TS_OK;
}

/* Reorders the columns to the output layout. */
static ts_err order_columns(ts_table *t)
{
    static const char *const names[] = {"rank", "customer_key", "customer_id", "name", "country_code",
                                        "total_usd", "txn_count", "unconverted_count"};
    ts_column *cols[8];
    if (t->ncols != 8)
        TS_FAIL(TS_ERR_INTERNAL, "top_customers has %d columns, not 8", t->ncols);
    for (int k = 0; k < 8; k++)
        TS_TRY(ts_table_need(t, names[k], &cols[k]));
    memcpy(t->cols, cols, sizeof cols);
    return TS_OK;
}

/* top k on rank 0, then the customers' names by a join on dim_customers (rows may leave rank 0 in a shuffle
 * join: they are gathered back), then ranked. */
static ts_err stage_top(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    top_state *s = vs;
    static const char *const key[] = {"customer_key"}, *const bring[] = {"customer_id", "name", "country_code"};
    ts_table *top, *named;
    TS_TRY(ts_top_k(ctx, s->totals, RANK_ORDER, 2, s->limit, &top));
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = key, .right_keys = key, .nkeys = 1,
                               .right_cols = bring, .nright = 3, .strategy = bank_join_strategy(), .broadcast_bytes = 0};
    const ts_err err = ts_join(ctx, top, s->customers, &spec, &named, NULL);
    ts_table_free(top);
    TS_TRY(err);
    s->top = named;
    int32_t *dest = calloc((size_t)ts_table_rows(named) + 1, sizeof *dest); /* every row to rank 0 */
    TS_TRY(ts_ctx_check(ctx, dest ? TS_OK
                                  : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                   "out of memory gathering the top rows")));
    const ts_err e2 = ts_exchange_rows_move(ctx, &s->top, dest);
    free(dest);
    TS_TRY(e2);
    ts_err e3 = ts_sort_local_by(&s->top, RANK_ORDER, 2);
    if (!e3)
        e3 = add_rank(s->top);
    if (!e3)
        e3 = order_columns(s->top);
    TS_TRY(ts_ctx_check(ctx, e3));
    static const char *const sorted[] = {"rank"};
    ts_table_set_sorted(s->top, sorted, 1);
    snprintf(s->top->name, sizeof s->top->name, "top_customers");
    st->rows_in = ts_table_rows(s->totals);
    st->rows_out = ts_table_rows(s->top);
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    top_state *s = vs;
    const ts_h5_meta meta = {"top-customers", s->args->in_path, TS_VERSION};
    /* total_usd is nullable whatever the data (the operators since the aggregation keep a bitmap only where a
     * NULL is): a fixed schema */
    TS_TRY(ts_ctx_check(ctx, ts_column_make_nullable(ts_table_col(s->top, "total_usd"))));
    ts_output *f;
    TS_TRY(ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f));
    const ts_err err = ts_ctx_check(ctx, ts_output_write_table(f, "/analytics/top_customers", s->top, NULL));
    if (err) {
        ts_output_abandon(f);
        return err;
    }
    TS_TRY(ts_output_commit(f));
    st->rows_in = st->rows_out = ts_table_rows(s->top);
    return TS_OK;
}

static const char *str_at(const ts_column *c, int64_t i, int *len)
{
    const int64_t *off = TS_COL(c, int64_t);
    *len = (int)(off[i + 1] - off[i]);
    return c->bytes + off[i];
}

/* The ranking on stdout (rank 0). Columns: see order_columns. */
static void print_top(const ts_ctx *ctx, const top_state *s)
{
    if (ctx->rank != 0)
        return;
    ts_column *const *c = s->top->cols;
    printf("%5s %12s %12s  %-32s %-7s %18s %9s %11s\n", "rank", "customer_key", "customer_id", "name", "country",
           "total_usd", "txn_count", "unconverted");
    for (int64_t i = 0; i < ts_table_rows(s->top); i++) {
        int nl, cl;
        const char *name = str_at(c[3], i, &nl), *cc = str_at(c[4], i, &cl);
        char total[32] = "NULL";
        if (ts_column_is_valid(c[5], i))
            snprintf(total, sizeof total, "%.2f", TS_COL(c[5], double)[i]);
        printf("%5lld %12lld %12lld  %-32.*s %-7.*s %18s %9lld %11lld\n", (long long)TS_COL(c[0], int64_t)[i],
               (long long)TS_COL(c[1], int64_t)[i], (long long)TS_COL(c[2], int64_t)[i], nl, name, cl, cc, total,
               (long long)TS_COL(c[6], int64_t)[i], (long long)TS_COL(c[7], int64_t)[i]);
    }
    if (s->unknown[0])
        fprintf(stderr, "not ranked: %lld successful transactions of customers missing from dim_customers "
                "(customer_key -1), %lld of them without USD amount\n", (long long)s->unknown[0],
                (long long)s->unknown[1]);
    fprintf(stderr, "wrote %s\n", s->args->out_path);
}

static ts_err build_plan(ts_plan *p)
{
    ts_plan_init(p, "top-customers");
    TS_TRY(ts_plan_add(p, "read", "h5 read (pruned) fact + dim_customers", stage_read));
    TS_TRY(ts_plan_add(p, "aggregate", "filter success + distributed aggregate", stage_aggregate));
    TS_TRY(ts_plan_add(p, "top-k", "top_k + join dim_customers + gather", stage_top));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

ts_err ts_job_top_customers(ts_ctx *ctx, const ts_job_args *args)
{
    top_state s = {.args = args, .limit = args->limit > 0 ? args->limit : TOP_DEFAULT};
    ts_plan plan;
    ts_err err = ts_ctx_check(ctx, build_plan(&plan));
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    if (!err)
        print_top(ctx, &s);
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    ts_table_free(s.fact), ts_table_free(s.customers), ts_table_free(s.totals), ts_table_free(s.top);
    return err;
}
