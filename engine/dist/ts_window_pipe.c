/* Window functions under a memory budget: a routed external sort, then evaluation a few whole partitions at a time
 * (ts_window_pipe.h). */
#include "ts_window_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"
#include "ts_sort_pipe.h"
#include "ts_spill.h"
#include "ts_window.h"

ts_err ts_window_sink_new(ts_ctx *ctx, ts_chunk *in, const ts_window_spec *spec, ts_op **out)
{
    if (spec->npartition < 0 || spec->norder < 0 || spec->npartition + spec->norder > 8)
        TS_FAIL(TS_ERR_USAGE, "window: the spilling window takes 8 PARTITION BY and ORDER BY keys at most, not %d",
                spec->npartition + spec->norder);
    ts_sort_key keys[8];
    int nk = 0;
    for (int k = 0; k < spec->npartition; k++) /* any order groups equal keys; NULLs first, as one partition */
        keys[nk++] = (ts_sort_key){spec->partition[k], 0, 0};
    for (int k = 0; k < spec->norder; k++)
        keys[nk++] = spec->order[k];
    const ts_sort_route route = {spec->partition, spec->npartition};
    TS_TRY(ts_sort_sink_new_routed(ctx, in, keys, nk, &route, out));
    snprintf((*out)->label, sizeof (*out)->label, "window sort: in memory (spills past its share)");
    return TS_OK;
}

ts_table *ts_window_sink_take_rows(ts_op *sink) { return ts_sort_sink_take_sorted(sink); }

/* ---- source ---------------------------------------------------------------------------------------------------- */

typedef struct win_source {
    ts_op op;
    ts_ctx *ctx;
    ts_sort_ext *s;        /* the merged rows */
    ts_window_spec spec;
    ts_window_fn *fns;     /* spec.fns (copied) */
    char name[128];
    ts_window_prep prep;
    void *arg;
    ts_table *pending;     /* merged rows not evaluated yet: whole partitions, then the start of the next one */
    ts_table *ready;       /* evaluated rows being shown, from row `shown` on */
    int64_t shown;
    int64_t target;        /* rows pending must hold before it is cut */
    int64_t base;          /* rows of one evaluation batch when partitions are small */
    int eof;
    int show[TS_MAX_COLS]; /* columns of ready that flow out: the input's, then the functions' (not the position) */
    int nshow;
} win_source;

#define BATCH_ROWS (4 * TS_CHUNK_ROWS) /* rows read from the merge at a time */

static ts_err too_large(const win_source *w, int64_t rows, int64_t bytes)
{
    char h[24], r[24], l[24];
    TS_FAIL(TS_ERR_NOMEM, "%s: one window partition of %lld rows holds %s, more than its share %s of --memory-limit "
            "%s (a partition is evaluated in memory; raise the limit or partition by more keys)", w->name,
            (long long)rows, ts_format_bytes((double)bytes, h, sizeof h),
            ts_format_bytes((double)w->ctx->op_room, r, sizeof r),
            ts_format_bytes((double)w->ctx->mem_limit, l, sizeof l));
}

/* Reads merged rows until pending holds target rows (or the stream ends). */
static ts_err fill(win_source *w)
{
    for (;;) {
        const int64_t have = ts_table_rows(w->pending);
        if (w->base == 0 && have > 0) { /* batches of about an eighth of the share, 2 to 32 chunks */
            const int64_t per_row = ts_table_mem_bytes(w->pending) / have + 1, r = w->ctx->op_room / 8 / per_row;
            w->base = r < 2 * TS_CHUNK_ROWS ? 2 * TS_CHUNK_ROWS : r > 32 * TS_CHUNK_ROWS ? 32 * TS_CHUNK_ROWS : r;
            w->target = w->target > w->base ? w->target : w->base;
        }
        if (w->eof || have >= w->target)
            break;
        const ts_table *t;
        TS_TRY(ts_sort_ext_next(w->s, BATCH_ROWS, &t));
        const int64_t n = ts_table_rows(t);
        if (n == 0)
            w->eof = 1;
        else
            TS_TRY(ts_table_append_rows(w->pending, t, NULL, n));
    }
    ts_op_hold(&w->op, ts_table_mem_bytes(w->pending) + ts_sort_ext_mem_bytes(w->s));
    return TS_OK;
}

/* Moves rows [cut, n) of pending to a new pending table; pending keeps rows [0, cut) and becomes ready. */
static ts_err cut_pending(win_source *w, int64_t cut)
{
    const int64_t n = ts_table_rows(w->pending);
    ts_table *tail = NULL;
    int64_t *idx = ts_big(sizeof *idx * (size_t)(n - cut + 1));
    ts_err err = idx ? ts_table_new_like(w->pending, "window rows", &tail)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = cut; idx && i < n; i++)
        idx[i - cut] = i;
    if (!err)
        err = ts_table_append_rows(tail, w->pending, idx, n - cut);
    ts_free(idx);
    if (err) {
        ts_table_free(tail);
        return err;
    }
    ts_table_truncate(w->pending, cut);
    w->ready = w->pending, w->pending = tail;
    return TS_OK;
}

