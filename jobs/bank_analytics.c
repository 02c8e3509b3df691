/* bank-analytics (../shared/domain.md): transactions -> cleaning scan (rules, duplicates: engine/ts_clean.h) ->
 * exchange by (country, month) -> aggregate -> FX lookup -> sort -> HDF5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_common.h"
#include "ts_aggregate.h"
#include "ts_clean.h"
#include "ts_csv_table.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_h5.h"
#include "ts_hash.h"
#include "ts_jobs.h"
#include "ts_join.h"
#include "ts_keys.h"
#include "ts_mem.h"
#include "ts_pivot.h"
#include "ts_plan.h"
#include "ts_rules.h"
#include "ts_sort.h"

/* The indicators joined to /analytics/country_month_indicators (indicators.csv's `indicator` values). */
static const char *const INDICATORS[] = {"inflation_pct", "policy_rate_pct", "gdp_usd_bn"};

typedef struct bank_state {
    const ts_job_args *args;
    ts_rules *rules;        /* the cleaning rules (built in, or --rules FILE) */
    ts_dict *countries;     /* the country_code column's accepted values (FX rows are coded with it) */
    ts_table *fx;           /* country_code (DICT), month (DATE), usd_rate; on every rank */
    ts_table *indicators;   /* country (DICT), month, one FLOAT64 column per INDICATORS; on every rank */
    ts_table *enriched;     /* country_month joined with the indicators */
    ts_clean clean;         /* the cleaning scan, until its rows and rejects move to `cleaned` */
    ts_clean_result cleaned; /* clean rows (until projected), rejects (until sorted) and the global counts */
    ts_table *rows;         /* the working table between stages */
    ts_table *country_month, *country_sector_month, *rejects, *summary;
} bank_state;

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

static ts_err empty_indicators(ts_table **out)
{
    TS_TRY(ts_table_new("indicators.csv", out));
    TS_TRY(ts_table_add(*out, "country_code", TS_T_STRING, 0, NULL, NULL));
    TS_TRY(ts_table_add(*out, "month", TS_T_DATE, 0, NULL, NULL));
    TS_TRY(ts_table_add(*out, "indicator", TS_T_STRING, 0, NULL, NULL));
    return ts_table_add(*out, "value", TS_T_FLOAT64, 0, NULL, NULL);
}

/* The month's inflation, policy rate and GDP per country, as columns (from indicators.csv's long format). */
static ts_err pivot_indicators(bank_state *s, ts_table *ind)
{
    static const char *const keys[] = {"country", "month"};
    TS_TRY(bank_code_countries(ind, s->countries));
    return ts_pivot(ind, keys, 2, "indicator", "value", INDICATORS, ARRAY_LEN(INDICATORS), &s->indicators);
}

/* Rank 0 reads the reference CSVs; every rank gets them by broadcast. indicators.csv is optional: without it
 * the enrichment columns are NULL. The rules' values=@countries.csv:country_code come from the data directory. */
static ts_err stage_reference(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    char path[4200];
    ts_table *fx = NULL, *ind = NULL;
    ts_err err = TS_OK;
    TS_TRY(ts_clean_resolve_values(ctx, s->rules, s->args->data_dir));
    TS_TRY(bank_country_dict(s->rules, &s->countries));
    if (ctx->rank == 0) {
        static const ts_ref_column fcols[] = {{"country_code", TS_REF_STRING}, {"month", TS_REF_MONTH},
                                              {"usd_rate", TS_REF_FLOAT64}};
        static const ts_ref_column icols[] = {{"country_code", TS_REF_STRING}, {"month", TS_REF_MONTH},
                                              {"indicator", TS_REF_STRING}, {"value", TS_REF_FLOAT64}};
        snprintf(path, sizeof path, "%s/fx_rates.csv", s->args->data_dir);
        err = ts_read_csv_table(path, fcols, 3, &fx);
        snprintf(path, sizeof path, "%s/indicators.csv", s->args->data_dir);
        if (!err && access(path, R_OK) == 0)
            err = ts_read_csv_table(path, icols, 4, &ind);
        else if (!err)
            fprintf(stderr, "tessera: warning: no %s: the indicator columns are NULL\n", path);
        if (!err && !ind) /* an empty long table: every indicator is NULL */
            err = empty_indicators(&ind);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_broadcast_table(ctx, &fx, 0));
    TS_TRY(ts_broadcast_table(ctx, &ind, 0));
    err = bank_code_countries(fx, s->countries);
    if (!err)
        err = pivot_indicators(s, ind);
    ts_table_free(ind);
    s->fx = fx;
    st->rows_out = ts_table_rows(fx) + (s->indicators ? ts_table_rows(s->indicators) : 0);
    return err;
}

