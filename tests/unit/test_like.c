/* kernels/ts_like: SQL LIKE / ILIKE. Hand-checked cases for each kind of compiled pattern (exact, segments with and
 * without anchors, general with '_'), then a differential test against a naive recursive matcher written here from
 * the definition, on random patterns and texts over a small alphabet (so that segments overlap and repeat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_like.h"
#include "ts_test.h"

/* The definition: '%' any run (also none), '_' one byte (ASCII texts here), anything else itself. */
static int naive(const char *s, size_t n, const char *p, size_t pn, int ci)
{
    if (pn == 0)
        return n == 0;
    if (p[0] == '%')
        for (size_t k = 0; k <= n; k++)
            if (naive(s + k, n - k, p + 1, pn - 1, ci))
                return 1;
    if (p[0] == '%' || n == 0)
        return 0;
    char a = s[0], b = p[0];
    if (ci && a >= 'A' && a <= 'Z')
        a = (char)(a + 32);
    if (ci && b >= 'A' && b <= 'Z')
        b = (char)(b + 32);
    return (p[0] == '_' || a == b) && naive(s + 1, n - 1, p + 1, pn - 1, ci);
}

typedef struct lcase {
    const char *pat, *text;
    int ci, want;
} lcase;

static const lcase cases[] = {
    {"", "", 0, 1}, {"", "a", 0, 0}, {"abc", "abc", 0, 1}, {"abc", "abcd", 0, 0}, {"%", "", 0, 1},
    {"%", "xyz", 0, 1}, {"%%", "", 0, 1}, {"ab%", "abx", 0, 1}, {"ab%", "xab", 0, 0}, {"%ab", "xab", 0, 1},
    {"%ab", "abx", 0, 0}, {"%ab%", "xxabyy", 0, 1}, {"%ab%", "a b", 0, 0}, {"a%b", "ab", 0, 1},
    {"a%b", "a", 0, 0}, {"a%a", "a", 0, 0}, {"a%a", "aa", 0, 1}, {"a%b%c", "abc", 0, 1}, {"a%b%c", "acb", 0, 0},
    {"%special%requests%", "the special packages; requests", 0, 1},
    {"%special%requests%", "requests are special", 0, 0}, {"%special%requests%", "specialrequests", 0, 1},
    {"%aa%aa%", "aaa", 0, 0}, {"%aa%aa%", "aaaa", 0, 1}, {"%ab%ab", "abab", 0, 1}, {"%ab%ab", "ababx", 0, 0},
    {"x%ab%ab%y", "xababy", 0, 1}, {"x%ab%ab%y", "xaby", 0, 0}, {"a_c", "abc", 0, 1}, {"a_c", "ac", 0, 0},
    {"%a_c%", "zzabczz", 0, 1}, {"AB%", "abx", 1, 1}, {"%B%c", "xbyC", 1, 1}, {"%B%c", "xbyC", 0, 0},
    {"%a%b%c%d%e%f%g%h%i%", "abcdefghi", 0, 1}, {"%a%b%c%d%e%f%g%h%i%", "abcdefgih", 0, 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const lcase *c = &cases[i];
        const int got = ts_like(c->text, strlen(c->text), c->pat, strlen(c->pat), c->ci);
        CHECK(got == c->want, "'%s' %sLIKE '%s': %d, want %d", c->text, c->ci ? "I" : "", c->pat, got, c->want);
        CHECK(naive(c->text, strlen(c->text), c->pat, strlen(c->pat), c->ci) == c->want, "reference on case %zu",
              i);
    }
    ts_like_pat pat;
    ts_like_compile("%special%requests%", 18, 0, &pat);
    CHECK(pat.kind == TS_LIKE_SEGMENTS && pat.nseg == 2, "two segments: kind %d, %d segments", pat.kind, pat.nseg);

    /* differential: patterns of up to 8 symbols over {a, b, A, %, _}, texts of up to 10 over {a, b, A} */
    ts_test_rng rng = ts_rng_seed(42);
    long mismatches = 0;
    const char pch[] = "abA%%_", tch[] = "abA";
    for (int it = 0; it < 200000; it++) {
        char p[9], s[11];
        const size_t pn = ts_rng_below(&rng, 9), n = ts_rng_below(&rng, 11);
        for (size_t k = 0; k < pn; k++)
            p[k] = pch[ts_rng_below(&rng, 6)];
        for (size_t k = 0; k < n; k++)
            s[k] = tch[ts_rng_below(&rng, 3)];
        const int ci = (int)ts_rng_below(&rng, 2);
        const int want = naive(s, n, p, pn, ci), got = ts_like(s, n, p, pn, ci);
        if (got != want && mismatches++ < 10)
            CHECK(0, "'%.*s' %sLIKE '%.*s': %d, want %d", (int)n, s, ci ? "I" : "", (int)pn, p, got, want);
    }
    CHECK(mismatches == 0, "%ld mismatches against the reference", mismatches);
    return TS_TEST_DONE("test_like");
}
