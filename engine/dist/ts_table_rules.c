#include "ts_table_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate_dist.h"
#include "ts_csv_table.h"
#include "ts_exchange.h"
#include "ts_hashjoin.h"
#include "ts_keyhash.h"
#include "ts_keys.h"
#include "ts_mem.h"

/* Moves the clean rows with mask[i] set to the rejects (position, reason, raw line), keeping the others. */
static ts_err move_rows(ts_scan *s, const uint8_t *mask, int reason, int64_t *moved)
{
    ts_table *clean = s->clean, *rej = s->rejects;
    const int64_t n = ts_table_rows(clean), *pos = TS_COL(ts_table_col(clean, "__pos"), int64_t);
    int64_t *keep = ts_big(8 * (size_t)(n + 1)), *gone = ts_big(8 * (size_t)(n + 1)), nk = 0, ng = 0;
    if (!keep || !gone) {
        ts_free(keep), ts_free(gone);
        TS_FAIL(TS_ERR_NOMEM, "out of memory applying table rules");
    }
    for (int64_t i = 0; i < n; i++) {
        if (mask[i])
            gone[ng++] = pos[i]; /* ascending: scan output is in input order */
        else
            keep[nk++] = i;
    }
    ts_column *rpos = ts_table_col(rej, "__pos"), *rreason = ts_table_col(rej, "reason");
    ts_err err = ts_scan_fetch_lines(s, gone, ng, ts_table_col(rej, "raw_line"));
    if (!err)
        err = ts_column_reserve(rpos, rpos->len + ng, 0);
    if (!err)
        err = ts_column_reserve(rreason, rreason->len + ng, 0);
    for (int64_t k = 0; !err && k < ng; k++) {
        TS_COL(rpos, int64_t)[rpos->len++] = gone[k];
        TS_COL(rreason, int32_t)[rreason->len++] = reason;
    }
    if (!err)
        ts_table_keep_rows(clean, keep, nk);
    *moved += ng;
    ts_free(keep), ts_free(gone);
    return err;
}

/* The value of a numeric column as a double in its own units (decimals divided by their scale). */
static double number(const ts_column *c, int64_t i)
{
    if (c->type == TS_T_FLOAT64)
        return TS_COL(c, double)[i];
    const double v = (double)ts_key_value(c, i);
    return c->type == TS_T_DECIMAL ? v / pow(10.0, c->scale) : v;
}

static ts_err numeric_column(const ts_table *t, const ts_table_rule *r, const ts_column **c)
{
    ts_column *col;
    TS_TRY(ts_table_need(t, r->cols[0], &col));
    if (col->type == TS_T_STRING || col->type == TS_T_DICT)
        TS_FAIL(TS_ERR_USAGE, "rules line %d: outlier rules need a numeric column, not '%s'", r->line, col->name);
    *c = col;
    return TS_OK;
}

static ts_err zscore_mask(ts_ctx *ctx, const ts_table *t, const ts_table_rule *r, uint8_t *mask)
{
    const ts_column *c = NULL;
    TS_TRY(numeric_column(t, r, &c));
    const int64_t n = ts_table_rows(t);
    double part[2] = {0, 0}, all[2], dev = 0, alldev;
    for (int64_t i = 0; i < n; i++)
        if (ts_column_is_valid(c, i))
            part[0] += 1, part[1] += number(c, i);
    TS_MPI(MPI_Allreduce(part, all, 2, MPI_DOUBLE, MPI_SUM, ctx->comm));
    const double mean = all[0] ? all[1] / all[0] : 0;
    for (int64_t i = 0; i < n; i++) /* second pass: squared deviations, stable where sum-of-squares is not */
        if (ts_column_is_valid(c, i))
            dev += (number(c, i) - mean) * (number(c, i) - mean);
    TS_MPI(MPI_Allreduce(&dev, &alldev, 1, MPI_DOUBLE, MPI_SUM, ctx->comm));
    const double sd = all[0] ? sqrt(alldev / all[0]) : 0;
    for (int64_t i = 0; i < n; i++)
        mask[i] = ts_column_is_valid(c, i) && sd > 0 && fabs(number(c, i) - mean) > r->k * sd;
    return TS_OK;
}

