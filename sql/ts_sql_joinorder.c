/* Join ordering (see ts_sql_joinorder.h). */
#include "ts_sql_joinorder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_keyhash.h"
#include "ts_sql_parse.h"
#include "ts_sql_rewrite.h"
#include "ts_sql_stats.h"

#define NOMEM(b, pos) ts_sql_error_at((b)->src, (pos), TS_ERR_NOMEM, "out of memory")
#define MAX_RELS 64
#define MAX_PREDS 256
#define MAX_IDS 512

typedef uint64_t relset;

static int popcount(relset s) { return __builtin_popcountll(s); }
static relset bit(int i) { return (relset)1 << i; }

/* ==== the enumerator (no plans: relations, sizes, a selectivity callback) ================================== */

typedef struct jo_graph {
    int n, nranks;
    double rows[MAX_RELS], width[MAX_RELS];
    relset adj[MAX_RELS];
    /* selectivity of all predicates between disjoint sets s1 and s2 (of r1 and r2 estimated rows) */
    double (*sel)(void *ctx, relset s1, relset s2, double r1, double r2);
    void *ctx;
} jo_graph;

/* One join of the chosen tree: set = left ∪ right, left probes, right builds. */
typedef struct jo_split {
    relset set, left, right;
} jo_split;

typedef struct jo_result {
    jo_split split[MAX_RELS];
    int nsplit;
    double cost;
    relset root[MAX_RELS]; /* the connected components, largest first (cross-joined in this order) */
    int nroots;
} jo_result;

static double set_width(const jo_graph *g, relset s)
{
    double w = 0;
    for (int i = 0; i < g->n; i++)
        if (s >> i & 1)
            w += g->width[i];
    return w;
}

/* Cost of a hash join that builds on (rb rows, bb bytes) and probes with (rp, bp): its work plus the bytes it
 * moves (the executor broadcasts a build side under 64 MiB and otherwise shuffles both). */
static double hash_join_cost(const jo_graph *g, double rp, double bp, double rb, double bb, double out)
{
    double cost = rp + 2 * rb + out;
    if (g->nranks > 1) {
        const double moved = bb < TS_SQL_BROADCAST_BYTES ? bb * (g->nranks - 1) : (bb + bp) * (g->nranks - 1) / g->nranks;
        cost += moved / 32; /* a row touched costs about as much as 32 bytes moved */
    }
    return cost;
}

/* The cheaper orientation of a join of inputs (r1 rows of w1 bytes) and (r2, w2); *swap: the first builds. */
static double join_cost(const jo_graph *g, double r1, double w1, double r2, double w2, double out, int *swap)
{
    const double keep = hash_join_cost(g, r1, r1 * w1, r2, r2 * w2, out);
    const double flip = hash_join_cost(g, r2, r2 * w2, r1, r1 * w1, out);
    *swap = flip < keep;
    return *swap ? flip : keep;
}

static relset neigh(const jo_graph *g, relset s)
{
    relset nb = 0;
    for (int i = 0; i < g->n; i++)
        if (s >> i & 1)
            nb |= g->adj[i];
    return nb & ~s;
}

typedef struct ccp_list {
    relset *a, *b;
    int n, cap, nomem;
} ccp_list;

static void add_pair(ccp_list *l, relset a, relset b)
{
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 256;
        relset *na = realloc(l->a, sizeof *na * (size_t)cap), *nb;
        if (!na) {
            l->nomem = 1;
            return;
        }
        l->a = na;
        if (!(nb = realloc(l->b, sizeof *nb * (size_t)cap))) {
            l->nomem = 1;
            return;
        }
        l->b = nb, l->cap = cap;
    }
    l->a[l->n] = a, l->b[l->n++] = b;
}

/* DPccp's EnumerateCmp: the connected complements of csg s1, grown from s (excluding x). */
static void cmp_rec(const jo_graph *g, relset s1, relset s, relset x, ccp_list *l)
{
    const relset nb = neigh(g, s) & ~x;
    for (relset sub = nb; sub; sub = (sub - 1) & nb)
        add_pair(l, s1, s | sub);
    for (relset sub = nb; sub; sub = (sub - 1) & nb)
        cmp_rec(g, s1, s | sub, x | nb, l);
}

static void enum_cmp(const jo_graph *g, relset s1, ccp_list *l)
{
    const int low = __builtin_ctzll(s1);
    const relset x = (bit(low + 1) - 1) | s1, nb = neigh(g, s1) & ~x;
    for (int i = g->n - 1; i >= 0; i--) {
        if (!(nb >> i & 1))
            continue;
        add_pair(l, s1, bit(i));
        cmp_rec(g, s1, bit(i), x | ((bit(i + 1) - 1) & nb), l);
    }
}

