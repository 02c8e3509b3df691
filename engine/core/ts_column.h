/* Typed columns: contiguous, 64-byte aligned arrays with an optional validity bitmap.
 *
 * Memory layout
 *   fixed-width types   data = value[len]            (BOOL u8, INT32/DATE i32, INT64/DECIMAL/TIMESTAMP i64, FLOAT64
 *                                                     f64, DICT i32 codes into a global dictionary)
 *   STRING              data = int64 offsets[len+1], bytes = payload; value i = bytes[off[i] .. off[i+1])
 *   nulls               valid = bitmap, bit i set = row i valid; valid == NULL means "no nulls"
 * Ownership: a column owns data, bytes and valid; it holds one reference on its dictionary.
 * Columns are per rank and not thread-safe. */
#ifndef TS_COLUMN_H
#define TS_COLUMN_H

#include <stdint.h>
#include <stddef.h>

#include "ts_error.h"

/* Column names (and each part of a table name) are at most TS_NAME_MAX - 1 = 1024 bytes: SQL identifiers and CSV
 * headers of any reasonable length. Longer ones are refused with an error naming them, never cut. */
#define TS_NAME_MAX 1025

typedef enum {
    TS_T_BOOL,
    TS_T_INT32,
    TS_T_INT64,
    TS_T_FLOAT64,
    TS_T_DATE,    /* int32 days since 1970-01-01 */
    TS_T_DECIMAL, /* int64 scaled by 10^scale */
    TS_T_STRING,  /* offsets + bytes */
    TS_T_DICT,    /* int32 codes into a dictionary identical on every rank */
    TS_T_TIMESTAMP /* int64 microseconds since 1970-01-01 00:00:00 (DuckDB's TIMESTAMP, no time zone) */
} ts_type;

/* A dictionary of strings; code i means values[i]. Immutable once built, reference counted. */
typedef struct ts_dict {
    int32_t n;
    int64_t *offsets; /* n + 1 */
    char *bytes;
    int refs;
    uint64_t *hashes; /* ts_dict_hashes' cache (NULL until first asked) */
} ts_dict;

typedef struct ts_column {
    char name[TS_NAME_MAX]; /* set with ts_column_new / ts_column_set_name */
    ts_type type;
    int scale;            /* DECIMAL only */
    int64_t len, cap;     /* rows, allocated rows */
    void *data;
    char *bytes;          /* STRING payload */
    int64_t nbytes, bytes_cap;
    uint64_t *valid;      /* NULL = all valid */
    ts_dict *dict;        /* DICT only (a retained reference) */
    uint64_t *valid_spare; /* a cleared column's bitmap kept for reuse (ts_column_clear); never read as validity */
} ts_column;

/* Width in bytes of one value of a fixed-width type (8 for STRING offsets). */
static inline size_t ts_type_width(ts_type t)
{
    return t == TS_T_BOOL ? 1 : t == TS_T_INT32 || t == TS_T_DATE || t == TS_T_DICT ? 4 : 8;
}
/* "int64", "date", "decimal(18,2)", "string", ... into buf. */
const char *ts_type_name(ts_type t, int scale, char *buf, size_t cap);

/* Dictionaries. ts_dict_new copies the n strings; the caller owns the returned reference. */
ts_err ts_dict_new(const char *const *values, int32_t n, ts_dict **out);
ts_dict *ts_dict_retain(ts_dict *d);
/* *out = rank[code] ordering c's dictionary codes by their strings (equal strings share a rank), so DICT
 * comparisons become integer comparisons; n + 1 entries, caller frees. *out = NULL when c is NULL or not DICT. */
ts_err ts_dict_ranks(const ts_column *c, int32_t **out);
void ts_dict_release(ts_dict *d);
static inline const char *ts_dict_value(const ts_dict *d, int32_t code, int64_t *len)
{
    *len = d->offsets[code + 1] - d->offsets[code];
    return d->bytes + d->offsets[code];
}
/* The key hash of every value (ts_hash_bytes(value, len, 0), what hashing the value as a STRING key gives),
 * computed on first use and kept with the dictionary; NULL when out of memory. */
const uint64_t *ts_dict_hashes(ts_dict *d);
/* Code of s (exact match), or -1. Linear scan: dictionaries here are small; see ts_dict_index for large ones. */
int32_t ts_dict_find(const ts_dict *d, const char *s, size_t len);

/* Creates an empty column. For DICT pass the dictionary (retained); otherwise NULL. */
ts_err ts_column_new(const char *name, ts_type type, int scale, ts_dict *dict, ts_column **out);
/* Renames c (the only way to change a name after ts_column_new): an error for a name of TS_NAME_MAX bytes or more,
 * c unchanged. Does not check the table's other names. */
ts_err ts_column_set_name(ts_column *c, const char *name);
void ts_column_free(ts_column *c);
/* Ensures room for `rows` rows (and, for STRING, `bytes` payload bytes) in total. */
ts_err ts_column_reserve(ts_column *c, int64_t rows, int64_t bytes);
/* Appends one string value (STRING columns). */
ts_err ts_column_append_string(ts_column *c, const char *s, int64_t len);
/* Appends src rows idx[0..n) (all rows 0..n when idx is NULL) to dst, which has src's type. */
ts_err ts_column_append_rows(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n);
/* Keeps rows idx[0..n) (strictly ascending) in place, in that order; no allocation. */
void ts_column_keep_rows(ts_column *c, const int64_t *idx, int64_t n);
/* Makes an empty column with src's name, type, scale and dictionary. */
ts_err ts_column_new_like(const ts_column *src, ts_column **out);

static inline int ts_column_is_valid(const ts_column *c, int64_t i)
{
    return !c->valid || ((c->valid[i >> 6] >> (i & 63)) & 1u);
}
/* Appends src rows idx[0..n) to dst; idx[k] < 0 appends a null. */
ts_err ts_column_append_rows_or_null(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n);
/* Appends n nulls (zero / empty values under a cleared validity bit). */
ts_err ts_column_append_nulls(ts_column *c, int64_t n);
/* Empties c but keeps its allocations, so a vector refilled for every chunk touches no fresh memory: len and
 * nbytes become 0, and the validity bitmap is set aside (valid = NULL: no nulls) until a null is set again. */
void ts_column_clear(ts_column *c);
/* Sets row i to null, allocating the bitmap (all valid) on first use. */
ts_err ts_column_set_null(ts_column *c, int64_t i);
/* Gives c a validity bitmap (every row valid) if it has none, so writers declare the column nullable (the HDF5
 * writer adds "<name>.valid") whatever its values: a job's output schema then never depends on its data. */
ts_err ts_column_make_nullable(ts_column *c);

/* Drops the resident pages of rows [first, first + n) of a cold column (engine/ops/ts_cold.h: values in a file
 * mapping) once a reader is done with them; nothing for a column in memory. The values stay readable. */
void ts_column_release(const ts_column *c, int64_t first, int64_t n);
#define TS_COL(c, T) ((T *)(c)->data)

#endif
