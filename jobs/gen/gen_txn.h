/* Transaction files: file i holds global rows [i·K, min(N, (i+1)·K)), so its bytes depend only on
 * (N, seed, rate, K, i) and never on which rank writes it. */
#ifndef GEN_TXN_H
#define GEN_TXN_H
#include <stddef.h>
#include <stdint.h>

#include "gen_model.h"
#include "gen_opts.h"
#include "gen_rows.h"

/* "transactions/part-00007.csv[.gz]" (relative to DIR, as listed in the manifest). */
void gen_part_name(char *buf, size_t size, uint64_t file, int gzip);

/* Writes file `file`; adds its data rows, file bytes and per-kind row counts to the outputs. Returns 0, or 3
 * after printing the failing path and errno text. */
int gen_write_txn_file(const gen_model *m, const gen_opts *o, uint64_t file, uint64_t *rows, uint64_t *bytes,
                       uint64_t kinds[GEN_NKIND]);

#endif
