#include "ts_parse.h"

int ts_parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i = 1;
    if (i == len)
        return 0;
    /* accumulate as a negative number so INT64_MIN parses */
    int64_t v = 0;
    for (; i < len; i++) {
        const unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d > 9)
            return 0;
        if (v < (INT64_MIN + (int64_t)d) / 10)
            return 0;
        v = v * 10 - (int64_t)d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return 0;
        v = -v;
    }
    *out = v;
    return 1;
}

int ts_parse_decimal(const char *s, size_t len, int scale, int max_int_digits, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i = 1;
    int64_t v = 0;
    int ndig = 0;
    for (; i < len && s[i] != '.'; i++, ndig++) {
        const unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d > 9 || ndig >= max_int_digits || ndig >= 18)
            return 0;
        v = v * 10 + (int64_t)d;
    }
    if (ndig == 0)
        return 0;
    int fdig = 0;
    if (i < len) { /* s[i] == '.' */
        for (i++; i < len; i++, fdig++) {
            const unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9 || fdig >= scale || v > (INT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (int64_t)d;
        }
        if (fdig == 0)
            return 0;
    }
    for (; fdig < scale; fdig++) {
        if (v > INT64_MAX / 10)
            return 0;
        v *= 10;
    }
    *out = neg ? -v : v;
    return 1;
}

int ts_fold_case(const char *s, size_t len, int upper, char *out, size_t cap)
{
    if (len > cap)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        out[i] = c;
    }
    return 1;
}
