#include "ts_dict_encode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_mem.h"

/* One local distinct value: its first row, and for values of at most 16 bytes the bytes themselves (zero padded),
 * so most probes compare two words instead of calling memcmp. */
typedef struct entry {
    uint64_t w0, w1, hash;
    int64_t row, len;
} entry;

/* The local distinct values; slots index them by hash (linear probing). */
typedef struct distinct_set {
    const ts_column *col;
    int32_t *slots;     /* -1 = empty */
    int64_t cap;        /* power of two, at least twice n */
    entry *e;
    int64_t n, e_cap;
} distinct_set;

static void set_free(distinct_set *d)
{
    free(d->slots), free(d->e);
    memset(d, 0, sizeof *d);
}

static ts_err set_grow_slots(distinct_set *d, int64_t cap)
{
    int32_t *s = malloc(sizeof *s * (size_t)cap);
    if (!s)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the distinct values of '%s'", d->col->name);
    memset(s, 0xff, sizeof *s * (size_t)cap);
    for (int64_t j = 0; j < d->n; j++) {
        uint64_t k = d->e[j].hash & (uint64_t)(cap - 1);
        while (s[k] >= 0)
            k = (k + 1) & (uint64_t)(cap - 1);
        s[k] = (int32_t)j;
    }
    free(d->slots);
    d->slots = s, d->cap = cap;
    return TS_OK;
}

static ts_err set_add(distinct_set *d, const entry *x, int32_t *id)
{
    if (d->n == d->e_cap) {
        const int64_t cap = d->e_cap ? d->e_cap * 2 : 256;
        entry *e = realloc(d->e, sizeof *e * (size_t)cap);
        if (!e)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for the distinct values of '%s'", d->col->name);
        d->e = e, d->e_cap = cap;
    }
    d->e[d->n] = *x;
    *id = (int32_t)d->n++;
    if (d->n * 2 > d->cap)
        TS_TRY(set_grow_slots(d, d->cap * 2));
    return TS_OK;
}

/* The probe key of a value: its hash and, when it has at most 16 bytes, its bytes as two zero-padded words (read
 * as two 8-byte loads when the column's buffer extends 16 bytes past the value, else byte by byte). */
static void make_key(const ts_column *c, int64_t at, int64_t len, entry *x)
{
    const char *s = c->bytes + at;
    x->len = len;
    if (len > 16) {
        x->w0 = x->w1 = 0, x->hash = ts_hash_bytes(s, (size_t)len, 0);
        return;
    }
    uint64_t w[2] = {0, 0};
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (at + 16 <= c->bytes_cap) {
        memcpy(w, s, 16);
        if (len < 16) { /* keep the value's bytes: the low ones, on a little-endian machine */
            const unsigned bits = (unsigned)(len < 8 ? len : len - 8) * 8;
            const uint64_t keep = bits ? ~UINT64_C(0) >> (64 - bits) : 0;
            if (len < 8)
                w[0] &= keep, w[1] = 0;
            else
                w[1] &= keep;
        }
    } else
#endif
        if (len)
            memcpy(w, s, (size_t)len);
    x->w0 = w[0], x->w1 = w[1];
    x->hash = ts_hash_u64(w[0] ^ ts_hash_u64(w[1] + (uint64_t)len * UINT64_C(0x9e3779b97f4a7c15)));
}

static int same_value(const ts_column *c, const entry *a, const entry *x, int64_t x_at)
{
    if (a->hash != x->hash || a->len != x->len || a->w0 != x->w0 || a->w1 != x->w1)
        return 0;
    const int64_t *off = TS_COL(c, int64_t);
    return x->len <= 16 || memcmp(c->bytes + off[a->row], c->bytes + x_at, (size_t)x->len) == 0;
}

/* Pass over the rows: ids[i] = local distinct id of row i (0 under NULLs). *over = 1 as soon as the set exceeds
 * max_distinct values or max_bytes bytes. */
