/* bank-analytics (../shared/domain.md): transactions -> cleaning scan (rules, duplicates: engine/dist/ts_clean.h) ->
 * exchange by (country, month) -> aggregate -> FX lookup -> sort -> HDF5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_common.h"
#include "ts_aggregate.h"
#include "ts_budget.h"
#include "ts_clean.h"
#include "ts_csv_table.h"
#include "ts_exchange.h"
#include "ts_date.h"
#include "ts_fingerprint.h"
#include "ts_builtin_rules.h"
#include "ts_expr.h"
#include "ts_output.h"
#include "ts_hash.h"
#include "ts_jobs.h"
#include "ts_join.h"
#include "ts_keys.h"
#include "ts_mem.h"
#include "ts_scan.h"
#include "ts_pivot.h"
#include "ts_plan.h"
#include "ts_rules.h"
#include "ts_sort.h"
#include "ts_spill.h"

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
    ts_file_info *files;    /* the transaction files, the same list on every rank */
    int nfiles;
    ts_budget budget;       /* --memory-limit */
    int nparts;             /* > 1: the input does not fit; cleaned and aggregated partition by partition */
    int64_t chunk_bytes;    /* scan piece in partitioned mode */
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

/* A clean row's partition in partitioned mode: a function of (country, month), so a (country, month) group lies in
 * one partition (the aggregates of the partitions are disjoint) and so do all copies of a line. The high bits of
 * the exchange's hash, so partitions and ranks split the groups independently. */
static void partition_of(void *arg, const ts_table *clean, int64_t first, int64_t n, int32_t *part)
{
    const bank_state *s = arg;
    const int32_t *cc = TS_COL(ts_table_col(clean, "country_code"), int32_t) + first;
    const int32_t *day = TS_COL(ts_table_col(clean, "txn_date"), int32_t) + first;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t h = ts_hash_combine(ts_hash_u64((uint64_t)cc[i]), (uint64_t)ts_month_start(day[i]));
        part[i] = (int32_t)(((h >> 32) * (uint64_t)s->nparts) >> 32);
    }
}

/* Parallel scan with the column rules, then the table rules of a --rules file (the built-in rules have none).
 * Partitioned mode: the scan spills its clean rows to the partitions as it goes. */
static ts_err stage_scan(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    if (s->nparts > 1)
        TS_TRY(ts_clean_begin_partitioned(ctx, s->files, s->nfiles, s->rules, s->args->data_dir, s->nparts,
                                          s->chunk_bytes, ts_spill_dir(s->args->spill_dir), partition_of, s, &s->clean));
    else
        TS_TRY(ts_clean_begin(ctx, s->files, s->nfiles, s->rules, s->args->data_dir, &s->clean));
    st->rows_in = s->clean.scan.rows_read;
    st->rows_out = s->clean.scan.rows_read - ts_table_rows(s->clean.scan.rejects);
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

/* Appends src's rows to *dst (taking src when *dst is empty); frees src. */
static ts_err append_table(ts_table **dst, ts_table *src)
{
    if (!*dst) {
        *dst = src;
        return TS_OK;
    }
    const ts_err err = ts_table_append_rows(*dst, src, NULL, ts_table_rows(src));
    ts_table_free(src);
    return err;
}

/* Partitioned mode calls it once per partition: the partitions' groups are disjoint, so their aggregates
 * concatenate. */
static ts_err stage_aggregate(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    (void)ctx;
    bank_state *s = vs;
    static const char *const cm[] = {"country_code", "month"};
    static const char *const csm[] = {"country_code", "sector", "month"};
    ts_table *a, *b;
    TS_TRY(aggregate(s->rows, cm, 2, "country_month", &a));
    TS_TRY(append_table(&s->country_month, a));
    TS_TRY(aggregate(s->rows, csm, 3, "country_sector_month", &b));
    TS_TRY(append_table(&s->country_sector_month, b));
    st->rows_in = ts_table_rows(s->rows);
    st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month);
    ts_table_free(s->rows);
    s->rows = NULL;
    return TS_OK;
}

