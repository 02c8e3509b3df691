/* Binding subqueries in expressions and WHERE clauses (see ts_sql_bind.h).
 *
 * A subquery is bound with the enclosing query's scope as its outer scope, so a name it does not define resolves
 * to the enclosing query's column id: such a "correlated" reference is a column its plan reads but never produces
 * (ts_sql_plan_correlated). Uncorrelated scalar subqueries stay separate plans that run first and become
 * constants; correlated ones, and the forms that need a value per outer row, become dependent joins
 * (TS_P_DEPJOIN) whose left input is the plan they are evaluated over. Decorrelation (ts_sql_decorrelate.c)
 * removes them before optimization.
 *
 *   (q)               SINGLE: the value column of q, NULL when no row, an error when several
 *   EXISTS (q)        MARK: TRUE / FALSE (in WHERE: a SEMI / ANTI join)
 *   x IN (q)          MARK of (q WHERE c = x), with SINGLE counts (rows, non-NULL values of q) for SQL's
 *                     three-valued result: TRUE if marked; FALSE if q is empty; NULL if x or a value of q is NULL
 *   x op ANY (q)      SINGLE min, max and counts of q: x < ANY is x < max, x > ANY is x > min, x <> ANY is
 *                     x <> min OR x <> max (with the same NULL rules); = ANY is IN
 *   x op ALL (q)      NOT (x negated-op ANY (q)); <> ALL is NOT IN */
#include <stdio.h>
#include <string.h>

#include "ts_sql_bind.h"
#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")


int ts_sql_has_subquery(const ts_sql_expr *e)
{
    if (!e)
        return 0;
    if (e->kind == TS_SQL_E_SUBQUERY || e->kind == TS_SQL_E_EXISTS || e->kind == TS_SQL_E_IN_QUERY ||
        e->kind == TS_SQL_E_QUANTIFIED)
        return 1;
    for (int i = 0; i < e->nargs; i++)
        if (ts_sql_has_subquery(e->args[i]))
            return 1;
    return ts_sql_has_subquery(e->operand) || ts_sql_has_subquery(e->else_expr) || ts_sql_has_subquery(e->filter);
}

/* Binds query q as a subquery of scope. */
static ts_err bind_nested(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_query *q, ts_sql_plan **out)
{
    const ts_sql_scope *saved = b->outer;
    b->outer = scope;
    const ts_err err = ts_sql_bind_query(b, q, out);
    b->outer = saved;
    return err;
}

static ts_err one_column(ts_sql_binder *b, const ts_sql_plan *p, ts_sql_pos pos, const char *what)
{
    if (p->ncols == 1)
        return TS_OK;
    return ts_sql_error_at(b->src, pos, TS_ERR_USAGE, "%s must return one column, not %d", what, p->ncols);
}

/* ---- dependent joins ---------------------------------------------------------------------------------------- */

/* A dependent join of subquery q, without its left input yet. Its own columns (cols) are what it adds to the
 * left input's: MARK a BOOL column, SINGLE q's columns. */
static ts_err new_dep(ts_sql_binder *b, ts_sql_dep_kind kind, ts_sql_plan *q, ts_sql_pos pos, ts_sql_plan **out)
{
    const int nextra = kind == TS_DEP_MARK ? 1 : kind == TS_DEP_SINGLE ? q->ncols : 0;
    ts_sql_plan *d = ts_sql_plan_new(b, TS_P_DEPJOIN, pos, nextra);
    if (!d)
        return NOMEM(b, pos);
    d->dep_kind = kind, d->in[1] = q;
    if (kind == TS_DEP_MARK) {
        snprintf(d->cols[0].name, sizeof d->cols[0].name, "exists");
        ts_sql_new_id(b, "exists", d->cols[0].id);
        d->cols[0].hidden = 1;
    } else if (kind == TS_DEP_SINGLE) {
        if (nextra)
            memcpy(d->cols, q->cols, sizeof *d->cols * (size_t)nextra);
        for (int c = 0; c < nextra; c++)
            d->cols[c].hidden = 1, d->cols[c].qual[0] = 0;
    }
    *out = d;
    return TS_OK;
}

