/* TS_AGG_MEAN: hand-checked DECIMAL scale and NULL groups, and randomized integer and float means against a
 * naive per-group loop; float sums must be order-independent to within one rounding. Also: a bad quantile
 * parameter is refused. */
#include <math.h>
#include <stdlib.h>

#include "ts_aggregate.h"
#include "ts_test.h"

static ts_column *add(ts_table *t, const char *name, ts_type type, int scale)
{
    ts_column *c = NULL;
    CHECK_OK(ts_table_add(t, name, type, scale, NULL, &c));
    return c;
}

static void test_hand(void)
{
    ts_table *t, *out = NULL;
    CHECK_OK(ts_table_new("t", &t));
    ts_column *k = add(t, "k", TS_T_INT32, 0), *amt = add(t, "amt", TS_T_DECIMAL, 2);
    const int32_t keys[] = {1, 1, 2, 3};
    const int64_t cents[] = {1050, 2000, 99, 5};
    CHECK_OK(ts_column_reserve(k, 4, 0));
    CHECK_OK(ts_column_reserve(amt, 4, 0));
    for (int i = 0; i < 4; i++)
        TS_COL(k, int32_t)[i] = keys[i], TS_COL(amt, int64_t)[i] = cents[i];
    k->len = amt->len = 4;
    CHECK_OK(ts_column_set_null(amt, 3)); /* group 3 has no non-null value */
    static const char *const by[] = {"k"};
    const ts_agg mean = {TS_AGG_MEAN, "amt", NULL, "avg", 0, NULL};
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, &mean, 1, "g", &out))) {
        const ts_column *avg = ts_table_col(out, "avg");
        CHECK(avg && avg->type == TS_T_FLOAT64 && avg->len == 3, "one FLOAT64 mean per group");
        CHECK(TS_COL(avg, double)[0] == 15.25, "mean(10.50, 20.00) = %g", TS_COL(avg, double)[0]);
        CHECK(TS_COL(avg, double)[1] == 0.99, "mean(0.99) = %g", TS_COL(avg, double)[1]);
        CHECK(!ts_column_is_valid(avg, 2), "a group with only NULLs has a NULL mean");
    }
    ts_table_free(out), ts_table_free(t);
}

static void test_random(void)
{
    ts_test_rng r = ts_rng_seed(5);
    enum { N = 20000, G = 37 };
    ts_table *t, *out = NULL;
    CHECK_OK(ts_table_new("t", &t));
    ts_column *k = add(t, "k", TS_T_INT64, 0), *v = add(t, "v", TS_T_INT64, 0), *f = add(t, "f", TS_T_FLOAT64, 0);
    CHECK_OK(ts_column_reserve(k, N, 0));
    CHECK_OK(ts_column_reserve(v, N, 0));
    CHECK_OK(ts_column_reserve(f, N, 0));
    for (int i = 0; i < N; i++) {
        TS_COL(k, int64_t)[i] = (int64_t)ts_rng_below(&r, G);
        TS_COL(v, int64_t)[i] = ts_rng_range(&r, -1000000, 1000000);
        TS_COL(f, double)[i] = (double)ts_rng_range(&r, -1000000, 1000000) / 1024.0; /* exact in binary */
    }
    k->len = v->len = f->len = N;
    static const char *const by[] = {"k"};
    const ts_agg aggs[] = {{TS_AGG_MEAN, "v", NULL, "mv", 0, NULL}, {TS_AGG_MEAN, "f", NULL, "mf", 0, NULL}};
    if (CHECK_OK(ts_hash_aggregate(t, by, 1, aggs, 2, "g", &out))) {
        long bad = 0;
        for (int64_t g = 0; g < ts_table_rows(out); g++) {
            const int64_t key = TS_COL(ts_table_col(out, "k"), int64_t)[g];
            long double si = 0, sf = 0;
            int64_t c = 0;
            for (int i = 0; i < N; i++)
                if (TS_COL(k, int64_t)[i] == key)
                    si += TS_COL(v, int64_t)[i], sf += TS_COL(f, double)[i], c++;
            const double want_i = (double)(si / c), want_f = (double)(sf / c);
            const double got_i = TS_COL(ts_table_col(out, "mv"), double)[g];
            const double got_f = TS_COL(ts_table_col(out, "mf"), double)[g];
            bad += fabs(got_i - want_i) > 1e-12 * fabs(want_i) + 1e-12 || fabs(got_f - want_f) > 1e-12 * fabs(want_f) + 1e-12;
        }
        CHECK(ts_table_rows(out) == G && bad == 0, "%lld groups, %ld means off", (long long)ts_table_rows(out), bad);
    }
    /* a quantile outside [0, 1] is refused, with no output */
    const ts_agg bad_q = {TS_AGG_QUANTILE, "f", NULL, "q", 1.5, NULL};
    ts_table *o2 = NULL;
    CHECK(ts_hash_aggregate(t, by, 1, &bad_q, 1, "g2", &o2) == TS_ERR_USAGE && !o2, "quantile 1.5 is refused");
    ts_table_free(out), ts_table_free(t);
}

int main(void)
{
    test_hand();
    test_random();
    return TS_TEST_DONE("test_aggregate_mean");
}
