/* External sort: sorted runs in spill files, merged with a loser tree (ts_sort_ext.h). */
#include "ts_sort_ext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"
#include "ts_spill.h"

#define MERGE_SHARE 64     /* a run is written in batches of about room / MERGE_SHARE bytes: one merge reads 64 */
#define MIN_BATCH_ROWS 16  /* so that tiny budgets (tests) still write batches of a few rows, not single rows */
#define MAX_FANIN 1024
#define WEIGHT_COL "__sort_weight"

typedef struct run {
    int64_t offset; /* of its first batch in the spill's partition 0 */
    int64_t rows;
} run;

/* One run being merged: its current batch (or the in-memory run through its sorted order). */
typedef struct cursor {
    const ts_table *rows; /* the batch (file runs) or the buffered rows (the in-memory run) */
    ts_table *batch;      /* owned batch table of a file run */
    const int64_t *perm;  /* in-memory run: row order; NULL: rows in order */
    int64_t pos, n;       /* next row of the batch, rows in it */
    int64_t offset, left; /* file run: next batch, rows not yet read */
    ts_sort_keyset ks;
} cursor;

typedef struct merger {
    ts_spill *spill; /* the runs' file (NULL: in-memory run only) */
    cursor *cur;
    int k;
    int *tree; /* tree[0]: the winner; tree[1 .. k): the loser of each match */
    int32_t *pick_cur;
    int64_t *pick_row, npick, cap_pick;
} merger;

struct ts_sort_ext {
    ts_table *buf; /* buffered input (schema + seq) */
    ts_sort_key keys[9];
    char names[9][TS_NAME_MAX];
    int nkeys, nsamples, has_seq, pass;
    int64_t room, seq_next, batch_bytes;
    char dir[4096], tag[64];
    ts_spill *spill;
    run *runs;
    int nruns, cap_runs;
    int64_t spilled_before; /* bytes of spill files of earlier merge passes */
    ts_table *samples;
    /* after finish */
    int finished;
    int64_t *perm; /* the in-memory run's order */
    merger m;
    ts_table *out;
};

/* ---- building runs ----------------------------------------------------------------------------------------------- */

static ts_err new_samples(ts_sort_ext *s)
{
    TS_TRY(ts_table_new("samples", &s->samples));
    for (int k = 0; k < s->nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_column_new_like(ts_table_col(s->buf, s->keys[k].name), &c));
        TS_TRY(ts_table_adopt(s->samples, c));
    }
    return ts_table_add(s->samples, WEIGHT_COL, TS_T_FLOAT64, 0, NULL, NULL);
}

ts_err ts_sort_ext_new(const ts_table *schema, const ts_sort_key *keys, int nkeys, const ts_sort_ext_opts *o,
                       ts_sort_ext **out)
{
    *out = NULL;
    if (nkeys < 1 || nkeys > 9 || o->room <= 0)
        TS_FAIL(TS_ERR_USAGE, "external sort: %d keys, room %lld", nkeys, (long long)o->room);
    ts_sort_ext *s = calloc(1, sizeof *s);
    if (!s)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    s->nkeys = nkeys, s->room = o->room, s->nsamples = o->samples, s->has_seq = o->seq != NULL;
    s->seq_next = o->seq_base;
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    snprintf(s->tag, sizeof s->tag, "%s", o->tag ? o->tag : "sort");
    for (int k = 0; k < nkeys; k++) {
        snprintf(s->names[k], TS_NAME_MAX, "%s", keys[k].name);
        s->keys[k] = keys[k], s->keys[k].name = s->names[k];
    }
    ts_err err = ts_table_new_like(schema, "sort", &s->buf);
    if (!err && o->seq)
        err = ts_table_add(s->buf, o->seq, TS_T_INT64, 0, NULL, NULL);
    ts_sort_keyset ks; /* the keys exist */
    if (!err)
        err = ts_sort_keyset_resolve(s->buf, s->keys, nkeys, &ks);
    if (!err && o->samples > 0)
        err = new_samples(s);
    if (err) {
        ts_sort_ext_free(s);
        return err;
    }
    *out = s;
    return TS_OK;
}

