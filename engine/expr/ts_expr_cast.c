/* CAST / TRY_CAST between the expression types, and the legacy TO_FLOAT (CAST AS DOUBLE).
 *
 * One kernel per target type, switching on the source type outside the row loop. A value that does not convert
 * is flagged; ts_xbad turns flagged rows into NULL (TRY_CAST, or rows not being evaluated) or reports the first
 * one as a TS_ERR_DATA error naming the value. DuckDB's rules: FLOAT64 -> INT64 rounds half to even (nearbyint);
 * DECIMAL and text -> integer round half away from zero; text is parsed leniently (blanks around numbers). */
#define TS_EXPR_PACKAGE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_date.h"
#include "ts_expr_impl.h"

/* ---- text -> values ---------------------------------------------------------------------------------------- */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static void trim(const char **s, int64_t *n)
{
    while (*n && is_blank(**s))
        (*s)++, (*n)--;
    while (*n && is_blank((*s)[*n - 1]))
        (*n)--;
}

/* strtod over a bounded copy; rejects hex floats and trailing garbage. */
static int parse_double(const char *s, int64_t n, double *out)
{
    char buf[320];
    trim(&s, &n);
    if (n == 0 || n >= (int64_t)sizeof buf || memchr(s, 'x', (size_t)n) || memchr(s, 'X', (size_t)n))
        return 0;
    memcpy(buf, s, (size_t)n);
    buf[n] = 0;
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n;
}

/* Digits, optional '.' and digits, optional exponent: the pieces of a decimal number (at least one digit). */
typedef struct num_text {
    int neg;
    const char *ip, *fp; /* integer and fraction digits */
    int64_t ni, nf;
    int64_t exp;
} num_text;

static int split_number(const char *s, int64_t n, num_text *t)
{
    trim(&s, &n);
    const char *end = s + n;
    memset(t, 0, sizeof *t);
    if (s < end && (*s == '+' || *s == '-'))
        t->neg = *s++ == '-';
    t->ip = s;
    while (s < end && isdigit((unsigned char)*s))
        s++;
    t->ni = s - t->ip;
    if (s < end && *s == '.') {
        t->fp = ++s;
        while (s < end && isdigit((unsigned char)*s))
            s++;
        t->nf = s - t->fp;
    }
    if (t->ni + t->nf == 0)
        return 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        int eneg = 0;
        if (s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        const char *e0 = s;
        while (s < end && isdigit((unsigned char)*s)) {
            if (t->exp < 100000)
                t->exp = t->exp * 10 + (*s - '0');
            s++;
        }
        if (s == e0)
            return 0;
        t->exp = eneg ? -t->exp : t->exp;
    }
    return s == end;
}

/* round(value * 10^scale), half away from zero, exactly; 0 when it does not fit in int64. */
static int number_scaled(const num_text *t, int scale, int64_t *out)
{
    ts_xi128 acc = 0;
    int round_digit = 0;
    int64_t last_p = 0;
    int any = 0;
    for (int64_t j = 0; j < t->ni + t->nf; j++) {
        const int d = j < t->ni ? t->ip[j] - '0' : t->fp[j - t->ni] - '0';
        const int64_t p = t->ni - 1 - j + t->exp + scale; /* power of ten of this digit in the result */
        if (p >= 0) {
            acc = acc * 10 + d, last_p = p, any = 1;
            if (acc > (ts_xi128)INT64_MAX * 10)
                return 0;
        } else if (p == -1) {
            round_digit = d;
        } else {
            break;
        }
    }
    for (int64_t p = 0; any && p < last_p; p++) {
        acc *= 10;
        if (acc > (ts_xi128)INT64_MAX * 10)
            return 0;
    }
    acc += round_digit >= 5;
    if (acc > (ts_xi128)INT64_MAX + t->neg)
        return 0;
    *out = t->neg ? (int64_t)-acc : (int64_t)acc;
    return 1;
}

static int parse_int(const char *s, int64_t n, int64_t *out)
{
    num_text t;
    return split_number(s, n, &t) && number_scaled(&t, 0, out);
}

static int parse_dec(const char *s, int64_t n, int scale, int64_t *out)
{
    num_text t;
    return split_number(s, n, &t) && number_scaled(&t, scale, out);
}