static ts_err push_pending(ts_sql_binder *b, ts_sql_plan *d)
{
    if (b->npending == b->cap_pending) {
        const int cap = b->cap_pending ? 2 * b->cap_pending : 8;
        ts_sql_plan **grown = ts_sql_alloc(b->script, sizeof *grown * (size_t)cap);
        if (!grown)
            return NOMEM(b, d->pos);
        if (b->npending)
            memcpy(grown, b->pending, sizeof *grown * (size_t)b->npending);
        b->pending = grown, b->cap_pending = cap;
    }
    b->pending[b->npending++] = d;
    return TS_OK;
}

/* Makes d's left input *plan; d becomes *plan. */
static ts_err attach(ts_sql_binder *b, ts_sql_plan **plan, ts_sql_plan *d)
{
    ts_sql_plan *l = *plan;
    const int nextra = d->ncols;
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(l->ncols + nextra + 1));
    if (!cols)
        return NOMEM(b, d->pos);
    if (l->ncols)
        memcpy(cols, l->cols, sizeof *cols * (size_t)l->ncols);
    if (nextra)
        memcpy(cols + l->ncols, d->cols, sizeof *cols * (size_t)nextra);
    d->cols = cols, d->ncols = l->ncols + nextra, d->in[0] = l;
    d->est_rows = l->est_rows;
    *plan = d;
    return TS_OK;
}

typedef struct reads_ctx {
    const ts_sql_plan *d;
    int found;
} reads_ctx;

static void reads_extra(const char *id, void *arg)
{
    reads_ctx *r = arg;
    for (int c = 0; c < r->d->ncols && !r->found; c++)
        r->found = !strcmp(r->d->cols[c].id, id);
}

static int in_scope(const ts_sql_scope *s, const char *id)
{
    for (; s; s = s->outer)
        for (int i = 0; i < s->ncols; i++)
            if (!strcmp(s->cols[i].id, id))
                return 1;
    return 0;
}

/* The subquery's correlated columns must be at hand where it is attached (after an aggregation: grouped ones). */
static ts_err check_attachable(ts_sql_binder *b, const ts_sql_plan *plan, const ts_sql_plan *d,
                               const ts_sql_scope *outer)
{
    char **ids;
    int n;
    TS_TRY(ts_sql_plan_free_refs(b, d->in[1], &ids, &n));
    for (int i = 0; i < n; i++) {
        int found = in_scope(outer, ids[i]);
        for (int c = 0; c < plan->ncols && !found; c++)
            found = !strcmp(plan->cols[c].id, ids[i]);
        if (found)
            continue;
        char name[TS_SQL_ID_MAX];
        snprintf(name, sizeof name, "%s", ids[i]);
        char *hash = strrchr(name, '#');
        if (hash)
            *hash = 0;
        return ts_sql_error_at(b->src, d->pos, TS_ERR_USAGE, "the subquery reads column '%s' of the outer query, "
                               "which is not available here (after GROUP BY, use grouped columns)", name);
    }
    return TS_OK;
}

ts_err ts_sql_attach_pending(ts_sql_binder *b, ts_sql_plan **plan, int from, ts_sql_expr *const *needed,
                             int nneeded, const ts_sql_scope *outer)
{
    int kept = from;
    for (int i = from; i < b->npending; i++) {
        ts_sql_plan *d = b->pending[i];
        reads_ctx r = {d, needed == NULL};
        for (int k = 0; k < nneeded && !r.found; k++)
            ts_sql_expr_refs(needed[k], reads_extra, &r);
        if (!r.found) {
            b->pending[kept++] = d;
            continue;
        }
        TS_TRY(check_attachable(b, *plan, d, outer));
        TS_TRY(attach(b, plan, d));
    }
    b->npending = kept;
    return TS_OK;
}

/* ---- values of subqueries --------------------------------------------------------------------------------------- */

