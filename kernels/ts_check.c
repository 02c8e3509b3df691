#include "ts_check.h"

#include <string.h>

#include "ts_date.h"
#include "ts_parse.h"

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
                      uint8_t *reason, uint8_t code)
{
    FILTER_SELECTION(ts_parse_int64(ptr[i], len[i], &out[i]), code);
}

size_t ts_check_date(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int32_t *out,
                     uint8_t *reason, uint8_t code)
{
    FILTER_SELECTION(ts_parse_date(ptr[i], len[i], &out[i]), code);
}

static int lookup(const char *s, uint32_t len, const char *const *values, const int64_t *value_len, int nvalues,
                  int fold_upper, int32_t *out)
{
    char folded[64];
    if (!ts_fold_case(s, len, fold_upper, folded, sizeof folded))
        return 0;
    for (int k = 0; k < nvalues; k++) {
        if (value_len[k] == (int64_t)len && memcmp(values[k], folded, len) == 0) {
            *out = k;
            return 1;
        }
    }
    return 0;
}

size_t ts_check_category(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n,
                         const char *const *values, const int64_t *value_len, int nvalues, int fold_upper,
                         int32_t *out, uint8_t *reason, uint8_t code)
{
    FILTER_SELECTION(lookup(ptr[i], len[i], values, value_len, nvalues, fold_upper, &out[i]), code);
}

static int decimal_ok(const char *s, uint32_t len, int scale, int max_int_digits, int positive, int64_t *out)
{
    return ts_parse_decimal(s, len, scale, max_int_digits, out) && (!positive || *out > 0);
}

size_t ts_check_decimal(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int scale,
                        int max_int_digits, int positive, int64_t *out, uint8_t *reason, uint8_t code,
                        uint8_t missing_code)
{
    FILTER_SELECTION(decimal_ok(ptr[i], len[i], scale, max_int_digits, positive, &out[i]),
                     len[i] == 0 ? missing_code : code);
}
