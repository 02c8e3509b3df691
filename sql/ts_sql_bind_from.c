/* Binding FROM items: tables, views and CTEs, table functions, subqueries, VALUES and joins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_sql_bind.h"
#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"
#include "ts_sql_tablefn.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

/* Sets the qualifier of every output column (a FROM item's alias) and, when given, renames them. */
static ts_err requalify(ts_sql_binder *b, ts_sql_plan *p, const char *qual, char *const *names, int nnames,
                        ts_sql_pos pos)
{
    if (nnames > p->ncols)
        return ts_sql_error_at(b->src, pos, TS_ERR_USAGE, "%d column names given for %d columns", nnames, p->ncols);
    for (int i = 0; i < p->ncols; i++) {
        if (qual)
            snprintf(p->cols[i].qual, sizeof p->cols[i].qual, "%s", qual);
        if (i < nnames)
            snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", names[i]);
    }
    return TS_OK;
}

/* The last component of a dotted name: tables are qualified by it (analytics.country_month -> country_month). */
static const char *short_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

static ts_err bind_catalog_table(ts_sql_binder *b, const ts_sql_from *f, ts_sql_entry *e, ts_sql_plan **out)
{
    if (!e->stats && e->global_rows > 0) /* first read, or changed since (INSERT): the planner's statistics */
        TS_TRY(ts_sql_catalog_analyze(b->ctx, e));
    const ts_table *t = e->table;
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_CATALOG, f->pos, t->ncols);
    if (!p || !(p->source_names = ts_sql_alloc(b->script, sizeof(char *) * (size_t)(t->ncols + 1))))
        return NOMEM(b, f->pos);
    snprintf(p->table, sizeof p->table, "%s", e->name);
    for (int i = 0; i < t->ncols; i++) {
        p->source_names[i] = ts_sql_strdup(b->script, t->cols[i]->name);
        snprintf(p->cols[i].name, sizeof p->cols[i].name, "%s", t->cols[i]->name);
        ts_sql_new_id(b, t->cols[i]->name, p->cols[i].id);
    }
    p->est_rows = (double)e->global_rows;
    *out = p;
    return TS_OK;
}

static ts_err bind_named(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    for (int i = b->nctes - 1; i >= 0; i--) {
        const ts_sql_cte *cte = b->ctes[i].cte;
        if (strcasecmp(cte->name, f->name))
            continue;
        const ts_sql_script *saved = b->src;
        const int saved_n = b->nctes;
        /* a CTE sees only the CTEs defined before it and no outer query; its own WITH pushes over entries i..,
         * put back after */
        ts_sql_cte_ref *hidden = ts_sql_alloc(b->script, sizeof *hidden * (size_t)(saved_n - i));
        if (!hidden)
            return ts_sql_error_at(b->src, f->pos, TS_ERR_NOMEM, "out of memory");
        memcpy(hidden, b->ctes + i, sizeof *hidden * (size_t)(saved_n - i));
        const ts_sql_scope *outer = b->outer;
        b->src = b->ctes[i].src, b->nctes = i, b->outer = NULL;
        const ts_err err = ts_sql_bind_query(b, cte->query, out);
        memcpy(b->ctes + i, hidden, sizeof *hidden * (size_t)(saved_n - i)); /* b->ctes may have grown: room */
        b->src = saved, b->nctes = saved_n, b->outer = outer;
        TS_TRY(err);
        return requalify(b, *out, cte->name, cte->columns, cte->ncolumns, f->pos);
    }
    ts_sql_entry *e = ts_sql_catalog_find(b->catalog, f->name);
    if (!e) {
        int n;
        const char **names = ts_sql_catalog_names(b->catalog, &n);
        const char *hint = names ? ts_sql_closest(f->name, names, n) : NULL;
        const ts_err err = ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "unknown table '%s'%s%s%s", f->name,
                                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        free(names);
        return err;
    }
    if (e->table) {
        TS_TRY(bind_catalog_table(b, f, e, out));
    } else {
        if (b->depth > 32)
            return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "view '%s' refers to itself", f->name);
        const ts_sql_script *saved = b->src;
        const int saved_n = b->nctes;
        const ts_sql_scope *outer = b->outer;
        b->src = e->view_script, b->nctes = 0, b->depth++, b->outer = NULL;
        const ts_err err = ts_sql_bind_query(b, e->view, out);
        b->src = saved, b->nctes = saved_n, b->depth--, b->outer = outer;
        TS_TRY(err);
    }
    return requalify(b, *out, short_name(f->name), NULL, 0, f->pos);
}

