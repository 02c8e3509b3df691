#include "ts_xchg.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_cold.h"
#include "ts_keyhash.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_spill.h"

#define MAGIC INT64_C(0x7473786368670002) /* "tsxchg", version 2: narrowed integer columns */
#define TAG_BASE 20000
#define TAGS 10000
#define HEADER 4                          /* int64 words: magic, rows, columns, sequence number */
#define DESC 6                            /* int64 words per column: values, validity, bytes offsets; payload bytes;
                                             the base and byte width of narrowed values (width 0: stored as is) */

static int next_tag; /* every rank creates exchanges in the same order, so they agree on each one's tag */

typedef struct rmsg {
    char *buf;
    int64_t size;
    int pending;   /* its receive has not completed: the buffer is MPI's */
    int64_t rows;  /* from its header, read as the receive completes: a cold block's pages are not touched again
                    * until the source reads it (one touch maps a whole large folio of the file) */
} rmsg;

typedef struct peer {
    rmsg *m;
    int n, cap;
} peer;

typedef struct xchg_sink {
    ts_op op;
    ts_ctx *ctx;
    int P, me, tag, root, nkeys, key[TS_MAX_COLS];
    ts_table **stage;       /* per destination (NULL for this rank) */
    ts_table *kept;         /* rows for this rank itself */
    int64_t msg_bytes, row_cap, *seq;
    int max_inflight, nflight;
    MPI_Request *sreq;
    char **sbuf;
    int64_t *ssize;
    peer *from;             /* received messages per source, in sequence order */
    MPI_Request *rreq;      /* pending receives */
    int (*rmsg_of)[2];      /* the message each pending receive fills: (source, index in from[source]) */
    int *done_idx;          /* scratch for MPI_Testsome */
    int nrecv, cap_recv;
    ts_cold *kept_cold;     /* under a budget: this rank's own rows beyond half a share, moved out as they come */
    int64_t staged_bytes, inflight_bytes;
    int64_t held_bytes;     /* received messages still in memory (not cold, not yet read) */
    ts_xchg_stats st;
    int taken;              /* a source took the received data over */
    uint64_t h[TS_CHUNK_ROWS];
    int32_t dest[TS_CHUNK_ROWS], order[TS_CHUNK_ROWS];
} xchg_sink;

static ts_err mpi(int rc, const char *what) { return ts_mpi_status(rc, what, __FILE__, __LINE__, __func__); }

/* ---- receiving ---------------------------------------------------------------------------------------------------- */

static ts_err add_recv(xchg_sink *x, int src, char *buf, int64_t size, MPI_Message *m)
{
    peer *p = &x->from[src];
    if (p->n == p->cap) {
        const int cap = p->cap ? 2 * p->cap : 16;
        rmsg *g = realloc(p->m, sizeof *g * (size_t)cap);
        if (!g)
            TS_FAIL(TS_ERR_NOMEM, "out of memory receiving an exchange");
        p->m = g, p->cap = cap;
    }
    if (x->nrecv == x->cap_recv) {
        const int cap = x->cap_recv ? 2 * x->cap_recv : 64;
        MPI_Request *g = realloc(x->rreq, sizeof *g * (size_t)cap);
        if (g)
            x->rreq = g;
        int(*o)[2] = g ? realloc(x->rmsg_of, sizeof *o * (size_t)cap) : NULL;
        if (o)
            x->rmsg_of = o;
        int *d = o ? realloc(x->done_idx, sizeof *d * (size_t)cap) : NULL;
        if (!d)
            TS_FAIL(TS_ERR_NOMEM, "out of memory receiving an exchange");
        x->done_idx = d, x->cap_recv = cap;
    }
    p->m[p->n++] = (rmsg){buf, size, 1, 0};
    x->held_bytes += size;
    x->rmsg_of[x->nrecv][0] = src, x->rmsg_of[x->nrecv][1] = p->n - 1;
    TS_TRY(mpi(MPI_Imrecv(buf, (int)size, MPI_BYTE, m, &x->rreq[x->nrecv++]), "MPI_Imrecv"));
    x->st.messages_received++, x->st.bytes_received += size;
    return TS_OK;
}

/* Under a memory budget, as receives complete: the received messages beyond half an operator's share move to cold
 * blocks (files the kernel pages in when the source reads them), the latest first, so the receiver's partition of
 * an exchange is bounded like the other breakers' state. */