/* Partitioned mode: each partition in turn is loaded from the spill, deduplicated, projected, exchanged and
 * aggregated, so only one partition's rows are in memory. */
static ts_err stage_partitions(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    ts_stage_stats part;
    for (int p = 0; p < s->nparts; p++) {
        TS_TRY(ts_clean_load_partition(ctx, &s->clean, p));
        st->rows_in += ts_table_rows(s->clean.scan.clean);
        TS_TRY(ts_clean_dedup(ctx, &s->clean));
        ts_clean_take(&s->clean, &s->cleaned.clean);
        TS_TRY(ts_ctx_check(ctx, stage_project(ctx, s, &part)));
        TS_TRY(stage_exchange(ctx, s, &part));
        TS_TRY(ts_ctx_check(ctx, stage_aggregate(ctx, s, &part)));
        if (ctx->verbose && ctx->rank == 0 && (p + 1) % ((s->nparts + 9) / 10) == 0) /* about ten steps */
            fprintf(stderr, " %d/%d", p + 1, s->nparts), fflush(stderr);
    }
    st->rows_out = ts_table_rows(s->country_month) + ts_table_rows(s->country_sector_month);
    return TS_OK;
}

/* Partitioned mode: the rejects table and the global counts, once every partition is through. */
static ts_err stage_rejects(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    TS_TRY(ts_clean_finish(ctx, &s->clean, &s->cleaned));
    st->rows_in = st->rows_out = ts_table_rows(s->cleaned.rejects);
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

static ts_err write_tables(ts_ctx *ctx, bank_state *s, ts_output *f)
{
    static const char *const bytes_cols[] = {"raw_line"};
    const ts_h5_table_opts rej_opts = {bytes_cols, 1};
    TS_TRY(ts_output_write_table(f, "/analytics/country_month", s->country_month, NULL));
    TS_TRY(ts_output_write_table(f, "/analytics/country_sector_month", s->country_sector_month, NULL));
    TS_TRY(ts_output_write_table(f, "/analytics/country_month_indicators", s->enriched, NULL));
    ts_column *pos = ts_table_col(s->rejects, "__pos");
    s->rejects->ncols--; /* __pos is last: hide it from the writer */
    const ts_err err = ts_output_write_table(f, "/quality/rejects", s->rejects, &rej_opts);
    s->rejects->cols[s->rejects->ncols++] = pos;
    TS_TRY(err);
    TS_TRY(ts_output_write_table(f, "/quality/summary", s->summary, NULL));
    (void)ctx;
    return TS_OK;
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    bank_state *s = vs;
    const ts_h5_meta meta = {"bank-analytics", s->args->data_dir, TS_VERSION};
    ts_output *f;
    TS_TRY(ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f));
    const ts_err err = ts_ctx_check(ctx, write_tables(ctx, s, f));
    if (err) {
        ts_output_abandon(f);
        return err;
    }
    TS_TRY(ts_output_commit(f));
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
    free(s->files);
}