static int parse_bool(const char *s, int64_t n, int64_t *out)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "1"}, *const no[] = {"false", "f", "no", "n", "0"};
    for (int i = 0; i < 5; i++) {
        if ((size_t)n == strlen(yes[i]) && strncasecmp(s, yes[i], (size_t)n) == 0)
            return *out = 1, 1;
        if ((size_t)n == strlen(no[i]) && strncasecmp(s, no[i], (size_t)n) == 0)
            return *out = 0, 1;
    }
    return 0;
}

/* ---- values -> text ---------------------------------------------------------------------------------------- */

static int format_int(int64_t v, char *out);

/* Values of at most 15 significant digits in [1e-4, 1e15) (prices, k/8, counts: most data): the fewest fraction
 * digits k whose decimal r / 10^k reads back as x. r < 2^53 and 10^k are exact doubles, so the IEEE division is the
 * correctly rounded value of the decimal, exactly what strtod returns for its text; at most one integer r can match
 * at that magnitude, so this is the shortest (and closest) form. Returns the length, or 0 when it does not apply. */
static int format_double_fast(double x, char *out)
{
    static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const double ax = fabs(x);
    if (!(ax >= 1e-4 && ax < 1e15))
        return 0;
    for (int k = 0; k < 16 && ax * p10[k] < 1e15; k++) {
        const double r = nearbyint(x * p10[k]);
        if (r / p10[k] != x)
            continue;
        char digits[24];
        const int64_t v = (int64_t)fabs(r);
        int nd = format_int(v, digits), len = 0;
        if (x < 0)
            out[len++] = '-';
        if (nd <= k) { /* 0.00ddd */
            out[len++] = '0', out[len++] = '.';
            for (int i = nd; i < k; i++)
                out[len++] = '0';
            memcpy(out + len, digits, (size_t)nd), len += nd;
        } else {
            memcpy(out + len, digits, (size_t)(nd - k)), len += nd - k;
            out[len++] = '.';
            if (k)
                memcpy(out + len, digits + nd - k, (size_t)k), len += k;
            else
                out[len++] = '0';
        }
        out[len] = 0;
        return len;
    }
    return 0;
}

int ts_xformat_double(double x, char *out)
{
    if (isnan(x))
        return (int)(strcpy(out, "nan"), 3);
    if (isinf(x))
        return x < 0 ? (int)(strcpy(out, "-inf"), 4) : (int)(strcpy(out, "inf"), 3);
    const int fast = format_double_fast(x, out);
    if (fast)
        return fast;
    /* Fewest significant digits that read back. For a normal double, 15 digits rounded by libc read back exactly
     * when any shorter form does (x then lies within half an ulp, far less than half a 15-digit step, of that
     * form), and are that form once trailing zeros go; else 16, else 17 (always enough). Subnormals have fewer bits,
     * so they search every count. */
    char e[40], digits[24];
    int nd = 0, x10;
    for (int sig = fabs(x) < 2.2250738585072014e-308 ? 1 : 15; sig <= 17; sig++) {
        snprintf(e, sizeof e, "%.*e", sig - 1, x);
        if (sig == 17 || strtod(e, NULL) == x)
            break;
    }
    const int neg = e[0] == '-';
    const char *p = e + neg;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    x10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int len = 0;
    if (neg)
        out[len++] = '-';
    if (x10 >= -4 && x10 < 16) { /* fixed notation with at least one fraction digit, as Python's repr */
        if (x10 < 0) {
            out[len++] = '0', out[len++] = '.';
            for (int i = 0; i < -x10 - 1; i++)
                out[len++] = '0';
            memcpy(out + len, digits, (size_t)nd), len += nd;
        } else {
            for (int i = 0; i <= x10; i++)
                out[len++] = i < nd ? digits[i] : '0';
            out[len++] = '.';
            if (nd > x10 + 1)
                memcpy(out + len, digits + x10 + 1, (size_t)(nd - x10 - 1)), len += nd - x10 - 1;
            else
                out[len++] = '0';
        }
    } else {
        out[len++] = digits[0];
        if (nd > 1) {
            out[len++] = '.';
            memcpy(out + len, digits + 1, (size_t)(nd - 1)), len += nd - 1;
        }
        len += sprintf(out + len, "e%c%02d", x10 < 0 ? '-' : '+', x10 < 0 ? -x10 : x10);
    }
    out[len] = 0;
    return len;
}

