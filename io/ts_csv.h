/* CSV scanning with cleaning rules: one byte range of one file's content into a table of clean typed rows and a
 * table of rejects. Per rank, no MPI (the engine's scan operator splits the input and numbers the lines).
 *
 * Rows are lines ('\n'; a '\r' before it is dropped; a UTF-8 byte order mark at the start of a file is
 * ignored). Fields follow RFC 4180 with the spec's delimiter (default ',') and quote (default '"'): a field is
 * quoted when its first byte is the quote; a doubled quote inside quotes is a quote; a quote that is not closed
 * on its line, or text after a closing quote, makes the row malformed; a quote inside an unquoted field is an
 * ordinary character. Every field is trimmed of ASCII spaces and tabs before it is checked, except STRING fields
 * of a spec with no_trim (SQL's read_csv keeps their blanks, as DuckDB does).
 *
 * Lines are processed in vectors of TS_CSV_BATCH: the tokenizer fills per-field (pointer, length) arrays, then
 * each field's check runs as a vectorized kernel over the batch's selection vector, in the spec's check order;
 * a row failing a check leaves the selection with that check's reason, so each row gets the first reason that
 * applies. Survivors are gathered into the output columns once per batch. */
#ifndef TS_CSV_H
#define TS_CSV_H

#include <regex.h>
#include <stdint.h>

#include "ts_table.h"

#define TS_CSV_BATCH 1024

typedef enum {
    TS_RULE_SKIP,     /* counted as a field, not checked, not kept */
    TS_RULE_INT64,    /* ts_parse_int64 */
    TS_RULE_DATE,     /* ts_parse_date: the four accepted forms */
    TS_RULE_CATEGORY, /* case-folded, must be one of `accepted`; kept as DICT codes */
    TS_RULE_DECIMAL,  /* ts_parse_decimal with scale / max_int_digits; optionally > 0 */
    TS_RULE_STRING,   /* trimmed text, kept as a STRING column (optionally matched against a pattern) */
    TS_RULE_FLOAT64,  /* ts_parse_float64 (correctly rounded; inf and nan accepted); kept as FLOAT64 */
    TS_RULE_BOOL,     /* ts_parse_bool: true/false/t/f/1/0 in any case; kept as BOOL (0/1) */
    TS_RULE_TIMESTAMP /* ts_parse_timestamp (DuckDB's CAST text); kept as TIMESTAMP (int64 microseconds) */
} ts_rule_kind;

typedef struct ts_csv_field {
    const char *name;        /* header name */
    ts_rule_kind kind;
    int check_rank;          /* checks run in increasing check_rank (ties: field order) */
    int reason_invalid;      /* reason code when the value does not pass */
    int reason_missing;      /* reason code when the trimmed value is empty; -1: same as reason_invalid */
    ts_dict *accepted;       /* CATEGORY: accepted values (codes = indexes); borrowed */
    int fold_upper;          /* CATEGORY: 1 fold to upper case, 0 to lower case */
    int scale, max_int_digits, positive; /* DECIMAL */
    int nullable;            /* an empty value is NULL, not a failure */
    int fail_to_null;        /* a value that fails the checks becomes NULL instead of rejecting the row */
    unsigned date_forms;     /* DATE: accepted forms (TS_DATE_* of ts_date.h); 0 = all */
    int has_min, has_max, min_open, max_open; /* INT64, DECIMAL (scaled) and DATE (days) ranges */
    int64_t min, max;
    const regex_t *pattern;  /* STRING, CATEGORY: anchored POSIX ERE the trimmed text must match (borrowed) */
} ts_csv_field;

typedef struct ts_csv_spec {
    ts_csv_field fields[TS_MAX_COLS]; /* in the canonical file order (used when a header does not match) */
    int nfields;
    int reason_malformed;             /* wrong field count, bad quoting */
    int hash_rows;                    /* add columns __hash_lo/__hash_hi: 128-bit hash of each clean line */
    char delim;                       /* field delimiter; 0 means ',' */
    char quote;                       /* quote character; 0 means '"' */
    int no_header;                    /* 1: line 1 is data; fields are in the spec's order */
    int header_by_position;           /* 1: line 1 is a header, skipped without matching its names; fields are in
                                         the spec's order (SQL's read_csv: files are unified by position) */
    int no_trim;                      /* 1: STRING fields keep their blanks (other kinds are still trimmed) */
    int skip_blank;                   /* 1: empty lines are neither rows nor rejects (they still count as lines) */
} ts_csv_spec;

/* Where a range's lines go. Output schema (clean): one column per non-SKIP field (INT64, DATE, DICT, DECIMAL,
 * STRING, FLOAT64, BOOL, TIMESTAMP),
 * then __line (int64: line index within the range, 0-based, counting every line that starts in the range,
 * the header included) and, with hash_rows, __hash_lo/__hash_hi (int64).
 * Rejects: __file (int32), __line (int64, same numbering), reason (int32), raw_line (STRING). */
typedef struct ts_csv_sink {
    ts_table *clean;
    ts_table *rejects;
} ts_csv_sink;

/* Creates the empty clean and rejects tables for spec. Caller frees both tables. */
ts_err ts_csv_sink_new(const ts_csv_spec *spec, ts_csv_sink *sink);
void ts_csv_sink_free(ts_csv_sink *sink);

/* Header of a file, mapped onto the spec. */
typedef struct ts_csv_layout {
    int nphys;                /* fields per row */
    int slot[TS_MAX_COLS];    /* physical field -> spec field, -1 when not in the spec */
    int header_ok;            /* 0: line 1 did not name the spec's fields; the canonical order is used and
                                 line 1 is a data row */
    char problem[256];        /* why header_ok is 0 */
} ts_csv_layout;

/* Reads line 1 of data[0..len) and maps its names onto spec (exact names after trimming; of a repeated name the
 * first is the column, later ones are extra columns). With no_header or
 * header_by_position the layout is the spec's order (header_ok is 1 only for header_by_position). */
void ts_csv_layout_from_header(const ts_csv_spec *spec, const char *data, int64_t len, ts_csv_layout *layout);

/* Scans the lines that start in [begin, end) of data[0..len) (the file's whole content), appending to sink.
 * file_id tags rejects. When begin == 0 and layout->header_ok, line 0 is the header and is skipped.
 * *nlines receives the number of lines that start in the range. */
ts_err ts_csv_scan_range(const ts_csv_spec *spec, const ts_csv_layout *layout, int32_t file_id, const char *data,
                         int64_t len, int64_t begin, int64_t end, ts_csv_sink *sink, int64_t *nlines);

/* Splits one line into fields per RFC 4180 as described above (',' and '"'). Fields are stored when slot[f] >= 0:
 * ptr[slot]/len[slot] (trimmed). Unescaped copies of quoted fields with "" are written at *scratch (room for
 * line_len bytes), which is advanced past them. Returns the number of fields, or -1 when the quoting is
 * malformed or a stored field has 2^32 bytes or more. */
int ts_csv_split_line(const char *line, int64_t line_len, const int *slot, int max_fields, const char **ptr,
                      uint32_t *len, char **scratch);
/* The same with a delimiter and quote character, trimming the fields only when trim != 0. */
int ts_csv_split_line_ex(const char *line, int64_t line_len, char delim, char quote, int trim, const int *slot,
                         int max_fields, const char **ptr, uint32_t *len, char **scratch);

/* Length of a UTF-8 byte order mark at data[0..len) (3 or 0). */
static inline int ts_csv_bom(const char *data, int64_t len)
{
    return len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
                   (unsigned char)data[2] == 0xBF
               ? 3
               : 0;
}

#endif
