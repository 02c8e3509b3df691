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

/* Floating point: [+-] then digits with an optional '.' (at least one digit in all: "1", "1.", ".5", "1.25"),
 * then optionally e|E [+-] digits; or [+-] inf, infinity or nan in any case. Nothing else (no blanks, no hex).
 * Correctly rounded to the nearest double (ties to even), like strtod in the C locale: Clinger's exact fast path
 * when the significand fits 53 bits and the power of ten is exact, otherwise strtod on a normalized copy in a
 * stack buffer (at most 800 significant digits, the rest folded into a sticky digit, which keeps the rounding
 * exact). Overflow gives +-inf, underflow +-0 or a subnormal. Returns 1 and sets *out on success. */
int ts_parse_float64(const char *s, size_t len, double *out);

/* Booleans: true/false/t/f/1/0 in any case. Returns 1 and sets *out (1 or 0) on success. */
int ts_parse_bool(const char *s, size_t len, int *out);

/* One ASCII byte folded to upper (upper != 0) or lower case; other bytes unchanged. */
static inline char ts_fold_char(char c, int upper)
{
    if (upper && c >= 'a' && c <= 'z')
        return (char)(c - 32);
    if (!upper && c >= 'A' && c <= 'Z')
        return (char)(c + 32);
    return c;
}

/* Writes s folded to ASCII upper (upper != 0) or lower case into out (cap bytes). Returns 0 if len > cap. */
int ts_fold_case(const char *s, size_t len, int upper, char *out, size_t cap);

#endif
