/* The distributed aggregation sink of pipelines (collective finish): the streaming hash aggregation of
 * ops/ts_agg_stream.h on every rank, then, when groups may span ranks, the exchange of partial states by the hash
 * of the keys (ts_partition_rank; a bulk exchange: one row per (rank, group) is small) and their merge
 * (ts_aggregate_merge), as ts_aggregate_distributed's two-phase plan.
 *
 * Which plan is the caller's choice (the planner knows the input's partitioning and decomposability):
 *   two_phase = 1   partial states per rank, exchanged and merged (decomposable aggregates);
 *   two_phase = 0   each rank's groups are complete: its input is already partitioned on a subset of the keys
 *                   (e.g. a streaming exchange ran before), or there is one rank.
 * The result records its partitioning: on the keys (two-phase, or part_keys when given), so a later aggregation,
 * join or DISTINCT on them skips its exchange. Row positions for FIRST / LAST are (rank << 40) + running row, so
 * the global order is rank 0's rows, then rank 1's, ...
 *
 * Memory budget (ctx->op_room > 0): decomposable aggregates flush partial states to spill partitions past the share
 * and merge them a round at a time (collective). The others (exact quantiles, distinct counts), whose states cannot
 * be merged, mirror their input rows to spill partitions by key hash as they run; past the share the sink is dropped
 * and each round of partitions is aggregated from its rows (per rank: the planner gives them complete groups). */
#ifndef TS_AGG_PIPE_H
#define TS_AGG_PIPE_H

#include "ts_agg_stream.h"
#include "ts_ctx.h"

/* part_keys / npart: the partitioning the result records when two_phase is 0 (npart 0: none). expected: the
 * groups this rank's tables are sized for (a hint). ctx must outlive the operator. */
ts_err ts_agg_pipe_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                       int two_phase, const char *const *part_keys, int npart, int64_t expected, ts_op **out);
/* The result (the caller owns it), after the pipeline ran. */
ts_table *ts_agg_pipe_take(ts_op *op);
/* Rounds of this rank's grace finish (0: none): aggregates without mergeable states (exact quantiles, distinct
 * counts) outgrew the operator's share of a --memory-limit, so the rows it had mirrored to spill partitions by key
 * hash were aggregated a round of partitions at a time. */
int ts_agg_pipe_grace_rounds(const ts_op *op);

#endif
