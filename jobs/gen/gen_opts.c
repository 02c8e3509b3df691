#include "gen_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tessera-gen --rows N --seed S --out DIR [--gzip] [--faults RATE] [--rows-per-file K]\n"
    "                   [--snapshot K] [--overwrite] [--quiet]\n"
    "\n"
    "Writes deterministic sample bank data (the same bytes for the same options, whatever the number of\n"
    "MPI ranks): DIR/transactions/part-NNNNN.csv[.gz], the reference tables countries.csv, fx_rates.csv,\n"
    "indicators.csv, demographics.csv, customers.csv, accounts.csv, and DIR/manifest.json.\n"
    "\n"
    "  --rows N            transactions to write (0 or more)\n"
    "  --seed S            random seed (unsigned 64-bit integer)\n"
    "  --out DIR           output directory (created if missing)\n"
    "  --gzip              write transactions as .csv.gz (zlib level 1)\n"
    "  --faults RATE       share of rows carrying an injected fault, 0..1 (default 0.02)\n"
    "  --rows-per-file K   rows per transaction file (default 1000000; at most 100000 files)\n"
    "  --snapshot K        customer snapshot K (default 0): customers.csv as it stands K monthly snapshots\n"
    "                      after the initial one. Snapshot k evolves snapshot k-1's customers: about 4 %\n"
    "                      change one attribute (segment, email or name), 1 % are deleted and 2 % of the\n"
    "                      initial count are new (ids above every id issued before); each a function of\n"
    "                      (seed, k, customer_id). Snapshot K is dated 2026-01-01 plus K months (snapshot 0:\n"
    "                      2026-01-01, the day after the last transaction date). K >= 1 also writes\n"
    "                      DIR/snapshot.txt (snapshot=K, snapshot_date=YYYY-MM-DD) and both fields into\n"
    "                      manifest.json; every other file is the same as for K = 0, and K = 0 writes\n"
    "                      exactly what a run without --snapshot writes. At most 1200.\n"
    "  --overwrite         allow a DIR that already holds a manifest.json\n"
    "  --quiet             no progress output\n"
    "  --help              this text\n"
    "\n"
    "The db-benchmark's data (docs/dbbench.md) instead of the bank data:\n"
    "  tessera-gen --dbbench groupby --rows N [--groups K] [--na PCT] [--seed S] --out DIR\n"
    "  tessera-gen --dbbench join --rows N [--seed S] --out DIR\n"
    "  --dbbench TASK      groupby: DIR/x/part-NNNNN.csv, N rows of id1..id6, v1..v3 (groupby-datagen.R);\n"
    "                      join: DIR/{x,small,medium,big}/part-NNNNN.csv of N, N/10^6, N/10^3 and N rows\n"
    "                      (join-datagen.R; at least 1 row each); plus DIR/dbbench.json, written last\n"
    "  --groups K          groupby: K groups of id1, id2, id4, id5 and N/K of id3, id6 (default 100, <= N)\n"
    "  --na PCT            groupby: exactly floor(N * PCT / 100) empty (NULL) fields in each column,\n"
    "                      integer 0..100 (default 0)\n"
    "  --seed defaults to 108 there; --rows-per-file, --overwrite and --quiet apply as above.\n"
    "\n"
    "Run under MPI to spread the files over ranks: mpirun -n P tessera-gen ...\n"
    "Exit status: 0 ok, 2 bad usage, 3 I/O failure.\n";

static int bad(int talk, const char *what, const char *arg)
{
    if (talk)
        fprintf(stderr, "tessera-gen: %s%s%s\nTry 'tessera-gen --help'.\n", what, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* Unsigned decimal integer, digits only, below 2^63 (ids are int64). */
static int parse_u63(const char *s, uint64_t *v)
{
    if (!s || *s < '0' || *s > '9')
        return 0;
    char *end;
    errno = 0;
    const unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > (unsigned long long)INT64_MAX)
        return 0;
    *v = x;
    return 1;
}

static int parse_rate(const char *s, double *v)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    const double x = strtod(s, &end);
    if (errno || *end || !isfinite(x) || x < 0.0 || x > 1.0)
        return 0;
    *v = x;
    return 1;
}

