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

/* The all-to-all with the path already agreed (all_small: every rank's counts fit MPI's ints). */
static ts_err alltoallv_decided(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv,
                                const int64_t *rcount, int all_small)
{
    int64_t stotal = 0;
    for (int r = 0; r < ctx->size; r++)
        stotal += scount[r];
    ctx->bytes_sent += stotal - scount[ctx->rank];
    if (all_small)
        return alltoallv_small(ctx, send, scount, recv, rcount);
    return alltoallv_p2p(ctx, send, scount, recv, rcount);
}

ts_err ts_alltoallv_bytes(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv, const int64_t *rcount)
{
    int64_t stotal = 0, rtotal = 0;
    for (int r = 0; r < ctx->size; r++)
        stotal += scount[r], rtotal += rcount[r];
    int small = stotal < INT_MAX && rtotal < INT_MAX && !ctx->force_p2p, all_small;
    TS_MPI(MPI_Allreduce(&small, &all_small, 1, MPI_INT, MPI_MIN, ctx->comm));
    return alltoallv_decided(ctx, send, scount, recv, rcount, all_small);
}

/* One round of ts_exchange_staged: the peers' counts and "more" flags, then the records. */
static ts_err staged_round(ts_ctx *ctx, size_t rec_bytes, const char *stage, int64_t cap, const int64_t *count,
                           int more, char *recv, int64_t *at, int64_t *msg, MPI_Request *req, int *any_more)
{
    const int p = ctx->size, me = ctx->rank;
    for (int r = 0; r < p; r++)
        msg[2 * r] = count[r], msg[2 * r + 1] = more;
    TS_MPI(MPI_Alltoall(msg, 2, MPI_INT64_T, msg + 2 * p, 2, MPI_INT64_T, ctx->comm));
    int k = 0, rc = MPI_SUCCESS;
    *any_more = 0;
    for (int r = 0; r < p; r++) {
        const int64_t n = msg[2 * p + 2 * r];
        *any_more |= msg[2 * p + 2 * r + 1] != 0;
        if (r == me || n == 0)
            continue;
        if (rc == MPI_SUCCESS) /* n <= cap, and cap * rec_bytes fits an int (ts_exchange_staged) */
            rc = MPI_Irecv(recv + (size_t)at[r] * rec_bytes, (int)(n * (int64_t)rec_bytes), MPI_BYTE, r, 0, ctx->comm,
                           &req[k++]);
    }
    for (int r = 0; r < p; r++)
        if (r != me && count[r] && rc == MPI_SUCCESS) {
            rc = MPI_Isend(stage + (size_t)r * (size_t)cap * rec_bytes, (int)(count[r] * (int64_t)rec_bytes),
                           MPI_BYTE, r, 0, ctx->comm, &req[k++]);
            ctx->bytes_sent += count[r] * (int64_t)rec_bytes;
        }
    memcpy(recv + (size_t)at[me] * rec_bytes, stage + (size_t)me * (size_t)cap * rec_bytes,
           (size_t)count[me] * rec_bytes);
    if (rc == MPI_SUCCESS)
        rc = MPI_Waitall(k, req, MPI_STATUSES_IGNORE);
    for (int r = 0; r < p; r++)
        at[r] += msg[2 * p + 2 * r];
    return ts_mpi_status(rc, "staged exchange", __FILE__, __LINE__, __func__);
}

