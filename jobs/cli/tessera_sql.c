/* `tessera sql`: runs a SQL script (or one -c command) on every rank. */
#include "tessera_sql.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera_sql_shell.h"
#include "ts_budget.h"
#include "ts_crash.h"
#include "ts_fault.h"
#include "ts_spill.h"
#include "ts_sql.h"

#define MAX_PARAMS 1024

static const char *SQL_USAGE =
    "usage: mpirun -n P tessera sql SCRIPT.sql [options]\n"
    "       mpirun -n P tessera sql -c \"SELECT ...\" [options]\n"
    "       mpirun -n P tessera sql [options]          (interactive shell, or statements from standard input)\n\n"
    "Runs SQL (a DuckDB-like dialect: docs/sql.md) across the MPI ranks. CREATE TABLE name AS ... results are\n"
    "written to --out under /name (dots make groups: analytics.x -> /analytics/x); query results are printed.\n"
    "Without SCRIPT or -c, rank 0 reads statements from the terminal (line editing, history in ~/.tessera_history,\n"
    "dot-commands: .help) or from standard input; tables live for the session; Ctrl-C cancels the running\n"
    "statement on every rank.\n\n"
    "options:\n"
    "  -c SQL           run this text instead of a script file\n"
    "  --out FILE       HDF5 file for the created tables (temporary name, renamed when complete)\n"
    "  --overwrite      replace FILE if it exists\n"
    "  --job-name NAME  the output file's `job` attribute (default: sql)\n"
    "  --set NAME=VALUE replace ${NAME} in the script (repeatable)\n"
    "  --max-rows N     rows of a printed result in the aligned mode (first and last halves; default 40)\n"
    "  --mode MODE      how results print: aligned (default), table, csv, markdown, line (as .mode)\n"
    "  --format F       table (the aligned default) or csv (every row, a blank line after each result): the\n"
    "                   same as --mode aligned and --mode csv\n"
    "  --bail           statements from standard input: stop at the first error (default: report it, go on,\n"
    "                   and exit with the first error's code)\n"
    "  --memory-limit SIZE  resident memory per rank (suffix K, M, G): hash aggregations and join builds that\n"
    "                   outgrow their share spill partitions to --spill-dir and finish partition by partition;\n"
    "                   an operator that cannot fit (one key's rows alone, one huge group's median)\n"
    "                   fails with exit 5 naming the limit (default: no limit; docs/architecture.md \"Memory budget\")\n"
    "  --spill-dir DIR  where spilled partitions go (default: $TMPDIR, else /tmp)\n"
    "  --checkpoint DIR after each statement that changes the tables (CREATE TABLE, DROP, INSERT, COPY), save\n"
    "                   them to DIR/NN-<table>.h5 (only the tables that changed; a new run clears the old ones)\n"
    "  --resume         with --checkpoint: start after the last statement whose checkpoint is of this run (same\n"
    "                   ranks, the same text of the statements up to it, the same input files); exit 2 when\n"
    "                   checkpoints exist but none matches. Skipped statements print nothing (scripts with views\n"
    "                   are refused)\n"
    "  --profile        print each statement's operators (time, rows, bytes, memory, bytes spilled)\n"
    "  --timing         rank 0 prints `stmt <i> <name> <seconds>` and `mem <i> <name> <max> <min>` (the\n"
    "                   statement's peak resident bytes over the ranks) per statement to stderr (for benchmarks),\n"
    "                   and `spill <i> <name> <max>` when its operators spilled (bytes, the most of any rank)\n"
    "  --quiet          no warnings about rejected CSV rows\n"
    "  --debug          print the full error traceback\n"
    "  -h, --help       this text\n\n"
    "Environment: TESSERA_OP_MEMORY=SIZE  with --memory-limit: each blocking operator's share, when smaller than\n"
    "  the default quarter of the room the limit leaves (testing: makes small data spill);\n"
    "  TESSERA_FAULT=RANK:stmt-N:error|kill  fail before the script's statement N (testing checkpoints)\n"
    "Exit codes: 0 ok, 2 bad SQL or usage, 3 I/O, 4 data that cannot be processed, 5 memory, 6 MPI\n"
    "(a shell reading a terminal exits 0; reading standard input, with the first failed statement's code).\n";

typedef struct sql_cli {
    const char *script, *command;
    ts_sql_options opt;
    const char *names[MAX_PARAMS], *values[MAX_PARAMS];
    char *owned[MAX_PARAMS];
    int debug, help, bail;
    int64_t memory_limit;
    const char *spill_dir;
} sql_cli;

