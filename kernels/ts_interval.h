/* Intervals as DuckDB has them: months, days and microseconds kept apart (a month is not a fixed number of days),
 * their text (parsing and printing) and adding them to dates and timestamps. Pure functions: no state,
 * thread-safe. Timestamps are int64 microseconds since 1970-01-01 (ts_date.h). */
#ifndef TS_INTERVAL_H
#define TS_INTERVAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_interval {
    int32_t months;
    int32_t days;
    int64_t micros;
} ts_interval;

/* Units of ts_interval_of ("INTERVAL 3 MONTH", to_months(3), ...). */
typedef enum { TS_IV_MICROSECOND, TS_IV_MILLISECOND, TS_IV_SECOND, TS_IV_MINUTE, TS_IV_HOUR, TS_IV_DAY, TS_IV_WEEK,
               TS_IV_MONTH, TS_IV_QUARTER, TS_IV_YEAR, TS_IV_DECADE, TS_IV_CENTURY, TS_IV_MILLENNIUM } ts_iv_unit;

/* The unit a word names, singular or plural or abbreviated as DuckDB accepts them ("days", "mon", "ms", "y"):
 * 1 and *unit, or 0. */
int ts_interval_unit(const char *word, size_t len, ts_iv_unit *unit);
/* n units as an interval (seconds and smaller units may be fractional; the others take the whole part of n, as
 * DuckDB's INTERVAL 'n' unit). Returns 0 when it does not fit. */
int ts_interval_of(double n, ts_iv_unit unit, ts_interval *out);
/* DuckDB's CAST(text AS INTERVAL): blanks, then any sequence of "[+-]number unit" (fractions carried down to the
 * smaller units: '1.5 days' is 1 day 12 hours, '1.5 months' 1 month 15 days) and "[+-]HH:MM[:SS[.fraction]]",
 * optionally ending in "ago" (negates). 1 and *out, or 0 when the text is not an interval. */
int ts_parse_interval(const char *s, size_t len, ts_interval *out);
/* DuckDB's text: "1 year 2 months 3 days 04:05:06.5" (parts that are zero left out; "00:00:00" for nothing).
 * Writes at most 80 bytes (no NUL); returns the length. */
int ts_format_interval(ts_interval iv, char *out);

/* a + b, a * k componentwise; 0 on overflow. */
int ts_interval_add(ts_interval a, ts_interval b, ts_interval *out);
int ts_interval_mul(ts_interval a, int64_t k, ts_interval *out);
/* Sign of a - b over the interval's total length with 30-day months and 24-hour days (DuckDB's ordering). */
int ts_interval_cmp(ts_interval a, ts_interval b);
/* The timestamp `us` plus iv (minus when sign < 0), DuckDB's way: months first (the day clamped to the month's
 * last day: Jan 31 + 1 month = Feb 28/29), then days, then microseconds. Returns 0 when the result leaves the
 * timestamp range. */
int ts_timestamp_add_interval(int64_t us, ts_interval iv, int sign, int64_t *out);

#endif
