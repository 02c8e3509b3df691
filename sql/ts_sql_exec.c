/* Executing logical plans with the engine's operators. One function per node kind; see ts_sql_exec.h for the
 * ownership rules (owned tables vs views). */
#include "ts_sql_exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate_dist.h"
#include "ts_distinct.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_join_dist.h"
#include "ts_mem.h"
#include "ts_sql_parse.h"
#include "ts_sql_print.h"
#include "ts_sql_tablefn.h"

/* ---- the pool ----------------------------------------------------------------------------------------------------- */

ts_err ts_sql_exec_defer(ts_sql_exec *x, void (*fn)(void *), void *arg)
{
    if (x->ndeferred == x->cap_deferred) {
        const int cap = x->cap_deferred ? 2 * x->cap_deferred : 64;
        struct ts_sql_deferred *grown = realloc(x->deferred, sizeof *grown * (size_t)cap);
        if (!grown) {
            fn(arg);
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        }
        x->deferred = grown, x->cap_deferred = cap;
    }
    x->deferred[x->ndeferred++] = (struct ts_sql_deferred){fn, arg};
    return TS_OK;
}

static void free_column(void *c) { ts_column_free(c); }
static void free_table(void *t) { ts_table_free(t); }

ts_err ts_sql_exec_keep(ts_sql_exec *x, ts_column *c) { return ts_sql_exec_defer(x, free_column, c); }
ts_err ts_sql_exec_keep_table(ts_sql_exec *x, ts_table *t) { return ts_sql_exec_defer(x, free_table, t); }

void ts_sql_exec_release(ts_sql_exec *x)
{
    for (int i = 0; i < x->ndeferred; i++)
        x->deferred[i].fn(x->deferred[i].arg);
    free(x->deferred);
    x->deferred = NULL, x->ndeferred = x->cap_deferred = 0;
    free(x->prof);
    x->prof = NULL, x->nprof = x->cap_prof = 0;
}

static ts_err new_view(const char *name, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    (*out)->borrowed = 1;
    return TS_OK;
}

ts_err ts_sql_exec_rename_view(ts_sql_exec *x, const ts_table *src, const int *cols, char *const *names, int n,
                               ts_table **out)
{
    TS_TRY(new_view(src->name, out));
    for (int i = 0; i < n; i++) {
        ts_column *c = malloc(sizeof *c);
        ts_err err = c ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        if (!err) {
            *c = *src->cols[cols[i]]; /* a shallow copy: shares the arrays, freed with free() */
            err = ts_sql_exec_defer(x, free, c);
            if (!err)
                err = ts_column_set_name(c, names[i]);
        }
        if (!err)
            err = ts_table_adopt(*out, c);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            return err;
        }
    }
    return TS_OK;
}

/* An owned copy of a view (owned tables are returned as they are). */
static ts_err own(ts_table **t)
{
    if (!(*t)->borrowed)
        return TS_OK;
    ts_table *copy;
    TS_TRY(ts_table_new_like(*t, (*t)->name, &copy));
    ts_err err = ts_table_append_rows(copy, *t, NULL, ts_table_rows(*t));
    if (err) {
        ts_table_free(copy);
        return err;
    }
    memcpy(copy->sort_keys, (*t)->sort_keys, sizeof copy->sort_keys);
    copy->nsort = (*t)->nsort;
    memcpy(copy->part_keys, (*t)->part_keys, sizeof copy->part_keys);
    copy->npart = (*t)->npart;
    ts_table_free(*t);
    *t = copy;
    return TS_OK;
}

/* Copies from's recorded hash partitioning to to when to still has every partitioning column (under the name
 * rename(key) gives: the same name when rename is NULL). */
static void carry_partitioning(const ts_table *from, ts_table *to, const char *(*rename)(const void *, const char *),
                               const void *arg)
{
    const char *keys[8];
    int n = 0;
    for (int k = 0; k < from->npart; k++) {
        keys[n] = rename ? rename(arg, from->part_keys[k]) : from->part_keys[k];
        if (!keys[n] || !ts_table_col(to, keys[n]))
            return;
        n++;
    }
    ts_table_set_partitioned(to, keys, n);
}

/* Adds column c to t: adopted by an owned table, pooled for a view. */
static ts_err add_column(ts_sql_exec *x, ts_table *t, ts_column *c)
{
    if (t->borrowed)
        TS_TRY(ts_sql_exec_keep(x, c));
    return ts_table_adopt(t, c);
}

ts_err ts_sql_one_row(ts_sql_exec *x, int all_ranks, ts_table **out)
{
    ts_column *c;
    TS_TRY(ts_table_new("one_row", out));
    TS_TRY(ts_table_add(*out, "__one", TS_T_BOOL, 0, NULL, &c));
    if (all_ranks || x->ctx->rank == 0) {
        TS_TRY(ts_column_reserve(c, 1, 0));
        TS_COL(c, uint8_t)[0] = 1;
        c->len = 1;
    }
    return TS_OK;
}

/* ---- expressions ------------------------------------------------------------------------------------------------ */

/* Raises text (the current engine message without its "rank N: " tag) at pos; the tag a collective check gave
 * the current message stays in front of the place, where the next check looks for it. Both are copied before the
 * raise replaces the message. */
static ts_err raise_at(const ts_sql_exec *x, ts_sql_pos pos, ts_err err, const char *text)
{
    char msg[1024], tag[32];
    const char *h = ts_error_headline();
    snprintf(tag, sizeof tag, "%.*s", (int)ts_error_rank_tag(h), h);
    ts_sql_user_message(text, msg, sizeof msg);
    ts_sql_error_at(x->src, pos, err, "%s", msg);
    if (tag[0]) {
        char full[4096];
        snprintf(full, sizeof full, "%s%s", tag, ts_error_message());
        ts_error_set_message(full);
    }
    return err;
}

ts_err ts_sql_located(const ts_sql_exec *x, ts_sql_pos pos, ts_err err)
{
    if (!err || !pos.line || ts_sql_error_located(x->src))
        return err;
    const char *h = ts_error_headline();
    return raise_at(x, pos, err, h + ts_error_rank_tag(h));
}

void ts_sql_user_message(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *c = in; *c && k + 1 < cap; c++) {
        if (*c == '#' && c[1] >= '0' && c[1] <= '9') { /* plan ids ("amount#7") read as the user's names */
            while (c[1] >= '0' && c[1] <= '9')
                c++;
            continue;
        }
        out[k++] = *c;
    }
    out[k] = 0;
}

static ts_err eval_into(ts_sql_exec *x, const ts_sql_expr *e, const ts_table *t, const char *name, ts_column **out)
{
    struct ts_expr *ce;
    TS_TRY(ts_sql_compile(x, e, &ce));
    const ts_err err = ts_expr_eval(ce, t, name, out);
    ts_expr_free(ce);
    return err ? ts_sql_located(x, e->pos, err) : TS_OK;
}

