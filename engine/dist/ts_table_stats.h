/* Column statistics of a distributed table, for the SQL planner's cardinality estimates: rows, NULLs, distinct
 * values (a HyperLogLog sketch per rank, merged across ranks: about 1.6 % error), min/max of ordered types and the
 * average width. Collective: every rank passes its part and receives the global figures. One pass over the
 * columns, no allocation per row. */
#ifndef TS_TABLE_STATS_H
#define TS_TABLE_STATS_H

#include "ts_ctx.h"
#include "ts_table.h"

typedef struct ts_col_stats {
    int64_t rows, nulls;
    double ndv;        /* distinct non-NULL values (estimate; exact below ~100) */
    int has_range;     /* min/max hold (numbers, decimals in units, dates as days since 1970-01-01, booleans) */
    double min, max;
    double width;      /* average bytes per value (strings: payload; fixed types: their width) */
} ts_col_stats;

/* out[c] for every column c of t (out has t->ncols entries). */
ts_err ts_table_stats(ts_ctx *ctx, const ts_table *t, ts_col_stats *out);

#endif