static ts_err cool_received(xchg_sink *x)
{
    if (!x->ctx->mem_limit || x->held_bytes <= x->ctx->op_room)
        return TS_OK;
    const char *dir = ts_spill_dir(x->ctx->spill_dir);
    for (int s = x->P - 1; s >= 0 && x->held_bytes > x->ctx->op_room / 2; s--)
        for (int i = x->from[s].n - 1; i >= 0 && x->held_bytes > x->ctx->op_room / 2; i--) {
            rmsg *m = &x->from[s].m[i];
            if (!m->buf || m->pending || ts_mem_is_file(m->buf))
                continue;
            TS_TRY(ts_cold_block((void **)&m->buf, (size_t)m->size, dir));
            x->held_bytes -= m->size, x->op.prof.spill_bytes += m->size;
        }
    return TS_OK;
}

/* Under a memory budget: this rank's own rows move to a cold table builder once they pass half an operator's share
 * (all of them at the end: final), so they are bounded as they come like the received messages. */
static ts_err cool_kept(xchg_sink *x, int final)
{
    if (!x->ctx->mem_limit)
        return TS_OK;
    const int64_t bytes = ts_table_mem_bytes(x->kept);
    if (final ? !x->kept_cold && bytes <= x->ctx->op_room : bytes <= x->ctx->op_room / 2)
        return TS_OK;
    if (!x->kept_cold)
        TS_TRY(ts_cold_begin(x->kept, ts_spill_dir(x->ctx->spill_dir), &x->kept_cold));
    TS_TRY(ts_cold_append(x->kept_cold, x->kept, 0, ts_table_rows(x->kept)));
    x->op.prof.spill_bytes += bytes;
    ts_table_truncate(x->kept, 0);
    if (!final)
        return TS_OK;
    ts_table *cold = NULL;
    const ts_err err = ts_cold_finish(x->kept_cold, x->kept->name, &cold);
    x->kept_cold = NULL;
    TS_TRY(err);
    const char *keys[8];
    for (int k = 0; k < x->kept->npart; k++)
        keys[k] = x->kept->part_keys[k];
    ts_table_set_partitioned(cold, keys, x->kept->npart);
    ts_table_free(x->kept);
    x->kept = cold;
    return TS_OK;
}

/* A receive completed: the buffer is ours, its row count noted (load_message checks the header in full). */
static void received(rmsg *m)
{
    m->pending = 0;
    m->rows = m->size >= 16 ? ((const int64_t *)m->buf)[1] : 0;
}

/* Posts a receive for every message that has arrived, and retires completed receives. */
static ts_err poll_recv(xchg_sink *x)
{
    for (;;) {
        int flag = 0, count = 0;
        MPI_Message m;
        MPI_Status s;
        TS_TRY(mpi(MPI_Improbe(MPI_ANY_SOURCE, x->tag, x->ctx->comm, &flag, &m, &s), "MPI_Improbe"));
        if (!flag)
            break;
        TS_TRY(mpi(MPI_Get_count(&s, MPI_BYTE, &count), "MPI_Get_count"));
        char *buf = ts_big((size_t)count + 8);
        if (!buf)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for a received message of %d bytes", count);
        const ts_err err = add_recv(x, s.MPI_SOURCE, buf, count, &m);
        if (err) {
            ts_free(buf);
            return err;
        }
    }
    if (x->nrecv) { /* retire the completed receives, keep the pending ones */
        int ndone = 0, k = 0;
        TS_TRY(mpi(MPI_Testsome(x->nrecv, x->rreq, &ndone, x->done_idx, MPI_STATUSES_IGNORE), "MPI_Testsome"));
        if (ndone <= 0 || ndone == MPI_UNDEFINED)
            return TS_OK;
        for (int i = 0; i < ndone; i++)
            received(&x->from[x->rmsg_of[x->done_idx[i]][0]].m[x->rmsg_of[x->done_idx[i]][1]]);
        for (int i = 0; i < x->nrecv; i++)
            if (x->rreq[i] != MPI_REQUEST_NULL) {
                x->rreq[k] = x->rreq[i];
                x->rmsg_of[k][0] = x->rmsg_of[i][0], x->rmsg_of[k++][1] = x->rmsg_of[i][1];
            }
        x->nrecv = k;
        TS_TRY(cool_received(x));
    }
    return TS_OK;
}

/* ---- sending ------------------------------------------------------------------------------------------------------ */

static void note_peak(xchg_sink *x)
{
    const int64_t b = x->staged_bytes + x->inflight_bytes;
    if (b > x->st.send_peak)
        x->st.send_peak = b;
    ts_op_hold(&x->op, b);
}

