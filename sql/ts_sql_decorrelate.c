/* Decorrelation of dependent joins (see ts_sql_decorrelate.h). */
#include "ts_sql_decorrelate.h"

#include <stdio.h>
#include <string.h>

#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

/* The dependent join being flattened: D's source and the correlated columns (in P). */
typedef struct dctx {
    ts_sql_binder *b;
    ts_sql_plan *delim;
    char **outer;
    int n;
} dctx;

static ts_err push(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids);

/* ---- small builders ----------------------------------------------------------------------------------------- */

static ts_err new_ids(ts_sql_binder *b, const char *const *like, int n, char ***out)
{
    *out = ts_sql_alloc(b->script, sizeof **out * (size_t)(n + 1));
    if (!*out)
        TS_FAIL(TS_ERR_NOMEM, "out of memory decorrelating a subquery");
    for (int i = 0; i < n; i++) {
        char name[TS_SQL_ID_MAX], id[TS_SQL_ID_MAX];
        snprintf(name, sizeof name, "%s", like[i]);
        char *hash = strrchr(name, '#');
        if (hash)
            *hash = 0;
        ts_sql_new_id(b, name, id);
        if (!((*out)[i] = ts_sql_strdup(b->script, id)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory decorrelating a subquery");
    }
    return TS_OK;
}

static const ts_sql_col *col_of(const ts_sql_plan *p, const char *id)
{
    for (int c = 0; c < p->ncols; c++)
        if (!strcmp(p->cols[c].id, id))
            return &p->cols[c];
    return NULL;
}

/* cols[0..n) of p followed by hidden columns ids[0..k) named after the outer columns. */
static ts_err set_cols(dctx *d, ts_sql_plan *p, const ts_sql_col *cols, int n, char *const *ids, int k)
{
    ts_sql_col *c = ts_sql_alloc(d->b->script, sizeof *c * (size_t)(n + k + 1));
    if (!c)
        return NOMEM(d->b, p->pos);
    if (n)
        memmove(c, cols, sizeof *c * (size_t)n);
    for (int i = 0; i < k; i++) {
        memset(&c[n + i], 0, sizeof *c);
        snprintf(c[n + i].id, TS_SQL_ID_MAX, "%s", ids[i]);
        snprintf(c[n + i].name, sizeof c[n + i].name, "%s", ids[i]);
        char *hash = strrchr(c[n + i].name, '#');
        if (hash)
            *hash = 0;
        c[n + i].hidden = 1;
    }
    p->cols = c, p->ncols = n + k;
    return TS_OK;
}

/* A DELIM_GET leaf of d's join: D's columns under new ids. */
static ts_err delim_get(dctx *d, ts_sql_plan **out, char ***ids)
{
    ts_sql_plan *g = ts_sql_plan_new(d->b, TS_P_DELIM_GET, d->delim->pos, 0);
    if (!g)
        return NOMEM(d->b, d->delim->pos);
    TS_TRY(new_ids(d->b, (const char *const *)d->outer, d->n, ids));
    TS_TRY(set_cols(d, g, NULL, 0, *ids, d->n));
    g->delim = d->delim;
    *out = g;
    return TS_OK;
}

/* q × D: q reads no correlated column, so every value of D sees the same q. */
static ts_err cross(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    ts_sql_plan *g = NULL;
    TS_TRY(delim_get(d, &g, dids));
    TS_TRY(ts_sql_join_node(d->b, q->pos, TS_JOIN_INNER, q, g, out));
    (*out)->cross = 1;
    return TS_OK;
}

static int corr(const dctx *d, const ts_sql_plan *q) { return ts_sql_plan_reads(q, d->outer, d->n); }

/* Renames the correlated ids to dids in every node of q's subtree (a dependent join's right side). */
static ts_err rename_tree(dctx *d, ts_sql_plan *q, char *const *dids)
{
    TS_TRY(ts_sql_node_rename(d->b, q, d->outer, dids, d->n));
    for (int i = 0; i < 2; i++)
        if (q->in[i])
            TS_TRY(rename_tree(d, q->in[i], dids));
    return TS_OK;
}

/* ---- pushing D through each operator ------------------------------------------------------------------------ */

static ts_err push_filter(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    TS_TRY(push(d, q->in[0], &q->in[0], dids));
    TS_TRY(ts_sql_node_rename(d->b, q, d->outer, *dids, d->n));
    TS_TRY(set_cols(d, q, q->in[0]->cols, q->in[0]->ncols, NULL, 0));
    *out = q;
    return TS_OK;
}

static ts_err push_project(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    TS_TRY(push(d, q->in[0], &q->in[0], dids));
    TS_TRY(ts_sql_node_rename(d->b, q, d->outer, *dids, d->n));
    ts_sql_expr **exprs = ts_sql_alloc(d->b->script, sizeof *exprs * (size_t)(q->ncols + d->n + 1));
    if (!exprs)
        return NOMEM(d->b, q->pos);
    if (q->ncols)
        memcpy(exprs, q->exprs, sizeof *exprs * (size_t)q->ncols);
    for (int i = 0; i < d->n; i++)
        if (!(exprs[q->ncols + i] = ts_sql_ref(d->b, (*dids)[i], q->pos)))
            return NOMEM(d->b, q->pos);
    q->exprs = exprs;
    TS_TRY(set_cols(d, q, q->cols, q->ncols, *dids, d->n));
    *out = q;
    return TS_OK;
}

static int is_count(ts_agg_kind k) { return k == TS_AGG_COUNT || k == TS_AGG_COUNT_DISTINCT; }

/* Γ keys; aggs (T) -> Γ keys + D; aggs (D ⋈dep T). Without keys (one row, also for no input rows) it becomes
 * D ⟕ Γ D; aggs (D ⋈dep T), counts of D values without rows 0 (unless marked scalar_plain). */
static ts_err push_aggregate(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    ts_sql_binder *b = d->b;
    char **ids = NULL;
    TS_TRY(push(d, q->in[0], &q->in[0], &ids));
    TS_TRY(ts_sql_node_rename(b, q, d->outer, ids, d->n));
    const int scalar = q->nkeys == 0 && !q->scalar_plain;
    char **keys = ts_sql_alloc(b->script, sizeof *keys * (size_t)(q->nkeys + d->n + 1));
    if (!keys)
        return NOMEM(b, q->pos);
    if (q->nkeys)
        memcpy(keys, q->keys, sizeof *keys * (size_t)q->nkeys);
    if (d->n)
        memcpy(keys + q->nkeys, ids, sizeof *keys * (size_t)d->n);
    /* columns: the keys, D, then the aggregates */
    ts_sql_col *aggcols = q->cols + q->nkeys;
    const int naggs = q->naggs;
    TS_TRY(set_cols(d, q, q->cols, q->nkeys, ids, d->n));
    const ts_sql_col *saved = aggcols;
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(q->ncols + naggs + 1));
    if (!cols)
        return NOMEM(b, q->pos);
    if (q->ncols)
        memcpy(cols, q->cols, sizeof *cols * (size_t)q->ncols);
    if (naggs)
        memcpy(cols + q->ncols, saved, sizeof *cols * (size_t)naggs);
    q->cols = cols, q->ncols += naggs, q->keys = keys, q->nkeys += d->n;
    if (!scalar) {
        *out = q, *dids = ids;
        return TS_OK;
    }
    /* counts get new ids inside; the projection above gives COALESCE(count, 0) their old ones */
    char **old = ts_sql_alloc(b->script, sizeof *old * (size_t)(naggs + 1));
    ts_sql_agg_item *aggs = ts_sql_alloc(b->script, sizeof *aggs * (size_t)(naggs + 1));
    if (!old || !aggs)
        return NOMEM(b, q->pos);
    if (naggs)
        memcpy(aggs, q->aggs, sizeof *aggs * (size_t)naggs);
    for (int a = 0; a < naggs; a++) {
        ts_sql_col *c = &q->cols[q->nkeys + a];
        old[a] = ts_sql_strdup(b->script, c->id);
        if (!old[a])
            return NOMEM(b, q->pos);
        if (is_count(aggs[a].agg.kind)) {
            ts_sql_new_id(b, c->name, c->id);
            if (!(aggs[a].agg.output = ts_sql_strdup(b->script, c->id)))
                return NOMEM(b, q->pos);
        }
    }
    q->aggs = aggs;
    ts_sql_plan *g = NULL, *j = NULL;
    char **eids = NULL;
    TS_TRY(delim_get(d, &g, &eids));
    TS_TRY(ts_sql_join_node(b, q->pos, TS_JOIN_LEFT, g, q, &j));
    for (int i = 0; i < d->n; i++)
        TS_TRY(ts_sql_join_add_key(b, j, eids[i], ids[i], 1));
    ts_sql_plan *proj = ts_sql_plan_new(b, TS_P_PROJECT, q->pos, d->n + naggs);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(d->n + naggs))))
        return NOMEM(b, q->pos);
    for (int i = 0; i < d->n; i++) {
        proj->cols[i] = g->cols[i];
        if (!(proj->exprs[i] = ts_sql_ref(b, eids[i], q->pos)))
            return NOMEM(b, q->pos);
    }
    for (int a = 0; a < naggs; a++) {
        const ts_sql_col *c = &q->cols[q->nkeys + a];
        ts_sql_expr *v = ts_sql_ref(b, c->id, q->pos);
        if (is_count(aggs[a].agg.kind))
            v = ts_sql_call(b, "coalesce", q->pos, v, ts_sql_lit(b, TS_SQL_E_INT, 0, q->pos));
        if (!v)
            return NOMEM(b, q->pos);
        proj->cols[d->n + a] = *c;
        snprintf(proj->cols[d->n + a].id, TS_SQL_ID_MAX, "%s", old[a]);
        proj->exprs[d->n + a] = v;
    }
    proj->in[0] = j;
    *out = proj, *dids = eids;
    return TS_OK;
}

