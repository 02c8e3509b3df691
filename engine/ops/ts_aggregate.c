#include "ts_aggregate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_agg_state.h"
#include "ts_ht.h"
#include "ts_keys.h"
#include "ts_mem.h"
#include "ts_rowset.h"

#define NOMEM(what) ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory %s", (what))

/* ==== keys: a view of the key columns in which every key is integer-like =================================== */

/* Canonical bits of a FLOAT64 key: -0 and +0 are one key, every NaN is one key. Never INT64_MIN (that is -0),
 * which ts_pack_keys reserves for null keys. */
static int64_t f64_key(double v)
{
    if (v == 0)
        v = 0;
    if (isnan(v))
        return INT64_C(0x7ff8000000000000);
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static ts_err copy_nulls(ts_column *dst, const ts_column *src)
{
    for (int64_t i = 0; src->valid && i < src->len; i++)
        if (!ts_column_is_valid(src, i))
            TS_TRY(ts_column_set_null(dst, i));
    return TS_OK;
}

/* Local dictionary codes (INT32, by first appearance, exact byte comparison) of a STRING column, nulls kept. */
static ts_err string_codes(const ts_column *s, const char *name, ts_column **out)
{
    const int64_t n = s->len;
    if (n >= INT64_C(1) << 31)
        TS_FAIL(TS_ERR_USAGE, "grouping %lld strings on one rank: at most 2^31 are supported", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *slots = ts_big_zero(8 * nslots);
    ts_column *c = NULL;
    ts_err err = slots ? ts_column_new(name, TS_T_INT32, 0, NULL, &c) : NOMEM("encoding strings");
    if (!err)
        err = ts_column_reserve(c, n, 0);
    if (!err) {
        ts_string_codes(TS_COL(s, int64_t), s->bytes, n, slots, nslots, TS_COL(c, int32_t));
        c->len = n;
        err = copy_nulls(c, s);
    }
    ts_free(slots);
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    *out = c;
    return TS_OK;
}

static ts_err float_codes(const ts_column *f, const char *name, ts_column **out)
{
    ts_column *c = NULL;
    ts_err err = ts_column_new(name, TS_T_INT64, 0, NULL, &c);
    if (!err)
        err = ts_column_reserve(c, f->len, 0);
    if (!err) {
        for (int64_t i = 0; i < f->len; i++)
            TS_COL(c, int64_t)[i] = f64_key(TS_COL(f, double)[i]);
        c->len = f->len;
        err = copy_nulls(c, f);
    }
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    *out = c;
    return TS_OK;
}

/* view (a table struct that does not own its columns; never ts_table_free it, free view->cols) gets the key
 * columns, with STRING and FLOAT64 keys replaced by integer codes of the same names; owned[k] are those codes
 * (free_view frees them). */
static ts_err key_view(const ts_table *in, const char *const *keys, int nkeys, ts_table *view, ts_column **owned)
{
    memset(view, 0, sizeof *view);
    snprintf(view->name, sizeof view->name, "%s", in->name);
    if (nkeys < 0)
        TS_FAIL(TS_ERR_USAGE, "a negative number of key columns (%d)", nkeys);
    for (int k = 0; k < nkeys; k++) {
        ts_column *c;
        owned[k] = NULL;
        TS_TRY(ts_table_need(in, keys[k], &c));
        if (c->type == TS_T_STRING)
            TS_TRY(string_codes(c, keys[k], &owned[k]));
        else if (c->type == TS_T_FLOAT64)
            TS_TRY(float_codes(c, keys[k], &owned[k]));
        TS_TRY(ts_table_borrow(view, owned[k] ? owned[k] : c));
    }
    return TS_OK;
}

static void free_view(ts_column **owned, int n)
{
    for (int k = 0; k < n; k++)
        ts_column_free(owned[k]);
}

/* ==== group ids ================================================================================================ */

/* Group ids through a direct-indexed array when the packed keys are narrow ("perfect hash" grouping).
 * Returns *done = 0 when the keys are too wide. */
static ts_err group_ids_dense(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t *fr,
                              int64_t *ngroups, int *done)
{
    const int64_t n = ts_table_rows(in);
    uint32_t *code = ts_big(4 * (size_t)(n + 1));
    if (!code)
        TS_FAIL(TS_ERR_NOMEM, "out of memory grouping %lld rows", (long long)n);
    int bits = 0;
    ts_err err = ts_pack_keys_dense(in, keys, nkeys, 22, code, &bits);
    int32_t *map = NULL;
    if (!err && bits && !(map = ts_big(sizeof *map << bits)))
        err = NOMEM("for a group map");
    *done = !err && bits;
    if (*done) {
        memset(map, 0xff, sizeof *map << bits);
        int64_t g = 0;
        for (int64_t i = 0; i < n; i++) {
            int32_t *m = &map[code[i]];
            if (*m < 0)
                *m = (int32_t)g, fr[g++] = i;
            gid[i] = *m;
        }
        *ngroups = g;
    }
    ts_free(code), ts_free(map);
    return err;
}

/* Group ids through a row-index hash set over exact 128-bit packed keys (one or two keys): 8 bytes a slot,
 * sized for n up front (no rehashing), inserts batched with prefetching; a row whose key is new opens a group. */
static ts_err group_ids_hashed(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t *fr,
                               int64_t *ngroups)
{
    const int64_t n = ts_table_rows(in);
    if (n >= (INT64_C(1) << 32))
        TS_FAIL(TS_ERR_USAGE, "grouping %lld rows on one rank: at most 2^32 are supported", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *lo = ts_big(8 * (size_t)(n + 1)), *hi = ts_big(8 * (size_t)(n + 1)), *slots = ts_big_zero(8 * nslots);
    ts_err err = lo && hi && slots ? ts_pack_keys(in, keys, nkeys, lo, hi) : NOMEM("grouping rows");
    int64_t g = 0;
    if (!err) {
        ts_rowset set;
        uint32_t first[1024];
        ts_rowset_init(&set, slots, nslots, lo, hi);
        for (int64_t base = 0; base < n; base += 1024) {
            const uint32_t m = (uint32_t)(n - base < 1024 ? n - base : 1024);
            ts_rowset_insert_many(&set, NULL, (uint32_t)base, m, first);
            for (uint32_t k = 0; k < m; k++) {
                const int64_t i = base + k;
                if (first[k] == (uint32_t)i)
                    gid[i] = g, fr[g++] = i;
                else
                    gid[i] = gid[first[k]];
            }
        }
    }
    ts_free(lo), ts_free(hi), ts_free(slots);
    *ngroups = g;
    return err;
}

/* Any number of keys without a width limit: group by key 0, then by (group so far, key 1), ... Each step is
 * an exact two-word hash grouping, and the final ids still follow first appearance. No keys: one group. */
static ts_err group_ids_chained(const ts_table *view, int64_t n, int64_t *gid, int64_t *fr, int64_t *ngroups)
{
    memset(gid, 0, 8 * (size_t)n);
    int64_t g = n > 0;
    fr[0] = 0;
    for (int k = 0; k < view->ncols; k++) {
        const ts_column *c = view->cols[k];
        ts_ht ht;
        if (ts_ht_init(&ht, 1024) != 0)
            TS_FAIL(TS_ERR_NOMEM, "out of memory grouping %lld rows", (long long)n);
        g = 0;
        for (int64_t i = 0; i < n; i++) {
            const int valid = ts_column_is_valid(c, i);
            int inserted;
            int64_t *slot = ts_ht_upsert(&ht, (uint64_t)gid[i] << 1 | (uint64_t)!valid,
                                         valid ? (uint64_t)ts_key_value(c, i) : 0, g, &inserted);
            if (!slot) {
                ts_ht_free(&ht);
                TS_FAIL(TS_ERR_NOMEM, "out of memory in the group table");
            }
            if (inserted)
                fr[g++] = i;
            gid[i] = *slot;
        }
        ts_ht_free(&ht);
    }
    *ngroups = g;
    return TS_OK;
}

/* Dense group ids by first appearance; *first[g] = first row of group g (caller frees with ts_free). */
static ts_err group_ids(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t **first,
                        int64_t *ngroups)
{
    ts_table view = {.cols = NULL};
    ts_column **owned = calloc((size_t)(nkeys > 0 ? nkeys : 1), sizeof *owned);
    int64_t *fr = ts_big(8 * (size_t)(ts_table_rows(in) + 1));
    ts_err err = fr && owned ? key_view(in, keys, nkeys, &view, owned) : NOMEM("grouping rows");
    int done = 0;
    if (!err && nkeys >= 1 && nkeys <= 8)
        err = group_ids_dense(&view, keys, nkeys, gid, fr, ngroups, &done);
    int bits = 0; /* three or more keys that bit-pack into 128 bits hash like two */
    if (!err && !done && nkeys > 2 && nkeys <= 8)
        err = ts_pack_keys_width(&view, keys, nkeys, &bits);
    if (!err && !done && nkeys >= 1 && (nkeys <= 2 || (nkeys <= 8 && bits <= 128)))
        err = group_ids_hashed(&view, keys, nkeys, gid, fr, ngroups), done = 1;
    if (!err && !done)
        err = group_ids_chained(&view, ts_table_rows(in), gid, fr, ngroups);
    if (owned)
        free_view(owned, nkeys);
    free(owned), free(view.cols);
    if (err) {
        ts_free(fr);
        TS_TRY(err);
    }
    *first = fr;
    return TS_OK;
}

/* ==== what one aggregate reads ================================================================================= */

enum { MODE_FULL, MODE_PARTIAL, MODE_MERGE };

static int is_pick(ts_agg_kind k) { return k == TS_AGG_MIN || k == TS_AGG_MAX || k == TS_AGG_FIRST || k == TS_AGG_LAST; }
static int is_var(ts_agg_kind k) { return k >= TS_AGG_VAR_SAMP && k <= TS_AGG_STDDEV_POP; }
static int is_quantile(ts_agg_kind k) { return k == TS_AGG_QUANTILE || k == TS_AGG_MEDIAN; }
static int is_comoment(ts_agg_kind k) { return k >= TS_AGG_COVAR_POP && k <= TS_AGG_CORR; }
static int is_numeric(ts_agg_kind k)
{
    return k == TS_AGG_SUM || k == TS_AGG_MEAN || is_var(k) || is_quantile(k) || is_comoment(k);
}

int ts_agg_decomposable(const ts_agg *aggs, int naggs)
{
    for (int a = 0; a < naggs; a++)
        if (is_quantile(aggs[a].kind) || aggs[a].kind == TS_AGG_COUNT_DISTINCT)
            return 0;
    return 1;
}

typedef struct agg_src {
    const ts_column *in, *where, *order; /* in: the input (rows) or the state's value column (merge) */
    const ts_column *in2;                /* COVAR_* / CORR: the second input (rows) */
    double scale1, scale2;               /* COVAR_* / CORR: 10^scale of a DECIMAL input, else 1 */
    const int64_t *pos;                  /* FIRST/LAST: position of each row; NULL = row_base + row */
    int64_t row_base;
    int32_t *rank, *order_rank;          /* DICT columns: rank of each code by its string (owned) */
    int is_float, scale;                 /* numeric aggregates: FLOAT64 input; DECIMAL scale */
    ts_type type;                        /* numeric aggregates: input type */
} agg_src;

static void src_free(agg_src *s) { free(s->rank), free(s->order_rank); }

static void set_numeric(agg_src *s, const ts_column *c)
{
    s->is_float = c->type == TS_T_FLOAT64, s->scale = c->type == TS_T_DECIMAL ? c->scale : 0, s->type = c->type;
}

/* Resolves and checks the columns of an aggregate over input rows. */
static ts_err src_rows(const ts_table *in, const ts_agg *a, int64_t row_base, agg_src *s)
{
    memset(s, 0, sizeof *s);
    s->row_base = row_base;
    if (a->kind < TS_AGG_COUNT || a->kind > TS_AGG_KIND_MAX)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': unknown kind %d", a->output, (int)a->kind);
    if (!a->input && a->kind != TS_AGG_COUNT)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s' needs an input column", a->output);
    if (is_comoment(a->kind) && !a->order)
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s' needs a second input column", a->output);
    ts_column *c;
    if (is_comoment(a->kind)) {
        TS_TRY(ts_table_need(in, a->order, &c));
        s->in2 = c;
        if (c->type == TS_T_STRING || c->type == TS_T_DICT)
            TS_FAIL(TS_ERR_USAGE, "aggregate '%s': covariance and correlation of '%s' need a numeric column",
                    a->output, c->name);
        s->scale2 = c->type == TS_T_DECIMAL ? pow(10.0, c->scale) : 1;
    }
    if (a->input) {
        TS_TRY(ts_table_need(in, a->input, &c));
        s->in = c;
        set_numeric(s, c);
        s->scale1 = c->type == TS_T_DECIMAL ? pow(10.0, c->scale) : 1;
    }
    if (a->where) {
        TS_TRY(ts_table_need(in, a->where, &c));
        s->where = c;
    }
    if (a->order && (a->kind == TS_AGG_FIRST || a->kind == TS_AGG_LAST)) {
        TS_TRY(ts_table_need(in, a->order, &c));
        s->order = c;
    }
    if (is_numeric(a->kind) && (s->in->type == TS_T_STRING || s->in->type == TS_T_DICT))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': sum, mean, variance and quantiles of '%s' need a numeric column",
                a->output, s->in->name);
    if (is_quantile(a->kind) && a->kind == TS_AGG_QUANTILE && !(a->param >= 0 && a->param <= 1))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': quantile %g is outside [0, 1]", a->output, a->param);
    return TS_OK;
}

/* Whether row i takes part: `where` true, input and order (when given) non-null. */
static inline int row_counts(const agg_src *s, int64_t i)
{
    return (!s->where || (ts_column_is_valid(s->where, i) && TS_COL(s->where, uint8_t)[i])) &&
           (!s->in || ts_column_is_valid(s->in, i)) && (!s->order || ts_column_is_valid(s->order, i)) &&
           (!s->in2 || ts_column_is_valid(s->in2, i));
}

/* Row i of a numeric column as a double (DECIMAL by value: scale is 10^its scale). */
static inline double num_value(const ts_column *c, int64_t i, double scale)
{
    return c->type == TS_T_FLOAT64 ? TS_COL(c, double)[i] : (double)ts_key_value(c, i) / scale;
}

/* ==== per-group accumulators =================================================================================== */

typedef struct agg_acc {
    int64_t *cnt;           /* values (COUNT: rows) */
    int64_t *isum;          /* SUM / MEAN of integer-like input */
    ts_i128 *s1;            /* variances of integer-like input: exact sum x and sum x^2 */
    ts_u128 *s2;
    double *f0, *f1;        /* FLOAT64: Neumaier sum and compensation, or Welford mean and M2 */
    int64_t *best, *bpos;   /* MIN/MAX/FIRST/LAST: row holding the value (-1 none) and its position */
    ts_comoments *cm;       /* COVAR_* / CORR */
} agg_acc;

static void acc_free(agg_acc *ac)
{
    free(ac->cnt), free(ac->isum), free(ac->s1), free(ac->s2), free(ac->f0), free(ac->f1), free(ac->best),
        free(ac->bpos), free(ac->cm);
}

static ts_err acc_alloc(agg_acc *ac, ts_agg_kind k, int is_float, int64_t ng)
{
    memset(ac, 0, sizeof *ac);
    const size_t m = (size_t)ng + 1;
    int ok = (ac->cnt = calloc(m, 8)) != NULL;
    if ((k == TS_AGG_SUM || k == TS_AGG_MEAN) && !is_float)
        ok &= (ac->isum = calloc(m, 8)) != NULL;
    if (is_var(k) && !is_float)
        ok &= (ac->s1 = calloc(m, sizeof *ac->s1)) != NULL && (ac->s2 = calloc(m, sizeof *ac->s2)) != NULL;
    if ((k == TS_AGG_SUM || k == TS_AGG_MEAN || is_var(k)) && is_float)
        ok &= (ac->f0 = calloc(m, 8)) != NULL && (ac->f1 = calloc(m, 8)) != NULL;
    if (is_comoment(k))
        ok &= (ac->cm = calloc(m, sizeof *ac->cm)) != NULL;
    if (is_pick(k)) {
        ok &= (ac->best = malloc(8 * m)) != NULL && (ac->bpos = calloc(m, 8)) != NULL;
        for (int64_t g = 0; ok && g < ng; g++)
            ac->best[g] = -1;
    }
    if (!ok) {
        acc_free(ac);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the states of %lld groups", (long long)ng);
    }
    return TS_OK;
}

/* Order of rows i and j of one column (see ts_f64_cmp for doubles; STRING bytewise; DICT by string). */
static int cmp_rows(const ts_column *c, const int32_t *rank, int64_t i, int64_t j)
{
    switch (c->type) {
    case TS_T_FLOAT64: return ts_f64_cmp(TS_COL(c, double)[i], TS_COL(c, double)[j]);
    case TS_T_DICT: return (rank[TS_COL(c, int32_t)[i]] > rank[TS_COL(c, int32_t)[j]]) -
                           (rank[TS_COL(c, int32_t)[i]] < rank[TS_COL(c, int32_t)[j]]);
    case TS_T_STRING: {
        const int64_t *o = TS_COL(c, int64_t), la = o[i + 1] - o[i], lb = o[j + 1] - o[j];
        const int r = memcmp(c->bytes + o[i], c->bytes + o[j], (size_t)(la < lb ? la : lb));
        return r ? r : (la > lb) - (la < lb);
    }
    default: {
        const int64_t a = ts_key_value(c, i), b = ts_key_value(c, j);
        return (a > b) - (a < b);
    }
    }
}

/* Whether row i (position pi) replaces the current pick b (position pb). Ties keep the earlier row, except
 * LAST without order, which wants the latest position. */
static int better(ts_agg_kind k, const agg_src *s, int64_t i, int64_t pi, int64_t b, int64_t pb)
{
    if (k == TS_AGG_MIN || k == TS_AGG_MAX) {
        const int c = cmp_rows(s->in, s->rank, i, b);
        return k == TS_AGG_MIN ? c < 0 : c > 0;
    }
    if (s->order) {
        const int c = cmp_rows(s->order, s->order_rank, i, b);
        if (c)
            return k == TS_AGG_FIRST ? c < 0 : c > 0;
        return pi < pb;
    }
    return k == TS_AGG_FIRST ? pi < pb : pi > pb;
}

static ts_err update_pick(ts_agg_kind k, const agg_src *s, const int64_t *gid, int64_t n, agg_acc *ac)
{
    for (int64_t i = 0; i < n; i++) {
        if (!row_counts(s, i))
            continue;
        const int64_t g = gid[i], pi = s->pos ? s->pos[i] : s->row_base + i;
        if (ac->best[g] < 0 || better(k, s, i, pi, ac->best[g], ac->bpos[g]))
            ac->best[g] = i, ac->bpos[g] = pi;
    }
    return TS_OK;
}

static ts_err overflow(const agg_src *s)
{
    (void)s; /* compute_agg names the aggregate and its input */
    TS_FAIL(TS_ERR_DATA, "the sum overflows int64");
}

/* One pass over input rows: COUNT, SUM, MEAN, variances and the picks. */
static ts_err update_rows(ts_agg_kind k, const agg_src *s, const int64_t *gid, int64_t n, agg_acc *ac)
{
    if (is_pick(k))
        return update_pick(k, s, gid, n, ac);
    const double *f = s->is_float ? TS_COL(s->in, double) : NULL;
    int ovf = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!row_counts(s, i))
            continue;
        const int64_t g = gid[i];
        ac->cnt[g]++;
        if (k == TS_AGG_COUNT)
            continue;
        if (is_comoment(k)) {
            ts_comoments_add(ac->cnt[g], &ac->cm[g], num_value(s->in, i, s->scale1), num_value(s->in2, i, s->scale2));
        } else if (is_var(k)) {
            if (f)
                ts_welford_add(ac->cnt[g], &ac->f0[g], &ac->f1[g], f[i]);
            else
                ts_moments_add(&ac->s1[g], &ac->s2[g], ts_key_value(s->in, i), &ovf);
        } else if (f) {
            ts_neumaier_add(&ac->f0[g], &ac->f1[g], f[i]);
        } else {
            ovf |= __builtin_add_overflow(ac->isum[g], ts_key_value(s->in, i), &ac->isum[g]);
        }
        if (ovf)
            return overflow(s);
    }
    return TS_OK;
}