static ts_err build_plan(ts_plan *p, int partitioned)
{
    ts_plan_init(p, "bank-analytics");
    TS_TRY(ts_plan_add(p, "reference", "read_csv(rank 0) -> broadcast", stage_reference));
    if (partitioned) {
        TS_TRY(ts_plan_add(p, "scan+spill", "scan_csv in pieces + column rules -> spill by (country, month)",
                           stage_scan));
        TS_TRY(ts_plan_add(p, "partitions", "per partition: dedup, project, exchange, hash_aggregate x2",
                           stage_partitions));
        TS_TRY(ts_plan_add(p, "rejects", "rejects table + global counts", stage_rejects));
    } else {
        TS_TRY(ts_plan_add(p, "scan+clean", "parallel scan_csv + column and table rules", stage_scan));
        TS_TRY(ts_plan_add(p, "dedup", "exchange(line hash) + dedup -> rejects", stage_dedup));
        TS_TRY(ts_plan_add(p, "project", "project + month_start + is_success", stage_project));
        TS_TRY(ts_plan_add(p, "exchange", "hash exchange (country, month)", stage_exchange));
        TS_TRY(ts_plan_add(p, "aggregate", "hash_aggregate x2", stage_aggregate));
    }
    TS_TRY(ts_plan_add(p, "fx-join", "broadcast lookup join + measures", stage_measures));
    TS_TRY(ts_plan_add(p, "sort", "sample sort x3 + summary", stage_sort));
    TS_TRY(ts_plan_add(p, "indicators", "lookup join (country, month)", stage_indicators));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    /* resume points: after the aggregation (state: two small tables, the rejects and the counts) and after the
     * sort; the reference data is cheap to read again, and its dictionary codes the restored tables' keys */
    TS_TRY(ts_plan_set_flags(p, "reference", TS_STAGE_ALWAYS));
    TS_TRY(ts_plan_set_flags(p, partitioned ? "rejects" : "aggregate", TS_STAGE_CHECKPOINT));
    TS_TRY(ts_plan_set_flags(p, "sort", TS_STAGE_CHECKPOINT));
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

/* Working memory per byte of input in one piece: parsed columns, line hashes, the dedup hash set and the
 * exchange's send and receive copies (measured: see docs/architecture.md, "Memory budget"). */
#define BYTES_PER_INPUT_BYTE 6

/* The input is cut into partitions when this rank's share, times the working-memory factor, does not fit the
 * budget; TESSERA_PARTITIONS=N forces N (tests exercise the partitioned mode on small data with it). */
static ts_err plan_memory(ts_ctx *ctx, bank_state *s)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/transactions", s->args->data_dir);
    TS_TRY(ts_scan_list_inputs(ctx, dir, &s->files, &s->nfiles));
    TS_TRY(ts_budget_init(ctx, s->args->memory_limit, &s->budget));
    int64_t input = 0;
    for (int i = 0; i < s->nfiles; i++) /* gzip inflates about 4x */
        input += s->files[i].gz ? 4 * s->files[i].size : s->files[i].size;
    const int64_t mine = input / ctx->size + 1, room = s->budget.limit - s->budget.baseline;
    s->chunk_bytes = room / 32 < (1 << 20) ? (1 << 20) : room / 32 > (32 << 20) ? (32 << 20) : room / 32;
    /* held throughout: the piece being scanned (its pages, parsed columns and spill buffers), the rejects (a few
     * percent of the lines) and allocator slack; measured, see docs/architecture.md "Memory budget" */
    const int64_t fixed = 6 * s->chunk_bytes + mine / 16;
    TS_TRY(ts_budget_parts(ctx, &s->budget, BYTES_PER_INPUT_BYTE * mine, fixed, &s->nparts));
    const char *force = getenv("TESSERA_PARTITIONS");
    if (force && atoi(force) > 0)
        s->nparts = atoi(force);
    if (s->nparts > 512) { /* each is an open file per rank */
        if (ctx->rank == 0)
            fprintf(stderr, "tessera: warning: the memory limit would need %d partitions; using 512, which may "
                            "exceed it\n", s->nparts);
        s->nparts = 512;
    }
    if (ctx->rank == 0 && ctx->verbose && s->nparts > 1) {
        char l[32], m[32];
        fprintf(stderr, "memory limit %s per rank, input %s per rank: %d partitions spilled to %s\n",
                ts_format_bytes((double)s->budget.limit, l, sizeof l), ts_format_bytes((double)mine, m, sizeof m),
                s->nparts, ts_spill_dir(s->args->spill_dir));
    }
    return TS_OK;
}

/* The peak resident memory over ranks against the limit: reported in partitioned mode or with an explicit
 * limit, and a warning when the limit was exceeded. Collective. */
