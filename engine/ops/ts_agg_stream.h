/* Streaming hash aggregation: the aggregation sink of pipelines (engine/core/ts_op.h). Per rank; the distributed
 * sink (engine/dist/ts_agg_pipe.h) adds the exchange of partial states.
 *
 * Each chunk is consumed as it arrives: the key columns go through a group table (ops/ts_group_table.h: dense
 * group ids by first appearance), then every aggregate updates its per-group state for the chunk's live rows,
 * reading its input straight from the chunk's vectors (an argument expression was computed per chunk by the
 * projection below: no argument column is ever materialised). States are arrays indexed by group id that grow
 * with the groups (doubling), so a chunk's updates are tight loops without a per-row switch.
 *
 * Semantics are ts_hash_aggregate's (ops/ts_aggregate.h), with "row order" for FIRST / LAST the order in which
 * rows reach the sink (positions pos_base + running row number). Output, after the last chunk:
 *   final:   the key columns, then one column per aggregate, exactly as ts_hash_aggregate;
 *   partial: the key columns, then the partial-state columns "__p<a>_<field>" of ts_aggregate_partial, which
 *            ts_aggregate_merge (ops/ts_aggregate.h) merges and finalizes (decomposable aggregates only).
 * Supported: every aggregate kind; FIRST / LAST orderings of any type but STRING (ts_agg_stream_supports). Counting
 * distinct values keeps a group table of (group, value) pairs; quantiles keep each group's values.
 * Memory: states and the group table are accounted as the operator's memory (ts_op_hold): a memory budget can
 * be checked, and spilling added, at this sink. */
#ifndef TS_AGG_STREAM_H
#define TS_AGG_STREAM_H

#include "ts_aggregate.h"
#include "ts_op.h"

/* 1 when the streaming sink computes aggs over a chunk with this schema (partial: also requires decomposable
 * aggregates). */
int ts_agg_stream_supports(const ts_table *schema, const ts_agg *aggs, int naggs, int partial);

/* A sink grouping the chunks flowing as `in` (its schema names the keys and the aggregates' columns) by keys.
 * pos_base: the position of this rank's first row for FIRST / LAST (e.g. rank << 40, so ranks come in order).
 * expected: groups to size the tables for up front (a hint; 0: small). The strings are copied. */
ts_err ts_agg_sink_new(ts_chunk *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs, int partial,
                       int64_t pos_base, int64_t expected, ts_op **out);

/* The result table named `name` (new; the caller owns it), final or partial as the sink was made. Call once, after
 * the last chunk. */
ts_err ts_agg_sink_result(ts_op *op, const char *name, ts_table **out);

/* The partial states (as a sink made with partial = 1 gives) whatever the sink was made for: what a memory budget
 * spills (dist/ts_agg_pipe.h). Decomposable aggregates only. Call once. */
ts_err ts_agg_sink_partial_result(ts_op *op, const char *name, ts_table **out);

/* Forgets every group (after its states were taken with ts_agg_sink_partial_result) and frees their memory, keeping
 * what the sink prepared once (dictionary ranks): the sink then aggregates the next chunks afresh, row positions
 * continuing. in: the chunk the sink was made on. Decomposable aggregates only. */
ts_err ts_agg_sink_reset(ts_op *op, ts_chunk *in);

/* Groups so far and rows consumed. */
int64_t ts_agg_sink_groups(const ts_op *op);
int64_t ts_agg_sink_rows(const ts_op *op);

#endif