/* DPccp's EnumerateCsg: connected subgraphs grown from s (excluding x), each with its complements. */
static void csg_rec(const jo_graph *g, relset s, relset x, ccp_list *l)
{
    const relset nb = neigh(g, s) & ~x;
    for (relset sub = nb; sub; sub = (sub - 1) & nb)
        enum_cmp(g, s | sub, l);
    for (relset sub = nb; sub; sub = (sub - 1) & nb)
        csg_rec(g, s | sub, x | nb, l);
}

typedef struct dp_entry {
    double cost, rows;
    relset left, right;
    int valid;
} dp_entry;

static int by_size(const void *x, const void *y)
{
    const relset *a = x, *b = y;
    const int pa = popcount(a[0] | a[1]), pb = popcount(b[0] | b[1]);
    if (pa != pb)
        return (pa > pb) - (pa < pb);
    if (a[0] != b[0])
        return (a[0] > b[0]) - (a[0] < b[0]);
    return (a[1] > b[1]) - (a[1] < b[1]);
}

static void extract(const dp_entry *dp, relset s, jo_result *r)
{
    if (popcount(s) < 2)
        return;
    r->split[r->nsplit++] = (jo_split){s, dp[s].left, dp[s].right};
    extract(dp, dp[s].left, r);
    extract(dp, dp[s].right, r);
}

/* Connected components of the graph, each a set. */
static int components(const jo_graph *g, relset *comp)
{
    relset seen = 0;
    int n = 0;
    for (int i = 0; i < g->n; i++) {
        if (seen >> i & 1)
            continue;
        relset c = bit(i), grown;
        do {
            grown = c | neigh(g, c);
            if (grown == c)
                break;
            c = grown;
        } while (1);
        seen |= c, comp[n++] = c;
    }
    return n;
}

static double combine(const jo_graph *g, relset s1, double r1, double c1, relset s2, double r2, double c2,
                      double *rows, int *swap)
{
    const double out = r1 * r2 * g->sel(g->ctx, s1, s2, r1, r2);
    *rows = out;
    return c1 + c2 + join_cost(g, r1, set_width(g, s1), r2, set_width(g, s2), out, swap);
}

static int dp_enumerate(const jo_graph *g, jo_result *r)
{
    const int size = 1 << g->n;
    dp_entry *dp = calloc((size_t)size, sizeof *dp);
    ccp_list l = {0};
    if (!dp)
        return -1;
    for (int i = 0; i < g->n; i++)
        dp[bit(i)] = (dp_entry){0, g->rows[i], 0, 0, 1};
    for (int i = g->n - 1; i >= 0; i--) {
        enum_cmp(g, bit(i), &l);
        csg_rec(g, bit(i), bit(i + 1) - 1, &l);
    }
    if (l.nomem) {
        free(dp), free(l.a), free(l.b);
        return -1;
    }
    /* subsets before supersets, whatever order the enumeration emitted them in */
    relset *pairs = malloc(sizeof *pairs * 2 * (size_t)(l.n + 1));
    if (!pairs) {
        free(dp), free(l.a), free(l.b);
        return -1;
    }
    for (int k = 0; k < l.n; k++)
        pairs[2 * k] = l.a[k], pairs[2 * k + 1] = l.b[k];
    qsort(pairs, (size_t)l.n, 2 * sizeof *pairs, by_size);
    for (int k = 0; k < l.n; k++) {
        const relset s1 = pairs[2 * k], s2 = pairs[2 * k + 1], s = s1 | s2;
        if (!dp[s1].valid || !dp[s2].valid)
            continue;
        double rows;
        int swap;
        const double cost = combine(g, s1, dp[s1].rows, dp[s1].cost, s2, dp[s2].rows, dp[s2].cost, &rows, &swap);
        if (!dp[s].valid || cost < dp[s].cost)
            dp[s] = (dp_entry){cost, rows, swap ? s2 : s1, swap ? s1 : s2, 1};
    }
    r->nroots = components(g, r->root);
    r->cost = 0;
    for (int c = 0; c < r->nroots; c++) {
        extract(dp, r->root[c], r);
        r->cost += dp[r->root[c]].cost;
    }
    /* cross products of the components, largest first */
    for (int i = 0; i < r->nroots; i++)
        for (int j = i + 1; j < r->nroots; j++)
            if (dp[r->root[j]].rows > dp[r->root[i]].rows) {
                const relset t = r->root[i];
                r->root[i] = r->root[j], r->root[j] = t;
            }
    free(dp), free(l.a), free(l.b), free(pairs);
    return 0;
}