/* Joins: D goes into the side(s) reading the correlated columns; when both sides get a copy, the join also
 * matches their D columns (NULL = NULL). Outer, semi and anti joins whose right side is correlated need D on the
 * left too, so that each value of D has its own right side. */
static ts_err push_join(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    ts_sql_binder *b = d->b;
    const int lc = corr(d, q->in[0]), rc = corr(d, q->in[1]);
    const ts_join_type t = q->join_type;
    int left = lc, right = rc;
    if (q->kind == TS_P_DEPJOIN) {
        left = 1, right = 0; /* its right side sees the left's columns: rename there, decorrelate it later */
    } else if (t == TS_JOIN_FULL) {
        left = right = 1;
    } else if (t == TS_JOIN_RIGHT) {
        right = 1, left = lc;
    } else if (t != TS_JOIN_INNER && rc) {
        left = 1;
    }
    char **lids = NULL, **rids = NULL;
    const int nextra = q->kind == TS_P_DEPJOIN ? q->ncols - q->in[0]->ncols : 0; /* what a DEPJOIN adds */
    if (left)
        TS_TRY(lc ? push(d, q->in[0], &q->in[0], &lids) : cross(d, q->in[0], &q->in[0], &lids));
    if (right)
        TS_TRY(rc ? push(d, q->in[1], &q->in[1], &rids) : cross(d, q->in[1], &q->in[1], &rids));
    if (q->kind == TS_P_DEPJOIN) {
        TS_TRY(rename_tree(d, q->in[1], lids));
        /* output: the left columns, then what the dependent join adds (its own columns after the left's) */
        ts_sql_col *extra = q->cols + q->ncols - nextra;
        ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(q->in[0]->ncols + nextra + 1));
        if (!cols)
            return NOMEM(b, q->pos);
        if (q->in[0]->ncols)
            memcpy(cols, q->in[0]->cols, sizeof *cols * (size_t)q->in[0]->ncols);
        if (nextra)
            memcpy(cols + q->in[0]->ncols, extra, sizeof *cols * (size_t)nextra);
        q->cols = cols, q->ncols = q->in[0]->ncols + nextra;
        *out = q, *dids = lids;
        return TS_OK;
    }
    if (left && right)
        for (int i = 0; i < d->n; i++)
            TS_TRY(ts_sql_join_add_key(b, q, lids[i], rids[i], 1));
    const int only_left = t == TS_JOIN_SEMI || t == TS_JOIN_ANTI;
    const ts_sql_plan *L = q->in[0], *R = q->in[1];
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(L->ncols + R->ncols + 1));
    if (!cols)
        return NOMEM(b, q->pos);
    if (L->ncols)
        memcpy(cols, L->cols, sizeof *cols * (size_t)L->ncols);
    if (!only_left)
        memcpy(cols + L->ncols, R->cols, sizeof *cols * (size_t)R->ncols);
    q->cols = cols, q->ncols = L->ncols + (only_left ? 0 : R->ncols);
    *dids = left ? lids : rids;
    *out = q;
    if (t != TS_JOIN_FULL)
        return TS_OK;
    /* FULL: D of a row is whichever side has it */
    ts_sql_expr *co[TS_SQL_ID_MAX];
    const char *names[TS_SQL_ID_MAX];
    if (d->n > TS_SQL_ID_MAX)
        return ts_sql_error_at(b->src, q->pos, TS_ERR_USAGE, "too many correlated columns");
    char **ids = ts_sql_alloc(b->script, sizeof *ids * (size_t)(d->n + 1));
    if (!ids)
        return NOMEM(b, q->pos);
    for (int i = 0; i < d->n; i++) {
        co[i] = ts_sql_call(b, "coalesce", q->pos, ts_sql_ref(b, lids[i], q->pos), ts_sql_ref(b, rids[i], q->pos));
        names[i] = "d";
        if (!co[i])
            return NOMEM(b, q->pos);
    }
    TS_TRY(ts_sql_project_all(b, out, co, names, d->n, ids));
    *dids = ids;
    return TS_OK;
}

