/* The output directory: creation, the manifest guard and stale part files. */
#ifndef GEN_OUTDIR_H
#define GEN_OUTDIR_H
#include "gen_opts.h"

/* Creates DIR and DIR/transactions; refuses (2) a DIR holding manifest.json unless --overwrite; removes the
 * manifest and every part-*.csv / part-*.csv.gz of an earlier run so no stale file survives. Returns 0, 2 or
 * 3 (I/O failure, message printed). Rank 0 only. */
int gen_prepare_outdir(const gen_opts *o);

/* Prints "tessera-gen: cannot WHAT PATH: strerror(errno)" and returns 3 (the I/O exit status). */
int gen_io_fail(const char *what, const char *path);
/* mkdir -p DIR; 0 or 3 (message printed). */
int gen_make_dirs(const char *dir);

#endif