/* Rows of t where every condition holds. */
static ts_err select_rows(ts_sql_exec *x, ts_sql_expr *const *conds, int n, const ts_table *t, int64_t **rows,
                          int64_t *nrows)
{
    struct ts_expr *all = NULL;
    for (int i = 0; i < n; i++) {
        struct ts_expr *ce;
        TS_TRY(ts_sql_compile(x, conds[i], &ce));
        all = all ? ts_x_op(TS_X_AND, all, ce) : ce;
        if (!all)
            TS_FAIL(TS_ERR_NOMEM, "out of memory compiling a filter");
    }
    const ts_err err = ts_expr_select(all, t, rows, nrows);
    ts_expr_free(all);
    return err ? ts_sql_located(x, conds[0]->pos, err) : TS_OK;
}

/* ---- nodes -------------------------------------------------------------------------------------------------------- */

static ts_err exec_node(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);

/* The plan id of a source column (or NULL). */
static const char *source_to_id(const void *arg, const char *name)
{
    const ts_sql_plan *p = arg;
    for (int i = 0; i < p->ncols; i++)
        if (!strcmp(p->source_names[i], name))
            return p->cols[i].id;
    return NULL;
}

static int find_col(const ts_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c]->name, name))
            return c;
    return -1;
}

static ts_err exec_catalog(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    const ts_sql_entry *e = ts_sql_catalog_find(x->catalog, p->table);
    if (!e || !e->table)
        TS_FAIL(TS_ERR_USAGE, "table '%s' was dropped while a query used it", p->table);
    int *idx = malloc(sizeof *idx * (size_t)(p->ncols + 1));
    char **names = malloc(sizeof *names * (size_t)(p->ncols + 1));
    ts_err err = idx && names ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < p->ncols; i++) {
        idx[i] = find_col(e->table, p->source_names[i]);
        if (idx[i] < 0)
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "table '%s' has no column '%s'",
                                 p->table, p->source_names[i]);
        names[i] = p->cols[i].id;
    }
    if (!err)
        err = ts_sql_exec_rename_view(x, e->table, idx, names, p->ncols, out);
    free(idx), free(names);
    TS_TRY(err);
    carry_partitioning(e->table, *out, source_to_id, p);
    return TS_OK;
}

static ts_err exec_filter(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    int64_t *rows, n;
    TS_TRY(select_rows(x, p->conds, p->nconds, *t, &rows, &n));
    ts_err err = TS_OK;
    if ((*t)->borrowed) {
        ts_table *kept;
        err = ts_table_new_like(*t, (*t)->name, &kept);
        if (!err)
            err = ts_table_append_rows(kept, *t, rows, n);
        if (!err) {
            carry_partitioning(*t, kept, NULL, NULL);
            ts_table_free(*t), *t = kept;
        }
        else
            ts_table_free(kept);
    } else {
        ts_table_keep_rows(*t, rows, n);
    }
    ts_free(rows);
    return err;
}

/* Output column i: a column of the input passed through (moved out of an owned input, shared by a view), or the
 * expression's value. */
static ts_err exec_project(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    ts_table *in = *t, *res;
    const int view = in->borrowed;
    TS_TRY(view ? new_view(in->name, &res) : ts_table_new(in->name, &res));
    uint8_t *taken = calloc((size_t)in->ncols + 1, 1);
    ts_err err = taken ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < p->ncols; i++) {
        const ts_sql_expr *e = p->exprs[i];
        const int src = e->kind == TS_SQL_E_COLUMN ? find_col(in, e->name) : -1;
        ts_column *c = NULL;
        if (src >= 0 && !taken[src] && !strcmp(e->name, p->cols[i].id)) {
            c = in->cols[src];
            taken[src] = 1;
            err = ts_table_adopt(res, c);
            continue;
        }
        err = eval_into(x, e, in, p->cols[i].id, &c);
        if (!err)
            err = add_column(x, res, c);
    }
    /* an owned input gives its moved columns to res and frees the rest */
    if (!view && taken) {
        for (int c = 0; c < in->ncols; c++)
            if (taken[c])
                in->cols[c] = NULL;
        int k = 0;
        for (int c = 0; c < in->ncols; c++)
            if (in->cols[c])
                in->cols[k++] = in->cols[c];
        in->ncols = k;
    }
    free(taken);
    if (!err)
        carry_partitioning(in, res, NULL, NULL);
    ts_table_free(in);
    *t = res;
    if (!err && !p->ncols) /* zero columns would lose the row count: keep a marker column */
        err = ts_sql_one_row(x, 1, t);
    return err;
}

static ts_err exec_values(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);
static ts_err delim_values(ts_sql_exec *x, ts_sql_plan *p, const ts_table *l);
static ts_err exec_aggregate(ts_sql_exec *x, ts_sql_plan *p, ts_table **t);
static ts_err exec_join(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out);
static ts_err exec_limit(ts_sql_exec *x, ts_sql_plan *p, ts_table **t);
static ts_err exec_union(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out);
static ts_err exec_setop(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out);

static ts_err exec_sort(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    return ts_sort_distributed_by(x->ctx, t, p->sort, p->nsort);
}

static ts_err exec_distinct(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    const char **cols = malloc(sizeof *cols * (size_t)(p->ncols + 1));
    if (!cols)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->ncols; i++)
        cols[i] = p->cols[i].id;
    ts_err err = own(t);
    const ts_distinct_spec spec = {cols, p->ncols, NULL, TS_KEEP_FIRST};
    if (!err)
        err = ts_distinct(x->ctx, t, &spec, NULL);
    free(cols);
    TS_TRY(err);
    return TS_OK;
}