/* ==== partial states: column names and the merge ============================================================== */

static const ts_column *state_col(const ts_table *p, int ai, const char *field)
{
    char name[TS_NAME_MAX];
    snprintf(name, sizeof name, "__p%d_%s", ai, field);
    return ts_table_col(p, name);
}

/* Resolves the state columns of aggregate ai in a partial table. */
static ts_err src_merge(const ts_table *p, const ts_agg *a, int ai, agg_src *s)
{
    memset(s, 0, sizeof *s);
    const ts_agg_kind k = a->kind;
    const int ordered = k == TS_AGG_FIRST || k == TS_AGG_LAST;
    const char *field = is_pick(k)            ? "v"
                        : k == TS_AGG_COUNT   ? "c"
                        : is_comoment(k)      ? "cxy"
                        : is_var(k)           ? (state_col(p, ai, "m") ? "m" : "s1l")
                                              : "s";
    const ts_column *num = state_col(p, ai, field), *pos = state_col(p, ai, "p");
    if (is_pick(k)) {
        s->in = num;
        s->order = a->order && ordered ? state_col(p, ai, "o") : NULL;
        s->pos = pos ? TS_COL(pos, int64_t) : NULL;
    }
    if (!num || (ordered && (!pos || (a->order && !s->order))))
        TS_FAIL(TS_ERR_USAGE, "table '%s' holds no partial state of aggregate %d ('%s')", p->name, ai, a->output);
    set_numeric(s, num);
    return TS_OK;
}

