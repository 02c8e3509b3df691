/* The binder: syntax trees to logical plans (ts_sql_plan.h). Resolves names (tables, views, CTEs, columns with
 * their qualifiers, "did you mean" hints), expands *, finds aggregates and window functions and splits a SELECT
 * block into the plan nodes that compute them, turns IN / EXISTS subqueries into semi and anti joins and JOIN ON
 * conditions into key pairs. Internal to sql/.
 *
 * Collective only where a source must be inspected to know its columns (read_csv infers its schema on rank 0
 * and broadcasts it; read_h5 reads the file's column list): every rank binds the same statements in order. */
#ifndef TS_SQL_BIND_H
#define TS_SQL_BIND_H

#include "ts_ctx.h"
#include "ts_sql_catalog.h"
#include "ts_sql_plan.h"

typedef struct ts_sql_scope ts_sql_scope;

typedef struct ts_sql_cte_ref {
    const ts_sql_cte *cte;
    const ts_sql_script *src;
} ts_sql_cte_ref;

typedef struct ts_sql_binder {
    ts_ctx *ctx;
    ts_sql_script *script;      /* owns everything the binder allocates */
    const ts_sql_script *src;   /* the text errors point into (a view's own script while binding the view) */
    ts_sql_catalog *catalog;
    int next_id;
    ts_sql_cte_ref *ctes;       /* the CTEs in scope (a stack, grown in the script's arena) */
    int nctes, cap_ctes;
    int depth;                  /* views / CTEs being expanded (guards against a view referring to itself) */
    struct ts_sql_exec *exec;   /* keeps tables read while binding (read_h5) until the statement ends */
    const ts_sql_expr **marks;  /* `x IN (subquery)` used as a value: the syntax node ... */
    ts_sql_expr **mark_values;  /* ... and the bound expression computing it over a mark join's output */
    int nmarks;
} ts_sql_binder;

/* Binds a query into *out (in the script's arena). Errors point at the offending token. */
ts_err ts_sql_bind_query(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out);

/* ---- shared between the binder's files ---- */

struct ts_sql_scope {
    ts_sql_col *cols;
    int ncols;
    const ts_sql_scope *outer;  /* enclosing query (correlated subqueries) */
    /* select-list aliases HAVING and QUALIFY may use (DuckDB): a name no column has resolves to its item */
    const char *const *alias_names;
    ts_sql_expr *const *alias_exprs;
    int naliases;
};

ts_sql_plan *ts_sql_plan_new(ts_sql_binder *b, ts_sql_plan_kind kind, ts_sql_pos pos, int ncols);
/* A new unique column id derived from a display name. */
void ts_sql_new_id(ts_sql_binder *b, const char *name, char id[TS_SQL_ID_MAX]);
/* A bound column reference to id. */
ts_sql_expr *ts_sql_ref(ts_sql_binder *b, const char *id, ts_sql_pos pos);
/* Resolves names in e against scope: a new tree whose COLUMN nodes hold ids. Aggregate and window calls are kept
 * as FUNC nodes (the SELECT binder lifts them out). Subqueries are bound here (IN / EXISTS plans hang in
 * subplan). */
ts_err ts_sql_bind_expr(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out);
/* 1 when two bound trees compute the same thing. */
int ts_sql_expr_equal(const ts_sql_expr *a, const ts_sql_expr *b);
/* Calls fn(id, arg) for every column id the tree reads. */
void ts_sql_expr_refs(const ts_sql_expr *e, void (*fn)(const char *id, void *arg), void *arg);
/* 1 when every column the tree reads is among cols. */
int ts_sql_expr_within(const ts_sql_expr *e, const ts_sql_col *cols, int ncols);
/* Aggregate and window function names. */
int ts_sql_is_aggregate(const char *name);
int ts_sql_is_window_only(const char *name);
/* The output name SQL gives an unnamed select item ("sum(v1)" -> "sum(v1)", a column -> its name). */
void ts_sql_item_name(const ts_sql_expr *e, char name[TS_SQL_NAME_MAX]);
/* The text of a bound expression with its column ids shown as the names of cols (their id's name elsewhere):
 * "avg(amount)" for messages. */
void ts_sql_expr_text(const ts_sql_expr *e, const ts_sql_col *cols, int ncols, char *buf, size_t cap);
/* Splits an AND tree into its conjuncts (appended to *out, grown in the arena). */
void ts_sql_conjuncts(ts_sql_binder *b, ts_sql_expr *e, ts_sql_expr ***out, int *n);

/* FROM items (ts_sql_bind_from.c). */
ts_err ts_sql_bind_from(ts_sql_binder *b, const ts_sql_from *f, const ts_sql_scope *outer, ts_sql_plan **out);

#endif
