#include "ts_agg_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_mem.h"
#include "ts_partition.h"

typedef struct agg_pipe {
    ts_op op;
    ts_ctx *ctx;
    ts_op *local;               /* the streaming aggregation */
    int two_phase, nkeys, npart;
    char keys[TS_MAX_COLS][TS_NAME_MAX], part[8][TS_NAME_MAX];
    ts_agg aggs[TS_MAX_COLS];
    char outs[TS_MAX_COLS][TS_NAME_MAX];
    int naggs;
    ts_table *result;
} agg_pipe;

static ts_err pipe_sink(ts_op *op, ts_chunk *in)
{
    agg_pipe *a = (agg_pipe *)op;
    TS_TRY(a->local->vt->sink(a->local, in));
    ts_op_hold(op, a->local->prof.mem_now);
    return TS_OK;
}

static ts_err merge_states(agg_pipe *a, ts_table *partial)
{
    const char *keys[TS_MAX_COLS];
    for (int k = 0; k < a->nkeys; k++)
        keys[k] = a->keys[k];
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
        err = ts_ctx_check(a->ctx, ts_aggregate_merge(moved, keys, a->nkeys, a->aggs, a->naggs, "aggregate",
                                                      &a->result));
    ts_table_free(moved);
    if (!err)
        ts_table_set_partitioned(a->result, keys, a->nkeys);
    return err;
}

static ts_err pipe_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    agg_pipe *a = (agg_pipe *)op;
    TS_TRY(ts_ctx_check(ctx, status)); /* every rank learns of a failure before any collective */
    ts_table *t = NULL;
    ts_err err = ts_ctx_check(ctx, ts_agg_sink_result(a->local, a->two_phase ? "partial" : "aggregate", &t));
    ts_op_hold(op, a->local->prof.mem_peak);
    if (!err && a->two_phase) {
        err = merge_states(a, t);
        ts_table_free(t);
    } else if (!err) {
        a->result = t;
        const char *part[8];
        for (int p = 0; p < a->npart; p++)
            part[p] = a->part[p];
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
        snprintf(a->keys[k], TS_NAME_MAX, "%s", keys[k]);
    for (int p = 0; p < npart; p++)
        snprintf(a->part[p], TS_NAME_MAX, "%s", part_keys[p]);
    for (int i = 0; i < naggs; i++) { /* the merge reads the aggregates' kinds, parameters and output names */
        a->aggs[i] = aggs[i];
        snprintf(a->outs[i], TS_NAME_MAX, "%s", aggs[i].output);
        a->aggs[i].output = a->outs[i];
        a->aggs[i].input = a->aggs[i].where = a->aggs[i].order = NULL;
        if (aggs[i].input)
            a->aggs[i].input = "(input)";
        if (aggs[i].order)
            a->aggs[i].order = "(order)";
    }
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
