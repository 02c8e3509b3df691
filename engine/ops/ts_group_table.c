#include "ts_group_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_chunk.h"
#include "ts_hash.h"
#include "ts_mem.h"

#define PREFETCH_AHEAD 8

/* ---- open-addressing slots: (32-bit tag << 32) | (id + 1), 0 = empty ------------------------------------------- */

typedef struct slots {
    uint64_t *s, mask;
} slots;

static ts_err slots_init(slots *t, int64_t n)
{
    uint64_t cap = 64;
    while (cap < (uint64_t)n * 2)
        cap <<= 1;
    if (!(t->s = ts_big_zero(8 * cap)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a hash table of %llu slots", (unsigned long long)cap);
    t->mask = cap - 1;
    return TS_OK;
}

static void slots_put(slots *t, uint64_t h, int64_t id)
{
    uint64_t s = h & t->mask;
    while (t->s[s])
        s = (s + 1) & t->mask;
    t->s[s] = (h >> 32) << 32 | (uint64_t)(id + 1);
}

/* Doubles the table when n ids would fill more than half of it, reinserting ids 0 .. n-1 by their hashes. */
static ts_err slots_fit(slots *t, const uint64_t *hash, int64_t n)
{
    if ((uint64_t)n * 2 <= t->mask + 1)
        return TS_OK;
    slots grown;
    TS_TRY(slots_init(&grown, n));
    for (int64_t i = 0; i < n - 1; i++) /* the caller inserts id n - 1 itself */
        slots_put(&grown, hash[i], i);
    ts_free(t->s);
    *t = grown;
    return TS_OK;
}

/* ---- per-key string dictionaries (STRING keys become 4-byte codes) --------------------------------------------- */

typedef struct str_dict {
    ts_column *vals;  /* STRING: the value of each code */
    uint64_t *hash;   /* per code */
    int64_t cap;
    slots t;
} str_dict;

static void str_dict_free(str_dict *d)
{
    if (!d)
        return;
    ts_column_free(d->vals);
    ts_free(d->hash), ts_free(d->t.s);
    free(d);
}

static ts_err str_dict_new(str_dict **out)
{
    str_dict *d = calloc(1, sizeof *d);
    ts_err err = d ? ts_column_new("strings", TS_T_STRING, 0, NULL, &d->vals)
                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = slots_init(&d->t, 1024);
    if (err) {
        str_dict_free(d);
        return err;
    }
    *out = d;
    return TS_OK;
}

static ts_err str_dict_code(str_dict *d, const char *p, int64_t len, int32_t *code)
{
    const uint64_t h = ts_hash_bytes(p, (size_t)len, 0x73747264);
    const uint32_t tag = (uint32_t)(h >> 32);
    const int64_t *off = TS_COL(d->vals, int64_t);
    for (uint64_t s = h & d->t.mask;; s = (s + 1) & d->t.mask) {
        const uint64_t e = d->t.s[s];
        if (!e)
            break;
        const int64_t id = (int64_t)(e & 0xffffffffu) - 1;
        if ((uint32_t)(e >> 32) == tag && off[id + 1] - off[id] == len && !memcmp(d->vals->bytes + off[id], p, (size_t)len)) {
            *code = (int32_t)id;
            return TS_OK;
        }
    }
    const int64_t id = d->vals->len;
    if (id >= INT32_MAX)
        TS_FAIL(TS_ERR_USAGE, "more than 2^31 distinct strings in one grouping key on one rank");
    if (id == d->cap) {
        void *hp = d->hash;
        TS_TRY(ts_reserve(&hp, &d->cap, id + 1, 8));
        d->hash = hp;
    }
    d->hash[id] = h;
    TS_TRY(ts_column_append_string(d->vals, p, len));
    TS_TRY(slots_fit(&d->t, d->hash, id + 1));
    slots_put(&d->t, h, id);
    *code = (int32_t)id;
    return TS_OK;
}

/* ---- the group table -------------------------------------------------------------------------------------------- */

typedef struct gkey {
    ts_type type;
    int scale;
    ts_dict *dict;     /* DICT: a retained reference */
    int width, off;    /* bytes in the record and offset */
    str_dict *sd;      /* STRING */
} gkey;

struct ts_group_table {
    int nkeys, rec;    /* keys, record bytes (a multiple of 8) */
    int null_off;      /* offset of the null bits */
    gkey key[TS_MAX_COLS];
    uint8_t *recs;     /* ngroups records */
    uint64_t *hash;    /* per group */
    int64_t ngroups, cap;
    slots t;
    uint8_t *scratch;  /* TS_CHUNK_ROWS records of the chunk being looked up */
    uint64_t *h;       /* their hashes */
};

static int key_width(ts_type t) { return t == TS_T_BOOL ? 1 : t == TS_T_INT64 || t == TS_T_DECIMAL || t == TS_T_FLOAT64 ? 8 : 4; }

void ts_group_table_free(ts_group_table *g)
{
    if (!g)
        return;
    for (int k = 0; k < g->nkeys; k++) {
        ts_dict_release(g->key[k].dict);
        str_dict_free(g->key[k].sd);
    }
    ts_free(g->recs), ts_free(g->hash), ts_free(g->t.s), ts_free(g->scratch), ts_free(g->h);
    free(g);
}

ts_err ts_group_table_new(const ts_column *const *keys, int nkeys, ts_group_table **out)
{
    *out = NULL;
    if (nkeys < 0 || nkeys > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "between 0 and %d grouping keys are supported, not %d", TS_MAX_COLS, nkeys);
    ts_group_table *g = calloc(1, sizeof *g);
    if (!g)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a group table");
    g->nkeys = nkeys;
    int at = 0;
    ts_err err = TS_OK;
    for (int k = 0; k < nkeys; k++) {
        gkey *x = &g->key[k];
        x->type = keys[k]->type, x->scale = keys[k]->scale, x->dict = ts_dict_retain(keys[k]->dict);
        x->width = key_width(x->type), x->off = at;
        at += x->width;
        if (x->type == TS_T_STRING && !err)
            err = str_dict_new(&x->sd);
    }
    g->null_off = at;
    at += (nkeys + 7) / 8;
    g->rec = (at + 7) / 8 * 8;
    if (g->rec == 0)
        g->rec = 8;
    if (!err)
        err = slots_init(&g->t, 1024);
    if (!err && (!(g->scratch = ts_big((size_t)g->rec * TS_CHUNK_ROWS)) || !(g->h = ts_big(8 * TS_CHUNK_ROWS))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for a group table");
    if (err) {
        ts_group_table_free(g);
        return err;
    }
    *out = g;
    return TS_OK;
}

int64_t ts_group_table_groups(const ts_group_table *g) { return g->ngroups; }

int64_t ts_group_table_bytes(const ts_group_table *g)
{
    int64_t b = g->cap * (g->rec + 8) + 8 * (int64_t)(g->t.mask + 1);
    for (int k = 0; k < g->nkeys; k++)
        if (g->key[k].sd)
            b += g->key[k].sd->vals->bytes_cap + 24 * g->key[k].sd->vals->cap;
    return b;
}

/* Canonical bits of a FLOAT64 key: -0 and +0 alike, every NaN alike. */
static uint64_t f64_bits(double v)
{
    if (v == 0)
        v = 0;
    uint64_t b;
    if (isnan(v))
        return UINT64_C(0x7ff8000000000000);
    memcpy(&b, &v, 8);
    return b;
}

/* Writes key k of rows rows[0 .. m) into the records at scratch (zeroed). */
static ts_err encode_key(ts_group_table *g, int k, const ts_column *c, const int32_t *rows, int m)
{
    const gkey *x = &g->key[k];
    uint8_t *base = g->scratch + x->off;
    const int R = g->rec;
    switch (c->type) {
    case TS_T_BOOL:
        for (int j = 0; j < m; j++)
            base[(size_t)j * R] = TS_COL(c, uint8_t)[rows ? rows[j] : j];
        break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT: {
        const int32_t *v = TS_COL(c, int32_t);
        for (int j = 0; j < m; j++)
            memcpy(base + (size_t)j * R, &v[rows ? rows[j] : j], 4);
        break;
    }
    case TS_T_FLOAT64: {
        const double *v = TS_COL(c, double);
        for (int j = 0; j < m; j++) {
            const uint64_t b = f64_bits(v[rows ? rows[j] : j]);
            memcpy(base + (size_t)j * R, &b, 8);
        }
        break;
    }
    case TS_T_STRING: {
        const int64_t *off = TS_COL(c, int64_t);
        for (int j = 0; j < m; j++) {
            const int64_t r = rows ? rows[j] : j;
            int32_t code = 0;
            if (ts_column_is_valid(c, r))
                TS_TRY(str_dict_code(x->sd, c->bytes + off[r], off[r + 1] - off[r], &code));
            memcpy(base + (size_t)j * R, &code, 4);
        }
        break;
    }
    default: {
        const int64_t *v = TS_COL(c, int64_t);
        for (int j = 0; j < m; j++)
            memcpy(base + (size_t)j * R, &v[rows ? rows[j] : j], 8);
        break;
    }
    }
    if (c->valid) {
        uint8_t *nb = g->scratch + g->null_off + k / 8;
        const uint8_t bit = (uint8_t)(1u << (k % 8));
        for (int j = 0; j < m; j++)
            if (!ts_column_is_valid(c, rows ? rows[j] : j)) {
                memset(base + (size_t)j * R, 0, (size_t)x->width);
                nb[(size_t)j * R] |= bit;
            }
    }
    return TS_OK;
}

static inline int rec_equal(const uint8_t *a, const uint8_t *b, int R)
{
    if (R == 8) {
        uint64_t x, y;
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        return x == y;
    }
    if (R == 16) {
        uint64_t x[2], y[2];
        memcpy(x, a, 16), memcpy(y, b, 16);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
    }
    return memcmp(a, b, (size_t)R) == 0;
}

static inline uint64_t rec_hash(const uint8_t *r, int R)
{
    uint64_t x, y;
    memcpy(&x, r, 8);
    if (R == 8)
        return ts_hash_u64(x ^ UINT64_C(0x9e3779b97f4a7c15));
    if (R == 16) {
        memcpy(&y, r + 8, 8);
        return ts_hash_combine(ts_hash_u64(x), y);
    }
    return ts_hash_bytes(r, (size_t)R, 0x67726f7570);
}

static ts_err add_group(ts_group_table *g, const uint8_t *rec, uint64_t h, int64_t *id)
{
    const int64_t n = g->ngroups;
    if (n >= (INT64_C(1) << 32) - 2)
        TS_FAIL(TS_ERR_USAGE, "more than 2^32 groups on one rank");
    if (n == g->cap) {
        int64_t cap = g->cap;
        void *r = g->recs, *hh = g->hash;
        TS_TRY(ts_reserve(&r, &cap, n + 1, (size_t)g->rec));
        g->recs = r;
        cap = g->cap;
        TS_TRY(ts_reserve(&hh, &cap, n + 1, 8));
        g->hash = hh, g->cap = cap;
    }
    memcpy(g->recs + (size_t)n * g->rec, rec, (size_t)g->rec);
    g->hash[n] = h;
    g->ngroups = n + 1;
    TS_TRY(slots_fit(&g->t, g->hash, n + 1));
    slots_put(&g->t, h, n);
    *id = n;
    return TS_OK;
}

ts_err ts_group_table_find(ts_group_table *g, const ts_column *const *keys, const int32_t *rows, int m, uint32_t *gid)
{
    const int R = g->rec;
    memset(g->scratch, 0, (size_t)R * (size_t)m);
    for (int k = 0; k < g->nkeys; k++)
        TS_TRY(encode_key(g, k, keys[k], rows, m));
    uint64_t *h = g->h;
    for (int j = 0; j < m; j++)
        h[j] = rec_hash(g->scratch + (size_t)j * R, R);
    for (int j = 0; j < m; j++) {
        if (j + PREFETCH_AHEAD < m)
            __builtin_prefetch(&g->t.s[h[j + PREFETCH_AHEAD] & g->t.mask]);
        const uint8_t *rec = g->scratch + (size_t)j * R;
        const uint32_t tag = (uint32_t)(h[j] >> 32);
        for (uint64_t s = h[j] & g->t.mask;; s = (s + 1) & g->t.mask) {
            const uint64_t e = g->t.s[s];
            if (!e) {
                int64_t id = 0;
                TS_TRY(add_group(g, rec, h[j], &id));
                gid[j] = (uint32_t)id;
                break;
            }
            const int64_t id = (int64_t)(e & 0xffffffffu) - 1;
            if ((uint32_t)(e >> 32) == tag && rec_equal(rec, g->recs + (size_t)id * R, R)) {
                gid[j] = (uint32_t)id;
                break;
            }
        }
    }
    return TS_OK;
}

ts_err ts_group_table_keys(const ts_group_table *g, const char *const *names, ts_table *t)
{
    const int64_t n = g->ngroups;
    for (int k = 0; k < g->nkeys; k++) {
        const gkey *x = &g->key[k];
        ts_column *c;
        TS_TRY(ts_table_add(t, names[k], x->type, x->scale, x->dict, &c));
        if (x->type == TS_T_STRING) {
            const ts_column *v = x->sd->vals;
            const int64_t *off = TS_COL(v, int64_t);
            int64_t bytes = 0;
            for (int64_t i = 0; i < n; i++) {
                int32_t code;
                memcpy(&code, g->recs + (size_t)i * g->rec + x->off, 4);
                bytes += off[code + 1] - off[code];
            }
            TS_TRY(ts_column_reserve(c, n, bytes));
            for (int64_t i = 0; i < n; i++) {
                int32_t code;
                memcpy(&code, g->recs + (size_t)i * g->rec + x->off, 4);
                TS_TRY(ts_column_append_string(c, v->bytes + off[code], off[code + 1] - off[code]));
            }
        } else {
            TS_TRY(ts_column_reserve(c, n, 0));
            uint8_t *d = c->data;
            for (int64_t i = 0; i < n; i++)
                memcpy(d + (size_t)i * (size_t)x->width, g->recs + (size_t)i * g->rec + x->off, (size_t)x->width);
            c->len = n; /* FLOAT64: the canonical bits are the value (-0 reads as 0, NaN as the canonical NaN) */
        }
        const uint8_t bit = (uint8_t)(1u << (k % 8));
        for (int64_t i = 0; i < n; i++)
            if (g->recs[(size_t)i * g->rec + g->null_off + k / 8] & bit)
                TS_TRY(ts_column_set_null(c, i));
    }
    return TS_OK;
}
