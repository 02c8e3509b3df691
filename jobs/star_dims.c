/* star-schema's dimensions (docs/jobs/star-schema.md): stable surrogate keys carried in key maps from the
 * previous warehouse (--in), an unknown member (key -1) first in every dimension, dim_dates, and the customer
 * versions of an scd2 dimension (--scd2) with the as-of lookup that gives each fact row its version's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "star_schema.h"
#include "ts_aggregate_dist.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_h5_read.h"
#include "ts_join_dist.h"
#include "ts_mem.h"
#include "ts_sort.h"

#define UNKNOWN_TEXT "Unknown"

const char *const STAR_FLAG_NAMES[STAR_NFLAGS] = {"orphan_customer", "orphan_account", "account_customer_mismatch",
                                                  "missing_fx_rate", "no_customer_version"};

/* ---- reading and reshaping --------------------------------------------------------------------------------- */

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

ts_err star_alloc_dest(ts_ctx *ctx, int64_t n, int32_t **dest)
{
    *dest = calloc((size_t)n + 1, 4);
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
    TS_TRY(star_alloc_dest(ctx, rows, &dest));
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

/* Moves column `name` of `from` to `to`. */
ts_err star_move_column(ts_table *from, ts_table *to, const char *name)
{
    ts_column *c;
    TS_TRY(ts_table_need(from, name, &c));
    for (int i = 0; i < from->ncols; i++)
        if (from->cols[i] == c) {
            memmove(from->cols + i, from->cols + i + 1, sizeof c * (size_t)(from->ncols - i - 1));
            from->ncols--;
            break;
        }
    const ts_err err = ts_table_adopt(to, c);
    if (err)
        ts_column_free(c);
    return err;
}

ts_err star_select_columns(ts_table **t, const char *name, const char *const *names, int n)
{
    ts_table *out;
    TS_TRY(ts_table_new(name, &out));
    for (int k = 0; k < n; k++) {
        const ts_err err = star_move_column(*t, out, names[k]);
        if (err) {
            ts_table_free(out);
            return err;
        }
    }
    ts_table_free(*t);
    *t = out;
    return TS_OK;
}

/* A table of copies of columns names[] of t (renamed as[] when given). */
static ts_err copy_columns(const ts_table *t, const char *name, const char *const *names, const char *const *as,
                           int n, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    for (int k = 0; k < n; k++) {
        ts_column *src, *c;
        TS_TRY(ts_table_need(t, names[k], &src));
        TS_TRY(ts_column_new_like(src, &c));
        snprintf(c->name, sizeof c->name, "%s", as ? as[k] : names[k]);
        ts_err err = ts_column_append_rows(c, src, NULL, src->len);
        if (!err)
            err = ts_table_adopt(*out, c);
        if (err) {
            ts_column_free(c);
            return err;
        }
    }
    return TS_OK;
}

/* Row i of an INT64 or STRING column as text (messages). */
static void value_text(const ts_column *c, int64_t i, char *buf, size_t cap)
{
    if (c->type == TS_T_STRING) {
        const int64_t *off = TS_COL(c, int64_t);
        snprintf(buf, cap, "'%.*s'", (int)(off[i + 1] - off[i] < 100 ? off[i + 1] - off[i] : 100), c->bytes + off[i]);
    } else {
        snprintf(buf, cap, "%lld", (long long)TS_COL(c, int64_t)[i]);
    }
}

/* Every value of column col occurs once (a distributed count per value); otherwise TS_ERR_DATA naming one. */
static ts_err check_unique(ts_ctx *ctx, const ts_table *t, const char *col, const char *where)
{
    static const ts_agg cnt[] = {{TS_AGG_COUNT, NULL, NULL, "n", 0, NULL}};
    const char *keys[] = {col};
    ts_table *g;
    TS_TRY(ts_aggregate_distributed(ctx, t, keys, 1, cnt, 1, "counts", &g));
    ts_err err = TS_OK;
    for (int64_t i = 0; !err && i < ts_table_rows(g); i++)
        if (TS_COL(g->cols[1], int64_t)[i] > 1) {
            char v[128];
            value_text(g->cols[0], i, v, sizeof v);
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: %s %s appears %lld times", where,
                                 col, v, (long long)TS_COL(g->cols[1], int64_t)[i]);
        }
    ts_table_free(g);
    return ts_ctx_check(ctx, err);
}