static ts_err merge_var(const ts_table *p, int ai, const agg_src *s, const int64_t *gid, int64_t n, agg_acc *ac)
{
    const int64_t *c = TS_COL(state_col(p, ai, "c"), int64_t);
    if (s->is_float) {
        const double *m = TS_COL(state_col(p, ai, "m"), double), *q = TS_COL(state_col(p, ai, "q"), double);
        for (int64_t i = 0; i < n; i++) {
            const int64_t g = gid[i];
            ts_chan_merge(ac->cnt[g], &ac->f0[g], &ac->f1[g], c[i], m[i], q[i]);
            ac->cnt[g] += c[i];
        }
        return TS_OK;
    }
    const char *f[4] = {"s1l", "s1h", "s2l", "s2h"};
    const uint64_t *w[4];
    for (int k = 0; k < 4; k++)
        w[k] = TS_COL(state_col(p, ai, f[k]), uint64_t);
    int ovf = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid[i];
        ac->cnt[g] += c[i];
        ac->s1[g] += (ts_i128)((ts_u128)w[1][i] << 64 | w[0][i]);
        ovf |= __builtin_add_overflow(ac->s2[g], (ts_u128)w[3][i] << 64 | w[2][i], &ac->s2[g]);
    }
    if (ovf)
        TS_FAIL(TS_ERR_DATA, "sum of squares of an aggregate overflows 128 bits");
    return TS_OK;
}

