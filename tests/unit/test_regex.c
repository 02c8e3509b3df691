/* kernels/ts_regex: the compile-size bound on POSIX EREs. Expected sizes are worked out by hand from the rule in
 * ts_regex.h (one per element and operator, counted repetitions multiply); the patterns that pass are compiled
 * with regcomp and their cost is measured (heap growth and time) to show the bound does what it promises. */
#include <malloc.h>
#include <stdio.h>
#include <regex.h>
#include <string.h>
#include <time.h>

#include "ts_regex.h"
#include "ts_test.h"

static void expect(const char *pattern, int ok, const char *want)
{
    char why[300] = "";
    const int rc = ts_regex_check_size(pattern, why, sizeof why);
    CHECK((rc == 0) == ok && (ok || strstr(why, want)), "'%s': rc %d, %s", pattern, rc, why);
}

#if !defined(__SANITIZE_ADDRESS__)
/* regcomp's heap growth (bytes) and time (s) for a pattern within the bound. */
static void measure(const char *pattern, size_t *bytes, double *secs)
{
    struct timespec t0, t1;
    regex_t re;
    const struct mallinfo2 a = mallinfo2();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const struct mallinfo2 b = mallinfo2();
    *bytes = (b.uordblks + b.hblkhd) - (a.uordblks + a.hblkhd);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (rc == 0)
        regfree(&re);
}
#endif

int main(void)
{
    /* the pattern: 255 * (255 * (255 + 254) + 254) + 254 elements */
    expect("(x{1,255}){1,255}{1,255}", 0, "expand to more than 2000 elements");
    expect("x{1,1001}", 0, "the repetition {1,1001} exceeds 1000");
    expect("x{1001}", 0, "the repetition {1001} exceeds 1000");
    expect("x{2000,}", 0, "exceeds 1000");
    expect("x{1,1000}", 1, "");                 /* 1000 + 999 = 1999 */
    expect("x{1,1000}yz", 0, "more than 2000"); /* 1999 + 2 */
    expect("(x*){1,500}", 1, "");               /* (1 + 1 + 1) * 500 + 499 = 1999 */
    expect("(x*){1,501}", 0, "more than 2000"); /* 2002 */
    expect("a{1000,}", 1, "");                  /* 1001 * 1 + 1 */
    expect("[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", 1, "");
    expect("^([a-z]+|[0-9]{3,7})@[a-z]+\\.(com|org)$", 1, "");
    expect("[[:alpha:]{}]{2}x{1,3}", 1, "");    /* braces inside a bracket expression are literals */
    expect("a\\{1000000}", 1, "");              /* an escaped brace is a literal */
    expect("(x{,1000}){,1000}", 0, "more than 2000"); /* glibc reads {,n} as {0,n} */
    expect("x{,1001}", 0, "the repetition {,1001} exceeds 1000");
    expect("(x{,}){,}", 1, "");
    expect("a{", 1, ""), expect("a{,5}", 1, ""), expect("(", 1, ""), expect("[", 1, ""); /* regcomp's to report */
    char deep[700] = "";
    for (int i = 0; i < 300; i++)
        strcat(deep, "(");
    expect(deep, 0, "nests groups more than");
    /* what passing costs: the worst shapes within the bound stay small and fast under glibc (measured without
     * sanitizers only: their allocator changes both figures) */
#if !defined(__SANITIZE_ADDRESS__)
    static const char *const worst[] = {"x{1,1000}", "((x*)*){1,333}", "(((x*)*)*){1,250}", "(x?){1,500}",
                                        "((x{0,1}){0,1}){0,300}", ".{0,1000}"};
    for (size_t i = 0; i < sizeof worst / sizeof *worst; i++) {
        size_t bytes;
        double secs;
        CHECK(ts_regex_check_size(worst[i], NULL, 0) == 0, "'%s' passes", worst[i]);
        measure(worst[i], &bytes, &secs);
        CHECK(bytes < ((size_t)64 << 20) && secs < 10, "'%s' compiles in %zu bytes, %.2f s", worst[i], bytes, secs);
    }
#endif
    /* matching in place: values not NUL-terminated, of any length, with NUL bytes */
    regex_t re;
    if (regcomp(&re, "^(ab|c+)$", REG_EXTENDED | REG_NOSUB) == 0) {
        static char big[70000];
        memset(big, 'c', sizeof big);
        CHECK(ts_regex_match(&re, "abX", 2) == 1 && ts_regex_match(&re, "abX", 3) == 0 &&
                  ts_regex_match(&re, big, sizeof big) == 1 && ts_regex_match(&re, "ab\0", 3) == 0 &&
                  ts_regex_match(&re, "", 0) == 0,
              "ts_regex_match bounds the text by its length");
        regfree(&re);
    }
    return TS_TEST_DONE("test_regex");
}
