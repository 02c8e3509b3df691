#include "ts_check.h"

#include <regex.h>
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

/* Category lookup without copying: values of up to 16 bytes are compared as two zero-padded 64-bit words after
 * folding the field's case eight bytes at a time (SWAR); longer values take the byte-wise path. */
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

static inline uint64_t load_padded(const char *s, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, s, n < 8 ? n : 8);
    return v;
}

typedef struct packed_values {
    uint64_t w0[64], w1[64];
    uint32_t len[64];
    int n;
} packed_values;

static void pack_values(const char *const *values, const int64_t *value_len, int nvalues, packed_values *pv)
{
    pv->n = nvalues > 64 ? 64 : nvalues;
    for (int k = 0; k < pv->n; k++) {
        const size_t l = (size_t)value_len[k];
        pv->len[k] = (uint32_t)l;
        pv->w0[k] = l <= 16 ? load_padded(values[k], l) : 0;
        pv->w1[k] = l > 8 && l <= 16 ? load_padded(values[k] + 8, l - 8) : 0;
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
    const uint64_t w0 = fold_word(load_padded(s, len), fold_upper);
    const uint64_t w1 = len > 8 ? fold_word(load_padded(s + 8, len - 8), fold_upper) : 0;
    for (int k = 0; k < pv->n; k++)
        if (pv->len[k] == len && pv->w0[k] == w0 && pv->w1[k] == w1)
            return *out = k, 1;
    return 0;
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

/* The field is matched in place, whatever its length (ts_regex_match: REG_STARTEND bounds the text), so no copy
 * (an earlier copy into a 1 KiB buffer made every longer value fail), no allocation, and a NUL byte in the field
 * is an ordinary character rather than the end of the text. */
static int matches(const regex_t *re, const char *s, uint32_t len) { return ts_regex_match(re, s, len) == 1; }

size_t ts_check_pattern(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, const regex_t *re,
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
