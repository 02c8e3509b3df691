/* Internal to the cleaning operator (engine/dist/ts_clean.c): the partitioned mode's scan callback. */
#ifndef TS_CLEAN_PART_H
#define TS_CLEAN_PART_H

#include "ts_clean.h"

/* ts_scan_batch_fn for ts_clean_begin_partitioned: sends a piece's clean rows to their partitions' spill files
 * and empties the piece from clean. arg is the ts_clean. */
ts_err ts_clean_spill_piece(void *arg, ts_table *clean, int64_t first, int range);

/* Notes the positions pos[0..n) of rows just rejected (appended to the scan's rejects without raw lines). */
ts_err ts_clean_defer_lines(ts_clean *c, const int64_t *pos, int64_t n);
/* Fetches the deferred raw lines in one pass over the input and appends them to the rejects' raw_line. */
ts_err ts_clean_fetch_pending(ts_clean *c);

/* Row indexes 0..n-1 ordered by ascending p[] (malloc'ed), or *order = NULL when p is already ascending. */
ts_err ts_clean_pos_order(const int64_t *p, int64_t n, int64_t **order);

#endif
