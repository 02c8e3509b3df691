/* Calendar arithmetic and date parsing on the proleptic Gregorian calendar.
 * Dates are int32 days since 1970-01-01 (the engine's DATE type). Pure functions: no state, thread-safe. */
#ifndef TS_DATE_H
#define TS_DATE_H
#include <stdint.h>
#include <stddef.h>

/* Days since 1970-01-01 of y-m-d; m in 1..12, d in 1..31 (not range-checked: see ts_date_is_valid). */
int32_t ts_days_from_civil(int y, int m, int d);
/* Inverse of ts_days_from_civil. */
void ts_civil_from_days(int32_t days, int *y, int *m, int *d);
/* 1 when y-m-d is a real calendar date with 1 <= y <= 9999. */
int ts_date_is_valid(int y, int m, int d);
/* Days since epoch of the first day of the month holding `days`. */
int32_t ts_month_start(int32_t days);

/* Date forms (bit flags). */
enum {
    TS_DATE_ISO = 1,      /* YYYY-MM-DD */
    TS_DATE_DMY = 2,      /* DD/MM/YYYY */
    TS_DATE_YMD = 4,      /* YYYY/MM/DD */
    TS_DATE_COMPACT = 8,  /* YYYYMMDD */
    TS_DATE_ALL = 15
};

/* Parses exactly YYYY-MM-DD, DD/MM/YYYY, YYYY/MM/DD or YYYYMMDD (no surrounding blanks) into *days.
 * Returns 1 on success, 0 when the text is not one of those forms or not a real date. */
int ts_parse_date(const char *s, size_t len, int32_t *days);
/* Same, accepting only the forms in `forms` (TS_DATE_* bits). */
int ts_parse_date_forms(const char *s, size_t len, unsigned forms, int32_t *days);

/* Writes YYYY-MM-DD (10 bytes, no NUL) into out. */
void ts_format_date(int32_t days, char out[10]);

/* ---- timestamps: int64 microseconds since 1970-01-01 00:00:00 (the engine's TIMESTAMP, as DuckDB's) ---- */

#define TS_MICROS_PER_DAY INT64_C(86400000000)
/* Day range of timestamps (years -290000..290000 or so stay inside int64 microseconds). */
#define TS_TIMESTAMP_MAX_DAYS INT64_C(100000000)

/* Floor-splits a timestamp into its day number and the microseconds into that day (0 .. TS_MICROS_PER_DAY-1). */
static inline void ts_timestamp_split(int64_t us, int64_t *days, int64_t *of_day)
{
    int64_t d = us / TS_MICROS_PER_DAY, r = us % TS_MICROS_PER_DAY;
    if (r < 0)
        d--, r += TS_MICROS_PER_DAY;
    *days = d, *of_day = r;
}

/* DuckDB's lenient date text at the start of s[0..len): optional blanks, a year of 1-6 digits (leading zeros
 * skipped), '-' or '/', month and day of 1-2 digits with the same separator, forming a real date. Returns the bytes
 * used (0 when there is no date) and *days. */
size_t ts_scan_date(const char *s, size_t len, int64_t *days);
/* DuckDB's CAST(text AS TIMESTAMP): blanks, a date as ts_scan_date, then optionally ' ' or 'T' and a time
 * H[H]:M[M][:S[S][.fraction]] (24:00:00 is the next midnight; fraction digits past the sixth are dropped), then
 * optionally a zone that is accepted and ignored ('Z', 'UTC', +HH[:MM], -HH[:MM]), then blanks. Returns 1 and
 * *micros, 0 when the text is not a timestamp. */
int ts_parse_timestamp(const char *s, size_t len, int64_t *micros);
/* Strict form for CSV type sniffing: YYYY-MM-DD followed by ' ' or 'T' and HH:MM[:SS[.fraction]] (optionally 'Z'),
 * nothing else. */
int ts_is_timestamp_text(const char *s, size_t len);
/* DuckDB's text of a timestamp: YYYY-MM-DD HH:MM:SS, then '.' and the microseconds without trailing zeros when not
 * zero; years before 1 as "YYYY-MM-DD (BC) ...". Writes at most 48 bytes (no NUL) and returns the length. */
int ts_format_timestamp(int64_t micros, char *out);
/* ".fraction" of a sub-second count of microseconds (0 .. 999999) without trailing zeros, or nothing for 0:
 * writes at most 7 bytes and returns the length. */
int ts_format_micros_fraction(int64_t micros, char *out);
/* The date part of a timestamp's text, as ts_format_timestamp writes it (YYYY-MM-DD, or "(BC)" after it); returns
 * the length (at most 24). */
int ts_format_date_wide(int64_t days, char *out);

#endif
