#include "ts_pipeline.h"

#include <stdio.h>

#include "ts_crash.h"
#include "ts_fault.h"
#include "ts_mem.h"

ts_err ts_pipeline_add(ts_pipeline *p, ts_op *op)
{
    if (p->nops == TS_PIPELINE_MAX_OPS)
        TS_FAIL(TS_ERR_USAGE, "pipeline '%s': more than %d operators", p->name, TS_PIPELINE_MAX_OPS);
    p->ops[p->nops++] = op;
    return TS_OK;
}

/* The operator whose call failed, for the error hook. */
static ts_op *failed_op;

/* Pushes chunk c into operator `level` (the sink when level == nops) and on down the pipeline. */
static ts_err push(ts_pipeline *p, int level, ts_chunk *c)
{
    const int64_t live = ts_chunk_live(c);
    if (level == p->nops) {
        ts_op *s = p->sink;
        const double t0 = ts_now();
        const ts_err err = s->vt->sink(s, c);
        s->prof.seconds += ts_now() - t0;
        s->prof.rows_in += live;
        if (err)
            failed_op = s;
        return err;
    }
    ts_op *op = p->ops[level];
    op->prof.rows_in += live;
    int more;
    do {
        ts_chunk *out = NULL;
        more = 0;
        const double t0 = ts_now();
        const ts_err err = op->vt->execute(op, c, &out, &more);
        op->prof.seconds += ts_now() - t0;
        if (err) {
            failed_op = op;
            return err;
        }
        if (out && ts_chunk_live(out)) {
            op->prof.rows_out += ts_chunk_live(out);
            TS_TRY(push(p, level + 1, out));
        }
    } while (more && !op->done);
    return TS_OK;
}

/* True when some operator or the sink wants no more input: everything upstream of it may stop. */
static int done(const ts_pipeline *p)
{
    if (p->sink->done)
        return 1;
    for (int i = 0; i < p->nops; i++)
        if (p->ops[i]->done)
            return 1;
    return 0;
}

static ts_err pump(ts_pipeline *p)
{
    ts_op *src = p->source;
    for (;;) {
        ts_chunk *c = NULL;
        const double t0 = ts_now();
        const ts_err err = src->vt->next(src, &c);
        src->prof.seconds += ts_now() - t0;
        if (err) {
            failed_op = src;
            return err;
        }
        if (!c)
            return TS_OK;
        TS_TRY(ts_cancel_point()); /* the shell's Ctrl-C: a clock read a chunk, a message test every 2 ms */
        src->prof.rows_out += ts_chunk_live(c);
        if (ts_chunk_live(c))
            TS_TRY(push(p, 0, c));
        if (done(p))
            return TS_OK;
    }
}

/* The draining operators, in pipeline order, once the source is exhausted everywhere: each begins (collectively,
 * after a collective error check, so no rank waits in it for one that failed) and then pushes what it still owes
 * through the operators after it. */
static ts_err drain(ts_ctx *ctx, ts_pipeline *p, ts_err err)
{
    for (int i = 0; i < p->nops; i++) {
        ts_op *op = p->ops[i];
        if (!op->vt->drain_begin)
            continue;
        TS_TRY(ts_ctx_check(ctx, err));
        const double t0 = ts_now();
        err = op->vt->drain_begin(op, ctx);
        op->prof.seconds += ts_now() - t0;
        while (!err) {
            ts_chunk *c = NULL;
            const double t1 = ts_now();
            err = op->vt->drain(op, &c);
            op->prof.seconds += ts_now() - t1;
            if (err || !c)
                break;
            op->prof.rows_out += ts_chunk_live(c);
            if (ts_chunk_live(c))
                err = push(p, i + 1, c);
        }
        if (err && !failed_op)
            failed_op = op;
    }
    return err;
}

static int drains(const ts_pipeline *p)
{
    for (int i = 0; i < p->nops; i++)
        if (p->ops[i]->vt->drain_begin)
            return 1;
    return 0;
}

ts_err ts_pipeline_run(ts_ctx *ctx, ts_pipeline *p)
{
    const double start = ts_now();
    const char *point = p->sink->vt->kind;
    ts_crash_set_stage(p->name);
    if (ts_fault_armed()) /* a rank failing here must not leave the others in the pipeline's collectives */
        TS_TRY(ts_ctx_check(ctx, ts_fault_point(point)));
    ts_err err = TS_OK;
    if (p->source->vt->open) {
        const double t0 = ts_now();
        err = p->source->vt->open(p->source, ctx);
        p->source->prof.seconds += ts_now() - t0;
    }
    err = ts_ctx_check(ctx, err);
    failed_op = NULL;
    if (!err) {
        err = pump(p);
        if (drains(p)) /* every rank, failed or not: the drains begin with a collective check */
            err = drain(ctx, p, err);
        if (err && p->on_error)
            err = p->on_error(p->on_error_arg, failed_op, err);
    }
    /* always: the sink's and source's protocols must complete on every rank, failed or not */
    if (p->sink->vt->finish) {
        const double t0 = ts_now();
        const ts_err ferr = p->sink->vt->finish(p->sink, ctx, err);
        p->sink->prof.seconds += ts_now() - t0;
        err = err ? err : ferr;
    }
    if (p->source->vt->close) {
        const double t0 = ts_now();
        const ts_err cerr = p->source->vt->close(p->source, ctx, err);
        p->source->prof.seconds += ts_now() - t0;
        err = err ? err : cerr;
    }
    ts_fault_stage_end();
    if (err)
        ts_error_trace(__FILE__, __LINE__, p->name);
    err = ts_ctx_check(ctx, err);
    p->seconds = ts_now() - start;
    p->peak_rss = ts_peak_rss_bytes();
    return err;
}
