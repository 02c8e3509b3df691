/* The `tessera report` subcommand (argv[0] is "report"). Call between MPI_Init and MPI_Finalize; returns the exit
 * code. */
#ifndef TESSERA_REPORT_H
#define TESSERA_REPORT_H

int ts_cli_report(int argc, char **argv);

#endif