/* Global maximum of INT64 column col (0 for no rows). */
static ts_err max_of(ts_ctx *ctx, const ts_table *t, const char *col, int64_t *out)
{
    const ts_column *c = ts_table_col(t, col);
    int64_t m = 0;
    for (int64_t i = 0; c && i < c->len; i++)
        m = TS_COL(c, int64_t)[i] > m ? TS_COL(c, int64_t)[i] : m;
    TS_MPI(MPI_Allreduce(&m, out, 1, MPI_INT64_T, MPI_MAX, ctx->comm));
    return TS_OK;
}

/* ---- key maps ---------------------------------------------------------------------------------------------- */

/* The key map `group` of --in (columns id, key), checked: ids and keys unique, keys positive, the id's type
 * that of the dimension's natural key. Without --in: an empty map. Collective. */
static ts_err read_key_map(ts_ctx *ctx, const star_state *s, const char *group, const char *id, ts_type id_type,
                           const char *key, ts_table **out)
{
    const char *path = s->args->in_path;
    if (!path) {
        TS_TRY(ts_table_new("key_map", out));
        TS_TRY(ts_table_add(*out, id, id_type, 0, NULL, NULL));
        return ts_table_add(*out, key, TS_T_INT64, 0, NULL, NULL);
    }
    const char *cols[] = {id, key};
    const ts_err err = ts_h5_read_table(ctx->comm, path, group, cols, 2, out);
    if (err) /* the same message on every rank */
        TS_FAIL(err == TS_ERR_IO ? TS_ERR_IO : TS_ERR_DATA,
                "--in '%s' is not a warehouse of this star-schema (its key map %s cannot be read: %s)", path, group,
                ts_error_headline());
    const ts_column *k = (*out)->cols[1];
    char where[4300];
    snprintf(where, sizeof where, "%s %s", path, group);
    ts_err e = (*out)->cols[0]->type == id_type && k->type == TS_T_INT64
                   ? TS_OK
                   : ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: unexpected column types", where);
    for (int64_t i = 0; !e && i < k->len; i++)
        if (TS_COL(k, int64_t)[i] < 1 || !ts_column_is_valid(k, i) || !ts_column_is_valid((*out)->cols[0], i))
            e = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s: %s %lld is not a positive key", where,
                               key, (long long)TS_COL(k, int64_t)[i]);
    TS_TRY(ts_ctx_check(ctx, e));
    TS_TRY(check_unique(ctx, *out, id, where));
    return check_unique(ctx, *out, key, where);
}

/* Moves the rows of t whose `key` is NULL to *fresh (new). */
static ts_err take_unkeyed(ts_table *t, const char *key, ts_table **fresh)
{
    const ts_column *k = ts_table_col(t, key);
    const int64_t n = ts_table_rows(t);
    int64_t *keep = malloc(8 * (size_t)(n + 1)), *gone = malloc(8 * (size_t)(n + 1)), nk = 0, ng = 0;
    ts_err err = keep && gone ? ts_table_new_like(t, t->name, fresh)
                              : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < n; i++) {
        if (ts_column_is_valid(k, i))
            keep[nk++] = i;
        else
            gone[ng++] = i;
    }
    if (!err)
        err = ts_table_append_rows(*fresh, t, gone, ng);
    if (!err)
        ts_table_keep_rows(t, keep, nk);
    free(keep), free(gone);
    return err;
}

/* Stable surrogate keys: rows of *dim (natural key `id`) keep the key the map `prev` gives their id; ids new to
 * it get max(prev's keys) + 1, + 2, ... in id order, so a build over the same ids gives the same keys whatever
 * P and keys never change once given (removed ids keep theirs in the map: never reused). *map = prev + the new
 * pairs; both *dim and *map sorted by key. Collective. */
