/* kernels/ts_ht and kernels/ts_hash: the exact-key hash table against a naive sorted array, and the
 * hashes' basic contracts (deterministic, sensitive to every bit). */
#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_ht.h"
#include "ts_test.h"

typedef struct kv {
    uint64_t lo, hi;
    int64_t val;
} kv;

/* Naive map: unsorted array with linear search (small enough here), the reference for every operation. */
static int64_t naive_find(const kv *a, int64_t n, uint64_t lo, uint64_t hi)
{
    for (int64_t i = 0; i < n; i++)
        if (a[i].lo == lo && a[i].hi == hi)
            return i;
    return -1;
}

/* Keys drawn so that some collide in lo only, some in hi only, and many repeat. */
static void random_key(ts_test_rng *r, int mode, uint64_t *lo, uint64_t *hi)
{
    switch (mode) {
    case 0: *lo = ts_rng_below(r, 3000), *hi = 0; break;                      /* small dense keys */
    case 1: *lo = ts_rng_below(r, 60), *hi = ts_rng_below(r, 60); break;      /* equal lo, different hi */
    case 2: *lo = ts_rng_next(r) & 0xFFFF000000000000u, *hi = ts_rng_below(r, 4); break; /* high bits only */
    default: *lo = ts_rng_next(r) % 5000 * UINT64_C(0x100000001), *hi = ~*lo; break;
    }
}

static void test_against_naive(void)
{
    ts_test_rng r = ts_rng_seed(42);
    for (int mode = 0; mode < 4; mode++) {
        for (int expected = 0; expected <= 1000; expected += 1000) { /* tiny initial size forces growth */
            ts_ht t;
            if (!CHECK_OK(ts_ht_init(&t, expected)))
                continue;
            const int64_t ops = 20000;
            kv *ref = malloc(sizeof *ref * (size_t)ops);
            int64_t n = 0;
            long bad = 0;
            for (int64_t op = 0; op < ops; op++) {
                uint64_t lo, hi;
                random_key(&r, mode, &lo, &hi);
                const int64_t want = naive_find(ref, n, lo, hi);
                if (op % 3 == 2) { /* lookup only */
                    const int64_t got = ts_ht_find(&t, lo, hi);
                    if (got != (want < 0 ? -1 : ref[want].val) && bad++ < 5)
                        CHECK(0, "find(%llu,%llu) = %lld", (unsigned long long)lo, (unsigned long long)hi,
                              (long long)got);
                    continue;
                }
                int inserted = -1;
                const int64_t newval = (int64_t)ts_rng_below(&r, 1u << 30);
                int64_t *slot = ts_ht_upsert(&t, lo, hi, newval, &inserted);
                if (!slot) {
                    CHECK(0, "upsert returned NULL");
                    break;
                }
                if (want < 0) {
                    if ((inserted != 1 || *slot != newval) && bad++ < 5)
                        CHECK(0, "new key not inserted (inserted=%d, val %lld)", inserted, (long long)*slot);
                    ref[n++] = (kv){lo, hi, newval};
                } else {
                    if ((inserted != 0 || *slot != ref[want].val) && bad++ < 5)
                        CHECK(0, "existing key: inserted=%d val %lld, expected %lld", inserted, (long long)*slot,
                              (long long)ref[want].val);
                    /* updating through the returned slot is visible to find */
                    *slot = ref[want].val = newval;
                }
            }
            CHECK(bad == 0, "mode %d expected %d: %ld mismatches", mode, expected, bad);
            CHECK(t.count == n, "count %lld, expected %lld distinct keys", (long long)t.count, (long long)n);
            CHECK((uint64_t)t.count * 2 <= t.mask + 1, "load factor above 1/2: %lld keys in %llu slots",
                  (long long)t.count, (unsigned long long)(t.mask + 1));
            CHECK(((t.mask + 1) & t.mask) == 0, "size is a power of two");
            /* every key is still there after all the growth */
            long lost = 0;
            for (int64_t i = 0; i < n; i++)
                lost += ts_ht_find(&t, ref[i].lo, ref[i].hi) != ref[i].val;
            CHECK(lost == 0, "%ld keys lost or wrong after growth", lost);
            /* absent keys */
            long phantom = 0;
            for (int i = 0; i < 2000; i++) {
                const uint64_t lo = ts_rng_next(&r) | 1u, hi = ts_rng_next(&r);
                if (naive_find(ref, n, lo, hi) < 0)
                    phantom += ts_ht_find(&t, lo, hi) != -1;
            }
            CHECK(phantom == 0, "%ld absent keys found", phantom);
            free(ref);
            ts_ht_free(&t);
        }
    }
}

