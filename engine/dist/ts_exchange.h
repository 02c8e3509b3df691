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

/* Fills the staging buffer of ts_exchange_staged: appends records for rank d at stage + (d * cap + count[d]) *
 * rec_bytes, count[d] += 1, in the order they must arrive, and stops before a record whose rank's region is full
 * (count[d] == cap) or when it has none left. Returns 1 when records remain for a later round. */
typedef int (*ts_stage_fill_fn)(void *arg, char *stage, int64_t cap, int64_t *count);

/* An all-to-all of fixed-size records without a full send buffer: `fill` writes a round's records into a staging
 * buffer of about `stage_bytes` (reused each round), and each round's records go straight to their place in
 * `recv`: rcount[r] records from rank r, ordered by source rank, then the order fill produced them (as
 * ts_alltoallv_bytes delivers). Why: the send buffer of a one-shot all-to-all is as large as what is sent, and
 * fresh memory costs more to fault in on these virtual machines than the exchange itself (docs/scaling.md).
 * Collective; rcount from a prior count exchange; per round one MPI_Alltoall (counts and "more" flags) and one
 * message per peer with records. Adds the bytes sent to ctx->bytes_sent. */
ts_err ts_exchange_staged(ts_ctx *ctx, size_t rec_bytes, size_t stage_bytes, ts_stage_fill_fn fill, void *arg,
                          void *recv, const int64_t *rcount);

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
