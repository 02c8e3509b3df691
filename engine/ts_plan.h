/* Plans: a job is an ordered list of stages, each applying engine operators to the job's state. The executor
 * runs them on every rank in the same order, agrees on errors after each stage (so one rank's failure stops all
 * ranks with its message), prints progress on rank 0, and records a profile per stage: wall time, rows in and
 * out, bytes sent in exchanges and peak RSS, reported as min/max over ranks (like PETSc's -log_view). */
#ifndef TS_PLAN_H
#define TS_PLAN_H

#include <stdio.h>

#include "ts_ctx.h"

#define TS_PLAN_MAX_STAGES 32

typedef struct ts_stage_stats {
    double seconds;
    int64_t rows_in, rows_out; /* set by the stage: local rows consumed and produced */
    int64_t bytes_sent;        /* filled by the executor from ctx->bytes_sent */
    int64_t peak_rss;          /* filled by the executor */
} ts_stage_stats;

typedef ts_err (*ts_stage_fn)(ts_ctx *ctx, void *state, ts_stage_stats *stats);

typedef struct ts_stage {
    char name[48];
    char ops[64]; /* the operators it applies, for the profile and EXPLAIN-style listings */
    ts_stage_fn fn;
    ts_stage_stats stats;
} ts_stage;

typedef struct ts_plan {
    char job[64];
    ts_stage stages[TS_PLAN_MAX_STAGES];
    int nstages;
    double total_seconds;
} ts_plan;

void ts_plan_init(ts_plan *p, const char *job);
ts_err ts_plan_add(ts_plan *p, const char *name, const char *ops, ts_stage_fn fn);
/* Runs every stage; collective. Stops at the first stage that fails on any rank. */
ts_err ts_plan_run(ts_ctx *ctx, ts_plan *p, void *state);
/* Collective: rank 0 prints the profile table to out. */
ts_err ts_plan_print_profile(ts_ctx *ctx, const ts_plan *p, FILE *out);
/* Rank 0 prints the stages and their operators. */
void ts_plan_print(const ts_ctx *ctx, const ts_plan *p, FILE *out);

#endif
