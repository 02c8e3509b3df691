/* Parquet's metadata structures (parquet.thrift): the footer's FileMetaData and the page headers, decoded from and
 * encoded to Thrift's compact protocol (ts_parquet_thrift.h). Only the fields a flat-schema reader and writer use
 * are kept; the others are skipped (forward compatible). Per thread, no MPI.
 *
 * Decoding validates structure and ranges (required fields present, counts and offsets non-negative, enum values
 * known where they matter) and fails with a message saying what is wrong; strings and statistics point into the
 * caller's buffer, which must outlive the result. */
#ifndef TS_PARQUET_META_H
#define TS_PARQUET_META_H

#include <stddef.h>
#include <stdint.h>

#include "ts_error.h"
#include "ts_parquet_thrift.h"

/* Physical types */
enum { TS_PQ_BOOLEAN, TS_PQ_INT32, TS_PQ_INT64, TS_PQ_INT96, TS_PQ_FLOAT, TS_PQ_DOUBLE, TS_PQ_BYTE_ARRAY,
       TS_PQ_FLBA };
/* Converted types (legacy annotations) */
enum { TS_PQ_CT_NONE = -1, TS_PQ_CT_UTF8 = 0, TS_PQ_CT_MAP = 1, TS_PQ_CT_MAP_KEY_VALUE = 2, TS_PQ_CT_LIST = 3,
       TS_PQ_CT_ENUM = 4, TS_PQ_CT_DECIMAL = 5, TS_PQ_CT_DATE = 6, TS_PQ_CT_TIME_MILLIS = 7,
       TS_PQ_CT_TIME_MICROS = 8, TS_PQ_CT_TIMESTAMP_MILLIS = 9, TS_PQ_CT_TIMESTAMP_MICROS = 10, TS_PQ_CT_UINT_8 = 11,
       TS_PQ_CT_UINT_16 = 12, TS_PQ_CT_UINT_32 = 13, TS_PQ_CT_UINT_64 = 14, TS_PQ_CT_INT_8 = 15,
       TS_PQ_CT_INT_16 = 16, TS_PQ_CT_INT_32 = 17, TS_PQ_CT_INT_64 = 18, TS_PQ_CT_JSON = 19, TS_PQ_CT_BSON = 20,
       TS_PQ_CT_INTERVAL = 21 };
/* Logical types (the LogicalType union's field ids) */
enum { TS_PQ_LT_NONE = 0, TS_PQ_LT_STRING = 1, TS_PQ_LT_MAP = 2, TS_PQ_LT_LIST = 3, TS_PQ_LT_ENUM = 4,
       TS_PQ_LT_DECIMAL = 5, TS_PQ_LT_DATE = 6, TS_PQ_LT_TIME = 7, TS_PQ_LT_TIMESTAMP = 8, TS_PQ_LT_INTEGER = 10,
       TS_PQ_LT_UNKNOWN = 11, TS_PQ_LT_JSON = 12, TS_PQ_LT_BSON = 13, TS_PQ_LT_UUID = 14, TS_PQ_LT_FLOAT16 = 15,
       TS_PQ_LT_OTHER = 99 };
/* Time units of TIME / TIMESTAMP */
enum { TS_PQ_MILLIS = 1, TS_PQ_MICROS = 2, TS_PQ_NANOS = 3 };
/* Repetition */
enum { TS_PQ_REQUIRED = 0, TS_PQ_OPTIONAL = 1, TS_PQ_REPEATED = 2 };
/* Encodings */
enum { TS_PQ_PLAIN = 0, TS_PQ_PLAIN_DICTIONARY = 2, TS_PQ_RLE = 3, TS_PQ_BIT_PACKED = 4,
       TS_PQ_DELTA_BINARY_PACKED = 5, TS_PQ_DELTA_LENGTH_BYTE_ARRAY = 6, TS_PQ_DELTA_BYTE_ARRAY = 7,
       TS_PQ_RLE_DICTIONARY = 8, TS_PQ_BYTE_STREAM_SPLIT = 9 };
/* Codecs */
enum { TS_PQ_UNCOMPRESSED = 0, TS_PQ_SNAPPY = 1, TS_PQ_GZIP = 2, TS_PQ_LZO = 3, TS_PQ_BROTLI = 4, TS_PQ_LZ4 = 5,
       TS_PQ_ZSTD = 6, TS_PQ_LZ4_RAW = 7 };
/* Page types */
enum { TS_PQ_DATA_PAGE = 0, TS_PQ_INDEX_PAGE = 1, TS_PQ_DICTIONARY_PAGE = 2, TS_PQ_DATA_PAGE_V2 = 3 };

