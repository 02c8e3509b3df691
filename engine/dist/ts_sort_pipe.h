/* The pipelined full sort (ORDER BY without LIMIT) under a memory budget (ctx->op_room > 0): a sink that sorts
 * externally when its rows outgrow the operator's share, and a source streaming the sorted rows.
 *   sink    the chunks' rows go to an external sorter (ops/ts_sort_ext.h) with the row's global input position as
 *           a last key (rank r's rows numbered r * 2^40 + i: the distributed sort's tie-breaker, order-equivalent
 *           to its global position), which spills sorted runs past ctx->op_room.
 *   finish  (collective) when no rank spilled: the in-memory sample sort (dist/ts_sort.h) of the buffered rows,
 *           exactly as before. Otherwise, on one rank: the runs are merged. On P ranks: splitters are chosen from
 *           samples of every run (weighted by the rows each stands for), then each rank merges its runs in bounded
 *           rounds, sends each row to the rank of its key range (ts_sort_dest) and the receivers feed a second
 *           external sorter; rank r then holds the r-th slab of the global order, as the sample sort's.
 *   source  the merged rows in chunks of TS_CHUNK_ROWS.
 * Order: exactly the in-memory sort's (keys, then input position). ctx must outlive the operators. */
#ifndef TS_SORT_PIPE_H
#define TS_SORT_PIPE_H

#include "ts_op.h"
#include "ts_sort_ext.h"
#include "ts_sort_local.h"

/* The sink sorting the chunks flowing as `in` by keys[0 .. nkeys) (1..8). */
ts_err ts_sort_sink_new(ts_ctx *ctx, ts_chunk *in, const ts_sort_key *keys, int nkeys, ts_op **out);

/* Rows are distributed by the hash of keys[0 .. nkeys) (0..8; no keys: all to rank 0) instead of by key range. */
typedef struct ts_sort_route {
    const char *const *keys;
    int nkeys;
} ts_sort_route;

/* The same sink with rows distributed by route (Spark's DISTRIBUTE BY ... SORT BY; route NULL: no keys) and
 * keys[0 .. nkeys) (0..8) sorting each rank's rows, the input position (rank << 40 | row, "__sort_order") always
 * the last key. When no rank spilled, nothing is sorted or moved: ts_sort_sink_take_sorted gives this rank's input
 * rows in input order, for the caller's in-memory path. Otherwise rank r's merger (ts_sort_sink_take_merger)
 * streams, in order, the rows whose route keys hash to r (every row of a route key value on one rank). */
ts_err ts_sort_sink_new_routed(ts_ctx *ctx, ts_chunk *in, const ts_sort_key *keys, int nkeys,
                               const ts_sort_route *route, ts_op **out);

/* After a spill: the finished external sorter streaming this rank's rows in order (ts_sort_ext_next; its tables'
 * last column is the input position), which the caller now owns (ts_sort_ext_free). NULL when nothing spilled. */
ts_sort_ext *ts_sort_sink_take_merger(ts_op *sink);

/* After the sink's pipeline ran: when no rank spilled, the sorted rows (the caller owns them; this rank's slab);
 * NULL when the rows spilled: ts_sort_source_new streams them. */
ts_table *ts_sort_sink_take_sorted(ts_op *sink);

/* The source of the merged rows, taking the sink's sorter (the sink may then be freed). */
ts_err ts_sort_source_new(ts_op *sink, ts_op **out);

#endif
