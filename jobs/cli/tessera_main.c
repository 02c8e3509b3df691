/* The `tessera` command line: `tessera run JOB [options]` under mpirun/srun. Jobs come from the registry
 * (jobs/ts_jobs.c). Exit codes: 0 success (also when input rows were rejected: they are in /quality/rejects),
 * 2 usage, 3 I/O error, 4 input that cannot be processed, 5 out of memory, 6 MPI failure, 1 internal error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ts_crash.h"
#include "ts_ctx.h"
#include "ts_fault.h"
#include "ts_h5.h"
#include "ts_jobs.h"
#include "ts_output.h"
#include "tessera_report.h"
#include "tessera_sql.h"

static const char *RUN_OPTIONS =
    "  --data DIR     input directory (tessera-gen's layout: transactions/*.csv[.gz] and reference CSVs)\n"
    "  --in FILE      input HDF5 file (jobs that read an earlier job's output)\n"
    "  --out FILE     output HDF5 file (written under a temporary name, renamed when complete)\n"
    "  --format F     output format: h5 (default: one HDF5 file), parquet or csv (a directory DIR with one\n"
    "                 dataset directory per table, Spark's layout: DIR/analytics/country_month/part-*.parquet)\n"
    "  --overwrite    replace FILE if it exists (otherwise an existing FILE is an error)\n"
    "  --rules FILE   cleaning rules (docs/rules-format.md); default: the job's built-in rules\n"
    "  --tests FILE   data-quality tests (docs/jobs/data-quality.md); default: the job's built-in tests\n"
    "  --limit N      rows a ranking job keeps (default: the job's)\n"
    "  --scd2 FILE    star-schema: the type-2 customer dimension (an scd2 output): the fact gets the version\n"
    "                 key valid on each transaction's date\n"
    "  --type1 COL,...  scd2: columns updated in place on every version (no new version when they change)\n"
    "  --hard-deletes invalidate|new_record  scd2: a customer missing from the snapshot closes its version\n"
    "                 (invalidate) or also gets a current version with is_deleted = true (new_record, default)\n"
    "  --memory-limit BYTES  resident memory per rank (suffix K, M, G; default: 3/4 of the node's memory\n"
    "                 shared among its ranks); data that does not fit is spilled to --spill-dir\n"
    "                 (bank-analytics; also `tessera sql`: docs/architecture.md \"Memory budget\")\n"
    "  --spill-dir DIR       where spilled partitions go (default: $TMPDIR, else /tmp)\n"
    "  --checkpoint DIR      persist each completed stage in DIR (HDF5), for --resume\n"
    "  --resume       skip the stages already checkpointed in --checkpoint DIR (same inputs and ranks)\n"
    "  --profile      print per-stage time, rows in/out, bytes exchanged and peak memory (min/max over ranks)\n"
    "  --explain      print the plan's stages before running\n"
    "  --quiet        no progress lines\n"
    "  --debug        print the full error traceback\n"
    "  -h, --help     this text\n"
    "\n"
    "Environment: TS_EXCHANGE=p2p forces point-to-point exchanges (default: MPI_Alltoallv when counts fit).\n"
    "  TESSERA_FAULT=RANK:POINT:KIND[:N]  fault injection for testing failures: RANK a number or *, POINT a\n"
    "                 stage name (see --explain), h5-write (before each table written) or scan-range (before\n"
    "                 each input byte range is read), KIND error | oom | crash | kill | hang | truncate (cut\n"
    "                 the file being read to half), at the N-th time the point is reached (default 1)\n"
    "  TESSERA_PARTITIONS=N  run bank-analytics in N spill partitions whatever the memory limit (testing)\n"
    "Exit codes: 0 ok (rejected rows are reported, not fatal), 2 usage, 3 I/O, 4 bad input, 5 memory, 6 MPI.\n";

static void print_jobs(FILE *out)
{
    int n;
    const ts_job *jobs = ts_jobs_all(&n);
    fputs("jobs:\n", out);
    for (int i = 0; i < n; i++)
        fprintf(out, "  %-16s %s\n", jobs[i].name, jobs[i].summary);
}

static void usage(FILE *out)
{
    fputs("Tessera " TS_VERSION " - distributed columnar processing on MPI\n\n"
          "usage: mpirun -n P tessera run JOB [options]\n"
          "       mpirun -n P tessera sql [SCRIPT.sql | -c \"SQL\"] [options]   (no script: interactive shell)\n"
          "       tessera report FILE.h5 [FILE.h5 ...] -o REPORT.html       (an HTML page of the tables and charts)\n"
          "       tessera --help | --version | run --help | sql --help | report --help\n\n",
          out);
    print_jobs(out);
    fputs("\nRun `tessera run --help` for the options. Docs: README.md, docs/architecture.md, docs/jobs/.\n", out);
}

static void run_usage(FILE *out)
{
    fputs("usage: mpirun -n P tessera run JOB [options]\n\n", out);
    print_jobs(out);
    fputs("\noptions:\n", out);
    fputs(RUN_OPTIONS, out);
}

typedef struct cli {
    ts_job_args job;
    const ts_job *spec;
    int quiet, debug, help;
} cli;

/* Printed by rank 0 only: every rank parses the same command line, and P interleaved copies garble it. */
static int usage_error(const char *fmt, const char *arg)
{
    if (ts_cli_rank() != 0)
        return TS_ERR_USAGE;
    fputs("tessera run: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    run_usage(stderr);
    return TS_ERR_USAGE;
}

static int parse_options(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'}, {"in", required_argument, 0, 'i'},   {"out", required_argument, 0, 'o'},
        {"overwrite", no_argument, 0, 'w'},  {"rules", required_argument, 0, 'r'}, {"limit", required_argument, 0, 'l'},
        {"tests", required_argument, 0, 't'},
        {"memory-limit", required_argument, 0, 'm'}, {"spill-dir", required_argument, 0, 's'},
        {"checkpoint", required_argument, 0, 'c'}, {"resume", no_argument, 0, 'R'},
        {"scd2", required_argument, 0, 'S'}, {"type1", required_argument, 0, 'T'},
        {"hard-deletes", required_argument, 0, 'H'},
        {"profile", no_argument, 0, 'p'},    {"explain", no_argument, 0, 'e'},     {"quiet", no_argument, 0, 'q'},
        {"debug", no_argument, 0, 'g'},      {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'd': c->job.data_dir = optarg; break;
        case 'i': c->job.in_path = optarg; break;
        case 'o': c->job.out_path = optarg; break;
        case 'w': c->job.overwrite = 1; break;
        case 'f':
            if ((c->job.out_format = ts_out_format_from_name(optarg)) < 0)
                return usage_error("--format must be h5, parquet or csv, not '%s'", optarg);
            break;
        case 'r': c->job.rules_path = optarg; break;
        case 't': c->job.tests_path = optarg; break;
        case 'l':
            c->job.limit = strtoll(optarg, &end, 10);
            if (*end || c->job.limit <= 0)
                return usage_error("--limit needs a positive integer, not '%s'", optarg);
            break;
        case 'm':
            if (ts_cli_parse_bytes(optarg, &c->job.memory_limit) != 0)
                return usage_error("--memory-limit needs a positive size in bytes (suffix K, M or G), not '%s'",
                                   optarg);
            break;
        case 's': c->job.spill_dir = optarg; break;
        case 'c': c->job.checkpoint_dir = optarg; break;
        case 'R': c->job.resume = 1; break;
        case 'S': c->job.scd2_path = optarg; break;
        case 'T': c->job.type1_cols = optarg; break;
        case 'H':
            if (strcmp(optarg, "invalidate") != 0 && strcmp(optarg, "new_record") != 0)
                return usage_error("--hard-deletes is invalidate or new_record, not '%s'", optarg);
            c->job.hard_deletes = optarg;
            break;
        case 'p': c->job.profile = 1; break;
        case 'e': c->job.explain = 1; break;
        case 'q': c->quiet = 1; break;
        case 'g': c->debug = 1; break;
        case 'h': c->help = 1; return 0;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

static int parse_run(int argc, char **argv, cli *c)
{
    const int rc = parse_options(argc, argv, c);
    if (rc || c->help)
        return rc;
    if (optind >= argc)
        return usage_error("%s", "missing JOB");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s'", argv[optind + 1]);
    if (!(c->spec = ts_job_find(argv[optind])))
        return usage_error("unknown job '%s'", argv[optind]);
    const int needs = c->spec->needs;
    if ((needs & TS_NEEDS_DATA) && !c->job.data_dir)
        return usage_error("job %s needs --data DIR", c->spec->name);
    if ((needs & TS_NEEDS_IN) && !c->job.in_path)
        return usage_error("job %s needs --in FILE", c->spec->name);
    if ((needs & TS_NEEDS_OUT) && !c->job.out_path)
        return usage_error("job %s needs --out FILE", c->spec->name);
    if (c->job.resume && !c->job.checkpoint_dir)
        return usage_error("%s", "--resume needs --checkpoint DIR");
    const char *name = c->spec->name;
    if (c->job.scd2_path && strcmp(name, "star-schema") != 0)
        return usage_error("--scd2 FILE applies to star-schema only, not %s", name);
    if ((c->job.type1_cols || c->job.hard_deletes) && strcmp(name, "scd2") != 0)
        return usage_error("--type1 and --hard-deletes apply to scd2 only, not %s", name);
    if ((c->job.memory_limit || c->job.spill_dir) && !(needs & TS_SPILLS))
        return usage_error("job %s holds its data in memory: --memory-limit and --spill-dir apply to "
                           "bank-analytics only", c->spec->name);
    return 0;
}

/* path made absolute with every symbolic link resolved: the file's realpath when it exists, else its
 * directory's realpath joined with its name (so a file not written yet still compares with its directory). */
static int canonical(const char *path, char out[PATH_MAX])
{
    if (realpath(path, out))
        return 1;
    char dir[PATH_MAX], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    if (!realpath(slash ? dir : ".", real))
        return 0;
    return snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base) < PATH_MAX;
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* --out must not name a file the job reads: writing would replace (--overwrite) the job's own input, or put the
 * output where this job or its next run reads input. Same file = same device and inode (hard and symbolic links
 * included) or, for an output not created yet, the same canonical path; an output among --data's inputs (its
 * top-level .csv/.csv.gz/.txt files or anything under transactions/) counts too. */
static ts_err check_output_not_input(const ts_job_args *a)
{
    if (!a->out_path)
        return TS_OK;
    const char *what[] = {"--in", "--scd2", "--rules", "--tests"};
    const char *paths[] = {a->in_path, a->scd2_path, a->rules_path, a->tests_path};
    char out[PATH_MAX], in[PATH_MAX];
    struct stat so, si;
    const int out_exists = stat(a->out_path, &so) == 0, have_out = canonical(a->out_path, out);
    for (int k = 0; k < 4; k++) {
        if (!paths[k])
            continue;
        const int same = out_exists && stat(paths[k], &si) == 0
                             ? so.st_dev == si.st_dev && so.st_ino == si.st_ino
                             : have_out && canonical(paths[k], in) && strcmp(out, in) == 0;
        if (same)
            TS_FAIL(TS_ERR_USAGE, "--out '%s' is the job's input %s '%s': write the output to another file",
                    a->out_path, what[k], paths[k]);
    }
    char data[PATH_MAX];
    if (a->data_dir && have_out && realpath(a->data_dir, data)) {
        const size_t n = strlen(data);
        const char *rest = strncmp(out, data, n) == 0 && out[n] == '/' ? out + n + 1 : NULL;
        if (rest && (strncmp(rest, "transactions/", 13) == 0 ||
                     (!strchr(rest, '/') && (ends_with(rest, ".csv") || ends_with(rest, ".csv.gz") ||
                                             ends_with(rest, ".txt")))))
            TS_FAIL(TS_ERR_USAGE, "--out '%s' is among the input files of --data '%s': write the output elsewhere",
                    a->out_path, a->data_dir);
    }
    return TS_OK;
}

/* Checks that need no MPI, done on rank 0 before any work so mistakes cost nothing. */
static ts_err preflight(const ts_job_args *a)
{
    struct stat st;
    if (a->data_dir && stat(a->data_dir, &st) != 0)
        TS_FAIL(TS_ERR_IO, "data directory '%s' does not exist: %s", a->data_dir, strerror(errno));
    if (a->data_dir && !S_ISDIR(st.st_mode))
        TS_FAIL(TS_ERR_IO, "data directory '%s' is not a directory: %s", a->data_dir, strerror(ENOTDIR));
    if (a->in_path && stat(a->in_path, &st) != 0)
        TS_FAIL(TS_ERR_IO, "input file '%s' does not exist: %s", a->in_path, strerror(errno));
    if (a->scd2_path && stat(a->scd2_path, &st) != 0)
        TS_FAIL(TS_ERR_IO, "scd2 dimension '%s' does not exist: %s", a->scd2_path, strerror(errno));
    TS_TRY(check_output_not_input(a));
    if (a->out_path && !a->overwrite && stat(a->out_path, &st) == 0)
        TS_FAIL(TS_ERR_IO, "output '%s' already exists (pass --overwrite to replace it)", a->out_path);
    if (a->out_path) /* a missing or read-only output directory, found before the work rather than after */
        TS_TRY(ts_output_check(a->out_path, a->overwrite, (ts_out_format)a->out_format));
    return TS_OK;
}

static int run(int argc, char **argv)
{
    cli c = {0};
    int rc = parse_run(argc, argv, &c);
    if (rc || c.help) {
        if (c.help)
            run_usage(stdout);
        return rc;
    }
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "tessera: %s\n", ts_error_message());
        return TS_ERR_MPI;
    }
    ctx.verbose = !c.quiet;
    ts_crash_install(ctx.rank);
    ts_err err = ts_fault_init(&ctx);
    if (!err)
        err = ts_ctx_check(&ctx, ctx.rank == 0 ? preflight(&c.job) : TS_OK);
    if (!err)
        err = c.spec->run(&ctx, &c.job);
    ts_crash_set_stage("(after the job: MPI and HDF5 shut-down)");
    if (err && ctx.rank == 0)
        fprintf(stderr, "tessera: %s: %s\n", ts_error_code_name(err), c.debug ? ts_error_message() : ts_error_headline());
    ts_ctx_free(&ctx);
    return err;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TS_ERR_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tessera %s\n", TS_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "sql") == 0) {
        MPI_Init(&argc, &argv);
        const int rc = ts_cli_sql(argc - 1, argv + 1);
        MPI_Finalize();
        return rc;
    }
    if (strcmp(argv[1], "report") == 0) {
        MPI_Init(&argc, &argv);
        const int rc = ts_cli_report(argc - 1, argv + 1);
        MPI_Finalize();
        return rc;
    }
    if (strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "tessera: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return TS_ERR_USAGE;
    }
    /* usage errors and --help are answered without starting MPI's collectives */
    MPI_Init(&argc, &argv);
    const int rc = run(argc - 1, argv + 1);
    MPI_Finalize();
    return rc;
}
