#include "ts_interval.h"

#include <math.h>
#include <string.h>

#include "ts_date.h"

__extension__ typedef __int128 i128;

#define US_SECOND INT64_C(1000000)
#define US_MINUTE (60 * US_SECOND)
#define US_HOUR (60 * US_MINUTE)
#define US_DAY (24 * US_HOUR)

/* ---- units ------------------------------------------------------------------------------------------------ */

typedef struct unit_def {
    ts_iv_unit unit;
    int months;     /* months per unit (month-based units) */
    int days;       /* days per unit (day-based units) */
    int64_t micros; /* microseconds per unit (time units) */
} unit_def;

static const unit_def UNITS[] = {
    [TS_IV_MICROSECOND] = {TS_IV_MICROSECOND, 0, 0, 1},      [TS_IV_MILLISECOND] = {TS_IV_MILLISECOND, 0, 0, 1000},
    [TS_IV_SECOND] = {TS_IV_SECOND, 0, 0, US_SECOND},        [TS_IV_MINUTE] = {TS_IV_MINUTE, 0, 0, US_MINUTE},
    [TS_IV_HOUR] = {TS_IV_HOUR, 0, 0, US_HOUR},              [TS_IV_DAY] = {TS_IV_DAY, 0, 1, 0},
    [TS_IV_WEEK] = {TS_IV_WEEK, 0, 7, 0},                    [TS_IV_MONTH] = {TS_IV_MONTH, 1, 0, 0},
    [TS_IV_QUARTER] = {TS_IV_QUARTER, 3, 0, 0},              [TS_IV_YEAR] = {TS_IV_YEAR, 12, 0, 0},
    [TS_IV_DECADE] = {TS_IV_DECADE, 120, 0, 0},              [TS_IV_CENTURY] = {TS_IV_CENTURY, 1200, 0, 0},
    [TS_IV_MILLENNIUM] = {TS_IV_MILLENNIUM, 12000, 0, 0}};

int ts_interval_unit(const char *w, size_t n, ts_iv_unit *unit)
{
    static const struct { const char *name; ts_iv_unit unit; } names[] = {
        {"microsecond", TS_IV_MICROSECOND}, {"microseconds", TS_IV_MICROSECOND}, {"us", TS_IV_MICROSECOND},
        {"usec", TS_IV_MICROSECOND}, {"usecs", TS_IV_MICROSECOND}, {"millisecond", TS_IV_MILLISECOND},
        {"milliseconds", TS_IV_MILLISECOND}, {"ms", TS_IV_MILLISECOND}, {"msec", TS_IV_MILLISECOND},
        {"msecs", TS_IV_MILLISECOND}, {"second", TS_IV_SECOND}, {"seconds", TS_IV_SECOND}, {"s", TS_IV_SECOND},
        {"sec", TS_IV_SECOND}, {"secs", TS_IV_SECOND}, {"minute", TS_IV_MINUTE}, {"minutes", TS_IV_MINUTE},
        {"m", TS_IV_MINUTE}, {"min", TS_IV_MINUTE}, {"mins", TS_IV_MINUTE}, {"hour", TS_IV_HOUR},
        {"hours", TS_IV_HOUR}, {"h", TS_IV_HOUR}, {"hr", TS_IV_HOUR}, {"hrs", TS_IV_HOUR}, {"day", TS_IV_DAY},
        {"days", TS_IV_DAY}, {"d", TS_IV_DAY}, {"week", TS_IV_WEEK}, {"weeks", TS_IV_WEEK}, {"w", TS_IV_WEEK},
        {"month", TS_IV_MONTH}, {"months", TS_IV_MONTH}, {"mon", TS_IV_MONTH}, {"mons", TS_IV_MONTH},
        {"quarter", TS_IV_QUARTER}, {"quarters", TS_IV_QUARTER}, {"year", TS_IV_YEAR}, {"years", TS_IV_YEAR},
        {"y", TS_IV_YEAR}, {"yr", TS_IV_YEAR}, {"yrs", TS_IV_YEAR}, {"decade", TS_IV_DECADE},
        {"decades", TS_IV_DECADE}, {"century", TS_IV_CENTURY}, {"centuries", TS_IV_CENTURY},
        {"millennium", TS_IV_MILLENNIUM}, {"millennia", TS_IV_MILLENNIUM}, {"millenniums", TS_IV_MILLENNIUM}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *name = names[i].name;
        size_t k = 0;
        while (k < n && name[k] && (char)(w[k] | 0x20) == name[k])
            k++;
        if (k == n && !name[k]) {
            *unit = names[i].unit;
            return 1;
        }
    }
    return 0;
}

static int fits32(i128 v) { return v >= INT32_MIN && v <= INT32_MAX; }
static int fits64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

