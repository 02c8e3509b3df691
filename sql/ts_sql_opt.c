/* The optimizer's driver and its local rewrites: filter push-down (with OR factoring), column pruning, the
 * build side of joins and the distribution decisions EXPLAIN shows (see ts_sql_opt.h). */
#include "ts_sql_opt.h"

#include <stdio.h>
#include <string.h>

#include "ts_sql_decorrelate.h"
#include "ts_sql_joinorder.h"
#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"
#include "ts_sql_stats.h"
#include "ts_sql_tablefn.h"


#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")

/* ---- filter push-down ---------------------------------------------------------------------------------------------- */

/* Adds cond to the filter directly above *p (creating it). */
static ts_err add_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr *cond)
{
    ts_sql_plan *f = *p;
    if (f->kind != TS_P_FILTER) {
        if (!(f = ts_sql_alloc(b->script, sizeof *f)))
            return NOMEM(b, cond->pos);
        *f = (ts_sql_plan){.kind = TS_P_FILTER, .pos = (*p)->pos, .in = {*p, NULL}, .cols = (*p)->cols,
                           .ncols = (*p)->ncols, .limit = -1, .est_rows = (*p)->est_rows * 0.5};
        *p = f;
    }
    ts_sql_expr **grown = ts_sql_alloc(b->script, sizeof *grown * (size_t)(f->nconds + 1));
    if (!grown)
        return NOMEM(b, cond->pos);
    if (f->nconds)
        memcpy(grown, f->conds, sizeof *grown * (size_t)f->nconds);
    grown[f->nconds++] = cond;
    f->conds = grown;
    return TS_OK;
}

static int within(const ts_sql_expr *e, const ts_sql_plan *p) { return ts_sql_expr_within(e, p->cols, p->ncols); }

/* Moves cond below node when that keeps the result the same; *pushed tells whether it did. */
static ts_err push_into(ts_sql_binder *b, ts_sql_plan *node, ts_sql_expr *cond, int *pushed)
{
    *pushed = 0;
    switch (node->kind) {
    case TS_P_DELIM_JOIN: /* only into the left side (D is computed from whatever reaches the join) */
        if (within(cond, node->in[0])) {
            *pushed = 1;
            return add_filter(b, &node->in[0], cond);
        }
        return TS_OK;
    case TS_P_JOIN: {
        const ts_join_type t = node->join_type;
        const int inner = t == TS_JOIN_INNER;
        if (within(cond, node->in[0]) && t != TS_JOIN_RIGHT && t != TS_JOIN_FULL) {
            *pushed = 1;
            return add_filter(b, &node->in[0], cond);
        }
        if (within(cond, node->in[1]) && (inner || t == TS_JOIN_RIGHT)) {
            *pushed = 1;
            return add_filter(b, &node->in[1], cond);
        }
        if (inner)
            return ts_sql_try_join_key(b, node, cond, pushed);
        return TS_OK;
    }
    case TS_P_PROJECT:
        /* only through columns the projection passes on unchanged (same id below) */
        if (within(cond, node->in[0])) {
            *pushed = 1;
            return add_filter(b, &node->in[0], cond);
        }
        return TS_OK;
    case TS_P_SORT: case TS_P_DISTINCT:
        *pushed = 1;
        return add_filter(b, &node->in[0], cond);
    case TS_P_AGGREGATE: { /* a condition on group keys alone selects whole groups */
        const ts_sql_col *keys = node->cols;
        if (node->nkeys && ts_sql_expr_within(cond, keys, node->nkeys)) {
            *pushed = 1;
            return add_filter(b, &node->in[0], cond);
        }
        return TS_OK;
    }
    case TS_P_WINDOW: { /* on partition keys alone: whole partitions */
        ts_sql_col pk[8];
        for (int k = 0; k < node->npartition && k < 8; k++)
            snprintf(pk[k].id, TS_SQL_ID_MAX, "%s", node->partition[k]);
        if (node->npartition && node->npartition <= 8 && ts_sql_expr_within(cond, pk, node->npartition)) {
            *pushed = 1;
            return add_filter(b, &node->in[0], cond);
        }
        return TS_OK;
    }
    case TS_P_UNION: case TS_P_SETOP: { /* into both inputs, columns renamed by position */
        char **from = ts_sql_alloc(b->script, sizeof *from * (size_t)(node->ncols + 1));
        char **to = ts_sql_alloc(b->script, sizeof *to * (size_t)(node->ncols + 1));
        if (!from || !to)
            return NOMEM(b, cond->pos);
        for (int side = 0; side < 2; side++) {
            const int n = node->ncols < node->in[side]->ncols ? node->ncols : node->in[side]->ncols;
            for (int c = 0; c < n; c++)
                from[c] = node->cols[c].id, to[c] = node->in[side]->cols[c].id;
            ts_sql_expr *r = ts_sql_expr_rename(b, cond, from, to, n);
            if (!r)
                return NOMEM(b, cond->pos);
            TS_TRY(add_filter(b, &node->in[side], r));
        }
        *pushed = 1;
        return TS_OK;
    }
    case TS_P_FILTER:
        *pushed = 1;
        return add_filter(b, &node, cond);
    default: return TS_OK;
    }
}

