/* Streaming exchange: a pipeline sink that routes each chunk's rows to their destination ranks while the pipeline
 * runs, and the source that reads, in the next pipeline, what this rank received (engine/core/ts_op.h).
 *
 * Protocol (docs/architecture.md, "Streaming exchange"):
 *   - sink(): each live row gets a destination (ts_partition_rank of its key hash, or a fixed root); rows are
 *     appended to one staging buffer per destination. A staging buffer that reaches `msg_bytes` is packed into
 *     one message (a header, then per column its values, validity bits and string bytes, 8-byte aligned; integer
 *     columns narrowed to the bytes their range in the message needs, widened back by the source) and sent
 *     with MPI_Issend; at most `max_inflight` messages are in flight: past that, the sink progresses the exchange
 *     (receives, completes sends) until one finished. Every sink() call also receives: MPI_Improbe + MPI_Imrecv
 *     of whatever arrived, so communication overlaps computation and no rank's sends wait on a rank that only
 *     computes. Rows for this rank itself are appended to a local table, never packed.
 *   - finish(): the last partial buffers are sent, then the end of the stream is agreed with the NBX algorithm
 *     (Hoefler et al.): once all of a rank's synchronous sends completed (were matched) it enters MPI_Ibarrier and
 *     keeps receiving until the barrier completes; then every message to every rank has been matched. No
 *     end-of-stream message per peer, so an exchange costs O(messages) plus one non-blocking barrier.
 *   - Determinism: messages carry their sender's sequence number; the source reads source rank 0's messages in
 *     sequence order, then rank 1's, ... (this rank's own rows in their place): the order does not depend on
 *     arrival order, and equals the bulk exchange's (source rank, then source order).
 *   - Memory: a sender holds at most P staging buffers plus max_inflight messages (ts_xchg_stats.send_bound);
 *     the receiver holds what it receives (its partition) until the next pipeline consumed it: the source frees
 *     each message as it moves past it.
 *   - A failing rank still completes the protocol in finish() (it stops adding rows), so no rank hangs; the
 *     pipeline's collective error check then ends every rank with the message.
 * Each exchange uses its own MPI tag (a counter every rank advances alike), so messages of consecutive
 * exchanges never mix even when ranks are one exchange apart. */
#ifndef TS_XCHG_H
#define TS_XCHG_H

#include "ts_op.h"

typedef struct ts_xchg_opts {
    int64_t msg_bytes;    /* target size of one message (0: min(1 MiB, max(64 KiB, 64 MiB / P))) */
    int max_inflight;     /* messages in flight per rank (0: max(4, min(2 P, 64))) */
    int root;             /* >= 0: every row goes to this rank (no keys) */
} ts_xchg_opts;

typedef struct ts_xchg_stats {
    int64_t rows_sent, rows_kept, rows_received; /* to others, for this rank itself, from others */
    int64_t bytes_sent, bytes_received, messages_sent, messages_received;
    int64_t send_peak;    /* largest staging + in-flight bytes this rank held */
    int64_t send_bound;   /* the bound those bytes stay under */
} ts_xchg_stats;

/* A sink routing the rows of the chunks flowing as `in` by the hash of keys[0 .. nkeys) (opts->root < 0) or all
 * to opts->root. opts may be NULL. ctx must outlive the operator. The received rows keep in's schema and record
 * the partitioning on the keys. */
ts_err ts_xchg_sink_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, const ts_xchg_opts *opts,
                        ts_op **out);
/* After the sink's pipeline ran: a source of the rows this rank received (the sink must outlive it; it takes the
 * received data over). */
ts_err ts_xchg_source_new(ts_op *sink, ts_op **out);
/* Counters of the sink (valid after finish). */
void ts_xchg_get_stats(const ts_op *sink, ts_xchg_stats *out);

#endif
