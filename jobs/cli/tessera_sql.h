/* The `tessera sql` subcommand (argv[0] is "sql"). Call between MPI_Init and MPI_Finalize; returns the exit code. */
#ifndef TESSERA_SQL_H
#define TESSERA_SQL_H

int ts_cli_sql(int argc, char **argv);

#endif
