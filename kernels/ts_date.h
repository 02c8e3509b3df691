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

#endif