/* Keeps regular samples of a run (rows in order perm[0 .. n)) with the rows each stands for. */
static ts_err take_samples(ts_sort_ext *s, const int64_t *perm, int64_t n)
{
    if (!s->samples || n == 0)
        return TS_OK;
    const int64_t m = n < s->nsamples ? n : s->nsamples;
    int64_t pick[256];
    ts_column *w = ts_table_col(s->samples, WEIGHT_COL);
    for (int64_t done = 0; done < m;) {
        const int64_t step = m - done < 256 ? m - done : 256;
        for (int64_t i = 0; i < step; i++)
            pick[i] = perm[(2 * (done + i) + 1) * n / (2 * m)];
        for (int k = 0; k < s->nkeys; k++)
            TS_TRY(ts_column_append_rows(s->samples->cols[k], ts_table_col(s->buf, s->keys[k].name), pick, step));
        TS_TRY(ts_column_reserve(w, w->len + step, 0));
        for (int64_t i = 0; i < step; i++)
            TS_COL(w, double)[w->len + i] = (double)n / (double)m;
        w->len += step;
        done += step;
    }
    return TS_OK;
}

/* Sorts the buffer and writes it as a run, in batches of about room / MERGE_SHARE bytes. */
static ts_err spill_run(ts_sort_ext *s)
{
    const int64_t n = ts_table_rows(s->buf);
    if (n == 0)
        return TS_OK;
    if (!s->spill) {
        char tag[96];
        snprintf(tag, sizeof tag, "%s-run%d", s->tag, s->pass);
        TS_TRY(ts_spill_open(s->dir, tag, 1, s->buf, &s->spill));
    }
    if (s->nruns == s->cap_runs) {
        const int cap = s->cap_runs ? 2 * s->cap_runs : 16;
        run *r = realloc(s->runs, sizeof *r * (size_t)cap);
        if (!r)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        s->runs = r, s->cap_runs = cap;
    }
    int64_t *perm;
    TS_TRY(ts_sort_local_order(s->buf, s->keys, s->nkeys, &perm));
    const int64_t bytes = ts_table_mem_bytes(s->buf), per_row = bytes / n + 1;
    int64_t b = s->room / MERGE_SHARE / per_row;
    b = b < MIN_BATCH_ROWS ? MIN_BATCH_ROWS : b;
    if (b * per_row > s->batch_bytes)
        s->batch_bytes = b * per_row;
    run r = {ts_spill_size(s->spill, 0), n};
    ts_err err = take_samples(s, perm, n);
    for (int64_t at = 0; !err && at < n; at += b)
        err = ts_spill_append(s->spill, 0, 0, s->buf, perm + at, n - at < b ? n - at : b);
    ts_free(perm);
    TS_TRY(err);
    s->runs[s->nruns++] = r;
    ts_table_truncate(s->buf, 0);
    return TS_OK;
}

static ts_err after_add(ts_sort_ext *s, int64_t n)
{
    if (s->has_seq) {
        ts_column *q = s->buf->cols[s->buf->ncols - 1];
        TS_TRY(ts_column_reserve(q, q->len + n, 0));
        for (int64_t i = 0; i < n; i++)
            TS_COL(q, int64_t)[q->len + i] = s->seq_next + i;
        q->len += n;
        s->seq_next += n;
    }
    return ts_table_mem_bytes(s->buf) > s->room ? spill_run(s) : TS_OK;
}

ts_err ts_sort_ext_add(ts_sort_ext *s, const ts_table *t)
{
    if (s->finished || t->ncols != s->buf->ncols - s->has_seq)
        TS_FAIL(TS_ERR_INTERNAL, "external sort: %d columns added to %d%s", t->ncols, s->buf->ncols - s->has_seq,
                s->finished ? " after the end" : "");
    const int64_t n = ts_table_rows(t);
    for (int i = 0; i < t->ncols; i++)
        TS_TRY(ts_column_append_rows(s->buf->cols[i], t->cols[i], NULL, n));
    return after_add(s, n);
}

ts_err ts_sort_ext_add_chunk(ts_sort_ext *s, const ts_chunk *c)
{
    if (s->finished || c->schema.ncols != s->buf->ncols - s->has_seq)
        TS_FAIL(TS_ERR_INTERNAL, "external sort: a chunk of %d columns for %d", c->schema.ncols,
                s->buf->ncols - s->has_seq);
    const int64_t n = ts_chunk_live(c);
    for (int i = 0; i < c->schema.ncols; i++)
        TS_TRY(ts_column_append_sel(s->buf->cols[i], &c->col[i], c->sel, n));
    return after_add(s, n);
}

