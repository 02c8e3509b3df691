/* Column statistics of CSV files from a sample, for the SQL planner's estimates before anything is scanned:
 * rank 0 reads the head of the first file (1 MiB), splits its lines with the inferred schema and estimates
 * every column's distinct values (Haas & Stokes' Duj1 estimator from the sample's distinct and once-seen values),
 * NULL fraction, range (numbers, dates) and width; the total rows are extrapolated from the sample's bytes per
 * line. Collective: every rank receives the same figures. */
#ifndef TS_CSV_SAMPLE_H
#define TS_CSV_SAMPLE_H

#include "ts_csv_infer.h"
#include "ts_ctx.h"
#include "ts_file.h"
#include "ts_table_stats.h"

/* out[i] for column i of inf (inf->ncols entries); *rows: the estimated rows of all the files. */
ts_err ts_csv_sample_stats(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_inferred *inf,
                           ts_col_stats *out, double *rows);

#endif
