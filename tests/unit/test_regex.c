/* kernels/ts_regex: Tessera's regular expressions. Hand-checked matches for every syntax element, the errors and
 * the bounds; pathological patterns (glibc's blow-ups, found by the fuzzer) compile or are refused by the bound;
 * and a differential test against glibc's regcomp/regexec, the behaviour the engine replaces, on random small
 * patterns and texts. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_regex.h"
#include "ts_test.h"

/* pattern, mode, text, expected (1 match, 0 no match) */
typedef struct mcase {
    const char *pat;
    int mode;
    const char *text;
    int want;
} mcase;

#define S TS_REGEX_SEARCH
#define W TS_REGEX_WHOLE

static const mcase cases[] = {
    /* literals, '.', search versus whole */
    {"abc", S, "xxabcxx", 1}, {"abc", W, "xxabcxx", 0}, {"abc", W, "abc", 1}, {"abc", S, "abx", 0},
    {"a.c", W, "a-c", 1}, {"a.c", W, "ac", 0}, {"", S, "", 1}, {"", W, "", 1}, {"", W, "a", 0}, {"", S, "xyz", 1},
    /* bracket expressions */
    {"[abc]", W, "b", 1}, {"[abc]", W, "d", 0}, {"[^abc]", W, "d", 1}, {"[^abc]", W, "a", 0},
    {"[a-c]+", W, "abcabc", 1}, {"[a-c]+", W, "abcd", 0}, {"[]a]", W, "]", 1}, {"[]a]", W, "a", 1},
    {"[^]a]", W, "]", 0}, {"[^]a]", W, "b", 1}, {"[-a]", W, "-", 1}, {"[a-]", W, "-", 1}, {"[a-]", W, "b", 0},
    {"[%--]", W, "+", 1}, {"[a-c-]", W, "-", 1}, {"[\\n]", W, "\\", 1}, {"[\\n]", W, "n", 1},
    {"[[:alpha:]]+", W, "abXY", 1}, {"[[:alpha:]]", W, "1", 0}, {"[[:digit:]]{3}", W, "123", 1},
    {"[[:alnum:]_]+", W, "a_1", 1}, {"[[:upper:]]", W, "a", 0}, {"[[:lower:]]", W, "a", 1},
    {"[[:space:]]", W, "\t", 1}, {"[[:blank:]]", W, "\n", 0}, {"[[:punct:]]", W, "!", 1},
    {"[[:punct:]]", W, "a", 0}, {"[[:print:]]", W, " ", 1}, {"[[:graph:]]", W, " ", 0},
    {"[[:cntrl:]]", W, "\x7f", 1}, {"[[:xdigit:]]+", W, "09afAF", 1}, {"[[:xdigit:]]", W, "g", 0},
    {"[[=a=]b]", W, "a", 1}, {"[[.-.]a]", W, "-", 1}, {"[[.a.]-c]", W, "b", 1}, {"[[:alpha:]-]", W, "-", 1},
    {"[.]", W, ".", 1}, {"[.]", W, "a", 0}, {"[*+?{]", W, "{", 1}, {"[\x80-\xff]", W, "\xe9", 1},
    /* anchors anywhere */
    {"^ab", S, "abc", 1}, {"^ab", S, "cab", 0}, {"ab$", S, "cab", 1}, {"ab$", S, "abc", 0}, {"a^b", S, "ab", 0},
    {"a$b", S, "ab", 0}, {"(^a|b)c", S, "xbc", 1}, {"(^a|b)c", S, "xac", 0}, {"x*^a", S, "a", 1},
    /* glibc says 1 in whole mode: it drops the anchors in the copies of a repeated group */
    {"(^b)+", W, "bb", 0}, {"(^b)+", S, "bb", 1},
    {"(b$)+", S, "bb", 1}, {"(b$){2}", S, "bb", 0},
    /* groups, alternation, empty alternatives */
    {"(ab|cd)+", W, "abcdab", 1}, {"(ab|cd)+", W, "abc", 0}, {"(|a)b", W, "b", 1}, {"(|a)b", W, "ab", 1},
    {"a|", W, "", 1}, {"a|", W, "a", 1}, {"|", W, "", 1}, {"()", W, "", 1}, {"(a||b)", W, "", 1},
    {"((a))", W, "a", 1}, {"a)", W, "a)", 1}, {"a)b", S, "a)b", 1}, {"(a))", W, "a)", 1},
    /* quantifiers */
    {"ab*c", W, "ac", 1}, {"ab*c", W, "abbbc", 1}, {"ab+c", W, "ac", 0}, {"ab+c", W, "abbc", 1},
    {"ab?c", W, "abbc", 0}, {"a{3}", W, "aaa", 1}, {"a{3}", W, "aa", 0}, {"a{2,}", W, "aaaaa", 1},
    {"a{2,}", W, "a", 0}, {"a{1,2}", W, "aaa", 0}, {"a{1,2}", W, "aa", 1}, {"a{,2}", W, "", 1},
    {"a{,2}", W, "aaa", 0}, {"a{0}", W, "", 1}, {"a{0}b", W, "b", 1}, {"a{0,0}", W, "a", 0}, {"a{,}", W, "aaaa", 1},
    {"a**", W, "aa", 1}, {"a+?", W, "", 1}, {"a?+", W, "aaa", 1}, {"a++", W, "", 0}, {"a??", W, "aa", 0},
    {"a{2}{3}", W, "aaaaaa", 1}, {"a{2}{3}", W, "aaaaa", 0}, {"(a{2}){2,3}", W, "aaaaaa", 1},
    {"(a{2}){2,3}", W, "aaaaa", 0}, {"a{1\\,2}", W, "aa", 1}, /* glibc reads an escaped ',' in a count */
    {"(x*)*", W, "xxx", 1}, {"(x*)*y", W, "xxx", 0}, {"()*", W, "", 1}, {"(a|)+b", W, "aab", 1},
    {"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", W, "GB82WEST12345698765432", 1},
    {"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", W, "GB82", 0}, {"x{1,1000}", W, "xxxxxxxxxx", 1},
    /* GNU escapes */
    {"\\w+", W, "ab_9", 1}, {"\\w", W, "-", 0}, {"\\W", W, "-", 1}, {"\\s", W, " ", 1}, {"\\S", W, " ", 0},
    {"\\bfoo\\b", S, "a foo b", 1}, {"\\bfoo\\b", S, "afoo", 0}, {"\\Boo", S, "foo", 1}, {"\\Bfoo", S, "foo", 0},
    {"\\<foo", S, "x foo", 1}, {"\\<foo", S, "xfoo", 0}, {"foo\\>", S, "foo.", 1}, {"foo\\>", S, "food", 0},
    {"\\`a", S, "ab", 1}, {"\\`a", S, "ba", 0}, {"a\\'", S, "ba", 1}, {"a\\'", S, "ab", 0},
    {"(\\<b)+", W, "bb", 0}, /* glibc says 1 (the anchor dropped in the copy again) */
    /* other escapes are literals */
    {"a\\.b", W, "a.b", 1}, {"a\\.b", W, "axb", 0}, {"\\(\\)", W, "()", 1}, {"\\*", W, "*", 1}, {"\\n", W, "n", 1},
    {"\\{", W, "{", 1}, {"\\|", W, "|", 1}, {"a}", W, "a}", 1},
};

