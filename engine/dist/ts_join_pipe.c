#include "ts_join_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_keyhash.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_spill_keys.h"

#define DEFAULT_BROADCAST_BYTES (INT64_C(64) << 20)

typedef struct join_build {
    ts_op op;
    ts_ctx *ctx;
    int nkeys, key[8];
    char keys[8][TS_NAME_MAX];
    ts_join_strategy strategy;
    int64_t limit, global_bytes;
    int broadcast, keep_null_keys, keys_only;
    int64_t local_rows; /* rows this rank collected, before the broadcast */
    ts_table *rows;
    /* While every chunk so far was a view continuing the previous one in the same arrays (an in-memory table
     * scanned in order), the rows are not copied: span_col describes them in place (span_rows rows), and a shuffle
     * sends them from there (a copy of the whole build side in fresh memory was 13 % of the page faults of a
     * 10^7-row join on 2 ranks). Any other chunk first copies the span into rows (no_span: from then on always). */
    int64_t span_rows;
    int in_place, no_span; /* ts_join_build_input_in_place; a chunk broke the span */
    int sent_in_place;     /* the shuffle sent the span */
    ts_column span_col[TS_MAX_COLS];
    ts_join_ht *ht;
    ts_spill *spill; /* over the memory budget: the rows by key hash (after finish: this rank's, shuffled) */
} join_build;

static int64_t table_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int c = 0; c < t->ncols; c++)
        b += t->cols[c]->len * (int64_t)ts_type_width(t->cols[c]->type) + t->cols[c]->nbytes;
    return b;
}

/* 1 when chunk `in` (rows 0 .. n, no selection) continues the span: every column a view whose arrays start where
 * the span's end (the same payload and dictionary; a bitmap continues at a 64-row boundary). A first chunk starts a
 * span when its text offsets start at 0, as a table's do. Under a memory budget nothing is kept in place: the
 * collected rows must be spillable. */
static int span_extends(const join_build *b, const ts_chunk *in)
{
    if (!b->in_place || b->no_span || in->sel || b->ctx->op_room > 0 || in->schema.ncols > TS_MAX_COLS)
        return 0;
    for (int i = 0; i < in->schema.ncols; i++) {
        const ts_column *v = &in->col[i], *s = &b->span_col[i];
        if (!in->viewing[i])
            return 0;
        if (!b->span_rows) {
            if (v->type == TS_T_STRING && TS_COL(v, int64_t)[0] != 0)
                return 0;
            continue;
        }
        const size_t w = ts_type_width(v->type);
        if ((const char *)v->data != (const char *)s->data + (size_t)s->len * w || v->bytes != s->bytes ||
            v->dict != s->dict || !v->valid != !s->valid || (v->valid && ((s->len & 63) || v->valid != s->valid +
                                                                          s->len / 64)))
            return 0;
    }
    return 1;
}

static void span_add(join_build *b, const ts_chunk *in)
{
    for (int i = 0; i < in->schema.ncols; i++) {
        ts_column *s = &b->span_col[i];
        if (!b->span_rows) {
            *s = in->col[i];
            s->len = 0, s->valid_spare = NULL, s->bytes_cap = 0;
        }
        s->len += in->n, s->cap = s->len;
        if (s->type == TS_T_STRING)
            s->nbytes = TS_COL(s, int64_t)[s->len];
    }
    b->span_rows += in->n;
}

/* The span as a table borrowing its columns (*out is new; its columns stay the scanned table's). */
static ts_err span_table(join_build *b, ts_table **out)
{
    TS_TRY(ts_table_new(b->rows->name, out));
    (*out)->borrowed = 1;
    for (int c = 0; c < b->rows->ncols; c++) {
        const ts_err err = ts_table_borrow(*out, &b->span_col[c]);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            return err;
        }
    }
    return TS_OK;
}

/* The span's rows are copied into rows (they must outlive the scanned table, or come before rows that are not a
 * span); no span is started again. */
static ts_err span_copy(join_build *b)
{
    b->no_span = 1;
    for (int c = 0; b->span_rows && c < b->rows->ncols; c++)
        TS_TRY(ts_column_append_rows(b->rows->cols[c], &b->span_col[c], NULL, b->span_rows));
    b->span_rows = 0;
    return TS_OK;
}

static int64_t span_bytes(const join_build *b)
{
    int64_t n = 0;
    for (int c = 0; b->span_rows && c < b->rows->ncols; c++)
        n += b->span_rows * (int64_t)ts_type_width(b->span_col[c].type) + b->span_col[c].nbytes;
    return n;
}

