/* Plan rewrites: filter push-down and column pruning (see ts_sql_opt.h). */
#include "ts_sql_opt.h"

#include <stdio.h>
#include <string.h>

#include "ts_sql_parse.h"

ts_err ts_sql_try_join_key(ts_sql_binder *b, ts_sql_plan *j, ts_sql_expr *cond, int *used);

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
    case TS_P_SORT:
        *pushed = 1;
        return add_filter(b, &node->in[0], cond);
    case TS_P_FILTER:
        *pushed = 1;
        return add_filter(b, &node, cond);
    default: return TS_OK;
    }
}

static ts_err push_down(ts_sql_binder *b, ts_sql_plan **pp)
{
    ts_sql_plan *p = *pp;
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
        k++;
    }
    p->ncols = k;
}

/* Nodes whose output columns are their inputs' (plus their own additions) take them again after pruning. */
static ts_err refresh_cols(ts_sql_binder *b, ts_sql_plan *p, const ts_sql_col *extra, int nextra)
{
    const int only_left = p->kind == TS_P_JOIN && (p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI);
    const int nl = p->in[0]->ncols, nr = p->kind == TS_P_JOIN && !only_left ? p->in[1]->ncols : 0;
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(nl + nr + nextra + 1));
    if (!cols)
        return NOMEM(b, p->pos);
    /* a join keeps the hidden flags it set (USING columns) */
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
        return refresh_cols(b, p, NULL, 0);
    }
    case TS_P_JOIN: {
        for (int c = 0; c < p->ncols; c++)
            if (!req || has(req, p->cols[c].id))
                add(p->cols[c].id, &need);
        for (int k = 0; k < p->njoin_keys; k++)
            add(p->left_keys[k], &need), add(p->right_keys[k], &need);
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
    case TS_P_CSV: case TS_P_H5: case TS_P_CATALOG:
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

/* ---- estimates --------------------------------------------------------------------------------------------------- */

static void estimate(ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            estimate(p->in[i]);
    const double in = p->in[0] ? p->in[0]->est_rows : 0;
    switch (p->kind) {
    case TS_P_FILTER: p->est_rows = in * (p->nconds == 1 ? 0.5 : 0.25); break;
    case TS_P_PROJECT: case TS_P_SORT: case TS_P_WINDOW: case TS_P_DISTINCT: p->est_rows = in; break;
    case TS_P_JOIN: {
        const double r = p->in[1]->est_rows;
        p->est_rows = p->cross ? in * r : p->join_type == TS_JOIN_SEMI || p->join_type == TS_JOIN_ANTI ? in
                                                                                                    : (in > r ? in : r);
        break;
    }
    case TS_P_LIMIT: p->est_rows = p->limit >= 0 && p->limit < in ? (double)p->limit : in; break;
    case TS_P_UNION: p->est_rows = in + p->in[1]->est_rows; break;
    default: break;
    }
}

/* ---- join order of inner-join chains ---------------------------------------------------------------------------- */

#define CHAIN_MAX 16

typedef struct chain {
    ts_sql_plan *leaf[CHAIN_MAX];
    int nleaves;
    char *left[64], *right[64]; /* key pairs (either orientation) */
    int npairs;
} chain;

static int is_chain_join(const ts_sql_plan *p)
{
    return p->kind == TS_P_JOIN && p->join_type == TS_JOIN_INNER && !p->cross && !p->not_in && p->njoin_keys;
}

/* Collects the inputs and key pairs of a tree of inner equi-joins; 0 when it does not fit the arrays. */
static int flatten(ts_sql_plan *p, chain *c)
{
    for (int i = 0; i < 2; i++) {
        if (is_chain_join(p->in[i])) {
            if (!flatten(p->in[i], c))
                return 0;
        } else {
            if (c->nleaves == CHAIN_MAX)
                return 0;
            c->leaf[c->nleaves++] = p->in[i];
        }
    }
    for (int k = 0; k < p->njoin_keys; k++) {
        if (c->npairs == 64)
            return 0;
        c->left[c->npairs] = p->left_keys[k], c->right[c->npairs++] = p->right_keys[k];
    }
    return 1;
}

static int has_id(const ts_sql_plan *p, const char *id)
{
    for (int i = 0; i < p->ncols; i++)
        if (!strcmp(p->cols[i].id, id))
            return 1;
    return 0;
}

/* A join of cur (the leaves in `used`) with leaf: every key pair between them, oriented (cur, leaf). */
static ts_sql_plan *join_with(ts_sql_binder *b, const chain *c, const int *used, ts_sql_plan *cur, int leaf)
{
    ts_sql_plan *j = ts_sql_alloc(b->script, sizeof *j), *l = c->leaf[leaf];
    char **lk = ts_sql_alloc(b->script, sizeof(char *) * (size_t)c->npairs);
    char **rk = ts_sql_alloc(b->script, sizeof(char *) * (size_t)c->npairs);
    ts_sql_col *cols = ts_sql_alloc(b->script, sizeof *cols * (size_t)(cur->ncols + l->ncols));
    if (!j || !lk || !rk || !cols)
        return NULL;
    *j = (ts_sql_plan){.kind = TS_P_JOIN, .pos = cur->pos, .in = {cur, l}, .join_type = TS_JOIN_INNER,
                       .left_keys = lk, .right_keys = rk, .cols = cols, .ncols = cur->ncols + l->ncols,
                       .limit = -1, .est_rows = cur->est_rows > l->est_rows ? cur->est_rows : l->est_rows};
    memcpy(cols, cur->cols, sizeof *cols * (size_t)cur->ncols);
    memcpy(cols + cur->ncols, l->cols, sizeof *cols * (size_t)l->ncols);
    for (int k = 0; k < c->npairs; k++)
        for (int o = 0; o < 2; o++) {
            const char *a = o ? c->right[k] : c->left[k], *z = o ? c->left[k] : c->right[k];
            int in_cur = 0;
            for (int u = 0; u < c->nleaves && !in_cur; u++)
                in_cur = used[u] && has_id(c->leaf[u], a);
            if (in_cur && has_id(l, z))
                lk[j->njoin_keys] = (char *)a, rk[j->njoin_keys++] = (char *)z;
        }
    return j->njoin_keys && j->njoin_keys <= 8 ? j : NULL;
}

/* Rebuilds a chain of three or more inner-joined inputs left-deep: the largest input first (the probe side stays
 * in place), then repeatedly the smallest input joined to what is built so far, so hash tables are built on small
 * inputs and intermediate results stay small. Keeps the tree as it is when the inputs are not all connected. */
static void order_chain(ts_sql_binder *b, ts_sql_plan **pp)
{
    ts_sql_plan *p = *pp;
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            order_chain(b, &p->in[i]);
    if (!is_chain_join(p) || !(is_chain_join(p->in[0]) || is_chain_join(p->in[1])))
        return;
    chain c = {0};
    int used[CHAIN_MAX] = {0};
    if (!flatten(p, &c))
        return;
    int first = 0;
    for (int i = 1; i < c.nleaves; i++)
        if (c.leaf[i]->est_rows > c.leaf[first]->est_rows)
            first = i;
    ts_sql_plan *cur = c.leaf[first];
    used[first] = 1;
    for (int step = 1; step < c.nleaves; step++) {
        ts_sql_plan *best = NULL;
        int pick = -1;
        for (int i = 0; i < c.nleaves; i++) {
            if (used[i] || (pick >= 0 && c.leaf[i]->est_rows >= c.leaf[pick]->est_rows))
                continue;
            ts_sql_plan *j = join_with(b, &c, used, cur, i);
            if (j)
                best = j, pick = i;
        }
        if (!best)
            return; /* not connected (or out of memory): keep the written order */
        used[pick] = 1, cur = best;
    }
    snprintf(cur->note, sizeof cur->note, "join order: largest input probes, smaller ones joined first");
    *pp = cur;
}

/* ---- join inputs and the decisions EXPLAIN shows ------------------------------------------------------------ */

/* Bytes of a node's output, roughly: 8 bytes a column a row. */
static double est_bytes(const ts_sql_plan *p) { return p->est_rows * 8.0 * (p->ncols ? p->ncols : 1); }

/* An inner join builds its hash table on the right input and broadcasts it when small: put the smaller input
 * there. Column order does not matter above a join (nodes refer to columns by id; the select list's projection
 * fixes the output order). */
static void order_join_inputs(ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            order_join_inputs(p->in[i]);
    if (p->kind != TS_P_JOIN || p->join_type != TS_JOIN_INNER || p->cross ||
        !(p->in[1]->est_rows > 2 * p->in[0]->est_rows))
        return;
    ts_sql_plan *t = p->in[0];
    p->in[0] = p->in[1], p->in[1] = t;
    char **k = p->left_keys;
    p->left_keys = p->right_keys, p->right_keys = k;
    snprintf(p->note, sizeof p->note, "inputs swapped: the smaller one is the build side");
}

static void explain_decisions(ts_sql_plan *p, int nranks)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            explain_decisions(p->in[i], nranks);
    if (p->note[0])
        return;
    const double mib = est_bytes(p->in[1] ? p->in[1] : p) / (1 << 20);
    switch (p->kind) {
    case TS_P_JOIN:
        if (p->cross || !p->njoin_keys)
            snprintf(p->note, sizeof p->note, "every pair: right side broadcast");
        else if (nranks > 1)
            snprintf(p->note, sizeof p->note, "%s (right side est. %.1f MiB; broadcast below 64 MiB, measured at run "
                     "time)", mib < 64 ? "broadcast" : "shuffle both sides by key hash", mib);
        break;
    case TS_P_AGGREGATE:
        if (nranks > 1) {
            int decomposable = 1;
            for (int a = 0; a < p->naggs; a++)
                decomposable &= ts_agg_decomposable(&p->aggs[a].agg, 1);
            snprintf(p->note, sizeof p->note, "%s", decomposable ? "partial aggregates per rank, states exchanged by "
                     "key hash, merged" : "rows exchanged by key hash, aggregated once (exact quantiles / distinct)");
        }
        break;
    case TS_P_WINDOW:
        snprintf(p->note, sizeof p->note, "%s", p->npartition ? "rows exchanged by PARTITION BY hash, sorted per rank"
                                                             : "no PARTITION BY: all rows on rank 0");
        break;
    case TS_P_SORT: snprintf(p->note, sizeof p->note, "sample sort: rank r holds the r-th slab"); break;
    case TS_P_DISTINCT: snprintf(p->note, sizeof p->note, "rows exchanged by hash of all columns"); break;
    case TS_P_CSV:
        snprintf(p->note, sizeof p->note, "parallel scan: byte ranges per rank, %d column%s read", p->ncols,
                 p->ncols == 1 ? "" : "s");
        break;
    default: break;
    }
}

ts_err ts_sql_optimize(ts_sql_binder *b, ts_sql_plan **root)
{
    TS_TRY(push_down(b, root));
    TS_TRY(prune(b, *root, NULL));
    estimate(*root);
    order_chain(b, root);
    estimate(*root);
    order_join_inputs(*root);
    explain_decisions(*root, b->ctx->size);
    return TS_OK;
}
