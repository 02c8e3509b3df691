/* Cardinality estimation: rows and column statistics (distinct values, NULL fraction, range, width) of every plan
 * node, from the statistics gathered when catalog tables were created (ts_sql_catalog_analyze) or from a CSV
 * scan's sample, propagated through filters (selectivities), projections, aggregations and joins. Internal to
 * sql/; deterministic per rank.
 *
 * Selectivities (the classic System R rules, with DuckDB's defaults where a statistic is missing):
 *   col = const 1/ndv; col <> const 1 - 1/ndv; ranges and BETWEEN from min/max (uniform); IN (k values) k/ndv;
 *   LIKE 0.1 (exact pattern: 1/ndv); IS NULL the NULL fraction; a = b 1/max(ndv); AND multiplies with
 *   exponential backoff (s1 * s2^1/2 * s3^1/4 ..., most selective first: conjuncts are rarely independent);
 *   OR 1 - prod(1 - s); anything else 0.25.
 * Joins: |L| |R| / max(ndv_L(k), ndv_R(k)) with a composite key's ndv the product of its columns' capped at the
 * side's rows; semi joins keep the matching fraction of the left side's key values (containment). */
#ifndef TS_SQL_STATS_H
#define TS_SQL_STATS_H

#include "ts_sql_bind.h"

/* Statistics of column id as seen by the caller (callbacks let the join enumerator look across its relations). */
typedef const ts_sql_colstat *(*ts_sql_stat_fn)(const char *id, void *arg);

/* Fills est_rows and stats of every node of p's subtree. */
ts_err ts_sql_estimate(ts_sql_binder *b, ts_sql_plan *p);
/* Statistics of output column id of an estimated node (NULL when it has none). */
const ts_sql_colstat *ts_sql_stat_of(const ts_sql_plan *p, const char *id);
/* Selectivity of condition e, its columns' statistics given by fn. */
double ts_sql_selectivity(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg);
/* Selectivity of an equi-join on key pairs (left[k], right[k]) between inputs of lrows and rrows rows. */
double ts_sql_join_selectivity(char *const *left, char *const *right, int nkeys, ts_sql_stat_fn fn, void *arg,
                               double lrows, double rrows);
/* Estimated bytes of a node's output (rows times the columns' widths). */
double ts_sql_est_bytes(const ts_sql_plan *p);
/* A constant's numeric value (numbers, dates as days, arithmetic of constants): 1 when it has one. */
int ts_sql_const_value(const ts_sql_expr *e, double *v);

#endif
