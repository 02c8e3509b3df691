#include "ts_date.h"

/* Howard Hinnant's civil-from-days algorithms: branch-light and exact over the whole int32 range we use. */
int32_t ts_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void ts_civil_from_days(int32_t days, int *y, int *m, int *d)
{
    const int z = days + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int ts_date_is_valid(int y, int m, int d)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

int32_t ts_month_start(int32_t days)
{
    int y, m, d;
    ts_civil_from_days(days, &y, &m, &d);
    return days - (d - 1);
}

/* Value of n ASCII digits at s, or -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        const unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return -1;
        v = v * 10 + (int)c;
    }
    return v;
}

int ts_parse_date(const char *s, size_t len, int32_t *days) { return ts_parse_date_forms(s, len, TS_DATE_ALL, days); }

int ts_parse_date_forms(const char *s, size_t len, unsigned forms, int32_t *days)
{
    int y, m, d;
    if (len == 10 && s[4] == '-' && s[7] == '-' && (forms & TS_DATE_ISO)) {
        y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    } else if (len == 10 && s[4] == '/' && s[7] == '/' && (forms & TS_DATE_YMD)) {
        y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    } else if (len == 10 && s[2] == '/' && s[5] == '/' && (forms & TS_DATE_DMY)) {
        d = digits(s, 2), m = digits(s + 3, 2), y = digits(s + 6, 4);
    } else if (len == 8 && (forms & TS_DATE_COMPACT)) {
        y = digits(s, 4), m = digits(s + 4, 2), d = digits(s + 6, 2);
    } else {
        return 0;
    }
    if (y < 0 || m < 0 || d < 0 || !ts_date_is_valid(y, m, d))
        return 0;
    *days = ts_days_from_civil(y, m, d);
    return 1;
}

void ts_format_date(int32_t days, char out[10])
{
    int y, m, d;
    ts_civil_from_days(days, &y, &m, &d);
    const int v[3] = {y, m, d};
    out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10);
    out[4] = '-', out[5] = (char)('0' + v[1] / 10), out[6] = (char)('0' + v[1] % 10);
    out[7] = '-', out[8] = (char)('0' + v[2] / 10), out[9] = (char)('0' + v[2] % 10);
}

/* ---- timestamps ------------------------------------------------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Up to max digits at s[*i..n) (at least one): their value. */
static int read_num(const char *s, size_t n, size_t *i, int max, int *v)
{
    int k = 0, x = 0;
    while (k < max && *i < n && is_digit(s[*i]))
        x = x * 10 + (s[(*i)++] - '0'), k++;
    *v = x;
    return k > 0;
}

static int mdays(int y, int m)
{
    static const unsigned char md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && is_leap(y));
}

size_t ts_scan_date(const char *s, size_t n, int64_t *days)
{
    size_t i = 0;
    int y, m, d;
    while (i < n && is_blank(s[i]))
        i++;
    while (i + 1 < n && s[i] == '0' && is_digit(s[i + 1])) /* 02021-03-04 reads as 2021 */
        i++;
    if (!read_num(s, n, &i, 6, &y) || i >= n || (s[i] != '-' && s[i] != '/'))
        return 0;
    const char sep = s[i++];
    if (!read_num(s, n, &i, 2, &m) || i >= n || s[i++] != sep || !read_num(s, n, &i, 2, &d))
        return 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays(y, m))
        return 0;
    *days = ts_days_from_civil(y, m, d);
    return i;
}

/* H[H]:M[M][:S[S][.fraction]] at s[*i..n) into microseconds of the day (24:00:00 allowed: a whole day). */
static int scan_time(const char *s, size_t n, size_t *i, int64_t *us)
{
    int h, m, sec = 0;
    if (!read_num(s, n, i, 2, &h) || *i >= n || s[(*i)++] != ':' || !read_num(s, n, i, 2, &m))
        return 0;
    int64_t frac = 0;
    if (*i < n && s[*i] == ':') {
        (*i)++;
        if (!read_num(s, n, i, 2, &sec))
            return 0;
        if (*i < n && s[*i] == '.') {
            int digits = 0;
            for ((*i)++; *i < n && is_digit(s[*i]); (*i)++, digits++)
                if (digits < 6)
                    frac = frac * 10 + (s[*i] - '0');
            if (!digits)
                return 0;
            for (; digits < 6; digits++)
                frac *= 10;
        }
    }
    if (m > 59 || sec > 59 || h > 24 || (h == 24 && (m || sec || frac)))
        return 0;
    *us = ((int64_t)h * 3600 + m * 60 + sec) * 1000000 + frac;
    return 1;
}

