#include "ts_join_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_keyhash.h"
#include "ts_keys.h"
#include "ts_mem.h"

/* A record's header; the packed right columns follow it (ts_join_ht_build). */
typedef struct entry {
    uint64_t key; /* the key tuple's hash, or the key's value itself when ht->direct */
    int64_t row;  /* the right row */
} entry;

#define PACK_MAX 112 /* payload bytes a record may hold after its header */

struct ts_join_ht {
    ts_key_cols rk;
    uint64_t mask;    /* buckets - 1 */
    int64_t *off;     /* buckets + 1 */
    char *e;          /* records of the right rows with no NULL key, by bucket, in row order within a bucket */
    size_t stride;    /* bytes a record: the header, then the packed columns */
    int direct;       /* one integer key: records hold its value, compared without reading the right table */
    int ncols;        /* right's columns */
    int32_t *col_off; /* per right column: its byte offset in a record, -1 when not packed there */
    int64_t n;
};

static inline const entry *rec(const ts_join_ht *ht, int64_t e) { return (const entry *)(ht->e + (size_t)e * ht->stride); }

void ts_join_ht_free(ts_join_ht *ht)
{
    if (!ht)
        return;
    ts_free(ht->off), ts_free(ht->e);
    free(ht->col_off);
    free(ht);
}

int64_t ts_join_ht_bytes(const ts_join_ht *ht) { return 8 * (int64_t)(ht->mask + 2) + (int64_t)ht->stride * ht->n; }

int ts_join_ht_packed(const ts_join_ht *ht, int col) { return col >= 0 && col < ht->ncols && ht->col_off[col] >= 0; }

static int key_is_int(const ts_column *c)
{
    return c->type != TS_T_FLOAT64 && c->type != TS_T_STRING && c->type != TS_T_DICT;
}

/* Which right columns a record holds: fixed-width ones without NULLs on this rank (their values copy as plain
 * bytes), widest first so that every field is aligned, while the payload stays within PACK_MAX bytes. The stride
 * is a multiple of 16 bytes. */
static void layout(ts_join_ht *ht, const ts_table *right, int pack)
{
    size_t at = sizeof(entry);
    for (int c = 0; c < right->ncols; c++)
        ht->col_off[c] = -1;
    for (size_t w = 8; pack && w >= 1; w /= 2)
        for (int c = 0; c < right->ncols; c++) {
            const ts_column *col = right->cols[c];
            if (col->type == TS_T_STRING || col->valid || ts_type_width(col->type) != w ||
                at + w > sizeof(entry) + PACK_MAX)
                continue;
            ht->col_off[c] = (int32_t)at;
            at += w;
        }
    ht->stride = (at + 15) / 16 * 16;
}

/* Row i's record at r: its key (hash or value), row number and packed values. */
static void fill_record(const ts_join_ht *ht, const ts_table *right, char *r, int64_t i, uint64_t hash)
{
    entry *x = (entry *)(void *)r;
    x->key = ht->direct ? (uint64_t)ts_key_value(ht->rk.col[0], i) : hash, x->row = i;
    for (int c = 0; c < ht->ncols; c++) {
        if (ht->col_off[c] < 0)
            continue;
        const ts_column *col = right->cols[c];
        char *d = r + ht->col_off[c];
        switch (ts_type_width(col->type)) {
        case 1: *(uint8_t *)d = TS_COL(col, uint8_t)[i]; break;
        case 4: memcpy(d, &TS_COL(col, uint32_t)[i], 4); break;
        default: memcpy(d, &TS_COL(col, uint64_t)[i], 8); break;
        }
    }
}

