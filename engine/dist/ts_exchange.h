/* Exchange: moving rows of a distributed table between ranks (all collective over ctx->comm).
 *
 * Protocol (docs/architecture.md, "Exchange"): for each column, rows are packed by destination rank into one
 * send buffer (a stable counting sort, so the order within a source rank is kept), counts are swapped with
 * MPI_Alltoall, then the payload moves with MPI_Alltoallv when every count and displacement fits in an int, and
 * otherwise in rounds of point-to-point messages of at most 1 GiB (so exchanges over 2^31 bytes work).
 * STRING columns move their lengths first, then their bytes; nulls move as one byte per row, only for columns
 * that have nulls on some rank. Received rows are ordered by source rank, then source order: deterministic.
 * Small tables (at most 4 MiB on every rank, voted in the counts' MPI_Alltoall) move instead as one message per
 * peer holding every column, so the exchange costs two collectives, not about three per column. */
#ifndef TS_EXCHANGE_H
#define TS_EXCHANGE_H

#include "ts_ctx.h"
#include "ts_table.h"

/* 64-bit-safe all-to-all of bytes: send[scount[0]] to rank 0, then send+scount[0] to rank 1, ...;
 * receives rcount[r] bytes from rank r into recv in rank order. Adds the bytes sent to ctx->bytes_sent. */
ts_err ts_alltoallv_bytes(ts_ctx *ctx, const void *send, const int64_t *scount, void *recv, const int64_t *rcount);

/* Sends row i of `in` to rank dest[i]; *out (new, caller frees) holds the rows this rank receives. */
ts_err ts_exchange_rows(ts_ctx *ctx, const ts_table *in, const int32_t *dest, ts_table **out);

/* Same, consuming *t: its columns are freed as they are sent and *t is replaced by the received rows.
 * On one rank it is a no-op. dest must not point into *t (it is read while columns are freed). */
ts_err ts_exchange_rows_move(ts_ctx *ctx, ts_table **t, const int32_t *dest);

/* Gives every rank a copy of root's table *t. On other ranks *t must be NULL on entry and is set to a new table
 * (caller frees). DICT columns are not supported (broadcast the dictionary's strings instead). */
ts_err ts_broadcast_table(ts_ctx *ctx, ts_table **t, int root);

/* Sum over ranks of a local int64. */
ts_err ts_allreduce_sum_i64(ts_ctx *ctx, int64_t local, int64_t *global);

#endif
