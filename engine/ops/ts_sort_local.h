/* Local (per-rank) sorting. ts_sort_local_by orders one rank's rows, stably: rows with equal keys keep their input
 * order. Keys: any column type, ascending or descending, nulls first or last. DICT columns compare by their
 * strings, STRING bytewise, FLOAT64 with NaN greater than every number (as DuckDB). Fixed-width keys without
 * NULLs take an LSD radix sort on order-preserving 64-bit keys; the others a stable merge sort.
 * The distributed sample sort and top-k (dist/ts_sort.h) build on the key sets and the heap below. */
#ifndef TS_SORT_LOCAL_H
#define TS_SORT_LOCAL_H

#include "ts_table.h"

typedef struct ts_sort_key {
    const char *name;
    int desc;       /* 1: descending */
    int nulls_last; /* 1: nulls after every value (default: before) */
} ts_sort_key;

/* Sort keys resolved to columns: 1..9 keys (8 a user may give + the input position the sample sort adds).
 * Borrows the columns of the table it was resolved on. */
typedef struct ts_sort_keyset {
    const ts_column *cols[9];
    int desc[9], nulls_last[9];
    int n;
} ts_sort_keyset;

ts_err ts_sort_keyset_resolve(const ts_table *t, const ts_sort_key *keys, int nkeys, ts_sort_keyset *ks);
/* Order of row i under a against row j under b (same key types): <0, 0, >0. */
int ts_sort_keyset_cmp(const ts_sort_keyset *a, int64_t i, const ts_sort_keyset *b, int64_t j);

/* Replaces *t by a sorted copy (the old table is freed) and records the sort keys. Per rank. 1..8 keys. */
ts_err ts_sort_local_by(ts_table **t, const ts_sort_key *keys, int nkeys);
/* The same with 1..9 keys (for the distributed sort, which appends the input position). */
ts_err ts_sort_local_keys(ts_table **t, const ts_sort_key *keys, int nkeys);
/* The stable sorted order of t's rows under keys[0..nkeys) (1..9) without moving them: *out (ts_free) holds the
 * row indexes in order (rows + 1 entries allocated). */
ts_err ts_sort_local_order(const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t **out);
/* Records keys[0..nkeys) (at most 8 kept) as t's sort order. */
void ts_sort_record_keys(ts_table *t, const ts_sort_key *keys, int nkeys);

/* Row indexes (ts_free) of t's k best rows under ks, unordered, in *out, their number in *m (min(k, rows));
 * among equal rows the earlier ones are kept. A bounded heap: O(n log k). */
ts_err ts_sort_local_top(const ts_table *t, const ts_sort_keyset *ks, int64_t k, int64_t **out, int64_t *m);

/* Shorthand: ascending, nulls first. */
ts_err ts_sort_local(ts_table **t, const char *const *keys, int nkeys);
/* Fills keys[0..n) (n <= 8) with ascending keys on names; returns n. */
int ts_sort_ascending(const char *const *names, int n, ts_sort_key *keys);

#endif