/* Retires completed sends (their buffers freed). */
static ts_err poll_send(xchg_sink *x)
{
    for (int i = 0; i < x->max_inflight; i++) {
        if (!x->sbuf[i])
            continue;
        int done = 0;
        TS_TRY(mpi(MPI_Test(&x->sreq[i], &done, MPI_STATUS_IGNORE), "MPI_Test"));
        if (done) {
            ts_free(x->sbuf[i]);
            x->sbuf[i] = NULL;
            x->inflight_bytes -= x->ssize[i];
            x->nflight--;
        }
    }
    return TS_OK;
}

/* One round of progress; yields the CPU when nothing moved (ranks may share cores). */
static ts_err progress(xchg_sink *x, int idle_yield)
{
    const int before = x->nflight;
    const int64_t received = x->st.messages_received;
    TS_TRY(poll_recv(x));
    TS_TRY(poll_send(x));
    if (idle_yield && x->nflight == before && x->st.messages_received == received)
        sched_yield();
    return TS_OK;
}

static int64_t pad8(int64_t n) { return (n + 7) & ~INT64_C(7); }

static int64_t column_bytes(const ts_column *c)
{
    return c->cap * (int64_t)ts_type_width(c->type) + c->bytes_cap + ((c->valid || c->valid_spare) ? c->cap / 8 : 0);
}

static int64_t table_cap_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int i = 0; i < t->ncols; i++)
        b += column_bytes(t->cols[i]);
    return b;
}

/* Integer-like columns of 4 or 8 bytes (INT32, INT64, DATE, DECIMAL, DICT codes, TIMESTAMP) travel narrowed:
 * as the offsets from the message's least value in the fewest bytes (1, 2 or 4) that hold its range, so keys and
 * small counts cost a byte or two a row on the wire instead of eight; the source widens them back a chunk at a
 * time. Values under NULLs take part like any other, so every stored value comes back bit for bit. */
static int narrowable(ts_type t) { return t != TS_T_BOOL && t != TS_T_FLOAT64 && t != TS_T_STRING; }

/* The byte width (1, 2, 4) column c's n values narrow to and their base; 0 when narrowing saves nothing. */
static int narrow_width(const ts_column *c, int64_t n, int64_t *base)
{
    const size_t w = ts_type_width(c->type);
    if (!narrowable(c->type) || n == 0)
        return 0;
    int64_t lo, hi;
    if (w == 4) {
        const int32_t *v = TS_COL(c, int32_t);
        int32_t a = v[0], b = v[0];
        for (int64_t i = 1; i < n; i++)
            a = v[i] < a ? v[i] : a, b = v[i] > b ? v[i] : b;
        lo = a, hi = b;
    } else {
        const int64_t *v = TS_COL(c, int64_t);
        int64_t a = v[0], b = v[0];
        for (int64_t i = 1; i < n; i++)
            a = v[i] < a ? v[i] : a, b = v[i] > b ? v[i] : b;
        lo = a, hi = b;
    }
    const uint64_t range = (uint64_t)hi - (uint64_t)lo;
    const int nw = range <= 0xff ? 1 : range <= 0xffff ? 2 : range <= 0xffffffffu ? 4 : 8;
    *base = lo;
    return (size_t)nw < w ? nw : 0;
}

#define NARROW(TO, FROM)                                                                                          \
    do {                                                                                                          \
        const FROM *v = (const FROM *)c->data;                                                                    \
        TO *o = (TO *)dst;                                                                                        \
        for (int64_t i = 0; i < n; i++)                                                                           \
            o[i] = (TO)((uint64_t)(int64_t)v[i] - (uint64_t)base);                                                \
    } while (0)

static void narrow(const ts_column *c, int64_t n, int nw, int64_t base, void *dst)
{
    if (ts_type_width(c->type) == 4) {
        if (nw == 1)
            NARROW(uint8_t, int32_t);
        else
            NARROW(uint16_t, int32_t);
    } else {
        if (nw == 1)
            NARROW(uint8_t, int64_t);
        else if (nw == 2)
            NARROW(uint16_t, int64_t);
        else
            NARROW(uint32_t, int64_t);
    }
}

