/* kernels/ts_date: calendar arithmetic against a naive day counter, and ts_parse_date's accepted forms. */
#include <stdio.h>
#include <string.h>

#include "ts_date.h"
#include "ts_test.h"

/* Naive Gregorian rules, written out independently of the code under test. */
static int naive_leap(int y)
{
    if (y % 400 == 0)
        return 1;
    if (y % 100 == 0)
        return 0;
    return y % 4 == 0;
}

static int naive_mdays(int y, int m)
{
    switch (m) {
    case 2: return naive_leap(y) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11: return 30;
    default: return 31;
    }
}

static int parse_str(const char *s, int32_t *days) { return ts_parse_date(s, strlen(s), days); }

/* Walks every day from 0001-01-01 to 9999-12-31 with a running counter. The counter starts at an unknown
 * offset; it is pinned by requiring 1970-01-01 to be day 0 (checked), so the reference needs no formula. */
static void test_every_day(void)
{
    /* first pass: count the days before 1970-01-01 */
    int64_t before_epoch = 0;
    for (int y = 1; y < 1970; y++)
        for (int m = 1; m <= 12; m++)
            before_epoch += naive_mdays(y, m);
    CHECK(before_epoch == 719162, "days from 0001-01-01 to 1970-01-01: %lld", (long long)before_epoch);

    int64_t day = -before_epoch, bad_from = 0, bad_to = 0, bad_valid = 0, bad_month = 0, bad_fmt = 0,
            bad_parse = 0, bad_invalid = 0;
    for (int y = 1; y <= 9999; y++) {
        for (int m = 1; m <= 12; m++) {
            const int64_t first = day;
            const int md = naive_mdays(y, m);
            for (int d = 1; d <= md; d++, day++) {
                if (ts_days_from_civil(y, m, d) != day && bad_from++ < 5)
                    CHECK(0, "ts_days_from_civil(%d,%d,%d) = %d, expected %lld", y, m, d,
                          ts_days_from_civil(y, m, d), (long long)day);
                int yy = 0, mm = 0, dd = 0;
                ts_civil_from_days((int32_t)day, &yy, &mm, &dd);
                if ((yy != y || mm != m || dd != d) && bad_to++ < 5)
                    CHECK(0, "ts_civil_from_days(%lld) = %d-%d-%d, expected %d-%d-%d", (long long)day, yy, mm, dd,
                          y, m, d);
                if (!ts_date_is_valid(y, m, d) && bad_valid++ < 5)
                    CHECK(0, "ts_date_is_valid(%d,%d,%d) = 0", y, m, d);
                if (ts_month_start((int32_t)day) != first && bad_month++ < 5)
                    CHECK(0, "ts_month_start(%lld) = %d, expected %lld", (long long)day,
                          ts_month_start((int32_t)day), (long long)first);
                char want[48], got[11] = {0};
                snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
                ts_format_date((int32_t)day, got);
                if (memcmp(want, got, 10) != 0 && bad_fmt++ < 5)
                    CHECK(0, "ts_format_date(%lld) = %.10s, expected %s", (long long)day, got, want);
                /* parsing in all four forms: every day of 1890..2110, every 11th day elsewhere */
                if ((y >= 1890 && y <= 2110) || day % 11 == 0) {
                    char f[4][48];
                    snprintf(f[0], sizeof f[0], "%04d-%02d-%02d", y, m, d);
                    snprintf(f[1], sizeof f[1], "%02d/%02d/%04d", d, m, y);
                    snprintf(f[2], sizeof f[2], "%04d/%02d/%02d", y, m, d);
                    snprintf(f[3], sizeof f[3], "%04d%02d%02d", y, m, d);
                    for (int k = 0; k < 4; k++) {
                        int32_t out = -1;
                        if ((!parse_str(f[k], &out) || out != day) && bad_parse++ < 5)
                            CHECK(0, "ts_parse_date(\"%s\") -> %d, expected %lld", f[k], out, (long long)day);
                    }
                }
            }
            if (ts_date_is_valid(y, m, md + 1) && bad_invalid++ < 5)
                CHECK(0, "ts_date_is_valid(%d,%d,%d) = 1 for a day past the month's end", y, m, md + 1);
        }
    }
    CHECK(bad_from == 0, "%lld ts_days_from_civil mismatches", (long long)bad_from);
    CHECK(bad_to == 0, "%lld ts_civil_from_days mismatches", (long long)bad_to);
    CHECK(bad_valid == 0, "%lld valid days rejected by ts_date_is_valid", (long long)bad_valid);
    CHECK(bad_month == 0, "%lld ts_month_start mismatches", (long long)bad_month);
    CHECK(bad_fmt == 0, "%lld ts_format_date mismatches", (long long)bad_fmt);
    CHECK(bad_parse == 0, "%lld ts_parse_date mismatches", (long long)bad_parse);
    CHECK(bad_invalid == 0, "%lld month-end overflows accepted", (long long)bad_invalid);
    /* 9999-12-31 is the last day: 2932896 (hand-checked: 719162 + 2932897 = 3652059 days in 1..9999) */
    CHECK(day - 1 == 2932896, "last day %lld", (long long)(day - 1));
}