/* (count(*) of p) as an uncorrelated scalar subquery: run before the statement. */
static ts_err count_constant(ts_sql_binder *b, ts_sql_plan *p, ts_sql_pos pos, ts_sql_expr **out)
{
    char id[TS_SQL_ID_MAX];
    ts_sql_new_id(b, "count", id);
    const ts_agg agg = {.kind = TS_AGG_COUNT, .output = ts_sql_strdup(b->script, id)};
    const char *name = "count";
    TS_TRY(ts_sql_aggregate(b, &p, NULL, 0, &agg, &name, 1));
    p->est_rows = 1;
    if (!(*out = ts_sql_lit(b, TS_SQL_E_SUBQUERY, 0, pos)))
        return NOMEM(b, pos);
    (*out)->subplan = p;
    return TS_OK;
}

static ts_sql_expr *ref(ts_sql_binder *b, const char *id, ts_sql_pos pos) { return ts_sql_ref(b, id, pos); }

/* The columns of a SINGLE dependent join over aggregates of q's only column c (count(*) first, then count(c),
 * then more when asked: min(c), max(c)). */
static ts_err stats_of(ts_sql_binder *b, ts_sql_plan *q, int with_range, ts_sql_pos pos, ts_sql_expr **total,
                       ts_sql_expr **nonnull, ts_sql_expr **mn, ts_sql_expr **mx)
{
    const char *c = q->cols[0].id;
    static const char *const names[] = {"total", "nonnull", "min", "max"};
    ts_agg aggs[4] = {{.kind = TS_AGG_COUNT}, {.kind = TS_AGG_COUNT, .input = c}, {.kind = TS_AGG_MIN, .input = c},
                      {.kind = TS_AGG_MAX, .input = c}};
    const int n = with_range ? 4 : 2;
    for (int a = 0; a < n; a++) {
        char id[TS_SQL_ID_MAX];
        ts_sql_new_id(b, names[a], id);
        if (!(aggs[a].output = ts_sql_strdup(b->script, id)))
            return NOMEM(b, pos);
    }
    TS_TRY(ts_sql_aggregate(b, &q, NULL, 0, aggs, (const char *const *)names, n));
    q->est_rows = 1;
    ts_sql_plan *d = NULL;
    TS_TRY(new_dep(b, TS_DEP_SINGLE, q, pos, &d));
    TS_TRY(push_pending(b, d));
    *total = ref(b, aggs[0].output, pos), *nonnull = ref(b, aggs[1].output, pos);
    if (with_range)
        *mn = ref(b, aggs[2].output, pos), *mx = ref(b, aggs[3].output, pos);
    return *total && *nonnull && (!with_range || (*mn && *mx)) ? TS_OK : NOMEM(b, pos);
}

/* CASE WHEN a THEN ra WHEN b THEN rb ... ELSE e END from (cond, result) pairs. */
static ts_sql_expr *case_of(ts_sql_binder *b, ts_sql_pos pos, ts_sql_expr **pairs, int n, ts_sql_expr *els)
{
    ts_sql_expr *v = ts_sql_lit(b, TS_SQL_E_CASE, 0, pos);
    ts_sql_expr **args = ts_sql_alloc(b->script, sizeof *args * (size_t)n);
    if (!v || !args || !els)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(args[i] = pairs[i]))
            return NULL;
    v->args = args, v->nargs = n, v->else_expr = els;
    return v;
}

#define BIN(op, l, r) ts_sql_mk(b, TS_SQL_E_BINARY, TS_SQL_OP_##op, pos, (l), (r))
#define LIT(kind, v) ts_sql_lit(b, TS_SQL_E_##kind, (v), pos)

/* "x IS NULL OR nonnull < total": a NULL took part in the comparisons */
static ts_sql_expr *null_involved(ts_sql_binder *b, ts_sql_pos pos, ts_sql_expr *x, ts_sql_expr *total,
                                  ts_sql_expr *nonnull)
{
    return BIN(OR, ts_sql_mk(b, TS_SQL_E_IS_NULL, TS_SQL_OP_NONE, pos, x, NULL), BIN(LT, nonnull, total));
}