int ts_sort_ext_runs(const ts_sort_ext *s) { return s->nruns; }

int64_t ts_sort_ext_spilled(const ts_sort_ext *s)
{
    return s->spilled_before + (s->spill ? ts_spill_bytes_written(s->spill) : 0);
}

int64_t ts_sort_ext_mem_bytes(const ts_sort_ext *s)
{
    int64_t b = ts_table_mem_bytes(s->buf) + (s->out ? ts_table_mem_bytes(s->out) : 0);
    for (int i = 0; i < s->m.k; i++)
        if (s->m.cur[i].batch)
            b += ts_table_mem_bytes(s->m.cur[i].batch);
    return b;
}

ts_table *ts_sort_ext_take_rows(ts_sort_ext *s)
{
    if (s->nruns || s->finished)
        return NULL;
    ts_table *t = s->buf;
    s->buf = NULL;
    return t;
}

const ts_table *ts_sort_ext_samples(const ts_sort_ext *s) { return s->samples; }

/* ---- merging ----------------------------------------------------------------------------------------------------- */

static int exhausted(const cursor *c) { return c->pos >= c->n && c->left == 0; }

static int64_t row_of(const cursor *c) { return c->perm ? c->perm[c->pos] : c->pos; }

/* Whether cursor a's current row goes before b's: by the keys, then the earlier run (input order). */
static int beats(const merger *m, int a, int b)
{
    const cursor *x = &m->cur[a], *y = &m->cur[b];
    if (exhausted(x) || exhausted(y))
        return !exhausted(x);
    const int c = ts_sort_keyset_cmp(&x->ks, row_of(x), &y->ks, row_of(y));
    return c < 0 || (c == 0 && a < b);
}

/* Plays cursor w's new row up the tree: at each node the loser stays, the winner goes on. */
static void replay(merger *m, int w)
{
    for (int n = (w + m->k) / 2; n >= 1; n /= 2)
        if (beats(m, m->tree[n], w)) {
            const int t = m->tree[n];
            m->tree[n] = w, w = t;
        }
    m->tree[0] = w;
}

static ts_err build_tree(merger *m)
{
    int *win = malloc(sizeof *win * (size_t)(2 * m->k));
    if (!win)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->k; i++)
        win[m->k + i] = i;
    for (int n = m->k - 1; n >= 1; n--) {
        const int a = win[2 * n], b = win[2 * n + 1];
        const int a_wins = beats(m, a, b);
        win[n] = a_wins ? a : b, m->tree[n] = a_wins ? b : a;
    }
    m->tree[0] = m->k > 1 ? win[1] : 0;
    free(win);
    return TS_OK;
}

static ts_err refill(merger *m, cursor *c)
{
    ts_table_truncate(c->batch, 0);
    int64_t rows;
    TS_TRY(ts_spill_read_at(m->spill, 0, &c->offset, c->batch, &rows));
    c->pos = 0, c->n = rows, c->left -= rows;
    return TS_OK;
}

static void merger_close(merger *m)
{
    for (int i = 0; m->cur && i < m->k; i++)
        ts_table_free(m->cur[i].batch);
    free(m->cur), free(m->tree), ts_free(m->pick_cur), ts_free(m->pick_row);
    memset(m, 0, sizeof *m);
}

/* Opens a merge of runs[0 .. nruns) of spill sp and, if mem is not NULL, the in-memory run (mem's rows in order
 * perm[0 .. memn)), which counts as the last run (its rows came last). */
static ts_err merger_open(ts_sort_ext *s, ts_spill *sp, const run *runs, int nruns, const ts_table *mem,
                          const int64_t *perm, int64_t memn, merger *m)
{
    memset(m, 0, sizeof *m);
    m->spill = sp, m->k = nruns + (mem != NULL);
    if (m->k == 0)
        return TS_OK;
    m->cur = calloc((size_t)m->k, sizeof *m->cur), m->tree = calloc((size_t)m->k, sizeof *m->tree);
    if (!m->cur || !m->tree)
        TS_FAIL(TS_ERR_NOMEM, "out of memory merging %d sorted runs", m->k);
    for (int i = 0; i < nruns; i++) {
        cursor *c = &m->cur[i];
        TS_TRY(ts_table_new_like(s->buf, "run", &c->batch));
        c->rows = c->batch, c->offset = runs[i].offset, c->left = runs[i].rows;
        TS_TRY(ts_sort_keyset_resolve(c->batch, s->keys, s->nkeys, &c->ks));
        TS_TRY(refill(m, c));
    }
    if (mem) {
        cursor *c = &m->cur[nruns];
        c->rows = mem, c->perm = perm, c->n = memn;
        TS_TRY(ts_sort_keyset_resolve(mem, s->keys, s->nkeys, &c->ks));
    }
    return build_tree(m);
}

