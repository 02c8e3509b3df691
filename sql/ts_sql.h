/* The SQL front-end: scripts of CREATE TABLE / CREATE VIEW / SELECT / EXPLAIN statements compiled to
 * distributed plans of engine operators and run on every rank of an MPI communicator.
 *
 * Collective: every rank creates the session and runs the same statements in the same order; errors agree
 * across ranks (the lowest failing rank's message, prefixed "rank R: ", on every rank, all returning its code),
 * so a bad query never leaves ranks waiting for each other.
 *
 * Tables made by CREATE TABLE live in the session's catalog (distributed: each rank holds its part) and, when
 * the session has an output file, are written there by ts_sql_finish under /name (dots in the name become
 * groups: analytics.country_month -> /analytics/country_month). Views are stored as query text and expanded
 * where they are used. */
#ifndef TS_SQL_H
#define TS_SQL_H

#include <stdio.h>

#include "ts_ctx.h"
#include "ts_table.h"

typedef struct ts_sql_session ts_sql_session;

typedef struct ts_sql_options {
    const char *out_path;          /* HDF5 file for the created tables, or NULL (keep them in memory only) */
    int overwrite;                 /* replace an existing out_path */
    const char *job_name;          /* the output file's `job` attribute (NULL: "sql") */
    const char *inputs;            /* its `inputs` attribute (e.g. the script's path) */
    const char *const *param_names; /* ${name} substitutions (--set name=value) */
    const char *const *param_values;
    int nparams;
    FILE *out;                     /* rank 0 prints query results, EXPLAIN output and the profile here */
    int max_print_rows;            /* rows of a printed result (first half and last half); 0: 40 */
    int profile;                   /* print the operators' profile after each statement */
    int quiet;                     /* no progress lines */
    int timing;                    /* rank 0 prints "stmt <i> <name> <seconds>" per statement to stderr, and
                                      "mem <i> <name> <max bytes> <min bytes>": the statement's peak RSS over
                                      the ranks (each rank's high-water mark is reset when a statement starts) */
    int csv;                       /* print results as CSV (RFC 4180, header line, NULL as an empty field, every
                                      row, a blank line after each result) instead of aligned tables */
} ts_sql_options;

/* Creates a session (collective). *out is new on every rank (ts_sql_session_free). opt is copied. */
ts_err ts_sql_session_new(ts_ctx *ctx, const ts_sql_options *opt, ts_sql_session **out);
void ts_sql_session_free(ts_sql_session *s);

/* Runs every statement of a script (collective). Query results are printed on rank 0 as aligned text tables.
 * filename names the script in error messages ("-c" for a command line). */
ts_err ts_sql_run(ts_sql_session *s, const char *text, const char *filename);

/* Runs one query (a script whose last statement is a query; earlier statements run as in ts_sql_run) and
 * gathers its whole result on rank 0 in *result (new; caller frees); other ranks get an empty table with the
 * result's schema. Row order is the query's ORDER BY, or unspecified without one. Collective. */
ts_err ts_sql_query_result(ts_sql_session *s, const char *text, const char *filename, ts_table **result);

/* Writes the created tables to the output file (collective; temporary name + rename). No-op without out_path. */
ts_err ts_sql_finish(ts_sql_session *s);

/* Formats row `row` of column c as text the way results print: NULL, true/false, integers, dates as YYYY-MM-DD,
 * decimals with their scale, doubles in the shortest form that reads back exactly ("0.1", "1e+20", "nan",
 * "inf"), strings verbatim. Returns the length written (truncated to cap - 1). */
int ts_sql_format_cell(const ts_column *c, int64_t row, char *buf, size_t cap);

#endif
