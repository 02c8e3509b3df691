/* ts_hash_aggregate, every aggregate kind, against a naive reference: groups found by linear search in order of
 * first appearance, per-group loops in long double or exact integers, sorted copies for quantiles.
 * Inputs: randomized with nulls, NaN, +-inf and -0; empty; all-equal keys; one hot key with half the rows; string,
 * float and mixed multi-column keys. Also hand-checked small cases (co-moments at a large offset), and partial
 * states merged across chunks.
 * The reference (everything above main) is shared with tests/mpi/test_aggregate_dist.c, which includes this file
 * with TS_AGG_REF_ONLY defined. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate.h"
#include "ts_test.h"

/* ---- table building ---------------------------------------------------------------------------------------- */

static ts_column *ref_add(ts_table *t, const char *name, ts_type type, int scale, ts_dict *d)
{
    ts_column *c = NULL;
    CHECK_OK(ts_table_add(t, name, type, scale, d, &c));
    return c;
}

static void ref_push(ts_column *c, int64_t v, int valid)
{
    CHECK_OK(ts_column_reserve(c, c->len + 1, 0));
    switch (ts_type_width(c->type)) {
    case 1: TS_COL(c, uint8_t)[c->len] = (uint8_t)v; break;
    case 4: TS_COL(c, int32_t)[c->len] = (int32_t)v; break;
    default: TS_COL(c, int64_t)[c->len] = v; break;
    }
    c->len++;
    if (!valid)
        CHECK_OK(ts_column_set_null(c, c->len - 1));
}

static void ref_push_f64(ts_column *c, double v, int valid)
{
    CHECK_OK(ts_column_reserve(c, c->len + 1, 0));
    TS_COL(c, double)[c->len++] = v;
    if (!valid)
        CHECK_OK(ts_column_set_null(c, c->len - 1));
}

static void ref_push_str(ts_column *c, const char *s, int valid)
{
    CHECK_OK(ts_column_append_string(c, s, (int64_t)strlen(s)));
    if (!valid)
        CHECK_OK(ts_column_set_null(c, c->len - 1));
}

/* ---- cell access ------------------------------------------------------------------------------------------- */

static int64_t ref_int(const ts_column *c, int64_t i)
{
    switch (ts_type_width(c->type)) {
    case 1: return TS_COL(c, uint8_t)[i];
    case 4: return TS_COL(c, int32_t)[i];
    default: return TS_COL(c, int64_t)[i];
    }
}

static const char *ref_str(const ts_column *c, int64_t i, int64_t *len)
{
    if (c->type == TS_T_DICT)
        return ts_dict_value(c->dict, TS_COL(c, int32_t)[i], len);
    const int64_t *o = TS_COL(c, int64_t);
    *len = o[i + 1] - o[i];
    return c->bytes + o[i];
}

/* Total order of non-null cells of one type: NaN above everything, strings bytewise, DICT by string. */
static int ref_cmp(const ts_column *a, int64_t i, const ts_column *b, int64_t j)
{
    if (a->type == TS_T_FLOAT64) {
        const double x = TS_COL(a, double)[i], y = TS_COL(b, double)[j];
        if (isnan(x) || isnan(y))
            return isnan(x) - isnan(y);
        return x < y ? -1 : x > y;
    }
    if (a->type == TS_T_STRING || a->type == TS_T_DICT) {
        int64_t la, lb;
        const char *x = ref_str(a, i, &la), *y = ref_str(b, j, &lb);
        for (int64_t k = 0; k < la && k < lb; k++)
            if (x[k] != y[k])
                return (unsigned char)x[k] < (unsigned char)y[k] ? -1 : 1;
        return la < lb ? -1 : la > lb;
    }
    const int64_t x = ref_int(a, i), y = ref_int(b, j);
    return x < y ? -1 : x > y;
}

static int ref_valid(const ts_column *c, int64_t i) { return ts_column_is_valid(c, i); }

/* Same grouping key: both null, or equal values (floats: -0 == 0, NaN == NaN). */
static int ref_same(const ts_column *a, int64_t i, const ts_column *b, int64_t j)
{
    if (!ref_valid(a, i) || !ref_valid(b, j))
        return ref_valid(a, i) == ref_valid(b, j);
    if (a->type == TS_T_DICT && b->type == TS_T_DICT)
        return TS_COL(a, int32_t)[i] == TS_COL(b, int32_t)[j];
    return ref_cmp(a, i, b, j) == 0;
}

/* ---- reference aggregation ----------------------------------------------------------------------------------- */

typedef struct ref_groups {
    int64_t ng, *first, *gid;
} ref_groups;