static ts_err local_distinct(distinct_set *d, int64_t max_distinct, int64_t max_bytes, int32_t *ids, int *over)
{
    const ts_column *c = d->col;
    const int64_t *off = TS_COL(c, int64_t), n = c->len;
    int64_t bytes = 0;
    TS_TRY(set_grow_slots(d, 1024));
    *over = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!ts_column_is_valid(c, i)) {
            ids[i] = 0;
            continue;
        }
        entry x;
        make_key(c, off[i], off[i + 1] - off[i], &x);
        const uint64_t mask = (uint64_t)(d->cap - 1);
        uint64_t k = x.hash & mask;
        int32_t id = -1;
        for (int32_t j; (j = d->slots[k]) >= 0; k = (k + 1) & mask)
            if (same_value(c, &d->e[j], &x, off[i])) {
                id = j;
                break;
            }
        if (id < 0) {
            if (d->n >= max_distinct || (bytes += x.len) > max_bytes) {
                *over = 1;
                return TS_OK;
            }
            d->slots[k] = (int32_t)d->n;
            x.row = i;
            TS_TRY(set_add(d, &x, &id));
        }
        ids[i] = id;
    }
    return TS_OK;
}

typedef struct strv {
    const char *p;
    int64_t len;
} strv;

/* Byte order, a proper prefix first: the order of ts_sort's string comparator. */
static int cmp_strv(const void *a, const void *b)
{
    const strv *x = a, *y = b;
    const int64_t n = x->len < y->len ? x->len : y->len;
    const int c = n ? memcmp(x->p, y->p, (size_t)n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts and deduplicates the gathered values v[0..n) in place; returns the count of distinct ones. */
static int64_t sort_unique(strv *v, int64_t n, int64_t *total_bytes)
{
    qsort(v, (size_t)n, sizeof *v, cmp_strv);
    int64_t m = 0;
    *total_bytes = 0;
    for (int64_t j = 0; j < n; j++)
        if (m == 0 || cmp_strv(&v[m - 1], &v[j]) != 0)
            v[m++] = v[j], *total_bytes += v[j].len;
    return m;
}

static ts_err make_dict(const strv *v, int64_t m, int64_t total, ts_dict **out)
{
    ts_dict *dict = calloc(1, sizeof *dict);
    if (dict && (!(dict->offsets = malloc(sizeof *dict->offsets * (size_t)(m + 1))) ||
                 !(dict->bytes = malloc((size_t)total + 1)))) {
        free(dict->offsets), free(dict), dict = NULL;
    }
    if (!dict)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a dictionary of %lld values", (long long)m);
    dict->n = (int32_t)m, dict->refs = 1, dict->offsets[0] = 0;
    for (int64_t j = 0; j < m; j++) {
        memcpy(dict->bytes + dict->offsets[j], v[j].p, (size_t)v[j].len);
        dict->offsets[j + 1] = dict->offsets[j] + v[j].len;
    }
    *out = dict;
    return TS_OK;
}

/* Every rank's distinct values (this rank's: n values of lengths lens[0..n), bytes concatenated in mybytes, nbytes
 * in all), gathered, sorted and deduplicated into a new dictionary (*out NULL when the global count exceeds
 * max_distinct, is 0, or the values do not fit one gather). Local failures are agreed on before each collective,
 * so no rank is left waiting. */
static ts_err gather_dict(ts_ctx *ctx, const int64_t *lens, const char *mybytes, int64_t n, int64_t nbytes,
                          int64_t max_distinct, int64_t max_bytes, ts_dict **out)
{
    *out = NULL;
    int64_t mine[2] = {n, nbytes}, *all = malloc(sizeof *all * 2 * (size_t)ctx->size);
    char *bytes = NULL;
    int64_t *vlens = NULL;
    int *cnt = NULL, *disp = NULL;
    strv *v = NULL;
    ts_err err = all ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory gathering "
                                                                                          "distinct values");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Allgather(mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T, ctx->comm), "MPI_Allgather",
                            __FILE__, __LINE__, __func__);
    int64_t nvals = 0, total_bytes = 0;
    for (int r = 0; !err && r < ctx->size; r++)
        nvals += all[2 * r], total_bytes += all[2 * r + 1];
    /* every rank sees the same totals, so all take the same branch */
    if (err || nvals == 0 || nvals > INT_MAX || total_bytes > INT_MAX || total_bytes > max_bytes)
        goto done;
    bytes = malloc((size_t)total_bytes + 1), vlens = malloc(sizeof *vlens * (size_t)nvals);
    v = malloc(sizeof *v * (size_t)nvals);
    cnt = malloc(sizeof *cnt * 2 * (size_t)ctx->size), disp = malloc(sizeof *disp * 2 * (size_t)ctx->size);
    if (!bytes || !vlens || !v || !cnt || !disp)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory gathering distinct values");
    if ((err = ts_ctx_check(ctx, err)))
        goto done;
    for (int r = 0, a = 0, b = 0; r < ctx->size; a += (int)all[2 * r], b += (int)all[2 * r + 1], r++)
        cnt[r] = (int)all[2 * r], disp[r] = a, cnt[ctx->size + r] = (int)all[2 * r + 1], disp[ctx->size + r] = b;
    err = ts_mpi_status(MPI_Allgatherv(lens, (int)n, MPI_INT64_T, vlens, cnt, disp, MPI_INT64_T, ctx->comm),
                        "MPI_Allgatherv", __FILE__, __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allgatherv(mybytes, (int)nbytes, MPI_BYTE, bytes, cnt + ctx->size,
                                           disp + ctx->size, MPI_BYTE, ctx->comm),
                            "MPI_Allgatherv", __FILE__, __LINE__, __func__);
    if (err)
        goto done;
    for (int64_t j = 0, at = 0; j < nvals; at += vlens[j], j++)
        v[j] = (strv){bytes + at, vlens[j]};
    int64_t total;
    const int64_t m = sort_unique(v, nvals, &total);
    if (m <= max_distinct)
        err = make_dict(v, m, total, out);
done:
    free(all), free(bytes), free(vlens), free(v), free(cnt), free(disp);
    return err;
}

