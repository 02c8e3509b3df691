/* Parquet files, read: the footer parsed and checked, the flat schema mapped to Tessera types, and column chunks
 * decoded page by page into Tessera columns. Per rank, no MPI (the collective scan, which deals row groups to
 * ranks and agrees dictionaries, is engine/ts_parquet_scan.h).
 *
 * Types (Parquet physical + logical/converted annotation -> Tessera):
 *   BOOLEAN -> BOOL; INT32 -> INT32 (INT(8|16|32), UINT(8|16) too); UINT32 -> INT64; INT64 -> INT64; UINT64 ->
 *   INT64 (a value of 2^63 or more is an error); FLOAT, DOUBLE, FLOAT16 -> FLOAT64; DATE -> DATE;
 *   TIMESTAMP(MILLIS|MICROS|NANOS) and INT96 (Spark/Impala) -> TIMESTAMP (microseconds since the epoch, with or
 *   without isAdjustedToUTC; nanoseconds are floored); TIME -> INT64 microseconds since midnight;
 *   DECIMAL(p <= 18) from INT32, INT64, BYTE_ARRAY or
 *   FIXED_LEN_BYTE_ARRAY -> DECIMAL (same scale); DECIMAL(p > 18) -> FLOAT64 (rounded: ts_pq_column.lossy);
 *   BYTE_ARRAY (STRING, ENUM, JSON, unannotated) and other FIXED_LEN_BYTE_ARRAY -> STRING (bytes as stored);
 *   UUID -> STRING in its 36-character form. INTERVAL and nested columns (groups, repeated fields: lists, maps,
 *   structs) are refused when the file is opened, with the column's name.
 * Encodings: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (levels and booleans), BIT_PACKED (levels),
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; data pages v1 and v2; codecs
 * UNCOMPRESSED, SNAPPY, GZIP, ZSTD.
 *
 * Corrupt input never crashes or hangs the reader: every offset, length and count read from the file is checked
 * before use, and errors (TS_ERR_DATA; TS_ERR_IO for the file system) name the file and say what is wrong, with the
 * column and row group when the problem is inside one. */
#ifndef TS_PARQUET_READ_H
#define TS_PARQUET_READ_H

#include "ts_column.h"
#include "ts_parquet_decode.h"
#include "ts_parquet_intern.h"
#include "ts_parquet_meta.h"

typedef struct ts_pq_column {
    char name[TS_NAME_MAX];
    int leaf;              /* index of its schema element */
    int phys;              /* physical type */
    int32_t type_length;   /* FIXED_LEN_BYTE_ARRAY */
    int max_def;           /* 1 optional, 0 required */
    ts_type type;          /* what the reader produces */
    int scale;             /* DECIMAL */
    int conv;              /* the conversion from the physical values (internal) */
    int lossy;             /* a DECIMAL wider than 18 digits read as FLOAT64 */
    int temporal;          /* TIMESTAMP or INT96 column (1), TIME column read as INT64 microseconds (2), else 0 */
    char desc[48];         /* the Parquet type as text: "INT64 TIMESTAMP(MICROS)" */
} ts_pq_column;

typedef struct ts_pq_file {
    char path[4096];
    const uint8_t *data;   /* the whole file (mapped, or a caller's buffer) */
    int64_t size;
    void *map;             /* mmap'ed region (NULL for a caller's buffer) */
    int64_t data_end;      /* where the footer starts: column chunks lie in [4, data_end) */
    ts_pq_meta meta;
    ts_pq_column *cols;
    int ncols;
} ts_pq_file;

/* Opens path (mmap), checks and parses the footer and maps the schema. *out is new (ts_pq_close). */
ts_err ts_pq_open(const char *path, ts_pq_file **out);
/* The same over a caller's buffer (which must outlive the file); name is used in messages. */
ts_err ts_pq_open_buffer(const uint8_t *data, size_t len, const char *name, ts_pq_file **out);
void ts_pq_close(ts_pq_file *f);
/* Index of the column called name, or -1. */
int ts_pq_find_column(const ts_pq_file *f, const char *name);

/* Scratch buffers reused from page to page (one per rank); zero-initialise, free with ts_pq_reader_free. */
typedef struct ts_pq_reader {
    uint8_t *page; size_t page_cap;          /* decompressed page */
    uint8_t *dict_page; size_t dict_page_cap;/* decompressed dictionary page (its views point here) */
    uint8_t *def; size_t def_cap;            /* definition levels, one byte a row */
    uint8_t *dense; size_t dense_cap;        /* dense values before nulls are spread in */
    uint8_t *vals; size_t vals_cap;          /* decoded physical values (delta, byte stream split, booleans) */
    uint64_t *u64; size_t u64_cap;           /* delta scratch (three arrays of n) */
    uint32_t *idx; size_t idx_cap;           /* dictionary indices */
    ts_pq_sv *sv; size_t sv_cap;             /* string views of a page */
    int32_t *codes; size_t codes_cap;        /* interned codes of a page */
    uint8_t *text; size_t text_cap;          /* rebuilt strings (DELTA_BYTE_ARRAY, UUID text) */
    /* the current chunk's dictionary */
    int32_t dict_n;                          /* -1: none */
    uint8_t *dict_vals; size_t dict_vals_cap;/* fixed-width outputs: values in the Tessera type */
    ts_pq_sv *dict_sv; size_t dict_sv_cap;   /* string outputs: views */
    int32_t *dict_code; size_t dict_code_cap;/* interned codes of the dictionary's values */
    uint8_t *dict_text; size_t dict_text_cap;/* UUID text of the dictionary's values */
} ts_pq_reader;

void ts_pq_reader_free(ts_pq_reader *r);

/* Where a column chunk's rows go. */
typedef struct ts_pq_target {
    ts_column *col;        /* rows are appended (type: the column's, or INT32 codes while intern is set) */
    ts_pq_intern *intern;  /* STRING columns: values are interned and col holds codes; when the set is full the
                              reader turns col into a STRING column (freeing the codes) and sets intern to NULL
                              (the caller still owns the set) */
} ts_pq_target;

/* Decodes column chunk col of row group rg and appends its rows to t. */
ts_err ts_pq_read_chunk(ts_pq_reader *r, const ts_pq_file *f, int rg, int col, ts_pq_target *t);

/* A statistic in the column's Tessera type: i for BOOL, INT32, INT64, DATE and DECIMAL (scaled), f for FLOAT64,
 * s / len for STRING. */
typedef struct ts_pq_value {
    int64_t i;
    double f;
    const uint8_t *s;
    uint32_t len;
} ts_pq_value;

/* The chunk's min and max in the column's type, when the file records trustworthy ones: returns 1 and fills
 * them, else 0. *nulls receives the null count (-1 unknown). */
int ts_pq_chunk_bounds(const ts_pq_file *f, int rg, int col, ts_pq_value *min, ts_pq_value *max, int64_t *nulls);

#endif
