/* The `tessera` command line: `tessera run JOB [options]` under mpirun/srun.
 * Exit codes: 0 success (also when input rows were rejected: they are in /quality/rejects), 2 usage,
 * 3 I/O error, 4 input that cannot be processed, 5 out of memory, 6 MPI failure, 1 internal error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ts_ctx.h"
#include "ts_jobs.h"

static const char *USAGE =
    "Tessera " TS_VERSION " - distributed columnar processing on MPI\n"
    "\n"
    "usage: mpirun -n P tessera run JOB [options]\n"
    "       tessera --help | --version | run --help\n"
    "\n"
    "jobs:\n"
    "  bank-analytics   clean bank transactions, aggregate per country/month and country/sector/month in USD,\n"
    "                   and write /analytics/*, /quality/rejects and /quality/summary to an HDF5 file\n"
    "\n"
    "Run `tessera run --help` for the job options. Docs: README.md, docs/architecture.md, docs/hdf5-layout.md.\n";

static const char *RUN_USAGE =
    "usage: mpirun -n P tessera run bank-analytics --data DIR --out FILE.h5 [options]\n"
    "\n"
    "  --data DIR     input directory: DIR/transactions/*.csv[.gz], DIR/countries.csv, DIR/fx_rates.csv\n"
    "  --out FILE     output HDF5 file (written under a temporary name, renamed when complete)\n"
    "  --overwrite    replace FILE if it exists (otherwise an existing FILE is an error)\n"
    "  --rules FILE   cleaning rules (docs/rules-format.md); default: the built-in\n"
    "                 jobs/rules/bank_transactions.rules (domain.md's rules)\n"
    "  --profile      print per-stage time, rows in/out, bytes exchanged and peak memory (min/max over ranks)\n"
    "  --explain      print the plan's stages before running\n"
    "  --quiet        no progress lines\n"
    "  --debug        print the full error traceback\n"
    "  -h, --help     this text\n"
    "\n"
    "Environment: TS_EXCHANGE=p2p forces point-to-point exchanges (default: MPI_Alltoallv when counts fit).\n"
    "Exit codes: 0 ok (rejected rows are reported, not fatal), 2 usage, 3 I/O, 4 bad input, 5 memory, 6 MPI.\n";

typedef struct cli {
    ts_job_args job;
    const char *name;
    int quiet, debug, help;
} cli;

static int parse_run(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},  {"out", required_argument, 0, 'o'},
                                         {"overwrite", no_argument, 0, 'w'},   {"profile", no_argument, 0, 'p'},
                                         {"rules", required_argument, 0, 'r'},
                                         {"explain", no_argument, 0, 'e'},     {"quiet", no_argument, 0, 'q'},
                                         {"debug", no_argument, 0, 'g'},       {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': c->job.data_dir = optarg; break;
        case 'o': c->job.out_path = optarg; break;
        case 'w': c->job.overwrite = 1; break;
        case 'r': c->job.rules_path = optarg; break;
        case 'p': c->job.profile = 1; break;
        case 'e': c->job.explain = 1; break;
        case 'q': c->quiet = 1; break;
        case 'g': c->debug = 1; break;
        case 'h': c->help = 1; return 0;
        default:
            fprintf(stderr, "tessera run: unknown or incomplete option '%s'\n%s", argv[optind - 1], RUN_USAGE);
            return TS_ERR_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "tessera run: missing JOB\n%s", RUN_USAGE);
        return TS_ERR_USAGE;
    }
    c->name = argv[optind];
    if (optind + 1 < argc) {
        fprintf(stderr, "tessera run: unexpected argument '%s'\n%s", argv[optind + 1], RUN_USAGE);
        return TS_ERR_USAGE;
    }
    if (strcmp(c->name, "bank-analytics") != 0) {
        fprintf(stderr, "tessera run: unknown job '%s' (jobs: bank-analytics)\n", c->name);
        return TS_ERR_USAGE;
    }
    if (!c->job.data_dir || !c->job.out_path) {
        fprintf(stderr, "tessera run %s: --data and --out are required\n%s", c->name, RUN_USAGE);
        return TS_ERR_USAGE;
    }
    return 0;
}

/* Checks that need no MPI, done on rank 0 before any work so mistakes cost nothing. */
static ts_err preflight(const ts_job_args *a)
{
    struct stat st;
    if (stat(a->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        TS_FAIL(TS_ERR_IO, "data directory '%s' does not exist or is not a directory", a->data_dir);
    if (!a->overwrite && stat(a->out_path, &st) == 0)
        TS_FAIL(TS_ERR_IO, "output '%s' already exists (pass --overwrite to replace it)", a->out_path);
    return TS_OK;
}

static int run(int argc, char **argv)
{
    cli c = {0};
    int rc = parse_run(argc, argv, &c);
    if (rc || c.help) {
        if (c.help)
            fputs(RUN_USAGE, stdout);
        return rc;
    }
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "tessera: %s\n", ts_error_message());
        return TS_ERR_MPI;
    }
    ctx.verbose = !c.quiet;
    ts_err err = ts_ctx_check(&ctx, ctx.rank == 0 ? preflight(&c.job) : TS_OK);
    if (!err)
        err = ts_job_bank_analytics(&ctx, &c.job);
    if (err && ctx.rank == 0)
        fprintf(stderr, "tessera: %s: %s\n", ts_error_code_name(err), c.debug ? ts_error_message() : ts_error_headline());
    ts_ctx_free(&ctx);
    return err;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? TS_ERR_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tessera %s\n", TS_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "tessera: unknown command '%s'\n%s", argv[1], USAGE);
        return TS_ERR_USAGE;
    }
    /* usage errors and --help are answered without starting MPI's collectives */
    MPI_Init(&argc, &argv);
    const int rc = run(argc - 1, argv + 1);
    MPI_Finalize();
    return rc;
}
