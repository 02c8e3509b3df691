/* star-schema (docs/jobs/star-schema.md): customers.csv + accounts.csv -> dense surrogate keys (distributed sort +
 * exclusive prefix sum) -> dim_customers, dim_accounts; transactions -> clean (bank rules) -> dedup -> orphan
 * checks (joins on the dimensions) -> FX -> fact_transactions; dim_dates generated over the fact's date range.
 * Every output is sorted by its key, so the file is identical whatever the number of ranks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_common.h"
#include "ts_jobs.h"
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
#include "ts_scan.h"
#include "ts_sort.h"

#define MAX_REASONS TS_RULES_MAX_REASONS

typedef struct star_state {
    const ts_job_args *args;
    ts_rules *rules;
    ts_dict *countries;    /* accepted country codes (the scan's country_code dictionary) */
    ts_dict *reasons;      /* the rules' reasons, then orphan_customer, orphan_account */
    int nreasons, orphan_customer, orphan_account;
    ts_table *fx;          /* country (DICT), month, usd_rate; on every rank */
    ts_column *currency;   /* STRING: row c = currency of country code c (countries.csv); on every rank */
    ts_table *customers;   /* dim_customers, sorted slab */
    ts_table *accounts;    /* dim_accounts, sorted slab */
    ts_table *acct_lookup; /* account_id, account_key, acct_customer_id: the orphan_account check */
    ts_table *dates;       /* dim_dates */
    ts_scan scan;
    ts_table *rows;        /* the fact rows between stages */
    ts_table *late;        /* __pos, reason: rows rejected after the scan (duplicates, orphans), on their reader */
    ts_table *rejects, *summary;
    int64_t counts[3 + MAX_REASONS]; /* global rows_read, rows_clean, rows_rejected, per reason */
} star_state;

/* ---- reference data ------------------------------------------------------------------------------------ */

static const ts_ref_column CUSTOMER_COLS[] = {{"customer_id", TS_REF_INT64}, {"name", TS_REF_STRING},
                                              {"email", TS_REF_STRING},      {"segment", TS_REF_STRING},
                                              {"country_code", TS_REF_STRING}, {"opened_date", TS_REF_STRING}};
static const ts_ref_column ACCOUNT_COLS[] = {{"account_id", TS_REF_INT64}, {"customer_id", TS_REF_INT64},
                                             {"product", TS_REF_STRING},   {"opened_date", TS_REF_STRING},
                                             {"currency", TS_REF_STRING}};

/* The country_code dictionary, FX rates and each country's currency, on every rank. */
static ts_err stage_reference(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    ts_table *countries = NULL;
    ts_err err = TS_OK;
    if (ctx->rank == 0) {
        static const ts_ref_column ccols[] = {{"country_code", TS_REF_STRING}, {"currency", TS_REF_STRING}};
        char path[4200];
        snprintf(path, sizeof path, "%s/countries.csv", s->args->data_dir);
        err = ts_read_csv_table(path, ccols, 2, &countries);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_broadcast_table(ctx, &countries, 0));
    err = ts_ctx_check(ctx, bank_resolve_countries(s->rules, countries->cols[0], &s->countries));
    if (!err)
        err = bank_read_fx(ctx, s->args->data_dir, s->countries, &s->fx);
    if (!err)
        err = bank_currency_by_code(s->countries, countries, &s->currency);
    ts_table_free(countries);
    st->rows_out = s->fx ? ts_table_rows(s->fx) : 0;
    return err;
}

/* An empty table with the types ts_read_csv_table gives cols: the schema of the ranks that read nothing. */
static ts_err ref_schema(const ts_ref_column *cols, int n, ts_table **out)
{
    TS_TRY(ts_table_new("reference", out));
    for (int i = 0; i < n; i++) {
        const ts_type t = cols[i].type == TS_REF_INT64     ? TS_T_INT64
                          : cols[i].type == TS_REF_FLOAT64 ? TS_T_FLOAT64
                          : cols[i].type == TS_REF_MONTH   ? TS_T_DATE
                                                           : TS_T_STRING;
        TS_TRY(ts_table_add(*out, cols[i].name, t, 0, NULL, NULL));
    }
    return TS_OK;
}