/* Packs staging table t into a new message buffer. */
static ts_err pack(const ts_table *t, int64_t seq, char **out, int64_t *size)
{
    const int64_t n = ts_table_rows(t);
    int64_t at = 8 * (HEADER + DESC * (int64_t)t->ncols);
    int64_t desc[TS_MAX_COLS][DESC];
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *c = t->cols[i];
        int64_t base = 0;
        const int nw = narrow_width(c, n, &base);
        desc[i][0] = at;
        at += pad8(c->type == TS_T_STRING ? 8 * (n + 1) : n * (nw ? nw : (int64_t)ts_type_width(c->type)));
        desc[i][1] = c->valid ? at : 0;
        at += c->valid ? 8 * ((n + 63) / 64) : 0;
        desc[i][2] = at, desc[i][3] = c->type == TS_T_STRING ? c->nbytes : 0;
        at += pad8(desc[i][3]);
        desc[i][4] = base, desc[i][5] = nw;
    }
    if (at > INT_MAX)
        TS_FAIL(TS_ERR_USAGE, "an exchange message of %lld bytes (over 2 GiB: rows with huge strings)", (long long)at);
    char *buf = ts_big((size_t)at);
    if (!buf)
        TS_FAIL(TS_ERR_NOMEM, "out of memory packing an exchange message of %lld bytes", (long long)at);
    int64_t *h = (int64_t *)buf;
    h[0] = MAGIC, h[1] = n, h[2] = t->ncols, h[3] = seq;
    memcpy(h + HEADER, desc, sizeof(int64_t) * DESC * (size_t)t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *c = t->cols[i];
        if (c->type == TS_T_STRING)
            memcpy(buf + desc[i][0], c->data, 8 * (size_t)(n + 1));
        else if (desc[i][5])
            narrow(c, n, (int)desc[i][5], desc[i][4], buf + desc[i][0]);
        else if (n)
            memcpy(buf + desc[i][0], c->data, (size_t)n * ts_type_width(c->type));
        if (c->valid)
            memcpy(buf + desc[i][1], c->valid, 8 * (size_t)((n + 63) / 64));
        if (desc[i][3])
            memcpy(buf + desc[i][2], c->bytes, (size_t)desc[i][3]);
    }
    *out = buf, *size = at;
    return TS_OK;
}

/* Sends destination d's staged rows as one message (waiting for a free in-flight slot first). */
static ts_err flush(xchg_sink *x, int d)
{
    ts_table *t = x->stage[d];
    if (!ts_table_rows(t))
        return TS_OK;
    while (x->nflight == x->max_inflight)
        TS_TRY(progress(x, 1));
    int slot = 0;
    while (x->sbuf[slot])
        slot++;
    char *buf;
    int64_t size;
    TS_TRY(pack(t, x->seq[d]++, &buf, &size));
    x->st.rows_sent += ts_table_rows(t);
    for (int i = 0; i < t->ncols; i++)
        ts_column_clear(t->cols[i]);
    x->sbuf[slot] = buf, x->ssize[slot] = size, x->nflight++, x->inflight_bytes += size;
    x->st.messages_sent++, x->st.bytes_sent += size;
    x->op.prof.bytes_sent += size;
    x->ctx->bytes_sent += size;
    note_peak(x);
    return mpi(MPI_Issend(buf, (int)size, MPI_BYTE, d, x->tag, x->ctx->comm, &x->sreq[slot]), "MPI_Issend");
}

static int full(const xchg_sink *x, const ts_table *t)
{
    if (ts_table_rows(t) >= x->row_cap)
        return 1;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i]->nbytes >= x->msg_bytes)
            return 1;
    return 0;
}

static ts_err append_rows(ts_table *t, const ts_chunk *c, const int32_t *rows, int64_t n)
{
    for (int i = 0; i < c->schema.ncols; i++)
        TS_TRY(ts_column_append_sel(t->cols[i], &c->col[i], rows, n));
    return TS_OK;
}

/* This rank's own rows grow by doubling into new blocks (ts_big: a freed mapping of earlier operators when one
 * fits) rather than by extending their mapping: an extension is fresh memory, and first-touch page faults on tens
 * of MiB cost more than copying what the column holds so far. Past KEPT_SMALL_ROWS only (small exchanges keep
 * the usual growth), fixed-width columns without a validity bitmap only (the others grow as usual: their bitmap
 * is sized by the capacity), and not under a memory budget (whose accounting counts capacity). */
#define KEPT_SMALL_ROWS (64 * 1024)

static ts_err grow_kept(ts_table *t, int64_t need)
{
    for (int i = 0; need > KEPT_SMALL_ROWS && i < t->ncols; i++) {
        ts_column *c = t->cols[i];
        if (c->cap >= need || c->type == TS_T_STRING || c->valid || c->valid_spare || ts_mem_is_file(c->data))
            continue;
        int64_t cap = c->cap < KEPT_SMALL_ROWS ? KEPT_SMALL_ROWS : c->cap;
        while (cap < need)
            cap *= 2;
        const size_t w = ts_type_width(c->type);
        void *p = ts_big((size_t)cap * w);
        if (!p)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for %lld rows an exchange keeps", (long long)cap);
        memcpy(p, c->data, (size_t)c->len * w);
        ts_free(c->data);
        c->data = p, c->cap = cap;
    }
    return TS_OK;
}

