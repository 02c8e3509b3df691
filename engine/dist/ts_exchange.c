#include "ts_exchange.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"

#define P2P_CHUNK (INT64_C(1) << 30)

static ts_err alltoallv_small(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv,
                              const int64_t *rcount)
{
    const int p = ctx->size;
    int *sc = malloc(4 * sizeof(int) * (size_t)p);
    if (!sc)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for exchange counts");
    int *sd = sc + p, *rc = sc + 2 * p, *rd = sc + 3 * p;
    int64_t so = 0, ro = 0;
    for (int r = 0; r < p; r++) {
        sc[r] = (int)scount[r], sd[r] = (int)so, rc[r] = (int)rcount[r], rd[r] = (int)ro;
        so += scount[r], ro += rcount[r];
    }
    const int rc_mpi = MPI_Alltoallv(send, sc, sd, MPI_BYTE, recv, rc, rd, MPI_BYTE, ctx->comm);
    free(sc);
    TS_TRY(ts_mpi_status(rc_mpi, "MPI_Alltoallv", __FILE__, __LINE__, __func__));
    return TS_OK;
}

/* Point-to-point rounds: each peer pair exchanges messages of at most P2P_CHUNK bytes, tag = chunk number. */
static ts_err alltoallv_p2p(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv,
                            const int64_t *rcount)
{
    const int p = ctx->size;
    int64_t nreq = 0;
    for (int r = 0; r < p; r++)
        nreq += (scount[r] + P2P_CHUNK - 1) / P2P_CHUNK + (rcount[r] + P2P_CHUNK - 1) / P2P_CHUNK;
    MPI_Request *req = malloc(sizeof *req * (size_t)(nreq ? nreq : 1));
    if (!req)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %lld MPI requests", (long long)nreq);
    int64_t k = 0, so = 0, ro = 0;
    int rc = MPI_SUCCESS;
    for (int r = 0; r < p && rc == MPI_SUCCESS; r++) {
        for (int64_t off = 0; off < rcount[r] && rc == MPI_SUCCESS; off += P2P_CHUNK) {
            const int64_t n = rcount[r] - off < P2P_CHUNK ? rcount[r] - off : P2P_CHUNK;
            rc = MPI_Irecv((char *)recv + ro + off, (int)n, MPI_BYTE, r, (int)(off / P2P_CHUNK), ctx->comm, &req[k++]);
        }
        ro += rcount[r];
    }
    for (int r = 0; r < p && rc == MPI_SUCCESS; r++) {
        for (int64_t off = 0; off < scount[r] && rc == MPI_SUCCESS; off += P2P_CHUNK) {
            const int64_t n = scount[r] - off < P2P_CHUNK ? scount[r] - off : P2P_CHUNK;
            rc = MPI_Isend((const char *)send + so + off, (int)n, MPI_BYTE, r, (int)(off / P2P_CHUNK), ctx->comm,
                           &req[k++]);
        }
        so += scount[r];
    }
    if (rc == MPI_SUCCESS)
        rc = MPI_Waitall((int)k, req, MPI_STATUSES_IGNORE);
    free(req);
    TS_TRY(ts_mpi_status(rc, "point-to-point exchange", __FILE__, __LINE__, __func__));
    return TS_OK;
}

ts_err ts_alltoallv_bytes(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv, const int64_t *rcount)
{
    int64_t stotal = 0, rtotal = 0;
    for (int r = 0; r < ctx->size; r++)
        stotal += scount[r], rtotal += rcount[r];
    int small = stotal < INT_MAX && rtotal < INT_MAX && !ctx->force_p2p, all_small;
    TS_MPI(MPI_Allreduce(&small, &all_small, 1, MPI_INT, MPI_MIN, ctx->comm));
    ctx->bytes_sent += stotal - scount[ctx->rank];
    if (all_small)
        return alltoallv_small(ctx, send, scount, recv, rcount);
    return alltoallv_p2p(ctx, send, scount, recv, rcount);
}

