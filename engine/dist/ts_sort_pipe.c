/* The pipelined full sort under a memory budget: external sort per rank, range partitioning between ranks
 * (ts_sort_pipe.h). */
#include "ts_sort_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_sort.h"
#include "ts_sort_ext.h"
#include "ts_spill.h"

#define ORDER_COL "__sort_order" /* the input position: rank << ORDER_SHIFT | row (as ts_sort.c's tie-breaker) */
#define ORDER_SHIFT 40
#define SAMPLES_PER_RUN 64

/* Numbers the sorters of a process: a sorter's spill files are named by its tag, and two can be alive at once (a
 * window's merge feeding the next window's sort). */
static int next_sorter_id(void)
{
    static int n;
    return n++;
}

typedef struct sort_sink {
    ts_op op;
    ts_ctx *ctx;
    ts_sort_key keys[9]; /* the user's, then ORDER_COL on P > 1 ranks */
    char names[9][TS_NAME_MAX];
    int nkeys, nuser;
    ts_table *shape;  /* the input's columns (names and types, no rows): the source's chunk */
    ts_sort_ext *s;   /* the sorter: this rank's input, then (P > 1, spilled) the rows it received */
    int64_t spilled;  /* bytes spilled by sorters already freed */
    int runs;         /* runs spilled by the first sorter */
    ts_table *sorted; /* nothing spilled: the in-memory sort's result (routed: the input rows, unsorted) */
    int routed;       /* rows move by the hash of route[] (ts_sort_sink_new_routed), not by key range */
    char route[8][TS_NAME_MAX];
    int nroute;
} sort_sink;

static void sink_note(sort_sink *k)
{
    k->op.prof.spill_bytes = k->spilled + (k->s ? ts_sort_ext_spilled(k->s) : 0);
    ts_op_hold(&k->op, k->s ? ts_sort_ext_mem_bytes(k->s) : 0);
}

static ts_err sink_consume(ts_op *op, ts_chunk *in)
{
    sort_sink *k = (sort_sink *)op;
    TS_TRY(ts_sort_ext_add_chunk(k->s, in));
    sink_note(k);
    return TS_OK;
}

/* Nothing spilled on any rank: the sample sort of the buffered rows, as without a budget. */
static ts_err sort_in_memory(sort_sink *k, ts_ctx *ctx)
{
    ts_table *t = ts_sort_ext_take_rows(k->s);
    ts_sort_ext_free(k->s);
    k->s = NULL;
    ts_err err = t ? TS_OK : ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "sort: no rows to take");
    if (t && ctx->size > 1) /* the sample sort numbers the rows itself */
        ts_column_free(t->cols[--t->ncols]);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_sort_distributed_by(ctx, &t, k->keys, k->nuser);
    if (err) {
        ts_table_free(t);
        return err;
    }
    k->sorted = t;
    return TS_OK;
}

/* The P - 1 splitters: the gathered samples in order, cut where their weights (rows they stand for) reach 1/P,
 * 2/P, ... of the total. Local (every rank computes the same from the same samples). */
static ts_err pick_splitters(ts_ctx *ctx, ts_table **all, const ts_sort_key *keys, int nkeys, ts_table **out)
{
    TS_TRY(ts_sort_local_keys(all, keys, nkeys));
    const ts_column *wc = ts_table_col(*all, "__sort_weight");
    if (!wc)
        TS_FAIL(TS_ERR_INTERNAL, "sort: samples without weights");
    const int64_t m = ts_table_rows(*all);
    double total = 0, acc = 0;
    for (int64_t i = 0; i < m; i++)
        total += TS_COL(wc, double)[i];
    int64_t pick[1024];
    int np = 0;
    for (int64_t i = 0, j = 1; i < m && j < ctx->size && np < 1024; i++) {
        while (j < ctx->size && acc >= total * (double)j / ctx->size && np < 1024) /* rows before sample i */
            pick[np++] = i, j++;
        acc += TS_COL(wc, double)[i];
    }
    TS_TRY(ts_table_new_like(*all, "splitters", out));
    return ts_table_append_rows(*out, *all, pick, np);
}

/* Routed: dest[i] = the rank of row i's route keys (ts_partition_dest; all 0 without keys). */
static ts_err route_dest(const sort_sink *k, ts_ctx *ctx, const ts_table *t, int32_t *dest)
{
    const char *names[8];
    for (int i = 0; i < k->nroute; i++)
        names[i] = k->route[i];
    return ts_partition_dest(t, names, k->nroute, ctx->size, dest);
}

/* One round: this rank's next rows in order go to the ranks of their key ranges (routed: of their route keys'
 * hash); the received ones to *recv
 * (made on the first round, like the rows). Collective. *more: some rank still had rows. */
