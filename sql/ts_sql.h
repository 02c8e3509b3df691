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

/* How rank 0 prints query results (the shell's .mode; the CLI's --mode). ALIGNED is Tessera's default text table
 * (long results elided in the middle); the others follow the sqlite3 / DuckDB shells' modes of the same name and
 * print every row: TABLE an ASCII-art grid, CSV RFC 4180 with a header line (NULL as an empty field, an empty string
 * as "", a blank line after each result), MARKDOWN a pipe table, LINE one "column = value" line per value with a
 * blank line between rows. */
typedef enum {
    TS_SQL_PRINT_ALIGNED,
    TS_SQL_PRINT_TABLE,
    TS_SQL_PRINT_CSV,
    TS_SQL_PRINT_MARKDOWN,
    TS_SQL_PRINT_LINE
} ts_sql_print_mode;

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
    ts_sql_print_mode print_mode;  /* how query results print (default ALIGNED; CSV is ts_sql_print_csv's format) */
    const char *checkpoint_dir;    /* scripts: the state after each statement that changes it goes there
                                      (sql/ts_sql_checkpoint.h); NULL: none */
    int resume;                    /* with checkpoint_dir: start after the last statement whose checkpoint matches */
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

/* Where and how rank 0 prints from now on (the shell's .mode and output redirection). out == NULL: unchanged. */
void ts_sql_session_set_output(ts_sql_session *s, FILE *out, ts_sql_print_mode mode);

/* A catalog entry as the shell's .tables / .schema show it. Borrowed from the session: valid until its next
 * statement. Rank-local (every rank has the same entries), no MPI. */
typedef struct ts_sql_object {
    const char *name;
    const ts_table *table;   /* tables: this rank's part (its schema is the table's); NULL for views */
    int64_t rows;            /* tables: rows over all ranks */
    const char *view_sql;    /* views: the text of their CREATE VIEW statement (without ';') */
} ts_sql_object;

/* The session's tables and views in name order: fills up to cap entries of out, returns how many there are. */
int ts_sql_session_objects(const ts_sql_session *s, ts_sql_object *out, int cap);

/* Writes the created tables to the output file (collective; temporary name + rename). No-op without out_path. */
ts_err ts_sql_finish(ts_sql_session *s);

/* Prints a result table (rank-local, no MPI) in a mode with column titles names[]; ALIGNED keeps at most max_rows
 * rows (first and last halves). Every other mode prints every row. */
void ts_sql_print_result(FILE *out, const ts_table *t, const char *const *names, ts_sql_print_mode mode,
                         int max_rows);

/* Formats row `row` of column c as text the way results print: NULL, true/false, integers, dates as YYYY-MM-DD,
 * decimals with their scale, doubles in the shortest form that reads back exactly ("0.1", "1e+20", "nan",
 * "inf"), strings verbatim. Returns the length written (truncated to cap - 1). */
int ts_sql_format_cell(const ts_column *c, int64_t row, char *buf, size_t cap);

#endif
