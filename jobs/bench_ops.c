/* bench-ops: the operator benchmark of issue 3, run as a plan so --profile times each operator.
 * The files DIR/x/NAME.csv (id, g2, g5, g7, yid, v1, v3) and DIR/y/NAME.csv (id, w), written by scripts/bench/ops.sh, are scanned
 * with the rules in jobs/rules/bench_{x,y}.rules, then: inner join x.yid = y.id, group-bys on g2 / g5 / g7
 * (about 10^2, 10^5 and N groups), and a distributed sort of x by (v3, id). Each operator's result is reduced to
 * a checksum that DuckDB computes too (scripts/bench/ops.sh compares them), and the checksums are written to
 * /bench/results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate_dist.h"
#include "ts_builtin_rules.h"
#include "ts_exchange.h"
#include "ts_output.h"
#include "ts_join_dist.h"
#include "ts_jobs.h"
#include "ts_plan.h"
#include "ts_rules.h"
#include "ts_scan.h"
#include "ts_sort.h"

#define MOD UINT64_C(2305843009213693951) /* 2^61 - 1: checksums stay exact and comparable with SQL */
#define NRESULTS 5

typedef struct bench_state {
    const ts_job_args *args;
    ts_scan x, y;
    char op[NRESULTS][32];
    int64_t rows[NRESULTS];
    uint64_t sum[NRESULTS];
    int nresults;
} bench_state;

static void record(bench_state *s, const char *op, int64_t rows, uint64_t sum)
{
    snprintf(s->op[s->nresults], sizeof s->op[0], "%s", op);
    s->rows[s->nresults] = rows, s->sum[s->nresults++] = sum;
}

