/* The optimizer: rewrites a bound plan before it runs. Filters move down to the inputs they read (through
 * projections, sorts and joins; a filter equating both sides of a cross join becomes its join key), and columns no
 * node above needs are pruned from projections, aggregates and scans (read_csv then skips their fields).
 * Internal to sql/; per rank and deterministic, so every rank makes the same plan. */
#ifndef TS_SQL_OPT_H
#define TS_SQL_OPT_H

#include "ts_sql_bind.h"

ts_err ts_sql_optimize(ts_sql_binder *b, ts_sql_plan **root);

#endif
