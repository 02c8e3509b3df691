/* engine/: key packing, hash aggregation, dedup, lookup join, local sort and row appends, each against a naive
 * reference written here (quadratic loops over the same deterministic random tables). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ts_aggregate.h"
#include "ts_dedup.h"
#include "ts_join.h"
#include "ts_keys.h"
#include "ts_sort.h"
#include "ts_test.h"

/* ---- table helpers -------------------------------------------------------------------------------------- */

static ts_column *add_col(ts_table *t, const char *name, ts_type type, int scale, ts_dict *d)
{
    ts_column *c = NULL;
    if (!CHECK_OK(ts_table_add(t, name, type, scale, d, &c)))
        abort();
    return c;
}

/* Appends an integer-like value (or a null when !valid). */
static void push(ts_column *c, int64_t v, int valid)
{
    if (!CHECK_OK(ts_column_reserve(c, c->len + 1, 0)))
        abort();
    switch (ts_type_width(c->type)) {
    case 1: TS_COL(c, uint8_t)[c->len] = (uint8_t)v; break;
    case 4: TS_COL(c, int32_t)[c->len] = (int32_t)v; break;
    default: TS_COL(c, int64_t)[c->len] = v; break;
    }
    c->len++;
    if (!valid)
        ts_column_set_null(c, c->len - 1);
}

static void push_f64(ts_column *c, double v)
{
    ts_column_reserve(c, c->len + 1, 0);
    TS_COL(c, double)[c->len++] = v;
}

static void push_str(ts_column *c, const char *s, int valid)
{
    if (!CHECK_OK(ts_column_append_string(c, s, (int64_t)strlen(s))))
        abort();
    if (!valid)
        ts_column_set_null(c, c->len - 1);
}

/* The test's own accessors. */
static int64_t get(const ts_column *c, int64_t i)
{
    switch (ts_type_width(c->type)) {
    case 1: return TS_COL(c, uint8_t)[i];
    case 4: return TS_COL(c, int32_t)[i];
    default: return TS_COL(c, int64_t)[i];
    }
}

static int valid(const ts_column *c, int64_t i) { return !c->valid || ((c->valid[i / 64] >> (i % 64)) & 1); }

static const char *str(const ts_column *c, int64_t i, int64_t *len)
{
    const int64_t *o = TS_COL(c, int64_t);
    *len = o[i + 1] - o[i];
    return c->bytes + o[i];
}

/* Equal values (null == null) of row i of a and row j of b, any type. */
static int same_value(const ts_column *a, int64_t i, const ts_column *b, int64_t j)
{
    if (valid(a, i) != valid(b, j))
        return 0;
    if (!valid(a, i))
        return 1;
    if (a->type == TS_T_STRING) {
        int64_t la, lb;
        const char *sa = str(a, i, &la), *sb = str(b, j, &lb);
        return la == lb && (la == 0 || memcmp(sa, sb, (size_t)la) == 0);
    }
    if (a->type == TS_T_FLOAT64)
        return TS_COL(a, double)[i] == TS_COL(b, double)[j];
    return get(a, i) == get(b, j);
}

static ts_dict *make_dict(const char *const *v, int n)
{
    ts_dict *d = NULL;
    if (!CHECK_OK(ts_dict_new(v, n, &d)))
        abort();
    return d;
}

/* ---- ts_pack_keys --------------------------------------------------------------------------------------- */

