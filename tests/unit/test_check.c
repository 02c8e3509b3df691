/* kernels/ts_check: vectorized validation over a selection vector, against a naive per-row reference.
 * For every kernel and batch: survivors keep their selection order, failing rows get the right reason,
 * rows outside the selection are untouched, and survivors carry the parsed value. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_check.h"
#include "ts_test.h"

#define MAXN 3000
#define UNTOUCHED 0xEEEE /* reasons are 16-bit */
#define CODE 7
#define MISSING 9

static void untouch(uint16_t *reason, size_t n)
{
    for (size_t i = 0; i < n; i++)
        reason[i] = UNTOUCHED;
}

/* ---- naive references ---------------------------------------------------------------------------------- */

#include "ts_naive_parse.h"

static int mdays(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return md[m - 1] + (m == 2 && leap);
}

static int64_t year_start[10001]; /* days since 1970-01-01 of Jan 1 of year y, by summation */

static void init_years(void)
{
    int64_t d = 0;
    for (int y = 1970; y < 10000; y++) {
        year_start[y] = d;
        for (int m = 1; m <= 12; m++)
            d += mdays(y, m);
    }
    d = 0;
    for (int y = 1969; y >= 1; y--) {
        for (int m = 1; m <= 12; m++)
            d -= mdays(y, m);
        year_start[y] = d;
    }
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + s[i] - '0';
    }
    return v;
}

static int ref_date(const char *s, size_t len, int32_t *out)
{
    int y = -1, m = -1, d = -1;
    if (len == 10 && s[4] == '-' && s[7] == '-')
        y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    else if (len == 10 && s[4] == '/' && s[7] == '/')
        y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    else if (len == 10 && s[2] == '/' && s[5] == '/')
        d = num(s, 2), m = num(s + 3, 2), y = num(s + 6, 4);
    else if (len == 8)
        y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    else
        return 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays(y, m))
        return 0;
    int64_t v = year_start[y];
    for (int k = 1; k < m; k++)
        v += mdays(y, k);
    *out = (int32_t)(v + d - 1);
    return 1;
}

/* ---- batch plumbing ------------------------------------------------------------------------------------- */

typedef struct batch {
    size_t n;
    char pool[MAXN][48];
    const char *ptr[MAXN];
    uint32_t len[MAXN];
    uint32_t sel[MAXN], sel0[MAXN];
    size_t nsel;
    uint16_t reason[MAXN];
} batch;

static batch B;

/* A random selection: a subset of the rows, ascending or shuffled; the reasons start UNTOUCHED. */
static void make_selection(ts_test_rng *r)
{
    B.nsel = 0;
    const uint64_t keep_pct = ts_rng_below(r, 101);
    for (size_t i = 0; i < B.n; i++)
        if (ts_rng_below(r, 100) < keep_pct)
            B.sel[B.nsel++] = (uint32_t)i;
    if (ts_rng_below(r, 2))
        for (size_t k = B.nsel; k > 1; k--) {
            const size_t j = ts_rng_below(r, k);
            const uint32_t t = B.sel[k - 1];
            B.sel[k - 1] = B.sel[j], B.sel[j] = t;
        }
    memcpy(B.sel0, B.sel, sizeof B.sel[0] * B.nsel);
    untouch(B.reason, sizeof B.reason / sizeof B.reason[0]);
}

static void set_field(size_t i, const char *s, size_t len)
{
    if (len > sizeof B.pool[i])
        len = sizeof B.pool[i];
    memcpy(B.pool[i], s, len);
    B.ptr[i] = B.pool[i], B.len[i] = (uint32_t)len;
}

/* Compares the kernel's selection and reasons with the expectation built from ok[] (per row, for selected rows).
 * Returns the number of mismatches (each reported once, at most a few). */
