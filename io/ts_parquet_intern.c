#include "ts_parquet_intern.h"

#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_mem.h"

ts_err ts_pq_intern_init(ts_pq_intern *d, int64_t max)
{
    memset(d, 0, sizeof *d);
    d->max = max, d->cap = 1024;
    TS_TRY(ts_column_new("intern", TS_T_STRING, 0, NULL, &d->values));
    d->slots = malloc(sizeof *d->slots * (size_t)d->cap);
    d->hashes = malloc(sizeof *d->hashes * (size_t)(d->cap / 2));
    if (!d->slots || !d->hashes) {
        ts_pq_intern_free(d);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a string dictionary");
    }
    memset(d->slots, 0xff, sizeof *d->slots * (size_t)d->cap);
    return TS_OK;
}

void ts_pq_intern_free(ts_pq_intern *d)
{
    ts_column_free(d->values);
    free(d->slots), free(d->hashes);
    memset(d, 0, sizeof *d);
}

static ts_err grow(ts_pq_intern *d)
{
    const int64_t cap = d->cap * 2;
    int32_t *slots = malloc(sizeof *slots * (size_t)cap);
    uint64_t *hashes = realloc(d->hashes, sizeof *hashes * (size_t)(cap / 2));
    if (hashes)
        d->hashes = hashes;
    if (!slots || !hashes) {
        free(slots);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a string dictionary of %lld values", (long long)d->values->len);
    }
    memset(slots, 0xff, sizeof *slots * (size_t)cap);
    for (int64_t j = 0; j < d->values->len; j++) {
        uint64_t k = d->hashes[j] & (uint64_t)(cap - 1);
        while (slots[k] >= 0)
            k = (k + 1) & (uint64_t)(cap - 1);
        slots[k] = (int32_t)j;
    }
    free(d->slots);
    d->slots = slots, d->cap = cap;
    return TS_OK;
}

ts_err ts_pq_intern_codes(ts_pq_intern *d, const ts_pq_sv *v, size_t n, int32_t *out, int *full)
{
    *full = 0;
    ts_column *vals = d->values;
    for (size_t i = 0; i < n; i++) {
        const uint64_t h = ts_hash_bytes(v[i].p, v[i].len, 0);
        const uint64_t mask = (uint64_t)(d->cap - 1);
        uint64_t k = h & mask;
        int32_t code = -1;
        const int64_t *off = TS_COL(vals, int64_t);
        for (int32_t j; (j = d->slots[k]) >= 0; k = (k + 1) & mask)
            if (d->hashes[j] == h && off[j + 1] - off[j] == v[i].len &&
                memcmp(vals->bytes + off[j], v[i].p, v[i].len) == 0) {
                code = j;
                break;
            }
        if (code < 0) {
            if (vals->len >= d->max) {
                *full = 1;
                return TS_OK;
            }
            code = (int32_t)vals->len;
            d->hashes[code] = h, d->slots[k] = code;
            TS_TRY(ts_column_append_string(vals, (const char *)v[i].p, v[i].len));
            if (vals->len * 2 >= d->cap)
                TS_TRY(grow(d));
        }
        out[i] = code;
    }
    return TS_OK;
}

ts_err ts_pq_intern_expand(const ts_pq_intern *d, const ts_column *codes, ts_column **out)
{
    const int64_t n = codes->len, *off = TS_COL(d->values, int64_t);
    const int32_t *c = TS_COL(codes, int32_t);
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++)
        if (ts_column_is_valid(codes, i))
            bytes += off[c[i] + 1] - off[c[i]];
    ts_column *s;
    TS_TRY(ts_column_new(codes->name, TS_T_STRING, 0, NULL, &s));
    ts_err err = ts_column_reserve(s, n, bytes + 16);
    int64_t *so = TS_COL(s, int64_t);
    int64_t at = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        if (ts_column_is_valid(codes, i)) {
            const int64_t l = off[c[i] + 1] - off[c[i]];
            memcpy(s->bytes + at, d->values->bytes + off[c[i]], (size_t)l);
            at += l;
        }
        so[i + 1] = at;
    }
    if (!err) {
        s->len = n, s->nbytes = at;
        if (codes->valid) {
            const size_t words = (size_t)(n + 63) / 64;
            void *v;
            err = ts_alloc(((size_t)s->cap + 63) / 64 * 8, &v);
            if (!err) {
                memset(v, 0xff, ((size_t)s->cap + 63) / 64 * 8);
                memcpy(v, codes->valid, words * 8);
                s->valid = v;
            }
        }
    }
    if (err) {
        ts_column_free(s);
        return err;
    }
    *out = s;
    return TS_OK;
}

ts_err ts_pq_append_strings(ts_column *c, const ts_pq_sv *v, const uint8_t *def, size_t rows, const uint8_t *limit)
{
    size_t nv = rows;
    if (def) {
        nv = 0;
        for (size_t i = 0; i < rows; i++)
            nv += def[i];
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < nv; i++)
        bytes += v[i].len;
    /* 16 bytes of slack: short values are copied as two 8-byte words */
    TS_TRY(ts_column_reserve(c, c->len + (int64_t)rows, c->nbytes + (int64_t)bytes + 16));
    int64_t *off = TS_COL(c, int64_t) + c->len;
    uint8_t *dst = (uint8_t *)c->bytes;
    int64_t at = c->nbytes;
    size_t j = 0;
    (void)nv;
    for (size_t i = 0; i < rows; i++) {
        if (!def || def[i]) {
            const uint8_t *s = v[j].p;
            const uint32_t l = v[j++].len;
            if (l <= 16 && s + 16 <= limit) { /* two 8-byte words instead of a call to memcpy */
                uint64_t w[2];
                memcpy(w, s, 16);
                memcpy(dst + at, w, 16);
            } else {
                memcpy(dst + at, s, l);
            }
            at += l;
        }
        off[i + 1] = at;
    }
    c->len += (int64_t)rows, c->nbytes = at;
    return TS_OK;
}
