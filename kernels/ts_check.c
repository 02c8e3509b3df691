#include "ts_check.h"

#include <string.h>

#include "ts_date.h"
#include "ts_parse.h"
#include "ts_regex.h"

/* Shared loop shape: run `ok` on each selected row; keep it or record the reason. */
#define FILTER_SELECTION(ok_expr, code_expr)                                                                  \
    size_t kept = 0;                                                                                          \
    for (size_t k = 0; k < n; k++) {                                                                          \
        const uint32_t i = sel[k];                                                                            \
        if (ok_expr)                                                                                          \
            sel[kept++] = i;                                                                                  \
        else                                                                                                  \
            reason[i] = (code_expr);                                                                          \
    }                                                                                                         \
    return kept

size_t ts_check_int64(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int64_t *out,
                      uint16_t *reason, uint16_t code)
{
    FILTER_SELECTION(ts_parse_int64(ptr[i], len[i], &out[i]), code);
}

size_t ts_check_date(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int32_t *out,
                     uint16_t *reason, uint16_t code)
{
    FILTER_SELECTION(ts_parse_date(ptr[i], len[i], &out[i]), code);
}

/* Category lookup without copying: texts of up to 16 bytes become two 64-bit words (key_words), the field's are
 * case-folded eight bytes at a time (SWAR) and looked up in a small hash table of the accepted values' words;
 * longer texts take the byte-wise path. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

static inline uint64_t fold_word(uint64_t x, int upper)
{
    const char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    const uint64_t h = x & ~HIGH;
    const uint64_t ge_lo = h + (uint64_t)(0x80 - lo) * ONES, gt_hi = h + (uint64_t)(0x7f - hi) * ONES;
    const uint64_t in_range = (ge_lo ^ gt_hi) & ~x & HIGH; /* ASCII letters of the case to fold */
    return upper ? x & ~(in_range >> 2) : x | (in_range >> 2);
}

static inline uint64_t load8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

