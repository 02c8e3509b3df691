#include "ts_sort.h"

#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_keys.h"
#include "ts_mem.h"

typedef struct key_set {
    const ts_column *cols[8];
    int n;
} key_set;

static ts_err resolve(const ts_table *t, const char *const *keys, int nkeys, key_set *ks)
{
    if (nkeys < 1 || nkeys > 8)
        TS_FAIL(TS_ERR_USAGE, "sort takes 1 to 8 keys, not %d", nkeys);
    ks->n = nkeys;
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        TS_TRY(ts_table_need(t, keys[k], &c));
        ks->cols[k] = c;
    }
    return TS_OK;
}

static int cmp_bytes(const char *a, int64_t la, const char *b, int64_t lb)
{
    const int c = memcmp(a, b, (size_t)(la < lb ? la : lb));
    return c ? (c > 0) - (c < 0) : (la > lb) - (la < lb);
}

static int cmp_value(const ts_column *a, int64_t i, const ts_column *b, int64_t j)
{
    const int va = ts_column_is_valid(a, i), vb = ts_column_is_valid(b, j);
    if (!va || !vb)
        return va - vb; /* nulls first */
    switch (a->type) {
    case TS_T_FLOAT64: {
        const double x = TS_COL(a, double)[i], y = TS_COL(b, double)[j];
        return (x > y) - (x < y);
    }
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
        const int c = cmp_value(a->cols[k], i, b->cols[k], j);
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
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_rows(ks, idx[j], ks, idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof *idx * (size_t)n);
}

ts_err ts_sort_local(ts_table **t, const char *const *keys, int nkeys)
{
    key_set ks;
    TS_TRY(resolve(*t, keys, nkeys, &ks));
    const int64_t n = ts_table_rows(*t);
    int64_t *idx = ts_big(8 * (size_t)(n + 1)), *tmp = ts_big(8 * (size_t)(n + 1));
    ts_table *sorted = NULL;
    ts_err err = idx && tmp ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < n; i++)
        idx[i] = i;
    if (!err) {
        merge_sort(&ks, idx, tmp, n);
        err = ts_table_new_like(*t, (*t)->name, &sorted);
    }
    if (!err)
        err = ts_table_append_rows(sorted, *t, idx, n);
    ts_free(idx), ts_free(tmp);
    if (err) {
        ts_table_free(sorted);
        TS_TRY(err);
    }
    ts_table_free(*t);
    ts_table_set_sorted(sorted, keys, nkeys);
    *t = sorted;
    return TS_OK;
}

/* Every rank receives every rank's regular samples of its sorted rows (in rank order), then picks the same
 * P-1 splitters. */
static ts_err gather_samples(ts_ctx *ctx, const ts_table *t, const char *const *keys, int nkeys, ts_table **all)
{
    const int64_t n = ts_table_rows(t), per = n < 16 ? n : 16;
    ts_table *keys_only, *rep = NULL;
    TS_TRY(ts_table_new("samples", &keys_only));
    ts_err err = TS_OK;
    int64_t *pick = malloc(8 * (size_t)(per * ctx->size + 1));
    int32_t *dest = malloc(4 * (size_t)(per * ctx->size + 1));
    if (!pick || !dest)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for samples");
    for (int k = 0; !err && k < nkeys; k++) {
        ts_column *c;
        err = ts_column_new_like(ts_table_col(t, keys[k]), &c);
        if (!err)
            err = ts_table_adopt(keys_only, c);
    }
    /* sample s of this rank, repeated once per destination rank */
    for (int r = 0; !err && r < ctx->size; r++)
        for (int64_t s = 0; s < per; s++)
            pick[r * per + s] = (2 * s + 1) * n / (2 * per), dest[r * per + s] = r;
    for (int k = 0; !err && k < nkeys; k++)
        err = ts_column_append_rows(keys_only->cols[k], ts_table_col(t, keys[k]), pick, per * ctx->size);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, keys_only, dest, &rep);
    free(pick), free(dest), ts_table_free(keys_only);
    if (!err)
        err = ts_sort_local(&rep, keys, nkeys);
    *all = rep;
    return err;
}

ts_err ts_sort_distributed(ts_ctx *ctx, ts_table **t, const char *const *keys, int nkeys)
{
    TS_TRY(ts_sort_local(t, keys, nkeys));
    if (ctx->size == 1)
        return TS_OK;
    ts_table *samples = NULL, *moved = NULL;
    TS_TRY(gather_samples(ctx, *t, keys, nkeys, &samples));
    key_set row_keys = {0}, split_keys = {0};
    ts_err err = resolve(*t, keys, nkeys, &row_keys);
    if (!err)
        err = resolve(samples, keys, nkeys, &split_keys);
    const int64_t n = ts_table_rows(*t), m = ts_table_rows(samples);
    int32_t *dest = malloc(4 * (size_t)(n + 1));
    if (!err && !dest)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    /* splitter r (1..P-1) is sample r*m/P; a row goes to the number of splitters <= it */
    for (int64_t i = 0; !err && i < n; i++) {
        if (m == 0) { /* no rank has rows to sample: n is 0 too */
            dest[i] = 0;
            continue;
        }
        int lo = 0, hi = ctx->size - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (cmp_rows(&split_keys, (int64_t)mid * m / ctx->size, &row_keys, i) <= 0)
                lo = mid;
            else
                hi = mid - 1;
        }
        dest[i] = lo;
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, *t, dest, &moved);
    free(dest), ts_table_free(samples);
    TS_TRY(err);
    ts_table_free(*t);
    *t = moved;
    return ts_sort_local(t, keys, nkeys);
}