/* Greedy operator ordering: repeatedly join the connected pair of partial trees with the smallest result. */
static int greedy(const jo_graph *g, jo_result *r)
{
    relset set[MAX_RELS];
    double rows[MAX_RELS], cost[MAX_RELS];
    int n = g->n;
    for (int i = 0; i < n; i++)
        set[i] = bit(i), rows[i] = g->rows[i], cost[i] = 0;
    r->cost = 0;
    for (;;) {
        int bi = -1, bj = -1, bswap = 0;
        double best = INFINITY, brows = 0, bcost = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                if (!(neigh(g, set[i]) & set[j]))
                    continue;
                double out;
                int swap;
                const double c = combine(g, set[i], rows[i], cost[i], set[j], rows[j], cost[j], &out, &swap);
                if (out < best || (out == best && c < bcost))
                    best = out, bi = i, bj = j, brows = out, bcost = c, bswap = swap;
            }
        if (bi < 0)
            break;
        r->split[r->nsplit++] = (jo_split){set[bi] | set[bj], bswap ? set[bj] : set[bi], bswap ? set[bi] : set[bj]};
        set[bi] |= set[bj], rows[bi] = brows, cost[bi] = bcost;
        set[bj] = set[n - 1], rows[bj] = rows[n - 1], cost[bj] = cost[n - 1], n--;
    }
    for (int i = 0; i < n; i++) {
        r->root[r->nroots++] = set[i];
        r->cost += cost[i];
    }
    for (int i = 0; i < r->nroots; i++)
        for (int j = i + 1; j < r->nroots; j++)
            if (rows[j] > rows[i]) {
                relset t = r->root[i];
                r->root[i] = r->root[j], r->root[j] = t;
                double x = rows[i];
                rows[i] = rows[j], rows[j] = x;
            }
    return 0;
}

static int enumerate(const jo_graph *g, jo_result *r)
{
    memset(r, 0, sizeof *r);
    return g->n <= TS_SQL_DP_MAX ? dp_enumerate(g, r) : greedy(g, r);
}

static const jo_split *find_split(const jo_result *r, relset s)
{
    for (int i = 0; i < r->nsplit; i++)
        if (r->split[i].set == s)
            return &r->split[i];
    return NULL;
}

/* ---- the test entry point ---------------------------------------------------------------------------------- */

typedef struct test_edges {
    int n;
    const int *a, *b;
    const double *sel;
} test_edges;

static double test_sel(void *ctx, relset s1, relset s2, double r1, double r2)
{
    const test_edges *e = ctx;
    double s = 1;
    (void)r1, (void)r2;
    for (int k = 0; k < e->n; k++)
        if (((s1 >> e->a[k] & 1) && (s2 >> e->b[k] & 1)) || ((s2 >> e->a[k] & 1) && (s1 >> e->b[k] & 1)))
            s *= e->sel[k];
    return s;
}

static void tree_text(const jo_result *r, relset s, char *buf, size_t cap)
{
    const size_t len = strlen(buf);
    if (popcount(s) == 1) {
        snprintf(buf + len, cap - len, "%d", __builtin_ctzll(s));
        return;
    }
    const jo_split *sp = find_split(r, s);
    if (!sp)
        return;
    snprintf(buf + len, cap - len, "(");
    tree_text(r, sp->left, buf, cap);
    snprintf(buf + strlen(buf), cap - strlen(buf), " ");
    tree_text(r, sp->right, buf, cap);
    snprintf(buf + strlen(buf), cap - strlen(buf), ")");
}

double ts_sql_enumerate_for_test(int n, const double *rows, const double *width, int nedges, const int *a,
                                 const int *b, const double *sel, int nranks, char *tree, size_t cap)
{
    jo_graph g = {.n = n, .nranks = nranks, .sel = test_sel};
    test_edges e = {nedges, a, b, sel};
    g.ctx = &e;
    for (int i = 0; i < n; i++)
        g.rows[i] = rows[i], g.width[i] = width[i];
    for (int k = 0; k < nedges; k++)
        g.adj[a[k]] |= bit(b[k]), g.adj[b[k]] |= bit(a[k]);
    jo_result *r = malloc(sizeof *r);
    if (!r || enumerate(&g, r)) {
        free(r);
        return -1;
    }
    tree[0] = 0;
    for (int i = 0; i < r->nroots; i++) {
        if (i)
            snprintf(tree + strlen(tree), cap - strlen(tree), " x ");
        tree_text(r, r->root[i], tree, cap);
    }
    const double cost = r->cost;
    free(r);
    return cost;
}

/* ==== regions of plans ======================================================================================= */

typedef struct jo_pred {
    ts_sql_expr *e;
    relset rels;
    int placed;
    /* a key: an equality (or IS NOT DISTINCT FROM) between an expression of relation lrel and one of rrel that
     * is not a plain column equality (those make the equivalence classes) */
    int key, lrel, rrel;
} jo_pred;

typedef struct region {
    ts_sql_binder *b;
    ts_sql_plan *leaf[MAX_RELS];
    int n;
    jo_pred pred[MAX_PREDS];
    int npred;
    /* column equalities: ids, their relation and union-find parent */
    const char *id[MAX_IDS];
    int rel[MAX_IDS], parent[MAX_IDS];
    int nids;
    int overflow;
} region;