ts_err ts_join_ht_build(const ts_table *right, const char *const *keys, int nkeys, int pack, ts_join_ht **out)
{
    *out = NULL;
    ts_join_ht *ht = calloc(1, sizeof *ht);
    if (!ht)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a join table");
    ts_err err = ts_key_cols_resolve(right, keys, nkeys, &ht->rk);
    const int64_t n = ts_table_rows(right);
    uint64_t buckets = 16;
    while (buckets < (uint64_t)n)
        buckets <<= 1;
    ht->mask = buckets - 1;
    ht->ncols = right->ncols;
    uint64_t *h = NULL;
    if (!err && (!(ht->col_off = malloc(sizeof *ht->col_off * (size_t)(right->ncols + 1))) ||
                 !(ht->off = ts_big_zero(8 * (buckets + 1))) || !(h = ts_big(8 * (size_t)(n + 1)))))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory building a join table of %lld "
                             "rows", (long long)n);
    if (err) {
        ts_free(h);
        ts_join_ht_free(ht);
        return err;
    }
    ht->direct = ht->rk.n == 1 && key_is_int(ht->rk.col[0]);
    layout(ht, right, pack);
    ts_key_hash_rows(&ht->rk, n, h);
    int nullable = 0;
    for (int k = 0; k < ht->rk.n; k++)
        nullable |= ht->rk.col[k]->valid != NULL;
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) { /* NULL keys never match: they get no entry */
        if (i + 16 < n) /* random counters in a table larger than the cache: fetched ahead */
            __builtin_prefetch(&ht->off[(h[i + 16] & ht->mask) + 1], 1);
        if (nullable && ts_key_has_null(&ht->rk, i))
            continue;
        ht->off[(h[i] & ht->mask) + 1]++;
        kept++;
    }
    for (uint64_t b = 0; b < buckets; b++)
        ht->off[b + 1] += ht->off[b];
    if (!(ht->e = ts_big(ht->stride * (size_t)(kept + 1)))) {
        ts_free(h);
        ts_join_ht_free(ht);
        TS_FAIL(TS_ERR_NOMEM, "out of memory building a join table of %lld rows", (long long)n);
    }
    int64_t *at = ht->off; /* filled bucket by bucket, then shifted back */
    for (int64_t i = 0; i < n; i++) {
        /* two random places a row: its bucket's fill position, fetched 32 rows ahead, and the record slot that
         * position names, fetched 16 rows ahead (a hint: a bucket filled in between only shifts it) */
        if (i + 32 < n)
            __builtin_prefetch(&at[h[i + 32] & ht->mask], 1);
        if (i + 16 < n) {
            const char *r = ht->e + (size_t)at[h[i + 16] & ht->mask] * ht->stride;
            __builtin_prefetch(r, 1);
            __builtin_prefetch(r + ht->stride - 1, 1);
        }
        if (nullable && ts_key_has_null(&ht->rk, i))
            continue;
        const uint64_t b = h[i] & ht->mask;
        fill_record(ht, right, ht->e + (size_t)at[b]++ * ht->stride, i, h[i]);
    }
    for (uint64_t b = buckets; b > 0; b--) /* at[b - 1] now ends bucket b - 1: shift to starts */
        ht->off[b] = ht->off[b - 1];
    ht->off[0] = 0;
    ht->n = kept;
    ts_free(h);
    *out = ht;
    return TS_OK;
}

/* 1 when record e holds probe row i's key (hash: that row's key hash, value: its key value when ht->direct). */
static inline int key_match(const ts_join_ht *ht, const ts_key_cols *probe, int64_t i, uint64_t hash, uint64_t value,
                            int64_t e)
{
    const entry *x = rec(ht, e);
    if (ht->direct)
        return x->key == value;
    return x->key == hash && ts_key_equal(probe, i, &ht->rk, x->row);
}

void ts_join_ht_probe(const ts_join_ht *ht, const ts_key_cols *probe, const int32_t *rows, int64_t m,
                      const uint64_t *hash, ts_join_match_fn emit, void *arg)
{
    int nullable = 0;
    for (int k = 0; k < probe->n; k++)
        nullable |= probe->col[k]->valid != NULL;
    for (int64_t k = 0; k < m; k++) {
        const int64_t i = rows ? rows[k] : k;
        if (nullable && ts_key_has_null(probe, i))
            continue;
        const uint64_t h = hash[k], b = h & ht->mask;
        const uint64_t v = ht->direct ? (uint64_t)ts_key_value(probe->col[0], i) : 0;
        if (k + 8 < m)
            __builtin_prefetch(&ht->off[hash[k + 8] & ht->mask]);
        for (int64_t e = ht->off[b]; e < ht->off[b + 1]; e++)
            if (key_match(ht, probe, i, h, v, e) && emit(arg, k, rec(ht, e)->row))
                break;
    }
}

/* ---- the probe operator -------------------------------------------------------------------------------------------- */