/* Replaces owned column `name` of t by its cast to the type of column `like` (when the types differ). */
static ts_err cast_like(ts_table *t, const char *name, const char *like)
{
    ts_column *c, *l;
    TS_TRY(ts_table_need(t, name, &c));
    TS_TRY(ts_table_need(t, like, &l));
    if (c->type == l->type && c->scale == l->scale && c->dict == l->dict)
        return TS_OK;
    const ts_type type = l->type == TS_T_DICT ? TS_T_STRING : l->type == TS_T_INT32 ? TS_T_INT64 : l->type;
    struct ts_expr *cast = ts_x_cast(ts_x_col(name), type, l->scale, 0);
    ts_column *conv = NULL;
    ts_err err = ts_expr_eval(cast, t, name, &conv);
    ts_expr_free(cast);
    TS_TRY(err);
    if (l->type == TS_T_INT32 || l->type == TS_T_DICT) { /* the engine's expression types are wider: go back */
        ts_column *exact;
        err = ts_column_new_like(l, &exact);
        for (int64_t i = 0; !err && i < conv->len; i++) {
            if (!ts_column_is_valid(conv, i)) {
                err = ts_column_append_nulls(exact, 1);
            } else if (l->type == TS_T_INT32) {
                const int64_t v = TS_COL(conv, int64_t)[i];
                err = v == (int32_t)v ? ts_column_reserve(exact, exact->len + 1, 0)
                                      : ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                                       "lag/lead default %lld does not fit the column", (long long)v);
                if (!err)
                    TS_COL(exact, int32_t)[exact->len++] = (int32_t)v;
            } else {
                const int64_t *o = TS_COL(conv, int64_t);
                const int32_t code = ts_dict_find(l->dict, conv->bytes + o[i], (size_t)(o[i + 1] - o[i]));
                err = code >= 0 ? ts_column_reserve(exact, exact->len + 1, 0)
                                : ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "lag/lead default "
                                                 "'%.*s' is not a value of the column", (int)(o[i + 1] - o[i]),
                                                 conv->bytes + o[i]);
                if (!err)
                    TS_COL(exact, int32_t)[exact->len++] = code;
            }
        }
        ts_column_free(conv);
        if (err) {
            ts_column_free(exact);
            return err;
        }
        conv = exact;
        const ts_err named = ts_column_set_name(conv, name); /* a name the table already had: it fits */
        if (named) {
            ts_column_free(conv);
            return named;
        }
    }
    for (int k = 0; k < t->ncols; k++)
        if (t->cols[k] == c)
            t->cols[k] = conv;
    ts_column_free(c);
    return TS_OK;
}

ts_err ts_sql_window_prepare(const ts_sql_plan *p, ts_table *t)
{
    for (int i = 0; i < p->nwins; i++) /* lag/lead defaults take their input's type (lag(i, 1, 0) on INT32) */
        if (p->wins[i].fn.default_col)
            TS_TRY(cast_like(t, p->wins[i].fn.default_col, p->wins[i].fn.input));
    return TS_OK;
}

static ts_err exec_window(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    ts_window_fn *fns = malloc(sizeof *fns * (size_t)(p->nwins ? p->nwins : 1));
    if (!fns)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d window functions", p->nwins);
    for (int i = 0; i < p->nwins; i++)
        fns[i] = p->wins[i].fn;
    const ts_window_spec spec = {(const char *const *)p->partition, p->npartition, p->sort, p->nsort, fns, p->nwins,
                                 p->topk, p->topk_fn};
    ts_err err = own(t);
    if (!err)
        err = ts_sql_window_prepare(p, *t);
    if (!err)
        err = ts_window(x->ctx, t, &spec);
    free(fns);
    TS_TRY(err);
    return TS_OK;
}

/* ---- decorrelated subqueries: D, the distinct values of a DELIM_JOIN's correlated columns ---------------------- */

/* Computes p's D from its left input l: the distinct rows of l's delim columns (NULLs equal). Collective. */
static ts_err delim_values(ts_sql_exec *x, ts_sql_plan *p, const ts_table *l)
{
    ts_table *view, *d;
    TS_TRY(ts_table_view(l, (const char *const *)p->delim_cols, p->ndelim, &view));
    ts_err err = ts_table_new_like(view, "delim", &d);
    if (!err)
        err = ts_table_append_rows(d, view, NULL, ts_table_rows(view));
    ts_table_free(view);
    const ts_distinct_spec spec = {(const char *const *)p->delim_cols, p->ndelim, NULL, TS_KEEP_FIRST};
    err = ts_ctx_check(x->ctx, err);
    if (!err)
        err = ts_distinct(x->ctx, &d, &spec, NULL);
    if (err) {
        ts_table_free(d);
        return err;
    }
    p->delim_values = d;
    return TS_OK;
}

/* A view of the enclosing DELIM_JOIN's D under this leaf's column ids. */
static ts_err exec_delim_get(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    const ts_table *d = p->delim ? p->delim->delim_values : NULL;
    if (!d)
        TS_FAIL(TS_ERR_INTERNAL, "internal: a decorrelated subquery ran without its outer values");
    int *idx = malloc(sizeof *idx * (size_t)(p->ncols + 1));
    char **names = malloc(sizeof *names * (size_t)(p->ncols + 1));
    ts_err err = idx && names ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < p->ncols; i++)
        idx[i] = i, names[i] = p->cols[i].id;
    if (!err)
        err = ts_sql_exec_rename_view(x, d, idx, names, p->ncols, out);
    free(idx), free(names);
    return err;
}

/* Unary nodes work on *out (their input, replaced by their output); binary nodes consume both inputs. On failure
 * the caller frees whatever *out holds. */
static ts_err run_kind(ts_sql_exec *x, ts_sql_plan *p, ts_table *in0, ts_table *in1, ts_table **out)
{
    *out = p->in[1] ? NULL : in0;
    switch (p->kind) {
    case TS_P_CATALOG: return exec_catalog(x, p, out);
    case TS_P_CSV: case TS_P_H5: case TS_P_RANGE: case TS_P_PARQUET: return ts_sql_exec_source(x, p, out);
    case TS_P_VALUES: return exec_values(x, p, out);
    case TS_P_ONE_ROW: return ts_sql_one_row(x, 0, out);
    case TS_P_FILTER: return exec_filter(x, p, out);
    case TS_P_PROJECT: return exec_project(x, p, out);
    case TS_P_AGGREGATE: return exec_aggregate(x, p, out); /* locates its own errors */
    case TS_P_JOIN: return exec_join(x, p, in0, in1, out);
    case TS_P_SORT: return exec_sort(x, p, out);
    case TS_P_LIMIT: return exec_limit(x, p, out);
    case TS_P_DISTINCT: return exec_distinct(x, p, out);
    case TS_P_WINDOW: return exec_window(x, p, out);
    case TS_P_UNION: return exec_union(x, p, in0, in1, out);
    case TS_P_SETOP: return exec_setop(x, p, in0, in1, out);
    case TS_P_DELIM_JOIN: return exec_join(x, p, in0, in1, out);
    case TS_P_DELIM_GET: return exec_delim_get(x, p, out);
    case TS_P_DEPJOIN: break;
    }
    TS_FAIL(TS_ERR_INTERNAL, "unknown plan node %d", (int)p->kind);
}

/* Out of memory: says which operator ran out, and how big the plan thought its result was. */
static ts_err nomem_context(const ts_sql_plan *p, ts_err err)
{
    if (err != TS_ERR_NOMEM)
        return err;
    char msg[1024];
    const int shared = ts_error_is_shared(); /* already agreed by every rank (and prefixed with the rank) */
    ts_sql_user_message(ts_error_headline(), msg, sizeof msg);
    err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "%s (in %s%s%s, estimated %.3g rows; EXPLAIN "
                         "shows the plan)", msg, ts_sql_plan_kind_name(p->kind),
                         p->kind == TS_P_JOIN && p->cross ? " (cross product)" : "",
                         p->kind == TS_P_JOIN && !p->cross ? " (hash join)" : "", p->est_rows);
    if (shared)
        ts_error_mark_shared();
    return err;
}

