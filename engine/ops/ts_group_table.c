#include "ts_group_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_chunk.h"
#include "ts_hash.h"
#include "ts_mem.h"

#define PREFETCH_AHEAD 8
#define PERFECT_MAX (INT64_C(1) << 22) /* direct-indexed domains up to 4 M slots (16 MiB) */

static int64_t pad8(int64_t n) { return (n + 7) & ~INT64_C(7); }

/* ---- open-addressing slots: (32-bit tag << 32) | (id + 1), 0 = empty ------------------------------------------- */

typedef struct slots {
    uint64_t *s, mask;
} slots;

static ts_err slots_init(slots *t, int64_t n, int width)
{
    uint64_t cap = 64;
    while (cap < (uint64_t)n * 2)
        cap <<= 1;
    if (!(t->s = ts_big_zero((size_t)width * cap)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a hash table of %llu slots", (unsigned long long)cap);
    t->mask = cap - 1;
    return TS_OK;
}

static inline uint64_t slot_meta(uint64_t h, int64_t id) { return (h >> 32) << 32 | (uint64_t)(id + 1); }

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
        err = slots_init(&d->t, 1024, 8);
    if (err) {
        str_dict_free(d);
        return err;
    }
    *out = d;
    return TS_OK;
}

static void put_meta(slots *t, uint64_t h, int64_t id)
{
    uint64_t s = h & t->mask;
    while (t->s[s])
        s = (s + 1) & t->mask;
    t->s[s] = slot_meta(h, id);
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
    if ((uint64_t)(id + 1) * 2 > d->t.mask + 1) {
        slots grown;
        TS_TRY(slots_init(&grown, id + 1, 8));
        for (int64_t i = 0; i < id; i++)
            put_meta(&grown, d->hash[i], i);
        ts_free(d->t.s);
        d->t = grown;
    }
    put_meta(&d->t, h, id);
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
    /* perfect mode: values lo .. lo + n - 1 take indexes 0 .. n - 1, NULL takes n; domain = n + 1. DICT and BOOL
     * keys know theirs; integer keys (ranged) learn it from the values and widen it as needed */
    int ranged;
    int64_t lo, n, domain;
} gkey;

/* Lookup modes: perfect (every key a DICT code, BOOL or integer of a small combined domain: a direct array, no
 * hashing; integer ranges are learned from the values), inline (rows without NULL keys whose values fill one
 * 8-byte word: the slot holds the key itself), records (the slot holds a tag and the group, the key is compared in
 * the group's record). Rows with a NULL key use their own records table, with the null bits in the record, so
 * the common case compares values only. A perfect table whose domain outgrows PERFECT_MAX becomes a hashed one. */
enum { MODE_PERFECT, MODE_INLINE, MODE_RECORDS };

struct ts_group_table {
    int nkeys, mode;
    int R, Rcmp;       /* record bytes (values, null bits, padding); bytes compared for rows without nulls */
    int null_off;      /* offset of the null bits */
    gkey key[TS_MAX_COLS];
    uint8_t *recs;     /* ngroups records */
    uint64_t *hash;    /* per group: the hash its table knows it by */
    uint8_t *nulls;    /* per group: its key has a NULL (it lives in the null table) */
    int64_t ngroups, cap;
    int32_t *map;      /* perfect mode: group of each domain index, -1 none (NULL until the ranges are known) */
    int64_t domain;
    int hashed_mode;   /* the mode a perfect table falls back to */
    slots t;           /* rows without NULL keys (inline: 16-byte slots {key, meta}) */
    slots tn;          /* rows with a NULL key */
    int64_t nnull;     /* groups in tn */
    uint8_t *scratch;  /* TS_CHUNK_ROWS records of the chunk being looked up */
    uint64_t *h;       /* their hashes */
    uint8_t *hasnull;  /* their null flags */
};

/* Bytes of a key in the record: STRING keys are codes of the table's own dictionary; TIMESTAMP is 8 bytes wide. */
static int key_width(ts_type t)
{
    return t == TS_T_BOOL ? 1 : t == TS_T_INT32 || t == TS_T_DATE || t == TS_T_DICT || t == TS_T_STRING ? 4 : 8;
}

void ts_group_table_free(ts_group_table *g)
{
    if (!g)
        return;
    for (int k = 0; k < g->nkeys; k++) {
        ts_dict_release(g->key[k].dict);
        str_dict_free(g->key[k].sd);
    }
    ts_free(g->recs), ts_free(g->hash), ts_free(g->nulls), ts_free(g->map), ts_free(g->t.s), ts_free(g->tn.s);
    ts_free(g->scratch), ts_free(g->h), ts_free(g->hasnull);
    free(g);
}

static ts_err reserve_groups(ts_group_table *g, int64_t n)
{
    if (n <= g->cap)
        return TS_OK;
    int64_t cap = g->cap;
    void *r = g->recs, *hh = g->hash, *nn = g->nulls;
    TS_TRY(ts_reserve(&r, &cap, n, (size_t)g->R));
    g->recs = r;
    cap = g->cap;
    TS_TRY(ts_reserve(&hh, &cap, n, 8));
    g->hash = hh;
    cap = g->cap;
    TS_TRY(ts_reserve(&nn, &cap, n, 1));
    g->nulls = nn, g->cap = cap;
    return TS_OK;
}

ts_err ts_group_table_new(const ts_column *const *keys, int nkeys, int64_t expected, ts_group_table **out)
{
    *out = NULL;
    if (nkeys < 0 || nkeys > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "between 0 and %d grouping keys are supported, not %d", TS_MAX_COLS, nkeys);
    ts_group_table *g = calloc(1, sizeof *g);
    if (!g)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a group table");
    g->nkeys = nkeys;
    int at = 0, perfect = nkeys > 0;
    ts_err err = TS_OK;
    int64_t fixed = 1;
    for (int k = 0; k < nkeys; k++) {
        gkey *x = &g->key[k];
        x->type = keys[k]->type, x->scale = keys[k]->scale, x->dict = ts_dict_retain(keys[k]->dict);
        x->width = key_width(x->type), x->off = at;
        at += x->width;
        if (x->type == TS_T_STRING && !err)
            err = str_dict_new(&x->sd);
        x->ranged = x->type == TS_T_INT32 || x->type == TS_T_INT64 || x->type == TS_T_DATE || x->type == TS_T_DECIMAL;
        x->n = x->type == TS_T_DICT ? x->dict->n : x->type == TS_T_BOOL ? 2 : 0;
        x->domain = x->n + 1;
        perfect &= x->ranged || x->type == TS_T_DICT || x->type == TS_T_BOOL;
        if (!x->ranged)
            fixed = fixed <= PERFECT_MAX ? fixed * x->domain : PERFECT_MAX + 1;
    }
    g->null_off = at;
    g->Rcmp = (int)pad8(at > 0 ? at : 1);
    g->R = (int)pad8(at + (nkeys + 7) / 8);
    if (g->R < 8)
        g->R = 8;
    g->hashed_mode = g->Rcmp == 8 ? MODE_INLINE : MODE_RECORDS;
    g->mode = perfect && fixed <= PERFECT_MAX ? MODE_PERFECT : g->hashed_mode;
    if (expected < 1024)
        expected = 1024;
    if (!err && g->mode != MODE_PERFECT) {
        err = slots_init(&g->t, expected, g->mode == MODE_INLINE ? 16 : 8);
        if (!err)
            err = slots_init(&g->tn, 16, 8);
    }
    if (!err)
        err = reserve_groups(g, expected);
    if (!err && (!(g->scratch = ts_big((size_t)g->R * TS_CHUNK_ROWS)) || !(g->h = ts_big(8 * TS_CHUNK_ROWS)) ||
                 !(g->hasnull = ts_big(TS_CHUNK_ROWS))))
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
    int64_t b = g->cap * (g->R + 9) + (g->mode == MODE_INLINE ? 16 : 8) * (int64_t)(g->t.mask + (g->t.s != NULL)) +
                8 * (int64_t)(g->tn.mask + (g->tn.s != NULL)) + 4 * g->domain;
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

/* Writes key k of rows rows[0 .. m) into the records at scratch (zeroed), and flags rows with a NULL. */
static ts_err encode_key(ts_group_table *g, int k, const ts_column *c, const int32_t *rows, int m)
{
    const gkey *x = &g->key[k];
    uint8_t *base = g->scratch + x->off;
    const int R = g->R;
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
                g->hasnull[j] = 1;
            }
    }
    return TS_OK;
}

