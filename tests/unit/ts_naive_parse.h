/* Naive reference parsers for the unit tests: domain.md's integer and decimal rules written the obvious way,
 * with 128-bit accumulation, to check kernels/ts_parse and kernels/ts_check against. Header-only. */
#ifndef TS_NAIVE_PARSE_H
#define TS_NAIVE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Optional sign, one or more digits, value within int64 (accumulated in 128 bits, so no overflow tricks). */
static int ref_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len)
        return 0;
    __int128 v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
        if (v > (__int128)INT64_MAX + 1)
            return 0;
    }
    if (neg)
        v = -v;
    if (v > INT64_MAX || v < INT64_MIN)
        return 0;
    *out = (int64_t)v;
    return 1;
}

/* Optional sign, 1..max_int digits, optionally '.' and 1..scale digits; value * 10^scale within int64. */
static int ref_decimal(const char *s, size_t len, int scale, int max_int, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    __int128 v = 0;
    int nint = 0, nfrac = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (s[i++] - '0'), nint++;
    if (nint < 1 || nint > max_int)
        return 0;
    if (i < len) {
        if (s[i] != '.')
            return 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (s[i++] - '0'), nfrac++;
        if (i != len || nfrac < 1 || nfrac > scale)
            return 0;
    }
    for (int k = nfrac; k < scale; k++)
        v *= 10;
    if (v > INT64_MAX)
        return 0;
    *out = (int64_t)(neg ? -v : v);
    return 1;
}

#endif
