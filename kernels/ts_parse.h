/* Scalar parsers of text fields, exactly as domain.md defines them. Pure functions, thread-safe.
 * Inputs are (pointer, length) views; nothing is NUL-terminated and nothing is allocated. */
#ifndef TS_PARSE_H
#define TS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Strips leading and trailing ASCII spaces and tabs (only those) from the view *s, *len. */
static inline void ts_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *s = p, *len = n;
}

/* Optional '+'/'-' then one or more ASCII digits, within int64. Returns 1 and sets *out on success. */
int ts_parse_int64(const char *s, size_t len, int64_t *out);

/* Decimal with at most `max_int_digits` integer digits (at least 1) and, optionally, '.' followed by 1..scale
 * digits; optional sign. Sets *out to the value scaled by 10^scale (scale <= 9). Returns 1 on success. */
int ts_parse_decimal(const char *s, size_t len, int scale, int max_int_digits, int64_t *out);

/* Writes s folded to ASCII upper (upper != 0) or lower case into out (cap bytes). Returns 0 if len > cap. */
int ts_fold_case(const char *s, size_t len, int upper, char *out, size_t cap);

#endif