static int is_region_join(const ts_sql_plan *p)
{
    return p->kind == TS_P_JOIN && p->join_type == TS_JOIN_INNER && !p->not_in;
}

/* A region starts at an inner join, or at filters over one. */
static int region_root(const ts_sql_plan *p)
{
    while (p->kind == TS_P_FILTER)
        p = p->in[0];
    return is_region_join(p);
}

static int rel_of(const region *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        for (int c = 0; c < r->leaf[i]->ncols; c++)
            if (!strcmp(r->leaf[i]->cols[c].id, id))
                return i;
    return -1;
}

typedef struct rels_ctx {
    const region *r;
    relset set;
    int unknown;
} rels_ctx;

static void rels_visit(const char *id, void *arg)
{
    rels_ctx *c = arg;
    const int i = rel_of(c->r, id);
    if (i < 0)
        c->unknown = 1;
    else
        c->set |= bit(i);
}

static relset rels_of(const region *r, const ts_sql_expr *e, int *unknown)
{
    rels_ctx c = {r, 0, 0};
    ts_sql_expr_refs(e, rels_visit, &c);
    if (unknown)
        *unknown = c.unknown;
    return c.set;
}

static void add_pred(region *r, ts_sql_expr *e)
{
    if (r->npred == MAX_PREDS) {
        r->overflow = 1;
        return;
    }
    r->pred[r->npred++] = (jo_pred){.e = e};
}

/* Flattens the region under p: leaves and predicates (filter conditions, join keys as equalities). */
static void flatten(region *r, ts_sql_plan *p)
{
    if (p->kind == TS_P_FILTER && region_root(p)) {
        for (int i = 0; i < p->nconds; i++)
            add_pred(r, p->conds[i]);
        flatten(r, p->in[0]);
        return;
    }
    if (is_region_join(p)) {
        for (int k = 0; k < p->njoin_keys; k++) {
            const ts_sql_op op = ts_key_null_equal(p->null_equal, k) ? TS_SQL_OP_NOT_DISTINCT : TS_SQL_OP_EQ;
            ts_sql_expr *eq = ts_sql_mk(r->b, TS_SQL_E_BINARY, op, p->pos,
                                        ts_sql_ref(r->b, p->left_keys[k], p->pos),
                                        ts_sql_ref(r->b, p->right_keys[k], p->pos));
            if (!eq)
                r->overflow = 1;
            else
                add_pred(r, eq);
        }
        flatten(r, p->in[0]);
        flatten(r, p->in[1]);
        return;
    }
    if (r->n == MAX_RELS) {
        r->overflow = 1;
        return;
    }
    r->leaf[r->n++] = p;
}

static int id_index(region *r, const char *id)
{
    for (int i = 0; i < r->nids; i++)
        if (!strcmp(r->id[i], id))
            return i;
    if (r->nids == MAX_IDS) {
        r->overflow = 1;
        return -1;
    }
    r->id[r->nids] = id, r->rel[r->nids] = rel_of(r, id), r->parent[r->nids] = r->nids;
    return r->nids++;
}

static int find(region *r, int i)
{
    while (r->parent[i] != i)
        i = r->parent[i] = r->parent[r->parent[i]];
    return i;
}

static int is_col_eq(const ts_sql_expr *e)
{
    return e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_EQ && e->args[0]->kind == TS_SQL_E_COLUMN &&
           e->args[1]->kind == TS_SQL_E_COLUMN;
}

/* Relation sets of the predicates; column equalities between relations join the equivalence classes. */
static void classify(region *r)
{
    for (int k = 0; k < r->npred; k++) {
        jo_pred *p = &r->pred[k];
        int unknown;
        p->rels = rels_of(r, p->e, &unknown);
        if (unknown) /* reads a column of no relation here (cannot happen after binding): keep it on top */
            p->rels = 0;
        if (is_col_eq(p->e) && popcount(p->rels) == 2) {
            const int a = id_index(r, p->e->args[0]->name), b = id_index(r, p->e->args[1]->name);
            if (a >= 0 && b >= 0)
                r->parent[find(r, a)] = find(r, b);
            p->placed = 1; /* enforced through its class */
            continue;
        }
        const ts_sql_expr *e = p->e;
        if (e->kind == TS_SQL_E_BINARY && (e->op == TS_SQL_OP_EQ || e->op == TS_SQL_OP_NOT_DISTINCT) &&
            popcount(p->rels) == 2) {
            int u0, u1;
            const relset a = rels_of(r, e->args[0], &u0), b = rels_of(r, e->args[1], &u1);
            if (!u0 && !u1 && popcount(a) == 1 && popcount(b) == 1 && a != b)
                p->key = 1, p->lrel = __builtin_ctzll(a), p->rrel = __builtin_ctzll(b);
        }
    }
}