ts_err ts_allreduce_sum_i64(ts_ctx *ctx, int64_t local, int64_t *global)
{
    TS_MPI(MPI_Allreduce(&local, global, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    return TS_OK;
}

/* Row routing shared by every column: the stable permutation by destination and the row counts. */
typedef struct route {
    int64_t *perm;            /* rows in destination order */
    int64_t *scount, *rcount; /* rows per rank */
    int64_t nrecv;
} route;

static void route_free(route *rt) { ts_free(rt->perm), free(rt->scount); }

static ts_err route_build(ts_ctx *ctx, const int32_t *dest, int64_t n, route *rt)
{
    const int p = ctx->size;
    memset(rt, 0, sizeof *rt);
    rt->scount = calloc(2 * (size_t)p + 1, sizeof(int64_t));
    rt->perm = ts_big(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!rt->scount || !rt->perm) {
        route_free(rt);
        TS_FAIL(TS_ERR_NOMEM, "out of memory routing %lld rows", (long long)n);
    }
    rt->rcount = rt->scount + p;
    int64_t *next = calloc((size_t)p, sizeof(int64_t));
    if (!next) {
        route_free(rt);
        TS_FAIL(TS_ERR_NOMEM, "out of memory routing rows");
    }
    for (int64_t i = 0; i < n; i++)
        rt->scount[dest[i]]++;
    for (int r = 1; r < p; r++)
        next[r] = next[r - 1] + rt->scount[r - 1];
    for (int64_t i = 0; i < n; i++)
        rt->perm[next[dest[i]]++] = i;
    free(next);
    const int rc = MPI_Alltoall(rt->scount, 1, MPI_INT64_T, rt->rcount, 1, MPI_INT64_T, ctx->comm);
    if (rc != MPI_SUCCESS) {
        route_free(rt);
        TS_TRY(ts_mpi_status(rc, "MPI_Alltoall of row counts", __FILE__, __LINE__, __func__));
    }
    for (int r = 0; r < p; r++)
        rt->nrecv += rt->rcount[r];
    return TS_OK;
}

/* Moves a packed array of `width`-byte elements: send[] is already in destination order. */
static ts_err move_fixed(ts_ctx *ctx, const route *rt, const void *send, size_t width, void *recv)
{
    const int p = ctx->size;
    int64_t *sb = malloc(2 * sizeof(int64_t) * (size_t)p);
    if (!sb)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for exchange counts");
    for (int r = 0; r < p; r++)
        sb[r] = rt->scount[r] * (int64_t)width, sb[p + r] = rt->rcount[r] * (int64_t)width;
    const ts_err err = ts_alltoallv_bytes(ctx, send, sb, recv, sb + p);
    free(sb);
    return err;
}

static ts_err exchange_strings(ts_ctx *ctx, const route *rt, const ts_column *packed, ts_column *dst)
{
    const int p = ctx->size;
    const int64_t n = packed->len, *off = TS_COL(packed, int64_t);
    int64_t *lens = NULL, *rlens = NULL, *bc = calloc(2 * (size_t)p, sizeof(int64_t));
    ts_err err = bc ? ts_alloc(sizeof(int64_t) * (size_t)(n ? n : 1), (void **)&lens) : TS_ERR_NOMEM;
    if (!err)
        err = ts_alloc(sizeof(int64_t) * (size_t)(rt->nrecv ? rt->nrecv : 1), (void **)&rlens);
    if (err) {
        free(bc), ts_free(lens);
        TS_FAIL(TS_ERR_NOMEM, "out of memory exchanging column '%s'", packed->name);
    }
    int64_t row = 0;
    for (int r = 0; r < p; r++)
        for (int64_t i = 0; i < rt->scount[r]; i++, row++)
            lens[row] = off[row + 1] - off[row], bc[r] += lens[row];
    TS_TRY_GOTO(err, move_fixed(ctx, rt, lens, 8, rlens), done);
    row = 0;
    int64_t total = 0;
    for (int r = 0; r < p; r++) {
        int64_t b = 0;
        for (int64_t i = 0; i < rt->rcount[r]; i++, row++)
            b += rlens[row];
        bc[p + r] = b, total += b;
    }
    TS_TRY_GOTO(err, ts_column_reserve(dst, rt->nrecv, total), done);
    TS_TRY_GOTO(err, ts_alltoallv_bytes(ctx, packed->bytes, bc, dst->bytes, bc + p), done);
    int64_t *doff = TS_COL(dst, int64_t);
    doff[0] = 0;
    for (int64_t i = 0; i < rt->nrecv; i++)
        doff[i + 1] = doff[i] + rlens[i];
    dst->nbytes = total, dst->len = rt->nrecv;
done:
    free(bc), ts_free(lens), ts_free(rlens);
    return err;
}

/* Nulls travel as one byte per row, and only when some rank has a null in the column. */
static ts_err exchange_validity(ts_ctx *ctx, const route *rt, const ts_column *packed, ts_column *dst)
{
    int has = packed->valid != NULL, any;
    TS_MPI(MPI_Allreduce(&has, &any, 1, MPI_INT, MPI_MAX, ctx->comm));
    if (!any)
        return TS_OK;
    uint8_t *s = malloc((size_t)packed->len + 1), *r = malloc((size_t)rt->nrecv + 1);
    ts_err err = s && r ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < packed->len; i++)
        s[i] = (uint8_t)ts_column_is_valid(packed, i);
    if (!err)
        err = move_fixed(ctx, rt, s, 1, r);
    for (int64_t i = 0; !err && i < rt->nrecv; i++)
        if (!r[i])
            err = ts_column_set_null(dst, i);
    free(s), free(r);
    return err;
}

static ts_err exchange_column(ts_ctx *ctx, const route *rt, const ts_column *src, ts_column *dst)
{
    ts_column *packed;
    TS_TRY(ts_column_new_like(src, &packed));
    ts_err err;
    TS_TRY_GOTO(err, ts_column_append_rows(packed, src, rt->perm, src->len), done);
    if (src->type == TS_T_STRING) {
        TS_TRY_GOTO(err, exchange_strings(ctx, rt, packed, dst), done);
    } else {
        TS_TRY_GOTO(err, ts_column_reserve(dst, rt->nrecv, 0), done);
        TS_TRY_GOTO(err, move_fixed(ctx, rt, packed->data, ts_type_width(src->type), dst->data), done);
        dst->len = rt->nrecv;
    }
    TS_TRY_GOTO(err, exchange_validity(ctx, rt, packed, dst), done);
done:
    ts_column_free(packed);
    return err;
}

/* consume: free each input column once it has been sent, so peak memory is one column's copy, not a table's.
 * A view (borrowed columns) is never consumed: its columns belong to another table. */
static ts_err exchange(ts_ctx *ctx, ts_table *in, const int32_t *dest, int consume, ts_table **out)
{
    route rt;
    TS_TRY(route_build(ctx, dest, ts_table_rows(in), &rt));
    ts_err err = ts_table_new_like(in, in->name, out);
    for (int c = 0; !err && c < in->ncols; c++) {
        err = exchange_column(ctx, &rt, in->cols[c], (*out)->cols[c]);
        if (consume && !in->borrowed) {
            ts_column *empty;
            if (!err)
                err = ts_column_new_like(in->cols[c], &empty);
            if (!err)
                ts_column_free(in->cols[c]), in->cols[c] = empty;
        }
    }
    route_free(&rt);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
        TS_TRY(err);
    }
    return TS_OK;
}