static ts_err bind_values(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out)
{
    ts_sql_plan *p = ts_sql_plan_new(b, TS_P_VALUES, f->pos, f->ncols);
    if (!p || !(p->values = ts_sql_alloc(b->script, sizeof *p->values * (size_t)(f->nrows * f->ncols))))
        return NOMEM(b, f->pos);
    const ts_sql_scope none = {0};
    for (int i = 0; i < f->nrows * f->ncols; i++)
        TS_TRY(ts_sql_bind_expr(b, &none, f->values[i], &p->values[i]));
    p->nrows = f->nrows;
    for (int c = 0; c < f->ncols; c++) {
        snprintf(p->cols[c].name, sizeof p->cols[c].name, "col%d", c);
        ts_sql_new_id(b, p->cols[c].name, p->cols[c].id);
    }
    p->est_rows = f->nrows;
    *out = p;
    return TS_OK;
}

/* ---- joins ---------------------------------------------------------------------------------------------------- */

/* Makes expression e (over p's columns) a column of p: its id when it is a column already, else a projection
 * that passes every column through and adds it. */
ts_err ts_sql_add_computed(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr *e, const char *name, char **id)
{
    if (e->kind == TS_SQL_E_COLUMN) {
        *id = e->name;
        return TS_OK;
    }
    ts_sql_plan *in = *p, *proj = ts_sql_plan_new(b, TS_P_PROJECT, e->pos, in->ncols + 1);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(in->ncols + 1))))
        return NOMEM(b, e->pos);
    for (int i = 0; i < in->ncols; i++) {
        proj->cols[i] = in->cols[i];
        if (!(proj->exprs[i] = ts_sql_ref(b, in->cols[i].id, e->pos)))
            return NOMEM(b, e->pos);
    }
    ts_sql_col *c = &proj->cols[in->ncols];
    snprintf(c->name, sizeof c->name, "%s", name);
    ts_sql_new_id(b, name, c->id);
    c->hidden = 1;
    proj->exprs[in->ncols] = e;
    proj->in[0] = in, proj->est_rows = in->est_rows;
    *p = proj;
    *id = c->id;
    return TS_OK;
}

static ts_err add_key(ts_sql_binder *b, ts_sql_plan *j, char *left, char *right)
{
    return ts_sql_join_add_key(b, j, left, right, 0);
}

static void count_ref(const char *id, void *arg)
{
    (void)id;
    ++*(int *)arg;
}

static int reads_columns(const ts_sql_expr *e)
{
    int n = 0;
    ts_sql_expr_refs(e, count_ref, &n);
    return n > 0;
}

/* An equality between an expression of the left input and one of the right becomes a key pair. */
ts_err ts_sql_try_join_key(ts_sql_binder *b, ts_sql_plan *j, ts_sql_expr *cond, int *used)
{
    *used = 0;
    if (cond->kind != TS_SQL_E_BINARY || (cond->op != TS_SQL_OP_EQ && cond->op != TS_SQL_OP_NOT_DISTINCT))
        return TS_OK;
    ts_sql_expr *x = cond->args[0], *y = cond->args[1];
    const ts_sql_plan *L = j->in[0], *R = j->in[1];
    if (ts_sql_expr_within(y, L->cols, L->ncols) && ts_sql_expr_within(x, R->cols, R->ncols)) {
        ts_sql_expr *t = x;
        x = y, y = t;
    }
    if (!ts_sql_expr_within(x, L->cols, L->ncols) || !ts_sql_expr_within(y, R->cols, R->ncols) ||
        !reads_columns(x) || !reads_columns(y)) /* a = 10 filters one side, it is no key */
        return TS_OK;
    char *lid, *rid;
    TS_TRY(ts_sql_add_computed(b, &j->in[0], x, "key", &lid));
    TS_TRY(ts_sql_add_computed(b, &j->in[1], y, "key", &rid));
    TS_TRY(ts_sql_join_add_key(b, j, lid, rid, cond->op == TS_SQL_OP_NOT_DISTINCT)); /* NULL = NULL there */
    *used = 1;
    return TS_OK;
}