static ts_err route_round(sort_sink *k, ts_ctx *ctx, const ts_table *split, int64_t *per_round, int32_t **dest,
                          int64_t *cap, ts_sort_ext **recv, int *more)
{
    const ts_table *t = NULL;
    ts_err err = ts_sort_ext_next(k->s, *per_round, &t);
    const int64_t n = err ? 0 : ts_table_rows(t);
    if (!err && !*recv) {
        char tag[32];
        snprintf(tag, sizeof tag, "sort-recv%d-%d", ctx->rank, next_sorter_id());
        const ts_sort_ext_opts o = {.room = ctx->op_room, .dir = ts_spill_dir(ctx->spill_dir), .tag = tag};
        err = ts_sort_ext_new(t, k->keys, k->nkeys, &o, recv);
    }
    if (!err && *cap < n + 1) {
        ts_free(*dest);
        *cap = 0;
        if (!(*dest = ts_big(sizeof **dest * (size_t)(n + 1))))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        else
            *cap = n + 1;
    }
    if (!err)
        err = k->routed ? route_dest(k, ctx, t, *dest) : ts_sort_dest(t, split, k->keys, k->nkeys, *dest);
    if (!err && n > 0) { /* rounds of about a quarter of the share */
        const int64_t per_row = ts_table_mem_bytes(t) / n + 1, r = ctx->op_room / 4 / per_row;
        *per_round = r < 64 ? 64 : r > (1 << 20) ? 1 << 20 : r;
    }
    TS_TRY(ts_ctx_check(ctx, err));
    ts_table *got = NULL;
    TS_TRY(ts_exchange_rows(ctx, t, *dest, &got));
    err = ts_sort_ext_add(*recv, got);
    ts_table_free(got);
    TS_TRY(ts_ctx_check(ctx, err));
    const int mine = n > 0;
    TS_MPI(MPI_Allreduce(&mine, more, 1, MPI_INT, MPI_MAX, ctx->comm));
    return TS_OK;
}

/* Some rank spilled, P > 1: splitters from every run's samples, then the merged runs routed by key range in
 * rounds into a second sorter, which then holds this rank's slab. */
static ts_err redistribute(sort_sink *k, ts_ctx *ctx)
{
    TS_TRY(ts_ctx_check(ctx, ts_sort_ext_finish(k->s)));
    ts_table *all = NULL, *split = NULL;
    ts_err err = TS_OK;
    if (!k->routed) {
        err = ts_sort_allgather(ctx, ts_sort_ext_samples(k->s), &all);
        if (!err)
            err = ts_ctx_check(ctx, pick_splitters(ctx, &all, k->keys, k->nkeys, &split));
        ts_table_free(all);
    }
    ts_sort_ext *recv = NULL;
    int32_t *dest = NULL;
    int64_t cap = 0, per_round = 4096;
    for (int more = 1; !err && more;)
        err = route_round(k, ctx, split, &per_round, &dest, &cap, &recv, &more);
    ts_free(dest), ts_table_free(split);
    k->spilled += ts_sort_ext_spilled(k->s);
    ts_sort_ext_free(k->s);
    k->s = recv;
    return err ? err : ts_ctx_check(ctx, ts_sort_ext_finish(recv));
}

static ts_err sink_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    sort_sink *k = (sort_sink *)op;
    TS_TRY(ts_ctx_check(ctx, status));
    const int64_t sent = ctx->bytes_sent;
    k->runs = ts_sort_ext_runs(k->s);
    int mine = k->runs > 0, any = mine;
    if (ctx->size > 1)
        TS_MPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, ctx->comm));
    ts_err err;
    if (!any && k->routed) { /* the caller's in-memory path takes the rows as they came */
        k->sorted = ts_sort_ext_take_rows(k->s);
        ts_sort_ext_free(k->s);
        k->s = NULL;
        err = k->sorted ? TS_OK : ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "sort: no rows");
        if (!err)
            ts_column_free(k->sorted->cols[--k->sorted->ncols]); /* the input position */
        err = ts_ctx_check(ctx, err);
    } else if (!any)
        err = sort_in_memory(k, ctx);
    else if (ctx->size == 1)
        err = ts_ctx_check(ctx, ts_sort_ext_finish(k->s));
    else
        err = redistribute(k, ctx);
    sink_note(k);
    op->prof.bytes_sent += ctx->bytes_sent - sent;
    if (any)
        snprintf(op->label, sizeof op->label, "sort: %d sorted runs spilled on rank %d, merged", k->runs, ctx->rank);
    return err;
}

static void sink_destroy(ts_op *op)
{
    sort_sink *k = (sort_sink *)op;
    ts_sort_ext_free(k->s);
    ts_table_free(k->sorted), ts_table_free(k->shape);
}

static const ts_op_vt SORT_SINK = {.kind = "sort", .sink = sink_consume, .finish = sink_finish,
                                   .destroy = sink_destroy};

