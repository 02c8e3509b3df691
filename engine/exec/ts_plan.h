/* Plans: a job is an ordered list of stages, each applying engine operators to the job's state. The executor
 * runs them on every rank in the same order, agrees on errors after each stage (so one rank's failure stops all
 * ranks with its message), prints progress on rank 0, and records a profile per stage: wall time, rows in and
 * out, bytes sent in exchanges and peak RSS, reported as min/max over ranks (like PETSc's -log_view). */
#ifndef TS_PLAN_H
#define TS_PLAN_H

#include <stdio.h>

#include "ts_checkpoint.h"
#include "ts_ctx.h"
#include "ts_op.h"

#define TS_PLAN_MAX_STAGES 32

/* A stage's counters are a profile entry (engine/core/ts_op.h): the stage sets rows_in and rows_out (local rows
 * consumed and produced); the executor fills seconds, bytes_sent (from ctx->bytes_sent) and mem_peak (the
 * process's peak RSS). */
typedef ts_prof ts_stage_stats;

typedef ts_err (*ts_stage_fn)(ts_ctx *ctx, void *state, ts_stage_stats *stats);

/* Saves the job's state after `stage` into ck, or loads it back from ck (ts_checkpoint.h); collective. */
typedef ts_err (*ts_checkpoint_fn)(ts_ctx *ctx, void *state, const char *stage, ts_checkpoint *ck);

/* Stage flags (ts_plan_set_flags). */
enum {
    TS_STAGE_CHECKPOINT = 1, /* with checkpointing on, the state is saved after this stage (a resume point) */
    TS_STAGE_ALWAYS = 2      /* runs on resume too (cheap stages whose results are not in checkpoints) */
};

typedef struct ts_stage {
    char name[48];
    char ops[64]; /* the operators it applies, for the profile and EXPLAIN-style listings */
    ts_stage_fn fn;
    ts_stage_stats stats;
    int flags;    /* TS_STAGE_* */
    int skipped;  /* set by ts_plan_run: restored from a checkpoint instead of run */
} ts_stage;

typedef struct ts_plan {
    char job[64];
    ts_stage stages[TS_PLAN_MAX_STAGES];
    int nstages;
    double total_seconds;
    struct {
        const char *dir;         /* NULL: no checkpoints */
        int resume;
        const char *fingerprint; /* the run's fingerprint text (ts_fingerprint.h); only rank 0's is used */
        ts_checkpoint_fn save, load;
    } ck;
} ts_plan;

void ts_plan_init(ts_plan *p, const char *job);
ts_err ts_plan_add(ts_plan *p, const char *name, const char *ops, ts_stage_fn fn);
/* Sets the TS_STAGE_* flags of the stage called name (TS_ERR_USAGE when there is none). */
ts_err ts_plan_set_flags(ts_plan *p, const char *name, int flags);
/* Turns checkpointing on: after every TS_STAGE_CHECKPOINT stage, save() writes the state to
 * dir/NN-<stage>.h5 (ts_checkpoint.h). Without resume, a run first removes the plan's old checkpoints from dir.
 * With resume, ts_plan_run looks for the newest checkpoint of this run (same fingerprint), skips the stages up to
 * it except TS_STAGE_ALWAYS ones (which run in order, before the load), calls load() in place of the
 * checkpointed stage and runs the rest; a dir without checkpoints runs everything; checkpoints of another run are
 * an error (TS_ERR_USAGE). The strings are borrowed and must outlive the run. */
void ts_plan_set_checkpoint(ts_plan *p, const char *dir, int resume, const char *fingerprint, ts_checkpoint_fn save,
                            ts_checkpoint_fn load);
/* Runs every stage; collective. Stops at the first stage that fails on any rank. */
ts_err ts_plan_run(ts_ctx *ctx, ts_plan *p, void *state);
/* Collective: rank 0 prints the profile table to out. */
ts_err ts_plan_print_profile(ts_ctx *ctx, const ts_plan *p, FILE *out);
/* Rank 0 prints the stages and their operators. */
void ts_plan_print(const ts_ctx *ctx, const ts_plan *p, FILE *out);

#endif
