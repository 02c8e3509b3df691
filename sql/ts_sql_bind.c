/* Binding queries: a SELECT block becomes FROM -> FILTER (WHERE) -> [PROJECT keys/arguments -> AGGREGATE ->
 * FILTER (HAVING)] -> [WINDOW ...] -> PROJECT (select list) -> [DISTINCT] -> [SORT] -> [LIMIT]; set operations
 * and CTEs around it. Aggregate and window calls are "lifted": the select list is bound against the FROM scope,
 * then every aggregate call (and every GROUP BY expression) in it is replaced by a reference to the column the
 * AGGREGATE node computes, so the projection above it only reads that node's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_sql_bind.h"
#include "ts_sql_exec.h"
#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

static ts_err wrap_simple(ts_sql_binder *b, ts_sql_plan **p, ts_sql_plan_kind kind, ts_sql_pos pos);

/* A growable list of (bound expression -> column id) replacements. */
typedef struct lift_map {
    ts_sql_expr **from;
    ts_sql_expr **to;  /* what replaces it (a column reference, or an expression over several) */
    int n, cap;
} lift_map;

static ts_err map_add(ts_sql_binder *b, lift_map *m, ts_sql_expr *from, ts_sql_expr *to)
{
    if (m->n == m->cap) {
        const int cap = m->cap ? 2 * m->cap : 16;
        ts_sql_expr **f = ts_sql_alloc(b->script, sizeof *f * (size_t)cap);
        ts_sql_expr **t = ts_sql_alloc(b->script, sizeof *t * (size_t)cap);
        if (!f || !t)
            TS_FAIL(TS_ERR_NOMEM, "out of memory binding a query");
        if (m->n)
            memcpy(f, m->from, sizeof *f * (size_t)m->n), memcpy(t, m->to, sizeof *t * (size_t)m->n);
        m->from = f, m->to = t, m->cap = cap;
    }
    m->from[m->n] = from, m->to[m->n] = to, m->n++;
    return TS_OK;
}

static ts_sql_expr *map_find(const lift_map *m, const ts_sql_expr *e)
{
    for (int i = 0; i < m->n; i++)
        if (ts_sql_expr_equal(m->from[i], e))
            return m->to[i];
    return NULL;
}

/* ---- walking bound trees -------------------------------------------------------------------------------------- */

typedef int (*node_pred)(const ts_sql_expr *e);

static int is_agg_call(const ts_sql_expr *e)
{
    return e->kind == TS_SQL_E_FUNC && !e->over && ts_sql_is_aggregate(e->name);
}

static int is_window_call(const ts_sql_expr *e) { return e->kind == TS_SQL_E_FUNC && e->over; }

/* Collects the outermost nodes matching pred (not descending into them), deduplicated. */
static ts_err collect(ts_sql_binder *b, ts_sql_expr *e, node_pred pred, lift_map *found)
{
    if (!e)
        return TS_OK;
    if (pred(e)) {
        if (!map_find(found, e))
            TS_TRY(map_add(b, found, e, NULL));
        return TS_OK;
    }
    for (int i = 0; i < e->nargs; i++)
        TS_TRY(collect(b, e->args[i], pred, found));
    TS_TRY(collect(b, e->operand, pred, found));
    TS_TRY(collect(b, e->else_expr, pred, found));
    if (e->over) {
        for (int i = 0; i < e->over->npartition; i++)
            TS_TRY(collect(b, e->over->partition[i], pred, found));
        for (int i = 0; i < e->over->norder; i++)
            TS_TRY(collect(b, e->over->order[i].expr, pred, found));
    }
    return TS_OK;
}

static int contains(const ts_sql_expr *e, node_pred pred)
{
    if (!e)
        return 0;
    if (pred(e))
        return 1;
    for (int i = 0; i < e->nargs; i++)
        if (contains(e->args[i], pred))
            return 1;
    if (contains(e->operand, pred) || contains(e->else_expr, pred))
        return 1;
    if (e->over) {
        for (int i = 0; i < e->over->npartition; i++)
            if (contains(e->over->partition[i], pred))
                return 1;
        for (int i = 0; i < e->over->norder; i++)
            if (contains(e->over->order[i].expr, pred))
                return 1;
    }
    return 0;
}

/* A copy of e with every subtree found in m replaced. */
static ts_err lift(ts_sql_binder *b, const ts_sql_expr *e, const lift_map *m, ts_sql_expr **out)
{
    *out = NULL;
    if (!e)
        return TS_OK;
    ts_sql_expr *to = map_find(m, e);
    if (to) {
        *out = to;
        return TS_OK;
    }
    ts_sql_expr *c = ts_sql_alloc(b->script, sizeof *c);
    if (!c)
        return NOMEM(b, e->pos);
    *c = *e;
    if (e->nargs && !(c->args = ts_sql_alloc(b->script, sizeof *c->args * (size_t)e->nargs)))
        return NOMEM(b, e->pos);
    for (int i = 0; i < e->nargs; i++)
        TS_TRY(lift(b, e->args[i], m, &c->args[i]));
    TS_TRY(lift(b, e->operand, m, &c->operand));
    TS_TRY(lift(b, e->else_expr, m, &c->else_expr));
    if (e->over) {
        ts_sql_window *w = ts_sql_alloc(b->script, sizeof *w);
        if (!w)
            return NOMEM(b, e->pos);
        *w = *e->over;
        w->partition = e->over->npartition ? ts_sql_alloc(b->script, sizeof(ts_sql_expr *) * (size_t)w->npartition)
                                           : NULL;
        w->order = e->over->norder ? ts_sql_alloc(b->script, sizeof *w->order * (size_t)w->norder) : NULL;
        if ((w->npartition && !w->partition) || (w->norder && !w->order))
            return NOMEM(b, e->pos);
        for (int i = 0; i < w->npartition; i++)
            TS_TRY(lift(b, e->over->partition[i], m, &w->partition[i]));
        for (int i = 0; i < w->norder; i++) {
            w->order[i] = e->over->order[i];
            TS_TRY(lift(b, e->over->order[i].expr, m, &w->order[i].expr));
        }
        c->over = w;
    }
    *out = c;
    return TS_OK;
}

/* The first column a lifted tree still reads that the node below does not provide, or NULL. */
typedef struct stray_ctx {
    const ts_sql_col *cols;
    int ncols;
    const char *stray;
} stray_ctx;

static void find_stray(const char *id, void *arg)
{
    stray_ctx *s = arg;
    for (int i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i].id, id))
            return;
    if (!s->stray)
        s->stray = id;
}

/* e (lifted above the aggregation) may read the columns of plan (the aggregate, with the dependent joins attached
 * above it) and correlated columns of enclosing queries. */
static ts_err check_grouped(ts_sql_binder *b, const ts_sql_expr *e, const ts_sql_plan *agg, const ts_sql_scope *outer)
{
    stray_ctx s = {agg->cols, agg->ncols, NULL};
    ts_sql_expr_refs(e, find_stray, &s);
    if (!s.stray)
        return TS_OK;
    for (const ts_sql_scope *o = outer; o; o = o->outer) /* correlated references are not grouped columns */
        for (int i = 0; i < o->ncols; i++)
            if (!strcmp(o->cols[i].id, s.stray))
                return TS_OK;
    char name[TS_SQL_ID_MAX];
    snprintf(name, sizeof name, "%s", s.stray);
    char *hash = strrchr(name, '#');
    if (hash)
        *hash = 0;
    return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "column '%s' must appear in the GROUP BY clause or be "
                           "used in an aggregate function", name);
}

