#include "ts_agg_stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_agg_state.h"
#include "ts_group_table.h"
#include "ts_mem.h"

static int is_pick(ts_agg_kind k) { return k == TS_AGG_MIN || k == TS_AGG_MAX || k == TS_AGG_FIRST || k == TS_AGG_LAST; }
static int is_ordered(ts_agg_kind k) { return k == TS_AGG_FIRST || k == TS_AGG_LAST; }
static int is_var(ts_agg_kind k) { return k >= TS_AGG_VAR_SAMP && k <= TS_AGG_STDDEV_POP; }
static int is_quantile(ts_agg_kind k) { return k == TS_AGG_QUANTILE || k == TS_AGG_MEDIAN; }
static int is_comoment(ts_agg_kind k) { return k >= TS_AGG_COVAR_POP && k <= TS_AGG_CORR; }
static int is_numeric(ts_agg_kind k)
{
    return k == TS_AGG_SUM || k == TS_AGG_MEAN || is_var(k) || is_quantile(k) || is_comoment(k);
}

/* ---- one aggregate's state ------------------------------------------------------------------------------------- */

typedef struct astate {
    ts_agg_kind kind;
    int in, where, order, in2;   /* chunk columns (-1: none) */
    double param;
    const ts_column *inc, *orc;  /* the input and order columns' schema (types) */
    int is_float, scale;
    int derived;                 /* COUNT / MEAN: the o_cnt field holds the group's rows this aggregate skipped
                                    (NULL input, `where` not true); its count is the group's rows minus those */
    int32_t *rank, *orank;       /* DICT input / order: rank of each code by its string */
    /* offsets of the state's fields in a group's state row (-1: none) */
    int o_cnt, o_isum, o_f0, o_f1, o_s1, o_s2, o_has, o_val, o_pos, o_oval, o_soff, o_slen, o_cm;
    int o_qtail, o_qfill;        /* quantiles: the group's last block and (capacity << 32 | values in it) */
    /* the fields unpacked into arrays by group, for the result (ts_agg_sink_result) */
    int64_t *cnt, *isum;
    ts_i128 *s1;
    ts_u128 *s2;
    double *f0, *f1;
    ts_comoments *cm;            /* COVAR_* / CORR */
    int64_t *val, *pos, *oval;   /* picks: value (doubles as bits), position, order value */
    uint8_t *has;
    int64_t *soff, *slen;        /* STRING picks: the value in heap */
    ts_column *heap;
    /* quantiles: each group's values in a chain of blocks of the pool, {capacity << 40 | next block, values},
     * the capacities doubling from QBLOCK_FIRST to QBLOCK_MAX; in the group's state row its value count (o_cnt),
     * first block (o_val), last block and that block's fill. Index 0 is no block. */
    int64_t *qpool, qlen, qcap;
    /* count distinct: a group table over (group, value) */
    ts_group_table *pairs;
    ts_column *pair_gid;         /* a one-chunk INT64 vector of group ids */
} astate;

typedef struct agg_sink {
    ts_op op;
    int nkeys, key[TS_MAX_COLS];
    char keyname[TS_MAX_COLS][TS_NAME_MAX];
    ts_agg aggs[TS_MAX_COLS];
    char outname[TS_MAX_COLS][TS_NAME_MAX];
    int naggs, partial;
    astate a[TS_MAX_COLS];
    ts_group_table *g;
    int64_t cap, pos_base, seen;
    /* the states: one row of W bytes per group, every aggregate's fields side by side (as DuckDB's row layout):
     * a chunk's updates of all aggregates touch one cache line per group instead of one per aggregate */
    uint8_t *mem;
    int W;
    int o_rows;                  /* every group's rows (-1: no aggregate derives its count from it) */
    uint8_t *sp[TS_CHUNK_ROWS];  /* the state row of each live row of the chunk */
    uint32_t gid[TS_CHUNK_ROWS];
    int32_t rows[TS_CHUNK_ROWS], q[TS_CHUNK_ROWS], tmp[TS_CHUNK_ROWS];
    double fx[TS_CHUNK_ROWS], fy[TS_CHUNK_ROWS]; /* co-moments: integer inputs as doubles */
} agg_sink;

static void astate_free(astate *s)
{
    free(s->rank), free(s->orank);
    ts_free(s->cnt), ts_free(s->isum), ts_free(s->s1), ts_free(s->s2), ts_free(s->f0), ts_free(s->f1), ts_free(s->cm);
    ts_free(s->val), ts_free(s->pos), ts_free(s->oval), ts_free(s->has), ts_free(s->soff), ts_free(s->slen);
    ts_column_free(s->heap);
    ts_free(s->qpool);
    ts_group_table_free(s->pairs);
    ts_column_free(s->pair_gid);
}

/* Places the state's fields in the group row (at *w, growing it). */
static void layout(astate *s, int *w)
{
    const ts_agg_kind k = s->kind;
    s->o_cnt = s->o_isum = s->o_f0 = s->o_f1 = s->o_s1 = s->o_s2 = -1;
    s->o_has = s->o_val = s->o_pos = s->o_oval = s->o_soff = s->o_slen = s->o_cm = -1;
    s->o_qtail = s->o_qfill = -1;
#define FIELD(f, size) (*w = (*w + (size) - 1) / (size) * (size), s->f = *w, *w += (size))
    if (is_quantile(k)) {
        FIELD(o_cnt, 8);
        FIELD(o_val, 8);
        FIELD(o_qtail, 8);
        FIELD(o_qfill, 8);
        return;
    }
    if (!is_pick(k) && k != TS_AGG_SUM) /* COUNT DISTINCT: the pairs new to its table */
        FIELD(o_cnt, 8);
    if (is_comoment(k)) {
        FIELD(o_cm, 8);
        *w += (int)sizeof(ts_comoments) - 8;
        return;
    }
    if ((k == TS_AGG_SUM || k == TS_AGG_MEAN) && !s->is_float)
        FIELD(o_isum, 8);
    if (is_var(k) && !s->is_float) {
        FIELD(o_s1, 16);
        FIELD(o_s2, 16);
    }
    if ((k == TS_AGG_SUM || k == TS_AGG_MEAN || is_var(k)) && s->is_float) {
        FIELD(o_f0, 8);
        FIELD(o_f1, 8);
    }
    if (is_pick(k)) {
        FIELD(o_has, 8);
        if (s->inc->type == TS_T_STRING) {
            FIELD(o_soff, 8);
            FIELD(o_slen, 8);
        } else {
            FIELD(o_val, 8);
        }
        if (is_ordered(k)) {
            FIELD(o_pos, 8);
            if (s->orc)
                FIELD(o_oval, 8);
        }
    }
#undef FIELD
}