static ts_err iqr_mask(ts_ctx *ctx, const ts_table *t, const ts_table_rule *r, uint8_t *mask)
{
    const ts_column *c = NULL;
    TS_TRY(numeric_column(t, r, &c));
    const ts_agg q[] = {{TS_AGG_QUANTILE, r->cols[0], NULL, "q1", 0.25, NULL},
                        {TS_AGG_QUANTILE, r->cols[0], NULL, "q3", 0.75, NULL}};
    ts_table *out = NULL;
    TS_TRY(ts_aggregate_distributed(ctx, t, NULL, 0, q, 2, "quartiles", &out));
    /* the single group lives on one rank (none when every value is NULL): everyone takes it from there */
    double mine[3] = {0, 0, 0}, *all = malloc(sizeof mine * (size_t)ctx->size);
    const ts_column *q1 = ts_table_col(out, "q1"), *q3 = ts_table_col(out, "q3");
    if (ts_table_rows(out) && ts_column_is_valid(q1, 0))
        mine[0] = 1, mine[1] = TS_COL(q1, double)[0], mine[2] = TS_COL(q3, double)[0];
    ts_table_free(out);
    if (!all)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    const int rc = MPI_Allgather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, ctx->comm);
    double lo = -INFINITY, hi = INFINITY;
    for (int p = 0; p < ctx->size; p++)
        if (all[3 * p]) {
            const double iqr = all[3 * p + 2] - all[3 * p + 1];
            lo = all[3 * p + 1] - r->k * iqr, hi = all[3 * p + 2] + r->k * iqr;
        }
    free(all);
    TS_TRY(ts_mpi_status(rc, "MPI_Allgather of quartiles", __FILE__, __LINE__, __func__));
    const int64_t n = ts_table_rows(t);
    for (int64_t i = 0; i < n; i++)
        mask[i] = ts_column_is_valid(c, i) && (number(c, i) < lo || number(c, i) > hi);
    return TS_OK;
}

/* A small table of the rule's key columns plus the row's home (rank, local row) for the answer's way back. */
static ts_err keyed_rows(ts_ctx *ctx, const ts_table *t, const ts_table_rule *r, ts_table **out)
{
    const char *names[9];
    for (int k = 0; k < r->ncols; k++)
        names[k] = r->cols[k];
    names[r->ncols] = "__pos";
    ts_table *view;
    TS_TRY(ts_table_view(t, names, r->ncols + 1, &view));
    ts_err err = ts_table_new_like(view, "keys", out);
    if (!err)
        err = ts_table_append_rows(*out, view, NULL, ts_table_rows(view));
    ts_table_free(view);
    ts_column *src = NULL, *row = NULL;
    if (!err)
        err = ts_table_add(*out, "__src", TS_T_INT32, 0, NULL, &src);
    if (!err)
        err = ts_table_add(*out, "__row", TS_T_INT64, 0, NULL, &row);
    const int64_t n = ts_table_rows(t);
    if (!err)
        err = ts_column_reserve(src, n, 0);
    if (!err)
        err = ts_column_reserve(row, n, 0);
    for (int64_t i = 0; !err && i < n; i++)
        TS_COL(src, int32_t)[i] = ctx->rank, TS_COL(row, int64_t)[i] = i;
    if (!err)
        src->len = row->len = n;
    return err;
}

/* Rows (of the partitioned key table) whose key was seen with a smaller position. */
static ts_err later_copies(const ts_table *kt, const ts_table_rule *r, uint8_t *loser)
{
    ts_key_cols k;
    TS_TRY(ts_key_cols_resolve(kt, (const char *const *)r->cols, r->ncols, &k));
    const int64_t n = ts_table_rows(kt), *pos = TS_COL(ts_table_col(kt, "__pos"), int64_t);
    uint64_t slots = 16;
    while (slots < (uint64_t)n * 2)
        slots <<= 1;
    int64_t *head = ts_big(8 * slots), *next = ts_big(8 * (size_t)(n + 1)), *win = ts_big(8 * (size_t)(n + 1));
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    ts_err err = head && next && win && h ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "oom");
    if (!err) {
        memset(head, 0xff, 8 * slots);
        ts_key_hash_rows(&k, n, h);
    }
    int64_t groups = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        if (ts_key_has_null(&k, i))
            continue; /* NULL keys are never duplicates */
        int64_t g = head[h[i] & (slots - 1)];
        while (g >= 0 && !(h[win[g]] == h[i] && ts_key_equal(&k, win[g], &k, i)))
            g = next[g];
        if (g < 0) {
            win[groups] = i, next[groups] = head[h[i] & (slots - 1)], head[h[i] & (slots - 1)] = groups++;
        } else if (pos[i] < pos[win[g]]) {
            loser[win[g]] = 1, win[g] = i;
        } else {
            loser[i] = 1;
        }
    }
    ts_free(head), ts_free(next), ts_free(win), ts_free(h);
    return err;
}