static ts_err wrap_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr **conds, int n)
{
    if (!n)
        return TS_OK;
    ts_sql_plan *f = ts_sql_plan_new(b, TS_P_FILTER, (*p)->pos, (*p)->ncols);
    if (!f)
        return NOMEM(b, (*p)->pos);
    memcpy(f->cols, (*p)->cols, sizeof *f->cols * (size_t)(*p)->ncols);
    f->in[0] = *p, f->conds = conds, f->nconds = n, f->est_rows = (*p)->est_rows * 0.5;
    *p = f;
    return TS_OK;
}

ts_err ts_sql_wrap_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr **conds, int n)
{
    return wrap_filter(b, p, conds, n);
}

static ts_err bind_using(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan *j)
{
    const ts_sql_plan *L = j->in[0], *R = j->in[1];
    for (int k = 0; k < f->nusing; k++) {
        ts_sql_expr name = {.kind = TS_SQL_E_COLUMN, .pos = f->pos, .name = f->using[k]};
        const ts_sql_scope ls = {.cols = L->cols, .ncols = L->ncols}, rs = {.cols = R->cols, .ncols = R->ncols};
        ts_sql_expr *l, *r;
        TS_TRY(ts_sql_bind_expr(b, &ls, &name, &l));
        TS_TRY(ts_sql_bind_expr(b, &rs, &name, &r));
        TS_TRY(add_key(b, j, l->name, r->name));
        for (int c = L->ncols; c < j->ncols; c++) /* the right copy of a USING column is not in SELECT * */
            if (!strcmp(j->cols[c].id, r->name))
                j->cols[c].hidden = 1;
    }
    return TS_OK;
}

/* RIGHT / FULL JOIN ... USING (k): k is COALESCE(left.k, right.k), visible under k. */
static ts_err coalesce_using(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **p)
{
    ts_sql_plan *j = *p, *proj = ts_sql_plan_new(b, TS_P_PROJECT, f->pos, j->ncols);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)j->ncols)))
        return NOMEM(b, f->pos);
    for (int i = 0; i < j->ncols; i++) {
        proj->cols[i] = j->cols[i];
        if (!(proj->exprs[i] = ts_sql_ref(b, j->cols[i].id, f->pos)))
            return NOMEM(b, f->pos);
        for (int k = 0; k < j->njoin_keys; k++) {
            if (strcmp(j->cols[i].id, j->left_keys[k]))
                continue;
            ts_sql_expr *co = ts_sql_alloc(b->script, sizeof *co);
            ts_sql_expr **args = ts_sql_alloc(b->script, sizeof *args * 2);
            if (!co || !args)
                return NOMEM(b, f->pos);
            args[0] = proj->exprs[i], args[1] = ts_sql_ref(b, j->right_keys[k], f->pos);
            *co = (ts_sql_expr){.kind = TS_SQL_E_FUNC, .pos = f->pos, .name = "coalesce", .args = args, .nargs = 2};
            proj->exprs[i] = co;
            ts_sql_new_id(b, j->cols[i].name, proj->cols[i].id);
            proj->cols[i].qual[0] = 0;
        }
    }
    proj->in[0] = j, proj->est_rows = j->est_rows;
    *p = proj;
    return TS_OK;
}

/* A condition on the preserved side of an outer (or anti) join decides whether a row may match, not whether it is
 * kept: it becomes a key pair (cond on that side) = (TRUE on the other), so rows where it is false or NULL match
 * nothing and are kept with NULLs. */
static ts_err match_condition(ts_sql_binder *b, ts_sql_plan *j, ts_sql_expr *cond)
{
    ts_sql_expr *t = ts_sql_alloc(b->script, sizeof *t);
    if (!t)
        return NOMEM(b, cond->pos);
    *t = (ts_sql_expr){.kind = TS_SQL_E_BOOL, .pos = cond->pos, .ival = 1};
    const int left = ts_sql_expr_within(cond, j->in[0]->cols, j->in[0]->ncols);
    char *cid, *tid;
    TS_TRY(ts_sql_add_computed(b, &j->in[left ? 0 : 1], cond, "on", &cid));
    TS_TRY(ts_sql_add_computed(b, &j->in[left ? 1 : 0], t, "on", &tid));
    return left ? add_key(b, j, cid, tid) : add_key(b, j, tid, cid);
}

