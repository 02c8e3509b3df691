/* star-schema (docs/jobs/star-schema.md): customers.csv, accounts.csv, countries.csv -> dimensions with stable
 * surrogate keys (key maps carried from --in) and an unknown member each (jobs/star_dims.c); transactions ->
 * clean (bank rules) -> dedup -> key lookups (an unknown customer or account becomes the unknown member, with a
 * quality flag) -> FX -> the customer version valid on the transaction date (--scd2) -> fact_transactions;
 * dim_dates generated over the fact's date range. Every row that passes the cleaning rules is in the fact.
 * Every output is sorted by its key, so the file is identical whatever the number of ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "star_schema.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_dedup.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_output.h"
#include "ts_hash.h"
#include "ts_join.h"
#include "ts_join_dist.h"
#include "ts_mem.h"
#include "ts_plan.h"
#include "ts_sort.h"

/* ---- reference data ------------------------------------------------------------------------------------ */

/* The country_code dictionary, FX rates and each country's currency, on every rank; countries.csv's rows for
 * dim_countries on rank 0 (the other ranks get its empty schema). */
static ts_err stage_reference(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const ts_ref_column ccols[] = {{"country_code", TS_REF_STRING}, {"name", TS_REF_STRING},
                                          {"currency", TS_REF_STRING},     {"region", TS_REF_STRING},
                                          {"income_group", TS_REF_STRING}};
    ts_table *countries = NULL;
    ts_err err = TS_OK;
    if (ctx->rank == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/countries.csv", s->args->data_dir);
        err = ts_read_csv_table(path, ccols, 5, &countries);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_broadcast_table(ctx, &countries, 0));
    err = ts_ctx_check(ctx, bank_resolve_countries(s->rules, countries->cols[0], &s->countries_dict));
    if (!err)
        err = bank_read_fx(ctx, s->args->data_dir, s->countries_dict, &s->fx);
    if (!err)
        err = bank_currency_by_code(s->countries_dict, countries, &s->currency);
    if (!err && ctx->rank != 0) /* one copy of countries.csv's rows enters dim_countries */
        ts_table_truncate(countries, 0);
    s->country_ref = countries;
    st->rows_out = s->fx ? ts_table_rows(s->fx) : 0;
    return ts_ctx_check(ctx, err);
}

static ts_err stage_dims(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    TS_TRY(star_build_dimensions(ctx, s));
    st->rows_out = ts_table_rows(s->customers) + ts_table_rows(s->accounts) + ts_table_rows(s->countries) +
                   ts_table_rows(s->versions);
    return TS_OK;
}

/* ---- transactions -------------------------------------------------------------------------------------- */

static ts_err stage_scan(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/transactions", s->args->data_dir);
    TS_TRY(ts_scan_csv(ctx, dir, &s->rules->spec, &s->scan));
    s->rows = s->scan.clean;
    s->scan.clean = NULL;
    st->rows_in = s->scan.rows_read;
    st->rows_out = ts_table_rows(s->rows);
    return TS_OK;
}

