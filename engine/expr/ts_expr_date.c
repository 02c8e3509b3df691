/* Date functions: month_start / year / month / day, date_trunc, date_part (EXTRACT), strftime, strptime, and the
 * calendar helpers the other families share (safe civil conversion, DATE text in and out).
 *
 * Parts and formats must be constants: they are parsed once at bind time into an enum or a token list, so the row
 * loops only do calendar arithmetic (ts_date.h's civil algorithms). */
#define TS_EXPR_PACKAGE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_date.h"
#include "ts_expr_impl.h"

/* ---- helpers shared with the other families ---------------------------------------------------------------- */

void ts_xcivil(int64_t days, int *y, int *m, int *d)
{
    ts_civil_from_days((int32_t)ts_xclampd(days), y, m, d);
}

int ts_xformat_date(int64_t days, char *out)
{
    int y, m, d;
    ts_xcivil(days, &y, &m, &d);
    if (y >= 1 && y <= 9999) { /* the common case without snprintf */
        out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10), out[2] = (char)('0' + y / 10 % 10);
        out[3] = (char)('0' + y % 10), out[4] = '-', out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10);
        out[7] = '-', out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10);
        return 10;
    }
    if (y <= 0) /* year 0 is 1 BC */
        return sprintf(out, "%04d-%02d-%02d (BC)", 1 - y, m, d);
    return sprintf(out, "%04d-%02d-%02d", y, m, d);
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const unsigned char md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && is_leap(y));
}

