/* Window functions under a memory budget (ctx->op_room > 0): a sink that distributes and sorts the rows externally
 * when they outgrow the operator's share, and a source that evaluates the functions a few whole partitions at a
 * time while streaming the merged rows.
 *   sink    the chunks' rows go to a routed external sort (dist/ts_sort_pipe.h: distributed by the hash of the
 *           PARTITION BY keys, all to rank 0 without them; sorted by the partition keys, the ORDER BY keys, then
 *           the input position rank << 40 | row), which spills sorted runs past ctx->op_room.
 *   finish  (collective) when no rank spilled: nothing moved or sorted; ts_window_sink_take_rows gives the rows
 *           to the in-memory operator (dist/ts_window.h), exactly as without a budget. Otherwise every rank ends
 *           with the rows of its partitions as a merged stream.
 *   source  reads the stream in batches, cuts it after the last whole partition, evaluates the functions over the
 *           whole partitions (ts_window_sorted) and shows the result in chunks. Memory: the largest partition plus
 *           a batch (and the merge's buffers); a partition alone holding more than the share fails (TS_ERR_NOMEM,
 *           exit 5) with a message naming the window.
 * Results: the in-memory operator's: same partitions, same order inside each (ORDER BY keys, ties in the order the
 * in-memory exchange delivers rows: source rank, then input position). Only the order of partitions among
 * themselves differs (by key here, by first appearance there), which SQL leaves unspecified. */
#ifndef TS_WINDOW_PIPE_H
#define TS_WINDOW_PIPE_H

#include "ts_op.h"
#include "ts_window_spec.h"

/* Prepares a batch of rows before evaluation (the SQL layer's casts of lag/lead defaults), NULL for none. */
typedef ts_err (*ts_window_prep)(void *arg, ts_table *t);

/* The sink for the chunks flowing as `in`: spec->npartition + spec->norder <= 8. ctx must outlive the operators. */
ts_err ts_window_sink_new(ts_ctx *ctx, ts_chunk *in, const ts_window_spec *spec, ts_op **out);

/* After the sink's pipeline ran: when no rank spilled, this rank's input rows (unsorted, not exchanged: the caller
 * owns them and runs ts_window); NULL when rows spilled (then ts_window_source_new). */
ts_table *ts_window_sink_take_rows(ts_op *sink);

/* The source of the evaluated rows (the input's columns, then one per function), taking the sink's merged rows
 * (the sink may then be freed). The spec's strings must outlive the source (its function array is copied); `name`
 * names the window in errors. prep/arg: see ts_window_prep. */
ts_err ts_window_source_new(ts_ctx *ctx, ts_op *sink, const ts_window_spec *spec, const char *name,
                            ts_window_prep prep, void *arg, ts_op **out);

#endif
