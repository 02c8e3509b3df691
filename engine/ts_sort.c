#include "ts_sort.h"

#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_keys.h"
#include "ts_mem.h"

#define ORDER_COL "__sort_order"

typedef struct key_set {
    const ts_column *cols[9];
    int desc[9], nulls_last[9];
    int n;
} key_set;

static ts_err resolve(const ts_table *t, const ts_sort_key *keys, int nkeys, key_set *ks)
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

static int cmp_rows(const key_set *a, int64_t i, const key_set *b, int64_t j)
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
static void merge_sort(const key_set *ks, int64_t *idx, int64_t *tmp, int64_t n)
{
    if (n < 2)
        return;
    const int64_t h = n / 2;
    merge_sort(ks, idx, tmp, h);
    merge_sort(ks, idx + h, tmp, n - h);
    if (cmp_rows(ks, idx[h - 1], ks, idx[h]) <= 0)
        return; /* already in order: common for presorted input */
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_rows(ks, idx[j], ks, idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof *idx * (size_t)n);
}

static void record_keys(ts_table *t, const ts_sort_key *keys, int nkeys)
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

static int radix_able(const key_set *ks)
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

static ts_err radix_order(const key_set *ks, int64_t n, int64_t *idx)
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

/* Sorted row order of t into idx (ts_free). */
static ts_err sorted_order(const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t **out)
{
    key_set ks;
    TS_TRY(resolve(t, keys, nkeys, &ks));
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

static ts_err sort_local(ts_table **t, const ts_sort_key *keys, int nkeys)
{
    int64_t *idx = NULL;
    TS_TRY(sorted_order(*t, keys, nkeys, &idx));
    const ts_err err = reorder(t, idx, ts_table_rows(*t));
    ts_free(idx);
    TS_TRY(err);
    record_keys(*t, keys, nkeys);
    return TS_OK;
}

ts_err ts_sort_local_by(ts_table **t, const ts_sort_key *keys, int nkeys)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    return sort_local(t, keys, nkeys);
}

