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

/* The first occurrence of lit[0..nlit) in s[0..n), or NULL. */
static const char *find(const char *s, size_t n, const char *lit, size_t nlit, int ci)
{
    if (nlit == 0)
        return s;
    if (nlit > n)
        return NULL;
    if (!ci)
        return memmem(s, n, lit, nlit);
    const unsigned char first = fold((unsigned char)lit[0]);
    for (size_t i = 0; i + nlit <= n; i++)
        if (fold((unsigned char)s[i]) == first && eq_bytes(s + i + 1, lit + 1, nlit - 1, 1))
            return s + i;
    return NULL;
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
    out->lead = pn > 0 && p[0] == '%', out->trail = pn > 0 && p[pn - 1] == '%';
    for (size_t i = 0; i < pn;) { /* the literal segments between runs of '%' */
        if (p[i] == '%') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < pn && p[j] != '%')
            j++;
        if (out->nseg == TS_LIKE_MAX_SEGS)
            return; /* general */
        out->seg[out->nseg] = p + i, out->segn[out->nseg++] = j - i;
        i = j;
    }
    out->kind = memchr(p, '%', pn) ? TS_LIKE_SEGMENTS : TS_LIKE_EXACT;
}

/* The segments in order: an anchored first one at the start, an anchored last one at the end, each middle one at
 * its leftmost occurrence after the previous (leftmost is never worse for what follows, as '%' takes any run). */
static int segments(const ts_like_pat *pat, const char *s, size_t n)
{
    const int ci = pat->ci;
    size_t pos = 0, end = n;
    int first = 0, last = pat->nseg;
    if (!pat->lead) {
        if (n < pat->segn[0] || !eq_bytes(s, pat->seg[0], pat->segn[0], ci))
            return 0;
        pos = pat->segn[0], first = 1;
    }
    if (!pat->trail && last > first) {
        const size_t k = pat->segn[last - 1];
        if (n - pos < k || !eq_bytes(s + n - k, pat->seg[last - 1], k, ci))
            return 0;
        end = n - k, last--;
    }
    for (int i = first; i < last; i++) {
        const char *hit = find(s + pos, end - pos, pat->seg[i], pat->segn[i], ci);
        if (!hit)
            return 0;
        pos = (size_t)(hit - s) + pat->segn[i];
    }
    return 1;
}

int ts_like_match(const ts_like_pat *pat, const char *s, size_t n)
{
    switch (pat->kind) {
    case TS_LIKE_EXACT: return n == pat->segn[0] && eq_bytes(s, pat->seg[0], n, pat->ci);
    case TS_LIKE_SEGMENTS: return segments(pat, s, n);
    case TS_LIKE_GENERAL: break;
    }
    return general(s, n, pat->p, pat->pn, pat->ci);
}

int ts_like(const char *s, size_t n, const char *p, size_t pn, int ci)
{
    ts_like_pat pat;
    ts_like_compile(p, pn, ci, &pat);
    return ts_like_match(&pat, s, n);
}
