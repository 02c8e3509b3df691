/* Window function kernels over a table sorted by (partition, ORDER BY keys). Every kernel is one pass over the
 * rows. Frames are turned into per-row row ranges [lo, hi) first; since every supported frame bound is a
 * non-decreasing function of the row inside a partition, and partitions follow each other, lo and hi are
 * non-decreasing over the whole table: aggregates slide a window forward, never backward. */
#include "ts_window_eval.h"

#include <string.h>

#include "ts_agg_state.h"
#include "ts_keys.h"
#include "ts_mem.h"

static int cmp_bytes(const char *a, int64_t la, const char *b, int64_t lb)
{
    const int c = la && lb ? memcmp(a, b, (size_t)(la < lb ? la : lb)) : 0;
    return c ? (c > 0) - (c < 0) : (la > lb) - (la < lb);
}

int ts_win_cmp(const ts_column *c, int64_t i, int64_t j)
{
    switch (c->type) {
    case TS_T_FLOAT64: return ts_f64_cmp(TS_COL(c, double)[i], TS_COL(c, double)[j]);
    case TS_T_STRING: {
        const int64_t *o = TS_COL(c, int64_t);
        return cmp_bytes(c->bytes + o[i], o[i + 1] - o[i], c->bytes + o[j], o[j + 1] - o[j]);
    }
    case TS_T_DICT: {
        const int32_t a = TS_COL(c, int32_t)[i], b = TS_COL(c, int32_t)[j];
        if (a == b)
            return 0;
        int64_t la, lb;
        const char *sa = ts_dict_value(c->dict, a, &la), *sb = ts_dict_value(c->dict, b, &lb);
        return cmp_bytes(sa, la, sb, lb);
    }
    default: {
        const int64_t x = ts_key_value(c, i), y = ts_key_value(c, j);
        return (x > y) - (x < y);
    }
    }
}

/* ---- output columns ------------------------------------------------------------------------------------- */

/* A new fixed-width column of n rows (values to be filled by the caller). */
static ts_err new_col(const char *name, ts_type type, int scale, int64_t n, ts_column **out)
{
    ts_column *c;
    TS_TRY(ts_column_new(name, type, scale, NULL, &c));
    const ts_err err = ts_column_reserve(c, n, 0);
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    c->len = n;
    *out = c;
    return TS_OK;
}

#define GATHER(T)                                                                                             \
    do {                                                                                                      \
        const T *a = (const T *)src->data, *d = def ? (const T *)def->data : NULL;                            \
        T *o = (T *)c->data;                                                                                  \
        for (int64_t r = 0; r < n; r++)                                                                       \
            o[r] = idx[r] >= 0 ? a[idx[r]] : d ? d[r] : 0;                                                    \
    } while (0)

static ts_err gather_values(ts_column *c, const ts_column *src, const ts_column *def, const int64_t *idx,
                            int64_t n)
{
    if (src->type != TS_T_STRING) {
        TS_TRY(ts_column_reserve(c, n, 0));
        switch (ts_type_width(src->type)) {
        case 1: GATHER(uint8_t); break;
        case 4: GATHER(int32_t); break;
        default: GATHER(int64_t); break;
        }
        return TS_OK;
    }
    const int64_t *so = TS_COL(src, int64_t), *dof = def ? TS_COL(def, int64_t) : NULL;
    int64_t bytes = 0;
    for (int64_t r = 0; r < n; r++)
        bytes += idx[r] >= 0 ? so[idx[r] + 1] - so[idx[r]] : dof && idx[r] == -1 ? dof[r + 1] - dof[r] : 0;
    TS_TRY(ts_column_reserve(c, n, bytes));
    int64_t *off = TS_COL(c, int64_t), at = 0;
    off[0] = 0;
    for (int64_t r = 0; r < n; r++) {
        const char *p = NULL;
        int64_t l = 0;
        if (idx[r] >= 0)
            p = src->bytes + so[idx[r]], l = so[idx[r] + 1] - so[idx[r]];
        else if (dof && idx[r] == -1)
            p = def->bytes + dof[r], l = dof[r + 1] - dof[r];
        if (l)
            memcpy(c->bytes + at, p, (size_t)l);
        at += l;
        off[r + 1] = at;
    }
    c->nbytes = at;
    return TS_OK;
}

