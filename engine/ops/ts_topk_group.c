/* Top k rows per group (see the header): group ids a chunk at a time, a bounded sorted array per group. */
#include "ts_topk_group.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ts_chunk.h"
#include "ts_group_table.h"
#include "ts_keys.h"
#include "ts_mem.h"

#define INLINE_K 4 /* with codes and k <= INLINE_K, a group's codes live in its own record: one cache line */

/* A group's kept rows: pool[off .. off + cnt), sorted best first; room for cap. Their codes (fast) in code[] when
 * k <= INLINE_K, else in pcode[off ..]. Most rows are rejected by one comparison with the k-th code. */
typedef struct grp {
    int64_t off;
    int32_t cnt, cap;
    int64_t stamp;        /* sink: the last chunk that inserted into it (its entries may name that chunk's rows) */
    uint64_t code[INLINE_K];
    int64_t pad;          /* 64 bytes: a record never straddles two cache lines */
} grp;

/* Pool entries are row indexes: of the table (the table kernel) or of the kept rows (the sink), compared under
 * ks_store; negative entries -(j + 1) name row j of the chunk being sunk, compared under ks_in. New rows are always
 * compared under ks_in. */
typedef struct state {
    const ts_sort_keyset *ks_in, *ks_store;
    int64_t k;
    ts_topk_kind kind;
    int fast;             /* one key whose values and NULLs fit order-preserving 64-bit codes: rows compare by code */
    int inl;              /* fast and k <= INLINE_K: codes in the group records */
    grp *g;
    int64_t ng, g_cap;
    int64_t *pool;        /* row indexes */
    uint64_t *pcode;      /* fast: the codes of the pool's rows */
    uint64_t *thr;        /* fast: per group the code of its k-th kept row, UINT64_MAX while it holds fewer */
    int64_t plen, pcap, pcode_cap, thr_cap;
    int64_t live;         /* entries held (sum of cnt) */
} state;

/* ---- order ------------------------------------------------------------------------------------------------------ */

/* Whether a key of column c's type gets codes: FLOAT64 and integers of at most 4 bytes leave code 0 and the
 * largest code free for NULL; 8-byte integers use every code, so only without NULLs (may_have_nulls = 0). */
static int fast_order(const ts_sort_keyset *ks, int may_have_nulls)
{
    if (ks->n != 1)
        return 0;
    const ts_column *c = ks->cols[0];
    switch (c->type) {
    case TS_T_STRING: case TS_T_DICT: return 0;
    case TS_T_FLOAT64: return 1;
    default: return ts_type_width(c->type) <= 4 || !may_have_nulls;
    }
}

/* Codes of rows [from, from + m) whose unsigned order is the key's order (DESC and NULL placement included):
 * FLOAT64 as sign-flipped bits with -0 as +0 and one NaN above every number (ts_sort_local.h's order), integer-like
 * keys with the sign bit flipped; a NULL is 0 (first) or the largest code (last), which no value takes. */
static void codes(const ts_sort_keyset *ks, int64_t from, int m, uint64_t *out)
{
    const ts_column *c = ks->cols[0];
    const uint64_t flip = ks->desc[0] ? ~UINT64_C(0) : 0;
    if (c->type == TS_T_FLOAT64) {
        const double *v = TS_COL(c, double) + from;
        for (int j = 0; j < m; j++) {
            double d = v[j] == 0 ? 0.0 : v[j];
            uint64_t b;
            memcpy(&b, &d, 8);
            if (d != d)
                b = UINT64_C(0x7ff8000000000000);
            b = (b >> 63) ? ~b : b ^ (UINT64_C(1) << 63);
            out[j] = b ^ flip;
        }
    } else {
        for (int j = 0; j < m; j++)
            out[j] = ((uint64_t)ts_key_value(c, from + j) ^ (UINT64_C(1) << 63)) ^ flip;
    }
    if (c->valid) {
        const uint64_t null_code = ks->nulls_last[0] ? ~UINT64_C(0) : 0;
        for (int j = 0; j < m; j++)
            if (!ts_column_is_valid(c, from + j))
                out[j] = null_code;
    }
}

