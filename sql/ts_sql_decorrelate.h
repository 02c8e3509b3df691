/* Decorrelation: replaces every dependent join (TS_P_DEPJOIN, made by the binder for correlated subqueries) by
 * ordinary joins, following Neumann and Kemper, "Unnesting Arbitrary Queries" (BTW 2015).
 *
 * A dependent join P ⋈dep Q(c1..ck) evaluates Q once per row of P with P's columns c1..ck. It becomes
 * P ⋈ Q'(D) where D = the distinct values of (c1..ck) in P, computed once (a DELIM_JOIN: its right side reads D
 * through DELIM_GET leaves), and Q' is Q with D pushed down through every operator until no operator reads the
 * c's any more: below that point D is joined with a cross product (which a filter on D's columns, the former
 * correlated predicate, makes a join), above it D's columns travel as extra grouping, partitioning and join
 * columns. P and Q' are then joined on (c = D's columns), NULL matching NULL. So any correlation (non-equality,
 * several columns, nested subqueries, aggregates, LIMIT, set operations) unnests the same way.
 *
 * Special forms: an aggregate without GROUP BY keeps one row per value of D (D left-joined with the grouped
 * aggregate, counts of no rows 0: the "count bug"); a scalar subquery that is not such an aggregate is checked
 * for more than one row per outer row (an error, as DuckDB); an EXISTS / IN whose only correlation is equalities
 * between outer and inner expressions on top of an uncorrelated subquery becomes a plain semi / anti / mark join
 * on those expressions (no D).
 * Internal to sql/; deterministic, so every rank makes the same plan. */
#ifndef TS_SQL_DECORRELATE_H
#define TS_SQL_DECORRELATE_H

#include "ts_sql_bind.h"

/* Rewrites *root (and the plans of its scalar subqueries) until no DEPJOIN remains. */
ts_err ts_sql_decorrelate(ts_sql_binder *b, ts_sql_plan **root);

/* Calls fn(b, &expr->subplan) for every scalar subquery plan held by an expression of p's subtree. */
ts_err ts_sql_each_subplan(ts_sql_binder *b, ts_sql_plan *p, ts_err (*fn)(ts_sql_binder *, ts_sql_plan **));

#endif
