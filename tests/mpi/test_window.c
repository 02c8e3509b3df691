/* engine/dist/ts_window: window functions over a distributed table, compared with a naive reference.
 *
 * Rows are functions of their global id (ints, floats with NaN/inf/-0, dates, strings, a dictionary column and a
 * decimal, all with NULLs). Each scenario builds the table (block-distributed, or all on rank 0), runs
 * ts_window, gathers the result on rank 0 and checks every input value and every function for every row against
 * a quadratic reference: for each row, scan its whole partition and apply the frame definition literally.
 * Row order among peers is unspecified (it depends on the number of ranks), so scenarios with ties only check
 * what SQL defines: ROW_NUMBER must be a permutation of the peer group's positions, NTILE's values must be the
 * multiset of the positions' buckets; positional functions (ROWS frames, LAG/LEAD, FIRST/LAST_VALUE) appear
 * where the ORDER BY keys are unique (id is the last key) or where the value is the order key itself. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_window.h"

/* Dictionary words deliberately not in alphabetical code order: DICT orders by text, not code. */
static const char *const WORDS[] = {"pear", "apple", "fig", "kiwi", "date"};
static const char *const TEXTS[] = {"", "a", "ab", "abc", "b", "ba", "zeta", "Z", "long string value", "ab "};
static ts_dict *g_dict;

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* ---- data ------------------------------------------------------------------------------------------------ */

typedef struct gen {
    uint64_t seed;
    int nkeys;    /* values of k */
    int vrange;   /* values of v (small: many ties) */
    int all_on_0; /* every row on rank 0, other ranks empty */
} gen;

enum { C_ID, C_K, C_W, C_V, C_F, C_E, C_D, C_S, C_X, C_C, C_DEF, NCOL };
static const char *const COLS[NCOL] = {"id", "k", "w", "v", "f", "e", "d", "s", "x", "c", "def"};
static const ts_type TYPES[NCOL] = {TS_T_INT64, TS_T_INT32, TS_T_DICT, TS_T_INT64, TS_T_FLOAT64, TS_T_FLOAT64,
                                    TS_T_DATE, TS_T_STRING, TS_T_INT32, TS_T_DECIMAL, TS_T_INT64};

/* A value of any column: int-like (i), float (f) or text (s, len). */
typedef struct val {
    char kind; /* 'i', 'f', 's' */
    int null;
    int64_t i;
    double f;
    const char *s;
    int64_t len;
} val;

static val vnull(char kind) { return (val){kind, 1, 0, 0, NULL, 0}; }
static val vint(int64_t i) { return (val){'i', 0, i, 0, NULL, 0}; }
static val vflt(double f) { return (val){'f', 0, 0, f, NULL, 0}; }
static val vstr(const char *s) { return (val){'s', 0, 0, 0, s, (int64_t)strlen(s)}; }

static double special(uint64_t h)
{
    static const double sp[] = {INFINITY, -INFINITY, NAN, -0.0, 0.0, 1e300};
    return sp[h % 6];
}

/* Column c of global row g. */
static val cell(const gen *gn, int64_t g, int c)
{
    const uint64_t h = mix((uint64_t)g * 31 + gn->seed * 7919 + (uint64_t)c * 104729);
    const int null = c != C_ID && h % 9 == 0;
    const char kind = TYPES[c] == TS_T_FLOAT64 ? 'f' : TYPES[c] == TS_T_STRING || TYPES[c] == TS_T_DICT ? 's' : 'i';
    if (null)
        return vnull(kind);
    const uint64_t r = h >> 8;
    switch (c) {
    case C_ID: return vint(g);
    case C_K: return vint((int64_t)(r % (uint64_t)gn->nkeys));
    case C_W: return vstr(WORDS[r % 5]);
    case C_V: return vint((int64_t)(r % (uint64_t)gn->vrange) - 3);
    case C_F: /* mostly small values, now and then huge ones: sliding sums must not lose the small ones */
        return vflt(r % 50 == 0 ? (r % 100 < 50 ? 1e15 : -3e14) : (double)((int64_t)(r % 20001) - 10000) / 64);
    case C_E: return vflt(r % 4 == 0 ? special(r / 4) : (double)(r % 7) - 3);
    case C_D: return vint(18000 + (int64_t)(r % 400));
    case C_S: return vstr(TEXTS[r % 10]);
    case C_X: return vint((int64_t)(r % 2000001) - 1000000);
    case C_C: return vint((int64_t)(r % 1000000) - 300000); /* DECIMAL(.., 2) raw */
    default: return vint((int64_t)(r % 1000) + 5000);
    }
}

static ts_table *build(const gen *gn, int64_t n, int rank, int size)
{
    int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
    if (gn->all_on_0)
        lo = 0, hi = rank == 0 ? n : 0;
    ts_table *t;
    CHECK_OK(ts_table_new("t", &t));
    for (int c = 0; c < NCOL; c++) {
        ts_column *col;
        CHECK_OK(ts_table_add(t, COLS[c], TYPES[c], TYPES[c] == TS_T_DECIMAL ? 2 : 0,
                              TYPES[c] == TS_T_DICT ? g_dict : NULL, &col));
        CHECK_OK(ts_column_reserve(col, hi - lo, 0));
        for (int64_t g = lo; g < hi; g++) {
            const val v = cell(gn, g, c);
            const int64_t i = g - lo;
            switch (TYPES[c]) {
            case TS_T_FLOAT64: TS_COL(col, double)[i] = v.f; break;
            case TS_T_INT64:
            case TS_T_DECIMAL: TS_COL(col, int64_t)[i] = v.i; break;
            case TS_T_STRING: CHECK_OK(ts_column_append_string(col, v.null ? "" : v.s, v.len)); break;
            case TS_T_DICT: TS_COL(col, int32_t)[i] = v.null ? 0 : ts_dict_find(g_dict, v.s, (size_t)v.len); break;
            default: TS_COL(col, int32_t)[i] = (int32_t)v.i; break;
            }
            col->len = i + 1;
            if (v.null)
                CHECK_OK(ts_column_set_null(col, i));
        }
    }
    return t;
}

