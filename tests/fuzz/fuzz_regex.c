/* Fuzz target: Tessera's regular expressions (kernels/ts_regex.h).
 *
 * Input: the pattern, optionally followed by a NUL byte and a text (which may hold more NUL bytes). The pattern
 * is compiled in both modes and matched against that text and a few fixed ones.
 *
 * Invariants checked:
 *   - compiling succeeds, or fails with a reason; both modes agree; a program has at most TS_REGEX_MAX_PROG
 *     instructions
 *   - a whole-text match is also a match somewhere
 *   - short patterns (at most 12 bytes, counts of at most 3, no NUL, no back-reference) against glibc's regcomp /
 *     regexec: both accept or both refuse (Tessera's bounds aside), and they agree on the fixed texts (search
 *     and whole text), except where glibc drops an anchor inside a repeated group (its own bug) */
#include <regex.h>

#include "ts_fuzz.h"
#include "ts_regex.h"

TS_FUZZ_INIT(regex)
{
    (void)argc, (void)argv;
    return 0;
}

/* glibc ignores anchors in the second and later copies of a repeated group ("(^b)+" matches "bb" as a whole):
 * such patterns are compared for their compile status only. Conservative: brackets are not parsed. */
static int regex_anchor_in_repeated_group(const char *p)
{
    int has[64] = {0}, depth = 0;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\' && p[i + 1]) {
            has[depth] |= strchr("<>bB`'", p[++i]) != NULL;
        } else if (p[i] == '^' || p[i] == '$') {
            has[depth] = 1;
        } else if (p[i] == '(' && depth < 63) {
            has[++depth] = 0;
        } else if (p[i] == ')' && depth > 0) {
            const int inner = has[depth--];
            if (inner && p[i + 1] && strchr("*+?{", p[i + 1]))
                return 1;
            has[depth] |= inner;
        }
    }
    return 0;
}

/* A pattern glibc compiles quickly, away from its blow-ups: counts of at most 3 (")*{1,1000}+" took it more than
 * 25 s), at most 3 quantifiers and none stacked (")*++++" and "\\>|\\B)+*b" too: every stacked '+' doubles its
 * tree); without what Tessera refuses by design (back-references) and without NUL bytes (regcomp reads a C
 * string). Stacked quantifiers are compared with glibc in tests/unit/test_regex.c on fixed random patterns. */
static int regex_glibc_comparable(const uint8_t *p, size_t n)
{
    int quantifiers = 0;
    if (n > 12)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const int digit = p[i] >= '0' && p[i] <= '9', next_digit = i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9';
        if (p[i] == 0 || (p[i] >= '4' && p[i] <= '9') || (digit && next_digit) ||
            (p[i] == '\\' && next_digit && p[i + 1] != '0'))
            return 0;
        const int q = p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{';
        if (q && i > 0 && (p[i - 1] == '*' || p[i - 1] == '+' || p[i - 1] == '?' || p[i - 1] == '}'))
            return 0; /* stacked */
        quantifiers += q;
    }
    return quantifiers <= 3;
}

static const char *const regex_texts[] = {"", "a", "b", "ab", "ba", "aab", "a.b", "a b_", "xyz", "aaaaaaaaaaab",
                                          "_a.", "bb a"};

TS_FUZZ_ENTRY(regex)
{
    const uint8_t *nul = memchr(data, 0, size);
    const size_t plen = nul ? (size_t)(nul - data) : size;
    const char *pat = (const char *)data, *text = nul ? (const char *)nul + 1 : "";
    const size_t tlen = nul ? size - plen - 1 : 0;
    ts_regex *s = NULL, *w = NULL;
    char why[300] = "";
    const int src = ts_regex_compile(pat, plen, TS_REGEX_SEARCH, &s, why, sizeof why);
    const int wrc = ts_regex_compile(pat, plen, TS_REGEX_WHOLE, &w, NULL, 0);
    TS_FUZZ_ASSERT(src == wrc && (src == 0 || src == -1));
    TS_FUZZ_ASSERT(src == 0 ? s && w : !s && !w && why[0]);
    if (src == 0) {
        TS_FUZZ_ASSERT(ts_regex_program_size(s) <= TS_REGEX_MAX_PROG);
        TS_FUZZ_ASSERT(ts_regex_program_size(w) <= TS_REGEX_MAX_PROG);
        const int ms = ts_regex_match(s, text, tlen), mw = ts_regex_match(w, text, tlen);
        TS_FUZZ_ASSERT((ms == 0 || ms == 1) && (mw == 0 || mw == 1) && (!mw || ms));
        for (size_t k = 0; k < sizeof regex_texts / sizeof *regex_texts; k++) {
            const size_t n = strlen(regex_texts[k]);
            const int a = ts_regex_match(s, regex_texts[k], n), b = ts_regex_match(w, regex_texts[k], n);
            TS_FUZZ_ASSERT(!b || a);
        }
    }
    const int bound = src != 0 && (strstr(why, "exceeds") || strstr(why, "expands") || strstr(why, "nests"));
    if (!bound && regex_glibc_comparable(data, plen)) {
        char cpat[16], wrapped[32];
        memcpy(cpat, pat, plen);
        cpat[plen] = '\0';
        snprintf(wrapped, sizeof wrapped, "^(%s)$", cpat);
        regex_t g, gw;
        const int grc = regcomp(&g, cpat, REG_EXTENDED);
        if ((grc == 0) != (src == 0))
            fprintf(stderr, "pattern '%s': glibc %s, Tessera %s\n", cpat, grc ? "refuses" : "compiles",
                    src ? why : "compiles");
        TS_FUZZ_ASSERT((grc == 0) == (src == 0));
        const int gwrc = grc == 0 ? regcomp(&gw, wrapped, REG_EXTENDED | REG_NOSUB) : -1;
        if (grc == 0 && !regex_anchor_in_repeated_group(cpat))
            for (size_t k = 0; k < sizeof regex_texts / sizeof *regex_texts; k++) {
                const char *t = regex_texts[k];
                const int n = (int)strlen(t);
                regmatch_t m[1];
                const int gs = regexec(&g, t, 1, m, 0) == 0;
                const int gwhole = gs && m[0].rm_so == 0 && m[0].rm_eo == n; /* leftmost-longest spans it */
                if (gwrc == 0 && (regexec(&gw, t, 0, NULL, 0) == 0) != gwhole)
                    continue; /* glibc disagrees with itself (its span with the wrapped pattern): no reference */
                const int os = ts_regex_match(s, t, (size_t)n), ow = ts_regex_match(w, t, (size_t)n);
                if (gs != os || gwhole != ow)
                    fprintf(stderr, "pattern '%s' on '%s': glibc search %d whole %d, Tessera %d %d\n", cpat, t, gs,
                            gwhole, os, ow);
                TS_FUZZ_ASSERT(gs == os && gwhole == ow);
            }
        if (gwrc == 0)
            regfree(&gw);
        if (grc == 0)
            regfree(&g);
    }
    ts_regex_free(s), ts_regex_free(w);
    return 0;
}