static ts_err assign_stable_keys(ts_ctx *ctx, ts_table **dim, const ts_table *prev, const char *id,
                                 const char *key, const char *file, ts_table **map, int64_t *assigned)
{
    TS_TRY(check_unique(ctx, *dim, id, file));
    int64_t top, n, before = 0, total;
    TS_TRY(max_of(ctx, prev, key, &top));
    const char *const ids[] = {id}, *const bring[] = {key};
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = ids, .right_keys = ids, .nkeys = 1,
                               .right_cols = bring, .nright = 1, .strategy = bank_join_strategy()};
    ts_table *j, *fresh = NULL;
    TS_TRY(ts_join(ctx, *dim, prev, &spec, &j, NULL));
    ts_table_free(*dim);
    *dim = j;
    TS_TRY(ts_ctx_check(ctx, take_unkeyed(j, key, &fresh)));
    const ts_sort_key by_id[] = {{id, 0, 0}}, by_key[] = {{key, 0, 0}};
    ts_err err = ts_sort_distributed_by(ctx, &fresh, by_id, 1);
    n = ts_table_rows(fresh);
    if (!err)
        err = ts_mpi_status(MPI_Exscan(&n, &before, 1, MPI_INT64_T, MPI_SUM, ctx->comm), "MPI_Exscan", __FILE__,
                            __LINE__, __func__);
    if (!err)
        err = ts_allreduce_sum_i64(ctx, n, &total);
    if (!err && total > INT64_MAX - top) /* decided alike on every rank */
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                             "%s: the key map's largest %s is %lld; %lld new keys would overflow int64", file, key,
                             (long long)top, (long long)total);
    if (err) {
        ts_table_free(fresh);
        return err;
    }
    if (ctx->rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    ts_column *k = ts_table_col(fresh, key), *kd = ts_table_col(*dim, key);
    for (int64_t i = 0; i < n; i++)
        TS_COL(k, int64_t)[i] = top + 1 + before + i;
    ts_free(k->valid), ts_free(kd->valid); /* every key is set now */
    k->valid = kd->valid = NULL;
    *assigned = total;
    err = ts_table_append_rows(*dim, fresh, NULL, n);
    const char *const pair[] = {id, key};
    if (!err)
        err = copy_columns(prev, "key_map", pair, NULL, 2, map);
    for (int c = 0; !err && c < 2; c++)
        err = ts_column_append_rows((*map)->cols[c], ts_table_col(fresh, pair[c]), NULL, n);
    ts_table_free(fresh);
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_sort_distributed_by(ctx, map, by_key, 1));
    TS_TRY(ts_sort_distributed_by(ctx, dim, by_key, 1));
    ts_table_set_sorted(*map, pair + 1, 1);
    return TS_OK;
}

/* ---- unknown members ----------------------------------------------------------------------------------------- */

static int listed(const char *name, const char *const *names, int n)
{
    for (int k = 0; k < n; k++)
        if (strcmp(name, names[k]) == 0)
            return 1;
    return 0;
}

/* Puts the unknown member first (rank 0's slab of the sorted dimension): the columns `neg` (keys, natural
 * integer ids) are -1, strings "Unknown", every other column NULL. Every column holding a NULL there becomes
 * nullable in the file, so the schema is the same for every input. Collective (errors). */
static ts_err prepend_unknown(ts_ctx *ctx, ts_table **t, const char *const *neg, int nneg, const char *key)
{
    ts_err err = TS_OK;
    if (ctx->rank == 0) {
        ts_table *u = NULL;
        err = ts_table_new_like(*t, (*t)->name, &u);
        for (int c = 0; !err && c < u->ncols; c++) {
            ts_column *col = u->cols[c];
            if (col->type == TS_T_STRING) {
                err = ts_column_append_string(col, UNKNOWN_TEXT, (int64_t)strlen(UNKNOWN_TEXT));
            } else if (listed(col->name, neg, nneg) && (col->type == TS_T_INT64 || col->type == TS_T_INT32)) {
                err = ts_column_reserve(col, 1, 0);
                if (!err && col->type == TS_T_INT64)
                    TS_COL(col, int64_t)[col->len++] = STAR_UNKNOWN;
                else if (!err)
                    TS_COL(col, int32_t)[col->len++] = STAR_UNKNOWN;
            } else {
                err = ts_column_append_nulls(col, 1);
            }
        }
        if (!err)
            err = ts_table_append_rows(u, *t, NULL, ts_table_rows(*t));
        if (err) {
            ts_table_free(u);
        } else {
            ts_table_free(*t);
            *t = u;
        }
    }
    TS_TRY(ts_ctx_check(ctx, err));
    const char *keys[] = {key};
    ts_table_set_sorted(*t, keys, 1);
    return TS_OK;
}

