/* Plan rewriting helpers (see ts_sql_rewrite.h). */
#include "ts_sql_rewrite.h"

#include <stdio.h>
#include <string.h>

#include "ts_keyhash.h"
#include "ts_sql_parse.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

/* ---- what a node reads ------------------------------------------------------------------------------------------- */

static void each(const char *id, void (*fn)(const char *, void *), void *arg)
{
    if (id)
        fn(id, arg);
}

void ts_sql_node_refs(const ts_sql_plan *p, void (*fn)(const char *id, void *arg), void *arg)
{
    for (int i = 0; i < p->nconds; i++)
        ts_sql_expr_refs(p->conds[i], fn, arg);
    for (int i = 0; p->exprs && i < p->ncols; i++)
        ts_sql_expr_refs(p->exprs[i], fn, arg);
    for (int i = 0; i < p->nkeys; i++)
        each(p->keys[i], fn, arg);
    for (int i = 0; i < p->naggs; i++) {
        each(p->aggs[i].agg.input, fn, arg), each(p->aggs[i].agg.where, fn, arg);
        each(p->aggs[i].agg.order, fn, arg);
    }
    for (int i = 0; i < p->njoin_keys; i++)
        each(p->left_keys[i], fn, arg), each(p->right_keys[i], fn, arg);
    for (int i = 0; i < p->nsort; i++)
        each(p->sort[i].name, fn, arg);
    for (int i = 0; i < p->npartition; i++)
        each(p->partition[i], fn, arg);
    for (int i = 0; i < p->nwins; i++)
        each(p->wins[i].fn.input, fn, arg), each(p->wins[i].fn.default_col, fn, arg);
    if (p->kind == TS_P_DELIM_JOIN)
        for (int i = 0; i < p->ndelim; i++)
            each(p->delim_cols[i], fn, arg);
    if (p->kind == TS_P_DISTINCT)
        for (int i = 0; i < p->ncols; i++)
            fn(p->cols[i].id, arg);
}

/* A set of ids (linear: plans hold at most a few hundred). */
typedef struct id_list {
    ts_sql_binder *b;
    const char **ids;
    int n, cap, nomem;
} id_list;

static int list_has(const id_list *l, const char *id)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->ids[i], id))
            return 1;
    return 0;
}

static void list_add(const char *id, void *arg)
{
    id_list *l = arg;
    if (list_has(l, id))
        return;
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        const char **grown = l->b ? ts_sql_alloc(l->b->script, sizeof *grown * (size_t)cap) : NULL;
        if (!grown) {
            l->nomem = 1;
            return;
        }
        if (l->n)
            memcpy(grown, l->ids, sizeof *grown * (size_t)l->n);
        l->ids = grown, l->cap = cap;
    }
    l->ids[l->n++] = id;
}

/* Fixed-size sets for the checks that need no arena (correlated()). */
#define SMALL_SET 4096
typedef struct small_set {
    const char *ids[SMALL_SET];
    int n, overflow;
} small_set;

static void small_add(const char *id, void *arg)
{
    small_set *s = arg;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->ids[i], id))
            return;
    if (s->n == SMALL_SET)
        s->overflow = 1;
    else
        s->ids[s->n++] = id;
}

static void collect(const ts_sql_plan *p, void (*add)(const char *, void *), void *produced, void *read)
{
    for (int c = 0; c < p->ncols; c++)
        add(p->cols[c].id, produced);
    if (p->kind == TS_P_AGGREGATE && p->single_count)
        add(p->single_count, produced);
    ts_sql_node_refs(p, add, read);
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            collect(p->in[i], add, produced, read);
}

ts_err ts_sql_plan_free_refs(ts_sql_binder *b, const ts_sql_plan *p, char ***ids, int *n)
{
    id_list produced = {.b = b}, read = {.b = b};
    collect(p, list_add, &produced, &read);
    *n = 0;
    *ids = read.n ? ts_sql_alloc(b->script, sizeof **ids * (size_t)read.n) : NULL;
    if (produced.nomem || read.nomem || (read.n && !*ids))
        return NOMEM(b, p->pos);
    for (int i = 0; i < read.n; i++)
        if (!list_has(&produced, read.ids[i]))
            (*ids)[(*n)++] = (char *)read.ids[i];
    return TS_OK;
}

typedef struct reads_ctx {
    char *const *ids;
    int n, found;
} reads_ctx;

static void check_read(const char *id, void *arg)
{
    reads_ctx *r = arg;
    for (int i = 0; i < r->n && !r->found; i++)
        r->found = !strcmp(r->ids[i], id);
}

