/* Tables: a name, an ordered list of columns of equal length, and the sort order they are known to have.
 * A table owns its columns. Per rank: on P ranks a distributed table is P local tables with the same schema,
 * rank r holding its partition (or, after a sort, the r-th slab of the global order). */
#ifndef TS_TABLE_H
#define TS_TABLE_H

#include "ts_column.h"

/* Columns a CSV spec or rules file describes (io/: fixed-size per-field arrays of the scan). Not a limit of
 * tables: a table holds any number of columns. */
#define TS_MAX_COLS 64

typedef struct ts_table {
    char name[TS_NAME_MAX * 2];          /* dotted names (a.b.c) up to TS_NAME_MAX - 1 bytes per part */
    int ncols, cap_cols;
    ts_column **cols;                    /* ncols columns (an array of cap_cols, grown by the functions below) */
    int nsort;                           /* sort_keys[0..nsort) hold when the table is sorted */
    int borrowed;                        /* a view: the columns belong to another table (not freed with it) */
    char sort_keys[8][TS_NAME_MAX];
    /* npart > 0: the distributed table is hash-partitioned on part_keys the way ts_aggregate_dest routes rows
     * (equal key tuples on one rank), so an aggregation grouping by a superset of them needs no exchange. Set by
     * the operators that route so; operators that produce a new table drop it unless they keep rows in place. */
    int npart;
    char part_keys[8][TS_NAME_MAX];
} ts_table;

ts_err ts_table_new(const char *name, ts_table **out);
void ts_table_free(ts_table *t);
/* Adds a new empty column and returns it in *out (may be NULL); the table owns it. */
ts_err ts_table_add(ts_table *t, const char *name, ts_type type, int scale, ts_dict *dict, ts_column **out);
/* Takes ownership of c (freed on failure: a duplicate name, or no memory for the column list). */
ts_err ts_table_adopt(ts_table *t, ts_column *c);
/* Appends c to t without taking ownership: for views (t->borrowed, or structs whose columns the caller frees).
 * The column list still belongs to t (ts_table_free frees it). */
ts_err ts_table_borrow(ts_table *t, ts_column *c);
/* Column by name, or NULL. */
ts_column *ts_table_col(const ts_table *t, const char *name);
/* Like ts_table_col but fails with a message naming the table when missing. */
ts_err ts_table_need(const ts_table *t, const char *name, ts_column **out);
/* Rows of the table (length of its first column; 0 without columns). */
int64_t ts_table_rows(const ts_table *t);
/* An empty table with t's schema. */
ts_err ts_table_new_like(const ts_table *t, const char *name, ts_table **out);
/* Appends rows idx[0..n) (all when idx is NULL) of src to dst (same schema). */
ts_err ts_table_append_rows(ts_table *dst, const ts_table *src, const int64_t *idx, int64_t n);
/* Keeps rows idx[0..n) (strictly ascending) of every column, in place. */
void ts_table_keep_rows(ts_table *t, const int64_t *idx, int64_t n);
/* Keeps the first n rows (n <= rows), keeping the allocations; the dropped rows' validity bits are set again, so rows
 * appended later are valid unless they are NULL. */
void ts_table_truncate(ts_table *t, int64_t n);
/* A zero-copy projection: a new table (free it with ts_table_free) whose columns are t's columns `names`
 * (each once). It must not outlive t, and t's columns must not change while it is used. */
ts_err ts_table_view(const ts_table *t, const char *const *names, int n, ts_table **out);
/* Sets the recorded sort order (up to 8 keys). */
void ts_table_set_sorted(ts_table *t, const char *const *keys, int n);
/* Sets the recorded hash partitioning (up to 8 keys; n == 0 clears it). */
void ts_table_set_partitioned(ts_table *t, const char *const *keys, int n);

#endif