/* The co-moment state columns of aggregate ai: count, means, squared and cross deviations. */
static const char *const COMOMENT_FIELDS[6] = {"c", "mx", "my", "qx", "qy", "cxy"};

static ts_err merge_comoments(const ts_table *p, int ai, const int64_t *gid, int64_t n, agg_acc *ac)
{
    const void *f[6];
    for (int k = 0; k < 6; k++) {
        const ts_column *c = state_col(p, ai, COMOMENT_FIELDS[k]);
        if (!c)
            TS_FAIL(TS_ERR_USAGE, "table '%s' holds no co-moment state '%s' of aggregate %d", p->name,
                    COMOMENT_FIELDS[k], ai);
        f[k] = c->data;
    }
    const int64_t *c = f[0];
    const double *mx = f[1], *my = f[2], *qx = f[3], *qy = f[4], *cxy = f[5];
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid[i];
        const ts_comoments b = {mx[i], my[i], qx[i], qy[i], cxy[i]};
        ts_comoments_merge(ac->cnt[g], &ac->cm[g], c[i], &b);
        ac->cnt[g] += c[i];
    }
    return TS_OK;
}

/* One pass over partial-state rows (the union of several partial tables). */
static ts_err update_merge(const ts_table *p, ts_agg_kind k, int ai, const agg_src *s, const int64_t *gid,
                           int64_t n, agg_acc *ac)
{
    if (is_pick(k))
        return update_pick(k, s, gid, n, ac);
    if (is_var(k))
        return merge_var(p, ai, s, gid, n, ac);
    if (is_comoment(k))
        return merge_comoments(p, ai, gid, n, ac);
    const ts_column *cc = state_col(p, ai, "c"), *sc = state_col(p, ai, "s"), *ec = state_col(p, ai, "e");
    int ovf = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = gid[i];
        if (cc)
            ac->cnt[g] += TS_COL(cc, int64_t)[i];
        if (k == TS_AGG_COUNT)
            continue;
        if (s->is_float) {
            /* the partial sums are added with compensation; their compensations are tiny: plain sum */
            ts_neumaier_add(&ac->f0[g], &ac->f1[g], TS_COL(sc, double)[i]);
            ac->f1[g] += TS_COL(ec, double)[i];
        } else {
            ovf |= __builtin_add_overflow(ac->isum[g], TS_COL(sc, int64_t)[i], &ac->isum[g]);
        }
    }
    if (ovf) /* sc is an internal state column: compute_agg names the aggregate */
        TS_FAIL(TS_ERR_DATA, "the sum overflows int64 (partial sums combined)");
    return TS_OK;
}

