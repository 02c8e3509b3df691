/* Distributed sorting. ts_sort_distributed_by is a sample sort: afterwards rank r
 * holds the r-th slab of the global order (all of rank r's rows sort before rank r+1's). Both are stable: rows
 * with equal keys keep their input order (the global input order being rank 0's rows, then rank 1's, ...).
 * The distributed sort ties every row to its global input position, so even a key shared by all rows is spread
 * evenly over the ranks instead of landing on one.
 * Keys: any column type, ascending or descending, nulls first or last. DICT columns compare by their strings,
 * STRING bytewise, FLOAT64 with NaN greater than every number (as DuckDB). */
#ifndef TS_SORT_H
#define TS_SORT_H

#include "ts_ctx.h"
#include "ts_sort_local.h"

/* Collective sample sort of the distributed table *t (replaced in place on every rank). */
ts_err ts_sort_distributed_by(ts_ctx *ctx, ts_table **t, const ts_sort_key *keys, int nkeys);

/* The k first rows of the distributed table in key order, on rank 0 (other ranks get an empty table), without
 * sorting everything: each rank keeps its local top k with a bounded heap, then rank 0 merges P * k rows. */
ts_err ts_top_k(ts_ctx *ctx, const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t k, ts_table **out);

/* Collective: every rank gets every rank's rows of t, in rank order, in *out (new, caller frees). */
ts_err ts_sort_allgather(ts_ctx *ctx, const ts_table *t, ts_table **out);

/* Range partitioning: dest[i] = the number of rows of splitters (sorted under keys, P - 1 rows) that are not
 * greater than row i of t. Local. */
ts_err ts_sort_dest(const ts_table *t, const ts_table *splitters, const ts_sort_key *keys, int nkeys, int32_t *dest);

/* Shorthand: ascending, nulls first. */
ts_err ts_sort_distributed(ts_ctx *ctx, ts_table **t, const char *const *keys, int nkeys);

#endif