static int format_int(int64_t v, char *out)
{
    char tmp[24];
    int n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[n++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    return len;
}

static int format_dec(int64_t v, int scale, char *out)
{
    if (scale == 0)
        return format_int(v, out);
    const uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, p = (uint64_t)ts_xpow10[scale];
    int len = 0;
    if (v < 0)
        out[len++] = '-';
    len += format_int((int64_t)(u / p), out + len);
    out[len++] = '.';
    uint64_t f = u % p;
    for (int i = scale - 1; i >= 0; i--)
        out[len + i] = (char)('0' + f % 10), f /= 10;
    return len + scale;
}

/* ---- kernels ----------------------------------------------------------------------------------------------- */

/* Describes row k of the source for an error message. */
static void describe(const ts_xnode *a, int k, char *out, size_t cap)
{
    char b[64];
    switch (a->type) {
    case TS_XT_STRING:
        snprintf(out, cap, "string '%.*s'", (int)(a->v.s[k].n > 80 ? 80 : a->v.s[k].n), a->v.s[k].p);
        break;
    case TS_XT_FLOAT: ts_xformat_double(a->v.f[k], b), snprintf(out, cap, "FLOAT64 value %s", b); break;
    case TS_XT_DEC: b[format_dec(a->v.i[k], a->scale, b)] = 0, snprintf(out, cap, "DECIMAL value %s", b); break;
    case TS_XT_DATE: b[ts_xformat_date(a->v.i[k], b)] = 0, snprintf(out, cap, "DATE %s", b); break;
    case TS_XT_TS: b[ts_format_timestamp(a->v.i[k], b)] = 0, snprintf(out, cap, "TIMESTAMP %s", b); break;
    default: snprintf(out, cap, "INT64 value %lld", (long long)a->v.i[k]); break;
    }
}

static ts_err report(ts_xnode *n, const uint8_t *bad, int m, const uint8_t *active)
{
    const int k = ts_xbad(n, bad, m, active, n->try_cast);
    if (k < 0)
        return TS_OK;
    char what[160], b[32];
    describe(n->args[0], k, what, sizeof what);
    const char *target = n->narrow ? "INT32" : ts_xtype_name(n->type, n->scale, b, sizeof b);
    TS_FAIL(TS_ERR_DATA, "%s: could not convert %s to %s", ts_xname(n), what, target);
}

/* A cast's validity starts as its input's; bad[k] (returned, cleared) marks values that do not convert. */
static uint8_t *cast_begin(ts_xnode *n, int m)
{
    memcpy(n->valid, n->args[0]->valid, (size_t)m);
    memset(n->mask, 0, (size_t)m);
    return n->mask;
}

static ts_err to_bool(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    switch (a->type) {
    case TS_XT_FLOAT:
        for (int k = 0; k < m; k++)
            n->v.i[k] = a->v.f[k] != 0;
        break;
    case TS_XT_STRING:
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !parse_bool(a->v.s[k].p, a->v.s[k].n, &n->v.i[k]);
        break;
    default:
        for (int k = 0; k < m; k++)
            n->v.i[k] = a->v.i[k] != 0;
        break;
    }
    return report(n, bad, m, active);
}

static ts_err to_int(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    switch (a->type) {
    case TS_XT_FLOAT:
        for (int k = 0; k < m; k++) {
            const double r = nearbyint(a->v.f[k]);
            const int ok = r >= -9223372036854775808.0 && r < 9223372036854775808.0;
            n->v.i[k] = ok ? (int64_t)r : 0;
            bad[k] = a->valid[k] && !ok;
        }
        break;
    case TS_XT_DEC: {
        const int64_t p = ts_xpow10[a->scale], half = p / 2;
        for (int k = 0; k < m; k++) {
            const int64_t x = a->v.i[k], q = x / p, r = x % p;
            n->v.i[k] = q + (r >= half && half ? 1 : 0) - (-r >= half && half ? 1 : 0);
        }
        break;
    }
    case TS_XT_STRING:
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !parse_int(a->v.s[k].p, a->v.s[k].n, &n->v.i[k]);
        break;
    default: memcpy(n->v.i, a->v.i, sizeof(int64_t) * (size_t)m); break;
    }
    if (n->narrow)
        for (int k = 0; k < m; k++)
            bad[k] |= a->valid[k] && (n->v.i[k] < INT32_MIN || n->v.i[k] > INT32_MAX);
    return report(n, bad, m, active);
}

static ts_err to_float(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    switch (a->type) {
    case TS_XT_STRING:
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !parse_double(a->v.s[k].p, a->v.s[k].n, &n->v.f[k]);
        break;
    case TS_XT_FLOAT: memcpy(n->v.f, a->v.f, sizeof(double) * (size_t)m); break;
    case TS_XT_DEC: {
        const double p = (double)ts_xpow10[a->scale];
        for (int k = 0; k < m; k++)
            n->v.f[k] = (double)a->v.i[k] / p;
        break;
    }
    default:
        for (int k = 0; k < m; k++)
            n->v.f[k] = (double)a->v.i[k];
        break;
    }
    return report(n, bad, m, active);
}

/* x * 10^up (up > 0) or x / 10^down rounded half away from zero; 0 on overflow. */
static int rescale(int64_t x, int from, int to, int64_t *out)
{
    if (to >= from)
        return !__builtin_mul_overflow(x, ts_xpow10[to - from], out);
    const int64_t p = ts_xpow10[from - to], q = x / p, r = x % p;
    *out = q + (2 * (r < 0 ? -r : r) >= p ? (x < 0 ? -1 : 1) : 0);
    return 1;
}

static ts_err to_dec(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    const int s = n->scale;
    switch (a->type) {
    case TS_XT_FLOAT: {
        const double p = (double)ts_xpow10[s];
        for (int k = 0; k < m; k++) {
            const double r = round(a->v.f[k] * p);
            const int ok = r >= -9223372036854775808.0 && r < 9223372036854775808.0;
            n->v.i[k] = ok ? (int64_t)r : 0;
            bad[k] = a->valid[k] && !ok;
        }
        break;
    }
    case TS_XT_STRING:
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !parse_dec(a->v.s[k].p, a->v.s[k].n, s, &n->v.i[k]);
        break;
    default: {
        const int from = a->type == TS_XT_DEC ? a->scale : 0;
        for (int k = 0; k < m; k++)
            bad[k] = !rescale(a->v.i[k], from, s, &n->v.i[k]) && a->valid[k];
        break;
    }
    }
    return report(n, bad, m, active);
}

static ts_err to_date(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    if (a->type == TS_XT_DATE)
        memcpy(n->v.i, a->v.i, sizeof(int64_t) * (size_t)m);
    else if (a->type == TS_XT_TS)
        for (int k = 0; k < m; k++) {
            int64_t of_day;
            ts_xsplit_ts(a->v.i[k], &n->v.i[k], &of_day);
        }
    else
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !ts_xparse_date(a->v.s[k].p, a->v.s[k].n, &n->v.i[k]);
    return report(n, bad, m, active);
}

static ts_err to_ts(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    if (a->type == TS_XT_TS) {
        memcpy(n->v.i, a->v.i, sizeof(int64_t) * (size_t)m);
    } else if (a->type == TS_XT_DATE) {
        for (int k = 0; k < m; k++) {
            const int64_t d = a->v.i[k];
            bad[k] = a->valid[k] && (d > TS_TIMESTAMP_MAX_DAYS || d < -TS_TIMESTAMP_MAX_DAYS);
            n->v.i[k] = bad[k] ? 0 : d * TS_MICROS_PER_DAY;
        }
    } else {
        for (int k = 0; k < m; k++)
            bad[k] = a->valid[k] && !ts_parse_timestamp(a->v.s[k].p, (size_t)a->v.s[k].n, &n->v.i[k]);
    }
    return report(n, bad, m, active);
}

static ts_err to_iv(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = cast_begin(n, m);
    for (int k = 0; k < m; k++) {
        if (a->type == TS_XT_IV)
            ts_xiv(n)[k] = ts_xiv(a)[k];
        else
            bad[k] = a->valid[k] && !ts_parse_interval(a->v.s[k].p, (size_t)a->v.s[k].n, &ts_xiv(n)[k]);
    }
    return report(n, bad, m, active);
}

static ts_err to_string(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    memcpy(n->valid, a->valid, (size_t)m);
    if (a->type == TS_XT_CODE) { /* a view of the dictionary's bytes */
        for (int k = 0; k < m; k++)
            n->v.s[k] = ts_xdict_sv(a->dict, a->v.i[k]);
        return TS_OK;
    }
    if (a->type == TS_XT_STRING) {
        memcpy(n->v.s, a->v.s, sizeof(ts_sv) * (size_t)m);
        return TS_OK;
    }
    TS_TRY(ts_xreserve(n, (size_t)m * 96));
    char *out = n->buf;
    for (int k = 0; k < m; k++) {
        int len = 0;
        if (a->valid[k]) {
            switch (a->type) {
            case TS_XT_BOOL: len = a->v.i[k] ? (memcpy(out, "true", 4), 4) : (memcpy(out, "false", 5), 5); break;
            case TS_XT_FLOAT: len = ts_xformat_double(a->v.f[k], out); break;
            case TS_XT_DEC: len = format_dec(a->v.i[k], a->scale, out); break;
            case TS_XT_DATE: len = ts_xformat_date(a->v.i[k], out); break;
            case TS_XT_TS: len = ts_format_timestamp(a->v.i[k], out); break;
            case TS_XT_IV: len = ts_format_interval(ts_xiv(a)[k], out); break;
            default: len = format_int(a->v.i[k], out); break;
            }
        }
        n->v.s[k].p = out, n->v.s[k].n = len;
        out += len;
    }
    return TS_OK;
}

/* CAST AS DOUBLE of old: BOOL, numbers and DATE (its day number). */
static ts_err to_float_legacy(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    memcpy(n->valid, a->valid, (size_t)m);
    for (int k = 0; k < m; k++)
        n->v.f[k] = ts_xas_double(a, k);
    return TS_OK;
}

ts_err ts_xbind_cast(ts_xnode *n)
{
    ts_xnode *a = n->args[0];
    char b1[32], b2[32];
    if (n->op == TS_X_TO_FLOAT) {
        if (a->type == TS_XT_NULL)
            TS_TRY(ts_xcoerce(n, 0, TS_XT_FLOAT, 0, NULL));
        else if (!ts_xis_num(a->type) && a->type != TS_XT_BOOL && a->type != TS_XT_DATE)
            TS_FAIL(TS_ERR_USAGE, "CAST AS DOUBLE needs a numeric operand, not %s",
                    ts_xtype_name(a->type, a->scale, b1, sizeof b1));
        n->eval = to_float_legacy;
        return TS_OK;
    }
    const ts_xtype from = a->type, to = n->type;
    if (from == TS_XT_NULL) {
        TS_TRY(ts_xcoerce(n, 0, to, n->scale, n->dict));
    } else if (from == TS_XT_CODE && to != TS_XT_STRING) {
        TS_TRY(ts_xcoerce(n, 0, TS_XT_STRING, 0, NULL)); /* parse the dictionary's text */
    } else {
        int ok = to == TS_XT_STRING || from == TS_XT_STRING || from == to ||
                 ((ts_xis_num(from) || from == TS_XT_BOOL) && (ts_xis_num(to) || to == TS_XT_BOOL)) ||
                 (from == TS_XT_DATE && to == TS_XT_TS) || (from == TS_XT_TS && to == TS_XT_DATE);
        if (to == TS_XT_IV) /* intervals only from and to text */
            ok = from == TS_XT_STRING || from == TS_XT_IV;
        if (!ok)
            TS_FAIL(TS_ERR_USAGE, "%s: cannot cast %s to %s", ts_xname(n), ts_xtype_name(from, a->scale, b1, sizeof b1),
                    ts_xtype_name(to, n->scale, b2, sizeof b2));
    }
    switch (to) {
    case TS_XT_BOOL: n->eval = to_bool; break;
    case TS_XT_INT: n->eval = to_int; break;
    case TS_XT_FLOAT: n->eval = to_float; break;
    case TS_XT_DEC: n->eval = to_dec; break;
    case TS_XT_DATE: n->eval = to_date; break;
    case TS_XT_TS: n->eval = to_ts; break;
    case TS_XT_IV: n->eval = to_iv; break;
    case TS_XT_STRING: n->eval = to_string; break;
    default: TS_FAIL(TS_ERR_USAGE, "%s: cannot cast to %s", ts_xname(n), ts_xtype_name(to, 0, b2, sizeof b2));
    }
    return TS_OK;
}
