/* Parquet files, written: a table's rows encoded as row groups of column chunks in memory, then a footer. Per rank,
 * no MPI; the collective writers (one file from all ranks, or a directory of part files, Hive-partitioned or not)
 * are engine/ts_parquet_sink.h.
 *
 * Layout: every column OPTIONAL (so files of one dataset share a schema whatever their nulls). BOOL -> BOOLEAN,
 * INT32 -> INT32, INT64 -> INT64, FLOAT64 -> DOUBLE, DATE -> INT32 (DATE), DECIMAL -> INT64 (DECIMAL(18, scale)),
 * TIMESTAMP -> INT64 (TIMESTAMP(MICROS), not adjusted to UTC),
 * STRING and DICT -> BYTE_ARRAY (STRING; raw bytes without the annotation for columns named in binary_cols).
 * Data pages v1 of about 1 MiB, definition levels RLE, values PLAIN; strings dictionary-encoded (a dictionary page
 * + RLE_DICTIONARY indices) when that pays: DICT columns always (the dictionary page holds the codes the row
 * group uses, in dictionary order), STRING columns when at most half the values are distinct. Each chunk records
 * null_count, min_value and max_value (NaN excluded; strings longer than 1 KiB get no min/max). */
#ifndef TS_PARQUET_WRITE_H
#define TS_PARQUET_WRITE_H

#include "ts_parquet_meta.h"
#include "ts_table.h"

typedef struct ts_pq_write_opts {
    int codec;                 /* TS_PQ_SNAPPY (default when the struct is zeroed: UNCOMPRESSED; say it) */
    int level;                 /* the codec's level, 0: its default */
    int64_t row_group_rows;    /* rows per row group; 0: 122880 (DuckDB's default) */
    int no_dictionary;         /* 1: never dictionary-encode */
    const char *const *binary_cols; /* STRING columns holding raw bytes (no STRING annotation) */
    int nbinary;
} ts_pq_write_opts;

/* Encodes row groups of tables with one schema into a memory buffer of pages. */
typedef struct ts_pq_writer {
    ts_pq_write_opts opt;
    int ncols;
    ts_pq_schema_elem schema[TS_MAX_COLS + 1];
    char names[TS_MAX_COLS][TS_NAME_MAX];
    uint8_t *buf;              /* the pages: a file's bytes from offset 4 (after "PAR1") */
    size_t len, cap;
    ts_pq_chunk_out *chunks;   /* nrg * ncols */
    int64_t *rg_rows;
    int nrg, rg_cap;
    int64_t rows;
    uint8_t *stats;            /* min / max values of every chunk, at stat_off[2 * chunk] and [2 * chunk + 1] */
    size_t stats_len, stats_cap;
    int64_t *stat_off;         /* -1: none */
    /* scratch */
    uint8_t *page, *zpage, *vals;
    size_t page_cap, zpage_cap, vals_cap;
    uint8_t *def;
    size_t def_cap;
    uint32_t *idx;
    size_t idx_cap;
} ts_pq_writer;

/* Starts a writer for tables with t's schema (names and types; at most TS_MAX_COLS columns). */
ts_err ts_pq_writer_init(ts_pq_writer *w, const ts_table *t, const ts_pq_write_opts *opt);
void ts_pq_writer_free(ts_pq_writer *w);
/* Appends rows rows[0..n) of t (all of t when rows is NULL) as row groups. t has the writer's schema. */
ts_err ts_pq_writer_add(ts_pq_writer *w, const ts_table *t, const int64_t *rows, int64_t n);
/* The row groups as concatenated RowGroup structs with page offsets shifted by base (the file offset of the
 * writer's first page byte: 4 for a file of its own). */
ts_err ts_pq_writer_row_groups(const ts_pq_writer *w, int64_t base, ts_thrift_writer *out);
/* The file's tail: FileMetaData (schema of w, nrg row groups from rg_bytes, total rows), its length and "PAR1". */
ts_err ts_pq_writer_footer(const ts_pq_writer *w, const uint8_t *rg_bytes, size_t rg_len, int nrg, int64_t rows,
                           ts_thrift_writer *out);

/* Writes t (rows[0..n), or all rows when rows is NULL) to path as one Parquet file: written to a temporary name
 * in the same directory and renamed when complete. */
ts_err ts_pq_write_file(const char *path, const ts_table *t, const int64_t *rows, int64_t n,
                        const ts_pq_write_opts *opt);

/* "snappy", "zstd", "gzip", "uncompressed"/"none" (any case) -> codec; -1 if unknown. */
int ts_pq_codec_from_name(const char *name);

#endif