static long compare_selection(const char *what, size_t got_n, const int *ok, const uint8_t *want_reason)
{
    long bad = 0;
    size_t k = 0;
    for (size_t j = 0; j < B.nsel; j++) {
        const uint32_t i = B.sel0[j];
        if (ok[i]) {
            if ((k >= got_n || B.sel[k] != i) && bad++ < 3)
                CHECK(0, "%s: survivor %zu should be row %u, got %u", what, k, i, k < got_n ? B.sel[k] : 0u);
            k++;
        } else if (B.reason[i] != want_reason[i] && bad++ < 3) {
            CHECK(0, "%s: row %u (\"%.*s\") reason %u, expected %u", what, i, (int)B.len[i], B.ptr[i], B.reason[i],
                  want_reason[i]);
        }
    }
    if (got_n != k && bad++ < 3)
        CHECK(0, "%s: kernel kept %zu rows, expected %zu", what, got_n, k);
    /* survivors never get a reason; rows outside the selection are untouched */
    static uint8_t in_sel[MAXN];
    memset(in_sel, 0, sizeof in_sel);
    for (size_t j = 0; j < B.nsel; j++)
        in_sel[B.sel0[j]] = 1;
    for (size_t i = 0; i < B.n; i++) {
        const int selected = in_sel[i];
        if ((!selected || ok[i]) && B.reason[i] != UNTOUCHED && bad++ < 3)
            CHECK(0, "%s: row %zu (selected=%d) got reason %u", what, i, selected, B.reason[i]);
    }
    return bad;
}

/* ---- generators ----------------------------------------------------------------------------------------- */

static size_t gen_int(ts_test_rng *r, char *b)
{
    switch (ts_rng_below(r, 6)) {
    case 0: return (size_t)sprintf(b, "%lld", (long long)(int64_t)ts_rng_next(r));
    case 1: return (size_t)sprintf(b, "%lld", (long long)ts_rng_range(r, -1000, 1000));
    case 2: return (size_t)sprintf(b, "+%llu", (unsigned long long)(ts_rng_next(r) >> ts_rng_below(r, 64)));
    case 3: return (size_t)sprintf(b, "-%llu", (unsigned long long)(ts_rng_next(r) >> ts_rng_below(r, 64)));
    default: {
        static const char alpha[] = "0123456789-+.ex ";
        const size_t n = ts_rng_below(r, 8);
        for (size_t k = 0; k < n; k++)
            b[k] = alpha[ts_rng_below(r, sizeof alpha - 1)];
        return n;
    }
    }
}

static size_t gen_date(ts_test_rng *r, char *b)
{
    const int y = (int)ts_rng_range(r, 0, 10000), m = (int)ts_rng_range(r, 0, 13), d = (int)ts_rng_range(r, 0, 32);
    const int yy = y % 10000;
    switch (ts_rng_below(r, 7)) {
    case 0: return (size_t)sprintf(b, "%04d-%02d-%02d", yy, m, d);
    case 1: return (size_t)sprintf(b, "%02d/%02d/%04d", d, m, yy);
    case 2: return (size_t)sprintf(b, "%04d/%02d/%02d", yy, m, d);
    case 3: return (size_t)sprintf(b, "%04d%02d%02d", yy, m, d);
    case 4: return (size_t)sprintf(b, "%04d-%d-%d", yy, m, d); /* wrong digit counts (sometimes right) */
    case 5: { /* a valid 2021..2025 date */
        const int y2 = (int)ts_rng_range(r, 2021, 2025), m2 = (int)ts_rng_range(r, 1, 12);
        return (size_t)sprintf(b, "%04d-%02d-%02d", y2, m2, (int)ts_rng_range(r, 1, mdays(y2, m2)));
    }
    default: {
        static const char alpha[] = "0123456789-/ xN";
        const size_t n = ts_rng_below(r, 12);
        for (size_t k = 0; k < n; k++)
            b[k] = alpha[ts_rng_below(r, sizeof alpha - 1)];
        return n;
    }
    }
}

static size_t gen_decimal(ts_test_rng *r, char *b)
{
    if (ts_rng_below(r, 10) == 0)
        return 0; /* empty: missing */
    size_t n = 0;
    const int sign = (int)ts_rng_below(r, 6);
    if (sign == 0)
        b[n++] = '-';
    else if (sign == 1)
        b[n++] = '+';
    const int nint = (int)ts_rng_below(r, 18), nfrac = (int)ts_rng_below(r, 4);
    for (int k = 0; k < nint; k++)
        b[n++] = ts_rng_below(r, 3) == 0 ? '0' : (char)('0' + ts_rng_below(r, 10));
    if (nfrac || ts_rng_below(r, 10) == 0)
        b[n++] = '.';
    for (int k = 0; k < nfrac; k++)
        b[n++] = ts_rng_below(r, 2) ? '0' : (char)('0' + ts_rng_below(r, 10));
    if (n && ts_rng_below(r, 15) == 0)
        b[ts_rng_below(r, n)] = "e x,"[ts_rng_below(r, 4)];
    return n;
}