/* out[r] = src[idx[r]] when idx[r] >= 0, def[r] when idx[r] == -1 (def may be NULL: then NULL), NULL when
 * idx[r] == -2. def has src's type. */
static ts_err gather(const char *name, const ts_column *src, const ts_column *def, const int64_t *idx, int64_t n,
                     ts_column **out)
{
    ts_column *c;
    TS_TRY(ts_column_new(name, src->type, src->scale, src->dict, &c));
    ts_err err = gather_values(c, src, def, idx, n);
    for (int64_t r = 0; !err && r < n; r++) {
        const int ok = idx[r] >= 0 ? ts_column_is_valid(src, idx[r])
                                   : idx[r] == -1 && def && ts_column_is_valid(def, r);
        if (!ok)
            err = ts_column_set_null(c, r);
    }
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    c->len = n;
    *out = c;
    return TS_OK;
}

/* ---- partitions and peers --------------------------------------------------------------------------------- */

/* End (exclusive) of the peer group starting at a, in a partition ending at e. */
static int64_t peer_end(const ts_win_layout *l, int64_t a, int64_t e)
{
    if (!l->newpeer)
        return e;
    int64_t b = a + 1;
    while (b < e && !l->newpeer[b])
        b++;
    return b;
}

static int64_t ntile(int64_t x, int64_t m, int64_t k)
{
    const int64_t q = m / k, rem = m % k, big = rem * (q + 1);
    return x < big ? x / (q + 1) + 1 : rem + (x - big) / q + 1; /* q > 0 whenever x >= big */
}

static void ranking(const ts_win_layout *l, const ts_window_fn *fn, ts_column *c)
{
    int64_t *iv = TS_COL(c, int64_t);
    double *fv = TS_COL(c, double);
    for (int64_t p = 0; p < l->np; p++) {
        const int64_t s = l->pstart[p], e = l->pstart[p + 1], m = e - s;
        int64_t dense = 0;
        for (int64_t a = s, b; a < e; a = b) {
            b = peer_end(l, a, e), dense++;
            for (int64_t r = a; r < b; r++) {
                switch (fn->kind) {
                case TS_WIN_ROW_NUMBER: iv[r] = r - s + 1; break;
                case TS_WIN_RANK: iv[r] = a - s + 1; break;
                case TS_WIN_DENSE_RANK: iv[r] = dense; break;
                case TS_WIN_PERCENT_RANK: fv[r] = m > 1 ? (double)(a - s) / (double)(m - 1) : 0.0; break;
                case TS_WIN_CUME_DIST: fv[r] = (double)(b - s) / (double)m; break;
                default: iv[r] = ntile(r - s, m, fn->offset); break;
                }
            }
        }
    }
}

/* NTILE with a bucket count per row (offset_col): NULL counts give NULL, counts < 1 are an error. */
static ts_err ntile_rows(const ts_win_layout *l, const ts_window_fn *fn, const ts_column *k, ts_column *c)
{
    int64_t *iv = TS_COL(c, int64_t);
    const int64_t *kv = TS_COL(k, int64_t);
    for (int64_t p = 0; p < l->np; p++) {
        const int64_t s = l->pstart[p], e = l->pstart[p + 1];
        for (int64_t r = s; r < e; r++) {
            if (!ts_column_is_valid(k, r)) {
                iv[r] = 0;
                TS_TRY(ts_column_set_null(c, r));
            } else if (kv[r] < 1) {
                TS_FAIL(TS_ERR_DATA, "window '%s': ntile needs a bucket count >= 1, not %lld", fn->output,
                        (long long)kv[r]);
            } else {
                iv[r] = ntile(r - s, e - s, kv[r]);
            }
        }
    }
    return TS_OK;
}

/* The row `offset` rows after r (before it for LAG) inside [s, e), or -1; any int64 offset. */
static int64_t shift_row(int lag, int64_t offset, int64_t r, int64_t s, int64_t e)
{
    if (offset > e - s || offset < s - e) /* clamped first: no overflow below, whatever the offset */
        return -1;
    const int64_t to = lag ? r - offset : r + offset;
    return to >= s && to < e ? to : -1;
}

