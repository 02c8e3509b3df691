/* Local (per-rank) sorting: key comparison, the radix and merge sorts, and the bounded top-k heap. */
#include "ts_sort_local.h"

#include <stdlib.h>
#include <string.h>

#include "ts_keys.h"
#include "ts_mem.h"

ts_err ts_sort_keyset_resolve(const ts_table *t, const ts_sort_key *keys, int nkeys, ts_sort_keyset *ks)
{
    if (nkeys < 1 || nkeys > 9) /* 8 user keys + the input position */
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    ks->n = nkeys;
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_table_need(t, keys[k].name, &c));
        ks->cols[k] = c, ks->desc[k] = keys[k].desc, ks->nulls_last[k] = keys[k].nulls_last;
    }
    return TS_OK;
}

static int cmp_bytes(const char *a, int64_t la, const char *b, int64_t lb)
{
    const int c = la && lb ? memcmp(a, b, (size_t)(la < lb ? la : lb)) : 0;
    return c ? (c > 0) - (c < 0) : (la > lb) - (la < lb);
}

/* NaN sorts after every number and equal to itself, so the order stays total. */
static int cmp_double(double x, double y)
{
    const int nx = x != x, ny = y != y;
    if (nx || ny)
        return nx - ny;
    return (x > y) - (x < y);
}

static int cmp_value(const ts_column *a, int64_t i, const ts_column *b, int64_t j)
{
    switch (a->type) {
    case TS_T_FLOAT64: return cmp_double(TS_COL(a, double)[i], TS_COL(b, double)[j]);
    case TS_T_STRING: {
        const int64_t *oa = TS_COL(a, int64_t), *ob = TS_COL(b, int64_t);
        return cmp_bytes(a->bytes + oa[i], oa[i + 1] - oa[i], b->bytes + ob[j], ob[j + 1] - ob[j]);
    }
    case TS_T_DICT: {
        int64_t la, lb;
        const char *sa = ts_dict_value(a->dict, TS_COL(a, int32_t)[i], &la);
        const char *sb = ts_dict_value(b->dict, TS_COL(b, int32_t)[j], &lb);
        return cmp_bytes(sa, la, sb, lb);
    }
    default: {
        const int64_t x = ts_key_value(a, i), y = ts_key_value(b, j);
        return (x > y) - (x < y);
    }
    }
}

int ts_sort_keyset_cmp(const ts_sort_keyset *a, int64_t i, const ts_sort_keyset *b, int64_t j)
{
    for (int k = 0; k < a->n; k++) {
        const int va = ts_column_is_valid(a->cols[k], i), vb = ts_column_is_valid(b->cols[k], j);
        int c;
        if (!va || !vb) /* null placement does not flip with DESC: it is stated on its own */
            c = va == vb ? 0 : (va ? 1 : -1) * (a->nulls_last[k] ? -1 : 1);
        else
            c = cmp_value(a->cols[k], i, b->cols[k], j) * (a->desc[k] ? -1 : 1);
        if (c)
            return c;
    }
    return 0;
}

/* Stable merge sort of idx[0..n) by the keys (tmp: scratch of n). */
static void merge_sort(const ts_sort_keyset *ks, int64_t *idx, int64_t *tmp, int64_t n)
{
    if (n < 2)
        return;
    const int64_t h = n / 2;
    merge_sort(ks, idx, tmp, h);
    merge_sort(ks, idx + h, tmp, n - h);
    if (ts_sort_keyset_cmp(ks, idx[h - 1], ks, idx[h]) <= 0)
        return; /* already in order: common for presorted input */
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = ts_sort_keyset_cmp(ks, idx[j], ks, idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof *idx * (size_t)n);
}

void ts_sort_record_keys(ts_table *t, const ts_sort_key *keys, int nkeys)
{
    const char *names[8];
    for (int k = 0; k < nkeys && k < 8; k++)
        names[k] = keys[k].name;
    ts_table_set_sorted(t, names, nkeys);
}