/* Order of new row i (code ci) against entry e (0 = best) of group g. */
static inline int cmp_entry(const state *st, const grp *g, int64_t i, uint64_t ci, int64_t e)
{
    if (st->fast) {
        const uint64_t x = st->inl ? g->code[e] : st->pcode[g->off + e];
        return (ci > x) - (ci < x);
    }
    const int64_t r = st->pool[g->off + e];
    return r >= 0 ? ts_sort_keyset_cmp(st->ks_in, i, st->ks_store, r) : ts_sort_keyset_cmp(st->ks_in, i, st->ks_in, -r - 1);
}

/* ---- groups ----------------------------------------------------------------------------------------------------- */

static ts_err add_groups(state *st, int64_t ng)
{
    if (ng <= st->ng)
        return TS_OK;
    TS_TRY(ts_reserve((void **)&st->g, &st->g_cap, ng, sizeof(grp)));
    memset(st->g + st->ng, 0, sizeof(grp) * (size_t)(ng - st->ng));
    if (st->fast) {
        TS_TRY(ts_reserve((void **)&st->thr, &st->thr_cap, ng, sizeof *st->thr));
        memset(st->thr + st->ng, 0xff, sizeof *st->thr * (size_t)(ng - st->ng));
    }
    for (int64_t i = st->ng; i < ng; i++)
        st->g[i].stamp = -1;
    st->ng = ng;
    return TS_OK;
}

/* Room for one more row in group g (cnt < k): its array doubles, moved to the pool's end. */
static ts_err grow(state *st, grp *g)
{
    int64_t cap = g->cap ? 2 * (int64_t)g->cap : 2;
    cap = cap < st->k ? cap : st->k;
    TS_TRY(ts_reserve((void **)&st->pool, &st->pcap, st->plen + cap, 8));
    const int pcodes = st->fast && !st->inl;
    if (pcodes)
        TS_TRY(ts_reserve((void **)&st->pcode, &st->pcode_cap, st->plen + cap, 8));
    if (g->cnt) {
        memcpy(st->pool + st->plen, st->pool + g->off, 8 * (size_t)g->cnt);
        if (pcodes)
            memcpy(st->pcode + st->plen, st->pcode + g->off, 8 * (size_t)g->cnt);
    }
    g->off = st->plen, g->cap = (int32_t)cap;
    st->plen += cap;
    return TS_OK;
}

/* Whether row code ci is surely no better than group gi's k-th kept row (fast order): the common case decided from
 * a dense array of 8 bytes a group instead of the group's 64-byte record, so with many groups the test's working
 * set stays in cache. A NULL-last code (UINT64_MAX) always takes the full test. */
static inline int rejected(const state *st, int64_t gi, uint64_t ci)
{
    return ci >= st->thr[gi] && ci != UINT64_MAX;
}

/* The rows j of a chunk (codes code[rows ? rows[j] : j]) not rejected() by their group's threshold as it stands
 * before the chunk (thresholds only tighten, so offer() still rejects a few of them), into cand; returns their
 * count. Two passes instead of one: each prefetches what its rows will touch (the thresholds, then the few
 * candidates' group records), so their cache misses overlap. Without codes every row is a candidate. */
static int candidates(const state *st, const uint32_t *gid, const uint64_t *code, const int32_t *rows, int m,
                      int32_t *cand)
{
    int n = 0;
    if (!st->fast) {
        for (int j = 0; j < m; j++)
            cand[j] = j;
        return m;
    }
    for (int j = 0; j < m; j++) {
        if (j + 16 < m)
            __builtin_prefetch(&st->thr[gid[j + 16]]);
        cand[n] = j;
        n += !rejected(st, gid[j], code[rows ? rows[j] : j]);
    }
    return n;
}