/* LAG/LEAD: the row `offset` rows away inside the partition, or -1 (the default), or -2 (a NULL offset: NULL). */
static void shifted_rows(const ts_win_layout *l, const ts_window_fn *fn, const ts_column *offsets, int64_t *idx)
{
    const int lag = fn->kind == TS_WIN_LAG;
    const int64_t *ov = offsets ? TS_COL(offsets, int64_t) : NULL;
    for (int64_t p = 0; p < l->np; p++) {
        const int64_t s = l->pstart[p], e = l->pstart[p + 1];
        for (int64_t r = s; r < e; r++)
            idx[r] = !ov ? shift_row(lag, fn->offset, r, s, e)
                     : ts_column_is_valid(offsets, r) ? shift_row(lag, ov[r], r, s, e) : -2;
    }
}

/* ---- frames ----------------------------------------------------------------------------------------------- */

/* First row of the frame of row r (partition [s, e), peer group [a, b)). */
static int64_t frame_lo(const ts_window_frame *f, int64_t r, int64_t s, int64_t e, int64_t a)
{
    switch (f->start) {
    case TS_FRAME_UNBOUNDED_PRECEDING: return s;
    case TS_FRAME_PRECEDING: return f->start_n > r - s ? s : r - f->start_n;
    case TS_FRAME_CURRENT_ROW: return f->rows ? r : a;
    default: return f->start_n > e - r ? e : r + f->start_n; /* FOLLOWING */
    }
}

/* End (exclusive) of the frame of row r. */
static int64_t frame_hi(const ts_window_frame *f, int64_t r, int64_t s, int64_t e, int64_t b)
{
    switch (f->end) {
    case TS_FRAME_PRECEDING: return f->end_n > r + 1 - s ? s : r + 1 - f->end_n;
    case TS_FRAME_CURRENT_ROW: return f->rows ? r + 1 : b;
    case TS_FRAME_FOLLOWING: return f->end_n >= e - r - 1 ? e : r + 1 + f->end_n;
    default: return e; /* UNBOUNDED FOLLOWING */
    }
}

static void frame_bounds(const ts_win_layout *l, const ts_window_frame *f, int64_t *lo, int64_t *hi)
{
    for (int64_t p = 0; p < l->np; p++) {
        const int64_t s = l->pstart[p], e = l->pstart[p + 1];
        for (int64_t a = s, b; a < e; a = b) {
            b = peer_end(l, a, e);
            for (int64_t r = a; r < b; r++) {
                lo[r] = frame_lo(f, r, s, e, a), hi[r] = frame_hi(f, r, s, e, b);
                if (hi[r] < lo[r])
                    hi[r] = lo[r]; /* an empty frame; keeps hi non-decreasing */
            }
        }
    }
}

/* ---- frame aggregates --------------------------------------------------------------------------------------- */

/* COUNT(*) or COUNT(x): the valid rows entering and leaving the sliding frame. */
static void frame_count(const ts_column *x, const int64_t *lo, const int64_t *hi, int64_t n, int64_t *out)
{
    int64_t in = 0, l = 0, h = 0;
    for (int64_t r = 0; r < n; r++) {
        if (!x) {
            out[r] = hi[r] - lo[r];
            continue;
        }
        for (; h < hi[r]; h++)
            in += ts_column_is_valid(x, h);
        for (; l < lo[r]; l++)
            in -= ts_column_is_valid(x, l);
        out[r] = in;
    }
}

static double pow10_of(int scale)
{
    double p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    return p;
}

/* SUM/AVG of integer-like x: exact 128-bit sliding sum (adding and removing integers is exact). */
static ts_err frame_sum_int(const ts_window_fn *fn, const ts_column *x, const int64_t *lo, const int64_t *hi,
                            ts_column *c)
{
    const int64_t n = c->len;
    const double unit = pow10_of(x->type == TS_T_DECIMAL ? x->scale : 0);
    ts_i128 sum = 0;
    int64_t cnt = 0, l = 0, h = 0;
    for (int64_t r = 0; r < n; r++) {
        for (; h < hi[r]; h++)
            if (ts_column_is_valid(x, h))
                sum += ts_key_value(x, h), cnt++;
        for (; l < lo[r]; l++)
            if (ts_column_is_valid(x, l))
                sum -= ts_key_value(x, l), cnt--;
        if (cnt == 0) {
            TS_TRY(ts_column_set_null(c, r));
            TS_COL(c, int64_t)[r] = 0;
        } else if (fn->kind == TS_WIN_AVG) {
            TS_COL(c, double)[r] = (double)sum / ((double)cnt * unit);
        } else if (sum > INT64_MAX || sum < INT64_MIN) {
            TS_FAIL(TS_ERR_DATA, "window sum '%s' of '%s' overflows int64", fn->output, x->name);
        } else {
            TS_COL(c, int64_t)[r] = (int64_t)sum;
        }
    }
    return TS_OK;
}