/* ---- radix path: fixed-width keys without NULLs ------------------------------------------------------------
 * Each key becomes an order-preserving unsigned 64-bit value (sign bit flipped for integers, IEEE total order for
 * doubles with -0 = 0 and one NaN above +inf, complemented for DESC). An LSD radix sort on 16-bit digits, least
 * significant key first, is stable, so ties keep input order exactly like the merge sort; digits that are the
 * same in every row are skipped, so small value ranges cost one or two passes. */

static int radix_able(const ts_sort_keyset *ks)
{
    for (int k = 0; k < ks->n; k++) {
        const ts_column *c = ks->cols[k];
        if (c->valid || c->type == TS_T_STRING || c->type == TS_T_DICT)
            return 0;
    }
    return 1;
}

static uint64_t normalized(const ts_column *c, int64_t i, int desc)
{
    uint64_t u;
    if (c->type == TS_T_FLOAT64) {
        double v = TS_COL(c, double)[i];
        if (v != v)
            v = __builtin_nan("");
        else if (v == 0)
            v = 0.0;
        memcpy(&u, &v, 8);
        u = u >> 63 ? ~u : u | (UINT64_C(1) << 63);
    } else {
        u = (uint64_t)ts_key_value(c, i) ^ (UINT64_C(1) << 63);
    }
    return desc ? ~u : u;
}

/* Stable LSD radix sort of (key, idx) pairs by key. */
static void radix_pairs(uint64_t *key, int64_t *idx, uint64_t *key2, int64_t *idx2, int64_t n)
{
    uint64_t varying = 0;
    for (int64_t i = 1; i < n; i++)
        varying |= key[i] ^ key[0];
    static uint32_t count[1 << 16];
    for (int shift = 0; shift < 64; shift += 16) {
        if (!((varying >> shift) & 0xffff))
            continue;
        memset(count, 0, sizeof count);
        for (int64_t i = 0; i < n; i++)
            count[(key[i] >> shift) & 0xffff]++;
        uint32_t sum = 0;
        for (int d = 0; d < (1 << 16); d++) {
            const uint32_t c = count[d];
            count[d] = sum, sum += c;
        }
        for (int64_t i = 0; i < n; i++) {
            const uint32_t at = count[(key[i] >> shift) & 0xffff]++;
            key2[at] = key[i], idx2[at] = idx[i];
        }
        memcpy(key, key2, sizeof *key * (size_t)n), memcpy(idx, idx2, sizeof *idx * (size_t)n);
    }
}

static ts_err radix_order(const ts_sort_keyset *ks, int64_t n, int64_t *idx)
{
    uint64_t *key = ts_big(8 * (size_t)(n + 1)), *key2 = ts_big(8 * (size_t)(n + 1));
    int64_t *idx2 = ts_big(8 * (size_t)(n + 1));
    if (!key || !key2 || !idx2) {
        ts_free(key), ts_free(key2), ts_free(idx2);
        TS_FAIL(TS_ERR_NOMEM, "out of memory sorting %lld rows", (long long)n);
    }
    for (int k = ks->n - 1; k >= 0; k--) { /* least significant key first: each pass keeps earlier order on ties */
        for (int64_t i = 0; i < n; i++)
            key[i] = normalized(ks->cols[k], idx[i], ks->desc[k]);
        radix_pairs(key, idx, key2, idx2, n);
    }
    ts_free(key), ts_free(key2), ts_free(idx2);
    return TS_OK;
}