ts_err ts_sql_exec_kind(ts_sql_exec *x, ts_sql_plan *p, ts_table *in0, ts_table *in1, ts_table **out)
{
    const ts_err err = ts_ctx_check(x->ctx, nomem_context(p, run_kind(x, p, in0, in1, out)));
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

static ts_err exec_node(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    ts_table *in[2] = {NULL, NULL};
    *out = NULL;
    for (int i = 0; i < 2; i++)
        if (p->in[i]) {
            ts_err err = exec_node(x, p->in[i], &in[i]);
            if (!err && i == 0 && p->kind == TS_P_DELIM_JOIN) /* D, for the DELIM_GET leaves of the right side */
                err = ts_ctx_check(x->ctx, delim_values(x, p, in[0]));
            if (err) {
                ts_table_free(in[0]);
                if (p->kind == TS_P_DELIM_JOIN)
                    ts_table_free(p->delim_values), p->delim_values = NULL;
                return err;
            }
        }
    if (p->kind == TS_P_DELIM_JOIN) /* the right side has read it */
        ts_table_free(p->delim_values), p->delim_values = NULL;
    const double t0 = ts_now();
    ts_err err = ts_ctx_check(x->ctx, nomem_context(p, run_kind(x, p, in[0], in[1], out)));
    if (err) {
        ts_table_free(*out);
        *out = NULL;
        return err;
    }
    p->seconds = ts_now() - t0;
    if (x->analyze) {
        int64_t rows = ts_table_rows(*out);
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, x->ctx->comm));
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &p->seconds, 1, MPI_DOUBLE, MPI_MAX, x->ctx->comm));
        p->rows_out = rows;
    }
    return TS_OK;
}

ts_err ts_sql_exec_plan(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    TS_TRY(ts_sql_run_subqueries(x, p));
    if (ts_sql_pipelined() && ts_sql_physical_supports(p))
        return ts_sql_exec_pipelined(x, p, out);
    TS_TRY(exec_node(x, p, out));
    const ts_err err = ts_ctx_check(x->ctx, own(out));
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

/* ---- VALUES: built on rank 0, dealt round-robin so that even small tables spread over the ranks ------------ */

static int rank_of_type(ts_type t) { return t == TS_T_FLOAT64 ? 2 : t == TS_T_INT64 || t == TS_T_INT32 ? 1 : 0; }

static ts_err values_column(ts_sql_exec *x, ts_sql_plan *p, int c, const ts_table *one, ts_column **out)
{
    ts_column *cells[4096];
    if (p->nrows > 4096)
        TS_FAIL(TS_ERR_USAGE, "VALUES lists are limited to 4096 rows (load larger data with read_csv)");
    ts_err err = TS_OK;
    int n = 0;
    for (; !err && n < p->nrows; n++)
        err = eval_into(x, p->values[n * p->ncols + c], one, p->cols[c].id, &cells[n]);
    /* the column type: the cells' common type (integers widen to doubles; NULL cells do not count) */
    int target = -1;
    for (int r = 0; !err && r < n; r++) {
        const ts_column *cell = cells[r];
        if (!ts_column_is_valid(cell, 0))
            continue;
        if (target < 0 || cells[target]->type == cell->type)
            target = target < 0 ? r : target;
        else if (rank_of_type(cells[target]->type) && rank_of_type(cell->type))
            target = rank_of_type(cell->type) > rank_of_type(cells[target]->type) ? r : target;
        else
            err = ts_sql_error_at(x->src, p->values[r * p->ncols + c]->pos, TS_ERR_USAGE,
                                  "VALUES column %d mixes types", c + 1);
    }
    if (!err)
        err = ts_column_new_like(cells[target < 0 ? 0 : target], out);
    for (int r = 0; !err && r < n; r++) {
        const ts_column *cell = cells[r];
        if (!ts_column_is_valid(cell, 0))
            err = ts_column_append_nulls(*out, 1);
        else if (cell->type == (*out)->type)
            err = ts_column_append_rows(*out, cell, NULL, 1);
        else if ((err = ts_column_reserve(*out, (*out)->len + 1, 0)) == TS_OK) /* an integer into a double column */
            TS_COL(*out, double)[(*out)->len++] = (double)TS_COL(cell, int64_t)[0];
    }
    for (int r = 0; r < n; r++)
        ts_column_free(cells[r]);
    return err;
}

static ts_err exec_values(ts_sql_exec *x, ts_sql_plan *p, ts_table **out)
{
    ts_table *one, *t;
    TS_TRY(ts_sql_one_row(x, 1, &one));
    ts_err err = ts_table_new("values", &t);
    for (int c = 0; !err && c < p->ncols; c++) {
        ts_column *col;
        err = values_column(x, p, c, one, &col);
        if (!err && x->ctx->rank != 0) /* every rank evaluates (same schema); rank 0 keeps the rows */
            col->len = 0, ts_free(col->valid), col->valid = NULL, col->nbytes = 0;
        if (!err)
            err = ts_table_adopt(t, col);
    }
    ts_table_free(one);
    int32_t *dest = NULL;
    const int64_t n = err ? 0 : ts_table_rows(t);
    if (!err && n && !(dest = malloc(sizeof *dest * (size_t)n)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; i < n; i++)
        dest[i] = (int32_t)(i % x->ctx->size);
    err = ts_ctx_check(x->ctx, err);
    if (!err)
        err = ts_exchange_rows_move(x->ctx, &t, dest);
    free(dest);
    if (err)
        ts_table_free(t), t = NULL;
    *out = t;
    return err;
}

/* ---- aggregation ------------------------------------------------------------------------------------------------- */

static int any_nulls(const ts_column *c)
{
    if (!c->valid)
        return 0;
    for (int64_t i = 0; i < c->len; i++)
        if (!ts_column_is_valid(c, i))
            return 1;
    return 0;
}

void ts_sql_agg_setup_free(ts_sql_agg_setup *a)
{
    free(a->aggs), free(a->fix), free(a->count_names);
    memset(a, 0, sizeof *a);
}

ts_err ts_sql_agg_prepare(const ts_sql_plan *p, const uint8_t *nullable, ts_sql_agg_setup *a)
{
    memset(a, 0, sizeof *a);
    const size_t n = (size_t)p->naggs + 1;
    a->aggs = calloc(2 * n, sizeof *a->aggs), a->fix = calloc(n, sizeof *a->fix);
    a->count_names = calloc(n, sizeof *a->count_names);
    if (!a->aggs || !a->fix || !a->count_names) {
        ts_sql_agg_setup_free(a);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d aggregates", p->naggs);
    }
    a->keys = (const char *const *)p->keys;
    a->naggs = p->naggs;
    for (int i = 0; i < p->naggs; i++)
        a->aggs[i] = p->aggs[i].agg;
    /* SQL's SUM of no values is NULL (the engine's is 0): count the values where some may be NULL or filtered */
    for (int i = 0; i < p->naggs; i++) {
        if (a->aggs[i].kind != TS_AGG_SUM || !(nullable[i] || a->aggs[i].where))
            continue;
        snprintf(a->count_names[a->nfix], sizeof a->count_names[a->nfix], "__n%d", i);
        a->aggs[a->naggs++] = (ts_agg){TS_AGG_COUNT, a->aggs[i].input, a->aggs[i].where, a->count_names[a->nfix], 0,
                                       NULL};
        a->fix[a->nfix++] = i;
    }
    return TS_OK;
}

ts_err ts_sql_agg_error(const ts_sql_exec *x, const ts_sql_plan *p, ts_err err)
{
    if (!err || ts_sql_error_located(x->src))
        return err;
    const char *h = ts_error_headline();
    const size_t rank_tag = ts_error_rank_tag(h);
    for (int a = 0; a < p->naggs; a++) {
        const ts_sql_agg_item *it = &p->aggs[a];
        char tag[TS_SQL_ID_MAX + 32];
        snprintf(tag, sizeof tag, "aggregate '%s' of '", it->agg.output);
        const char *at = strstr(h + rank_tag, tag), *rest = at ? strstr(at + strlen(tag), "': ") : NULL;
        if (!it->text || !rest)
            continue;
        char msg[1024];
        snprintf(msg, sizeof msg, "%.*s%s: %s", (int)(at - h - rank_tag), h + rank_tag, it->text, rest + 3);
        return raise_at(x, it->pos, err, msg);
    }
    return ts_sql_located(x, p->pos, err);
}

ts_err ts_sql_agg_fixup(ts_sql_exec *x, const ts_sql_plan *p, const ts_sql_agg_setup *a, ts_table *res)
{
    ts_err err = TS_OK;
    for (int f = 0; !err && f < a->nfix; f++) {
        ts_column *sum = ts_table_col(res, a->aggs[a->fix[f]].output), *cnt = ts_table_col(res, a->count_names[f]);
        for (int64_t i = 0; !err && i < cnt->len; i++)
            if (!TS_COL(cnt, int64_t)[i])
                err = ts_column_set_null(sum, i);
    }
    /* a scalar subquery's value: at most one row per outer row */
    if (!err && p->single_count) {
        const ts_column *cnt = ts_table_col(res, p->single_count);
        int64_t most = 0;
        for (int64_t i = 0; cnt && i < cnt->len; i++)
            most = TS_COL(cnt, int64_t)[i] > most ? TS_COL(cnt, int64_t)[i] : most;
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_INT64_T, MPI_MAX, x->ctx->comm));
        if (most > 1)
            TS_FAIL(TS_ERR_DATA, "More than one row returned by a subquery used as an expression (a scalar "
                    "subquery may return at most one row for each row of the outer query)");
    }
    /* drop the helper counts (the aggregates after p->naggs; a key named like them stays) */
    for (int c = 0, k = 0; !err && a->nfix && c <= res->ncols; c++) {
        if (c == res->ncols) {
            res->ncols = k;
            break;
        }
        if (c >= p->nkeys + p->naggs)
            ts_column_free(res->cols[c]);
        else
            res->cols[k++] = res->cols[c];
    }
    /* no GROUP BY over no rows: one row (count 0, other aggregates NULL) */
    int64_t rows = ts_table_rows(res);
    if (!err && !p->nkeys) {
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, x->ctx->comm));
        for (int c = 0; !err && !rows && x->ctx->rank == 0 && c < res->ncols; c++) {
            ts_column *col = res->cols[c];
            if (p->aggs[c].agg.kind == TS_AGG_COUNT || p->aggs[c].agg.kind == TS_AGG_COUNT_DISTINCT) {
                err = ts_column_reserve(col, 1, 0);
                if (!err)
                    TS_COL(col, int64_t)[0] = 0, col->len = 1;
            } else {
                err = ts_column_append_nulls(col, 1);
            }
        }
    }
    return err;
}

