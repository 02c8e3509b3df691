#include "ts_plan.h"

#include <string.h>

#include "ts_crash.h"
#include "ts_fault.h"
#include "ts_mem.h"
#include "ts_profile.h"

void ts_plan_init(ts_plan *p, const char *job)
{
    memset(p, 0, sizeof *p);
    snprintf(p->job, sizeof p->job, "%s", job);
}

ts_err ts_plan_add(ts_plan *p, const char *name, const char *ops, ts_stage_fn fn)
{
    if (p->nstages == TS_PLAN_MAX_STAGES)
        TS_FAIL(TS_ERR_INTERNAL, "plan '%s' has more than %d stages", p->job, TS_PLAN_MAX_STAGES);
    ts_stage *s = &p->stages[p->nstages++];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->ops, sizeof s->ops, "%s", ops);
    s->fn = fn;
    return TS_OK;
}

ts_err ts_plan_set_flags(ts_plan *p, const char *name, int flags)
{
    for (int i = 0; i < p->nstages; i++)
        if (strcmp(p->stages[i].name, name) == 0) {
            p->stages[i].flags = flags;
            return TS_OK;
        }
    TS_FAIL(TS_ERR_USAGE, "plan '%s' has no stage '%s'", p->job, name);
}

void ts_plan_set_checkpoint(ts_plan *p, const char *dir, int resume, const char *fingerprint, ts_checkpoint_fn save,
                            ts_checkpoint_fn load)
{
    p->ck.dir = dir, p->ck.resume = resume, p->ck.fingerprint = fingerprint;
    p->ck.save = save, p->ck.load = load;
}

/* ---- checkpoints ------------------------------------------------------------------------------------------ */

/* The plan's checkpointable stages: numbers (1-based) and names; returns how many. */
static int resume_points(const ts_plan *p, int *no, const char **name)
{
    int n = 0;
    for (int i = 0; i < p->nstages; i++)
        if (p->stages[i].flags & TS_STAGE_CHECKPOINT)
            no[n] = i + 1, name[n++] = p->stages[i].name;
    return n;
}

/* "2-6" / "2-4, 6" style list of the stages a resume skips (those before `upto` without TS_STAGE_ALWAYS). */
static void describe_skipped(const ts_plan *p, int upto, char *buf, size_t cap, char *rerun, size_t rcap)
{
    size_t at = 0, rat = 0;
    buf[0] = rerun[0] = '\0';
    for (int i = 0; i <= upto; i++) {
        if (p->stages[i].flags & TS_STAGE_ALWAYS) {
            rat += (size_t)snprintf(rerun + rat, rat < rcap ? rcap - rat : 0, "%s%s", rat ? ", " : "",
                                    p->stages[i].name);
            continue;
        }
        int j = i;
        while (j < upto && !(p->stages[j + 1].flags & TS_STAGE_ALWAYS))
            j++;
        at += (size_t)snprintf(buf + at, at < cap ? cap - at : 0, j > i ? "%s%d-%d" : "%s%d", at ? ", " : "", i + 1,
                               j + 1);
        i = j;
    }
}

/* Without --resume: a new series of checkpoints starts (old ones of this plan would mix runs). With it: the
 * stage index whose checkpoint to load (-1: none, run everything). */
static ts_err prepare_checkpoints(ts_ctx *ctx, ts_plan *p, int *resume_at, char *path, size_t cap)
{
    int no[TS_PLAN_MAX_STAGES], removed = 0, found = -1;
    const char *name[TS_PLAN_MAX_STAGES];
    const int n = resume_points(p, no, name);
    *resume_at = -1;
    if (!p->ck.dir || n == 0)
        return TS_OK;
    if (!p->ck.resume) {
        TS_TRY(ts_checkpoint_clear(ctx, p->ck.dir, no, name, n, &removed));
        if (removed && ctx->rank == 0)
            fprintf(stderr, "checkpoint: removed %d checkpoint%s of an earlier run from %s\n", removed,
                    removed == 1 ? "" : "s", p->ck.dir);
        return TS_OK;
    }
    TS_TRY(ts_checkpoint_find(ctx, p->ck.dir, no, name, n, p->ck.fingerprint, &found));
    if (found < 0) {
        if (ctx->rank == 0)
            fprintf(stderr, "resume: no checkpoint of this run in %s: running every stage\n", p->ck.dir);
        return TS_OK;
    }
    *resume_at = no[found] - 1;
    ts_checkpoint_path(p->ck.dir, no[found], name[found], path, cap);
    if (ctx->rank == 0) {
        char skipped[256], rerun[256];
        describe_skipped(p, *resume_at, skipped, sizeof skipped, rerun, sizeof rerun);
        fprintf(stderr, "resume: skipping stages %s (checkpoint %s)%s%s\n", skipped, path,
                *rerun ? "; re-running " : "", rerun);
    }
    return TS_OK;
}

static ts_err load_checkpoint(ts_ctx *ctx, ts_plan *p, int i, const char *path, void *state)
{
    ts_checkpoint *ck;
    TS_TRY(ts_checkpoint_open(ctx, path, &ck));
    const ts_err err = p->ck.load(ctx, state, p->stages[i].name, ck);
    ts_checkpoint_close(ck);
    TS_TRY(ts_ctx_check(ctx, err));
    return TS_OK;
}