/* ---- small constructors ------------------------------------------------------------------------------------------ */

static ts_sql_expr *mk(ts_sql_binder *b, ts_sql_expr_kind kind, ts_sql_op op, ts_sql_pos pos, ts_sql_expr *x,
                       ts_sql_expr *y)
{
    return ts_sql_mk(b, kind, op, pos, x, y);
}

/* ---- aggregates ------------------------------------------------------------------------------------------------- */

typedef struct agg_build {
    ts_sql_plan **input;   /* the plan below the AGGREGATE (grows with computed arguments) */
    int deduplicated;      /* the input was reduced to distinct (keys, distinct_id) rows */
    char *distinct_id;
    ts_sql_agg_item *items;
    int n, cap;
    ts_sql_col *out_cols;  /* one per aggregate */
} agg_build;

static ts_err agg_push(ts_sql_binder *b, agg_build *a, ts_agg_kind kind, const char *input, const char *where,
                       double param, const char *label, ts_sql_pos pos, ts_sql_expr **ref)
{
    if (a->n == a->cap) {
        const int cap = a->cap ? 2 * a->cap : 16;
        ts_sql_agg_item *items = ts_sql_alloc(b->script, sizeof *items * (size_t)cap);
        ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)cap);
        if (!items || !cols)
            return NOMEM(b, pos);
        if (a->n)
            memcpy(items, a->items, sizeof *items * (size_t)a->n), memcpy(cols, a->out_cols, sizeof *cols * (size_t)a->n);
        a->items = items, a->out_cols = cols, a->cap = cap;
    }
    ts_sql_col *c = &a->out_cols[a->n];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", label);
    ts_sql_new_id(b, label, c->id);
    a->items[a->n].agg = (ts_agg){kind, input, where, ts_sql_strdup(b->script, c->id), param, NULL};
    a->items[a->n].pos = pos;
    a->n++;
    *ref = ts_sql_ref(b, c->id, pos);
    return *ref ? TS_OK : NOMEM(b, pos);
}

static ts_err agg_arg(ts_sql_binder *b, agg_build *a, ts_sql_expr *e, char **id)
{
    return ts_sql_add_computed(b, a->input, e, "arg", id);
}

static int agg_kind(const ts_sql_expr *e, ts_agg_kind *k)
{
    static const struct { const char *name; ts_agg_kind kind; } map[] = {
        {"count", TS_AGG_COUNT}, {"sum", TS_AGG_SUM}, {"min", TS_AGG_MIN}, {"max", TS_AGG_MAX},
        {"avg", TS_AGG_MEAN}, {"mean", TS_AGG_MEAN}, {"stddev", TS_AGG_STDDEV_SAMP},
        {"stddev_samp", TS_AGG_STDDEV_SAMP}, {"stddev_pop", TS_AGG_STDDEV_POP}, {"variance", TS_AGG_VAR_SAMP},
        {"var_samp", TS_AGG_VAR_SAMP}, {"var_pop", TS_AGG_VAR_POP}, {"median", TS_AGG_MEDIAN},
        {"quantile_cont", TS_AGG_QUANTILE}, {"quantile", TS_AGG_QUANTILE}, {"first", TS_AGG_FIRST},
        {"any_value", TS_AGG_FIRST}, {"last", TS_AGG_LAST}, {"bool_and", TS_AGG_MIN}, {"bool_or", TS_AGG_MAX}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(e->name, map[i].name)) {
            *k = map[i].kind;
            return 1;
        }
    return 0;
}

/* corr / covar_pop / covar_samp: one aggregate over both arguments (co-moment states, ops/ts_aggregate.h). */
static ts_err agg_moments(ts_sql_binder *b, agg_build *a, const ts_sql_expr *call, ts_sql_expr **repl)
{
    if (call->nargs != 2)
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s() takes two arguments", call->name);
    const ts_agg_kind kind = !strcmp(call->name, "corr")        ? TS_AGG_CORR
                             : !strcmp(call->name, "covar_pop") ? TS_AGG_COVAR_POP
                                                                : TS_AGG_COVAR_SAMP;
    char *ix, *iy, *where = NULL;
    TS_TRY(agg_arg(b, a, call->args[0], &ix));
    TS_TRY(agg_arg(b, a, call->args[1], &iy));
    if (call->filter)
        TS_TRY(agg_arg(b, a, call->filter, &where));
    TS_TRY(agg_push(b, a, kind, ix, where, 0, call->name, call->pos, repl));
    a->items[a->n - 1].agg.order = iy;
    char text[TS_SQL_NAME_MAX]; /* errors of this aggregate name the call as written */
    ts_sql_expr_text(call, (*a->input)->cols, (*a->input)->ncols, text, sizeof text);
    a->items[a->n - 1].text = ts_sql_strdup(b->script, text);
    return TS_OK;
}

static ts_err agg_register(ts_sql_binder *b, agg_build *a, const ts_sql_expr *call, ts_sql_expr **repl)
{
    if (a->deduplicated && call->distinct) { /* the input holds each (group, value) once already */
        ts_sql_expr *plain = ts_sql_alloc(b->script, sizeof *plain);
        if (!plain)
            return NOMEM(b, call->pos);
        *plain = *call;
        plain->distinct = 0;
        plain->args = ts_sql_alloc(b->script, sizeof *plain->args * (size_t)call->nargs);
        if (!plain->args)
            return NOMEM(b, call->pos);
        if (call->nargs)
            memcpy(plain->args, call->args, sizeof *plain->args * (size_t)call->nargs);
        plain->args[0] = ts_sql_ref(b, a->distinct_id, call->pos);
        call = plain;
    }
    if (!strcmp(call->name, "corr") || !strcmp(call->name, "covar_pop") || !strcmp(call->name, "covar_samp")) {
        if (call->distinct)
            return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s(DISTINCT ...) is not supported", call->name);
        return agg_moments(b, a, call, repl);
    }
    ts_agg_kind kind;
    if (!agg_kind(call, &kind))
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "aggregate %s() is not supported", call->name);
    const int quantile = kind == TS_AGG_QUANTILE;
    const int want = call->star ? 0 : quantile ? 2 : 1;
    if (call->nargs != want && !(kind == TS_AGG_COUNT && call->nargs == 0))
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s() takes %d argument%s", call->name, want,
                               want == 1 ? "" : "s");
    if (call->star && kind != TS_AGG_COUNT)
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s(*) is not valid; only count(*)", call->name);
    double q = 0.5;
    if (quantile) {
        const ts_sql_expr *qe = call->args[1];
        ts_sql_value v; /* any constant expression: 1/4, 0.1 + 0.15 */
        TS_TRY(ts_sql_eval_constant(b->src, qe, TS_T_FLOAT64, "the quantile", &v));
        if (v.is_null)
            return ts_sql_error_at(b->src, qe->pos, TS_ERR_USAGE, "the quantile must not be NULL");
        q = v.f;
        if (!(q >= 0 && q <= 1))
            return ts_sql_error_at(b->src, qe->pos, TS_ERR_USAGE, "the quantile must be between 0 and 1, not %g", q);
    }
    if (call->distinct && kind == TS_AGG_COUNT)
        kind = TS_AGG_COUNT_DISTINCT;
    else if (call->distinct && kind != TS_AGG_MIN && kind != TS_AGG_MAX) /* DISTINCT changes nothing for those */
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s(DISTINCT ...) is not supported (only count, "
                               "min and max)", call->name);
    char *input = NULL, *where = NULL;
    if (want)
        TS_TRY(agg_arg(b, a, call->args[0], &input));
    if (call->filter)
        TS_TRY(agg_arg(b, a, call->filter, &where));
    TS_TRY(agg_push(b, a, kind, input, where, q, call->name, call->pos, repl));
    char text[TS_SQL_NAME_MAX]; /* errors of this aggregate name the call as written */
    ts_sql_expr_text(call, (*a->input)->cols, (*a->input)->ncols, text, sizeof text);
    a->items[a->n - 1].text = ts_sql_strdup(b->script, text);
    return TS_OK;
}