ts_err ts_exchange_rows(ts_ctx *ctx, const ts_table *in, const int32_t *dest, ts_table **out)
{
    return exchange(ctx, (ts_table *)in, dest, 0, out);
}

ts_err ts_exchange_rows_move(ts_ctx *ctx, ts_table **t, const int32_t *dest)
{
    if (ctx->size == 1) /* every row stays: nothing to move */
        return TS_OK;
    ts_table *out;
    TS_TRY(exchange(ctx, *t, dest, 1, &out));
    ts_table_free(*t);
    *t = out;
    return TS_OK;
}

/* Serialised table: int64 ncols, then per column a header {name, type, scale, len, nbytes} and its arrays. */
typedef struct col_header {
    char name[TS_NAME_MAX];
    int32_t type, scale;
    int64_t len, nbytes;
} col_header;

static int64_t column_data_bytes(const col_header *h)
{
    return h->type == TS_T_STRING ? (h->len + 1) * 8 : h->len * (int64_t)ts_type_width((ts_type)h->type);
}

static ts_err serialize_table(const ts_table *t, char **buf, int64_t *size)
{
    int64_t total = 8;
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        if (col->type == TS_T_DICT || col->valid)
            TS_FAIL(TS_ERR_INTERNAL, "broadcast of column '%s': DICT and nullable columns are not supported",
                    col->name);
        const col_header h = {.type = col->type, .len = col->len, .nbytes = col->nbytes};
        total += (int64_t)sizeof h + column_data_bytes(&h) + col->nbytes;
    }
    char *p = malloc((size_t)total);
    if (!p)
        TS_FAIL(TS_ERR_NOMEM, "out of memory serialising table '%s'", t->name);
    *buf = p, *size = total;
    int64_t n = t->ncols;
    memcpy(p, &n, 8), p += 8;
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        col_header h = {.type = col->type, .scale = col->scale, .len = col->len, .nbytes = col->nbytes};
        memcpy(h.name, col->name, sizeof h.name);
        memcpy(p, &h, sizeof h), p += sizeof h;
        if (column_data_bytes(&h))
            memcpy(p, col->data, (size_t)column_data_bytes(&h)), p += column_data_bytes(&h);
        if (col->nbytes)
            memcpy(p, col->bytes, (size_t)col->nbytes), p += col->nbytes;
    }
    return TS_OK;
}