/* The aggregation proper (aggregate errors are located by exec_aggregate). */
static ts_err aggregate_with(ts_sql_exec *x, ts_sql_plan *p, ts_table **t, uint8_t *nullable)
{
    for (int a = 0; a < p->naggs; a++) {
        if (p->aggs[a].agg.kind != TS_AGG_SUM)
            continue;
        ts_column *in;
        TS_TRY(ts_table_need(*t, p->aggs[a].agg.input, &in));
        int nulls = any_nulls(in);
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &nulls, 1, MPI_INT, MPI_MAX, x->ctx->comm));
        nullable[a] = (uint8_t)nulls;
    }
    ts_sql_agg_setup a;
    TS_TRY(ts_sql_agg_prepare(p, nullable, &a));
    if (x->ctx->size > 1 && ts_aggregate_is_local(*t, a.keys, p->nkeys))
        snprintf(p->run_note, sizeof p->run_note, "input already hash-partitioned on a subset of the keys: "
                 "aggregated locally, no exchange");
    ts_table *res;
    ts_err err = ts_aggregate_distributed(x->ctx, *t, a.keys, p->nkeys, a.aggs, a.naggs, "aggregate", &res);
    if (!err) {
        ts_table_free(*t);
        *t = res;
        err = ts_sql_agg_fixup(x, p, &a, res);
    }
    ts_sql_agg_setup_free(&a);
    return err;
}

static ts_err exec_aggregate(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    uint8_t *nullable = calloc((size_t)p->naggs + 1, 1);
    ts_err err = nullable ? aggregate_with(x, p, t, nullable)
                          : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for %d "
                                           "aggregates", p->naggs);
    free(nullable);
    return err ? ts_sql_agg_error(x, p, err) : TS_OK;
}

/* ---- joins -------------------------------------------------------------------------------------------------------- */

/* NOT IN (subquery): no rows when the subquery has a NULL; else an anti join without the NULL-key left rows
 * (x NOT IN (...) is NULL for a NULL x) unless the subquery is empty. */
static ts_err not_in_fixup(ts_sql_exec *x, ts_sql_plan *p, const ts_table *r, ts_table **out)
{
    ts_column *rk, *lk;
    TS_TRY(ts_table_need(r, p->right_keys[0], &rk));
    int64_t counts[2] = {any_nulls(rk), rk->len};
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, x->ctx->comm));
    if (!counts[1])
        return TS_OK;
    TS_TRY(ts_table_need(*out, p->left_keys[0], &lk));
    int64_t *keep = ts_big(sizeof *keep * (size_t)(lk->len + 1)), n = 0;
    if (!keep)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < lk->len && !counts[0]; i++)
        if (ts_column_is_valid(lk, i))
            keep[n++] = i;
    ts_table_keep_rows(*out, keep, n);
    ts_free(keep);
    return TS_OK;
}

