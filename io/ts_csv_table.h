/* Reading a small reference CSV (countries, FX rates, ...) into a typed table on one rank. Strict: a value that
 * does not parse is an error naming the file, line and column (reference data is expected to be clean). */
#ifndef TS_CSV_TABLE_H
#define TS_CSV_TABLE_H

#include "ts_table.h"

typedef enum {
    TS_REF_STRING,  /* trimmed text */
    TS_REF_FLOAT64, /* strtod, finite */
    TS_REF_INT64,
    TS_REF_MONTH    /* YYYY-MM -> DATE of the month's first day */
} ts_ref_type;

typedef struct ts_ref_column {
    const char *name;
    ts_ref_type type;
} ts_ref_column;

/* Reads the named columns (in any file order; other columns are ignored). *out is new (caller frees). */
ts_err ts_read_csv_table(const char *path, const ts_ref_column *cols, int ncols, ts_table **out);

#endif