static ts_err deserialize_columns(const char *p, ts_table *t)
{
    int64_t n;
    memcpy(&n, p, 8), p += 8;
    for (int64_t c = 0; c < n; c++) {
        col_header h;
        memcpy(&h, p, sizeof h), p += sizeof h;
        ts_column *col;
        TS_TRY(ts_table_add(t, h.name, (ts_type)h.type, h.scale, NULL, &col));
        TS_TRY(ts_column_reserve(col, h.len, h.nbytes));
        if (column_data_bytes(&h))
            memcpy(col->data, p, (size_t)column_data_bytes(&h)), p += column_data_bytes(&h);
        if (h.nbytes)
            memcpy(col->bytes, p, (size_t)h.nbytes), p += h.nbytes;
        col->len = h.len, col->nbytes = h.nbytes;
    }
    return TS_OK;
}

/* A new table (caller frees) from serialize_table's buffer; nothing is left allocated on failure. */
static ts_err deserialize_table(const char *p, const char *name, ts_table **out)
{
    TS_TRY(ts_table_new(name, out));
    const ts_err err = deserialize_columns(p, *out);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_broadcast_table(ts_ctx *ctx, ts_table **t, int root)
{
    char *buf = NULL, name[sizeof(*t)->name] = "";
    int64_t size = 0;
    ts_err err = TS_OK;
    if (ctx->rank == root) {
        err = serialize_table(*t, &buf, &size);
        memcpy(name, (*t)->name, sizeof name);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Bcast(&size, 1, MPI_INT64_T, root, ctx->comm));
    TS_MPI(MPI_Bcast(name, sizeof name, MPI_CHAR, root, ctx->comm));
    if (ctx->rank != root && !(buf = malloc((size_t)size)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory receiving a table");
    TS_TRY(ts_ctx_check(ctx, err));
    for (int64_t off = 0; off < size && !err; off += P2P_CHUNK) {
        const int64_t n = size - off < P2P_CHUNK ? size - off : P2P_CHUNK;
        err = ts_mpi_status(MPI_Bcast(buf + off, (int)n, MPI_BYTE, root, ctx->comm), "MPI_Bcast", __FILE__,
                            __LINE__, __func__);
    }
    if (!err && ctx->rank != root)
        err = deserialize_table(buf, name, t);
    free(buf);
    return err;
}