/* The collected rows go to the spill partitions (by key hash), and their memory is freed. */
static ts_err spill_rows(join_build *b)
{
    const char *keys[8];
    for (int k = 0; k < b->nkeys; k++)
        keys[k] = b->keys[k];
    if (!b->spill) {
        char tag[32];
        snprintf(tag, sizeof tag, "build%d", b->ctx->rank);
        TS_TRY(ts_spill_open(ts_spill_dir(b->ctx->spill_dir), tag, TS_SPILL_PARTS, b->rows, &b->spill));
    }
    TS_TRY(ts_spill_by_keys(b->spill, TS_SPILL_PARTS, b->rows, keys, b->nkeys));
    b->op.prof.spill_bytes = ts_spill_bytes_written(b->spill);
    ts_table *empty;
    TS_TRY(ts_table_new_like(b->rows, b->rows->name, &empty));
    ts_table_free(b->rows);
    b->rows = empty;
    return TS_OK;
}

/* Grace mode (some rank's build side outgrew its share; collective): every rank spills what it holds, then the
 * partitions move to the ranks their keys hash to a round at a time, re-spilled there in the same partitions; the
 * probe side is spilled alike (dist/ts_join_grace.h) and partition pairs joined one round at a time. */
static ts_err finish_grace(join_build *b, ts_ctx *ctx)
{
    ts_err err = ts_ctx_check(ctx, spill_rows(b));
    if (err || ctx->size == 1)
        return err;
    const char *keys[8];
    for (int k = 0; k < b->nkeys; k++)
        keys[k] = b->keys[k];
    ts_spill *mine = b->spill, *moved = NULL;
    char tag[32];
    snprintf(tag, sizeof tag, "right%d", ctx->rank);
    err = ts_ctx_check(ctx, ts_spill_open(ts_spill_dir(ctx->spill_dir), tag, TS_SPILL_PARTS, b->rows, &moved));
    int at[TS_SPILL_PARTS + 1], n = 0;
    if (!err)
        err = ts_spill_rounds(ctx, mine, TS_SPILL_PARTS, ctx->op_room, at, &n);
    const int64_t sent0 = ctx->bytes_sent;
    for (int r = 0; !err && r < n; r++) {
        ts_table *t = NULL;
        int32_t *dest = NULL;
        err = ts_spill_read_range(mine, at[r], at[r + 1], "right", &t);
        if (!err && !(dest = malloc(sizeof *dest * (size_t)(ts_table_rows(t) + 1))))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        if (!err)
            err = ts_partition_dest(t, keys, b->nkeys, ctx->size, dest);
        err = ts_ctx_check(ctx, err);
        if (!err)
            err = ts_exchange_rows_move(ctx, &t, dest);
        if (!err)
            err = ts_ctx_check(ctx, ts_spill_by_keys(moved, TS_SPILL_PARTS, t, keys, b->nkeys));
        free(dest);
        ts_table_free(t);
    }
    b->op.prof.bytes_sent += ctx->bytes_sent - sent0;
    b->op.prof.spill_bytes = ts_spill_bytes_written(mine) + (moved ? ts_spill_bytes_written(moved) : 0);
    ts_spill_close(mine);
    b->spill = moved;
    return err;
}

static ts_err build_sink(ts_op *op, ts_chunk *in)
{
    join_build *b = (join_build *)op;
    int nulls = 0;
    for (int k = 0; k < b->nkeys; k++)
        nulls |= in->col[b->key[k]].valid != NULL;
    if (nulls && !b->keep_null_keys) { /* a NULL key never matches: drop those rows here */
        int32_t buf[TS_CHUNK_ROWS];
        const int32_t *rows = ts_chunk_rows(in, buf);
        int n = 0;
        for (int64_t j = 0; j < ts_chunk_live(in); j++) {
            int ok = 1;
            for (int k = 0; k < b->nkeys && ok; k++)
                ok = ts_column_is_valid(&in->col[b->key[k]], rows[j]);
            in->sel_buf[n] = rows[j];
            n += ok;
        }
        in->sel = in->sel_buf, in->nsel = n;
    }
    if (!in->n)
        return TS_OK;
    if (span_extends(b, in)) {
        span_add(b, in);
        return TS_OK;
    }
    TS_TRY(span_copy(b));
    TS_TRY(ts_chunk_append_to(in, b->rows));
    ts_op_hold(op, table_bytes(b->rows));
    if (b->ctx->op_room > 0 && table_bytes(b->rows) > b->ctx->op_room)
        TS_TRY(spill_rows(b));
    return TS_OK;
}