/* ---- derived filters -------------------------------------------------------------------------------------- */

/* Adds cond to the top filter of relation i (creating it), unless an equal condition is there. */
static ts_err leaf_filter(region *r, int i, ts_sql_expr *cond, int *added)
{
    ts_sql_plan *l = r->leaf[i];
    for (ts_sql_plan *f = l; f->kind == TS_P_FILTER; f = f->in[0])
        for (int k = 0; k < f->nconds; k++)
            if (ts_sql_expr_equal(f->conds[k], cond))
                return TS_OK;
    if (added) { /* derived: once per optimization (push-down moves it out of sight of the check above) */
        ts_sql_binder *b = r->b;
        for (int k = 0; k < b->nderived; k++)
            if (ts_sql_expr_equal(b->derived[k], cond))
                return TS_OK;
        if (b->nderived == b->cap_derived) {
            const int cap = b->cap_derived ? 2 * b->cap_derived : 32;
            ts_sql_expr **grown = ts_sql_alloc(b->script, sizeof *grown * (size_t)cap);
            if (!grown)
                return NOMEM(b, cond->pos);
            if (b->nderived)
                memcpy(grown, b->derived, sizeof *grown * (size_t)b->nderived);
            b->derived = grown, b->cap_derived = cap;
        }
        b->derived[b->nderived++] = cond;
    }
    ts_sql_expr **one = ts_sql_alloc(r->b->script, sizeof *one);
    if (!one)
        return NOMEM(r->b, cond->pos);
    one[0] = cond;
    TS_TRY(ts_sql_wrap_filter(r->b, &r->leaf[i], one, 1));
    r->leaf[i]->est_rows = l->est_rows;
    if (added)
        ++*added;
    return TS_OK;
}

/* A predicate of one column against constants (col op c, BETWEEN, IN list, LIKE, IS NOT NULL): its column. */
static const char *constant_predicate_column(const ts_sql_expr *e)
{
    const ts_sql_expr *col = NULL;
    int nconst = 0;
    switch (e->kind) {
    case TS_SQL_E_BINARY:
        if (e->op < TS_SQL_OP_EQ || e->op > TS_SQL_OP_GE)
            return NULL;
        /* fall through */
    case TS_SQL_E_BETWEEN: case TS_SQL_E_IN_LIST: case TS_SQL_E_LIKE:
        for (int i = 0; i < e->nargs; i++) {
            if (e->args[i]->kind == TS_SQL_E_COLUMN && !col)
                col = e->args[i];
            else if (e->args[i]->kind == TS_SQL_E_INT || e->args[i]->kind == TS_SQL_E_FLOAT ||
                     e->args[i]->kind == TS_SQL_E_STRING || e->args[i]->kind == TS_SQL_E_BOOL ||
                     (e->args[i]->kind == TS_SQL_E_CAST && e->args[i]->args[0]->kind == TS_SQL_E_STRING))
                nconst++;
            else
                return NULL;
        }
        return col && nconst == e->nargs - 1 ? col->name : NULL;
    case TS_SQL_E_IS_NULL:
        return e->negated && e->args[0]->kind == TS_SQL_E_COLUMN ? e->args[0]->name : NULL;
    default: return NULL;
    }
}

/* Constant predicates on a column of a class hold for every column of it (after the joins): copied to the other
 * relations. Two columns of a class in one relation must be equal there. */
static ts_err transitive(region *r, int *added)
{
    for (int a = 0; a < r->nids; a++) {
        const int ra = r->rel[a];
        if (ra < 0)
            continue;
        for (int b = 0; b < r->nids; b++) {
            if (b == a || find(r, a) != find(r, b) || r->rel[b] < 0)
                continue;
            const int rb = r->rel[b];
            if (rb == ra && a < b) {
                ts_sql_expr *eq = ts_sql_mk(r->b, TS_SQL_E_BINARY, TS_SQL_OP_EQ, r->leaf[ra]->pos,
                                            ts_sql_ref(r->b, r->id[a], r->leaf[ra]->pos),
                                            ts_sql_ref(r->b, r->id[b], r->leaf[ra]->pos));
                if (!eq)
                    return NOMEM(r->b, r->leaf[ra]->pos);
                TS_TRY(leaf_filter(r, ra, eq, added));
                continue;
            }
            if (rb == ra)
                continue;
            /* the filters on a's relation that restrict a alone, onto b */
            for (ts_sql_plan *f = r->leaf[ra]; f->kind == TS_P_FILTER; f = f->in[0])
                for (int k = 0; k < f->nconds; k++) {
                    const char *col = constant_predicate_column(f->conds[k]);
                    if (!col || strcmp(col, r->id[a]))
                        continue;
                    char *from = (char *)r->id[a], *to = (char *)r->id[b];
                    ts_sql_expr *copy = ts_sql_expr_rename(r->b, f->conds[k], &from, &to, 1);
                    if (!copy)
                        return NOMEM(r->b, f->pos);
                    TS_TRY(leaf_filter(r, rb, copy, added));
                }
        }
    }
    return TS_OK;
}