/* Row r of an output column as a val. */
static val out_val(const ts_column *c, int64_t r)
{
    const char kind = c->type == TS_T_FLOAT64 ? 'f' : c->type == TS_T_STRING || c->type == TS_T_DICT ? 's' : 'i';
    if (!ts_column_is_valid(c, r))
        return vnull(kind);
    switch (c->type) {
    case TS_T_FLOAT64: return vflt(TS_COL(c, double)[r]);
    case TS_T_INT64:
    case TS_T_DECIMAL: return vint(TS_COL(c, int64_t)[r]);
    case TS_T_BOOL: return vint(TS_COL(c, uint8_t)[r]);
    case TS_T_STRING: {
        const int64_t *o = TS_COL(c, int64_t);
        return (val){'s', 0, 0, 0, c->bytes + o[r], o[r + 1] - o[r]};
    }
    case TS_T_DICT: {
        int64_t len;
        const char *s = ts_dict_value(c->dict, TS_COL(c, int32_t)[r], &len);
        return (val){'s', 0, 0, 0, s, len};
    }
    default: return vint(TS_COL(c, int32_t)[r]);
    }
}

/* Value order without NULLs: numbers, NaN above +inf, -0 == 0; text bytewise. */
static int vcmp(val a, val b)
{
    if (a.kind == 'f') {
        const int na = a.f != a.f, nb = b.f != b.f;
        if (na || nb)
            return na - nb;
        return (a.f > b.f) - (a.f < b.f);
    }
    if (a.kind == 's') {
        const int64_t m = a.len < b.len ? a.len : b.len;
        const int c = m ? memcmp(a.s, b.s, (size_t)m) : 0;
        return c ? (c > 0) - (c < 0) : (a.len > b.len) - (a.len < b.len);
    }
    return (a.i > b.i) - (a.i < b.i);
}

static int vsame(val a, val b) { return a.null == b.null && (a.null || vcmp(a, b) == 0); }

/* ---- scenarios --------------------------------------------------------------------------------------------- */

enum { EXACT, PERM, MULTI }; /* how to check: exactly, as a permutation among peers, as a multiset among peers */

typedef struct tfn {
    ts_window_fn fn;
    int check;
} tfn;

typedef struct scenario {
    const char *name;
    int64_t n;
    gen gn;
    const char *part[3];
    int npart;
    ts_sort_key order[3];
    int norder;
    tfn fns[24];
    int nfns;
} scenario;