/* pattern and a piece of the reason it is refused with */
static const char *const errors[][2] = {
    {"(", "unmatched '('"}, {"(a|b", "unmatched '('"}, {"[a", "unmatched '['"}, {"[", "unmatched '['"},
    {"[]", "unmatched '['"}, {"[^", "unmatched '['"}, {"[[:alpha:]", "unmatched '['"}, {"[[:alpha", "unmatched '['"},
    {"*a", "nothing before it to repeat"}, {"a|*b", "nothing before it to repeat"}, {"(+a)", "nothing before"},
    {"^*", "nothing before it to repeat"}, {"{1}", "nothing before it to repeat"}, {"a\\b*", "nothing before"},
    {"a{", "unmatched '{'"}, {"a{1", "unmatched '{'"}, {"a{1,2", "unmatched '{'"}, {"a{}", "invalid repetition"},
    {"a{x}", "invalid repetition"}, {"a{1,2,3}", "invalid repetition"}, {"a{ 1}", "invalid repetition"},
    {"a{3,1}", "minimum is above its maximum"}, {"[z-a]", "invalid range end"}, {"[a-c-e]", "invalid range"},
    {"[[:alpha:]-z]", "invalid range"}, {"[a-[:alpha:]]", "invalid range end"},
    {"[[:foo:]]", "unknown character class"},
    {"[[::]]", "unknown character class"}, {"[[.ab.]]", "invalid collating element"},
    {"[[=ab=]]", "invalid equivalence class"}, {"(a)\\1", "back-references are not supported"},
    {"\\9", "back-references are not supported"}, {"a\\", "trailing backslash"},
    {"x{1,5000}", "the repetition {1,5000} exceeds 1000"}, {"x{1001}", "the repetition {1001} exceeds 1000"},
    {"x{,1001}", "the repetition {,1001} exceeds 1000"}, {"x{2000,}", "exceeds 1000"},
    {"(x{1,255}){1,255}{1,255}", "expands to more than"}, {"(x{,1000}){,1000}", "expands to more than"},
};

