/* ts_quantile_f64 / ts_quantile_i64 (kernels/ts_agg_state.h) against a sorted copy: random values, few distinct
 * values, all equal, sorted and reversed input, NaNs, every size from 1 to past the selection's small cutoff and
 * some in the thousands, quantiles 0, 1 and in between. The kernel selects in place and must leave a permutation. */
#include <math.h>
#include <stdlib.h>

#include "ts_agg_state.h"
#include "ts_test.h"

static int cmp_f64(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* quantile_cont from a sorted array (NaNs last, as DuckDB orders them) */
static double ref_f64(const double *s, int64_t n, double q)
{
    const double pos = q * (double)(n - 1);
    const int64_t k = (int64_t)floor(pos);
    const double frac = pos - (double)k;
    if (isnan(s[k]) || (frac != 0 && isnan(s[k + 1])))
        return NAN;
    return frac == 0 || s[k] == s[k + 1] ? s[k] : s[k] + frac * (s[k + 1] - s[k]);
}

static double gen(ts_test_rng *rng, int shape, int64_t i, int64_t n)
{
    switch (shape) {
    case 0: return (double)(int64_t)(ts_rng_next(rng) % 1000000) / 7.0; /* random */
    case 1: return (double)(ts_rng_next(rng) % 3);                      /* few distinct */
    case 2: return 42.0;                                                /* all equal */
    case 3: return (double)i;                                           /* sorted */
    case 4: return (double)(n - i);                                     /* reversed */
    default: return ts_rng_next(rng) % 5 == 0 ? NAN : (double)(ts_rng_next(rng) % 100); /* NaNs, duplicates */
    }
}

int main(void)
{
    ts_test_rng rng = ts_rng_seed(12345);
    const double qs[] = {0, 0.1, 0.5, 0.75, 1};
    const int64_t sizes[] = {1, 2, 3, 5, 15, 16, 17, 18, 31, 33, 64, 100, 257, 1000, 1001, 4099};
    for (int shape = 0; shape < 6; shape++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++) {
                const int64_t n = sizes[si];
                double *v = malloc(sizeof *v * (size_t)n), *s = malloc(sizeof *s * (size_t)n);
                int64_t *iv = malloc(sizeof *iv * (size_t)n), *is = malloc(sizeof *is * (size_t)n);
                for (int64_t i = 0; i < n; i++) {
                    v[i] = s[i] = gen(&rng, shape, i, n);
                    iv[i] = is[i] = isnan(v[i]) ? -7 : (int64_t)(v[i] * 3);
                }
                qsort(s, (size_t)n, sizeof *s, cmp_f64);
                qsort(is, (size_t)n, sizeof *is, cmp_i64);
                const double want = ref_f64(s, n, qs[qi]), got = ts_quantile_f64(v, n, qs[qi]);
                CHECK((isnan(want) && isnan(got)) || want == got, "shape %d n %lld q %g: %.17g, want %.17g", shape,
                      (long long)n, qs[qi], got, want);
                qsort(v, (size_t)n, sizeof *v, cmp_f64);
                CHECK(memcmp(v, s, sizeof *v * (size_t)n) == 0 || shape == 5, "shape %d n %lld: not a permutation",
                      shape, (long long)n);
                const double pos = qs[qi] * (double)(n - 1), frac = pos - floor(pos);
                const int64_t k = (int64_t)floor(pos);
                const long double iw = frac == 0 || is[k] == is[k + 1]
                                           ? (long double)is[k]
                                           : (long double)is[k] + (long double)frac * (long double)(is[k + 1] - is[k]);
                const long double ig = ts_quantile_i64(iv, n, qs[qi]);
                CHECK(ig == iw, "int shape %d n %lld q %g: %.17Lg, want %.17Lg", shape, (long long)n, qs[qi], ig, iw);
                qsort(iv, (size_t)n, sizeof *iv, cmp_i64);
                CHECK(memcmp(iv, is, sizeof *iv * (size_t)n) == 0, "int shape %d n %lld: not a permutation", shape,
                      (long long)n);
                free(v), free(s), free(iv), free(is);
            }
    return TS_TEST_DONE("test_quantile");
}