/* Offers row i (code ci; stored as entry e) to group gi; *in = 1 when it was kept. */
static inline ts_err offer(state *st, int64_t gi, int64_t i, uint64_t ci, int64_t e, int *in)
{
    grp *g = &st->g[gi];
    const int64_t c = g->cnt;
    *in = 0;
    if (c == st->k && cmp_entry(st, g, i, ci, c - 1) >= 0)
        return TS_OK; /* not better than the k-th kept row (ties keep the earlier rows) */
    int64_t p = c;
    while (p > 0 && cmp_entry(st, g, i, ci, p - 1) < 0)
        p--;
    if (st->kind == TS_TOPK_DENSE_RANK && p > 0 && cmp_entry(st, g, i, ci, p - 1) == 0)
        return TS_OK; /* a value already kept: DENSE_RANK keeps distinct values */
    if (c < st->k && c == g->cap) {
        TS_TRY(grow(st, g));
        g = &st->g[gi];
    }
    const int64_t last = c < st->k ? c : c - 1; /* the entry shifted past the end (when full) is dropped */
    /* the new entry at p, the later ones one place on: carried forward, a loop the compiler does not turn into a
     * memmove call (most shifts move zero or one entry, and the call cost more than the whole insertion) */
    int64_t *a = st->pool + g->off, ea = e;
    for (int64_t q = p; q <= last; q++) {
        const int64_t y = a[q];
        a[q] = ea, ea = y;
    }
    if (st->fast) {
        uint64_t *ac = st->inl ? g->code : st->pcode + g->off, ec = ci;
        for (int64_t q = p; q <= last; q++) {
            const uint64_t y = ac[q];
            ac[q] = ec, ec = y;
        }
    }
    st->live += last + 1 - c;
    g->cnt = (int32_t)(last + 1);
    if (st->fast && g->cnt == st->k)
        st->thr[gi] = st->inl ? g->code[st->k - 1] : st->pcode[g->off + st->k - 1];
    *in = 1;
    return TS_OK;
}

/* The entries held, ascending, through a bitmap over rows [0, n) (entries are >= 0 here). */
static ts_err held_rows(const state *st, int64_t n, int64_t *out, int64_t *m)
{
    uint64_t *bits = ts_big_zero(8 * (size_t)(n / 64 + 1));
    if (!bits)
        TS_FAIL(TS_ERR_NOMEM, "out of memory marking the top rows of %lld groups", (long long)st->ng);
    for (int64_t gi = 0; gi < st->ng; gi++)
        for (int64_t e = 0; e < st->g[gi].cnt; e++) {
            const int64_t r = st->pool[st->g[gi].off + e];
            bits[r >> 6] |= UINT64_C(1) << (r & 63);
        }
    int64_t c = 0;
    for (int64_t w = 0; w <= n / 64; w++)
        for (uint64_t b = bits[w]; b; b &= b - 1)
            out[c++] = 64 * w + __builtin_ctzll(b);
    ts_free(bits);
    *m = c;
    return TS_OK;
}

/* ---- the two passes --------------------------------------------------------------------------------------------- */

typedef struct scratch {
    const ts_column *keys[TS_MAX_COLS];
    int32_t rows[TS_CHUNK_ROWS];
    uint32_t gid[TS_CHUNK_ROWS];
    uint64_t code[TS_CHUNK_ROWS];
    int32_t cand[TS_CHUNK_ROWS];
} scratch;

/* Group ids and (fast) codes of rows [from, from + m). */
static ts_err chunk_groups(ts_group_table *gt, const state *st, scratch *s, int64_t from, int m)
{
    for (int j = 0; j < m; j++)
        s->rows[j] = (int32_t)(from + j);
    TS_TRY(ts_group_table_find(gt, s->keys, s->rows, m, s->gid));
    if (st->fast)
        codes(st->ks_in, from, m, s->code);
    return TS_OK;
}

