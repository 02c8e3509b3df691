/* Aggregate state kernels: the per-group arithmetic of Tessera's aggregates, free of tables and MPI, so the
 * local aggregation (engine/ops/ts_aggregate.c) and the merge of partial states after an exchange
 * (engine/dist/ts_aggregate_dist.c) share one definition of every update. Pure functions; nothing here allocates
 * (callers provide all buffers). */
#ifndef TS_AGG_STATE_H
#define TS_AGG_STATE_H

#include <math.h>
#include <stdint.h>

__extension__ typedef __int128 ts_i128;
__extension__ typedef unsigned __int128 ts_u128;

/* Neumaier's compensated sum: sum + comp is within one rounding of the exact sum, whatever the order. */
static inline void ts_neumaier_add(double *sum, double *comp, double v)
{
    const double t = *sum + v;
    *comp += fabs(*sum) >= fabs(v) ? (*sum - t) + v : (v - t) + *sum;
    *sum = t;
}
/* The compensated result. Once the sum is infinite or NaN the compensation is NaN (inf - inf) and
 * meaningless: the sum alone is the answer then. */
static inline double ts_neumaier_result(double sum, double comp) { return isfinite(sum) ? sum + comp : sum; }

/* Welford's update of (count n, mean, M2 = sum of squared deviations) with x; n counts x already. */
static inline void ts_welford_add(int64_t n, double *mean, double *m2, double x)
{
    const double d = x - *mean;
    *mean += d / (double)n;
    *m2 += d * (x - *mean);
}

/* Chan et al.'s merge of two Welford states: (na, *mean, *m2) absorbs (nb, mean_b, m2_b). */
void ts_chan_merge(int64_t na, double *mean, double *m2, int64_t nb, double mean_b, double m2_b);

/* Co-moments of pairs (x, y) for covariance and correlation (Welford's update extended to two variables, as
 * DuckDB's covar / corr states): means, sums of squared deviations m2x, m2y and the sum of cross deviations cxy.
 * Stable whatever the data's offset (no E[xy] - E[x]E[y] cancellation). */
typedef struct ts_comoments {
    double mx, my, m2x, m2y, cxy;
} ts_comoments;

/* Adds the pair (x, y); n counts the pair already (n >= 1). */
static inline void ts_comoments_add(int64_t n, ts_comoments *s, double x, double y)
{
    const double inv = 1.0 / (double)n, dx = x - s->mx, dy = y - s->my;
    s->mx += dx * inv;
    s->my += dy * inv;
    const double ex = x - s->mx, ey = y - s->my;
    s->m2x += dx * ex;
    s->m2y += dy * ey;
    s->cxy += dx * ey;
}

/* Chan et al.'s merge: (na, *a) absorbs (nb, *b). */
void ts_comoments_merge(int64_t na, ts_comoments *a, int64_t nb, const ts_comoments *b);

/* covar_pop (samp = 0) or covar_samp (samp = 1) of n pairs; NAN with *null = 1 for fewer than 1 (2) pairs. */
double ts_covar_result(int64_t n, const ts_comoments *s, int samp, int *null);

/* Pearson's correlation of n pairs; NAN with *null = 1 when there are none; NAN (not NULL, as DuckDB) when either
 * variable is constant, e.g. a single pair. */
double ts_corr_result(int64_t n, const ts_comoments *s, int *null);

/* Exact variance moments of integers: count, sum x, sum x^2. The second sum is unsigned 128-bit; *overflow is
 * set when it wraps (values near 2^63 over many rows). */
static inline void ts_moments_add(ts_i128 *s1, ts_u128 *s2, int64_t x, int *overflow)
{
    const ts_u128 ax = (ts_u128)(x < 0 ? -(ts_i128)x : (ts_i128)x);
    *s1 += x;
    *overflow |= __builtin_add_overflow(*s2, ax * ax, s2);
}
/* M2 = sum of (x - mean)^2 from the exact moments, without cancellation: around q = trunc(s1 / n),
 * sum (x - q)^2 = s2 - 2 q s1 + n q^2 is small, so it is computed modulo 2^128 and is still exact; then
 * M2 = sum (x - q)^2 - r^2 / n with r = s1 - q n. A function of exact integers only: the same on any P. */
long double ts_moments_m2(int64_t n, ts_i128 s1, ts_u128 s2);

/* Variance-family result of n values: sample (samp) or population, standard deviation (sd) or variance, from a
 * float M2 (Welford, is_float) or from exact integer moments s1, s2 of values scaled by 10^scale. NAN with *null = 1
 * for too few values (sample: fewer than 2, population: none). */
double ts_var_result(int64_t n, int samp, int sd, int is_float, double m2f, ts_i128 s1, ts_u128 s2, int scale,
                     int *null);

/* Total order of doubles used by MIN, MAX, FIRST/LAST orderings and quantiles: -0 == +0, NaN is greater than
 * every number including +inf and equal to itself (DuckDB's order). Returns <0, 0, >0. */
static inline int ts_f64_cmp(double a, double b)
{
    const int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    return (a > b) - (a < b);
}

/* Exact continuous quantile (DuckDB's quantile_cont) of v[0..n), n > 0, q in [0, 1]: position q (n - 1),
 * linear interpolation between its neighbours. Reorders v (selection, not a sort: O(n) expected). */
double ts_quantile_f64(double *v, int64_t n, double q);
/* Same for integers; the interpolation runs in long double, so it is exact for |values| < 2^63. */
long double ts_quantile_i64(int64_t *v, int64_t n, double q);

/* Dense codes for the strings s_i = bytes[off[i] .. off[i+1]) by first appearance (code[i] = number of distinct
 * strings before s_i's first occurrence), with exact byte comparison. slots: nslots zeroed uint64 values,
 * nslots a power of two >= 2 n (ts_rowset_slots(n)). n < 2^32. Returns the number of distinct strings. */
int64_t ts_string_codes(const int64_t *off, const char *bytes, int64_t n, uint64_t *slots, uint64_t nslots,
                        int32_t *code);

#endif
