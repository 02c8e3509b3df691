/* Sorting. ts_sort_local orders one rank's rows; ts_sort_distributed is a sample sort: after it, rank r holds
 * the r-th slab of the global order (all of rank r's rows sort before rank r+1's). Both are stable.
 * Keys: any column type; DICT columns compare by their strings; nulls sort first. */
#ifndef TS_SORT_H
#define TS_SORT_H

#include "ts_ctx.h"
#include "ts_table.h"

/* Replaces *t by a sorted copy (the old table is freed) and records the sort keys. Per rank. */
ts_err ts_sort_local(ts_table **t, const char *const *keys, int nkeys);

/* Collective sample sort of the distributed table *t (replaced in place on every rank). */
ts_err ts_sort_distributed(ts_ctx *ctx, ts_table **t, const char *const *keys, int nkeys);

#endif