static void test_pack_keys(void)
{
    static const char *const words[] = {"b", "a", "c", "zz"};
    ts_dict *d = make_dict(words, 4);
    ts_test_rng r = ts_rng_seed(1);
    for (int nk = 1; nk <= 3; nk++) {
        for (int round = 0; round < 20; round++) {
            ts_table *t;
            CHECK_OK(ts_table_new("t", &t));
            ts_column *c0 = add_col(t, "a", TS_T_INT64, 0, NULL), *c1 = add_col(t, "b", TS_T_DICT, 0, d);
            ts_column *c2 = add_col(t, "c", TS_T_INT32, 0, NULL);
            const int64_t n = 300, base = round % 2 ? -1000000007 : 0;
            for (int64_t i = 0; i < n; i++) {
                push(c0, base + ts_rng_range(&r, -3, 3) * (round % 3 ? 1 : 1000000000LL), ts_rng_below(&r, 8) != 0);
                push(c1, (int64_t)ts_rng_below(&r, 4), ts_rng_below(&r, 8) != 0);
                push(c2, ts_rng_range(&r, -2, 2), ts_rng_below(&r, 8) != 0);
            }
            const char *keys[3] = {"a", "b", "c"};
            uint64_t lo[300], hi[300];
            if (!CHECK_OK(ts_pack_keys(t, keys, nk, lo, hi))) {
                ts_table_free(t);
                continue;
            }
            long bad = 0;
            const ts_column *cols[3] = {c0, c1, c2};
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = i + 1; j < n; j++) {
                    int eq = 1;
                    for (int k = 0; k < nk; k++)
                        eq &= same_value(cols[k], i, cols[k], j);
                    const int peq = lo[i] == lo[j] && hi[i] == hi[j];
                    if (eq != peq && bad++ < 3)
                        CHECK(0, "%d keys: rows %lld and %lld equal=%d but packed equal=%d", nk, (long long)i,
                              (long long)j, eq, peq);
                }
            CHECK(bad == 0, "%d keys round %d: %ld pairs disagree", nk, round, bad);
            ts_table_free(t);
        }
    }
    /* three keys that need more than 128 bits are refused; STRING keys are refused */
    ts_table *t;
    CHECK_OK(ts_table_new("wide", &t));
    ts_column *w[3] = {add_col(t, "x", TS_T_INT64, 0, NULL), add_col(t, "y", TS_T_INT64, 0, NULL),
                       add_col(t, "z", TS_T_INT64, 0, NULL)};
    ts_column *s = add_col(t, "s", TS_T_STRING, 0, NULL);
    for (int k = 0; k < 3; k++)
        push(w[k], INT64_MIN / 2, 1), push(w[k], INT64_MAX / 2, 1);
    push_str(s, "a", 1), push_str(s, "b", 1);
    const char *wk[3] = {"x", "y", "z"}, *sk[1] = {"s"};
    uint64_t lo[2], hi[2];
    CHECK(ts_pack_keys(t, wk, 3, lo, hi) != TS_OK, "3 keys of 64 bits each must be refused");
    CHECK(ts_pack_keys(t, sk, 1, lo, hi) != TS_OK, "a STRING key must be refused");
    /* two keys are stored as they are: lo = key 0, hi = key 1 */
    CHECK(ts_pack_keys(t, wk, 2, lo, hi) == TS_OK && lo[1] == (uint64_t)(INT64_MAX / 2) &&
              hi[0] == (uint64_t)(INT64_MIN / 2),
          "direct packing of two keys");
    ts_table_free(t);
    ts_dict_release(d);
}

/* ---- ts_hash_aggregate ---------------------------------------------------------------------------------- */

enum { NAGG = 9 };

/* Builds the aggregation input: keys (country DICT nullable, month DATE), a BOOL flag, INT64 v with nulls,
 * DECIMAL amount, INT64 customer. dist: 0 random, 1 all-equal keys, 2 one hot key with half the rows. */
static ts_table *agg_input(ts_test_rng *r, int64_t n, int dist, ts_dict *d)
{
    ts_table *t;
    CHECK_OK(ts_table_new("in", &t));
    ts_column *k1 = add_col(t, "country", TS_T_DICT, 0, d), *k2 = add_col(t, "month", TS_T_DATE, 0, NULL);
    ts_column *ok = add_col(t, "ok", TS_T_BOOL, 0, NULL), *v = add_col(t, "v", TS_T_INT64, 0, NULL);
    ts_column *amt = add_col(t, "amount", TS_T_DECIMAL, 2, NULL), *cust = add_col(t, "cust", TS_T_INT64, 0, NULL);
    for (int64_t i = 0; i < n; i++) {
        int64_t a = (int64_t)ts_rng_below(r, 5), m = 18628 + 31 * (int64_t)ts_rng_below(r, 6);
        int aval = ts_rng_below(r, 20) != 0;
        if (dist == 1 || (dist == 2 && ts_rng_below(r, 2)))
            a = 2, m = 18659, aval = 1;
        push(k1, a, aval);
        push(k2, m, 1);
        push(ok, (int64_t)ts_rng_below(r, 2), ts_rng_below(r, 10) != 0);
        push(v, ts_rng_range(r, -1000000, 1000000) * 1000000, ts_rng_below(r, 6) != 0);
        push(amt, ts_rng_range(r, 1, 10000000), 1);
        push(cust, (int64_t)ts_rng_below(r, 40), ts_rng_below(r, 15) != 0);
    }
    return t;
}