/* Parallel scan with the column rules, then the table rules of a --rules file (the built-in rules have none). */
static ts_err stage_scan(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    char dir[4200];
    ts_file_info *files;
    int n;
    snprintf(dir, sizeof dir, "%s/transactions", s->args->data_dir);
    TS_TRY(ts_scan_list_inputs(ctx, dir, &files, &n));
    const ts_err err = ts_clean_begin(ctx, files, n, s->rules, s->args->data_dir, &s->clean);
    free(files);
    TS_TRY(err);
    st->rows_in = s->clean.scan.rows_read;
    st->rows_out = ts_table_rows(s->clean.scan.clean);
    return TS_OK;
}

/* Exact copies of a line: (line hash, position) pairs meet on one rank by hash, the earliest copy stays and the
 * others become rejects on the rank that read them (it has their raw bytes); then the rejects table is built
 * and the input released. */
static ts_err stage_dedup(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    st->rows_in = ts_table_rows(s->clean.scan.clean);
    TS_TRY(ts_clean_dedup(ctx, &s->clean));
    TS_TRY(ts_clean_finish(ctx, &s->clean, &s->cleaned));
    st->rows_out = ts_table_rows(s->cleaned.clean);
    return TS_OK;
}

/* Evaluates e over `from` into a new column of `to` (same rows); frees e. */
static ts_err add_computed(ts_table *to, const ts_table *from, const char *name, ts_expr *e)
{
    ts_column *c;
    const ts_err err = ts_expr_eval(e, from, name, &c);
    ts_expr_free(e);
    TS_TRY(err);
    return ts_table_adopt(to, c);
}

/* Keeps what the aggregates need, adds month and is_success. */
static ts_err stage_project(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    (void)ctx;
    bank_state *s = vs;
    ts_table *in = s->cleaned.clean, *out;
    static const char *const keep[] = {"country_code", "sector", "customer_id", "amount"};
    TS_TRY(ts_table_new("transactions", &out));
    s->rows = out;
    for (int k = 0; k < ARRAY_LEN(keep); k++) {
        ts_column *c;
        TS_TRY(ts_table_need(in, keep[k], &c));
        for (int i = 0; i < in->ncols; i++) /* move, not copy */
            if (in->cols[i] == c)
                in->cols[i] = in->cols[--in->ncols];
        TS_TRY(ts_table_adopt(out, c));
    }
    const int64_t n = ts_table_rows(out);
    TS_TRY(add_computed(out, in, "month", ts_x_op(TS_X_MONTH_START, ts_x_col("txn_date"), NULL)));
    TS_TRY(add_computed(out, in, "is_success", ts_x_op(TS_X_EQ, ts_x_col("status"), ts_x_string("success"))));
    ts_table_free(s->cleaned.clean);
    s->cleaned.clean = NULL;
    st->rows_in = st->rows_out = n;
    return TS_OK;
}

