#include "ts_hll.h"

#include <math.h>
#include <string.h>

void ts_hll_init(ts_hll *h) { memset(h->reg, 0, sizeof h->reg); }

void ts_hll_add_hashes(ts_hll *h, const uint64_t *hashes, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        ts_hll_add(h, hashes[i]);
}

void ts_hll_merge(ts_hll *dst, const ts_hll *src)
{
    for (int i = 0; i < TS_HLL_M; i++)
        if (src->reg[i] > dst->reg[i])
            dst->reg[i] = src->reg[i];
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017), eq. (6)-(7): sigma and tau
 * correct for empty and saturated registers, which replaces the classic linear-counting switch. */
static double sigma(double x)
{
    if (x == 1)
        return INFINITY;
    double y = 1, z = x, last;
    do {
        x *= x;
        last = z;
        z += x * y;
        y += y;
    } while (z != last);
    return z;
}

static double tau(double x)
{
    if (x == 0 || x == 1)
        return 0;
    double y = 1, z = 1 - x, last;
    do {
        x = sqrt(x);
        last = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (z != last);
    return z / 3;
}

double ts_hll_estimate(const ts_hll *h)
{
    enum { Q = 64 - TS_HLL_P };
    int count[Q + 2] = {0};
    for (int i = 0; i < TS_HLL_M; i++)
        count[h->reg[i]]++;
    const double m = TS_HLL_M;
    if (count[0] == TS_HLL_M)
        return 0;
    double z = m * tau(1 - count[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + count[k]);
    z += m * sigma(count[0] / m);
    return m * m / (2 * log(2)) / z;
}