int ts_parse_timestamp(const char *s, size_t n, int64_t *micros)
{
    int64_t days, tod = 0;
    size_t i = ts_scan_date(s, n, &days);
    if (!i)
        return 0;
    if (i < n && (s[i] == 'T' || s[i] == ' ')) {
        size_t j = i + 1;
        while (j < n && s[j] == ' ')
            j++;
        if (j < n && is_digit(s[j])) {
            if (!scan_time(s, n, &j, &tod))
                return 0;
            i = j;
        }
    }
    while (i < n && is_blank(s[i]))
        i++;
    if (i < n && (s[i] == 'Z' || s[i] == 'z'))
        i++;
    else if (i + 3 <= n && (s[i] == 'U' || s[i] == 'u') && (s[i + 1] == 'T' || s[i + 1] == 't') &&
             (s[i + 2] == 'C' || s[i + 2] == 'c'))
        i += 3;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int hh, mm = 0;
        i++;
        if (!read_num(s, n, &i, 2, &hh))
            return 0;
        if (i < n && s[i] == ':')
            i++;
        if (i < n && is_digit(s[i]) && !read_num(s, n, &i, 2, &mm))
            return 0;
    }
    while (i < n && is_blank(s[i]))
        i++;
    if (i != n || days > TS_TIMESTAMP_MAX_DAYS)
        return 0;
    *micros = days * TS_MICROS_PER_DAY + tod;
    return 1;
}

int ts_is_timestamp_text(const char *s, size_t n)
{
    if (n < 16 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T'))
        return 0;
    for (int k = 0; k < 10; k++)
        if (k != 4 && k != 7 && !is_digit(s[k]))
            return 0;
    if (n > 16 && (s[n - 1] == 'Z'))
        n--;
    int64_t us;
    size_t i = 11;
    return is_digit(s[i]) && is_digit(s[i + 1]) && s[i + 2] == ':' && scan_time(s, n, &i, &us) && i == n &&
           ts_parse_timestamp(s, n, &us);
}

static char *put2(char *o, int v)
{
    *o++ = (char)('0' + v / 10);
    *o++ = (char)('0' + v % 10);
    return o;
}

int ts_format_date_wide(int64_t days, char *out)
{
    if (days < -TS_TIMESTAMP_MAX_DAYS)
        days = -TS_TIMESTAMP_MAX_DAYS;
    if (days > TS_TIMESTAMP_MAX_DAYS)
        days = TS_TIMESTAMP_MAX_DAYS;
    int y, m, d;
    ts_civil_from_days((int32_t)days, &y, &m, &d);
    const int bc = y <= 0, yy = bc ? 1 - y : y; /* year 0 is 1 BC */
    char *o = out, digits[12];
    int nd = 0;
    for (int v = yy; v || nd < 4; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    while (nd)
        *o++ = digits[--nd];
    *o++ = '-', o = put2(o, m), *o++ = '-', o = put2(o, d);
    if (bc) {
        static const char tag[] = " (BC)";
        for (const char *t = tag; *t; t++)
            *o++ = *t;
    }
    return (int)(o - out);
}

int ts_format_timestamp(int64_t micros, char *out)
{
    int64_t days, us;
    ts_timestamp_split(micros, &days, &us);
    char *o = out + ts_format_date_wide(days, out);
    const int64_t secs = us / 1000000;
    *o++ = ' ', o = put2(o, (int)(secs / 3600)), *o++ = ':', o = put2(o, (int)(secs / 60 % 60));
    *o++ = ':', o = put2(o, (int)(secs % 60));
    o += ts_format_micros_fraction(us % 1000000, o);
    return (int)(o - out);
}

int ts_format_micros_fraction(int64_t micros, char *out)
{
    if (!micros)
        return 0;
    int nf = 6;
    out[0] = '.';
    for (int k = 6; k >= 1; k--, micros /= 10)
        out[k] = (char)('0' + micros % 10);
    while (out[nf] == '0')
        nf--;
    return nf + 1;
}
