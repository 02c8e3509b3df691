/* Scalar expressions over a table's columns, evaluated in vectors of TS_EXPR_VECTOR rows.
 *
 * Jobs (and the SQL front-end to come) describe computed columns and filters as expression trees; the engine
 * binds them to a table (resolving column names and result types) and evaluates them a vector at a time into
 * typed columns, so per-row work is tight loops over arrays, never an interpreter dispatch per row.
 *
 * Types: BOOL, INT64 (INT32 columns widen), FLOAT64, DATE, and DICT columns compared with string constants
 * (the constant becomes a dictionary code at bind time). NULL propagates through every operator except IS NULL,
 * COALESCE and the three-valued AND / OR (SQL semantics). Floating division follows IEEE 754: x / 0 is +-inf and
 * 0 / 0 is NaN (domain.md's averages rely on it); the SQL layer adds NULLIF where SQL wants NULL.
 *
 * Ownership: builders return a new node that owns its children; ts_expr_free frees a whole tree. A builder given
 * a NULL child returns NULL (so nested builder calls need one NULL check), and so does an allocation failure. */
#ifndef TS_EXPR_H
#define TS_EXPR_H

#include "ts_table.h"

#define TS_EXPR_VECTOR 2048

typedef enum {
    TS_X_COL,
    TS_X_INT,
    TS_X_FLOAT,
    TS_X_STRING,
    TS_X_EQ, TS_X_NE, TS_X_LT, TS_X_LE, TS_X_GT, TS_X_GE,
    TS_X_AND, TS_X_OR, TS_X_NOT,
    TS_X_ADD, TS_X_SUB, TS_X_MUL, TS_X_DIV,
    TS_X_IS_NULL,
    TS_X_COALESCE,
    TS_X_TO_FLOAT,    /* cast to FLOAT64 (DECIMAL keeps its scale: 1523050 at scale 2 -> 15230.50) */
    TS_X_MONTH_START, /* DATE -> DATE of the month's first day */
    TS_X_YEAR,        /* DATE -> INT64 */
    TS_X_MONTH,       /* DATE -> INT64 1..12 */
    TS_X_DAY          /* DATE -> INT64 1..31 */
} ts_expr_op;

typedef struct ts_expr ts_expr;

ts_expr *ts_x_col(const char *name);
ts_expr *ts_x_int(int64_t v);
ts_expr *ts_x_float(double v);
ts_expr *ts_x_string(const char *s);
/* Unary operators take b = NULL. */
ts_expr *ts_x_op(ts_expr_op op, ts_expr *a, ts_expr *b);
void ts_expr_free(ts_expr *e);

/* Evaluates e over every row of t into a new column `name` (caller owns it; add it with ts_table_adopt).
 * Errors (unknown column, type mismatch) name the expression's column and operator. */
ts_err ts_expr_eval(const ts_expr *e, const ts_table *t, const char *name, ts_column **out);

/* Evaluates a BOOL expression and returns the rows where it is true (not false, not NULL) in *rows
 * (ts_free), *n of them, ascending. */
ts_err ts_expr_select(const ts_expr *e, const ts_table *t, int64_t **rows, int64_t *n);

#endif