int ts_cli_rank(void)
{
    int inited = 0, rank = 0;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

/* Printed by rank 0 only (see tessera run's). */
static int usage_error(const char *fmt, const char *arg)
{
    if (ts_cli_rank() != 0)
        return TS_ERR_USAGE;
    fputs("tessera sql: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(SQL_USAGE, stderr);
    return TS_ERR_USAGE;
}

static int add_param(sql_cli *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return usage_error("--set needs NAME=VALUE, not '%s'", arg);
    if (c->opt.nparams == MAX_PARAMS)
        return usage_error("%s", "too many --set options");
    char *name = strndup(arg, (size_t)(eq - arg));
    if (!name)
        return usage_error("%s", "out of memory");
    c->owned[c->opt.nparams] = name;
    c->names[c->opt.nparams] = name, c->values[c->opt.nparams] = eq + 1;
    c->opt.nparams++;
    return 0;
}

static int parse(int argc, char **argv, sql_cli *c)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"overwrite", no_argument, 0, 'w'}, {"job-name", required_argument, 0, 'j'}, {"set", required_argument, 0, 's'},
        {"max-rows", required_argument, 0, 'm'}, {"profile", no_argument, 0, 'p'}, {"timing", no_argument, 0, 't'},
        {"format", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'}, {"debug", no_argument, 0, 'g'}, {"help", no_argument, 0, 'h'},
        {"mode", required_argument, 0, 'M'}, {"bail", no_argument, 0, 'b'},
        {"memory-limit", required_argument, 0, 'L'}, {"spill-dir", required_argument, 0, 'D'},
        {"checkpoint", required_argument, 0, 'K'}, {"resume", no_argument, 0, 'R'}, {0, 0, 0, 0}};
    static const char *const modes[] = {"aligned", "table", "csv", "markdown", "line"};
    opterr = 0;
    int ch, rc;
    while ((ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'c': c->command = optarg; break;
        case 'o': c->opt.out_path = optarg; break;
        case 'w': c->opt.overwrite = 1; break;
        case 'j': c->opt.job_name = optarg; break;
        case 's':
            if ((rc = add_param(c, optarg)))
                return rc;
            break;
        case 'm':
            c->opt.max_print_rows = (int)strtol(optarg, &end, 10);
            if (*end || c->opt.max_print_rows <= 0)
                return usage_error("--max-rows needs a positive integer, not '%s'", optarg);
            break;
        case 'p': c->opt.profile = 1; break;
        case 't': c->opt.timing = 1; break;
        case 'f':
            if (strcmp(optarg, "csv") && strcmp(optarg, "table"))
                return usage_error("--format is table or csv, not '%s'", optarg);
            c->opt.print_mode = strcmp(optarg, "csv") ? TS_SQL_PRINT_ALIGNED : TS_SQL_PRINT_CSV;
            break;
        case 'q': c->opt.quiet = 1; break;
        case 'g': c->debug = 1; break;
        case 'b': c->bail = 1; break;
        case 'L':
            if (ts_cli_parse_bytes(optarg, &c->memory_limit) != 0)
                return usage_error("--memory-limit needs a positive size in bytes (suffix K, M or G), not '%s'",
                                   optarg);
            break;
        case 'D': c->spill_dir = optarg; break;
        case 'K': c->opt.checkpoint_dir = optarg; break;
        case 'R': c->opt.resume = 1; break;
        case 'M': {
            int m = 0;
            while (m < 5 && strcmp(optarg, modes[m]))
                m++;
            if (m == 5)
                return usage_error("--mode is one of aligned, table, csv, markdown, line, not '%s'", optarg);
            c->opt.print_mode = (ts_sql_print_mode)m;
            break;
        }
        case 'h': c->help = 1; return 0;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        c->script = argv[optind++];
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (c->script && c->command)
        return usage_error("%s", "give a SCRIPT file or -c SQL, not both");
    if (c->opt.resume && !c->opt.checkpoint_dir)
        return usage_error("%s", "--resume needs --checkpoint DIR");
    if (c->opt.checkpoint_dir && !c->script)
        return usage_error("%s", "--checkpoint goes with a SCRIPT file");
    return 0;
}

int ts_cli_parse_bytes(const char *s, int64_t *out)
{
    char *end;
    const double v = strtod(s, &end);
    double mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024.0, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024.0 * 1024 * 1024, end++;
    if (end == s || *end || !(v > 0) || v * mult > 9e18)
        return -1;
    *out = (int64_t)(v * mult);
    return 0;
}

/* The memory budget the pipelined operators read from ctx (collective): the working room above the baseline,
 * and each blocking operator's share of it (a quarter: a join's build tables, an aggregation's groups and the
 * exchange buffers are alive at the same time). */
static ts_err set_budget(ts_ctx *ctx, const sql_cli *c)
{
    if (!c->memory_limit)
        return TS_OK;
    ts_budget b;
    TS_TRY(ts_budget_init(ctx, c->memory_limit, &b));
    ctx->mem_limit = b.limit;
    ctx->mem_room = b.limit - b.baseline;
    /* the same budget on every rank (the least room): operators take collective decisions from it (partition
     * counts, broadcast caps), and each rank's baseline differs by a few MiB */
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &ctx->mem_room, 1, MPI_INT64_T, MPI_MIN, ctx->comm));
    ctx->op_room = ctx->mem_room / 4;
    int64_t share; /* testing: a smaller share makes small data spill */
    const char *env = getenv("TESSERA_OP_MEMORY");
    if (env && ts_cli_parse_bytes(env, &share) == 0 && share < ctx->op_room)
        ctx->op_room = share;
    ctx->spill_dir = ts_spill_dir(c->spill_dir);
    return TS_OK;
}

