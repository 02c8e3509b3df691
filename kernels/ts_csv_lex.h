/* Line and delimiter finding for CSV text in one pass, 64 bytes at a time (SSE2, which every x86-64 has; a
 * portable byte loop elsewhere). Pure functions over a caller's buffer, no allocation, thread-safe per lexer.
 *
 * For each 64-byte block the lexer computes three bit masks: the bytes equal to '\n', to the delimiter and to the
 * quote character. A line is then its delimiters' positions up to its newline, found by counting trailing zero
 * bits: no per-byte branch and no call per line or per field. Rows are lines whatever the quoting (a quoted field
 * that runs past its line is malformed, never a multi-line field), so the newline mask alone cuts lines; a line in
 * which the quote byte occurs is flagged, and the caller splits that line with the RFC 4180 splitter, since a
 * delimiter inside quotes is not a field boundary.
 *
 * Blocks are 64-byte aligned, so a load never crosses a page; the first and last blocks, which reach outside
 * [data, end), are copied into a zero-padded buffer first (the delimiter, quote and '\n' are never NUL bytes), so
 * nothing outside the buffer is read. */
#ifndef TS_CSV_LEX_H
#define TS_CSV_LEX_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct ts_lex {
    const char *data, *end;      /* the buffer */
    const char *base;            /* the current block (64-byte aligned address; may start before data) */
    uint64_t delim, nl, quote;   /* the block's masks, bits before the cursor cleared */
    char d, q;                   /* delimiter and quote (neither is '\0' nor '\n') */
} ts_lex;

/* Masks of one block of 64 bytes at src (16-byte aligned). */
static inline void ts_lex_masks(const char *src, char d, char q, uint64_t *md, uint64_t *mn, uint64_t *mq)
{
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(d), vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8(q);
    uint64_t a = 0, b = 0, c = 0;
    for (int k = 0; k < 4; k++) {
        const __m128i v = _mm_load_si128((const __m128i *)(const void *)(src + 16 * k));
        a |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) << (16 * k);
        b |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn)) << (16 * k);
        c |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
    }
    *md = a, *mn = b, *mq = c;
#else
    uint64_t a = 0, b = 0, c = 0;
    for (int k = 0; k < 64; k++) {
        a |= (uint64_t)(src[k] == d) << k;
        b |= (uint64_t)(src[k] == '\n') << k;
        c |= (uint64_t)(src[k] == q) << k;
    }
    *md = a, *mn = b, *mq = c;
#endif
}

/* Loads the block at base (64-byte aligned). */
static inline void ts_lex_load(ts_lex *L, const char *base)
{
    L->base = base;
    if (base >= L->data && L->end - base >= 64) {
        /* the input streams from memory (a file's page cache pages are scattered, so the hardware prefetcher
         * restarts at every 4 KiB page): ask for a block 1 KiB ahead (a prefetch never faults) */
        __builtin_prefetch(base + 1024);
        ts_lex_masks(base, L->d, L->q, &L->delim, &L->nl, &L->quote);
        return;
    }
    _Alignas(16) char pad[64];
    memset(pad, 0, sizeof pad);
    const char *lo = base < L->data ? L->data : base, *hi = L->end - base < 64 ? L->end : base + 64;
    if (hi > lo)
        memcpy(pad + (lo - base), lo, (size_t)(hi - lo));
    ts_lex_masks(pad, L->d, L->q, &L->delim, &L->nl, &L->quote);
}

/* A lexer over data[0..len) with the cursor at data. */
static inline void ts_lex_init(ts_lex *L, const char *data, int64_t len, char delim, char quote)
{
    L->data = data, L->end = data + len, L->d = delim, L->q = quote;
    ts_lex_load(L, (const char *)((uintptr_t)data & ~(uintptr_t)63));
}

/* Moves the cursor to p (data <= p <= end). Within the current block p must not be before the cursor. */
static inline void ts_lex_seek(ts_lex *L, const char *p)
{
    const char *base = (const char *)((uintptr_t)p & ~(uintptr_t)63);
    if (base != L->base)
        ts_lex_load(L, base);
    const uint64_t keep = ~UINT64_C(0) << (p - base);
    L->delim &= keep, L->nl &= keep, L->quote &= keep;
}

/* Reads the line at the cursor: *eol = its '\n' (or end when the data ends without one); the positions of its
 * delimiters go to delims[0 .. min(count, max)); *quoted = 1 when the quote byte occurs in the line. Returns the
 * number of delimiters (which may exceed max). The cursor moves past the '\n'. */
static inline int64_t ts_lex_line(ts_lex *L, const char **delims, int64_t max, const char **eol, int *quoted)
{
    int64_t nd = 0;
    uint64_t q = 0;
    for (;;) {
        const uint64_t nl = L->nl & (0 - L->nl); /* the first newline's bit, or 0 */
        const uint64_t before = nl ? nl - 1 : ~UINT64_C(0);
        uint64_t d = L->delim & before;
        q |= L->quote & before;
        while (d) {
            if (nd < max)
                delims[nd] = L->base + __builtin_ctzll(d);
            nd++;
            d &= d - 1;
        }
        if (nl) {
            const uint64_t rest = ~(before | nl);
            *eol = L->base + __builtin_ctzll(nl);
            L->delim &= rest, L->nl &= rest, L->quote &= rest;
            *quoted = q != 0;
            return nd;
        }
        if (L->end - L->base <= 64) { /* the data ends in this block, without a newline */
            *eol = L->end;
            L->delim = L->nl = L->quote = 0;
            *quoted = q != 0;
            return nd;
        }
        ts_lex_load(L, L->base + 64);
    }
}

/* The byte after the k-th '\n' at or after p (k >= 1), or end when fewer follow: whole 64-byte blocks are
 * skipped by counting their newlines (one mask and a popcount), so walking to a far line costs a pass at memory
 * speed instead of a search call per line. Only [p, end) is read (aligned loads inside it, the rest byte by
 * byte). */
static inline const char *ts_lex_skip_lines(const char *p, const char *end, int64_t k)
{
    while (p < end && ((uintptr_t)p & 63)) { /* up to the first aligned block */
        if (*p++ == '\n' && --k == 0)
            return p;
    }
    for (; end - p >= 64; p += 64) {
        uint64_t md, mn, mq;
        ts_lex_masks(p, '\n', '\n', &md, &mn, &mq);
        const int64_t c = __builtin_popcountll(mn);
        if (c < k) {
            k -= c;
            continue;
        }
        while (--k > 0)
            mn &= mn - 1; /* drop the newlines before the k-th */
        return p + __builtin_ctzll(mn) + 1;
    }
    for (; p < end; p++)
        if (*p == '\n' && --k == 0)
            return p + 1;
    return end;
}

#endif
