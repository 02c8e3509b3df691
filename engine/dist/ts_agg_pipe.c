#include "ts_agg_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_spill_keys.h"

#define SPILL_PARTS TS_SPILL_PARTS /* each holds 1/SPILL_PARTS of every flush's partial states */

typedef struct agg_pipe {
    ts_op op;
    ts_ctx *ctx;
    ts_op *local;               /* the streaming aggregation */
    int two_phase, nkeys, npart;
    char keys[TS_MAX_COLS][TS_NAME_MAX], part[8][TS_NAME_MAX];
    const char *key_names[TS_MAX_COLS], *part_names[8]; /* keys[] and part[] as the name lists the API takes */
    ts_agg aggs[TS_MAX_COLS];
    char outs[TS_MAX_COLS][TS_NAME_MAX];
    int naggs;
    ts_table *result;
    /* the memory budget (ctx->op_room > 0) */
    ts_chunk *in;
    int decomposable;
    int64_t floor; /* the local sink's bytes right after a reset: its tables' least size */
    ts_spill *spill;
    int flushes;
    /* non-decomposable aggregates (distinct counts, quantiles) under a budget: their states cannot be spilled and
     * merged, so the sink's input rows are mirrored to spill partitions by key hash; once the groups outgrow the
     * share, the sink is dropped and the aggregation restarts partition by partition from the rows (grace). */
    ts_agg given[TS_MAX_COLS];  /* the aggregates as given (input columns), for the per-partition sinks */
    char given_names[TS_MAX_COLS][3][TS_NAME_MAX];
    ts_table *stage;            /* rows waiting to be mirrored */
    ts_spill *rows;             /* the mirrored rows */
    int grace;                  /* the sink gave up: every group comes from the partitions */
    int rounds;
} agg_pipe;

#define MIRROR_ROWS 65536 /* rows staged per mirror write: 32 partitions get ~2k-row batches */

/* Writes the local sink's groups as partial states to the spill partitions (by key hash); the sink is then reset
 * (ts_agg_sink_reset) or, at the end, freed. */
static ts_err flush(agg_pipe *a)
{
    ts_table *t = NULL;
    const char *const *keys = a->key_names;
    ts_err err = ts_agg_sink_partial_result(a->local, "partial", &t);
    if (!err && !a->spill) {
        char tag[32];
        snprintf(tag, sizeof tag, "agg%d", a->ctx->rank);
        err = ts_spill_open(ts_spill_dir(a->ctx->spill_dir), tag, SPILL_PARTS, t, &a->spill);
    }
    if (!err)
        err = ts_spill_by_keys(a->spill, SPILL_PARTS, t, keys, a->nkeys);
    ts_table_free(t);
    a->flushes++;
    if (a->spill)
        a->op.prof.spill_bytes = ts_spill_bytes_written(a->spill);
    return err;
}

/* Writes the staged rows to the row partitions by key hash. */
static ts_err mirror_flush(agg_pipe *a)
{
    if (ts_table_rows(a->stage) == 0)
        return TS_OK;
    const char *const *keys = a->key_names;
    TS_TRY(ts_spill_by_keys(a->rows, SPILL_PARTS, a->stage, keys, a->nkeys));
    ts_table_truncate(a->stage, 0);
    a->op.prof.spill_bytes = ts_spill_bytes_written(a->rows);
    return TS_OK;
}

/* Mirrors a chunk's live rows (non-decomposable aggregates under a budget). */
static ts_err mirror(agg_pipe *a, const ts_chunk *in)
{
    if (!a->rows) {
        char tag[32];
        snprintf(tag, sizeof tag, "aggrows%d", a->ctx->rank);
        TS_TRY(ts_table_new_like(&in->schema, "aggregate input", &a->stage));
        TS_TRY(ts_spill_open(ts_spill_dir(a->ctx->spill_dir), tag, SPILL_PARTS, a->stage, &a->rows));
    }
    TS_TRY(ts_chunk_append_to(in, a->stage));
    return ts_table_rows(a->stage) >= MIRROR_ROWS ? mirror_flush(a) : TS_OK;
}