static void check_aggregate(const ts_table *in, const char *what)
{
    const char *keys[2] = {"country", "month"};
    const ts_agg aggs[NAGG] = {
        {TS_AGG_COUNT, NULL, NULL, "n", 0, NULL},
        {TS_AGG_COUNT, NULL, "ok", "n_ok", 0, NULL},
        {TS_AGG_SUM, "v", NULL, "sum_v", 0, NULL},
        {TS_AGG_SUM, "amount", "ok", "sum_amount_ok", 0, NULL},
        {TS_AGG_MIN, "v", NULL, "min_v", 0, NULL},
        {TS_AGG_MAX, "v", NULL, "max_v", 0, NULL},
        {TS_AGG_MAX, "month", "ok", "max_month_ok", 0, NULL},
        {TS_AGG_COUNT_DISTINCT, "cust", NULL, "customers", 0, NULL},
        {TS_AGG_COUNT_DISTINCT, "cust", "ok", "customers_ok", 0, NULL},
    };
    ts_table *out = NULL;
    if (!CHECK_OK(ts_hash_aggregate(in, keys, 2, aggs, NAGG, "agg", &out)))
        return;
    const int64_t n = ts_table_rows(in);
    const ts_column *k1 = ts_table_col(in, "country"), *k2 = ts_table_col(in, "month"), *ok = ts_table_col(in, "ok");
    const ts_column *v = ts_table_col(in, "v"), *amt = ts_table_col(in, "amount"), *cust = ts_table_col(in, "cust");
    /* naive: groups in order of first appearance, found by linear search */
    int64_t *first = malloc(sizeof *first * (size_t)(n + 1)), ng = 0;
    int64_t *gid = malloc(sizeof *gid * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) {
        int64_t g = 0;
        while (g < ng && !(same_value(k1, i, k1, first[g]) && same_value(k2, i, k2, first[g])))
            g++;
        if (g == ng)
            first[ng++] = i;
        gid[i] = g;
    }
    CHECK(ts_table_rows(out) == ng, "%s: %lld groups, expected %lld", what, (long long)ts_table_rows(out),
          (long long)ng);
    CHECK(out->ncols == 2 + NAGG, "%s: %d output columns", what, out->ncols);
    if (ts_table_rows(out) != ng || out->ncols != 2 + NAGG) {
        free(first), free(gid), ts_table_free(out);
        return;
    }
    const ts_column *o[NAGG];
    for (int a = 0; a < NAGG; a++)
        o[a] = ts_table_col(out, aggs[a].output);
    CHECK(o[0]->type == TS_T_INT64 && o[2]->type == TS_T_INT64 && o[7]->type == TS_T_INT64, "%s: int64 outputs",
          what);
    CHECK(o[3]->type == TS_T_DECIMAL && o[3]->scale == 2, "%s: sum of decimal(18,2) is decimal(18,2) (type %d scale %d)",
          what, o[3]->type, o[3]->scale);
    CHECK(o[6]->type == TS_T_DATE, "%s: max of a date is a date", what);
    CHECK(ts_table_col(out, "country")->type == TS_T_DICT && ts_table_col(out, "country")->dict == k1->dict,
          "%s: key column keeps its dictionary", what);
    long bad = 0;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t f = first[g];
        if ((!same_value(ts_table_col(out, "country"), g, k1, f) || !same_value(ts_table_col(out, "month"), g, k2, f)) &&
            bad++ < 3)
            CHECK(0, "%s: group %lld keys differ from its first row %lld", what, (long long)g, (long long)f);
        int64_t cnt = 0, cnt_ok = 0, sum_v = 0, sum_amt = 0, mn = 0, mx = 0, mxm = 0, nd = 0, nd_ok = 0;
        int has_v = 0, has_m = 0;
        for (int64_t i = 0; i < n; i++) {
            if (gid[i] != g)
                continue;
            const int is_ok = valid(ok, i) && get(ok, i) == 1;
            cnt++, cnt_ok += is_ok;
            if (valid(v, i)) {
                sum_v += get(v, i);
                if (!has_v || get(v, i) < mn)
                    mn = get(v, i);
                if (!has_v || get(v, i) > mx)
                    mx = get(v, i);
                has_v = 1;
            }
            if (is_ok) {
                sum_amt += get(amt, i);
                if (!has_m || get(k2, i) > mxm)
                    mxm = get(k2, i);
                has_m = 1;
            }
            if (valid(cust, i)) {
                int earlier = 0, earlier_ok = 0;
                for (int64_t j = 0; j < i; j++)
                    if (gid[j] == g && valid(cust, j) && get(cust, j) == get(cust, i)) {
                        earlier = 1;
                        earlier_ok |= valid(ok, j) && get(ok, j) == 1;
                    }
                nd += !earlier, nd_ok += is_ok && !earlier_ok;
            }
        }
        const int64_t want[NAGG] = {cnt, cnt_ok, sum_v, sum_amt, mn, mx, mxm, nd, nd_ok};
        const int want_valid[NAGG] = {1, 1, 1, 1, has_v, has_v, has_m, 1, 1};
        for (int a = 0; a < NAGG; a++) {
            const int gv = valid(o[a], g);
            if ((gv != want_valid[a] || (gv && get(o[a], g) != want[a])) && bad++ < 5)
                CHECK(0, "%s: group %lld %s = %lld (valid %d), expected %lld (valid %d)", what, (long long)g,
                      aggs[a].output, (long long)get(o[a], g), gv, (long long)want[a], want_valid[a]);
        }
    }
    CHECK(bad == 0, "%s: %ld aggregate mismatches", what, bad);
    free(first), free(gid);
    ts_table_free(out);
}