/* Field f (offset) of group g's state row. */
#define AT(k, g, off, T) ((T *)((k)->mem + (size_t)(g) * (size_t)(k)->W + (off)))

/* ---- reading values ---------------------------------------------------------------------------------------------- */

/* Value of row r of an integer-like column (DICT: its code), or a double's bits. */
static inline int64_t ival(const ts_column *c, int64_t r)
{
    switch (ts_type_width(c->type)) {
    case 1: return TS_COL(c, uint8_t)[r];
    case 4: return TS_COL(c, int32_t)[r];
    default: return TS_COL(c, int64_t)[r];
    }
}

/* Compares two stored values of a column of `type` (DICT by rank): <0, 0, >0. */
static inline int cmp_val(ts_type type, const int32_t *rank, int64_t a, int64_t b)
{
    if (type == TS_T_FLOAT64) {
        double x, y;
        memcpy(&x, &a, 8), memcpy(&y, &b, 8);
        return ts_f64_cmp(x, y);
    }
    if (type == TS_T_DICT)
        a = rank[a], b = rank[b];
    return (a > b) - (a < b);
}

/* ---- updates ------------------------------------------------------------------------------------------------------ */

/* Named like ts_aggregate's errors ("aggregate 'out' of 'in': ..."), so that SQL shows the user's call instead. */
static ts_err overflow(const char *output, const ts_column *c)
{
    TS_FAIL(TS_ERR_DATA, "aggregate '%s' of '%s': the sum overflows int64", output, c->name);
}

/* The rows (indexes into rows[]) that take part: `where` true, input and order non-null. Returns their count and
 * sets *all when every row does (q untouched). */
static int qualifying(const agg_sink *k, const astate *s, const ts_chunk *c, const int32_t *rows, int m, int32_t *q,
                      int *all)
{
    const ts_column *w = s->where >= 0 ? &c->col[s->where] : NULL, *in = s->in >= 0 ? &c->col[s->in] : NULL,
                    *o = s->order >= 0 ? &c->col[s->order] : NULL, *in2 = s->in2 >= 0 ? &c->col[s->in2] : NULL;
    (void)k;
    *all = !w && (!in || !in->valid) && (!o || !o->valid) && (!in2 || !in2->valid);
    if (*all)
        return m;
    int n = 0;
    for (int j = 0; j < m; j++) {
        const int32_t r = rows[j];
        q[n] = j;
        n += (!w || (ts_column_is_valid(w, r) && TS_COL(w, uint8_t)[r])) && (!in || ts_column_is_valid(in, r)) &&
             (!o || ts_column_is_valid(o, r)) && (!in2 || ts_column_is_valid(in2, r));
    }
    return n;
}

#define FOR_ROWS(...)                                                                                           \
    do {                                                                                                        \
        if (all)                                                                                                \
            for (int j = 0; j < m; j++) {                                                                       \
                const int32_t r = rows[j];                                                                      \
                uint8_t *const p = sp[j];                                                                       \
                (void)r, (void)p;                                                                               \
                __VA_ARGS__;                                                                                    \
            }                                                                                                   \
        else                                                                                                    \
            for (int t = 0; t < n; t++) {                                                                       \
                const int j = q[t];                                                                             \
                const int32_t r = rows[j];                                                                      \
                uint8_t *const p = sp[j];                                                                       \
                (void)j, (void)r, (void)p;                                                                      \
                __VA_ARGS__;                                                                                    \
            }                                                                                                   \
    } while (0)

#define I64(off) (*(int64_t *)(p + (off)))
#define F64(off) (*(double *)(p + (off)))

/* Exact integer sums by width. */
#define SUM_INT(T)                                                                                              \
    do {                                                                                                        \
        const T *v = (const T *)in->data;                                                                       \
        const int os = s->o_isum;                                                                               \
        FOR_ROWS(ovf |= __builtin_add_overflow(I64(os), (int64_t)v[r], &I64(os)));                              \
    } while (0)

#define MOMENTS_INT(T)                                                                                          \
    do {                                                                                                        \
        const T *v = (const T *)in->data;                                                                       \
        const int o1 = s->o_s1, o2 = s->o_s2;                                                                   \
        FOR_ROWS(ts_moments_add((ts_i128 *)(p + o1), (ts_u128 *)(p + o2), (int64_t)v[r], &ovf));                \
    } while (0)

