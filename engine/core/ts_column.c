#include "ts_column.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_mem.h"

const char *ts_type_name(ts_type t, int scale, char *buf, size_t cap)
{
    static const char *names[] = {"bool", "int32", "int64", "float64", "date", "decimal", "string", "string",
                                  "timestamp"};
    if (t == TS_T_DECIMAL)
        snprintf(buf, cap, "decimal(18,%d)", scale);
    else
        snprintf(buf, cap, "%s", names[t]);
    return buf;
}

ts_err ts_dict_new(const char *const *values, int32_t n, ts_dict **out)
{
    ts_dict *d = calloc(1, sizeof *d);
    if (!d)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a dictionary");
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += (int64_t)strlen(values[i]);
    d->offsets = malloc((size_t)(n + 1) * sizeof *d->offsets);
    d->bytes = malloc((size_t)total + 1);
    if (!d->offsets || !d->bytes) {
        free(d->offsets), free(d->bytes), free(d);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a dictionary of %d values", n);
    }
    d->n = n, d->refs = 1, d->offsets[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        const size_t len = strlen(values[i]);
        memcpy(d->bytes + d->offsets[i], values[i], len);
        d->offsets[i + 1] = d->offsets[i] + (int64_t)len;
    }
    *out = d;
    return TS_OK;
}

ts_dict *ts_dict_retain(ts_dict *d)
{
    if (d)
        d->refs++;
    return d;
}

void ts_dict_release(ts_dict *d)
{
    if (d && --d->refs == 0) {
        free(d->offsets), free(d->bytes), free(d->hashes), free(d);
    }
}

const uint64_t *ts_dict_hashes(ts_dict *d)
{
    if (d->hashes || !(d->hashes = malloc(sizeof *d->hashes * (size_t)(d->n + 1))))
        return d->hashes;
    for (int32_t i = 0; i < d->n; i++)
        d->hashes[i] = ts_hash_bytes(d->bytes + d->offsets[i], (size_t)(d->offsets[i + 1] - d->offsets[i]), 0);
    return d->hashes;
}

int32_t ts_dict_find(const ts_dict *d, const char *s, size_t len)
{
    for (int32_t i = 0; i < d->n; i++) {
        int64_t vlen;
        const char *v = ts_dict_value(d, i, &vlen);
        if ((size_t)vlen == len && memcmp(v, s, len) == 0)
            return i;
    }
    return -1;
}

ts_err ts_column_set_name(ts_column *c, const char *name)
{
    const size_t n = strlen(name);
    if (n >= TS_NAME_MAX)
        TS_FAIL(TS_ERR_USAGE, "column name '%.40s...' (%zu bytes) is longer than %d bytes", name, n, TS_NAME_MAX - 1);
    memmove(c->name, name, n + 1); /* name may point into c->name */
    return TS_OK;
}

ts_err ts_column_new(const char *name, ts_type type, int scale, ts_dict *dict, ts_column **out)
{
    if (strlen(name) >= TS_NAME_MAX)
        TS_FAIL(TS_ERR_USAGE, "column name '%.40s...' (%zu bytes) is longer than %d bytes", name, strlen(name),
                TS_NAME_MAX - 1);
    if ((type == TS_T_DICT) != (dict != NULL))
        TS_FAIL(TS_ERR_INTERNAL, "column '%s': a dictionary goes with DICT columns only", name);
    ts_column *c = calloc(1, sizeof *c);
    if (!c)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for column '%s'", name);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->type = type, c->scale = scale, c->dict = ts_dict_retain(dict);
    /* never a NULL data pointer, even for an empty column: callers may hand data to memcpy or MPI */
    ts_err err = ts_column_reserve(c, 1, 1);
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    *out = c;
    return TS_OK;
}

void ts_column_free(ts_column *c)
{
    if (!c)
        return;
    ts_free(c->data), ts_free(c->bytes), ts_free(c->valid), ts_free(c->valid_spare);
    ts_dict_release(c->dict);
    free(c);
}