/* whole + num / den units (den a power of ten, |num| < den, num of whole's sign) added to *acc. */
static int add_units(ts_interval *acc, const unit_def *u, int64_t whole, int64_t num, int64_t den)
{
    i128 months = acc->months, days = acc->days, micros = acc->micros;
    if (u->months) {
        const i128 m = (i128)num * u->months; /* fractions carry down: months -> 30 days -> microseconds */
        months += (i128)whole * u->months + m / den;
        const i128 d = (m % den) * 30;
        days += d / den;
        micros += (d % den) * US_DAY / den;
    } else if (u->days) {
        const i128 d = (i128)num * u->days;
        days += (i128)whole * u->days + d / den;
        micros += (d % den) * US_DAY / den;
    } else {
        micros += (i128)whole * u->micros + (i128)num * u->micros / den;
    }
    if (!fits32(months) || !fits32(days) || !fits64(micros))
        return 0;
    acc->months = (int32_t)months, acc->days = (int32_t)days, acc->micros = (int64_t)micros;
    return 1;
}

int ts_interval_of(double n, ts_iv_unit unit, ts_interval *out)
{
    const unit_def *u = &UNITS[unit];
    *out = (ts_interval){0, 0, 0};
    if (!isfinite(n))
        return 0;
    if (u->micros) { /* seconds and below keep their fraction */
        const double us = nearbyint(n * (double)u->micros);
        if (!(us > -9.2e18 && us < 9.2e18))
            return 0;
        out->micros = (int64_t)us;
        return 1;
    }
    const double whole = trunc(n);
    if (!(whole > -1e15 && whole < 1e15))
        return 0;
    return add_units(out, u, (int64_t)whole, 0, 1);
}

/* ---- text ----------------------------------------------------------------------------------------------- */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* The next n bytes of s are the lower-case ASCII word w in any case. */
static int word_at(const char *s, const char *w, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((char)(s[k] | 0x20) != w[k])
            return 0;
    return 1;
}

/* [+-]digits[.digits] at s[*i..n): whole, and the fraction as num / den (den = 10^digits, at most 10^12). */
static int read_number(const char *s, size_t n, size_t *i, int *neg, int64_t *whole, int64_t *num, int64_t *den)
{
    *neg = 0, *whole = 0, *num = 0, *den = 1;
    if (*i < n && (s[*i] == '+' || s[*i] == '-'))
        *neg = s[(*i)++] == '-';
    int digits = 0;
    while (*i < n && is_digit(s[*i])) {
        if (*whole > INT64_MAX / 10 - 9)
            return 0;
        *whole = *whole * 10 + (s[(*i)++] - '0'), digits++;
    }
    if (*i < n && s[*i] == '.') {
        for ((*i)++; *i < n && is_digit(s[*i]); (*i)++, digits++)
            if (*den < INT64_C(1000000000000))
                *num = *num * 10 + (s[*i] - '0'), *den *= 10;
    }
    if (*neg)
        *whole = -*whole, *num = -*num;
    return digits > 0;
}

/* The rest of a time H:MM[:SS[.fraction]] after its hours (already read): into *us, signed by neg. */
static int read_time(const char *s, size_t n, size_t *i, int neg, int64_t hours, int64_t *us)
{
    int64_t mm = 0, ss = 0, frac = 0;
    int k = 0;
    (*i)++; /* ':' */
    while (*i < n && is_digit(s[*i]) && k < 2)
        mm = mm * 10 + (s[(*i)++] - '0'), k++;
    if (!k || mm > 59)
        return 0;
    if (*i < n && s[*i] == ':') {
        (*i)++, k = 0;
        while (*i < n && is_digit(s[*i]) && k < 2)
            ss = ss * 10 + (s[(*i)++] - '0'), k++;
        if (!k || ss > 59)
            return 0;
        if (*i < n && s[*i] == '.') {
            int nd = 0;
            for ((*i)++; *i < n && is_digit(s[*i]); (*i)++, nd++)
                if (nd < 6)
                    frac = frac * 10 + (s[*i] - '0');
            for (; nd < 6; nd++)
                frac *= 10;
        }
    }
    const i128 t = (i128)(hours < 0 ? -hours : hours) * US_HOUR + mm * US_MINUTE + ss * US_SECOND + frac;
    if (!fits64(neg ? -t : t))
        return 0;
    *us = (int64_t)(neg ? -t : t);
    return 1;
}

int ts_parse_interval(const char *s, size_t n, ts_interval *out)
{
    ts_interval acc = {0, 0, 0};
    size_t i = 0;
    int parts = 0, ago = 0;
    for (;;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        if (i + 3 <= n && word_at(s + i, "ago", 3) && (i + 3 == n || is_blank(s[i + 3]))) {
            ago = 1, i += 3;
            continue;
        }
        int neg;
        int64_t whole, num, den;
        if (ago || !read_number(s, n, &i, &neg, &whole, &num, &den))
            return 0;
        if (i < n && s[i] == ':') { /* a time of day: the number was its hours */
            int64_t us;
            if (num || !read_time(s, n, &i, neg, whole, &us))
                return 0;
            const i128 sum = (i128)acc.micros + us;
            if (!fits64(sum))
                return 0;
            acc.micros = (int64_t)sum, parts++;
            continue;
        }
        while (i < n && is_blank(s[i]))
            i++;
        const size_t w = i;
        while (i < n && is_alpha(s[i]))
            i++;
        ts_iv_unit unit;
        if (i == w || !ts_interval_unit(s + w, i - w, &unit) || !add_units(&acc, &UNITS[unit], whole, num, den))
            return 0;
        parts++;
    }
    if (!parts || (ago && !ts_interval_mul(acc, -1, &acc)))
        return 0;
    *out = acc;
    return 1;
}

