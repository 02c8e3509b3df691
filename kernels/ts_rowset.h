/* Row-index hash set: finds, for each row, the first earlier row with an equal 128-bit key (lo[i], hi[i]).
 * Slots hold (32-bit hash tag, row + 1) in 8 bytes, so a table for n rows (at most 2/3 full) costs 12-24 bytes a
 * row, and a probe compares the tag before touching the key arrays. The caller provides the zeroed slot memory (kernels
 * never allocate) and must not insert more rows than ts_rowset_slots() was sized for. Rows < 2^32. */
#ifndef TS_ROWSET_H
#define TS_ROWSET_H

#include <stdint.h>

typedef struct ts_rowset {
    uint64_t *slots;           /* 0 = empty, else (tag << 32) | (row + 1) */
    uint64_t mask;
    const uint64_t *lo, *hi;   /* the keys: row i's are lo[i * stride], hi[i * stride] */
    uint64_t stride;
} ts_rowset;

/* Number of slots (a power of two) for up to n rows. */
uint64_t ts_rowset_slots(int64_t n);
/* slots: ts_rowset_slots(n) zeroed uint64 values, owned by the caller. */
void ts_rowset_init(ts_rowset *s, uint64_t *slots, uint64_t nslots, const uint64_t *lo, const uint64_t *hi);
/* The same over strided keys: row i's are lo[i * stride], hi[i * stride] (records of `stride` uint64 words, as
 * an exchange of fixed-width records delivers them: no copy into two arrays first). */
void ts_rowset_init_strided(ts_rowset *s, uint64_t *slots, uint64_t nslots, const uint64_t *lo, const uint64_t *hi,
                            uint64_t stride);
/* Inserts row i unless a row with an equal key is present. Returns the slot holding that key's row. */
uint64_t *ts_rowset_insert(ts_rowset *s, uint32_t i);
/* Inserts rows idx[0..n) (or start..start+n when idx is NULL) in order, writing for each the row that holds its
 * key after the insert (itself when new) to first[k]. Hashes a vector of rows ahead and prefetches their slots,
 * so the cache misses of a large table overlap instead of adding up. */
void ts_rowset_insert_many(ts_rowset *s, const uint32_t *idx, uint32_t start, uint32_t n, uint32_t *first);
/* Row stored in a slot returned by ts_rowset_insert. */
static inline uint32_t ts_rowset_row(const uint64_t *slot) { return (uint32_t)(*slot & 0xffffffffu) - 1; }
/* Replaces the row stored in slot (same key). */
static inline void ts_rowset_set_row(uint64_t *slot, uint32_t i) { *slot = (*slot & ~(uint64_t)0xffffffffu) | ((uint64_t)i + 1); }

#endif