/* The set's values (lengths and bytes) gathered into a sorted global dictionary. */
static ts_err global_dict(ts_ctx *ctx, const distinct_set *d, int64_t max_distinct, int64_t max_bytes,
                          ts_dict **out)
{
    const ts_column *c = d->col;
    const int64_t *off = TS_COL(c, int64_t);
    int64_t *lens = malloc(sizeof *lens * (size_t)(d->n + 1)), nbytes = 0;
    char *mybytes = NULL;
    if (lens) {
        for (int64_t j = 0; j < d->n; j++)
            lens[j] = off[d->e[j].row + 1] - off[d->e[j].row], nbytes += lens[j];
        if ((mybytes = malloc((size_t)nbytes + 1)))
            for (int64_t j = 0, at = 0; j < d->n; at += lens[j], j++)
                memcpy(mybytes + at, c->bytes + off[d->e[j].row], (size_t)lens[j]);
    }
    ts_err err = mybytes ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory "
                                                                                              "gathering distinct values");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = gather_dict(ctx, lens, mybytes, d->n, nbytes, max_distinct, max_bytes, out);
    free(lens), free(mybytes);
    return err;
}

/* Code of s in the sorted dictionary (present by construction). */
static int32_t dict_code(const ts_dict *d, const char *s, int64_t len)
{
    int32_t lo = 0, hi = d->n - 1;
    while (lo < hi) {
        const int32_t mid = lo + (hi - lo) / 2;
        int64_t ml;
        const char *m = ts_dict_value(d, mid, &ml);
        const strv a = {m, ml}, b = {s, len};
        if (cmp_strv(&a, &b) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Turns nc (INT32 holding the local ids of c's rows) into c's DICT replacement: codes = remap of the ids, NULLs
 * copied. */
static ts_err finish_column(const ts_column *c, ts_dict *dict, const distinct_set *d, ts_column *nc)
{
    const int64_t *off = TS_COL(c, int64_t);
    int32_t *remap = malloc(sizeof *remap * (size_t)(d->n + 1));
    if (!remap)
        TS_FAIL(TS_ERR_NOMEM, "out of memory encoding '%s'", c->name);
    for (int64_t j = 0; j < d->n; j++)
        remap[j] = dict_code(dict, c->bytes + off[d->e[j].row], off[d->e[j].row + 1] - off[d->e[j].row]);
    if (d->n == 0)
        remap[0] = 0;
    int32_t *codes = TS_COL(nc, int32_t);
    for (int64_t i = 0; i < c->len; i++)
        codes[i] = remap[codes[i]];
    free(remap);
    nc->type = TS_T_DICT, nc->dict = ts_dict_retain(dict); /* same width as the INT32 ids it held */
    for (int64_t i = 0; c->valid && i < c->len; i++)
        if (!ts_column_is_valid(c, i))
            TS_TRY(ts_column_set_null(nc, i));
    return TS_OK;
}

ts_err ts_dict_encode(ts_ctx *ctx, ts_table *t, const char *column, int64_t max_distinct, int64_t max_bytes,
                      int *encoded)
{
    *encoded = 0;
    int idx = 0;
    while (idx < t->ncols && strcmp(t->cols[idx]->name, column) != 0)
        idx++;
    if (idx == t->ncols)
        TS_FAIL(TS_ERR_USAGE, "dictionary encoding: table '%s' has no column '%s'", t->name, column);
    const ts_column *c = t->cols[idx];
    if (c->type != TS_T_STRING || t->borrowed)
        TS_FAIL(TS_ERR_USAGE, "dictionary encoding: '%s' of table '%s' is not a STRING column of its own table",
                column, t->name);
    if (max_distinct > INT32_MAX)
        max_distinct = INT32_MAX;
    /* the local ids go straight into the new column's array, which the codes then overwrite: one array of n
     * int32 in all (fresh memory is costly here: page faults and zeroing) */
    distinct_set d = {.col = c};
    ts_column *nc = NULL;
    int over = 0, any_over = 0;
    ts_err err = ts_column_new(c->name, TS_T_INT32, 0, NULL, &nc);
    if (!err)
        err = ts_column_reserve(nc, c->len, 0);
    if (!err)
        err = local_distinct(&d, max_distinct, max_bytes, TS_COL(nc, int32_t), &over);
    ts_column_release(c, 0, c->len); /* a cold column's pages: read once */
    if (!err)
        nc->len = c->len;
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(&over, &any_over, 1, MPI_INT, MPI_MAX, ctx->comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
    ts_dict *dict = NULL;
    if (!err && !any_over)
        err = global_dict(ctx, &d, max_distinct, max_bytes, &dict);
    err = ts_ctx_check(ctx, err);
    if (!err && dict)
        err = finish_column(c, dict, &d, nc);
    ts_dict_release(dict); /* the new column holds its own reference */
    set_free(&d);
    err = ts_ctx_check(ctx, err);
    if (err || !dict) {
        ts_column_free(nc);
        return err;
    }
    ts_column_free(t->cols[idx]);
    t->cols[idx] = nc;
    *encoded = 1;
    return TS_OK;
}

ts_err ts_dict_unify(ts_ctx *ctx, const ts_column *values, int64_t max_distinct, ts_dict **dict, int32_t **remap)
{
    *dict = NULL, *remap = NULL;
    const int64_t n = values->len, *off = TS_COL(values, int64_t);
    int64_t *lens = malloc(sizeof *lens * (size_t)(n + 1));
    if (lens)
        for (int64_t j = 0; j < n; j++)
            lens[j] = off[j + 1] - off[j];
    ts_err err = lens ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = gather_dict(ctx, lens, values->bytes + off[0], n, off[n] - off[0], max_distinct, INT64_MAX, dict);
    free(lens);
    if (!err && *dict && !(*remap = malloc(sizeof **remap * (size_t)(n + 1))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t j = 0; !err && *dict && j < n; j++)
        (*remap)[j] = dict_code(*dict, values->bytes + off[j], off[j + 1] - off[j]);
    err = ts_ctx_check(ctx, err);
    if (err) {
        ts_dict_release(*dict), free(*remap);
        *dict = NULL, *remap = NULL;
    }
    return err;
}
