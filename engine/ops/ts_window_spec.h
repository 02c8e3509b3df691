/* Window-function specifications and their semantics, shared by the distributed operator (dist/ts_window.h) and
 * the per-partition kernels (ops/ts_window_eval.h).
 *
 * Semantics (SQL, DuckDB where SQL leaves a choice):
 * - PARTITION BY: any column types; NULL keys form one partition (per key tuple, as GROUP BY). FLOAT64 keys:
 *   -0 == +0, all NaNs one partition. At most TS_KEY_COLS_MAX (1024) columns.
 * - ORDER BY: ts_sort_local.h keys (desc, nulls_last; DICT by string, STRING bytewise, NaN above every number), at
 *   most 7 keys. Peers are rows with equal ORDER BY values (NULLs are peers of each other); without ORDER BY all
 *   rows of a partition are peers. The order among peers is unspecified (it depends on the number of ranks),
 *   so ROW_NUMBER, NTILE, LAG/LEAD and ROWS frames are only deterministic when the ORDER BY keys are unique.
 * - Default frame: without ORDER BY the whole partition; with ORDER BY, RANGE BETWEEN UNBOUNDED PRECEDING AND
 *   CURRENT ROW (the current row's peers included: LAST_VALUE is then the last peer, as in DuckDB).
 *   Explicit frames: ROWS with UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING, UNBOUNDED FOLLOWING
 *   (n >= 0); RANGE only with UNBOUNDED and CURRENT ROW bounds (CURRENT ROW meaning the peer group). A frame
 *   whose end precedes its start is empty. The frame applies to FIRST/LAST_VALUE, COUNT, SUM, AVG, MIN, MAX;
 *   ranking functions and LAG/LEAD ignore it.
 * - Ranking: ROW_NUMBER 1..n; RANK (1 + rows before the peer group); DENSE_RANK; PERCENT_RANK (rank-1)/(n-1),
 *   0 when n = 1; CUME_DIST (rows up to the end of the peer group) / n; NTILE(k): buckets 1..k, the first n % k
 *   buckets one row larger (with offset_col, k of each row: the bucket row r would have with that k; NULL k
 *   gives NULL). All INT64 except PERCENT_RANK and CUME_DIST (FLOAT64).
 * - LAG/LEAD(x, offset, default): x of the row `offset` rows before/after in the partition's order (a negative
 *   offset looks the other way: lead(x, -1) = lag(x, 1)), NULL x included; outside the partition, default_col's
 *   value at the current row (NULL without default_col). Keeps x's type. With offset_col each row has its own
 *   offset (DuckDB's lag(x, expr)); a NULL offset gives NULL, not the default.
 * - FIRST_VALUE/LAST_VALUE(x): x at the first/last row of the frame (NULLs respected); NULL for an empty frame.
 * - COUNT(*) rows of the frame, COUNT(x) non-null values -> INT64 (0 for an empty frame).
 * - SUM(x), AVG(x), MIN(x), MAX(x): NULLs skipped; NULL when the frame has no value.
 *   SUM of BOOL/INT32/INT64 -> INT64 and of DECIMAL -> DECIMAL (same scale), exact (overflow of the result is an
 *   error); of FLOAT64 -> FLOAT64, compensated (within a few roundings of the exact frame sum; inf/NaN as IEEE).
 *   AVG -> FLOAT64 (integers summed exactly and divided once; DECIMAL in units). MIN/MAX of any type keep it
 *   (DICT compares strings, NaN is the largest float).
 *
 * Output: every column of the input plus one column per function, in spec order (with topk: see below). Rows are partitioned by the
 * hash of the partition keys (all on rank 0 without PARTITION BY); their order is unspecified (in practice
 * sorted by partition, then ORDER BY). DICT columns keep their dictionary. */
#ifndef TS_WINDOW_SPEC_H
#define TS_WINDOW_SPEC_H

#include "ts_sort_local.h"
#include "ts_table.h"

typedef enum {
    TS_WIN_ROW_NUMBER,
    TS_WIN_RANK,
    TS_WIN_DENSE_RANK,
    TS_WIN_PERCENT_RANK,
    TS_WIN_CUME_DIST,
    TS_WIN_NTILE,
    TS_WIN_LAG,
    TS_WIN_LEAD,
    TS_WIN_FIRST_VALUE,
    TS_WIN_LAST_VALUE,
    TS_WIN_COUNT,
    TS_WIN_SUM,
    TS_WIN_AVG,
    TS_WIN_MIN,
    TS_WIN_MAX
} ts_window_kind;

typedef enum {
    TS_FRAME_UNBOUNDED_PRECEDING,
    TS_FRAME_PRECEDING, /* n PRECEDING */
    TS_FRAME_CURRENT_ROW,
    TS_FRAME_FOLLOWING, /* n FOLLOWING */
    TS_FRAME_UNBOUNDED_FOLLOWING
} ts_frame_bound;

typedef struct ts_window_frame {
    int rows;                     /* 1: ROWS; 0: RANGE (UNBOUNDED and CURRENT ROW bounds only: peer groups) */
    ts_frame_bound start, end;    /* start may not be UNBOUNDED FOLLOWING, end not UNBOUNDED PRECEDING */
    int64_t start_n, end_n;       /* n of n PRECEDING / n FOLLOWING (>= 0) */
} ts_window_frame;

typedef struct ts_window_fn {
    ts_window_kind kind;
    const char *input;       /* column; NULL for COUNT(*); ignored by the ranking functions */
    const char *output;      /* name of the new column (must not exist in the table) */
    int64_t offset;          /* LAG/LEAD: rows (the SQL default is 1); NTILE: buckets (>= 1) */
    const char *offset_col;  /* LAG/LEAD/NTILE: INT64 column giving the offset / bucket count of each row instead
                                of `offset` (a NULL row gives a NULL result; NTILE: a count < 1 is an error) */
    const char *default_col; /* LAG/LEAD: column (same type as input) giving the value when the offset row is
                                outside the partition; NULL: SQL NULL */
    int has_frame;           /* 0: the SQL default frame (see above) */
    ts_window_frame frame;
} ts_window_fn;

typedef struct ts_window_spec {
    const char *const *partition; /* PARTITION BY columns (0..8) */
    int npartition;
    const ts_sort_key *order;     /* ORDER BY keys (0..7) */
    int norder;
    const ts_window_fn *fns;      /* functions, all over this one window */
    int nfns;
    /* topk > 0: a filter `fn <= topk` over ranking function topk_fn (ROW_NUMBER, RANK or DENSE_RANK) follows, so
     * rows whose number would exceed topk are not needed: they are dropped before and after the exchange
     * (ops/ts_topk_group.h), and the output holds only a superset of the rows that pass, each with its exact
     * numbers. Every function must then be a ranking one (ROW_NUMBER, RANK, DENSE_RANK), with ORDER BY. */
    int64_t topk;
    int topk_fn;
} ts_window_spec;

#endif