/* Hash partitioning on (country_code, month): each group lands on one rank. */
static ts_err stage_exchange(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    const int64_t n = ts_table_rows(s->rows);
    int32_t *dest = malloc(4 * (size_t)(n + 1));
    if (!dest)
        TS_FAIL(TS_ERR_NOMEM, "out of memory partitioning %lld rows", (long long)n);
    const int32_t *cc = TS_COL(ts_table_col(s->rows, "country_code"), int32_t);
    const int32_t *mo = TS_COL(ts_table_col(s->rows, "month"), int32_t);
    for (int64_t i = 0; i < n; i++)
        dest[i] = (int32_t)(ts_hash_combine(ts_hash_u64((uint64_t)cc[i]), (uint64_t)mo[i]) % (uint64_t)ctx->size);
    const ts_err err = ts_exchange_rows_move(ctx, &s->rows, dest);
    free(dest);
    TS_TRY(err);
    st->rows_in = n, st->rows_out = ts_table_rows(s->rows);
    return TS_OK;
}

static ts_err aggregate(const ts_table *rows, const char *const *keys, int nkeys, const char *name, ts_table **out)
{
    static const ts_agg aggs[] = {{TS_AGG_COUNT, NULL, NULL, "txn_count", 0, NULL},
                                  {TS_AGG_COUNT, NULL, "is_success", "success_count", 0, NULL},
                                  {TS_AGG_SUM, "amount", "is_success", "volume_cents", 0, NULL},
                                  {TS_AGG_COUNT_DISTINCT, "customer_id", NULL, "distinct_customers", 0, NULL}};
    return ts_hash_aggregate(rows, keys, nkeys, aggs, ARRAY_LEN(aggs), name, out);
}

static ts_err stage_aggregate(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    (void)ctx;
    bank_state *s = vs;
    static const char *const cm[] = {"country_code", "month"};
    static const char *const csm[] = {"country_code", "sector", "month"};
    TS_TRY(aggregate(s->rows, cm, 2, "country_month", &s->country_month));
    TS_TRY(aggregate(s->rows, csm, 3, "country_sector_month", &s->country_sector_month));
    st->rows_in = ts_table_rows(s->rows);
    st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month);
    ts_table_free(s->rows);
    s->rows = NULL;
    return TS_OK;
}

/* FX lookup (broadcast join on the group keys: the rate is constant within a (country, month) group, so joining
 * after the aggregation gives the same figures with one lookup per group), then the derived measures. */
static ts_err finish_measures(const ts_table *fx, ts_table **t)
{
    static const char *const lk[] = {"country_code", "month"}, *const rk[] = {"country", "month"};
    static const char *const bring[] = {"usd_rate"};
    ts_table *joined;
    TS_TRY(ts_join_lookup(*t, fx, lk, rk, 2, bring, 1, &joined));
    ts_table_free(*t);
    *t = joined;
    /* volume_cents is DECIMAL(18,2): as a double it is the amount in units, divided once by the group's rate;
     * a missing rate gives NaN (domain.md), and 0 / 0 = NaN gives the average of a group without successes */
    TS_TRY(add_computed(joined, joined, "success_rate",
                        ts_x_op(TS_X_DIV, ts_x_op(TS_X_TO_FLOAT, ts_x_col("success_count"), NULL),
                                ts_x_op(TS_X_TO_FLOAT, ts_x_col("txn_count"), NULL))));
    TS_TRY(add_computed(joined, joined, "volume_usd",
                        ts_x_op(TS_X_COALESCE,
                                ts_x_op(TS_X_DIV, ts_x_op(TS_X_TO_FLOAT, ts_x_col("volume_cents"), NULL),
                                        ts_x_col("usd_rate")),
                                ts_x_float(NAN))));
    TS_TRY(add_computed(joined, joined, "avg_amount_usd",
                        ts_x_op(TS_X_DIV, ts_x_col("volume_usd"),
                                ts_x_op(TS_X_TO_FLOAT, ts_x_col("success_count"), NULL))));
    return TS_OK;
}

