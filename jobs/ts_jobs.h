/* Built-in jobs, run by the CLI (`tessera run JOB ...`). Each job builds a plan of stages from the engine's
 * operators and runs it; all are collective over ctx. The registry (jobs/ts_jobs.c) lists them for the CLI. */
#ifndef TS_JOBS_H
#define TS_JOBS_H

#include <stdint.h>

#include "ts_ctx.h"

typedef struct ts_job_args {
    const char *data_dir;   /* --data DIR: input directory */
    const char *in_path;    /* --in FILE: input HDF5 file (jobs that read earlier outputs) */
    const char *out_path;   /* --out FILE: output HDF5 file (or directory, with --format parquet|csv) */
    int out_format;         /* --format: TS_OUT_H5 (0, default), TS_OUT_PARQUET, TS_OUT_CSV (engine/ts_output.h) */
    int overwrite;
    int profile;            /* print the per-stage profile */
    int explain;            /* print the plan before running */
    const char *rules_path; /* cleaning rules file; NULL: the job's built-in rules */
    int64_t limit;          /* --limit N: rows a ranking job keeps (0: its default) */
    const char *tests_path; /* --tests FILE: data-quality tests; NULL: the job's built-in tests */
    int64_t memory_limit;   /* --memory-limit BYTES per rank (0: the default share of the node's memory) */
    const char *spill_dir;  /* --spill-dir DIR for partitions that do not fit (NULL: $TMPDIR, else /tmp) */
    const char *checkpoint_dir; /* --checkpoint DIR: persist each completed stage there (NULL: no checkpoints) */
    int resume;             /* --resume: skip the stages already checkpointed in checkpoint_dir */
    const char *scd2_path;  /* --scd2 FILE: star-schema's type-2 customer dimension (an scd2 output); NULL: none */
    const char *type1_cols; /* --type1 COL,...: scd2's type-1 columns (updated in place); NULL: none */
    const char *hard_deletes; /* --hard-deletes invalidate|new_record: scd2's handling of deleted rows; NULL: default */
} ts_job_args;

typedef ts_err (*ts_job_fn)(ts_ctx *ctx, const ts_job_args *args);

/* What a job requires on the command line; TS_SPILLS: it keeps to --memory-limit by spilling to --spill-dir. */
enum { TS_NEEDS_DATA = 1, TS_NEEDS_IN = 2, TS_NEEDS_OUT = 4, TS_SPILLS = 8 };

typedef struct ts_job {
    const char *name;
    const char *summary;  /* one line for `tessera --help` */
    int needs;            /* TS_NEEDS_* */
    ts_job_fn run;
} ts_job;

/* The job called name, or NULL. */
const ts_job *ts_job_find(const char *name);
/* All jobs, *n of them (static storage). */
const ts_job *ts_jobs_all(int *n);

/* domain.md's bank-analytics: ingest, clean, partition by (country, month), join FX, aggregate, write HDF5. */
ts_err ts_job_bank_analytics(ts_ctx *ctx, const ts_job_args *args);
/* issue 3: column profile, dbt-style tests and per-row quality scores of the transactions; docs/jobs/data-quality.md. */
ts_err ts_job_data_quality(ts_ctx *ctx, const ts_job_args *args);
/* issue 3: type-2 slowly changing customer dimension from a tessera-gen snapshot; docs/jobs/scd2.md. */
ts_err ts_job_scd2(ts_ctx *ctx, const ts_job_args *args);
/* issue 3: the bank data as a star schema (dims with dense surrogate keys, fact, rejects); docs/jobs/star-schema.md. */
ts_err ts_job_star_schema(ts_ctx *ctx, const ts_job_args *args);
/* issue 3: top customers by successful amount_usd from a star-schema warehouse (--in), --limit N (100). */
ts_err ts_job_top_customers(ts_ctx *ctx, const ts_job_args *args);
/* issue 3's operator benchmark on scripts/bench/ops.sh data: join, group-bys, sort; checksums to HDF5. */
ts_err ts_job_bench_ops(ts_ctx *ctx, const ts_job_args *args);

#endif