static ts_err update_numeric(const astate *s, const char *output, const ts_chunk *c, const int32_t *rows, int m,
                             uint8_t *const *sp, const int32_t *q, int n, int all)
{
    const ts_column *in = s->in >= 0 ? &c->col[s->in] : NULL;
    const ts_agg_kind k = s->kind;
    const int oc = s->o_cnt;
    if (s->derived && !all) { /* count the rows that do not qualify: none in the usual chunk without NULLs */
        for (int j = 0, t = 0; j < m; j++) {
            if (t < n && q[t] == j)
                t++;
            else
                (*(int64_t *)(sp[j] + oc))++;
        }
    } else if (is_var(k) && !s->is_float) {
        FOR_ROWS(I64(oc)++);
    }
    if (k == TS_AGG_COUNT)
        return TS_OK;
    int ovf = 0;
    if (s->is_float) {
        const double *v = TS_COL(in, double);
        const int o0 = s->o_f0, o1 = s->o_f1;
        if (is_var(k)) /* Welford's update needs the count including the row */
            FOR_ROWS(ts_welford_add(++I64(oc), &F64(o0), &F64(o1), v[r]));
        else
            FOR_ROWS(ts_neumaier_add(&F64(o0), &F64(o1), v[r]));
        return TS_OK;
    }
    const size_t w = ts_type_width(in->type);
    if (is_var(k)) {
        if (w == 8)
            MOMENTS_INT(int64_t);
        else if (w == 4)
            MOMENTS_INT(int32_t);
        else
            MOMENTS_INT(uint8_t);
        if (ovf)
            TS_FAIL(TS_ERR_DATA, "sum of squares of column '%s' overflows 128 bits", in->name);
        return TS_OK;
    }
    if (w == 8)
        SUM_INT(int64_t);
    else if (w == 4)
        SUM_INT(int32_t);
    else
        SUM_INT(uint8_t);
    return ovf ? overflow(output, in) : TS_OK;
}

/* The chunk's values of a numeric column as doubles at the live rows' positions (DECIMAL by value). */
static const double *as_f64(const ts_column *c, const int32_t *rows, int m, double *buf)
{
    if (c->type == TS_T_FLOAT64)
        return TS_COL(c, double);
    const double scale = c->type == TS_T_DECIMAL ? pow(10.0, c->scale) : 1;
    for (int j = 0; j < m; j++)
        buf[rows[j]] = (double)ival(c, rows[j]) / scale;
    return buf;
}

/* COVAR_* / CORR: the co-moments of the pairs (input, order). */
static void update_comoments(const astate *s, const ts_chunk *c, const int32_t *rows, int m, uint8_t *const *sp,
                             const int32_t *q, int n, int all, double *bx, double *by)
{
    const double *x = as_f64(&c->col[s->in], rows, m, bx), *y = as_f64(&c->col[s->in2], rows, m, by);
    const int oc = s->o_cnt, om = s->o_cm;
    FOR_ROWS(ts_comoments_add(++I64(oc), (ts_comoments *)(p + om), x[r], y[r]));
}

/* Whether a row with value v (order value ov, position ps) replaces the pick in state row p. */
static inline int better(const astate *s, const uint8_t *p, int64_t v, int64_t ov, int64_t ps)
{
    if (!*(const int64_t *)(p + s->o_has))
        return 1;
    const ts_agg_kind k = s->kind;
    if (k == TS_AGG_MIN || k == TS_AGG_MAX) {
        const int r = cmp_val(s->inc->type, s->rank, v, *(const int64_t *)(p + s->o_val));
        return k == TS_AGG_MIN ? r < 0 : r > 0;
    }
    if (s->orc) {
        const int r = cmp_val(s->orc->type, s->orank, ov, *(const int64_t *)(p + s->o_oval));
        if (r)
            return k == TS_AGG_FIRST ? r < 0 : r > 0;
        return ps < *(const int64_t *)(p + s->o_pos);
    }
    return k == TS_AGG_FIRST ? ps < *(const int64_t *)(p + s->o_pos) : ps > *(const int64_t *)(p + s->o_pos);
}

static int str_cmp(const char *a, int64_t la, const char *b, int64_t lb)
{
    const int r = memcmp(a, b, (size_t)(la < lb ? la : lb));
    return r ? r : (la > lb) - (la < lb);
}

static ts_err update_pick(astate *s, const ts_chunk *c, const int32_t *rows, int m, uint8_t *const *sp,
                          const int32_t *q, int n, int all, int64_t pos0)
{
    const ts_column *in = &c->col[s->in], *o = s->order >= 0 ? &c->col[s->order] : NULL;
    const ts_agg_kind k = s->kind;
    if (in->type == TS_T_STRING) {
        const int64_t *off = TS_COL(in, int64_t);
        int err = 0;
        FOR_ROWS({
            const char *str = in->bytes + off[r];
            const int64_t len = off[r + 1] - off[r], ps = pos0 + j;
            const int64_t ov = o ? ival(o, r) : 0;
            int take;
            if (!I64(s->o_has))
                take = 1;
            else if (k == TS_AGG_MIN || k == TS_AGG_MAX) {
                const int cr = str_cmp(str, len, s->heap->bytes + I64(s->o_soff), I64(s->o_slen));
                take = k == TS_AGG_MIN ? cr < 0 : cr > 0;
            } else {
                take = better(s, p, 0, ov, ps);
            }
            if (take) {
                I64(s->o_soff) = s->heap->nbytes, I64(s->o_slen) = len, I64(s->o_has) = 1;
                if (s->o_pos >= 0)
                    I64(s->o_pos) = ps;
                if (s->o_oval >= 0)
                    I64(s->o_oval) = ov;
                err |= ts_column_append_string(s->heap, str, len);
            }
        });
        return err ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for string "
                                    "aggregates") : TS_OK;
    }
    FOR_ROWS({
        const int64_t v = ival(in, r), ov = o ? ival(o, r) : 0, ps = pos0 + j;
        if (better(s, p, v, ov, ps)) {
            I64(s->o_val) = v, I64(s->o_has) = 1;
            if (s->o_pos >= 0)
                I64(s->o_pos) = ps;
            if (s->o_oval >= 0)
                I64(s->o_oval) = ov;
        }
    });
    return TS_OK;
}

