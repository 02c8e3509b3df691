#include "ts_rowset.h"

#include "ts_hash.h"

uint64_t ts_rowset_slots(int64_t n)
{
    uint64_t slots = 16;
    while (slots < (uint64_t)n * 2)
        slots <<= 1;
    return slots;
}

void ts_rowset_init(ts_rowset *s, uint64_t *slots, uint64_t nslots, const uint64_t *lo, const uint64_t *hi)
{
    s->slots = slots, s->mask = nslots - 1, s->lo = lo, s->hi = hi;
}

uint64_t *ts_rowset_insert(ts_rowset *s, uint32_t i)
{
    const uint64_t h = ts_hash_combine(ts_hash_u64(s->lo[i]), s->hi[i]);
    const uint64_t tag = h >> 32;
    for (uint64_t k = h & s->mask;; k = (k + 1) & s->mask) {
        uint64_t *slot = &s->slots[k];
        if (*slot == 0) {
            *slot = (tag << 32) | ((uint64_t)i + 1);
            return slot;
        }
        if (*slot >> 32 == tag) {
            const uint32_t r = ts_rowset_row(slot);
            if (s->lo[r] == s->lo[i] && s->hi[r] == s->hi[i])
                return slot;
        }
    }
}