static ts_err pipe_sink(ts_op *op, ts_chunk *in)
{
    agg_pipe *a = (agg_pipe *)op;
    const int mirrored = a->ctx->op_room > 0 && !a->decomposable;
    if (mirrored)
        TS_TRY(mirror(a, in));
    if (a->grace)
        return TS_OK;
    TS_TRY(a->local->vt->sink(a->local, in));
    ts_op_hold(op, a->local->prof.mem_now + (a->stage ? ts_table_mem_bytes(a->stage) : 0));
    /* past the share, and grown well beyond the sink's least size (a share below that would flush every chunk) */
    if (a->ctx->op_room > 0 && a->local->prof.mem_now > a->ctx->op_room && a->local->prof.mem_now > 2 * a->floor) {
        if (mirrored) { /* from now on the rows only go to the partitions */
            a->grace = 1;
            ts_op_free(a->local);
            a->local = NULL;
            return TS_OK;
        }
        TS_TRY(flush(a));
        TS_TRY(ts_agg_sink_reset(a->local, a->in));
        a->floor = a->local->prof.mem_now;
    }
    return TS_OK;
}

/* Partial states exchanged by key hash and merged: *out (new) the groups this rank owns. Collective. */
static ts_err merge_states(agg_pipe *a, ts_table *partial, ts_table **out)
{
    const char *const *keys = a->key_names;
    const int64_t n = ts_table_rows(partial);
    int32_t *dest = malloc(sizeof *dest * (size_t)(n + 1));
    ts_err err = dest ? ts_partition_dest(partial, keys, a->nkeys, a->ctx->size, dest)
                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory routing groups");
    ts_table *moved = NULL;
    err = ts_ctx_check(a->ctx, err);
    const int64_t sent0 = a->ctx->bytes_sent;
    if (!err)
        err = ts_exchange_rows(a->ctx, partial, dest, &moved);
    a->op.prof.bytes_sent += a->ctx->bytes_sent - sent0;
    free(dest);
    if (!err)
        err = ts_ctx_check(a->ctx, ts_aggregate_merge(moved, keys, a->nkeys, a->aggs, a->naggs, "aggregate", out));
    ts_table_free(moved);
    if (!err)
        ts_table_set_partitioned(*out, keys, a->nkeys);
    return err;
}

/* Appends merged groups to the result. */
static ts_err add_result(agg_pipe *a, ts_table *t)
{
    if (!a->result) {
        a->result = t;
        return TS_OK;
    }
    const ts_err err = ts_table_append_rows(a->result, t, NULL, ts_table_rows(t));
    ts_table_free(t);
    return err;
}

/* The grace aggregation's second half (collective; some rank spilled): every rank flushes what it holds, then the
 * partitions are merged one at a time (their partial states exchanged by key hash first when groups span ranks).
 * A group's states all lie in one partition, so the partitions' groups are disjoint and concatenate. */
static ts_err finish_spilled(agg_pipe *a, ts_ctx *ctx)
{
    ts_err err = ts_ctx_check(ctx, flush(a));
    ts_op_free(a->local); /* its groups are on disk now */
    a->local = NULL;
    const char *const *keys = a->key_names;
    int at[SPILL_PARTS + 1], nrounds = 0;
    if (!err)
        err = ts_spill_rounds(ctx, a->spill, SPILL_PARTS, ctx->op_room, at, &nrounds);
    for (int r = 0; !err && r < nrounds; r++) {
        ts_table *part = NULL;
        err = ts_spill_read_range(a->spill, at[r], at[r + 1], "partial", &part);
        const int64_t bytes = part ? ts_table_mem_bytes(part) : 0;
        ts_op_hold(&a->op, bytes);
        if (!err && bytes > ctx->mem_room) {
            char h[24], w[24], l[24];
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "aggregate: spill partition %d holds %s "
                                 "of partial states, more than the %s of working memory --memory-limit %s leaves "
                                 "(too many groups)", at[r], ts_format_bytes((double)bytes, h, sizeof h),
                                 ts_format_bytes((double)ctx->mem_room, w, sizeof w),
                                 ts_format_bytes((double)ctx->mem_limit, l, sizeof l));
        }
        err = ts_ctx_check(ctx, err);
        ts_table *merged = NULL;
        if (!err && a->two_phase) {
            err = merge_states(a, part, &merged);
        } else if (!err) {
            err = ts_ctx_check(ctx, ts_aggregate_merge(part, keys, a->nkeys, a->aggs, a->naggs, "aggregate", &merged));
        }
        ts_table_free(part);
        if (!err && merged)
            err = ts_ctx_check(ctx, add_result(a, merged));
    }
    ts_spill_close(a->spill);
    a->spill = NULL;
    if (err)
        return err;
    snprintf(a->op.label + strlen(a->op.label), sizeof a->op.label - strlen(a->op.label),
             "; over its memory share: %d flush%s spilled, merged in %d rounds", a->flushes,
             a->flushes == 1 ? "" : "es", nrounds);
    const char *const *part = a->part_names;
    if (a->two_phase)
        ts_table_set_partitioned(a->result, keys, a->nkeys);
    else
        ts_table_set_partitioned(a->result, part, a->npart);
    return TS_OK;
}

