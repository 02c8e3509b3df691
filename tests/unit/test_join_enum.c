/* The join enumerator (sql/ts_sql_joinorder.h) on small graphs: chains, stars, cycles, cliques, a disconnected
 * graph and a large star (greedy). Expected: the tree joins every relation once, never joins two sides no edge
 * connects (no cross products) unless the graph is disconnected, and for up to 7 relations costs exactly the
 * optimum found by an independent brute force over every bushy tree without cross products (this file's own
 * implementation of the documented cost model). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_sql_joinorder.h"
#include "ts_test.h"

#define MAXN 20

typedef struct graph {
    int n, nedges, nranks;
    double rows[MAXN], width[MAXN];
    int a[64], b[64];
    double sel[64];
} graph;

static unsigned mask_bit(int i) { return 1u << i; }

static double edge_sel(const graph *g, unsigned s1, unsigned s2, int *connected)
{
    double s = 1;
    *connected = 0;
    for (int k = 0; k < g->nedges; k++) {
        const unsigned ea = mask_bit(g->a[k]), eb = mask_bit(g->b[k]);
        if (((s1 & ea) && (s2 & eb)) || ((s1 & eb) && (s2 & ea)))
            s *= g->sel[k], *connected = 1;
    }
    return s;
}

static double width_of(const graph *g, unsigned s)
{
    double w = 0;
    for (int i = 0; i < g->n; i++)
        if (s & mask_bit(i))
            w += g->width[i];
    return w;
}

/* The documented model: probe rows + 2 build rows + output rows, plus moved bytes / 32 (a build side under 64 MiB
 * is broadcast, else both sides are shuffled); the cheaper of the two orientations. */
static double oriented(const graph *g, double rp, double bp, double rb, double bb, double out)
{
    double c = rp + 2 * rb + out;
    if (g->nranks > 1)
        c += (bb < 64.0 * 1024 * 1024 ? bb * (g->nranks - 1) : (bb + bp) * (g->nranks - 1) / g->nranks) / 32;
    return c;
}

static double cost_of_join(const graph *g, double r1, double w1, double r2, double w2, double out)
{
    const double a = oriented(g, r1, r1 * w1, r2, r2 * w2, out), b = oriented(g, r2, r2 * w2, r1, r1 * w1, out);
    return a < b ? a : b;
}

static int connected_set(const graph *g, unsigned s)
{
    unsigned seen = s & (~s + 1), grown;
    do {
        grown = seen;
        for (int k = 0; k < g->nedges; k++) {
            const unsigned ea = mask_bit(g->a[k]), eb = mask_bit(g->b[k]);
            if ((ea & s) && (eb & s) && ((ea & seen) || (eb & seen)))
                grown |= ea | eb;
        }
        if (grown == seen)
            break;
        seen = grown;
    } while (1);
    return seen == s;
}

/* Brute force: the cheapest bushy tree without cross products for set s (memoized over subsets). */
static double best(const graph *g, unsigned s, double *memo_cost, double *memo_rows, int *have)
{
    if (have[s])
        return memo_cost[s];
    if (!(s & (s - 1))) {
        const int i = __builtin_ctz(s);
        have[s] = 1, memo_cost[s] = 0, memo_rows[s] = g->rows[i];
        return 0;
    }
    double bc = INFINITY, br = 0;
    for (unsigned s1 = (s - 1) & s; s1; s1 = (s1 - 1) & s) {
        const unsigned s2 = s & ~s1;
        int conn;
        const double sel = edge_sel(g, s1, s2, &conn);
        if (!conn || !connected_set(g, s1) || !connected_set(g, s2))
            continue;
        const double c1 = best(g, s1, memo_cost, memo_rows, have), c2 = best(g, s2, memo_cost, memo_rows, have);
        const double r1 = memo_rows[s1], r2 = memo_rows[s2], out = r1 * r2 * sel;
        const double c = c1 + c2 + cost_of_join(g, r1, width_of(g, s1), r2, width_of(g, s2), out);
        if (c < bc)
            bc = c, br = out;
    }
    have[s] = 1, memo_cost[s] = bc, memo_rows[s] = br;
    return bc;
}