ts_err ts_sort_local_order(const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t **out)
{
    ts_sort_keyset ks;
    TS_TRY(ts_sort_keyset_resolve(t, keys, nkeys, &ks));
    const int64_t n = ts_table_rows(t);
    int64_t *idx = ts_big(8 * (size_t)(n + 1)), *tmp = ts_big(8 * (size_t)(n + 1));
    if (!idx || !tmp) {
        ts_free(idx), ts_free(tmp);
        TS_FAIL(TS_ERR_NOMEM, "out of memory sorting %lld rows", (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    ts_err err = TS_OK;
    /* radix needs row counts below 2^32 per digit histogram; beyond that (or with strings / NULLs) merge sort */
    if (radix_able(&ks) && n > 64 && n < (INT64_C(1) << 32))
        err = radix_order(&ks, n, idx);
    else
        merge_sort(&ks, idx, tmp, n);
    ts_free(tmp);
    if (err) {
        ts_free(idx);
        return err;
    }
    *out = idx;
    return TS_OK;
}

static ts_err reorder(ts_table **t, const int64_t *idx, int64_t n)
{
    ts_table *sorted;
    TS_TRY(ts_table_new_like(*t, (*t)->name, &sorted));
    const ts_err err = ts_table_append_rows(sorted, *t, idx, n);
    if (err) {
        ts_table_free(sorted);
        return err;
    }
    ts_table_free(*t);
    *t = sorted;
    return TS_OK;
}

ts_err ts_sort_local_keys(ts_table **t, const ts_sort_key *keys, int nkeys)
{
    int64_t *idx = NULL;
    TS_TRY(ts_sort_local_order(*t, keys, nkeys, &idx));
    const ts_err err = reorder(t, idx, ts_table_rows(*t));
    ts_free(idx);
    TS_TRY(err);
    ts_sort_record_keys(*t, keys, nkeys);
    return TS_OK;
}

ts_err ts_sort_local_by(ts_table **t, const ts_sort_key *keys, int nkeys)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    return ts_sort_local_keys(t, keys, nkeys);
}

/* ---- top k heap ---------------------------------------------------------------------------------------------- */

/* Max-heap of row indexes under the sort order: the root is the worst of the k best rows so far. */
static void sift_down(const ts_sort_keyset *ks, int64_t *h, int64_t n, int64_t at)
{
    for (;;) {
        int64_t big = at;
        const int64_t l = 2 * at + 1, r = l + 1;
        if (l < n && ts_sort_keyset_cmp(ks, h[l], ks, h[big]) > 0)
            big = l;
        if (r < n && ts_sort_keyset_cmp(ks, h[r], ks, h[big]) > 0)
            big = r;
        if (big == at)
            return;
        const int64_t x = h[at];
        h[at] = h[big], h[big] = x, at = big;
    }
}

/* Row indexes of the local top k (unordered). */
ts_err ts_sort_local_top(const ts_table *t, const ts_sort_keyset *ks, int64_t k, int64_t **out, int64_t *m)
{
    const int64_t n = ts_table_rows(t), cap = k < n ? k : n;
    int64_t *h = ts_big(8 * (size_t)(cap + 1)), size = 0;
    if (!h)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a top-%lld heap", (long long)k);
    for (int64_t i = 0; i < n && cap; i++) {
        if (size < cap) {
            h[size++] = i;
            for (int64_t at = size - 1; at > 0 && ts_sort_keyset_cmp(ks, h[(at - 1) / 2], ks, h[at]) < 0; at = (at - 1) / 2) {
                const int64_t x = h[at];
                h[at] = h[(at - 1) / 2], h[(at - 1) / 2] = x;
            }
        } else if (ts_sort_keyset_cmp(ks, i, ks, h[0]) < 0) { /* strictly better: ties keep the earlier row */
            h[0] = i;
            sift_down(ks, h, size, 0);
        }
    }
    *out = h, *m = size;
    return TS_OK;
}

/* ---- shorthands -------------------------------------------------------------------------------------------- */

int ts_sort_ascending(const char *const *names, int n, ts_sort_key *keys)
{
    for (int k = 0; k < n && k < 8; k++)
        keys[k] = (ts_sort_key){names[k], 0, 0};
    return n;
}

ts_err ts_sort_local(ts_table **t, const char *const *keys, int nkeys)
{
    ts_sort_key k[8];
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    return ts_sort_local_keys(t, k, ts_sort_ascending(keys, nkeys, k));
}