static void test_aggregate(void)
{
    static const char *const countries[] = {"ARG", "BOL", "BRA", "CHL", "COL"};
    ts_dict *d = make_dict(countries, 5);
    ts_test_rng r = ts_rng_seed(2);
    const int64_t sizes[] = {0, 1, 7, 1500, 5000};
    for (int dist = 0; dist < 3; dist++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            ts_table *in = agg_input(&r, sizes[s], dist, d);
            char what[64];
            snprintf(what, sizeof what, "aggregate dist %d n %lld", dist, (long long)sizes[s]);
            check_aggregate(in, what);
            ts_table_free(in);
        }
    /* overflowing sums are an error */
    ts_table *t;
    CHECK_OK(ts_table_new("big", &t));
    ts_column *k = add_col(t, "k", TS_T_INT32, 0, NULL), *v = add_col(t, "v", TS_T_INT64, 0, NULL);
    push(k, 1, 1), push(v, INT64_MAX / 2 + 1, 1), push(k, 1, 1), push(v, INT64_MAX / 2 + 1, 1);
    const char *keys[1] = {"k"};
    const ts_agg sum = {TS_AGG_SUM, "v", NULL, "s", 0, NULL};
    ts_table *out = NULL;
    CHECK(ts_hash_aggregate(t, keys, 1, &sum, 1, "o", &out) == TS_ERR_DATA && out == NULL, "int64 overflow of a sum");
    ts_table_free(out);
    ts_table_free(t);
    ts_dict_release(d);
}

/* ---- ts_dedup ------------------------------------------------------------------------------------------- */

static void test_dedup(void)
{
    ts_test_rng r = ts_rng_seed(3);
    const int64_t sizes[] = {0, 1, 10, 3000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s];
        ts_table *t;
        CHECK_OK(ts_table_new("rows", &t));
        ts_column *lo = add_col(t, "h_lo", TS_T_INT64, 0, NULL), *hi = add_col(t, "h_hi", TS_T_INT64, 0, NULL);
        ts_column *pos = add_col(t, "pos", TS_T_INT64, 0, NULL), *pay = add_col(t, "payload", TS_T_STRING, 0, NULL);
        /* order values: a random permutation (so "earlier" is not input order) */
        int64_t *perm = malloc(sizeof *perm * (size_t)(n + 1));
        for (int64_t i = 0; i < n; i++)
            perm[i] = i * 3 + 100;
        for (int64_t i = n - 1; i > 0; i--) {
            const int64_t j = (int64_t)ts_rng_below(&r, (uint64_t)i + 1), x = perm[i];
            perm[i] = perm[j], perm[j] = x;
        }
        for (int64_t i = 0; i < n; i++) {
            const int64_t content = (int64_t)ts_rng_below(&r, (uint64_t)(n / 3 + 1));
            /* contents that share lo or hi with another content but not both */
            push(lo, content / 2, 1), push(hi, content % 2 ? -content : content * 7, 1), push(pos, perm[i], 1);
            char buf[32];
            snprintf(buf, sizeof buf, "row%lld", (long long)i);
            push_str(pay, buf, 1);
        }
        /* dedup works in place: keep the input in `t` and hand a copy to it */
        ts_table *kept = NULL, *dups = NULL;
        CHECK_OK(ts_table_new_like(t, "kept", &kept));
        CHECK_OK(ts_table_append_rows(kept, t, NULL, n));
        if (!CHECK_OK(ts_dedup(kept, "h_lo", "h_hi", "pos", &dups))) {
            ts_table_free(t), ts_table_free(kept), free(perm);
            continue;
        }
        /* naive: row i is kept iff no row with the same content has a smaller order value */
        int64_t *wk = malloc(sizeof *wk * (size_t)(n + 1)), *wd = malloc(sizeof *wd * (size_t)(n + 1)), nk = 0, nd = 0;
        for (int64_t i = 0; i < n; i++) {
            int beaten = 0;
            for (int64_t j = 0; j < n && !beaten; j++)
                beaten = get(lo, j) == get(lo, i) && get(hi, j) == get(hi, i) && get(pos, j) < get(pos, i);
            if (beaten)
                wd[nd++] = i;
            else
                wk[nk++] = i;
        }
        CHECK(ts_table_rows(kept) == nk && ts_table_rows(dups) == nd, "dedup n=%lld: kept %lld dups %lld, expected %lld %lld",
              (long long)n, (long long)ts_table_rows(kept), (long long)ts_table_rows(dups), (long long)nk, (long long)nd);
        CHECK(kept->ncols == 4 && dups->ncols == 4, "dedup keeps the schema");
        long bad = 0;
        for (int64_t i = 0; i < nk && i < ts_table_rows(kept); i++)
            for (int c = 0; c < 4; c++)
                bad += !same_value(kept->cols[c], i, t->cols[c], wk[i]);
        for (int64_t i = 0; i < nd && i < ts_table_rows(dups); i++)
            for (int c = 0; c < 4; c++)
                bad += !same_value(dups->cols[c], i, t->cols[c], wd[i]);
        CHECK(bad == 0, "dedup n=%lld: %ld cells differ from the reference (order: input order)", (long long)n, bad);
        free(wk), free(wd), free(perm);
        ts_table_free(kept), ts_table_free(dups), ts_table_free(t);
    }
}