static ref_groups ref_group(const ts_table *t, const char *const *keys, int nkeys)
{
    const int64_t n = ts_table_rows(t);
    ref_groups r = {0, malloc(8 * (size_t)(n + 1)), malloc(8 * (size_t)(n + 1))};
    for (int64_t i = 0; i < n; i++) {
        int64_t g = 0;
        for (; g < r.ng; g++) {
            int same = 1;
            for (int k = 0; k < nkeys && same; k++)
                same = ref_same(ts_table_col(t, keys[k]), i, ts_table_col(t, keys[k]), r.first[g]);
            if (same)
                break;
        }
        if (g == r.ng)
            r.first[r.ng++] = i;
        r.gid[i] = g;
    }
    if (nkeys == 0) /* one group when there are rows */
        r.ng = n > 0;
    return r;
}

static void ref_groups_free(ref_groups *r) { free(r->first), free(r->gid); }

/* Expected cell: null, an integer, a double (compared with a tolerance), or "the value of row `row` of col". */
typedef struct want {
    int null, kind; /* 0 int, 1 double, 2 cell */
    int64_t i;
    double d;
    const ts_column *col;
    int64_t row;
} want;

static int cmp_ld(const void *a, const void *b)
{
    const long double x = *(const long double *)a, y = *(const long double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return x < y ? -1 : x > y;
}

/* Rows of group g that take part in aggregate a: where true, input and order non-null. */
static int64_t ref_rows(const ts_table *t, const ts_agg *a, const ref_groups *gr, int64_t g, int64_t *rows)
{
    const ts_column *in = a->input ? ts_table_col(t, a->input) : NULL, *w = a->where ? ts_table_col(t, a->where) : NULL;
    const ts_column *o = a->order && (a->kind == TS_AGG_FIRST || a->kind == TS_AGG_LAST || a->kind >= TS_AGG_COVAR_POP)
                             ? ts_table_col(t, a->order) : NULL; /* an ordering, or the second argument */
    int64_t m = 0;
    for (int64_t i = 0; i < ts_table_rows(t); i++)
        if (gr->gid[i] == g && (!w || (ref_valid(w, i) && ref_int(w, i))) && (!in || ref_valid(in, i)) &&
            (!o || ref_valid(o, i)))
            rows[m++] = i;
    return m;
}

static long double ref_num(const ts_column *c, int64_t i)
{
    if (c->type == TS_T_FLOAT64)
        return TS_COL(c, double)[i];
    long double v = (long double)ref_int(c, i);
    for (int s = 0; c->type == TS_T_DECIMAL && s < c->scale; s++)
        v /= 10;
    return v;
}

static want ref_var(const ts_agg *a, const ts_column *in, const int64_t *rows, int64_t m)
{
    want w = {.kind = 1};
    const int samp = a->kind == TS_AGG_VAR_SAMP || a->kind == TS_AGG_STDDEV_SAMP;
    if (m < (samp ? 2 : 1))
        return w.null = 1, w;
    long double mean = 0, ss = 0;
    int finite = 1;
    for (int64_t k = 0; k < m; k++)
        mean += ref_num(in, rows[k]), finite &= isfinite(ref_num(in, rows[k]));
    mean /= m;
    for (int64_t k = 0; k < m; k++)
        ss += (ref_num(in, rows[k]) - mean) * (ref_num(in, rows[k]) - mean);
    const long double v = ss / (samp ? m - 1 : m);
    w.d = !finite ? NAN : (double)(a->kind == TS_AGG_STDDEV_SAMP || a->kind == TS_AGG_STDDEV_POP ? sqrtl(v) : v);
    return w;
}

static want ref_quantile(const ts_agg *a, const ts_column *in, const int64_t *rows, int64_t m)
{
    want w = {.kind = 1};
    if (m == 0)
        return w.null = 1, w;
    long double *v = malloc(sizeof *v * (size_t)m);
    for (int64_t k = 0; k < m; k++)
        v[k] = in->type == TS_T_FLOAT64 ? (long double)TS_COL(in, double)[rows[k]] : (long double)ref_int(in, rows[k]);
    qsort(v, (size_t)m, sizeof *v, cmp_ld);
    const double q = a->kind == TS_AGG_MEDIAN ? 0.5 : a->param, pos = q * (double)(m - 1);
    const int64_t lo = (int64_t)floor(pos);
    const double frac = pos - (double)lo;
    long double r = v[lo];
    if (frac != 0 && !(v[lo] == v[lo + 1]))
        r = v[lo] + (long double)frac * (v[lo + 1] - v[lo]);
    for (int s = 0; in->type == TS_T_DECIMAL && s < in->scale; s++)
        r /= 10;
    w.d = (double)r;
    free(v);
    return w;
}

static want ref_pick(const ts_agg *a, const ts_table *t, const int64_t *rows, int64_t m)
{
    const ts_column *in = ts_table_col(t, a->input), *o = a->order ? ts_table_col(t, a->order) : NULL;
    want w = {.kind = 2, .col = in};
    if (m == 0)
        return w.null = 1, w;
    int64_t b = rows[0];
    for (int64_t k = 1; k < m; k++) {
        const int64_t i = rows[k];
        int take;
        switch (a->kind) {
        case TS_AGG_MIN: take = ref_cmp(in, i, in, b) < 0; break;
        case TS_AGG_MAX: take = ref_cmp(in, i, in, b) > 0; break;
        case TS_AGG_FIRST: take = o && ref_cmp(o, i, o, b) < 0; break;
        default: take = o ? ref_cmp(o, i, o, b) > 0 : 1; break; /* rows ascend: ties keep the earliest */
        }
        b = take ? i : b;
    }
    w.row = b;
    return w;
}

/* COVAR_POP / COVAR_SAMP / CORR of the pairs (input, order): two passes in long double (means, then sums of
 * deviation products), the textbook definitions. */
static want ref_comoment(const ts_agg *a, const ts_table *t, const int64_t *rows, int64_t m)
{
    const ts_column *x = ts_table_col(t, a->input), *y = ts_table_col(t, a->order);
    want w = {.kind = 1};
    if (m < (a->kind == TS_AGG_COVAR_SAMP ? 2 : 1))
        return w.null = 1, w;
    long double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (int64_t k = 0; k < m; k++)
        mx += ref_num(x, rows[k]), my += ref_num(y, rows[k]);
    mx /= m, my /= m;
    for (int64_t k = 0; k < m; k++) {
        const long double dx = ref_num(x, rows[k]) - mx, dy = ref_num(y, rows[k]) - my;
        sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
    }
    if (a->kind == TS_AGG_CORR) {
        const long double den = sqrtl(sxx) * sqrtl(syy);
        w.d = den == 0 ? NAN : (double)(sxy / den);
    } else {
        w.d = (double)(sxy / (a->kind == TS_AGG_COVAR_SAMP ? m - 1 : m));
    }
    return w;
}

static want ref_distinct(const ts_column *in, const int64_t *rows, int64_t m)
{
    want w = {.kind = 0};
    for (int64_t k = 0; k < m; k++) {
        int seen = 0;
        for (int64_t j = 0; j < k && !seen; j++)
            seen = ref_same(in, rows[j], in, rows[k]);
        w.i += !seen;
    }
    return w;
}

static want ref_agg(const ts_table *t, const ts_agg *a, const ref_groups *gr, int64_t g, int64_t *rows)
{
    const int64_t m = ref_rows(t, a, gr, g, rows);
    const ts_column *in = a->input ? ts_table_col(t, a->input) : NULL;
    want w = {.kind = 0};
    switch (a->kind) {
    case TS_AGG_COUNT: w.i = m; return w;
    case TS_AGG_COUNT_DISTINCT: return ref_distinct(in, rows, m);
    case TS_AGG_SUM:
    case TS_AGG_MEAN: {
        long double s = 0;
        int64_t is = 0;
        for (int64_t k = 0; k < m; k++)
            s += ref_num(in, rows[k]), is += in->type == TS_T_FLOAT64 ? 0 : ref_int(in, rows[k]);
        if (a->kind == TS_AGG_SUM && in->type != TS_T_FLOAT64)
            return w.i = is, w;
        w.kind = 1, w.null = a->kind == TS_AGG_MEAN && m == 0;
        w.d = (double)(a->kind == TS_AGG_MEAN ? s / m : s);
        return w;
    }
    case TS_AGG_QUANTILE:
    case TS_AGG_MEDIAN: return ref_quantile(a, in, rows, m);
    case TS_AGG_MIN:
    case TS_AGG_MAX:
    case TS_AGG_FIRST:
    case TS_AGG_LAST: return ref_pick(a, t, rows, m);
    case TS_AGG_COVAR_POP:
    case TS_AGG_COVAR_SAMP:
    case TS_AGG_CORR: return ref_comoment(a, t, rows, m);
    default: return ref_var(a, in, rows, m);
    }
}

static int ref_close(double got, double want, double tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    return fabs(got - want) <= tol * fabs(want) + tol;
}

/* Checks out (the aggregation of t) against the reference; groups may come in any order when any_order (found
 * by key), else in order of first appearance. Returns the number of mismatches. */
static long ref_check(const ts_table *t, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                      const ts_table *out, int any_order, double tol, const char *what)
{
    ref_groups gr = ref_group(t, keys, nkeys);
    int64_t *rows = malloc(8 * (size_t)(ts_table_rows(t) + 1));
    long bad = 0;
    CHECK(ts_table_rows(out) == gr.ng, "%s: %lld groups, expected %lld", what, (long long)ts_table_rows(out),
          (long long)gr.ng);
    CHECK(out->ncols == nkeys + naggs, "%s: %d columns", what, out->ncols);
    for (int64_t g = 0; g < gr.ng && ts_table_rows(out) == gr.ng && out->ncols == nkeys + naggs; g++) {
        int64_t o = g;
        int found = 0;
        for (o = any_order ? 0 : g; o < (any_order ? gr.ng : g + 1) && !found; o++) {
            found = 1;
            for (int k = 0; k < nkeys && found; k++)
                found = ref_same(ts_table_col(out, keys[k]), o, ts_table_col(t, keys[k]), gr.first[g]);
        }
        o--;
        if (!found) {
            if (bad++ < 5)
                CHECK(0, "%s: group %lld (first row %lld) not found", what, (long long)g, (long long)gr.first[g]);
            continue;
        }
        for (int a = 0; a < naggs; a++) {
            const ts_column *c = ts_table_col(out, aggs[a].output);
            const want w = ref_agg(t, &aggs[a], &gr, g, rows);
            /* co-moments: Welford's updates in double against a long double two-pass reference; a covariance near
             * zero loses relative digits to cancellation of terms of size sqrt(m2x m2y): 1e-9 (the SQL tests') */
            const double atol = aggs[a].kind >= TS_AGG_COVAR_POP ? fmax(tol, 1e-9) : tol;
            int ok = (!ref_valid(c, o)) == w.null;
            if (ok && !w.null) {
                if (w.kind == 0)
                    ok = ref_int(c, o) == w.i;
                else if (w.kind == 1)
                    ok = c->type == TS_T_FLOAT64 && ref_close(TS_COL(c, double)[o], w.d, atol);
                else
                    ok = c->type == w.col->type && ref_same(c, o, w.col, w.row);
            }
            if (!ok && bad++ < 8)
                CHECK(0, "%s: group %lld aggregate %s: got %s %lld / %.17g, want null %d %lld / %.17g (row %lld)",
                      what, (long long)g, aggs[a].output, ref_valid(c, o) ? "" : "NULL", (long long)ref_int(c, o),
                      c->type == TS_T_FLOAT64 ? TS_COL(c, double)[o] : 0.0, w.null, (long long)w.i, w.d,
                      (long long)w.row);
        }
    }
    free(rows);
    ref_groups_free(&gr);
    return bad;
}

/* ---- the randomized input -------------------------------------------------------------------------------------- */

static const char *const REF_WORDS[] = {"", "a", "ab", "abc", "b", "ba", "zz", "Zeta", "\xc3\xa9t\xc3\xa9", "a\x01"};
enum { REF_NWORDS = 10 };

/* Row i of the standard input from a generator state; dist 0 random, 1 all-equal keys, 2 hot key (50 %). */
static void ref_row(ts_table *t, ts_test_rng *r, int dist, int nkeys_range)
{
    ts_column **c = t->cols;
    int64_t k = (int64_t)ts_rng_below(r, (uint64_t)nkeys_range);
    const int hot = dist == 1 || (dist == 2 && ts_rng_below(r, 2));
    k = hot ? 3 : k;
    ref_push(c[0], k % 7, hot || ts_rng_below(r, 20));                                  /* ki INT32 */
    ref_push_str(c[1], REF_WORDS[hot ? 2 : k % REF_NWORDS], hot || ts_rng_below(r, 25)); /* ks STRING */
    const double fk[] = {0.0, -0.0, 1.5, NAN, -INFINITY, 1e300};
    ref_push_f64(c[2], fk[hot ? 2 : k % 6], hot || ts_rng_below(r, 30));             /* kf FLOAT64 */
    ref_push(c[3], hot ? 1 : (k / 3) % 5, 1);                                         /* kd DICT */
    ref_push(c[4], 18000 + (hot ? 0 : k % 40), 1);                                     /* kt DATE */
    ref_push(c[5], ts_rng_range(r, -1000000000, 1000000000), ts_rng_below(r, 6) != 0); /* v INT64 */
    ref_push(c[6], ts_rng_range(r, -500000, 9000000), ts_rng_below(r, 9) != 0);        /* d DECIMAL(2) */
    const uint64_t fr = ts_rng_below(r, 200);
    const double fv = fr == 0 ? NAN : fr == 1 ? INFINITY : fr == 2 ? -INFINITY : fr == 3 ? -0.0
                                 : (double)ts_rng_range(r, -1000000, 1000000) / 7.0 + 1e6;
    ref_push_f64(c[7], fv, ts_rng_below(r, 7) != 0);                                   /* f FLOAT64 */
    ref_push_f64(c[8], (double)ts_rng_range(r, -1000000, 1000000) / 1024.0, 1);        /* g FLOAT64, finite */
    ref_push_str(c[9], REF_WORDS[ts_rng_below(r, REF_NWORDS)], ts_rng_below(r, 8) != 0);    /* s STRING */
    ref_push(c[10], (int64_t)ts_rng_below(r, 2), ts_rng_below(r, 10) != 0);            /* w BOOL */
    ref_push(c[11], (int64_t)ts_rng_below(r, 50), ts_rng_below(r, 10) != 0);           /* o INT64, ties */
    ref_push(c[12], (int64_t)ts_rng_below(r, 5), ts_rng_below(r, 10) != 0);            /* e DICT values */
}

static ts_table *ref_schema(const char *name, ts_dict *d)
{
    ts_table *t;
    CHECK_OK(ts_table_new(name, &t));
    ref_add(t, "ki", TS_T_INT32, 0, NULL), ref_add(t, "ks", TS_T_STRING, 0, NULL);
    ref_add(t, "kf", TS_T_FLOAT64, 0, NULL), ref_add(t, "kd", TS_T_DICT, 0, d);
    ref_add(t, "kt", TS_T_DATE, 0, NULL), ref_add(t, "v", TS_T_INT64, 0, NULL);
    ref_add(t, "d", TS_T_DECIMAL, 2, NULL), ref_add(t, "f", TS_T_FLOAT64, 0, NULL);
    ref_add(t, "g", TS_T_FLOAT64, 0, NULL), ref_add(t, "s", TS_T_STRING, 0, NULL);
    ref_add(t, "w", TS_T_BOOL, 0, NULL), ref_add(t, "o", TS_T_INT64, 0, NULL);
    ref_add(t, "e", TS_T_DICT, 0, d);
    return t;
}

static ts_dict *ref_dict(void)
{
    static const char *const vals[] = {"pear", "apple", "fig", "apple2", "banana"};
    ts_dict *d = NULL;
    CHECK_OK(ts_dict_new(vals, 5, &d));
    return d;
}

/* Every decomposable aggregate, then the ones that need rows. */
static const ts_agg REF_DECOMP[] = {
    {TS_AGG_COUNT, NULL, NULL, "n", 0, NULL},          {TS_AGG_COUNT, "v", "w", "nv_w", 0, NULL},
    {TS_AGG_SUM, "v", NULL, "sum_v", 0, NULL},         {TS_AGG_SUM, "d", "w", "sum_d_w", 0, NULL},
    {TS_AGG_SUM, "f", NULL, "sum_f", 0, NULL},         {TS_AGG_SUM, "g", NULL, "sum_g", 0, NULL},
    {TS_AGG_MIN, "v", NULL, "min_v", 0, NULL},         {TS_AGG_MAX, "f", NULL, "max_f", 0, NULL},
    {TS_AGG_MIN, "f", "w", "min_f", 0, NULL},          {TS_AGG_MIN, "s", NULL, "min_s", 0, NULL},
    {TS_AGG_MAX, "s", NULL, "max_s", 0, NULL},         {TS_AGG_MAX, "e", NULL, "max_e", 0, NULL},
    {TS_AGG_MIN, "e", NULL, "min_e", 0, NULL},         {TS_AGG_MAX, "kt", NULL, "max_t", 0, NULL},
    {TS_AGG_MEAN, "v", NULL, "mean_v", 0, NULL},       {TS_AGG_MEAN, "g", NULL, "mean_g", 0, NULL},
    {TS_AGG_VAR_SAMP, "v", NULL, "vs_v", 0, NULL},     {TS_AGG_VAR_POP, "d", NULL, "vp_d", 0, NULL},
    {TS_AGG_STDDEV_SAMP, "g", NULL, "ss_g", 0, NULL},  {TS_AGG_STDDEV_POP, "f", "w", "sp_f", 0, NULL},
    {TS_AGG_VAR_SAMP, "g", "w", "vs_g", 0, NULL},      {TS_AGG_FIRST, "v", NULL, "first_v", 0, NULL},
    {TS_AGG_LAST, "s", NULL, "last_s", 0, NULL},       {TS_AGG_FIRST, "s", "w", "first_s_o", 0, "o"},
    {TS_AGG_LAST, "f", NULL, "last_f_o", 0, "o"},      {TS_AGG_FIRST, "d", NULL, "first_d_e", 0, "e"},
    {TS_AGG_CORR, "g", NULL, "corr_g_v", 0, "v"},      {TS_AGG_COVAR_SAMP, "d", "w", "cs_d_o", 0, "o"},
    {TS_AGG_COVAR_POP, "v", NULL, "cp_v_g", 0, "g"},   {TS_AGG_CORR, "o", "w", "corr_o_ki", 0, "ki"},
};
static const ts_agg REF_ROWS[] = {
    {TS_AGG_COUNT_DISTINCT, "s", NULL, "nd_s", 0, NULL}, {TS_AGG_COUNT_DISTINCT, "f", "w", "nd_f", 0, NULL},
    {TS_AGG_COUNT_DISTINCT, "o", NULL, "nd_o", 0, NULL}, {TS_AGG_MEDIAN, "v", NULL, "med_v", 0, NULL},
    {TS_AGG_QUANTILE, "d", NULL, "q0_d", 0.0, NULL},     {TS_AGG_QUANTILE, "g", "w", "q25_g", 0.25, NULL},
    {TS_AGG_QUANTILE, "f", NULL, "q90_f", 0.9, NULL},    {TS_AGG_QUANTILE, "o", NULL, "q100_o", 1.0, NULL},
    {TS_AGG_MEDIAN, "f", NULL, "med_f", 0, NULL},
};
#define REF_NDECOMP ((int)(sizeof REF_DECOMP / sizeof REF_DECOMP[0]))
#define REF_NROWS ((int)(sizeof REF_ROWS / sizeof REF_ROWS[0]))

#ifndef TS_AGG_REF_ONLY

static const char *const KEYSETS[][4] = {{"ki"}, {"ks"}, {"kf"}, {"kd", "kt"}, {"ks", "kf", "ki"},
                                         {"kt", "ks", "kd", "kf"}};
static const int KEYSET_N[] = {1, 1, 1, 2, 3, 4};

/* Aggregates in[0..n) of one layout with every key set: full, and partial states of 3 chunks merged. */
static void check_input(const ts_table *t, const char *what)
{
    for (int ks = 0; ks < 6; ks++) {
        char w[128];
        snprintf(w, sizeof w, "%s keys %d", what, ks);
        ts_table *out = NULL;
        if (CHECK_OK(ts_hash_aggregate(t, KEYSETS[ks], KEYSET_N[ks], REF_DECOMP, REF_NDECOMP, "o", &out)))
            CHECK(ref_check(t, KEYSETS[ks], KEYSET_N[ks], REF_DECOMP, REF_NDECOMP, out, 0, 1e-12, w) == 0, "%s", w);
        ts_table_free(out), out = NULL;
        if (CHECK_OK(ts_hash_aggregate(t, KEYSETS[ks], KEYSET_N[ks], REF_ROWS, REF_NROWS, "o", &out)))
            CHECK(ref_check(t, KEYSETS[ks], KEYSET_N[ks], REF_ROWS, REF_NROWS, out, 0, 1e-12, w) == 0, "%s", w);
        ts_table_free(out), out = NULL;
        /* two-phase on one rank: partials of three chunks, concatenated, merged */
        const int64_t n = ts_table_rows(t), cut[4] = {0, n / 3, n / 2, n};
        ts_table *all = NULL;
        for (int c = 0; c < 3; c++) {
            ts_table *chunk = NULL, *part = NULL;
            CHECK_OK(ts_table_new_like(t, "chunk", &chunk));
            int64_t *idx = malloc(8 * (size_t)(cut[c + 1] - cut[c] + 1));
            for (int64_t i = cut[c]; i < cut[c + 1]; i++)
                idx[i - cut[c]] = i;
            CHECK_OK(ts_table_append_rows(chunk, t, idx, cut[c + 1] - cut[c]));
            free(idx);
            CHECK_OK(ts_aggregate_partial(chunk, KEYSETS[ks], KEYSET_N[ks], REF_DECOMP, REF_NDECOMP, cut[c], "p", &part));
            if (!all)
                CHECK_OK(ts_table_new_like(part, "all", &all));
            CHECK_OK(ts_table_append_rows(all, part, NULL, ts_table_rows(part)));
            ts_table_free(part), ts_table_free(chunk);
        }
        snprintf(w, sizeof w, "%s keys %d merged", what, ks);
        if (CHECK_OK(ts_aggregate_merge(all, KEYSETS[ks], KEYSET_N[ks], REF_DECOMP, REF_NDECOMP, "m", &out)))
            CHECK(ref_check(t, KEYSETS[ks], KEYSET_N[ks], REF_DECOMP, REF_NDECOMP, out, 1, 1e-12, w) == 0, "%s", w);
        ts_table_free(out), ts_table_free(all);
    }
}

static void test_random(void)
{
    ts_dict *d = ref_dict();
    ts_test_rng r = ts_rng_seed(11);
    const int64_t sizes[] = {0, 1, 9, 700, 3000};
    for (int dist = 0; dist < 3; dist++)
        for (int s = 0; s < 5; s++) {
            ts_table *t = ref_schema("in", d);
            for (int64_t i = 0; i < sizes[s]; i++)
                ref_row(t, &r, dist, s == 4 ? 400 : 30);
            char what[64];
            snprintf(what, sizeof what, "dist %d n %lld", dist, (long long)sizes[s]);
            check_input(t, what);
            ts_table_free(t);
        }
    ts_dict_release(d);
}

static ts_table *one_column(const double *v, int n, int64_t *keys)
{
    ts_table *t;
    CHECK_OK(ts_table_new("h", &t));
    ts_column *k = ref_add(t, "k", TS_T_INT64, 0, NULL), *x = ref_add(t, "x", TS_T_FLOAT64, 0, NULL);
    ts_column *y = ref_add(t, "y", TS_T_INT64, 0, NULL);
    for (int i = 0; i < n; i++)
        ref_push(k, keys ? keys[i] : 0, 1), ref_push_f64(x, v[i], 1), ref_push(y, (int64_t)v[i], 1);
    return t;
}

static double cell(const ts_table *t, const char *col, int64_t row) { return TS_COL(ts_table_col(t, col), double)[row]; }

static void test_hand(void)
{
    static const char *const by[] = {"k"};
    const double q4[] = {1, 2, 3, 4};
    ts_table *t = one_column(q4, 4, NULL), *out = NULL;
    const ts_agg qa[] = {{TS_AGG_MEDIAN, "x", NULL, "m", 0, NULL}, {TS_AGG_QUANTILE, "y", NULL, "q", 0.5, NULL},
                         {TS_AGG_QUANTILE, "x", NULL, "q1", 1.0 / 3, NULL}, {TS_AGG_QUANTILE, "y", NULL, "q0", 0, NULL}};
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, qa, 4, "o", &out))) {
        CHECK(cell(out, "m", 0) == 2.5 && cell(out, "q", 0) == 2.5, "median {1,2,3,4} = %g / %g", cell(out, "m", 0),
              cell(out, "q", 0));
        CHECK(fabs(cell(out, "q1", 0) - 2.0) < 1e-15 && cell(out, "q0", 0) == 1, "quantiles 1/3 and 0");
    }
    ts_table_free(out), ts_table_free(t);
    const double v8[] = {2, 4, 4, 4, 5, 5, 7, 9};
    t = one_column(v8, 8, NULL);
    const ts_agg va[] = {{TS_AGG_VAR_SAMP, "x", NULL, "vs", 0, NULL}, {TS_AGG_STDDEV_POP, "x", NULL, "sp", 0, NULL},
                         {TS_AGG_VAR_SAMP, "y", NULL, "vsi", 0, NULL}, {TS_AGG_STDDEV_POP, "y", NULL, "spi", 0, NULL},
                         {TS_AGG_VAR_POP, "y", NULL, "vpi", 0, NULL}};
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, va, 5, "o", &out))) {
        CHECK(fabs(cell(out, "vs", 0) - 32.0 / 7) < 1e-15 && cell(out, "vsi", 0) == 32.0 / 7,
              "var_samp = %.17g / %.17g", cell(out, "vs", 0), cell(out, "vsi", 0));
        CHECK(cell(out, "sp", 0) == 2 && cell(out, "spi", 0) == 2 && cell(out, "vpi", 0) == 4, "stddev_pop = 2");
    }
    ts_table_free(out), ts_table_free(t);
    /* one value: sample variance NULL, population 0; NaN is the max, -inf the min */
    const double one[] = {7, NAN, -INFINITY, INFINITY};
    int64_t keys[] = {0, 1, 1, 1};
    t = one_column(one, 4, keys);
    const ts_agg oa[] = {{TS_AGG_VAR_SAMP, "x", NULL, "vs", 0, NULL}, {TS_AGG_VAR_POP, "x", NULL, "vp", 0, NULL},
                         {TS_AGG_MAX, "x", NULL, "mx", 0, NULL}, {TS_AGG_MIN, "x", NULL, "mn", 0, NULL}};
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, oa, 4, "o", &out))) {
        CHECK(!ts_column_is_valid(ts_table_col(out, "vs"), 0) && cell(out, "vp", 0) == 0, "one value");
        CHECK(isnan(cell(out, "mx", 1)) && cell(out, "mn", 1) == -INFINITY, "NaN is the largest value");
    }
    ts_table_free(out), ts_table_free(t);
}