ts_err ts_exchange_staged(ts_ctx *ctx, size_t rec_bytes, size_t stage_bytes, ts_stage_fill_fn fill, void *arg,
                          void *recv, const int64_t *rcount)
{
    const int p = ctx->size;
    /* records per peer and round: the stage split evenly, at least 64, each message below 1 GiB */
    int64_t cap = (int64_t)(stage_bytes / rec_bytes / (size_t)p);
    cap = cap < 64 ? 64 : cap;
    if (cap * (int64_t)rec_bytes > P2P_CHUNK)
        cap = P2P_CHUNK / (int64_t)rec_bytes;
    char *stage = ts_big((size_t)cap * rec_bytes * (size_t)p);
    /* count[p], at[p], msg[4p]: this rank's counts and "more" flag out, then the peers' in */
    int64_t *count = calloc(6 * (size_t)p, sizeof *count), *at = count + p, *msg = count + 2 * p;
    MPI_Request *req = malloc(sizeof *req * 2 * (size_t)p);
    ts_err err = stage && count && req ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                               "out of memory staging an exchange");
    err = ts_ctx_check(ctx, err);
    for (int r = 1; !err && r < p; r++)
        at[r] = at[r - 1] + rcount[r - 1];
    for (int more = 1; !err && more;) {
        memset(count, 0, sizeof *count * (size_t)p);
        const int mine = fill(arg, stage, cap, count);
        err = staged_round(ctx, rec_bytes, stage, cap, count, mine, recv, at, msg, req, &more);
    }
    int64_t end = 0; /* the rounds delivered what the counts announced */
    for (int r = 0; !err && r < p; r++)
        if (at[r] != (end += rcount[r]))
            err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                                 "staged exchange: rank %d sent %lld records, %lld announced", r,
                                 (long long)(at[r] - end + rcount[r]), (long long)rcount[r]);
    ts_free(stage), free(count), free(req);
    return ts_ctx_check(ctx, err);
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
    int64_t *sbytes, *rbytes; /* packed path: message bytes per rank */
    int64_t nrecv;
    int packed;               /* every rank's table is small: one message per peer (exchange_packed) */
    /* Agreed in route_build's one collective, so the column path needs one collective per column, not three:
     * fixed_small: every fixed-width column's all-to-all fits MPI's int counts on every rank; nulls: bit c set
     * when column c has nulls on some rank (known only for tables of at most 64 columns: nulls_known). */
    int fixed_small, nulls_known;
    uint64_t nulls;
} route;

static void route_free(route *rt) { ts_free(rt->perm), free(rt->scount); }

/* ---- the packed path for small tables ---------------------------------------------------------------------------
 * Exchanging column by column costs about three collectives per column (counts, payload, null check), which is
 * what a small table's exchange (the partial states of an aggregation, a join's build side of a few rows) spends
 * its time on, above all when ranks share cores and every collective waits for a descheduled peer. A table of at
 * most PACKED_MAX bytes on every rank moves instead as one message per peer holding all its columns: one
 * MPI_Alltoall (row counts, message sizes and the "small" votes) and one MPI_Alltoallv. Message layout, per
 * column, every part 8-byte aligned: an int64 flag (1: validity bytes follow), the values (STRING: the lengths as
 * int64, then the bytes), then one byte per row (1 = valid) when flagged. Same rows, same order as the column
 * path. */
#define PACKED_MAX (INT64_C(4) << 20)

static int64_t pad8(int64_t n) { return (n + 7) & ~INT64_C(7); }

/* Upper bound of the table's packed bytes, for the vote. */
static int64_t packed_estimate(const ts_table *t, int p)
{
    const int64_t n = ts_table_rows(t);
    int64_t b = 0;
    for (int c = 0; c < t->ncols; c++)
        b += (8 + 8 + 8) * (int64_t)p + n * (ts_type_width(t->cols[c]->type) + 1) +
             (t->cols[c]->type == TS_T_STRING ? t->cols[c]->nbytes : 0);
    return b;
}

/* Exact bytes of the message to each rank (rows perm[...] in destination order) into sbytes[0 .. p). */
static void packed_sizes(const ts_table *t, const route *rt, int p, int64_t *sbytes)
{
    int64_t start = 0;
    for (int r = 0; r < p; r++) {
        const int64_t k = rt->scount[r];
        int64_t b = 0;
        for (int c = 0; c < t->ncols; c++) {
            const ts_column *col = t->cols[c];
            b += 8 + (col->valid ? pad8(k) : 0);
            if (col->type == TS_T_STRING) {
                const int64_t *off = TS_COL(col, int64_t);
                int64_t bytes = 0;
                for (int64_t i = start; i < start + k; i++)
                    bytes += off[rt->perm[i] + 1] - off[rt->perm[i]];
                b += 8 * k + pad8(bytes);
            } else {
                b += pad8(k * ts_type_width(col->type));
            }
        }
        sbytes[r] = b, start += k;
    }
}