/* A destination array for exchanging n rows. Collective: a failed allocation stops every rank before the
 * exchange instead of leaving the others waiting in it. */
static ts_err alloc_dest(ts_ctx *ctx, int64_t n, int32_t **dest)
{
    *dest = malloc(4 * (size_t)(n + 1));
    return ts_ctx_check(ctx, *dest ? TS_OK
                                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                    "out of memory partitioning %lld rows", (long long)n));
}

/* Adds __line = the file's line number of each row (the header is line 1). */
static ts_err add_lines(ts_table *t)
{
    const int64_t rows = ts_table_rows(t);
    ts_column *line;
    TS_TRY(ts_table_add(t, "__line", TS_T_INT64, 0, NULL, &line));
    TS_TRY(ts_column_reserve(line, rows, 0));
    for (int64_t i = 0; i < rows; i++)
        TS_COL(line, int64_t)[i] = i + 2;
    line->len = rows;
    return TS_OK;
}

/* Rank 0 reads DATA/file; its rows are then dealt in equal contiguous shares to the ranks, with their line
 * numbers (__line) for error messages. Reference tables can be large (millions of customers): only rank 0
 * touches the file, the work after it is spread. */
static ts_err read_spread(ts_ctx *ctx, const char *dir, const char *file, const ts_ref_column *cols, int n,
                          ts_table **out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ts_table *t = NULL;
    ts_err err = ctx->rank == 0 ? ts_read_csv_table(path, cols, n, &t) : ref_schema(cols, n, &t);
    *out = t;
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_ctx_check(ctx, add_lines(t)));
    const int64_t rows = ts_table_rows(t);
    int32_t *dest;
    TS_TRY(alloc_dest(ctx, rows, &dest));
    for (int64_t i = 0; i < rows; i++)
        dest[i] = (int32_t)(i * ctx->size / rows);
    err = ts_exchange_rows_move(ctx, out, dest);
    free(dest);
    return err;
}

/* Replaces the STRING column `name` by a DATE column (YYYY-MM-DD, strict: reference data is clean). */
static ts_err parse_dates(ts_table *t, const char *name, const char *file)
{
    ts_column *str, *d, *line;
    TS_TRY(ts_table_need(t, name, &str));
    TS_TRY(ts_table_need(t, "__line", &line));
    TS_TRY(ts_column_new(name, TS_T_DATE, 0, NULL, &d));
    const int64_t n = str->len, *off = TS_COL(str, int64_t);
    ts_err err = ts_column_reserve(d, n, 0);
    for (int64_t i = 0; !err && i < n; i++)
        if (!ts_parse_date_forms(str->bytes + off[i], (size_t)(off[i + 1] - off[i]), TS_DATE_ISO,
                                 &TS_COL(d, int32_t)[i]))
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                 "%s, line %lld: %s '%.*s' is not a date (YYYY-MM-DD)", file,
                                 (long long)TS_COL(line, int64_t)[i], name, (int)(off[i + 1] - off[i]),
                                 str->bytes + off[i]);
    if (err) {
        ts_column_free(d);
        return err;
    }
    d->len = n;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i] == str)
            t->cols[i] = d;
    ts_column_free(str);
    return TS_OK;
}

/* Index of the first row whose id equals the previous row's, or -1 (ids sorted). */
static int64_t find_repeat(const int64_t *id, int64_t n)
{
    for (int64_t i = 1; i < n; i++)
        if (id[i] == id[i - 1])
            return i;
    return -1;
}

