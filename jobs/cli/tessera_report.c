/* `tessera report FILE.h5 [FILE.h5 ...] -o report.html`: the HTML report of jobs/report (one process; under mpirun
 * rank 0 writes it and the others wait for its status). */
#include "tessera_report.h"

#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "tessera_sql.h"
#include "ts_report.h"

static const char *REPORT_USAGE =
    "usage: tessera report FILE.h5 [FILE.h5 ...] -o REPORT.html [options]\n\n"
    "Writes one self-contained HTML page (inline CSS and SVG charts; no scripts, fonts or network) showing the\n"
    "tables of Tessera HDF5 outputs: per table its schema and column profile, a sample of rows and a chart per\n"
    "column; highlights for bank-analytics and data-quality outputs (volume and success rate per country over\n"
    "months, sector mix, rejects per reason, tests passed/failed). Open it in any browser. docs/report.md.\n\n"
    "options:\n"
    "  -o, --out FILE   the HTML file (written under a temporary name, renamed when complete)\n"
    "  --overwrite      replace FILE if it exists\n"
    "  --sample N       rows shown per table (default 10)\n"
    "  --debug          print the full error traceback\n"
    "  -h, --help       this text\n\n"
    "Exit codes: 0 ok, 2 usage, 3 I/O (missing, unreadable or non-HDF5 input; existing output), 4 an input with\n"
    "no tables.\n";

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "tessera report: ");
    fprintf(stderr, what, arg);
    fprintf(stderr, "\n\n%s", REPORT_USAGE);
    return TS_ERR_USAGE;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"overwrite", no_argument, 0, 'w'},
                                         {"sample", required_argument, 0, 's'}, {"debug", no_argument, 0, 'g'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    ts_report_options o = {0};
    int debug = 0, ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'o': o.out_path = optarg; break;
        case 'w': o.overwrite = 1; break;
        case 'g': debug = 1; break;
        case 's':
            o.sample_rows = (int)strtol(optarg, &end, 10);
            if (*end || o.sample_rows <= 0)
                return usage_error("--sample needs a positive integer, not '%s'", optarg);
            break;
        case 'h': fputs(REPORT_USAGE, stdout); return 0;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return usage_error("%s", "give at least one HDF5 file");
    if (!o.out_path)
        return usage_error("%s", "give the HTML file to write with -o FILE");
    o.inputs = (const char *const *)argv + optind, o.ninputs = argc - optind;
    const ts_err err = ts_report_write(&o);
    if (err)
        ts_cli_print_error(err, debug);
    else
        fprintf(stderr, "tessera report: wrote %s\n", o.out_path);
    return err;
}

int ts_cli_report(int argc, char **argv)
{
    int rank = 0, rc = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        rc = run(argc, argv);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}