static ts_err add_const_key(ts_sql_exec *x, ts_table *t, const char *name)
{
    ts_column *c;
    TS_TRY(ts_column_new(name, TS_T_INT64, 0, NULL, &c));
    ts_err err = ts_column_reserve(c, ts_table_rows(t), 0);
    if (!err) {
        memset(c->data, 0, sizeof(int64_t) * (size_t)ts_table_rows(t));
        c->len = ts_table_rows(t);
        return add_column(x, t, c);
    }
    ts_column_free(c);
    return err;
}

static int int_like(ts_type t) { return t == TS_T_INT32 || t == TS_T_INT64 || t == TS_T_DECIMAL || t == TS_T_BOOL; }

/* Converts key column *name of t to (type, scale) into a helper column `as` (pooled when t is a view). */
static ts_err convert_key(ts_sql_exec *x, ts_table *t, const char **name, ts_type type, int scale, const char *as)
{
    const ts_column *c = ts_table_col(t, *name);
    if (c->type == type && (type != TS_T_DECIMAL || c->scale == scale))
        return TS_OK;
    struct ts_expr *cast = ts_x_cast(ts_x_col(*name), type, scale, 0);
    ts_column *conv = NULL;
    const ts_err err = cast ? ts_expr_eval(cast, t, as, &conv) : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__,
                                                                                __func__, "out of memory");
    ts_expr_free(cast);
    TS_TRY(err);
    *name = as;
    return add_column(x, t, conv);
}

/* Keys compare by value, as SQL's = does: an integer against a DOUBLE compares as DOUBLEs, decimals of different
 * scales (or an integer) at the larger scale, a DATE against a TIMESTAMP as its midnight. Converted keys are helper columns "__kl<k>" / "__kr<k>". */
static ts_err coerce_keys(ts_sql_exec *x, ts_table *l, ts_table *r, const char **lk, const char **rk, int nkeys,
                          char names[][2][16])
{
    for (int k = 0; k < nkeys; k++) {
        const ts_column *a = ts_table_col(l, lk[k]), *b = ts_table_col(r, rk[k]);
        if (!a || !b)
            continue; /* the join reports it */
        const int sa = a->type == TS_T_DECIMAL ? a->scale : 0, sb = b->type == TS_T_DECIMAL ? b->scale : 0;
        ts_type type;
        if (int_like(a->type) && int_like(b->type) && sa != sb)
            type = TS_T_DECIMAL;
        else if ((a->type == TS_T_FLOAT64 && int_like(b->type)) || (b->type == TS_T_FLOAT64 && int_like(a->type)))
            type = TS_T_FLOAT64;
        else if ((a->type == TS_T_DATE && b->type == TS_T_TIMESTAMP) || (a->type == TS_T_TIMESTAMP && b->type == TS_T_DATE))
            type = TS_T_TIMESTAMP; /* a DATE meets a TIMESTAMP at its midnight */
        else
            continue;
        snprintf(names[k][0], 16, "__kl%d", k), snprintf(names[k][1], 16, "__kr%d", k);
        TS_TRY(convert_key(x, l, &lk[k], type, sa > sb ? sa : sb, names[k][0]));
        TS_TRY(convert_key(x, r, &rk[k], type, sa > sb ? sa : sb, names[k][1]));
    }
    return TS_OK;
}

static int64_t table_bytes(const ts_table *t)
{
    int64_t n = 0;
    for (int c = 0; c < t->ncols; c++)
        n += t->cols[c]->len * (int64_t)ts_type_width(t->cols[c]->type) + t->cols[c]->nbytes;
    return n;
}

/* The plan puts the smaller input of a join on the build (right) side from its estimates; when the measured sizes
 * say otherwise by far, the sides are swapped here (a LEFT join becomes a RIGHT one; the output columns are put
 * back in the plan's order afterwards). Semi and anti joins build on the smaller side instead. */
static ts_join_type mirrored(ts_join_type t)
{
    return t == TS_JOIN_LEFT ? TS_JOIN_RIGHT : t == TS_JOIN_RIGHT ? TS_JOIN_LEFT : t;
}

static ts_err adapt_sides(ts_sql_exec *x, const ts_sql_plan *p, ts_table **l, ts_table **r, const char **lk,
                          const char **rk, int nkeys, ts_join_type *type, int *swapped, int *build_left)
{
    int64_t bytes[2] = {table_bytes(*l), table_bytes(*r)};
    *swapped = *build_left = 0;
    const int semi = p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI;
    if (p->cross || !nkeys)
        return TS_OK;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, bytes, 2, MPI_INT64_T, MPI_SUM, x->ctx->comm));
    if (semi) { /* semi and anti joins can build on either side: the smaller */
        *build_left = bytes[0] < bytes[1];
        return TS_OK;
    }
    if (bytes[1] <= 2 * bytes[0]) /* the right side builds: swap when it is far the larger (LEFT becomes RIGHT) */
        return TS_OK;
    *type = mirrored(*type);
    ts_table *t = *l;
    *l = *r, *r = t;
    for (int k = 0; k < nkeys; k++) {
        const char *s = lk[k];
        lk[k] = rk[k], rk[k] = s;
    }
    *swapped = 1;
    return TS_OK;
}

/* Puts t's columns in the order of the plan node's columns (those it has). */
static void plan_order(const ts_sql_plan *p, ts_table *t)
{
    int next = 0;
    for (int c = 0; c < p->ncols; c++) {
        const int at = find_col(t, p->cols[c].id);
        if (at < next)
            continue;
        ts_column *col = t->cols[at];
        memmove(&t->cols[next + 1], &t->cols[next], sizeof *t->cols * (size_t)(at - next));
        t->cols[next++] = col;
    }
}

int64_t ts_sql_broadcast_limit(int *strategy)
{
    const char *e = getenv("TESSERA_BROADCAST_LIMIT");
    char *end = NULL;
    const long long v = e && *e ? strtoll(e, &end, 10) : -1;
    *strategy = TS_JOIN_AUTO;
    if (v < 0 || (end && *end))
        return 0;
    if (v == 0)
        *strategy = TS_JOIN_SHUFFLE;
    return (int64_t)v;
}