/* Appends (pos, reason) rows to s->late. */
static ts_err add_late(star_state *s, const ts_column *pos, const int64_t *idx, int64_t n, const int32_t *why,
                       int32_t reason)
{
    ts_column *p = ts_table_col(s->late, "__pos"), *r = ts_table_col(s->late, "reason");
    TS_TRY(ts_column_append_rows(p, pos, idx, n));
    TS_TRY(ts_column_reserve(r, r->len + n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(r, int32_t)[r->len++] = why ? why[i] : reason;
    return TS_OK;
}

/* Sends rows back to the rank that read them (__src): only that rank has their raw bytes for the rejects. */
static ts_err return_to_source(ts_ctx *ctx, ts_table **t)
{
    const ts_column *src = ts_table_col(*t, "__src");
    int32_t *dest;
    TS_TRY(star_alloc_dest(ctx, src->len, &dest));
    memcpy(dest, src->data, 4 * (size_t)src->len);
    const ts_err err = ts_exchange_rows_move(ctx, t, dest);
    free(dest);
    return err;
}

/* Adds __src = this rank (the reader of every row it holds now). */
static ts_err add_source(ts_table *t, int rank)
{
    const int64_t n = ts_table_rows(t);
    ts_column *src;
    TS_TRY(ts_table_add(t, "__src", TS_T_INT32, 0, NULL, &src));
    TS_TRY(ts_column_reserve(src, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(src, int32_t)[i] = rank;
    src->len = n;
    return TS_OK;
}

/* Exact copies of a line meet on one rank (partitioned by the line's hash); the earliest stays, the others go
 * back to their reader as `duplicate` rejects. Also tags every row with its reader (__src). */
static ts_err stage_dedup(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    const int64_t n = ts_table_rows(s->rows);
    TS_TRY(ts_ctx_check(ctx, add_source(s->rows, ctx->rank)));
    st->rows_in = n;
    if (s->rules->duplicate_reason < 0) { /* these rules keep duplicates */
        st->rows_out = n;
        return TS_OK;
    }
    const ts_column *lo = ts_table_col(s->rows, "__hash_lo");
    int32_t *dest;
    TS_TRY(star_alloc_dest(ctx, n, &dest));
    for (int64_t i = 0; i < n; i++)
        dest[i] = (int32_t)(ts_hash_u64((uint64_t)TS_COL(lo, int64_t)[i]) % (uint64_t)ctx->size);
    const ts_err err = ts_exchange_rows_move(ctx, &s->rows, dest);
    free(dest);
    TS_TRY(err);
    ts_table *dups;
    TS_TRY(ts_ctx_check(ctx, ts_dedup(s->rows, "__hash_lo", "__hash_hi", "__pos", &dups)));
    ts_err e2 = return_to_source(ctx, &dups);
    if (!e2)
        e2 = add_late(s, ts_table_col(dups, "__pos"), NULL, ts_table_rows(dups), NULL,
                      s->rules->duplicate_reason);
    ts_table_free(dups);
    st->rows_out = ts_table_rows(s->rows);
    return e2;
}

/* Left join of s->rows with `right` on one key, bringing columns `bring`. */
/* Left join of s->rows with `right` on one key, bringing columns `bring`. */
static ts_err join_left(ts_ctx *ctx, star_state *s, const ts_table *right, const char *key,
                        const char *const *bring, int nbring)
{
    const char *const keys[] = {key};
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = keys, .right_keys = keys, .nkeys = 1,
                               .right_cols = bring, .nright = nbring, .strategy = bank_join_strategy()};
    ts_table *out;
    TS_TRY(ts_join(ctx, s->rows, right, &spec, &out, NULL));
    ts_table_free(s->rows);
    s->rows = out;
    return TS_OK;
}

/* Key column `name` of t: NULL (no match) becomes the unknown member -1, with flag `flag` (0: none) set in
 * flags; the validity bitmap goes (every key is set). */
static void unknown_to_minus_one(ts_table *t, const char *name, int32_t flag, int32_t *flags)
{
    ts_column *k = ts_table_col(t, name);
    for (int64_t i = 0; i < k->len; i++)
        if (!ts_column_is_valid(k, i)) {
            TS_COL(k, int64_t)[i] = STAR_UNKNOWN;
            flags[i] |= flag;
        }
    ts_free(k->valid);
    k->valid = NULL;
}

/* quality_flags of every row from the joins' results (docs: "Quality flags"); missing keys become -1. */
static ts_err resolve_keys(ts_table *t)
{
    ts_column *flags, *acid;
    const int64_t n = ts_table_rows(t);
    TS_TRY(ts_table_add(t, "quality_flags", TS_T_INT32, 0, NULL, &flags));
    TS_TRY(ts_column_reserve(flags, n, 0));
    memset(flags->data, 0, 4 * (size_t)n);
    flags->len = n;
    int32_t *f = TS_COL(flags, int32_t);
    const int64_t *cid = TS_COL(ts_table_col(t, "customer_id"), int64_t);
    TS_TRY(ts_table_need(t, "acct_customer_id", &acid));
    for (int64_t i = 0; i < n; i++) /* a known account whose owner is not the row's customer */
        if (ts_column_is_valid(acid, i) && TS_COL(acid, int64_t)[i] != cid[i])
            f[i] |= STAR_ACCOUNT_MISMATCH;
    unknown_to_minus_one(t, "customer_key", STAR_ORPHAN_CUSTOMER, f);
    unknown_to_minus_one(t, "account_key", STAR_ORPHAN_ACCOUNT, f);
    unknown_to_minus_one(t, "country_key", 0, f); /* the rules accept only countries.csv's codes */
    return TS_OK;
}

/* The dimension keys of every row: left joins on the customers', accounts' and countries' lookups. A row whose
 * customer or account is unknown stays in the fact on the unknown member, flagged (it is a real transaction:
 * dropping it would make the fact's totals disagree with the source). */
static ts_err stage_keys(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const char *const ckey[] = {"customer_key"}, *const akey[] = {"account_key", "acct_customer_id"};
    static const char *const nkey[] = {"country_key"};
    st->rows_in = ts_table_rows(s->rows);
    TS_TRY(join_left(ctx, s, s->cust_lookup, "customer_id", ckey, 1));
    TS_TRY(join_left(ctx, s, s->acct_lookup, "account_id", akey, 2));
    TS_TRY(join_left(ctx, s, s->country_lookup, "country_code", nkey, 1));
    TS_TRY(ts_ctx_check(ctx, resolve_keys(s->rows)));
    st->rows_out = ts_table_rows(s->rows);
    return TS_OK;
}

/* ---- fact_transactions --------------------------------------------------------------------------------- */

static ts_err add_computed(ts_table *t, const char *name, ts_expr *e)
{
    ts_column *c;
    const ts_err err = ts_expr_eval(e, t, name, &c);
    ts_expr_free(e);
    TS_TRY(err);
    return ts_table_adopt(t, c);
}

/* date_key = YYYYMMDD of txn_date (the dim_dates key BI tools expect). */
static ts_err add_date_key(ts_table *t)
{
    ts_column *d, *k;
    TS_TRY(ts_table_need(t, "txn_date", &d));
    const int64_t n = d->len;
    TS_TRY(ts_table_add(t, "date_key", TS_T_INT32, 0, NULL, &k));
    TS_TRY(ts_column_reserve(k, n, 0));
    for (int64_t i = 0; i < n; i++) {
        int y, m, dd;
        ts_civil_from_days(TS_COL(d, int32_t)[i], &y, &m, &dd);
        TS_COL(k, int32_t)[i] = y * 10000 + m * 100 + dd;
    }
    k->len = n;
    return TS_OK;
}

/* currency = the country's currency from countries.csv (the rules skip the file's currency field: the country
 * decides it, domain.md). */
static ts_err add_currency(ts_table *t, const ts_column *by_code)
{
    ts_column *cc, *c;
    TS_TRY(ts_table_need(t, "country_code", &cc));
    TS_TRY(ts_table_add(t, "currency", TS_T_STRING, 0, NULL, &c));
    TS_TRY(ts_column_reserve(c, cc->len, 4 * cc->len));
    const int64_t *off = TS_COL(by_code, int64_t);
    for (int64_t i = 0; i < cc->len; i++) {
        const int32_t code = TS_COL(cc, int32_t)[i];
        TS_TRY(ts_column_append_string(c, by_code->bytes + off[code], off[code + 1] - off[code]));
    }
    return TS_OK;
}

/* FX lookup on (country, month); amount_usd = amount / usd_rate, NULL (and flagged) when the month has no rate,
 * as SQL's division by a NULL rate: a sum skips it instead of becoming NaN. */
static ts_err add_amount_usd(star_state *s)
{
    static const char *const lk[] = {"country_code", "month"}, *const rk[] = {"country", "month"};
    static const char *const bring[] = {"usd_rate"};
    TS_TRY(add_computed(s->rows, "month", ts_x_op(TS_X_MONTH_START, ts_x_col("txn_date"), NULL)));
    ts_table *joined;
    TS_TRY(ts_join_lookup(s->rows, s->fx, lk, rk, 2, bring, 1, &joined));
    ts_table_free(s->rows);
    s->rows = joined;
    TS_TRY(add_computed(joined, "amount_usd",
                        ts_x_op(TS_X_DIV, ts_x_op(TS_X_TO_FLOAT, ts_x_col("amount"), NULL), ts_x_col("usd_rate"))));
    const ts_column *rate = ts_table_col(joined, "usd_rate");
    ts_column *flags = ts_table_col(joined, "quality_flags");
    for (int64_t i = 0; i < rate->len; i++)
        if (!ts_column_is_valid(rate, i))
            TS_COL(flags, int32_t)[i] |= STAR_MISSING_FX;
    return TS_OK;
}

static ts_err stage_fact(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const char *const cols[] = {"txn_id", "date_key", "customer_key", "account_key", "country_key",
                                       "customer_sk", "country_code", "txn_type", "sector", "status", "channel",
                                       "amount", "currency", "amount_usd", "quality_flags"};
    static const char *const key[] = {"txn_id"};
    /* txn_id is unique in tessera-gen's data; __pos (the input position) breaks ties the same way for any P */
    static const ts_sort_key by[] = {{"txn_id", 0, 0}, {"__pos", 0, 0}};
    st->rows_in = ts_table_rows(s->rows);
    ts_err err = add_date_key(s->rows);
    if (!err)
        err = add_currency(s->rows, s->currency);
    if (!err)
        err = add_amount_usd(s);
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(star_version_keys(ctx, s, &s->rows));
    TS_TRY(star_build_dates(ctx, s));
    TS_TRY(ts_sort_distributed_by(ctx, &s->rows, by, 2));
    TS_TRY(ts_ctx_check(ctx, star_select_columns(&s->rows, "fact_transactions", cols, 15)));
    ts_table_set_sorted(s->rows, key, 1);
    st->rows_out = ts_table_rows(s->rows);
    return TS_OK;
}

/* ---- quality ------------------------------------------------------------------------------------------- */

static ts_err build_rejects(star_state *s, ts_table **out)
{
    static const char *const by_pos[] = {"__pos"};
    TS_TRY(ts_sort_local(&s->late, by_pos, 1)); /* ts_scan_fetch_lines wants ascending positions */
    ts_table *r = s->scan.rejects; /* __pos, reason, raw_line */
    const ts_column *lpos = ts_table_col(s->late, "__pos"), *lwhy = ts_table_col(s->late, "reason");
    const int64_t nl = lpos->len, n0 = ts_table_rows(r), n = n0 + nl;
    TS_TRY(ts_scan_fetch_lines(&s->scan, TS_COL(lpos, int64_t), nl, ts_table_col(r, "raw_line")));
    TS_TRY(ts_column_append_rows(ts_table_col(r, "__pos"), lpos, NULL, nl));
    TS_TRY(ts_column_append_rows(ts_table_col(r, "reason"), lwhy, NULL, nl));
    ts_table *t;
    ts_column *file, *line, *why;
    TS_TRY(ts_table_new("rejects", &t));
    *out = t;
    TS_TRY(ts_table_add(t, "file", TS_T_STRING, 0, NULL, &file));
    TS_TRY(ts_table_add(t, "line", TS_T_INT64, 0, NULL, &line));
    TS_TRY(ts_table_add(t, "reason", TS_T_DICT, 0, s->reasons, &why));
    const int64_t *pos = TS_COL(ts_table_col(r, "__pos"), int64_t);
    const int32_t *rw = TS_COL(ts_table_col(r, "reason"), int32_t);
    TS_TRY(ts_column_reserve(line, n, 0));
    TS_TRY(ts_column_reserve(why, n, 0));
    for (int64_t i = 0; i < n; i++) {
        const char *base = ts_file_base(&s->scan.files[ts_pos_file(pos[i])]);
        TS_TRY(ts_column_append_string(file, base, (int64_t)strlen(base)));
        TS_COL(line, int64_t)[i] = ts_pos_line(pos[i]);
        TS_COL(why, int32_t)[i] = rw[i];
    }
    line->len = why->len = n;
    TS_TRY(star_move_column(r, t, "raw_line"));
    return star_move_column(r, t, "__pos");
}

/* /quality/summary: rows_read, rows_clean (= fact rows), rows_rejected, then one count per reason. */
/* /quality/summary: rows_read, rows_clean (= fact rows), rows_rejected, one count per reason, then the fact
 * rows carrying each quality flag. */
static ts_err build_summary(ts_ctx *ctx, star_state *s)
{
    const int nr = s->nreasons, nc = 3 + nr + STAR_NFLAGS;
    int64_t local[3 + STAR_MAX_REASONS + STAR_NFLAGS] = {s->scan.rows_read, ts_table_rows(s->rows),
                                                         ts_table_rows(s->rejects)};
    const ts_column *why = ts_table_col(s->rejects, "reason"), *flags = ts_table_col(s->rows, "quality_flags");
    for (int64_t i = 0; i < why->len; i++)
        local[3 + TS_COL(why, int32_t)[i]]++;
    for (int64_t i = 0; i < flags->len; i++)
        for (int b = 0; b < STAR_NFLAGS; b++)
            local[3 + nr + b] += (TS_COL(flags, int32_t)[i] >> b) & 1;
    TS_MPI(MPI_Allreduce(local, s->counts, nc, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (s->counts[0] != s->counts[1] + s->counts[2])
        TS_FAIL(TS_ERR_INTERNAL, "rows read %lld != fact rows %lld + rejected %lld", (long long)s->counts[0],
                (long long)s->counts[1], (long long)s->counts[2]);
    ts_column *metric, *count;
    TS_TRY(ts_table_new("summary", &s->summary));
    TS_TRY(ts_table_add(s->summary, "metric", TS_T_STRING, 0, NULL, &metric));
    TS_TRY(ts_table_add(s->summary, "count", TS_T_INT64, 0, NULL, &count));
    if (ctx->rank != 0) /* one copy of the summary: rank 0's slab */
        return TS_OK;
    static const char *const names[3] = {"rows_read", "rows_clean", "rows_rejected"};
    TS_TRY(ts_column_reserve(count, nc, 0));
    for (int i = 0; i < nc; i++) {
        int64_t len;
        const char *m = i < 3 ? names[i] : i < 3 + nr ? ts_dict_value(s->reasons, i - 3, &len) : STAR_FLAG_NAMES[i - 3 - nr];
        TS_TRY(ts_column_append_string(metric, m, i < 3 || i >= 3 + nr ? (int64_t)strlen(m) : len));
        TS_COL(count, int64_t)[count->len++] = s->counts[i];
    }
    return TS_OK;
}

static ts_err stage_quality(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const char *const rj[] = {"__pos"}, *const rj_keys[] = {"file", "line"};
    TS_TRY(ts_ctx_check(ctx, build_rejects(s, &s->rejects)));
    TS_TRY(ts_sort_distributed(ctx, &s->rejects, rj, 1));
    ts_table_set_sorted(s->rejects, rj_keys, 2);
    TS_TRY(build_summary(ctx, s));
    st->rows_in = st->rows_out = ts_table_rows(s->rejects);
    return TS_OK;
}

/* ---- output -------------------------------------------------------------------------------------------- */

static ts_err write_tables(star_state *s, ts_output *f)
{
    static const char *const bytes_cols[] = {"raw_line"};
    const ts_h5_table_opts rej_opts = {bytes_cols, 1};
    const char *const names[] = {"dim_customers", "dim_accounts", "dim_countries", "dim_dates", "dim_customers_scd2",
                                 "fact_transactions", "customer_key_map", "account_key_map", "country_key_map"};
    const ts_table *tables[] = {s->customers, s->accounts, s->countries, s->dates, s->versions, s->rows,
                                s->customer_map, s->account_map, s->country_map};
    for (int k = 0; k < 9; k++) {
        char group[128];
        snprintf(group, sizeof group, "/warehouse/%s", names[k]);
        TS_TRY(ts_output_write_table(f, group, tables[k], NULL));
    }
    s->rejects->ncols--; /* __pos is last: hide it from the writer */
    const ts_err err = ts_output_write_table(f, "/quality/rejects", s->rejects, &rej_opts);
    s->rejects->ncols++;
    TS_TRY(err);
    return ts_output_write_table(f, "/quality/summary", s->summary, NULL);
}

static ts_err stage_write(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    const ts_h5_meta meta = {"star-schema", s->args->data_dir, TS_VERSION};
    /* amount_usd is nullable whatever the data (the operators since the FX lookup keep a bitmap only where a
     * NULL is): a fixed schema */
    TS_TRY(ts_ctx_check(ctx, ts_column_make_nullable(ts_table_col(s->rows, "amount_usd"))));
    ts_output *f;
    TS_TRY(ts_output_create(ctx, s->args->out_path, s->args->overwrite, &meta, s->args->out_format, &f));
    const ts_err err = ts_ctx_check(ctx, write_tables(s, f));
    if (err) {
        ts_output_abandon(f);
        return err;
    }
    TS_TRY(ts_output_commit(f));
    st->rows_in = st->rows_out = ts_table_rows(s->customers) + ts_table_rows(s->accounts) +
                                 ts_table_rows(s->dates) + ts_table_rows(s->rows) + ts_table_rows(s->rejects);
    return TS_OK;
}

/* ---- the job ------------------------------------------------------------------------------------------- */

/* The rules, and their reasons (same codes as the scan's). */
static ts_err init_state(star_state *s)
{
    TS_TRY(bank_load_rules(s->args->rules_path, &s->rules));
    s->nreasons = s->rules->nreasons;
    TS_TRY(ts_dict_new((const char *const *)s->rules->reasons, s->nreasons, &s->reasons));
    TS_TRY(ts_table_new("late_rejects", &s->late));
    TS_TRY(ts_table_add(s->late, "__pos", TS_T_INT64, 0, NULL, NULL));
    return ts_table_add(s->late, "reason", TS_T_INT32, 0, NULL, NULL);
}

static void free_state(star_state *s)
{
    ts_scan_free(&s->scan);
    ts_table_free(s->fx), ts_column_free(s->currency), ts_table_free(s->country_ref);
    ts_table_free(s->customers), ts_table_free(s->accounts), ts_table_free(s->countries);
    ts_table_free(s->dates), ts_table_free(s->versions);
    ts_table_free(s->customer_map), ts_table_free(s->account_map), ts_table_free(s->country_map);
    ts_table_free(s->cust_lookup), ts_table_free(s->acct_lookup), ts_table_free(s->country_lookup);
    ts_table_free(s->version_lookup);
    ts_table_free(s->rows), ts_table_free(s->late);
    ts_table_free(s->rejects), ts_table_free(s->summary);
    ts_dict_release(s->countries_dict), ts_dict_release(s->reasons);
    ts_rules_free(s->rules);
}

static ts_err build_plan(ts_plan *p)
{
    ts_plan_init(p, "star-schema");
    TS_TRY(ts_plan_add(p, "reference", "read_csv(rank 0) -> broadcast", stage_reference));
    TS_TRY(ts_plan_add(p, "dimensions", "key maps: join + sample sort + exscan", stage_dims));
    TS_TRY(ts_plan_add(p, "scan+clean", "parallel scan_csv + cleaning rules", stage_scan));
    TS_TRY(ts_plan_add(p, "dedup", "hash exchange + dedup(hash128)", stage_dedup));
    TS_TRY(ts_plan_add(p, "keys", "left join x3 on dimensions + flags", stage_keys));
    TS_TRY(ts_plan_add(p, "fact", "fx lookup + as-of versions + dates + sort", stage_fact));
    TS_TRY(ts_plan_add(p, "quality", "rejects + sample sort + summary", stage_quality));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

static void print_summary(const ts_ctx *ctx, const star_state *s)
{
    if (ctx->rank != 0)
        return;
    const int nr = s->nreasons;
    fprintf(stderr, "rows read %lld, fact %lld, rejected %lld", (long long)s->counts[0], (long long)s->counts[1],
            (long long)s->counts[2]);
    for (int i = 0, first = 1; i < nr; i++)
        if (s->counts[3 + i]) {
            int64_t len;
            const char *m = ts_dict_value(s->reasons, i, &len);
            fprintf(stderr, "%s%.*s %lld", first ? " (" : ", ", (int)len, m, (long long)s->counts[3 + i]);
            first = 0;
        }
    fprintf(stderr, "%s\nfact rows flagged:", s->counts[2] ? ")" : "");
    for (int b = 0; b < STAR_NFLAGS; b++)
        fprintf(stderr, "%s %s %lld", b ? "," : "", STAR_FLAG_NAMES[b], (long long)s->counts[3 + nr + b]);
    fprintf(stderr, "\nnew surrogate keys: %lld customers, %lld accounts, %lld countries\nwrote %s\n",
            (long long)s->new_keys[0], (long long)s->new_keys[1], (long long)s->new_keys[2], s->args->out_path);
}

ts_err ts_job_star_schema(ts_ctx *ctx, const ts_job_args *args)
{
    static const char *const dims[] = {"customers.csv", "accounts.csv"};
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? bank_check_inputs(args->data_dir, dims, 2) : TS_OK));
    star_state s = {.args = args};
    ts_plan plan;
    ts_err err = build_plan(&plan);
    if (!err)
        err = init_state(&s);
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
