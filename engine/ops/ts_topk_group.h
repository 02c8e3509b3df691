/* Top k rows per group: the rows of one rank's table that can still pass a filter `rn <= k` over a ranking window
 * function (ROW_NUMBER, RANK, DENSE_RANK OVER (PARTITION BY keys ORDER BY order)), whatever rows other ranks hold.
 * Per rank, no MPI. The window operator (dist/ts_window.h) runs it before and after its exchange, so only these
 * survivors move between ranks and get sorted.
 *
 * Which rows are kept, per group (NULL keys form one group, as PARTITION BY):
 *   ROW_NUMBER: the k best rows under the order (min(k, rows)); among rows that compare equal, the earlier ones
 *               (row_number among peers is arbitrary in SQL: any k of them is a right answer);
 *   RANK:       every row with fewer than k rows of its group strictly before it (so the peers of the k-th row too);
 *   DENSE_RANK: every row whose order value is among its group's k smallest distinct order values.
 * A row dropped here has, among this rank's rows alone, at least k rows before it (k distinct values before it for
 * DENSE_RANK), so its global number exceeds k; and every row before or beside a kept row that passes the filter is
 * kept, so the window computed over the survivors gives the same numbers to the rows that pass.
 *
 * Method: group ids a chunk of rows at a time (ops/ts_group_table.h: a direct array for small integer domains,
 * else hashing); each group holds a sorted array of at most k row indexes in a shared pool (grown by doubling,
 * relocated to the pool's end, so memory is O(min(rows, groups * k))); a row is compared with its group's worst
 * kept row first, and inserted by a short shift when better. RANK and DENSE_RANK then keep, in a second pass,
 * every row that is not strictly after its group's k-th kept row. No allocation per row. */
#ifndef TS_TOPK_GROUP_H
#define TS_TOPK_GROUP_H

#include "ts_op.h"
#include "ts_sort_local.h"
#include "ts_table.h"

typedef enum { TS_TOPK_ROW_NUMBER, TS_TOPK_RANK, TS_TOPK_DENSE_RANK } ts_topk_kind;

/* The rows of t to keep (see above) for groups `keys[0..nkeys)` (0..TS_MAX_COLS columns of any type; 0: one group)
 * ordered by order[0..norder) (1..8 keys, ts_sort_local.h's order) and k >= 1: *rows (ascending row indexes,
 * ts_free; NULL when *m == 0) and *m. A table of more than 2^31 - 1 rows keeps every row (the group table takes
 * 32-bit row numbers). */
ts_err ts_topk_group_rows(const ts_table *t, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                          int64_t k, ts_topk_kind kind, int64_t **rows, int64_t *m);

/* The same, applied: keeps those rows of t in place (ts_table_keep_rows). */
ts_err ts_topk_group_keep(ts_table *t, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                          int64_t k, ts_topk_kind kind);

/* Sink (pipelines, engine/core/ts_op.h): of the rows pushed into it, keeps ROW_NUMBER's rows above (at most k per
 * group, the earlier of equal rows) without materialising the others: a row enters when it beats its group's k-th
 * kept row, its values are copied (a chunk's entrants in one append per column), and rows displaced since are
 * dropped when they outnumber the live ones. in: the chunk that will flow in (keys and order are its columns). */
ts_err ts_topk_group_sink_new(ts_chunk *in, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                              int64_t k, ts_op **out);
/* The kept rows, in input order, once the sink finished (the caller owns the table; the operator forgets it). */
ts_table *ts_topk_group_sink_take(ts_op *op);

#endif
