/* `tessera report`: one self-contained HTML page (inline CSS and SVG, no scripts, no network) showing the tables of
 * Tessera HDF5 outputs (docs/hdf5-layout.md; any group of 1-D datasets of equal length reads as a table).
 *
 * For each table: schema with a profile of each column (non-null values, distinct values, min, max, mean), a sample
 * of rows and a chart suited to each column (histogram of numbers, rows per month of dates, top values of
 * categories). Highlights found by column names, whatever the table is called: volume in USD and success rate per
 * country over months (country_code + month + volume_usd / success_rate), the sector mix (sector + volume_usd),
 * rejected rows per reason (metric + count, or reason), data-quality tests passed / warned / failed (test +
 * status), validity per column and quality scores. docs/report.md describes the page.
 *
 * Runs on one process (the calling rank, MPI_COMM_SELF); reads every table whole (result tables are small; the
 * memory needed is the largest table). */
#ifndef TS_REPORT_H
#define TS_REPORT_H

#include "ts_error.h"

typedef struct ts_report_options {
    const char *const *inputs; /* HDF5 files */
    int ninputs;
    const char *out_path;      /* the HTML file (written under a temporary name, renamed when complete) */
    int overwrite;             /* replace out_path if it exists */
    int sample_rows;           /* rows shown per table (0: 10) */
} ts_report_options;

/* Writes the report. Errors: unreadable, corrupt or non-HDF5 inputs and existing outputs are TS_ERR_IO, inputs
 * holding no table TS_ERR_DATA, with the file named. A table that cannot be read is shown with its error. */
ts_err ts_report_write(const ts_report_options *opt);

#endif