/* ---- OR factoring: (a AND x) OR (a AND y) is a AND (x OR y) -------------------------------------------------- */

static void or_branches(ts_sql_expr *e, ts_sql_expr **out, int *n)
{
    if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_OR && *n < 32) {
        or_branches(e->args[0], out, n);
        or_branches(e->args[1], out, n);
        return;
    }
    if (*n < 32)
        out[(*n)++] = e;
    else
        *n = 33;
}

/* The conjuncts common to every branch of OR e, pulled out (in *out, *n); the OR of what remains, when every
 * branch keeps something, after them. 0 when nothing is common. */
static int factor_or(ts_sql_binder *b, ts_sql_expr *e, ts_sql_expr ***out, int *n)
{
    ts_sql_expr *br[33];
    int nb = 0;
    or_branches(e, br, &nb);
    if (nb < 2 || nb > 32)
        return 0;
    ts_sql_expr **c[32];
    int nc[32];
    for (int i = 0; i < nb; i++) {
        c[i] = NULL, nc[i] = 0;
        ts_sql_conjuncts(b, br[i], &c[i], &nc[i]);
    }
    int ncommon = 0, empty = 0;
    for (int k = 0; k < nc[0]; k++) {
        int everywhere = 1;
        for (int i = 1; i < nb && everywhere; i++) {
            int found = 0;
            for (int j = 0; j < nc[i] && !found; j++)
                found = ts_sql_expr_equal(c[0][k], c[i][j]);
            everywhere = found;
        }
        if (!everywhere)
            continue;
        ts_sql_conjuncts(b, c[0][k], out, n);
        ncommon++;
    }
    if (!ncommon)
        return 0;
    ts_sql_expr *rest = NULL;
    for (int i = 0; i < nb; i++) {
        ts_sql_expr *kept = NULL;
        for (int j = 0; j < nc[i]; j++) {
            int common = 0;
            for (int k = *n - ncommon; k < *n && !common; k++)
                common = ts_sql_expr_equal((*out)[k], c[i][j]);
            if (!common)
                kept = ts_sql_and(b, kept, c[i][j]);
        }
        empty |= !kept; /* a branch of nothing but common conjuncts: the OR is true */
        rest = !kept ? rest : rest ? ts_sql_mk(b, TS_SQL_E_BINARY, TS_SQL_OP_OR, e->pos, rest, kept) : kept;
    }
    if (!empty && rest)
        ts_sql_conjuncts(b, rest, out, n);
    return 1;
}

static void factor_ors(ts_sql_binder *b, ts_sql_plan *p)
{
    ts_sql_expr **conds = NULL;
    int n = 0, changed = 0;
    for (int i = 0; i < p->nconds; i++) {
        ts_sql_expr *e = p->conds[i];
        if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_OR && factor_or(b, e, &conds, &n)) {
            changed = 1;
            continue;
        }
        ts_sql_conjuncts(b, e, &conds, &n);
    }
    if (changed && conds)
        p->conds = conds, p->nconds = n;
}

static ts_err push_down(ts_sql_binder *b, ts_sql_plan **pp)
{
    ts_sql_plan *p = *pp;
    if (p->kind == TS_P_FILTER)
        factor_ors(b, p);
    if (p->kind == TS_P_FILTER) {
        int kept = 0;
        for (int i = 0; i < p->nconds; i++) {
            int pushed;
            TS_TRY(push_into(b, p->in[0], p->conds[i], &pushed));
            if (!pushed)
                p->conds[kept++] = p->conds[i];
        }
        p->nconds = kept;
        if (!kept) {
            *pp = p->in[0];
            return push_down(b, pp);
        }
    }
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(push_down(b, &p->in[i]));
    if (p->kind == TS_P_JOIN && p->cross && p->njoin_keys)
        p->cross = 0;
    return TS_OK;
}