static ts_err exec_join(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out)
{
    int nkeys = p->njoin_keys, swapped = 0, build_left = 0;
    ts_join_type type = p->join_type;
    const char **lk = malloc(sizeof *lk * (size_t)(2 * nkeys + 2)), **rk = lk ? lk + nkeys + 1 : NULL;
    char(*helper)[2][16] = malloc(sizeof *helper * (size_t)(nkeys + 1)); /* converted keys' names */
    ts_err err = lk && helper ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int k = 0; !err && k < nkeys; k++)
        lk[k] = p->left_keys[k], rk[k] = p->right_keys[k];
    if (!err)
        err = adapt_sides(x, p, &l, &r, lk, rk, nkeys, &type, &swapped, &build_left);
    if (!err && (p->cross || !nkeys)) { /* every pair: a join on a constant key (a small right side is broadcast) */
        err = add_const_key(x, l, "__cross_l");
        if (!err)
            err = add_const_key(x, r, "__cross_r");
        lk[0] = "__cross_l", rk[0] = "__cross_r", nkeys = 1;
    }
    if (!err)
        err = coerce_keys(x, l, r, lk, rk, nkeys, helper);
    const char **right_cols = malloc(sizeof *right_cols * (size_t)(r->ncols + 1));
    if (!err && !right_cols)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    int nright = 0;
    for (int c = 0; c < r->ncols && !err; c++)
        if (strncmp(r->cols[c]->name, "__", 2))
            right_cols[nright++] = r->cols[c]->name;
    ts_join_spec spec = {.type = type, .left_keys = lk, .right_keys = rk, .nkeys = nkeys,
                         .right_cols = right_cols, .nright = nright, .null_equal = p->null_equal,
                         .build_left = build_left};
    int strategy;
    spec.broadcast_bytes = ts_sql_broadcast_limit(&strategy);
    spec.strategy = (ts_join_strategy)strategy;
    ts_join_stats stats = {0};
    if (!err)
        err = ts_join(x->ctx, l, r, &spec, out, &stats);
    free(right_cols), free(lk), free(helper);
    if (!err && p->not_in)
        err = not_in_fixup(x, p, r, out);
    if (!err && stats.broadcast) /* the left rows did not move */
        carry_partitioning(l, *out, NULL, NULL);
    for (int c = 0; !err && c < (*out)->ncols; c++) /* helper keys (__cross_l, __kl<k>) */
        if (!strncmp((*out)->cols[c]->name, "__", 2)) {
            ts_column_free((*out)->cols[c]);
            memmove(&(*out)->cols[c], &(*out)->cols[c + 1], sizeof(ts_column *) * (size_t)((*out)->ncols - c - 1));
            (*out)->ncols--, c--;
        }
    if (!err)
        plan_order(p, *out);
    if (!err)
        snprintf(p->run_note, sizeof p->run_note, "%s%s join, build side %.1f MiB%s%s", p->not_in ? "NOT IN: " : "",
                 stats.broadcast ? "broadcast" : "shuffle", (double)stats.right_bytes / (1 << 20),
                 stats.hot_keys ? ", skewed keys split" : "",
                 swapped ? ", inputs swapped: the left was smaller" : build_left ? ", built on the left (smaller) side" : "");
    ts_table_free(l), ts_table_free(r);
    return err;
}

/* ---- LIMIT / OFFSET over the global order (rank r holds the r-th slab) ------------------------------------------ */

static ts_err exec_limit(ts_sql_exec *x, ts_sql_plan *p, ts_table **t)
{
    int64_t n = ts_table_rows(*t), before = 0;
    TS_MPI(MPI_Exscan(&n, &before, 1, MPI_INT64_T, MPI_SUM, x->ctx->comm));
    if (x->ctx->rank == 0)
        before = 0;
    const int64_t lo = p->offset, hi = p->limit < 0 ? INT64_MAX : p->offset + p->limit;
    int64_t from = lo - before, to = (hi == INT64_MAX ? INT64_MAX : hi - before);
    from = from < 0 ? 0 : from > n ? n : from;
    to = to < from ? from : to > n ? n : to;
    TS_TRY(own(t));
    int64_t *keep = ts_big(sizeof *keep * (size_t)(to - from + 1));
    if (!keep)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int64_t i = from; i < to; i++)
        keep[i - from] = i;
    ts_table_keep_rows(*t, keep, to - from);
    ts_free(keep);
    return TS_OK;
}

/* ---- set operations -------------------------------------------------------------------------------------------- */

/* Names the columns of *t (owned from here on) by the output's ids. */
static ts_err conform(ts_sql_plan *p, ts_table **t)
{
    TS_TRY(own(t));
    for (int c = 0; c < p->ncols; c++)
        TS_TRY(ts_column_set_name((*t)->cols[c], p->cols[c].id));
    return TS_OK;
}

static int has_value(const ts_column *c)
{
    for (int64_t i = 0; i < c->len; i++)
        if (ts_column_is_valid(c, i))
            return 1;
    return 0;
}

/* A column that is NULL on every rank (SELECT NULL, ...) takes the other input's type (SQL's untyped NULL). */
static ts_err type_nulls(ts_sql_exec *x, ts_sql_plan *p, ts_table **l, ts_table **r)
{
    for (int c = 0; c < p->ncols; c++) {
        if ((*l)->cols[c]->type == (*r)->cols[c]->type)
            continue;
        int has[2] = {has_value((*l)->cols[c]), has_value((*r)->cols[c])};
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, has, 2, MPI_INT, MPI_MAX, x->ctx->comm));
        if (has[0] == has[1])
            continue;
        ts_table **side = has[0] ? r : l;
        const ts_column *like = has[0] ? (*l)->cols[c] : (*r)->cols[c];
        TS_TRY(own(side));
        ts_column *nulls;
        TS_TRY(ts_column_new_like(like, &nulls));
        ts_err err = ts_column_set_name(nulls, (*side)->cols[c]->name);
        if (!err)
            err = ts_column_append_nulls(nulls, (*side)->cols[c]->len);
        if (err) {
            ts_column_free(nulls);
            return err;
        }
        ts_column_free((*side)->cols[c]);
        (*side)->cols[c] = nulls;
    }
    return TS_OK;
}

static int is_number(ts_type t) { return t == TS_T_INT32 || t == TS_T_INT64 || t == TS_T_FLOAT64 || t == TS_T_DECIMAL; }
static int is_text(ts_type t) { return t == TS_T_STRING || t == TS_T_DICT; }

/* Casts column c of owned table t to (type, scale) when it differs. */
static ts_err cast_column(ts_table *t, int c, ts_type type, int scale)
{
    const ts_column *col = t->cols[c];
    if (col->type == type && col->scale == scale)
        return TS_OK;
    struct ts_expr *cast = ts_x_cast(ts_x_col(col->name), type, scale, 0);
    ts_column *conv;
    const ts_err err = ts_expr_eval(cast, t, col->name, &conv);
    ts_expr_free(cast);
    TS_TRY(err);
    ts_column_free(t->cols[c]);
    t->cols[c] = conv;
    return TS_OK;
}

