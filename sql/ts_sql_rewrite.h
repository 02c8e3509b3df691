/* Plan rewriting helpers shared by the binder's subquery planning, the decorrelation and the optimizer: which
 * column ids a node reads, renaming them, and constructors of nodes and expressions. Internal to sql/.
 * Everything allocates in the binder's script arena; nodes and expressions are never freed individually. */
#ifndef TS_SQL_REWRITE_H
#define TS_SQL_REWRITE_H

#include "ts_sql_bind.h"

/* Calls fn(id, arg) for every column id node p itself reads (conditions, expressions, keys, aggregate inputs,
 * sort, partition and window inputs, delim columns); not its inputs' ids. Scalar subqueries' own plans are
 * separate queries and not visited. */
void ts_sql_node_refs(const ts_sql_plan *p, void (*fn)(const char *id, void *arg), void *arg);

/* 1 when p's subtree reads a column id that no node of the subtree outputs (a correlated reference). */
int ts_sql_plan_correlated(const ts_sql_plan *p);
/* The correlated ids of p's subtree (distinct, in first-seen order), in the arena; *n receives their count. */
ts_err ts_sql_plan_free_refs(ts_sql_binder *b, const ts_sql_plan *p, char ***ids, int *n);
/* 1 when p's subtree reads any of ids[0..n). */
int ts_sql_plan_reads(const ts_sql_plan *p, char *const *ids, int n);

/* A copy of e with column ids from[i] replaced by to[i] (e itself when nothing changes). NULL on no memory. */
ts_sql_expr *ts_sql_expr_rename(ts_sql_binder *b, ts_sql_expr *e, char *const *from, char *const *to, int n);
/* Renames the ids node p reads (not its outputs), copying the arrays it changes. */
ts_err ts_sql_node_rename(ts_sql_binder *b, ts_sql_plan *p, char *const *from, char *const *to, int n);

/* Expressions. */
ts_sql_expr *ts_sql_mk(ts_sql_binder *b, ts_sql_expr_kind kind, ts_sql_op op, ts_sql_pos pos, ts_sql_expr *x,
                       ts_sql_expr *y);
ts_sql_expr *ts_sql_lit(ts_sql_binder *b, ts_sql_expr_kind kind, int64_t v, ts_sql_pos pos);
ts_sql_expr *ts_sql_call(ts_sql_binder *b, const char *name, ts_sql_pos pos, ts_sql_expr *x, ts_sql_expr *y);
/* AND of two conditions (either may be NULL). */
ts_sql_expr *ts_sql_and(ts_sql_binder *b, ts_sql_expr *x, ts_sql_expr *y);

/* Nodes. ts_sql_project_all: a PROJECT passing every column of in through, then the extra expressions under new
 * ids (names[i], hidden); ids of the extra columns in *ids when not NULL. */
ts_err ts_sql_project_all(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr *const *extra, const char *const *names,
                          int nextra, char **ids);
/* A FILTER of the given conjuncts over *p (nothing when n == 0). */
ts_err ts_sql_filter(ts_sql_binder *b, ts_sql_plan **p, ts_sql_expr **conds, int n);
/* A node of the given kind with *p as input and the same columns (DISTINCT, SORT, LIMIT). */
ts_err ts_sql_wrap(ts_sql_binder *b, ts_sql_plan **p, ts_sql_plan_kind kind);
/* Appends a key pair (left id, right id; NULL-equal when null_equal) to join j. */
ts_err ts_sql_join_add_key(ts_sql_binder *b, ts_sql_plan *j, const char *left, const char *right, int null_equal);
/* An AGGREGATE over *p grouped by keys; aggregate a gets output column (name, id); *p becomes it. */
ts_err ts_sql_aggregate(ts_sql_binder *b, ts_sql_plan **p, char *const *keys, int nkeys, const ts_agg *aggs,
                        const char *const *names, int naggs);

#endif
