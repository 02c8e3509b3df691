/* Hand-written number formatting for the hot loop (printf per field would dominate the generator's time). */
#ifndef GEN_FMT_H
#define GEN_FMT_H
#include <stdint.h>
#include <string.h>

/* Writes v in decimal (no sign, no leading zeros) at p; returns the number of bytes. */
static inline int gen_fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Writes cents as a canonical decimal with exactly two decimals (`15230.50`, `0.07`). */
static inline int gen_fmt_cents(char *p, uint64_t cents)
{
    int n = gen_fmt_u64(p, cents / 100);
    const unsigned c = (unsigned)(cents % 100);
    p[n] = '.';
    p[n + 1] = (char)('0' + c / 10);
    p[n + 2] = (char)('0' + c % 10);
    return n + 3;
}

/* Writes n zero-padded decimal digits of v. */
static inline void gen_fmt_fixed(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* Appends s (NUL-terminated) at p; returns bytes written. */
static inline int gen_fmt_str(char *p, const char *s)
{
    const size_t n = strlen(s);
    memcpy(p, s, n);
    return (int)n;
}

#endif
