/* CSV text of a table (COPY ... TO 'x.csv', jobs' --format csv), with DuckDB's conventions: values as
 * CAST(x AS VARCHAR) gives them (engine/ts_expr.h: dates YYYY-MM-DD, doubles in the shortest form that reads back,
 * booleans true/false, decimals with their scale), NULL as an empty field, a field quoted ("...", quotes doubled)
 * when it holds the delimiter, a quote, CR or LF, or is the empty string. Lines end in '\n'. Per rank, no MPI. */
#ifndef TS_CSV_WRITE_H
#define TS_CSV_WRITE_H

#include <stddef.h>

#include "ts_table.h"

/* Columns cols[0..ncols) of t prepared for writing (non-string columns converted to text once). */
typedef struct ts_csv_writer {
    const ts_table *t;
    int cols[TS_MAX_COLS];
    int ncols;
    char delim;
    ts_column *text[TS_MAX_COLS]; /* the text of non-string columns */
} ts_csv_writer;

ts_err ts_csv_writer_init(ts_csv_writer *w, const ts_table *t, const int *cols, int ncols, char delim);
void ts_csv_writer_free(ts_csv_writer *w);
/* The header line (column names), or the lines of rows rows[0..n) (all rows when rows is NULL), appended to *buf
 * (malloc'ed: *len bytes used of *cap; start with NULL / 0 / 0). */
ts_err ts_csv_header(const ts_csv_writer *w, char **buf, size_t *len, size_t *cap);
ts_err ts_csv_rows(const ts_csv_writer *w, const int64_t *rows, int64_t n, char **buf, size_t *len, size_t *cap);

#endif