/* ---- ts_join_lookup ------------------------------------------------------------------------------------- */

static void test_join(void)
{
    static const char *const tags[] = {"x", "y"};
    ts_dict *d = make_dict(tags, 2);
    ts_test_rng r = ts_rng_seed(4);
    for (int round = 0; round < 6; round++) {
        const int64_t nl = round == 0 ? 0 : 800, nr = round == 1 ? 0 : 120;
        ts_table *L, *R;
        CHECK_OK(ts_table_new("left", &L));
        CHECK_OK(ts_table_new("right", &R));
        ts_column *lk1 = add_col(L, "country", TS_T_INT32, 0, NULL), *lk2 = add_col(L, "month", TS_T_DATE, 0, NULL);
        ts_column *lid = add_col(L, "id", TS_T_INT64, 0, NULL);
        ts_column *rk1 = add_col(R, "c", TS_T_INT32, 0, NULL), *rk2 = add_col(R, "m", TS_T_DATE, 0, NULL);
        ts_column *rate = add_col(R, "rate", TS_T_FLOAT64, 0, NULL), *name = add_col(R, "name", TS_T_STRING, 0, NULL);
        ts_column *tag = add_col(R, "tag", TS_T_DICT, 0, d), *unused = add_col(R, "unused", TS_T_INT64, 0, NULL);
        /* right: unique (c, m) over c in 0..11, m in 0..9 (some null keys, which never match) */
        for (int64_t i = 0; i < nr; i++) {
            push(rk1, i % 12, !(i % 17 == 5)), push(rk2, 18000 + i / 12, !(i % 23 == 7));
            push_f64(rate, (double)i * 0.25 + 1);
            char buf[32];
            snprintf(buf, sizeof buf, i % 5 ? "name-%lld" : "", (long long)i);
            push_str(name, buf, 1);
            push(tag, i % 2, i % 3 != 0), push(unused, i, 1);
        }
        for (int64_t i = 0; i < nl; i++) {
            push(lk1, ts_rng_range(&r, -1, 12), ts_rng_below(&r, 10) != 0);
            push(lk2, 18000 + ts_rng_range(&r, 0, 10), ts_rng_below(&r, 10) != 0);
            push(lid, i, 1);
        }
        const char *lkeys[2] = {"country", "month"}, *rkeys[2] = {"c", "m"}, *bring[3] = {"rate", "name", "tag"};
        ts_table *out = NULL;
        if (!CHECK_OK(ts_join_lookup(L, R, lkeys, rkeys, 2, bring, 3, &out))) {
            ts_table_free(L), ts_table_free(R);
            continue;
        }
        CHECK(out->ncols == 6 && ts_table_rows(out) == nl, "join output %d cols %lld rows", out->ncols,
              (long long)ts_table_rows(out));
        long bad = 0, matches = 0;
        for (int64_t i = 0; i < nl && out->ncols == 6; i++) {
            int64_t m = -1;
            for (int64_t j = 0; j < nr; j++)
                if (valid(lk1, i) && valid(lk2, i) && valid(rk1, j) && valid(rk2, j) && get(lk1, i) == get(rk1, j) &&
                    get(lk2, i) == get(rk2, j))
                    m = j;
            matches += m >= 0;
            for (int c = 0; c < 3; c++)
                bad += !same_value(out->cols[c], i, L->cols[c], i);
            for (int b = 0; b < 3; b++) {
                const ts_column *oc = out->cols[3 + b], *rc = ts_table_col(R, bring[b]);
                if (m >= 0)
                    bad += !same_value(oc, i, rc, m);
                else
                    bad += valid(oc, i) != 0;
            }
        }
        CHECK(bad == 0, "join round %d: %ld cells differ from the reference", round, bad);
        if (nl && nr)
            CHECK(matches > nl / 3 && matches < nl, "join round %d: %ld matches (the data should mix both)", round,
                  matches);
        /* the brought STRING column is well formed (offsets monotonic, ending at nbytes), so it can be copied */
        if (out->ncols == 6) {
            const ts_column *sc = out->cols[4];
            const int64_t *o = TS_COL(sc, int64_t);
            int wf = o[0] == 0 && o[sc->len] == sc->nbytes;
            for (int64_t i = 0; i < sc->len && wf; i++)
                wf = o[i + 1] >= o[i];
            CHECK(wf, "join round %d (right rows %lld): brought STRING column has bad offsets (o[0]=%lld o[n]=%lld "
                      "nbytes=%lld)",
                  round, (long long)nr, (long long)o[0], (long long)o[sc->len], (long long)sc->nbytes);
        }
        ts_table_free(out);
        (void)unused;
        /* a duplicate right key is an error */
        if (nr) {
            push(rk1, get(rk1, 1), 1), push(rk2, get(rk2, 1), 1), push_f64(rate, 0), push_str(name, "dup", 1);
            push(tag, 0, 1), push(unused, 0, 1);
            out = NULL;
            CHECK(ts_join_lookup(L, R, lkeys, rkeys, 2, bring, 3, &out) == TS_ERR_DATA && out == NULL,
                  "duplicate right key must fail with TS_ERR_DATA");
            ts_table_free(out);
        }
        ts_table_free(L), ts_table_free(R);
    }
    /* one key; two right rows with a null key do not count as duplicates and match nothing */
    ts_table *L, *R, *out = NULL;
    CHECK_OK(ts_table_new("l", &L));
    CHECK_OK(ts_table_new("r", &R));
    ts_column *lk = add_col(L, "k", TS_T_INT64, 0, NULL), *rk = add_col(R, "k2", TS_T_INT64, 0, NULL);
    ts_column *rv = add_col(R, "v", TS_T_INT64, 0, NULL);
    push(lk, 0, 0), push(lk, 5, 1), push(lk, 6, 1);
    push(rk, 0, 0), push(rv, 100, 1), push(rk, 0, 0), push(rv, 200, 1), push(rk, 5, 1), push(rv, 500, 1);
    const char *k1[1] = {"k"}, *k2[1] = {"k2"}, *b[1] = {"v"};
    if (CHECK_OK(ts_join_lookup(L, R, k1, k2, 1, b, 1, &out))) {
        const ts_column *v = ts_table_col(out, "v");
        CHECK(v && !valid(v, 0) && valid(v, 1) && get(v, 1) == 500 && !valid(v, 2), "null keys never match");
        ts_table_free(out);
    }
    ts_table_free(L), ts_table_free(R);
    ts_dict_release(d);
}

