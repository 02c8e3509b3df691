#include "ts_join.h"

#include <stdlib.h>

#include "ts_ht.h"
#include "ts_keys.h"

static ts_err null_mask(const ts_table *t, const char *const *keys, int nkeys, int64_t i, int *has_null)
{
    *has_null = 0;
    for (int k = 0; k < nkeys; k++)
        *has_null |= !ts_column_is_valid(ts_table_col(t, keys[k]), i);
    return TS_OK;
}

static ts_err build(const ts_table *right, const char *const *keys, int nkeys, uint64_t *lo, uint64_t *hi, ts_ht *ht)
{
    const int64_t n = ts_table_rows(right);
    TS_TRY(ts_pack_keys(right, keys, nkeys, lo, hi));
    if (ts_ht_init(ht, n + 1) != 0)
        TS_FAIL(TS_ERR_NOMEM, "out of memory building the join table of '%s'", right->name);
    for (int64_t i = 0; i < n; i++) {
        int inserted, has_null;
        null_mask(right, keys, nkeys, i, &has_null);
        if (has_null)
            continue;
        if (!ts_ht_upsert(ht, lo[i], hi[i], i, &inserted))
            TS_FAIL(TS_ERR_NOMEM, "out of memory building the join table of '%s'", right->name);
        if (!inserted)
            TS_FAIL(TS_ERR_DATA, "table '%s' has a duplicate join key at row %lld (key %lld, %lld)", right->name,
                    (long long)i, (long long)lo[i], (long long)hi[i]);
    }
    return TS_OK;
}

static ts_err probe(const ts_table *left, const char *const *keys, int nkeys, const ts_ht *ht, uint64_t *lo,
                    uint64_t *hi, int64_t *match)
{
    const int64_t n = ts_table_rows(left);
    TS_TRY(ts_pack_keys(left, keys, nkeys, lo, hi));
    for (int64_t i = 0; i < n; i++) {
        int has_null;
        null_mask(left, keys, nkeys, i, &has_null);
        match[i] = -1;
        if (has_null)
            continue;
        match[i] = ts_ht_find(ht, lo[i], hi[i]);
    }
    return TS_OK;
}

/* Gathers the matched right rows (row 0 as a placeholder for misses, then set null). */
static ts_err bring_column(const ts_table *right, const char *name, const int64_t *match, int64_t n, ts_table *out)
{
    ts_column *src, *dst;
    TS_TRY(ts_table_need(right, name, &src));
    TS_TRY(ts_column_new_like(src, &dst));
    TS_TRY(ts_table_adopt(out, dst));
    int64_t *idx = malloc(8 * (size_t)(n + 1));
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory joining column '%s'", name);
    for (int64_t i = 0; i < n; i++)
        idx[i] = match[i] >= 0 ? match[i] : 0;
    if (!ts_table_rows(right)) { /* every row is a miss */
        free(idx);
        return ts_column_append_nulls(dst, n);
    }
    ts_err err = ts_column_append_rows(dst, src, idx, n);
    for (int64_t i = 0; !err && i < n; i++)
        if (match[i] < 0)
            err = ts_column_set_null(dst, i);
    free(idx);
    return err;
}

static ts_err assemble(const ts_table *left, const ts_table *right, const char *const *bring, int nbring,
                       const int64_t *match, ts_table **out)
{
    const int64_t n = ts_table_rows(left);
    TS_TRY(ts_table_new_like(left, left->name, out));
    TS_TRY(ts_table_append_rows(*out, left, NULL, n));
    for (int b = 0; b < nbring; b++)
        TS_TRY(bring_column(right, bring[b], match, n, *out));
    return TS_OK;
}

ts_err ts_join_lookup(const ts_table *left, const ts_table *right, const char *const *left_keys,
                      const char *const *right_keys, int nkeys, const char *const *bring, int nbring,
                      ts_table **out)
{
    if (nkeys > 2)
        TS_FAIL(TS_ERR_USAGE, "lookup joins take at most 2 key columns, not %d", nkeys);
    const int64_t nl = ts_table_rows(left), nr = ts_table_rows(right);
    uint64_t *rlo = malloc(8 * (size_t)(nr + 1)), *rhi = malloc(8 * (size_t)(nr + 1));
    uint64_t *llo = malloc(8 * (size_t)(nl + 1)), *lhi = malloc(8 * (size_t)(nl + 1));
    int64_t *match = malloc(8 * (size_t)(nl + 1));
    ts_ht ht = {0};
    ts_err err = rlo && rhi && llo && lhi && match
                     ? TS_OK
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in join");
    if (!err)
        err = build(right, right_keys, nkeys, rlo, rhi, &ht);
    if (!err)
        err = probe(left, left_keys, nkeys, &ht, llo, lhi, match);
    *out = NULL;
    if (!err)
        err = assemble(left, right, bring, nbring, match, out);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    ts_ht_free(&ht);
    free(rlo), free(rhi), free(llo), free(lhi), free(match);
    return err;
}
