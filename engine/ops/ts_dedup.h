/* Duplicate removal on one rank: rows whose 128-bit content hash (two INT64 columns) equals an earlier row's,
 * where "earlier" means a smaller value in the order column, are removed. On P ranks, exchange first so that
 * equal rows meet on one rank (any partitioning on columns derived from the row content does). */
#ifndef TS_DEDUP_H
#define TS_DEDUP_H

#include "ts_table.h"

/* Moves the duplicate rows of t to *dups (new, in input order) and keeps, in place, the first row of each
 * content (in input order). Ties in the order column cannot happen when it is a unique position. */
ts_err ts_dedup(ts_table *t, const char *hash_lo, const char *hash_hi, const char *order_col, ts_table **dups);

#endif