static void disjuncts(ts_sql_expr *e, ts_sql_expr **out, int *n, int max)
{
    if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_OR) {
        disjuncts(e->args[0], out, n, max);
        disjuncts(e->args[1], out, n, max);
    } else if (*n < max) {
        out[(*n)++] = e;
    } else {
        *n = max + 1;
    }
}

static void conjuncts(ts_sql_expr *e, ts_sql_expr **out, int *n, int max)
{
    if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_AND) {
        conjuncts(e->args[0], out, n, max);
        conjuncts(e->args[1], out, n, max);
    } else if (*n < max) {
        out[(*n)++] = e;
    } else {
        *n = max + 1;
    }
}

/* An OR over several relations: each relation restricted in every branch gets the OR of its restrictions. */
static ts_err or_filters(region *r, const jo_pred *p, int *added)
{
    ts_sql_expr *branch[32];
    int nb = 0;
    disjuncts(p->e, branch, &nb, 32);
    if (nb < 2 || nb > 32 || popcount(p->rels) < 2)
        return TS_OK;
    for (int i = 0; i < r->n; i++) {
        if (!(p->rels >> i & 1))
            continue;
        ts_sql_expr *derived = NULL;
        int ok = 1;
        for (int k = 0; k < nb && ok; k++) {
            ts_sql_expr *c[64], *mine = NULL;
            int nc = 0;
            conjuncts(branch[k], c, &nc, 64);
            for (int j = 0; j < nc && nc <= 64; j++) {
                int unknown;
                if (rels_of(r, c[j], &unknown) == bit(i) && !unknown)
                    mine = ts_sql_and(r->b, mine, c[j]);
            }
            ok = mine != NULL;
            derived = !ok ? NULL : derived ? ts_sql_mk(r->b, TS_SQL_E_BINARY, TS_SQL_OP_OR, p->e->pos, derived, mine) : mine;
        }
        if (ok && derived)
            TS_TRY(leaf_filter(r, i, derived, added));
    }
    return TS_OK;
}

/* ---- rebuilding the region ------------------------------------------------------------------------------- */

typedef struct build_ctx {
    region *r;
    const jo_result *res;
} build_ctx;

/* One column of class cls inside set s (NULL when none). */
static const char *class_member(region *r, int cls, relset s)
{
    for (int i = 0; i < r->nids; i++)
        if (find(r, i) == cls && r->rel[i] >= 0 && (s >> r->rel[i] & 1))
            return r->id[i];
    return NULL;
}

/* Key pairs joining s1 and s2: one per equivalence class with columns on both sides. */
static int class_keys(region *r, relset s1, relset s2, const char **lk, const char **rk, int max)
{
    int n = 0;
    for (int i = 0; i < r->nids && n < max; i++) {
        if (find(r, i) != i)
            continue;
        const char *a = class_member(r, i, s1), *b = class_member(r, i, s2);
        if (a && b)
            lk[n] = a, rk[n++] = b;
    }
    return n;
}

/* Predicates applied exactly at the join of s1 and s2. */
static int newly_covered(const jo_pred *p, relset s1, relset s2)
{
    const relset s = s1 | s2;
    return !p->placed && p->rels && (p->rels & s) == p->rels && (p->rels & s1) != p->rels && (p->rels & s2) != p->rels;
}

/* ---- selectivity for the enumerator ---------------------------------------------------------------------- */

typedef struct sel_ctx {
    region *r;
    double cap;
} sel_ctx;

static ts_sql_colstat capped_stat;

static const ts_sql_colstat *region_stat(const char *id, void *arg)
{
    sel_ctx *c = arg;
    const int i = rel_of(c->r, id);
    const ts_sql_colstat *s = i >= 0 ? ts_sql_stat_of(c->r->leaf[i], id) : NULL;
    if (!s)
        return NULL;
    capped_stat = *s;
    if (capped_stat.ndv > c->cap)
        capped_stat.ndv = c->cap < 1 ? 1 : c->cap;
    return &capped_stat;
}