typedef struct probe_op {
    ts_op op;
    const ts_join_ht *ht;
    const ts_table *right;
    ts_join_type type;
    int nleft, nright, rc[TS_MAX_COLS];
    ts_key_cols lk;                   /* the left chunk's key columns */
    int nullable;
    /* the input chunk being probed and where its probe stands */
    const ts_chunk *cur;
    int m, j, matched;
    int64_t e;
    int32_t rows[TS_CHUNK_ROWS];
    uint64_t h[TS_CHUNK_ROWS];
    uint64_t kv[TS_CHUNK_ROWS]; /* the rows' key values when ht->direct */
    int64_t b0[TS_CHUNK_ROWS], b1[TS_CHUNK_ROWS];
    /* output pairs: left chunk row, right table row and its record (-1: none) */
    int32_t pl[TS_CHUNK_ROWS];
    int64_t pr[TS_CHUNK_ROWS], pe[TS_CHUNK_ROWS];
    int np;
    uint8_t *mark; /* when set: mark[right row] = 1 for every match (right / full joins) */
} probe_op;

/* Starts probing chunk c: its live rows, their key hashes and bucket runs. */
static void start(probe_op *p, const ts_chunk *c)
{
    const ts_join_ht *ht = p->ht;
    p->cur = c, p->m = (int)ts_chunk_live(c), p->j = 0, p->matched = 0, p->nullable = 0;
    for (int k = 0; k < p->lk.n; k++) /* the chunk's columns: whether this chunk has nulls */
        p->nullable |= p->lk.col[k]->valid != NULL;
    const int32_t *rows = ts_chunk_rows(c, p->rows);
    if (rows != p->rows)
        memcpy(p->rows, rows, sizeof *rows * (size_t)p->m);
    ts_key_hash_sel(p->lk.col, p->lk.n, p->rows, p->m, p->h);
    if (ht->direct)
        for (int k = 0; k < p->m; k++)
            p->kv[k] = (uint64_t)ts_key_value(p->lk.col[0], p->rows[k]);
    for (int k = 0; k < p->m; k++) {
        if (k + 16 < p->m)
            __builtin_prefetch(&ht->off[p->h[k + 16] & ht->mask]);
        const uint64_t b = p->h[k] & ht->mask;
        p->b0[k] = ht->off[b], p->b1[k] = ht->off[b + 1];
        if (p->nullable && ts_key_has_null(&p->lk, p->rows[k]))
            p->b1[k] = p->b0[k]; /* never matches */
    }
    p->e = p->m ? p->b0[0] : 0;
}

static int match(const probe_op *p, int k, int64_t e)
{
    return key_match(p->ht, &p->lk, p->rows[k], p->h[k], p->kv[k], e);
}

/* Prefetches the first record of probe row k's bucket (both cache lines a record may straddle). */
static void prefetch_bucket(const probe_op *p, int k)
{
    const char *r = (const char *)rec(p->ht, p->b0[k]);
    __builtin_prefetch(r);
    __builtin_prefetch(r + p->ht->stride - 1);
}

/* Semi / anti: narrows the chunk's selection. */
static void filter(probe_op *p, ts_chunk *c)
{
    int n = 0;
    for (int k = 0; k < p->m; k++) {
        if (k + 8 < p->m)
            prefetch_bucket(p, k + 8);
        int found = 0;
        for (int64_t e = p->b0[k]; e < p->b1[k] && !found; e++)
            found = match(p, k, e);
        c->sel_buf[n] = p->rows[k];
        n += found == (p->type == TS_JOIN_SEMI);
    }
    c->sel = c->sel_buf, c->nsel = n;
}

/* Collects pairs until the output chunk is full (returns 1) or the input chunk is done (returns 0). */
static int collect(probe_op *p)
{
    p->np = 0;
    const int left = p->type == TS_JOIN_LEFT;
    while (p->j < p->m) {
        const int k = p->j;
        if (k + 8 < p->m)
            prefetch_bucket(p, k + 8);
        for (; p->e < p->b1[k]; p->e++) {
            if (!match(p, k, p->e))
                continue;
            if (p->np == TS_CHUNK_ROWS)
                return 1;
            const int64_t row = rec(p->ht, p->e)->row;
            p->pl[p->np] = p->rows[k], p->pr[p->np] = row, p->pe[p->np++] = p->e;
            p->matched = 1;
            if (p->mark)
                p->mark[row] = 1;
        }
        if (left && !p->matched) {
            if (p->np == TS_CHUNK_ROWS)
                return 1;
            p->pl[p->np] = p->rows[k], p->pr[p->np] = -1, p->pe[p->np++] = -1;
        }
        p->j++, p->matched = 0;
        p->e = p->j < p->m ? p->b0[p->j] : 0;
    }
    return 0;
}

/* A packed right column's values of the pairs, read from the records the probe just matched (in cache) at byte
 * offset `at`, into vector v: at position pl[t] (scatter) or t (gather); NULL for a left row without a match. */