static ts_err bind_on(ts_sql_binder *b, const ts_sql_from *f, const ts_sql_scope *outer, ts_sql_plan **p)
{
    ts_sql_plan *j = *p;
    /* ON sees both inputs, also for semi and anti joins (whose output has the left columns only) */
    const int nl = j->in[0]->ncols, nr = j->in[1]->ncols;
    ts_sql_col *both = ts_sql_alloc(b->script, sizeof *both * (size_t)(nl + nr));
    if (!both)
        return NOMEM(b, f->pos);
    if (nl)
        memcpy(both, j->in[0]->cols, sizeof *both * (size_t)nl);
    if (nr)
        memcpy(both + nl, j->in[1]->cols, sizeof *both * (size_t)nr);
    const ts_sql_scope scope = {.cols = both, .ncols = nl + nr, .outer = outer};
    ts_sql_expr *on, **conds = NULL, **rest = NULL;
    int n = 0, nrest = 0;
    const int base = b->npending;
    TS_TRY(ts_sql_bind_expr(b, &scope, f->on, &on));
    if (b->npending > base && j->join_type != TS_JOIN_INNER)
        return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "subqueries in the ON condition of a %s JOIN are not "
                               "supported (only in inner joins)", ts_join_type_name(j->join_type));
    ts_sql_conjuncts(b, on, &conds, &n);
    if (n && !(rest = ts_sql_alloc(b->script, sizeof *rest * (size_t)n)))
        return NOMEM(b, f->pos);
    ts_sql_expr **lonly = ts_sql_alloc(b->script, sizeof *rest * (size_t)(n + 1));
    ts_sql_expr **ronly = ts_sql_alloc(b->script, sizeof *rest * (size_t)(n + 1));
    int nleft = 0, nright = 0;
    for (int i = 0; i < n; i++) {
        int used;
        TS_TRY(ts_sql_try_join_key(b, j, conds[i], &used));
        if (used)
            continue;
        /* outer joins: a condition on the side whose unmatched rows are dropped anyway filters that side */
        if ((j->join_type == TS_JOIN_LEFT || j->join_type == TS_JOIN_ANTI) &&
            ts_sql_expr_within(conds[i], j->in[1]->cols, j->in[1]->ncols))
            ronly[nright++] = conds[i];
        else if (j->join_type == TS_JOIN_RIGHT && ts_sql_expr_within(conds[i], j->in[0]->cols, j->in[0]->ncols))
            lonly[nleft++] = conds[i];
        else if (j->join_type == TS_JOIN_SEMI && ts_sql_expr_within(conds[i], j->in[1]->cols, j->in[1]->ncols))
            ronly[nright++] = conds[i];
        else if (j->join_type == TS_JOIN_SEMI && ts_sql_expr_within(conds[i], j->in[0]->cols, j->in[0]->ncols))
            lonly[nleft++] = conds[i];
        else if (((j->join_type == TS_JOIN_LEFT || j->join_type == TS_JOIN_ANTI) &&
                  ts_sql_expr_within(conds[i], j->in[0]->cols, j->in[0]->ncols)) ||
                 (j->join_type == TS_JOIN_RIGHT && ts_sql_expr_within(conds[i], j->in[1]->cols, j->in[1]->ncols)))
            TS_TRY(match_condition(b, j, conds[i]));
        else if (j->join_type != TS_JOIN_INNER)
            return ts_sql_error_at(b->src, conds[i]->pos, TS_ERR_USAGE, "this %s JOIN condition is not supported: "
                                   "outer joins take equalities between the two sides, and conditions on the "
                                   "side whose unmatched rows are dropped", ts_join_type_name(j->join_type));
        else
            rest[nrest++] = conds[i];
    }
    TS_TRY(wrap_filter(b, &j->in[0], lonly, nleft));
    TS_TRY(wrap_filter(b, &j->in[1], ronly, nright));
    if (!j->njoin_keys)
        j->cross = 1;
    TS_TRY(ts_sql_attach_pending(b, p, base, NULL, 0, outer)); /* the ON subqueries, evaluated per joined row */
    return wrap_filter(b, p, rest, nrest);
}

