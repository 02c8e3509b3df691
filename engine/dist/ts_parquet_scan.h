/* Parallel Parquet scan: a dataset (files from paths, patterns with `**`, directories; optional Hive partition
 * columns from `key=value` directories) read by every rank, each its share of the row groups. Collective: every
 * rank calls each function in the same order with the same arguments.
 *
 * Work split: the row groups that survive pruning, in (file, row group) order, are cut into P contiguous runs of
 * about equal compressed size (of the columns read), so rank r holds the r-th part of the dataset in file order,
 * whatever P, and only the needed column chunks are read. Footers are read in parallel (file i by rank i mod P)
 * and the row-group list is allgathered.
 * Pruning: predicates on columns (col op constant) skip row groups whose min/max statistics exclude them, and
 * files whose Hive partition values do; they are hints only (the caller still filters the rows).
 * Strings: a column whose chunks are dictionary-encoded stays codes from page to output, with a global
 * dictionary agreed across ranks (sorted, identical everywhere, like read_csv's: engine/ts_dict_encode.h) when it
 * has at most dict_max distinct values; otherwise the column is STRING.
 * Errors name the file (and column, row group) and are collective: one rank's corrupt file ends the scan on all
 * ranks with that message. */
#ifndef TS_PARQUET_SCAN_H
#define TS_PARQUET_SCAN_H

#include "ts_ctx.h"
#include "ts_file.h"
#include "ts_parquet_read.h"
#include "ts_table.h"

/* A column of the dataset: from the files, or a Hive partition key. */
typedef struct ts_pq_dscol {
    char name[TS_NAME_MAX];
    ts_type type;
    int scale;
    int hive;              /* a partition key (its values come from the paths) */
    int lossy;             /* DECIMAL wider than 18 digits read as FLOAT64 */
    char desc[48];         /* the Parquet type ("hive BIGINT" for partition keys) */
} ts_pq_dscol;

typedef struct ts_pq_dataset {
    ts_file_info *files;   /* identical on every rank, sorted by path */
    int nfiles;
    ts_pq_dscol *cols;     /* file columns (the first file's schema), then the Hive keys */
    int ncols, nfile_cols;
    char **hive_values;    /* nfiles * (ncols - nfile_cols): the value in each file's path, NULL for
                              __HIVE_DEFAULT_PARTITION__ (URL-decoded, malloc'ed) */
    int64_t rows;          /* rows of the first file times the file count: an estimate for planning */
} ts_pq_dataset;

/* Lists the files of patterns[0..n) on rank 0 (ts_glob_files, suffix ".parquet"; duplicates across patterns
 * removed), reads the first file's schema there and broadcasts both; with hive != 0 every file's `key=value`
 * directories become columns (the same keys in every path, else an error), typed as DuckDB infers them: DATE when
 * every value is a YYYY-MM-DD date, BIGINT when every value is an integer written canonically, else STRING.
 * Collective; errors are collective. */
ts_err ts_pq_dataset_open(ts_ctx *ctx, const char *const *patterns, int n, int hive, ts_pq_dataset *out);
void ts_pq_dataset_free(ts_pq_dataset *ds);
int ts_pq_dataset_find(const ts_pq_dataset *ds, const char *name);

typedef enum { TS_PQ_OP_EQ, TS_PQ_OP_NE, TS_PQ_OP_LT, TS_PQ_OP_LE, TS_PQ_OP_GT, TS_PQ_OP_GE, TS_PQ_OP_IS_NULL,
               TS_PQ_OP_NOT_NULL, TS_PQ_OP_IN } ts_pq_op;

/* col op constant, the constant in the column's representation: x for numbers (DATE in days, DECIMAL scaled by
 * 10^scale, BOOL 0/1), s/len for strings; IN: nvals values in xs / ss / lens. eps widens every numeric comparison
 * (x may be inexact, e.g. 0.1 scaled to a decimal): pruning stays conservative. */
typedef struct ts_pq_pred {
    int col;               /* index into the dataset's columns */
    ts_pq_op op;
    long double x, eps;
    const char *s;
    size_t len;
    int nvals;
    const long double *xs;
    const char *const *ss;
    const size_t *lens;
} ts_pq_pred;

typedef struct ts_pq_scan_opts {
    const int *cols;       /* dataset columns to read, in output order */
    int ncols;
    const ts_pq_pred *preds;
    int npreds;
    int64_t dict_max;      /* strings with at most this many distinct values become DICT (0: never) */
} ts_pq_scan_opts;

typedef struct ts_pq_scan_stats {
    int files, files_read;          /* after Hive pruning */
    int64_t row_groups, row_groups_read;
    int64_t rows;                   /* rows read, global */
    int64_t bytes;                  /* compressed bytes of the column chunks read, global */
} ts_pq_scan_stats;

/* Reads the dataset's columns o->cols (names as in the dataset) into *out (new, one table per rank; rows in file
 * order, rank by rank). st may be NULL. Collective. */
ts_err ts_pq_scan(ts_ctx *ctx, const ts_pq_dataset *ds, const ts_pq_scan_opts *o, ts_table **out,
                  ts_pq_scan_stats *st);

#endif
