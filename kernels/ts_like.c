#include "ts_like.h"

#include <string.h>

static inline unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

static int eq_bytes(const char *a, const char *b, size_t n, int ci)
{
    if (!ci)
        return n == 0 || memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return 0;
    return 1;
}

static int contains(const char *s, size_t n, const char *lit, size_t nlit, int ci)
{
    if (nlit == 0)
        return 1;
    if (nlit > n)
        return 0;
    if (!ci)
        return memmem(s, n, lit, nlit) != NULL;
    const unsigned char first = fold((unsigned char)lit[0]);
    for (size_t i = 0; i + nlit <= n; i++)
        if (fold((unsigned char)s[i]) == first && eq_bytes(s + i + 1, lit + 1, nlit - 1, 1))
            return 1;
    return 0;
}

/* Index just past the UTF-8 code point starting at s[i] (a stray continuation byte counts as one character). */
static inline size_t next_char(const char *s, size_t n, size_t i)
{
    i++;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Greedy matcher that backtracks to the last '%': O(n * pn) worst case, no recursion. */
static int general(const char *s, size_t n, const char *p, size_t pn, int ci)
{
    size_t si = 0, pi = 0, star_p = 0, star_s = 0;
    int star = 0;
    while (si < n) {
        if (pi < pn && p[pi] == '%') {
            star = 1, star_p = ++pi, star_s = si;
        } else if (pi < pn && p[pi] == '_') {
            si = next_char(s, n, si), pi++;
        } else if (pi < pn && (ci ? fold((unsigned char)p[pi]) == fold((unsigned char)s[si]) : p[pi] == s[si])) {
            si++, pi++;
        } else if (star) {
            star_s = next_char(s, n, star_s);
            si = star_s, pi = star_p;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

void ts_like_compile(const char *p, size_t pn, int ci, ts_like_pat *out)
{
    memset(out, 0, sizeof *out);
    out->ci = ci, out->p = p, out->pn = pn, out->kind = TS_LIKE_GENERAL;
    if (memchr(p, '_', pn))
        return;
    /* segments between runs of '%' */
    const char *seg[3];
    size_t segn[3];
    int nseg = 0, lead = pn > 0 && p[0] == '%', trail = pn > 0 && p[pn - 1] == '%';
    for (size_t i = 0; i < pn;) {
        if (p[i] == '%') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < pn && p[j] != '%')
            j++;
        if (nseg == 2)
            return; /* three literal parts: general */
        seg[nseg] = p + i, segn[nseg++] = j - i;
        i = j;
    }
    const int has_pct = memchr(p, '%', pn) != NULL;
    if (!has_pct) {
        out->kind = TS_LIKE_EXACT, out->lit = p, out->nlit = pn;
    } else if (nseg == 0) {
        out->kind = TS_LIKE_CONTAINS, out->lit = p, out->nlit = 0;
    } else if (nseg == 1) {
        out->lit = seg[0], out->nlit = segn[0];
        out->kind = lead && trail ? TS_LIKE_CONTAINS : lead ? TS_LIKE_SUFFIX : trail ? TS_LIKE_PREFIX : TS_LIKE_GENERAL;
    } else if (!lead && !trail) {
        out->kind = TS_LIKE_PRE_SUF;
        out->lit = seg[0], out->nlit = segn[0], out->lit2 = seg[1], out->nlit2 = segn[1];
    }
}

int ts_like_match(const ts_like_pat *pat, const char *s, size_t n)
{
    const int ci = pat->ci;
    switch (pat->kind) {
    case TS_LIKE_EXACT: return n == pat->nlit && eq_bytes(s, pat->lit, n, ci);
    case TS_LIKE_PREFIX: return n >= pat->nlit && eq_bytes(s, pat->lit, pat->nlit, ci);
    case TS_LIKE_SUFFIX: return n >= pat->nlit && eq_bytes(s + n - pat->nlit, pat->lit, pat->nlit, ci);
    case TS_LIKE_CONTAINS: return contains(s, n, pat->lit, pat->nlit, ci);
    case TS_LIKE_PRE_SUF:
        return n >= pat->nlit + pat->nlit2 && eq_bytes(s, pat->lit, pat->nlit, ci) &&
               eq_bytes(s + n - pat->nlit2, pat->lit2, pat->nlit2, ci);
    case TS_LIKE_GENERAL: break;
    }
    return general(s, n, pat->p, pat->pn, ci);
}

int ts_like(const char *s, size_t n, const char *p, size_t pn, int ci)
{
    ts_like_pat pat;
    ts_like_compile(p, pn, ci, &pat);
    return ts_like_match(&pat, s, n);
}