/* ---- the dimensions ------------------------------------------------------------------------------------------ */

static const ts_ref_column CUSTOMER_COLS[] = {{"customer_id", TS_REF_INT64}, {"name", TS_REF_STRING},
                                              {"email", TS_REF_STRING},      {"segment", TS_REF_STRING},
                                              {"country_code", TS_REF_STRING}, {"opened_date", TS_REF_STRING}};
static const ts_ref_column ACCOUNT_COLS[] = {{"account_id", TS_REF_INT64}, {"customer_id", TS_REF_INT64},
                                             {"product", TS_REF_STRING},   {"opened_date", TS_REF_STRING},
                                             {"currency", TS_REF_STRING}};

static ts_err build_customers(ts_ctx *ctx, star_state *s)
{
    static const char *const cols[] = {"customer_key", "customer_id", "name", "email", "segment", "country_code",
                                       "opened_date"};
    static const char *const neg[] = {"customer_key", "customer_id"};
    ts_table *prev;
    TS_TRY(read_key_map(ctx, s, "/warehouse/customer_key_map", "customer_id", TS_T_INT64, "customer_key", &prev));
    ts_err err = read_spread(ctx, s->args->data_dir, "customers.csv", CUSTOMER_COLS, 6, &s->customers);
    if (!err)
        err = ts_ctx_check(ctx, parse_dates(s->customers, "opened_date", "customers.csv"));
    if (!err)
        err = assign_stable_keys(ctx, &s->customers, prev, "customer_id", "customer_key", "customers.csv",
                                 &s->customer_map, &s->new_keys[0]);
    ts_table_free(prev);
    TS_TRY(err);
    static const char *const lk[] = {"customer_id", "customer_key"};
    TS_TRY(ts_ctx_check(ctx, copy_columns(s->customers, "customer_lookup", lk, NULL, 2, &s->cust_lookup)));
    TS_TRY(ts_ctx_check(ctx, star_select_columns(&s->customers, "dim_customers", cols, 7)));
    return prepend_unknown(ctx, &s->customers, neg, 2, "customer_key");
}

/* dim_accounts gets the owner's customer_key by a join on customer_id (-1, the unknown customer, for an owner
 * missing from customers.csv); the lookup keeps each account's customer_id for the fact's mismatch check. */
static ts_err build_accounts(ts_ctx *ctx, star_state *s)
{
    static const char *const cols[] = {"account_key", "account_id", "customer_key", "product", "opened_date",
                                       "currency"};
    static const char *const neg[] = {"account_key", "account_id", "customer_key"};
    static const char *const cid[] = {"customer_id"}, *const bring[] = {"customer_key"};
    static const char *const lk[] = {"account_id", "account_key", "customer_id"},
                             *const lk_as[] = {"account_id", "account_key", "acct_customer_id"};
    static const ts_sort_key by[] = {{"account_key", 0, 0}};
    ts_table *prev;
    TS_TRY(read_key_map(ctx, s, "/warehouse/account_key_map", "account_id", TS_T_INT64, "account_key", &prev));
    ts_err err = read_spread(ctx, s->args->data_dir, "accounts.csv", ACCOUNT_COLS, 5, &s->accounts);
    if (!err)
        err = ts_ctx_check(ctx, parse_dates(s->accounts, "opened_date", "accounts.csv"));
    if (!err)
        err = assign_stable_keys(ctx, &s->accounts, prev, "account_id", "account_key", "accounts.csv",
                                 &s->account_map, &s->new_keys[1]);
    ts_table_free(prev);
    TS_TRY(err);
    TS_TRY(ts_ctx_check(ctx, copy_columns(s->accounts, "account_lookup", lk, lk_as, 3, &s->acct_lookup)));
    const ts_join_spec spec = {.type = TS_JOIN_LEFT, .left_keys = cid, .right_keys = cid, .nkeys = 1,
                               .right_cols = bring, .nright = 1, .strategy = bank_join_strategy()};
    ts_table *joined;
    TS_TRY(ts_join(ctx, s->accounts, s->cust_lookup, &spec, &joined, NULL));
    ts_table_free(s->accounts);
    s->accounts = joined;
    ts_column *ck_col = ts_table_col(joined, "customer_key");
    for (int64_t i = 0; i < ck_col->len; i++) /* an owner missing from customers.csv: the unknown customer */
        if (!ts_column_is_valid(ck_col, i))
            TS_COL(ck_col, int64_t)[i] = STAR_UNKNOWN;
    ts_free(ck_col->valid);
    ck_col->valid = NULL;
    TS_TRY(ts_sort_distributed_by(ctx, &s->accounts, by, 1));
    TS_TRY(ts_ctx_check(ctx, star_select_columns(&s->accounts, "dim_accounts", cols, 6)));
    return prepend_unknown(ctx, &s->accounts, neg, 3, "account_key");
}

