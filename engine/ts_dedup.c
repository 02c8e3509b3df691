#include "ts_dedup.h"

#include <stdlib.h>

#include "ts_ht.h"

ts_err ts_dedup(const ts_table *in, const char *hash_lo, const char *hash_hi, const char *order_col,
                ts_table **kept, ts_table **dups)
{
    ts_column *lo, *hi, *ord;
    TS_TRY(ts_table_need(in, hash_lo, &lo));
    TS_TRY(ts_table_need(in, hash_hi, &hi));
    TS_TRY(ts_table_need(in, order_col, &ord));
    const int64_t n = ts_table_rows(in), *l = TS_COL(lo, int64_t), *h = TS_COL(hi, int64_t);
    const int64_t *o = TS_COL(ord, int64_t);
    /* loser[row] = 1 once an earlier row with the same content is known; the table maps content -> earliest row */
    uint8_t *loser = calloc((size_t)n + 1, 1);
    int64_t *keep = malloc(8 * (size_t)(n + 1)), *drop = malloc(8 * (size_t)(n + 1));
    ts_ht ht = {0};
    ts_err err = loser && keep && drop && ts_ht_init(&ht, 1024) == 0
                     ? TS_OK
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in dedup");
    for (int64_t i = 0; !err && i < n; i++) {
        int inserted;
        int64_t *slot = ts_ht_upsert(&ht, (uint64_t)l[i], (uint64_t)h[i], i, &inserted);
        if (!slot) {
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in dedup");
        } else if (!inserted) {
            if (o[i] < o[*slot])
                loser[*slot] = 1, *slot = i;
            else
                loser[i] = 1;
        }
    }
    ts_ht_free(&ht);
    int64_t nk = 0, nd = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        if (loser[i])
            drop[nd++] = i;
        else
            keep[nk++] = i;
    }
    *kept = *dups = NULL;
    if (!err)
        err = ts_table_new_like(in, in->name, kept);
    if (!err)
        err = ts_table_append_rows(*kept, in, keep, nk);
    if (!err)
        err = ts_table_new_like(in, "duplicates", dups);
    if (!err)
        err = ts_table_append_rows(*dups, in, drop, nd);
    if (err) {
        ts_table_free(*kept), ts_table_free(*dups);
        *kept = *dups = NULL;
    }
    free(drop);
    free(loser), free(keep);
    return err;
}