/* Pass 1: every row offered to its group. */
static ts_err collect(const ts_table *t, ts_group_table *gt, state *st, scratch *s)
{
    const int64_t n = ts_table_rows(t);
    for (int64_t from = 0; from < n; from += TS_CHUNK_ROWS) {
        const int m = (int)(n - from < TS_CHUNK_ROWS ? n - from : TS_CHUNK_ROWS);
        TS_TRY(chunk_groups(gt, st, s, from, m));
        TS_TRY(add_groups(st, ts_group_table_groups(gt)));
        const int nc = candidates(st, s->gid, s->code, NULL, m, s->cand);
        for (int t = 0; t < nc; t++) {
            const int j = s->cand[t];
            int in;
            if (t + 16 < nc)
                __builtin_prefetch(&st->g[s->gid[s->cand[t + 16]]]);
            TS_TRY(offer(st, s->gid[j], from + j, s->code[j], from + j, &in));
        }
    }
    return TS_OK;
}

/* RANK / DENSE_RANK, pass 2: every row not after its group's k-th kept row (all rows of a group holding fewer). */
static ts_err rows_within(const ts_table *t, ts_group_table *gt, const state *st, scratch *s, int64_t *out, int64_t *m)
{
    const int64_t n = ts_table_rows(t);
    int64_t c = 0;
    for (int64_t from = 0; from < n; from += TS_CHUNK_ROWS) {
        const int mm = (int)(n - from < TS_CHUNK_ROWS ? n - from : TS_CHUNK_ROWS);
        TS_TRY(chunk_groups(gt, st, s, from, mm));
        for (int j = 0; j < mm; j++) {
            const grp *g = &st->g[s->gid[j]];
            if (g->cnt < st->k || cmp_entry(st, g, from + j, s->code[j], st->k - 1) <= 0)
                out[c++] = from + j;
        }
    }
    *m = c;
    return TS_OK;
}

ts_err ts_topk_group_rows(const ts_table *t, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                          int64_t k, ts_topk_kind kind, int64_t **rows, int64_t *m)
{
    *rows = NULL, *m = 0;
    if (k < 1 || k > INT32_MAX || nkeys < 0 || nkeys > TS_MAX_COLS || norder < 1 || norder > 8 ||
        (unsigned)kind > TS_TOPK_DENSE_RANK)
        TS_FAIL(TS_ERR_USAGE, "top k per group: k >= 1, 0..%d group keys and 1..8 order keys, not k = %lld, %d and %d",
                TS_MAX_COLS, (long long)k, nkeys, norder);
    const int64_t n = ts_table_rows(t);
    int64_t *out = ts_big(8 * (size_t)(n + 1));
    if (!out)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the top %lld rows per group of %lld rows", (long long)k,
                (long long)n);
    if (n > INT32_MAX) { /* the group table numbers rows with 32 bits: keep them all (still exact) */
        for (int64_t i = 0; i < n; i++)
            out[i] = i;
        *rows = out, *m = n;
        return TS_OK;
    }
    ts_sort_keyset ks;
    scratch *s = ts_big(sizeof *s);
    state st = {.ks_in = &ks, .ks_store = &ks, .k = k, .kind = kind};
    ts_group_table *gt = NULL;
    ts_err err = s ? ts_sort_keyset_resolve(t, order, norder, &ks)
                   : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int c = 0; !err && c < nkeys; c++) {
        ts_column *col;
        err = ts_table_need(t, keys[c], &col);
        if (!err)
            s->keys[c] = col;
    }
    if (!err) {
        st.fast = fast_order(&ks, ks.cols[0]->valid != NULL);
        st.inl = st.fast && k <= INLINE_K;
        err = ts_group_table_new(s->keys, nkeys, 1024, &gt);
    }
    if (!err)
        err = collect(t, gt, &st, s);
    if (!err)
        err = kind == TS_TOPK_ROW_NUMBER ? held_rows(&st, n, out, m) : rows_within(t, gt, &st, s, out, m);
    ts_group_table_free(gt);
    ts_free(st.g), ts_free(st.pool), ts_free(st.pcode), ts_free(st.thr), ts_free(s);
    if (err || !*m) {
        ts_free(out);
        *m = 0;
        return err;
    }
    *rows = out;
    return TS_OK;
}