static int valid_ymd(int y, int m, int d)
{
    return y >= 1 && y <= 999999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Up to max digits at s[*i..n) (at least one); value in *v. */
static int read_digits(const char *s, int64_t n, int64_t *i, int max, int *v)
{
    int k = 0, x = 0;
    while (k < max && *i < n && isdigit((unsigned char)s[*i]))
        x = x * 10 + (s[(*i)++] - '0'), k++;
    *v = x;
    return k > 0;
}

int ts_xparse_date(const char *s, int64_t n, int64_t *days)
{
    const size_t i = ts_scan_date(s, (size_t)n, days);
    /* after the date: nothing, blanks, or a time part */
    return i && (i == (size_t)n || s[i] == ' ' || s[i] == 'T' || is_blank(s[i]));
}

/* Day of the week, 0 = Sunday (1970-01-01 was a Thursday). */
static int64_t dow(int64_t days)
{
    const int64_t r = days % 7;
    return (r + (r < 0 ? 7 : 0) + 4) % 7;
}

/* ---- parts ------------------------------------------------------------------------------------------------- */

typedef enum { P_YEAR, P_QUARTER, P_MONTH, P_WEEK, P_DAY, P_DOW, P_ISODOW, P_DOY, P_EPOCH, P_ISOYEAR, P_DECADE,
               P_CENTURY, P_MILLENNIUM, P_HOUR, P_MINUTE, P_SECOND, P_MILLISECOND, P_MICROSECOND } part;

static int find_part(const char *s, int64_t n, part *out)
{
    static const struct { const char *name; part p; } names[] = {
        {"year", P_YEAR}, {"years", P_YEAR}, {"y", P_YEAR}, {"yr", P_YEAR}, {"yrs", P_YEAR},
        {"quarter", P_QUARTER}, {"quarters", P_QUARTER}, {"month", P_MONTH}, {"months", P_MONTH},
        {"mon", P_MONTH}, {"mons", P_MONTH}, {"week", P_WEEK}, {"weeks", P_WEEK}, {"w", P_WEEK},
        {"weekofyear", P_WEEK}, {"day", P_DAY}, {"days", P_DAY}, {"d", P_DAY}, {"dayofmonth", P_DAY},
        {"dayofweek", P_DOW}, {"dow", P_DOW}, {"weekday", P_DOW}, {"isodow", P_ISODOW}, {"dayofyear", P_DOY},
        {"doy", P_DOY}, {"epoch", P_EPOCH}, {"isoyear", P_ISOYEAR}, {"decade", P_DECADE}, {"decades", P_DECADE},
        {"century", P_CENTURY}, {"centuries", P_CENTURY}, {"millennium", P_MILLENNIUM},
        {"millennia", P_MILLENNIUM}, {"millenniums", P_MILLENNIUM}, {"hour", P_HOUR}, {"hours", P_HOUR},
        {"h", P_HOUR}, {"hr", P_HOUR}, {"hrs", P_HOUR}, {"minute", P_MINUTE}, {"minutes", P_MINUTE},
        {"min", P_MINUTE}, {"mins", P_MINUTE}, {"second", P_SECOND}, {"seconds", P_SECOND}, {"sec", P_SECOND},
        {"secs", P_SECOND}, {"s", P_SECOND}, {"millisecond", P_MILLISECOND}, {"milliseconds", P_MILLISECOND},
        {"ms", P_MILLISECOND}, {"msec", P_MILLISECOND}, {"msecs", P_MILLISECOND}, {"microsecond", P_MICROSECOND},
        {"microseconds", P_MICROSECOND}, {"us", P_MICROSECOND}, {"usec", P_MICROSECOND},
        {"usecs", P_MICROSECOND}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((size_t)n == strlen(names[i].name) && strncasecmp(s, names[i].name, (size_t)n) == 0)
            return *out = names[i].p, 1;
    return 0;
}

static int64_t isodow(int64_t days) { const int64_t w = dow(days); return w ? w : 7; }

/* ISO 8601 week number and week-numbering year. */
static void iso_week(int64_t days, int *week, int *year)
{
    const int64_t thursday = days - isodow(days) + 4;
    int y, m, d;
    ts_xcivil(thursday, &y, &m, &d);
    *year = y;
    *week = (int)((thursday - ts_days_from_civil(y, 1, 1)) / 7 + 1);
}

/* A part of the day number days and the microseconds into the day us (0 for a DATE). */
static int64_t part_of(part p, int64_t days, int64_t us)
{
    int y, m, d, w, iy;
    days = ts_xclampd(days);
    ts_xcivil(days, &y, &m, &d);
    switch (p) {
    case P_HOUR: return us / INT64_C(3600000000);
    case P_MINUTE: return us / 60000000 % 60;
    case P_SECOND: return us / 1000000 % 60;
    case P_MILLISECOND: return us / 1000 % 60000;
    case P_MICROSECOND: return us % 60000000;
    case P_YEAR: return y;
    case P_QUARTER: return (m - 1) / 3 + 1;
    case P_MONTH: return m;
    case P_DAY: return d;
    case P_DOW: return dow(days);
    case P_ISODOW: return isodow(days);
    case P_DOY: return days - ts_days_from_civil(y, 1, 1) + 1;
    case P_EPOCH: return days * 86400;
    case P_WEEK: iso_week(days, &w, &iy); return w;
    case P_ISOYEAR: iso_week(days, &w, &iy); return iy;
    case P_DECADE: return y / 10;
    case P_CENTURY: return y > 0 ? (y - 1) / 100 + 1 : -((-y) / 100 + 1);
    case P_MILLENNIUM: return y > 0 ? (y - 1) / 1000 + 1 : -((-y) / 1000 + 1);
    }
    return 0;
}

/* The microseconds into the day kept by truncating to a time part (a date part keeps none). */
static int64_t trunc_day(part p, int64_t us)
{
    switch (p) {
    case P_HOUR: return us - us % INT64_C(3600000000);
    case P_MINUTE: return us - us % 60000000;
    case P_SECOND: return us - us % 1000000;
    case P_MILLISECOND: return us - us % 1000;
    case P_MICROSECOND: return us;
    default: return 0;
    }
}

static int64_t trunc_to(part p, int64_t days)
{
    int y, m, d;
    days = ts_xclampd(days);
    ts_xcivil(days, &y, &m, &d);
    switch (p) {
    case P_YEAR: return ts_days_from_civil(y, 1, 1);
    case P_QUARTER: return ts_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
    case P_MONTH: return days - (d - 1);
    case P_WEEK: return days - (isodow(days) - 1);
    case P_DECADE: return ts_days_from_civil(y / 10 * 10, 1, 1);
    case P_CENTURY: return ts_days_from_civil(y / 100 * 100, 1, 1);
    case P_MILLENNIUM: return ts_days_from_civil(y / 1000 * 1000, 1, 1);
    default: return days;
    }
}

static ts_err eval_part(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[n->nargs - 1];
    const part p = (part)n->param;
    if (a->type == TS_XT_TS) {
        for (int k = 0; k < m; k++) {
            int64_t days, us;
            ts_xsplit_ts(a->v.i[k], &days, &us);
            if (n->op == TS_X_DATE_TRUNC)
                n->v.i[k] = ts_xclampd(trunc_to(p, days)) * TS_MICROS_PER_DAY + trunc_day(p, us);
            else if (p == P_EPOCH)
                n->v.f[k] = (double)a->v.i[k] / 1e6;
            else
                n->v.i[k] = part_of(p, days, us);
        }
    } else if (n->op == TS_X_DATE_TRUNC) {
        for (int k = 0; k < m; k++)
            n->v.i[k] = trunc_to(p, a->v.i[k]);
    } else if (p == P_EPOCH) {
        for (int k = 0; k < m; k++)
            n->v.f[k] = (double)ts_xclampd(a->v.i[k]) * 86400.0;
    } else {
        for (int k = 0; k < m; k++)
            n->v.i[k] = part_of(p, a->v.i[k], 0);
    }
    const int null_part = n->nargs == 2 && !n->args[0]->valid[0];
    for (int k = 0; k < m; k++)
        n->valid[k] = a->valid[k] && !null_part;
    return TS_OK;
}

/* The constant part argument (args[0]) of date_trunc / date_part. */
static ts_err bind_part(ts_xnode *n)
{
    const ts_xnode *a = n->args[0];
    if (!a->is_const || !(ts_xis_str(a->type) || a->type == TS_XT_NULL))
        TS_FAIL(TS_ERR_USAGE, "%s: argument 1 (the part) must be a string constant", ts_xname(n));
    part p = P_DAY;
    if (a->valid[0]) {
        const ts_sv s = a->type == TS_XT_CODE ? ts_xdict_sv(a->dict, a->v.i[0]) : a->v.s[0];
        if (!find_part(s.p, s.n, &p))
            TS_FAIL(TS_ERR_USAGE, "%s: unknown date part '%.*s'", ts_xname(n), (int)s.n, s.p);
        if (n->op == TS_X_DATE_TRUNC && (p == P_DOW || p == P_ISODOW || p == P_DOY || p == P_EPOCH || p == P_ISOYEAR))
            TS_FAIL(TS_ERR_USAGE, "%s: cannot truncate to '%.*s'", ts_xname(n), (int)s.n, s.p);
    }
    n->param = p;
    int is_ts;
    TS_TRY(ts_xneed_date_or_ts(n, 1, &is_ts));
    /* date_trunc keeps a DATE a DATE (DuckDB gives a TIMESTAMP at midnight: cast when that matters) */
    n->type = n->op == TS_X_DATE_TRUNC ? (is_ts ? TS_XT_TS : TS_XT_DATE) : p == P_EPOCH ? TS_XT_FLOAT : TS_XT_INT;
    n->eval = eval_part;
    return TS_OK;
}

/* ---- strftime / strptime ----------------------------------------------------------------------------------- */

static const char *const MONTHS[12] = {"January", "February", "March", "April", "May", "June", "July", "August",
                                       "September", "October", "November", "December"};
static const char *const WEEKDAYS[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                        "Saturday"};

/* A compiled format: literal runs and specifiers. A literal token points into the constant's bytes. */
typedef struct fmt_tok {
    char spec;    /* 0: literal */
    char unpadded; /* %-m */
    const char *lit;
    int64_t nlit;
} fmt_tok;

typedef struct fmt {
    fmt_tok *t;
    int n;
    int64_t max_len; /* strftime: bytes of one formatted value at most */
    char *text;      /* the format, NUL-terminated, for messages */
} fmt;

static void fmt_free(void *p)
{
    fmt *f = p;
    if (f)
        free(f->t), free(f->text), free(f);
}

static ts_err compile_fmt(ts_xnode *n, const ts_sv *s, const char *specs, fmt **out)
{
    fmt *f = calloc(1, sizeof *f);
    if (f) {
        f->t = calloc((size_t)s->n + 1, sizeof *f->t);
        f->text = malloc((size_t)s->n + 1);
    }
    if (!f || !f->t || !f->text) {
        fmt_free(f);
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory compiling a format", ts_xname(n));
    }
    n->aux = f, n->aux_free = fmt_free; /* freed with the node, also on the errors below */
    memcpy(f->text, s->p, (size_t)s->n), f->text[s->n] = 0;
    for (int64_t i = 0; i < s->n;) {
        fmt_tok *t = &f->t[f->n++];
        if (s->p[i] != '%') {
            t->lit = s->p + i;
            while (i < s->n && s->p[i] != '%')
                i++;
            t->nlit = s->p + i - t->lit, f->max_len += t->nlit;
            continue;
        }
        if (++i < s->n && s->p[i] == '-' && i + 1 < s->n && strchr("mdjHIMS", s->p[i + 1]))
            t->unpadded = 1, i++;
        if (i >= s->n || !strchr(specs, s->p[i]))
            TS_FAIL(TS_ERR_USAGE, "%s: unsupported format specifier '%%%.*s' in '%s' (supported: %s)", ts_xname(n),
                    i < s->n ? 1 : 0, s->p + i, f->text, specs);
        t->spec = s->p[i++];
        f->max_len += t->spec == 'Y' ? 16 : t->spec == 'B' || t->spec == 'A' ? 9 : t->spec == 'f' ? 6 : 3;
    }
    *out = f;
    return TS_OK;
}

static char *put_num(char *o, int64_t v, int width, int unpadded)
{
    char tmp[24];
    int nd = 0, neg = v < 0;
    uint64_t u = neg ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[nd++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (neg)
        *o++ = '-';
    for (int i = nd; !unpadded && i < width; i++)
        *o++ = '0';
    while (nd)
        *o++ = tmp[--nd];
    return o;
}

static char *put_str(char *o, const char *s, size_t n) { return (char *)memcpy(o, s, n) + n; }

static ts_err eval_strftime(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    const fmt *f = n->aux;
    const int null_fmt = !n->args[1]->valid[0];
    TS_TRY(ts_xreserve(n, (size_t)(f ? f->max_len : 0) * (size_t)m + 1));
    char *o = n->buf;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] && !null_fmt;
        char *begin = o;
        if (n->valid[k]) {
            int64_t days = a->v.i[k], us = 0;
            if (a->type == TS_XT_TS)
                ts_xsplit_ts(a->v.i[k], &days, &us);
            days = ts_xclampd(days);
            const int64_t wd = dow(days), hour = us / INT64_C(3600000000);
            int y, mo, d;
            ts_xcivil(days, &y, &mo, &d);
            for (int i = 0; i < f->n; i++) {
                const fmt_tok *t = &f->t[i];
                switch (t->spec) {
                case 0: o = put_str(o, t->lit, (size_t)t->nlit); break;
                case 'Y': o = put_num(o, y, 4, 0); break;
                case 'y': o = put_num(o, (y < 0 ? -y : y) % 100, 2, 0); break;
                case 'm': o = put_num(o, mo, 2, t->unpadded); break;
                case 'd': o = put_num(o, d, 2, t->unpadded); break;
                case 'j': o = put_num(o, days - ts_days_from_civil(y, 1, 1) + 1, 3, t->unpadded); break;
                case 'B': o = put_str(o, MONTHS[mo - 1], strlen(MONTHS[mo - 1])); break;
                case 'b': o = put_str(o, MONTHS[mo - 1], 3); break;
                case 'A': o = put_str(o, WEEKDAYS[wd], strlen(WEEKDAYS[wd])); break;
                case 'a': o = put_str(o, WEEKDAYS[wd], 3); break;
                case 'H': o = put_num(o, hour, 2, t->unpadded); break;
                case 'I': o = put_num(o, hour % 12 ? hour % 12 : 12, 2, t->unpadded); break;
                case 'p': o = put_str(o, hour < 12 ? "AM" : "PM", 2); break;
                case 'M': o = put_num(o, us / 60000000 % 60, 2, t->unpadded); break;
                case 'S': o = put_num(o, us / 1000000 % 60, 2, t->unpadded); break;
                case 'f': o = put_num(o, us % 1000000, 6, 0); break;
                default: *o++ = '%'; break;
                }
            }
        }
        n->v.s[k].p = begin, n->v.s[k].n = o - begin;
    }
    return TS_OK;
}

/* Month name at s[*i..n): full (full != 0) or its first three letters, any case. Returns 1..12 or 0. */
static int read_month(const char *s, int64_t n, int64_t *i, int full)
{
    for (int mo = 0; mo < 12; mo++) {
        const size_t len = full ? strlen(MONTHS[mo]) : 3;
        if (*i + (int64_t)len <= n && strncasecmp(s + *i, MONTHS[mo], len) == 0)
            return *i += (int64_t)len, mo + 1;
    }
    return 0;
}

/* Parses one value; 1: *micros set (a TIMESTAMP), 0: text does not match, -1: fields form no real date or time. */
static int parse_with(const fmt *f, const char *s, int64_t n, int64_t *micros)
{
    int64_t i = 0, frac = 0;
    int y = 1900, mo = 1, d = 1, doy = 0, v, h = 0, mi = 0, sec = 0, pm = -1, h12 = 0;
    while (i < n && is_blank(s[i]))
        i++;
    for (int t = 0; t < f->n; t++) {
        const fmt_tok *tok = &f->t[t];
        if (tok->spec == 0) {
            for (int64_t j = 0; j < tok->nlit; j++) {
                if (is_blank(tok->lit[j])) { /* a blank matches any run of blanks */
                    while (i < n && is_blank(s[i]))
                        i++;
                } else if (i >= n || s[i++] != tok->lit[j]) {
                    return 0;
                }
            }
            continue;
        }
        switch (tok->spec) {
        case 'Y': if (!read_digits(s, n, &i, 4, &y)) return 0; break;
        case 'y': if (!read_digits(s, n, &i, 2, &v)) return 0; y = v < 69 ? 2000 + v : 1900 + v; break;
        case 'm': if (!read_digits(s, n, &i, 2, &mo)) return 0; break;
        case 'd': if (!read_digits(s, n, &i, 2, &d)) return 0; break;
        case 'j': if (!read_digits(s, n, &i, 3, &doy) || doy == 0) return 0; break;
        case 'b': case 'B': if (!(mo = read_month(s, n, &i, tok->spec == 'B'))) return 0; break;
        case 'H': if (!read_digits(s, n, &i, 2, &h)) return 0; break;
        case 'I': if (!read_digits(s, n, &i, 2, &h)) return 0; h12 = 1; break;
        case 'M': if (!read_digits(s, n, &i, 2, &mi)) return 0; break;
        case 'S': if (!read_digits(s, n, &i, 2, &sec)) return 0; break;
        case 'f': {
            int nd = 0;
            for (frac = 0; i < n && isdigit((unsigned char)s[i]) && nd < 6; i++, nd++)
                frac = frac * 10 + (s[i] - '0');
            if (!nd)
                return 0;
            for (; nd < 6; nd++)
                frac *= 10;
            break;
        }
        case 'p':
            if (i + 2 > n || (toupper((unsigned char)s[i + 1]) != 'M'))
                return 0;
            if (toupper((unsigned char)s[i]) == 'A')
                pm = 0;
            else if (toupper((unsigned char)s[i]) == 'P')
                pm = 1;
            else
                return 0;
            i += 2;
            break;
        default: if (i >= n || s[i++] != '%') return 0; break;
        }
    }
    while (i < n && is_blank(s[i]))
        i++;
    if (i != n)
        return 0;
    if (h12 || pm >= 0) {
        if (h < 1 || h > 12)
            return -1;
        h = h % 12 + (pm == 1 ? 12 : 0);
    }
    if (h > 23 || mi > 59 || sec > 59)
        return -1;
    int64_t days;
    if (doy) {
        if (y < 1 || doy > 365 + is_leap(y))
            return -1;
        days = ts_days_from_civil(y, 1, 1) + doy - 1;
    } else {
        if (!valid_ymd(y, mo, d))
            return -1;
        days = ts_days_from_civil(y, mo, d);
    }
    *micros = days * TS_MICROS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    return 1;
}

static ts_err eval_strptime(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    const fmt *f = n->aux;
    const int null_fmt = !n->args[1]->valid[0];
    uint8_t *bad = n->mask;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] && !null_fmt;
        bad[k] = n->valid[k] && parse_with(f, a->v.s[k].p, a->v.s[k].n, &n->v.i[k]) != 1;
    }
    const int k = ts_xbad(n, bad, m, active, 0);
    if (k < 0)
        return TS_OK;
    const ts_sv s = a->v.s[k];
    int64_t us;
    const int why = parse_with(f, s.p, s.n, &us);
    TS_FAIL(TS_ERR_DATA, "strptime: %s '%.*s' with format '%s'", why < 0 ? "no such date or time:" : "could not parse",
            (int)(s.n > 80 ? 80 : s.n), s.p, f->text);
}