/* LIMIT (of a SORT): row_number() OVER (PARTITION BY D ORDER BY the sort keys) within the bounds. */
static ts_err push_limit(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    ts_sql_binder *b = d->b;
    ts_sql_plan *in = q->in[0], *sort = in->kind == TS_P_SORT ? in : NULL;
    TS_TRY(push(d, sort ? sort->in[0] : in, &in, dids));
    if (sort)
        TS_TRY(ts_sql_node_rename(b, sort, d->outer, *dids, d->n));
    if (d->n > 8)
        return ts_sql_error_at(b->src, q->pos, TS_ERR_USAGE, "LIMIT in a subquery correlated on more than 8 columns "
                               "is not supported");
    ts_sql_plan *w = ts_sql_plan_new(b, TS_P_WINDOW, q->pos, 0);
    ts_sql_win_item *win = ts_sql_alloc(b->script, sizeof *win);
    if (!w || !win)
        return NOMEM(b, q->pos);
    char id[TS_SQL_ID_MAX];
    ts_sql_new_id(b, "row_number", id);
    *win = (ts_sql_win_item){.fn = {.kind = TS_WIN_ROW_NUMBER, .output = ts_sql_strdup(b->script, id), .offset = 1}};
    w->wins = win, w->nwins = 1, w->partition = *dids, w->npartition = d->n;
    w->sort = sort ? sort->sort : NULL, w->nsort = sort ? sort->nsort : 0;
    w->in[0] = in;
    char *rn = (char *)win->fn.output;
    TS_TRY(set_cols(d, w, in->cols, in->ncols, &rn, 1));
    ts_sql_expr *lo = ts_sql_mk(b, TS_SQL_E_BINARY, TS_SQL_OP_GT, q->pos, ts_sql_ref(b, rn, q->pos),
                                ts_sql_lit(b, TS_SQL_E_INT, q->offset, q->pos));
    ts_sql_expr *cond = lo;
    if (q->limit >= 0)
        cond = ts_sql_and(b, lo, ts_sql_mk(b, TS_SQL_E_BINARY, TS_SQL_OP_LE, q->pos, ts_sql_ref(b, rn, q->pos),
                                           ts_sql_lit(b, TS_SQL_E_INT, q->offset + q->limit, q->pos)));
    ts_sql_expr **conds = ts_sql_alloc(b->script, sizeof *conds);
    if (!cond || !conds)
        return NOMEM(b, q->pos);
    conds[0] = cond;
    *out = w;
    return ts_sql_wrap_filter(b, out, conds, 1);
}

