#include "ts_agg_state.h"

#include <string.h>

#include "ts_hash.h"

void ts_chan_merge(int64_t na, double *mean, double *m2, int64_t nb, double mean_b, double m2_b)
{
    if (nb == 0)
        return;
    if (na == 0) {
        *mean = mean_b, *m2 = m2_b;
        return;
    }
    const double n = (double)na + (double)nb, d = mean_b - *mean;
    *mean += d * ((double)nb / n);
    *m2 += m2_b + d * d * ((double)na * (double)nb / n);
}

void ts_comoments_merge(int64_t na, ts_comoments *a, int64_t nb, const ts_comoments *b)
{
    if (nb == 0)
        return;
    if (na == 0) {
        *a = *b;
        return;
    }
    const double n = (double)na + (double)nb, dx = b->mx - a->mx, dy = b->my - a->my;
    const double f = (double)na * (double)nb / n, wb = (double)nb / n;
    a->m2x += b->m2x + dx * dx * f;
    a->m2y += b->m2y + dy * dy * f;
    a->cxy += b->cxy + dx * dy * f;
    a->mx += dx * wb;
    a->my += dy * wb;
}

double ts_covar_result(int64_t n, const ts_comoments *s, int samp, int *null)
{
    *null = n < (samp ? 2 : 1);
    return *null ? NAN : s->cxy / (double)(samp ? n - 1 : n);
}

double ts_corr_result(int64_t n, const ts_comoments *s, int *null)
{
    const double d = sqrt(s->m2x) * sqrt(s->m2y);
    *null = n < 1;
    return *null || d == 0 ? NAN : s->cxy / d;
}

long double ts_moments_m2(int64_t n, ts_i128 s1, ts_u128 s2)
{
    if (n <= 0)
        return 0;
    const ts_i128 q = s1 / n, r = s1 - q * n;
    /* modulo 2^128: intermediate terms may wrap, the true result is small and comes out exact */
    const ts_u128 sq = s2 - (ts_u128)2 * (ts_u128)q * (ts_u128)s1 + (ts_u128)n * (ts_u128)q * (ts_u128)q;
    return (long double)sq - (long double)r * (long double)r / (long double)n;
}

/* Quickselect with branch-free partitions: values from a group of random data compare with the pivot at random, so
 * a branching partition mispredicts about every other value; here each pass moves the values below the pivot to
 * the front with a swap and a conditional increment. A pass that moves none (k among values >= the pivot, none
 * smaller) moves the pivot's equals next, so runs of equal values, common in real data, still end the search at
 * once. Leaves v[k] at its sorted position, smaller values before it, larger after. */
#define SELECT_SMALL 16
#define SELECT_BODY(T)                                                                                        \
    int64_t lo = 0, hi = n; /* v[k] lies in [lo, hi): everything before is <= it, everything after >= it */  \
    while (hi - lo > SELECT_SMALL) {                                                                          \
        const int64_t mid = lo + (hi - lo) / 2;                                                               \
        const T a = v[lo], b = v[mid], c = v[hi - 1];                                                         \
        const T p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));                    \
        int64_t j = lo;                                                                                       \
        for (int64_t i = lo; i < hi; i++) {                                                                   \
            const T x = v[i];                                                                                 \
            v[i] = v[j], v[j] = x, j += x < p;                                                                \
        }                                                                                                     \
        if (k < j) {                                                                                          \
            hi = j;                                                                                           \
        } else if (j > lo) {                                                                                  \
            lo = j;                                                                                           \
        } else { /* every value >= p: the equals of p next */                                                 \
            for (int64_t i = lo; i < hi; i++) {                                                               \
                const T x = v[i];                                                                             \
                v[i] = v[j], v[j] = x, j += !(p < x);                                                         \
            }                                                                                                 \
            if (k < j)                                                                                        \
                return;                                                                                       \
            lo = j;                                                                                           \
        }                                                                                                     \
    }                                                                                                         \
    for (int64_t i = lo + 1; i < hi; i++) { /* insertion sort of the few left */                              \
        const T x = v[i];                                                                                     \
        int64_t j = i;                                                                                        \
        for (; j > lo && x < v[j - 1]; j--)                                                                   \
            v[j] = v[j - 1];                                                                                  \
        v[j] = x;                                                                                             \
    }