/* ==== output columns ============================================================================================ */

/* Adds a column of ng rows (values to be filled by the caller). */
static ts_err add_rows(ts_table *t, const char *name, ts_type type, int scale, ts_dict *dict, int64_t ng,
                       ts_column **c)
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

/* The picked rows of src (NULL where best < 0) as a new column `name`. */
static ts_err add_picked(ts_table *t, const char *name, const ts_column *src, const int64_t *best, int64_t ng)
{
    ts_column *c;
    TS_TRY(ts_table_add(t, name, src->type, src->scale, src->dict, &c));
    int64_t *idx = malloc(8 * ((size_t)ng + 1));
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %lld picks", (long long)ng);
    for (int64_t g = 0; g < ng; g++)
        idx[g] = best[g] < 0 ? 0 : best[g];
    ts_err err = ts_column_append_rows(c, src, idx, ng);
    for (int64_t g = 0; !err && g < ng; g++)
        if (best[g] < 0)
            err = ts_column_set_null(c, g);
    free(idx);
    return err;
}

static ts_type sum_type(const agg_src *s) { return s->type == TS_T_DECIMAL ? TS_T_DECIMAL : TS_T_INT64; }

/* The five float fields of co-moment states (the count is emitted beside them) as partial-state columns. */
static ts_err emit_comoments(ts_table *t, int ai, const ts_comoments *cm, int64_t ng)
{
    for (int f = 1; f < 6; f++) {
        char name[TS_NAME_MAX];
        snprintf(name, sizeof name, "__p%d_%s", ai, COMOMENT_FIELDS[f]);
        ts_column *c;
        TS_TRY(add_rows(t, name, TS_T_FLOAT64, 0, NULL, ng, &c));
        for (int64_t g = 0; g < ng; g++) {
            const double v[5] = {cm[g].mx, cm[g].my, cm[g].m2x, cm[g].m2y, cm[g].cxy};
            TS_COL(c, double)[g] = v[f - 1];
        }
    }
    return TS_OK;
}

