#include "ts_plan.h"

#include <string.h>

#include "ts_mem.h"

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

ts_err ts_plan_run(ts_ctx *ctx, ts_plan *p, void *state)
{
    const double start = ts_now();
    for (int i = 0; i < p->nstages; i++) {
        ts_stage *s = &p->stages[i];
        const int64_t sent0 = ctx->bytes_sent;
        const double t0 = ts_now();
        memset(&s->stats, 0, sizeof s->stats);
        if (ctx->verbose && ctx->rank == 0) {
            fprintf(stderr, "[%d/%d] %-14s ...", i + 1, p->nstages, s->name);
            fflush(stderr);
        }
        ts_err err = s->fn(ctx, state, &s->stats);
        if (err)
            ts_error_trace(__FILE__, __LINE__, s->name);
        err = ts_ctx_check(ctx, err);
        s->stats.seconds = ts_now() - t0;
        s->stats.bytes_sent = ctx->bytes_sent - sent0;
        s->stats.peak_rss = ts_peak_rss_bytes();
        if (ctx->verbose && ctx->rank == 0)
            fprintf(stderr, err ? " failed\n" : " %.2f s\n", s->stats.seconds);
        if (err)
            return err;
    }
    p->total_seconds = ts_now() - start;
    return TS_OK;
}

static void human_bytes(double b, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

ts_err ts_plan_print_profile(ts_ctx *ctx, const ts_plan *p, FILE *out)
{
    enum { NV = 5 };
    if (ctx->rank == 0)
        fprintf(out,
                "\n---------------------------------------------- Tessera profile: %s on %d rank%s "
                "----------------------------------------------\n"
                "%-14s %-34s %17s %23s %23s %21s %21s\n",
                p->job, ctx->size, ctx->size == 1 ? "" : "s", "stage", "operators", "time s (min/max)",
                "rows in (min/max)", "rows out (min/max)", "sent (min/max)", "peak RSS (min/max)");
    for (int i = 0; i < p->nstages; i++) {
        const ts_stage_stats *s = &p->stages[i].stats;
        double v[NV] = {s->seconds, (double)s->rows_in, (double)s->rows_out, (double)s->bytes_sent,
                        (double)s->peak_rss};
        double mn[NV], mx[NV];
        TS_MPI(MPI_Reduce(v, mn, NV, MPI_DOUBLE, MPI_MIN, 0, ctx->comm));
        TS_MPI(MPI_Reduce(v, mx, NV, MPI_DOUBLE, MPI_MAX, 0, ctx->comm));
        if (ctx->rank != 0)
            continue;
        char b0[16], b1[16], r0[16], r1[16];
        human_bytes(mn[3], b0, sizeof b0), human_bytes(mx[3], b1, sizeof b1);
        human_bytes(mn[4], r0, sizeof r0), human_bytes(mx[4], r1, sizeof r1);
        fprintf(out, "%-14s %-34s %8.3f/%-8.3f %11.0f/%-11.0f %11.0f/%-11.0f %10s/%-10s %10s/%-10s\n",
                p->stages[i].name, p->stages[i].ops, mn[0], mx[0], mn[1], mx[1], mn[2], mx[2], b0, b1, r0, r1);
    }
    if (ctx->rank == 0)
        fprintf(out, "%-14s %-34s %8.3f\n", "total", "", p->total_seconds);
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
