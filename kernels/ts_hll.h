/* HyperLogLog distinct-count sketch (Flajolet et al. 2007) with Ertl's improved estimator (2017), which is
 * unbiased from a handful of values up to ~10^18 without empirical bias tables. 2^12 one-byte registers: a
 * standard error of about 1.6 %. Sketches of the same precision merge by taking register maxima, so ranks sketch
 * their rows locally and an MPI_MAX allreduce of the registers gives the sketch of the union.
 * Pure functions over caller-owned sketches; input values are 64-bit hashes (kernels/ts_hash.h). */
#ifndef TS_HLL_H
#define TS_HLL_H

#include <stdint.h>

#define TS_HLL_P 12
#define TS_HLL_M (1 << TS_HLL_P)

typedef struct ts_hll {
    uint8_t reg[TS_HLL_M];
} ts_hll;

void ts_hll_init(ts_hll *h);

/* Adds one 64-bit hash: the top P bits pick the register, the rank of the first 1 bit in the rest is kept. */
static inline void ts_hll_add(ts_hll *h, uint64_t hash)
{
    const uint32_t idx = (uint32_t)(hash >> (64 - TS_HLL_P));
    const uint64_t w = hash << TS_HLL_P;
    const uint8_t rho = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - TS_HLL_P + 1);
    if (rho > h->reg[idx])
        h->reg[idx] = rho;
}

void ts_hll_add_hashes(ts_hll *h, const uint64_t *hashes, int64_t n);
/* dst := the sketch of the union of both inputs. */
void ts_hll_merge(ts_hll *dst, const ts_hll *src);
/* Estimated number of distinct hashes added. */
double ts_hll_estimate(const ts_hll *h);

#endif
