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
#include "ts_op.h"
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
    /* the pipelined executor's operator profile of the statement, in the order the operators ran (the same on
     * every rank): --profile prints it, EXPLAIN ANALYZE sums it per plan node */
    struct ts_sql_op_prof { char kind[24]; char label[192]; ts_prof prof; ts_sql_plan *node; int output; } *prof;
    int nprof, cap_prof;
    /* optional: called with each input file a table function binds (checkpoints fingerprint them) */
    void (*on_input)(void *arg, const char *path);
    void *on_input_arg;
} ts_sql_exec;

/* Runs plan p; *out is a new table owned by the caller with columns named by the plan's ids (a view of a
 * catalog table is copied). Collective. Runs on the pipelined executor (ts_sql_physical.c) unless
 * TESSERA_EXECUTOR=classic selects the node-at-a-time one below. */
ts_err ts_sql_exec_plan(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);

/* The global size in bytes below which a join's build side is broadcast rather than both sides shuffled by key
 * hash: TESSERA_BROADCAST_LIMIT (bytes; 0: always shuffle, which the tests use to run the shuffle paths on small
 * data), else 0 meaning the join operators' default (64 MiB). *strategy: the matching ts_join_strategy. */
int64_t ts_sql_broadcast_limit(int *strategy);

/* ---- the pipelined executor (ts_sql_physical.c) ---- */

/* 1 when plans run on pipelines: TESSERA_EXECUTOR=pipeline or unset; 0 for TESSERA_EXECUTOR=classic. */
int ts_sql_pipelined(void);
/* Runs plan p (its scalar subqueries already run) as pipelines of physical operators; the same contract as
 * ts_sql_exec_plan. Node kinds without a pipelined form run on the node executor (ts_sql_exec_kind) over
 * materialised inputs. Collective. */
ts_err ts_sql_exec_pipelined(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);
/* 0 when plan p has a part the pipelines do not run exactly as the node executor does, so the whole statement runs
 * on the node executor: DELIM joins (decorrelated subqueries), and nodes wider than a chunk's TS_MAX_COLS columns.
 * (Joins with NULL-matching keys, NOT IN, RIGHT / FULL or cross joins, keys of different types, and aggregates the
 * streaming operators lack run node by node on the node executor inside pipelined plans.) */
int ts_sql_physical_supports(const ts_sql_plan *p);
/* The node executor's implementation of p's kind over materialised inputs (consumed: unary nodes take in0,
 * binary ones both; sources none); *out new. Errors are collective. */
ts_err ts_sql_exec_kind(ts_sql_exec *x, ts_sql_plan *p, ts_table *in0, ts_table *in1, ts_table **out);
/* A WINDOW node's preparation of its (owned) input rows before ts_window: lag/lead defaults cast to their input's
 * type. Also run on each batch of the spilling window (sql/ts_sql_physical.c). */
ts_err ts_sql_window_prepare(const ts_sql_plan *p, ts_table *t);

/* Aggregations: the engine aggregates of an AGGREGATE node, with a COUNT beside each SUM whose input may be NULL
 * (nullable[i], p->naggs entries) or is filtered, so that SQL's "SUM of no values is NULL" can be restored by
 * ts_sql_agg_fixup. Any number of aggregates: the arrays are allocated (ts_sql_agg_setup_free frees them); keys
 * points into the plan. */
typedef struct ts_sql_agg_setup {
    const char *const *keys;
    ts_agg *aggs;
    int naggs, *fix, nfix;
    char (*count_names)[TS_SQL_ID_MAX];
} ts_sql_agg_setup;
ts_err ts_sql_agg_prepare(const ts_sql_plan *p, const uint8_t *nullable, ts_sql_agg_setup *a);
void ts_sql_agg_setup_free(ts_sql_agg_setup *a);
/* An aggregation error located at the aggregate it is about and naming it as written ("avg(amount): the sum
 * overflows int64"), not by its plan id or a partial-state column; others are located at the node. */
ts_err ts_sql_agg_error(const ts_sql_exec *x, const ts_sql_plan *p, ts_err err);
/* Applies SQL's rules to an aggregation result: NULL sums where no value counted (the helper counts are then
 * dropped), at most one row per group for a scalar subquery (p->single_count), and one row for an aggregation
 * without GROUP BY over no rows. Collective. */
ts_err ts_sql_agg_fixup(ts_sql_exec *x, const ts_sql_plan *p, const ts_sql_agg_setup *a, ts_table *res);

/* ---- profile of the statement's operators (filled by the pipelined executor; --profile prints them) ---- */
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
/* Re-raises the current error at pos (the message gets the line, column and caret, plan ids read as names), unless
 * its message names a place already (it was located where it was raised, maybe on another rank) or pos is unknown.
 * Returns err. */
ts_err ts_sql_located(const ts_sql_exec *x, ts_sql_pos pos, ts_err err);
/* Copies an engine message with the plan's column ids ("amount#7") turned back into names ("amount"). */
void ts_sql_user_message(const char *in, char *out, size_t cap);
/* A one-row table on rank 0 (no rows elsewhere) with a single hidden column, for constant expressions. */
ts_err ts_sql_one_row(ts_sql_exec *x, int all_ranks, ts_table **out);

#endif