/* Quantiles keep every value: appended to its group's last block (a new, twice larger one when full), in the
 * state row the chunk's other aggregates touch anyway. Compared with a (group, value) list bucketed by a counting
 * sort at the end, each value is written once and read once, and the result walks a group's blocks in cache. */
#define QBLOCK_FIRST 2
#define QBLOCK_MAX 512
static ts_err update_quantile(astate *s, const ts_chunk *c, const int32_t *rows, int m, uint8_t *const *sp,
                              const int32_t *q, int n, int all)
{
    const ts_column *in = &c->col[s->in];
    if (!s->qpool) {
        s->qlen = 1;
        TS_TRY(ts_reserve((void **)&s->qpool, &s->qcap, 1 + QBLOCK_FIRST + TS_CHUNK_ROWS, 8));
    }
    const int on = s->o_cnt, oh = s->o_val, ot = s->o_qtail, of = s->o_qfill;
    int64_t *pool = s->qpool;
    ts_err err = TS_OK;
    FOR_ROWS({
        uint64_t f = (uint64_t)I64(of);
        if ((f & 0xffffffffu) == f >> 32) { /* the last block is full (or none): a new one */
            const uint64_t cap = f >> 32 ? (f >> 32 < QBLOCK_MAX ? 2 * (f >> 32) : QBLOCK_MAX) : QBLOCK_FIRST;
            if (s->qlen + 1 + (int64_t)cap > s->qcap) {
                if ((err = ts_reserve((void **)&s->qpool, &s->qcap, s->qlen + 1 + (int64_t)cap, 8)))
                    break;
                pool = s->qpool;
            }
            const int64_t b = s->qlen;
            pool[b] = (int64_t)(cap << 40);
            s->qlen += 1 + (int64_t)cap;
            if (I64(ot))
                pool[I64(ot)] |= b;
            else
                I64(oh) = b;
            I64(ot) = b, f = cap << 32;
        }
        pool[I64(ot) + 1 + (int64_t)(f & 0xffffffffu)] = ival(in, r); /* doubles as their bits */
        I64(of) = (int64_t)(f + 1), I64(on)++;
    });
    return err;
}

/* Looks the chunk's (group, value) pairs up in the pairs table and counts each pair new to it in its group's row:
 * new pairs get the next ids in the order of their first row, so a pair is new exactly when its id is the next one
 * (the counts are then ready without reading the pairs back). */
static ts_err update_distinct(astate *s, const ts_chunk *c, const int32_t *rows, int m, const uint32_t *gid,
                              uint8_t *const *sp, const int32_t *q, int n, int all, int32_t *scratch)
{
    const ts_column *in = &c->col[s->in];
    int64_t *g64 = TS_COL(s->pair_gid, int64_t);
    int cnt = 0;
    if (all)
        for (int j = 0; j < m; j++)
            g64[rows[j]] = gid[j], scratch[cnt++] = rows[j];
    else
        for (int t = 0; t < n; t++)
            g64[rows[q[t]]] = gid[q[t]], scratch[cnt++] = rows[q[t]];
    s->pair_gid->len = c->n;
    const ts_column *keys[2] = {s->pair_gid, in};
    uint32_t pid[TS_CHUNK_ROWS];
    int64_t next = ts_group_table_groups(s->pairs);
    TS_TRY(ts_group_table_find(s->pairs, keys, scratch, cnt, pid));
    for (int t = 0; t < cnt; t++)
        if (pid[t] == next) {
            int64_t *count = (int64_t *)(sp[all ? t : q[t]] + s->o_cnt);
            ++*count, ++next;
        }
    return TS_OK;
}

/* ---- the sink ------------------------------------------------------------------------------------------------------ */

static ts_err ensure_capacity(agg_sink *k, int64_t groups)
{
    if (groups <= k->cap)
        return TS_OK;
    int64_t cap = k->cap ? k->cap : 1024;
    while (cap < groups)
        cap *= 2;
    if (k->W) {
        void *m = k->mem;
        if (!m) {
            if (!(m = ts_big_zero((size_t)cap * (size_t)k->W)))
                TS_FAIL(TS_ERR_NOMEM, "out of memory for aggregate states of %lld groups", (long long)cap);
        } else {
            TS_TRY(ts_realloc(&m, (size_t)k->cap * (size_t)k->W, (size_t)cap * (size_t)k->W));
            memset((uint8_t *)m + (size_t)k->cap * (size_t)k->W, 0, (size_t)(cap - k->cap) * (size_t)k->W);
        }
        k->mem = m;
    }
    k->cap = cap;
    return TS_OK;
}

static int64_t sink_bytes(const agg_sink *k)
{
    int64_t b = ts_group_table_bytes(k->g) + k->cap * k->W;
    for (int a = 0; a < k->naggs; a++) {
        const astate *s = &k->a[a];
        b += s->qcap * 8 + (s->heap ? s->heap->bytes_cap : 0) + (s->pairs ? ts_group_table_bytes(s->pairs) : 0);
    }
    return b;
}