static ts_join_type join_type(ts_sql_join_kind k)
{
    switch (k) {
    case TS_SQL_JOIN_LEFT: return TS_JOIN_LEFT;
    case TS_SQL_JOIN_RIGHT: return TS_JOIN_RIGHT;
    case TS_SQL_JOIN_FULL: return TS_JOIN_FULL;
    case TS_SQL_JOIN_SEMI: return TS_JOIN_SEMI;
    case TS_SQL_JOIN_ANTI: return TS_JOIN_ANTI;
    default: return TS_JOIN_INNER;
    }
}

/* A join node over l and r; semi and anti joins output the left columns only. */
ts_err ts_sql_join_node(ts_sql_binder *b, ts_sql_pos pos, ts_join_type type, ts_sql_plan *l, ts_sql_plan *r,
                        ts_sql_plan **out)
{
    const int only_left = type == TS_JOIN_SEMI || type == TS_JOIN_ANTI;
    ts_sql_plan *j = ts_sql_plan_new(b, TS_P_JOIN, pos, l->ncols + (only_left ? 0 : r->ncols));
    if (!j)
        return NOMEM(b, pos);
    if (l->ncols)
        memcpy(j->cols, l->cols, sizeof *j->cols * (size_t)l->ncols);
    if (!only_left)
        memcpy(j->cols + l->ncols, r->cols, sizeof *j->cols * (size_t)r->ncols);
    j->in[0] = l, j->in[1] = r, j->join_type = type;
    j->est_rows = l->est_rows > r->est_rows ? l->est_rows : r->est_rows;
    *out = j;
    return TS_OK;
}

static ts_err bind_join(ts_sql_binder *b, const ts_sql_from *f, const ts_sql_scope *outer, ts_sql_plan **out)
{
    ts_sql_plan *l, *r, *j;
    TS_TRY(ts_sql_bind_from(b, f->left, outer, &l));
    TS_TRY(ts_sql_bind_from(b, f->right, outer, &r));
    TS_TRY(ts_sql_join_node(b, f->pos, join_type(f->join), l, r, &j));
    *out = j;
    if (f->join == TS_SQL_JOIN_CROSS) {
        j->cross = 1;
        return TS_OK;
    }
    if (f->nusing) {
        TS_TRY(bind_using(b, f, j));
        /* the visible key is the left copy: RIGHT and FULL joins take the right one where the left is NULL */
        return f->join == TS_SQL_JOIN_FULL || f->join == TS_SQL_JOIN_RIGHT ? coalesce_using(b, f, out) : TS_OK;
    }
    if (!f->on)
        return ts_sql_error_at(b->src, f->pos, TS_ERR_USAGE, "JOIN needs ON or USING (or write CROSS JOIN)");
    return bind_on(b, f, outer, out);
}

ts_err ts_sql_bind_from(ts_sql_binder *b, const ts_sql_from *f, const ts_sql_scope *outer, ts_sql_plan **out)
{
    switch (f->kind) {
    case TS_SQL_F_TABLE: TS_TRY(bind_named(b, f, out)); break;
    case TS_SQL_F_FUNC: TS_TRY(ts_sql_bind_source(b, f, out)); break;
    case TS_SQL_F_SUBQUERY: { /* a derived table sees the scopes enclosing its query, not its FROM siblings */
        const ts_sql_scope *saved = b->outer;
        b->outer = outer;
        const ts_err err = ts_sql_bind_query(b, f->query, out);
        b->outer = saved;
        TS_TRY(err);
        break;
    }
    case TS_SQL_F_VALUES: TS_TRY(bind_values(b, f, out)); break;
    case TS_SQL_F_JOIN: return bind_join(b, f, outer, out);
    }
    const char *qual = f->alias ? f->alias : f->kind == TS_SQL_F_FUNC ? f->name : NULL;
    if (f->kind == TS_SQL_F_SUBQUERY || f->kind == TS_SQL_F_VALUES || f->alias || f->ncol_aliases)
        TS_TRY(requalify(b, *out, f->kind == TS_SQL_F_SUBQUERY && !f->alias ? "" : qual, f->col_aliases,
                         f->ncol_aliases, f->pos));
    else if (f->kind == TS_SQL_F_FUNC)
        TS_TRY(requalify(b, *out, qual, NULL, 0, f->pos));
    return TS_OK;
}
