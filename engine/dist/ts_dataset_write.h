/* Writing a distributed table as Parquet or CSV (SQL's COPY ... TO, the jobs' --format parquet|csv). Collective.
 *
 * One file (single_file): every rank encodes its rows in memory, an exclusive prefix sum of their sizes gives each
 * rank its offset, and all ranks write their part of the one file in parallel (pwrite); rank 0 adds the header
 * (Parquet: the magic and the footer with every rank's row groups, gathered). The file's rows are the ranks' rows
 * in rank order, so a sorted result stays sorted.
 * A directory (Spark's layout): each rank writes its own part-RRRRR-<run id>.parquet|csv; with partition_by, the
 * rows of each key tuple go to <dir>/<k1>=<v1>/<k2>=<v2>/part-RRRRR-<run id>.<ext> without the key columns
 * (values as CAST(x AS VARCHAR) gives them, escaped like Hive's paths with %XX; NULL as
 * __HIVE_DEFAULT_PARTITION__). Rank 0 writes a file even when it has no rows, so the schema is always there.
 * Crash safety: every file is written under a temporary name (.<name>.tmp-<pid>) and renamed when complete (the
 * one file's temporary is owned by rank 0 through io/ts_tmpfile.h, as the HDF5 writer's: an owner file that lets a
 * later run remove a dead writer's leftovers, the file's space reserved before the writes, and no replacing of a
 * file another job created meanwhile unless OVERWRITE); a
 * directory gets an empty _SUCCESS marker once every rank has finished (readers of the directory skip names that
 * start with '_' or '.'). An existing target is an error unless if_exists says otherwise; OVERWRITE removes only a
 * directory that looks like a dataset (part files, _SUCCESS, key=value directories) and refuses anything else. */
#ifndef TS_DATASET_WRITE_H
#define TS_DATASET_WRITE_H

#include "ts_ctx.h"
#include "ts_parquet_write.h"
#include "ts_table.h"

typedef enum { TS_WRITE_PARQUET, TS_WRITE_CSV } ts_write_format;
enum { TS_WRITE_FAIL_IF_EXISTS = 0, TS_WRITE_OVERWRITE = 1, TS_WRITE_ADD_FILES = 2 /* OVERWRITE_OR_IGNORE */ };

typedef struct ts_write_opts {
    ts_write_format format;
    ts_pq_write_opts parquet;        /* codec, row group size, columns of raw bytes */
    char delim;                      /* CSV (default ',') */
    int header;                      /* CSV: a header line */
    const char *const *partition_by; /* column names (directory output only) */
    int npartition;
    int single_file;                 /* path is one file */
    int if_exists;                   /* TS_WRITE_FAIL_IF_EXISTS, TS_WRITE_OVERWRITE, TS_WRITE_ADD_FILES */
    const char *run_id;              /* file names' id; NULL: a new random one */
} ts_write_opts;

typedef struct ts_write_result {
    int64_t rows;                    /* global */
    int64_t files;                   /* global (data files) */
} ts_write_result;

ts_err ts_write_dataset(ts_ctx *ctx, const ts_table *t, const char *path, const ts_write_opts *o,
                        ts_write_result *res);

/* Rank-local check that path can become a directory dataset: absent, or (if_exists) an existing directory that
 * OVERWRITE may clear. Used by the CLI before a job spends any work. */
ts_err ts_write_check_target(const char *path, int if_exists, int single_file);

/* Removes a dataset directory (only part files, _SUCCESS, temporaries and key=value directories; anything else is
 * refused before anything is removed). Rank-local. */
ts_err ts_remove_dataset_dir(const char *path);
/* Removes a job's output directory (engine/ts_output.h): it must hold a _tessera file, and below it only
 * directories and dataset files. check_only: only checks. Rank-local. */
ts_err ts_remove_output_dir(const char *path, int check_only);

#endif