/* The result of a COVAR_* / CORR aggregate of group g, or NAN with *null set. */
static double comoment_result(ts_agg_kind k, int64_t n, const ts_comoments *cm, int *null)
{
    return k == TS_AGG_CORR ? ts_corr_result(n, cm, null) : ts_covar_result(n, cm, k == TS_AGG_COVAR_SAMP, null);
}

static ts_err emit_partial(ts_table *t, const ts_agg *a, int ai, const agg_src *s, const agg_acc *ac, int64_t ng)
{
    char name[TS_NAME_MAX];
#define NAME(f) (snprintf(name, sizeof name, "__p%d_%s", ai, (f)), name)
    const ts_agg_kind k = a->kind;
    if (is_pick(k)) {
        TS_TRY(add_picked(t, NAME("v"), s->in, ac->best, ng));
        if (s->order)
            TS_TRY(add_picked(t, NAME("o"), s->order, ac->best, ng));
        if (k == TS_AGG_FIRST || k == TS_AGG_LAST)
            TS_TRY(add_i64(t, NAME("p"), TS_T_INT64, 0, ac->bpos, ng));
        return TS_OK;
    }
    if (k != TS_AGG_SUM)
        TS_TRY(add_i64(t, NAME("c"), TS_T_INT64, 0, ac->cnt, ng));
    if (k == TS_AGG_COUNT)
        return TS_OK;
    if (is_comoment(k))
        return emit_comoments(t, ai, ac->cm, ng);
    if (s->is_float) {
        TS_TRY(add_i64(t, NAME(is_var(k) ? "m" : "s"), TS_T_FLOAT64, 0, (const int64_t *)ac->f0, ng));
        return add_i64(t, NAME(is_var(k) ? "q" : "e"), TS_T_FLOAT64, 0, (const int64_t *)ac->f1, ng);
    }
    if (!is_var(k))
        return add_i64(t, NAME("s"), sum_type(s), s->scale, ac->isum, ng);
    const char *f[4] = {"s1l", "s1h", "s2l", "s2h"};
    for (int w = 0; w < 4; w++) {
        ts_column *c;
        TS_TRY(add_rows(t, NAME(f[w]), w == 0 ? sum_type(s) : TS_T_INT64, w == 0 ? s->scale : 0, NULL, ng, &c));
        for (int64_t g = 0; g < ng; g++) {
            const ts_u128 v = w < 2 ? (ts_u128)ac->s1[g] : ac->s2[g];
            TS_COL(c, uint64_t)[g] = (uint64_t)(w % 2 ? v >> 64 : v);
        }
    }
    return TS_OK;
#undef NAME
}

static double pow10i(int e) { return pow(10.0, e); }

