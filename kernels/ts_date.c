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
