#include "ts_join_grace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"
#include "ts_pipe_ops.h"
#include "ts_spill_keys.h"

/* ---- sink: the probe side by key hash ------------------------------------------------------------------------- */

typedef struct spill_sink {
    ts_op op;
    ts_ctx *ctx;
    int nkeys;
    char keys[8][TS_NAME_MAX];
    ts_table *staged; /* rows gathered from chunks until a batch is worth writing */
    ts_spill *spill;
} spill_sink;

static ts_err spill_staged(spill_sink *s)
{
    const char *keys[8];
    for (int k = 0; k < s->nkeys; k++)
        keys[k] = s->keys[k];
    TS_TRY(ts_spill_by_keys(s->spill, TS_SPILL_PARTS, s->staged, keys, s->nkeys));
    s->op.prof.spill_bytes = ts_spill_bytes_written(s->spill);
    ts_table_truncate(s->staged, 0); /* keeps the allocations for the next batch */
    return TS_OK;
}

static ts_err spill_consume(ts_op *op, ts_chunk *in)
{
    spill_sink *s = (spill_sink *)op;
    TS_TRY(ts_chunk_append_to(in, s->staged));
    const int64_t bytes = ts_table_mem_bytes(s->staged);
    ts_op_hold(op, bytes);
    return bytes > s->ctx->op_room / 2 ? spill_staged(s) : TS_OK;
}

static ts_err spill_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    spill_sink *s = (spill_sink *)op;
    return ts_ctx_check(ctx, status ? status : spill_staged(s));
}

static void spill_destroy(ts_op *op)
{
    spill_sink *s = (spill_sink *)op;
    ts_table_free(s->staged);
    ts_spill_close(s->spill);
}

static const ts_op_vt SPILL_SINK = {.kind = "join-spill", .sink = spill_consume, .finish = spill_finish,
                                    .destroy = spill_destroy};

ts_err ts_join_spill_sink_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, ts_op **out)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "between 1 and 8 join keys are supported, not %d", nkeys);
    TS_TRY(ts_op_alloc(sizeof(spill_sink), &SPILL_SINK, "join-spill: left rows by key hash", out));
    spill_sink *s = (spill_sink *)*out;
    s->ctx = ctx, s->nkeys = nkeys;
    for (int k = 0; k < nkeys; k++)
        snprintf(s->keys[k], TS_NAME_MAX, "%s", keys[k]);
    char tag[32];
    snprintf(tag, sizeof tag, "left%d", ctx->rank);
    ts_err err = ts_table_new_like(&in->schema, "left", &s->staged);
    if (!err)
        err = ts_spill_open(ts_spill_dir(ctx->spill_dir), tag, TS_SPILL_PARTS, s->staged, &s->spill);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

ts_spill *ts_join_spill_sink_take(ts_op *op)
{
    spill_sink *s = (spill_sink *)op;
    ts_spill *sp = s->spill;
    s->spill = NULL;
    return sp;
}

/* ---- source: partition pairs joined a round at a time ---------------------------------------------------------- */

typedef struct grace_source {
    ts_op op;
    ts_ctx *ctx;
    ts_spill *left, *right;
    ts_join_type type;
    int nkeys, nright;
    char lkeys[8][TS_NAME_MAX], rkeys[8][TS_NAME_MAX];
    char rcols[TS_MAX_COLS][TS_NAME_MAX], names[TS_MAX_COLS][TS_NAME_MAX];
    int at[TS_SPILL_PARTS + 1], nrounds, round;
    /* the current round */
    ts_table *lrows, *rrows;
    ts_join_ht *ht;
    ts_op *scan, *probe;
    ts_chunk *in; /* the scan's chunk being probed */
    int more;     /* the probe has more output for `in` */
} grace_source;

static void round_free(grace_source *g)
{
    ts_op_free(g->probe), ts_op_free(g->scan);
    ts_join_ht_free(g->ht);
    ts_table_free(g->lrows), ts_table_free(g->rrows);
    g->probe = g->scan = NULL, g->ht = NULL, g->lrows = g->rrows = NULL, g->in = NULL, g->more = 0;
}