/* Every rank gets every row (rank order, then row order). */
static ts_err replicate(ts_ctx *ctx, ts_table **t)
{
    const int64_t n = ts_table_rows(*t), m = n * ctx->size;
    ts_table *picked = NULL, *out = NULL;
    int64_t *idx = ts_big(8 * (size_t)(m + 1));
    int32_t *dest = ts_big(4 * (size_t)(m + 1));
    ts_err err = idx && dest ? ts_table_new_like(*t, (*t)->name, &picked)
                             : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t k = 0; !err && k < m; k++)
        idx[k] = k % n, dest[k] = (int32_t)(k / n);
    if (!err)
        err = ts_table_append_rows(picked, *t, idx, m);
    ts_free(idx);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, picked, dest, &out);
    ts_free(dest), ts_table_free(picked);
    if (!err)
        ts_table_free(*t), *t = out;
    return err;
}

/* The collected rows (or the span, read in place) to the ranks their keys hash to. */
static ts_err shuffle(join_build *b)
{
    const char *keys[8];
    for (int k = 0; k < b->nkeys; k++)
        keys[k] = b->keys[k];
    ts_table *span = NULL, *out = NULL;
    ts_err err = b->span_rows ? span_table(b, &span) : TS_OK;
    const ts_table *from = span ? span : b->rows;
    int32_t *dest = err ? NULL : malloc(sizeof *dest * (size_t)(ts_table_rows(from) + 1));
    if (!err)
        err = dest ? ts_partition_dest(from, keys, b->nkeys, b->ctx->size, dest)
                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    err = ts_ctx_check(b->ctx, err);
    if (!err && span) {
        err = ts_exchange_rows(b->ctx, span, dest, &out);
        if (!err)
            ts_table_free(b->rows), b->rows = out, b->span_rows = 0, b->sent_in_place = 1;
    } else if (!err) {
        err = ts_exchange_rows_move(b->ctx, &b->rows, dest);
    }
    free(dest);
    ts_table_free(span);
    return err;
}

static ts_err build_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    join_build *b = (join_build *)op;
    TS_TRY(ts_ctx_check(ctx, status));
    if (ctx->op_room > 0) { /* a budget: did any rank spill? (then all join in partition pairs) */
        int spilled = b->spill != NULL, any = 0;
        TS_MPI(MPI_Allreduce(&spilled, &any, 1, MPI_INT, MPI_MAX, ctx->comm));
        if (any) {
            TS_TRY(finish_grace(b, ctx));
            snprintf(op->label, sizeof op->label, "join-build: over its memory share, spilled by key hash%s",
                     ctx->size > 1 ? " and shuffled" : "");
            return TS_OK;
        }
    }
    const int64_t mine = table_bytes(b->rows) + span_bytes(b);
    TS_MPI(MPI_Allreduce(&mine, &b->global_bytes, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    b->local_rows = ts_table_rows(b->rows) + b->span_rows;
    b->broadcast = ctx->size == 1 || b->strategy == TS_JOIN_BROADCAST ||
                   (b->strategy == TS_JOIN_AUTO && b->global_bytes <= b->limit);
    const int64_t sent0 = ctx->bytes_sent;
    /* kept here, the rows must be copied out of the scanned table (the probe reads them after it is gone) */
    ts_err err = b->broadcast ? ts_ctx_check(ctx, span_copy(b)) : TS_OK;
    if (!err)
        err = ctx->size == 1 ? TS_OK : b->broadcast ? replicate(ctx, &b->rows) : shuffle(b);
    op->prof.bytes_sent += ctx->bytes_sent - sent0;
    if (!err) {
        const char *keys[8];
        for (int k = 0; k < b->nkeys; k++)
            keys[k] = b->keys[k];
        /* the right columns go into the table's records too, unless no probe reads them or, under a memory
         * budget, they might not fit the share (at most 16 + 112 bytes a row) */
        const int pack = !b->keys_only && (ctx->op_room <= 0 || table_bytes(b->rows) + 128 * ts_table_rows(b->rows)
                                                                    <= ctx->op_room);
        err = ts_ctx_check(ctx, ts_join_ht_build(b->rows, keys, b->nkeys, pack, &b->ht));
    }
    if (!err) {
        ts_op_hold(op, table_bytes(b->rows) + ts_join_ht_bytes(b->ht));
        snprintf(op->label, sizeof op->label, "join-build: %s, right side %.1f MiB", b->broadcast ? "broadcast"
                 : b->sent_in_place ? "shuffled by key hash from the table in place" : "shuffled by key hash",
                 (double)b->global_bytes / (1 << 20));
    }
    return err;
}

static void build_destroy(ts_op *op)
{
    join_build *b = (join_build *)op;
    ts_join_ht_free(b->ht);
    ts_table_free(b->rows);
    ts_spill_close(b->spill);
}

static const ts_op_vt JOIN_BUILD = {.kind = "join-build", .sink = build_sink, .finish = build_finish,
                                    .destroy = build_destroy};

ts_err ts_join_build_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, ts_join_strategy strategy,
                         int64_t broadcast_bytes, ts_op **out)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "between 1 and 8 join keys are supported, not %d", nkeys);
    TS_TRY(ts_op_alloc(sizeof(join_build), &JOIN_BUILD, "join-build", out));
    join_build *b = (join_build *)*out;
    b->ctx = ctx, b->nkeys = nkeys, b->strategy = strategy;
    b->limit = broadcast_bytes > 0 ? broadcast_bytes : DEFAULT_BROADCAST_BYTES;
    ts_err err = TS_OK;
    for (int k = 0; !err && k < nkeys; k++) {
        snprintf(b->keys[k], TS_NAME_MAX, "%s", keys[k]);
        b->key[k] = -1;
        for (int i = 0; i < in->schema.ncols; i++)
            if (!strcmp(in->col[i].name, keys[k]))
                b->key[k] = i;
        if (b->key[k] < 0)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "join: right side has no column '%s'",
                                 keys[k]);
    }
    if (!err)
        err = ts_table_new_like(&in->schema, "right", &b->rows);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

