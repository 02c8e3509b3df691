/* Hash aggregation on one rank: groups rows by integer-like key columns and computes aggregates per group.
 * On P ranks it is the final phase of a distributed aggregation: exchange the rows (or partial states) by the
 * group keys first, so each group lives on one rank. Output rows come in order of first appearance; sort them
 * for a defined order. */
#ifndef TS_AGGREGATE_H
#define TS_AGGREGATE_H

#include "ts_table.h"

typedef enum {
    TS_AGG_COUNT,          /* rows (with `where`: rows where it is true) -> INT64 */
    TS_AGG_SUM,            /* exact sum of an integer-like column -> INT64 (DECIMAL keeps its scale);
                              overflow is an error */
    TS_AGG_MIN,
    TS_AGG_MAX,            /* of an integer-like column -> its type */
    TS_AGG_COUNT_DISTINCT, /* distinct non-null values of an integer-like column -> INT64 */
    TS_AGG_MEAN            /* mean of the non-null values -> FLOAT64 (NULL for a group without any). Integer-like
                              inputs are summed exactly and divided once (DECIMAL by its scale too), so the result
                              does not depend on row order; FLOAT64 inputs use compensated summation */
} ts_agg_kind;

typedef struct ts_agg {
    ts_agg_kind kind;
    const char *input;  /* column (ignored for COUNT) */
    const char *where;  /* optional BOOL column: only rows where it is 1 count; NULL = all rows */
    const char *output; /* output column name */
} ts_agg;

/* *out (new; caller frees) has the key columns, then one column per aggregate. Nulls in inputs are skipped. */
ts_err ts_hash_aggregate(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                         const char *name, ts_table **out);

#endif