static ts_err push_window(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    TS_TRY(push(d, q->in[0], &q->in[0], dids));
    TS_TRY(ts_sql_node_rename(d->b, q, d->outer, *dids, d->n));
    if (q->npartition + d->n > 8)
        return ts_sql_error_at(d->b->src, q->pos, TS_ERR_USAGE, "a window in a correlated subquery may be "
                               "partitioned by at most 8 columns with the correlated ones");
    char **part = ts_sql_alloc(d->b->script, sizeof *part * (size_t)(q->npartition + d->n));
    if (!part)
        return NOMEM(d->b, q->pos);
    if (q->npartition)
        memcpy(part, q->partition, sizeof *part * (size_t)q->npartition);
    if (d->n)
        memcpy(part + q->npartition, *dids, sizeof *part * (size_t)d->n);
    q->partition = part, q->npartition += d->n;
    const int nwins = q->nwins;
    ts_sql_col *wcols = q->cols + q->ncols - nwins;
    ts_sql_col *cols = ts_sql_alloc(d->b->script, sizeof *cols * (size_t)(q->in[0]->ncols + nwins + 1));
    if (!cols)
        return NOMEM(d->b, q->pos);
    if (q->in[0]->ncols)
        memcpy(cols, q->in[0]->cols, sizeof *cols * (size_t)q->in[0]->ncols);
    if (nwins)
        memcpy(cols + q->in[0]->ncols, wcols, sizeof *cols * (size_t)nwins);
    q->cols = cols, q->ncols = q->in[0]->ncols + nwins;
    *out = q;
    return TS_OK;
}

/* A projection of side p to columns want[0..n) (by id, in order) then ids[0..k). */
static ts_err project_to(dctx *d, ts_sql_plan **p, const ts_sql_col *want, int n, char *const *ids)
{
    ts_sql_binder *b = d->b;
    ts_sql_plan *proj = ts_sql_plan_new(b, TS_P_PROJECT, (*p)->pos, n + d->n);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(n + d->n))))
        return NOMEM(b, (*p)->pos);
    for (int i = 0; i < n + d->n; i++) {
        const char *id = i < n ? want[i].id : ids[i - n];
        const ts_sql_col *c = col_of(*p, id);
        if (!c)
            return ts_sql_error_at(b->src, (*p)->pos, TS_ERR_INTERNAL, "internal: column %s lost in decorrelation", id);
        proj->cols[i] = *c;
        if (!(proj->exprs[i] = ts_sql_ref(b, id, (*p)->pos)))
            return NOMEM(b, (*p)->pos);
    }
    proj->in[0] = *p;
    *p = proj;
    return TS_OK;
}

/* UNION ALL, EXCEPT, INTERSECT: both sides get D as trailing columns, compared like the others. */
static ts_err push_setop(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    for (int i = 0; i < 2; i++) {
        const int ncols = q->in[i]->ncols;
        const ts_sql_col *orig = q->in[i]->cols;
        char **ids = NULL;
        TS_TRY(corr(d, q->in[i]) ? push(d, q->in[i], &q->in[i], &ids) : cross(d, q->in[i], &q->in[i], &ids));
        TS_TRY(project_to(d, &q->in[i], orig, ncols, ids));
    }
    TS_TRY(new_ids(d->b, (const char *const *)d->outer, d->n, dids));
    TS_TRY(set_cols(d, q, q->cols, q->ncols, *dids, d->n));
    *out = q;
    return TS_OK;
}

