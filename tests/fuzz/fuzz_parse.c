/* Fuzz target: the scalar text parsers of kernels/ts_parse.h and kernels/ts_date.h.
 *
 * Input: byte 0 chooses the parameters (decimal scale and integer digits, accepted date forms), the rest is the
 * text. Every parser runs on the text and is checked against an independent reference written the obvious way:
 *   int64    digits accumulated in 128 bits: same acceptance, same value; printed and parsed back
 *   decimal  the same, scaled: accepted values equal; every value within int64 accepted (but the last few below
 *            INT64_MAX); the canonical text of the value parses back to it
 *   float64  a syntax check of the documented grammar, then glibc's strtod (correctly rounded) on the text: same
 *            acceptance, bit-identical value (NaN: both NaN); %.17g of the value parses back to the same bits
 *   date     per form, the fields read by position and a day count from year arithmetic (not the civil
 *            algorithm under test): same acceptance and days; ts_format_date of the days is the canonical
 *            YYYY-MM-DD of the fields, and parses back to the same days
 *   bool     the six spellings in any case
 *   timestamp, interval  what parses prints as text that parses back to the same value */
#include <inttypes.h>
#include <math.h>

#include "ts_date.h"
#include "ts_fuzz.h"
#include "ts_interval.h"
#include "ts_parse.h"

TS_FUZZ_INIT(parse)
{
    (void)argc, (void)argv;
    return 0;
}

/* ---- references: [+-] digits [. digits], accumulated in 128 bits (no overflow tricks) -------------------- */

typedef struct parse_number {
    int neg, nint, nfrac, dot; /* digits before / after a '.' */
    __int128 v;                /* the digits' value, saturated above 10^20 (beyond int64) */
} parse_number;

/* 1 when s[0..n) is [+-]digits[.digits] (the '.' part only when allow_dot). */
static int parse_ref_number(const char *s, size_t n, int allow_dot, parse_number *p)
{
    const __int128 big = (__int128)10000000000 * 10000000000; /* 10^20 > INT64_MAX, * 10^9 still fits */
    size_t i = 0;
    *p = (parse_number){0};
    if (i < n && (s[i] == '+' || s[i] == '-'))
        p->neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] == '.' && allow_dot && !p->dot) {
            p->dot = 1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return 0;
        p->v = p->v > big ? p->v : p->v * 10 + (s[i] - '0');
        *(p->dot ? &p->nfrac : &p->nint) += 1;
    }
    return p->nint > 0 && (!p->dot || p->nfrac > 0);
}

static int ref_int64(const char *s, size_t n, int64_t *out)
{
    parse_number p;
    if (!parse_ref_number(s, n, 0, &p))
        return 0;
    const __int128 v = p.neg ? -p.v : p.v;
    if (v < INT64_MIN || v > INT64_MAX)
        return 0;
    *out = (int64_t)v;
    return 1;
}

/* At most max_int integer digits (leading zeros count) and at most scale decimals; value * 10^scale in int64. */
static int ref_decimal(const char *s, size_t n, int scale, int max_int, int64_t *out)
{
    parse_number p;
    if (!parse_ref_number(s, n, 1, &p) || p.nint > max_int || p.nfrac > scale)
        return 0;
    __int128 v = p.v;
    for (int k = p.nfrac; k < scale; k++)
        v *= 10;
    if (v > INT64_MAX)
        return 0;
    *out = (int64_t)(p.neg ? -v : v);
    return 1;
}

/* ---- int64 ---------------------------------------------------------------------------------------------- */

static void parse_check_int64(const char *s, size_t n)
{
    int64_t got = 0, want = 0;
    const int ok = ts_parse_int64(s, n, &got), ref = ref_int64(s, n, &want);
    TS_FUZZ_ASSERT(ok == ref);
    if (!ok)
        return;
    TS_FUZZ_ASSERT(got == want);
    char buf[32];
    const int len = snprintf(buf, sizeof buf, "%" PRId64, got);
    int64_t again = 0;
    TS_FUZZ_ASSERT(ts_parse_int64(buf, (size_t)len, &again) && again == got);
}

/* ---- decimal -------------------------------------------------------------------------------------------- */

/* value / 10^scale written as [-]INT[.FRAC] with exactly `scale` decimals. */
static int parse_decimal_text(int64_t v, int scale, char *buf, size_t cap)
{
    const int neg = v < 0;
    const uint64_t mag = neg ? 0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = 1;
    for (int k = 0; k < scale; k++)
        p *= 10;
    if (!scale)
        return snprintf(buf, cap, "%s%" PRIu64, neg ? "-" : "", mag);
    return snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, neg ? "-" : "", mag / p, scale, mag % p);
}