/* Aggregates one partition's rows with a fresh sink, appending its groups (complete: all of a group's rows are in
 * one partition) to the result. */
static ts_err aggregate_rows(agg_pipe *a, const ts_table *rows)
{
    ts_chunk *c = NULL;
    ts_op *sink = NULL;
    ts_table *t = NULL;
    const char *const *keys = a->key_names;
    ts_err err = ts_chunk_new("aggregate partition", &c);
    if (!err)
        err = ts_chunk_add_like(c, rows, 1);
    if (!err)
        err = ts_agg_sink_new(c, keys, a->nkeys, a->given, a->naggs, 0, (int64_t)a->ctx->rank << 40, 0, &sink);
    const int64_t n = ts_table_rows(rows);
    for (int64_t at = 0; !err && at < n; at += TS_CHUNK_ROWS) {
        err = ts_chunk_view_table(c, rows, at, n - at < TS_CHUNK_ROWS ? n - at : TS_CHUNK_ROWS);
        if (!err)
            err = sink->vt->sink(sink, c);
    }
    if (!err && sink->prof.mem_peak + ts_table_mem_bytes(rows) > a->ctx->mem_room) {
        char h[24], w[24], l[24];
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "aggregate: a spill partition's %lld groups "
                             "hold %s, more than the %s of working memory --memory-limit %s leaves (quantiles and "
                             "distinct counts over too few groups)", (long long)ts_agg_sink_groups(sink),
                             ts_format_bytes((double)sink->prof.mem_peak, h, sizeof h),
                             ts_format_bytes((double)a->ctx->mem_room, w, sizeof w),
                             ts_format_bytes((double)a->ctx->mem_limit, l, sizeof l));
    }
    if (sink)
        ts_op_hold(&a->op, sink->prof.mem_peak + ts_table_mem_bytes(rows));
    if (!err)
        err = ts_agg_sink_result(sink, "aggregate", &t);
    if (!err) {
        err = add_result(a, t);
        t = NULL;
    }
    ts_table_free(t);
    ts_op_free(sink);
    ts_chunk_free(c);
    return err;
}

/* The grace finish of non-decomposable aggregates (per rank: each rank's groups are complete): the partitions of
 * mirrored rows, aggregated a round at a time. */
static ts_err finish_grace(agg_pipe *a)
{
    TS_TRY(mirror_flush(a));
    ts_table_free(a->stage);
    a->stage = NULL;
    int at[SPILL_PARTS + 1], nrounds = 0;
    /* rows take about as much again in the sink's states (a distinct count's pairs, a quantile's values) */
    TS_TRY(ts_spill_rounds(NULL, a->rows, SPILL_PARTS, a->ctx->op_room / 2, at, &nrounds));
    for (int r = 0; r < nrounds; r++) {
        ts_table *part = NULL;
        ts_err err = ts_spill_read_range(a->rows, at[r], at[r + 1], "aggregate input", &part);
        if (!err)
            err = aggregate_rows(a, part);
        ts_table_free(part);
        if (err)
            return err;
    }
    a->rounds = nrounds;
    snprintf(a->op.label + strlen(a->op.label), sizeof a->op.label - strlen(a->op.label),
             "; over its memory share: input rows spilled by key hash, aggregated in %d rounds", nrounds);
    const char *const *part = a->part_names;
    if (!a->result)
        TS_FAIL(TS_ERR_INTERNAL, "aggregate: no spill round");
    ts_table_set_partitioned(a->result, part, a->npart);
    return TS_OK;
}