/* Variance-family result of group g, or NAN with *null set. */
static double var_result(ts_agg_kind k, const agg_src *s, const agg_acc *ac, int64_t g, int *null)
{
    return ts_var_result(ac->cnt[g], k == TS_AGG_VAR_SAMP || k == TS_AGG_STDDEV_SAMP,
                         k == TS_AGG_STDDEV_SAMP || k == TS_AGG_STDDEV_POP, s->is_float, s->is_float ? ac->f1[g] : 0,
                         s->is_float ? 0 : ac->s1[g], s->is_float ? 0 : ac->s2[g], s->scale, null);
}

static ts_err emit_final(ts_table *t, const ts_agg *a, const agg_src *s, const agg_acc *ac, int64_t ng)
{
    const ts_agg_kind k = a->kind;
    if (is_pick(k))
        return add_picked(t, a->output, s->in, ac->best, ng);
    if (k == TS_AGG_COUNT)
        return add_i64(t, a->output, TS_T_INT64, 0, ac->cnt, ng);
    if (k == TS_AGG_SUM && !s->is_float)
        return add_i64(t, a->output, sum_type(s), s->scale, ac->isum, ng);
    ts_column *c;
    TS_TRY(add_rows(t, a->output, TS_T_FLOAT64, 0, NULL, ng, &c));
    const double scale = pow10i(s->scale);
    for (int64_t g = 0; g < ng; g++) {
        double v;
        int null = 0;
        if (k == TS_AGG_SUM)
            v = ts_neumaier_result(ac->f0[g], ac->f1[g]);
        else if (k == TS_AGG_MEAN)
            v = s->is_float ? ts_neumaier_result(ac->f0[g], ac->f1[g]) / (double)ac->cnt[g]
                            : (double)ac->isum[g] / scale / (double)ac->cnt[g],
            null = ac->cnt[g] == 0;
        else if (is_comoment(k))
            v = comoment_result(k, ac->cnt[g], &ac->cm[g], &null);
        else
            v = var_result(k, s, ac, g, &null);
        TS_COL(c, double)[g] = null ? 0 : v;
        if (null)
            TS_TRY(ts_column_set_null(c, g));
    }
    return TS_OK;
}

/* ==== aggregates that need the rows themselves ================================================================= */

/* 64-bit value of row i for distinct counting: equal values, equal words (FLOAT64 canonicalised). */
static ts_err distinct_values(const ts_column *in, int64_t n, uint64_t *values)
{
    if (in->type == TS_T_STRING) {
        ts_column *codes;
        TS_TRY(string_codes(in, in->name, &codes));
        for (int64_t i = 0; i < n; i++)
            values[i] = (uint64_t)TS_COL(codes, int32_t)[i];
        ts_column_free(codes);
    } else {
        for (int64_t i = 0; i < n; i++)
            values[i] = in->type == TS_T_FLOAT64 ? (uint64_t)f64_key(TS_COL(in, double)[i]) : (uint64_t)ts_key_value(in, i);
    }
    return TS_OK;
}