/* Writes rows idx[0 .. k) of every column of t at *at (advanced). */
static void pack_rows(const ts_table *t, const int64_t *idx, int64_t k, char **at)
{
    char *w = *at;
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        const int64_t flag = col->valid != NULL;
        memcpy(w, &flag, 8), w += 8;
        if (col->type == TS_T_STRING) {
            const int64_t *off = TS_COL(col, int64_t);
            int64_t bytes = 0;
            for (int64_t i = 0; i < k; i++) {
                const int64_t len = off[idx[i] + 1] - off[idx[i]];
                memcpy(w + 8 * i, &len, 8), bytes += len;
            }
            w += 8 * k;
            char *b = w;
            for (int64_t i = 0; i < k; i++) {
                const int64_t len = off[idx[i] + 1] - off[idx[i]];
                if (len)
                    memcpy(b, col->bytes + off[idx[i]], (size_t)len), b += len;
            }
            memset(b, 0, (size_t)(pad8(bytes) - bytes));
            w += pad8(bytes);
        } else {
            const size_t wd = ts_type_width(col->type);
            const char *src = col->data;
            for (int64_t i = 0; i < k; i++)
                memcpy(w + wd * (size_t)i, src + wd * (size_t)idx[i], wd);
            memset(w + wd * (size_t)k, 0, (size_t)(pad8(k * (int64_t)wd) - k * (int64_t)wd));
            w += pad8(k * (int64_t)wd);
        }
        if (flag) {
            for (int64_t i = 0; i < k; i++)
                w[i] = (char)ts_column_is_valid(col, idx[i]);
            memset(w + k, 0, (size_t)(pad8(k) - k));
            w += pad8(k);
        }
    }
    *at = w;
}

/* Appends the k rows of the message at *at to out's columns (advancing *at); pass 0 only adds up each STRING
 * column's bytes into sbytes[c] (to reserve once), pass 1 appends. */
static ts_err unpack_rows(ts_table *out, int64_t k, const char **at, int pass, int64_t *sbytes)
{
    const char *p = *at;
    for (int c = 0; c < out->ncols; c++) {
        ts_column *col = out->cols[c];
        int64_t flag;
        memcpy(&flag, p, 8), p += 8;
        const int64_t base = col->len;
        if (col->type == TS_T_STRING) {
            const char *lens = p, *bytes = p + 8 * k;
            int64_t total = 0, len;
            for (int64_t i = 0; i < k; i++)
                memcpy(&len, lens + 8 * i, 8), total += len;
            if (pass == 0) {
                sbytes[c] += total;
            } else {
                int64_t *off = TS_COL(col, int64_t);
                if (total)
                    memcpy(col->bytes + col->nbytes, bytes, (size_t)total);
                for (int64_t i = 0; i < k; i++) {
                    memcpy(&len, lens + 8 * i, 8);
                    off[base + i + 1] = off[base + i] + len;
                }
                col->nbytes += total, col->len = base + k;
            }
            p += 8 * k + pad8(total);
        } else {
            const int64_t w = ts_type_width(col->type);
            if (pass == 1 && k) {
                memcpy((char *)col->data + w * base, p, (size_t)(w * k));
                col->len = base + k;
            }
            p += pad8(w * k);
        }
        if (flag) {
            for (int64_t i = 0; pass == 1 && i < k; i++)
                if (!p[i])
                    TS_TRY(ts_column_set_null(col, base + i));
            p += pad8(k);
        }
    }
    *at = p;
    return TS_OK;
}

static ts_err exchange_packed(ts_ctx *ctx, const route *rt, const ts_table *in, ts_table *out)
{
    const int p = ctx->size;
    int64_t stotal = 0, rtotal = 0;
    for (int r = 0; r < p; r++)
        stotal += rt->sbytes[r], rtotal += rt->rbytes[r];
    char *send = malloc((size_t)stotal + 8), *recv = malloc((size_t)rtotal + 8);
    int64_t *sb = calloc((size_t)out->ncols + 1, sizeof *sb);
    ts_err err = send && recv && sb ? TS_OK
                                    : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory "
                                                     "exchanging %lld bytes", (long long)(stotal + rtotal));
    char *w = send;
    int64_t start = 0;
    for (int r = 0; !err && r < p; start += rt->scount[r], r++)
        pack_rows(in, rt->perm + start, rt->scount[r], &w);
    if (!err) {
        ctx->bytes_sent += stotal - rt->sbytes[ctx->rank];
        err = alltoallv_small(ctx, send, rt->sbytes, recv, rt->rbytes);
    }
    for (int pass = 0; !err && pass < 2; pass++) {
        const char *at = recv;
        for (int r = 0; !err && r < p; r++)
            err = unpack_rows(out, rt->rcount[r], &at, pass, sb);
        for (int c = 0; !err && pass == 0 && c < out->ncols; c++)
            err = ts_column_reserve(out->cols[c], rt->nrecv, sb[c]);
    }
    free(send), free(recv), free(sb);
    return err;
}