static void test_many_keys(void)
{
    /* 300k sequential keys from a tiny table: many doublings; values are the insertion index */
    ts_ht t;
    CHECK(ts_ht_init(&t, 0) == 0, "init 0");
    const int64_t n = 300000;
    long bad = 0;
    for (int64_t i = 0; i < n; i++) {
        int ins;
        int64_t *s = ts_ht_upsert(&t, (uint64_t)i * 8, (uint64_t)(i % 7), i, &ins);
        bad += !s || !ins || *s != i;
    }
    for (int64_t i = 0; i < n; i++) {
        bad += ts_ht_find(&t, (uint64_t)i * 8, (uint64_t)(i % 7)) != i;
        bad += ts_ht_find(&t, (uint64_t)i * 8, (uint64_t)(i % 7) + 7) != -1;
    }
    CHECK(bad == 0, "%ld errors over %lld sequential keys", bad, (long long)n);
    CHECK(t.count == n, "count %lld", (long long)t.count);
    /* the extreme key values are ordinary keys */
    int ins;
    int64_t *s = ts_ht_upsert(&t, UINT64_MAX, UINT64_MAX, 5, &ins);
    CHECK(s && ins && ts_ht_find(&t, UINT64_MAX, UINT64_MAX) == 5, "all-ones key");
    s = ts_ht_upsert(&t, 0, UINT64_MAX, 6, &ins);
    CHECK(s && ins && ts_ht_find(&t, 0, UINT64_MAX) == 6, "(0, all-ones) key");
    ts_ht_free(&t);
}

static void test_hash(void)
{
    ts_test_rng r = ts_rng_seed(7);
    unsigned char buf[200], copy[200];
    long same_bad = 0, flip_bad = 0, flips = 0, seed_same = 0;
    for (int it = 0; it < 3000; it++) {
        const size_t len = ts_rng_below(&r, sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)ts_rng_next(&r);
        memcpy(copy, buf, len);
        const ts_hash128 a = ts_hash128_bytes(buf, len), b = ts_hash128_bytes(copy, len);
        same_bad += a.lo != b.lo || a.hi != b.hi;
        same_bad += ts_hash_bytes(buf, len, 99) != ts_hash_bytes(copy, len, 99);
        seed_same += len > 0 && ts_hash_bytes(buf, len, 1) == ts_hash_bytes(buf, len, 2);
        /* every single-bit flip (sampled positions) changes both halves */
        for (int k = 0; k < 8 && len; k++) {
            const size_t bit = ts_rng_below(&r, len * 8);
            copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            const ts_hash128 c = ts_hash128_bytes(copy, len);
            flip_bad += c.lo == a.lo || c.hi == a.hi;
            copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            flips++;
        }
        /* a different length of the same prefix differs (including trailing zero bytes) */
        if (len < sizeof buf) {
            buf[len] = 0;
            const ts_hash128 d = ts_hash128_bytes(buf, len + 1);
            flip_bad += d.lo == a.lo && d.hi == a.hi;
        }
    }
    CHECK(same_bad == 0, "%ld equal inputs hashed differently", same_bad);
    CHECK(flip_bad == 0, "%ld of %ld one-bit changes (or length changes) kept a hash half", flip_bad, flips);
    CHECK(seed_same == 0, "%ld inputs hash equally under two seeds", seed_same);
    /* every bit of a 16-byte input, exhaustively, and the empty input */
    unsigned char k16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const ts_hash128 base = ts_hash128_bytes(k16, 16);
    long k16_bad = 0;
    for (int bit = 0; bit < 128; bit++) {
        k16[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        const ts_hash128 h = ts_hash128_bytes(k16, 16);
        k16_bad += h.lo == base.lo || h.hi == base.hi;
        k16[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    CHECK(k16_bad == 0, "%ld of 128 bit flips of a 16-byte key kept a half", k16_bad);
    const ts_hash128 e1 = ts_hash128_bytes("", 0), e2 = ts_hash128_bytes("x", 0);
    CHECK(e1.lo == e2.lo && e1.hi == e2.hi && e1.lo != e1.hi, "empty input");
    /* known-answer stability is what partitioning relies on: same value on every call */
    CHECK(ts_hash_bytes("tessera", 7, 0) == ts_hash_bytes("tessera", 7, 0), "deterministic");
    /* ts_hash_u64 is a bijection: no collisions over a sample of nearby inputs */
    uint64_t *hs = malloc(sizeof *hs * 100000);
    for (uint64_t i = 0; i < 100000; i++)
        hs[i] = ts_hash_u64(i);
    ts_ht seen;
    long coll = 0;
    ts_ht_init(&seen, 100000);
    for (int64_t i = 0; i < 100000; i++) {
        int ins;
        ts_ht_upsert(&seen, hs[i], 0, i, &ins);
        coll += !ins;
    }
    CHECK(coll == 0, "%ld collisions of ts_hash_u64 over 0..99999", coll);
    ts_ht_free(&seen);
    free(hs);
}

int main(void)
{
    test_against_naive();
    test_many_keys();
    test_hash();
    return TS_TEST_DONE("test_hash_ht");
}
