#include "ts_parse.h"

#include <stdlib.h>
#include <string.h>

/* 4 to 8 digit bytes at s as one little-endian word, right-aligned behind '0' bytes (leading zeros), read with
 * fixed-size loads inside [s, s + n): two overlapping 4-byte loads, or one 8-byte load. */
static inline uint64_t digit_word(const char *s, size_t n)
{
    uint64_t x;
    if (n == 8) {
        memcpy(&x, s, 8);
        return x;
    }
    uint32_t a, b;
    memcpy(&a, s, 4), memcpy(&b, s + n - 4, 4);
    x = a | (uint64_t)b << (8 * (n - 4)); /* the overlapping bytes are the same bytes */
    return x << (8 * (8 - n)) | UINT64_C(0x3030303030303030) >> (8 * n);
}

/* Value of up to 8 ASCII digits (SWAR: every byte checked at once, then pairs, quads and halves combined), or -1
 * when a byte is not a digit. A per-digit loop's exit branch mispredicted on fields of varying length. */
static inline int64_t swar_digits(uint64_t x)
{
    const uint64_t high = UINT64_C(0x8080808080808080);
    /* a byte is a digit when its high bit is clear, b + 0x50 >= 0x80 (b >= '0') and b + 0x46 < 0x80 (b <= '9');
     * with the high bits clear no sum carries into the next byte */
    if ((x & high) || ((x + UINT64_C(0x5050505050505050)) & ~(x + UINT64_C(0x4646464646464646)) & high) != high)
        return -1;
    x -= UINT64_C(0x3030303030303030);
    x = (x * 10 + (x >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
    x = (x * 100 + (x >> 16)) & UINT64_C(0x0000ffff0000ffff);
    return (int64_t)((x * 10000 + (x >> 32)) & UINT64_C(0xffffffff));
}

int ts_parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i = 1;
    if (i == len)
        return 0;
    if (len - i >= 4 && len - i <= 8) {
        const int64_t v = swar_digits(digit_word(s + i, len - i));
        if (v < 0)
            return 0;
        *out = neg ? -v : v;
        return 1;
    }
    if (len - i <= 18) { /* at most 18 digits cannot overflow: no bound check per digit */
        uint64_t v = 0;
        for (; i < len; i++) {
            const unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9)
                return 0;
            v = v * 10 + d;
        }
        *out = neg ? -(int64_t)v : (int64_t)v;
        return 1;
    }
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
    for (size_t i = 0; i < len; i++)
        out[i] = ts_fold_char(s[i], upper);
    return 1;
}

/* ---- floating point --------------------------------------------------------------------------------------- */

#define FLOAT_MAX_DIGITS 800 /* > 767, the most significant digits a double's rounding can depend on */

static int lower_eq(const char *s, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len && word[i]; i++)
        if ((s[i] | 0x20) != word[i])
            return 0;
    return i == len && !word[i];
}

/* The syntax of a finite number, split into its parts: digits [ip, ip+ni) and [fp, fp+nf), exponent value. */
typedef struct float_parts {
    const char *ip, *fp;
    size_t ni, nf;
    int64_t exp;   /* explicit exponent, saturated at +-10^12 */
} float_parts;

static int float_syntax(const char *s, size_t len, size_t i, float_parts *p)
{
    p->ip = s + i;
    while (i < len && (unsigned)(s[i] - '0') <= 9)
        i++;
    p->ni = (size_t)(s + i - p->ip), p->fp = s + i, p->nf = 0;
    if (i < len && s[i] == '.') {
        p->fp = s + ++i;
        while (i < len && (unsigned)(s[i] - '0') <= 9)
            i++;
        p->nf = (size_t)(s + i - p->fp);
    }
    if (p->ni + p->nf == 0)
        return 0;
    p->exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i == len)
            return 0;
        for (; i < len; i++) {
            const unsigned d = (unsigned)(s[i] - '0');
            if (d > 9)
                return 0;
            if (p->exp < INT64_C(1000000000000))
                p->exp = p->exp * 10 + d;
        }
        p->exp = eneg ? -p->exp : p->exp;
    }
    return i == len;
}