/* ---- semi and anti joins below inner joins ------------------------------------------------------------------- */

static int keys_within(char *const *keys, int n, const ts_sql_plan *p)
{
    for (int k = 0; k < n; k++) {
        int found = 0;
        for (int c = 0; c < p->ncols && !found; c++)
            found = !strcmp(p->cols[c].id, keys[k]);
        if (!found)
            return 0;
    }
    return 1;
}

/* A semi or anti join whose left keys all come from one input of the inner join below it filters that input
 * alone: it moves there (TPC-H q18's IN subquery then reduces orders before they meet lineitem), where the join
 * order sees the smaller input. Joins of decorrelated subqueries stay: their outer values are computed from
 * whatever reaches them. */
static void push_semijoins(ts_sql_plan **pp, int *changed)
{
    ts_sql_plan *p = *pp;
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            push_semijoins(&p->in[i], changed);
    if (p->kind != TS_P_JOIN || (p->join_type != TS_JOIN_SEMI && p->join_type != TS_JOIN_ANTI) || p->cross ||
        !p->njoin_keys)
        return;
    ts_sql_plan *l = p->in[0];
    if (l->kind != TS_P_JOIN || l->join_type != TS_JOIN_INNER)
        return;
    for (int s = 0; s < 2; s++) {
        if (!keys_within(p->left_keys, p->njoin_keys, l->in[s]))
            continue;
        ts_sql_plan *side = l->in[s];
        p->in[0] = side;
        p->ncols = side->ncols, p->cols = side->cols;
        l->in[s] = p;
        *pp = l;
        *changed = 1;
        push_semijoins(&l->in[s], changed);
        return;
    }
}

/* ---- column pruning ---------------------------------------------------------------------------------------------- */

typedef struct id_set {
    const char **ids;
    int n, cap;
    ts_sql_binder *b;
    int nomem;
} id_set;

static int has(const id_set *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->ids[i], id))
            return 1;
    return 0;
}

static void add(const char *id, void *arg)
{
    id_set *s = arg;
    if (!id || has(s, id))
        return;
    if (s->n == s->cap) {
        const int cap = s->cap ? 2 * s->cap : 32;
        const char **grown = ts_sql_alloc(s->b->script, sizeof *grown * (size_t)cap);
        if (!grown) {
            s->nomem = 1;
            return;
        }
        if (s->n)
            memcpy(grown, s->ids, sizeof *grown * (size_t)s->n);
        s->ids = grown, s->cap = cap;
    }
    s->ids[s->n++] = id;
}

static void add_exprs(id_set *s, ts_sql_expr *const *e, int n)
{
    for (int i = 0; i < n; i++)
        ts_sql_expr_refs(e[i], add, s);
}

static ts_err prune(ts_sql_binder *b, ts_sql_plan *p, const id_set *req);

/* Keeps the columns (and, for projections, expressions) whose ids are required; at least one. */
static void keep_required(ts_sql_plan *p, const id_set *req)
{
    int k = 0;
    for (int c = 0; c < p->ncols; c++) {
        if (!has(req, p->cols[c].id) && !(c == p->ncols - 1 && !k))
            continue;
        p->cols[k] = p->cols[c];
        if (p->exprs)
            p->exprs[k] = p->exprs[c];
        if (p->source_names)
            p->source_names[k] = p->source_names[c];
        if (p->source_stats)
            p->source_stats[k] = p->source_stats[c];
        k++;
    }
    p->ncols = k;
}

/* Nodes whose output columns are their inputs' (plus their own additions) take them again after pruning. */
static ts_err refresh_cols(ts_sql_binder *b, ts_sql_plan *p, const ts_sql_col *extra, int nextra)
{
    const int join = p->kind == TS_P_JOIN || p->kind == TS_P_DELIM_JOIN;
    const int only_left = join && (p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI);
    const int nl = p->in[0]->ncols, nr = join && !only_left ? p->in[1]->ncols : 0;
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(nl + nr + nextra + 1));
    if (!cols)
        return NOMEM(b, p->pos);
    /* a join keeps the hidden flags it set (USING columns) */
    if (nl)
        memcpy(cols, p->in[0]->cols, sizeof *cols * (size_t)nl);
    if (nr)
        memcpy(cols + nl, p->in[1]->cols, sizeof *cols * (size_t)nr);
    for (int c = 0; c < nl + nr; c++)
        for (int o = 0; o < p->ncols; o++)
            if (!strcmp(p->cols[o].id, cols[c].id))
                cols[c] = p->cols[o];
    if (nextra)
        memcpy(cols + nl + nr, extra, sizeof *cols * (size_t)nextra);
    p->cols = cols, p->ncols = nl + nr + nextra;
    return TS_OK;
}

