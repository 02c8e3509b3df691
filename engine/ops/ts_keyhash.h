/* Hashing and equality of key tuples of any column type, for joins and partitioning across tables whose key
 * columns may differ in physical type: an INT32 key equals an INT64 key of the same value, and a DICT key equals a
 * STRING key of the same text, so both sides of a join hash alike and land on the same rank. FLOAT64 keys hash
 * -0.0 like 0.0 and all NaNs alike. Per rank, pure. */
#ifndef TS_KEYHASH_H
#define TS_KEYHASH_H

#include "ts_table.h"

typedef enum { TS_KF_INT, TS_KF_FLOAT, TS_KF_TEXT } ts_key_family;

/* Columns of one key tuple at most (DISTINCT over every column of a wide table hashes them all). */
#define TS_KEY_COLS_MAX 1024

/* A resolved key: the columns of one table, in key order. */
typedef struct ts_key_cols {
    const ts_column *col[TS_KEY_COLS_MAX];
    int n;
    unsigned null_equal; /* bit k set: a NULL in key k equals a NULL (IS NOT DISTINCT FROM); 0 after resolve */
} ts_key_cols;

/* The null_equal masks hold TS_KEY_NULL_EQUAL_MAX bits: keys beyond never match NULL with NULL. */
#define TS_KEY_NULL_EQUAL_MAX 32
static inline int ts_key_null_equal(unsigned mask, int k) { return k < TS_KEY_NULL_EQUAL_MAX && (mask >> k & 1); }

/* Resolves names on t. Fails on unknown names or more than TS_KEY_COLS_MAX keys. */
ts_err ts_key_cols_resolve(const ts_table *t, const char *const *names, int n, ts_key_cols *out);
/* Fails unless a and b have pairwise comparable families (and equal DECIMAL scales). */
ts_err ts_key_cols_compatible(const ts_key_cols *a, const ts_key_cols *b);

/* 1 when a key column of row i that is not null_equal is null (SQL: such a row never matches). */
int ts_key_has_null(const ts_key_cols *k, int64_t i);
/* Hash of row i's key tuple. */
uint64_t ts_key_hash(const ts_key_cols *k, int64_t i);
/* Hashes rows [0, n) into h (vectorized over columns). NULLs hash alike whatever value is stored under them. */
void ts_key_hash_rows(const ts_key_cols *k, int64_t n, uint64_t *h);
/* Hashes rows rows[0 .. m) (NULL: 0 .. m-1) of the key columns cols[0 .. ncols) into h[0 .. m): the values
 * ts_key_hash gives. One typed loop per column (DICT values through the dictionary's cached hashes). */
void ts_key_hash_sel(const ts_column *const *cols, int ncols, const int32_t *rows, int64_t m, uint64_t *h);
/* 1 when row i of a and row j of b have equal keys (nulls are never equal, except in a's null_equal keys). */
int ts_key_equal(const ts_key_cols *a, int64_t i, const ts_key_cols *b, int64_t j);
/* 1 when rows i and j of one table have the same key tuple, NULL matching NULL (DISTINCT, GROUP BY, PARTITION BY). */
int ts_key_same(const ts_key_cols *k, int64_t i, int64_t j);

#endif