/* ---- the SELECT block ----------------------------------------------------------------------------------------- */

typedef struct item {
    ts_sql_expr *expr;  /* bound (then lifted) */
    char name[TS_SQL_NAME_MAX];
} item;

typedef struct select_state {
    ts_sql_plan *plan;
    ts_sql_scope scope;   /* the FROM scope (for binding) */
    item *items;
    int nitems;
    ts_sql_expr *having, *qualify;
    ts_sql_expr **order;  /* bound ORDER BY expressions not resolved to an output column (NULL when resolved) */
    int *order_pos;       /* resolved output column, or -1 */
    int norder;
} select_state;

/* Index in names[0..n) of name (case-insensitive), or -1. */
static int name_index(char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcasecmp(names[i], name))
            return i;
    return -1;
}

/* The columns of * (or t.*), less EXCLUDE's, with REPLACE's expressions in place of theirs. */
static ts_err expand_star(ts_sql_binder *b, const ts_sql_expr *e, select_state *st)
{
    int matched = 0, used[TS_MAX_COLS] = {0}, first = st->nitems;
    if (e->nstar_exclude + e->nstar_replace > TS_MAX_COLS)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "too many names in EXCLUDE / REPLACE");
    for (int c = 0; c < st->plan->ncols; c++) {
        const ts_sql_col *col = &st->plan->cols[c];
        if (col->hidden || (e->table && strcasecmp(col->qual, e->table)))
            continue;
        matched++;
        const int x = name_index(e->star_exclude, e->nstar_exclude, col->name);
        if (x >= 0) {
            used[x] = 1;
            continue;
        }
        const int r = name_index(e->star_replace_names, e->nstar_replace, col->name);
        item *it = &st->items[st->nitems++];
        snprintf(it->name, sizeof it->name, "%s", col->name);
        if (r >= 0) {
            used[e->nstar_exclude + r] = 1;
            TS_TRY(ts_sql_bind_expr(b, &st->scope, e->star_replace[r], &it->expr));
        } else if (!(it->expr = ts_sql_ref(b, col->id, e->pos))) {
            return NOMEM(b, e->pos);
        }
    }
    if (!matched && e->table)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "unknown table '%s' in '%s.*'", e->table, e->table);
    if (!matched)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "SELECT * without any column");
    for (int i = 0; i < e->nstar_exclude + e->nstar_replace; i++)
        if (!used[i]) {
            const int ex = i < e->nstar_exclude;
            return ts_sql_error_at(b->src, ex ? e->pos : e->star_replace[i - e->nstar_exclude]->pos, TS_ERR_USAGE,
                                   "column '%s' in the %s list is not a column of *", ex ? e->star_exclude[i]
                                   : e->star_replace_names[i - e->nstar_exclude], ex ? "EXCLUDE" : "REPLACE");
        }
    if (st->nitems == first)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "SELECT * EXCLUDE leaves no column");
    return TS_OK;
}

static ts_err expand_items(ts_sql_binder *b, const ts_sql_select *s, select_state *st)
{
    int cap = 0;
    for (int i = 0; i < s->nitems; i++)
        cap += s->items[i].expr->kind == TS_SQL_E_STAR ? st->plan->ncols : 1;
    if (!(st->items = ts_sql_alloc(b->script, sizeof *st->items * (size_t)(cap + 1))))
        return NOMEM(b, s->pos);
    for (int i = 0; i < s->nitems; i++) {
        const ts_sql_expr *e = s->items[i].expr;
        if (e->kind != TS_SQL_E_STAR) {
            item *it = &st->items[st->nitems++];
            TS_TRY(ts_sql_bind_expr(b, &st->scope, e, &it->expr));
            if (s->items[i].alias)
                snprintf(it->name, sizeof it->name, "%s", s->items[i].alias);
            else
                ts_sql_item_name(e, it->name);
            continue;
        }
        TS_TRY(expand_star(b, e, st));
    }
    return TS_OK;
}

/* GROUP BY items: a 1-based position, an output alias, or an expression over the FROM scope. */
static ts_err bind_group_item(ts_sql_binder *b, const ts_sql_expr *g, select_state *st, ts_sql_expr **out)
{
    if (g->kind == TS_SQL_E_INT) {
        if (g->ival < 1 || g->ival > st->nitems)
            return ts_sql_error_at(b->src, g->pos, TS_ERR_USAGE, "GROUP BY position %lld is not in the select list "
                                   "(1..%d)", (long long)g->ival, st->nitems);
        *out = st->items[g->ival - 1].expr;
        if (contains(*out, is_agg_call))
            return ts_sql_error_at(b->src, g->pos, TS_ERR_USAGE, "GROUP BY position %lld refers to an aggregate",
                                   (long long)g->ival);
        return TS_OK;
    }
    if (g->kind == TS_SQL_E_COLUMN && !g->table) {
        const char *id;
        int found = 0;
        for (int c = 0; c < st->scope.ncols && !found; c++)
            found = !strcasecmp(st->scope.cols[c].name, g->name);
        for (int i = 0; i < st->nitems && !found; i++)
            if (!strcasecmp(st->items[i].name, g->name) && !contains(st->items[i].expr, is_agg_call)) {
                *out = st->items[i].expr;
                return TS_OK;
            }
        (void)id;
    }
    return ts_sql_bind_expr(b, &st->scope, g, out);
}

/* count(DISTINCT x), sum(DISTINCT x), ...: when every aggregate is DISTINCT over the same argument (without
 * FILTER), the input is first reduced to its distinct (group keys, x) rows, and the aggregates then run as plain
 * ones. Both steps are then ordinary aggregations (partial states per rank, spilling under a memory limit), where a
 * distinct count alone would exchange every row by the group keys and keep each group's values in memory; Spark
 * plans distinct aggregates the same way. */
static ts_err distinct_input(ts_sql_binder *b, select_state *st, char **keys, int nkeys, const lift_map *calls,
                             agg_build *a)
{
    const ts_sql_expr *arg = NULL;
    int min_max_only = 1; /* min / max ignore DISTINCT */
    for (int i = 0; i < calls->n; i++) {
        const ts_sql_expr *c = calls->from[i];
        if (!c->distinct || c->nargs != 1 || c->filter || (arg && !ts_sql_expr_equal(arg, c->args[0])))
            return TS_OK;
        arg = c->args[0];
        min_max_only &= !strcmp(c->name, "min") || !strcmp(c->name, "max");
    }
    if (!arg || min_max_only)
        return TS_OK;
    char *id;
    TS_TRY(ts_sql_add_computed(b, &st->plan, (ts_sql_expr *)arg, "distinct_arg", &id));
    ts_sql_plan *in = st->plan, *proj = ts_sql_plan_new(b, TS_P_PROJECT, in->pos, nkeys + 1);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(nkeys + 1))))
        return NOMEM(b, in->pos);
    for (int k = 0; k <= nkeys; k++) {
        const char *want = k < nkeys ? keys[k] : id;
        for (int c = 0; c < in->ncols; c++)
            if (!strcmp(in->cols[c].id, want))
                proj->cols[k] = in->cols[c];
        if (!(proj->exprs[k] = ts_sql_ref(b, want, in->pos)))
            return NOMEM(b, in->pos);
    }
    proj->in[0] = in, proj->est_rows = in->est_rows;
    st->plan = proj;
    TS_TRY(wrap_simple(b, &st->plan, TS_P_DISTINCT, in->pos));
    a->deduplicated = 1, a->distinct_id = id;
    return TS_OK;
}

