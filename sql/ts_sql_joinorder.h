/* Join ordering on the join graph. A region of a plan made of inner joins and filters is flattened into
 * relations (its other inputs) and predicates. Column equalities form equivalence classes (a = b and b = c make
 * a = c): two relations are connected when a class has a column in each, and any such pair of columns may serve
 * as the join key. Predicates on one relation move to it; a constant predicate on one column of a class is
 * copied to the others' relations (transitive predicates); an OR whose every branch restricts a relation gives
 * that relation the OR of those restrictions (TPC-H q19, q7); other predicates are applied at the first join that
 * has all their relations.
 *
 * The enumerator is DPccp (Moerkotte and Neumann, "Analysis of Two Existing and One New Dynamic Programming
 * Algorithm for the Generation of Optimal Bushy Join Trees without Cross Products", VLDB 2006): dynamic
 * programming over connected subgraphs and their connected complements, so no cross product is ever considered,
 * for up to TS_SQL_DP_MAX relations; greedy operator ordering (join the connected pair with the smallest result
 * first) beyond. Relations the query does not connect are cross-joined at the end, largest first.
 *
 * Cost of a join: the work of the hash join (probe rows + 2 build rows + output rows; the smaller input builds)
 * plus the data it moves between P ranks: a build side under 64 MiB is broadcast (P-1 copies of it), otherwise
 * both sides are shuffled ((P-1)/P of each) — the executor's rule, so the estimates decide what it will do.
 * Internal to sql/. */
#ifndef TS_SQL_JOINORDER_H
#define TS_SQL_JOINORDER_H

#include "ts_sql_bind.h"

#define TS_SQL_DP_MAX 12
#define TS_SQL_BROADCAST_BYTES (64.0 * 1024 * 1024)

/* Reorders every inner-join region of *root and adds the filters it implies to its relations; *changed tells
 * whether anything changed (the optimizer iterates to a fixed point). */
ts_err ts_sql_order_joins(ts_sql_binder *b, ts_sql_plan **root, int *changed);

/* The enumerator alone, for tests: n relations of rows[i] rows and width[i] bytes a row, edges (a[k], b[k]) of
 * selectivity sel[k] (several edges between two relations multiply). Writes the chosen tree in `tree` as text
 * ("((0 1) 2)", the build side second) and returns its cost; a negative value when out of memory. */
double ts_sql_enumerate_for_test(int n, const double *rows, const double *width, int nedges, const int *a,
                                 const int *b, const double *sel, int nranks, char *tree, size_t cap);

#endif
