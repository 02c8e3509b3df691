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
    const ts_sql_scope *outer;  /* set while binding a subquery: the scope it is nested in (correlated names) */
    ts_sql_plan **pending;      /* dependent joins of subqueries bound inside expressions, waiting for the plan
                                   they attach to (ts_sql_attach_pending); a SELECT block attaches its own */
    int npending, cap_pending;
    ts_sql_expr **derived;      /* filters the optimizer derived (transitive, from ORs): each is added once */
    int nderived, cap_derived;
    const ts_sql_named_window *windows; /* the WINDOW clause of the SELECT block being bound, resolved */
    int nwindows;
} ts_sql_binder;

/* Binds a query into *out (in the script's arena). Errors point at the offending token. */
ts_err ts_sql_bind_query(ts_sql_binder *b, const ts_sql_query *q, ts_sql_plan **out);

/* ---- shared between the binder's files ---- */

/* Named windows (ts_sql_bind_window.c). ts_sql_bind_window_clause checks s's WINDOW clause (unique names,
 * references to earlier definitions, the rules of building on a window) and makes it the one OVER clauses
 * resolve against until the next call; the SELECT binder saves and restores it around a block.
 * ts_sql_resolve_window sets *out to w with its reference resolved: w itself when it has none, else a window
 * in the script's arena. Errors point at the offending name or clause. */
ts_err ts_sql_bind_window_clause(ts_sql_binder *b, const ts_sql_select *s);
ts_err ts_sql_resolve_window(ts_sql_binder *b, const ts_sql_window *w, const ts_sql_window **out);

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

/* Subqueries (ts_sql_bind_subquery.c). A subquery that reads no column of an enclosing query is planned alone:
 * a scalar one runs before the statement and becomes a constant, [NOT] IN becomes a semi (anti) join. Any other
 * becomes a dependent join (TS_P_DEPJOIN) of the plan it is evaluated over, which decorrelation later turns into
 * ordinary joins. */
/* Binds subquery expression e (SUBQUERY, EXISTS, IN_QUERY, QUANTIFIED) found in an expression over scope: *out
 * computes its value, possibly from the columns of a pending dependent join. */
ts_err ts_sql_bind_subquery(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out);
/* A WHERE conjunct [NOT] EXISTS (q) or x [NOT] IN (q): a semi or anti join of *plan, or *cond (not NULL) to filter
 * with instead (an uncorrelated EXISTS is a constant; a correlated NOT IN needs SQL's three-valued result). */
ts_err ts_sql_bind_where_subquery(ts_sql_binder *b, ts_sql_plan **plan, const ts_sql_scope *scope,
                                  const ts_sql_expr *e, int negated, ts_sql_expr **cond);
/* Attaches pending dependent joins pending[from..) to *plan, in order: all of them (needed == NULL) or those
 * whose value columns the expressions needed[0..nneeded) read. Their correlated columns must be columns of *plan
 * or of the scopes enclosing it (outer). */
ts_err ts_sql_attach_pending(ts_sql_binder *b, ts_sql_plan **plan, int from, ts_sql_expr *const *needed,
                             int nneeded, const ts_sql_scope *outer);
/* 1 when the syntax tree holds a subquery (not looking inside it). */
int ts_sql_has_subquery(const ts_sql_expr *e);

/* FROM items (ts_sql_bind_from.c). */
ts_err ts_sql_bind_from(ts_sql_binder *b, const ts_sql_from *f, const ts_sql_scope *outer, ts_sql_plan **out);
/* Makes expression e (over *p's columns) a column of *p: its id when it is a column, else a PROJECT adding it. */
ts_err ts_sql_add_computed(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr *e, const char *name, char **id);
/* A FILTER of conds[0..n) over *p (nothing when n == 0). */
ts_err ts_sql_wrap_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr **conds, int n);
/* An equality between an expression of j's left input and one of its right input becomes a key pair (*used). */
ts_err ts_sql_try_join_key(ts_sql_binder *b, ts_sql_plan *j, ts_sql_expr *cond, int *used);
/* A join node over l and r (semi and anti joins output the left columns only). */
ts_err ts_sql_join_node(ts_sql_binder *b, ts_sql_pos pos, ts_join_type type, ts_sql_plan *l, ts_sql_plan *r,
                        ts_sql_plan **out);

#endif