static ts_sql_expr *lit(ts_sql_binder *b, ts_sql_expr_kind kind, int64_t v, ts_sql_pos pos)
{
    return ts_sql_lit(b, kind, v, pos);
}

/* agg(DISTINCT x) beside other aggregates (sum, avg, ... : count, min and max take DISTINCT themselves): the first
 * row of every (group keys, x[, filter]) partition is numbered 1 by a row_number() window below the aggregation,
 * and the call becomes agg(CASE WHEN rn = 1 [AND filter] THEN x END) (DuckDB's semantics: NULL x never counts).
 * Calls with the same argument and filter share the window. *out is the rewritten call. */
static ts_err distinct_by_window(ts_sql_binder *b, select_state *st, char **keys, int nkeys, const ts_sql_expr *call,
                                 lift_map *done, const ts_sql_expr **out)
{
    const ts_sql_pos pos = call->pos;
    ts_sql_expr key = {.kind = TS_SQL_E_FUNC, .name = "distinct", .args = call->args, .nargs = 1,
                       .filter = call->filter};
    ts_sql_expr *first = map_find(done, &key); /* rn = 1 [AND filter], over this plan */
    if (!first) {
        if (nkeys + 2 > 8)
            return ts_sql_error_at(b->src, pos, TS_ERR_USAGE, "%s(DISTINCT ...) beside other aggregates supports at "
                                   "most 6 GROUP BY keys", call->name);
        char *x, *f = NULL;
        TS_TRY(ts_sql_add_computed(b, &st->plan, call->args[0], "distinct_arg", &x));
        if (call->filter)
            TS_TRY(ts_sql_add_computed(b, &st->plan, call->filter, "distinct_filter", &f));
        ts_sql_plan *in = st->plan, *w = ts_sql_plan_new(b, TS_P_WINDOW, pos, in->ncols + 1);
        if (!w || !(w->partition = ts_sql_alloc(b->script, sizeof(char *) * (size_t)(nkeys + 2))) ||
            !(w->wins = ts_sql_alloc(b->script, sizeof *w->wins)))
            return NOMEM(b, pos);
        if (nkeys) /* keys is NULL without GROUP BY: memcpy's arguments must not be, even for 0 bytes */
            memcpy(w->partition, keys, sizeof(char *) * (size_t)nkeys);
        w->npartition = nkeys;
        w->partition[w->npartition++] = x;
        if (f)
            w->partition[w->npartition++] = f;
        if (in->ncols)
            memcpy(w->cols, in->cols, sizeof *w->cols * (size_t)in->ncols);
        ts_sql_col *rn = &w->cols[in->ncols];
        memset(rn, 0, sizeof *rn);
        snprintf(rn->name, sizeof rn->name, "rn");
        ts_sql_new_id(b, "distinct_rn", rn->id);
        rn->hidden = 1;
        w->wins[0].fn = (ts_window_fn){.kind = TS_WIN_ROW_NUMBER, .output = rn->id, .offset = 1};
        w->nwins = 1, w->in[0] = in, w->est_rows = in->est_rows;
        st->plan = w;
        first = mk(b, TS_SQL_E_BINARY, TS_SQL_OP_EQ, pos, ts_sql_ref(b, rn->id, pos), lit(b, TS_SQL_E_INT, 1, pos));
        if (first && f)
            first = mk(b, TS_SQL_E_BINARY, TS_SQL_OP_AND, pos, first, ts_sql_ref(b, f, pos));
        ts_sql_expr *k = ts_sql_alloc(b->script, sizeof *k);
        if (!first || !k)
            return NOMEM(b, pos);
        *k = key;
        TS_TRY(map_add(b, done, k, first));
    }
    ts_sql_expr *c = ts_sql_alloc(b->script, sizeof *c), *when = lit(b, TS_SQL_E_CASE, 0, pos);
    ts_sql_expr **args = ts_sql_alloc(b->script, sizeof *args * 2), **cargs = ts_sql_alloc(b->script, sizeof *cargs);
    if (!c || !when || !args || !cargs)
        return NOMEM(b, pos);
    args[0] = first, args[1] = call->args[0];
    when->args = args, when->nargs = 2;
    *c = *call;
    cargs[0] = when;
    c->args = cargs, c->distinct = 0, c->filter = NULL;
    *out = c;
    return TS_OK;
}

/* A DISTINCT call that needs distinct_by_window. */
static int needs_distinct_window(const agg_build *a, const ts_sql_expr *c)
{
    return c->distinct && !a->deduplicated && c->nargs >= 1 && strcmp(c->name, "count") && strcmp(c->name, "min") &&
           strcmp(c->name, "max");
}