static ts_err xchg_sink_chunk(ts_op *op, ts_chunk *c)
{
    xchg_sink *x = (xchg_sink *)op;
    const int m = (int)ts_chunk_live(c);
    int32_t buf[TS_CHUNK_ROWS];
    const int32_t *rows = ts_chunk_rows(c, buf);
    if (x->root >= 0) {
        for (int j = 0; j < m; j++)
            x->dest[j] = x->root;
    } else if (x->P == 1) {
        memset(x->dest, 0, sizeof *x->dest * (size_t)m);
    } else {
        const ts_column *keys[TS_MAX_COLS];
        for (int k = 0; k < x->nkeys; k++)
            keys[k] = &c->col[x->key[k]];
        ts_key_hash_sel(keys, x->nkeys, c->sel, m, x->h);
        for (int j = 0; j < m; j++)
            x->dest[j] = ts_partition_rank(x->h[j], x->P);
    }
    /* a stable counting sort of the rows by destination */
    int start[1025], *cnt = x->P <= 1024 ? start : NULL;
    int64_t *big = NULL;
    if (!cnt) {
        big = calloc((size_t)x->P + 1, sizeof *big);
        if (!big)
            TS_FAIL(TS_ERR_NOMEM, "out of memory routing a chunk");
    } else {
        memset(start, 0, sizeof(int) * (size_t)(x->P + 1));
    }
    for (int j = 0; j < m; j++) {
        if (cnt)
            cnt[x->dest[j] + 1]++;
        else
            big[x->dest[j] + 1]++;
    }
    for (int d = 0; d < x->P; d++) {
        if (cnt)
            cnt[d + 1] += cnt[d];
        else
            big[d + 1] += big[d];
    }
    for (int j = 0; j < m; j++)
        x->order[cnt ? cnt[x->dest[j]]++ : big[x->dest[j]]++] = rows[j];
    ts_err err = TS_OK;
    int64_t lo = 0;
    for (int d = 0; !err && d < x->P; d++) { /* cnt[d] is now the end of d's rows */
        const int64_t hi = cnt ? cnt[d] : big[d], n = hi - lo;
        if (n) {
            ts_table *t = d == x->me ? x->kept : x->stage[d];
            if (d == x->me && !x->ctx->mem_limit)
                err = grow_kept(t, ts_table_rows(t) + n);
            if (!err)
                err = append_rows(t, c, x->order + lo, n);
            if (d == x->me) {
                x->st.rows_kept += n;
                if (!err)
                    err = cool_kept(x, 0);
            }
            else if (!err && full(x, t))
                err = flush(x, d);
        }
        lo = hi;
    }
    free(big);
    if (err)
        return err;
    x->staged_bytes = 0;
    for (int d = 0; d < x->P; d++)
        if (d != x->me)
            x->staged_bytes += table_cap_bytes(x->stage[d]);
    note_peak(x);
    return progress(x, 0);
}

static ts_err xchg_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    xchg_sink *x = (xchg_sink *)op;
    (void)ctx;
    ts_err err = status;
    for (int d = 0; !err && d < x->P; d++)
        if (d != x->me)
            err = flush(x, d);
    /* NBX: once every synchronous send was matched, enter the barrier and keep receiving until it completes.
     * A failed rank runs the protocol too (without its remaining rows), so nobody waits for it forever. */
    ts_err perr = TS_OK;
    while (!perr && x->nflight)
        perr = progress(x, 1);
    MPI_Request barrier;
    int done = 0;
    if (!perr)
        perr = mpi(MPI_Ibarrier(x->ctx->comm, &barrier), "MPI_Ibarrier");
    while (!perr && !done) {
        perr = progress(x, 1);
        if (!perr)
            perr = mpi(MPI_Test(&barrier, &done, MPI_STATUS_IGNORE), "MPI_Test");
    }
    if (!perr && x->nrecv)
        perr = mpi(MPI_Waitall(x->nrecv, x->rreq, MPI_STATUSES_IGNORE), "MPI_Waitall");
    for (int i = 0; !perr && i < x->nrecv; i++)
        received(&x->from[x->rmsg_of[i][0]].m[x->rmsg_of[i][1]]);
    x->nrecv = 0;
    for (int s = 0; s < x->P; s++)
        for (int i = 0; i < x->from[s].n; i++)
            x->st.rows_received += x->from[s].m[i].rows;
    if (!perr)
        perr = cool_received(x);
    if (!perr)
        perr = cool_kept(x, 1);
    op->prof.bytes_recv += x->st.bytes_received;
    for (int d = 0; d < x->P; d++) /* staging buffers are no longer needed */
        if (d != x->me)
            for (int i = 0; i < x->stage[d]->ncols; i++) {
                ts_column *c = x->stage[d]->cols[i];
                ts_free(c->data), ts_free(c->bytes), ts_free(c->valid), ts_free(c->valid_spare);
                c->data = c->bytes = NULL, c->valid = c->valid_spare = NULL, c->cap = c->bytes_cap = 0;
                c->len = c->nbytes = 0;
                if (ts_column_reserve(c, 1, 1) && !perr)
                    perr = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
            }
    return err ? err : perr;
}