static ts_err fill_packed(probe_op *p, ts_column *v, int at, int scatter, int64_t n)
{
    TS_TRY(ts_column_reserve(v, n, 0));
    const size_t w = ts_type_width(v->type);
    int misses = 0;
    for (int t = 0; t < p->np; t++) {
        const char *s = p->pe[t] < 0 ? NULL : (const char *)rec(p->ht, p->pe[t]) + at;
        char *d = (char *)v->data + w * (size_t)(scatter ? p->pl[t] : t);
        misses += !s;
        switch (w) {
        case 1: *(uint8_t *)d = s ? *(const uint8_t *)s : 0; break;
        case 4: memcpy(d, s ? s : "\0\0\0\0", 4); break;
        default: memcpy(d, s ? s : "\0\0\0\0\0\0\0\0", 8); break;
        }
    }
    v->len = n;
    for (int t = 0; misses && t < p->np; t++)
        if (p->pe[t] < 0)
            TS_TRY(ts_column_set_null(v, scatter ? p->pl[t] : t));
    return TS_OK;
}

/* Right column k's values of the pairs into vector v: at position pl[t] (scatter: the left columns are views of the
 * input chunk) or at t (gather). */
static ts_err fill_right(probe_op *p, ts_column *v, int k, int scatter, int64_t n)
{
    const ts_column *src = p->right->cols[p->rc[k]];
    if (ts_join_ht_packed(p->ht, p->rc[k]))
        return fill_packed(p, v, p->ht->col_off[p->rc[k]], scatter, n);
    if (src->type == TS_T_STRING && src->len) { /* random rows of a large table: all offsets, then all bytes */
        const int64_t *so = TS_COL(src, int64_t);
        for (int t = 0; t < p->np; t++)
            if (p->pr[t] >= 0)
                __builtin_prefetch(&so[p->pr[t]]);
        for (int t = 0; t < p->np; t++)
            if (p->pr[t] >= 0)
                __builtin_prefetch(src->bytes + so[p->pr[t]]);
    }
    if (!scatter)
        return ts_column_append_rows_or_null(v, src, p->pr, p->np);
    const size_t w = ts_type_width(src->type);
    char *d = v->data;
    const char *s = src->data;
    for (int t = 0; t < p->np; t++) {
        const int64_t r = p->pr[t] < 0 ? 0 : p->pr[t];
        if (src->len)
            memcpy(d + w * (size_t)p->pl[t], s + w * (size_t)r, w);
    }
    v->len = n;
    for (int t = 0; t < p->np; t++)
        if (p->pr[t] < 0 || !ts_column_is_valid(src, p->pr[t]))
            TS_TRY(ts_column_set_null(v, p->pl[t]));
    return TS_OK;
}

/* The output chunk of the collected pairs. When every left row appears at most once (ascending) and no right
 * column is a STRING, the left columns are views of the input with the pairs' left rows as the selection, and the
 * right values are scattered to those rows: no left value is copied. */
static ts_err emit(probe_op *p, const ts_chunk *in, ts_chunk *out)
{
    int scatter = 1;
    for (int t = 1; t < p->np && scatter; t++)
        scatter = p->pl[t] > p->pl[t - 1];
    for (int k = 0; k < p->nright && scatter; k++)
        scatter = p->right->cols[p->rc[k]]->type != TS_T_STRING;
    const int64_t n = scatter ? in->n : p->np;
    ts_chunk_begin(out, n);
    for (int i = 0; i < p->nleft; i++) {
        if (scatter) {
            TS_TRY(ts_chunk_set_view(out, i, &in->col[i], 0, in->n));
        } else {
            ts_column *v;
            TS_TRY(ts_chunk_vector(out, i, &v));
            TS_TRY(ts_column_append_sel(v, &in->col[i], p->pl, p->np));
        }
    }
    for (int k = 0; k < p->nright; k++) {
        ts_column *v;
        TS_TRY(ts_chunk_vector(out, p->nleft + k, &v));
        TS_TRY(fill_right(p, v, k, scatter, n));
    }
    if (scatter)
        ts_chunk_select(out, p->pl, p->np);
    return TS_OK;
}

