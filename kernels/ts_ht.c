#include "ts_ht.h"

#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"

static int alloc_slots(ts_ht *t, uint64_t slots)
{
    t->lo = malloc(slots * 8), t->hi = malloc(slots * 8), t->val = malloc(slots * 8);
    if (!t->lo || !t->hi || !t->val) {
        ts_ht_free(t);
        return -1;
    }
    memset(t->val, 0xff, slots * 8);
    t->mask = slots - 1, t->count = 0;
    return 0;
}

int ts_ht_init(ts_ht *t, int64_t expected)
{
    uint64_t slots = 16;
    while (slots < (uint64_t)expected * 2)
        slots <<= 1;
    return alloc_slots(t, slots);
}

void ts_ht_free(ts_ht *t)
{
    free(t->lo), free(t->hi), free(t->val);
    memset(t, 0, sizeof *t);
}

static inline uint64_t slot_of(const ts_ht *t, uint64_t lo, uint64_t hi)
{
    return ts_hash_combine(ts_hash_u64(lo), hi) & t->mask;
}

static int grow(ts_ht *t)
{
    ts_ht old = *t;
    if (alloc_slots(t, (old.mask + 1) * 2) != 0) {
        *t = old;
        return -1;
    }
    for (uint64_t s = 0; s <= old.mask; s++) {
        if (old.val[s] < 0)
            continue;
        uint64_t i = slot_of(t, old.lo[s], old.hi[s]);
        while (t->val[i] >= 0)
            i = (i + 1) & t->mask;
        t->lo[i] = old.lo[s], t->hi[i] = old.hi[s], t->val[i] = old.val[s];
    }
    t->count = old.count;
    ts_ht_free(&old);
    return 0;
}

int64_t *ts_ht_upsert(ts_ht *t, uint64_t lo, uint64_t hi, int64_t val_if_new, int *inserted)
{
    if ((uint64_t)(t->count + 1) * 2 > t->mask + 1 && grow(t) != 0)
        return NULL;
    uint64_t i = slot_of(t, lo, hi);
    while (t->val[i] >= 0) {
        if (t->lo[i] == lo && t->hi[i] == hi) {
            *inserted = 0;
            return &t->val[i];
        }
        i = (i + 1) & t->mask;
    }
    t->lo[i] = lo, t->hi[i] = hi, t->val[i] = val_if_new, t->count++;
    *inserted = 1;
    return &t->val[i];
}

int64_t ts_ht_find(const ts_ht *t, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = slot_of(t, lo, hi);; i = (i + 1) & t->mask) {
        if (t->val[i] < 0)
            return -1;
        if (t->lo[i] == lo && t->hi[i] == hi)
            return t->val[i];
    }
}
