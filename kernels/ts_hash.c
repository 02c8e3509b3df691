#include "ts_hash.h"

#include <string.h>

/* Multiply-fold mixing (the 128-bit product folded to 64 bits): fast and well distributed on 64-bit CPUs. */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
    const __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load_tail(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);
    return v;
}

uint64_t ts_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    const uint64_t k1 = UINT64_C(0xa0761d6478bd642f), k2 = UINT64_C(0xe7037ed1a0b428db);
    uint64_t h = seed ^ mix(seed ^ k1, (uint64_t)len ^ k2);
    while (len >= 16) {
        h = mix(load64(p) ^ k1 ^ h, load64(p + 8) ^ k2);
        p += 16, len -= 16;
    }
    if (len >= 8) {
        h = mix(load64(p) ^ k1 ^ h, k2 ^ len);
        p += 8, len -= 8;
    }
    if (len)
        h = mix(load_tail(p, len) ^ k1 ^ h, k2 ^ (len << 3));
    return ts_hash_u64(h);
}

/* Both words in one loop: ts_hash_bytes with the two seeds, step for step, so the same values, but the two
 * independent multiply chains overlap instead of running one after the other over the bytes. */
ts_hash128 ts_hash128_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    const uint64_t k1 = UINT64_C(0xa0761d6478bd642f), k2 = UINT64_C(0xe7037ed1a0b428db);
    const uint64_t s1 = UINT64_C(0x243f6a8885a308d3), s2 = UINT64_C(0x13198a2e03707344);
    uint64_t h1 = s1 ^ mix(s1 ^ k1, (uint64_t)len ^ k2), h2 = s2 ^ mix(s2 ^ k1, (uint64_t)len ^ k2);
    while (len >= 16) {
        const uint64_t a = load64(p) ^ k1, b = load64(p + 8) ^ k2;
        h1 = mix(a ^ h1, b), h2 = mix(a ^ h2, b);
        p += 16, len -= 16;
    }
    if (len >= 8) {
        const uint64_t a = load64(p) ^ k1;
        h1 = mix(a ^ h1, k2 ^ len), h2 = mix(a ^ h2, k2 ^ len);
        p += 8, len -= 8;
    }
    if (len) {
        const uint64_t a = load_tail(p, len) ^ k1;
        h1 = mix(a ^ h1, k2 ^ (len << 3)), h2 = mix(a ^ h2, k2 ^ (len << 3));
    }
    const ts_hash128 r = {ts_hash_u64(h1), ts_hash_u64(h2)};
    return r;
}