static ts_err push(dctx *d, ts_sql_plan *q, ts_sql_plan **out, char ***dids)
{
    if (!corr(d, q))
        return cross(d, q, out, dids);
    switch (q->kind) {
    case TS_P_FILTER: return push_filter(d, q, out, dids);
    case TS_P_PROJECT: return push_project(d, q, out, dids);
    case TS_P_AGGREGATE: return push_aggregate(d, q, out, dids);
    case TS_P_JOIN: case TS_P_DEPJOIN: return push_join(d, q, out, dids);
    case TS_P_SORT: return push(d, q->in[0], out, dids); /* order means nothing inside a subquery */
    case TS_P_LIMIT: return push_limit(d, q, out, dids);
    case TS_P_DISTINCT:
        TS_TRY(push(d, q->in[0], &q->in[0], dids));
        TS_TRY(set_cols(d, q, q->in[0]->cols, q->in[0]->ncols, NULL, 0));
        *out = q;
        return TS_OK;
    case TS_P_WINDOW: return push_window(d, q, out, dids);
    case TS_P_UNION: case TS_P_SETOP: return push_setop(d, q, out, dids);
    default:
        return ts_sql_error_at(d->b->src, q->pos, TS_ERR_INTERNAL, "internal: cannot decorrelate a plan node of "
                               "kind %d", (int)q->kind);
    }
}

/* ---- flattening one dependent join ---------------------------------------------------------------------------- */

/* NULL in, NULL out: the expression is NULL whenever every column it reads is NULL. */
static int null_strict(const ts_sql_expr *e)
{
    static const char *const STRICT_FUNCS[] = {"abs", "round", "floor", "ceil", "ceiling", "sqrt", "ln", "log10",
                                               "exp", "sign", "upper", "lower", "length", "trim", NULL};
    switch (e->kind) {
    case TS_SQL_E_COLUMN: return 1;
    case TS_SQL_E_UNARY: case TS_SQL_E_CAST: return null_strict(e->args[0]);
    case TS_SQL_E_BINARY:
        if (e->op == TS_SQL_OP_AND || e->op == TS_SQL_OP_OR)
            return 0;
        return null_strict(e->args[0]) || null_strict(e->args[1]);
    case TS_SQL_E_FUNC:
        for (int i = 0; STRICT_FUNCS[i]; i++)
            if (!strcmp(e->name, STRICT_FUNCS[i]))
                return e->nargs >= 1 && null_strict(e->args[0]);
        return 0;
    default: return 0;
    }
}

/* A scalar subquery over an aggregate without keys and without counts, whose projections above keep NULL as
 * NULL: its value for an outer row without input rows is NULL, which the outer join gives anyway. The aggregate
 * is marked so decorrelation does not keep a row per value of D (*single: at most one row per D value). */
static void mark_scalar_aggregate(ts_sql_plan *q, int *single)
{
    int strict = 1;
    while (q->kind == TS_P_PROJECT) {
        for (int i = 0; i < q->ncols; i++)
            strict &= null_strict(q->exprs[i]);
        q = q->in[0];
    }
    *single = q->kind == TS_P_AGGREGATE && q->nkeys == 0;
    if (!*single || !strict)
        return;
    for (int a = 0; a < q->naggs; a++)
        if (is_count(q->aggs[a].agg.kind))
            return;
    q->scalar_plain = 1;
}

typedef struct eq_split {
    ts_sql_plan *inner;              /* the uncorrelated input below the correlated filter */
    ts_sql_expr **outer_e, **inner_e; /* outer = inner pairs */
    int npairs;
    ts_sql_expr **local;             /* the filter's other conjuncts */
    int nlocal;
} eq_split;

static int reads_only(const ts_sql_expr *e, char *const *ids, int n, int want_outer);

typedef struct ro_ctx {
    char *const *ids;
    int n, outer, inner;
} ro_ctx;

static void ro_visit(const char *id, void *arg)
{
    ro_ctx *r = arg;
    int found = 0;
    for (int i = 0; i < r->n && !found; i++)
        found = !strcmp(r->ids[i], id);
    r->outer += found, r->inner += !found;
}

/* want_outer: e reads columns, all of them correlated ones; else: e reads none of them. */
static int reads_only(const ts_sql_expr *e, char *const *ids, int n, int want_outer)
{
    ro_ctx r = {ids, n, 0, 0};
    ts_sql_expr_refs(e, ro_visit, &r);
    return want_outer ? r.outer > 0 && r.inner == 0 : r.outer == 0;
}

/* Whether q (EXISTS-like: its columns do not matter) is a filter over an uncorrelated plan whose correlated
 * conjuncts are all equalities between an outer and an inner expression. */