static ts_err build_aggregate(ts_sql_binder *b, const ts_sql_select *s, select_state *st, int base)
{
    lift_map map = {0}, calls = {0};
    ts_sql_expr **groups = NULL;
    int ngroups = s->group_all ? st->nitems : s->ngroup;
    if (ngroups && !(groups = ts_sql_alloc(b->script, sizeof *groups * (size_t)ngroups)))
        return NOMEM(b, s->pos);
    int ng = 0;
    for (int i = 0; i < ngroups; i++) {
        if (s->group_all) {
            if (!contains(st->items[i].expr, is_agg_call))
                groups[ng++] = st->items[i].expr;
        } else {
            TS_TRY(bind_group_item(b, s->group[i], st, &groups[ng++]));
        }
    }
    for (int i = 0; i < st->nitems; i++)
        TS_TRY(collect(b, st->items[i].expr, is_agg_call, &calls));
    TS_TRY(collect(b, st->having, is_agg_call, &calls));
    TS_TRY(collect(b, st->qualify, is_agg_call, &calls));
    for (int i = 0; i < st->norder; i++)
        TS_TRY(collect(b, st->order[i], is_agg_call, &calls));
    /* subqueries inside GROUP BY expressions and aggregate arguments are evaluated per input row: below */
    TS_TRY(ts_sql_attach_pending(b, &st->plan, base, groups, ng, st->scope.outer));
    TS_TRY(ts_sql_attach_pending(b, &st->plan, base, calls.from, calls.n, st->scope.outer));
    agg_build a = {.input = &st->plan};
    char **keys = ng ? ts_sql_alloc(b->script, sizeof *keys * (size_t)ng) : NULL;
    int nkeys = 0;
    for (int i = 0; i < ng; i++) {
        if (map_find(&map, groups[i]))
            continue; /* GROUP BY a, a */
        char *id;
        TS_TRY(ts_sql_add_computed(b, &st->plan, groups[i], "group", &id));
        keys[nkeys++] = id;
        TS_TRY(map_add(b, &map, groups[i], ts_sql_ref(b, id, groups[i]->pos)));
    }
    TS_TRY(distinct_input(b, st, keys, nkeys, &calls, &a));
    lift_map windows = {0};
    const ts_sql_expr **regs = calls.n ? ts_sql_alloc(b->script, sizeof *regs * (size_t)calls.n) : NULL;
    if (calls.n && !regs)
        return NOMEM(b, s->pos);
    for (int i = 0; i < calls.n; i++) { /* the windows first: they sit below every computed argument */
        if (contains(calls.from[i]->args ? calls.from[i]->args[0] : NULL, is_agg_call))
            return ts_sql_error_at(b->src, calls.from[i]->pos, TS_ERR_USAGE, "aggregate calls cannot be nested");
        regs[i] = calls.from[i];
        if (needs_distinct_window(&a, calls.from[i]))
            TS_TRY(distinct_by_window(b, st, keys, nkeys, calls.from[i], &windows, &regs[i]));
    }
    for (int i = 0; i < calls.n; i++) {
        ts_sql_expr *repl;
        TS_TRY(agg_register(b, &a, regs[i], &repl));
        TS_TRY(map_add(b, &map, calls.from[i], repl));
    }
    /* the AGGREGATE node: keys (with the input's column info), then the aggregates */
    ts_sql_plan *agg = ts_sql_plan_new(b, TS_P_AGGREGATE, s->pos, nkeys + a.n);
    if (!agg)
        return NOMEM(b, s->pos);
    for (int k = 0; k < nkeys; k++)
        for (int c = 0; c < st->plan->ncols; c++)
            if (!strcmp(st->plan->cols[c].id, keys[k]))
                agg->cols[k] = st->plan->cols[c];
    if (a.n)
        memcpy(agg->cols + nkeys, a.out_cols, sizeof *agg->cols * (size_t)a.n);
    agg->in[0] = st->plan, agg->keys = keys, agg->nkeys = nkeys, agg->aggs = a.items, agg->naggs = a.n;
    if (calls.n) /* errors of the aggregation point at its first aggregate */
        agg->pos = calls.from[0]->pos;
    agg->est_rows = nkeys ? st->plan->est_rows / 10 + 1 : 1;
    st->plan = agg;
    /* the other subqueries of the select list, HAVING and ORDER BY read grouped columns: above */
    TS_TRY(ts_sql_attach_pending(b, &st->plan, base, NULL, 0, st->scope.outer));
    /* lift the select list, HAVING, QUALIFY and ORDER BY above it */
    for (int i = 0; i < st->nitems; i++) {
        TS_TRY(lift(b, st->items[i].expr, &map, &st->items[i].expr));
        TS_TRY(check_grouped(b, st->items[i].expr, st->plan, st->scope.outer));
    }
    for (int i = 0; i < st->norder; i++) {
        TS_TRY(lift(b, st->order[i], &map, &st->order[i]));
        if (st->order[i])
            TS_TRY(check_grouped(b, st->order[i], st->plan, st->scope.outer));
    }
    TS_TRY(lift(b, st->qualify, &map, &st->qualify));
    TS_TRY(lift(b, st->having, &map, &st->having));
    if (st->having) {
        TS_TRY(check_grouped(b, st->having, st->plan, st->scope.outer));
        ts_sql_expr **conds = NULL;
        int n = 0;
        ts_sql_conjuncts(b, st->having, &conds, &n);
        TS_TRY(ts_sql_wrap_filter(b, &st->plan, conds, n));
    }
    return TS_OK;
}

/* ---- windows -------------------------------------------------------------------------------------------------- */

static int window_kind(const char *name, ts_window_kind *k)
{
    static const struct { const char *name; ts_window_kind kind; } map[] = {
        {"row_number", TS_WIN_ROW_NUMBER}, {"rank", TS_WIN_RANK}, {"dense_rank", TS_WIN_DENSE_RANK},
        {"percent_rank", TS_WIN_PERCENT_RANK}, {"cume_dist", TS_WIN_CUME_DIST}, {"ntile", TS_WIN_NTILE},
        {"lag", TS_WIN_LAG}, {"lead", TS_WIN_LEAD}, {"first_value", TS_WIN_FIRST_VALUE},
        {"last_value", TS_WIN_LAST_VALUE}, {"count", TS_WIN_COUNT}, {"sum", TS_WIN_SUM}, {"avg", TS_WIN_AVG},
        {"mean", TS_WIN_AVG}, {"min", TS_WIN_MIN}, {"max", TS_WIN_MAX}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(name, map[i].name)) {
            *k = map[i].kind;
            return 1;
        }
    return 0;
}

/* The offset of lag/lead or the bucket count of ntile: a constant is folded into fn->offset (any constant
 * expression: `1+1`, `-1`, `'2'`, 1.5 -> 2 as a cast to BIGINT rounds); anything else, or NULL, is computed per
 * row as a BIGINT column (fn->offset_col), as DuckDB evaluates these arguments per row. Never a silent default. */
static ts_err window_count(ts_sql_binder *b, ts_sql_plan **in, const ts_sql_expr *call, ts_sql_expr *arg,
                           ts_window_fn *fn)
{
    char what[64];
    snprintf(what, sizeof what, "the %s of %s()", fn->kind == TS_WIN_NTILE ? "bucket count" : "offset", call->name);
    if (ts_sql_is_constant(arg)) {
        ts_sql_value v;
        TS_TRY(ts_sql_eval_constant(b->src, arg, TS_T_INT64, what, &v));
        if (!v.is_null && fn->kind == TS_WIN_NTILE && v.i < 1)
            return ts_sql_error_at(b->src, arg->pos, TS_ERR_USAGE, "%s must be at least 1, not %lld", what,
                                   (long long)v.i);
        if (!v.is_null) {
            fn->offset = v.i;
            return TS_OK;
        }
    }
    ts_sql_expr *cast = mk(b, TS_SQL_E_CAST, TS_SQL_OP_NONE, arg->pos, arg, NULL);
    if (!cast)
        return NOMEM(b, arg->pos);
    cast->type.kind = TS_SQL_TY_BIGINT;
    return ts_sql_add_computed(b, in, cast, "offset", (char **)&fn->offset_col);
}

/* Argument counts of the window functions (an extra argument is an error, never ignored). */
static ts_err window_arity(ts_sql_binder *b, const ts_sql_expr *call, ts_window_kind k)
{
    int lo = 1, hi = 1;
    switch (k) {
    case TS_WIN_ROW_NUMBER: case TS_WIN_RANK: case TS_WIN_DENSE_RANK: case TS_WIN_PERCENT_RANK:
    case TS_WIN_CUME_DIST: lo = hi = 0; break;
    case TS_WIN_LAG: case TS_WIN_LEAD: hi = 3; break;
    case TS_WIN_COUNT: lo = call->star ? 0 : 1; break;
    default: break;
    }
    if (call->nargs >= lo && call->nargs <= hi)
        return TS_OK;
    if (lo == hi)
        return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s() takes %d argument%s, not %d", call->name, lo,
                               lo == 1 ? "" : "s", call->nargs);
    return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s() takes %d to %d arguments, not %d", call->name, lo,
                           hi, call->nargs);
}

static ts_frame_bound frame_bound(ts_sql_bound_kind k)
{
    switch (k) {
    case TS_SQL_BOUND_UNBOUNDED_PRECEDING: return TS_FRAME_UNBOUNDED_PRECEDING;
    case TS_SQL_BOUND_PRECEDING: return TS_FRAME_PRECEDING;
    case TS_SQL_BOUND_CURRENT_ROW: return TS_FRAME_CURRENT_ROW;
    case TS_SQL_BOUND_FOLLOWING: return TS_FRAME_FOLLOWING;
    default: return TS_FRAME_UNBOUNDED_FOLLOWING;
    }
}

