#include "ts_keys.h"

#include <string.h>

static ts_err key_columns(const ts_table *t, const char *const *keys, int nkeys, const ts_column **cols)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "between 1 and 8 key columns are supported, not %d", nkeys);
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_table_need(t, keys[k], &c));
        if (c->type == TS_T_STRING || c->type == TS_T_FLOAT64)
            TS_FAIL(TS_ERR_USAGE, "key column '%s' of table '%s' must be integer-like (dictionary-encode strings)",
                    keys[k], t->name);
        cols[k] = c;
    }
    return TS_OK;
}

/* Null keys: INT64_MIN for the direct form (a key column holding INT64_MIN itself is refused). */
static ts_err pack_direct(const ts_column **cols, int nkeys, int64_t n, uint64_t *lo, uint64_t *hi)
{
    for (int k = 0; k < nkeys; k++) {
        uint64_t *out = k == 0 ? lo : hi;
        for (int64_t i = 0; i < n; i++) {
            const int64_t v = ts_key_value(cols[k], i);
            if (v == INT64_MIN)
                TS_FAIL(TS_ERR_DATA, "key column '%s' holds INT64_MIN, which is reserved for null keys",
                        cols[k]->name);
            out[i] = ts_column_is_valid(cols[k], i) ? (uint64_t)v : (uint64_t)INT64_MIN;
        }
    }
    if (nkeys == 1)
        memset(hi, 0, sizeof *hi * (size_t)n);
    return TS_OK;
}

/* Bit-packing: key k takes bits(max - min + 2) bits; code 0 is null, v maps to v - min + 1.
 * Returns the total bits; mn and shift describe each key's field. */
static int key_ranges(const ts_column **cols, int nkeys, int64_t n, int64_t *mn, int64_t *shift)
{
    int total = 0;
    for (int k = 0; k < nkeys; k++) {
        int64_t a = INT64_MAX, b = INT64_MIN;
        for (int64_t i = 0; i < n; i++) {
            const int64_t v = ts_key_value(cols[k], i);
            a = v < a ? v : a, b = v > b ? v : b;
        }
        if (n == 0)
            a = b = 0;
        const uint64_t span = (uint64_t)b - (uint64_t)a + 2;
        int bits = 1;
        while (bits < 64 && (UINT64_C(1) << bits) < span)
            bits++;
        mn[k] = a, shift[k] = total, total += bits;
    }
    return total;
}

ts_err ts_pack_keys_width(const ts_table *t, const char *const *keys, int nkeys, int *bits)
{
    const ts_column *cols[8];
    int64_t mn[8], shift[8];
    TS_TRY(key_columns(t, keys, nkeys, cols));
    *bits = key_ranges(cols, nkeys, ts_table_rows(t), mn, shift);
    return TS_OK;
}

static ts_err pack_bits(const ts_column **cols, int nkeys, int64_t n, uint64_t *lo, uint64_t *hi)
{
    int64_t mn[8], shift[8];
    const int total = key_ranges(cols, nkeys, n, mn, shift);
    if (total > 128)
        TS_FAIL(TS_ERR_USAGE, "the %d key columns need %d bits; at most 128 are supported", nkeys, total);
    memset(lo, 0, sizeof *lo * (size_t)n), memset(hi, 0, sizeof *hi * (size_t)n);
    for (int k = 0; k < nkeys; k++) {
        for (int64_t i = 0; i < n; i++) {
            const uint64_t code =
                ts_column_is_valid(cols[k], i) ? (uint64_t)ts_key_value(cols[k], i) - (uint64_t)mn[k] + 1 : 0;
            const int s = (int)shift[k];
            if (s < 64) {
                lo[i] |= code << s;
                if (s > 0) /* the bits that do not fit below bit 64 continue in hi */
                    hi[i] |= code >> (64 - s);
            } else {
                hi[i] |= code << (s - 64);
            }
        }
    }
    return TS_OK;
}

ts_err ts_pack_keys_dense(const ts_table *t, const char *const *keys, int nkeys, int max_bits, uint32_t *code,
                          int *bits)
{
    const ts_column *cols[8];
    TS_TRY(key_columns(t, keys, nkeys, cols));
    const int64_t n = ts_table_rows(t);
    int64_t mn[8], shift[8];
    *bits = key_ranges(cols, nkeys, n, mn, shift);
    if (*bits > max_bits || *bits > 31) {
        *bits = 0;
        return TS_OK;
    }
    memset(code, 0, sizeof *code * (size_t)n);
    for (int k = 0; k < nkeys; k++)
        for (int64_t i = 0; i < n; i++)
            if (ts_column_is_valid(cols[k], i))
                code[i] |= (uint32_t)(ts_key_value(cols[k], i) - mn[k] + 1) << shift[k];
    return TS_OK;
}

ts_err ts_pack_keys(const ts_table *t, const char *const *keys, int nkeys, uint64_t *lo, uint64_t *hi)
{
    const ts_column *cols[8];
    TS_TRY(key_columns(t, keys, nkeys, cols));
    const int64_t n = ts_table_rows(t);
    return nkeys <= 2 ? pack_direct(cols, nkeys, n, lo, hi) : pack_bits(cols, nkeys, n, lo, hi);
}