static ts_err unique_mask(ts_ctx *ctx, const ts_table *t, const ts_table_rule *r, uint8_t *mask)
{
    ts_table *kt = NULL, *losers = NULL;
    ts_err err = ts_ctx_check(ctx, keyed_rows(ctx, t, r, &kt));
    ts_key_cols k;
    const int64_t n = kt ? ts_table_rows(kt) : 0; /* kt is NULL when keyed_rows failed on some rank */
    int32_t *dest = ts_big(4 * (size_t)(n + 1));
    uint8_t *lose = ts_big_zero((size_t)n + 1);
    if (!err && (!dest || !lose))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = ts_key_cols_resolve(kt, (const char *const *)r->cols, r->ncols, &k);
    for (int64_t i = 0; !err && i < n; i++) /* equal keys meet on one rank */
        dest[i] = (int32_t)(ts_key_hash(&k, i) % (uint64_t)ctx->size);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows_move(ctx, &kt, dest);
    ts_free(dest), dest = NULL;
    const int64_t m = err ? 0 : ts_table_rows(kt);
    ts_free(lose), lose = err ? NULL : ts_big_zero((size_t)m + 1);
    if (!err)
        err = lose ? later_copies(kt, r, lose) : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "oom");
    /* the verdicts go home: (rank, row) of every later copy */
    int64_t *pick = ts_big(8 * (size_t)(m + 1)), np = 0;
    dest = ts_big(4 * (size_t)(m + 1));
    for (int64_t i = 0; !err && pick && dest && i < m; i++)
        if (lose[i])
            dest[np] = TS_COL(ts_table_col(kt, "__src"), int32_t)[i], pick[np++] = i;
    ts_table *picked = NULL;
    if (!err)
        err = ts_table_new_like(kt, "losers", &picked);
    if (!err)
        err = ts_table_append_rows(picked, kt, pick, np);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, picked, dest, &losers);
    for (int64_t i = 0; !err && i < ts_table_rows(losers); i++)
        mask[TS_COL(ts_table_col(losers, "__row"), int64_t)[i]] = 1;
    ts_free(pick), ts_free(dest), ts_free(lose);
    ts_table_free(kt), ts_table_free(picked), ts_table_free(losers);
    return err;
}

/* The reference column, read on rank 0 and broadcast, typed like the checked column. */
static ts_err read_reference(ts_ctx *ctx, const char *data_dir, const ts_table_rule *r, const ts_column *col,
                             ts_table **ref)
{
    ts_err err = TS_OK;
    *ref = NULL;
    if (col->type != TS_T_INT64 && col->type != TS_T_INT32 && col->type != TS_T_STRING && col->type != TS_T_DICT)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                             "rules line %d: references compares integer or text columns, not '%s'", r->line,
                             col->name);
    if (!err && ctx->rank == 0) {
        char path[4200];
        const ts_ref_column rc = {r->ref_column, col->type == TS_T_INT64 || col->type == TS_T_INT32 ? TS_REF_INT64
                                                                                                    : TS_REF_STRING};
        snprintf(path, sizeof path, "%s/%s", data_dir, r->ref_file);
        err = ts_read_csv_table(path, &rc, 1, ref);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    return ts_broadcast_table(ctx, ref, 0);
}

static ts_err references_mask(ts_ctx *ctx, const char *data_dir, const ts_table *t, const ts_table_rule *r,
                              uint8_t *mask)
{
    ts_column *col;
    TS_TRY(ts_table_need(t, r->cols[0], &col));
    ts_table *ref = NULL, *kt = NULL, *missing = NULL;
    ts_err err = read_reference(ctx, data_dir, r, col, &ref);
    if (!err)
        err = keyed_rows(ctx, t, r, &kt);
    const char *lk[] = {r->cols[0]}, *rk[] = {r->ref_column};
    const ts_join_spec spec = {.type = TS_JOIN_ANTI, .left_keys = lk, .right_keys = rk, .nkeys = 1};
    if (!err)
        err = ts_hash_join_local(kt, ref, &spec, &missing, NULL);
    for (int64_t i = 0; !err && i < ts_table_rows(missing); i++) {
        const int64_t row = TS_COL(ts_table_col(missing, "__row"), int64_t)[i];
        mask[row] = ts_column_is_valid(col, row); /* an anti join keeps NULL keys too: they are not violations */
    }
    ts_table_free(ref), ts_table_free(kt), ts_table_free(missing);
    return err;
}

ts_err ts_apply_table_rules(ts_ctx *ctx, const ts_rules *rules, const char *data_dir, ts_scan *scan,
                            int64_t *moved)
{
    int64_t count = 0;
    for (int k = 0; k < rules->ntable_rules; k++) {
        const ts_table_rule *r = &rules->table_rules[k];
        const int64_t n = ts_table_rows(scan->clean);
        uint8_t *mask = ts_big_zero((size_t)n + 1);
        ts_err err = mask ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        if (!err) {
            switch (r->kind) {
            case TS_TRULE_UNIQUE: err = unique_mask(ctx, scan->clean, r, mask); break;
            case TS_TRULE_REFERENCES: err = references_mask(ctx, data_dir, scan->clean, r, mask); break;
            case TS_TRULE_ZSCORE: err = zscore_mask(ctx, scan->clean, r, mask); break;
            case TS_TRULE_IQR: err = iqr_mask(ctx, scan->clean, r, mask); break;
            }
        }
        if (!err)
            err = move_rows(scan, mask, r->reason, &count);
        ts_free(mask);
        TS_TRY(ts_ctx_check(ctx, err));
    }
    if (moved)
        *moved = count;
    return TS_OK;
}
