/* tessera-gen --dbbench: the data of the db-benchmark (h2oai, now duckdblabs) group-by and join questions,
 * following its R generators groupby-datagen.R and join-datagen.R (docs/dbbench.md has the exact spec).
 *
 * Every value is a pure function of (seed, table, row number): uniform draws come from the counter-based mixer
 * of gen_rng.h, and the R scripts' shuffles ("sample without replacement", "every key at least once") from keyed
 * pseudo-random permutations evaluated at the row number. So any rank can write any file alone, and the bytes of
 * every file are the same for every number of ranks. Files hold --rows-per-file rows each and are dealt
 * round-robin over the ranks. */
#ifndef GEN_DBBENCH_H
#define GEN_DBBENCH_H
#include "gen_opts.h"

/* Writes the data set of o->dbbench (GEN_DBBENCH_GROUPBY or _JOIN) under o->out: one directory per table
 * (x; or x, small, medium, big) of part-NNNNN.csv files with a header line each, then DIR/dbbench.json (last, so
 * its presence means the data set is complete). Collective over MPI_COMM_WORLD. Returns 0, 2 (DIR already holds
 * dbbench.json and no --overwrite) or 3 (I/O failure, message printed by the failing rank), the same on every
 * rank. */
int gen_dbbench_run(const gen_opts *o, int rank, int size);

#endif
