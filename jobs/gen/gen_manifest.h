/* DIR/manifest.json: what was written and the exact count of each injected fault. */
#ifndef GEN_MANIFEST_H
#define GEN_MANIFEST_H
#include <stdint.h>

#include "gen_model.h"
#include "gen_opts.h"
#include "gen_ref.h"
#include "gen_rows.h"

typedef struct gen_totals {
    uint64_t nfiles;
    const uint64_t *file_rows, *file_bytes; /* per file, summed over ranks */
    uint64_t kinds[GEN_NKIND];              /* rows emitted per gen_kind */
    uint64_t ref_rows[GEN_NREF];
} gen_totals;

/* Writes manifest.json atomically (temp file + rename). Returns 0, or 3 after printing path and errno text. */
int gen_write_manifest(const gen_opts *o, const gen_totals *t);

/* Rows a correct reader rejects (sum over the reject kinds). */
uint64_t gen_rejected_rows(const gen_totals *t);

#endif