ts_err ts_topk_group_keep(ts_table *t, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                          int64_t k, ts_topk_kind kind)
{
    int64_t *rows, m;
    TS_TRY(ts_topk_group_rows(t, keys, nkeys, order, norder, k, kind, &rows, &m));
    if (m < ts_table_rows(t))
        ts_table_keep_rows(t, rows, m);
    ts_free(rows);
    return TS_OK;
}

/* ---- the sink: ROW_NUMBER's top k per group of the rows pushed into it ------------------------------------------- */

typedef struct topk_sink {
    ts_op op;
    state st;
    ts_sort_keyset ks_in, ks_store; /* the order keys in the input chunk and in the kept rows */
    ts_group_table *gt;
    ts_table *kept;                 /* every row ever kept; those the groups still hold are live */
    int nkeys;
    int64_t chunks;
    scratch s;
    int32_t acc[TS_CHUNK_ROWS];     /* rows of the current chunk kept when offered */
    int64_t map[TS_CHUNK_ROWS];     /* their indexes in kept */
    int64_t touched[TS_CHUNK_ROWS]; /* groups the chunk inserted into */
} topk_sink;

/* Drops the kept rows no group holds any more (rows displaced by better ones), renumbering the entries. */
static ts_err compact(topk_sink *t)
{
    state *st = &t->st;
    const int64_t n = ts_table_rows(t->kept);
    int64_t *idx = ts_big(8 * (size_t)(st->live + 1)), *renum = ts_big(8 * (size_t)(n + 1)), m = 0;
    ts_err err = idx && renum ? held_rows(st, n, idx, &m)
                              : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory compacting "
                                               "the top rows of %lld groups", (long long)st->ng);
    if (!err) {
        for (int64_t q = 0; q < m; q++)
            renum[idx[q]] = q;
        ts_table_keep_rows(t->kept, idx, m);
        for (int64_t gi = 0; gi < st->ng; gi++)
            for (int64_t e = 0; e < st->g[gi].cnt; e++)
                st->pool[st->g[gi].off + e] = renum[st->pool[st->g[gi].off + e]];
    }
    ts_free(idx), ts_free(renum);
    return err;
}

static int64_t sink_bytes(const topk_sink *t)
{
    int64_t b = 16 * t->st.pcap + 8 * t->st.thr_cap + (int64_t)sizeof(grp) * t->st.g_cap + ts_group_table_bytes(t->gt);
    for (int c = 0; c < t->kept->ncols; c++)
        b += t->kept->cols[c]->cap * (int64_t)ts_type_width(t->kept->cols[c]->type) + t->kept->cols[c]->bytes_cap;
    return b;
}

static ts_err topk_sink_sink(ts_op *op, ts_chunk *in)
{
    topk_sink *t = (topk_sink *)op;
    state *st = &t->st;
    scratch *s = &t->s;
    const int m = (int)ts_chunk_live(in);
    const int32_t *rows = ts_chunk_rows(in, s->rows);
    TS_TRY(ts_group_table_find(t->gt, s->keys, rows, m, s->gid));
    TS_TRY(add_groups(st, ts_group_table_groups(t->gt)));
    if (st->fast)
        codes(st->ks_in, 0, (int)in->n, s->code);
    const int64_t chunk = ++t->chunks;
    int na = 0, nt = 0;
    const int nc = candidates(st, s->gid, s->code, rows, m, s->cand);
    for (int u = 0; u < nc; u++) {
        const int j = s->cand[u];
        const int32_t r = rows[j];
        int kept;
        if (u + 16 < nc)
            __builtin_prefetch(&st->g[s->gid[s->cand[u + 16]]]);
        TS_TRY(offer(st, s->gid[j], r, st->fast ? s->code[r] : 0, -(int64_t)r - 1, &kept));
        if (!kept)
            continue;
        t->acc[na++] = r;
        if (st->g[s->gid[j]].stamp != chunk)
            st->g[s->gid[j]].stamp = chunk, t->touched[nt++] = s->gid[j];
    }
    if (!na)
        return TS_OK;
    const int64_t base = ts_table_rows(t->kept);
    for (int c = 0; c < t->kept->ncols; c++)
        TS_TRY(ts_column_append_sel(t->kept->cols[c], &in->col[c], t->acc, na));
    for (int q = 0; q < na; q++)
        t->map[t->acc[q]] = base + q;
    for (int q = 0; q < nt; q++) { /* the entries naming this chunk's rows now name their copies */
        const grp *g = &st->g[t->touched[q]];
        for (int64_t e = g->off; e < g->off + g->cnt; e++)
            if (st->pool[e] < 0)
                st->pool[e] = t->map[-st->pool[e] - 1];
    }
    const int64_t dead = ts_table_rows(t->kept) - st->live;
    if (dead > st->live && dead > 4 * TS_CHUNK_ROWS)
        TS_TRY(compact(t));
    ts_op_hold(op, sink_bytes(t));
    return TS_OK;
}