/* ---- ts_sort_local -------------------------------------------------------------------------------------- */

/* Naive comparison: nulls first; DICT and STRING by bytes (shorter prefix first); numbers by value. */
static int naive_cmp(const ts_column *c, int64_t i, int64_t j)
{
    const int vi = valid(c, i), vj = valid(c, j);
    if (!vi || !vj)
        return vi - vj;
    const char *a, *b;
    int64_t la, lb;
    if (c->type == TS_T_DICT) {
        const int64_t *o = c->dict->offsets;
        a = c->dict->bytes + o[get(c, i)], la = o[get(c, i) + 1] - o[get(c, i)];
        b = c->dict->bytes + o[get(c, j)], lb = o[get(c, j) + 1] - o[get(c, j)];
    } else if (c->type == TS_T_STRING) {
        a = str(c, i, &la), b = str(c, j, &lb);
    } else if (c->type == TS_T_FLOAT64) {
        const double x = TS_COL(c, double)[i], y = TS_COL(c, double)[j];
        return (x > y) - (x < y);
    } else {
        return (get(c, i) > get(c, j)) - (get(c, i) < get(c, j));
    }
    for (int64_t k = 0; k < la && k < lb; k++)
        if (a[k] != b[k])
            return (unsigned char)a[k] < (unsigned char)b[k] ? -1 : 1;
    return (la > lb) - (la < lb);
}