static void select_f64(double *v, int64_t n, int64_t k) { SELECT_BODY(double) }
static void select_i64(int64_t *v, int64_t n, int64_t k) { SELECT_BODY(int64_t) }

/* Smallest of v[from..n). */
#define MIN_FROM(T)                                                                                           \
    T m = v[from];                                                                                            \
    for (int64_t i = from + 1; i < n; i++)                                                                    \
        m = v[i] < m ? v[i] : m;                                                                              \
    return m;
static double min_from_f64(const double *v, int64_t n, int64_t from) { MIN_FROM(double) }
static int64_t min_from_i64(const int64_t *v, int64_t n, int64_t from) { MIN_FROM(int64_t) }

double ts_quantile_f64(double *v, int64_t n, double q)
{
    /* NaN sorts last: move NaNs to the end, select among the numbers */
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            const double t = v[m];
            v[m++] = v[i], v[i] = t;
        }
    const double pos = q * (double)(n - 1);
    const int64_t k = (int64_t)floor(pos);
    const double frac = pos - (double)k;
    if (k >= m)
        return NAN;
    select_f64(v, m, k);
    const double a = v[k];
    if (frac == 0)
        return a;
    const double b = k + 1 < m ? min_from_f64(v, m, k + 1) : NAN;
    return a == b ? a : a + frac * (b - a);
}

long double ts_quantile_i64(int64_t *v, int64_t n, double q)
{
    const double pos = q * (double)(n - 1);
    const int64_t k = (int64_t)floor(pos);
    const double frac = pos - (double)k;
    select_i64(v, n, k);
    const long double a = (long double)v[k];
    if (frac == 0)
        return a;
    const long double b = (long double)min_from_i64(v, n, k + 1);
    return a + (long double)frac * (b - a);
}

int64_t ts_string_codes(const int64_t *off, const char *bytes, int64_t n, uint64_t *slots, uint64_t nslots,
                        int32_t *code)
{
    const uint64_t mask = nslots - 1;
    int32_t next = 0;
    for (int64_t i = 0; i < n; i++) {
        const size_t len = (size_t)(off[i + 1] - off[i]);
        const uint64_t h = ts_hash_bytes(bytes + off[i], len, 0x5eed), tag = h >> 32;
        for (uint64_t s = h & mask;; s = (s + 1) & mask) {
            if (slots[s] == 0) {
                slots[s] = tag << 32 | (uint64_t)(i + 1);
                code[i] = next++;
                break;
            }
            const int64_t r = (int64_t)(slots[s] & 0xffffffffu) - 1;
            if (slots[s] >> 32 == tag && (size_t)(off[r + 1] - off[r]) == len &&
                memcmp(bytes + off[r], bytes + off[i], len) == 0) {
                code[i] = code[r];
                break;
            }
        }
    }
    return next;
}

double ts_var_result(int64_t n, int samp, int sd, int is_float, double m2f, ts_i128 s1, ts_u128 s2, int scale,
                     int *null)
{
    *null = n < (samp ? 2 : 1);
    if (*null)
        return NAN;
    double v;
    if (is_float) {
        v = m2f / (double)(samp ? n - 1 : n);
    } else {
        long double m2 = ts_moments_m2(n, s1, s2);
        const long double p = powl(10.0L, scale);
        m2 = m2 < 0 ? 0 : m2; /* rounding of the last subtraction only */
        v = (double)(m2 / (long double)(samp ? n - 1 : n) / (p * p));
    }
    return sd ? sqrt(v) : v;
}