/* x IN (q) as a value. */
static ts_err in_value(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out)
{
    const ts_sql_pos pos = e->pos;
    ts_sql_expr *x = NULL, *total = NULL, *nonnull = NULL;
    ts_sql_plan *q1 = NULL, *q2 = NULL, *mark = NULL;
    TS_TRY(ts_sql_bind_expr(b, scope, e->args[0], &x));
    TS_TRY(bind_nested(b, scope, e->query, &q1));
    TS_TRY(one_column(b, q1, pos, "the IN subquery"));
    ts_sql_expr **eq = ts_sql_alloc(b->script, sizeof *eq);
    if (!eq || !(eq[0] = BIN(EQ, ref(b, q1->cols[0].id, pos), x)))
        return NOMEM(b, pos);
    TS_TRY(ts_sql_wrap_filter(b, &q1, eq, 1));
    TS_TRY(new_dep(b, TS_DEP_MARK, q1, pos, &mark));
    TS_TRY(push_pending(b, mark));
    TS_TRY(bind_nested(b, scope, e->query, &q2));
    TS_TRY(stats_of(b, q2, 0, pos, &total, &nonnull, NULL, NULL));
    ts_sql_expr *pairs[6] = {ref(b, mark->cols[0].id, pos), LIT(BOOL, 1), BIN(EQ, total, LIT(INT, 0)), LIT(BOOL, 0),
                             null_involved(b, pos, x, total, nonnull), LIT(NULL, 0)};
    *out = case_of(b, pos, pairs, 6, LIT(BOOL, 0));
    return *out ? TS_OK : NOMEM(b, pos);
}

static ts_sql_op negated_op(ts_sql_op op)
{
    switch (op) {
    case TS_SQL_OP_LT: return TS_SQL_OP_GE;
    case TS_SQL_OP_LE: return TS_SQL_OP_GT;
    case TS_SQL_OP_GT: return TS_SQL_OP_LE;
    case TS_SQL_OP_GE: return TS_SQL_OP_LT;
    case TS_SQL_OP_EQ: return TS_SQL_OP_NE;
    default: return TS_SQL_OP_EQ;
    }
}

static ts_sql_expr *negate(ts_sql_binder *b, ts_sql_expr *e)
{
    return e ? ts_sql_mk(b, TS_SQL_E_UNARY, TS_SQL_OP_NOT, e->pos, e, NULL) : NULL;
}

/* x op ANY (q) / x op ALL (q). */
static ts_err quantified(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out)
{
    const ts_sql_pos pos = e->pos;
    ts_sql_op op = e->op;
    if (op == (e->negated ? TS_SQL_OP_NE : TS_SQL_OP_EQ)) { /* = ANY is IN, <> ALL is NOT IN */
        TS_TRY(in_value(b, scope, e, out));
        *out = e->negated ? negate(b, *out) : *out;
        return *out ? TS_OK : NOMEM(b, pos);
    }
    if (e->negated)
        op = negated_op(op);
    ts_sql_expr *x = NULL, *total = NULL, *nonnull = NULL, *mn = NULL, *mx = NULL, *cmp;
    ts_sql_plan *q = NULL;
    TS_TRY(ts_sql_bind_expr(b, scope, e->args[0], &x));
    TS_TRY(bind_nested(b, scope, e->query, &q));
    TS_TRY(one_column(b, q, pos, "the ANY / ALL subquery"));
    TS_TRY(stats_of(b, q, 1, pos, &total, &nonnull, &mn, &mx));
    if (op == TS_SQL_OP_NE)
        cmp = BIN(OR, BIN(NE, x, mn), BIN(NE, x, mx));
    else
        cmp = ts_sql_mk(b, TS_SQL_E_BINARY, op, pos, x, op == TS_SQL_OP_LT || op == TS_SQL_OP_LE ? mx : mn);
    ts_sql_expr *pairs[6] = {BIN(EQ, total, LIT(INT, 0)), LIT(BOOL, 0), cmp, LIT(BOOL, 1),
                             null_involved(b, pos, x, total, nonnull), LIT(NULL, 0)};
    *out = case_of(b, pos, pairs, 6, LIT(BOOL, 0));
    if (e->negated)
        *out = negate(b, *out);
    return *out ? TS_OK : NOMEM(b, pos);
}