/* Value of an option given as `--opt=value` or `--opt value`; NULL when absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int is_flag(const char *a, const char *name) { return strcmp(a, name) == 0; }

int gen_opts_parse(int argc, char **argv, gen_opts *o, int talk)
{
    memset(o, 0, sizeof *o);
    o->faults = 0.02;
    o->rows_per_file = 1000000;
    int have_rows = 0, have_seed = 0, have_bank_opt = 0, have_groupby_opt = 0;
    o->groups = 100;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (is_flag(a, "--help") || is_flag(a, "-h")) {
            if (talk)
                fputs(usage, stdout);
            return 0;
        } else if (is_flag(a, "--gzip")) {
            o->gzip = 1;
            have_bank_opt = 1;
        } else if (is_flag(a, "--quiet")) {
            o->quiet = 1;
        } else if (is_flag(a, "--overwrite")) {
            o->overwrite = 1;
        } else if ((v = opt_value(argc, argv, &i, "--rows-per-file"))) {
            if (!parse_u63(v, &o->rows_per_file) || o->rows_per_file == 0)
                return bad(talk, "--rows-per-file needs a positive integer", v);
        } else if ((v = opt_value(argc, argv, &i, "--rows"))) {
            if (!parse_u63(v, &o->rows) || o->rows >= (uint64_t)INT64_MAX)
                return bad(talk, "--rows needs a non-negative integer", v);
            have_rows = 1;
        } else if ((v = opt_value(argc, argv, &i, "--seed"))) {
            if (!parse_u63(v, &o->seed))
                return bad(talk, "--seed needs a non-negative integer below 2^63", v);
            have_seed = 1;
        } else if ((v = opt_value(argc, argv, &i, "--snapshot"))) {
            if (!parse_u63(v, &o->snapshot) || o->snapshot > GEN_MAX_SNAPSHOT)
                return bad(talk, "--snapshot needs an integer between 0 and 1200", v);
            have_bank_opt = 1;
        } else if ((v = opt_value(argc, argv, &i, "--faults"))) {
            if (!parse_rate(v, &o->faults))
                return bad(talk, "--faults needs a number between 0 and 1", v);
            have_bank_opt = 1;
        } else if ((v = opt_value(argc, argv, &i, "--dbbench"))) {
            if (strcmp(v, "groupby") != 0 && strcmp(v, "join") != 0)
                return bad(talk, "--dbbench needs groupby or join", v);
            o->dbbench = strcmp(v, "groupby") == 0 ? GEN_DBBENCH_GROUPBY : GEN_DBBENCH_JOIN;
        } else if ((v = opt_value(argc, argv, &i, "--groups"))) {
            if (!parse_u63(v, &o->groups) || o->groups == 0)
                return bad(talk, "--groups needs a positive integer", v);
            have_groupby_opt = 1;
        } else if ((v = opt_value(argc, argv, &i, "--na"))) {
            if (!parse_u63(v, &o->na_pct) || o->na_pct > 100)
                return bad(talk, "--na needs an integer percentage between 0 and 100", v);
            have_groupby_opt = 1;
        } else if ((v = opt_value(argc, argv, &i, "--out"))) {
            if (!*v)
                return bad(talk, "--out needs a directory", NULL);
            o->out = v;
        } else {
            return bad(talk, "unknown or incomplete option", a);
        }
    }
    if (o->dbbench) {
        if (!have_seed)
            o->seed = GEN_DBBENCH_SEED;
        have_seed = 1;
        if (have_bank_opt)
            return bad(talk, "--gzip, --faults and --snapshot do not apply to --dbbench", NULL);
        if (have_groupby_opt && o->dbbench != GEN_DBBENCH_GROUPBY)
            return bad(talk, "--groups and --na apply to --dbbench groupby only", NULL);
        if (have_rows && o->rows == 0)
            return bad(talk, "--dbbench needs --rows of at least 1", NULL);
        if (have_rows && o->dbbench == GEN_DBBENCH_GROUPBY && o->groups > o->rows)
            return bad(talk, "--groups must not exceed --rows (id3 and id6 take N/K values)", NULL);
    } else if (have_groupby_opt) {
        return bad(talk, "--groups and --na need --dbbench groupby", NULL);
    }
    if (!have_rows || !have_seed || !o->out)
        return bad(talk, o->dbbench ? "--rows and --out are required" : "--rows, --seed and --out are required",
                   NULL);
    if (gen_opts_nfiles(o) > GEN_MAX_FILES)
        return bad(talk, "too many files (at most 100000): raise --rows-per-file", NULL);
    return -1;
}

uint64_t gen_opts_nfiles(const gen_opts *o)
{
    const uint64_t n = o->rows / o->rows_per_file + (o->rows % o->rows_per_file != 0);
    return n ? n : 1;
}
