/* kernels/ts_date's timestamps and kernels/ts_interval: text in and out against DuckDB's answers (hand-copied from
 * DuckDB 1.5), month arithmetic against a naive calendar, and round trips over random values. */
#include <stdio.h>
#include <string.h>

#include "ts_date.h"
#include "ts_interval.h"
#include "ts_test.h"

static int64_t us_of(int y, int mo, int d, int h, int mi, int s, int frac)
{
    return ((int64_t)ts_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000 + frac;
}

static void check_ts_text(const char *in, const char *want)
{
    int64_t us = 0;
    const int ok = ts_parse_timestamp(in, strlen(in), &us);
    char out[64] = "";
    if (ok)
        out[ts_format_timestamp(us, out)] = 0;
    CHECK(want ? ok && !strcmp(out, want) : !ok, "'%s' -> %s '%s', want %s", in, ok ? "ok" : "refused", out,
          want ? want : "a refusal");
}

static void test_timestamp_text(void)
{
    /* DuckDB: SELECT CAST(x AS TIMESTAMP) */
    check_ts_text("2024-01-01 10:00:00.120", "2024-01-01 10:00:00.12");
    check_ts_text("2024-01-01 10:00:00.123456", "2024-01-01 10:00:00.123456");
    check_ts_text("2024-01-01", "2024-01-01 00:00:00");
    check_ts_text("1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999");
    check_ts_text("0044-03-15 10:00:00", "0044-03-15 10:00:00");
    check_ts_text("2024-01-01T10:11:12Z", "2024-01-01 10:11:12");
    check_ts_text(" 2024-1-2 3:04:05 ", "2024-01-02 03:04:05");
    check_ts_text("2024-01-01 10:00", "2024-01-01 10:00:00");
    check_ts_text("2024-01-01 24:00:00", "2024-01-02 00:00:00");
    check_ts_text("2024-01-01 10:00:00 UTC", "2024-01-01 10:00:00");
    check_ts_text("2024-01-01 10:00:00+02", "2024-01-01 10:00:00");
    check_ts_text("2024-01-01 10:00:00-05:30", "2024-01-01 10:00:00");
    check_ts_text("2024-01-01 10:00:00.9999999", "2024-01-01 10:00:00.999999");
    check_ts_text("2024-01-01 1:2:3", "2024-01-01 01:02:03");
    check_ts_text("2024-13-01 10:00:00", NULL);
    check_ts_text("2024-02-30", NULL);
    check_ts_text("2024-01-01 25:00:00", NULL);
    check_ts_text("2024-01-01 10:60:00", NULL);
    check_ts_text("2024-01-01 10:00:00 junk", NULL);
    check_ts_text("", NULL);
    check_ts_text("10:00:00", NULL);
    int64_t us;
    CHECK(ts_parse_timestamp("1970-01-01 00:00:01", 19, &us) && us == 1000000, "epoch + 1 s: %lld", (long long)us);
    CHECK(ts_parse_timestamp("1969-12-31 23:59:59.5", 21, &us) && us == -500000, "epoch - 0.5 s: %lld", (long long)us);
    char out[64];
    out[ts_format_timestamp(us_of(0, 3, 15, 10, 0, 0, 0), out)] = 0;
    CHECK(!strcmp(out, "0001-03-15 (BC) 10:00:00"), "year 0: %s", out); /* DuckDB: year 0 is 1 BC */
    /* CSV sniffing: the strict form only */
    CHECK(ts_is_timestamp_text("2024-01-01 10:00:00", 19), "sniff space");
    CHECK(ts_is_timestamp_text("2024-01-01T10:00:00.5Z", 22), "sniff T, fraction, Z");
    CHECK(!ts_is_timestamp_text("2024-01-01", 10), "a date is not sniffed as a timestamp");
    CHECK(!ts_is_timestamp_text("2024-1-01 10:00:00", 18), "sniffing wants YYYY-MM-DD");
    CHECK(!ts_is_timestamp_text("2024-01-01 10:00:00+02", 22), "sniffing takes no offsets");
}

/* Round trips: text of random timestamps parses back to the same value. */
static void test_timestamp_round_trip(void)
{
    ts_test_rng state = ts_rng_seed(12345);
    for (int i = 0; i < 200000; i++) {
        const int64_t us = (int64_t)(ts_rng_next(&state) % (UINT64_C(1) << 62)) - (INT64_C(1) << 61);
        const int64_t v = us % (INT64_C(60000) * 86400000000); /* within +-60000 days of the epoch */
        char out[64];
        const int n = ts_format_timestamp(v, out);
        int64_t back = 0;
        CHECK(ts_parse_timestamp(out, (size_t)n, &back) && back == v, "%lld -> '%.*s' -> %lld", (long long)v, n, out,
              (long long)back);
    }
}

static void check_iv_text(const char *in, const char *want)
{
    ts_interval iv = {0, 0, 0};
    const int ok = ts_parse_interval(in, strlen(in), &iv);
    char out[96] = "";
    if (ok)
        out[ts_format_interval(iv, out)] = 0;
    CHECK(want ? ok && !strcmp(out, want) : !ok, "'%s' -> %s '%s', want %s", in, ok ? "ok" : "refused", out,
          want ? want : "a refusal");
}

static void test_interval_text(void)
{
    /* DuckDB: SELECT CAST(CAST(x AS INTERVAL) AS VARCHAR) */
    check_iv_text("14 months", "1 year 2 months");
    check_iv_text("1 month 1 day 01:02:03.5", "1 month 1 day 01:02:03.5");
    check_iv_text("0 days", "00:00:00");
    check_iv_text("-1 day -2 hours", "-1 day -02:00:00");
    check_iv_text("2 days ago", "-2 days");
    check_iv_text("1.5 months", "1 month 15 days");
    check_iv_text("1.5 years", "1 year 6 months");
    check_iv_text("1.5 days", "1 day 12:00:00");
    check_iv_text("-1 year", "-1 year");
    check_iv_text("5 ms", "00:00:00.005");
    check_iv_text("1 minute", "00:01:00");
    check_iv_text("-1 day 02:00:00", "-1 day 02:00:00");
    check_iv_text("1 day -02:00:00", "1 day -02:00:00");
    check_iv_text("1 week", "7 days");
    check_iv_text("2 decades", "20 years");
    check_iv_text("1 quarter", "3 months");
    check_iv_text("90 days", "90 days");
    check_iv_text("2 years 3 mons 4 days 5 hours 6 minutes 7.5 seconds", "2 years 3 months 4 days 05:06:07.5");
    check_iv_text("36 hours", "36:00:00");
    check_iv_text("", NULL);
    check_iv_text("3", NULL);
    check_iv_text("1 fortnight", NULL);
    check_iv_text("1 day ago 2 hours", NULL);
    ts_interval iv;
    CHECK(ts_interval_of(3, TS_IV_MONTH, &iv) && iv.months == 3 && !iv.days && !iv.micros, "3 months");
    CHECK(ts_interval_of(1.9, TS_IV_DAY, &iv) && iv.days == 1, "INTERVAL 1.9 DAY is 1 day (truncated)");
    CHECK(ts_interval_of(1.5, TS_IV_SECOND, &iv) && iv.micros == 1500000, "seconds keep their fraction");
    CHECK(ts_interval_of(2, TS_IV_WEEK, &iv) && iv.days == 14, "2 weeks");
    CHECK(!ts_interval_of(1e300, TS_IV_SECOND, &iv), "too many seconds");
    ts_iv_unit u;
    CHECK(ts_interval_unit("MONS", 4, &u) && u == TS_IV_MONTH, "MONS");
    CHECK(ts_interval_unit("Centuries", 9, &u) && u == TS_IV_CENTURY, "Centuries");
    CHECK(!ts_interval_unit("dayz", 4, &u), "dayz");
    CHECK(ts_interval_cmp((ts_interval){0, 30, 0}, (ts_interval){1, 0, 0}) == 0, "30 days = 1 month");
    CHECK(ts_interval_cmp((ts_interval){0, 1, 0}, (ts_interval){0, 0, 23 * INT64_C(3600000000)}) > 0, "1 day > 23 h");
}

static int naive_mdays(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return md[m - 1] + (m == 2 && leap);
}

/* Adding months: the naive rule walks the months one at a time and clamps the day at the end. */
static void test_add_months(void)
{
    ts_test_rng state = ts_rng_seed(777);
    for (int i = 0; i < 100000; i++) {
        const int y = 1 + (int)(ts_rng_next(&state) % 3000), m = 1 + (int)(ts_rng_next(&state) % 12);
        const int d = 1 + (int)(ts_rng_next(&state) % (uint64_t)naive_mdays(y, m));
        const int k = (int)(ts_rng_next(&state) % 601) - 300, tod = (int)(ts_rng_next(&state) % 86400);
        int ny = y, nm = m;
        for (int s = 0; s < (k < 0 ? -k : k); s++) {
            nm += k < 0 ? -1 : 1;
            if (nm == 13)
                nm = 1, ny++;
            if (nm == 0)
                nm = 12, ny--;
        }
        const int nd = d > naive_mdays(ny, nm) ? naive_mdays(ny, nm) : d;
        int64_t got = 0;
        const int64_t from = us_of(y, m, d, 0, 0, tod, 0);
        const int ok = ts_timestamp_add_interval(from, (ts_interval){k, 0, 0}, 1, &got);
        CHECK(ok && got == us_of(ny, nm, nd, 0, 0, tod, 0), "%04d-%02d-%02d + %d months: got %lld", y, m, d, k,
              (long long)got);
        int64_t back = 0; /* subtracting k months is adding -k */
        CHECK(ts_timestamp_add_interval(from, (ts_interval){-k, 0, 0}, -1, &back) && back == got, "sign");
    }
    /* DuckDB: Jan 31 + 1 month + 1 day = Mar 1 (2024); Mar 31 10:00 - (1 month 1 day) = Feb 28 10:00 */
    int64_t r;
    CHECK(ts_timestamp_add_interval(us_of(2024, 1, 31, 0, 0, 0, 0), (ts_interval){1, 1, 0}, 1, &r) &&
              r == us_of(2024, 3, 1, 0, 0, 0, 0), "Jan 31 + 1 month 1 day");
    CHECK(ts_timestamp_add_interval(us_of(2024, 3, 31, 10, 0, 0, 0), (ts_interval){1, 1, 0}, -1, &r) &&
              r == us_of(2024, 2, 28, 10, 0, 0, 0), "Mar 31 - 1 month 1 day");
    CHECK(ts_timestamp_add_interval(us_of(2024, 1, 31, 23, 0, 0, 0), (ts_interval){0, 0, 2 * INT64_C(3600000000)}, 1,
                                    &r) && r == us_of(2024, 2, 1, 1, 0, 0, 0), "23:00 + 2 hours");
    CHECK(!ts_timestamp_add_interval(0, (ts_interval){0, INT32_MAX, 0}, 1, &r), "out of range");
    ts_interval s;
    CHECK(ts_interval_add((ts_interval){1, 2, 3}, (ts_interval){-1, 5, -3}, &s) && s.months == 0 && s.days == 7 &&
              s.micros == 0, "add");
    CHECK(!ts_interval_mul((ts_interval){INT32_MAX, 0, 0}, 2, &s), "mul overflow");
}

int main(void)
{
    test_timestamp_text();
    test_timestamp_round_trip();
    test_interval_text();
    test_add_months();
    return TS_TEST_DONE("test_interval");
}