/* dim_countries from countries.csv (rank 0 read it in the reference stage), keyed like the others. */
static ts_err build_countries(ts_ctx *ctx, star_state *s)
{
    static const char *const cols[] = {"country_key", "country_code", "name", "currency", "region",
                                       "income_group"};
    static const char *const neg[] = {"country_key"};
    ts_table *prev;
    TS_TRY(read_key_map(ctx, s, "/warehouse/country_key_map", "country_code", TS_T_STRING, "country_key", &prev));
    s->countries = s->country_ref;
    s->country_ref = NULL;
    const ts_err err = assign_stable_keys(ctx, &s->countries, prev, "country_code", "country_key", "countries.csv",
                                          &s->country_map, &s->new_keys[2]);
    ts_table_free(prev);
    TS_TRY(err);
    static const char *const lk[] = {"country_code", "country_key"};
    TS_TRY(ts_ctx_check(ctx, copy_columns(s->countries, "country_lookup", lk, NULL, 2, &s->country_lookup)));
    TS_TRY(ts_ctx_check(ctx, star_select_columns(&s->countries, "dim_countries", cols, 6)));
    return prepend_unknown(ctx, &s->countries, neg, 1, "country_key");
}

/* ---- customer versions (--scd2) ------------------------------------------------------------------------------- */

#define NVERS 12
static const char *const VERSION_COLS[NVERS] = {"customer_sk", "customer_id", "name", "email", "segment",
                                                "country_code", "opened_date", "scd_id", "valid_from", "valid_to",
                                                "is_current", "is_deleted"};

/* The scd2 dimension of --scd2 as /warehouse/dim_customers_scd2 (unknown member first), and its lookup
 * (customer_id, customer_sk, valid_from, valid_to with INT32_MAX for open versions). Without --scd2: only the
 * unknown member, an empty lookup. */
static ts_err build_versions(ts_ctx *ctx, star_state *s)
{
    static const ts_type types[NVERS] = {TS_T_INT64, TS_T_INT64,  TS_T_STRING, TS_T_STRING, TS_T_STRING, TS_T_STRING,
                                         TS_T_DATE,  TS_T_STRING, TS_T_DATE,   TS_T_DATE,   TS_T_BOOL,   TS_T_BOOL};
    static const char *const neg[] = {"customer_sk", "customer_id"};
    static const char *const lk[] = {"customer_id", "customer_sk", "valid_from", "valid_to"};
    static const ts_sort_key by[] = {{"customer_id", 0, 0}, {"valid_from", 0, 0}};
    const char *path = s->args->scd2_path;
    if (path) {
        TS_TRY(ts_h5_read_table(ctx->comm, path, "/warehouse/dim_customers_scd2", VERSION_COLS, NVERS, &s->versions));
        ts_err err = TS_OK;
        for (int k = 0; !err && k < NVERS; k++)
            if (s->versions->cols[k]->type != types[k])
                err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                     "--scd2 '%s': column '%s' has the wrong type (not an scd2 dimension of this "
                                     "version?)", path, VERSION_COLS[k]);
        TS_TRY(ts_ctx_check(ctx, err));
        TS_TRY(ts_sort_distributed_by(ctx, &s->versions, by, 2));
    } else {
        TS_TRY(ts_table_new("dim_customers_scd2", &s->versions));
        for (int k = 0; k < NVERS; k++)
            TS_TRY(ts_table_add(s->versions, VERSION_COLS[k], types[k], 0, NULL, NULL));
    }
    TS_TRY(ts_ctx_check(ctx, copy_columns(s->versions, "version_lookup", lk, NULL, 4, &s->version_lookup)));
    ts_column *to = s->version_lookup->cols[3]; /* open versions end at INT32_MAX: no NULLs to broadcast */
    for (int64_t i = 0; i < to->len; i++)
        if (!ts_column_is_valid(to, i))
            TS_COL(to, int32_t)[i] = INT32_MAX;
    ts_free(to->valid);
    to->valid = NULL;
    TS_TRY(prepend_unknown(ctx, &s->versions, neg, 2, "customer_id"));
    const char *const sorted[] = {"customer_id", "valid_from"};
    ts_table_set_sorted(s->versions, sorted, 2);
    snprintf(s->versions->name, sizeof s->versions->name, "dim_customers_scd2");
    /* valid_to is nullable in scd2's own output too */
    return ts_ctx_check(ctx, ts_column_make_nullable(ts_table_col(s->versions, "valid_to")));
}