/* One WINDOW node for the calls sharing call->over's PARTITION BY / ORDER BY. */
static ts_err build_window(ts_sql_binder *b, select_state *st, lift_map *calls, int first, lift_map *map)
{
    const ts_sql_window *w = calls->from[first]->over;
    ts_sql_plan *in = st->plan;
    ts_sql_plan *node = ts_sql_plan_new(b, TS_P_WINDOW, calls->from[first]->pos, 0);
    if (!node)
        return NOMEM(b, w ? calls->from[first]->pos : st->plan->pos);
    node->npartition = w->npartition, node->nsort = w->norder;
    node->partition = w->npartition ? ts_sql_alloc(b->script, sizeof(char *) * (size_t)w->npartition) : NULL;
    node->sort = w->norder ? ts_sql_alloc(b->script, sizeof *node->sort * (size_t)w->norder) : NULL;
    node->wins = ts_sql_alloc(b->script, sizeof *node->wins * (size_t)calls->n);
    ts_sql_col *outs = ts_sql_alloc(b->script, sizeof *outs * (size_t)calls->n);
    if ((w->npartition && !node->partition) || (w->norder && !node->sort) || !node->wins || !outs)
        return NOMEM(b, node->pos);
    for (int i = 0; i < w->npartition; i++)
        TS_TRY(ts_sql_add_computed(b, &in, w->partition[i], "partition", &node->partition[i]));
    for (int i = 0; i < w->norder; i++) {
        char *id;
        TS_TRY(ts_sql_add_computed(b, &in, w->order[i].expr, "order", &id));
        node->sort[i] = (ts_sort_key){id, w->order[i].desc, w->order[i].nulls != 1};
    }
    for (int i = first; i < calls->n; i++) {
        const ts_sql_expr *call = calls->from[i];
        if (calls->to[i] || !ts_sql_expr_equal(&(ts_sql_expr){.kind = TS_SQL_E_FUNC, .over = call->over},
                                              &(ts_sql_expr){.kind = TS_SQL_E_FUNC, .over = (ts_sql_window *)w}))
            continue;
        ts_window_fn fn = {.offset = 1};
        if (!window_kind(call->name, &fn.kind))
            return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "%s() is not supported as a window function",
                                   call->name);
        if (call->distinct || call->filter)
            return ts_sql_error_at(b->src, call->pos, TS_ERR_USAGE, "DISTINCT and FILTER are not supported in "
                                   "window functions");
        TS_TRY(window_arity(b, call, fn.kind));
        const int takes_input = !call->star && fn.kind != TS_WIN_ROW_NUMBER && fn.kind != TS_WIN_RANK &&
                                fn.kind != TS_WIN_DENSE_RANK && fn.kind != TS_WIN_PERCENT_RANK &&
                                fn.kind != TS_WIN_CUME_DIST && fn.kind != TS_WIN_NTILE;
        if (takes_input)
            TS_TRY(ts_sql_add_computed(b, &in, call->args[0], "arg", (char **)&fn.input));
        if (fn.kind == TS_WIN_LAG || fn.kind == TS_WIN_LEAD) {
            if (call->nargs > 1)
                TS_TRY(window_count(b, &in, call, call->args[1], &fn));
            if (call->nargs > 2)
                TS_TRY(ts_sql_add_computed(b, &in, call->args[2], "default", (char **)&fn.default_col));
        }
        if (fn.kind == TS_WIN_NTILE)
            TS_TRY(window_count(b, &in, call, call->args[0], &fn));
        if (w->has_frame) {
            fn.has_frame = 1;
            fn.frame = (ts_window_frame){w->frame_rows, frame_bound(w->start), frame_bound(w->end), w->start_n,
                                         w->end_n};
        }
        ts_sql_col *c = &outs[node->nwins];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", call->name);
        ts_sql_new_id(b, call->name, c->id);
        fn.output = c->id;
        node->wins[node->nwins++].fn = fn;
        calls->to[i] = ts_sql_ref(b, c->id, call->pos);
        TS_TRY(map_add(b, map, calls->from[i], calls->to[i]));
    }
    node->ncols = in->ncols + node->nwins;
    if (!(node->cols = ts_sql_alloc(b->script, sizeof *node->cols * (size_t)node->ncols)))
        return NOMEM(b, node->pos);
    if (in->ncols)
        memcpy(node->cols, in->cols, sizeof *node->cols * (size_t)in->ncols);
    if (node->nwins)
        memcpy(node->cols + in->ncols, outs, sizeof *outs * (size_t)node->nwins);
    node->in[0] = in, node->est_rows = in->est_rows;
    st->plan = node;
    return TS_OK;
}

static ts_err build_windows(ts_sql_binder *b, select_state *st)
{
    lift_map calls = {0}, map = {0};
    for (int i = 0; i < st->nitems; i++)
        TS_TRY(collect(b, st->items[i].expr, is_window_call, &calls));
    TS_TRY(collect(b, st->qualify, is_window_call, &calls));
    for (int i = 0; i < st->norder; i++)
        TS_TRY(collect(b, st->order[i], is_window_call, &calls));
    for (int i = 0; i < calls.n; i++) {
        for (int k = 0; k < calls.from[i]->nargs; k++)
            if (contains(calls.from[i]->args[k], is_window_call))
                return ts_sql_error_at(b->src, calls.from[i]->pos, TS_ERR_USAGE, "window calls cannot be nested");
        if (!calls.to[i])
            TS_TRY(build_window(b, st, &calls, i, &map));
    }
    if (!calls.n)
        return TS_OK;
    for (int i = 0; i < st->nitems; i++)
        TS_TRY(lift(b, st->items[i].expr, &map, &st->items[i].expr));
    for (int i = 0; i < st->norder; i++)
        TS_TRY(lift(b, st->order[i], &map, &st->order[i]));
    return lift(b, st->qualify, &map, &st->qualify);
}

/* ---- WHERE ---------------------------------------------------------------------------------------------------- */

/* Plain conjuncts filter first (so correlated subqueries see fewer outer rows), then [NOT] EXISTS / [NOT] IN
 * conjuncts become semi / anti joins, then conjuncts holding other subqueries filter the plan their dependent
 * joins are attached to. */
static ts_err bind_where(ts_sql_binder *b, const ts_sql_expr *where, select_state *st, int base)
{
    const ts_sql_expr *stack[256], *tops[256];
    int top = 0, ntops = 0;
    ts_sql_expr **conds = NULL, **late = NULL;
    int n = 0, nlate = 0;
    if (where)
        stack[top++] = where;
    while (top) { /* the conjuncts, in order */
        const ts_sql_expr *e = stack[--top];
        if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_AND && top < 254) {
            stack[top++] = e->args[1], stack[top++] = e->args[0];
            continue;
        }
        if (ts_sql_has_subquery(e) && ntops < 256) {
            tops[ntops++] = e;
            continue;
        }
        ts_sql_expr *bound;
        TS_TRY(ts_sql_bind_expr(b, &st->scope, e, &bound));
        if (contains(bound, is_agg_call))
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "aggregates are not allowed in WHERE (use "
                                   "HAVING)");
        if (contains(bound, is_window_call))
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "window functions are not allowed in WHERE "
                                   "(use QUALIFY or a subquery)");
        ts_sql_conjuncts(b, bound, &conds, &n);
    }
    TS_TRY(ts_sql_wrap_filter(b, &st->plan, conds, n));
    for (int i = 0; i < ntops; i++) {
        const ts_sql_expr *x = tops[i];
        int negated = 0;
        if (x->kind == TS_SQL_E_UNARY && x->op == TS_SQL_OP_NOT &&
            (x->args[0]->kind == TS_SQL_E_EXISTS || x->args[0]->kind == TS_SQL_E_IN_QUERY))
            x = x->args[0], negated = 1;
        ts_sql_expr *bound = NULL;
        if (x->kind == TS_SQL_E_EXISTS || x->kind == TS_SQL_E_IN_QUERY)
            TS_TRY(ts_sql_bind_where_subquery(b, &st->plan, &st->scope, x, negated ^ x->negated, &bound));
        else
            TS_TRY(ts_sql_bind_expr(b, &st->scope, x, &bound));
        if (bound)
            ts_sql_conjuncts(b, bound, &late, &nlate);
    }
    TS_TRY(ts_sql_attach_pending(b, &st->plan, base, NULL, 0, st->scope.outer));
    return ts_sql_wrap_filter(b, &st->plan, late, nlate);
}