/* Adds ORDER_COL = global input position (exclusive prefix sum of row counts + local index). */
static ts_err add_order(ts_ctx *ctx, ts_table *t)
{
    const int64_t n = ts_table_rows(t);
    int64_t first = 0;
    TS_MPI(MPI_Exscan(&n, &first, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    if (ctx->rank == 0)
        first = 0; /* MPI_Exscan leaves rank 0's result undefined */
    ts_column *c;
    TS_TRY(ts_table_add(t, ORDER_COL, TS_T_INT64, 0, NULL, &c));
    TS_TRY(ts_column_reserve(c, n, 0));
    for (int64_t i = 0; i < n; i++)
        TS_COL(c, int64_t)[i] = first + i;
    c->len = n;
    return TS_OK;
}

static void drop_last_column(ts_table *t) { ts_column_free(t->cols[--t->ncols]); }

/* Every rank receives every rank's regular samples of its sorted rows (in rank order), then picks the same
 * P-1 splitters. */
static ts_err gather_samples(ts_ctx *ctx, const ts_table *t, const ts_sort_key *keys, int nkeys, ts_table **all)
{
    const int64_t n = ts_table_rows(t), per = n < 32 ? n : 32;
    ts_table *keys_only, *rep = NULL;
    TS_TRY(ts_table_new("samples", &keys_only));
    ts_err err = TS_OK;
    int64_t *pick = malloc(8 * (size_t)(per * ctx->size + 1));
    int32_t *dest = malloc(4 * (size_t)(per * ctx->size + 1));
    if (!pick || !dest)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for samples");
    for (int k = 0; !err && k < nkeys; k++) {
        ts_column *c;
        err = ts_column_new_like(ts_table_col(t, keys[k].name), &c);
        if (!err)
            err = ts_table_adopt(keys_only, c);
    }
    /* sample s of this rank, repeated once per destination rank */
    for (int r = 0; !err && r < ctx->size; r++)
        for (int64_t s = 0; s < per; s++)
            pick[r * per + s] = (2 * s + 1) * n / (2 * per), dest[r * per + s] = r;
    for (int k = 0; !err && k < nkeys; k++)
        err = ts_column_append_rows(keys_only->cols[k], ts_table_col(t, keys[k].name), pick, per * ctx->size);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, keys_only, dest, &rep);
    free(pick), free(dest), ts_table_free(keys_only);
    if (!err)
        err = sort_local(&rep, keys, nkeys);
    *all = rep;
    return err;
}

/* Destination of each (locally sorted) row: the number of splitters not greater than it. */
static ts_err splitter_ranks(ts_ctx *ctx, const ts_table *t, const ts_table *samples, const ts_sort_key *keys,
                             int nkeys, int32_t *dest)
{
    key_set row_keys, split_keys;
    TS_TRY(resolve(t, keys, nkeys, &row_keys));
    TS_TRY(resolve(samples, keys, nkeys, &split_keys));
    const int64_t n = ts_table_rows(t), m = ts_table_rows(samples);
    for (int64_t i = 0; i < n; i++) {
        int lo = 0, hi = ctx->size - 1;
        while (m && lo < hi) { /* m == 0 only when no rank has rows */
            const int mid = (lo + hi + 1) / 2;
            if (cmp_rows(&split_keys, (int64_t)mid * m / ctx->size, &row_keys, i) <= 0)
                lo = mid;
            else
                hi = mid - 1;
        }
        dest[i] = lo;
    }
    return TS_OK;
}

ts_err ts_sort_distributed_by(ts_ctx *ctx, ts_table **t, const ts_sort_key *keys, int nkeys)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    if (ctx->size == 1)
        return sort_local(t, keys, nkeys);
    /* the input position as a last key makes every row distinct: stable, and balanced under duplicates */
    ts_sort_key ext[9];
    memcpy(ext, keys, sizeof *keys * (size_t)nkeys);
    ext[nkeys] = (ts_sort_key){ORDER_COL, 0, 0};
    TS_TRY(ts_ctx_check(ctx, add_order(ctx, *t)));
    /* a view does not own the order column it was given: the sorted copy has its own, so free this one */
    ts_column *view_order = (*t)->borrowed ? (*t)->cols[(*t)->ncols - 1] : NULL;
    ts_err err = ts_ctx_check(ctx, sort_local(t, ext, nkeys + 1));
    if (view_order) {
        if (err) /* *t is still the view */
            (*t)->ncols--;
        ts_column_free(view_order);
    }
    ts_table *samples = NULL;
    if (!err)
        err = gather_samples(ctx, *t, ext, nkeys + 1, &samples);
    const int64_t n = ts_table_rows(*t);
    int32_t *dest = ts_big(4 * (size_t)(n + 1));
    if (!err)
        err = dest ? splitter_ranks(ctx, *t, samples, ext, nkeys + 1, dest)
                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows_move(ctx, t, dest);
    ts_free(dest), ts_table_free(samples);
    if (!err)
        err = ts_ctx_check(ctx, sort_local(t, ext, nkeys + 1));
    TS_TRY(err);
    drop_last_column(*t);
    record_keys(*t, keys, nkeys);
    return TS_OK;
}

/* ---- top k ------------------------------------------------------------------------------------------------- */

/* Max-heap of row indexes under the sort order: the root is the worst of the k best rows so far. */
static void sift_down(const key_set *ks, int64_t *h, int64_t n, int64_t at)
{
    for (;;) {
        int64_t big = at;
        const int64_t l = 2 * at + 1, r = l + 1;
        if (l < n && cmp_rows(ks, h[l], ks, h[big]) > 0)
            big = l;
        if (r < n && cmp_rows(ks, h[r], ks, h[big]) > 0)
            big = r;
        if (big == at)
            return;
        const int64_t x = h[at];
        h[at] = h[big], h[big] = x, at = big;
    }
}

