/* The `tessera sql` subcommand (argv[0] is "sql"). Call between MPI_Init and MPI_Finalize; returns the exit code. */
#ifndef TESSERA_SQL_H
#define TESSERA_SQL_H

int ts_cli_sql(int argc, char **argv);
/* This process's rank in MPI_COMM_WORLD (0 before MPI_Init): usage errors are printed by rank 0 only. */
int ts_cli_rank(void);

#endif