static ts_err prune_children(ts_sql_binder *b, ts_sql_plan *p, id_set *need)
{
    if (need->nomem)
        return NOMEM(b, p->pos);
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(prune(b, p->in[i], need));
    return TS_OK;
}

static ts_err prune(ts_sql_binder *b, ts_sql_plan *p, const id_set *req)
{
    id_set need = {.b = b};
    switch (p->kind) {
    case TS_P_PROJECT:
        if (req)
            keep_required(p, req);
        add_exprs(&need, p->exprs, p->ncols);
        return prune_children(b, p, &need);
    case TS_P_FILTER: case TS_P_SORT: case TS_P_LIMIT: {
        for (int c = 0; c < p->ncols; c++)
            if (!req || has(req, p->cols[c].id))
                add(p->cols[c].id, &need);
        add_exprs(&need, p->conds, p->nconds);
        for (int k = 0; k < p->nsort; k++)
            add(p->sort[k].name, &need);
        TS_TRY(prune_children(b, p, &need));
        TS_TRY(refresh_cols(b, p, NULL, 0));
        if (req && p->kind == TS_P_FILTER) /* the columns only its conditions read go no further (a sort's keys
                                               stay: the projection above keeps the order by them) */
            keep_required(p, req);
        return TS_OK;
    }
    case TS_P_JOIN: case TS_P_DELIM_JOIN: {
        for (int c = 0; c < p->ncols; c++)
            if (!req || has(req, p->cols[c].id))
                add(p->cols[c].id, &need);
        for (int k = 0; k < p->njoin_keys; k++)
            add(p->left_keys[k], &need), add(p->right_keys[k], &need);
        for (int k = 0; k < p->ndelim; k++)
            add(p->delim_cols[k], &need);
        TS_TRY(prune_children(b, p, &need));
        return refresh_cols(b, p, NULL, 0);
    }
    case TS_P_WINDOW: {
        for (int c = 0; c < p->ncols; c++)
            if (!req || has(req, p->cols[c].id))
                add(p->cols[c].id, &need);
        for (int k = 0; k < p->npartition; k++)
            add(p->partition[k], &need);
        for (int k = 0; k < p->nsort; k++)
            add(p->sort[k].name, &need);
        for (int k = 0; k < p->nwins; k++) {
            add(p->wins[k].fn.input, &need), add(p->wins[k].fn.default_col, &need);
            add(p->wins[k].fn.offset_col, &need);
        }
        TS_TRY(prune_children(b, p, &need));
        return refresh_cols(b, p, p->cols + p->ncols - p->nwins, p->nwins);
    }
    case TS_P_AGGREGATE:
        for (int k = 0; k < p->nkeys; k++)
            add(p->keys[k], &need);
        for (int a = 0; a < p->naggs; a++) {
            add(p->aggs[a].agg.input, &need), add(p->aggs[a].agg.where, &need);
            add(p->aggs[a].agg.order, &need);
        }
        return prune_children(b, p, &need);
    case TS_P_CSV: case TS_P_H5: case TS_P_CATALOG: case TS_P_PARQUET:
        if (req)
            keep_required(p, req);
        return TS_OK;
    default: /* DISTINCT, UNION, SETOP need every column; sources without columns to spare */
        for (int i = 0; i < 2; i++)
            if (p->in[i])
                TS_TRY(prune(b, p->in[i], NULL));
        return TS_OK;
    }
}

/* ---- join inputs and the decisions EXPLAIN shows ------------------------------------------------------------ */

/* A join builds its hash table on the right input and broadcasts it when small: the smaller input (in estimated
 * bytes) goes there (inner, left and right joins; semi and anti joins choose their build side at run time). Column order does not matter above a join (nodes refer to columns by id; the select
 * list's projection fixes the output order). */