static ts_err probe_execute(ts_op *op, ts_chunk *in, ts_chunk **out, int *more)
{
    probe_op *p = (probe_op *)op;
    if (p->cur != in || p->j >= p->m) /* a new input chunk (a continued one comes back with j < m) */
        start(p, in);
    if (p->type == TS_JOIN_SEMI || p->type == TS_JOIN_ANTI) {
        filter(p, in);
        p->j = p->m;
        *out = in;
        return TS_OK;
    }
    *more = collect(p);
    if (!*more)
        p->cur = NULL;
    TS_TRY(emit(p, in, op->out));
    *out = op->out;
    return TS_OK;
}

static const ts_op_vt PROBE = {.kind = "join-probe", .execute = probe_execute};

void ts_join_probe_mark(ts_op *op, uint8_t *matched)
{
    if (op && op->vt == &PROBE)
        ((probe_op *)op)->mark = matched;
}

/* ---- the mark sink ------------------------------------------------------------------------------------------------- */

typedef struct mark_op {
    probe_op p; /* its key columns, hashes and bucket runs (start()); never emits */
} mark_op;

static ts_err mark_sink(ts_op *op, ts_chunk *in)
{
    probe_op *p = &((mark_op *)op)->p;
    start(p, in);
    for (int k = 0; k < p->m; k++) {
        if (k + 8 < p->m)
            prefetch_bucket(p, k + 8);
        for (int64_t e = p->b0[k]; e < p->b1[k]; e++)
            if (!p->mark[rec(p->ht, e)->row] && match(p, k, e))
                p->mark[rec(p->ht, e)->row] = 1;
    }
    p->cur = NULL;
    return TS_OK;
}

static const ts_op_vt MARK = {.kind = "join-mark", .sink = mark_sink};

ts_err ts_join_mark_new(ts_chunk *in, const ts_join_ht *ht, const char *const *keys, uint8_t *matched, ts_op **out)
{
    char label[192];
    snprintf(label, sizeof label, "join-mark: %d key%s, marks the built rows that match", ht->rk.n,
             ht->rk.n == 1 ? "" : "s");
    TS_TRY(ts_op_alloc(sizeof(mark_op), &MARK, label, out));
    probe_op *p = &((mark_op *)*out)->p;
    p->ht = ht, p->mark = matched;
    ts_err err = ts_key_cols_resolve(&in->schema, keys, ht->rk.n, &p->lk);
    if (!err)
        err = ts_key_cols_compatible(&p->lk, &ht->rk);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_join_probe_new(ts_chunk *in, const ts_join_ht *ht, const ts_table *right, ts_join_type type,
                         const char *const *left_keys, const char *const *right_cols, const char *const *out_names,
                         int nright, ts_op **out)
{
    if (type != TS_JOIN_INNER && type != TS_JOIN_LEFT && type != TS_JOIN_SEMI && type != TS_JOIN_ANTI)
        TS_FAIL(TS_ERR_INTERNAL, "the probe operator does %s joins only through ts_join",
                ts_join_type_name(type));
    char label[192];
    snprintf(label, sizeof label, "join-probe: %s on %d key%s", ts_join_type_name(type), ht->rk.n,
             ht->rk.n == 1 ? "" : "s");
    TS_TRY(ts_op_alloc(sizeof(probe_op), &PROBE, label, out));
    probe_op *p = (probe_op *)*out;
    p->ht = ht, p->right = right, p->type = type, p->nleft = in->schema.ncols;
    p->nright = type == TS_JOIN_SEMI || type == TS_JOIN_ANTI ? 0 : nright;
    ts_err err = ts_key_cols_resolve(&in->schema, left_keys, ht->rk.n, &p->lk);
    if (!err)
        err = ts_key_cols_compatible(&p->lk, &ht->rk);
    if (!err && p->nright) {
        err = ts_chunk_new(in->schema.name, &p->op.out);
        for (int i = 0; !err && i < p->nleft; i++)
            err = ts_chunk_add_view(p->op.out, in->col[i].name, &in->col[i], NULL);
        for (int k = 0; !err && k < p->nright; k++) {
            p->rc[k] = -1;
            for (int c = 0; c < right->ncols; c++)
                if (!strcmp(right->cols[c]->name, right_cols[k]))
                    p->rc[k] = c;
            if (p->rc[k] < 0)
                err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "join: right table has no column '%s'",
                                     right_cols[k]);
            else
                err = ts_chunk_add_view(p->op.out, out_names[k], right->cols[p->rc[k]], NULL);
        }
        if (!err) {
            p->op.out->schema.npart = in->schema.npart;
            memcpy(p->op.out->schema.part_keys, in->schema.part_keys, sizeof in->schema.part_keys);
        }
    }
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}