ts_err ts_sql_bind_subquery(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out)
{
    const ts_sql_pos pos = e->pos;
    ts_sql_plan *q = NULL, *d = NULL;
    switch (e->kind) {
    case TS_SQL_E_SUBQUERY:
        TS_TRY(bind_nested(b, scope, e->query, &q));
        TS_TRY(one_column(b, q, pos, "a scalar subquery"));
        if (!ts_sql_plan_correlated(q)) { /* planned alone, run first, then a constant */
            if (!(*out = ts_sql_lit(b, TS_SQL_E_SUBQUERY, 0, pos)))
                return NOMEM(b, pos);
            (*out)->query = e->query, (*out)->subplan = q;
            return TS_OK;
        }
        TS_TRY(new_dep(b, TS_DEP_SINGLE, q, pos, &d));
        TS_TRY(push_pending(b, d));
        *out = ref(b, q->cols[0].id, pos);
        return *out ? TS_OK : NOMEM(b, pos);
    case TS_SQL_E_EXISTS:
        TS_TRY(bind_nested(b, scope, e->query, &q));
        if (!ts_sql_plan_correlated(q)) {
            ts_sql_expr *count;
            TS_TRY(count_constant(b, q, pos, &count));
            *out = BIN(GT, count, LIT(INT, 0));
        } else {
            TS_TRY(new_dep(b, TS_DEP_MARK, q, pos, &d));
            TS_TRY(push_pending(b, d));
            *out = ref(b, d->cols[0].id, pos);
        }
        if (*out && e->negated)
            *out = negate(b, *out);
        return *out ? TS_OK : NOMEM(b, pos);
    case TS_SQL_E_IN_QUERY:
        TS_TRY(in_value(b, scope, e, out));
        if (e->negated)
            *out = negate(b, *out);
        return *out ? TS_OK : NOMEM(b, pos);
    default: return quantified(b, scope, e, out);
    }
}

/* ---- WHERE: semi and anti joins ------------------------------------------------------------------------------- */

ts_err ts_sql_bind_where_subquery(ts_sql_binder *b, ts_sql_plan **plan, const ts_sql_scope *scope,
                                  const ts_sql_expr *e, int negated, ts_sql_expr **cond)
{
    const ts_sql_pos pos = e->pos;
    ts_sql_plan *q = NULL, *d = NULL;
    *cond = NULL;
    TS_TRY(bind_nested(b, scope, e->query, &q));
    if (e->kind == TS_SQL_E_EXISTS) {
        if (!ts_sql_plan_correlated(q)) {
            ts_sql_expr *count;
            TS_TRY(count_constant(b, q, pos, &count));
            *cond = negated ? BIN(EQ, count, LIT(INT, 0)) : BIN(GT, count, LIT(INT, 0));
            return *cond ? TS_OK : NOMEM(b, pos);
        }
        TS_TRY(new_dep(b, negated ? TS_DEP_ANTI : TS_DEP_SEMI, q, pos, &d));
        return attach(b, plan, d);
    }
    TS_TRY(one_column(b, q, pos, "the IN subquery"));
    const int correlated = ts_sql_plan_correlated(q);
    if (correlated && negated) { /* NOT IN per outer row: its three-valued value must be TRUE */
        TS_TRY(in_value(b, scope, e, cond));
        return (*cond = negate(b, *cond)) ? TS_OK : NOMEM(b, pos);
    }
    ts_sql_expr *x;
    TS_TRY(ts_sql_bind_expr(b, scope, e->args[0], &x));
    if (correlated) { /* x IN (q): EXISTS (q WHERE c = x) */
        ts_sql_expr **eq = ts_sql_alloc(b->script, sizeof *eq);
        if (!eq || !(eq[0] = BIN(EQ, ref(b, q->cols[0].id, pos), x)))
            return NOMEM(b, pos);
        TS_TRY(ts_sql_wrap_filter(b, &q, eq, 1));
        TS_TRY(new_dep(b, TS_DEP_SEMI, q, pos, &d));
        return attach(b, plan, d);
    }
    char *xid;
    ts_sql_plan *j;
    TS_TRY(ts_sql_add_computed(b, plan, x, "in_key", &xid));
    TS_TRY(ts_sql_join_node(b, pos, negated ? TS_JOIN_ANTI : TS_JOIN_SEMI, *plan, q, &j));
    TS_TRY(ts_sql_join_add_key(b, j, xid, q->cols[0].id, 0));
    j->not_in = negated;
    *plan = j;
    return TS_OK;
}