/* Adds column `key` = first + 1, first + 2, ... */
static ts_err add_keys(ts_table *t, const char *key, int64_t first)
{
    const int64_t n = ts_table_rows(t);
    ts_column *k;
    TS_TRY(ts_table_add(t, key, TS_T_INT64, 0, NULL, &k));
    TS_TRY(ts_column_reserve(k, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(k, int64_t)[i] = first + i + 1;
    k->len = n;
    return TS_OK;
}

/* Sorts *t by id (distributed), checks ids are unique, and adds key = 1-based global position as the first
 * column: dense, and the same whatever P because it only depends on the ids. */
static ts_err assign_keys(ts_ctx *ctx, ts_table **t, const char *id, const char *key, const char *file)
{
    const ts_sort_key by[] = {{id, 0, 0}};
    TS_TRY(ts_sort_distributed_by(ctx, t, by, 1));
    ts_column *ids;
    TS_TRY(ts_table_need(*t, id, &ids));
    const int64_t n = ids->len, *v = TS_COL(ids, int64_t);
    /* uniqueness: adjacent rows here, and this slab's first id against the previous non-empty slab's last */
    int64_t mine[3] = {n > 0, n ? v[0] : 0, n ? v[n - 1] : 0}, *all = malloc(24 * (size_t)ctx->size);
    TS_TRY(ts_ctx_check(ctx, all ? TS_OK
                                 : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                  "out of memory checking %s", id)));
    ts_err err = ts_mpi_status(MPI_Allgather(mine, 3, MPI_INT64_T, all, 3, MPI_INT64_T, ctx->comm),
                               "MPI_Allgather", __FILE__, __LINE__, __func__);
    int64_t repeat = err ? -1 : find_repeat(v, n), dup = repeat >= 0 ? v[repeat] : 0;
    for (int r = ctx->rank - 1; !err && repeat < 0 && n > 0 && r >= 0; r--)
        if (all[3 * r]) {
            if (all[3 * r + 2] == v[0])
                repeat = 0, dup = v[0];
            break;
        }
    free(all);
    if (!err && repeat >= 0)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: %s %lld appears more than once",
                             file, id, (long long)dup);
    TS_TRY(ts_ctx_check(ctx, err));
    int64_t first = 0;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0) /* MPI_Exscan leaves rank 0's result undefined */
        first = 0;
    return ts_ctx_check(ctx, add_keys(*t, key, first));
}

/* Moves column `name` of `from` to `to`, renamed to `as` when not NULL. */
static ts_err move_column(ts_table *from, ts_table *to, const char *name, const char *as)
{
    ts_column *c;
    TS_TRY(ts_table_need(from, name, &c));
    for (int i = 0; i < from->ncols; i++)
        if (from->cols[i] == c) {
            memmove(from->cols + i, from->cols + i + 1, sizeof c * (size_t)(from->ncols - i - 1));
            from->ncols--;
            break;
        }
    if (as)
        snprintf(c->name, sizeof c->name, "%s", as);
    const ts_err err = ts_table_adopt(to, c);
    if (err)
        ts_column_free(c);
    return err;
}

/* Replaces *t by its columns `names` in that order (the others are dropped), named `name`. */
static ts_err select_columns(ts_table **t, const char *name, const char *const *names, int n)
{
    ts_table *out;
    TS_TRY(ts_table_new(name, &out));
    for (int k = 0; k < n; k++) {
        const ts_err err = move_column(*t, out, names[k], NULL);
        if (err) {
            ts_table_free(out);
            return err;
        }
    }
    ts_table_free(*t);
    *t = out;
    return TS_OK;
}

/* A copy of column `name` of t, called `as`. */
static ts_err copy_column(const ts_table *t, const char *name, const char *as, ts_table *to)
{
    ts_column *src, *c;
    TS_TRY(ts_table_need(t, name, &src));
    TS_TRY(ts_column_new_like(src, &c));
    snprintf(c->name, sizeof c->name, "%s", as);
    ts_err err = ts_column_append_rows(c, src, NULL, src->len);
    if (!err)
        err = ts_table_adopt(to, c);
    if (err)
        ts_column_free(c);
    return err;
}

/* account_id, account_key, acct_customer_id (the owner) of this rank's accounts. */
static ts_err make_lookup(star_state *s)
{
    TS_TRY(ts_table_new("account_lookup", &s->acct_lookup));
    TS_TRY(copy_column(s->accounts, "account_id", "account_id", s->acct_lookup));
    TS_TRY(copy_column(s->accounts, "account_key", "account_key", s->acct_lookup));
    return copy_column(s->accounts, "customer_id", "acct_customer_id", s->acct_lookup);
}