void ts_column_release(const ts_column *c, int64_t first, int64_t n)
{
    if (n <= 0 || first < 0 || first + n > c->len)
        return;
    if (c->type == TS_T_STRING && ts_mem_is_file(c->bytes)) { /* the offsets before their pages go */
        const int64_t *off = TS_COL(c, int64_t);
        ts_mem_release(c->bytes, (size_t)off[first], (size_t)off[first + n]);
    }
    const size_t w = ts_type_width(c->type);
    ts_mem_release(c->data, (size_t)first * w, (size_t)(first + n) * w);
}

ts_err ts_column_new_like(const ts_column *src, ts_column **out)
{
    return ts_column_new(src->name, src->type, src->scale, src->dict, out);
}

/* Grows the validity bitmap (when there is one) from old_cap to new_cap rows, new rows valid. */
static ts_err reserve_valid(ts_column *c, int64_t old_cap, int64_t new_cap)
{
    if (!c->valid)
        return TS_OK;
    const int64_t old_words = (old_cap + 63) / 64, words = (new_cap + 63) / 64;
    if (words <= old_words)
        return TS_OK;
    void *p = c->valid;
    TS_TRY(ts_realloc(&p, (size_t)old_words * 8, (size_t)words * 8));
    memset((uint64_t *)p + old_words, 0xff, (size_t)(words - old_words) * 8);
    c->valid = p;
    return TS_OK;
}

/* Every array is stored back as soon as it has grown (ts_reserve may move it), and c->cap, which also sizes the
 * validity bitmap, rises only once the data, the bytes and the bitmap have all grown: after a failure the column
 * is unchanged (its data block possibly larger than c->cap says) and can still be used or freed. */
ts_err ts_column_reserve(ts_column *c, int64_t rows, int64_t bytes)
{
    int64_t cap = c->cap;
    if (c->type == TS_T_STRING) {
        /* offsets need rows + 1 slots; keep offsets[0] = 0 even when empty */
        int64_t cap1 = c->cap ? c->cap + 1 : 0;
        TS_TRY(ts_reserve(&c->data, &cap1, rows + 1, 8));
        if (c->cap == 0)
            TS_COL(c, int64_t)[0] = 0;
        if (cap1 - 1 > cap)
            cap = cap1 - 1;
        void *b = c->bytes;
        TS_TRY(ts_reserve(&b, &c->bytes_cap, bytes, 1));
        c->bytes = b;
    } else {
        TS_TRY(ts_reserve(&c->data, &cap, rows, ts_type_width(c->type)));
    }
    TS_TRY(reserve_valid(c, c->cap, cap));
    if (cap != c->cap && c->valid_spare) /* sized for the old capacity */
        ts_free(c->valid_spare), c->valid_spare = NULL;
    c->cap = cap;
    return TS_OK;
}

ts_err ts_column_append_string(ts_column *c, const char *s, int64_t len)
{
    TS_TRY(ts_column_reserve(c, c->len + 1, c->nbytes + len));
    if (len) /* an empty value may come with s == NULL or before any payload exists */
        memcpy(c->bytes + c->nbytes, s, (size_t)len);
    c->nbytes += len;
    TS_COL(c, int64_t)[++c->len] = c->nbytes;
    return TS_OK;
}

ts_err ts_column_append_nulls(ts_column *c, int64_t n)
{
    TS_TRY(ts_column_reserve(c, c->len + n, 0));
    if (c->type == TS_T_STRING) {
        int64_t *off = TS_COL(c, int64_t);
        for (int64_t i = 1; i <= n; i++)
            off[c->len + i] = c->nbytes;
    } else if (n) {
        memset((char *)c->data + (size_t)c->len * ts_type_width(c->type), 0, (size_t)n * ts_type_width(c->type));
    }
    c->len += n;
    for (int64_t i = c->len - n; i < c->len; i++)
        TS_TRY(ts_column_set_null(c, i));
    return TS_OK;
}

