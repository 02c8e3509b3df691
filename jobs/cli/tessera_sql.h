/* The `tessera sql` subcommand (argv[0] is "sql"). Call between MPI_Init and MPI_Finalize; returns the exit code. */
#ifndef TESSERA_SQL_H
#define TESSERA_SQL_H

int ts_cli_sql(int argc, char **argv);
/* This process's rank in MPI_COMM_WORLD (0 before MPI_Init): usage errors are printed by rank 0 only. */
int ts_cli_rank(void);

#include <stdint.h>

#include "ts_error.h"

/* "512M", "2G", "1048576" -> bytes (suffix K, M, G: powers of 1024); -1 unless a positive size. */
int ts_cli_parse_bytes(const char *s, int64_t *out);

/* Rank 0 prints a (collective) error to stderr: "tessera: <kind>: <message>", without its traceback frames unless
 * debug (SQL errors span lines: message, source line, caret). */
void ts_cli_print_error(ts_err err, int debug);

#endif