static void test_known_values(void)
{
    CHECK(ts_days_from_civil(1970, 1, 1) == 0, "epoch");
    CHECK(ts_days_from_civil(1969, 12, 31) == -1, "day before epoch");
    CHECK(ts_days_from_civil(2000, 3, 1) == 11017, "2000-03-01 = %d", ts_days_from_civil(2000, 3, 1));
    CHECK(ts_days_from_civil(2000, 2, 29) == 11016, "2000-02-29");
    CHECK(ts_days_from_civil(2024, 2, 29) == 19782, "2024-02-29 = %d", ts_days_from_civil(2024, 2, 29));
    CHECK(ts_days_from_civil(2021, 1, 1) == 18628, "2021-01-01");
    CHECK(ts_days_from_civil(2025, 12, 31) == 20453, "2025-12-31 = %d", ts_days_from_civil(2025, 12, 31));
    CHECK(ts_days_from_civil(1, 1, 1) == -719162, "0001-01-01");
    int y, m, d;
    ts_civil_from_days(19782, &y, &m, &d);
    CHECK(y == 2024 && m == 2 && d == 29, "19782 -> %d-%d-%d", y, m, d);
    ts_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31, "-1 -> %d-%d-%d", y, m, d);

    CHECK(ts_month_start(19782) == 19754, "month start of 2024-02-29 = %d", ts_month_start(19782));
    CHECK(ts_month_start(0) == 0, "month start of epoch");
    CHECK(ts_month_start(-1) == -31, "month start of 1969-12-31 = %d", ts_month_start(-1));
    CHECK(ts_month_start(11017) == 11017, "month start of 2000-03-01");

    CHECK(ts_date_is_valid(2000, 2, 29), "2000 is leap");
    CHECK(!ts_date_is_valid(1900, 2, 29), "1900 is not leap");
    CHECK(!ts_date_is_valid(2023, 2, 29), "2023 is not leap");
    CHECK(!ts_date_is_valid(0, 1, 1), "year 0");
    CHECK(!ts_date_is_valid(10000, 1, 1), "year 10000");
    CHECK(!ts_date_is_valid(2023, 0, 1), "month 0");
    CHECK(!ts_date_is_valid(2023, 13, 1), "month 13");
    CHECK(!ts_date_is_valid(2023, 1, 0), "day 0");
    CHECK(!ts_date_is_valid(2023, 4, 31), "April 31");
}

static void test_parse_forms(void)
{
    static const struct {
        const char *s;
        int32_t days;
    } good[] = {
        {"1970-01-01", 0},      {"2000-03-01", 11017},  {"2024-02-29", 19782},  {"29/02/2024", 19782},
        {"2024/02/29", 19782},  {"20240229", 19782},    {"2000-02-29", 11016},  {"29/02/2000", 11016},
        {"0001-01-01", -719162}, {"9999-12-31", 2932896}, {"31/12/2025", 20453}, {"2021/01/01", 18628},
        {"20210101", 18628},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int32_t out = -12345;
        const int ok = parse_str(good[i].s, &out);
        CHECK(ok && out == good[i].days, "\"%s\" -> ok=%d days=%d, expected %d", good[i].s, ok, out, good[i].days);
    }
    static const char *const bad[] = {
        "2023-02-30", "2023-1-5",    "N/A",        "",           "2023-13-01", "0000-01-01", " 2023-01-01",
        "2023-01-01 ", "2023-01-01x", "1900-02-29", "29/02/1900", "19000229",   "2023-00-10", "2023-01-00",
        "2023-01-32", "2023/02/29",  "12/31/2023", "2023-01/01", "2023/01-01", "01-01-2023", "2023.01.01",
        "202301011",  "2023011",     "00000101",   "+023-01-01", "2023-+1-01", "2023--1-01", "10000-01-01",
        "2023-1-05",  "2023-01-5",   "1/1/2023",   "2023-04-31", "31/04/2023", "20230431",   "abcdefgh",
        "2023\t01\t01", "1-01-2023x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t out = 777;
        const int ok = parse_str(bad[i], &out);
        CHECK(!ok, "\"%s\" was accepted as %d", bad[i], out);
        CHECK(out == 777, "\"%s\" rejected but *days changed to %d", bad[i], out);
    }
    /* the length is authoritative: bytes after len are not part of the field */
    int32_t out = -1;
    CHECK(ts_parse_date("2023-01-015", 10, &out) && out == ts_days_from_civil(2023, 1, 15) - 14,
          "prefix of length 10 -> %d", out);
    CHECK(!ts_parse_date("2023-01-01", 9, &out), "truncated to 9 bytes");
    CHECK(ts_parse_date("20230115junk", 8, &out) && out == ts_days_from_civil(2023, 1, 15), "YYYYMMDD prefix");
    CHECK(!ts_parse_date("2023-01-01", 0, &out), "length 0");
}

int main(void)
{
    test_known_values();
    test_parse_forms();
    test_every_day();
    return TS_TEST_DONE("test_date");
}