static int split_equalities(dctx *d, ts_sql_plan *q, eq_split *s)
{
    ts_sql_binder *b = d->b;
    while ((q->kind == TS_P_PROJECT || q->kind == TS_P_DISTINCT) && q->in[0])
        q = q->in[0];
    if (q->kind != TS_P_FILTER || corr(d, q->in[0]))
        return 0;
    memset(s, 0, sizeof *s);
    s->outer_e = ts_sql_alloc(b->script, sizeof *s->outer_e * (size_t)q->nconds);
    s->inner_e = ts_sql_alloc(b->script, sizeof *s->inner_e * (size_t)q->nconds);
    s->local = ts_sql_alloc(b->script, sizeof *s->local * (size_t)q->nconds);
    if (!s->outer_e || !s->inner_e || !s->local)
        return 0;
    for (int i = 0; i < q->nconds; i++) {
        ts_sql_expr *c = q->conds[i];
        if (reads_only(c, d->outer, d->n, 0)) {
            s->local[s->nlocal++] = c;
            continue;
        }
        if (c->kind != TS_SQL_E_BINARY || c->op != TS_SQL_OP_EQ || s->npairs == 8)
            return 0;
        for (int side = 0; side < 2; side++) {
            ts_sql_expr *o = c->args[side], *in = c->args[1 - side];
            if (reads_only(o, d->outer, d->n, 1) && reads_only(in, d->outer, d->n, 0) &&
                ts_sql_expr_within(in, q->in[0]->cols, q->in[0]->ncols)) {
                s->outer_e[s->npairs] = o, s->inner_e[s->npairs++] = in;
                break;
            }
            if (side == 1)
                return 0;
        }
    }
    s->inner = q->in[0];
    return s->npairs > 0;
}

static ts_err mark_output(ts_sql_binder *b, ts_sql_plan *dep, ts_sql_plan *j, const char *raw, ts_sql_plan **out);

/* The equality form: P ⋉ / ▷ (inner WHERE local) on the pairs, or for MARK a left join with its distinct keys. */
static ts_err plain_join(dctx *d, ts_sql_plan *dep, eq_split *s, ts_sql_plan **out)
{
    ts_sql_binder *b = d->b;
    ts_sql_plan *P = dep->in[0], *Q = s->inner, *j;
    const ts_sql_pos pos = dep->pos;
    TS_TRY(ts_sql_wrap_filter(b, &Q, s->local, s->nlocal));
    char *lk[8], *rk[8];
    for (int k = 0; k < s->npairs; k++) {
        TS_TRY(ts_sql_add_computed(b, &P, s->outer_e[k], "key", &lk[k]));
        TS_TRY(ts_sql_add_computed(b, &Q, s->inner_e[k], "key", &rk[k]));
    }
    if (dep->dep_kind != TS_DEP_MARK) {
        TS_TRY(ts_sql_join_node(b, pos, dep->dep_kind == TS_DEP_SEMI ? TS_JOIN_SEMI : TS_JOIN_ANTI, P, Q, &j));
        for (int k = 0; k < s->npairs; k++)
            TS_TRY(ts_sql_join_add_key(b, j, lk[k], rk[k], 0));
        *out = j;
        return TS_OK;
    }
    /* MARK: the inner keys, distinct, each with TRUE */
    ts_sql_plan *keys = ts_sql_plan_new(b, TS_P_PROJECT, pos, s->npairs + 1);
    if (!keys || !(keys->exprs = ts_sql_alloc(b->script, sizeof *keys->exprs * (size_t)(s->npairs + 1))))
        return NOMEM(b, pos);
    for (int k = 0; k < s->npairs; k++) {
        keys->cols[k] = *col_of(Q, rk[k]);
        if (!(keys->exprs[k] = ts_sql_ref(b, rk[k], pos)))
            return NOMEM(b, pos);
    }
    snprintf(keys->cols[s->npairs].name, sizeof keys->cols[s->npairs].name, "mark");
    ts_sql_new_id(b, "mark", keys->cols[s->npairs].id);
    if (!(keys->exprs[s->npairs] = ts_sql_lit(b, TS_SQL_E_BOOL, 1, pos)))
        return NOMEM(b, pos);
    keys->in[0] = Q;
    ts_sql_plan *R = keys;
    TS_TRY(ts_sql_wrap(b, &R, TS_P_DISTINCT));
    TS_TRY(ts_sql_join_node(b, pos, TS_JOIN_LEFT, P, R, &j));
    for (int k = 0; k < s->npairs; k++)
        TS_TRY(ts_sql_join_add_key(b, j, lk[k], rk[k], 0));
    return mark_output(b, dep, j, keys->cols[s->npairs].id, out);
}

/* Above a LEFT join whose right side has column raw (TRUE or NULL): the dependent join's columns, its mark
 * (the last) being COALESCE(raw, FALSE). */
static ts_err mark_output(ts_sql_binder *b, ts_sql_plan *dep, ts_sql_plan *j, const char *raw, ts_sql_plan **out)
{
    ts_sql_plan *proj = ts_sql_plan_new(b, TS_P_PROJECT, dep->pos, dep->ncols);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)dep->ncols)))
        return NOMEM(b, dep->pos);
    for (int c = 0; c < dep->ncols; c++) {
        proj->cols[c] = dep->cols[c];
        proj->exprs[c] = c < dep->ncols - 1
                             ? ts_sql_ref(b, dep->cols[c].id, dep->pos)
                             : ts_sql_call(b, "coalesce", dep->pos, ts_sql_ref(b, raw, dep->pos),
                                           ts_sql_lit(b, TS_SQL_E_BOOL, 0, dep->pos));
        if (!proj->exprs[c])
            return NOMEM(b, dep->pos);
    }
    proj->in[0] = j;
    *out = proj;
    return TS_OK;
}