/* Reorders the columns to domain.md's table layout (drops helpers). */
static ts_err select_columns(ts_table **t, const char *const *names, int n)
{
    ts_table *out;
    TS_TRY(ts_table_new((*t)->name, &out));
    for (int k = 0; k < n; k++) {
        ts_column *c = ts_table_col(*t, names[k]);
        if (!c) {
            ts_table_free(out);
            TS_FAIL(TS_ERR_INTERNAL, "table '%s' lacks column '%s'", (*t)->name, names[k]);
        }
        for (int i = 0; i < (*t)->ncols; i++)
            if ((*t)->cols[i] == c)
                (*t)->cols[i] = (*t)->cols[--(*t)->ncols];
        TS_TRY(ts_table_adopt(out, c));
    }
    ts_table_free(*t);
    *t = out;
    return TS_OK;
}

static ts_err stage_measures(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    (void)ctx;
    bank_state *s = vs;
    static const char *const cm[] = {"country_code", "month", "txn_count", "success_count", "success_rate",
                                     "volume_usd", "avg_amount_usd", "distinct_customers"};
    static const char *const csm[] = {"country_code", "sector", "month", "txn_count", "success_count",
                                      "success_rate", "volume_usd", "avg_amount_usd", "distinct_customers"};
    TS_TRY(finish_measures(s->fx, &s->country_month));
    TS_TRY(finish_measures(s->fx, &s->country_sector_month));
    TS_TRY(select_columns(&s->country_month, cm, ARRAY_LEN(cm)));
    TS_TRY(select_columns(&s->country_sector_month, csm, ARRAY_LEN(csm)));
    st->rows_in = st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month);
    return TS_OK;
}

static ts_err stage_sort(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    static const char *const cm[] = {"country_code", "month"};
    static const char *const csm[] = {"country_code", "sector", "month"};
    static const char *const rj[] = {"__pos"};
    s->rejects = s->cleaned.rejects; /* file, line, reason, raw_line, __pos: __pos orders like (file, line) */
    s->cleaned.rejects = NULL;
    TS_TRY(ts_sort_distributed(ctx, &s->country_month, cm, 2));
    TS_TRY(ts_sort_distributed(ctx, &s->country_sector_month, csm, 3));
    TS_TRY(ts_sort_distributed(ctx, &s->rejects, rj, 1));
    static const char *const rj_keys[] = {"file", "line"};
    ts_table_set_sorted(s->rejects, rj_keys, 2);
    TS_TRY(ts_clean_summary(ctx->rank, s->rules, &s->cleaned, &s->summary)); /* /quality/summary */
    st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month) +
                   ts_table_rows(s->rejects);
    st->rows_in = st->rows_out;
    return TS_OK;
}

/* Indicator enrichment: a left lookup join of the sorted country_month slab (order kept) with the indicators;
 * a (country, month) without indicators keeps its row with NULLs. */
static ts_err stage_indicators(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    (void)ctx;
    bank_state *s = vs;
    static const char *const lk[] = {"country_code", "month"}, *const rk[] = {"country", "month"};
    TS_TRY(ts_join_lookup(s->country_month, s->indicators, lk, rk, 2, INDICATORS, ARRAY_LEN(INDICATORS),
                          &s->enriched));
    snprintf(s->enriched->name, sizeof s->enriched->name, "country_month_indicators");
    static const char *const keys[] = {"country_code", "month"};
    ts_table_set_sorted(s->enriched, keys, 2);
    st->rows_in = ts_table_rows(s->country_month), st->rows_out = ts_table_rows(s->enriched);
    return TS_OK;
}