static ts_err agg_consume(ts_op *op, ts_chunk *c)
{
    agg_sink *k = (agg_sink *)op;
    const int m = (int)ts_chunk_live(c);
    const int32_t *rows = ts_chunk_rows(c, k->rows);
    const ts_column *keys[TS_MAX_COLS];
    for (int i = 0; i < k->nkeys; i++)
        keys[i] = &c->col[k->key[i]];
    TS_TRY(ts_group_table_find(k->g, keys, c->sel, m, k->gid));
    TS_TRY(ensure_capacity(k, ts_group_table_groups(k->g)));
    if (k->o_rows >= 0) {
        for (int j = 0; j < m; j++) {
            k->sp[j] = k->mem + (size_t)k->gid[j] * (size_t)k->W;
            (*(int64_t *)(k->sp[j] + k->o_rows))++;
        }
    } else {
        for (int j = 0; j < m; j++) { /* the state rows are fetched while the first aggregate's loop runs */
            k->sp[j] = k->mem + (size_t)k->gid[j] * (size_t)k->W;
            __builtin_prefetch(k->sp[j], 1);
        }
    }
    for (int a = 0; a < k->naggs; a++) {
        astate *s = &k->a[a];
        int all;
        const int n = qualifying(k, s, c, rows, m, k->q, &all);
        if (is_pick(s->kind))
            TS_TRY(update_pick(s, c, rows, m, k->sp, k->q, n, all, k->pos_base + k->seen));
        else if (is_quantile(s->kind))
            TS_TRY(update_quantile(s, c, rows, m, k->sp, k->q, n, all));
        else if (s->kind == TS_AGG_COUNT_DISTINCT)
            TS_TRY(update_distinct(s, c, rows, m, k->gid, k->sp, k->q, n, all, k->tmp));
        else if (is_comoment(s->kind))
            update_comoments(s, c, rows, m, k->sp, k->q, n, all, k->fx, k->fy);
        else
            TS_TRY(update_numeric(s, k->outname[a], c, rows, m, k->sp, k->q, n, all));
    }
    k->seen += m;
    ts_op_hold(op, sink_bytes(k));
    return TS_OK;
}

static void agg_destroy(ts_op *op)
{
    agg_sink *k = (agg_sink *)op;
    ts_group_table_free(k->g);
    ts_free(k->mem);
    for (int a = 0; a < k->naggs; a++)
        astate_free(&k->a[a]);
}

static const ts_op_vt AGG_SINK = {.kind = "hash-aggregate", .sink = agg_consume, .destroy = agg_destroy};

static int find(const ts_chunk *c, const char *name)
{
    for (int i = 0; name && i < c->schema.ncols; i++)
        if (!strcmp(c->col[i].name, name))
            return i;
    return -1;
}

int ts_agg_stream_supports(const ts_table *schema, const ts_agg *aggs, int naggs, int partial)
{
    if (partial && !ts_agg_decomposable(aggs, naggs))
        return 0;
    for (int a = 0; a < naggs; a++) {
        if (!is_ordered(aggs[a].kind) || !aggs[a].order)
            continue;
        const ts_column *o = ts_table_col(schema, aggs[a].order);
        if (o && o->type == TS_T_STRING)
            return 0;
    }
    return 1;
}

static ts_err init_state(agg_sink *k, int a, const ts_chunk *c, int64_t expected)
{
    const ts_agg *x = &k->aggs[a];
    astate *s = &k->a[a];
    s->kind = x->kind, s->param = x->param;
    s->in = s->where = s->order = s->in2 = -1;
    if (x->kind < TS_AGG_COUNT || x->kind > TS_AGG_KIND_MAX)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': unknown kind %d", x->output, (int)x->kind);
    if (!x->input && x->kind != TS_AGG_COUNT)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s' needs an input column", x->output);
    if (x->input && (s->in = find(c, x->input)) < 0)
        TS_FAIL(TS_ERR_USAGE, "table '%s' has no column '%s'", c->schema.name, x->input);
    if (is_comoment(x->kind) && (!x->order || (s->in2 = find(c, x->order)) < 0))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': table '%s' has no second input column '%s'", x->output, c->schema.name,
                x->order ? x->order : "(none)");
    if (s->in2 >= 0 && (c->col[s->in2].type == TS_T_STRING || c->col[s->in2].type == TS_T_DICT))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': covariance and correlation of '%s' need a numeric column", x->output,
                c->col[s->in2].name);
    if (x->where && (s->where = find(c, x->where)) < 0)
        TS_FAIL(TS_ERR_USAGE, "table '%s' has no column '%s'", c->schema.name, x->where);
    if (x->order && is_ordered(x->kind) && (s->order = find(c, x->order)) < 0)
        TS_FAIL(TS_ERR_USAGE, "table '%s' has no column '%s'", c->schema.name, x->order);
    s->inc = s->in >= 0 ? &c->col[s->in] : NULL;
    s->orc = s->order >= 0 ? &c->col[s->order] : NULL;
    if (s->inc)
        s->is_float = s->inc->type == TS_T_FLOAT64, s->scale = s->inc->type == TS_T_DECIMAL ? s->inc->scale : 0;
    if (is_numeric(x->kind) && (s->inc->type == TS_T_STRING || s->inc->type == TS_T_DICT))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': sum, mean, variance and quantiles of '%s' need a numeric column",
                x->output, s->inc->name);
    if (x->kind == TS_AGG_QUANTILE && !(x->param >= 0 && x->param <= 1))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': quantile %g is outside [0, 1]", x->output, x->param);
    if (s->orc && s->orc->type == TS_T_STRING)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': a STRING ordering is not supported by the streaming aggregation",
                x->output);
    s->derived = x->kind == TS_AGG_COUNT || x->kind == TS_AGG_MEAN;
    layout(s, &k->W);
    if (is_pick(x->kind))
        TS_TRY(ts_dict_ranks(s->inc, &s->rank));
    TS_TRY(ts_dict_ranks(s->orc, &s->orank));
    if (is_pick(x->kind) && s->inc->type == TS_T_STRING)
        TS_TRY(ts_column_new("heap", TS_T_STRING, 0, NULL, &s->heap));
    if (x->kind == TS_AGG_COUNT_DISTINCT) {
        TS_TRY(ts_column_new("gid", TS_T_INT64, 0, NULL, &s->pair_gid));
        TS_TRY(ts_column_reserve(s->pair_gid, TS_CHUNK_ROWS, 0));
        const ts_column *types[2] = {s->pair_gid, s->inc};
        TS_TRY(ts_group_table_new(types, 2, expected, &s->pairs)); /* at least a pair a group */
    }
    return TS_OK;
}