static ts_err build_customers(ts_ctx *ctx, star_state *s)
{
    static const char *const cols[] = {"customer_key", "customer_id", "name", "email", "segment", "country_code",
                                       "opened_date"};
    static const char *const key[] = {"customer_key"};
    TS_TRY(read_spread(ctx, s->args->data_dir, "customers.csv", CUSTOMER_COLS, 6, &s->customers));
    TS_TRY(ts_ctx_check(ctx, parse_dates(s->customers, "opened_date", "customers.csv")));
    TS_TRY(assign_keys(ctx, &s->customers, "customer_id", "customer_key", "customers.csv"));
    TS_TRY(ts_ctx_check(ctx, select_columns(&s->customers, "dim_customers", cols, 7)));
    ts_table_set_sorted(s->customers, key, 1);
    return TS_OK;
}

/* dim_accounts gets customer_key by a join on customer_id (NULL for an account whose customer is not in
 * customers.csv); the lookup keeps each account's customer_id for the fact's orphan_account check. */
static ts_err build_accounts(ts_ctx *ctx, star_state *s)
{
    static const char *const cols[] = {"account_key", "account_id", "customer_key", "product", "opened_date",
                                       "currency"};
    static const char *const key[] = {"account_key"}, *const cid[] = {"customer_id"};
    static const char *const bring[] = {"customer_key"};
    static const ts_sort_key by[] = {{"account_key", 0, 0}};
    TS_TRY(read_spread(ctx, s->args->data_dir, "accounts.csv", ACCOUNT_COLS, 5, &s->accounts));
    TS_TRY(ts_ctx_check(ctx, parse_dates(s->accounts, "opened_date", "accounts.csv")));
    TS_TRY(assign_keys(ctx, &s->accounts, "account_id", "account_key", "accounts.csv"));
    TS_TRY(ts_ctx_check(ctx, make_lookup(s)));
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = cid, .right_keys = cid, .nkeys = 1,
                               .right_cols = bring, .nright = 1, .strategy = bank_join_strategy(), .broadcast_bytes = 0};
    ts_table *joined;
    TS_TRY(ts_join(ctx, s->accounts, s->customers, &spec, &joined, NULL));
    ts_table_free(s->accounts);
    s->accounts = joined;
    TS_TRY(ts_sort_distributed_by(ctx, &s->accounts, by, 1));
    TS_TRY(select_columns(&s->accounts, "dim_accounts", cols, 6));
    ts_table_set_sorted(s->accounts, key, 1);
    return TS_OK;
}

static ts_err stage_dims(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    TS_TRY(build_customers(ctx, s));
    TS_TRY(build_accounts(ctx, s));
    st->rows_out = ts_table_rows(s->customers) + ts_table_rows(s->accounts);
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
    TS_TRY(alloc_dest(ctx, src->len, &dest));
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
    TS_TRY(alloc_dest(ctx, n, &dest));
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
static ts_err join_left(ts_ctx *ctx, star_state *s, const ts_table *right, const char *key,
                        const char *const *bring, int nbring)
{
    const char *const keys[] = {key};
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = keys, .right_keys = keys, .nkeys = 1,
                               .right_cols = bring, .nright = nbring, .strategy = bank_join_strategy(), .broadcast_bytes = 0};
    ts_table *out;
    TS_TRY(ts_join(ctx, s->rows, right, &spec, &out, NULL));
    ts_table_free(s->rows);
    s->rows = out;
    return TS_OK;
}

/* Reason of fact row i, or -1: its customer is unknown, or its account is unknown or another customer's. */
static int32_t orphan_reason(const star_state *s, const ts_column *ck, const ts_column *ak, const int64_t *cid,
                             const int64_t *acid, int64_t i)
{
    if (!ts_column_is_valid(ck, i))
        return s->orphan_customer;
    if (!ts_column_is_valid(ak, i) || acid[i] != cid[i])
        return s->orphan_account;
    return -1;
}

/* Tags every joined row with its orphan reason (__reason, -1 for none), moves the orphans to *orphans (new) and
 * keeps the others in s->rows. */