#define FN(k, in, out) {.kind = TS_WIN_##k, .input = (in), .output = (out)}
#define FNO(k, in, out, off) {.kind = TS_WIN_##k, .input = (in), .output = (out), .offset = (off)}
#define FNF(k, in, out, rows, s, sn, e, en)                                                                    \
    {.kind = TS_WIN_##k, .input = (in), .output = (out), .has_frame = 1,                                     \
     .frame = {(rows), TS_FRAME_##s, TS_FRAME_##e, (sn), (en)}}

static const scenario SCENARIOS[] = {
    {"ties: partition k, order v desc nulls last", 3000, {1, 37, 9, 0}, {"k"}, 1, {{"v", 1, 1}}, 1,
     {{FN(RANK, NULL, "rank"), EXACT}, {FN(DENSE_RANK, NULL, "dense"), EXACT},
      {FN(PERCENT_RANK, NULL, "prank"), EXACT}, {FN(CUME_DIST, NULL, "cume"), EXACT},
      {FN(ROW_NUMBER, NULL, "rn"), PERM}, {FNO(NTILE, NULL, "nt3", 3), MULTI}, {FNO(NTILE, NULL, "nt50", 50), MULTI},
      {FN(COUNT, NULL, "cnt"), EXACT}, {FN(COUNT, "f", "cntf"), EXACT}, {FN(SUM, "x", "sumx"), EXACT},
      {FN(SUM, "f", "sumf"), EXACT}, {FN(AVG, "c", "avgc"), EXACT}, {FN(AVG, "x", "avgx"), EXACT},
      {FN(MIN, "s", "mins"), EXACT}, {FN(MAX, "d", "maxd"), EXACT}, {FN(MAX, "w", "maxw"), EXACT},
      {FN(FIRST_VALUE, "v", "firstv"), EXACT}, {FN(LAST_VALUE, "v", "lastv"), EXACT},
      {FNF(SUM, "x", "sumx_all", 0, UNBOUNDED_PRECEDING, 0, UNBOUNDED_FOLLOWING, 0), EXACT},
      {FNF(MIN, "e", "mine_peers", 0, CURRENT_ROW, 0, CURRENT_ROW, 0), EXACT},
      {FNF(COUNT, NULL, "cnt_tail", 0, CURRENT_ROW, 0, UNBOUNDED_FOLLOWING, 0), EXACT}},
     21},
    {"unique: partition (k, w), order d nulls first, id desc", 3000, {2, 5, 9, 0}, {"k", "w"}, 2,
     {{"d", 0, 0}, {"id", 1, 0}}, 2,
     {{FN(ROW_NUMBER, NULL, "rn"), EXACT}, {FNO(NTILE, NULL, "nt4", 4), EXACT},
      {FNF(SUM, "f", "sumf_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(AVG, "f", "avgf_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(COUNT, "x", "cntx_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(MIN, "s", "mins_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(MAX, "e", "maxe_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(SUM, "x", "sumx_run", 1, UNBOUNDED_PRECEDING, 0, CURRENT_ROW, 0), EXACT},
      {FNF(SUM, "c", "sumc_tail", 1, CURRENT_ROW, 0, UNBOUNDED_FOLLOWING, 0), EXACT},
      {FNF(AVG, "x", "avgx_tail", 1, CURRENT_ROW, 0, UNBOUNDED_FOLLOWING, 0), EXACT},
      {FNF(FIRST_VALUE, "s", "first_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(LAST_VALUE, "w", "last_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(MAX, "x", "max_ahead", 1, FOLLOWING, 1, FOLLOWING, 3), EXACT},
      {FNF(SUM, "f", "sum_behind", 1, PRECEDING, 3, PRECEDING, 1), EXACT},
      {FNF(COUNT, NULL, "cnt_empty", 1, FOLLOWING, 2, PRECEDING, 2), EXACT},
      {FN(FIRST_VALUE, "s", "first_def"), EXACT}, {FN(LAST_VALUE, "f", "last_def"), EXACT},
      {FNO(LAG, "s", "lag_s", 1), EXACT}, {{.kind = TS_WIN_LEAD, .input = "v", .output = "lead_v2", .offset = 2,
                                             .default_col = "def"}, EXACT},
      {FNO(LAG, "d", "lag_d3", 3), EXACT}, {FNO(LEAD, "w", "lead_w", 1), EXACT}, {FNO(LAG, "e", "lag_neg", -1), EXACT},
      {FN(MIN, "f", "minf_run"), EXACT}},
     23},
    {"one huge partition: order e desc nulls first (NaN, inf, -0)", 2000, {3, 5, 4, 0}, {NULL}, 0,
     {{"e", 1, 0}}, 1,
     {{FN(RANK, NULL, "rank"), EXACT}, {FN(DENSE_RANK, NULL, "dense"), EXACT}, {FN(CUME_DIST, NULL, "cume"), EXACT},
      {FN(PERCENT_RANK, NULL, "prank"), EXACT}, {FN(ROW_NUMBER, NULL, "rn"), PERM},
      {FNO(NTILE, NULL, "nt7", 7), MULTI}, {FN(SUM, "x", "sumx"), EXACT}, {FN(AVG, "f", "avgf"), EXACT},
      {FN(SUM, "e", "sume"), EXACT}, {FN(COUNT, NULL, "cnt"), EXACT}, {FN(MIN, "s", "mins"), EXACT},
      {FN(MAX, "s", "maxs"), EXACT}, {FN(LAST_VALUE, "e", "laste"), EXACT}}, 13},
    {"one huge partition on rank 0 only: order id, rows frames", 2000, {4, 5, 4, 1}, {NULL}, 0, {{"id", 0, 0}}, 1,
     {{FN(ROW_NUMBER, NULL, "rn"), EXACT}, {FNF(SUM, "f", "sumf_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(MAX, "s", "maxs_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT},
      {FNF(MIN, "e", "mine_tail", 1, CURRENT_ROW, 0, UNBOUNDED_FOLLOWING, 0), EXACT},
      {FNF(SUM, "e", "sume_21", 1, PRECEDING, 2, FOLLOWING, 1), EXACT}, {FNO(LEAD, "f", "leadf", 5), EXACT},
      {FN(SUM, "f", "sumf_run"), EXACT}}, 7},
    {"no order: partition s (string)", 2000, {5, 5, 4, 0}, {"s"}, 1, {{NULL, 0, 0}}, 0,
     {{FN(RANK, NULL, "rank"), EXACT}, {FN(CUME_DIST, NULL, "cume"), EXACT}, {FN(ROW_NUMBER, NULL, "rn"), PERM},
      {FNO(NTILE, NULL, "nt2", 2), MULTI}, {FN(COUNT, NULL, "cnt"), EXACT}, {FN(SUM, "x", "sumx"), EXACT},
      {FN(MIN, "d", "mind"), EXACT}, {FN(MAX, "f", "maxf"), EXACT}, {FN(AVG, "c", "avgc"), EXACT}}, 9},
    {"dict order: partition (e float), order w desc, s", 2000, {6, 5, 4, 0}, {"e"}, 1,
     {{"w", 1, 0}, {"s", 0, 1}}, 2,
     {{FN(RANK, NULL, "rank"), EXACT}, {FN(DENSE_RANK, NULL, "dense"), EXACT}, {FN(ROW_NUMBER, NULL, "rn"), PERM},
      {FN(COUNT, "x", "cntx"), EXACT}, {FN(MAX, "s", "maxs"), EXACT}, {FN(LAST_VALUE, "w", "lastw"), EXACT}}, 6},
    {"no partition, no order", 1500, {7, 5, 4, 0}, {NULL}, 0, {{NULL, 0, 0}}, 0,
     {{FN(COUNT, NULL, "cnt"), EXACT}, {FN(SUM, "c", "sumc"), EXACT}, {FN(AVG, "f", "avgf"), EXACT},
      {FN(MAX, "s", "maxs"), EXACT}, {FN(DENSE_RANK, NULL, "dense"), EXACT}}, 5},
    {"tiny: 3 rows (empty ranks)", 3, {8, 2, 4, 0}, {"k"}, 1, {{"id", 0, 0}}, 1,
     {{FN(ROW_NUMBER, NULL, "rn"), EXACT}, {FNO(LAG, "x", "lagx", 1), EXACT},
      {FNF(SUM, "x", "sumx", 1, PRECEDING, 1, CURRENT_ROW, 0), EXACT}, {FN(PERCENT_RANK, NULL, "prank"), EXACT}}, 4},
    {"empty table", 0, {9, 2, 4, 0}, {"k"}, 1, {{"v", 0, 0}}, 1,
     {{FN(ROW_NUMBER, NULL, "rn"), EXACT}, {FN(SUM, "f", "sumf"), EXACT}, {FNO(LEAD, "s", "leads", 1), EXACT}}, 3},
};

/* ---- the reference --------------------------------------------------------------------------------------- */

typedef struct ref {
    const scenario *sc;
    int64_t n;
    val (*cells)[NCOL]; /* cells[g][c] */
    int64_t *part;      /* part[g]: smallest row of g's partition */
    int64_t *pos;       /* pos[g]: position in the partition's order, ties broken by id */
    char *lead;         /* lead[g]: g has the smallest id of its peer group */
    int64_t *before;    /* before[g]: rows of the partition ordered strictly before g (memoizes the order) */
    int ord_col[3], part_col[3];
    int64_t **members;  /* members[g]: rows of g's partition (shared per partition) */
    int64_t *nmembers;
} ref;

static int col_index(const char *name)
{
    for (int c = 0; c < NCOL; c++)
        if (strcmp(COLS[c], name) == 0)
            return c;
    return -1;
}

/* The ORDER BY comparison of rows a and b, from the definition. */
static int ocmp_cells(const ref *R, int64_t a, int64_t b)
{
    for (int k = 0; k < R->sc->norder; k++) {
        const ts_sort_key *key = &R->sc->order[k];
        const int c = R->ord_col[k];
        const val x = R->cells[a][c], y = R->cells[b][c];
        int d;
        if (x.null || y.null)
            d = x.null == y.null ? 0 : (x.null ? -1 : 1) * (key->nulls_last ? -1 : 1);
        else
            d = vcmp(x, y) * (key->desc ? -1 : 1);
        if (d)
            return d;
    }
    return 0;
}

/* The same, memoized: rows are ordered like their counts of rows ordered before them. */
static int ocmp(const ref *R, int64_t a, int64_t b)
{
    return (R->before[a] > R->before[b]) - (R->before[a] < R->before[b]);
}

static int same_part(const ref *R, int64_t a, int64_t b)
{
    for (int k = 0; k < R->sc->npart; k++) {
        const int c = R->part_col[k];
        if (!vsame(R->cells[a][c], R->cells[b][c]))
            return 0;
    }
    return 1;
}

static void ref_build(ref *R, const scenario *sc)
{
    const int64_t n = sc->n;
    R->sc = sc, R->n = n;
    for (int k = 0; k < sc->norder; k++)
        R->ord_col[k] = col_index(sc->order[k].name);
    for (int k = 0; k < sc->npart; k++)
        R->part_col[k] = col_index(sc->part[k]);
    R->before = malloc(8 * (size_t)(n + 1));
    R->cells = malloc(sizeof *R->cells * (size_t)(n + 1));
    R->part = malloc(8 * (size_t)(n + 1)), R->pos = malloc(8 * (size_t)(n + 1)), R->lead = malloc((size_t)n + 1);
    R->members = calloc((size_t)n + 1, sizeof *R->members), R->nmembers = calloc((size_t)n + 1, 8);
    for (int64_t g = 0; g < n; g++)
        for (int c = 0; c < NCOL; c++)
            R->cells[g][c] = cell(&sc->gn, g, c);
    for (int64_t g = 0; g < n; g++) {
        int64_t p = 0;
        while (!same_part(R, p, g))
            p++;
        R->part[g] = p;
        if (p == g) {
            R->members[g] = malloc(8 * (size_t)(n + 1));
            for (int64_t j = g; j < n; j++)
                if (same_part(R, g, j))
                    R->members[g][R->nmembers[g]++] = j;
        }
    }
    for (int64_t g = 0; g < n; g++) {
        const int64_t p = R->part[g], *m = R->members[p];
        int64_t pos = 0, before = 0;
        R->lead[g] = 1;
        for (int64_t k = 0; k < R->nmembers[p]; k++) {
            const int d = ocmp_cells(R, m[k], g);
            pos += d < 0 || (d == 0 && m[k] < g), before += d < 0;
            if (d == 0 && m[k] < g)
                R->lead[g] = 0;
        }
        R->pos[g] = pos, R->before[g] = before;
    }
}

static void ref_free(ref *R)
{
    for (int64_t g = 0; g < R->n; g++)
        free(R->members[g]);
    free(R->cells), free(R->part), free(R->pos), free(R->lead), free(R->before), free(R->members), free(R->nmembers);
}

/* 1 when row j is in the frame of row i (same partition), from the definitions. */
static int in_frame(const ref *R, const ts_window_fn *fn, int64_t i, int64_t j)
{
    ts_window_frame f = {0, TS_FRAME_UNBOUNDED_PRECEDING, TS_FRAME_CURRENT_ROW, 0, 0};
    if (fn->has_frame)
        f = fn->frame;
    if (f.rows) {
        const int64_t d = R->pos[j] - R->pos[i];
        const int after_start = f.start == TS_FRAME_UNBOUNDED_PRECEDING ||
                                (f.start == TS_FRAME_PRECEDING && d >= -f.start_n) ||
                                (f.start == TS_FRAME_CURRENT_ROW && d >= 0) ||
                                (f.start == TS_FRAME_FOLLOWING && d >= f.start_n);
        const int before_end = f.end == TS_FRAME_UNBOUNDED_FOLLOWING || (f.end == TS_FRAME_FOLLOWING && d <= f.end_n) ||
                               (f.end == TS_FRAME_CURRENT_ROW && d <= 0) ||
                               (f.end == TS_FRAME_PRECEDING && d <= -f.end_n);
        return after_start && before_end;
    }
    const int c = ocmp(R, j, i); /* RANGE: peers (all rows without ORDER BY) */
    return (f.start == TS_FRAME_UNBOUNDED_PRECEDING || c >= 0) && (f.end == TS_FRAME_UNBOUNDED_FOLLOWING || c <= 0);
}

/* NTILE bucket of position x among m rows: buckets of m / k rows, the first m % k of them one larger. */
static int64_t ref_ntile(int64_t x, int64_t m, int64_t k)
{
    int64_t b = 0, start = 0;
    for (;;) {
        const int64_t size = m / k + (b < m % k);
        if (x < start + size)
            return b + 1;
        start += size, b++;
    }
}

/* Expected value of fn at row i; *tol: allowed absolute error for floats. */
static val expect(const ref *R, const ts_window_fn *fn, int64_t i, double *tol)
{
    const int64_t p = R->part[i], *m = R->members[p], np = R->nmembers[p];
    const int xc = fn->input ? col_index(fn->input) : -1;
    *tol = 0;
    int64_t before = 0, upto = 0, dense = 0; /* dense: peer groups before i, each counted at its smallest id */
    for (int64_t k = 0; fn->kind <= TS_WIN_CUME_DIST && k < np; k++) {
        const int d = ocmp(R, m[k], i);
        before += d < 0, upto += d <= 0, dense += d < 0 && R->lead[m[k]];
    }
    switch (fn->kind) {
    case TS_WIN_ROW_NUMBER: return vint(R->pos[i] + 1);
    case TS_WIN_RANK: return vint(before + 1);
    case TS_WIN_DENSE_RANK: return vint(dense + 1);
    case TS_WIN_PERCENT_RANK: *tol = 1e-12; return vflt(np > 1 ? (double)before / (double)(np - 1) : 0);
    case TS_WIN_CUME_DIST: *tol = 1e-12; return vflt((double)upto / (double)np);
    case TS_WIN_NTILE: return vint(ref_ntile(R->pos[i], np, fn->offset));
    case TS_WIN_LAG:
    case TS_WIN_LEAD: {
        const int64_t want = R->pos[i] + (fn->kind == TS_WIN_LAG ? -fn->offset : fn->offset);
        for (int64_t k = 0; k < np; k++)
            if (R->pos[m[k]] == want)
                return R->cells[m[k]][xc];
        return fn->default_col ? R->cells[i][col_index(fn->default_col)] : vnull(R->cells[i][xc].kind);
    }
    default: break;
    }
    /* frame functions */
    int64_t cnt = 0, rows = 0, first = -1, last = -1, best = -1;
    __int128 isum = 0;
    long double fsum = 0, fabs_sum = 0;
    for (int64_t k = 0; k < np; k++) {
        const int64_t j = m[k];
        if (!in_frame(R, fn, i, j))
            continue;
        rows++;
        if (first < 0 || R->pos[j] < R->pos[first])
            first = j;
        if (last < 0 || R->pos[j] > R->pos[last])
            last = j;
        if (xc < 0 || R->cells[j][xc].null)
            continue;
        const val v = R->cells[j][xc];
        cnt++;
        if (v.kind == 'f')
            fsum += v.f, fabs_sum += fabsl((long double)v.f);
        else if (v.kind == 'i')
            isum += v.i;
        const int c = best < 0 ? 0 : vcmp(v, R->cells[best][xc]);
        if (best < 0 || (fn->kind == TS_WIN_MIN ? c < 0 : c > 0))
            best = j;
    }
    const char kind = xc >= 0 ? R->cells[i][xc].kind : 'i';
    const double scale = xc == C_C ? 100.0 : 1.0;
    switch (fn->kind) {
    case TS_WIN_COUNT: return vint(xc < 0 ? rows : cnt);
    case TS_WIN_FIRST_VALUE: return first < 0 ? vnull(kind) : R->cells[first][xc];
    case TS_WIN_LAST_VALUE: return last < 0 ? vnull(kind) : R->cells[last][xc];
    case TS_WIN_MIN:
    case TS_WIN_MAX: return best < 0 ? vnull(kind) : R->cells[best][xc];
    case TS_WIN_SUM:
        if (!cnt)
            return vnull(kind);
        *tol = (double)(fabs_sum * 1e-13L);
        return kind == 'f' ? vflt((double)fsum) : vint((int64_t)isum);
    default: /* AVG */
        if (!cnt)
            return vnull('f');
        *tol = (double)(fabs_sum * 1e-13L) / (double)cnt + 1e-12 * fabs((double)isum / (double)cnt / scale);
        return vflt(kind == 'f' ? (double)(fsum / cnt) : (double)isum / (double)cnt / scale);
    }
}

static int close_enough(val got, val want, double tol)
{
    if (got.null || want.null || got.kind != 'f' || want.kind != 'f')
        return vsame(got, want) && got.kind == want.kind;
    if (got.f != got.f || want.f != want.f || isinf(want.f) || isinf(got.f))
        return vcmp(got, want) == 0;
    return fabs(got.f - want.f) <= tol;
}

static ts_type expected_type(const ts_window_fn *fn, int *scale)
{
    const int xc = fn->input ? col_index(fn->input) : -1;
    *scale = 0;
    switch (fn->kind) {
    case TS_WIN_PERCENT_RANK:
    case TS_WIN_CUME_DIST:
    case TS_WIN_AVG: return TS_T_FLOAT64;
    case TS_WIN_SUM:
        if (TYPES[xc] == TS_T_DECIMAL)
            *scale = 2;
        return TYPES[xc] == TS_T_FLOAT64 || TYPES[xc] == TS_T_DECIMAL ? TYPES[xc] : TS_T_INT64;
    case TS_WIN_LAG:
    case TS_WIN_LEAD:
    case TS_WIN_FIRST_VALUE:
    case TS_WIN_LAST_VALUE:
    case TS_WIN_MIN:
    case TS_WIN_MAX:
        if (TYPES[xc] == TS_T_DECIMAL)
            *scale = 2;
        return TYPES[xc];
    default: return TS_T_INT64;
    }
}

/* PERM / MULTI: the values among i's peers must be those of the peer group's positions. */
static int peers_ok(const ref *R, const ts_window_fn *fn, const ts_column *out, const int64_t *row_of, int64_t i)
{
    const int64_t p = R->part[i], *m = R->members[p], np = R->nmembers[p];
    const int64_t v = out_val(out, row_of[i]).i;
    int64_t have = 0, want = 0;
    for (int64_t k = 0; k < np; k++) {
        if (ocmp(R, m[k], i) != 0)
            continue;
        have += out_val(out, row_of[m[k]]).i == v;
        const int64_t x = R->pos[m[k]]; /* the peer group's positions, in some order */
        want += (fn->kind == TS_WIN_ROW_NUMBER ? x + 1 : ref_ntile(x, np, fn->offset)) == v;
    }
    return have == want && want > 0;
}

/* ---- running a scenario ------------------------------------------------------------------------------------ */

static ts_window_spec spec_of(const scenario *sc, ts_window_fn *fns)
{
    for (int k = 0; k < sc->nfns; k++)
        fns[k] = sc->fns[k].fn;
    return (ts_window_spec){sc->part, sc->npart, sc->order, sc->norder, fns, sc->nfns, 0, 0};
}

static void check_result(const scenario *sc, const ts_table *all)
{
    ref R;
    ref_build(&R, sc);
    const int64_t n = ts_table_rows(all);
    CHECK(n == sc->n, "%s: %lld rows, expected %lld", sc->name, (long long)n, (long long)sc->n);
    CHECK(all->ncols == NCOL + sc->nfns, "%s: %d columns", sc->name, all->ncols);
    int64_t *row_of = malloc(8 * (size_t)(sc->n + 1));
    for (int64_t g = 0; g < sc->n; g++)
        row_of[g] = -1;
    const ts_column *id = ts_table_col(all, "id");
    int ids_ok = id != NULL && n == sc->n;
    for (int64_t r = 0; ids_ok && r < n; r++) {
        const int64_t g = TS_COL(id, int64_t)[r];
        ids_ok = g >= 0 && g < sc->n && row_of[g] < 0;
        if (ids_ok)
            row_of[g] = r;
    }
    CHECK(ids_ok, "%s: every id exactly once", sc->name);
    if (!ids_ok) {
        free(row_of), ref_free(&R);
        return;
    }
    for (int c = 0; c < NCOL; c++) { /* input columns arrive intact */
        const ts_column *col = ts_table_col(all, COLS[c]);
        int64_t bad = 0;
        for (int64_t g = 0; col && g < n; g++)
            bad += !vsame(out_val(col, row_of[g]), R.cells[g][c]);
        CHECK(col && col->type == TYPES[c] && bad == 0, "%s: input column %s (%lld bad)", sc->name, COLS[c],
              (long long)bad);
    }
    for (int k = 0; k < sc->nfns; k++) {
        const ts_window_fn *fn = &sc->fns[k].fn;
        const ts_column *out = ts_table_col(all, fn->output);
        int scale;
        const ts_type type = expected_type(fn, &scale);
        CHECK(out && out->type == type && out->scale == scale, "%s: column %s type", sc->name, fn->output);
        if (!out || out->type != type)
            continue;
        int64_t bad = 0, first_bad = -1;
        val got = vnull('i'), want = vnull('i');
        for (int64_t g = 0; g < n; g++) {
            double tol;
            int ok;
            if (sc->fns[k].check != EXACT) {
                ok = peers_ok(&R, fn, out, row_of, g);
            } else {
                want = expect(&R, fn, g, &tol), got = out_val(out, row_of[g]);
                ok = close_enough(got, want, tol);
            }
            if (!ok && bad++ == 0)
                first_bad = g;
        }
        if (bad && sc->fns[k].check == EXACT) {
            double tol;
            want = expect(&R, fn, first_bad, &tol), got = out_val(out, row_of[first_bad]);
        }
        CHECK(bad == 0, "%s: %s wrong on %lld rows, first id %lld: got %s%lld/%.17g/%.*s, want %s%lld/%.17g/%.*s",
              sc->name, fn->output, (long long)bad, (long long)first_bad, got.null ? "NULL " : "",
              (long long)got.i, got.f, (int)got.len, got.s ? got.s : "", want.null ? "NULL " : "",
              (long long)want.i, want.f, (int)want.len, want.s ? want.s : "");
    }
    free(row_of);
    ref_free(&R);
}

static void run(ts_ctx *ctx, const scenario *sc)
{
    ts_table *t = build(&sc->gn, sc->n, ctx->rank, ctx->size);
    ts_window_fn fns[24];
    const ts_window_spec spec = spec_of(sc, fns);
    if (!CHECK_OK(ts_window(ctx, &t, &spec))) {
        fprintf(stderr, "%s: %s\n", sc->name, ts_error_message());
        ts_table_free(t);
        return;
    }
    CHECK(t->ncols == NCOL + sc->nfns, "%s: rank %d has %d columns", sc->name, ctx->rank, t->ncols);
    if (sc->npart == 0)
        CHECK(ctx->rank == 0 || ts_table_rows(t) == 0, "%s: without PARTITION BY rows gather on rank 0", sc->name);
    const int64_t n = ts_table_rows(t);
    int32_t *dest = calloc((size_t)n + 1, sizeof *dest);
    CHECK_OK(ts_exchange_rows_move(ctx, &t, dest));
    free(dest);
    if (ctx->rank == 0)
        check_result(sc, t);
    ts_table_free(t);
}

/* ---- hand-checked cases (the expected values are DuckDB 1.x's answers to the same queries) ------------------- */

/* Rows [0, n) spread over the ranks: i INT64 = row, v INT32 = vals[row] (INT32_MIN: NULL), dflt INT64 = 99. */
static ts_table *small_table(ts_ctx *ctx, const int32_t *vals, int64_t n)
{
    const int64_t lo = n * ctx->rank / ctx->size, hi = n * (ctx->rank + 1) / ctx->size;
    ts_table *t;
    ts_column *i, *v, *d;
    CHECK_OK(ts_table_new("small", &t));
    CHECK_OK(ts_table_add(t, "i", TS_T_INT64, 0, NULL, &i));
    CHECK_OK(ts_table_add(t, "v", TS_T_INT32, 0, NULL, &v));
    CHECK_OK(ts_table_add(t, "dflt", TS_T_INT64, 0, NULL, &d));
    CHECK_OK(ts_column_reserve(i, hi - lo, 0));
    CHECK_OK(ts_column_reserve(v, hi - lo, 0));
    CHECK_OK(ts_column_reserve(d, hi - lo, 0));
    i->len = v->len = d->len = hi - lo;
    for (int64_t r = lo; r < hi; r++) {
        TS_COL(i, int64_t)[r - lo] = r, TS_COL(d, int64_t)[r - lo] = 99, TS_COL(v, int32_t)[r - lo] = vals[r];
        if (vals[r] == INT32_MIN)
            CHECK_OK(ts_column_set_null(v, r - lo));
    }
    return t;
}

/* Runs the spec and checks each function's column against want[fn][i] (NaN: NULL). */
static void small_case(ts_ctx *ctx, const char *what, const int32_t *vals, int64_t n, const ts_window_spec *spec,
                       const double *const *want)
{
    ts_table *t = small_table(ctx, vals, n);
    if (!CHECK_OK(ts_window(ctx, &t, spec))) {
        ts_table_free(t);
        return;
    }
    int32_t *dest = calloc((size_t)ts_table_rows(t) + 1, sizeof *dest);
    CHECK_OK(ts_exchange_rows_move(ctx, &t, dest));
    free(dest);
    const ts_column *i = ts_table_col(t, "i");
    for (int k = 0; ctx->rank == 0 && k < spec->nfns; k++) {
        const ts_column *c = ts_table_col(t, spec->fns[k].output);
        int bad = !c || ts_table_rows(t) != n;
        for (int64_t r = 0; !bad && r < n; r++) {
            const int64_t row = TS_COL(i, int64_t)[r];
            const val got = out_val(c, r);
            const double w = want[k][row];
            bad = w != w ? !got.null : got.null || fabs((got.kind == 'f' ? got.f : (double)got.i) - w) > 1e-12;
        }
        CHECK(!bad, "%s: %s", what, spec->fns[k].output);
    }
    ts_table_free(t);
}

static void hand_checked(ts_ctx *ctx)
{
    /* select i, ntile(4) over (order by i), lag(i, -1) over (order by i), lead(i, -2, 99) over (order by i)
       from range(10) t(i) */
    const int32_t zeros[10] = {0};
    const ts_sort_key by_i[] = {{"i", 0, 0}};
    const ts_window_fn f1[] = {FNO(NTILE, NULL, "nt", 4), FNO(LAG, "i", "lag", -1),
                               {.kind = TS_WIN_LEAD, .input = "i", .output = "lead", .offset = -2,
                                .default_col = "dflt"}};
    const double nt[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 4}, lag[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, NAN},
                 lead[] = {99, 99, 0, 1, 2, 3, 4, 5, 6, 7};
    const double *const w1[] = {nt, lag, lead};
    const ts_window_spec s1 = {NULL, 0, by_i, 1, f1, 3, 0, 0};
    small_case(ctx, "ntile and negative offsets", zeros, 10, &s1, w1);

    /* select last_value(i), percent_rank(), cume_dist() over (order by v) from (values (1,1),(2,1),(3,2),(4,null))
       t(i, v): the default frame ends with the last peer */
    const int32_t vals[] = {1, 1, 2, INT32_MIN};
    const ts_sort_key by_v[] = {{"v", 0, 1}};
    const ts_window_fn f2[] = {FN(LAST_VALUE, "i", "last"), FN(PERCENT_RANK, NULL, "pr"), FN(CUME_DIST, NULL, "cd")};
    const double last[] = {1, 1, 2, 3}, pr[] = {0, 0, 2.0 / 3, 1}, cd[] = {0.5, 0.5, 0.75, 1};
    const double *const w2[] = {last, pr, cd};
    const ts_window_spec s2 = {NULL, 0, by_v, 1, f2, 3, 0, 0};
    small_case(ctx, "peers in the default frame", vals, 4, &s2, w2);

    /* select sum(i) over w, count(i) over w from range(3) t(i) window w as (order by i rows between 1 following
       and 3 following); and 3 preceding and 1 preceding */
    const ts_window_fn f3[] = {FNF(SUM, "i", "s", 1, FOLLOWING, 1, FOLLOWING, 3),
                               FNF(COUNT, "i", "c", 1, FOLLOWING, 1, FOLLOWING, 3),
                               FNF(SUM, "i", "p", 1, PRECEDING, 3, PRECEDING, 1)};
    const double s[] = {3, 2, NAN}, c[] = {2, 1, 0}, p[] = {NAN, 0, 1};
    const double *const w3[] = {s, c, p};
    const ts_window_spec s3 = {NULL, 0, by_i, 1, f3, 3, 0, 0};
    small_case(ctx, "frames running off the partition", zeros, 3, &s3, w3);
}

/* ---- errors ------------------------------------------------------------------------------------------------ */

static void expect_error(ts_ctx *ctx, const char *what, const ts_window_spec *spec, ts_err code)
{
    const gen gn = {11, 4, 4, 0};
    ts_table *t = build(&gn, 40, ctx->rank, ctx->size);
    const ts_err err = ts_window(ctx, &t, spec);
    CHECK(err == code, "%s: error %d, expected %d (%s)", what, err, code, ts_error_headline());
    CHECK(t && t->ncols == NCOL, "%s: the table survives unchanged in schema", what);
    ts_table_free(t);
}

static void errors(ts_ctx *ctx)
{
    const char *part[] = {"k"}, *bad_part[] = {"nope"};
    const ts_sort_key order[] = {{"v", 0, 0}};
    ts_window_fn fn = FN(SUM, "s", "bad_sum"); /* sum of a string */
    ts_window_spec spec = {part, 1, order, 1, &fn, 1, 0, 0};
    expect_error(ctx, "sum of strings", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn)FNF(SUM, "x", "range_n", 0, PRECEDING, 1, CURRENT_ROW, 0);
    expect_error(ctx, "RANGE with an offset", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn)FNF(SUM, "x", "bad_frame", 1, UNBOUNDED_FOLLOWING, 0, CURRENT_ROW, 0);
    expect_error(ctx, "frame starting at UNBOUNDED FOLLOWING", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn)FN(ROW_NUMBER, NULL, "x");
    expect_error(ctx, "output name taken", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn)FNO(NTILE, NULL, "nt", 0);
    expect_error(ctx, "ntile(0)", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn){.kind = TS_WIN_LAG, .input = "x", .output = "lagx", .offset = 1, .default_col = "s"};
    expect_error(ctx, "lag default of another type", &spec, TS_ERR_USAGE);
    fn = (ts_window_fn)FN(ROW_NUMBER, NULL, "rn");
    spec.partition = bad_part;
    expect_error(ctx, "unknown partition column", &spec, TS_ERR_USAGE);

    /* an integer sum overflowing int64 is a data error on every rank */
    ts_table *t;
    ts_column *k, *x;
    CHECK_OK(ts_table_new("big", &t));
    CHECK_OK(ts_table_add(t, "k", TS_T_INT32, 0, NULL, &k));
    CHECK_OK(ts_table_add(t, "x", TS_T_INT64, 0, NULL, &x));
    if (ctx->rank == 0) {
        CHECK_OK(ts_column_reserve(k, 2, 0));
        CHECK_OK(ts_column_reserve(x, 2, 0));
        TS_COL(k, int32_t)[0] = TS_COL(k, int32_t)[1] = 1;
        TS_COL(x, int64_t)[0] = TS_COL(x, int64_t)[1] = INT64_MAX / 2 + 1;
        k->len = x->len = 2;
    }
    fn = (ts_window_fn)FN(SUM, "x", "s");
    spec = (ts_window_spec){part, 1, NULL, 0, &fn, 1, 0, 0};
    const ts_err err = ts_window(ctx, &t, &spec);
    CHECK(err == TS_ERR_DATA, "overflowing sum: error %d (%s)", err, ts_error_headline());
    ts_table_free(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (!CHECK_OK(ts_dict_new(WORDS, 5, &g_dict)))
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t s = 0; s < sizeof SCENARIOS / sizeof *SCENARIOS; s++)
        run(&ctx, &SCENARIOS[s]);
    hand_checked(&ctx);
    errors(&ctx);
    ts_dict_release(g_dict);
    return ts_mpi_test_done(&ctx, "test_window");
}
