/* Window functions: f(...) OVER (PARTITION BY ... ORDER BY ... [ROWS|RANGE frame]) over a distributed table.
 *
 * Execution (collective): rows are hash-partitioned on the PARTITION BY columns (ts_exchange_rows_move), so each
 * window partition lives on one rank; without PARTITION BY the whole table is one partition and is gathered on
 * rank 0 (one rank then does all the work: a deliberate limit, like any engine's unpartitioned window). Each
 * rank then numbers its partitions exactly (hash table over the key tuples), sorts locally by (partition,
 * ORDER BY keys), finds partition and peer boundaries in one pass and evaluates every function per partition in
 * O(n) time: running counts and exact integer sums over sliding frames, a two-stack sliding window of compensated
 * sums for FLOAT64, a monotonic deque for MIN/MAX. Nothing is allocated per row. Under a filter `rn <= k` on a
 * ranking function (spec->topk), each rank first keeps only its rows that can pass (at most k per partition for
 * ROW_NUMBER: ops/ts_topk_group.h), so only those are exchanged, and again after the exchange, before the sort.
 *
 * Under --memory-limit the SQL executor uses dist/ts_window_pipe.h instead when the rows outgrow their share
 * (external sort, then ts_window_sorted a few partitions at a time).
 *
 * Semantics of the functions: ops/ts_window_spec.h. */
#ifndef TS_WINDOW_H
#define TS_WINDOW_H

#include "ts_ctx.h"
#include "ts_window_spec.h"

/* Collective. Replaces *t (freed) by a table with all of its columns plus one column per function (see the
 * top of this file). Strings in the spec are only read during the call. On failure every rank returns the same
 * error and *t still holds the input rows (possibly moved between ranks and reordered, without new columns; with
 * spec->topk, possibly without rows the top-k filter drops); the caller keeps ownership either way. */
ts_err ts_window(ts_ctx *ctx, ts_table **t, const ts_window_spec *spec);

/* Per rank, no exchange: evaluates spec over t, whose rows are already sorted by (the PARTITION BY keys, then
 * the ORDER BY keys) and hold whole partitions (an external sort's output: dist/ts_window_pipe.h). Adds one column
 * per function, as ts_window; spec->topk is ignored (the filter above it still applies). */
ts_err ts_window_sorted(ts_table *t, const ts_window_spec *spec);

/* The first row of the last window partition of t (sorted as for ts_window_sorted; 0 when all rows are one
 * partition or there are none): the rows before it are whole partitions. */
int64_t ts_window_last_start(const ts_table *t, const ts_window_spec *spec);

#endif