static ts_err split_orphans(star_state *s, ts_table **orphans)
{
    ts_table *t = s->rows;
    ts_column *ck = ts_table_col(t, "customer_key"), *ak = ts_table_col(t, "account_key"), *reason;
    const int64_t n = ts_table_rows(t), *cid = TS_COL(ts_table_col(t, "customer_id"), int64_t);
    const int64_t *acid = TS_COL(ts_table_col(t, "acct_customer_id"), int64_t);
    TS_TRY(ts_table_add(t, "__reason", TS_T_INT32, 0, NULL, &reason));
    TS_TRY(ts_column_reserve(reason, n, 0));
    int64_t *keep = malloc(8 * (size_t)(n + 1)), *gone = malloc(8 * (size_t)(n + 1)), nk = 0, ng = 0;
    if (!keep || !gone) {
        free(keep), free(gone);
        TS_FAIL(TS_ERR_NOMEM, "out of memory checking %lld fact rows", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        const int32_t r = orphan_reason(s, ck, ak, cid, acid, i);
        TS_COL(reason, int32_t)[i] = r;
        if (r < 0)
            keep[nk++] = i;
        else
            gone[ng++] = i;
    }
    reason->len = n;
    ts_err err = ts_table_new_like(t, "orphans", orphans);
    if (!err)
        err = ts_table_append_rows(*orphans, t, gone, ng);
    ts_table_keep_rows(t, keep, nk);
    free(keep), free(gone);
    /* the keys of the kept rows are all valid: drop the bitmaps so the writer does not mark them nullable */
    ts_free(ck->valid), ts_free(ak->valid);
    ck->valid = ak->valid = NULL;
    return err;
}

/* The orphan checks: left joins on the dimensions, then rows without a match leave the fact for the rejects. */
static ts_err stage_orphans(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const char *const ckey[] = {"customer_key"}, *const akey[] = {"account_key", "acct_customer_id"};
    st->rows_in = ts_table_rows(s->rows);
    TS_TRY(join_left(ctx, s, s->customers, "customer_id", ckey, 1));
    TS_TRY(join_left(ctx, s, s->acct_lookup, "account_id", akey, 2));
    ts_table *orphans = NULL;
    ts_err err = split_orphans(s, &orphans);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = return_to_source(ctx, &orphans);
    if (!err)
        err = add_late(s, ts_table_col(orphans, "__pos"), NULL, ts_table_rows(orphans),
                       TS_COL(ts_table_col(orphans, "__reason"), int32_t), 0);
    ts_table_free(orphans);
    st->rows_out = ts_table_rows(s->rows);
    return err;
}

/* ---- fact_transactions --------------------------------------------------------------------------------- */

/* Evaluates e over t into a new column of t; frees e. */
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

/* FX lookup on (country, month); amount_usd = amount / usd_rate, NaN when the month has no rate. */
static ts_err add_amount_usd(star_state *s)
{
    static const char *const lk[] = {"country_code", "month"}, *const rk[] = {"country", "month"};
    static const char *const bring[] = {"usd_rate"};
    TS_TRY(add_computed(s->rows, "month", ts_x_op(TS_X_MONTH_START, ts_x_col("txn_date"), NULL)));
    ts_table *joined;
    TS_TRY(ts_join_lookup(s->rows, s->fx, lk, rk, 2, bring, 1, &joined));
    ts_table_free(s->rows);
    s->rows = joined;
    return add_computed(joined, "amount_usd",
                        ts_x_op(TS_X_COALESCE,
                                ts_x_op(TS_X_DIV, ts_x_op(TS_X_TO_FLOAT, ts_x_col("amount"), NULL),
                                        ts_x_col("usd_rate")),
                                ts_x_float(NAN)));
}

static const char *const MONTH_NAMES[12] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};

