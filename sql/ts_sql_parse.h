/* SQL text to syntax trees (sql/ts_sql_ast.h). Per rank, no MPI: every rank parses the same script and gets the
 * same trees. Errors point at the offending token:
 *
 *   job.sql:3:13: syntax error: expected FROM, found 'FORM'
 *     SELECT a, b FORM t
 *                 ^~~~
 */
#ifndef TS_SQL_PARSE_H
#define TS_SQL_PARSE_H

#include <stddef.h>

#include "ts_error.h"
#include "ts_sql_ast.h"

/* Replaces every ${name} in text by its value (names[i] -> values[i]). An unknown ${name} is a TS_ERR_USAGE
 * naming the line and column (and the closest known name). *out is malloc'ed (caller frees). */
ts_err ts_sql_substitute(const char *text, const char *filename, const char *const *names,
                         const char *const *values, int n, char **out);

/* Parses a script: statements separated by ';' (the last ';' optional), '--' and block comments.
 * *out is new (ts_sql_script_free). Syntax errors are TS_ERR_USAGE with the message shown above. */
ts_err ts_sql_parse(const char *text, const char *filename, ts_sql_script **out);
void ts_sql_script_free(ts_sql_script *s);

/* Raises a TS_ERR_USAGE (or `code`) error located at pos in the script's text, in the format above: the
 * message, the source line and a caret under column pos.col (width: the token's length when known, else 1).
 * Returns the code, for `return ts_sql_error_at(...)`. */
ts_err ts_sql_error_at(const ts_sql_script *s, ts_sql_pos pos, ts_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether the current error's message already names a place in the script ("[rank N: ]FILE:LINE:COL: ..."), so
 * that an error passing up through several plan nodes is located once, where it was raised, on every rank. */
int ts_sql_error_located(const ts_sql_script *s);

/* The candidate closest to name by edit distance (case-insensitive), or NULL when none is within a third of the
 * name's length (at least 2 edits). For "did you mean" hints. */
const char *ts_sql_closest(const char *name, const char *const *candidates, int n);

/* Arena allocation for trees built after parsing (the planner's rewrites): zeroed memory freed with the script. */
void *ts_sql_alloc(ts_sql_script *s, size_t size);
char *ts_sql_strdup(ts_sql_script *s, const char *str);

#endif