static void free_received(xchg_sink *x)
{
    for (int s = 0; x->from && s < x->P; s++) {
        for (int i = 0; i < x->from[s].n; i++)
            ts_free(x->from[s].m[i].buf);
        free(x->from[s].m);
        x->from[s] = (peer){0};
    }
}

static void xchg_destroy(ts_op *op)
{
    xchg_sink *x = (xchg_sink *)op;
    for (int i = 0; x->sbuf && i < x->max_inflight; i++)
        if (x->sbuf[i]) { /* only after a failure: cancel what never completed */
            MPI_Cancel(&x->sreq[i]);
            MPI_Request_free(&x->sreq[i]);
            ts_free(x->sbuf[i]);
        }
    for (int d = 0; x->stage && d < x->P; d++)
        ts_table_free(x->stage[d]);
    free(x->stage), free(x->seq), free(x->sreq), free(x->sbuf), free(x->ssize), free(x->rreq), free(x->rmsg_of), free(x->done_idx);
    ts_cold_free(x->kept_cold);
    ts_table_free(x->kept);
    free_received(x);
    free(x->from);
}

static const ts_op_vt XCHG_SINK = {.kind = "exchange", .sink = xchg_sink_chunk, .finish = xchg_finish,
                                   .destroy = xchg_destroy};