static char *put_int(char *o, int64_t v)
{
    char tmp[24];
    int nd = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[nd++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (v < 0)
        *o++ = '-';
    while (nd)
        *o++ = tmp[--nd];
    return o;
}

static char *put_part(char *o, char *start, int64_t v, const char *unit)
{
    if (!v)
        return o;
    if (o != start)
        *o++ = ' ';
    o = put_int(o, v);
    *o++ = ' ';
    for (const char *u = unit; *u; u++)
        *o++ = *u;
    if (v != 1 && v != -1)
        *o++ = 's';
    return o;
}

int ts_format_interval(ts_interval iv, char *out)
{
    char *o = out;
    o = put_part(o, out, iv.months / 12, "year");
    o = put_part(o, out, iv.months % 12, "month");
    o = put_part(o, out, iv.days, "day");
    if (iv.micros || o == out) {
        if (o != out)
            *o++ = ' ';
        uint64_t u = iv.micros < 0 ? 0 - (uint64_t)iv.micros : (uint64_t)iv.micros;
        if (iv.micros < 0)
            *o++ = '-';
        const uint64_t h = u / (uint64_t)US_HOUR, mm = u / (uint64_t)US_MINUTE % 60, ss = u / (uint64_t)US_SECOND % 60;
        if (h < 10)
            *o++ = '0';
        o = put_int(o, (int64_t)h);
        *o++ = ':', *o++ = (char)('0' + mm / 10), *o++ = (char)('0' + mm % 10);
        *o++ = ':', *o++ = (char)('0' + ss / 10), *o++ = (char)('0' + ss % 10);
        o += ts_format_micros_fraction((int64_t)(u % (uint64_t)US_SECOND), o);
    }
    return (int)(o - out);
}

/* ---- arithmetic ----------------------------------------------------------------------------------------- */

int ts_interval_add(ts_interval a, ts_interval b, ts_interval *out)
{
    const i128 m = (i128)a.months + b.months, d = (i128)a.days + b.days, us = (i128)a.micros + b.micros;
    if (!fits32(m) || !fits32(d) || !fits64(us))
        return 0;
    *out = (ts_interval){(int32_t)m, (int32_t)d, (int64_t)us};
    return 1;
}

int ts_interval_mul(ts_interval a, int64_t k, ts_interval *out)
{
    const i128 m = (i128)a.months * k, d = (i128)a.days * k, us = (i128)a.micros * k;
    if (!fits32(m) || !fits32(d) || !fits64(us))
        return 0;
    *out = (ts_interval){(int32_t)m, (int32_t)d, (int64_t)us};
    return 1;
}

int ts_interval_cmp(ts_interval a, ts_interval b)
{
    const i128 x = ((i128)a.months * 30 + a.days) * US_DAY + a.micros;
    const i128 y = ((i128)b.months * 30 + b.days) * US_DAY + b.micros;
    return (x > y) - (x < y);
}

int ts_timestamp_add_interval(int64_t us, ts_interval iv, int sign, int64_t *out)
{
    int64_t days, tod;
    ts_timestamp_split(us, &days, &tod);
    if (days < -TS_TIMESTAMP_MAX_DAYS || days > TS_TIMESTAMP_MAX_DAYS)
        return 0;
    i128 d = days;
    if (iv.months) {
        int y, m, dd;
        ts_civil_from_days((int32_t)days, &y, &m, &dd);
        const int64_t total = (int64_t)y * 12 + (m - 1) + (int64_t)sign * iv.months;
        const int64_t ny = total >= 0 ? total / 12 : -((-total + 11) / 12), nm = total - ny * 12 + 1;
        if (ny < -270000 || ny > 270000)
            return 0;
        static const unsigned char md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const int leap = (ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0;
        const int last = md[nm - 1] + (nm == 2 && leap);
        d = ts_days_from_civil((int)ny, (int)nm, dd > last ? last : dd);
    }
    d += (i128)sign * iv.days;
    const i128 r = d * US_DAY + tod + (i128)sign * iv.micros;
    if (r < -(i128)TS_TIMESTAMP_MAX_DAYS * US_DAY || r > (i128)TS_TIMESTAMP_MAX_DAYS * US_DAY)
        return 0;
    *out = (int64_t)r;
    return 1;
}