/* ---- tests ---------------------------------------------------------------------------------------------- */

static int ok[MAXN];
static uint8_t want_reason[MAXN];

static void test_int64(ts_test_rng *r)
{
    static int64_t out[MAXN], want[MAXN];
    long bad = 0;
    for (int round = 0; round < 200; round++) {
        B.n = ts_rng_below(r, MAXN + 1);
        for (size_t i = 0; i < B.n; i++) {
            char buf[48];
            set_field(i, buf, gen_int(r, buf));
            ok[i] = ref_int64(B.ptr[i], B.len[i], &want[i]);
            want_reason[i] = CODE;
        }
        make_selection(r);
        const size_t got = ts_check_int64(B.ptr, B.len, B.sel, B.nsel, out, B.reason, CODE);
        bad += compare_selection("ts_check_int64", got, ok, want_reason);
        for (size_t k = 0; k < got && k < B.nsel; k++)
            if (ok[B.sel[k]] && out[B.sel[k]] != want[B.sel[k]] && bad++ < 3)
                CHECK(0, "ts_check_int64 value of \"%.*s\": %" PRId64, (int)B.len[B.sel[k]], B.ptr[B.sel[k]],
                      out[B.sel[k]]);
    }
    CHECK(bad == 0, "ts_check_int64: %ld mismatches", bad);
}

static void test_date(ts_test_rng *r)
{
    static int32_t out[MAXN], want[MAXN];
    long bad = 0, nvalid = 0;
    for (int round = 0; round < 200; round++) {
        B.n = ts_rng_below(r, MAXN + 1);
        for (size_t i = 0; i < B.n; i++) {
            char buf[48];
            set_field(i, buf, gen_date(r, buf));
            ok[i] = ref_date(B.ptr[i], B.len[i], &want[i]);
            nvalid += ok[i];
            want_reason[i] = CODE;
        }
        make_selection(r);
        const size_t got = ts_check_date(B.ptr, B.len, B.sel, B.nsel, out, B.reason, CODE);
        bad += compare_selection("ts_check_date", got, ok, want_reason);
        for (size_t k = 0; k < got && k < B.nsel; k++)
            if (ok[B.sel[k]] && out[B.sel[k]] != want[B.sel[k]] && bad++ < 3)
                CHECK(0, "ts_check_date value of \"%.*s\": %d, expected %d", (int)B.len[B.sel[k]], B.ptr[B.sel[k]],
                      out[B.sel[k]], want[B.sel[k]]);
    }
    CHECK(bad == 0, "ts_check_date: %ld mismatches", bad);
    CHECK(nvalid > 10000, "the generator made too few valid dates (%ld)", nvalid);
}

static void test_decimal(ts_test_rng *r)
{
    static int64_t out[MAXN], want[MAXN];
    long bad = 0, nmissing = 0;
    for (int round = 0; round < 200; round++) {
        const int positive = round % 2;
        B.n = ts_rng_below(r, MAXN + 1);
        for (size_t i = 0; i < B.n; i++) {
            char buf[48];
            set_field(i, buf, gen_decimal(r, buf));
            ok[i] = ref_decimal(B.ptr[i], B.len[i], 2, 16, &want[i]) && (!positive || want[i] > 0);
            want_reason[i] = B.len[i] == 0 ? MISSING : CODE;
            nmissing += B.len[i] == 0;
        }
        make_selection(r);
        const size_t got = ts_check_decimal(B.ptr, B.len, B.sel, B.nsel, 2, 16, positive, out, B.reason, CODE, MISSING);
        bad += compare_selection(positive ? "ts_check_decimal(positive)" : "ts_check_decimal", got, ok, want_reason);
        for (size_t k = 0; k < got && k < B.nsel; k++)
            if (ok[B.sel[k]] && out[B.sel[k]] != want[B.sel[k]] && bad++ < 3)
                CHECK(0, "ts_check_decimal value of \"%.*s\": %" PRId64, (int)B.len[B.sel[k]], B.ptr[B.sel[k]],
                      out[B.sel[k]]);
    }
    CHECK(bad == 0, "ts_check_decimal: %ld mismatches", bad);
    CHECK(nmissing > 1000, "too few empty amounts generated (%ld)", nmissing);

    /* hand-checked rows: zero and negative amounts are invalid when positive, empty is missing */
    static const char *const s[] = {"0", "0.00", "-1", "", "0.01", "15230.50", "1.234", "-0.00"};
    static const uint8_t want_pos[] = {CODE, CODE, CODE, MISSING, 0, 0, CODE, CODE};
    B.n = 8;
    for (size_t i = 0; i < B.n; i++)
        set_field(i, s[i], strlen(s[i])), B.sel[i] = (uint32_t)i;
    untouch(B.reason, sizeof B.reason / sizeof B.reason[0]);
    const size_t got = ts_check_decimal(B.ptr, B.len, B.sel, 8, 2, 16, 1, out, B.reason, CODE, MISSING);
    CHECK(got == 2 && B.sel[0] == 4 && B.sel[1] == 5, "positive amounts: kept %zu rows", got);
    CHECK(out[4] == 1 && out[5] == 1523050, "values %" PRId64 " %" PRId64, out[4], out[5]);
    for (size_t i = 0; i < 8; i++)
        if (want_pos[i])
            CHECK(B.reason[i] == want_pos[i], "\"%s\": reason %u, expected %u", s[i], B.reason[i], want_pos[i]);
}

