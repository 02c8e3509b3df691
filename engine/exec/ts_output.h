/* A job's output (--out PATH --format h5|parquet|csv): its tables written as groups of one HDF5 file
 * (io/ts_h5.h), or as a directory holding one dataset directory per table (/analytics/country_month ->
 * PATH/analytics/country_month/part-RRRRR-<run id>.parquet + _SUCCESS, engine/ts_dataset_write.h) and a `_tessera`
 * file with the job, its inputs and Tessera's version. Both are crash-safe the same way: everything is written
 * under a temporary name next to PATH and renamed when complete; --overwrite replaces an earlier output (for a
 * directory, only one that holds a `_tessera` file and nothing but datasets). Collective. */
#ifndef TS_OUTPUT_H
#define TS_OUTPUT_H

#include "ts_ctx.h"
#include "ts_h5.h"

typedef enum { TS_OUT_H5, TS_OUT_PARQUET, TS_OUT_CSV } ts_out_format;

typedef struct ts_output ts_output;

/* "h5"/"hdf5", "parquet", "csv" -> format; -1 if unknown. */
int ts_out_format_from_name(const char *name);
/* Rank-local check before any work: as ts_h5_check_output for HDF5; for directories: absent, or replaceable with
 * overwrite, and a writable parent. */
ts_err ts_output_check(const char *path, int overwrite, ts_out_format fmt);
ts_err ts_output_create(ts_ctx *ctx, const char *path, int overwrite, const ts_h5_meta *meta, ts_out_format fmt,
                        ts_output **out);
/* Writes the distributed table as group_path ("/analytics/country_month"). opts: STRING columns of raw bytes
 * (HDF5 bytes+offsets; Parquet BYTE_ARRAY without the STRING annotation). */
ts_err ts_output_write_table(ts_output *o, const char *group_path, const ts_table *t, const ts_h5_table_opts *opts);
/* Renames the output to its final name. Frees o. */
ts_err ts_output_commit(ts_output *o);
/* Removes the temporary output (after a failure). Frees o. */
void ts_output_abandon(ts_output *o);

#endif