static ts_err read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        TS_FAIL(TS_ERR_IO, "cannot open SQL script '%s'", path);
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    const int bad = ferror(f);
    fclose(f);
    if (!buf)
        TS_FAIL(TS_ERR_NOMEM, "out of memory reading '%s'", path);
    if (bad) {
        free(buf);
        TS_FAIL(TS_ERR_IO, "cannot read SQL script '%s'", path);
    }
    buf[len] = 0;
    *out = buf;
    return TS_OK;
}

void ts_cli_print_error(ts_err err, int debug)
{
    const char *msg = ts_error_message();
    fprintf(stderr, "tessera: %s: ", ts_error_code_name(err));
    if (debug) {
        fprintf(stderr, "%s\n", msg);
        return;
    }
    for (const char *line = msg; *line;) {
        const char *nl = strchr(line, '\n');
        const int len = nl ? (int)(nl - line) : (int)strlen(line);
        if (strncmp(line, "  at ", 5))
            fprintf(stderr, "%.*s\n", len, line);
        line += len + (nl != NULL);
    }
}

static ts_err run_sql(ts_ctx *ctx, sql_cli *c)
{
    char *text = NULL;
    ts_err err = TS_OK;
    if (c->script)
        err = ts_ctx_check(ctx, ctx->rank == 0 ? read_file(c->script, &text) : TS_OK);
    if (err)
        return err;
    if (c->script) { /* rank 0 read it; every rank parses the same text */
        int64_t len = ctx->rank == 0 ? (int64_t)strlen(text) : 0;
        TS_MPI(MPI_Bcast(&len, 1, MPI_INT64_T, 0, ctx->comm));
        if (ctx->rank != 0 && !(text = calloc((size_t)len + 1, 1)))
            err = TS_ERR_NOMEM;
        TS_TRY(ts_ctx_check(ctx, err ? ts_error_raise(err, __FILE__, __LINE__, __func__, "out of memory") : TS_OK));
        TS_MPI(MPI_Bcast(text, (int)len, MPI_CHAR, 0, ctx->comm));
    }
    c->opt.param_names = c->names, c->opt.param_values = c->values;
    c->opt.inputs = c->script ? c->script : "-c";
    ts_sql_session *s = NULL;
    err = ts_sql_session_new(ctx, &c->opt, &s);
    if (!err)
        err = ts_sql_run(s, c->script ? text : c->command, c->script ? c->script : "-c");
    if (!err)
        err = ts_sql_finish(s);
    ts_sql_session_free(s);
    free(text);
    return err;
}

int ts_cli_sql(int argc, char **argv)
{
    sql_cli c = {0};
    int rc = parse(argc, argv, &c);
    if (rc || c.help) {
        if (c.help)
            fputs(SQL_USAGE, stdout);
        for (int i = 0; i < c.opt.nparams; i++)
            free(c.owned[i]);
        return rc;
    }
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "tessera: %s\n", ts_error_message());
        return TS_ERR_MPI;
    }
    ts_crash_install(ctx.rank); /* the same crash report and fault injection as the built-in jobs */
    int err = ts_fault_init(&ctx);
    if (!err)
        err = set_budget(&ctx, &c);
    if (err) {
        if (ctx.rank == 0)
            ts_cli_print_error(err, c.debug);
    } else if (c.script || c.command) {
        /* block buffering (results are flushed after each statement): under mpirun standard output is a terminal
         * (the forwarding's pty), line-buffered, and a write per printed row cost TPC-H q16 (18k rows) 0.1 s */
        setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
        err = run_sql(&ctx, &c);
        if (err && ctx.rank == 0)
            ts_cli_print_error(err, c.debug);
    } else {
        c.opt.param_names = c.names, c.opt.param_values = c.values;
        c.opt.inputs = "stdin";
        const ts_shell_options shell = {c.opt, c.bail, c.debug};
        err = ts_sql_shell(&ctx, &shell);
    }
    ts_ctx_free(&ctx);
    for (int i = 0; i < c.opt.nparams; i++)
        free(c.owned[i]);
    return err;
}
