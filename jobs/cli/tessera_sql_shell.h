/* The interactive SQL shell of `tessera sql` (no script, no -c): rank 0 reads statements from the terminal (line
 * editing and history with libedit) or from standard input, every rank runs each statement in one session, and a
 * statement's error or Ctrl-C ends only that statement. docs/sql.md "Interactive shell" is the user's guide,
 * docs/architecture.md "Cancellation" the protocol. */
#ifndef TESSERA_SQL_SHELL_H
#define TESSERA_SQL_SHELL_H

#include "ts_sql.h"

typedef struct ts_shell_options {
    ts_sql_options sql; /* the session's options (output file, parameters, print mode, ...) */
    int bail;           /* standard input that is not a terminal: stop at the first failed statement */
    int debug;          /* print errors with their traceback */
} ts_shell_options;

/* Runs the shell on every rank of ctx (collective) until .quit or end of input. Returns the exit status: 0, or for
 * input that is not a terminal the code of the first failed statement (as sqlite3's and DuckDB's shells exit
 * non-zero after an error in a piped script); TS_ERR_MPI when the ranks can no longer agree. */
int ts_sql_shell(ts_ctx *ctx, const ts_shell_options *opt);

#endif
