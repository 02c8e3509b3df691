/* Distinct rows on chosen columns (collective): keeps one row per distinct value of `cols`, the first in input
 * order, or the one with the smallest (keep = TS_KEEP_FIRST) or largest (TS_KEEP_LATEST) value of an ordering
 * column; ties in the ordering column go to the earlier input row. NULLs are equal to each other here (SQL
 * DISTINCT semantics). Rows are hash-partitioned on cols first, so each distinct value is decided on one rank.
 * The output is partitioned by the hash of cols, in input order within each rank; sort it for a defined order. */
#ifndef TS_DISTINCT_H
#define TS_DISTINCT_H

#include "ts_ctx.h"
#include "ts_table.h"

typedef enum { TS_KEEP_FIRST, TS_KEEP_LATEST } ts_keep;

typedef struct ts_distinct_spec {
    const char *const *cols; /* the columns that define "the same row" */
    int ncols;
    const char *order;       /* optional ordering column (integer-like, DATE or FLOAT64); NULL: input order */
    ts_keep keep;
} ts_distinct_spec;

/* Replaces *t (collectively) by its distinct rows. *removed, when not NULL, receives the number of rows dropped
 * on this rank. */
ts_err ts_distinct(ts_ctx *ctx, ts_table **t, const ts_distinct_spec *spec, int64_t *removed);

#endif
