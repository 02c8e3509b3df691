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
 * Lines are processed in vectors of TS_CSV_BATCH: the lexer (kernels/ts_csv_lex.h: newline, delimiter and quote
 * bit masks of 64-byte blocks; lines holding the quote byte take ts_csv_split_line) fills per-field (pointer,
 * length) arrays, then each field's check runs as a vectorized kernel over the batch's selection vector, in the
 * spec's check order; a row failing a check leaves the selection with that check's reason, so each row gets the
 * first reason that applies. Survivors are gathered into the output columns once per batch. */
#ifndef TS_CSV_H
#define TS_CSV_H

#include <stdint.h>

#include "ts_regex.h"
#include "ts_table.h"

#define TS_CSV_BATCH 1024
/* Fields per line a scan maps (a header or row with more is refused with that number), and so columns per
 * read_csv. A spec's own fields are an array its builder owns (ts_csv_spec.fields). */
#define TS_CSV_MAX_FIELDS 4096

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
    ts_regex *pattern;       /* STRING, CATEGORY: ERE the whole trimmed text must match (TS_REGEX_WHOLE; borrowed;
                              * matching uses its scratch: one scan at a time) */
    int check_only;          /* checked like the others, but no column in the clean table: a caller that needs
                              * some columns only saves their memory (fresh pages cost more than parsing) */
} ts_csv_field;

typedef struct ts_csv_spec {
    ts_csv_field *fields;             /* nfields entries, in the canonical file order (used when a header does not
                                         match); owned by whoever built the spec (ts_rules, ts_csv_inferred ...) */
    int nfields;                      /* at most TS_CSV_MAX_FIELDS */
    int reason_malformed;             /* wrong field count, bad quoting */
    int hash_rows;                    /* add columns __hash_lo/__hash_hi: 128-bit hash of each clean line */
    char delim;                       /* field delimiter; 0 means ',' */
    char quote;                       /* quote character; 0 means '"' */
    int no_header;                    /* 1: line 1 is data; fields are in the spec's order */
    int header_by_position;           /* 1: line 1 is a header, skipped without matching its names; fields are in
                                         the spec's order (read_csv with columns=, which names the columns) */
    int header_sql_names;             /* 1: line 1 is a header whose names, made unique as read_csv does
                                         (ts_csv_header_name), are matched to the fields by name; a file lacking
                                         a field is refused (ts_csv_layout.fatal); its other columns are not read
                                         (SQL's read_csv over several files: DuckDB binds them by name too) */
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
    /* Line marks: the byte offset of every TS_CSV_MARK_EVERY-th line of each range (range-local line indexes 0,
     * EVERY, 2 EVERY, ...), appended range after range (malloc'ed; ts_csv_sink_free frees it unless taken).
     * Fetching a line by number later jumps to its mark instead of walking every line before it. */
    int64_t *marks, nmarks, marks_cap;
} ts_csv_sink;

#define TS_CSV_MARK_EVERY 32

/* Creates the empty clean and rejects tables for spec. Caller frees both tables. */
ts_err ts_csv_sink_new(const ts_csv_spec *spec, ts_csv_sink *sink);
void ts_csv_sink_free(ts_csv_sink *sink);

/* Header of a file, mapped onto the spec. */
typedef struct ts_csv_layout {
    int nphys;                      /* fields per row */
    int slot[TS_CSV_MAX_FIELDS];    /* physical field -> spec field, -1 when not read (not in the spec, or SKIP) */
    int header_ok;                  /* 1: line 1 named every spec field (or the spec says where they are) */
    int skip_line1;                 /* line 1 is a header: not a data row */
    int fatal;                      /* the file cannot be read with this spec: problem says why */
    char problem[640];              /* why header_ok is 0, as a sentence for a warning or an error */
    char note[640];                 /* a warning even when header_ok (read_csv: columns that are not read) */
} ts_csv_layout;

/* Reads line 1 of data[0..len) and maps its names onto spec: exact names after trimming (header_sql_names: made
 * unique as read_csv does). Without header_sql_names:
 *   every field named once             -> header_ok, skip_line1;
 *   a field named twice                -> fatal (which one holds the data is ambiguous);
 *   some fields named, others missing  -> a header lacking them: skip_line1, the rows are read in the spec's order
 *                                         (so a row of the wrong width is a malformed reject), problem names them;
 *   no field named                     -> no header: line 1 is a data row, the spec's order;
 *   carriage returns inside line 1     -> (old Mac CR-only line endings) line 1 is a data row, problem says why.
 * With header_sql_names a missing field or CR-only line endings are fatal. With no_header or header_by_position
 * the layout is the spec's order (header_ok and skip_line1 are 1 only for header_by_position). Fields of kind SKIP
 * get no slot, so the splitter does not store them. */
void ts_csv_layout_from_header(const ts_csv_spec *spec, const char *data, int64_t len, ts_csv_layout *layout);

/* Column i's name as read_csv sees the header field s[0..n) among nfields: trimmed, cut at a NUL byte and to
 * TS_NAME_MAX - 1 bytes (not inside a UTF-8 sequence); empty -> column<i> zero-padded to the digits of
 * nfields - 1 (DuckDB's rule); a name already in names[0..i), or __pos / __line (which the scan adds), gets
 * _1, _2 ... Writes names[i]. */
void ts_csv_header_name(char (*names)[TS_NAME_MAX], int i, int nfields, const char *s, size_t n);

/* Non-zero when line 1 of data (up to its '\n' or 64 KiB) holds a carriage return that is neither the last byte
 * of the data nor followed by '\n': the file uses old Mac (CR-only) line endings, which are not line breaks
 * here. */
int ts_csv_cr_only(const char *data, int64_t len);

/* Scans the lines that start in [begin, end) of data[0..len) (the file's whole content), appending to sink.
 * file_id tags rejects. When begin == 0 and layout->skip_line1, line 0 is the header and is skipped.
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