static void parse_check_decimal(const char *s, size_t n, int scale, int max_int)
{
    int64_t got = 0, want = 0;
    const int ok = ts_parse_decimal(s, n, scale, max_int, &got), ref = ref_decimal(s, n, scale, max_int, &want);
    if (ok)
        TS_FUZZ_ASSERT(ref && got == want);
    /* the parser may refuse the last few values below INT64_MAX (it checks overflow before each digit) */
    if (ref && (want < INT64_C(9223372036854775800) && want > -INT64_C(9223372036854775800)))
        TS_FUZZ_ASSERT(ok);
    if (!ok)
        return;
    char buf[48];
    const int len = parse_decimal_text(got, scale, buf, sizeof buf);
    int64_t again = 0;
    TS_FUZZ_ASSERT(ts_parse_decimal(buf, (size_t)len, scale, 18, &again) && again == got);
}

/* ---- float64 -------------------------------------------------------------------------------------------- */

static int parse_is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_word(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != w[i] && !(s[i] >= 'A' && s[i] <= 'Z' && s[i] + 32 == w[i]))
            return 0;
    return 1;
}

/* The grammar of ts_parse_float64's header: 1 = a number, 2 = inf/infinity/nan, 0 = not accepted. */
static int parse_float_grammar(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (parse_word(s + i, n - i, "inf") || parse_word(s + i, n - i, "infinity") || parse_word(s + i, n - i, "nan"))
        return 2;
    size_t digits = 0;
    while (i < n && parse_is_digit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && parse_is_digit(s[i]); i++)
            digits++;
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && parse_is_digit(s[i]))
            i++, ed++;
        if (!ed)
            return 0;
    }
    return i == n;
}

static void parse_check_float(const char *s, size_t n, const char *cstr)
{
    double got = 0;
    const int ok = ts_parse_float64(s, n, &got), form = parse_float_grammar(s, n);
    TS_FUZZ_ASSERT(ok == (form != 0));
    if (!ok)
        return;
    const double want = strtod(cstr, NULL); /* cstr holds exactly s[0..n) here (no NUL inside) */
    if (isnan(want)) {
        TS_FUZZ_ASSERT(isnan(got));
        return;
    }
    TS_FUZZ_ASSERT(memcmp(&got, &want, sizeof got) == 0);
    char buf[40];
    const int len = snprintf(buf, sizeof buf, "%.17g", got);
    double again = 0;
    TS_FUZZ_ASSERT(ts_parse_float64(buf, (size_t)len, &again) && memcmp(&again, &got, sizeof got) == 0);
}

/* ---- dates ---------------------------------------------------------------------------------------------- */

static int parse_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days since 1970-01-01 by counting: whole years through leap-day counts, then whole months. */
static int64_t parse_ref_days(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int64_t py = y - 1; /* leap days in years 1..y-1 minus those in 1..1969 */
    int64_t days = 365 * (int64_t)(y - 1970) + (py / 4 - py / 100 + py / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    for (int k = 1; k < m; k++)
        days += mdays[k - 1] + (k == 2 && parse_leap(y));
    return days + d - 1;
}

/* Reads n digits at s into *v (0 when a byte is not a digit). */
static int parse_fixed_digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!parse_is_digit(s[i]))
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Form k (bit 1 << k of TS_DATE_*) read by position: 1 with y, m, d when the text has that shape. */
static int parse_date_shape(const char *s, size_t n, int k, int *y, int *m, int *d)
{
    switch (k) {
    case 0: /* YYYY-MM-DD */
    case 2: /* YYYY/MM/DD */ {
        const char sep = k == 0 ? '-' : '/';
        return n == 10 && s[4] == sep && s[7] == sep && parse_fixed_digits(s, 4, y) &&
               parse_fixed_digits(s + 5, 2, m) && parse_fixed_digits(s + 8, 2, d);
    }
    case 1: /* DD/MM/YYYY */
        return n == 10 && s[2] == '/' && s[5] == '/' && parse_fixed_digits(s, 2, d) &&
               parse_fixed_digits(s + 3, 2, m) && parse_fixed_digits(s + 6, 4, y);
    default: /* YYYYMMDD */
        return n == 8 && parse_fixed_digits(s, 4, y) && parse_fixed_digits(s + 4, 2, m) &&
               parse_fixed_digits(s + 6, 2, d);
    }
}

