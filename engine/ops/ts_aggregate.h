/* Hash aggregation on one rank: groups rows by key columns of any type and computes aggregates per group.
 * On P ranks it is the final phase of a distributed aggregation (engine/dist/ts_aggregate_dist.h): the rows, or the
 * partial states of ts_aggregate_partial, are exchanged by the group keys first, so each group lives on one rank.
 * Output rows come in order of first appearance; sort them for a defined order.
 *
 * Semantics (SQL, DuckDB where SQL leaves a choice):
 * - Keys: any type; STRING compares bytes, FLOAT64 compares values (-0 == +0, all NaNs one group). NULL keys form
 *   their own group. Without keys (nkeys == 0) all rows form one group; no rows give no group.
 * - Aggregates skip rows whose input (or order) is NULL and rows where `where` is not true.
 * - NaN is greater than every number, +inf included (DuckDB's order), for MIN, MAX, orderings and quantiles.
 * - Exactness: integer-like inputs are summed exactly (int64 for SUM and MEAN, 128-bit moments for variances),
 *   so results do not depend on row order or on the number of ranks; overflow is an error. FLOAT64 sums are
 *   compensated (within one rounding of the exact sum); float variances use Welford / Chan (relative error of a
 *   few roundings, order-dependent in the last bits). */
#ifndef TS_AGGREGATE_H
#define TS_AGGREGATE_H

#include "ts_table.h"

typedef enum {
    TS_AGG_COUNT,          /* input NULL: rows (count(*)); else rows with a non-null input (count(col)) -> INT64 */
    TS_AGG_SUM,            /* integer-like: exact sum -> INT64 (DECIMAL keeps its scale), overflow is an error;
                              FLOAT64: Neumaier-compensated sum -> FLOAT64. 0 for a group without values */
    TS_AGG_MIN,
    TS_AGG_MAX,            /* of any type -> its type (DICT compares its strings, STRING bytes); NULL when none */
    TS_AGG_COUNT_DISTINCT, /* distinct non-null values (any type, exact) -> INT64 */
    TS_AGG_MEAN,           /* mean of the non-null values -> FLOAT64 (NULL for a group without any). Integer-like
                              inputs are summed exactly and divided once (DECIMAL by its scale too), so the result
                              does not depend on row order; FLOAT64 inputs use compensated summation */
    TS_AGG_VAR_SAMP,       /* variances and standard deviations -> FLOAT64; NULL when fewer than 2 values */
    TS_AGG_VAR_POP,        /* (sample) or none (population). DECIMAL results are in units, not scaled units */
    TS_AGG_STDDEV_SAMP,
    TS_AGG_STDDEV_POP,
    TS_AGG_QUANTILE,       /* exact continuous quantile at q = param in [0, 1] (DuckDB quantile_cont) -> FLOAT64;
                              NULL for a group without values. Not decomposable: exchanges rows */
    TS_AGG_MEDIAN,         /* QUANTILE at 0.5 (param ignored) */
    TS_AGG_FIRST,          /* value of the first row with a non-null input: in row order, or with `order` the row */
    TS_AGG_LAST,           /* with the smallest (FIRST) / largest (LAST) non-null order value, ties -> the earliest
                              row. Row order on P ranks is global: rank 0's rows, then rank 1's, ... */
    TS_AGG_COVAR_POP,      /* of the pairs (input, order) where both are non-null; numeric inputs (integer-like
                              and DECIMAL by value) -> FLOAT64. Welford co-moments, merged with Chan's formula */
    TS_AGG_COVAR_SAMP,     /* covar_pop: NULL without pairs; covar_samp: NULL for fewer than 2 */
    TS_AGG_CORR            /* Pearson's correlation; NULL without pairs, NaN when either input is constant (DuckDB) */
} ts_agg_kind;

/* The last kind (validity checks). */
#define TS_AGG_KIND_MAX TS_AGG_CORR


typedef struct ts_agg {
    ts_agg_kind kind;
    const char *input;  /* column (NULL for count(*)) */
    const char *where;  /* optional BOOL column: only rows where it is 1 count; NULL = all rows */
    const char *output; /* output column name */
    double param;       /* QUANTILE: q */
    const char *order;  /* FIRST/LAST: optional ordering column (any type); COVAR_* / CORR: the second argument (y;
                           input is x), required */
} ts_agg;

/* *out (new; caller frees) has the key columns, then one column per aggregate. */
ts_err ts_hash_aggregate(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                         const char *name, ts_table **out);

/* ---- two-phase building blocks (used by ts_aggregate_distributed) -------------------------------------- */

/* 1 when every aggregate can be computed from per-group partial states (all but QUANTILE, MEDIAN and
 * COUNT_DISTINCT). */
int ts_agg_decomposable(const ts_agg *aggs, int naggs);

/* Partial states: *out (new; caller frees) holds the key columns and, per aggregate a, state columns named
 * "__p<a>_<field>" (an internal format: only ts_aggregate_merge reads it). row_base is the global position of
 * row 0 of `in` (FIRST/LAST break ties and follow row order by global position). Aggregates must be
 * decomposable. */
ts_err ts_aggregate_partial(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                            int64_t row_base, const char *name, ts_table **out);

/* Merges partial states (any number of rows per group, e.g. the union over ranks) and finalizes: *out (new;
 * caller frees) is what ts_hash_aggregate would have produced from the union of the original rows. */
ts_err ts_aggregate_merge(const ts_table *partial, const char *const *keys, int nkeys, const ts_agg *aggs,
                          int naggs, const char *name, ts_table **out);

#endif
