/* kernels/ts_parse: ts_parse_float64 against glibc's strtod (correctly rounded) on hand-picked edge cases and
 * millions of random strings, with an independent grammar check; ts_parse_bool on every case. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts_parse.h"
#include "ts_test.h"

/* ---- the reference: the documented grammar written as a plain scan, value from strtod -------------------- */

static int ieq(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

static int ref_float(const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 1;
    }
    if (ieq(s + i, n - i, "nan")) {
        *out = neg ? -NAN : NAN;
        return 1;
    }
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (ed == 0)
            return 0;
    }
    if (i != n)
        return 0;
    char *copy = malloc(n + 1);
    memcpy(copy, s, n), copy[n] = '\0';
    *out = strtod(copy, NULL);
    free(copy);
    return 1;
}

static int same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) && !signbit(a) == !signbit(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static long mismatches;

static void compare(const char *s, size_t n)
{
    double want = 0, got = 0;
    const int wok = ref_float(s, n, &want), gok = ts_parse_float64(s, n, &got);
    if (wok != gok || (wok && !same_double(want, got))) {
        if (mismatches++ < 10)
            CHECK(0, "\"%.*s\": reference ok=%d %.17g, ts_parse_float64 ok=%d %.17g", (int)(n > 200 ? 200 : n), s,
                  wok, want, gok, got);
    } else {
        ts_test_passed++;
    }
}


/* ---- hand-checked values ---------------------------------------------------------------------------------- */

static void test_known(void)
{
    static const struct {
        const char *s;
        uint64_t bits;
    } cases[] = {
        {"0", 0},
        {"-0", UINT64_C(0x8000000000000000)},
        {"0.1", UINT64_C(0x3FB999999999999A)},
        {"1", UINT64_C(0x3FF0000000000000)},
        {"1.", UINT64_C(0x3FF0000000000000)},
        {".5", UINT64_C(0x3FE0000000000000)},
        {"+2.5e0", UINT64_C(0x4004000000000000)},
        {"9007199254740993", UINT64_C(0x4340000000000000)},        /* 2^53 + 1: a tie, to even = 2^53 */
        {"9007199254740995", UINT64_C(0x4340000000000002)},        /* 2^53 + 3: a tie, to even = 2^53 + 4 */
        {"1.7976931348623157e308", UINT64_C(0x7FEFFFFFFFFFFFFF)},  /* DBL_MAX */
        {"1.7976931348623159e308", UINT64_C(0x7FF0000000000000)},  /* past the rounding boundary: inf */
        {"4.9406564584124654e-324", 1},                            /* the smallest subnormal */
        {"2.4703282292062327e-324", 0},                            /* just below half of it: 0 */
        {"2.4703282292062328e-324", 1},                            /* just above half: rounds up */
        {"2.2250738585072011e-308", UINT64_C(0x000FFFFFFFFFFFFF)}, /* the largest subnormal */
        {"1e23", UINT64_C(0x44B52D02C7E14AF6)},                    /* 10^23 is not exact in a double */
        {"1e22", UINT64_C(0x4480F0CF064DD592)},                    /* the largest exact power of ten */
        {"123456789012345678901234567890", UINT64_C(0x45F8EE90FF6C373E)},
        {"1e400", UINT64_C(0x7FF0000000000000)},
        {"-1e-400", UINT64_C(0x8000000000000000)},
        {"0e99999999999999999999999", 0},
        {"INF", UINT64_C(0x7FF0000000000000)},
        {"-Infinity", UINT64_C(0xFFF0000000000000)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = -12345;
        const int ok = ts_parse_float64(cases[i].s, strlen(cases[i].s), &v);
        uint64_t bits;
        memcpy(&bits, &v, 8);
        CHECK(ok && bits == cases[i].bits, "\"%s\" -> ok=%d bits %016llx, expected %016llx", cases[i].s, ok,
              (unsigned long long)bits, (unsigned long long)cases[i].bits);
    }
    double v;
    CHECK(ts_parse_float64("nan", 3, &v) && isnan(v) && !signbit(v), "nan");
    CHECK(ts_parse_float64("-NaN", 4, &v) && isnan(v) && signbit(v), "-NaN keeps its sign");
    static const char *const bad[] = {"", "+", "-", ".", "e5", ".e5", "1e", "1e+", "1.5e-", "1..5", "1.2.3",
                                      "--1", "+-1", " 1", "1 ", "1,5", "0x10", "0x1p3", "infinit", "nana", "in",
                                      "1e5.5", "1f", "1d", "five", "nan(1)", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double out = 42;
        CHECK(!ts_parse_float64(bad[i], strlen(bad[i]), &out) && out == 42, "\"%s\" must be rejected untouched",
              bad[i]);
    }
    /* the length bounds the view: digits past it are not read */
    CHECK(ts_parse_float64("1.25999", 4, &v) && v == 1.25, "a prefix of 4 bytes -> %g", v);
    CHECK(!ts_parse_float64("1e5", 2, &v), "\"1e\" is incomplete");
}

/* Long inputs: more digits than the slow path's buffer keeps, ties decided by a digit far away. */
static void test_long(void)
{
    enum { N = 3000 };
    char *s = malloc(N + 64);
    /* 0.000...0001 with 1000 zeros and a tail */
    memset(s, '0', N);
    s[1] = '.';
    s[1002] = '1';
    compare(s, 1003);
    /* 1000-digit integers of random digits */
    ts_test_rng r = ts_rng_seed(99);
    for (int it = 0; it < 2000; it++) {
        const size_t n = 1 + ts_rng_below(&r, N);
        for (size_t k = 0; k < n; k++)
            s[k] = (char)('0' + ts_rng_below(&r, 10));
        if (ts_rng_below(&r, 2))
            s[ts_rng_below(&r, n)] = '.';
        size_t m = n;
        if (ts_rng_below(&r, 2))
            m += (size_t)snprintf(s + n, 32, "e%d", (int)ts_rng_range(&r, -3400, 400));
        compare(s, m);
    }
    /* exact midpoints between neighbouring doubles (exact in long double): ties to even, and one digit past the
     * tie (at position ~1000) decides upward; the digits come from glibc's exact printf */
    for (int it = 0; it < 3000; it++) {
        uint64_t bits = ts_rng_next(&r) & UINT64_C(0x7FEFFFFFFFFFFFFF);
        if (it % 3 == 0)
            bits &= UINT64_C(0x000FFFFFFFFFFFFF); /* subnormals: the longest expansions */
        double x;
        memcpy(&x, &bits, 8);
        const long double mid = (long double)x + ((long double)nextafter(x, INFINITY) - (long double)x) / 2;
        int n = snprintf(s, N, "%.1100Le", mid);
        compare(s, (size_t)n);
        char *e = strchr(s, 'e');
        memcpy(e - 3, "001", 3);
        compare(s, (size_t)n);
        /* positional notation: up to ~1400 digits for subnormal midpoints */
        n = snprintf(s, N, "%.1100Lf", mid);
        compare(s, (size_t)n);
    }
    free(s);
}

/* ---- random strings --------------------------------------------------------------------------------------- */

static void test_random(long count)
{
    ts_test_rng r = ts_rng_seed(2024);
    char buf[128];
    for (long it = 0; it < count; it++) {
        int n;
        switch (it % 6) {
        case 0: { /* a random double printed at a random precision */
            uint64_t bits = ts_rng_next(&r);
            double x;
            memcpy(&x, &bits, 8);
            if (isnan(x))
                x = 1.5;
            const int prec = (int)ts_rng_range(&r, 1, 20);
            n = snprintf(buf, sizeof buf, it % 4 ? "%.*g" : "%.*e", prec, x);
            break;
        }
        case 1: { /* short decimal numbers of the kind CSV files hold */
            n = snprintf(buf, sizeof buf, "%s%lld.%0*lld", ts_rng_below(&r, 4) ? "" : "-",
                         (long long)ts_rng_below(&r, 1000000000), (int)ts_rng_range(&r, 1, 9),
                         (long long)ts_rng_below(&r, 1000000000));
            break;
        }
        case 2: { /* digit strings with a point somewhere and an exponent: every path of the parser */
            const int nd = (int)ts_rng_range(&r, 1, 40);
            n = 0;
            if (ts_rng_below(&r, 3) == 0)
                buf[n++] = ts_rng_below(&r, 2) ? '-' : '+';
            const int point = (int)ts_rng_range(&r, -1, nd);
            for (int k = 0; k < nd; k++) {
                if (k == point)
                    buf[n++] = '.';
                buf[n++] = (char)('0' + (ts_rng_below(&r, 4) ? ts_rng_below(&r, 10) : 0));
            }
            if (ts_rng_below(&r, 2))
                n += snprintf(buf + n, sizeof buf - (size_t)n, "%c%d", ts_rng_below(&r, 2) ? 'e' : 'E',
                              (int)ts_rng_range(&r, -340, 330));
            break;
        }
        case 3: { /* small exponents: Clinger's fast path and its boundaries (10^22, 2^53) */
            const uint64_t m = ts_rng_below(&r, 3) ? ts_rng_below(&r, UINT64_C(1) << 54) : ts_rng_below(&r, 1000);
            n = snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)m, (int)ts_rng_range(&r, -45, 45));
            break;
        }
        case 4: { /* integers near 2^53 written with a fraction of zeros */
            const uint64_t m = (UINT64_C(1) << 53) + ts_rng_below(&r, 64) - 32;
            n = snprintf(buf, sizeof buf, "%llu.%0*de%d", (unsigned long long)m, (int)ts_rng_below(&r, 6), 0,
                         (int)ts_rng_range(&r, -30, 30));
            break;
        }
        default: { /* garbage over the grammar's alphabet */
            static const char alpha[] = "0123456789.+-eEinfatyNIFATY x";
            n = (int)ts_rng_below(&r, 12);
            for (int k = 0; k < n; k++)
                buf[k] = alpha[ts_rng_below(&r, sizeof alpha - 1)];
            buf[n] = '\0';
        }
        }
        compare(buf, (size_t)n);
    }
}

