/* SQL LIKE / ILIKE matching on (pointer, length) strings.
 *
 * Semantics (DuckDB's LIKE without an ESCAPE clause): '%' matches any run of characters (also none), '_' matches
 * exactly one character, every other byte matches itself (a backslash is an ordinary character). Characters are
 * UTF-8 code points: '_' consumes a whole multi-byte sequence. ILIKE folds ASCII letters only.
 *
 * A pattern is usually a constant: ts_like_compile classifies it once. A pattern without '_' is a sequence of
 * literal segments between runs of '%' (up to TS_LIKE_MAX_SEGS): a row then costs a memcmp for an anchored first
 * or last segment and one substring search (memmem) per middle segment, leftmost first, which is exact for '%'
 * (TPC-H q13's '%special%requests%': two searches, where a backtracking matcher steps byte by byte). Patterns
 * with '_' or more segments use the backtracking matcher. Pure functions, no allocation: a compiled pattern
 * points into the caller's pattern bytes, which must outlive it. */
#ifndef TS_LIKE_H
#define TS_LIKE_H

#include <stddef.h>

#define TS_LIKE_MAX_SEGS 8

typedef enum {
    TS_LIKE_EXACT,    /* no wildcard: s == seg[0] */
    TS_LIKE_SEGMENTS, /* seg[0] % seg[1] % ... with an optional leading / trailing '%' (lead, trail) */
    TS_LIKE_GENERAL   /* anything else: backtracking matcher */
} ts_like_kind;

typedef struct ts_like_pat {
    ts_like_kind kind;
    int ci;                /* ILIKE */
    const char *p;         /* whole pattern (GENERAL) */
    size_t pn;
    int nseg, lead, trail; /* SEGMENTS: the literal parts; the pattern starts / ends with '%' */
    const char *seg[TS_LIKE_MAX_SEGS];
    size_t segn[TS_LIKE_MAX_SEGS];
} ts_like_pat;

/* Classifies pattern p[0..pn); ci != 0 for ILIKE. */
void ts_like_compile(const char *p, size_t pn, int ci, ts_like_pat *out);
/* 1 when s[0..n) matches the compiled pattern. */
int ts_like_match(const ts_like_pat *pat, const char *s, size_t n);
/* One-off match without compiling (patterns that change per row). */
int ts_like(const char *s, size_t n, const char *p, size_t pn, int ci);

#endif