/* Appends the picked rows (cursor, row) to dst column j, one pass per column. */
static ts_err gather_column(merger *m, int j, ts_column *dst)
{
    const int64_t n = m->npick, base = dst->len;
    const int32_t *pc = m->pick_cur;
    const int64_t *pr = m->pick_row;
    const ts_column *first = m->cur[pc[0]].rows->cols[j];
    if (first->type == TS_T_STRING) {
        int64_t bytes = 0;
        for (int64_t i = 0; i < n; i++) {
            const int64_t *o = TS_COL(m->cur[pc[i]].rows->cols[j], int64_t);
            bytes += o[pr[i] + 1] - o[pr[i]];
        }
        TS_TRY(ts_column_reserve(dst, base + n, dst->nbytes + bytes));
        int64_t *off = TS_COL(dst, int64_t), at = dst->nbytes;
        for (int64_t i = 0; i < n; i++) {
            const ts_column *c = m->cur[pc[i]].rows->cols[j];
            const int64_t *o = TS_COL(c, int64_t), len = o[pr[i] + 1] - o[pr[i]];
            memcpy(dst->bytes + at, c->bytes + o[pr[i]], (size_t)len);
            at += len;
            off[base + i + 1] = at;
        }
        dst->nbytes = at;
    } else {
        TS_TRY(ts_column_reserve(dst, base + n, 0));
        switch (ts_type_width(first->type)) {
        case 1:
            for (int64_t i = 0; i < n; i++)
                TS_COL(dst, uint8_t)[base + i] = TS_COL(m->cur[pc[i]].rows->cols[j], uint8_t)[pr[i]];
            break;
        case 4:
            for (int64_t i = 0; i < n; i++)
                TS_COL(dst, uint32_t)[base + i] = TS_COL(m->cur[pc[i]].rows->cols[j], uint32_t)[pr[i]];
            break;
        default:
            for (int64_t i = 0; i < n; i++)
                TS_COL(dst, uint64_t)[base + i] = TS_COL(m->cur[pc[i]].rows->cols[j], uint64_t)[pr[i]];
            break;
        }
    }
    dst->len = base + n;
    int nullable = 0;
    for (int c = 0; c < m->k; c++)
        nullable |= m->cur[c].rows->cols[j]->valid != NULL;
    for (int64_t i = 0; nullable && i < n; i++)
        if (!ts_column_is_valid(m->cur[pc[i]].rows->cols[j], pr[i]))
            TS_TRY(ts_column_set_null(dst, base + i));
    return TS_OK;
}

static ts_err flush_picks(merger *m, ts_table *out)
{
    for (int j = 0; m->npick && j < out->ncols; j++)
        TS_TRY(gather_column(m, j, out->cols[j]));
    m->npick = 0;
    return TS_OK;
}

/* Appends up to max rows in order to out (emptied first). */
static ts_err merger_next(merger *m, int64_t max, ts_table *out)
{
    ts_table_truncate(out, 0);
    if (m->cap_pick < max) {
        ts_free(m->pick_cur), ts_free(m->pick_row);
        m->pick_cur = ts_big(sizeof *m->pick_cur * (size_t)max), m->pick_row = ts_big(sizeof *m->pick_row * (size_t)max);
        m->cap_pick = m->pick_cur && m->pick_row ? max : 0;
        if (!m->cap_pick)
            TS_FAIL(TS_ERR_NOMEM, "out of memory merging sorted runs");
    }
    for (int64_t got = 0; m->k && got < max; got++) {
        const int w = m->tree[0];
        cursor *c = &m->cur[w];
        if (exhausted(c))
            break; /* the winner is exhausted: every run is */
        m->pick_cur[m->npick] = w, m->pick_row[m->npick++] = row_of(c);
        if (++c->pos == c->n && c->left > 0) { /* the picks still point into this batch: copy them out first */
            TS_TRY(flush_picks(m, out));
            TS_TRY(refill(m, c));
        }
        replay(m, w);
    }
    return flush_picks(m, out);
}

