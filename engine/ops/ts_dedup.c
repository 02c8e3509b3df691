#include "ts_dedup.h"

#include <stdlib.h>

#include "ts_mem.h"
#include "ts_rowset.h"

/* Marks loser[i] = 1 for every row that has an earlier (smaller order value) row with the same content.
 * The set maps each content to its current earliest row. */
static ts_err mark_losers(const uint64_t *lo, const uint64_t *hi, const int64_t *order, int64_t n, uint8_t *loser)
{
    if (n >= (INT64_C(1) << 32))
        TS_FAIL(TS_ERR_USAGE, "dedup of %lld rows on one rank: at most 2^32 are supported", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *slots;
    TS_TRY(ts_calloc(nslots * sizeof *slots, (void **)&slots));
    ts_rowset set;
    ts_rowset_init(&set, slots, nslots, lo, hi);
    /* batch the inserts (prefetching); a row whose content was seen is a duplicate candidate */
    uint32_t first[1024];
    for (int64_t base = 0; base < n; base += 1024) {
        const uint32_t m = (uint32_t)(n - base < 1024 ? n - base : 1024);
        ts_rowset_insert_many(&set, NULL, (uint32_t)base, m, first);
        for (uint32_t k = 0; k < m; k++) {
            const uint32_t i = (uint32_t)base + k;
            if (first[k] == i)
                continue;
            /* the slot holds the earliest row of this content so far (it may have changed since the batch
             * insert); keep whichever comes first in the input */
            uint64_t *slot = ts_rowset_insert(&set, i);
            const uint32_t f = ts_rowset_row(slot);
            if (order[i] < order[f])
                loser[f] = 1, ts_rowset_set_row(slot, i);
            else
                loser[i] = 1;
        }
    }
    ts_free(slots);
    return TS_OK;
}

ts_err ts_dedup(ts_table *t, const char *hash_lo, const char *hash_hi, const char *order_col, ts_table **dups)
{
    ts_column *lo, *hi, *ord;
    TS_TRY(ts_table_need(t, hash_lo, &lo));
    TS_TRY(ts_table_need(t, hash_hi, &hi));
    TS_TRY(ts_table_need(t, order_col, &ord));
    const int64_t n = ts_table_rows(t);
    uint8_t *loser = ts_big_zero((size_t)n + 1);
    int64_t *keep = ts_big(8 * (size_t)(n + 1)), *drop = ts_big(8 * (size_t)(n + 1));
    ts_err err = loser && keep && drop
                     ? mark_losers(TS_COL(lo, uint64_t), TS_COL(hi, uint64_t), TS_COL(ord, int64_t), n, loser)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in dedup");
    int64_t nk = 0, nd = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        if (loser[i])
            drop[nd++] = i;
        else
            keep[nk++] = i;
    }
    *dups = NULL;
    if (!err)
        err = ts_table_new_like(t, "duplicates", dups);
    if (!err)
        err = ts_table_append_rows(*dups, t, drop, nd);
    if (!err)
        ts_table_keep_rows(t, keep, nk);
    if (err) {
        ts_table_free(*dups);
        *dups = NULL;
    }
    ts_free(loser), ts_free(keep), ts_free(drop);
    return err;
}
