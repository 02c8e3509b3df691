/* Internal to the window operator (engine/dist/ts_window.c): the per-partition kernels of engine/ops/ts_window_eval.c.
 * Per rank, no MPI. */
#ifndef TS_WINDOW_EVAL_H
#define TS_WINDOW_EVAL_H

#include "ts_window_spec.h"

/* Where partitions and peer groups start in a table sorted by (partition, ORDER BY keys). */
typedef struct ts_win_layout {
    int64_t n;              /* rows */
    const int64_t *pstart;  /* pstart[0..np]: partition p is rows [pstart[p], pstart[p+1]); pstart[np] = n */
    int64_t np;
    const uint8_t *newpeer; /* newpeer[i] = 1 when row i starts a peer group (every partition start does);
                               NULL without ORDER BY: each partition is one peer group */
} ts_win_layout;

/* Order of rows i and j of one column (no NULL handling): ts_sort_local.h's order without DESC. <0, 0, >0. */
int ts_win_cmp(const ts_column *c, int64_t i, int64_t j);

/* Computes fn over the sorted table t into *out (a new column named fn->output; caller frees). The spec has
 * been validated (columns exist, types fit, frames are legal). */
ts_err ts_win_eval(const ts_table *t, const ts_win_layout *lay, const ts_window_fn *fn, ts_column **out);

#endif