static ts_err report_memory(ts_ctx *ctx, const bank_state *s)
{
    int64_t peak = ts_peak_rss_bytes(), max_peak, spilled = ts_clean_spilled_bytes(&s->clean), total_spilled;
    TS_MPI(MPI_Allreduce(&peak, &max_peak, 1, MPI_INT64_T, MPI_MAX, ctx->comm));
    TS_MPI(MPI_Allreduce(&spilled, &total_spilled, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank != 0 || (s->nparts <= 1 && !s->budget.explicit_limit))
        return TS_OK;
    char p[32], l[32], b[32];
    fprintf(stderr, "peak memory %s per rank (max over ranks), limit %s; %d partition%s, %s spilled\n",
            ts_format_bytes((double)max_peak, p, sizeof p), ts_format_bytes((double)s->budget.limit, l, sizeof l),
            s->nparts, s->nparts == 1 ? "" : "s", ts_format_bytes((double)total_spilled, b, sizeof b));
    if (max_peak > s->budget.limit)
        fprintf(stderr, "tessera: warning: the peak memory exceeded --memory-limit\n");
    return TS_OK;
}

/* ---- checkpoints (--checkpoint DIR, --resume) ---- */

/* The scan's global counts: rows read, clean, rejected, the number of reasons, then each reason's count. */
static ts_err save_counts(ts_checkpoint *ck, const ts_clean_result *r)
{
    int64_t v[4 + TS_RULES_MAX_REASONS] = {r->rows_read, r->rows_clean, r->rows_rejected, r->nreasons};
    memcpy(v + 4, r->reason_counts, sizeof r->reason_counts[0] * (size_t)r->nreasons);
    return ts_checkpoint_put_counts(ck, "scan", v, 4 + r->nreasons);
}

static ts_err load_counts(const ts_checkpoint *ck, const ts_rules *rules, ts_clean_result *r)
{
    int64_t v[4 + TS_RULES_MAX_REASONS];
    TS_TRY(ts_checkpoint_get_counts(ck, "scan", v, 4 + rules->nreasons));
    if (v[3] != rules->nreasons)
        TS_FAIL(TS_ERR_DATA, "the checkpoint counts %lld reject reasons, the rules %d", (long long)v[3],
                rules->nreasons);
    r->rows_read = v[0], r->rows_clean = v[1], r->rows_rejected = v[2], r->nreasons = rules->nreasons;
    memcpy(r->reason_counts, v + 4, sizeof r->reason_counts[0] * (size_t)rules->nreasons);
    return TS_OK;
}

/* After the aggregation: country_month and country_sector_month (unsorted, partitioned by key), the rejects as
 * the cleaning left them, the counts. After the sort: the sorted tables, the sorted rejects and the summary. */
static ts_err bank_save(ts_ctx *ctx, void *vs, const char *stage, ts_checkpoint *ck)
{
    (void)ctx;
    bank_state *s = vs;
    const int sorted = strcmp(stage, "sort") == 0;
    TS_TRY(save_counts(ck, &s->cleaned));
    TS_TRY(ts_checkpoint_put_table(ck, "country_month", s->country_month));
    TS_TRY(ts_checkpoint_put_table(ck, "country_sector_month", s->country_sector_month));
    TS_TRY(ts_checkpoint_put_table(ck, "rejects", sorted ? s->rejects : s->cleaned.rejects)); /* __pos included */
    if (sorted)
        TS_TRY(ts_checkpoint_put_table(ck, "summary", s->summary));
    return TS_OK;
}

static ts_err bank_load(ts_ctx *ctx, void *vs, const char *stage, ts_checkpoint *ck)
{
    (void)ctx;
    bank_state *s = vs;
    const int sorted = strcmp(stage, "sort") == 0;
    ts_dict *const known[] = {s->countries};
    TS_TRY(load_counts(ck, s->rules, &s->cleaned));
    TS_TRY(ts_checkpoint_get_table(ck, "country_month", known, 1, &s->country_month));
    TS_TRY(ts_checkpoint_get_table(ck, "country_sector_month", known, 1, &s->country_sector_month));
    TS_TRY(ts_checkpoint_get_table(ck, "rejects", known, 1, sorted ? &s->rejects : &s->cleaned.rejects));
    if (sorted)
        TS_TRY(ts_checkpoint_get_table(ck, "summary", known, 1, &s->summary));
    return TS_OK;
}

/* What the checkpointed state depends on: the job, ranks, version, the rules' text and the input files (names,
 * sizes, modification times). Rank 0 only (the rank that compares). The memory limit is left out: it changes
 * the plan's shape (the stage numbers in the file names), not the state. */
static ts_err bank_fingerprint(const ts_ctx *ctx, const ts_job_args *a, ts_fingerprint *fp)
{
    char path[4200];
    ts_fp_init(fp);
    if (ctx->rank != 0)
        return TS_OK;
    TS_TRY(ts_fp_add(fp, "job", "bank-analytics %s", TS_VERSION));
    TS_TRY(ts_fp_add(fp, "ranks", "%d", ctx->size));
    if (a->rules_path)
        TS_TRY(ts_fp_add_content(fp, "rules", a->rules_path));
    else
        TS_TRY(ts_fp_add_bytes(fp, "rules", ts_rules_bank_transactions, strlen(ts_rules_bank_transactions)));
    static const char *const refs[] = {"countries.csv", "fx_rates.csv", "indicators.csv"};
    for (int i = 0; i < ARRAY_LEN(refs); i++) {
        snprintf(path, sizeof path, "%s/%s", a->data_dir, refs[i]);
        TS_TRY(ts_fp_add_file(fp, refs[i], path));
    }
    snprintf(path, sizeof path, "%s/transactions", a->data_dir);
    TS_TRY(ts_fp_add_dir(fp, "transactions", path));
    return TS_OK;
}

static ts_err setup_checkpoints(ts_ctx *ctx, const ts_job_args *a, ts_plan *plan, ts_fingerprint **fp)
{
    *fp = NULL;
    if (!a->checkpoint_dir)
        return TS_OK;
    ts_err err = (*fp = malloc(sizeof **fp)) ? bank_fingerprint(ctx, a, *fp)
                                             : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                              "out of memory");
    TS_TRY(ts_ctx_check(ctx, err));
    ts_plan_set_checkpoint(plan, a->checkpoint_dir, a->resume, (*fp)->text, bank_save, bank_load);
    return TS_OK;
}

