#include "ts_partition.h"

#include <stdlib.h>
#include <string.h>

#include "ts_keyhash.h"
#include "ts_mem.h"

/* dest[i] = the rank (spill = 0) or the spill partition (spill = 1) among nout of row i's key hash. */
static ts_err route(const ts_table *t, const char *const *keys, int nkeys, int nout, int spill, int32_t *dest)
{
    const int64_t n = ts_table_rows(t);
    if (nkeys == 0 || nout == 1) {
        memset(dest, 0, sizeof *dest * (size_t)n);
        return TS_OK;
    }
    if (nkeys > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "partitioning on more than %d keys", TS_MAX_COLS);
    const ts_column *cols[TS_MAX_COLS];
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_table_need(t, keys[k], &c));
        cols[k] = c;
    }
    enum { BLOCK = 4096 };
    uint64_t h[BLOCK];
    for (int64_t at = 0; at < n; at += BLOCK) { /* a block at a time: the hashes stay in cache */
        const int64_t m = n - at < BLOCK ? n - at : BLOCK;
        ts_column view[TS_MAX_COLS]; /* the block's rows as views (BLOCK is a multiple of 64: validity words align) */
        const ts_column *vp[TS_MAX_COLS];
        for (int k = 0; k < nkeys; k++) {
            view[k] = *cols[k];
            view[k].data = (char *)cols[k]->data + (size_t)at * ts_type_width(cols[k]->type);
            view[k].valid = cols[k]->valid ? cols[k]->valid + at / 64 : NULL;
            vp[k] = &view[k];
        }
        ts_key_hash_sel(vp, nkeys, NULL, m, h);
        if (spill)
            for (int64_t j = 0; j < m; j++)
                dest[at + j] = (int32_t)((((h[j] >> 16) & 0xffffffffu) * (uint64_t)nout) >> 32);
        else
            for (int64_t j = 0; j < m; j++)
                dest[at + j] = ts_partition_rank(h[j], nout);
    }
    return TS_OK;
}

ts_err ts_partition_dest(const ts_table *t, const char *const *keys, int nkeys, int nranks, int32_t *dest)
{
    return route(t, keys, nkeys, nranks, 0, dest);
}

ts_err ts_partition_spill(const ts_table *t, const char *const *keys, int nkeys, int nparts, int32_t *part)
{
    return route(t, keys, nkeys, nparts, 1, part);
}

int ts_partitioned_on(const ts_table *t, const char *const *keys, int nkeys)
{
    if (t->npart <= 0)
        return 0;
    for (int p = 0; p < t->npart; p++) {
        int found = 0;
        for (int k = 0; k < nkeys && !found; k++)
            found = !strcmp(t->part_keys[p], keys[k]);
        if (!found)
            return 0;
    }
    return 1;
}