/* ---- speed (informational) --------------------------------------------------------------------------------- */

static void report_speed(void)
{
    enum { N = 1000000 };
    static char text[N][24];
    ts_test_rng r = ts_rng_seed(7);
    for (int i = 0; i < N; i++)
        snprintf(text[i], sizeof text[i], "%lld.%02d", (long long)ts_rng_below(&r, 100000), (int)ts_rng_below(&r, 100));
    static double a[N], b[N];
    clock_t t0 = clock();
    for (int i = 0; i < N; i++)
        if (!ts_parse_float64(text[i], strlen(text[i]), &a[i]))
            a[i] = -1;
    clock_t t1 = clock();
    for (int i = 0; i < N; i++)
        b[i] = strtod(text[i], NULL);
    clock_t t2 = clock();
    printf("ts_parse_float64: %.1f ns/value, strtod: %.1f ns/value\n", (double)(t1 - t0) / CLOCKS_PER_SEC * 1e9 / N,
           (double)(t2 - t1) / CLOCKS_PER_SEC * 1e9 / N);
    CHECK(memcmp(a, b, sizeof a) == 0, "timed values differ from strtod's");
}

/* ---- booleans --------------------------------------------------------------------------------------------- */

static void test_bool(void)
{
    static const struct {
        const char *s;
        int ok, v;
    } cases[] = {{"true", 1, 1},  {"TRUE", 1, 1},  {"True", 1, 1},  {"t", 1, 1},     {"T", 1, 1},
                 {"1", 1, 1},     {"false", 1, 0}, {"FALSE", 1, 0}, {"fAlSe", 1, 0}, {"f", 1, 0},
                 {"F", 1, 0},     {"0", 1, 0},     {"", 0, 0},      {"yes", 0, 0},   {"no", 0, 0},
                 {"tru", 0, 0},   {"truee", 0, 0}, {"2", 0, 0},     {"01", 0, 0},    {" true", 0, 0},
                 {"true ", 0, 0}, {"-1", 0, 0},    {"fals", 0, 0},  {"TRUE1", 0, 0}, {"4", 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int v = 7;
        const int ok = ts_parse_bool(cases[i].s, strlen(cases[i].s), &v);
        CHECK(ok == cases[i].ok && (!ok || v == cases[i].v) && (ok || v == 7), "bool \"%s\": ok=%d v=%d",
              cases[i].s, ok, v);
    }
    int v;
    CHECK(ts_parse_bool("false", 1, &v) && v == 0, "a one-byte view of \"false\" is \"f\"");
}

int main(int argc, char **argv)
{
    const long count = argc > 1 ? atol(argv[1]) : 3000000;
    test_known();
    test_bool();
    test_long();
    test_random(count);
    CHECK(mismatches == 0, "%ld mismatches against strtod", mismatches);
    report_speed();
    return TS_TEST_DONE("test_parse_float");
}