/* Parses "(a b)" trees; checks each join's sides are connected by an edge; returns the set, or 0 on a problem. */
static unsigned check_tree(const graph *g, const char **p, int *cross)
{
    while (**p == ' ')
        (*p)++;
    if (**p == '(') {
        (*p)++;
        const unsigned l = check_tree(g, p, cross), r = check_tree(g, p, cross);
        while (**p == ' ')
            (*p)++;
        if (**p != ')' || !l || !r || (l & r))
            return 0;
        (*p)++;
        int conn;
        edge_sel(g, l, r, &conn);
        *cross += !conn;
        return l | r;
    }
    char *end;
    const long i = strtol(*p, &end, 10);
    if (end == *p || i < 0 || i >= g->n)
        return 0;
    *p = end;
    return mask_bit((int)i);
}

/* The cost of a parsed tree under the model (rows of a set from its own split). */
static double tree_cost(const graph *g, const char **p, unsigned *set, double *rows)
{
    while (**p == ' ')
        (*p)++;
    if (**p == '(') {
        (*p)++;
        unsigned l, r;
        double rl, rr;
        const double cl = tree_cost(g, p, &l, &rl), cr = tree_cost(g, p, &r, &rr);
        while (**p == ' ')
            (*p)++;
        (*p)++;
        int conn;
        const double out = rl * rr * edge_sel(g, l, r, &conn);
        *set = l | r, *rows = out;
        return cl + cr + cost_of_join(g, rl, width_of(g, l), rr, width_of(g, r), out);
    }
    char *end;
    const long i = strtol(*p, &end, 10);
    *p = end, *set = mask_bit((int)i), *rows = g->rows[i];
    return 0;
}

static void run(const char *name, const graph *g, int optimal, int expect_components)
{
    char tree[1024];
    const double cost = ts_sql_enumerate_for_test(g->n, g->rows, g->width, g->nedges, g->a, g->b, g->sel, g->nranks,
                                                  tree, sizeof tree);
    CHECK(cost >= 0, "%s: enumeration failed", name);
    /* components are joined by " x " */
    unsigned all = 0;
    int cross = 0, components = 0;
    const char *p = tree;
    while (*p) {
        const unsigned s = check_tree(g, &p, &cross);
        CHECK(s && !(s & all), "%s: malformed tree '%s'", name, tree);
        all |= s, components++;
        while (*p == ' ' || *p == 'x')
            p++;
    }
    CHECK(all == (1u << g->n) - 1, "%s: tree '%s' does not join every relation", name, tree);
    CHECK(cross == 0, "%s: tree '%s' has %d cross products inside a component", name, tree, cross);
    CHECK(components == expect_components, "%s: %d components in '%s', expected %d", name, components, tree,
          expect_components);
    if (!optimal)
        return;
    const unsigned full = (1u << g->n) - 1;
    double *mc = calloc(full + 1, sizeof *mc), *mr = calloc(full + 1, sizeof *mr);
    int *have = calloc(full + 1, sizeof *have);
    const double want = best(g, full, mc, mr, have);
    const char *q = tree;
    unsigned set;
    double rows;
    const double recomputed = tree_cost(g, &q, &set, &rows);
    CHECK(fabs(cost - recomputed) <= 1e-9 * recomputed, "%s: reported cost %.6g, the tree's %.6g", name, cost,
          recomputed);
    CHECK(fabs(cost - want) <= 1e-9 * want, "%s: cost %.6g, optimum %.6g ('%s')", name, cost, want, tree);
    free(mc), free(mr), free(have);
}

static void edge(graph *g, int a, int b, double sel)
{
    g->a[g->nedges] = a, g->b[g->nedges] = b, g->sel[g->nedges++] = sel;
}