static int parse_ref_valid(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && parse_leap(y));
}

static void parse_check_date(const char *s, size_t n, unsigned forms)
{
    int y = 0, m = 0, d = 0, ref = 0;
    for (int k = 0; k < 4 && !ref; k++)
        ref = (forms >> k & 1) && parse_date_shape(s, n, k, &y, &m, &d) && parse_ref_valid(y, m, d);
    int32_t got = 0;
    const int ok = ts_parse_date_forms(s, n, forms, &got);
    TS_FUZZ_ASSERT(ok == ref);
    if (forms == TS_DATE_ALL) {
        int32_t all = 0;
        TS_FUZZ_ASSERT(ts_parse_date(s, n, &all) == ok && (!ok || all == got));
    }
    if (!ok)
        return;
    TS_FUZZ_ASSERT(got == parse_ref_days(y, m, d));
    char canon[16], out[10];
    snprintf(canon, sizeof canon, "%04d-%02d-%02d", y, m, d);
    ts_format_date(got, out);
    TS_FUZZ_ASSERT(memcmp(out, canon, 10) == 0);
    int32_t again = 0;
    TS_FUZZ_ASSERT(ts_parse_date_forms(out, 10, TS_DATE_ISO, &again) && again == got);
    int cy, cm, cd;
    ts_civil_from_days(got, &cy, &cm, &cd);
    TS_FUZZ_ASSERT(cy == y && cm == m && cd == d && ts_month_start(got) == got - (d - 1));
}

/* ---- bool ----------------------------------------------------------------------------------------------- */

static void parse_check_bool(const char *s, size_t n)
{
    static const char *const yes[] = {"true", "t", "1"}, *const no[] = {"false", "f", "0"};
    int want = -1;
    for (int k = 0; k < 3; k++) {
        if (parse_word(s, n, yes[k]))
            want = 1;
        if (parse_word(s, n, no[k]))
            want = 0;
    }
    int got = -1;
    const int ok = ts_parse_bool(s, n, &got);
    TS_FUZZ_ASSERT(ok == (want >= 0) && (!ok || got == want));
}

/* Timestamps and intervals: whatever parses prints as text that parses back to the same value (and the printer
 * stays within its documented size). */
static void parse_check_timestamp_interval(const char *s, size_t n)
{
    int64_t us, back;
    char out[96];
    if (ts_parse_timestamp(s, n, &us)) {
        const int len = ts_format_timestamp(us, out);
        TS_FUZZ_ASSERT(len > 0 && len <= 48 && ts_parse_timestamp(out, (size_t)len, &back) && back == us);
    }
    ts_interval iv, iv2;
    if (ts_parse_interval(s, n, &iv)) {
        const int len = ts_format_interval(iv, out);
        TS_FUZZ_ASSERT(len > 0 && len <= 80 && ts_parse_interval(out, (size_t)len, &iv2));
        TS_FUZZ_ASSERT(iv2.months == iv.months && iv2.days == iv.days && iv2.micros == iv.micros);
    }
}

TS_FUZZ_ENTRY(parse)
{
    if (size < 1)
        return 0;
    const unsigned ctl = data[0];
    const int scale = (int)(ctl % 10), max_int = 1 + (int)(ctl / 10 % 18);
    const unsigned forms = 1 + (ctl >> 4) % 15; /* a non-empty set of forms; 15 = all */
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *cstr = ts_fuzz_cstr(data + 1, n);
    parse_check_int64(s, n);
    parse_check_decimal(s, n, scale, max_int);
    if (strlen(cstr) == n) /* strtod stops at a NUL: only texts without one */
        parse_check_float(s, n, cstr);
    parse_check_date(s, n, forms);
    parse_check_date(s, n, TS_DATE_ALL);
    parse_check_bool(s, n);
    parse_check_timestamp_interval(s, n);
    /* the trimmed view stays inside the text and has no blank at either end */
    const char *t = s;
    size_t tn = n;
    ts_trim(&t, &tn);
    TS_FUZZ_ASSERT(t >= s && t + tn <= s + n);
    TS_FUZZ_ASSERT(!tn || (t[0] != ' ' && t[0] != '\t' && t[tn - 1] != ' ' && t[tn - 1] != '\t'));
    free(cstr);
    return 0;
}