static double region_sel(void *ctx, relset s1, relset s2, double r1, double r2)
{
    region *r = ctx;
    const char *lk[64], *rk[64];
    const int n = class_keys(r, s1, s2, lk, rk, 64);
    double sel = 1;
    if (n) {
        double nl = 1, nr = 1;
        for (int k = 0; k < n; k++) {
            sel_ctx c1 = {r, r1}, c2 = {r, r2};
            const ts_sql_colstat *a = region_stat(lk[k], &c1);
            nl *= a ? a->ndv : r1;
            const ts_sql_colstat *b = region_stat(rk[k], &c2);
            nr *= b ? b->ndv : r2;
        }
        nl = nl > r1 ? r1 : nl, nr = nr > r2 ? r2 : nr;
        const double m = nl > nr ? nl : nr;
        sel = m >= 1 ? 1 / m : 1;
    }
    for (int k = 0; k < r->npred; k++)
        if (newly_covered(&r->pred[k], s1, s2)) {
            sel_ctx c = {r, r1 > r2 ? r1 : r2};
            sel *= ts_sql_selectivity(r->pred[k].e, region_stat, &c);
        }
    return sel;
}

/* The plan of set s. */
static ts_err build(build_ctx *bc, relset s, ts_sql_plan **out)
{
    region *r = bc->r;
    if (popcount(s) == 1) {
        *out = r->leaf[__builtin_ctzll(s)];
        return TS_OK;
    }
    const jo_split *sp = find_split(bc->res, s);
    if (!sp)
        return ts_sql_error_at(r->b->src, r->leaf[0]->pos, TS_ERR_INTERNAL, "internal: join order lost a join");
    ts_sql_plan *l, *rt, *j;
    TS_TRY(build(bc, sp->left, &l));
    TS_TRY(build(bc, sp->right, &rt));
    const char *lk[8], *rk[8];
    int nkeys = class_keys(r, sp->left, sp->right, lk, rk, 8), null_eq[8] = {0};
    for (int k = 0; k < r->npred && nkeys < 8; k++) { /* expression keys, computed on each side */
        jo_pred *p = &r->pred[k];
        if (!p->key || !newly_covered(p, sp->left, sp->right))
            continue;
        const int flip = !(sp->left >> p->lrel & 1);
        char *a, *c;
        TS_TRY(ts_sql_add_computed(r->b, &l, p->e->args[flip], "key", &a));
        TS_TRY(ts_sql_add_computed(r->b, &rt, p->e->args[!flip], "key", &c));
        null_eq[nkeys] = p->e->op == TS_SQL_OP_NOT_DISTINCT;
        lk[nkeys] = a, rk[nkeys++] = c;
        p->placed = 1;
    }
    TS_TRY(ts_sql_join_node(r->b, l->pos, TS_JOIN_INNER, l, rt, &j));
    for (int k = 0; k < nkeys; k++)
        TS_TRY(ts_sql_join_add_key(r->b, j, lk[k], rk[k], null_eq[k]));
    j->cross = nkeys == 0;
    /* further classes between the sides (over 8 keys) and predicates covered here: a filter above */
    const char *mk[64], *nk[64];
    const int nall = class_keys(r, sp->left, sp->right, mk, nk, 64);
    ts_sql_expr **conds = ts_sql_alloc(r->b->script, sizeof *conds * (size_t)(r->npred + nall + 1));
    int n = 0;
    if (!conds)
        return NOMEM(r->b, j->pos);
    for (int k = 8; k < nall; k++)
        if (!(conds[n++] = ts_sql_mk(r->b, TS_SQL_E_BINARY, TS_SQL_OP_EQ, j->pos, ts_sql_ref(r->b, mk[k], j->pos),
                                     ts_sql_ref(r->b, nk[k], j->pos))))
            return NOMEM(r->b, j->pos);
    for (int k = 0; k < r->npred; k++)
        if (newly_covered(&r->pred[k], sp->left, sp->right)) {
            conds[n++] = r->pred[k].e;
            r->pred[k].placed = 1;
        }
    snprintf(j->note, sizeof j->note, "join order: cost-based (DPccp)");
    *out = j;
    return ts_sql_wrap_filter(r->b, out, conds, n);
}

/* A signature of a region's shape (its join tree over the leaves), to tell whether reordering changed it. */
static void shape(const region *r, const ts_sql_plan *p, char *buf, size_t cap)
{
    const size_t len = strlen(buf);
    if (len + 8 >= cap)
        return;
    for (int i = 0; i < r->n; i++)
        if (r->leaf[i] == p) {
            snprintf(buf + len, cap - len, "%d ", i);
            return;
        }
    if (!p->in[0]) {
        snprintf(buf + len, cap - len, "? ");
        return;
    }
    if (p->kind == TS_P_FILTER || !p->in[1]) {
        shape(r, p->in[0], buf, cap);
        return;
    }
    snprintf(buf + len, cap - len, "(");
    shape(r, p->in[0], buf, cap);
    shape(r, p->in[1], buf, cap);
    snprintf(buf + strlen(buf), cap - strlen(buf), ")");
}

