/* read_csv's schema across ranks: rank 0 infers it from the start of the first non-empty input file
 * (io/ts_csv_infer.h) and every rank gets the same result. Collective. */
#ifndef TS_CSV_SCHEMA_H
#define TS_CSV_SCHEMA_H

#include "ts_csv_infer.h"
#include "ts_ctx.h"
#include "ts_file.h"

/* Sends root's *inf to every rank (the others allocate their arrays; free with ts_csv_inferred_free). Collective. */
ts_err ts_csv_inferred_bcast(ts_ctx *ctx, ts_csv_inferred *inf, int root);

/* Rank 0 loads the first 64 MiB (at most) of the first file of files[0..nfiles) whose content is not empty, runs
 * ts_csv_infer on it and broadcasts the result into *out on every rank. files and opts matter on rank 0 only.
 * Errors are collective and name the file ("data/a.csv: line 1 is not valid CSV ..."); every file empty is
 * TS_ERR_DATA. The caller frees *out with ts_csv_inferred_free (nothing to free after an error). */
ts_err ts_csv_infer_files(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_infer_opts *opts,
                          ts_csv_inferred *out);

#endif