/* (ids..., TRUE AS mark) over q, distinct: the right side of a mark join. */
static ts_err marked(ts_sql_binder *b, ts_sql_plan **q, char *const *ids, int n, char **raw)
{
    ts_sql_plan *in = *q, *p = ts_sql_plan_new(b, TS_P_PROJECT, in->pos, n + 1);
    if (!p || !(p->exprs = ts_sql_alloc(b->script, sizeof *p->exprs * (size_t)(n + 1))))
        return NOMEM(b, in->pos);
    for (int i = 0; i < n; i++) {
        p->cols[i] = *col_of(in, ids[i]);
        if (!(p->exprs[i] = ts_sql_ref(b, ids[i], in->pos)))
            return NOMEM(b, in->pos);
    }
    snprintf(p->cols[n].name, sizeof p->cols[n].name, "mark");
    ts_sql_new_id(b, "mark", p->cols[n].id);
    p->cols[n].hidden = 1;
    if (!(p->exprs[n] = ts_sql_lit(b, TS_SQL_E_BOOL, 1, in->pos)))
        return NOMEM(b, in->pos);
    *raw = p->cols[n].id;
    p->in[0] = in;
    *q = p;
    return ts_sql_wrap(b, q, TS_P_DISTINCT);
}

/* At most one row per D value (ids): Γ ids; first(v) AS v..., count(*) checked by the executor. The values get
 * new ids below the aggregate, which outputs them under the old ones. */
static ts_err single_check(ts_sql_binder *b, ts_sql_plan **q, const ts_sql_plan *values, char *const *ids, int n)
{
    const int nv = values->ncols;
    ts_sql_expr **inner = ts_sql_alloc(b->script, sizeof *inner * (size_t)(nv + 1));
    const char **names = ts_sql_alloc(b->script, sizeof *names * (size_t)(nv + 2));
    char **vids = ts_sql_alloc(b->script, sizeof *vids * (size_t)(nv + 1));
    ts_agg *aggs = ts_sql_alloc(b->script, sizeof *aggs * (size_t)(nv + 1));
    if (!inner || !names || !vids || !aggs)
        return NOMEM(b, (*q)->pos);
    for (int v = 0; v < nv; v++) {
        if (!(inner[v] = ts_sql_ref(b, values->cols[v].id, (*q)->pos)))
            return NOMEM(b, (*q)->pos);
        names[v] = "value";
    }
    TS_TRY(ts_sql_project_all(b, q, inner, names, nv, vids));
    for (int v = 0; v < nv; v++) {
        aggs[v] = (ts_agg){.kind = TS_AGG_FIRST, .input = vids[v], .output = values->cols[v].id};
        names[v] = values->cols[v].name;
    }
    char cid[TS_SQL_ID_MAX];
    ts_sql_new_id(b, "rows", cid);
    aggs[nv] = (ts_agg){.kind = TS_AGG_COUNT, .output = ts_sql_strdup(b->script, cid)};
    names[nv] = "rows";
    TS_TRY(ts_sql_aggregate(b, q, ids, n, aggs, names, nv + 1));
    (*q)->single_count = aggs[nv].output;
    return TS_OK;
}

/* A dependent join that reads no column of its left input: an ordinary join with its right side. */
static ts_err uncorrelated(ts_sql_binder *b, ts_sql_plan *dep, ts_sql_plan **out)
{
    ts_sql_plan *P = dep->in[0], *Q = dep->in[1], *j;
    switch (dep->dep_kind) {
    case TS_DEP_SEMI: case TS_DEP_ANTI:
        TS_TRY(ts_sql_join_node(b, dep->pos, dep->dep_kind == TS_DEP_SEMI ? TS_JOIN_SEMI : TS_JOIN_ANTI, P, Q, &j));
        j->cross = 1;
        *out = j;
        return TS_OK;
    case TS_DEP_MARK: {
        char *raw = NULL;
        TS_TRY(ts_sql_wrap(b, &Q, TS_P_LIMIT));
        Q->limit = 1;
        TS_TRY(marked(b, &Q, NULL, 0, &raw));
        TS_TRY(ts_sql_join_node(b, dep->pos, TS_JOIN_LEFT, P, Q, &j));
        j->cross = 1;
        return mark_output(b, dep, j, raw, out);
    }
    default: {
        int single;
        const ts_sql_plan *values = Q;
        mark_scalar_aggregate(Q, &single);
        if (!single)
            TS_TRY(single_check(b, &Q, values, NULL, 0));
        TS_TRY(ts_sql_join_node(b, dep->pos, TS_JOIN_LEFT, P, Q, &j));
        j->cross = 1;
        *out = j;
        return TS_OK;
    }
    }
}