static ts_err sink_new(ts_ctx *ctx, ts_chunk *in, const ts_sort_key *keys, int nkeys, const ts_sort_route *route,
                       ts_op **out)
{
    if (nkeys < !route || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes %d to 8 keys, not %d", !route, nkeys);
    if (route && (route->nkeys < 0 || route->nkeys > 8))
        TS_FAIL(TS_ERR_USAGE, "sort: 0 to 8 keys to distribute rows by, not %d", route->nkeys);
    if (ctx->op_room <= 0)
        TS_FAIL(TS_ERR_INTERNAL, "the spilling sort needs a memory budget");
    TS_TRY(ts_op_alloc(sizeof(sort_sink), &SORT_SINK, "sort: in memory (spills past its share)", out));
    sort_sink *k = (sort_sink *)*out;
    const int seq = ctx->size > 1 || route; /* routed: a key even on one rank (there may be no other) */
    k->ctx = ctx, k->nuser = nkeys, k->nkeys = nkeys + seq;
    k->routed = route != NULL, k->nroute = route ? route->nkeys : 0;
    for (int i = 0; i < k->nroute; i++)
        snprintf(k->route[i], TS_NAME_MAX, "%s", route->keys[i]);
    for (int i = 0; i < k->nkeys; i++) {
        snprintf(k->names[i], TS_NAME_MAX, "%s", i < nkeys ? keys[i].name : ORDER_COL);
        k->keys[i] = i < nkeys ? keys[i] : (ts_sort_key){NULL, 0, 0};
        k->keys[i].name = k->names[i];
    }
    char tag[32];
    snprintf(tag, sizeof tag, "sort%d-%d", ctx->rank, next_sorter_id());
    const ts_sort_ext_opts o = {.room = ctx->op_room, .dir = ts_spill_dir(ctx->spill_dir), .tag = tag,
                                .seq = seq ? ORDER_COL : NULL,
                                .seq_base = (int64_t)ctx->rank << ORDER_SHIFT,
                                .samples = ctx->size > 1 && !route ? SAMPLES_PER_RUN : 0};
    ts_err err = ts_table_new_like(&in->schema, "sort", &k->shape);
    if (!err)
        err = ts_sort_ext_new(&in->schema, k->keys, k->nkeys, &o, &k->s);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_sort_sink_new(ts_ctx *ctx, ts_chunk *in, const ts_sort_key *keys, int nkeys, ts_op **out)
{
    return sink_new(ctx, in, keys, nkeys, NULL, out);
}

ts_err ts_sort_sink_new_routed(ts_ctx *ctx, ts_chunk *in, const ts_sort_key *keys, int nkeys,
                               const ts_sort_route *route, ts_op **out)
{
    static const ts_sort_route none = {NULL, 0};
    return sink_new(ctx, in, keys, nkeys, route ? route : &none, out);
}

ts_sort_ext *ts_sort_sink_take_merger(ts_op *sink)
{
    sort_sink *k = (sort_sink *)sink;
    ts_sort_ext *s = k->sorted ? NULL : k->s;
    if (s)
        k->s = NULL;
    return s;
}

ts_table *ts_sort_sink_take_sorted(ts_op *sink)
{
    sort_sink *k = (sort_sink *)sink;
    ts_table *t = k->sorted;
    k->sorted = NULL;
    return t;
}

/* ---- source: the merged rows ----------------------------------------------------------------------------------- */

typedef struct sort_source {
    ts_op op;
    ts_sort_ext *s;
} sort_source;

static ts_err source_next(ts_op *op, ts_chunk **out)
{
    sort_source *q = (sort_source *)op;
    const ts_table *t;
    TS_TRY(ts_sort_ext_next(q->s, TS_CHUNK_ROWS, &t));
    ts_op_hold(op, ts_sort_ext_mem_bytes(q->s));
    const int64_t n = ts_table_rows(t);
    if (n == 0) {
        *out = NULL;
        return TS_OK;
    }
    ts_chunk_begin(op->out, n);
    for (int i = 0; i < op->out->schema.ncols; i++) /* the input position, if any, is the last column: not shown */
        TS_TRY(ts_chunk_set_view(op->out, i, t->cols[i], 0, n));
    *out = op->out;
    return TS_OK;
}

static void source_destroy(ts_op *op) { ts_sort_ext_free(((sort_source *)op)->s); }

static const ts_op_vt SORT_SOURCE = {.kind = "sort-merge", .next = source_next, .destroy = source_destroy};

ts_err ts_sort_source_new(ts_op *sink, ts_op **out)
{
    sort_sink *k = (sort_sink *)sink;
    if (!k->s)
        TS_FAIL(TS_ERR_INTERNAL, "sort: no spilled rows to merge");
    TS_TRY(ts_op_alloc(sizeof(sort_source), &SORT_SOURCE, "sort-merge: the sorted runs merged", out));
    ts_chunk *o = NULL;
    ts_err err = ts_chunk_new("sort", &o);
    for (int i = 0; !err && i < k->shape->ncols; i++)
        err = ts_chunk_add_view(o, k->shape->cols[i]->name, k->shape->cols[i], NULL);
    (*out)->out = o;
    if (err) {
        ts_op_free(*out);
        *out = NULL;
        return err;
    }
    ((sort_source *)*out)->s = k->s;
    k->s = NULL;
    return TS_OK;
}