/* Co-moments by hand: x = o + {1,2,3,4}, y = o + {2,4,5,9}: Sxx = 5, Syy = 26, Sxy = 11, so covar_pop 2.75,
 * covar_samp 11/3, corr 11/sqrt(130), whatever the offset o (at o = 1e6 sums of squares are 1e12 and their
 * difference 5: Welford's deviations keep it to a relative 1e-10, the double means' rounding);
 * one pair: covar_pop 0, covar_samp NULL, corr NaN; constant x: corr NaN (DuckDB's answers). */
static void test_comoments_hand(void)
{
    static const char *const by[] = {"k"};
    ts_table *t;
    CHECK_OK(ts_table_new("h", &t));
    ts_column *k = ref_add(t, "k", TS_T_INT64, 0, NULL), *x = ref_add(t, "x", TS_T_FLOAT64, 0, NULL);
    ts_column *y = ref_add(t, "y", TS_T_INT64, 0, NULL);
    const double o = 1e6, dx[] = {1, 2, 3, 4};
    const int64_t dy[] = {2, 4, 5, 9};
    for (int i = 0; i < 4; i++)
        ref_push(k, 0, 1), ref_push_f64(x, o + dx[i], 1), ref_push(y, (int64_t)o + dy[i], 1);
    ref_push(k, 0, 1), ref_push_f64(x, 5, 1), ref_push(y, 0, 0); /* a NULL y: not a pair */
    ref_push(k, 1, 1), ref_push_f64(x, 3, 1), ref_push(y, 8, 1);
    for (int i = 0; i < 3; i++)
        ref_push(k, 2, 1), ref_push_f64(x, 7, 1), ref_push(y, i, 1);
    const ts_agg ca[] = {{TS_AGG_COVAR_POP, "x", NULL, "cp", 0, "y"}, {TS_AGG_COVAR_SAMP, "y", NULL, "cs", 0, "x"},
                         {TS_AGG_CORR, "x", NULL, "r", 0, "y"}};
    ts_table *out = NULL;
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, ca, 3, "o", &out))) {
        CHECK(fabs(cell(out, "cp", 0) - 2.75) < 1e-9 && fabs(cell(out, "cs", 0) - 11.0 / 3) < 1e-9,
              "covariances %.17g %.17g", cell(out, "cp", 0), cell(out, "cs", 0));
        CHECK(fabs(cell(out, "r", 0) - 11 / sqrt(130)) < 1e-10, "corr %.17g", cell(out, "r", 0));
        CHECK(cell(out, "cp", 1) == 0 && !ts_column_is_valid(ts_table_col(out, "cs"), 1) && isnan(cell(out, "r", 1)),
              "one pair");
        CHECK(cell(out, "cp", 2) == 0 && isnan(cell(out, "r", 2)), "constant x: corr NaN");
    }
    ts_table_free(out), ts_table_free(t);
}

