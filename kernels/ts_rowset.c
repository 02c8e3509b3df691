#include "ts_rowset.h"

#include "ts_hash.h"

/* At most 2/3 full (was 1/2): linear probing with tags still finds a key within a cache line or two, and the table
 * is half as large about half the time. Its pages are fresh memory, which costs more to fault in and zero than
 * the probes on these virtual machines (perf: 6 % of a bank-analytics run zeroing a 64 MiB table of 2.5e6 rows). */
uint64_t ts_rowset_slots(int64_t n)
{
    uint64_t slots = 16;
    while (slots < (uint64_t)n + (uint64_t)n / 2)
        slots <<= 1;
    return slots;
}

void ts_rowset_init(ts_rowset *s, uint64_t *slots, uint64_t nslots, const uint64_t *lo, const uint64_t *hi)
{
    s->slots = slots, s->mask = nslots - 1, s->lo = lo, s->hi = hi, s->stride = 1;
}

void ts_rowset_init_strided(ts_rowset *s, uint64_t *slots, uint64_t nslots, const uint64_t *lo, const uint64_t *hi,
                            uint64_t stride)
{
    s->slots = slots, s->mask = nslots - 1, s->lo = lo, s->hi = hi, s->stride = stride;
}

static inline uint64_t key_hash(const ts_rowset *s, uint32_t i)
{
    return ts_hash_combine(ts_hash_u64(s->lo[i * s->stride]), s->hi[i * s->stride]);
}

static uint64_t *insert_hashed(ts_rowset *s, uint32_t i, uint64_t h)
{
    const uint64_t tag = h >> 32;
    for (uint64_t k = h & s->mask;; k = (k + 1) & s->mask) {
        uint64_t *slot = &s->slots[k];
        if (*slot == 0) {
            *slot = (tag << 32) | ((uint64_t)i + 1);
            return slot;
        }
        if (*slot >> 32 == tag) {
            const uint32_t r = ts_rowset_row(slot);
            if (s->lo[r * s->stride] == s->lo[i * s->stride] && s->hi[r * s->stride] == s->hi[i * s->stride])
                return slot;
        }
    }
}

uint64_t *ts_rowset_insert(ts_rowset *s, uint32_t i) { return insert_hashed(s, i, key_hash(s, i)); }

#define VEC 64

void ts_rowset_insert_many(ts_rowset *s, const uint32_t *idx, uint32_t start, uint32_t n, uint32_t *first)
{
    uint64_t h[VEC];
    for (uint32_t base = 0; base < n; base += VEC) {
        const uint32_t m = n - base < VEC ? n - base : VEC;
        for (uint32_t k = 0; k < m; k++) {
            const uint32_t i = idx ? idx[base + k] : start + base + k;
            h[k] = key_hash(s, i);
            __builtin_prefetch(&s->slots[h[k] & s->mask], 1);
        }
        for (uint32_t k = 0; k < m; k++) {
            const uint32_t i = idx ? idx[base + k] : start + base + k;
            first[base + k] = ts_rowset_row(insert_hashed(s, i, h[k]));
        }
    }
}