static void test_sort(void)
{
    /* dictionary codes deliberately out of string order */
    static const char *const words[] = {"pear", "apple", "fig", "", "apples", "Zebra"};
    ts_dict *d = make_dict(words, 6);
    ts_test_rng r = ts_rng_seed(5);
    const int64_t sizes[] = {0, 1, 2, 50, 1200};
    const char *const keysets[4][3] = {{"fruit", "s", "v"}, {"s", "f"}, {"v", "fruit", "d"}, {"f", "fruit"}};
    const int nkeys[4] = {3, 2, 3, 2};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ks = 0; ks < 4; ks++) {
            const int64_t n = sizes[s];
            ts_table *t;
            CHECK_OK(ts_table_new("t", &t));
            ts_column *fruit = add_col(t, "fruit", TS_T_DICT, 0, d), *sc = add_col(t, "s", TS_T_STRING, 0, NULL);
            ts_column *v = add_col(t, "v", TS_T_INT64, 0, NULL), *f = add_col(t, "f", TS_T_FLOAT64, 0, NULL);
            ts_column *dt = add_col(t, "d", TS_T_DATE, 0, NULL), *id = add_col(t, "id", TS_T_INT64, 0, NULL);
            for (int64_t i = 0; i < n; i++) {
                push(fruit, (int64_t)ts_rng_below(&r, 6), ts_rng_below(&r, 10) != 0);
                static const char *const ss[] = {"", "a", "ab", "b", "a\xff", "ba", "aa"};
                push_str(sc, ss[ts_rng_below(&r, 7)], ts_rng_below(&r, 12) != 0);
                push(v, ts_rng_range(&r, -3, 3) * (INT64_MAX / 4), ts_rng_below(&r, 9) != 0);
                push_f64(f, (double)ts_rng_range(&r, -2, 2) / 4);
                push(dt, ts_rng_range(&r, -5, 5), 1);
                push(id, i, 1);
            }
            /* naive stable insertion sort of row indexes */
            int64_t *idx = malloc(sizeof *idx * (size_t)(n + 1));
            for (int64_t i = 0; i < n; i++) {
                int64_t k = i;
                while (k > 0) {
                    int c = 0;
                    for (int q = 0; q < nkeys[ks] && !c; q++)
                        c = naive_cmp(ts_table_col(t, keysets[ks][q]), idx[k - 1], i);
                    if (c <= 0)
                        break;
                    idx[k] = idx[k - 1], k--;
                }
                idx[k] = i;
            }
            ts_table *orig;
            CHECK_OK(ts_table_new_like(t, "orig", &orig));
            if (n) /* appending 0 rows from an empty table trips a separate bug (see test_join's empty left) */
                CHECK_OK(ts_table_append_rows(orig, t, NULL, n));
            if (CHECK_OK(ts_sort_local(&t, keysets[ks], nkeys[ks]))) {
                CHECK(ts_table_rows(t) == n && t->ncols == 6, "sorted table shape");
                long bad = 0;
                for (int64_t k = 0; k < n && ts_table_rows(t) == n; k++)
                    for (int c = 0; c < 6; c++)
                        bad += !same_value(t->cols[c], k, orig->cols[c], idx[k]);
                CHECK(bad == 0, "sort n=%lld keyset %d: %ld cells differ from the naive stable sort", (long long)n,
                      ks, bad);
                CHECK(t->nsort == nkeys[ks] && strcmp(t->sort_keys[0], keysets[ks][0]) == 0,
                      "sort keys recorded (%d)", t->nsort);
            }
            free(idx);
            ts_table_free(orig), ts_table_free(t);
        }
    ts_dict_release(d);
}

/* ---- ts_column_append_rows ------------------------------------------------------------------------------ */

/* A column "src" of n rows of type `type` (scale 2), a quarter of them null, values from r. */
static ts_column *random_column(ts_type type, int64_t n, ts_test_rng *r)
{
    ts_column *src = NULL;
    if (!CHECK_OK(ts_column_new("src", type, 2, NULL, &src)))
        abort();
    for (int64_t i = 0; i < n; i++) {
        const int ok = ts_rng_below(r, 4) != 0;
        if (type == TS_T_STRING) {
            char buf[40];
            const int len = (int)ts_rng_below(r, 30);
            for (int k = 0; k < len; k++)
                buf[k] = (char)('a' + (i + k) % 26);
            buf[len] = 0;
            push_str(src, buf, ok);
        } else if (type == TS_T_FLOAT64) {
            push_f64(src, (double)i / 3);
            if (!ok)
                ts_column_set_null(src, i);
        } else {
            push(src, type == TS_T_BOOL ? i % 2 : i * 7 - 1000, ok);
        }
    }
    return src;
}