int main(void)
{
    ts_test_rng rng = ts_rng_seed(7);
    for (int nranks = 1; nranks <= 4; nranks += 3) {
        /* a chain: fact - dims of falling size */
        graph chain = {.n = 5, .nranks = nranks};
        const double cr[] = {6e6, 1.5e6, 1.5e5, 25, 5};
        for (int i = 0; i < 5; i++)
            chain.rows[i] = cr[i], chain.width[i] = 16;
        for (int i = 0; i + 1 < 5; i++)
            edge(&chain, i, i + 1, 1 / cr[i + 1]);
        run("chain", &chain, 1, 1);
        /* a star: the fact table in the middle */
        graph star = {.n = 6, .nranks = nranks};
        star.rows[0] = 6e6, star.width[0] = 32;
        for (int i = 1; i < 6; i++) {
            star.rows[i] = pow(10, i), star.width[i] = 24;
            edge(&star, 0, i, 1 / star.rows[i]);
        }
        run("star", &star, 1, 1);
        /* a cycle with a low-cardinality link (TPC-H q5's customer.nation = supplier.nation) */
        graph cyc = {.n = 6, .nranks = nranks};
        const double qr[] = {1.5e5, 2.3e5, 6e6, 1e4, 5, 1};
        for (int i = 0; i < 6; i++)
            cyc.rows[i] = qr[i], cyc.width[i] = 16;
        edge(&cyc, 0, 1, 1 / 1.5e5), edge(&cyc, 1, 2, 1 / 1.5e6), edge(&cyc, 2, 3, 1 / 1e4);
        edge(&cyc, 0, 3, 1 / 25.0), edge(&cyc, 3, 4, 1 / 5.0), edge(&cyc, 4, 5, 1 / 5.0);
        run("cycle", &cyc, 1, 1);
        /* random connected graphs of 4 to 7 relations (a spanning chain plus random edges) */
        for (int t = 0; t < 40; t++) {
            graph r = {.n = 4 + (int)ts_rng_below(&rng, 4), .nranks = nranks};
            for (int i = 0; i < r.n; i++)
                r.rows[i] = 1 + (double)ts_rng_below(&rng, 1000000), r.width[i] = 8 + (double)ts_rng_below(&rng, 64);
            for (int i = 1; i < r.n; i++)
                edge(&r, (int)ts_rng_below(&rng, (uint64_t)i), i, 1 / (1 + (double)ts_rng_below(&rng, 100000)));
            for (int k = (int)ts_rng_below(&rng, 4); k > 0; k--) {
                const int a = (int)ts_rng_below(&rng, (uint64_t)r.n), b = (int)ts_rng_below(&rng, (uint64_t)r.n);
                if (a != b)
                    edge(&r, a, b, 1 / (1 + (double)ts_rng_below(&rng, 1000)));
            }
            run("random", &r, 1, 1);
        }
        /* a clique of 7 */
        graph clique = {.n = 7, .nranks = nranks};
        for (int i = 0; i < 7; i++) {
            clique.rows[i] = 100.0 * (i + 1), clique.width[i] = 8;
            for (int j = 0; j < i; j++)
                edge(&clique, j, i, 0.01);
        }
        run("clique", &clique, 1, 1);
        /* disconnected: two components are cross-joined (the query has the cross product) */
        graph dis = {.n = 4, .nranks = nranks};
        for (int i = 0; i < 4; i++)
            dis.rows[i] = 10.0 * (i + 1), dis.width[i] = 8;
        edge(&dis, 0, 1, 0.1), edge(&dis, 2, 3, 0.1);
        run("disconnected", &dis, 0, 2);
        /* beyond the dynamic programming limit: greedy, still without cross products */
        graph big = {.n = 18, .nranks = nranks};
        big.rows[0] = 1e7, big.width[0] = 64;
        for (int i = 1; i < 18; i++) {
            big.rows[i] = 100.0 * i, big.width[i] = 16;
            edge(&big, i < 9 ? 0 : i - 8, i, 1 / big.rows[i]);
        }
        run("greedy", &big, 0, 1);
    }
    return TS_TEST_DONE("join_enum");
}