static inline uint64_t load4(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

/* Text of up to 16 bytes as two words that tell it from every other text of its length, read with at most two
 * overlapping fixed-size loads (no byte loop, no variable-length copy): its first and last 8 bytes, or first and
 * last 4, or for 1-3 bytes the bytes 0, n/2 and n-1 in separate byte lanes (so case folding by lane still works). */
static inline void key_words(const char *s, uint32_t n, uint64_t *w0, uint64_t *w1)
{
    if (n >= 8)
        *w0 = load8(s), *w1 = load8(s + n - 8);
    else if (n >= 4)
        *w0 = load4(s) | load4(s + n - 4) << 32, *w1 = 0;
    else if (n)
        *w0 = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
              (uint64_t)(unsigned char)s[n - 1] << 16,
        *w1 = 0;
    else
        *w0 = *w1 = 0;
}

/* Open-addressing table of the accepted values of up to 16 bytes (at most 64 values, 128 slots): one probe for
 * most fields, where a linear scan compared against every value in turn. */
#define CAT_SLOTS 128
typedef struct packed_values {
    uint64_t w0[CAT_SLOTS], w1[CAT_SLOTS];
    uint32_t len[CAT_SLOTS];
    int32_t code[CAT_SLOTS]; /* -1: empty */
} packed_values;

static inline uint32_t cat_slot(uint64_t w0, uint64_t w1, uint32_t n)
{
    return (uint32_t)(((w0 ^ (w1 >> 1) ^ n) * UINT64_C(0x9e3779b97f4a7c15)) >> 57); /* top 7 bits: best mixed */
}

static inline int cat_find(const packed_values *pv, uint64_t w0, uint64_t w1, uint32_t n, int32_t *out)
{
    for (uint32_t i = cat_slot(w0, w1, n);; i = (i + 1) & (CAT_SLOTS - 1)) {
        if (pv->code[i] < 0)
            return 0;
        if (pv->w0[i] == w0 && pv->w1[i] == w1 && pv->len[i] == n)
            return *out = pv->code[i], 1;
    }
}

static void pack_values(const char *const *values, const int64_t *value_len, int nvalues, packed_values *pv)
{
    memset(pv->code, 0xff, sizeof pv->code);
    for (int k = 0; k < nvalues && k < 64; k++) {
        if (value_len[k] > 16)
            continue; /* only fields of more than 16 bytes can match it: they take the byte-wise path */
        const uint32_t n = (uint32_t)value_len[k];
        uint64_t w0, w1;
        int32_t seen;
        key_words(values[k], n, &w0, &w1);
        if (cat_find(pv, w0, w1, n, &seen))
            continue; /* a repeated value keeps its first code, as the linear search did */
        uint32_t i = cat_slot(w0, w1, n);
        while (pv->code[i] >= 0)
            i = (i + 1) & (CAT_SLOTS - 1);
        pv->w0[i] = w0, pv->w1[i] = w1, pv->len[i] = n, pv->code[i] = k;
    }
}

/* The field folded byte by byte against each value of its length: no buffer, so no length limit (a 256-byte
 * buffer once made every longer value miss). */
static int folded_equal(const char *s, const char *value, uint32_t len, int upper)
{
    for (uint32_t i = 0; i < len; i++)
        if (ts_fold_char(s[i], upper) != value[i])
            return 0;
    return 1;
}

static int lookup_slow(const char *s, uint32_t len, const char *const *values, const int64_t *value_len,
                       int nvalues, int fold_upper, int32_t *out)
{
    for (int k = 0; k < nvalues; k++)
        if (value_len[k] == (int64_t)len && folded_equal(s, values[k], len, fold_upper))
            return *out = k, 1;
    return 0;
}

static inline int lookup(const char *s, uint32_t len, const packed_values *pv, const char *const *values,
                         const int64_t *value_len, int nvalues, int fold_upper, int32_t *out)
{
    if (len > 16 || nvalues > 64)
        return lookup_slow(s, len, values, value_len, nvalues, fold_upper, out);
    uint64_t w0, w1;
    key_words(s, len, &w0, &w1);
    return cat_find(pv, fold_word(w0, fold_upper), fold_word(w1, fold_upper), len, out);
}

size_t ts_check_category(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n,
                         const char *const *values, const int64_t *value_len, int nvalues, int fold_upper,
                         int32_t *out, uint16_t *reason, uint16_t code)
{
    packed_values pv;
    pack_values(values, value_len, nvalues, &pv);
    FILTER_SELECTION(lookup(ptr[i], len[i], &pv, values, value_len, nvalues, fold_upper, &out[i]), code);
}

size_t ts_check_date_forms(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, unsigned forms,
                           int32_t *out, uint16_t *reason, uint16_t code)
{
    FILTER_SELECTION(ts_parse_date_forms(ptr[i], len[i], forms, &out[i]), code);
}

static int in_range(int64_t v, int has_lo, int64_t lo, int lo_open, int has_hi, int64_t hi, int hi_open)
{
    return (!has_lo || (lo_open ? v > lo : v >= lo)) && (!has_hi || (hi_open ? v < hi : v <= hi));
}

size_t ts_check_range(const int64_t *v, uint32_t *sel, size_t n, int has_lo, int64_t lo, int lo_open, int has_hi,
                      int64_t hi, int hi_open, uint16_t *reason, uint16_t code)
{
    FILTER_SELECTION(in_range(v[i], has_lo, lo, lo_open, has_hi, hi, hi_open), code);
}

/* The field is matched in place, whatever its length, so no copy (an earlier copy into a 1 KiB buffer made every
 * longer value fail), no allocation, and a NUL byte in the field is an ordinary character rather than the end of
 * the text. */
static int matches(ts_regex *re, const char *s, uint32_t len) { return ts_regex_match(re, s, len) == 1; }

size_t ts_check_pattern(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, ts_regex *re,
                        uint16_t *reason, uint16_t code)
{
    FILTER_SELECTION(matches(re, ptr[i], len[i]), code);
}

static int decimal_ok(const char *s, uint32_t len, int scale, int max_int_digits, int positive, int64_t *out)
{
    return ts_parse_decimal(s, len, scale, max_int_digits, out) && (!positive || *out > 0);
}

size_t ts_check_decimal(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int scale,
                        int max_int_digits, int positive, int64_t *out, uint16_t *reason, uint16_t code,
                        uint16_t missing_code)
{
    FILTER_SELECTION(decimal_ok(ptr[i], len[i], scale, max_int_digits, positive, &out[i]),
                     len[i] == 0 ? missing_code : code);
}
