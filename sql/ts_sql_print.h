/* Text output of the SQL front-end: aligned result tables and EXPLAIN plans. Rank 0 prints; no MPI here. */
#ifndef TS_SQL_PRINT_H
#define TS_SQL_PRINT_H

#include <stdio.h>

#include "ts_sql.h"
#include "ts_sql_plan.h"

/* Prints t with column titles names[]: every row when there are at most max_rows, else the first and last
 * max_rows / 2 with a gap line; then the row count. */
void ts_sql_print_table(FILE *out, const ts_table *t, const char *const *names, int max_rows);
/* Prints every row of t as CSV (RFC 4180: ',' separated, a field quoted when it holds ',', '"', a line break, or
 * is an empty string; NULL is an empty field), a header line of names first and a blank line after the rows. */
void ts_sql_print_csv(FILE *out, const ts_table *t, const char *const *names);
/* Prints the plan tree, one node a line (children indented): operator, details, estimated rows, decisions, and
 * with analyze the actual rows and time of each node. */
void ts_sql_print_plan(FILE *out, const ts_sql_plan *p, int analyze);
/* The operator's name as EXPLAIN prints it ("JOIN", "AGGREGATE", ...). */
const char *ts_sql_plan_kind_name(ts_sql_plan_kind kind);

#endif