typedef struct ts_pq_schema_elem {
    const char *name;        /* into the footer's bytes, not NUL-terminated */
    uint32_t name_len;
    int type;                /* physical type, -1 for a group */
    int32_t type_length;     /* FIXED_LEN_BYTE_ARRAY */
    int repetition;          /* -1 when absent (the root) */
    int32_t num_children;    /* groups */
    int converted;           /* TS_PQ_CT_*, TS_PQ_CT_NONE when absent */
    int32_t scale, precision;
    int logical;             /* TS_PQ_LT_*, TS_PQ_LT_NONE when absent */
    int lt_unit;             /* TIME / TIMESTAMP: TS_PQ_MILLIS... */
    int lt_utc;              /* TIME / TIMESTAMP: isAdjustedToUTC */
    int lt_bits, lt_signed;  /* INTEGER */
    int32_t lt_scale, lt_precision; /* DECIMAL */
} ts_pq_schema_elem;

/* Column statistics; min/max are the plain encoding of one value (little-endian numbers, raw bytes for strings). */
typedef struct ts_pq_stats {
    const uint8_t *min, *max;
    uint32_t min_len, max_len;
    int has_min, has_max;
    int legacy;              /* min/max come from the deprecated fields (signed order, unreliable for strings) */
    int64_t null_count;      /* -1 when absent */
} ts_pq_stats;

typedef struct ts_pq_chunk {
    int type;
    int codec;
    uint32_t encodings;      /* bit e set: encoding e appears */
    int64_t num_values;
    int64_t total_uncompressed, total_compressed;
    int64_t data_page_offset;
    int64_t dict_page_offset;    /* -1 when absent */
    int has_file_path;           /* the chunk lives in another file (unsupported) */
    int path_depth;              /* entries of path_in_schema */
    ts_pq_stats stats;
    int has_stats;
} ts_pq_chunk;

typedef struct ts_pq_row_group {
    int64_t num_rows;
    int64_t total_byte_size;
    ts_pq_chunk *cols;
    int ncols;
} ts_pq_row_group;

typedef struct ts_pq_meta {
    int32_t version;
    int64_t num_rows;
    ts_pq_schema_elem *schema;  /* depth-first, [0] is the root */
    int nschema;
    ts_pq_row_group *rgs;
    int nrgs;
    char created_by[128];
} ts_pq_meta;

/* Decodes a FileMetaData of len bytes. Errors (TS_ERR_DATA) say what is wrong, without the file name (the caller
 * adds it). *out holds pointers into data. */
ts_err ts_pq_meta_decode(const uint8_t *data, size_t len, ts_pq_meta *out);
void ts_pq_meta_free(ts_pq_meta *m);

typedef struct ts_pq_page_header {
    int type;
    int32_t uncompressed_size, compressed_size;
    int32_t num_values;      /* data pages (v1 and v2) and dictionary pages */
    int encoding;
    int def_encoding, rep_encoding;           /* v1 */
    int32_t num_nulls, num_rows, def_len, rep_len; /* v2 */
    int is_compressed;                        /* v2 (default 1) */
} ts_pq_page_header;

/* Decodes a page header at data[0..len); *used receives its size. Errors (TS_ERR_DATA) say what is wrong. */
ts_err ts_pq_page_header_decode(const uint8_t *data, size_t len, ts_pq_page_header *out, size_t *used);

/* ---- encoding (the writer) ---- */

void ts_pq_page_header_encode(ts_thrift_writer *w, const ts_pq_page_header *h);

/* Statistics to write: min/max as plain-encoded bytes (NULL: absent). */
typedef struct ts_pq_stats_out {
    const void *min, *max;
    size_t min_len, max_len;
    int64_t null_count;
} ts_pq_stats_out;

typedef struct ts_pq_chunk_out {
    int type, codec;
    const char *name;            /* path_in_schema: one element (flat schemas) */
    uint32_t encodings;          /* bit set, as ts_pq_chunk */
    int64_t num_values, total_uncompressed, total_compressed;
    int64_t data_page_offset, dict_page_offset; /* dict_page_offset < 0: none */
    ts_pq_stats_out stats;
} ts_pq_chunk_out;

/* One RowGroup struct (as a list element) for chunks[0..ncols), with file offsets shifted by `base`. */
void ts_pq_row_group_encode(ts_thrift_writer *w, const ts_pq_chunk_out *chunks, int ncols, int64_t num_rows,
                            int64_t base);

/* A FileMetaData: the schema (elements [0] the root), then nrg row groups already encoded as list elements in
 * rg_bytes (concatenated RowGroup structs, e.g. gathered from several ranks). */
void ts_pq_file_meta_encode(ts_thrift_writer *w, const ts_pq_schema_elem *schema, int nschema, int64_t num_rows,
                            const uint8_t *rg_bytes, size_t rg_len, int nrg, const char *created_by);

#endif
