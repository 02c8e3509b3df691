#include "ts_ht.h"

#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"

static int alloc_slots(ts_ht *t, uint64_t slots)
{
    t->slots = aligned_alloc(64, slots * sizeof *t->slots);
    if (!t->slots)
        return -1;
    for (uint64_t i = 0; i < slots; i++)
        t->slots[i].val = -1;
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
    free(t->slots);
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
        const ts_ht_slot *o = &old.slots[s];
        if (o->val < 0)
            continue;
        uint64_t i = slot_of(t, o->lo, o->hi);
        while (t->slots[i].val >= 0)
            i = (i + 1) & t->mask;
        t->slots[i] = *o;
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
    for (;; i = (i + 1) & t->mask) {
        ts_ht_slot *s = &t->slots[i];
        if (s->val < 0)
            break;
        if (s->lo == lo && s->hi == hi) {
            *inserted = 0;
            return &s->val;
        }
    }
    ts_ht_slot *s = &t->slots[i];
    s->lo = lo, s->hi = hi, s->val = val_if_new, t->count++;
    *inserted = 1;
    return &s->val;
}

int64_t ts_ht_find(const ts_ht *t, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = slot_of(t, lo, hi);; i = (i + 1) & t->mask) {
        const ts_ht_slot *s = &t->slots[i];
        if (s->val < 0)
            return -1;
        if (s->lo == lo && s->hi == hi)
            return s->val;
    }
}