ts_err ts_agg_sink_new(ts_chunk *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs, int partial,
                       int64_t pos_base, int64_t expected, ts_op **out)
{
    char label[192];
    snprintf(label, sizeof label, "hash-aggregate: %d key%s, %d aggregate%s%s", nkeys, nkeys == 1 ? "" : "s", naggs,
             naggs == 1 ? "" : "s", partial ? " (partial states)" : "");
    if (nkeys > TS_MAX_COLS || naggs > TS_MAX_COLS)
        TS_FAIL(TS_ERR_USAGE, "at most %d keys and %d aggregates", TS_MAX_COLS, TS_MAX_COLS);
    TS_TRY(ts_op_alloc(sizeof(agg_sink), &AGG_SINK, label, out));
    agg_sink *k = (agg_sink *)*out;
    k->nkeys = nkeys, k->naggs = naggs, k->partial = partial, k->pos_base = pos_base;
    ts_err err = TS_OK;
    const ts_column *kc[TS_MAX_COLS];
    for (int i = 0; !err && i < nkeys; i++) {
        k->key[i] = find(in, keys[i]);
        snprintf(k->keyname[i], TS_NAME_MAX, "%s", keys[i]);
        if (k->key[i] < 0)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "table '%s' has no column '%s'",
                                 in->schema.name, keys[i]);
        else
            kc[i] = &in->col[k->key[i]];
    }
    if (!err && partial && !ts_agg_decomposable(aggs, naggs))
        err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                             "partial states of quantiles and distinct counts are not supported");
    k->o_rows = -1;
    for (int a = 0; a < naggs; a++)
        if (aggs[a].kind == TS_AGG_COUNT || aggs[a].kind == TS_AGG_MEAN)
            k->o_rows = 0, k->W = 8; /* the group's rows lead its state row */
    for (int a = 0; !err && a < naggs; a++) {
        k->aggs[a] = aggs[a];
        snprintf(k->outname[a], TS_NAME_MAX, "%s", aggs[a].output);
        k->aggs[a].output = k->outname[a];
        err = init_state(k, a, in, expected);
        k->aggs[a].input = k->aggs[a].where = k->aggs[a].order = NULL; /* resolved: the caller's strings may go */
    }
    k->W = (k->W + 15) / 16 * 16; /* rows stay 16-byte aligned for the 128-bit moments */
    if (!err)
        err = ts_group_table_new(kc, nkeys, expected, &k->g);
    if (!err)
        err = ensure_capacity(k, expected > 0 ? expected : 1);
    if (err) {
        ts_op_free(*out);
        *out = NULL;
    }
    return err;
}

int64_t ts_agg_sink_groups(const ts_op *op) { return ts_group_table_groups(((const agg_sink *)op)->g); }
int64_t ts_agg_sink_rows(const ts_op *op) { return ((const agg_sink *)op)->seen; }

/* ---- results ------------------------------------------------------------------------------------------------------ */

static ts_err add_rows(ts_table *t, const char *name, ts_type type, int scale, ts_dict *dict, int64_t ng, ts_column **c)
{
    TS_TRY(ts_table_add(t, name, type, scale, dict, c));
    TS_TRY(ts_column_reserve(*c, ng, 0));
    (*c)->len = ng;
    return TS_OK;
}

static ts_err add_i64(ts_table *t, const char *name, ts_type type, int scale, const int64_t *v, int64_t ng)
{
    ts_column *c;
    TS_TRY(add_rows(t, name, type, scale, NULL, ng, &c));
    if (ng)
        memcpy(c->data, v, 8 * (size_t)ng);
    return TS_OK;
}

/* The picked values (NULL where a group has none) as a column of the input's type. */
static ts_err add_picked(ts_table *t, const char *name, const ts_column *like, const astate *s, const int64_t *v,
                         int64_t ng)
{
    ts_column *c;
    TS_TRY(ts_table_add(t, name, like->type, like->scale, like->dict, &c));
    if (like->type == TS_T_STRING) { /* the value (orderings are never STRING): in the heap */
        int64_t bytes = 0;
        for (int64_t g = 0; g < ng; g++)
            bytes += s->has[g] ? s->slen[g] : 0;
        TS_TRY(ts_column_reserve(c, ng, bytes));
        for (int64_t g = 0; g < ng; g++)
            TS_TRY(ts_column_append_string(c, s->heap->bytes + s->soff[g], s->has[g] ? s->slen[g] : 0));
    } else {
        TS_TRY(ts_column_reserve(c, ng, 0));
        const size_t w = ts_type_width(like->type);
        for (int64_t g = 0; g < ng; g++) {
            const int64_t x = s->has[g] ? v[g] : 0;
            if (w == 1)
                TS_COL(c, uint8_t)[g] = (uint8_t)x;
            else if (w == 4)
                TS_COL(c, int32_t)[g] = (int32_t)x;
            else
                TS_COL(c, int64_t)[g] = x;
        }
        c->len = ng;
    }
    for (int64_t g = 0; g < ng; g++)
        if (!s->has[g])
            TS_TRY(ts_column_set_null(c, g));
    return TS_OK;
}

static ts_type sum_type(const astate *s) { return s->inc->type == TS_T_DECIMAL ? TS_T_DECIMAL : TS_T_INT64; }