/* Global (sum of rows, sum of values mod 2^61-1). */
static ts_err reduce(ts_ctx *ctx, int64_t rows, uint64_t sum, int64_t *grows, uint64_t *gsum)
{
    uint64_t all = 0;
    TS_MPI(MPI_Allreduce(&rows, grows, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    uint64_t *parts = malloc(sizeof *parts * (size_t)ctx->size);
    if (!parts)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    TS_MPI(MPI_Allgather(&sum, 1, MPI_UINT64_T, parts, 1, MPI_UINT64_T, ctx->comm));
    for (int r = 0; r < ctx->size; r++)
        all = (all + parts[r]) % MOD;
    free(parts);
    *gsum = all;
    return TS_OK;
}

static ts_err scan(ts_ctx *ctx, const bench_state *s, const char *rules_text, const char *sub, ts_scan *out,
                   ts_stage_stats *st)
{
    ts_rules *r;
    char dir[4200];
    TS_TRY(ts_rules_parse(rules_text, sub, &r));
    snprintf(dir, sizeof dir, "%s/%s", s->args->data_dir, sub);
    const ts_err err = ts_scan_csv(ctx, dir, &r->spec, out);
    ts_rules_free(r);
    TS_TRY(err);
    if (ts_table_rows(out->rejects))
        TS_FAIL(TS_ERR_DATA, "%s: %lld rows do not parse", dir, (long long)ts_table_rows(out->rejects));
    st->rows_in = out->rows_read, st->rows_out = ts_table_rows(out->clean);
    return TS_OK;
}

static ts_err stage_scan_x(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bench_state *s = vs;
    return scan(ctx, s, ts_rules_bench_x, "x", &s->x, st);
}

static ts_err stage_scan_y(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bench_state *s = vs;
    return scan(ctx, s, ts_rules_bench_y, "y", &s->y, st);
}

/* x JOIN y ON x.yid = y.id: checksum = sum of w over the joined rows. */
static ts_err stage_join(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bench_state *s = vs;
    static const char *const lk[] = {"yid"}, *const rk[] = {"id"}, *const bring[] = {"w"};
    static const char *const xcols[] = {"id", "v1"};
    /* the join carries only what the query reads (a zero-copy projection of x, as a planner would) */
    const ts_join_spec spec = {.type = TS_JOIN_INNER, .left_keys = lk, .right_keys = rk, .nkeys = 1,
                               .right_cols = bring, .nright = 1, .left_cols = xcols, .nleft = 2,
                               .strategy = TS_JOIN_AUTO};
    ts_join_stats js;
    ts_table *out = NULL;
    TS_TRY(ts_join(ctx, s->x.clean, s->y.clean, &spec, &out, &js));
    const ts_column *w = ts_table_col(out, "w");
    uint64_t sum = 0;
    for (int64_t i = 0; i < w->len; i++)
        sum = (sum + (uint64_t)TS_COL(w, int64_t)[i] % MOD) % MOD;
    int64_t rows;
    st->rows_in = ts_table_rows(s->x.clean) + ts_table_rows(s->y.clean), st->rows_out = ts_table_rows(out);
    ts_table_free(out);
    TS_TRY(reduce(ctx, st->rows_out, sum, &rows, &sum));
    record(s, js.broadcast ? "join (broadcast)" : "join (shuffle)", rows, sum);
    return TS_OK;
}

/* GROUP BY key: count(*), sum(v1), max(v1), avg(v3); checksum = sum of max(v1) over the groups. */
static ts_err group_by(ts_ctx *ctx, bench_state *s, const char *key, ts_stage_stats *st)
{
    const char *const keys[] = {key};
    const ts_agg aggs[] = {{TS_AGG_COUNT, NULL, NULL, "n", 0, NULL},
                           {TS_AGG_SUM, "v1", NULL, "s", 0, NULL},
                           {TS_AGG_MAX, "v1", NULL, "mx", 0, NULL},
                           {TS_AGG_MEAN, "v3", NULL, "avg_v3", 0, NULL}};
    ts_table *out;
    TS_TRY(ts_aggregate_distributed(ctx, s->x.clean, keys, 1, aggs, 4, key, &out));
    const ts_column *mx = ts_table_col(out, "mx");
    uint64_t sum = 0;
    for (int64_t g = 0; g < mx->len; g++)
        sum = (sum + (uint64_t)TS_COL(mx, int64_t)[g] % MOD) % MOD;
    int64_t groups;
    st->rows_in = ts_table_rows(s->x.clean), st->rows_out = ts_table_rows(out);
    ts_table_free(out);
    TS_TRY(reduce(ctx, st->rows_out, sum, &groups, &sum));
    char op[32];
    snprintf(op, sizeof op, "group by %s", key);
    record(s, op, groups, sum);
    return TS_OK;
}

static ts_err stage_g2(ts_ctx *ctx, void *vs, ts_stage_stats *st) { return group_by(ctx, vs, "g2", st); }
static ts_err stage_g5(ts_ctx *ctx, void *vs, ts_stage_stats *st) { return group_by(ctx, vs, "g5", st); }
static ts_err stage_g7(ts_ctx *ctx, void *vs, ts_stage_stats *st) { return group_by(ctx, vs, "g7", st); }

/* ORDER BY v3, id: checksum = sum of id * (global position + 1). */
static ts_err stage_sort(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bench_state *s = vs;
    static const ts_sort_key keys[] = {{"v3", 0, 0}, {"id", 0, 0}};
    st->rows_in = ts_table_rows(s->x.clean);
    TS_TRY(ts_sort_distributed_by(ctx, &s->x.clean, keys, 2));
    const int64_t n = ts_table_rows(s->x.clean);
    int64_t first = 0, rows;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        first = 0;
    const int64_t *id = TS_COL(ts_table_col(s->x.clean, "id"), int64_t);
    uint64_t sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum = (uint64_t)(((unsigned __int128)sum + (unsigned __int128)(uint64_t)id[i] * (uint64_t)(first + i + 1)) % MOD);
    st->rows_out = n;
    TS_TRY(reduce(ctx, n, sum, &rows, &sum));
    record(s, "sort by v3, id", rows, sum);
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bench_state *s = vs;
    ts_table *t;
    ts_column *op, *rows, *sum;
    TS_TRY(ts_table_new("results", &t));
    ts_err err = ts_table_add(t, "operation", TS_T_STRING, 0, NULL, &op);
    if (!err)
        err = ts_table_add(t, "rows", TS_T_INT64, 0, NULL, &rows);
    if (!err)
        err = ts_table_add(t, "checksum", TS_T_INT64, 0, NULL, &sum);
    for (int i = 0; !err && ctx->rank == 0 && i < s->nresults; i++) { /* one copy, on rank 0 */
        err = ts_column_append_string(op, s->op[i], (int64_t)strlen(s->op[i]));
        if (!err)
            err = ts_column_reserve(rows, i + 1, 0);
        if (!err)
            err = ts_column_reserve(sum, i + 1, 0);
        if (!err) {
            TS_COL(rows, int64_t)[i] = s->rows[i], TS_COL(sum, int64_t)[i] = (int64_t)s->sum[i];
            rows->len = sum->len = i + 1;
        }
    }
    const ts_h5_meta meta = {"bench-ops", s->args->data_dir, TS_VERSION};
    ts_output *f = NULL;
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f);
    if (!err) {
        err = ts_ctx_check(ctx, ts_output_write_table(f, "/bench/results", t, NULL));
        if (err)
            ts_output_abandon(f);
        else
            err = ts_output_commit(f);
    }
    ts_table_free(t);
    st->rows_out = s->nresults;
    return err;
}

ts_err ts_job_bench_ops(ts_ctx *ctx, const ts_job_args *args)
{
    bench_state s = {.args = args};
    ts_plan plan;
    ts_plan_init(&plan, "bench-ops");
    ts_err err = ts_plan_add(&plan, "scan x", "parallel scan_csv", stage_scan_x);
    if (!err) err = ts_plan_add(&plan, "scan y", "parallel scan_csv", stage_scan_y);
    if (!err) err = ts_plan_add(&plan, "join", "x JOIN y (auto broadcast/shuffle)", stage_join);
    if (!err) err = ts_plan_add(&plan, "group g2", "two-phase aggregate, 10^2 groups", stage_g2);
    if (!err) err = ts_plan_add(&plan, "group g5", "two-phase aggregate, 10^5 groups", stage_g5);
    if (!err) err = ts_plan_add(&plan, "group g7", "two-phase aggregate, ~N groups", stage_g7);
    if (!err) err = ts_plan_add(&plan, "sort", "sample sort by (v3, id)", stage_sort);
    if (!err) err = ts_plan_add(&plan, "write", "parallel HDF5", stage_write);
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    for (int i = 0; !err && ctx->rank == 0 && i < s.nresults; i++)
        printf("%-20s rows %-12lld checksum %llu\n", s.op[i], (long long)s.rows[i], (unsigned long long)s.sum[i]);
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    ts_scan_free(&s.x), ts_scan_free(&s.y);
    return err;
}