/* Row indexes of the local top k (unordered). */
static ts_err local_top(const ts_table *t, const key_set *ks, int64_t k, int64_t **out, int64_t *m)
{
    const int64_t n = ts_table_rows(t), cap = k < n ? k : n;
    int64_t *h = ts_big(8 * (size_t)(cap + 1)), size = 0;
    if (!h)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a top-%lld heap", (long long)k);
    for (int64_t i = 0; i < n && cap; i++) {
        if (size < cap) {
            h[size++] = i;
            for (int64_t at = size - 1; at > 0 && cmp_rows(ks, h[(at - 1) / 2], ks, h[at]) < 0; at = (at - 1) / 2) {
                const int64_t x = h[at];
                h[at] = h[(at - 1) / 2], h[(at - 1) / 2] = x;
            }
        } else if (cmp_rows(ks, i, ks, h[0]) < 0) { /* strictly better: ties keep the earlier row */
            h[0] = i;
            sift_down(ks, h, size, 0);
        }
    }
    *out = h, *m = size;
    return TS_OK;
}

ts_err ts_top_k(ts_ctx *ctx, const ts_table *t, const ts_sort_key *keys, int nkeys, int64_t k, ts_table **out)
{
    if (k < 0)
        TS_FAIL(TS_ERR_USAGE, "top-k needs k >= 0, not %lld", (long long)k);
    ts_sort_key ext[9];
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    memcpy(ext, keys, sizeof *keys * (size_t)nkeys);
    ext[nkeys] = (ts_sort_key){ORDER_COL, 0, 0};
    ts_table *work, *gathered = NULL;
    TS_TRY(ts_table_new_like(t, t->name, &work));
    ts_err err = ts_table_append_rows(work, t, NULL, ts_table_rows(t));
    err = ts_ctx_check(ctx, err ? err : add_order(ctx, work));
    key_set ks;
    int64_t *best = NULL, m = 0;
    int32_t *dest = NULL;
    if (!err)
        err = resolve(work, ext, nkeys + 1, &ks);
    if (!err)
        err = local_top(work, &ks, k, &best, &m);
    if (!err && !(dest = calloc((size_t)m + 1, sizeof *dest)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    ts_table *picked = NULL;
    if (!err)
        err = ts_table_new_like(work, t->name, &picked);
    if (!err)
        err = ts_table_append_rows(picked, work, best, m);
    err = ts_ctx_check(ctx, err);
    if (!err) /* every candidate to rank 0, which sorts P * k rows and keeps k */
        err = ts_exchange_rows(ctx, picked, dest, &gathered);
    if (!err)
        err = sort_local(&gathered, ext, nkeys + 1);
    if (!err && ts_table_rows(gathered) > k) {
        int64_t *first = ts_big(8 * (size_t)(k + 1));
        for (int64_t i = 0; first && i < k; i++)
            first[i] = i;
        if (first)
            ts_table_keep_rows(gathered, first, k);
        else
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        ts_free(first);
    }
    err = ts_ctx_check(ctx, err);
    ts_free(best), free(dest), ts_table_free(work), ts_table_free(picked);
    if (err) {
        ts_table_free(gathered);
        return err;
    }
    drop_last_column(gathered);
    record_keys(gathered, keys, nkeys);
    *out = gathered;
    return TS_OK;
}

/* ---- shorthands -------------------------------------------------------------------------------------------- */

static int ascending(const char *const *names, int n, ts_sort_key *keys)
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
    return sort_local(t, k, ascending(keys, nkeys, k));
}

ts_err ts_sort_distributed(ts_ctx *ctx, ts_table **t, const char *const *keys, int nkeys)
{
    ts_sort_key k[8];
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    return ts_sort_distributed_by(ctx, t, k, ascending(keys, nkeys, k));
}