static void test_errors(void)
{
    ts_dict *d = ref_dict();
    ts_test_rng r = ts_rng_seed(3);
    ts_table *t = ref_schema("in", d), *out = NULL;
    for (int i = 0; i < 10; i++)
        ref_row(t, &r, 0, 10);
    static const char *const by[] = {"ki"};
    const ts_agg bad_q = {TS_AGG_QUANTILE, "v", NULL, "q", 1.5, NULL};
    CHECK(ts_hash_aggregate(t, by, 1, &bad_q, 1, "o", &out) == TS_ERR_USAGE && !out, "quantile 1.5 refused");
    const ts_agg bad_sum = {TS_AGG_SUM, "s", NULL, "q", 0, NULL};
    CHECK(ts_hash_aggregate(t, by, 1, &bad_sum, 1, "o", &out) == TS_ERR_USAGE && !out, "sum of strings refused");
    CHECK(ts_aggregate_partial(t, by, 1, REF_ROWS, 1, 0, "o", &out) != TS_OK && !out, "no partial count distinct");
    /* no keys: one group */
    if (CHECK_OK(ts_hash_aggregate(t, NULL, 0, REF_DECOMP, REF_NDECOMP, "o", &out)))
        CHECK(ref_check(t, NULL, 0, REF_DECOMP, REF_NDECOMP, out, 0, 1e-12, "no keys") == 0, "no keys");
    ts_table_free(out), ts_table_free(t), ts_dict_release(d);
}

int main(void)
{
    test_hand();
    test_comoments_hand();
    test_errors();
    test_random();
    return TS_TEST_DONE("test_aggregate_full");
}

#endif