/* SUM/AVG of FLOAT64 x: subtracting floats would lose the small values of a frame next to big ones (and inf - inf
 * is NaN), so the sliding sum is the two-stack queue: rows [lo, m) are covered by suffix sums suf[j] = x[j..m)
 * built when the frame start passes m, rows [m, hi) by a running sum. Both are Neumaier sums of frame rows
 * only; every row is part of at most one rebuild, so the pass stays O(n). suf: 2n doubles of scratch. */
static ts_err frame_sum_float(const ts_window_fn *fn, const ts_column *x, const int64_t *lo, const int64_t *hi,
                              double *suf, ts_column *c)
{
    const int64_t n = c->len;
    const double *v = TS_COL(x, double);
    double *sufc = suf + n, rs = 0, rc = 0, *out = TS_COL(c, double);
    int64_t cnt = 0, l = 0, h = 0, m = 0;
    for (int64_t r = 0; r < n; r++) {
        for (; h < hi[r]; h++)
            if (ts_column_is_valid(x, h))
                ts_neumaier_add(&rs, &rc, v[h]), cnt++;
        for (; l < lo[r]; l++)
            cnt -= ts_column_is_valid(x, l);
        if (lo[r] > m) { /* rebuild: suffix sums of [lo, h), the running part restarts empty at h */
            double s = 0, sc = 0;
            for (int64_t j = h - 1; j >= lo[r]; j--) {
                if (ts_column_is_valid(x, j))
                    ts_neumaier_add(&s, &sc, v[j]);
                suf[j] = s, sufc[j] = sc;
            }
            m = h, rs = rc = 0;
        }
        if (cnt == 0) {
            out[r] = 0;
            TS_TRY(ts_column_set_null(c, r));
            continue;
        }
        double s = rs, sc = rc;
        if (lo[r] < m) {
            s = suf[lo[r]], sc = sufc[lo[r]];
            ts_neumaier_add(&s, &sc, rs);
            sc += rc;
        }
        const double sum = ts_neumaier_result(s, sc);
        out[r] = fn->kind == TS_WIN_AVG ? sum / (double)cnt : sum;
    }
    return TS_OK;
}

/* MIN/MAX: a monotonic deque of row indices (values strictly improving from back to front); the front is the
 * best valid row of the frame. q: n slots of scratch (each row is pushed at most once). */
static void frame_minmax(const ts_window_fn *fn, const ts_column *x, const int64_t *lo, const int64_t *hi,
                         int64_t n, int64_t *q, int64_t *idx)
{
    const int sign = fn->kind == TS_WIN_MAX ? 1 : -1;
    int64_t qh = 0, qt = 0, h = 0;
    for (int64_t r = 0; r < n; r++) {
        for (; h < hi[r]; h++) {
            if (!ts_column_is_valid(x, h))
                continue;
            while (qt > qh && sign * ts_win_cmp(x, q[qt - 1], h) <= 0)
                qt--;
            q[qt++] = h;
        }
        while (qh < qt && q[qh] < lo[r])
            qh++;
        idx[r] = qh < qt ? q[qh] : -1;
    }
}

/* Output type of a frame aggregate. */
static void agg_type(const ts_window_fn *fn, const ts_column *x, ts_type *type, int *scale)
{
    *scale = 0;
    if (fn->kind == TS_WIN_COUNT)
        *type = TS_T_INT64;
    else if (fn->kind == TS_WIN_AVG || x->type == TS_T_FLOAT64)
        *type = TS_T_FLOAT64;
    else if (x->type == TS_T_DECIMAL)
        *type = TS_T_DECIMAL, *scale = x->scale;
    else
        *type = TS_T_INT64;
}

