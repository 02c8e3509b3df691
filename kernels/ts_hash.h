/* Hashing: 64- and 128-bit hashes of byte strings and integer keys. Pure functions, thread-safe.
 * Values are identical on every rank and every run (no random seeding), which partitioning relies on. */
#ifndef TS_HASH_H
#define TS_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_hash128 {
    uint64_t lo, hi;
} ts_hash128;

/* Hash of len bytes at p under seed. */
uint64_t ts_hash_bytes(const void *p, size_t len, uint64_t seed);
/* Two independent 64-bit hashes: collisions between distinct inputs have probability about 2^-128. */
ts_hash128 ts_hash128_bytes(const void *p, size_t len);

/* Finaliser of a 64-bit integer (bijective, full avalanche). */
static inline uint64_t ts_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* Combines a running key hash with the next key column's value hash (order-sensitive). */
static inline uint64_t ts_hash_combine(uint64_t h, uint64_t v)
{
    return ts_hash_u64(h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2)));
}

#endif