static ts_err round_load(grace_source *g, int r)
{
    round_free(g);
    const char *lk[8], *rk[8], *rc[TS_MAX_COLS], *nm[TS_MAX_COLS];
    for (int k = 0; k < g->nkeys; k++)
        lk[k] = g->lkeys[k], rk[k] = g->rkeys[k];
    for (int i = 0; i < g->nright; i++)
        rc[i] = g->rcols[i], nm[i] = g->names[i];
    TS_TRY(ts_spill_read_range(g->right, g->at[r], g->at[r + 1], "right", &g->rrows));
    const int64_t bytes = ts_table_mem_bytes(g->rrows);
    if (g->ctx->mem_room > 0 && bytes > g->ctx->mem_room) {
        char h[24], w[24], l[24];
        TS_FAIL(TS_ERR_NOMEM, "join: the build rows of spill partition %d hold %s, more than the %s of working "
                "memory --memory-limit %s leaves (a few keys with very many rows?)", g->at[r],
                ts_format_bytes((double)bytes, h, sizeof h), ts_format_bytes((double)g->ctx->mem_room, w, sizeof w),
                ts_format_bytes((double)g->ctx->mem_limit, l, sizeof l));
    }
    TS_TRY(ts_join_ht_build(g->rrows, rk, g->nkeys, 0, &g->ht));
    TS_TRY(ts_spill_read_range(g->left, g->at[r], g->at[r + 1], "left", &g->lrows));
    ts_op_hold(&g->op, bytes + ts_join_ht_bytes(g->ht) + ts_table_mem_bytes(g->lrows));
    TS_TRY(ts_table_source_new(g->lrows, NULL, NULL, 0, &g->scan));
    TS_TRY(ts_join_probe_new(g->scan->out, g->ht, g->rrows, g->type, lk, rc, nm, g->nright, &g->probe));
    g->round = r;
    return TS_OK;
}

/* Shows chunk c (the probe's output) through the source's own chunk: views of its columns, its selection. */
static ts_err show(ts_chunk *out, const ts_chunk *c)
{
    ts_chunk_begin(out, c->n);
    for (int i = 0; i < out->schema.ncols; i++)
        TS_TRY(ts_chunk_set_view(out, i, &c->col[i], 0, c->n));
    if (c->sel)
        ts_chunk_select(out, c->sel, c->nsel);
    return TS_OK;
}

static ts_err grace_next(ts_op *op, ts_chunk **out)
{
    grace_source *g = (grace_source *)op;
    for (;;) {
        if (!g->more) {
            TS_TRY(g->scan->vt->next(g->scan, &g->in));
            if (!g->in) {
                if (g->round + 1 >= g->nrounds) {
                    *out = NULL;
                    return TS_OK;
                }
                TS_TRY(round_load(g, g->round + 1));
                continue;
            }
        }
        ts_chunk *c = NULL;
        g->more = 0;
        TS_TRY(g->probe->vt->execute(g->probe, g->in, &c, &g->more));
        if (c && ts_chunk_live(c) > 0) {
            TS_TRY(show(op->out, c));
            *out = op->out;
            return TS_OK;
        }
    }
}

static void grace_destroy(ts_op *op)
{
    grace_source *g = (grace_source *)op;
    round_free(g);
    ts_spill_close(g->left), ts_spill_close(g->right);
}

static const ts_op_vt GRACE_SOURCE = {.kind = "join-grace", .next = grace_next, .destroy = grace_destroy};

ts_err ts_join_grace_source_new(ts_ctx *ctx, ts_spill *left, ts_spill *right, ts_join_type type,
                                const char *const *left_keys, const char *const *right_keys, int nkeys,
                                const char *const *right_cols, const char *const *out_names, int nright, ts_op **out)
{
    ts_err err = nkeys >= 1 && nkeys <= 8 && nright <= TS_MAX_COLS ? ts_op_alloc(sizeof(grace_source), &GRACE_SOURCE,
                                                                                 "join-grace", out)
                 : ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "join: %d keys, %d right columns", nkeys,
                                  nright);
    if (err) {
        ts_spill_close(left), ts_spill_close(right);
        return err;
    }
    grace_source *g = (grace_source *)*out;
    g->ctx = ctx, g->left = left, g->right = right, g->type = type, g->nkeys = nkeys, g->nright = nright;
    for (int k = 0; k < nkeys; k++) {
        snprintf(g->lkeys[k], TS_NAME_MAX, "%s", left_keys[k]);
        snprintf(g->rkeys[k], TS_NAME_MAX, "%s", right_keys[k]);
    }
    for (int i = 0; i < nright; i++) {
        snprintf(g->rcols[i], TS_NAME_MAX, "%s", right_cols[i]);
        snprintf(g->names[i], TS_NAME_MAX, "%s", out_names[i]);
    }
    err = ts_spill_rounds(NULL, right, TS_SPILL_PARTS, ctx->op_room, g->at, &g->nrounds);
    if (!err)
        err = round_load(g, 0);
    ts_chunk *o = NULL;
    if (!err)
        err = ts_chunk_new("join", &o);
    const ts_chunk *shape = err ? NULL : g->probe->out ? g->probe->out : g->scan->out;
    for (int i = 0; !err && i < shape->schema.ncols; i++)
        err = ts_chunk_add_view(o, shape->col[i].name, &shape->col[i], NULL);
    (*out)->out = o;
    if (!err)
        snprintf((*out)->label, sizeof (*out)->label, "join-grace: %d rounds of spilled partition pairs",
                 g->nrounds);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}