/* Distinct (group, value) pairs: a row-index set over the pairs counts each pair once. */
static ts_err agg_distinct(const agg_src *s, const int64_t *gid, int64_t n, int64_t *out)
{
    if (n >= (INT64_C(1) << 32))
        TS_FAIL(TS_ERR_USAGE, "count distinct over %lld rows on one rank: at most 2^32 are supported", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *slots = NULL, *values = NULL;
    ts_err err = ts_calloc(nslots * 8, (void **)&slots);
    if (!err)
        err = ts_alloc(8 * (size_t)(n + 1), (void **)&values);
    if (!err)
        err = distinct_values(s->in, n, values);
    if (err) {
        ts_free(slots), ts_free(values);
        TS_TRY(err);
    }
    ts_rowset set;
    ts_rowset_init(&set, slots, nslots, (const uint64_t *)gid, values);
    uint32_t idx[1024], first[1024];
    for (int64_t base = 0; base < n; base += 1024) {
        uint32_t m = 0;
        for (int64_t i = base; i < n && i < base + 1024; i++)
            if (row_counts(s, i))
                idx[m++] = (uint32_t)i;
        ts_rowset_insert_many(&set, idx, 0, m, first);
        for (uint32_t k = 0; k < m; k++)
            out[gid[idx[k]]] += first[k] == idx[k];
    }
    ts_free(slots), ts_free(values);
    return TS_OK;
}

/* Exact quantiles: the values are bucketed by group with one counting sort (off[g] = start of group g), then
 * each group's bucket is selected in place (expected linear time, no sort). */
static ts_err agg_quantile(ts_table *t, const ts_agg *a, const agg_src *s, const int64_t *gid, int64_t n,
                           int64_t ng)
{
    const double q = a->kind == TS_AGG_MEDIAN ? 0.5 : a->param;
    int64_t *off = calloc((size_t)ng + 2, 8), *at = malloc(8 * ((size_t)ng + 1));
    void *buf = ts_big(8 * (size_t)(n + 1));
    ts_column *c = NULL;
    ts_err err = off && at && buf ? add_rows(t, a->output, TS_T_FLOAT64, 0, NULL, ng, &c) : NOMEM("for quantiles");
    if (!err) {
        for (int64_t i = 0; i < n; i++)
            off[gid[i] + 1] += row_counts(s, i);
        for (int64_t g = 0; g < ng; g++)
            off[g + 1] += off[g], at[g] = off[g];
        double *fv = buf;
        int64_t *iv = buf;
        for (int64_t i = 0; i < n; i++)
            if (row_counts(s, i)) {
                if (s->is_float)
                    fv[at[gid[i]]++] = TS_COL(s->in, double)[i];
                else
                    iv[at[gid[i]]++] = ts_key_value(s->in, i);
            }
        const long double scale = pow10i(s->scale);
        for (int64_t g = 0; g < ng; g++) {
            const int64_t m = off[g + 1] - off[g];
            double *v = &TS_COL(c, double)[g];
            *v = m == 0 ? 0
                 : s->is_float ? ts_quantile_f64(fv + off[g], m, q)
                               : (double)(ts_quantile_i64(iv + off[g], m, q) / scale);
            if (m == 0 && (err = ts_column_set_null(c, g)))
                break;
        }
    }
    free(off), free(at), ts_free(buf);
    return err;
}

/* ==== one aggregate, three modes ================================================================================ */

static ts_err compute_agg(const ts_table *in, const ts_agg *a, int ai, int mode, const int64_t *gid, int64_t ng,
                          int64_t row_base, ts_table *t)
{
    const int64_t n = ts_table_rows(in);
    agg_src s;
    TS_TRY(mode == MODE_MERGE ? src_merge(in, a, ai, &s) : src_rows(in, a, row_base, &s));
    ts_err err = ts_dict_ranks(is_pick(a->kind) ? s.in : NULL, &s.rank);
    if (!err)
        err = ts_dict_ranks(s.order, &s.order_rank);
    if (!err && mode != MODE_FULL && !ts_agg_decomposable(a, 1))
        err = ts_error_raise(TS_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                             "aggregate '%s' has no partial state (quantiles and count distinct exchange rows)",
                             a->output);
    if (!err && is_quantile(a->kind)) {
        err = agg_quantile(t, a, &s, gid, n, ng);
    } else if (!err && a->kind == TS_AGG_COUNT_DISTINCT) {
        int64_t *cnt = calloc((size_t)ng + 1, 8);
        err = cnt ? agg_distinct(&s, gid, n, cnt) : NOMEM("counting distinct values");
        if (!err)
            err = add_i64(t, a->output, TS_T_INT64, 0, cnt, ng);
        free(cnt);
    } else if (!err) {
        agg_acc ac;
        err = acc_alloc(&ac, a->kind, s.is_float, ng);
        if (!err) {
            err = mode == MODE_MERGE ? update_merge(in, a->kind, ai, &s, gid, n, &ac) : update_rows(a->kind, &s, gid, n, &ac);
            if (!err)
                err = mode == MODE_PARTIAL ? emit_partial(t, a, ai, &s, &ac, ng) : emit_final(t, a, &s, &ac, ng);
            acc_free(&ac);
        }
    }
    src_free(&s);
    if (err == TS_ERR_DATA) { /* name what the user asked for, not a state column (the SQL layer maps the ids) */
        char why[512];
        snprintf(why, sizeof why, "%s", ts_error_headline());
        TS_FAIL(TS_ERR_DATA, "aggregate '%s' of '%s': %s", a->output, a->input ? a->input : "*", why);
    }
    return err;
}

static ts_err aggregate(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                        int mode, int64_t row_base, const char *name, ts_table **out)
{
    *out = NULL;
    const int64_t n = ts_table_rows(in);
    int64_t *gid = ts_big(8 * (size_t)(n + 1)), *first = NULL, ng = 0;
    if (!gid)
        TS_FAIL(TS_ERR_NOMEM, "out of memory aggregating '%s'", in->name);
    ts_err err = group_ids(in, keys, nkeys, gid, &first, &ng);
    if (!err)
        err = ts_table_new(name, out);
    for (int k = 0; !err && k < nkeys; k++) {
        ts_column *src = ts_table_col(in, keys[k]), *dst;
        err = ts_column_new_like(src, &dst);
        if (!err)
            err = ts_table_adopt(*out, dst);
        if (!err)
            err = ts_column_append_rows(dst, src, first, ng);
    }
    for (int a = 0; !err && a < naggs; a++)
        err = compute_agg(in, &aggs[a], a, mode, gid, ng, row_base, *out);
    ts_free(gid), ts_free(first);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
        TS_TRY(err);
    }
    return TS_OK;
}

ts_err ts_hash_aggregate(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                         const char *name, ts_table **out)
{
    return aggregate(in, keys, nkeys, aggs, naggs, MODE_FULL, 0, name, out);
}

ts_err ts_aggregate_partial(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                            int64_t row_base, const char *name, ts_table **out)
{
    return aggregate(in, keys, nkeys, aggs, naggs, MODE_PARTIAL, row_base, name, out);
}

ts_err ts_aggregate_merge(const ts_table *partial, const char *const *keys, int nkeys, const ts_agg *aggs,
                          int naggs, const char *name, ts_table **out)
{
    return aggregate(partial, keys, nkeys, aggs, naggs, MODE_MERGE, 0, name, out);
}