int ts_sql_plan_reads(const ts_sql_plan *p, char *const *ids, int n)
{
    reads_ctx r = {ids, n, 0};
    ts_sql_node_refs(p, check_read, &r);
    for (int i = 0; i < 2 && !r.found; i++)
        if (p->in[i])
            r.found = ts_sql_plan_reads(p->in[i], ids, n);
    return r.found;
}

int ts_sql_plan_correlated(const ts_sql_plan *p)
{
    static _Thread_local small_set produced, read; /* large: not on the stack */
    produced.n = read.n = produced.overflow = read.overflow = 0;
    collect(p, small_add, &produced, &read);
    for (int i = 0; i < read.n; i++) {
        int found = 0;
        for (int k = 0; k < produced.n && !found; k++)
            found = !strcmp(produced.ids[k], read.ids[i]);
        if (!found)
            return 1;
    }
    return produced.overflow || read.overflow; /* too large to tell: treat as correlated (the general path) */
}

/* ---- renaming --------------------------------------------------------------------------------------------------- */

static const char *renamed(const char *id, char *const *from, char *const *to, int n)
{
    for (int i = 0; id && i < n; i++)
        if (!strcmp(id, from[i]))
            return to[i];
    return id;
}

ts_sql_expr *ts_sql_expr_rename(ts_sql_binder *b, ts_sql_expr *e, char *const *from, char *const *to, int n)
{
    if (!e || !n)
        return e;
    if (e->kind == TS_SQL_E_COLUMN) {
        const char *r = renamed(e->name, from, to, n);
        return r == e->name ? e : ts_sql_ref(b, r, e->pos);
    }
    ts_sql_expr **args = e->nargs ? ts_sql_alloc(b->script, sizeof *args * (size_t)e->nargs) : NULL, *operand, *els,
                *filter;
    int changed = 0;
    if (e->nargs && !args)
        return NULL;
    for (int i = 0; i < e->nargs; i++) {
        if (!(args[i] = ts_sql_expr_rename(b, e->args[i], from, to, n)))
            return NULL;
        changed |= args[i] != e->args[i];
    }
    operand = ts_sql_expr_rename(b, e->operand, from, to, n);
    els = ts_sql_expr_rename(b, e->else_expr, from, to, n);
    filter = ts_sql_expr_rename(b, e->filter, from, to, n);
    if ((e->operand && !operand) || (e->else_expr && !els) || (e->filter && !filter))
        return NULL;
    changed |= operand != e->operand || els != e->else_expr || filter != e->filter;
    if (!changed)
        return e;
    ts_sql_expr *c = ts_sql_alloc(b->script, sizeof *c);
    if (!c || (e->nargs && !(c->args = ts_sql_alloc(b->script, sizeof *c->args * (size_t)e->nargs))))
        return NULL;
    ts_sql_expr **a = c->args;
    *c = *e;
    c->args = a;
    if (e->nargs)
        memcpy(c->args, args, sizeof *args * (size_t)e->nargs);
    c->operand = operand, c->else_expr = els, c->filter = filter;
    return c;
}

/* A copy of the id array with renamed entries (the same array when none changes). */
static char **rename_ids(ts_sql_binder *b, char **ids, int count, char *const *from, char *const *to, int n, int *nomem)
{
    int changed = 0;
    for (int i = 0; i < count && !changed; i++)
        changed = renamed(ids[i], from, to, n) != ids[i];
    if (!changed)
        return ids;
    char **c = ts_sql_alloc(b->script, sizeof *c * (size_t)count);
    if (!c) {
        *nomem = 1;
        return ids;
    }
    for (int i = 0; i < count; i++)
        c[i] = (char *)renamed(ids[i], from, to, n);
    return c;
}

static ts_err rename_exprs(ts_sql_binder *b, ts_sql_expr ***list, int count, char *const *from, char *const *to, int n)
{
    ts_sql_expr **c = NULL;
    for (int i = 0; i < count; i++) {
        ts_sql_expr *r = ts_sql_expr_rename(b, (*list)[i], from, to, n);
        if (!r)
            TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
        if (r == (*list)[i])
            continue;
        if (!c) {
            if (!(c = ts_sql_alloc(b->script, sizeof *c * (size_t)count)))
                TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
            if (count)
                memcpy(c, *list, sizeof *c * (size_t)count);
        }
        c[i] = r;
    }
    if (c)
        *list = c;
    return TS_OK;
}