void ts_join_build_keep_null_keys(ts_op *op) { ((join_build *)op)->keep_null_keys = 1; }

void ts_join_build_keys_only(ts_op *op) { ((join_build *)op)->keys_only = 1; }

void ts_join_build_input_in_place(ts_op *op) { ((join_build *)op)->in_place = 1; }

ts_err ts_join_build_select_marked(ts_op *op, ts_ctx *ctx, uint8_t *matched, int want, ts_table **out)
{
    join_build *b = (join_build *)op;
    *out = NULL;
    const int64_t n = ts_table_rows(b->rows);
    int64_t first = 0, count = n;
    if (b->broadcast && ctx->size > 1) { /* every rank marked its own probe rows: combine, then each takes its own */
        for (int64_t at = 0; at < n; at += INT32_MAX) {
            const int len = (int)(n - at < INT32_MAX ? n - at : INT32_MAX);
            TS_MPI(MPI_Allreduce(MPI_IN_PLACE, matched + at, len, MPI_UINT8_T, MPI_BOR, ctx->comm));
        }
        TS_MPI(MPI_Exscan(&b->local_rows, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
        if (ctx->rank == 0)
            first = 0;
        count = b->local_rows;
    }
    int64_t *idx = ts_big(8 * (size_t)(count + 1)), m = 0;
    ts_err err = idx ? ts_table_new_like(b->rows, b->rows->name, out)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = first; !err && i < first + count; i++)
        if (!matched[i] == !want)
            idx[m++] = i;
    if (!err)
        err = ts_table_append_rows(*out, b->rows, idx, m);
    ts_free(idx);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

/* ---- right and full joins: the probe, then the right rows it never matched ---------------------------------------- */

typedef struct outer_probe {
    ts_op op;
    ts_op *probe;        /* inner (right joins) or left (full joins) probe, marking the right rows it matched */
    ts_op *build;        /* the build operator: the right rows (not owned) */
    uint8_t *matched;    /* one flag per right row */
    ts_table *unmatched; /* after drain_begin: this rank's share of the right rows no left row matched */
    int64_t next;        /* the next unmatched row to emit */
    int nleft, rcol[TS_MAX_COLS]; /* output column nleft + k is unmatched's column rcol[k] */
} outer_probe;

static ts_err outer_execute(ts_op *op, ts_chunk *in, ts_chunk **out, int *more)
{
    outer_probe *o = (outer_probe *)op;
    return o->probe->vt->execute(o->probe, in, out, more);
}

static ts_err outer_drain_begin(ts_op *op, ts_ctx *ctx)
{
    outer_probe *o = (outer_probe *)op;
    TS_TRY(ts_join_build_select_marked(o->build, ctx, o->matched, 0, &o->unmatched));
    const ts_chunk *out = o->probe->out;
    for (int k = 0; o->nleft + k < out->schema.ncols; k++) {
        o->rcol[k] = -1;
        for (int c = 0; c < o->unmatched->ncols; c++)
            if (!strcmp(o->unmatched->cols[c]->name, out->col[o->nleft + k].name))
                o->rcol[k] = c;
        if (o->rcol[k] < 0)
            TS_FAIL(TS_ERR_INTERNAL, "join: the right rows have no column '%s'", out->col[o->nleft + k].name);
    }
    return TS_OK;
}

/* The unmatched right rows, a chunk at a time: NULL left columns, the right columns as views. */
static ts_err outer_drain(ts_op *op, ts_chunk **out)
{
    outer_probe *o = (outer_probe *)op;
    ts_chunk *c = o->probe->out;
    const int64_t left = ts_table_rows(o->unmatched) - o->next, n = left < TS_CHUNK_ROWS ? left : TS_CHUNK_ROWS;
    *out = NULL;
    if (n <= 0)
        return TS_OK;
    ts_chunk_begin(c, n);
    for (int i = 0; i < o->nleft; i++) {
        ts_column *v;
        TS_TRY(ts_chunk_vector(c, i, &v));
        TS_TRY(ts_column_append_nulls(v, n));
    }
    for (int k = 0; o->nleft + k < c->schema.ncols; k++)
        TS_TRY(ts_chunk_set_view(c, o->nleft + k, o->unmatched->cols[o->rcol[k]], o->next, n));
    o->next += n;
    *out = c;
    return TS_OK;
}

static void outer_destroy(ts_op *op)
{
    outer_probe *o = (outer_probe *)op;
    op->out = NULL; /* the inner probe's chunk: freed with it */
    ts_op_free(o->probe);
    ts_free(o->matched);
    ts_table_free(o->unmatched);
}

static const ts_op_vt OUTER_PROBE = {.kind = "join-probe", .execute = outer_execute,
                                     .drain_begin = outer_drain_begin, .drain = outer_drain,
                                     .destroy = outer_destroy};

ts_err ts_join_outer_probe_new(ts_chunk *in, ts_op *build, ts_join_type type, const char *const *left_keys,
                               const char *const *right_cols, const char *const *out_names, int nright, ts_op **out)
{
    if (type != TS_JOIN_RIGHT && type != TS_JOIN_FULL)
        TS_FAIL(TS_ERR_INTERNAL, "an outer probe does right and full joins, not %s", ts_join_type_name(type));
    TS_TRY(ts_op_alloc(sizeof(outer_probe), &OUTER_PROBE, NULL, out));
    outer_probe *o = (outer_probe *)*out;
    const join_build *b = (const join_build *)build;
    o->build = build, o->nleft = in->schema.ncols;
    ts_err err = (o->matched = ts_big_zero((size_t)ts_table_rows(b->rows) + 1))
                     ? ts_join_probe_new(in, b->ht, b->rows, type == TS_JOIN_RIGHT ? TS_JOIN_INNER : TS_JOIN_LEFT,
                                         left_keys, right_cols, out_names, nright, &o->probe)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for a join's marks");
    if (!err && !o->probe->out)
        err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "a right join outputs no right column");
    if (err) {
        ts_op_free(*out);
        *out = NULL;
        return err;
    }
    ts_join_probe_mark(o->probe, o->matched);
    o->op.out = o->probe->out; /* what flows out (not owned: see outer_destroy) */
    o->op.out->schema.npart = 0; /* the unmatched right rows, NULL on the left keys, stay where they were built */
    snprintf(o->op.label, sizeof o->op.label, "join-probe: %s on %d key%s, then the unmatched right rows",
             ts_join_type_name(type), b->nkeys, b->nkeys == 1 ? "" : "s");
    return TS_OK;
}

int ts_join_build_broadcast(const ts_op *op) { return ((const join_build *)op)->broadcast; }
int64_t ts_join_build_global_bytes(const ts_op *op) { return ((const join_build *)op)->global_bytes; }
const ts_join_ht *ts_join_build_table(const ts_op *op) { return ((const join_build *)op)->ht; }
const ts_table *ts_join_build_rows(const ts_op *op) { return ((const join_build *)op)->rows; }

ts_spill *ts_join_build_take_spill(ts_op *op)
{
    join_build *b = (join_build *)op;
    ts_spill *s = b->spill;
    b->spill = NULL;
    return s;
}