/* ---- projection, ORDER BY, LIMIT ---------------------------------------------------------------------------------- */

static ts_err bind_order(ts_sql_binder *b, const ts_sql_query *q, select_state *st)
{
    st->norder = q ? q->norder : 0;
    if (!st->norder)
        return TS_OK;
    st->order = ts_sql_alloc(b->script, sizeof *st->order * (size_t)st->norder);
    st->order_pos = ts_sql_alloc(b->script, sizeof *st->order_pos * (size_t)st->norder);
    if (!st->order || !st->order_pos)
        return NOMEM(b, q->pos);
    for (int i = 0; i < st->norder; i++) {
        const ts_sql_expr *e = q->order[i].expr;
        st->order_pos[i] = -1;
        if (e->kind == TS_SQL_E_INT) {
            if (e->ival < 1 || e->ival > st->nitems)
                return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "ORDER BY position %lld is not in the select "
                                       "list (1..%d)", (long long)e->ival, st->nitems);
            st->order_pos[i] = (int)e->ival - 1;
            continue;
        }
        if (e->kind == TS_SQL_E_COLUMN && !e->table) {
            for (int k = 0; k < st->nitems && st->order_pos[i] < 0; k++)
                if (!strcasecmp(st->items[k].name, e->name))
                    st->order_pos[i] = k;
            if (st->order_pos[i] >= 0)
                continue;
        }
        TS_TRY(ts_sql_bind_expr(b, &st->scope, e, &st->order[i]));
    }
    return TS_OK;
}

/* The select-list projection; ORDER BY expressions that are not select items become hidden columns. */
static ts_err build_projection(ts_sql_binder *b, const ts_sql_select *s, select_state *st, int *nhidden)
{
    int extra = 0;
    for (int i = 0; i < st->norder; i++)
        if (st->order_pos[i] < 0) {
            for (int k = 0; k < st->nitems && st->order_pos[i] < 0; k++)
                if (ts_sql_expr_equal(st->items[k].expr, st->order[i]))
                    st->order_pos[i] = k;
            extra += st->order_pos[i] < 0;
        }
    if (extra && s->distinct)
        return ts_sql_error_at(b->src, s->pos, TS_ERR_USAGE, "with SELECT DISTINCT, ORDER BY expressions must "
                               "appear in the select list");
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_PROJECT, s->pos, st->nitems + extra);
    if (!p || !(p->exprs = ts_sql_alloc(b->script, sizeof *p->exprs * (size_t)(st->nitems + extra))))
        return NOMEM(b, s->pos);
    for (int i = 0; i < st->nitems + extra; i++) {
        ts_sql_expr *e;
        ts_sql_col *c = &p->cols[i];
        if (i < st->nitems) {
            e = st->items[i].expr;
            snprintf(c->name, sizeof c->name, "%s", st->items[i].name);
        } else {
            int k = 0; /* the first ORDER BY key not in the select list and not placed yet (extra counts them) */
            while (st->order_pos[k] >= 0)
                k++;
            e = st->order[k];
            st->order_pos[k] = i;
            snprintf(c->name, sizeof c->name, "order");
            c->hidden = 1;
        }
        p->exprs[i] = e;
        int dup = 0, below = 0; /* a column of the input passes through under its id, once */
        for (int k = 0; k < i && e->kind == TS_SQL_E_COLUMN; k++)
            dup |= !strcmp(p->cols[k].id, e->name);
        for (int k = 0; k < st->plan->ncols && e->kind == TS_SQL_E_COLUMN && !below; k++)
            below = !strcmp(st->plan->cols[k].id, e->name);
        if (e->kind == TS_SQL_E_COLUMN && !dup && below) {
            snprintf(c->id, TS_SQL_ID_MAX, "%s", e->name);
            for (int k = 0; k < st->plan->ncols; k++)
                if (!strcmp(st->plan->cols[k].id, e->name))
                    snprintf(c->qual, sizeof c->qual, "%s", st->plan->cols[k].qual);
        } else {
            ts_sql_new_id(b, c->name, c->id);
        }
    }
    p->in[0] = st->plan, p->est_rows = st->plan->est_rows;
    st->plan = p;
    *nhidden = extra;
    return TS_OK;
}

static ts_err wrap_simple(ts_sql_binder *b, ts_sql_plan **p, ts_sql_plan_kind kind, ts_sql_pos pos)
{
    ts_sql_plan *n = ts_sql_plan_new(b, kind, pos, (*p)->ncols);
    if (!n)
        return NOMEM(b, pos);
    memcpy(n->cols, (*p)->cols, sizeof *n->cols * (size_t)(*p)->ncols);
    n->in[0] = *p, n->est_rows = (*p)->est_rows;
    *p = n;
    return TS_OK;
}

/* LIMIT / OFFSET: any constant expression (cast to BIGINT: 2.6 -> 3); NULL means none, as in DuckDB. */
static ts_err eval_count(ts_sql_binder *b, const ts_sql_expr *e, const char *what, int64_t *v)
{
    ts_sql_value c;
    TS_TRY(ts_sql_eval_constant(b->src, e, TS_T_INT64, what, &c));
    if (!c.is_null && c.i < 0)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "%s cannot be negative (%lld)", what, (long long)c.i);
    if (!c.is_null)
        *v = c.i;
    return TS_OK;
}

/* SORT on resolved output positions, then LIMIT / OFFSET. */
static ts_err add_sort_limit(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **p, const int *pos)
{
    if (q->norder) {
        TS_TRY(wrap_simple(b, p, TS_P_SORT, q->pos));
        ts_sql_plan *s = *p;
        if (!(s->sort = ts_sql_alloc(b->script, sizeof *s->sort * (size_t)q->norder)))
            return NOMEM(b, q->pos);
        s->nsort = q->norder;
        for (int i = 0; i < q->norder; i++)
            s->sort[i] = (ts_sort_key){s->cols[pos[i]].id, q->order[i].desc, q->order[i].nulls != 1};
    }
    if (q->limit || q->offset) {
        TS_TRY(wrap_simple(b, p, TS_P_LIMIT, q->pos));
        (*p)->limit = -1;
        if (q->limit)
            TS_TRY(eval_count(b, q->limit, "LIMIT", &(*p)->limit));
        if (q->offset)
            TS_TRY(eval_count(b, q->offset, "OFFSET", &(*p)->offset));
    }
    return TS_OK;
}

/* Drops the last n (hidden) columns. */
static ts_err drop_hidden(ts_sql_binder *b, ts_sql_plan **p, int n)
{
    if (!n)
        return TS_OK;
    ts_sql_plan *in = *p, *proj = ts_sql_plan_new(b, TS_P_PROJECT, in->pos, in->ncols - n);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(in->ncols - n))))
        return NOMEM(b, in->pos);
    for (int i = 0; i < in->ncols - n; i++) {
        proj->cols[i] = in->cols[i];
        if (!(proj->exprs[i] = ts_sql_ref(b, in->cols[i].id, in->pos)))
            return NOMEM(b, in->pos);
    }
    proj->in[0] = in, proj->est_rows = in->est_rows;
    *p = proj;
    return TS_OK;
}