ts_err ts_sql_node_rename(ts_sql_binder *b, ts_sql_plan *p, char *const *from, char *const *to, int n)
{
    int nomem = 0;
    if (!n)
        return TS_OK;
    if (p->nconds)
        TS_TRY(rename_exprs(b, &p->conds, p->nconds, from, to, n));
    if (p->exprs)
        TS_TRY(rename_exprs(b, &p->exprs, p->ncols, from, to, n));
    if (p->nkeys)
        p->keys = rename_ids(b, p->keys, p->nkeys, from, to, n, &nomem);
    if (p->njoin_keys) {
        p->left_keys = rename_ids(b, p->left_keys, p->njoin_keys, from, to, n, &nomem);
        p->right_keys = rename_ids(b, p->right_keys, p->njoin_keys, from, to, n, &nomem);
    }
    if (p->npartition)
        p->partition = rename_ids(b, p->partition, p->npartition, from, to, n, &nomem);
    if (p->ndelim)
        p->delim_cols = rename_ids(b, p->delim_cols, p->ndelim, from, to, n, &nomem);
    if (p->naggs) {
        ts_sql_agg_item *a = ts_sql_alloc(b->script, sizeof *a * (size_t)p->naggs);
        if (!a)
            TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
        if (p->naggs)
            memcpy(a, p->aggs, sizeof *a * (size_t)p->naggs);
        for (int i = 0; i < p->naggs; i++) {
            a[i].agg.input = renamed(a[i].agg.input, from, to, n);
            a[i].agg.where = renamed(a[i].agg.where, from, to, n);
            a[i].agg.order = renamed(a[i].agg.order, from, to, n);
        }
        p->aggs = a;
    }
    if (p->nsort) {
        ts_sort_key *s = ts_sql_alloc(b->script, sizeof *s * (size_t)p->nsort);
        if (!s)
            TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
        if (p->nsort)
            memcpy(s, p->sort, sizeof *s * (size_t)p->nsort);
        for (int i = 0; i < p->nsort; i++)
            s[i].name = renamed(s[i].name, from, to, n);
        p->sort = s;
    }
    if (p->nwins) {
        ts_sql_win_item *w = ts_sql_alloc(b->script, sizeof *w * (size_t)p->nwins);
        if (!w)
            TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
        if (p->nwins)
            memcpy(w, p->wins, sizeof *w * (size_t)p->nwins);
        for (int i = 0; i < p->nwins; i++) {
            w[i].fn.input = renamed(w[i].fn.input, from, to, n);
            w[i].fn.default_col = renamed(w[i].fn.default_col, from, to, n);
        }
        p->wins = w;
    }
    if (nomem)
        TS_FAIL(TS_ERR_NOMEM, "out of memory rewriting a plan");
    return TS_OK;
}

/* ---- constructors --------------------------------------------------------------------------------------------- */

ts_sql_expr *ts_sql_mk(ts_sql_binder *b, ts_sql_expr_kind kind, ts_sql_op op, ts_sql_pos pos, ts_sql_expr *x,
                       ts_sql_expr *y)
{
    ts_sql_expr *e = ts_sql_alloc(b->script, sizeof *e);
    ts_sql_expr **args = ts_sql_alloc(b->script, sizeof *args * 2);
    if (!e || !args || !x)
        return NULL;
    args[0] = x, args[1] = y;
    *e = (ts_sql_expr){.kind = kind, .op = op, .pos = pos, .args = args, .nargs = y ? 2 : 1};
    return e;
}

ts_sql_expr *ts_sql_lit(ts_sql_binder *b, ts_sql_expr_kind kind, int64_t v, ts_sql_pos pos)
{
    ts_sql_expr *e = ts_sql_alloc(b->script, sizeof *e);
    if (e)
        *e = (ts_sql_expr){.kind = kind, .pos = pos, .ival = v};
    return e;
}

ts_sql_expr *ts_sql_call(ts_sql_binder *b, const char *name, ts_sql_pos pos, ts_sql_expr *x, ts_sql_expr *y)
{
    ts_sql_expr *e = ts_sql_mk(b, TS_SQL_E_FUNC, TS_SQL_OP_NONE, pos, x, y);
    if (e && !(e->name = ts_sql_strdup(b->script, name)))
        return NULL;
    return e;
}

ts_sql_expr *ts_sql_and(ts_sql_binder *b, ts_sql_expr *x, ts_sql_expr *y)
{
    if (!x || !y)
        return x ? x : y;
    return ts_sql_mk(b, TS_SQL_E_BINARY, TS_SQL_OP_AND, x->pos, x, y);
}