static ts_err emit_partial(ts_table *t, const ts_agg *x, int ai, const astate *s, int64_t ng)
{
    char name[TS_NAME_MAX];
#define NAME(f) (snprintf(name, sizeof name, "__p%d_%s", ai, (f)), name)
    const ts_agg_kind k = x->kind;
    if (is_pick(k)) {
        TS_TRY(add_picked(t, NAME("v"), s->inc, s, s->val, ng));
        if (s->orc)
            TS_TRY(add_picked(t, NAME("o"), s->orc, s, s->oval, ng));
        if (is_ordered(k))
            TS_TRY(add_i64(t, NAME("p"), TS_T_INT64, 0, s->pos, ng));
        return TS_OK;
    }
    if (k != TS_AGG_SUM)
        TS_TRY(add_i64(t, NAME("c"), TS_T_INT64, 0, s->cnt, ng));
    if (k == TS_AGG_COUNT)
        return TS_OK;
    if (is_comoment(k)) { /* ts_aggregate_merge's co-moment columns */
        static const char *const f[5] = {"mx", "my", "qx", "qy", "cxy"};
        for (int i = 0; i < 5; i++) {
            ts_column *c;
            TS_TRY(add_rows(t, NAME(f[i]), TS_T_FLOAT64, 0, NULL, ng, &c));
            for (int64_t g = 0; g < ng; g++) {
                const double v[5] = {s->cm[g].mx, s->cm[g].my, s->cm[g].m2x, s->cm[g].m2y, s->cm[g].cxy};
                TS_COL(c, double)[g] = v[i];
            }
        }
        return TS_OK;
    }
    if (s->is_float) {
        TS_TRY(add_i64(t, NAME(is_var(k) ? "m" : "s"), TS_T_FLOAT64, 0, (const int64_t *)s->f0, ng));
        return add_i64(t, NAME(is_var(k) ? "q" : "e"), TS_T_FLOAT64, 0, (const int64_t *)s->f1, ng);
    }
    if (!is_var(k))
        return add_i64(t, NAME("s"), sum_type(s), s->scale, s->isum, ng);
    const char *f[4] = {"s1l", "s1h", "s2l", "s2h"};
    for (int w = 0; w < 4; w++) {
        ts_column *c;
        TS_TRY(add_rows(t, NAME(f[w]), w == 0 ? sum_type(s) : TS_T_INT64, w == 0 ? s->scale : 0, NULL, ng, &c));
        for (int64_t g = 0; g < ng; g++) {
            const ts_u128 v = w < 2 ? (ts_u128)s->s1[g] : s->s2[g];
            TS_COL(c, uint64_t)[g] = (uint64_t)(w % 2 ? v >> 64 : v);
        }
    }
    return TS_OK;
#undef NAME
}

/* Exact quantiles: each group's blocks copied into one buffer, the value selected there in place. */
static ts_err emit_quantile(ts_table *t, const ts_agg *x, const astate *s, int64_t ng)
{
    const double q = x->kind == TS_AGG_MEDIAN ? 0.5 : x->param;
    int64_t most = 1;
    for (int64_t g = 0; g < ng; g++)
        most = s->cnt[g] > most ? s->cnt[g] : most;
    int64_t *buf = ts_big(8 * (size_t)most);
    ts_column *c = NULL;
    ts_err err = buf ? add_rows(t, x->output, TS_T_FLOAT64, 0, NULL, ng, &c)
                     : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for quantiles");
    const long double scale = powl(10.0L, s->scale);
    for (int64_t g = 0; !err && g < ng; g++) {
        const int64_t m = s->cnt[g];
        for (int64_t b = s->val[g], at = 0; at < m; b = s->qpool[b] & ((INT64_C(1) << 40) - 1)) {
            const int64_t cap = (int64_t)((uint64_t)s->qpool[b] >> 40), take = m - at < cap ? m - at : cap;
            memcpy(buf + at, s->qpool + b + 1, 8 * (size_t)take);
            at += take;
        }
        double *v = &TS_COL(c, double)[g];
        *v = m == 0         ? 0
             : s->is_float ? ts_quantile_f64((double *)buf, m, q)
                           : (double)(ts_quantile_i64(buf, m, q) / scale);
        if (m == 0)
            err = ts_column_set_null(c, g);
    }
    ts_free(buf);
    return err;
}

static ts_err emit_final(ts_table *t, const ts_agg *x, const astate *s, int64_t ng)
{
    const ts_agg_kind k = x->kind;
    if (is_pick(k))
        return add_picked(t, x->output, s->inc, s, s->val, ng);
    if (is_quantile(k))
        return emit_quantile(t, x, s, ng);
    if (k == TS_AGG_COUNT || k == TS_AGG_COUNT_DISTINCT)
        return add_i64(t, x->output, TS_T_INT64, 0, s->cnt, ng);
    if (k == TS_AGG_SUM && !s->is_float)
        return add_i64(t, x->output, sum_type(s), s->scale, s->isum, ng);
    ts_column *c;
    TS_TRY(add_rows(t, x->output, TS_T_FLOAT64, 0, NULL, ng, &c));
    const double scale = pow(10.0, s->scale);
    for (int64_t g = 0; g < ng; g++) {
        double v;
        int null = 0;
        if (k == TS_AGG_SUM)
            v = ts_neumaier_result(s->f0[g], s->f1[g]);
        else if (k == TS_AGG_MEAN)
            v = s->is_float ? ts_neumaier_result(s->f0[g], s->f1[g]) / (double)s->cnt[g]
                            : (double)s->isum[g] / scale / (double)s->cnt[g],
            null = s->cnt[g] == 0;
        else if (k == TS_AGG_CORR)
            v = ts_corr_result(s->cnt[g], &s->cm[g], &null);
        else if (is_comoment(k))
            v = ts_covar_result(s->cnt[g], &s->cm[g], k == TS_AGG_COVAR_SAMP, &null);
        else
            v = ts_var_result(s->cnt[g], k == TS_AGG_VAR_SAMP || k == TS_AGG_STDDEV_SAMP,
                              k == TS_AGG_STDDEV_SAMP || k == TS_AGG_STDDEV_POP, s->is_float,
                              s->is_float ? s->f1[g] : 0, s->is_float ? 0 : s->s1[g], s->is_float ? 0 : s->s2[g],
                              s->scale, &null);
        TS_COL(c, double)[g] = null ? 0 : v;
        if (null)
            TS_TRY(ts_column_set_null(c, g));
    }
    return TS_OK;
}