/* The fields the pipeline reads after cleaning (partitioning, projection, aggregation); the others are only
 * checked (ts_csv_field.check_only): their columns were a third of the scan's output, fresh memory whose page
 * faults cost more than parsing them. Table rules (unique, references, ...) read columns of their own, so with
 * any the scan keeps every column. */
static void check_only_unused(ts_rules *rules)
{
    static const char *const used[] = {"country_code", "txn_date", "customer_id", "sector", "amount", "status"};
    if (rules->ntable_rules)
        return;
    for (int f = 0; f < rules->spec.nfields; f++) {
        int u = 0;
        for (int k = 0; k < ARRAY_LEN(used); k++)
            u |= strcmp(rules->spec.fields[f].name, used[k]) == 0;
        rules->spec.fields[f].check_only = !u;
    }
}

ts_err ts_job_bank_analytics(ts_ctx *ctx, const ts_job_args *args)
{
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? bank_check_inputs(args->data_dir, NULL, 0) : TS_OK));
    bank_state s = {.args = args};
    ts_plan plan;
    ts_err err = plan_memory(ctx, &s);
    if (!err)
        err = build_plan(&plan, s.nparts > 1);
    if (!err)
        err = bank_load_rules(args->rules_path, &s.rules);
    if (!err)
        check_only_unused(s.rules);
    err = ts_ctx_check(ctx, err);
    ts_fingerprint *fp = NULL;
    if (!err)
        err = setup_checkpoints(ctx, args, &plan, &fp);
    if (!err && args->explain)
        ts_plan_print(ctx, &plan, stderr);
    if (!err)
        err = ts_plan_run(ctx, &plan, &s);
    if (!err)
        print_summary(ctx, &s);
    if (!err)
        err = report_memory(ctx, &s);
    if (!err && args->profile)
        err = ts_plan_print_profile(ctx, &plan, stderr);
    free_state(&s);
    free(fp);
    return err;
}
