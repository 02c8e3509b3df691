/* Pivot a long table (key columns, a name column, a value column) into a wide one: one row per distinct key
 * tuple (in order of first appearance), one FLOAT64 column per requested name, NULL where the long table has no
 * such (key, name) row. A (key, name) pair given twice is an error naming it. Per rank. */
#ifndef TS_PIVOT_H
#define TS_PIVOT_H

#include "ts_table.h"

/* keys: integer-like columns (at most 2); name: a STRING column; value: a FLOAT64 column. *out is new. */
ts_err ts_pivot(const ts_table *in, const char *const *keys, int nkeys, const char *name, const char *value,
                const char *const *names, int nnames, ts_table **out);

#endif
