/* Command line of tessera-gen. */
#ifndef GEN_OPTS_H
#define GEN_OPTS_H
#include <stdint.h>

#define GEN_MAX_FILES 100000 /* keeps part-NNNNN names at 5 digits, so name order is file order */
#define GEN_MAX_SNAPSHOT 1200 /* snapshot dates run monthly from 2026-01-01: up to year 2126 */

/* --dbbench TASK: the db-benchmark's data instead of the bank data (gen_dbbench.h). */
enum gen_dbbench_task { GEN_DBBENCH_NONE, GEN_DBBENCH_GROUPBY, GEN_DBBENCH_JOIN };

#define GEN_DBBENCH_SEED 108 /* --seed's default with --dbbench (the R generators' set.seed(108)) */

typedef struct gen_opts {
    uint64_t rows, seed, rows_per_file;
    int dbbench;       /* enum gen_dbbench_task */
    uint64_t groups;   /* --groups K (dbbench groupby; default 100) */
    uint64_t na_pct;   /* --na PCT: percent of NULLs in each dbbench groupby column, 0..100 (default 0) */
    uint64_t snapshot; /* --snapshot K: customers.csv evolved K steps from the initial one (0: the initial one) */
    double faults;
    const char *out;
    int gzip, quiet, overwrite;
} gen_opts;

/* Parses argv. Returns -1 to go on, 0 after --help, 2 on bad usage; only `talk` prints (rank 0). */
int gen_opts_parse(int argc, char **argv, gen_opts *o, int talk);

/* ceil(rows / rows_per_file), at least 1. */
uint64_t gen_opts_nfiles(const gen_opts *o);

#endif
