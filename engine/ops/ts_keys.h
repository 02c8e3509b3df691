/* Exact 128-bit packing of key tuples, for hash grouping and joins (kernels/ts_ht.h).
 * Keys are integer-like columns (BOOL, INT32, INT64, DATE, DECIMAL, DICT). One or two keys are stored as they
 * are (lo = key 0, hi = key 1); more keys are bit-packed by their value ranges over the table, and the
 * operation fails when they need more than 128 bits. Null keys map to a value no non-null key takes. Per rank. */
#ifndef TS_KEYS_H
#define TS_KEYS_H

#include "ts_table.h"

/* Value of row i of an integer-like column as int64. Inline: it sits in the inner loop of every key operator. */
static inline int64_t ts_key_value(const ts_column *c, int64_t i)
{
    switch (ts_type_width(c->type)) {
    case 1: return TS_COL(c, uint8_t)[i];
    case 4: return TS_COL(c, int32_t)[i];
    default: return TS_COL(c, int64_t)[i];
    }
}

/* Fills lo[n], hi[n] with the packed keys of the named columns of t (n = rows). */
ts_err ts_pack_keys(const ts_table *t, const char *const *keys, int nkeys, uint64_t *lo, uint64_t *hi);

/* Bits the bit-packed form of the keys needs (more than 128: ts_pack_keys would fail for three or more keys). */
ts_err ts_pack_keys_width(const ts_table *t, const char *const *keys, int nkeys, int *bits);

/* Packs the keys into at most max_bits (<= 31) bits when their value ranges allow: code[i] for every row, and
 * *bits the width used. When they need more, *bits = 0 and code is untouched (use ts_pack_keys). Small key
 * spaces (countries x months) then group through a direct array instead of a hash table. */
ts_err ts_pack_keys_dense(const ts_table *t, const char *const *keys, int nkeys, int max_bits, uint32_t *code,
                          int *bits);

#endif
