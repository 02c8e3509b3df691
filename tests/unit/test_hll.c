/* HyperLogLog: estimates against exact distinct counts (independent: the inputs are generated with a known number
 * of distinct values), from 0 to 10^7, with repeats, and merging equals sketching the union. */
#include <math.h>

#include "ts_hash.h"
#include "ts_hll.h"
#include "ts_test.h"

/* Adds n values drawn from `distinct` distinct integers starting at base (each at least once). */
static void fill(ts_hll *h, uint64_t base, int64_t distinct, int64_t n, ts_test_rng *rng)
{
    for (int64_t i = 0; i < n; i++) {
        const uint64_t v = i < distinct ? (uint64_t)i : ts_rng_below(rng, (uint64_t)distinct);
        ts_hll_add(h, ts_hash_u64(base + v));
    }
}

int main(void)
{
    ts_test_rng rng = ts_rng_seed(12345);
    ts_hll h;
    ts_hll_init(&h);
    CHECK(ts_hll_estimate(&h) == 0, "empty sketch: %g", ts_hll_estimate(&h));
    /* small counts are nearly exact; large ones within 4 standard errors (1.6 % each) */
    const int64_t sizes[] = {1, 2, 10, 100, 1000, 5000, 20000, 100000, 1000000, 10000000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int64_t d = sizes[s];
        ts_hll_init(&h);
        fill(&h, 1000003 * (uint64_t)s, d, d < 1000000 ? 3 * d : d, &rng);
        const double est = ts_hll_estimate(&h), rel = fabs(est - (double)d) / (double)d;
        CHECK(d <= 100 ? fabs(est - (double)d) <= 1.0 + 0.02 * (double)d : rel < 0.065,
              "distinct %lld: estimate %.1f (relative error %.4f)", (long long)d, est, rel);
    }
    /* merge: two overlapping halves estimate like one sketch of the union */
    ts_hll a, b, u;
    ts_hll_init(&a), ts_hll_init(&b), ts_hll_init(&u);
    for (uint64_t v = 0; v < 600000; v++) {
        if (v < 400000)
            ts_hll_add(&a, ts_hash_u64(v));
        if (v >= 200000)
            ts_hll_add(&b, ts_hash_u64(v));
        ts_hll_add(&u, ts_hash_u64(v));
    }
    ts_hll_merge(&a, &b);
    CHECK(memcmp(a.reg, u.reg, sizeof a.reg) == 0, "merged registers differ from the union's");
    const double e = ts_hll_estimate(&a);
    CHECK(fabs(e - 600000) / 600000 < 0.065, "union estimate %.0f for 600000", e);
    /* adding the same value again changes nothing */
    ts_hll_init(&h);
    for (int i = 0; i < 1000; i++)
        ts_hll_add(&h, ts_hash_u64(42));
    CHECK(fabs(ts_hll_estimate(&h) - 1) < 0.01, "one value repeated: %g", ts_hll_estimate(&h));
    return TS_TEST_DONE("hll");
}
