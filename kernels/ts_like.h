/* SQL LIKE / ILIKE matching on (pointer, length) strings.
 *
 * Semantics (DuckDB's LIKE without an ESCAPE clause): '%' matches any run of characters (also none), '_' matches
 * exactly one character, every other byte matches itself (a backslash is an ordinary character). Characters are
 * UTF-8 code points: '_' consumes a whole multi-byte sequence. ILIKE folds ASCII letters only.
 *
 * A pattern is usually a constant: ts_like_compile classifies it once (exact, prefix, suffix, contains, prefix and
 * suffix, or general) so that most rows cost one memcmp or one substring search. Pure functions, no allocation:
 * a compiled pattern points into the caller's pattern bytes, which must outlive it. */
#ifndef TS_LIKE_H
#define TS_LIKE_H

#include <stddef.h>

typedef enum {
    TS_LIKE_EXACT,    /* no wildcard: s == lit */
    TS_LIKE_PREFIX,   /* lit%          */
    TS_LIKE_SUFFIX,   /* %lit          */
    TS_LIKE_CONTAINS, /* %lit% (also % alone: lit empty) */
    TS_LIKE_PRE_SUF,  /* lit%lit2      */
    TS_LIKE_GENERAL   /* anything else: backtracking matcher */
} ts_like_kind;

typedef struct ts_like_pat {
    ts_like_kind kind;
    int ci;                /* ILIKE */
    const char *p;         /* whole pattern (GENERAL) */
    size_t pn;
    const char *lit, *lit2; /* literal parts of the simple kinds */
    size_t nlit, nlit2;
} ts_like_pat;

/* Classifies pattern p[0..pn); ci != 0 for ILIKE. */
void ts_like_compile(const char *p, size_t pn, int ci, ts_like_pat *out);
/* 1 when s[0..n) matches the compiled pattern. */
int ts_like_match(const ts_like_pat *pat, const char *s, size_t n);
/* One-off match without compiling (patterns that change per row). */
int ts_like(const char *s, size_t n, const char *p, size_t pn, int ci);

#endif