/* Copies field `off` (size bytes) of every group's state row into a new array *dst. */
static ts_err unpack(const agg_sink *k, int off, size_t size, int64_t ng, void *pdst)
{
    void **dst = pdst;
    if (off < 0)
        return TS_OK;
    uint8_t *d = ts_big(size * (size_t)(ng + 1));
    if (!d)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the results of %lld groups", (long long)ng);
    for (int64_t g = 0; g < ng; g++)
        memcpy(d + size * (size_t)g, k->mem + (size_t)g * (size_t)k->W + off, size);
    *dst = d;
    return TS_OK;
}

static ts_err unpack_state(const agg_sink *k, astate *s, int64_t ng)
{
    TS_TRY(unpack(k, s->o_cnt, 8, ng, &s->cnt));
    for (int64_t g = 0; s->derived && g < ng; g++)
        s->cnt[g] = *AT(k, g, k->o_rows, int64_t) - s->cnt[g];
    TS_TRY(unpack(k, s->o_isum, 8, ng, &s->isum));
    TS_TRY(unpack(k, s->o_f0, 8, ng, &s->f0));
    TS_TRY(unpack(k, s->o_f1, 8, ng, &s->f1));
    TS_TRY(unpack(k, s->o_s1, 16, ng, &s->s1));
    TS_TRY(unpack(k, s->o_s2, 16, ng, &s->s2));
    TS_TRY(unpack(k, s->o_cm, sizeof(ts_comoments), ng, &s->cm));
    TS_TRY(unpack(k, s->o_val, 8, ng, &s->val));
    TS_TRY(unpack(k, s->o_pos, 8, ng, &s->pos));
    TS_TRY(unpack(k, s->o_oval, 8, ng, &s->oval));
    TS_TRY(unpack(k, s->o_soff, 8, ng, &s->soff));
    TS_TRY(unpack(k, s->o_slen, 8, ng, &s->slen));
    if (s->o_has >= 0) {
        uint8_t *h = ts_big((size_t)ng + 1);
        if (!h)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for the results of %lld groups", (long long)ng);
        for (int64_t g = 0; g < ng; g++)
            h[g] = (uint8_t)*AT(k, g, s->o_has, int64_t);
        s->has = h;
    }
    return TS_OK;
}

ts_err ts_agg_sink_result(ts_op *op, const char *name, ts_table **out)
{
    agg_sink *k = (agg_sink *)op;
    const int64_t ng = ts_group_table_groups(k->g);
    TS_TRY(ensure_capacity(k, ng > 0 ? ng : 1));
    for (int a = 0; a < k->naggs; a++)
        TS_TRY(unpack_state(k, &k->a[a], ng));
    const char *names[TS_MAX_COLS];
    for (int i = 0; i < k->nkeys; i++)
        names[i] = k->keyname[i];
    TS_TRY(ts_table_new(name, out));
    ts_err err = ts_group_table_keys(k->g, names, *out);
    for (int a = 0; !err && a < k->naggs; a++)
        err = k->partial ? emit_partial(*out, &k->aggs[a], a, &k->a[a], ng) : emit_final(*out, &k->aggs[a], &k->a[a], ng);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_agg_sink_partial_result(ts_op *op, const char *name, ts_table **out)
{
    agg_sink *k = (agg_sink *)op; /* the states are laid out alike either way: only the emitting differs */
    const int was = k->partial;
    k->partial = 1;
    const ts_err err = ts_agg_sink_result(op, name, out);
    k->partial = was;
    return err;
}

ts_err ts_agg_sink_reset(ts_op *op, ts_chunk *in)
{
    agg_sink *k = (agg_sink *)op;
    const ts_column *kc[TS_MAX_COLS];
    for (int i = 0; i < k->nkeys; i++)
        kc[i] = &in->col[k->key[i]];
    ts_group_table *g;
    TS_TRY(ts_group_table_new(kc, k->nkeys, 0, &g));
    ts_group_table_free(k->g);
    k->g = g;
    ts_free(k->mem);
    k->mem = NULL, k->cap = 0;
    for (int a = 0; a < k->naggs; a++) {
        astate *s = &k->a[a];
        void *unpacked[] = {s->cnt, s->isum, s->s1, s->s2, s->f0, s->f1, s->val, s->pos, s->oval, s->has, s->soff,
                            s->slen, s->cm};
        for (size_t i = 0; i < sizeof unpacked / sizeof *unpacked; i++)
            ts_free(unpacked[i]);
        s->cnt = s->isum = s->val = s->pos = s->oval = s->soff = s->slen = NULL;
        s->s1 = NULL, s->s2 = NULL, s->f0 = s->f1 = NULL, s->has = NULL, s->cm = NULL;
        s->qlen = s->qpool ? 1 : 0; /* the new state rows name no block */
        if (s->heap) {
            ts_column_free(s->heap);
            s->heap = NULL;
            TS_TRY(ts_column_new("heap", TS_T_STRING, 0, NULL, &s->heap));
        }
    }
    TS_TRY(ensure_capacity(k, 1));
    ts_op_hold(op, sink_bytes(k));
    return TS_OK;
}
