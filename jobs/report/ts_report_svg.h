/* Inline SVG charts for the HTML report (jobs/report): histogram, horizontal bars, stacked 100 % bars and
 * multi-series lines over time, each with axes, tick labels, a title, a legend where there are several series and a
 * <title> tooltip per mark. Text is HTML-escaped here. Pure formatting: no MPI, no I/O besides the FILE written to. */
#ifndef TS_REPORT_SVG_H
#define TS_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

/* How values print on an axis and in tooltips. */
typedef enum { TS_FMT_NUMBER, TS_FMT_PERCENT /* fractions 0..1 */, TS_FMT_DATE /* days since 1970-01-01 */ } ts_fmt;

/* Escapes text for HTML element content and attribute values (& < > " '). len < 0: up to the NUL. */
void ts_html_text(FILE *out, const char *s, int64_t len);
/* A value as a person reads it: 1234567 -> "1.23M", 0.953 as a percent -> "95.3%", a date -> "2021-03-01". */
void ts_fmt_value(char *buf, size_t cap, double v, ts_fmt fmt);

/* Histogram of bins [edges[i], edges[i+1]) with counts[i], i < nbins. */
void ts_svg_histogram(FILE *out, const char *title, const char *xlabel, const double *edges, const int64_t *counts,
                      int nbins, ts_fmt xfmt);

/* Horizontal bars: one per label (in the order given), value printed at the bar's end. */
void ts_svg_bars(FILE *out, const char *title, const char *const *labels, const double *values, int n, ts_fmt fmt);

/* One line per series over x (sorted days since 1970-01-01, shared by all series); y[s * nx + i] is series s at
 * x[i], NaN where it has no value (the line breaks there). A legend names the series. */
void ts_svg_lines(FILE *out, const char *title, const char *ylabel, const double *x, int nx,
                  const char *const *series, const double *y, int nseries, ts_fmt yfmt);

/* Stacked 100 % horizontal bars: row r splits into parts m[r * ncols + c] (shares of the row's total), coloured by
 * column with a legend. */
void ts_svg_stacked(FILE *out, const char *title, const char *const *rows, int nrows, const char *const *cols,
                    int ncols, const double *m);

#endif
