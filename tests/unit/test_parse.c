/* kernels/ts_parse: integers, decimals, trimming and case folding exactly as domain.md defines them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ts_parse.h"
#include "ts_test.h"

/* ---- naive references ---------------------------------------------------------------------------------- */

#include "ts_naive_parse.h"

static int pint(const char *s, int64_t *out) { return ts_parse_int64(s, strlen(s), out); }
static int pdec(const char *s, int64_t *out) { return ts_parse_decimal(s, strlen(s), 2, 16, out); }

/* ---- ts_parse_int64 ------------------------------------------------------------------------------------- */

static void test_int64_cases(void)
{
    static const struct {
        const char *s;
        int ok;
        int64_t v;
    } cases[] = {
        {"0", 1, 0},
        {"-0", 1, 0},
        {"+0", 1, 0},
        {"42", 1, 42},
        {"+42", 1, 42},
        {"-42", 1, -42},
        {"007", 1, 7},
        {"-0000000000000000000000000001", 1, -1},
        {"00000000000000000000009223372036854775807", 1, INT64_MAX},
        {"9223372036854775807", 1, INT64_MAX},
        {"+9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"-9223372036854775807", 1, -INT64_MAX},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775809", 0, 0},
        {"9223372036854775817", 0, 0},
        {"18446744073709551616", 0, 0},
        {"99999999999999999999", 0, 0},
        {"1e6", 0, 0},
        {"0x1F", 0, 0},
        {"12.5", 0, 0},
        {"--5", 0, 0},
        {"+-5", 0, 0},
        {"+", 0, 0},
        {"-", 0, 0},
        {"", 0, 0},
        {" 5", 0, 0},
        {"5 ", 0, 0},
        {"5-", 0, 0},
        {"1,000", 0, 0},
        {"٣", 0, 0},
        {"12a", 0, 0},
        {"/", 0, 0},
        {":", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t out = 0x5a5a;
        const int ok = pint(cases[i].s, &out);
        CHECK(ok == cases[i].ok, "ts_parse_int64(\"%s\") returned %d", cases[i].s, ok);
        if (cases[i].ok)
            CHECK(out == cases[i].v, "ts_parse_int64(\"%s\") = %" PRId64 ", expected %" PRId64, cases[i].s, out,
                  cases[i].v);
        else
            CHECK(out == 0x5a5a, "ts_parse_int64(\"%s\") failed but wrote %" PRId64, cases[i].s, out);
    }
    /* the length bounds the field: "123" followed by more digits in memory */
    int64_t out;
    CHECK(ts_parse_int64("12345", 3, &out) && out == 123, "prefix of 3 bytes -> %" PRId64, out);
    CHECK(!ts_parse_int64("-5", 1, &out), "just the sign of \"-5\"");
}

static int64_t random_int64(ts_test_rng *r)
{
    /* spread over magnitudes: a random number of significant bits, random sign */
    const int bits = (int)ts_rng_below(r, 64);
    uint64_t v = ts_rng_next(r);
    v = bits == 0 ? 0 : v >> (64 - bits);
    return ts_rng_below(r, 2) ? (int64_t)v : -(int64_t)(v >> 1) - (int64_t)ts_rng_below(r, 2);
}

static void test_int64_random(void)
{
    ts_test_rng r = ts_rng_seed(12345);
    long bad = 0;
    for (int it = 0; it < 200000; it++) {
        const int64_t v = random_int64(&r);
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
        if (it % 3 == 0 && v >= 0) /* explicit plus sign */
            n = snprintf(buf, sizeof buf, "+%lld", (long long)v);
        int64_t out = 0;
        if ((!ts_parse_int64(buf, (size_t)n, &out) || out != v) && bad++ < 5)
            CHECK(0, "round trip of %s gave %" PRId64, buf, out);
    }
    CHECK(bad == 0, "%ld int64 round-trip failures", bad);

    /* random short strings over a small alphabet, against the reference */
    static const char alpha[] = "0123456789+-.ex 9";
    bad = 0;
    for (int it = 0; it < 200000; it++) {
        char buf[24];
        const size_t len = ts_rng_below(&r, 22);
        for (size_t k = 0; k < len; k++)
            buf[k] = it % 2 ? (char)('0' + ts_rng_below(&r, 10)) : alpha[ts_rng_below(&r, sizeof alpha - 1)];
        if (it % 2 && len && ts_rng_below(&r, 3) == 0)
            buf[0] = ts_rng_below(&r, 2) ? '-' : '+';
        int64_t want = 0, got = 0;
        const int wok = ref_int64(buf, len, &want), gok = ts_parse_int64(buf, len, &got);
        if ((wok != gok || (wok && want != got)) && bad++ < 5)
            CHECK(0, "\"%.*s\": reference ok=%d %" PRId64 ", ts_parse_int64 ok=%d %" PRId64, (int)len, buf, wok,
                  want, gok, got);
    }
    CHECK(bad == 0, "%ld int64 mismatches against the reference", bad);

    /* every value near the limits */
    bad = 0;
    for (int64_t d = 0; d < 2000; d++) {
        const int64_t vals[2] = {INT64_MAX - d, INT64_MIN + d};
        for (int k = 0; k < 2; k++) {
            char buf[32];
            const int n = snprintf(buf, sizeof buf, "%lld", (long long)vals[k]);
            int64_t out = 0;
            if ((!ts_parse_int64(buf, (size_t)n, &out) || out != vals[k]) && bad++ < 5)
                CHECK(0, "limit value %s gave %" PRId64, buf, out);
        }
        /* one past the limits, by d + 1 */
        char buf[32];
        int n = snprintf(buf, sizeof buf, "9223372036854%06lld", (long long)(775808 + d));
        int64_t out;
        if (ts_parse_int64(buf, (size_t)n, &out) && bad++ < 5)
            CHECK(0, "overflowing %s accepted as %" PRId64, buf, out);
        n = snprintf(buf, sizeof buf, "-9223372036854%06lld", (long long)(775809 + d));
        if (ts_parse_int64(buf, (size_t)n, &out) && bad++ < 5)
            CHECK(0, "underflowing %s accepted as %" PRId64, buf, out);
    }
    CHECK(bad == 0, "%ld failures near the int64 limits", bad);
}

/* ---- ts_parse_decimal ----------------------------------------------------------------------------------- */

static void test_decimal_cases(void)
{
    static const struct {
        const char *s;
        int ok;
        int64_t v;
    } cases[] = {
        {"15230.50", 1, 1523050},
        {"15230.5", 1, 1523050},
        {"15230", 1, 1523000},
        {"-5.00", 1, -500},
        {"+1.2", 1, 120},
        {"0", 1, 0},
        {"0.01", 1, 1},
        {"-0.01", 1, -1},
        {"00012.30", 1, 1230},
        {"9999999999999999.99", 1, INT64_C(999999999999999999)},
        {"1234567890123456", 1, INT64_C(123456789012345600)},
        {"12345678901234567", 0, 0},
        {"00000000000000001", 0, 0}, /* 17 integer digits, even if they are zeros */
        {"15230.", 0, 0},
        {".5", 0, 0},
        {"-.5", 0, 0},
        {"1e5", 0, 0},
        {"15230.505", 0, 0},
        {"15230.500", 0, 0},
        {"1.2.3", 0, 0},
        {"", 0, 0},
        {"+", 0, 0},
        {"-", 0, 0},
        {".", 0, 0},
        {"--1", 0, 0},
        {"1,5", 0, 0},
        {" 1.5", 0, 0},
        {"1.5 ", 0, 0},
        {"0x10", 0, 0},
        {"1.-5", 0, 0},
        {"1.+5", 0, 0},
        {"NaN", 0, 0},
        {"inf", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t out = 0x5a5a;
        const int ok = pdec(cases[i].s, &out);
        CHECK(ok == cases[i].ok, "ts_parse_decimal(\"%s\", 2, 16) returned %d (value %" PRId64 ")", cases[i].s, ok,
              out);
        if (cases[i].ok && ok)
            CHECK(out == cases[i].v, "ts_parse_decimal(\"%s\") = %" PRId64 ", expected %" PRId64, cases[i].s, out,
                  cases[i].v);
    }
    /* other scales and digit limits */
    int64_t out;
    CHECK(ts_parse_decimal("12", 2, 0, 5, &out) && out == 12, "scale 0");
    CHECK(!ts_parse_decimal("1.2", 3, 0, 5, &out), "scale 0 takes no fraction");
    CHECK(ts_parse_decimal("1.234", 5, 3, 5, &out) && out == 1234, "scale 3");
    CHECK(ts_parse_decimal("1.2", 3, 9, 5, &out) && out == 1200000000, "scale 9 -> %" PRId64, out);
    CHECK(ts_parse_decimal("99999", 5, 2, 5, &out) && out == 9999900, "5 digits at max 5");
    CHECK(!ts_parse_decimal("999999", 6, 2, 5, &out), "6 digits at max 5");
    CHECK(ts_parse_decimal("1.25", 3, 2, 16, &out) && out == 120, "length bounds the field: \"1.2\" -> %" PRId64,
          out);
}

static void test_decimal_random(void)
{
    ts_test_rng r = ts_rng_seed(777);
    long bad = 0;
    /* formatted values: integer part of 0..17 digits, 0..3 fraction digits */
    for (int it = 0; it < 200000; it++) {
        char buf[64];
        size_t n = 0;
        const int sign = (int)ts_rng_below(&r, 4);
        if (sign == 1)
            buf[n++] = '-';
        else if (sign == 2)
            buf[n++] = '+';
        const int nint = (int)ts_rng_below(&r, 18), nfrac = (int)ts_rng_below(&r, 4);
        for (int k = 0; k < nint; k++)
            buf[n++] = (char)('0' + ts_rng_below(&r, 10));
        if (nfrac || ts_rng_below(&r, 8) == 0)
            buf[n++] = '.';
        for (int k = 0; k < nfrac; k++)
            buf[n++] = (char)('0' + ts_rng_below(&r, 10));
        if (n && ts_rng_below(&r, 20) == 0) /* an odd byte somewhere */
            buf[ts_rng_below(&r, n)] = "e.x+- "[ts_rng_below(&r, 6)];
        if (n == 0 && ts_rng_below(&r, 2))
            buf[n++] = '0';
        int64_t want = 0, got = 0;
        const int wok = ref_decimal(buf, n, 2, 16, &want), gok = ts_parse_decimal(buf, n, 2, 16, &got);
        if ((wok != gok || (wok && want != got)) && bad++ < 5)
            CHECK(0, "\"%.*s\": reference ok=%d %" PRId64 ", ts_parse_decimal ok=%d %" PRId64, (int)n, buf, wok,
                  want, gok, got);
    }
    CHECK(bad == 0, "%ld decimal mismatches against the reference (scale 2, 16 digits)", bad);

    /* round trip of random cents through "%lld.%02lld" and "%lld.%lld" (one fraction digit when it is a multiple
       of 10) */
    bad = 0;
    for (int it = 0; it < 100000; it++) {
        const int64_t cents = (int64_t)(ts_rng_next(&r) % UINT64_C(1000000000000000000)) *
                              (ts_rng_below(&r, 2) ? 1 : -1) / (int64_t)(1 + ts_rng_below(&r, 1000000));
        const int64_t a = cents < 0 ? -cents : cents;
        char buf[48];
        int n;
        if (a % 10 == 0 && ts_rng_below(&r, 2))
            n = snprintf(buf, sizeof buf, "%s%lld.%lld", cents < 0 ? "-" : "", (long long)(a / 100),
                         (long long)(a % 100 / 10));
        else
            n = snprintf(buf, sizeof buf, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(a / 100),
                         (long long)(a % 100));
        int64_t got = 0;
        if ((!ts_parse_decimal(buf, (size_t)n, 2, 16, &got) || got != cents) && bad++ < 5)
            CHECK(0, "round trip of %s gave %" PRId64 ", expected %" PRId64, buf, got, cents);
    }
    CHECK(bad == 0, "%ld decimal round-trip failures", bad);

    /* other scales / digit limits well inside int64 */
    bad = 0;
    for (int it = 0; it < 100000; it++) {
        const int scale = (int)ts_rng_below(&r, 5), max_int = 1 + (int)ts_rng_below(&r, 10);
        char buf[40];
        size_t n = 0;
        if (ts_rng_below(&r, 3) == 0)
            buf[n++] = '-';
        const int nint = (int)ts_rng_below(&r, 12), nfrac = (int)ts_rng_below(&r, 6);
        for (int k = 0; k < nint; k++)
            buf[n++] = (char)('0' + ts_rng_below(&r, 10));
        if (nfrac)
            buf[n++] = '.';
        for (int k = 0; k < nfrac; k++)
            buf[n++] = (char)('0' + ts_rng_below(&r, 10));
        int64_t want = 0, got = 0;
        const int wok = ref_decimal(buf, n, scale, max_int, &want),
                  gok = ts_parse_decimal(buf, n, scale, max_int, &got);
        if ((wok != gok || (wok && want != got)) && bad++ < 5)
            CHECK(0, "\"%.*s\" scale %d max %d: reference ok=%d %" PRId64 ", got ok=%d %" PRId64, (int)n, buf, scale,
                  max_int, wok, want, gok, got);
    }
    CHECK(bad == 0, "%ld decimal mismatches at other scales", bad);
}

/* ---- ts_trim and ts_fold_case --------------------------------------------------------------------------- */

static void check_trim(const char *in, size_t in_len, size_t want_off, size_t want_len)
{
    const char *p = in;
    size_t n = in_len;
    ts_trim(&p, &n);
    CHECK(p == in + want_off && n == want_len, "trim of \"%.*s\": offset %td len %zu, expected %zu %zu",
          (int)in_len, in, p - in, n, want_off, want_len);
}

static void test_trim(void)
{
    check_trim("abc", 3, 0, 3);
    check_trim("  abc  ", 7, 2, 3);
    check_trim("\t a b \t", 7, 2, 3);
    check_trim("\rabc\r", 5, 0, 5);   /* \r is not trimmed */
    check_trim("\nabc\n", 5, 0, 5);   /* nor \n */
    check_trim(" \r ", 3, 1, 1);
    check_trim("\v\fx", 3, 0, 3);     /* nor vertical tab / form feed */
    check_trim("   ", 3, 3, 0);
    check_trim("\t", 1, 1, 0);
    check_trim("", 0, 0, 0);
    check_trim("a", 1, 0, 1);
    check_trim(" a b ", 5, 1, 3);     /* inner blanks stay */
    check_trim("x  ", 1, 0, 1);       /* the view's length is authoritative */

    ts_test_rng r = ts_rng_seed(99);
    long bad = 0;
    for (int it = 0; it < 20000; it++) {
        char buf[16];
        const size_t n = ts_rng_below(&r, 16);
        for (size_t k = 0; k < n; k++)
            buf[k] = " \t\r\nab"[ts_rng_below(&r, 6)];
        size_t a = 0, b = n;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
            a++;
        while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
            b--;
        const char *p = buf;
        size_t len = n;
        ts_trim(&p, &len);
        if ((p != buf + a || len != b - a) && bad++ < 5)
            CHECK(0, "random trim mismatch");
    }
    CHECK(bad == 0, "%ld random trim mismatches", bad);
}

static void test_fold(void)
{
    char out[32];
    memset(out, '#', sizeof out);
    CHECK(ts_fold_case("Agri Culture-09_z", 17, 0, out, sizeof out) && memcmp(out, "agri culture-09_z", 17) == 0,
          "lower: %.17s", out);
    CHECK(out[17] == '#', "wrote past len");
    CHECK(ts_fold_case("arg Bra@[`{", 11, 1, out, sizeof out) && memcmp(out, "ARG BRA@[`{", 11) == 0, "upper: %.11s",
          out);
    /* non-ASCII bytes are left alone (é in UTF-8 = C3 A9, and Latin-1 é = E9) */
    const char utf[] = "\xc3\xa9\xe9Z";
    CHECK(ts_fold_case(utf, 4, 0, out, sizeof out) && memcmp(out, "\xc3\xa9\xe9z", 4) == 0, "non-ASCII lower");
    CHECK(ts_fold_case(utf, 4, 1, out, sizeof out) && memcmp(out, "\xc3\xa9\xe9Z", 4) == 0, "non-ASCII upper");
    CHECK(ts_fold_case("abcd", 4, 1, out, 4) && memcmp(out, "ABCD", 4) == 0, "len == cap fits");
    CHECK(!ts_fold_case("abcde", 5, 1, out, 4), "len > cap refused");
    CHECK(ts_fold_case("", 0, 1, out, 0), "empty");

    /* all 256 bytes */
    long bad = 0;
    for (int c = 0; c < 256; c++) {
        const char in = (char)c;
        char lo, up;
        ts_fold_case(&in, 1, 0, &lo, 1);
        ts_fold_case(&in, 1, 1, &up, 1);
        const int want_lo = c >= 'A' && c <= 'Z' ? c + 32 : c, want_up = c >= 'a' && c <= 'z' ? c - 32 : c;
        if (((unsigned char)lo != want_lo || (unsigned char)up != want_up) && bad++ < 5)
            CHECK(0, "byte %d folded to %d / %d", c, (unsigned char)lo, (unsigned char)up);
    }
    CHECK(bad == 0, "%ld byte folding mismatches", bad);
}

int main(void)
{
    test_int64_cases();
    test_int64_random();
    test_decimal_cases();
    test_decimal_random();
    test_trim();
    test_fold();
    return TS_TEST_DONE("test_parse");
}