static void order_join_inputs(ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            order_join_inputs(p->in[i]);
    const ts_join_type t = p->join_type;
    if (p->kind != TS_P_JOIN || (t != TS_JOIN_INNER && t != TS_JOIN_LEFT && t != TS_JOIN_RIGHT) || p->cross ||
        !(ts_sql_est_bytes(p->in[1]) > 1.5 * ts_sql_est_bytes(p->in[0])))
        return;
    /* an outer join keeps its semantics mirrored: a LEFT join building on the large side becomes a RIGHT one */
    p->join_type = t == TS_JOIN_LEFT ? TS_JOIN_RIGHT : t == TS_JOIN_RIGHT ? TS_JOIN_LEFT : t;
    ts_sql_plan *first = p->in[0];
    p->in[0] = p->in[1], p->in[1] = first;
    char **k = p->left_keys;
    p->left_keys = p->right_keys, p->right_keys = k;
    if (p->in[0]->ncols)
        memcpy(p->cols, p->in[0]->cols, sizeof *p->cols * (size_t)p->in[0]->ncols);
    if (p->in[1]->ncols)
        memcpy(p->cols + p->in[0]->ncols, p->in[1]->cols, sizeof *p->cols * (size_t)p->in[1]->ncols);
}

static void explain_decisions(ts_sql_plan *p, int nranks)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            explain_decisions(p->in[i], nranks);
    char note[sizeof p->note];
    note[0] = 0;
    switch (p->kind) {
    case TS_P_JOIN: case TS_P_DELIM_JOIN: {
        const double mib = ts_sql_est_bytes(p->in[1]) / (1 << 20);
        if (p->cross || !p->njoin_keys)
            snprintf(note, sizeof note, "every pair: right side broadcast");
        else if (nranks > 1)
            snprintf(note, sizeof note, "%s: build side est. %.1f MiB", mib < 64 ? "broadcast" : "shuffle both sides",
                     mib);
        else
            snprintf(note, sizeof note, "build side est. %.1f MiB", mib);
        break;
    }
    case TS_P_AGGREGATE:
        if (nranks > 1) {
            int decomposable = 1;
            for (int a = 0; a < p->naggs; a++)
                decomposable &= ts_agg_decomposable(&p->aggs[a].agg, 1);
            snprintf(note, sizeof note, "%s", decomposable ? "partial aggregates per rank, states exchanged by "
                     "key hash, merged" : "rows exchanged by key hash, aggregated once (exact quantiles / distinct)");
        }
        break;
    case TS_P_WINDOW:
        if (p->topk > 0)
            snprintf(note, sizeof note, "top %lld per partition kept on each rank, %s, top %lld kept again, sorted",
                     (long long)p->topk, p->npartition ? "exchanged by PARTITION BY hash" : "gathered on rank 0",
                     (long long)p->topk);
        else
            snprintf(note, sizeof note, "%s", p->npartition ? "rows exchanged by PARTITION BY hash, sorted per rank"
                                                            : "no PARTITION BY: all rows on rank 0");
        break;
    case TS_P_SORT: snprintf(note, sizeof note, "sample sort: rank r holds the r-th slab"); break;
    case TS_P_DISTINCT: snprintf(note, sizeof note, "rows exchanged by hash of all columns"); break;
    case TS_P_PARQUET: ts_sql_parquet_explain(p); break; /* its own note */
    case TS_P_CSV:
        snprintf(note, sizeof note, "parallel scan: byte ranges per rank, %d column%s read", p->ncols,
                 p->ncols == 1 ? "" : "s");
        break;
    default: break;
    }
    if (!note[0])
        return;
    if (p->note[0]) { /* a note of the join order first */
        char both[2 * sizeof p->note + 4];
        snprintf(both, sizeof both, "%s; %s", p->note, note);
        snprintf(p->note, sizeof p->note, "%.*s", (int)sizeof p->note - 1, both);
    } else {
        snprintf(p->note, sizeof p->note, "%s", note);
    }
}

/* DISTINCT becomes a grouping on every column without aggregates: the hash aggregation then removes duplicates on
 * each rank before the exchange, streams, and spills under a memory limit, where a DISTINCT node would exchange
 * every row and deduplicate it materialised. */