static ts_err route_build(ts_ctx *ctx, const ts_table *in, const int32_t *dest, route *rt)
{
    const int p = ctx->size;
    const int64_t n = ts_table_rows(in);
    memset(rt, 0, sizeof *rt);
    rt->scount = calloc(4 * (size_t)p + 1, sizeof(int64_t));
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
    /* per peer {rows, packed bytes, small vote, this rank's rows, null flags}: one collective gives the counts,
     * decides the path, and settles what the column path would otherwise agree on per column */
    rt->sbytes = rt->scount + 2 * p, rt->rbytes = rt->scount + 3 * p;
    const int small = !ctx->force_p2p && (int64_t)p * 2 * PACKED_MAX < INT_MAX &&
                      packed_estimate(in, p) <= PACKED_MAX;
    if (small)
        packed_sizes(in, rt, p, rt->sbytes);
    uint64_t nulls = 0;
    for (int c = 0; c < in->ncols && c < 64; c++)
        nulls |= (uint64_t)(in->cols[c]->valid != NULL) << c;
    int64_t *sv = malloc(sizeof *sv * 10 * (size_t)p), *rv = sv + 5 * p;
    for (int r = 0; sv && r < p; r++)
        sv[5 * r] = rt->scount[r], sv[5 * r + 1] = rt->sbytes[r], sv[5 * r + 2] = small, sv[5 * r + 3] = n,
        sv[5 * r + 4] = (int64_t)nulls;
    const int rc = sv ? MPI_Alltoall(sv, 5, MPI_INT64_T, rv, 5, MPI_INT64_T, ctx->comm) : MPI_ERR_NO_MEM;
    if (rc != MPI_SUCCESS) {
        free(sv);
        route_free(rt);
        TS_TRY(ts_mpi_status(rc, "MPI_Alltoall of row counts", __FILE__, __LINE__, __func__));
    }
    rt->packed = 1;
    int64_t all_rows = 0; /* rows on all ranks: bounds what any rank sends or receives of one column */
    for (int r = 0; r < p; r++) {
        rt->rcount[r] = rv[5 * r], rt->rbytes[r] = rv[5 * r + 1], rt->packed &= rv[5 * r + 2] != 0;
        rt->nrecv += rt->rcount[r], all_rows += rv[5 * r + 3], rt->nulls |= (uint64_t)rv[5 * r + 4];
    }
    free(sv);
    /* every rank sees the same numbers, so every rank decides alike */
    rt->fixed_small = !ctx->force_p2p && all_rows < INT_MAX / 8;
    rt->nulls_known = in->ncols <= 64;
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
    const ts_err err = width <= 8 && rt->fixed_small ? alltoallv_decided(ctx, send, sb, recv, sb + p, 1)
                                                     : ts_alltoallv_bytes(ctx, send, sb, recv, sb + p);
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
static ts_err exchange_validity(ts_ctx *ctx, const route *rt, int c, const ts_column *packed, ts_column *dst)
{
    int has = packed->valid != NULL, any = (int)((rt->nulls >> (c & 63)) & 1);
    if (!rt->nulls_known)
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

static ts_err exchange_column(ts_ctx *ctx, const route *rt, int c, const ts_column *src, ts_column *dst)
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
    TS_TRY_GOTO(err, exchange_validity(ctx, rt, c, packed, dst), done);
done:
    ts_column_free(packed);
    return err;
}

/* consume: free each input column once it has been sent, so peak memory is one column's copy, not a table's.
 * A view (borrowed columns) is never consumed: its columns belong to another table. */
static ts_err exchange(ts_ctx *ctx, ts_table *in, const int32_t *dest, int consume, ts_table **out)
{
    route rt;
    TS_TRY(route_build(ctx, in, dest, &rt));
    ts_err err = ts_table_new_like(in, in->name, out);
    if (!err && rt.packed) {
        err = exchange_packed(ctx, &rt, in, *out);
        route_free(&rt);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
        }
        return err;
    }
    for (int c = 0; !err && c < in->ncols; c++) {
        err = exchange_column(ctx, &rt, c, in->cols[c], (*out)->cols[c]);
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