/* Exact powers of ten as doubles (10^22 is the largest one). */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The slow path: "[-]DIGITSeEXP" with leading zeros dropped and at most FLOAT_MAX_DIGITS digits, then strtod. */
static double float_slow(int neg, const float_parts *p)
{
    char buf[FLOAT_MAX_DIGITS + 32], *w = buf;
    if (neg)
        *w++ = '-';
    char *digits = w;
    int64_t nd = 0, dropped = 0;
    int sticky = 0;
    for (int part = 0; part < 2; part++) {
        const char *d = part ? p->fp : p->ip;
        const size_t n = part ? p->nf : p->ni;
        for (size_t k = 0; k < n; k++) {
            if (nd == 0 && d[k] == '0')
                continue;
            if (nd < FLOAT_MAX_DIGITS - 1)
                digits[nd++] = d[k];
            else
                dropped++, sticky |= d[k] != '0';
        }
    }
    if (nd == 0)
        return neg ? -0.0 : 0.0;
    if (dropped)
        digits[nd++] = sticky ? '1' : '0', dropped--;
    w = digits + nd;
    /* value = DIGITS * 10^e10 */
    int64_t e10 = p->exp - (int64_t)p->nf + dropped;
    *w++ = 'e';
    if (e10 < 0)
        *w++ = '-', e10 = -e10;
    char rev[24];
    int nr = 0;
    do
        rev[nr++] = (char)('0' + e10 % 10), e10 /= 10;
    while (e10);
    while (nr)
        *w++ = rev[--nr];
    *w = '\0';
    return strtod(buf, NULL);
}

int ts_parse_float64(const char *s, size_t len, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i = 1;
    if (i < len && (s[i] | 0x20) >= 'a') { /* a letter: only inf, infinity, nan */
        const char *w = s + i;
        const size_t n = len - i;
        if (lower_eq(w, n, "inf") || lower_eq(w, n, "infinity"))
            *out = neg ? -__builtin_inf() : __builtin_inf();
        else if (lower_eq(w, n, "nan"))
            *out = neg ? -__builtin_nan("") : __builtin_nan("");
        else
            return 0;
        return 1;
    }
    float_parts p;
    if (!float_syntax(s, len, i, &p))
        return 0;
    /* Clinger's fast path: up to 19 significant digits exactly in w; exact when w <= 2^53 and 10^|e| <= 10^22 */
    /* nsig counts every digit from the first non-zero one on, zeros included: counting only the digits after
     * which w was non-zero let w wrap to 0 ("922337203685477580800" = 2^63 * 100 parsed as 0; found by fuzzing) */
    uint64_t w = 0;
    int nsig = 0;
    for (int part = 0; part < 2 && nsig <= 19; part++) {
        const char *d = part ? p.fp : p.ip;
        const size_t nd = part ? p.nf : p.ni;
        for (size_t k = 0; k < nd && nsig <= 19; k++)
            if (nsig || d[k] != '0')
                nsig++, w = w * 10 + (uint64_t)(d[k] - '0');
    }
    if (nsig <= 19) {
        if (w == 0) {
            *out = neg ? -0.0 : 0.0;
            return 1;
        }
        const int64_t e10 = p.exp - (int64_t)p.nf;
        if (w <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22 + 15) {
            double v = (double)w;
            if (e10 < 0) {
                v /= pow10_exact[-e10];
            } else if (e10 <= 22) {
                v *= pow10_exact[e10];
            } else { /* w * 10^(e10 - 22) stays an exact integer below 2^53, then one rounding */
                const double scaled = v * pow10_exact[e10 - 22];
                if (scaled > 9007199254740992.0)
                    goto slow;
                v = scaled * 1e22;
            }
            *out = neg ? -v : v;
            return 1;
        }
    }
slow:
    *out = float_slow(neg, &p);
    return 1;
}

int ts_parse_bool(const char *s, size_t len, int *out)
{
    if (len == 1) {
        const char c = (char)(s[0] | 0x20);
        if (c == 't' || s[0] == '1' || c == 'f' || s[0] == '0') {
            *out = c == 't' || s[0] == '1';
            return 1;
        }
        return 0;
    }
    if (lower_eq(s, len, "true") || lower_eq(s, len, "false")) {
        *out = (s[0] | 0x20) == 't';
        return 1;
    }
    return 0;
}