static ts_err write_tables(ts_ctx *ctx, bank_state *s, ts_h5_file *f)
{
    static const char *const bytes_cols[] = {"raw_line"};
    const ts_h5_table_opts rej_opts = {bytes_cols, 1};
    TS_TRY(ts_h5_write_table(f, "/analytics/country_month", s->country_month, NULL));
    TS_TRY(ts_h5_write_table(f, "/analytics/country_sector_month", s->country_sector_month, NULL));
    TS_TRY(ts_h5_write_table(f, "/analytics/country_month_indicators", s->enriched, NULL));
    ts_column *pos = ts_table_col(s->rejects, "__pos");
    s->rejects->ncols--; /* __pos is last: hide it from the writer */
    const ts_err err = ts_h5_write_table(f, "/quality/rejects", s->rejects, &rej_opts);
    s->rejects->cols[s->rejects->ncols++] = pos;
    TS_TRY(err);
    TS_TRY(ts_h5_write_table(f, "/quality/summary", s->summary, NULL));
    (void)ctx;
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    const ts_h5_meta meta = {"bank-analytics", s->args->data_dir, TS_VERSION};
    ts_h5_file *f;
    TS_TRY(ts_h5_create(ctx->comm, s->args->out_path, s->args->overwrite, &meta, &f));
    const ts_err err = ts_ctx_check(ctx, write_tables(ctx, s, f));
    if (err) {
        ts_h5_abandon(f);
        return err;
    }
    TS_TRY(ts_h5_commit(f));
    st->rows_in = st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month) +
                                 ts_table_rows(s->rejects) + ts_table_rows(s->summary);
    return TS_OK;
}

static void free_state(bank_state *s)
{
    ts_clean_free(&s->clean), ts_clean_result_free(&s->cleaned);
    ts_table_free(s->fx), ts_table_free(s->rows);
    ts_table_free(s->indicators), ts_table_free(s->enriched);
    ts_table_free(s->country_month), ts_table_free(s->country_sector_month);
    ts_table_free(s->rejects), ts_table_free(s->summary);
    ts_dict_release(s->countries);
    ts_rules_free(s->rules);
}

static ts_err build_plan(ts_plan *p)
{
    ts_plan_init(p, "bank-analytics");
    TS_TRY(ts_plan_add(p, "reference", "read_csv(rank 0) -> broadcast", stage_reference));
    TS_TRY(ts_plan_add(p, "scan+clean", "parallel scan_csv + column and table rules", stage_scan));
    TS_TRY(ts_plan_add(p, "dedup", "exchange(line hash) + dedup -> rejects", stage_dedup));
    TS_TRY(ts_plan_add(p, "project", "project + month_start + is_success", stage_project));
    TS_TRY(ts_plan_add(p, "exchange", "hash exchange (country, month)", stage_exchange));
    TS_TRY(ts_plan_add(p, "aggregate", "hash_aggregate x2", stage_aggregate));
    TS_TRY(ts_plan_add(p, "fx-join", "broadcast lookup join + measures", stage_measures));
    TS_TRY(ts_plan_add(p, "sort", "sample sort x3 + summary", stage_sort));
    TS_TRY(ts_plan_add(p, "indicators", "lookup join (country, month)", stage_indicators));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

static void print_summary(const ts_ctx *ctx, const bank_state *s)
{
    if (ctx->rank != 0)
        return;
    const ts_clean_result *r = &s->cleaned;
    fprintf(stderr, "rows read %lld, clean %lld, rejected %lld", (long long)r->rows_read, (long long)r->rows_clean,
            (long long)r->rows_rejected);
    for (int i = 0, first = 1; i < r->nreasons; i++)
        if (r->reason_counts[i])
            fprintf(stderr, "%s %s %lld", first ? " (" : ",", s->rules->reasons[i], (long long)r->reason_counts[i]),
                first = 0;
    fprintf(stderr, "%s\nwrote %s\n", r->rows_rejected ? ")" : "", s->args->out_path);
}

ts_err ts_job_bank_analytics(ts_ctx *ctx, const ts_job_args *args)
{
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? bank_check_inputs(args->data_dir, NULL, 0) : TS_OK));
    bank_state s = {.args = args};
    ts_plan plan;
    ts_err err = build_plan(&plan);
    if (!err)
        err = bank_load_rules(args->rules_path, &s.rules);
    err = ts_ctx_check(ctx, err);
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    if (!err)
        print_summary(ctx, &s);
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    free_state(&s);
    return err;
}
