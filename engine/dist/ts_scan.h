/* Parallel CSV scan operator: splits a list of CSV files (a directory's, or read_csv's glob) across ranks, scans each rank's share with
 * cleaning rules (io/ts_csv.h) and numbers every line globally. Collective.
 *
 * Work split: plain files are concatenated (in name order) and cut into P equal byte ranges; a rank owns the
 * lines that start in its range, so no line is lost or read twice. Gzip files cannot be split: whole files go to
 * ranks by longest-processing-time-first on their compressed size. Line numbers: each rank counts the lines
 * starting in each of its ranges; an allgather of those counts gives every range its first line number. */
#ifndef TS_SCAN_H
#define TS_SCAN_H

#include "ts_csv.h"
#include "ts_ctx.h"
#include "ts_file.h"

/* Global position of a line: file index (in name order) and 1-based line number, ordered like the input. */
#define TS_POS_LINE_BITS 40
static inline int64_t ts_pos_make(int32_t file, int64_t line) { return ((int64_t)file << TS_POS_LINE_BITS) | line; }
static inline int32_t ts_pos_file(int64_t pos) { return (int32_t)(pos >> TS_POS_LINE_BITS); }
static inline int64_t ts_pos_line(int64_t pos) { return pos & ((INT64_C(1) << TS_POS_LINE_BITS) - 1); }

typedef struct ts_scan_range {
    int32_t file;
    int64_t begin, end;     /* byte range in the file's (inflated) content */
    int64_t first_line;     /* 1-based number of the range's first line */
    int64_t nlines;         /* lines starting in the range (header included) */
    int64_t mark0, nmarks;  /* its line marks: ts_scan.marks[mark0 ..+ nmarks) (ts_csv_sink.marks); 0, 0: none */
} ts_scan_range;

typedef struct ts_scan {
    ts_file_info *files;    /* every input file, identical on all ranks */
    int nfiles;
    ts_scan_range *ranges;  /* this rank's ranges */
    int nranges;
    ts_file_data *data;     /* loaded content of each file this rank reads (index = file; unused ones empty) */
    ts_table *clean;        /* clean rows; __line replaced by __pos (ts_pos_make) */
    ts_table *rejects;      /* __pos, reason (int32), raw_line */
    int64_t rows_read;      /* data lines this rank read (headers excluded) */
    int header_warnings;    /* files whose line 1 was not the expected header */
    int drop_pages;         /* scanned under a memory budget: pages read again are dropped after use too */
    int64_t *marks;         /* the ranges' line marks (malloc'ed), for ts_scan_fetch_lines */
} ts_scan;

/* Scans files[0..nfiles) (plain or .gz by their gz flag), which must be the same list, in the same order, on every
 * rank (checked: TS_ERR_USAGE otherwise); file indexes in positions are indexes into it. The list is copied into
 * out->files. Every line is read by exactly one rank whatever P; rows come out in input order on each rank.
 * Files stay loaded (mmap'ed) until ts_scan_free, so raw lines can be fetched later. Collective. */
ts_err ts_scan_csv_files(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_spec *spec, ts_scan *out);

/* Scanning under a memory budget: plain byte ranges are cut into pieces of at most chunk_bytes (0: whole
 * ranges); after each piece, batch(arg, clean, first_row, range) may move the piece's clean rows (rows first_row
 * to the end of clean) elsewhere, removing them from clean. Their __line column still holds range-local line
 * indexes then: ts_scan_line_pos converts one once the scan has numbered its lines. The piece's mapped pages
 * leave the resident set afterwards. batch may be NULL. */
typedef ts_err (*ts_scan_batch_fn)(void *arg, ts_table *clean, int64_t first_row, int range);
typedef struct ts_scan_opts {
    int64_t chunk_bytes;
    ts_scan_batch_fn batch;
    void *arg;
} ts_scan_opts;

/* ts_scan_csv_files with options (NULL: none). */
ts_err ts_scan_csv_files_opts(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_spec *spec,
                              const ts_scan_opts *opts, ts_scan *out);

/* The global position of range-local line index `local` of range `range` (after the scan). */
static inline int64_t ts_scan_line_pos(const ts_scan *s, int range, int64_t local)
{
    return ts_pos_make(s->ranges[range].file, s->ranges[range].first_line + local);
}

/* Scans the files in dir ending in .csv or .csv.gz (rank 0 lists them and broadcasts the list). A missing
 * directory, or one with no CSV file, is TS_ERR_IO. Collective. */
ts_err ts_scan_csv(ts_ctx *ctx, const char *dir, const ts_csv_spec *spec, ts_scan *out);

/* read_csv's file selection, collectively: rank 0 runs ts_list_inputs(pattern) and broadcasts the list, so every
 * rank gets the same files (*files malloc'ed on every rank, caller frees). Errors are collective. */
ts_err ts_scan_list_inputs(ts_ctx *ctx, const char *pattern, ts_file_info **files, int *n);
/* Rank 0's file list (or its listing error err) made collective: *files / *n on every rank (malloc'ed, caller
 * frees), or the error on every rank. */
ts_err ts_scan_share_files(ts_ctx *ctx, ts_err err, ts_file_info **files, int *n);
void ts_scan_free(ts_scan *s);

/* Appends the raw bytes of the lines at positions pos[0..n) (ascending, all read by this rank) to raw. */
ts_err ts_scan_fetch_lines(const ts_scan *s, const int64_t *pos, int64_t n, ts_column *raw);

#endif