/* ---- finish: merge passes, then the final merge ---------------------------------------------------------------- */

/* Merges groups of `fanin` runs of the current spill into one run each of a new spill file, deleting the old. */
static ts_err merge_pass(ts_sort_ext *s, int fanin)
{
    ts_spill *old = s->spill;
    run *old_runs = s->runs;
    const int nold = s->nruns;
    s->pass++;
    s->spill = NULL, s->runs = NULL, s->nruns = s->cap_runs = 0;
    char tag[96];
    snprintf(tag, sizeof tag, "%s-run%d", s->tag, s->pass);
    ts_err err = ts_spill_open(s->dir, tag, 1, s->buf, &s->spill);
    int64_t rows = 0;
    for (int i = 0; i < nold; i++)
        rows += old_runs[i].rows;
    const int64_t per_row = ts_spill_bytes_written(old) / (rows ? rows : 1) + 1;
    const int64_t b_rows = s->batch_bytes / per_row > MIN_BATCH_ROWS ? s->batch_bytes / per_row : MIN_BATCH_ROWS;
    ts_table *out = NULL;
    if (!err)
        err = ts_table_new_like(s->buf, "merged", &out);
    for (int g = 0; !err && g < nold; g += fanin) {
        const int k = nold - g < fanin ? nold - g : fanin;
        merger m;
        err = merger_open(s, old, old_runs + g, k, NULL, NULL, 0, &m);
        run r = {ts_spill_size(s->spill, 0), 0};
        while (!err) {
            err = merger_next(&m, b_rows, out);
            const int64_t n = err ? 0 : ts_table_rows(out);
            if (!n)
                break;
            err = ts_spill_append(s->spill, 0, 0, out, NULL, n);
            r.rows += n;
        }
        merger_close(&m);
        if (!err && s->nruns == s->cap_runs) {
            const int cap = s->cap_runs ? 2 * s->cap_runs : 16;
            run *nr = realloc(s->runs, sizeof *nr * (size_t)cap);
            if (nr)
                s->runs = nr, s->cap_runs = cap;
            else
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        }
        if (!err)
            s->runs[s->nruns++] = r;
    }
    ts_table_free(out);
    s->spilled_before += ts_spill_bytes_written(old);
    ts_spill_close(old);
    free(old_runs);
    return err;
}

ts_err ts_sort_ext_finish(ts_sort_ext *s)
{
    if (s->finished)
        return TS_OK;
    s->finished = 1;
    int fanin = s->batch_bytes > 0 ? (int)(s->room / s->batch_bytes) : MAX_FANIN;
    fanin = fanin < 2 ? 2 : fanin > MAX_FANIN ? MAX_FANIN : fanin;
    if (s->nruns + (ts_table_rows(s->buf) > 0) > fanin) { /* the last buffer joins the runs on disk, then passes */
        TS_TRY(spill_run(s));
        while (s->nruns > fanin)
            TS_TRY(merge_pass(s, fanin));
    }
    const int64_t n = ts_table_rows(s->buf);
    if (n > 0) {
        TS_TRY(ts_sort_local_order(s->buf, s->keys, s->nkeys, &s->perm));
        TS_TRY(take_samples(s, s->perm, n));
    }
    TS_TRY(ts_table_new_like(s->buf, "sorted", &s->out));
    return merger_open(s, s->spill, s->runs, s->nruns, n > 0 ? s->buf : NULL, s->perm, n, &s->m);
}

ts_err ts_sort_ext_next(ts_sort_ext *s, int64_t max_rows, const ts_table **out)
{
    if (!s->finished || max_rows < 1)
        TS_FAIL(TS_ERR_INTERNAL, "external sort: next before the end of the input");
    TS_TRY(merger_next(&s->m, max_rows, s->out));
    *out = s->out;
    return TS_OK;
}

void ts_sort_ext_free(ts_sort_ext *s)
{
    if (!s)
        return;
    merger_close(&s->m);
    ts_spill_close(s->spill);
    ts_table_free(s->buf), ts_table_free(s->out), ts_table_free(s->samples);
    ts_free(s->perm);
    free(s->runs);
    free(s);
}