static void fold(const char *s, size_t n, int upper, char *o)
{
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        o[k] = c;
    }
}

static void test_category(ts_test_rng *r)
{
    static const char *const lower[] = {"loan", "disbursement", "repayment", "transfer", "fee", "grant"};
    static const char *const upper[] = {"ARG", "BOL", "BRA", "CHL", "COL", "CRI", "ECU", "MEX", "PER", "URY"};
    static int32_t out[MAXN], want[MAXN];
    long bad = 0, nok = 0;
    for (int round = 0; round < 200; round++) {
        const int fu = round % 2;
        const char *const *vals = fu ? upper : lower;
        const int nv = fu ? 10 : 6;
        int64_t vlen[10];
        for (int k = 0; k < nv; k++)
            vlen[k] = (int64_t)strlen(vals[k]);
        B.n = ts_rng_below(r, MAXN + 1);
        for (size_t i = 0; i < B.n; i++) {
            char buf[48];
            size_t n;
            const uint64_t kind = ts_rng_below(r, 5);
            if (kind <= 2) { /* an accepted value in random letter case, sometimes with a changed letter */
                const char *v = vals[ts_rng_below(r, (uint64_t)nv)];
                n = strlen(v);
                for (size_t k = 0; k < n; k++) {
                    char c = v[k];
                    if (ts_rng_below(r, 2))
                        c = (char)(c ^ 0x20);
                    buf[k] = c;
                }
                if (kind == 2)
                    buf[ts_rng_below(r, n)] = "xQ_1 "[ts_rng_below(r, 5)];
                if (ts_rng_below(r, 20) == 0)
                    buf[n++] = 's'; /* a longer word */
            } else if (kind == 3) { /* prefix of a value */
                const char *v = vals[ts_rng_below(r, (uint64_t)nv)];
                n = ts_rng_below(r, strlen(v));
                memcpy(buf, v, n);
            } else { /* the other list's value or a long string */
                const char *v = (fu ? lower : upper)[ts_rng_below(r, 6)];
                n = strlen(v);
                memcpy(buf, v, n);
                if (ts_rng_below(r, 4) == 0)
                    n = 40, memset(buf, 'a', n);
            }
            set_field(i, buf, n);
            char f[48];
            fold(B.ptr[i], B.len[i], fu, f);
            ok[i] = 0;
            for (int k = 0; k < nv && !ok[i]; k++)
                if ((int64_t)B.len[i] == vlen[k] && memcmp(f, vals[k], B.len[i]) == 0)
                    ok[i] = 1, want[i] = k;
            nok += ok[i];
            want_reason[i] = CODE;
        }
        make_selection(r);
        const size_t got =
            ts_check_category(B.ptr, B.len, B.sel, B.nsel, vals, vlen, nv, fu, out, B.reason, CODE);
        bad += compare_selection(fu ? "ts_check_category(upper)" : "ts_check_category(lower)", got, ok, want_reason);
        for (size_t k = 0; k < got && k < B.nsel; k++)
            if (ok[B.sel[k]] && out[B.sel[k]] != want[B.sel[k]] && bad++ < 3)
                CHECK(0, "ts_check_category code of \"%.*s\": %d, expected %d", (int)B.len[B.sel[k]],
                      B.ptr[B.sel[k]], out[B.sel[k]], want[B.sel[k]]);
    }
    CHECK(bad == 0, "ts_check_category: %ld mismatches", bad);
    CHECK(nok > 50000, "too few accepted categories generated (%ld)", nok);

    /* hand-checked: folding direction matters */
    static const char *const s[] = {"LOAN", "Fee", "arg", "ARG", "loan ", ""};
    const int64_t lv[6] = {4, 12, 9, 8, 3, 5}, uv[10] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    B.n = 6;
    for (size_t i = 0; i < 6; i++)
        set_field(i, s[i], strlen(s[i])), B.sel[i] = (uint32_t)i;
    untouch(B.reason, sizeof B.reason / sizeof B.reason[0]);
    size_t got = ts_check_category(B.ptr, B.len, B.sel, 6, lower, lv, 6, 0, out, B.reason, CODE);
    CHECK(got == 2 && B.sel[0] == 0 && B.sel[1] == 1 && out[0] == 0 && out[1] == 4, "lower-case lookup kept %zu",
          got);
    CHECK(B.reason[2] == CODE && B.reason[4] == CODE && B.reason[5] == CODE, "lower-case rejects");
    for (size_t i = 0; i < 6; i++)
        B.sel[i] = (uint32_t)i;
    untouch(B.reason, sizeof B.reason / sizeof B.reason[0]);
    got = ts_check_category(B.ptr, B.len, B.sel, 6, upper, uv, 10, 1, out, B.reason, CODE);
    CHECK(got == 2 && B.sel[0] == 2 && B.sel[1] == 3 && out[2] == 0 && out[3] == 0, "upper-case lookup kept %zu",
          got);
    CHECK(B.reason[0] == CODE && B.reason[1] == CODE, "upper-case rejects");
}