static int compile(const char *pat, int mode, ts_regex **re, char *why, size_t cap)
{
    return ts_regex_compile(pat, strlen(pat), mode, re, why, cap);
}

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const mcase *c = &cases[i];
        ts_regex *re;
        char why[300] = "";
        if (compile(c->pat, c->mode, &re, why, sizeof why) != 0) {
            CHECK(0, "'%s' compiles: %s", c->pat, why);
            continue;
        }
        const int got = ts_regex_match(re, c->text, strlen(c->text));
        CHECK(got == c->want, "'%s' (%s) on '%s': %d, expected %d", c->pat, c->mode == W ? "whole" : "search",
              c->text, got, c->want);
        ts_regex_free(re);
    }
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        ts_regex *re = NULL;
        char why[300] = "";
        const int rc = compile(errors[i][0], S, &re, why, sizeof why);
        CHECK(rc == -1 && re == NULL && strstr(why, errors[i][1]), "'%s' refused with '%s': rc %d, '%s'",
              errors[i][0], errors[i][1], rc, why);
        ts_regex_free(re);
    }
}

/* The bounds, and texts that are not NUL-terminated, hold NUL bytes or are long. */
static void test_bounds(void)
{
    ts_regex *re;
    char why[300] = "", deep[700] = "";
    CHECK(compile("x{1,1000}", S, &re, why, sizeof why) == 0 && ts_regex_program_size(re) == 1 + 999 * 2 + 1,
          "x{1,1000}: 2000 instructions (%zu) %s", ts_regex_program_size(re), why);
    ts_regex_free(re);
    CHECK(compile("[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", W, &re, why, sizeof why) == 0 &&
              ts_regex_program_size(re) == 2 + 2 + 1 + 29 * 2 + 2,
          "IBAN-like pattern compiles to 65 instructions (%zu) %s", ts_regex_program_size(re), why);
    ts_regex_free(re);
    for (int i = 0; i < 300; i++)
        strcat(deep, "(");
    CHECK(compile(deep, S, &re, why, sizeof why) == -1 && strstr(why, "nests groups more than 255 deep"), "%s", why);
    char limit[64];
    snprintf(limit, sizeof limit, "expands to more than %d instructions", TS_REGEX_MAX_PROG);
    CHECK(compile("(x{1,1000}){1,1000}", S, &re, why, sizeof why) == -1 && strstr(why, limit), "%s", why);
    static char long_pat[TS_REGEX_MAX_PATTERN + 2];
    memset(long_pat, 'a', sizeof long_pat - 1);
    CHECK(compile(long_pat, S, &re, why, sizeof why) == -1 && strstr(why, "longer than"), "%s", why);

    CHECK(compile("ab|c+", W, &re, why, sizeof why) == 0, "%s", why);
    static char big[70000];
    memset(big, 'c', sizeof big);
    CHECK(ts_regex_match(re, "abX", 2) == 1 && ts_regex_match(re, "abX", 3) == 0 &&
              ts_regex_match(re, big, sizeof big) == 1 && ts_regex_match(re, "ab\0", 3) == 0 &&
              ts_regex_match(re, "", 0) == 0,
          "the text is bounded by its length");
    ts_regex_free(re);
    CHECK(compile("a.b", W, &re, why, sizeof why) == 0 && ts_regex_match(re, "a\0b", 3) == 0 &&
              ts_regex_match(re, "axb", 3) == 1, "'.' is not NUL");
    ts_regex_free(re);
    CHECK(compile("a[^x]b", W, &re, why, sizeof why) == 0 && ts_regex_match(re, "a\0b", 3) == 1, "[^x] is NUL too");
    ts_regex_free(re);
    CHECK(ts_regex_compile("a\0b", 3, W, &re, why, sizeof why) == 0 && ts_regex_match(re, "a\0b", 3) == 1 &&
              ts_regex_match(re, "a", 1) == 0, "a NUL in the pattern is a character");
    ts_regex_free(re);
    CHECK(compile("needle", S, &re, why, sizeof why) == 0, "%s", why); /* the memchr skip */
    memcpy(big + sizeof big - 6, "needle", 6);
    CHECK(ts_regex_match(re, big, sizeof big) == 1 && ts_regex_match(re, big, sizeof big - 1) == 0, "skip");
    ts_regex_free(re);
}

/* glibc's blow-ups (the fuzzer's findings): each compiles or is refused by the bound, and matches in linear
 * time (no timing assertion: a regression would show as a slow test). */
