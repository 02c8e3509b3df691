/* Built-in jobs, run by the CLI (`tessera run JOB ...`). Each job builds a plan of stages from the engine's
 * operators and runs it; all are collective over ctx. */
#ifndef TS_JOBS_H
#define TS_JOBS_H

#include "ts_ctx.h"

typedef struct ts_job_args {
    const char *data_dir;
    const char *out_path;
    int overwrite;
    int profile;   /* print the per-stage profile */
    int explain;   /* print the plan before running */
    const char *rules_path; /* cleaning rules file; NULL: the job's built-in rules */
} ts_job_args;

/* domain.md's bank-analytics: ingest, clean, partition by (country, month), join FX, aggregate, write HDF5. */
ts_err ts_job_bank_analytics(ts_ctx *ctx, const ts_job_args *args);

#endif