static ts_err bind_format(ts_xnode *n, int date_first)
{
    const ts_xnode *f = n->args[1];
    if (!f->is_const || !(ts_xis_str(f->type) || f->type == TS_XT_NULL))
        TS_FAIL(TS_ERR_USAGE, "%s: argument 2 (the format) must be a string constant", ts_xname(n));
    if (f->valid[0]) {
        const ts_sv s = f->type == TS_XT_CODE ? ts_xdict_sv(f->dict, f->v.i[0]) : f->v.s[0];
        fmt *unused;
        TS_TRY(compile_fmt(n, &s, date_first ? "YmdyBbAajHIpMSf%" : "YmdyjbBHIpMSf%", &unused));
    }
    int is_ts;
    if (date_first)
        TS_TRY(ts_xneed_date_or_ts(n, 0, &is_ts));
    else
        TS_TRY(ts_xneed_str(n, 0));
    n->type = date_first ? TS_XT_STRING : TS_XT_TS; /* strptime gives a TIMESTAMP (DuckDB) */
    n->eval = date_first ? eval_strftime : eval_strptime;
    return TS_OK;
}

/* ---- year / month / day / month_start ---------------------------------------------------------------------- */

static ts_err eval_simple(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0];
    const ts_expr_op op = n->op;
    for (int k = 0; k < m; k++) {
        int y, mo, d;
        int64_t days = a->v.i[k], us;
        if (a->type == TS_XT_TS)
            ts_xsplit_ts(a->v.i[k], &days, &us);
        days = ts_xclampd(days);
        ts_xcivil(days, &y, &mo, &d);
        n->v.i[k] = op == TS_X_MONTH_START ? days - (d - 1) : op == TS_X_YEAR ? y : op == TS_X_MONTH ? mo : d;
        n->valid[k] = a->valid[k];
    }
    return TS_OK;
}

ts_err ts_xbind_date(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_DATE_TRUNC: case TS_X_DATE_PART: return bind_part(n);
    case TS_X_STRFTIME: return bind_format(n, 1);
    case TS_X_STRPTIME: return bind_format(n, 0);
    default: {
        int is_ts;
        TS_TRY(ts_xneed_date_or_ts(n, 0, &is_ts));
        n->type = n->op == TS_X_MONTH_START ? TS_XT_DATE : TS_XT_INT;
        n->eval = eval_simple;
        return TS_OK;
    }
    }
}
