/* Pipelines: one source, operators, one sink (engine/core/ts_op.h), run on every rank (SPMD).
 *
 * A query plan is cut into pipelines at its breakers (exchange, hash-join build, aggregation, sort, window,
 * materialisation, writes). The front-end builds and runs them in dependency order, the same order on every rank:
 * a breaker's input pipelines run to completion (its sink finished, collectively) before the pipeline that reads
 * its result is built. So decisions that need global facts (broadcast or shuffle a join's build side, whether an
 * input is already partitioned) are taken between pipelines with the same information on every rank.
 *
 * ts_pipeline_run, collective:
 *   1. fault injection point named after the sink's kind (TESSERA_FAULT=RANK:<kind>:KIND, engine/core/ts_fault.h),
 *      agreed on by every rank before any collective;
 *   2. source open (collective), then an error check (ts_ctx_check);
 *   3. the loop, local to each rank: pull a chunk, push it through the operators (calling an operator again while
 *      it has more output for the same input) into the sink; stops at the end of the source, when an operator or
 *      the sink is done (LIMIT), or at this rank's first error;
 *   4. sink finish and source close, always, even after a local error, so that protocols other ranks wait in (a
 *      streaming exchange's end-of-stream messages) complete; then one collective error check, so one rank's
 *      failure ends the pipeline on every rank with that rank's message.
 * The driver times every call and counts rows in and out per operator (ts_prof); the pipeline records its wall
 * time and the process's peak RSS. */
#ifndef TS_PIPELINE_H
#define TS_PIPELINE_H

#include "ts_op.h"

#define TS_PIPELINE_MAX_OPS 32

typedef struct ts_pipeline {
    char name[96];
    ts_op *source;
    ts_op *ops[TS_PIPELINE_MAX_OPS];
    int nops;
    ts_op *sink;
    double seconds;      /* wall time of the last run on this rank */
    int64_t peak_rss;    /* process peak RSS after the run */
    /* optional: called on this rank's first error, with the operator that failed (NULL: not an operator's call),
     * before the error is made collective; returns the error to report (e.g. re-raised with a location) */
    ts_err (*on_error)(void *arg, ts_op *failed, ts_err err);
    void *on_error_arg;
} ts_pipeline;

/* Appends an operator (the pipeline does not own it: operators are freed by whoever made them). */
ts_err ts_pipeline_add(ts_pipeline *p, ts_op *op);
/* Runs the pipeline (collective, see above). */
ts_err ts_pipeline_run(ts_ctx *ctx, ts_pipeline *p);

#endif