/* Frame functions once lo/hi are known; scratch holds 2n int64 / double slots. */
static ts_err frame_fn(const ts_table *t, const ts_window_fn *fn, const int64_t *lo, const int64_t *hi,
                       int64_t n, int64_t *scratch, ts_column **out)
{
    const ts_column *x = fn->input ? ts_table_col(t, fn->input) : NULL;
    if (fn->kind == TS_WIN_FIRST_VALUE || fn->kind == TS_WIN_LAST_VALUE || fn->kind == TS_WIN_MIN ||
        fn->kind == TS_WIN_MAX) {
        int64_t *idx = scratch;
        if (fn->kind == TS_WIN_MIN || fn->kind == TS_WIN_MAX)
            frame_minmax(fn, x, lo, hi, n, scratch + n, idx);
        else
            for (int64_t r = 0; r < n; r++)
                idx[r] = lo[r] == hi[r] ? -1 : fn->kind == TS_WIN_FIRST_VALUE ? lo[r] : hi[r] - 1;
        TS_TRY(gather(fn->output, x, NULL, idx, n, out));
        return TS_OK;
    }
    ts_type type;
    int scale;
    agg_type(fn, x, &type, &scale);
    ts_column *c;
    TS_TRY(new_col(fn->output, type, scale, n, &c));
    ts_err err = TS_OK;
    if (fn->kind == TS_WIN_COUNT)
        frame_count(x, lo, hi, n, TS_COL(c, int64_t));
    else if (x->type == TS_T_FLOAT64)
        err = frame_sum_float(fn, x, lo, hi, (double *)scratch, c);
    else
        err = frame_sum_int(fn, x, lo, hi, c);
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    *out = c;
    return TS_OK;
}

/* The frame a function uses: its own, or the SQL default (RANGE UNBOUNDED PRECEDING .. CURRENT ROW, which is the
 * whole partition when there is no ORDER BY since all rows are then peers). */
static ts_window_frame effective_frame(const ts_window_fn *fn)
{
    if (fn->has_frame)
        return fn->frame;
    const ts_window_frame f = {0, TS_FRAME_UNBOUNDED_PRECEDING, TS_FRAME_CURRENT_ROW, 0, 0};
    return f;
}

static ts_err framed(const ts_table *t, const ts_win_layout *lay, const ts_window_fn *fn, ts_column **out)
{
    const int64_t n = lay->n;
    int64_t *buf = ts_big(8 * (size_t)(4 * n + 1));
    if (!buf)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for window function '%s' over %lld rows", fn->output, (long long)n);
    const ts_window_frame f = effective_frame(fn);
    frame_bounds(lay, &f, buf, buf + n);
    const ts_err err = frame_fn(t, fn, buf, buf + n, n, buf + 2 * n, out);
    ts_free(buf);
    TS_TRY(err);
    return TS_OK;
}

static ts_err shifted(const ts_table *t, const ts_win_layout *lay, const ts_window_fn *fn, ts_column **out)
{
    int64_t *idx = ts_big(8 * (size_t)(lay->n + 1));
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for window function '%s'", fn->output);
    shifted_rows(lay, fn, fn->offset_col ? ts_table_col(t, fn->offset_col) : NULL, idx);
    const ts_column *def = fn->default_col ? ts_table_col(t, fn->default_col) : NULL;
    const ts_err err = gather(fn->output, ts_table_col(t, fn->input), def, idx, lay->n, out);
    ts_free(idx);
    TS_TRY(err);
    return TS_OK;
}

ts_err ts_win_eval(const ts_table *t, const ts_win_layout *lay, const ts_window_fn *fn, ts_column **out)
{
    switch (fn->kind) {
    case TS_WIN_ROW_NUMBER:
    case TS_WIN_RANK:
    case TS_WIN_DENSE_RANK:
    case TS_WIN_PERCENT_RANK:
    case TS_WIN_CUME_DIST:
    case TS_WIN_NTILE: {
        const int fl = fn->kind == TS_WIN_PERCENT_RANK || fn->kind == TS_WIN_CUME_DIST;
        TS_TRY(new_col(fn->output, fl ? TS_T_FLOAT64 : TS_T_INT64, 0, lay->n, out));
        if (fn->offset_col) {
            const ts_err err = ntile_rows(lay, fn, ts_table_col(t, fn->offset_col), *out);
            if (err) {
                ts_column_free(*out);
                *out = NULL;
                TS_TRY(err);
            }
            return TS_OK;
        }
        ranking(lay, fn, *out);
        return TS_OK;
    }
    case TS_WIN_LAG:
    case TS_WIN_LEAD: TS_TRY(shifted(t, lay, fn, out)); return TS_OK;
    default: TS_TRY(framed(t, lay, fn, out)); return TS_OK;
    }
}