static void test_empty_selection(void)
{
    int64_t out[1];
    uint32_t sel[1] = {0};
    uint16_t reason[1] = {UNTOUCHED};
    const char *p[1] = {"x"};
    uint32_t l[1] = {1};
    CHECK(ts_check_int64(p, l, sel, 0, out, reason, CODE) == 0 && reason[0] == UNTOUCHED, "empty selection");
}

/* pattern=: values of every length are matched in place (a value of 1,024 bytes or more once never matched),
 * up to the field's end only (the bytes after it are not part of the value), a NUL byte being a character. */
static void test_pattern(void)
{
    regex_t re;
    if (regcomp(&re, "^(a+|[0-9]{3}-z)$", REG_EXTENDED | REG_NOSUB) != 0) {
        CHECK(0, "regcomp");
        return;
    }
    enum { N = 9 };
    static const uint32_t lens[] = {1, 1023, 1024, 1025, 5000, 100000};
    char *big = malloc(100001 + 16);
    memset(big, 'a', 100001);
    memcpy(big + 100001, "bbbbbbbbbbbbbbb", 16); /* not a NUL after any field: the next bytes are 'b' */
    const char *p[N];
    uint32_t l[N], sel[N];
    uint16_t reason[N];
    for (int i = 0; i < 6; i++)
        p[i] = big + 100001 - lens[i], l[i] = lens[i]; /* 'a' runs followed directly by 'b's */
    p[6] = "123-zq", l[6] = 5;                          /* "123-z", cut before the 'q' */
    p[7] = "aa\0a", l[7] = 4;                           /* a NUL byte is not an 'a' */
    p[8] = "123-zq", l[8] = 6;                          /* the whole "123-zq" does not match */
    for (int i = 0; i < N; i++)
        sel[i] = (uint32_t)i, reason[i] = UNTOUCHED;
    const size_t kept = ts_check_pattern(p, l, sel, N, &re, reason, CODE);
    CHECK(kept == 7 && reason[7] == CODE && reason[8] == CODE, "long values match, fields end at their length: "
          "kept %zu, reasons %d %d", kept, reason[7], reason[8]);
    for (int i = 0; i < 7; i++)
        CHECK(reason[i] == UNTOUCHED, "value %d (%u bytes) matches", i, l[i]);
    regfree(&re);
    free(big);
}

int main(void)
{
    init_years();
    test_pattern();
    ts_test_rng r = ts_rng_seed(2024);
    test_int64(&r);
    test_date(&r);
    test_decimal(&r);
    test_category(&r);
    test_empty_selection();
    return TS_TEST_DONE("test_check");
}