static void test_append_rows(void)
{
    ts_test_rng r = ts_rng_seed(6);
    const ts_type types[] = {TS_T_STRING, TS_T_INT64, TS_T_INT32, TS_T_BOOL, TS_T_FLOAT64, TS_T_DECIMAL};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        ts_column *src, *dst;
        const int64_t n = 2500; /* past the first 1024-row allocation and across bitmap words */
        src = random_column(types[ti], n, &r);
        CHECK_OK(ts_column_new_like(src, &dst));
        CHECK(strcmp(dst->name, "src") == 0 && dst->type == types[ti] && dst->scale == 2 && dst->len == 0, "new_like");
        /* whole column, then a random gather with repeats, then nothing */
        CHECK_OK(ts_column_append_rows(dst, src, NULL, n));
        const int64_t m = 3000;
        int64_t *idx = malloc(sizeof *idx * (size_t)m);
        for (int64_t k = 0; k < m; k++)
            idx[k] = (int64_t)ts_rng_below(&r, (uint64_t)n);
        CHECK_OK(ts_column_append_rows(dst, src, idx, m));
        CHECK_OK(ts_column_append_rows(dst, src, idx, 0));
        CHECK(dst->len == n + m, "type %d: %lld rows after appends", types[ti], (long long)dst->len);
        long bad = 0;
        for (int64_t i = 0; i < n + m && dst->len == n + m; i++)
            bad += !same_value(dst, i, src, i < n ? i : idx[i - n]);
        CHECK(bad == 0, "type %d: %ld rows differ after append_rows", types[ti], bad);
        if (types[ti] == TS_T_STRING) {
            const int64_t *o = TS_COL(dst, int64_t);
            CHECK(o[0] == 0 && o[dst->len] == dst->nbytes, "string offsets end at nbytes");
        }
        /* appending a non-null source after nulls keeps the new rows valid */
        ts_column *clean;
        CHECK_OK(ts_column_new("clean", types[ti], 2, NULL, &clean));
        if (types[ti] == TS_T_STRING)
            push_str(clean, "zz", 1);
        else if (types[ti] == TS_T_FLOAT64)
            push_f64(clean, 1.5);
        else
            push(clean, 1, 1);
        CHECK_OK(ts_column_append_rows(dst, clean, NULL, 1));
        CHECK(valid(dst, n + m) && same_value(dst, n + m, clean, 0), "type %d: appended valid row", types[ti]);
        free(idx);
        ts_column_free(clean), ts_column_free(src), ts_column_free(dst);
    }
    /* mismatched types are refused */
    ts_column *a, *b;
    CHECK_OK(ts_column_new("a", TS_T_INT64, 0, NULL, &a));
    CHECK_OK(ts_column_new("b", TS_T_INT32, 0, NULL, &b));
    push(b, 1, 1);
    CHECK(ts_column_append_rows(a, b, NULL, 1) != TS_OK, "append across types must fail");
    ts_column_free(a), ts_column_free(b);
}

/* ts_column_keep_rows in place against the rows it should keep, read from an untouched copy: every type, nulls,
 * and selections that exercise its shortcuts (a kept prefix, long runs) and plain row-by-row moves. */
static void test_keep_rows(void)
{
    ts_test_rng r = ts_rng_seed(8);
    const ts_type types[] = {TS_T_STRING, TS_T_INT64, TS_T_INT32, TS_T_BOOL, TS_T_FLOAT64};
    const int64_t n = 3000;
    int64_t *idx = malloc(sizeof *idx * (size_t)n);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        for (int pattern = 0; pattern < 5; pattern++) {
            ts_column *src = random_column(types[ti], n, &r), *col;
            CHECK_OK(ts_column_new_like(src, &col));
            CHECK_OK(ts_column_append_rows(col, src, NULL, n));
            /* 0: drop a few rows (long runs), 1: keep about half, 2: keep all, 3: keep none, 4: drop row 0 */
            int64_t m = 0;
            for (int64_t i = 0; i < n; i++) {
                const int keep = pattern == 0   ? ts_rng_below(&r, 200) != 0
                                 : pattern == 1 ? ts_rng_below(&r, 2) != 0
                                 : pattern == 2 ? 1
                                 : pattern == 3 ? 0
                                                : i != 0;
                if (keep)
                    idx[m++] = i;
            }
            ts_column_keep_rows(col, idx, m);
            long bad = 0;
            for (int64_t k = 0; k < m; k++)
                bad += !same_value(col, k, src, idx[k]);
            CHECK(col->len == m && bad == 0, "type %d pattern %d: %ld of %lld kept rows differ", types[ti], pattern,
                  bad, (long long)m);
            if (types[ti] == TS_T_STRING) {
                const int64_t *o = TS_COL(col, int64_t);
                CHECK(o[0] == 0 && o[m] == col->nbytes, "type %d pattern %d: offsets end at nbytes", types[ti],
                      pattern);
            }
            ts_column_free(src), ts_column_free(col);
        }
    }
    free(idx);
}

int main(void)
{
    test_pack_keys();
    test_aggregate();
    test_dedup();
    test_join();
    test_sort();
    test_append_rows();
    test_keep_rows();
    return TS_TEST_DONE("test_table_ops");
}