ts_err ts_sql_project_all(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr *const *extra, const char *const *names,
                          int nextra, char **ids)
{
    ts_sql_plan *in = *p, *proj = ts_sql_plan_new(b, TS_P_PROJECT, in->pos, in->ncols + nextra);
    if (!proj || !(proj->exprs = ts_sql_alloc(b->script, sizeof *proj->exprs * (size_t)(in->ncols + nextra + 1))))
        return NOMEM(b, in->pos);
    for (int i = 0; i < in->ncols; i++) {
        proj->cols[i] = in->cols[i];
        if (!(proj->exprs[i] = ts_sql_ref(b, in->cols[i].id, in->pos)))
            return NOMEM(b, in->pos);
    }
    for (int k = 0; k < nextra; k++) {
        ts_sql_col *c = &proj->cols[in->ncols + k];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", names[k]);
        ts_sql_new_id(b, names[k], c->id);
        c->hidden = 1;
        proj->exprs[in->ncols + k] = extra[k];
        if (ids)
            ids[k] = c->id;
    }
    proj->in[0] = in, proj->est_rows = in->est_rows;
    *p = proj;
    return TS_OK;
}

ts_err ts_sql_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr **conds, int n)
{
    return ts_sql_wrap_filter(b, p, conds, n);
}

ts_err ts_sql_wrap(ts_sql_binder *b, ts_sql_plan **p, ts_sql_plan_kind kind)
{
    ts_sql_plan *n = ts_sql_plan_new(b, kind, (*p)->pos, (*p)->ncols);
    if (!n)
        return NOMEM(b, (*p)->pos);
    memcpy(n->cols, (*p)->cols, sizeof *n->cols * (size_t)(*p)->ncols);
    n->in[0] = *p, n->est_rows = (*p)->est_rows;
    *p = n;
    return TS_OK;
}

ts_err ts_sql_join_add_key(ts_sql_binder *b, ts_sql_plan *j, const char *left, const char *right, int null_equal)
{
    char **l = ts_sql_alloc(b->script, sizeof *l * (size_t)(j->njoin_keys + 1));
    char **r = ts_sql_alloc(b->script, sizeof *r * (size_t)(j->njoin_keys + 1));
    if (!l || !r)
        return NOMEM(b, j->pos);
    if (j->njoin_keys) {
        memcpy(l, j->left_keys, sizeof *l * (size_t)j->njoin_keys);
        if (j->njoin_keys)
            memcpy(r, j->right_keys, sizeof *r * (size_t)j->njoin_keys);
    }
    if (null_equal && j->njoin_keys >= TS_KEY_NULL_EQUAL_MAX) /* the mask's width */
        return ts_sql_error_at(b->src, j->pos, TS_ERR_USAGE, "a join has more than %d NULL-matching key pairs",
                               TS_KEY_NULL_EQUAL_MAX);
    if (null_equal)
        j->null_equal |= 1u << j->njoin_keys;
    l[j->njoin_keys] = (char *)left, r[j->njoin_keys] = (char *)right;
    j->left_keys = l, j->right_keys = r, j->njoin_keys++, j->cross = 0;
    return TS_OK;
}

ts_err ts_sql_aggregate(ts_sql_binder *b, ts_sql_plan **p, char *const *keys, int nkeys, const ts_agg *aggs,
                        const char *const *names, int naggs)
{
    ts_sql_plan *in = *p, *agg = ts_sql_plan_new(b, TS_P_AGGREGATE, in->pos, nkeys + naggs);
    if (!agg || (nkeys && !(agg->keys = ts_sql_alloc(b->script, sizeof *agg->keys * (size_t)nkeys))) ||
        (naggs && !(agg->aggs = ts_sql_alloc(b->script, sizeof *agg->aggs * (size_t)naggs))))
        return NOMEM(b, in->pos);
    for (int k = 0; k < nkeys; k++) {
        agg->keys[k] = keys[k];
        for (int c = 0; c < in->ncols; c++)
            if (!strcmp(in->cols[c].id, keys[k]))
                agg->cols[k] = in->cols[c];
        snprintf(agg->cols[k].id, TS_SQL_ID_MAX, "%s", keys[k]);
    }
    for (int a = 0; a < naggs; a++) {
        ts_sql_col *c = &agg->cols[nkeys + a];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", names[a]);
        snprintf(c->id, TS_SQL_ID_MAX, "%s", aggs[a].output);
        agg->aggs[a].agg = aggs[a];
    }
    agg->nkeys = nkeys, agg->naggs = naggs, agg->in[0] = in;
    *p = agg;
    return TS_OK;
}
