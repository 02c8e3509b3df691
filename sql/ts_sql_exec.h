/* The executor: runs a logical plan (ts_sql_plan.h) bottom-up with the engine's operators, on every rank.
 * Internal to sql/. Collective: every rank executes the same plan; errors agree across ranks after each node.
 *
 * Tables flowing between nodes are either owned (operator outputs: the next node may consume or modify them)
 * or views (borrowed columns, e.g. a catalog table under the plan's column ids): nodes that modify rows in place
 * copy a view first. Columns that views point to but no table owns (renamed catalog columns, columns computed
 * over a view) are kept in the executor's pool until ts_sql_exec_release. */
#ifndef TS_SQL_EXEC_H
#define TS_SQL_EXEC_H

#include "ts_ctx.h"
#include "ts_sql_catalog.h"
#include "ts_sql_plan.h"

typedef struct ts_sql_exec {
    ts_ctx *ctx;
    ts_sql_catalog *catalog;
    const ts_sql_script *src;   /* for error locations */
    int analyze;                /* record global rows and time per node (EXPLAIN ANALYZE, --profile) */
    int quiet;                  /* no warnings */
    /* the pool: what views point to and nothing else owns (columns, tables, parsed rules), freed by
     * ts_sql_exec_release as calls fn(arg) */
    struct ts_sql_deferred { void (*fn)(void *); void *arg; } *deferred;
    int ndeferred, cap_deferred;
} ts_sql_exec;

/* Runs plan p; *out is a new table owned by the caller with columns named by the plan's ids (a view of a
 * catalog table is copied). Collective. */
ts_err ts_sql_exec_plan(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);
/* Frees the executor's pool (call after the statement's result is no longer needed). */
void ts_sql_exec_release(ts_sql_exec *x);

/* ---- shared with the sources and the expression compiler ---- */

/* Takes ownership of c (freed by ts_sql_exec_release). */
ts_err ts_sql_exec_keep(ts_sql_exec *x, ts_column *c);
ts_err ts_sql_exec_keep_table(ts_sql_exec *x, ts_table *t);
/* Calls fn(arg) when the executor is released (objects a plan points to, e.g. parsed rules); on failure to record
 * it, calls it now. */
ts_err ts_sql_exec_defer(ts_sql_exec *x, void (*fn)(void *), void *arg);
/* A view of src's columns under new names (names[i] for column cols[i]); the renamed column structs live in the
 * pool. */
ts_err ts_sql_exec_rename_view(ts_sql_exec *x, const ts_table *src, const int *cols, char *const *names, int n,
                               ts_table **out);
/* Compiles a bound expression to an engine expression (ts_expr.h); *out is new (ts_expr_free). */
struct ts_expr;
ts_err ts_sql_compile(const ts_sql_exec *x, const ts_sql_expr *e, struct ts_expr **out);

/* 1 when a bound expression reads no column, subquery, aggregate or window call: its value is known at bind time. */
int ts_sql_is_constant(const ts_sql_expr *e);
/* A constant's value, evaluated by the engine (every SQL operator and function, so `1+1`, `-1`, `1/4`,
 * `CAST('2' AS INT)` all work) and cast to type (INT64, FLOAT64 or BOOL; the cast's own rules: 1.5 -> 2).
 * what ("the lag offset") names the argument in errors: not a constant (TS_ERR_USAGE), or a value that does not
 * cast (TS_ERR_DATA), both located at e. Per rank, no communication. */
typedef struct ts_sql_value {
    int is_null;
    int64_t i; /* INT64, BOOL */
    double f;  /* FLOAT64 */
} ts_sql_value;
ts_err ts_sql_eval_constant(const ts_sql_script *src, const ts_sql_expr *e, ts_type type, const char *what,
                            ts_sql_value *out);
/* Runs the plan's scalar subqueries and replaces each by its value (a constant). Collective. */
ts_err ts_sql_run_subqueries(ts_sql_exec *x, ts_sql_plan *p);
/* Copies an engine message with the plan's column ids ("amount#7") turned back into names ("amount"). */
void ts_sql_user_message(const char *in, char *out, size_t cap);
/* A one-row table on rank 0 (no rows elsewhere) with a single hidden column, for constant expressions. */
ts_err ts_sql_one_row(ts_sql_exec *x, int all_ranks, ts_table **out);

#endif