static ts_err flatten(ts_sql_binder *b, ts_sql_plan **pp)
{
    ts_sql_plan *dep = *pp, *P = dep->in[0], *Q = dep->in[1];
    dctx d = {.b = b};
    TS_TRY(ts_sql_plan_free_refs(b, Q, &d.outer, &d.n));
    if (!d.n)
        return uncorrelated(b, dep, pp);
    for (int i = 0; i < d.n; i++)
        if (!col_of(P, d.outer[i]))
            return ts_sql_error_at(b->src, dep->pos, TS_ERR_INTERNAL, "internal: correlated column %s is not an "
                                   "input of its subquery", d.outer[i]);
    eq_split s;
    if (dep->dep_kind != TS_DEP_SINGLE && split_equalities(&d, Q, &s))
        return plain_join(&d, dep, &s, pp);
    /* general: P ⋈ Q'(D) on the correlated columns */
    ts_sql_plan *j = ts_sql_plan_new(b, TS_P_DELIM_JOIN, dep->pos, 0);
    if (!j)
        return NOMEM(b, dep->pos);
    j->delim_cols = d.outer, j->ndelim = d.n, j->in[0] = P;
    d.delim = j;
    int single = 1;
    if (dep->dep_kind == TS_DEP_SINGLE)
        mark_scalar_aggregate(Q, &single);
    const ts_sql_plan values = *Q; /* the value columns (SINGLE) */
    char **dids = NULL;
    TS_TRY(push(&d, Q, &Q, &dids));
    char *raw = NULL;
    if (dep->dep_kind == TS_DEP_MARK)
        TS_TRY(marked(b, &Q, dids, d.n, &raw));
    else if (dep->dep_kind == TS_DEP_SINGLE && !single)
        TS_TRY(single_check(b, &Q, &values, dids, d.n));
    j->in[1] = Q;
    j->join_type = dep->dep_kind == TS_DEP_SEMI ? TS_JOIN_SEMI : dep->dep_kind == TS_DEP_ANTI ? TS_JOIN_ANTI
                                                                                               : TS_JOIN_LEFT;
    for (int i = 0; i < d.n; i++)
        TS_TRY(ts_sql_join_add_key(b, j, d.outer[i], dids[i], 1));
    const int only_left = j->join_type != TS_JOIN_LEFT;
    j->ncols = P->ncols + (only_left ? 0 : Q->ncols);
    if (!(j->cols = ts_sql_alloc(b->script, sizeof *j->cols * (size_t)(j->ncols + 1))))
        return NOMEM(b, dep->pos);
    if (P->ncols)
        memcpy(j->cols, P->cols, sizeof *j->cols * (size_t)P->ncols);
    if (!only_left)
        memcpy(j->cols + P->ncols, Q->cols, sizeof *j->cols * (size_t)Q->ncols);
    if (dep->dep_kind == TS_DEP_MARK)
        return mark_output(b, dep, j, raw, pp);
    *pp = j;
    return TS_OK;
}

/* ---- the pass ----------------------------------------------------------------------------------------------------- */

static ts_err expr_subplans(ts_sql_binder *b, ts_sql_expr *e, ts_err (*fn)(ts_sql_binder *, ts_sql_plan **))
{
    if (!e)
        return TS_OK;
    if (e->kind == TS_SQL_E_SUBQUERY && e->subplan)
        return fn(b, &e->subplan);
    for (int i = 0; i < e->nargs; i++)
        TS_TRY(expr_subplans(b, e->args[i], fn));
    TS_TRY(expr_subplans(b, e->operand, fn));
    return expr_subplans(b, e->else_expr, fn);
}

ts_err ts_sql_each_subplan(ts_sql_binder *b, ts_sql_plan *p, ts_err (*fn)(ts_sql_binder *, ts_sql_plan **))
{
    for (int i = 0; i < p->nconds; i++)
        TS_TRY(expr_subplans(b, p->conds[i], fn));
    for (int i = 0; p->exprs && i < p->ncols; i++)
        TS_TRY(expr_subplans(b, p->exprs[i], fn));
    for (int i = 0; p->values && i < p->nrows * p->ncols; i++)
        TS_TRY(expr_subplans(b, p->values[i], fn));
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(ts_sql_each_subplan(b, p->in[i], fn));
    return TS_OK;
}

/* Top-down: the outermost dependent join first (its left input decorrelated before), so that D reaches nested
 * dependent joins as columns of their left inputs; the rewritten plan is walked again for those. */
static ts_err decorrelate(ts_sql_binder *b, ts_sql_plan **pp)
{
    ts_sql_plan *p = *pp;
    if (p->kind != TS_P_DEPJOIN) {
        for (int i = 0; i < 2; i++)
            if (p->in[i])
                TS_TRY(decorrelate(b, &p->in[i]));
        return TS_OK;
    }
    TS_TRY(decorrelate(b, &p->in[0]));
    TS_TRY(flatten(b, pp));
    return decorrelate(b, pp);
}

static ts_err decorrelate_all(ts_sql_binder *b, ts_sql_plan **root)
{
    TS_TRY(decorrelate(b, root));
    return ts_sql_each_subplan(b, *root, decorrelate_all);
}

ts_err ts_sql_decorrelate(ts_sql_binder *b, ts_sql_plan **root) { return decorrelate_all(b, root); }