static ts_err lower_distinct(ts_sql_binder *b, ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(lower_distinct(b, p->in[i]));
    if (p->kind != TS_P_DISTINCT || p->ncols == 0 || p->ncols > TS_MAX_COLS)
        return TS_OK;
    char **keys = ts_sql_alloc(b->script, sizeof *keys * (size_t)p->ncols);
    if (!keys)
        return ts_sql_error_at(b->src, p->pos, TS_ERR_NOMEM, "out of memory");
    for (int c = 0; c < p->ncols; c++)
        if (!(keys[c] = ts_sql_strdup(b->script, p->cols[c].id)))
            return ts_sql_error_at(b->src, p->pos, TS_ERR_NOMEM, "out of memory");
    p->kind = TS_P_AGGREGATE, p->keys = keys, p->nkeys = p->ncols, p->aggs = NULL, p->naggs = 0;
    return TS_OK;
}

/* ---- top k per partition: FILTER rn <= k over a WINDOW of ranking functions ------------------------------------------ */

/* The bound k that conjunct e puts on window function f's output (rn <= k, rn < k + 1, rn = k, k >= rn, ...;
 * k an integer literal), or 0. */
static int64_t rank_bound(const ts_sql_expr *e, const char *out)
{
    if (e->kind != TS_SQL_E_BINARY || e->nargs != 2)
        return 0;
    const ts_sql_expr *a = e->args[0], *c = e->args[1];
    ts_sql_op op = e->op;
    if (a->kind == TS_SQL_E_INT && c->kind == TS_SQL_E_COLUMN) { /* k >= rn is rn <= k */
        const ts_sql_expr *t = a;
        a = c, c = t;
        op = op == TS_SQL_OP_GE ? TS_SQL_OP_LE : op == TS_SQL_OP_GT ? TS_SQL_OP_LT : op;
    }
    if (a->kind != TS_SQL_E_COLUMN || c->kind != TS_SQL_E_INT || strcmp(a->name, out))
        return 0;
    const int64_t k = op == TS_SQL_OP_LE || op == TS_SQL_OP_EQ ? c->ival : op == TS_SQL_OP_LT ? c->ival - 1 : 0;
    return k > 0 && k <= INT32_MAX ? k : 0;
}

/* A FILTER over a WINDOW whose functions are all ROW_NUMBER, RANK or DENSE_RANK with ORDER BY, with a conjunct
 * bounding one of them by a constant: the window keeps only the rows that can pass (ts_window_spec.topk). */
static void mark_window_topk(ts_sql_plan *p)
{
    if (!p)
        return;
    mark_window_topk(p->in[0]);
    mark_window_topk(p->in[1]);
    ts_sql_plan *w = p->in[0];
    if (p->kind != TS_P_FILTER || !w || w->kind != TS_P_WINDOW || !w->nsort || w->npartition > TS_MAX_COLS)
        return;
    for (int i = 0; i < w->nwins; i++) {
        const ts_window_kind k = w->wins[i].fn.kind;
        if (k != TS_WIN_ROW_NUMBER && k != TS_WIN_RANK && k != TS_WIN_DENSE_RANK)
            return;
    }
    for (int c = 0; c < p->nconds; c++)
        for (int i = 0; i < w->nwins; i++) {
            const int64_t k = rank_bound(p->conds[c], w->wins[i].fn.output);
            if (k > 0 && (!w->topk || k < w->topk))
                w->topk = k, w->topk_fn = i;
        }
}

/* One query block (and, first, the blocks of its scalar subqueries): rewrites to a fixed point, then the final
 * estimates and decisions. */
static ts_err optimize_block(ts_sql_binder *b, ts_sql_plan **root)
{
    TS_TRY(ts_sql_each_subplan(b, *root, optimize_block));
    int changed = 1;
    for (int round = 0; changed && round < 8; round++) {
        changed = 0;
        TS_TRY(push_down(b, root));
        push_semijoins(root, &changed);
        TS_TRY(prune(b, *root, NULL));
        TS_TRY(ts_sql_estimate(b, *root));
        TS_TRY(ts_sql_order_joins(b, root, &changed));
    }
    TS_TRY(push_down(b, root));
    TS_TRY(lower_distinct(b, *root));
    ts_sql_parquet_attach_filters(*root);
    TS_TRY(prune(b, *root, NULL));
    TS_TRY(ts_sql_estimate(b, *root));
    mark_window_topk(*root);
    order_join_inputs(*root);
    explain_decisions(*root, b->ctx->size);
    return TS_OK;
}

ts_err ts_sql_optimize(ts_sql_binder *b, ts_sql_plan **root) { return optimize_block(b, root); }