static ts_err pipe_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    agg_pipe *a = (agg_pipe *)op;
    TS_TRY(ts_ctx_check(ctx, status)); /* every rank learns of a failure before any collective */
    if (a->rows) { /* non-decomposable under a budget: groups complete per rank, no collective */
        ts_err err = a->grace ? finish_grace(a) : TS_OK;
        ts_spill_close(a->rows);
        a->rows = NULL;
        ts_table_free(a->stage);
        a->stage = NULL;
        TS_TRY(ts_ctx_check(ctx, err));
        if (a->grace)
            return TS_OK;
    }
    if (ctx->op_room > 0) { /* a budget: did any rank spill? (then all run the partitioned merge) */
        int mine = a->spill != NULL, any = 0;
        TS_MPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, ctx->comm));
        if (any)
            return finish_spilled(a, ctx);
    }
    ts_table *t = NULL;
    ts_err err = ts_ctx_check(ctx, ts_agg_sink_result(a->local, a->two_phase ? "partial" : "aggregate", &t));
    ts_op_hold(op, a->local->prof.mem_peak);
    if (!err && a->two_phase) {
        err = merge_states(a, t, &a->result);
        ts_table_free(t);
    } else if (!err) {
        a->result = t;
        const char *const *part = a->part_names;
        ts_table_set_partitioned(t, part, a->npart);
    } else {
        ts_table_free(t);
    }
    return err;
}

static void pipe_destroy(ts_op *op)
{
    agg_pipe *a = (agg_pipe *)op;
    ts_op_free(a->local);
    ts_table_free(a->result);
    ts_spill_close(a->spill);
    ts_spill_close(a->rows);
    ts_table_free(a->stage);
}

static const ts_op_vt AGG_PIPE = {.kind = "aggregate", .sink = pipe_sink, .finish = pipe_finish,
                                  .destroy = pipe_destroy};

ts_err ts_agg_pipe_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                       int two_phase, const char *const *part_keys, int npart, int64_t expected, ts_op **out)
{
    if (nkeys > TS_MAX_COLS || naggs > TS_MAX_COLS || npart > 8)
        TS_FAIL(TS_ERR_USAGE, "too many keys or aggregates");
    TS_TRY(ts_op_alloc(sizeof(agg_pipe), &AGG_PIPE, NULL, out));
    agg_pipe *a = (agg_pipe *)*out;
    a->ctx = ctx, a->two_phase = two_phase && ctx->size > 1, a->nkeys = nkeys, a->naggs = naggs, a->npart = npart;
    for (int k = 0; k < nkeys; k++)
        snprintf(a->keys[k], TS_NAME_MAX, "%s", keys[k]), a->key_names[k] = a->keys[k];
    for (int p = 0; p < npart; p++)
        snprintf(a->part[p], TS_NAME_MAX, "%s", part_keys[p]), a->part_names[p] = a->part[p];
    for (int i = 0; i < naggs; i++) { /* the merge reads the aggregates' kinds, parameters and output names */
        a->given[i] = aggs[i];
        const char **name[3] = {&a->given[i].input, &a->given[i].where, &a->given[i].order};
        for (int j = 0; j < 3; j++)
            if (*name[j]) {
                snprintf(a->given_names[i][j], TS_NAME_MAX, "%s", *name[j]);
                *name[j] = a->given_names[i][j];
            }
        a->given[i].output = a->outs[i];
        a->aggs[i] = aggs[i];
        snprintf(a->outs[i], TS_NAME_MAX, "%s", aggs[i].output);
        a->aggs[i].output = a->outs[i];
        a->aggs[i].input = a->aggs[i].where = a->aggs[i].order = NULL;
        if (aggs[i].input)
            a->aggs[i].input = "(input)";
        if (aggs[i].order)
            a->aggs[i].order = "(order)";
    }
    a->in = in, a->decomposable = ts_agg_decomposable(aggs, naggs);
    if (ctx->op_room > 0 && expected > ctx->op_room / 256) /* the first tables fit the budget's share */
        expected = ctx->op_room / 256;
    const ts_err err = ts_agg_sink_new(in, keys, nkeys, aggs, naggs, a->two_phase, (int64_t)ctx->rank << 40,
                                       expected, &a->local);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
        return err;
    }
    const char *how = a->two_phase ? ", states exchanged by key hash and merged" : ", groups complete on each rank";
    const size_t n = strlen(a->local->label) < sizeof a->op.label - strlen(how) - 1 ? strlen(a->local->label) : 0;
    memcpy(a->op.label, a->local->label, n);
    memcpy(a->op.label + n, how, strlen(how) + 1);
    return TS_OK;
}

ts_table *ts_agg_pipe_take(ts_op *op)
{
    agg_pipe *a = (agg_pipe *)op;
    ts_table *t = a->result;
    a->result = NULL;
    return t;
}

int ts_agg_pipe_grace_rounds(const ts_op *op) { return ((const agg_pipe *)op)->rounds; }