ts_err star_build_dimensions(ts_ctx *ctx, star_state *s)
{
    TS_TRY(build_customers(ctx, s));
    TS_TRY(build_accounts(ctx, s));
    TS_TRY(build_countries(ctx, s));
    return build_versions(ctx, s);
}

/* ---- dim_dates -------------------------------------------------------------------------------------------- */

static const char *const MONTH_NAMES[12] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};

/* Appends the row of dim_dates for `day` (days since 1970-01-01). */
static ts_err append_date(ts_table *t, int32_t day)
{
    int y, m, d;
    ts_civil_from_days(day, &y, &m, &d);
    const int weekday = (int)(((day % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday (4) */
    const int32_t ints[7] = {y * 10000 + m * 100 + d, day, y, (m - 1) / 3 + 1, m, d, weekday};
    const int64_t i = t->cols[0]->len;
    for (int c = 0; c < 7; c++) /* date_key, date, year, quarter, month, day, weekday */
        TS_COL(t->cols[c], int32_t)[i] = ints[c];
    TS_COL(t->cols[7], uint8_t)[i] = weekday >= 6;
    for (int c = 0; c < 8; c++)
        t->cols[c]->len = i + 1;
    return ts_column_append_string(t->cols[8], MONTH_NAMES[m - 1], (int64_t)strlen(MONTH_NAMES[m - 1]));
}

/* Every day from the earliest to the latest fact date (no gaps, so BI date axes are continuous); rank r
 * generates the r-th slab of the range, which is already the sorted order; the unknown date first. */
ts_err star_build_dates(ts_ctx *ctx, star_state *s)
{
    static const char *const names[] = {"date_key", "date", "year", "quarter", "month", "day", "weekday",
                                        "is_weekend", "month_name"};
    static const ts_type types[] = {TS_T_INT32, TS_T_DATE, TS_T_INT32, TS_T_INT32, TS_T_INT32,
                                    TS_T_INT32, TS_T_INT32, TS_T_BOOL, TS_T_STRING};
    static const char *const neg[] = {"date_key"};
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
    ts_err err = ts_table_new("dim_dates", &s->dates);
    for (int c = 0; !err && c < 9; c++) {
        ts_column *col;
        err = ts_table_add(s->dates, names[c], types[c], 0, NULL, &col);
        if (!err)
            err = ts_column_reserve(col, hi - lo, 16 * (hi - lo));
    }
    for (int64_t i = lo; !err && i < hi; i++)
        err = append_date(s->dates, (int32_t)(g[0] + i));
    TS_TRY(ts_ctx_check(ctx, err));
    return prepend_unknown(ctx, &s->dates, neg, 1, "date_key");
}

/* ---- the as-of lookup ------------------------------------------------------------------------------------- */

/* The version of customer id valid on day d among the sorted lookup rows [lo, hi) of that customer: the one
 * with valid_from <= d < valid_to (INT32_MAX for an open version), the earliest also covering the days before
 * it. */
static int64_t version_on(const ts_table *lk, int64_t lo, int64_t hi, int32_t d)
{
    const int64_t *sk = TS_COL(lk->cols[1], int64_t);
    const int32_t *from = TS_COL(lk->cols[2], int32_t), *to = TS_COL(lk->cols[3], int32_t);
    for (int64_t v = lo; v < hi; v++)
        if ((v == lo || from[v] <= d) && d < to[v])
            return sk[v];
    return STAR_UNKNOWN;
}

/* Local as-of lookup: every version of each customer of rows is in lk (sorted here by customer_id, valid_from). */
static ts_err lookup_local(ts_table **lkp, ts_table *rows)
{
    static const ts_sort_key by[] = {{"customer_id", 0, 0}, {"valid_from", 0, 0}};
    TS_TRY(ts_sort_local_by(lkp, by, 2));
    const ts_table *lk = *lkp;
    const int64_t m = ts_table_rows(lk), *vid = TS_COL(lk->cols[0], int64_t);
    ts_column *cid, *day, *flags, *sk;
    TS_TRY(ts_table_need(rows, "customer_id", &cid));
    TS_TRY(ts_table_need(rows, "txn_date", &day));
    TS_TRY(ts_table_need(rows, "quality_flags", &flags));
    const int64_t n = cid->len;
    TS_TRY(ts_table_add(rows, "customer_sk", TS_T_INT64, 0, NULL, &sk));
    TS_TRY(ts_column_reserve(sk, n, 0));
    for (int64_t i = 0; i < n; i++) {
        const int64_t id = TS_COL(cid, int64_t)[i];
        int64_t lo = 0, hi = m; /* first version row of id: binary search */
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (vid[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t end = lo;
        while (end < m && vid[end] == id)
            end++;
        const int64_t key = version_on(lk, lo, end, TS_COL(day, int32_t)[i]);
        TS_COL(sk, int64_t)[i] = key;
        if (key == STAR_UNKNOWN)
            TS_COL(flags, int32_t)[i] |= STAR_NO_VERSION;
    }
    sk->len = n;
    return TS_OK;
}

ts_err star_version_keys(ts_ctx *ctx, star_state *s, ts_table **rows)
{
    if (!s->args->scd2_path) { /* no versions: every row on the unknown version, not a problem of the row */
        ts_column *sk;
        const int64_t n = ts_table_rows(*rows);
        TS_TRY(ts_ctx_check(ctx, ts_table_add(*rows, "customer_sk", TS_T_INT64, 0, NULL, &sk)));
        TS_TRY(ts_ctx_check(ctx, ts_column_reserve(sk, n, 0)));
        for (int64_t i = 0; i < n; i++)
            TS_COL(sk, int64_t)[i] = STAR_UNKNOWN;
        sk->len = n;
        return TS_OK;
    }
    /* every version of a customer must meet its fact rows on one rank: all versions on every rank while they
     * are small (the default below 64 MiB), else both sides hash-partitioned on customer_id */
    int64_t bytes;
    TS_TRY(ts_allreduce_sum_i64(ctx, 24 * ts_table_rows(s->version_lookup), &bytes));
    const ts_join_strategy forced = bank_join_strategy();
    const int broadcast = forced == TS_JOIN_BROADCAST || (forced == TS_JOIN_AUTO && bytes < (64 << 20));
    static const char *const key[] = {"customer_id"};
    int32_t *dest;
    if (broadcast) {
        TS_TRY(star_alloc_dest(ctx, ts_table_rows(s->version_lookup), &dest)); /* zeros: all to rank 0 */
        const ts_err err = ts_exchange_rows_move(ctx, &s->version_lookup, dest);
        free(dest);
        TS_TRY(err);
        if (ctx->rank != 0) { /* the broadcast gives the other ranks a new table */
            ts_table_free(s->version_lookup);
            s->version_lookup = NULL;
        }
        TS_TRY(ts_broadcast_table(ctx, &s->version_lookup, 0));
    } else {
        ts_table **sides[] = {&s->version_lookup, rows};
        for (int k = 0; k < 2; k++) {
            TS_TRY(star_alloc_dest(ctx, ts_table_rows(*sides[k]), &dest));
            ts_err err = ts_ctx_check(ctx, ts_aggregate_dest(*sides[k], key, 1, ctx->size, dest));
            if (!err)
                err = ts_exchange_rows_move(ctx, sides[k], dest);
            free(dest);
            TS_TRY(err);
        }
    }
    return ts_ctx_check(ctx, lookup_local(&s->version_lookup, *rows));
}