static ts_err save_checkpoint(ts_ctx *ctx, ts_plan *p, int i, void *state)
{
    ts_checkpoint *ck;
    TS_TRY(ts_checkpoint_begin(ctx, p->ck.dir, i + 1, p->stages[i].name, p->job, p->ck.fingerprint, &ck));
    const ts_err err = ts_ctx_check(ctx, p->ck.save(ctx, state, p->stages[i].name, ck));
    if (err) {
        ts_checkpoint_abandon(ck);
        TS_TRY(err);
    }
    TS_TRY(ts_checkpoint_commit(ck));
    return TS_OK;
}

/* ---- running ---------------------------------------------------------------------------------------------- */

/* One stage, its error made collective. An injected fault at the stage's start is agreed on first: a rank that
 * failed there must not skip the stage's collectives while the others enter them. */
static ts_err run_stage(ts_ctx *ctx, ts_stage *s, void *state)
{
    if (ts_fault_armed())
        TS_TRY(ts_ctx_check(ctx, ts_fault_point(s->name)));
    ts_err err = s->fn(ctx, state, &s->stats);
    ts_fault_stage_end();
    if (err)
        ts_error_trace(__FILE__, __LINE__, s->name);
    return ts_ctx_check(ctx, err);
}

/* A stage a resume skips: nothing runs, except loading the checkpoint in place of the checkpointed stage. */
static ts_err skip_stage(ts_ctx *ctx, ts_plan *p, int i, int resume_at, const char *path, void *state)
{
    ts_stage *s = &p->stages[i];
    s->skipped = 1;
    if (ctx->verbose && ctx->rank == 0)
        fprintf(stderr, "[%d/%d] %-14s skipped%s\n", i + 1, p->nstages, s->name,
                i == resume_at ? ": state loaded from the checkpoint" : "");
    if (i == resume_at) {
        ts_crash_set_stage("resume");
        TS_TRY(load_checkpoint(ctx, p, i, path, state));
    }
    return TS_OK;
}

ts_err ts_plan_run(ts_ctx *ctx, ts_plan *p, void *state)
{
    const double start = ts_now();
    char path[4200] = "";
    int resume_at;
    TS_TRY(prepare_checkpoints(ctx, p, &resume_at, path, sizeof path));
    for (int i = 0; i < p->nstages; i++) {
        ts_stage *s = &p->stages[i];
        memset(&s->stats, 0, sizeof s->stats);
        s->skipped = 0;
        if (i <= resume_at && !(s->flags & TS_STAGE_ALWAYS)) {
            TS_TRY(skip_stage(ctx, p, i, resume_at, path, state));
            continue;
        }
        const int64_t sent0 = ctx->bytes_sent;
        const double t0 = ts_now();
        if (ctx->verbose && ctx->rank == 0) {
            fprintf(stderr, "[%d/%d] %-14s ...", i + 1, p->nstages, s->name);
            fflush(stderr);
        }
        ts_crash_set_stage(s->name);
        ts_err err = run_stage(ctx, s, state);
        s->stats.seconds = ts_now() - t0;
        s->stats.bytes_sent = ctx->bytes_sent - sent0;
        s->stats.mem_peak = ts_peak_rss_bytes();
        if (ctx->verbose && ctx->rank == 0)
            fprintf(stderr, err ? " failed\n" : " %.2f s\n", s->stats.seconds);
        if (!err && p->ck.dir && (s->flags & TS_STAGE_CHECKPOINT) && i > resume_at) {
            const double c0 = ts_now();
            err = save_checkpoint(ctx, p, i, state);
            if (!err && ctx->verbose && ctx->rank == 0)
                fprintf(stderr, "      checkpoint %02d-%s.h5 written in %.2f s\n", i + 1, s->name, ts_now() - c0);
        }
        if (err)
            return err;
    }
    p->total_seconds = ts_now() - start;
    return TS_OK;
}

ts_err ts_plan_print_profile(ts_ctx *ctx, const ts_plan *p, FILE *out)
{
    ts_prof local[TS_PLAN_MAX_STAGES], mn[TS_PLAN_MAX_STAGES], mx[TS_PLAN_MAX_STAGES];
    const char *names[TS_PLAN_MAX_STAGES], *ops[TS_PLAN_MAX_STAGES];
    for (int i = 0; i < p->nstages; i++)
        local[i] = p->stages[i].stats, names[i] = p->stages[i].name, ops[i] = p->stages[i].ops;
    TS_TRY(ts_prof_reduce(ctx, local, p->nstages, mn, mx, NULL));
    if (ctx->rank == 0)
        ts_prof_print(out, p->job, ctx->size, "peak RSS", names, ops, mn, mx, p->nstages, p->total_seconds);
    return TS_OK;
}

void ts_plan_print(const ts_ctx *ctx, const ts_plan *p, FILE *out)
{
    if (ctx->rank != 0)
        return;
    fprintf(out, "plan %s (%d stages):\n", p->job, p->nstages);
    for (int i = 0; i < p->nstages; i++)
        fprintf(out, "  %2d. %-14s %s\n", i + 1, p->stages[i].name, p->stages[i].ops);
}