/* The next batch of whole partitions, evaluated, in w->ready (NULL at the end). */
static ts_err next_ready(win_source *w)
{
    ts_table_free(w->ready);
    w->ready = NULL, w->shown = 0;
    for (;;) {
        TS_TRY(fill(w));
        const int64_t n = ts_table_rows(w->pending);
        if (n == 0)
            return TS_OK; /* the end */
        const int64_t last = ts_window_last_start(w->pending, &w->spec);
        const int64_t bytes = ts_table_mem_bytes(w->pending);
        const int64_t last_bytes = (int64_t)((double)bytes * (double)(n - last) / (double)n);
        if (last_bytes > w->ctx->op_room)
            return too_large(w, n - last, last_bytes);
        const int64_t cut = w->eof ? n : last;
        if (cut > 0) {
            TS_TRY(cut_pending(w, cut));
            w->target = ts_table_rows(w->pending) + w->base;
            break;
        }
        w->target = 2 * n; /* one partition so far: read on (doubling, so its rows are copied O(1) times) */
    }
    if (w->prep)
        TS_TRY(w->prep(w->arg, w->ready));
    TS_TRY(ts_window_sorted(w->ready, &w->spec));
    return TS_OK;
}

static ts_err source_next(ts_op *op, ts_chunk **out)
{
    win_source *w = (win_source *)op;
    while (!w->ready || w->shown == ts_table_rows(w->ready)) {
        TS_TRY(next_ready(w));
        if (!w->ready) {
            *out = NULL;
            return TS_OK;
        }
    }
    const int64_t left = ts_table_rows(w->ready) - w->shown, n = left < TS_CHUNK_ROWS ? left : TS_CHUNK_ROWS;
    ts_chunk_begin(op->out, n);
    for (int i = 0; i < w->nshow; i++)
        TS_TRY(ts_chunk_set_view(op->out, i, w->ready->cols[w->show[i]], w->shown, n));
    w->shown += n;
    *out = op->out;
    return TS_OK;
}

static void source_destroy(ts_op *op)
{
    win_source *w = (win_source *)op;
    ts_sort_ext_free(w->s);
    ts_table_free(w->pending), ts_table_free(w->ready);
    free(w->fns);
}

static const ts_op_vt WINDOW_SOURCE = {.kind = "window", .next = source_next, .destroy = source_destroy};

/* The output chunk: the functions evaluated over no rows give the columns' types. */
static ts_err make_output(win_source *w)
{
    ts_table *e = NULL;
    ts_err err = ts_table_new_like(w->pending, "window", &e);
    if (!err && w->prep)
        err = w->prep(w->arg, e);
    if (!err)
        err = ts_window_sorted(e, &w->spec);
    const int nin = w->pending->ncols - 1; /* the input position is the sorter's last column */
    w->nshow = 0;
    for (int i = 0; !err && i < e->ncols; i++) {
        if (i == nin)
            continue;
        if (w->nshow == TS_MAX_COLS)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "%s: more than %d columns", w->name,
                                 TS_MAX_COLS);
        else
            w->show[w->nshow++] = i;
    }
    if (!err)
        err = ts_chunk_new("window", &w->op.out);
    for (int i = 0; !err && i < w->nshow; i++)
        err = ts_chunk_add_view(w->op.out, e->cols[w->show[i]]->name, e->cols[w->show[i]], NULL);
    ts_table_free(e);
    return err;
}

ts_err ts_window_source_new(ts_ctx *ctx, ts_op *sink, const ts_window_spec *spec, const char *name,
                            ts_window_prep prep, void *arg, ts_op **out)
{
    ts_sort_ext *s = ts_sort_sink_take_merger(sink);
    if (!s)
        TS_FAIL(TS_ERR_INTERNAL, "window: no spilled rows to merge");
    ts_err err = ts_op_alloc(sizeof(win_source), &WINDOW_SOURCE, "window: whole partitions of the merged runs at a "
                             "time", out);
    if (err) {
        ts_sort_ext_free(s);
        return err;
    }
    win_source *w = (win_source *)*out;
    w->ctx = ctx, w->s = s, w->spec = *spec, w->prep = prep, w->arg = arg;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "window");
    w->target = 1; /* the first batch sizes the others */
    if (!(w->fns = malloc(sizeof *w->fns * (size_t)(spec->nfns + 1))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    else if (spec->nfns)
        memcpy(w->fns, spec->fns, sizeof *w->fns * (size_t)spec->nfns);
    w->spec.fns = w->fns;
    const ts_table *first = NULL;
    if (!err)
        err = ts_sort_ext_next(s, BATCH_ROWS, &first);
    if (!err)
        err = ts_table_new_like(first, "window rows", &w->pending);
    if (!err)
        err = ts_table_append_rows(w->pending, first, NULL, ts_table_rows(first));
    if (!err && ts_table_rows(first) == 0)
        w->eof = 1;
    if (!err)
        err = make_output(w);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}