/* One type per column for both inputs: numbers widen (DOUBLE over DECIMAL of the larger scale over BIGINT), text
 * mixing dictionaries (or strings) becomes strings, so codes of different dictionaries never mix. */
static ts_err unify_types(ts_sql_plan *p, ts_table *l, ts_table *r)
{
    for (int c = 0; c < p->ncols; c++) {
        const ts_column *a = l->cols[c], *b = r->cols[c];
        if (a->type == b->type && a->scale == b->scale && a->dict == b->dict)
            continue;
        ts_type type;
        int scale = 0;
        if (is_number(a->type) && is_number(b->type)) {
            const int dec = a->type == TS_T_DECIMAL || b->type == TS_T_DECIMAL;
            type = a->type == TS_T_FLOAT64 || b->type == TS_T_FLOAT64 ? TS_T_FLOAT64 : dec ? TS_T_DECIMAL : TS_T_INT64;
            scale = type == TS_T_DECIMAL ? (a->scale > b->scale ? a->scale : b->scale) : 0;
        } else if (is_text(a->type) && is_text(b->type)) {
            type = TS_T_STRING;
        } else if ((a->type == TS_T_DATE || a->type == TS_T_TIMESTAMP) &&
                   (b->type == TS_T_DATE || b->type == TS_T_TIMESTAMP)) {
            type = TS_T_TIMESTAMP;
        } else {
            char x[32], y[32];
            TS_FAIL(TS_ERR_USAGE, "set operation: column %d has types %s and %s", c + 1,
                    ts_type_name(a->type, a->scale, x, sizeof x), ts_type_name(b->type, b->scale, y, sizeof y));
        }
        TS_TRY(cast_column(l, c, type, scale));
        TS_TRY(cast_column(r, c, type, scale));
    }
    return TS_OK;
}

/* Both inputs of a set operation with the output's column ids and one type per column. */
static ts_err align_inputs(ts_sql_exec *x, ts_sql_plan *p, ts_table **l, ts_table **r)
{
    TS_TRY(type_nulls(x, p, l, r));
    TS_TRY(conform(p, l));
    TS_TRY(conform(p, r));
    return unify_types(p, *l, *r);
}

static ts_err exec_union(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out)
{
    ts_err err = align_inputs(x, p, &l, &r);
    if (!err)
        err = ts_table_append_rows(l, r, NULL, ts_table_rows(r));
    ts_table_free(r);
    if (err)
        ts_table_free(l), l = NULL;
    *out = l;
    return err;
}

/* Adds column __side (INT64, constant v) to owned table t. */
static ts_err add_side(ts_table *t, int64_t v)
{
    ts_column *c;
    TS_TRY(ts_table_add(t, "__side", TS_T_INT64, 0, NULL, &c));
    const int64_t n = t->ncols > 1 ? t->cols[0]->len : 0;
    TS_TRY(ts_column_reserve(c, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(c, int64_t)[i] = v;
    c->len = n;
    return TS_OK;
}

/* EXCEPT / INTERSECT with set semantics (NULLs equal, as SQL's set operations compare rows): both sides tagged
 * (0 left, 1 right), concatenated and grouped by every column; INTERSECT keeps the groups seen on both sides,
 * EXCEPT those seen on the left only. The ALL forms count each group's rows per side (l, r) and keep a row
 * min(l, r) times (INTERSECT ALL) or max(l - r, 0) times (EXCEPT ALL). */
static ts_err exec_setop(ts_sql_exec *x, ts_sql_plan *p, ts_table *l, ts_table *r, ts_table **out)
{
    ts_err err = align_inputs(x, p, &l, &r);
    if (!err)
        err = add_side(l, 0);
    if (!err)
        err = add_side(r, 1);
    if (!err)
        err = ts_table_append_rows(l, r, NULL, ts_table_rows(r));
    ts_table_free(r);
    const char **cols = malloc(sizeof *cols * (size_t)(p->ncols + 1));
    if (!err && !cols)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int c = 0; !err && c < p->ncols; c++)
        cols[c] = p->cols[c].id;
    const int all = p->set_op == TS_SQL_SET_EXCEPT_ALL || p->set_op == TS_SQL_SET_INTERSECT_ALL;
    const int intersect = p->set_op == TS_SQL_SET_INTERSECT || p->set_op == TS_SQL_SET_INTERSECT_ALL;
    const ts_agg aggs[2] = {{all ? TS_AGG_COUNT : TS_AGG_MIN, "__side", NULL, "__min", 0, NULL},
                            {all ? TS_AGG_SUM : TS_AGG_MAX, "__side", NULL, "__max", 0, NULL}};
    ts_table *g = NULL;
    if (!err)
        err = ts_aggregate_distributed(x->ctx, l, cols, p->ncols, aggs, 2, "setop", &g);
    free(cols);
    ts_table_free(l);
    if (err) {
        ts_table_free(g);
        return err;
    }
    /* keep the qualifying groups (ALL: each as many times as it qualifies), then drop the two tags; for ALL
     * __min is the group's row count and __max its right-side rows */
    const int64_t *mn = TS_COL(ts_table_col(g, "__min"), int64_t), *mx = TS_COL(ts_table_col(g, "__max"), int64_t);
    const int64_t n = ts_table_rows(g);
    int64_t total = 0;
    for (int64_t i = 0; all && i < n; i++) {
        const int64_t left = mn[i] - mx[i], right = mx[i];
        total += intersect ? (left < right ? left : right) : (left > right ? left - right : 0);
    }
    int64_t *keep = ts_big(sizeof *keep * (size_t)((all ? total : n) + 1)), k = 0;
    if (!keep) {
        ts_table_free(g);
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        if (all) {
            const int64_t left = mn[i] - mx[i], right = mx[i];
            for (int64_t c = intersect ? (left < right ? left : right) : left - right; c > 0; c--)
                keep[k++] = i;
        } else if (intersect ? mn[i] == 0 && mx[i] == 1 : mx[i] == 0) {
            keep[k++] = i;
        }
    }
    if (all) {
        ts_table *rep = NULL;
        err = ts_table_new_like(g, g->name, &rep);
        if (!err)
            err = ts_table_append_rows(rep, g, keep, k);
        ts_table_free(g);
        g = rep;
    } else {
        ts_table_keep_rows(g, keep, k);
    }
    ts_free(keep);
    if (err) {
        ts_table_free(g);
        return err;
    }
    for (int c = g->ncols - 1; c >= 0; c--)
        if (!strncmp(g->cols[c]->name, "__m", 3)) {
            ts_column_free(g->cols[c]);
            memmove(&g->cols[c], &g->cols[c + 1], sizeof(ts_column *) * (size_t)(g->ncols - c - 1));
            g->ncols--;
        }
    *out = g;
    return TS_OK;
}