/* Appends the row of dim_dates for `day` (days since 1970-01-01). */
static ts_err append_date(ts_table *t, int32_t day, int64_t i)
{
    int y, m, d;
    ts_civil_from_days(day, &y, &m, &d);
    const int weekday = (int)(((day % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday (4) */
    const int32_t ints[6] = {y * 10000 + m * 100 + d, day, y, (m - 1) / 3 + 1, m, d};
    for (int c = 0; c < 6; c++) /* date_key, date, year, quarter, month, day */
        TS_COL(t->cols[c], int32_t)[i] = ints[c];
    TS_COL(t->cols[6], int32_t)[i] = weekday;
    TS_COL(t->cols[7], uint8_t)[i] = weekday >= 6;
    return ts_column_append_string(t->cols[8], MONTH_NAMES[m - 1], (int64_t)strlen(MONTH_NAMES[m - 1]));
}

/* dim_dates: every day from the earliest to the latest fact date (no gaps, so BI date axes are continuous);
 * rank r generates the r-th slab of the range, which is already the sorted order. */
static ts_err build_dates(ts_ctx *ctx, star_state *s)
{
    static const char *const names[] = {"date_key", "date", "year", "quarter", "month", "day", "weekday",
                                        "is_weekend", "month_name"};
    static const ts_type types[] = {TS_T_INT32, TS_T_DATE, TS_T_INT32, TS_T_INT32, TS_T_INT32,
                                    TS_T_INT32, TS_T_INT32, TS_T_BOOL, TS_T_STRING};
    static const char *const key[] = {"date_key"};
    const ts_column *d = ts_table_col(s->rows, "txn_date");
    int64_t mm[2] = {INT64_MAX, INT64_MAX}, g[2]; /* min date, -max date */
    for (int64_t i = 0; i < d->len; i++) {
        const int64_t v = TS_COL(d, int32_t)[i];
        mm[0] = v < mm[0] ? v : mm[0];
        mm[1] = -v < mm[1] ? -v : mm[1];
    }
    TS_MPI(MPI_Allreduce(mm, g, 2, MPI_INT64_T, MPI_MIN, ctx->comm));
    const int64_t n = g[0] == INT64_MAX ? 0 : -g[1] - g[0] + 1;
    const int64_t lo = n * ctx->rank / ctx->size, hi = n * (ctx->rank + 1) / ctx->size;
    TS_TRY(ts_table_new("dim_dates", &s->dates));
    for (int c = 0; c < 9; c++) {
        ts_column *col;
        TS_TRY(ts_table_add(s->dates, names[c], types[c], 0, NULL, &col));
        TS_TRY(ts_column_reserve(col, hi - lo, 16 * (hi - lo)));
    }
    for (int64_t i = lo; i < hi; i++)
        TS_TRY(append_date(s->dates, (int32_t)(g[0] + i), i - lo));
    for (int c = 0; c < 8; c++)
        s->dates->cols[c]->len = hi - lo;
    ts_table_set_sorted(s->dates, key, 1);
    return TS_OK;
}

static ts_err stage_fact(ts_ctx *ctx, void *vs, ts_stage_stats *st)
{
    star_state *s = vs;
    static const char *const cols[] = {"txn_id", "date_key", "customer_key", "account_key", "country_code",
                                       "txn_type", "sector", "status", "channel", "amount", "currency",
                                       "amount_usd"};
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
    TS_TRY(ts_ctx_check(ctx, build_dates(ctx, s)));
    TS_TRY(ts_sort_distributed_by(ctx, &s->rows, by, 2));
    TS_TRY(select_columns(&s->rows, "fact_transactions", cols, 12));
    ts_table_set_sorted(s->rows, key, 1);
    st->rows_out = ts_table_rows(s->rows);
    return TS_OK;
}

/* ---- quality ------------------------------------------------------------------------------------------- */

/* Rejects: the scan's, plus the late ones (duplicates, orphans) with their raw lines fetched from this rank's
 * input; columns file, line, reason, raw_line and __pos (the sort key, hidden at write time). */
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
        const char *base = s->scan.files[ts_pos_file(pos[i])].base;
        TS_TRY(ts_column_append_string(file, base, (int64_t)strlen(base)));
        TS_COL(line, int64_t)[i] = ts_pos_line(pos[i]);
        TS_COL(why, int32_t)[i] = rw[i];
    }
    line->len = why->len = n;
    TS_TRY(move_column(r, t, "raw_line", NULL));
    return move_column(r, t, "__pos", NULL);
}

/* /quality/summary: rows_read, rows_clean (= fact rows), rows_rejected, then one count per reason. */
static ts_err build_summary(ts_ctx *ctx, star_state *s)
{
    const int nr = s->nreasons;
    int64_t local[3 + MAX_REASONS] = {s->scan.rows_read, ts_table_rows(s->rows), ts_table_rows(s->rejects)};
    const ts_column *why = ts_table_col(s->rejects, "reason");
    for (int64_t i = 0; i < why->len; i++)
        local[3 + TS_COL(why, int32_t)[i]]++;
    TS_MPI(MPI_Allreduce(local, s->counts, 3 + nr, MPI_INT64_T, MPI_SUM, ctx->comm));
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
    TS_TRY(ts_column_reserve(count, 3 + nr, 0));
    for (int i = 0; i < 3 + nr; i++) {
        int64_t len;
        const char *m = i < 3 ? names[i] : ts_dict_value(s->reasons, i - 3, &len);
        TS_TRY(ts_column_append_string(metric, m, i < 3 ? (int64_t)strlen(m) : len));
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
    TS_TRY(ts_output_write_table(f, "/warehouse/dim_customers", s->customers, NULL));
    TS_TRY(ts_output_write_table(f, "/warehouse/dim_accounts", s->accounts, NULL));
    TS_TRY(ts_output_write_table(f, "/warehouse/dim_dates", s->dates, NULL));
    TS_TRY(ts_output_write_table(f, "/warehouse/fact_transactions", s->rows, NULL));
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

/* The rules, and the reasons: the rules' (same codes as the scan's), then the two orphan reasons. */
static ts_err init_state(star_state *s)
{
    TS_TRY(bank_load_rules(s->args->rules_path, &s->rules));
    const int nr = s->rules->nreasons;
    if (nr + 2 > MAX_REASONS)
        TS_FAIL(TS_ERR_USAGE, "rules for '%s' have %d reasons: star-schema needs room for 2 more", s->rules->table,
                nr);
    const char *names[MAX_REASONS];
    for (int i = 0; i < nr; i++)
        names[i] = s->rules->reasons[i];
    names[s->orphan_customer = nr] = "orphan_customer";
    names[s->orphan_account = nr + 1] = "orphan_account";
    s->nreasons = nr + 2;
    TS_TRY(ts_dict_new(names, s->nreasons, &s->reasons));
    TS_TRY(ts_table_new("late_rejects", &s->late));
    TS_TRY(ts_table_add(s->late, "__pos", TS_T_INT64, 0, NULL, NULL));
    return ts_table_add(s->late, "reason", TS_T_INT32, 0, NULL, NULL);
}

static void free_state(star_state *s)
{
    ts_scan_free(&s->scan);
    ts_table_free(s->fx), ts_column_free(s->currency);
    ts_table_free(s->customers), ts_table_free(s->accounts), ts_table_free(s->acct_lookup);
    ts_table_free(s->dates), ts_table_free(s->rows), ts_table_free(s->late);
    ts_table_free(s->rejects), ts_table_free(s->summary);
    ts_dict_release(s->countries), ts_dict_release(s->reasons);
    ts_rules_free(s->rules);
}

static ts_err build_plan(ts_plan *p)
{
    ts_plan_init(p, "star-schema");
    TS_TRY(ts_plan_add(p, "reference", "read_csv(rank 0) -> broadcast", stage_reference));
    TS_TRY(ts_plan_add(p, "dimensions", "spread + sample sort + exscan keys + join", stage_dims));
    TS_TRY(ts_plan_add(p, "scan+clean", "parallel scan_csv + cleaning rules", stage_scan));
    TS_TRY(ts_plan_add(p, "dedup", "hash exchange + dedup(hash128)", stage_dedup));
    TS_TRY(ts_plan_add(p, "orphans", "left join x2 on dimensions -> split", stage_orphans));
    TS_TRY(ts_plan_add(p, "fact", "fx lookup + keys + dim_dates + sort", stage_fact));
    TS_TRY(ts_plan_add(p, "quality", "rejects + sample sort + summary", stage_quality));
    TS_TRY(ts_plan_add(p, "write", "parallel HDF5 (collective)", stage_write));
    return TS_OK;
}

static void print_summary(const ts_ctx *ctx, const star_state *s)
{
    if (ctx->rank != 0)
        return;
    fprintf(stderr, "rows read %lld, fact %lld, rejected %lld", (long long)s->counts[0], (long long)s->counts[1],
            (long long)s->counts[2]);
    for (int i = 0, first = 1; i < s->nreasons; i++)
        if (s->counts[3 + i]) {
            int64_t len;
            const char *m = ts_dict_value(s->reasons, i, &len);
            fprintf(stderr, "%s%.*s %lld", first ? " (" : ", ", (int)len, m, (long long)s->counts[3 + i]);
            first = 0;
        }
    fprintf(stderr, "%s\nwrote %s\n", s->counts[2] ? ")" : "", s->args->out_path);
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