ts_err ts_column_append_rows_or_null(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n)
{
    int64_t misses = 0;
    for (int64_t k = 0; k < n; k++)
        misses += idx[k] < 0;
    if (misses == 0)
        return ts_column_append_rows(dst, src, idx, n);
    if (src->len == 0)
        return ts_column_append_nulls(dst, n);
    /* misses copy row 0 as a placeholder, then become null */
    int64_t *safe = malloc(sizeof *safe * (size_t)(n ? n : 1));
    if (!safe)
        TS_FAIL(TS_ERR_NOMEM, "out of memory gathering column '%s'", src->name);
    for (int64_t k = 0; k < n; k++)
        safe[k] = idx[k] < 0 ? 0 : idx[k];
    const int64_t base = dst->len;
    ts_err err = ts_column_append_rows(dst, src, safe, n);
    for (int64_t k = 0; !err && k < n; k++)
        if (idx[k] < 0)
            err = ts_column_set_null(dst, base + k);
    free(safe);
    return err;
}

void ts_column_clear(ts_column *c)
{
    if (c->valid) {
        ts_free(c->valid_spare);
        c->valid_spare = c->valid, c->valid = NULL;
    }
    c->len = 0, c->nbytes = 0;
    if (c->type == TS_T_STRING && c->data)
        TS_COL(c, int64_t)[0] = 0;
}

ts_err ts_column_make_nullable(ts_column *c)
{
    if (!c->valid) {
        const size_t bytes = ((size_t)(c->cap + 63) / 64 + 1) * 8;
        void *p = c->valid_spare;
        c->valid_spare = NULL;
        if (!p)
            TS_TRY(ts_alloc(bytes, &p));
        memset(p, 0xff, bytes);
        c->valid = p;
    }
    return TS_OK;
}

ts_err ts_column_set_null(ts_column *c, int64_t i)
{
    TS_TRY(ts_column_make_nullable(c));
    c->valid[i >> 6] &= ~(UINT64_C(1) << (i & 63));
    return TS_OK;
}

static ts_err append_validity(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n, int64_t base)
{
    if (!src->valid)
        return TS_OK;
    for (int64_t i = 0; i < n; i++)
        if (!ts_column_is_valid(src, idx ? idx[i] : i))
            TS_TRY(ts_column_set_null(dst, base + i));
    return TS_OK;
}

static ts_err append_strings(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n)
{
    const int64_t *so = TS_COL(src, int64_t);
    int64_t need = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t r = idx ? idx[i] : i;
        need += so[r + 1] - so[r];
    }
    TS_TRY(ts_column_reserve(dst, dst->len + n, dst->nbytes + need));
    int64_t *dof = TS_COL(dst, int64_t);
    for (int64_t i = 0; i < n; i++) {
        const int64_t r = idx ? idx[i] : i, l = so[r + 1] - so[r];
        if (l)
            memcpy(dst->bytes + dst->nbytes, src->bytes + so[r], (size_t)l);
        dst->nbytes += l;
        dof[dst->len + i + 1] = dst->nbytes;
    }
    return TS_OK;
}

/* Gather of fixed-width values, specialised by width so the compiler emits plain loads and stores. */
#define GATHER(T)                                                                                             \
    do {                                                                                                      \
        const T *s = (const T *)src->data;                                                                    \
        T *d = (T *)dst->data + dst->len;                                                                     \
        if (idx)                                                                                              \
            for (int64_t i = 0; i < n; i++)                                                                   \
                d[i] = s[idx[i]];                                                                             \
        else if (n)                                                                                           \
            memcpy(d, s, (size_t)n * sizeof(T));                                                              \
    } while (0)

