/* String values read from Parquet pages: appended to a STRING column, or interned into a per-rank dictionary of
 * distinct values so that dictionary-encoded columns stay codes from the page to the engine's DICT column (the scan
 * then agrees a global dictionary across ranks: engine/ts_parquet_scan.h). Per rank, no MPI. */
#ifndef TS_PARQUET_INTERN_H
#define TS_PARQUET_INTERN_H

#include "ts_column.h"
#include "ts_parquet_decode.h"

/* Distinct strings with codes 0, 1, ... in first-seen order. */
typedef struct ts_pq_intern {
    ts_column *values;   /* STRING: value of code i at row i */
    int32_t *slots;      /* hash slots holding codes, -1 when empty */
    uint64_t *hashes;    /* hash of each code's value */
    int64_t cap;         /* slots (a power of two, at least twice the values) */
    int64_t max;         /* values allowed before the set reports itself full */
} ts_pq_intern;

ts_err ts_pq_intern_init(ts_pq_intern *d, int64_t max);
void ts_pq_intern_free(ts_pq_intern *d);
/* Codes of v[0..n) into out, adding new values. *full = 1 (and out incomplete) when that would exceed max. */
ts_err ts_pq_intern_codes(ts_pq_intern *d, const ts_pq_sv *v, size_t n, int32_t *out, int *full);
/* A STRING column named like codes holding the values of codes (an INT32 column of codes into d, with its
 * nulls); *out is new. */
ts_err ts_pq_intern_expand(const ts_pq_intern *d, const ts_column *codes, ts_column **out);

/* Appends `rows` rows to the STRING column c: where def is NULL or def[i] is 1 the next view of v (in order),
 * else an empty value (the caller marks it null). Every view lies in memory readable up to `limit` (short values
 * are copied as 16-byte words when that stays below it). */
ts_err ts_pq_append_strings(ts_column *c, const ts_pq_sv *v, const uint8_t *def, size_t rows, const uint8_t *limit);

#endif