static ts_err topk_sink_finish(ts_op *op, ts_ctx *ctx, ts_err status)
{
    (void)ctx;
    topk_sink *t = (topk_sink *)op;
    if (!status && ts_table_rows(t->kept) > t->st.live)
        status = compact(t);
    return status;
}

static void topk_sink_destroy(ts_op *op)
{
    topk_sink *t = (topk_sink *)op;
    ts_group_table_free(t->gt);
    ts_table_free(t->kept);
    ts_free(t->st.g), ts_free(t->st.pool), ts_free(t->st.pcode), ts_free(t->st.thr);
}

static const ts_op_vt TOPK_SINK = {.kind = "top-k per group", .sink = topk_sink_sink, .finish = topk_sink_finish,
                                   .destroy = topk_sink_destroy};

ts_err ts_topk_group_sink_new(ts_chunk *in, const char *const *keys, int nkeys, const ts_sort_key *order, int norder,
                              int64_t k, ts_op **out)
{
    *out = NULL;
    if (k < 1 || k > INT32_MAX || nkeys < 0 || nkeys > TS_MAX_COLS || norder < 1 || norder > 8)
        TS_FAIL(TS_ERR_USAGE, "top k per group: k >= 1, 0..%d group keys and 1..8 order keys, not k = %lld, %d and %d",
                TS_MAX_COLS, (long long)k, nkeys, norder);
    char label[96];
    snprintf(label, sizeof label, "top %lld per group of %d key%s", (long long)k, nkeys, nkeys == 1 ? "" : "s");
    ts_op *op;
    TS_TRY(ts_op_alloc(sizeof(topk_sink), &TOPK_SINK, label, &op));
    topk_sink *t = (topk_sink *)op;
    t->st = (state){.ks_in = &t->ks_in, .ks_store = &t->ks_store, .k = k, .kind = TS_TOPK_ROW_NUMBER};
    t->nkeys = nkeys;
    ts_err err = ts_table_new_like(&in->schema, "top k per group", &t->kept);
    if (!err) {
        t->kept->npart = in->schema.npart; /* the rows stay on this rank */
        memcpy(t->kept->part_keys, in->schema.part_keys, sizeof t->kept->part_keys);
        err = ts_sort_keyset_resolve(&in->schema, order, norder, &t->ks_in);
    }
    if (!err)
        err = ts_sort_keyset_resolve(t->kept, order, norder, &t->ks_store);
    for (int c = 0; !err && c < nkeys; c++) {
        ts_column *col;
        err = ts_table_need(&in->schema, keys[c], &col);
        if (!err)
            t->s.keys[c] = col;
    }
    if (!err) {
        t->st.fast = fast_order(&t->ks_in, 1);
        t->st.inl = t->st.fast && k <= INLINE_K;
        err = ts_group_table_new(t->s.keys, nkeys, 1024, &t->gt);
    }
    if (err) {
        ts_op_free(op);
        return err;
    }
    *out = op;
    return TS_OK;
}

ts_table *ts_topk_group_sink_take(ts_op *op)
{
    topk_sink *t = (topk_sink *)op;
    ts_table *r = t->kept;
    t->kept = NULL;
    return r;
}
