/* The session's catalog: named distributed tables (each rank holds its part) and views (a query's syntax tree,
 * kept with the script it was parsed from). Internal to sql/. Per rank; every rank keeps the same entries. */
#ifndef TS_SQL_CATALOG_H
#define TS_SQL_CATALOG_H

#include "ts_ctx.h"
#include "ts_sql_ast.h"
#include "ts_table.h"
#include "ts_table_stats.h"

typedef struct ts_sql_entry {
    char *name;                 /* lower-cased unless quoted; dotted names kept whole */
    ts_table *table;            /* tables: this rank's part (owned); NULL for views */
    ts_sql_script *view_script; /* views: the script holding the query (owned) */
    const ts_sql_query *view;
    int64_t global_rows;        /* tables: rows over all ranks */
    ts_col_stats *stats;        /* tables: statistics of each column, for the planner (owned; NULL: none) */
    uint8_t *not_null;          /* tables: not_null[c] = column c was declared NOT NULL (INSERT checks it); owned */
    int64_t version;            /* a process-wide number, new whenever the entry is put or its rows change
                                   (checkpoints save the tables whose version moved) */
} ts_sql_entry;

typedef struct ts_sql_catalog {
    ts_sql_entry *entries;
    int n, cap;
} ts_sql_catalog;

/* Entry named name (case-insensitive), or NULL. */
ts_sql_entry *ts_sql_catalog_find(const ts_sql_catalog *c, const char *name);
/* Adds an entry; takes ownership of table / view_script. Replaces an entry of the same name. */
ts_err ts_sql_catalog_put(ts_sql_catalog *c, const char *name, ts_table *table, int64_t global_rows,
                          ts_sql_script *view_script, const ts_sql_query *view);
/* Gives e a new version: call it whenever its table's rows change. */
void ts_sql_catalog_touch(ts_sql_entry *e);
/* (Re)computes the statistics of table entry e (collective: every rank calls it for the same entry). Call it
 * whenever the table's rows change. */
ts_err ts_sql_catalog_analyze(ts_ctx *ctx, ts_sql_entry *e);
/* Under a memory budget: moves the largest tables to cold storage (engine/ops/ts_cold.h, files in dir) until the
 * tables' bytes in memory are at most room. Per rank (every rank decides for its own part). */
ts_err ts_sql_catalog_fit(ts_sql_catalog *c, int64_t room, const char *dir);
/* Drops the resident pages of every cold table (between statements: what a statement read stays on disk). */
void ts_sql_catalog_release(const ts_sql_catalog *c);
/* Removes (and frees) the entry; 0 when there was none. */
int ts_sql_catalog_drop(ts_sql_catalog *c, const char *name);
void ts_sql_catalog_free(ts_sql_catalog *c);
/* The entries' names, for "did you mean" hints: a malloc'ed array of borrowed strings (caller frees the array). */
const char **ts_sql_catalog_names(const ts_sql_catalog *c, int *n);

#endif