/* idx ascending means idx[k] >= k: a forward copy never overwrites a row it still has to read. */
/* Rows idx[k] for k >= s move to k in runs of consecutive source rows (one memmove a run): removing a few rows
 * from a large column moves long runs, not row by row. Rows before s already are in place. */
static void keep_fixed(ts_column *c, size_t w, const int64_t *idx, int64_t s, int64_t n)
{
    char *v = c->data;
    for (int64_t k = s, e; k < n; k = e) {
        for (e = k + 1; e < n && idx[e] == idx[e - 1] + 1;)
            e++;
        memmove(v + w * (size_t)k, v + w * (size_t)idx[k], w * (size_t)(e - k));
    }
}

void ts_column_keep_rows(ts_column *c, const int64_t *idx, int64_t n)
{
    int64_t s = 0; /* rows kept in place: the common prefix of idx and 0, 1, 2, ... */
    while (s < n && idx[s] == s)
        s++;
    if (c->type == TS_T_STRING) {
        int64_t *off = TS_COL(c, int64_t), at = off[s];
        for (int64_t k = s; k < n; k++) {
            const int64_t b = off[idx[k]], e = off[idx[k] + 1];
            memmove(c->bytes + at, c->bytes + b, (size_t)(e - b));
            off[k] = at, at += e - b;
        }
        off[n] = at, c->nbytes = at;
    } else {
        keep_fixed(c, ts_type_width(c->type), idx, s, n);
    }
    if (c->valid)
        for (int64_t k = s; k < n; k++) {
            const uint64_t bit = UINT64_C(1) << (k & 63);
            c->valid[k >> 6] = ts_column_is_valid(c, idx[k]) ? c->valid[k >> 6] | bit : c->valid[k >> 6] & ~bit;
        }
    c->len = n;
}

ts_err ts_column_append_rows(ts_column *dst, const ts_column *src, const int64_t *idx, int64_t n)
{
    if (dst->type != src->type)
        TS_FAIL(TS_ERR_INTERNAL, "append to column '%s' from a column of another type", dst->name);
    const int64_t base = dst->len;
    if (src->type == TS_T_STRING) {
        TS_TRY(append_strings(dst, src, idx, n));
    } else {
        TS_TRY(ts_column_reserve(dst, dst->len + n, 0));
        switch (ts_type_width(src->type)) {
        case 1: GATHER(uint8_t); break;
        case 4: GATHER(uint32_t); break;
        default: GATHER(uint64_t); break;
        }
    }
    dst->len = base + n;
    return append_validity(dst, src, idx, n, base);
}

static int dict_string_cmp(const void *a, const void *b, void *arg)
{
    const ts_dict *d = arg;
    int64_t la, lb;
    const char *x = ts_dict_value(d, *(const int32_t *)a, &la), *y = ts_dict_value(d, *(const int32_t *)b, &lb);
    const int r = memcmp(x, y, (size_t)(la < lb ? la : lb));
    return r ? r : (la > lb) - (la < lb);
}

ts_err ts_dict_ranks(const ts_column *c, int32_t **out)
{
    *out = NULL;
    if (!c || c->type != TS_T_DICT)
        return TS_OK;
    const int32_t n = c->dict->n;
    int32_t *codes = malloc(sizeof *codes * (size_t)(n + 1)), *rank = malloc(sizeof *rank * (size_t)(n + 1));
    if (!codes || !rank) {
        free(codes), free(rank);
        TS_FAIL(TS_ERR_NOMEM, "out of memory ranking a dictionary");
    }
    for (int32_t i = 0; i < n; i++)
        codes[i] = i;
    qsort_r(codes, (size_t)n, sizeof *codes, dict_string_cmp, c->dict);
    for (int32_t i = 0, r = 0; i < n; i++) {
        r += i > 0 && dict_string_cmp(&codes[i - 1], &codes[i], c->dict) != 0;
        rank[codes[i]] = r;
    }
    free(codes);
    *out = rank;
    return TS_OK;
}