ts_err ts_xchg_sink_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, const ts_xchg_opts *opts,
                        ts_op **out)
{
    const ts_xchg_opts o = opts ? *opts : (ts_xchg_opts){0, 0, -1};
    char label[192];
    if (o.root >= 0)
        snprintf(label, sizeof label, "exchange: every row to rank %d", o.root);
    else
        snprintf(label, sizeof label, "exchange: hash of %d key%s", nkeys, nkeys == 1 ? "" : "s");
    TS_TRY(ts_op_alloc(sizeof(xchg_sink), &XCHG_SINK, label, out));
    xchg_sink *x = (xchg_sink *)*out;
    x->ctx = ctx, x->P = ctx->size, x->me = ctx->rank, x->root = o.root, x->nkeys = nkeys;
    x->tag = TAG_BASE + next_tag, next_tag = (next_tag + 1) % TAGS;
    x->msg_bytes = o.msg_bytes > 0 ? o.msg_bytes : (INT64_C(64) << 20) / x->P;
    if (o.msg_bytes <= 0)
        x->msg_bytes = x->msg_bytes > (INT64_C(1) << 20) ? INT64_C(1) << 20
                       : x->msg_bytes < (INT64_C(64) << 10) ? INT64_C(64) << 10 : x->msg_bytes;
    x->max_inflight = o.max_inflight > 0 ? o.max_inflight : 2 * x->P < 4 ? 4 : 2 * x->P > 64 ? 64 : 2 * x->P;
    if (o.msg_bytes <= 0 && ctx->op_room > 0) { /* a budget: the send side (send_bound) within half a share */
        const int64_t fit = ctx->op_room / (2 * (2 * (x->P - 1) + x->max_inflight)), least = INT64_C(16) << 10;
        x->msg_bytes = x->msg_bytes < fit ? x->msg_bytes : fit > least ? fit : least;
    }
    ts_err err = TS_OK;
    if (o.root < 0 && nkeys < 1)
        err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "a hash exchange needs keys");
    int64_t width = 0;
    for (int i = 0; i < in->schema.ncols; i++)
        width += (int64_t)ts_type_width(in->col[i].type) + (in->col[i].type == TS_T_STRING ? 16 : 0);
    x->row_cap = x->msg_bytes / (width ? width : 1);
    x->row_cap = x->row_cap < 64 ? 64 : x->row_cap;
    for (int k = 0; !err && k < nkeys; k++) {
        x->key[k] = -1;
        for (int i = 0; i < in->schema.ncols; i++)
            if (!strcmp(in->col[i].name, keys[k]))
                x->key[k] = i;
        if (x->key[k] < 0)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "table '%s' has no column '%s'",
                                 in->schema.name, keys[k]);
    }
    if (!err && (!(x->stage = calloc((size_t)x->P, sizeof *x->stage)) ||
                 !(x->seq = calloc((size_t)x->P, sizeof *x->seq)) ||
                 !(x->sreq = calloc((size_t)x->max_inflight, sizeof *x->sreq)) ||
                 !(x->sbuf = calloc((size_t)x->max_inflight, sizeof *x->sbuf)) ||
                 !(x->ssize = calloc((size_t)x->max_inflight, sizeof *x->ssize)) ||
                 !(x->from = calloc((size_t)x->P, sizeof *x->from))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for an exchange");
    if (!err)
        err = ts_table_new_like(&in->schema, in->schema.name, &x->kept);
    for (int d = 0; !err && d < x->P; d++)
        if (d != x->me)
            err = ts_table_new_like(&in->schema, in->schema.name, &x->stage[d]);
    if (!err && o.root < 0)
        ts_table_set_partitioned(x->kept, keys, nkeys);
    /* the bound a sender's buffers stay under: every staging buffer and in-flight message is at most a
     * message's target plus the rows of one chunk, and staging arrays may have grown to twice what they hold */
    const int64_t one = x->msg_bytes + TS_CHUNK_ROWS * (width + 1);
    x->st.send_bound = 2 * one * (x->P - 1) + one * x->max_inflight;
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

void ts_xchg_get_stats(const ts_op *sink, ts_xchg_stats *out) { *out = ((const xchg_sink *)sink)->st; }

/* ---- the source: received rows in (source rank, sequence) order --------------------------------------------------- */

typedef struct xchg_source {
    ts_op op;
    xchg_sink *x;
    int src, idx;             /* the message being read: from[src].m[idx]; idx == -1 before the first */
    ts_column mcol[TS_MAX_COLS];
    int nw[TS_MAX_COLS];      /* narrowed columns of the message: their width (0: stored as is) and base */
    int64_t base[TS_MAX_COLS];
    void *wide[TS_MAX_COLS];  /* a chunk of a narrowed column's values widened back (allocated when first needed) */
    int64_t rows, at;         /* its rows and the next row */
    int64_t released;         /* kept rows before this one have left the resident set (a cold table) */
} xchg_source;

/* The rank's own rows, when they went cold, leave the resident set behind the reader in strides (a chunk is valid
 * until the source is called again, so rows before s->at are done with); received messages are freed whole. */
static void release_kept(xchg_source *s)
{
    if (s->src != s->x->me || !ts_cold_release_due(s->released, s->at, s->rows))
        return;
    for (int i = 0; i < s->op.out->schema.ncols; i++)
        ts_column_release(&s->mcol[i], s->released, s->at - s->released);
    s->released = s->at;
}

static ts_err load_message(xchg_source *s)
{
    const xchg_sink *x = s->x;
    const ts_chunk *c = s->op.out;
    const rmsg *m = &x->from[s->src].m[s->idx];
    const int64_t *h = (const int64_t *)m->buf;
    if (m->size < 8 * HEADER || h[0] != MAGIC || h[2] != c->schema.ncols || h[3] != s->idx ||
        m->size < 8 * (HEADER + DESC * h[2]))
        TS_FAIL(TS_ERR_MPI, "exchange: a malformed message from rank %d (sequence %d)", s->src, s->idx);
    s->rows = h[1], s->at = 0;
    for (int i = 0; i < c->schema.ncols; i++) {
        const int64_t *d = h + HEADER + DESC * i;
        ts_column *mc = &s->mcol[i];
        *mc = c->col[i];
        mc->data = m->buf + d[0];
        mc->valid = d[1] ? (uint64_t *)(m->buf + d[1]) : NULL;
        mc->bytes = m->buf + d[2], mc->nbytes = d[3];
        mc->len = mc->cap = s->rows;
        s->nw[i] = (int)d[5], s->base[i] = d[4];
        if (d[5] && (!narrowable(mc->type) || (d[5] != 1 && d[5] != 2 && d[5] != 4) ||
                     (size_t)d[5] >= ts_type_width(mc->type)))
            TS_FAIL(TS_ERR_MPI, "exchange: column %d of a message from rank %d narrowed to %lld bytes", i, s->src,
                    (long long)d[5]);
        if (d[5] && !s->wide[i] && !(s->wide[i] = ts_big(sizeof(int64_t) * TS_CHUNK_ROWS)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory widening an exchange message");
    }
    return TS_OK;
}

/* Moves to the next message (this rank's own rows stand in its place); *more = 0 at the end. The message just
 * read is freed: its chunks' views are no longer used. */
static ts_err advance(xchg_source *s, int *more)
{
    xchg_sink *x = s->x;
    if (s->src >= 0 && s->src != x->me && s->idx >= 0) {
        if (!ts_mem_is_file(x->from[s->src].m[s->idx].buf))
            x->held_bytes -= x->from[s->src].m[s->idx].size;
        ts_free(x->from[s->src].m[s->idx].buf);
        x->from[s->src].m[s->idx].buf = NULL;
    }
    *more = 1;
    for (;;) {
        if (s->src >= 0 && s->src != x->me && s->idx + 1 < x->from[s->src].n) {
            s->idx++;
            return load_message(s);
        }
        if (++s->src >= x->P) {
            *more = 0;
            return TS_OK;
        }
        s->idx = -1;
        if (s->src == x->me) {
            for (int i = 0; i < s->op.out->schema.ncols; i++)
                s->mcol[i] = *x->kept->cols[i], s->nw[i] = 0;
            s->rows = ts_table_rows(x->kept), s->at = 0, s->released = 0;
            return TS_OK;
        }
    }
}

#define WIDEN(TO, FROM)                                                                                           \
    do {                                                                                                          \
        const FROM *v = (const FROM *)c->data + at;                                                               \
        TO *o = dst;                                                                                              \
        for (int64_t i = 0; i < n; i++)                                                                           \
            o[i] = (TO)(int64_t)((uint64_t)base + v[i]);                                                          \
    } while (0)

/* Values [at, at + n) of narrowed column c (width nw, base) back at their type's width into dst. */
static void widen(const ts_column *c, int nw, int64_t base, int64_t at, int64_t n, void *dst)
{
    if (ts_type_width(c->type) == 4) {
        if (nw == 1)
            WIDEN(int32_t, uint8_t);
        else
            WIDEN(int32_t, uint16_t);
    } else {
        if (nw == 1)
            WIDEN(int64_t, uint8_t);
        else if (nw == 2)
            WIDEN(int64_t, uint16_t);
        else
            WIDEN(int64_t, uint32_t);
    }
}

static ts_err xchg_next(ts_op *op, ts_chunk **out)
{
    xchg_source *s = (xchg_source *)op;
    *out = NULL;
    release_kept(s);
    while (s->at >= s->rows) {
        int more;
        TS_TRY(advance(s, &more));
        if (!more)
            return TS_OK;
    }
    const int64_t n = s->rows - s->at < TS_CHUNK_ROWS ? s->rows - s->at : TS_CHUNK_ROWS;
    ts_chunk *c = op->out;
    ts_chunk_begin(c, n);
    for (int i = 0; i < c->schema.ncols; i++) {
        if (!s->nw[i]) {
            TS_TRY(ts_chunk_set_view(c, i, &s->mcol[i], s->at, n));
            continue;
        }
        ts_column w = s->mcol[i]; /* the widened values, with the message's validity from this chunk's first row */
        widen(&s->mcol[i], s->nw[i], s->base[i], s->at, n, s->wide[i]);
        w.data = s->wide[i];
        w.valid = w.valid ? w.valid + s->at / 64 : NULL;
        w.len = w.cap = n;
        TS_TRY(ts_chunk_set_view(c, i, &w, 0, n));
    }
    s->at += n;
    *out = c;
    return TS_OK;
}

static void xchg_source_destroy(ts_op *op)
{
    xchg_source *s = (xchg_source *)op;
    for (int i = 0; i < TS_MAX_COLS; i++)
        ts_free(s->wide[i]);
}

static const ts_op_vt XCHG_SOURCE = {.kind = "exchange-source", .next = xchg_next, .destroy = xchg_source_destroy};

ts_err ts_xchg_source_new(ts_op *sink, ts_op **out)
{
    xchg_sink *x = (xchg_sink *)sink;
    if (sink->vt != &XCHG_SINK)
        TS_FAIL(TS_ERR_INTERNAL, "an exchange source needs an exchange sink");
    TS_TRY(ts_op_alloc(sizeof(xchg_source), &XCHG_SOURCE, "received rows", out));
    xchg_source *s = (xchg_source *)*out;
    s->x = x, s->src = -1, s->idx = -1;
    ts_err err = ts_chunk_new(x->kept->name, &s->op.out);
    if (!err)
        err = ts_chunk_add_like(s->op.out, x->kept, 1);
    if (!err) {
        s->op.out->schema.npart = x->kept->npart;
        memcpy(s->op.out->schema.part_keys, x->kept->part_keys, sizeof x->kept->part_keys);
    }
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}