static ts_err bind_block(ts_sql_binder *b, const ts_sql_select *s, const ts_sql_query *q, ts_sql_plan **out)
{
    select_state st = {0};
    const ts_sql_scope *outer = b->outer; /* the enclosing query's scope when this is a subquery */
    const int base = b->npending;         /* dependent joins this block attaches */
    b->outer = NULL;
    if (s->from) {
        TS_TRY(ts_sql_bind_from(b, s->from, outer, &st.plan));
    } else if (!(st.plan = ts_sql_plan_new(b, TS_P_ONE_ROW, s->pos, 0))) {
        return NOMEM(b, s->pos);
    }
    st.scope = (ts_sql_scope){.cols = st.plan->cols, .ncols = st.plan->ncols, .outer = outer};
    TS_TRY(bind_where(b, s->where, &st, base));
    st.scope = (ts_sql_scope){.cols = st.plan->cols, .ncols = st.plan->ncols, .outer = outer};
    TS_TRY(expand_items(b, s, &st));
    const char **alias_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)(st.nitems + 1));
    ts_sql_expr **alias_exprs = ts_sql_alloc(b->script, sizeof(ts_sql_expr *) * (size_t)(st.nitems + 1));
    if (!alias_names || !alias_exprs)
        return NOMEM(b, s->pos);
    for (int i = 0; i < st.nitems; i++)
        alias_names[i] = st.items[i].name, alias_exprs[i] = st.items[i].expr;
    ts_sql_scope with_aliases = st.scope;
    with_aliases.alias_names = alias_names, with_aliases.alias_exprs = alias_exprs, with_aliases.naliases = st.nitems;
    TS_TRY(ts_sql_bind_expr(b, &with_aliases, s->having, &st.having));
    TS_TRY(ts_sql_bind_expr(b, &with_aliases, s->qualify, &st.qualify));
    TS_TRY(bind_order(b, q, &st));
    int aggregated = s->ngroup || s->group_all || st.having;
    for (int i = 0; i < st.nitems && !aggregated; i++)
        aggregated = contains(st.items[i].expr, is_agg_call);
    for (int i = 0; i < st.norder && !aggregated; i++)
        aggregated = contains(st.order[i], is_agg_call);
    if (aggregated)
        TS_TRY(build_aggregate(b, s, &st, base));
    else
        TS_TRY(ts_sql_attach_pending(b, &st.plan, base, NULL, 0, outer));
    if (b->npending != base)
        return ts_sql_error_at(b->src, s->pos, TS_ERR_INTERNAL, "internal: a subquery was not attached");
    TS_TRY(build_windows(b, &st));
    if (st.qualify) {
        ts_sql_expr **conds = NULL;
        int n = 0;
        ts_sql_conjuncts(b, st.qualify, &conds, &n);
        TS_TRY(ts_sql_wrap_filter(b, &st.plan, conds, n));
    }
    int nhidden = 0;
    TS_TRY(build_projection(b, s, &st, &nhidden));
    if (s->distinct)
        TS_TRY(wrap_simple(b, &st.plan, TS_P_DISTINCT, s->pos));
    if (q) {
        TS_TRY(add_sort_limit(b, q, &st.plan, st.order_pos));
        TS_TRY(drop_hidden(b, &st.plan, nhidden));
    }
    *out = st.plan;
    return TS_OK;
}

/* A SELECT block with its own WINDOW clause: the enclosing block's named windows are out of its sight and back
 * in force after it. */
static ts_err bind_select(ts_sql_binder *b, const ts_sql_select *s, const ts_sql_query *q, ts_sql_plan **out)
{
    const ts_sql_named_window *windows = b->windows;
    int nwindows = b->nwindows;
    ts_err err = ts_sql_bind_window_clause(b, s);
    if (err == TS_OK)
        err = bind_block(b, s, q, out);
    b->windows = windows, b->nwindows = nwindows;
    return err;
}

/* ---- set operations and queries ------------------------------------------------------------------------------- */

static ts_err bind_body(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out);

static ts_err bind_setop(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out)
{
    ts_sql_plan *l, *r;
    const ts_sql_scope *outer = b->outer; /* both branches of a subquery see the enclosing query */
    TS_TRY(ts_sql_bind_query(b, q->left, &l));
    b->outer = outer;
    TS_TRY(ts_sql_bind_query(b, q->right, &r));
    if (l->ncols != r->ncols)
        return ts_sql_error_at(b->src, q->pos, TS_ERR_USAGE, "set operation inputs have %d and %d columns",
                               l->ncols, r->ncols);
    const int is_union = q->set_op == TS_SQL_SET_UNION || q->set_op == TS_SQL_SET_UNION_ALL;
    ts_sql_plan *p = ts_sql_plan_new(b, is_union ? TS_P_UNION : TS_P_SETOP, q->pos, l->ncols);
    if (!p)
        return NOMEM(b, q->pos);
    for (int i = 0; i < l->ncols; i++) {
        snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", l->cols[i].name);
        ts_sql_new_id(b, l->cols[i].name, p->cols[i].id);
    }
    p->in[0] = l, p->in[1] = r, p->set_op = q->set_op;
    p->est_rows = l->est_rows + r->est_rows;
    *out = p;
    if (q->set_op == TS_SQL_SET_UNION)
        TS_TRY(wrap_simple(b, out, TS_P_DISTINCT, q->pos));
    return TS_OK;
}

static ts_err bind_body(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out)
{
    if (q->set_op == TS_SQL_SET_NONE)
        return bind_select(b, q->select, q, out);
    TS_TRY(bind_setop(b, q, out));
    /* ORDER BY after a set operation: output positions or names only */
    int *pos = q->norder ? ts_sql_alloc(b->script, sizeof *pos * (size_t)q->norder) : NULL;
    for (int i = 0; i < q->norder; i++) {
        const ts_sql_expr *e = q->order[i].expr;
        pos[i] = -1;
        if (e->kind == TS_SQL_E_INT && e->ival >= 1 && e->ival <= (*out)->ncols)
            pos[i] = (int)e->ival - 1;
        for (int k = 0; k < (*out)->ncols && pos[i] < 0 && e->kind == TS_SQL_E_COLUMN; k++)
            if (!strcasecmp((*out)->cols[k].name, e->name))
                pos[i] = k;
        if (pos[i] < 0)
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "ORDER BY after UNION/EXCEPT/INTERSECT must name "
                                   "an output column or position");
    }
    return add_sort_limit(b, q, out, pos);
}

ts_err ts_sql_bind_query(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out)
{
    const int saved = b->nctes;
    if (b->nctes + q->nctes > b->cap_ctes) { /* any number of CTEs */
        const int cap = 2 * (b->nctes + q->nctes);
        ts_sql_cte_ref *grown = ts_sql_alloc(b->script, sizeof *grown * (size_t)cap);
        if (!grown)
            return NOMEM(b, q->pos);
        if (b->nctes)
            memcpy(grown, b->ctes, sizeof *grown * (size_t)b->nctes);
        b->ctes = grown, b->cap_ctes = cap;
    }
    for (int i = 0; i < q->nctes; i++)
        b->ctes[b->nctes++] = (ts_sql_cte_ref){&q->ctes[i], b->src};
    const ts_err err = bind_body(b, q, out);
    b->nctes = saved;
    return err;
}
