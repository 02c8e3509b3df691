/* Open-addressing hash table from exact 128-bit keys to int64 values (linear probing, power-of-two size,
 * load factor <= 1/2). The building block of grouping, distinct counting and duplicate detection: callers pack
 * their keys into 128 bits exactly (no false matches). Single-threaded; the table owns its arrays. */
#ifndef TS_HT_H
#define TS_HT_H

#include <stdint.h>

/* One slot per 32 bytes (two per cache line): a probe touches one line, not one per array. */
typedef struct ts_ht_slot {
    uint64_t lo, hi;
    int64_t val;       /* -1 = empty slot */
    int64_t pad;
} ts_ht_slot;

typedef struct ts_ht {
    ts_ht_slot *slots;
    uint64_t mask;
    int64_t count;
} ts_ht;

/* Sized for `expected` keys. Returns 0, or -1 when out of memory. */
int ts_ht_init(ts_ht *t, int64_t expected);
void ts_ht_free(ts_ht *t);

/* Slot of the key; inserts it with value `val_if_new` when absent (*inserted = 1). Returns the value slot,
 * or NULL when growing the table failed. */
int64_t *ts_ht_upsert(ts_ht *t, uint64_t lo, uint64_t hi, int64_t val_if_new, int *inserted);

/* Value stored for the key, or -1 when absent. */
int64_t ts_ht_find(const ts_ht *t, uint64_t lo, uint64_t hi);

#endif
