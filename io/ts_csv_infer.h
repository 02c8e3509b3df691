/* Schema inference for SQL's read_csv (DuckDB style): from the start of one file, the delimiter, whether line 1
 * is a header, the column names and the narrowest type of every column, as a ts_csv_spec ready for
 * ts_scan_csv_files. Per rank, no MPI: the caller infers on one rank and broadcasts the result
 * (engine/dist/ts_csv_schema.h does both).
 *
 * Names (ts_csv_header_name): the header's fields, trimmed (a NUL byte ends a name); an empty one becomes
 * column<i> (i zero-padded to the digits of the last index, as DuckDB does: column07 of 11 columns, column007 of
 * 600); repeats get _1, _2, ... (a, a_1; a name already taken grows further: a_1_1). Without a header every
 * column is column<i>. "__pos" and "__line" are reserved (the scan adds them) and get a suffix too. Names are cut
 * to TS_NAME_MAX - 1 bytes.
 *
 * Types, on the first sample_rows data rows (rows with the wrong number of fields are not sampled): the first of
 * BOOLEAN, BIGINT, DOUBLE, DATE, VARCHAR that every non-empty (after trimming) value fits, where
 *   BOOLEAN  true, false, t, f (any case)
 *   BIGINT   [-]digits within int64, no leading zero ("0" and "-05" fit, "007" and "+3" do not: DuckDB's sniffer)
 *   DOUBLE   [-] digits with an optional '.' and exponent (same leading-zero rule), nan, inf, infinity
 *   DATE     YYYY-MM-DD, a real date
 *   TIMESTAMP YYYY-MM-DD HH:MM[:SS[.fraction]] (or with 'T', optionally 'Z'); a column mixing dates and
 *            timestamps is VARCHAR, as in DuckDB
 *   VARCHAR  anything (also a column with no value at all)
 * The sniffing rules are stricter than the scan's parsers (which take "+3", "007", "1" for booleans ...), so
 * every sampled value parses in the scan. Every column is nullable: an empty field is NULL.
 *
 * Header detection (header = -1), as DuckDB: line 1 is a header when every column is VARCHAR, or when a value of
 * line 1 does not fit its column's type inferred from the other rows ("1.5" over BIGINT values is a header); with
 * no other row, when a value of line 1 is not a BOOLEAN, BIGINT, DOUBLE or DATE. Delimiter detection (delim = 0):
 * of ',', '|', ';', '\t', the one that splits the most of the first 64 lines into the same number (> 1) of fields
 * as line 1 (ties: more fields, then that order); ',' when none does.
 *
 * The spec: kinds BOOL, INT64, FLOAT64, DATE (YYYY-MM-DD only), TIMESTAMP (DuckDB's cast), STRING with no_trim (strings keep their blanks,
 * other fields are trimmed), nullable, skip_blank (blank lines are not rows, when there is more than one column),
 * and, with a header, header_sql_names (every file's header is matched to these columns by name: files with the
 * same columns in another order are read correctly, a file lacking one is refused; DuckDB does the same), or
 * header_by_position when columns= named the columns.
 * Reject reasons: 0 = malformed row (wrong field count, bad quoting), i + 1 = column i's value does not parse as
 * its type (ts_csv_inferred_reason spells them out). Rows get the reason of their first failing column.
 *
 * Limits (DuckDB does more): a quoted field cannot span lines (the scan is line based); at most TS_CSV_MAX_FIELDS
 * columns; dates only as YYYY-MM-DD, no TIME type; no null string other than the empty field; the only
 * escape is the doubled quote; DECIMAL overrides reject values with more decimals than the scale. */
#ifndef TS_CSV_INFER_H
#define TS_CSV_INFER_H

#include "ts_csv.h"

#define TS_CSV_SAMPLE_ROWS 20480

/* An explicit column type (read_csv's columns={'name': 'TYPE'}). */
typedef struct ts_csv_column_type {
    const char *name;
    ts_type type;           /* BOOL, INT32 (kept as INT64 with an int32 range check), INT64, FLOAT64, DECIMAL,
                               DATE, STRING */
    int precision, scale;   /* DECIMAL: precision <= 18; a value with more than `scale` decimals is rejected */
} ts_csv_column_type;

typedef struct ts_csv_infer_opts {
    char delim;                        /* 0: detect */
    char quote;                        /* 0: '"' */
    int header;                        /* 1 yes, 0 no, -1 detect */
    int64_t sample_rows;               /* rows sampled for types; 0: TS_CSV_SAMPLE_ROWS */
    const ts_csv_column_type *columns; /* type overrides by name (borrowed for the call) */
    int ncolumns;
    int columns_all;                   /* 1: columns lists every column in file order, naming them (DuckDB's
                                          columns=; line 1 may have one more field when it is empty: a
                                          trailing delimiter): no type is inferred; with header -1, line 1 is a header
                                          when every listed type is VARCHAR or a value of line 1 does not fit its
                                          listed type (DuckDB's rule) */
} ts_csv_infer_opts;

/* Arrays of ncols entries, malloc'ed by ts_csv_infer (and ts_csv_inferred_copy): free with ts_csv_inferred_free. */
typedef struct ts_csv_inferred {
    int ncols;
    char (*names)[TS_NAME_MAX];
    ts_type *types;                    /* column types of the scan's output (INT32 overrides give INT64) */
    int *scales;                       /* DECIMAL */
    ts_csv_field *fields;              /* the spec's fields; fields[i].name points into names[i] */
    char delim;                        /* the delimiter used */
    int header;                        /* 1 when line 1 is a header */
    int trailing_field;                /* columns_all and line 1 has one more field, empty (a trailing delimiter,
                                          as in dbgen's .tbl files): the spec has a last SKIP field for it */
    int64_t sampled_rows;              /* data rows the types were inferred from */
    ts_csv_spec spec;                  /* for ts_scan_csv_files (spec.fields == fields) */
} ts_csv_inferred;

/* Infers the schema of data[0..len) (a file's content, or its start: a last line without '\n' counts as a
 * line). opts may be NULL (all defaults). Errors: TS_ERR_DATA for no line at all, more than TS_CSV_MAX_FIELDS
 * columns or old Mac (CR-only) line endings; TS_ERR_USAGE for an override naming no column (the message lists
 * the columns) or an unsupported type. On error nothing is left to free. */
ts_err ts_csv_infer(const char *data, int64_t len, const ts_csv_infer_opts *opts, ts_csv_inferred *out);

/* Allocates the arrays for ncols columns (zeroed) and points the spec at them. */
ts_err ts_csv_inferred_alloc(ts_csv_inferred *inf, int ncols);
/* A deep copy of src into *dst (its own arrays). */
ts_err ts_csv_inferred_copy(ts_csv_inferred *dst, const ts_csv_inferred *src);
void ts_csv_inferred_free(ts_csv_inferred *inf);

/* Points spec.fields at fields and fields[i].name at names[i] again (after the arrays were received as bytes). */
void ts_csv_inferred_rebind(ts_csv_inferred *inf);

/* Text of a reject reason of the inferred spec: "malformed row (wrong number of fields or bad quoting)" for 0,
 * "column 'x': value does not parse as BIGINT" for column x's code. Points into a static buffer that the next
 * call overwrites. */
const char *ts_csv_inferred_reason(const ts_csv_inferred *inf, int reason);

/* SQL name of a scan column type: BOOLEAN, BIGINT, DOUBLE, DATE, VARCHAR, DECIMAL(p,s) ... into buf. */
const char *ts_csv_sql_type_name(ts_type t, int precision, int scale, char *buf, size_t cap);

#endif
