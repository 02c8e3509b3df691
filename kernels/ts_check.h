/* Vectorized validation kernels over a batch of text fields with a selection vector (DuckDB style).
 *
 * Common contract: field i of the batch is (ptr[i], len[i]), already trimmed. sel[0..n) lists the rows still
 * alive. A row that passes gets its value in out[row]; a row that fails gets reason[row] = code (or
 * missing_code for an empty field) and leaves the selection. Reason codes are 16-bit (a read_csv of thousands of
 * columns has a reason per column). Each returns the new selection length; the
 * survivors keep their order. Pure functions: no allocation, thread-safe. */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include <stddef.h>
#include <regex.h>
#include <stdint.h>

size_t ts_check_int64(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int64_t *out,
                      uint16_t *reason, uint16_t code);

/* Dates in the four forms of ts_parse_date; out = days since 1970-01-01. */
size_t ts_check_date(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int32_t *out,
                     uint16_t *reason, uint16_t code);

/* Dates in the forms given by `forms` (TS_DATE_* bits of ts_date.h). */
size_t ts_check_date_forms(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, unsigned forms,
                           int32_t *out, uint16_t *reason, uint16_t code);

/* Range of already parsed values v[row] (int64; DATE callers widen): lo <= v (lo < v when lo_open), likewise hi.
 * has_lo / has_hi switch each bound on. */
size_t ts_check_range(const int64_t *v, uint32_t *sel, size_t n, int has_lo, int64_t lo, int lo_open, int has_hi,
                      int64_t hi, int hi_open, uint16_t *reason, uint16_t code);

/* POSIX extended regular expression that the whole field must match (the caller compiles it anchored). */
size_t ts_check_pattern(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, const regex_t *re,
                        uint16_t *reason, uint16_t code);

/* Case-folded lookup in a list of `nvalues` accepted strings (values[k], value_len[k]); out = k. */
size_t ts_check_category(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n,
                         const char *const *values, const int64_t *value_len, int nvalues, int fold_upper,
                         int32_t *out, uint16_t *reason, uint16_t code);

/* Decimals (ts_parse_decimal); empty -> missing_code; unparseable or (positive && value <= 0) -> code. */
size_t ts_check_decimal(const char *const *ptr, const uint32_t *len, uint32_t *sel, size_t n, int scale,
                        int max_int_digits, int positive, int64_t *out, uint16_t *reason, uint16_t code,
                        uint16_t missing_code);

#endif