static ts_err order_region(ts_sql_binder *b, ts_sql_plan **pp, int *changed)
{
    region *r = calloc(1, sizeof *r);
    jo_graph *g = calloc(1, sizeof *g);
    jo_result *res = calloc(1, sizeof *res);
    ts_err err = TS_OK;
    if (!r || !g || !res) {
        free(r), free(g), free(res);
        return NOMEM(b, (*pp)->pos);
    }
    r->b = b;
    flatten(r, *pp);
    if (r->overflow || r->n < 2)
        goto done;
    char before[1024] = "", after[1024] = "";
    shape(r, *pp, before, sizeof before);
    classify(r);
    if (r->overflow)
        goto done;
    /* single-relation predicates belong to their relation (push-down normally put them there already) */
    for (int k = 0; k < r->npred && !err; k++) {
        jo_pred *p = &r->pred[k];
        if (!p->placed && popcount(p->rels) == 1) {
            err = leaf_filter(r, __builtin_ctzll(p->rels), p->e, NULL);
            p->placed = 1;
        }
    }
    /* implied filters: transitive through the classes, and from ORs over several relations */
    int added = 0;
    if (!err)
        err = transitive(r, &added);
    for (int k = 0; k < r->npred && !err; k++)
        if (!r->pred[k].placed && popcount(r->pred[k].rels) >= 2)
            err = or_filters(r, &r->pred[k], &added);
    for (int i = 0; i < r->n && !err; i++)
        err = ts_sql_estimate(b, r->leaf[i]);
    if (err)
        goto done;
    g->n = r->n, g->nranks = b->ctx->size, g->sel = region_sel, g->ctx = r;
    for (int i = 0; i < r->n; i++) {
        g->rows[i] = r->leaf[i]->est_rows > 1 ? r->leaf[i]->est_rows : 1;
        double w = 0;
        for (int c = 0; c < r->leaf[i]->ncols; c++)
            w += r->leaf[i]->stats ? r->leaf[i]->stats[c].width : 8;
        g->width[i] = w > 0 ? w : 8;
    }
    for (int a = 0; a < r->nids; a++)
        for (int c = 0; c < r->nids; c++)
            if (a != c && find(r, a) == find(r, c) && r->rel[a] >= 0 && r->rel[c] >= 0 && r->rel[a] != r->rel[c])
                g->adj[r->rel[a]] |= bit(r->rel[c]);
    for (int k = 0; k < r->npred; k++)
        if (r->pred[k].key)
            g->adj[r->pred[k].lrel] |= bit(r->pred[k].rrel), g->adj[r->pred[k].rrel] |= bit(r->pred[k].lrel);
    if (enumerate(g, res)) {
        err = NOMEM(b, (*pp)->pos);
        goto done;
    }
    build_ctx bc = {r, res};
    ts_sql_plan *tree = NULL;
    for (int c = 0; c < res->nroots && !err; c++) {
        ts_sql_plan *part;
        err = build(&bc, res->root[c], &part);
        if (err)
            break;
        if (!tree) {
            tree = part;
            continue;
        }
        ts_sql_plan *j;
        err = ts_sql_join_node(b, part->pos, TS_JOIN_INNER, tree, part, &j);
        if (err)
            break;
        j->cross = 1; /* the query has a cross product here */
        snprintf(j->note, sizeof j->note, "cross product (no join condition connects these inputs)");
        tree = j;
    }
    if (err)
        goto done;
    /* what is left: predicates over no relation (constants) and, after cross products, the rest */
    ts_sql_expr **rest = ts_sql_alloc(b->script, sizeof *rest * (size_t)(r->npred + 1));
    int nrest = 0;
    if (!rest) {
        err = NOMEM(b, (*pp)->pos);
        goto done;
    }
    for (int k = 0; k < r->npred; k++)
        if (!r->pred[k].placed)
            rest[nrest++] = r->pred[k].e;
    if ((err = ts_sql_wrap_filter(b, &tree, rest, nrest)))
        goto done;
    shape(r, tree, after, sizeof after);
    if (strcmp(before, after) || added) {
        *pp = tree;
        *changed = 1;
    }
done:
    free(r), free(g), free(res);
    return err;
}

static ts_err order_all(ts_sql_binder *b, ts_sql_plan **pp, int *changed)
{
    ts_sql_plan *p = *pp;
    if (region_root(p)) {
        TS_TRY(order_region(b, pp, changed));
        /* the leaves (below the region) may hold regions of their own */
        region *r = calloc(1, sizeof *r);
        if (!r)
            return NOMEM(b, p->pos);
        r->b = b;
        flatten(r, *pp);
        ts_err err = TS_OK;
        for (int i = 0; i < r->n && !err; i++)
            for (int k = 0; k < 2 && !err; k++)
                if (r->leaf[i]->in[k])
                    err = order_all(b, &r->leaf[i]->in[k], changed);
        free(r);
        return err;
    }
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(order_all(b, &p->in[i], changed));
    return TS_OK;
}

ts_err ts_sql_order_joins(ts_sql_binder *b, ts_sql_plan **root, int *changed)
{
    return order_all(b, root, changed);
}