static inline int rec_equal(const uint8_t *a, const uint8_t *b, int R)
{
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

/* A new group for the record rec (hash h), registered in table t (NULL: perfect mode). */
static ts_err add_group(ts_group_table *g, const uint8_t *rec, uint64_t h, int null, int64_t *id)
{
    const int64_t n = g->ngroups;
    if (n >= (INT64_C(1) << 32) - 2)
        TS_FAIL(TS_ERR_USAGE, "more than 2^32 groups on one rank");
    TS_TRY(reserve_groups(g, n + 1));
    memcpy(g->recs + (size_t)n * g->R, rec, (size_t)g->R);
    g->hash[n] = h, g->nulls[n] = (uint8_t)null;
    g->ngroups = n + 1;
    *id = n;
    return TS_OK;
}

/* Grows table t (width 8: metas; 16: inline {key, meta}) for n entries of the groups flagged `null`. */
static ts_err grow_table(ts_group_table *g, slots *t, int width, int null, int64_t n)
{
    if ((uint64_t)n * 2 <= t->mask + 1)
        return TS_OK;
    slots grown;
    TS_TRY(slots_init(&grown, n, width));
    for (int64_t i = 0; i < g->ngroups; i++) {
        if (g->nulls[i] != null)
            continue;
        uint64_t s = g->hash[i] & grown.mask;
        if (width == 16) {
            while (grown.s[2 * s + 1])
                s = (s + 1) & grown.mask;
            memcpy(&grown.s[2 * s], g->recs + (size_t)i * g->R, 8);
            grown.s[2 * s + 1] = slot_meta(g->hash[i], i);
        } else {
            while (grown.s[s])
                s = (s + 1) & grown.mask;
            grown.s[s] = slot_meta(g->hash[i], i);
        }
    }
    ts_free(t->s);
    *t = grown;
    return TS_OK;
}

/* ---- perfect mode ------------------------------------------------------------------------------------------------- */

static int64_t int_at(const ts_column *c, int64_t r)
{
    return ts_type_width(c->type) == 8 ? TS_COL(c, int64_t)[r] : TS_COL(c, int32_t)[r];
}

/* The value of key k stored in a record (for remapping existing groups), and whether it is NULL. */
static int64_t rec_value(const ts_group_table *g, int k, const uint8_t *rec, int *null)
{
    const gkey *x = &g->key[k];
    *null = (rec[g->null_off + k / 8] >> (k % 8)) & 1;
    if (x->width == 8) {
        int64_t v;
        memcpy(&v, rec + x->off, 8);
        return v;
    }
    if (x->width == 4) {
        int32_t v;
        memcpy(&v, rec + x->off, 4);
        return v;
    }
    return rec[x->off];
}

/* The direct-array index of a group's record. */
static uint64_t rec_index(const ts_group_table *g, const uint8_t *rec)
{
    uint64_t idx = 0, stride = 1;
    for (int k = 0; k < g->nkeys; k++) {
        const gkey *x = &g->key[k];
        int null;
        const int64_t v = rec_value(g, k, rec, &null);
        idx += (uint64_t)(null ? x->n : (x->type == TS_T_BOOL ? (v != 0) : v - x->lo)) * stride;
        stride *= (uint64_t)x->domain;
    }
    return idx;
}

/* Rebuilds the hashed structures from the groups' records: the perfect table's domain grew too large. */
static ts_err to_hashed(ts_group_table *g)
{
    ts_free(g->map);
    g->map = NULL, g->domain = 0, g->mode = g->hashed_mode, g->nnull = 0;
    for (int64_t i = 0; i < g->ngroups; i++) {
        g->hash[i] = rec_hash(g->recs + (size_t)i * g->R, g->nulls[i] ? g->R : g->Rcmp);
        g->nnull += g->nulls[i];
    }
    const int64_t plain = g->ngroups - g->nnull;
    TS_TRY(slots_init(&g->t, plain > 1024 ? plain : 1024, g->mode == MODE_INLINE ? 16 : 8));
    TS_TRY(slots_init(&g->tn, g->nnull > 16 ? g->nnull : 16, 8));
    for (int64_t i = 0; i < g->ngroups; i++) {
        const int null = g->nulls[i];
        slots *t = null ? &g->tn : &g->t;
        uint64_t s = g->hash[i] & t->mask;
        if (!null && g->mode == MODE_INLINE) {
            while (t->s[2 * s + 1])
                s = (s + 1) & t->mask;
            memcpy(&t->s[2 * s], g->recs + (size_t)i * g->R, 8);
            t->s[2 * s + 1] = slot_meta(g->hash[i], i);
        } else {
            while (t->s[s])
                s = (s + 1) & t->mask;
            t->s[s] = slot_meta(g->hash[i], i);
        }
    }
    return TS_OK;
}

/* Sets or widens the integer keys' ranges to cover this chunk's values (with room to spare) and rebuilds the
 * direct array; falls back to hashing when the domain would exceed PERFECT_MAX. */
static ts_err widen(ts_group_table *g, const ts_column *const *keys, const int32_t *rows, int m)
{
    int64_t lo[TS_MAX_COLS], n[TS_MAX_COLS];
    __int128 domain = 1;
    for (int k = 0; k < g->nkeys; k++) {
        const gkey *x = &g->key[k];
        lo[k] = x->lo, n[k] = x->n;
        if (!x->ranged) {
            domain *= x->domain;
            continue;
        }
        __int128 mn = x->n ? x->lo : INT64_MAX, mx = x->n ? (__int128)x->lo + x->n - 1 : INT64_MIN;
        for (int j = 0; j < m; j++) {
            const int64_t r = rows ? rows[j] : j;
            if (!ts_column_is_valid(keys[k], r))
                continue;
            const int64_t v = int_at(keys[k], r);
            mn = v < mn ? v : mn, mx = v > mx ? v : mx;
        }
        if (mx < mn) /* only NULLs so far */
            mn = mx = 0;
        const __int128 width = mx - mn + 1, room = width / 2 + 16;
        __int128 l = mn - room / 2;
        if (l < INT64_MIN)
            l = INT64_MIN;
        lo[k] = (int64_t)l, n[k] = (int64_t)(width + room > PERFECT_MAX ? PERFECT_MAX + 1 : width + room);
        domain *= n[k] + 1;
        if (domain > PERFECT_MAX)
            return to_hashed(g);
    }
    for (int k = 0; k < g->nkeys; k++)
        g->key[k].lo = lo[k], g->key[k].n = n[k], g->key[k].domain = n[k] + 1;
    int32_t *map = ts_big(sizeof *map * (size_t)domain);
    if (!map)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a group map of %lld entries", (long long)domain);
    memset(map, 0xff, sizeof *map * (size_t)domain);
    ts_free(g->map);
    g->map = map, g->domain = (int64_t)domain;
    for (int64_t i = 0; i < g->ngroups; i++) /* the groups so far, at their new places */
        g->map[rec_index(g, g->recs + (size_t)i * g->R)] = (int32_t)i;
    return TS_OK;
}

/* Perfect mode: the direct-array index of each row, straight from the values. Returns with *out_of_range set
 * (and nothing looked up) when an integer key left its range, or after turning into a hashed table when a DICT
 * code lies past the dictionary the table was made with. */
static ts_err find_perfect(ts_group_table *g, const ts_column *const *keys, const int32_t *rows, int m, uint32_t *gid,
                           int *out_of_range)
{
    uint64_t *idx = g->h;
    memset(idx, 0, 8 * (size_t)m);
    uint64_t stride = 1;
    *out_of_range = 0;
    for (int k = 0; k < g->nkeys; k++) {
        const ts_column *c = keys[k];
        const gkey *x = &g->key[k];
        if (c->type == TS_T_BOOL) {
            const uint8_t *v = TS_COL(c, uint8_t);
            for (int j = 0; j < m; j++)
                idx[j] += (uint64_t)(v[rows ? rows[j] : j] != 0) * stride;
        } else if (x->ranged) {
            uint64_t bad = 0;
            const uint64_t n = (uint64_t)x->n, lo = (uint64_t)x->lo;
            if (ts_type_width(c->type) == 8) {
                const int64_t *v = TS_COL(c, int64_t);
                for (int j = 0; j < m; j++) {
                    const uint64_t d = (uint64_t)v[rows ? rows[j] : j] - lo;
                    bad |= (uint64_t)(d >= n && (!c->valid || ts_column_is_valid(c, rows ? rows[j] : j)));
                    idx[j] += d * stride;
                }
            } else {
                const int32_t *v = TS_COL(c, int32_t);
                for (int j = 0; j < m; j++) {
                    const uint64_t d = (uint64_t)(int64_t)v[rows ? rows[j] : j] - lo;
                    bad |= (uint64_t)(d >= n && (!c->valid || ts_column_is_valid(c, rows ? rows[j] : j)));
                    idx[j] += d * stride;
                }
            }
            if (bad) {
                *out_of_range = 1;
                return TS_OK;
            }
        } else { /* DICT: a code past the dictionary's size when the table was made (it grew): hash instead */
            const int32_t *v = TS_COL(c, int32_t);
            uint64_t bad = 0;
            for (int j = 0; j < m; j++) {
                const int64_t r = rows ? rows[j] : j;
                bad |= (uint64_t)((uint32_t)v[r] >= (uint64_t)x->n && (!c->valid || ts_column_is_valid(c, r)));
                idx[j] += (uint64_t)(int64_t)v[r] * stride;
            }
            if (bad) {
                TS_TRY(to_hashed(g));
                *out_of_range = 1;
                return TS_OK;
            }
        }
        if (c->valid) /* NULL rows: index n, whatever value lies under them */
            for (int j = 0; j < m; j++) {
                const int64_t r = rows ? rows[j] : j;
                if (ts_column_is_valid(c, r))
                    continue;
                /* modular arithmetic: whatever value lies under a NULL, no signed overflow */
                const uint64_t v = c->type == TS_T_BOOL ? (uint64_t)(TS_COL(c, uint8_t)[r] != 0)
                                   : x->ranged           ? (uint64_t)int_at(c, r) - (uint64_t)x->lo
                                                         : (uint64_t)(int64_t)TS_COL(c, int32_t)[r];
                idx[j] += ((uint64_t)x->n - v) * stride;
            }
        stride *= (uint64_t)x->domain;
    }
    for (int j = 0; j < m; j++) {
        if (idx[j] >= (uint64_t)g->domain)
            TS_FAIL(TS_ERR_INTERNAL, "a dictionary code outside its dictionary in a grouping key");
        int32_t *slot = &g->map[idx[j]];
        if (*slot < 0) { /* a new group: encode this row's record */
            g->hasnull[0] = 0;
            memset(g->scratch, 0, (size_t)g->R);
            const int32_t one = rows ? rows[j] : j;
            for (int k = 0; k < g->nkeys; k++)
                TS_TRY(encode_key(g, k, keys[k], &one, 1));
            int64_t id = 0;
            TS_TRY(add_group(g, g->scratch, idx[j], g->hasnull[0], &id));
            *slot = (int32_t)id;
        }
        gid[j] = (uint32_t)*slot;
    }
    return TS_OK;
}

/* Inline mode, one integer key and no NULLs in the chunk: the key is the value itself, no record to build. */
static ts_err find_inline1(ts_group_table *g, const ts_column *c, const int32_t *rows, int m, uint32_t *gid)
{
    uint64_t *key = (uint64_t *)g->scratch, *h = g->h;
    if (ts_type_width(c->type) == 8)
        for (int j = 0; j < m; j++)
            key[j] = (uint64_t)TS_COL(c, int64_t)[rows ? rows[j] : j];
    else
        for (int j = 0; j < m; j++)
            key[j] = (uint32_t)TS_COL(c, int32_t)[rows ? rows[j] : j];
    for (int j = 0; j < m; j++)
        h[j] = ts_hash_u64(key[j] ^ UINT64_C(0x9e3779b97f4a7c15)); /* rec_hash of the 8-byte record */
    slots *t = &g->t;
    for (int j = 0; j < m; j++) {
        if (j + PREFETCH_AHEAD < m)
            __builtin_prefetch(&t->s[2 * (h[j + PREFETCH_AHEAD] & t->mask)]);
        uint64_t s = h[j] & t->mask;
        while (t->s[2 * s + 1] && t->s[2 * s] != key[j])
            s = (s + 1) & t->mask;
        if (t->s[2 * s + 1]) {
            gid[j] = (uint32_t)((t->s[2 * s + 1] & 0xffffffffu) - 1);
            continue;
        }
        uint8_t rec[64] = {0};
        memcpy(rec, &key[j], 8);
        int64_t id = 0;
        TS_TRY(add_group(g, rec, h[j], 0, &id));
        t->s[2 * s] = key[j], t->s[2 * s + 1] = slot_meta(h[j], id);
        gid[j] = (uint32_t)id;
        TS_TRY(grow_table(g, t, 16, 0, g->ngroups - g->nnull));
    }
    return TS_OK;
}

ts_err ts_group_table_find(ts_group_table *g, const ts_column *const *keys, const int32_t *rows, int m, uint32_t *gid)
{
    if (g->mode == MODE_PERFECT && !g->map)
        TS_TRY(widen(g, keys, rows, m)); /* the first chunk: learn the integer keys' ranges */
    while (g->mode == MODE_PERFECT) {
        int out_of_range;
        TS_TRY(find_perfect(g, keys, rows, m, gid, &out_of_range));
        if (!out_of_range)
            return TS_OK;
        if (g->mode == MODE_PERFECT) /* else a DICT code made it a hashed table */
            TS_TRY(widen(g, keys, rows, m));
    }
    if (g->mode == MODE_INLINE && g->nkeys == 1 && g->key[0].type != TS_T_FLOAT64 && g->key[0].type != TS_T_STRING &&
        g->key[0].width >= 4 && !keys[0]->valid)
        return find_inline1(g, keys[0], rows, m, gid);
    const int R = g->R, Rc = g->Rcmp;
    memset(g->scratch, 0, (size_t)R * (size_t)m);
    memset(g->hasnull, 0, (size_t)m);
    for (int k = 0; k < g->nkeys; k++)
        TS_TRY(encode_key(g, k, keys[k], rows, m));
    uint64_t *h = g->h;
    for (int j = 0; j < m; j++)
        h[j] = g->hasnull[j] ? rec_hash(g->scratch + (size_t)j * R, R) : rec_hash(g->scratch + (size_t)j * R, Rc);
    const int inl = g->mode == MODE_INLINE;
    for (int j = 0; j < m; j++) {
        const uint8_t *rec = g->scratch + (size_t)j * R;
        const int null = g->hasnull[j];
        slots *t = null ? &g->tn : &g->t;
        const int cmp = null ? R : Rc;
        if (j + PREFETCH_AHEAD < m)
            __builtin_prefetch(inl ? (void *)&g->t.s[2 * (h[j + PREFETCH_AHEAD] & g->t.mask)]
                                   : (void *)&g->t.s[h[j + PREFETCH_AHEAD] & g->t.mask]);
        if (inl && !null) {
            uint64_t key;
            memcpy(&key, rec, 8);
            uint64_t s = h[j] & t->mask;
            for (;; s = (s + 1) & t->mask) {
                const uint64_t meta = t->s[2 * s + 1];
                if (!meta || t->s[2 * s] == key)
                    break;
            }
            if (t->s[2 * s + 1]) {
                gid[j] = (uint32_t)((t->s[2 * s + 1] & 0xffffffffu) - 1);
                continue;
            }
            int64_t id = 0;
            TS_TRY(add_group(g, rec, h[j], 0, &id));
            t->s[2 * s] = key, t->s[2 * s + 1] = slot_meta(h[j], id);
            gid[j] = (uint32_t)id;
            TS_TRY(grow_table(g, t, 16, 0, g->ngroups - g->nnull));
            continue;
        }
        const uint32_t tag = (uint32_t)(h[j] >> 32);
        for (uint64_t s = h[j] & t->mask;; s = (s + 1) & t->mask) {
            const uint64_t e = t->s[s];
            if (!e) {
                int64_t id = 0;
                TS_TRY(add_group(g, rec, h[j], null, &id));
                t->s[s] = slot_meta(h[j], id);
                gid[j] = (uint32_t)id;
                g->nnull += null;
                TS_TRY(grow_table(g, t, 8, null, null ? g->nnull : g->ngroups - g->nnull));
                break;
            }
            const int64_t id = (int64_t)(e & 0xffffffffu) - 1;
            if ((uint32_t)(e >> 32) == tag && rec_equal(rec, g->recs + (size_t)id * R, cmp)) {
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
    const int R = g->R;
    for (int k = 0; k < g->nkeys; k++) {
        const gkey *x = &g->key[k];
        const uint8_t *src = g->recs + x->off;
        ts_column *c;
        TS_TRY(ts_table_add(t, names[k], x->type, x->scale, x->dict, &c));
        const uint8_t bit = (uint8_t)(1u << (k % 8));
        if (x->type == TS_T_STRING) { /* a NULL key's code means nothing (0, also when no value was ever seen) */
            const ts_column *v = x->sd->vals;
            const int64_t *off = TS_COL(v, int64_t);
            int64_t bytes = 0;
            int32_t code;
            for (int64_t i = 0; i < n; i++) {
                memcpy(&code, src + (size_t)i * R, 4);
                if (!(g->nulls[i] && (g->recs[(size_t)i * R + g->null_off + k / 8] & bit)))
                    bytes += off[code + 1] - off[code];
            }
            TS_TRY(ts_column_reserve(c, n, bytes));
            for (int64_t i = 0; i < n; i++) {
                memcpy(&code, src + (size_t)i * R, 4);
                const int null = g->nulls[i] && (g->recs[(size_t)i * R + g->null_off + k / 8] & bit);
                TS_TRY(ts_column_append_string(c, null ? "" : v->bytes + off[code], null ? 0 : off[code + 1] - off[code]));
            }
        } else {
            TS_TRY(ts_column_reserve(c, n, 0));
            if (x->width == 8) {
                int64_t *d = c->data;
                for (int64_t i = 0; i < n; i++)
                    memcpy(&d[i], src + (size_t)i * R, 8);
            } else if (x->width == 4) {
                int32_t *d = c->data;
                for (int64_t i = 0; i < n; i++)
                    memcpy(&d[i], src + (size_t)i * R, 4);
            } else {
                uint8_t *d = c->data;
                for (int64_t i = 0; i < n; i++)
                    d[i] = src[(size_t)i * R];
            }
            c->len = n; /* FLOAT64: the canonical bits are the value (-0 reads as 0, NaN as the canonical NaN) */
        }
        for (int64_t i = 0; i < n; i++)
            if (g->nulls[i] && (g->recs[(size_t)i * R + g->null_off + k / 8] & bit))
                TS_TRY(ts_column_set_null(c, i));
    }
    return TS_OK;
}