static void test_pathological(void)
{
    static char plus[201 + 1];
    memset(plus, '+', 200);
    plus[0] = 'x';
    const char *const pats[] = {"^(((x*)*){1,30})$", "^(((x*)*){1,20})$", "(x*){1,400}", "(x?){1,600}", plus,
                                "((a|b?)*){1,1000}", "(((x{1,255}){1,255}){1,255})", "((x*)*){1,1000}",
                                "(x+x+)+y", "(a|aa)*b", "(.*)*(.*)*(.*)*z"};
    static char text[301];
    memset(text, 'x', 300);
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
        for (int mode = 0; mode < 2; mode++) {
            ts_regex *re;
            char why[300] = "";
            if (compile(pats[i], mode, &re, why, sizeof why) != 0) {
                CHECK(strstr(why, "expands to more than"), "'%.40s' refused by the bound only: %s", pats[i], why);
                continue;
            }
            const int want = strcmp(pats[i], "(x+x+)+y") && strcmp(pats[i], "(a|aa)*b") &&
                             strcmp(pats[i], "(.*)*(.*)*(.*)*z") &&
                             (mode == S || !strchr(pats[i], 'a'));
            const int got = ts_regex_match(re, text, 300);
            CHECK(got == want, "'%.40s' (%s) on 300 x: %d", pats[i], mode == W ? "whole" : "search", got);
            ts_regex_free(re);
        }
}

/* ---- differential test against glibc ------------------------------------------------------------------------- */

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* glibc ignores an anchor in the second and later copies of a repeated group ("(^b)+" matches "bb"), a bug of its
 * own: such patterns are compared for their compile status only. Conservative scan (brackets not parsed). */
static int anchor_in_repeated_group(const char *p)
{
    int has[64] = {0}, depth = 0; /* has[d]: the group open at depth d holds an anchor */
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

static void test_against_glibc(void)
{
    static const char *const tok[] = {"a", "b", ".", "(", ")", "|", "*", "+", "?", "{", "}", ",", "0", "1", "2",
                                      "[", "]", "^", "-", "$", "\\b", "\\w", "\\<", "\\>", "\\B", "[:alpha:]",
                                      "\\", "_", " ", "\\W", "\\s", "[.", ".]", "=", ":", "{,", "{1}", "{0,2}",
                                      "(a", "b)", "[^", "a", "b", "(", ")", "|", "*"};
    static const char alphabet[] = "ab.a_ b";
    const int ntok = (int)(sizeof tok / sizeof *tok);
    int compared = 0, refused = 0, skipped = 0, mismatches = 0;
    for (int it = 0; it < 12000 && mismatches < 20; it++) {
        char pat[40] = "";
        const size_t want_len = 1 + rnd(12);
        while (strlen(pat) < want_len)
            strcat(pat, tok[rnd((unsigned)ntok)]);
        pat[12] = '\0';
        if (strstr(pat, "\\1") || strstr(pat, "\\2")) { /* back-references: refused by design */
            skipped++;
            continue;
        }
        regex_t g;
        char why[300] = "", gwhy[200] = "";
        const int grc = regcomp(&g, pat, REG_EXTENDED);
        ts_regex *s = NULL, *w = NULL;
        const int src = compile(pat, S, &s, why, sizeof why), wrc = compile(pat, W, &w, NULL, 0);
        if (grc)
            regerror(grc, &g, gwhy, sizeof gwhy);
        if ((grc == 0) != (src == 0) || (src == 0) != (wrc == 0)) {
            CHECK(0, "'%s': glibc %s, ours %s", pat, grc ? gwhy : "compiles", src ? why : "compiles");
            mismatches++;
        } else if (src == 0 && !anchor_in_repeated_group(pat)) {
            compared++;
            for (int t = 0; t < 20; t++) {
                char text[10];
                const int n = (int)rnd(9);
                for (int k = 0; k < n; k++)
                    text[k] = alphabet[rnd(sizeof alphabet - 1)];
                text[n] = '\0';
                regmatch_t m[1];
                const int gs = regexec(&g, text, 1, m, 0) == 0;
                /* POSIX leftmost-longest: the whole text matches iff the first match spans it */
                const int gw = gs && m[0].rm_so == 0 && m[0].rm_eo == n;
                const int os = ts_regex_match(s, text, (size_t)n), ow = ts_regex_match(w, text, (size_t)n);
                if (gs != os || gw != ow) {
                    CHECK(0, "'%s' on '%s': glibc search %d whole %d, ours %d %d", pat, text, gs, gw, os, ow);
                    mismatches++;
                    break;
                }
            }
        } else {
            refused += src != 0;
        }
        if (grc == 0)
            regfree(&g);
        ts_regex_free(s), ts_regex_free(w);
    }
    printf("against glibc: %d patterns compared on 20 texts each, %d refused by both, %d skipped\n", compared,
           refused, skipped);
    CHECK(compared > 3000 && refused > 3000, "enough of both kinds");
}

int main(void)
{
    test_cases();
    test_bounds();
    test_pathological();
    test_against_glibc();
    return TS_TEST_DONE("test_regex");
}
