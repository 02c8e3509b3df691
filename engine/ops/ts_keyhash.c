#include "ts_keyhash.h"

#include <string.h>

#include "ts_hash.h"
#include "ts_keys.h"

#define NULL_HASH UINT64_C(0x5bd1e9955bd1e995)

static ts_key_family family(const ts_column *c)
{
    return c->type == TS_T_FLOAT64 ? TS_KF_FLOAT : c->type == TS_T_STRING || c->type == TS_T_DICT ? TS_KF_TEXT : TS_KF_INT;
}

ts_err ts_key_cols_resolve(const ts_table *t, const char *const *names, int n, ts_key_cols *out)
{
    if (n < 1 || n > TS_KEY_COLS_MAX)
        TS_FAIL(TS_ERR_USAGE, "between 1 and %d key columns are supported, not %d", TS_KEY_COLS_MAX, n);
    out->n = n, out->null_equal = 0;
    for (int k = 0; k < n; k++) {
        ts_column *c;
        TS_TRY(ts_table_need(t, names[k], &c));
        out->col[k] = c;
    }
    return TS_OK;
}

ts_err ts_key_cols_compatible(const ts_key_cols *a, const ts_key_cols *b)
{
    if (a->n != b->n)
        TS_FAIL(TS_ERR_USAGE, "join keys: %d columns on the left, %d on the right", a->n, b->n);
    for (int k = 0; k < a->n; k++) {
        const ts_column *x = a->col[k], *y = b->col[k];
        if (family(x) != family(y) || (x->type == TS_T_TIMESTAMP) != (y->type == TS_T_TIMESTAMP))
            TS_FAIL(TS_ERR_USAGE, "join key %d: '%s' and '%s' have incomparable types", k + 1, x->name, y->name);
        const int sx = x->type == TS_T_DECIMAL ? x->scale : 0, sy = y->type == TS_T_DECIMAL ? y->scale : 0;
        if (sx != sy)
            TS_FAIL(TS_ERR_USAGE, "join key %d: '%s' and '%s' have different decimal scales", k + 1, x->name,
                    y->name);
    }
    return TS_OK;
}

int ts_key_has_null(const ts_key_cols *k, int64_t i)
{
    for (int c = 0; c < k->n; c++)
        if (!ts_key_null_equal(k->null_equal, c) && !ts_column_is_valid(k->col[c], i))
            return 1;
    return 0;
}

static const char *text(const ts_column *c, int64_t i, int64_t *len)
{
    if (c->type == TS_T_DICT)
        return ts_dict_value(c->dict, TS_COL(c, int32_t)[i], len);
    const int64_t *off = TS_COL(c, int64_t);
    *len = off[i + 1] - off[i];
    return c->bytes + off[i];
}

static double float_key(const ts_column *c, int64_t i)
{
    const double v = TS_COL(c, double)[i];
    return v == 0 ? 0.0 : v != v ? __builtin_nan("") : v; /* -0 == 0; one NaN */
}

static uint64_t value_hash(const ts_column *c, int64_t i)
{
    if (!ts_column_is_valid(c, i)) /* the stored value under a NULL is arbitrary: hash all NULLs alike */
        return NULL_HASH;
    switch (family(c)) {
    case TS_KF_FLOAT: {
        const double v = float_key(c, i);
        uint64_t bits;
        memcpy(&bits, &v, 8);
        return ts_hash_u64(bits);
    }
    case TS_KF_TEXT: {
        int64_t len;
        const char *s = text(c, i, &len);
        return ts_hash_bytes(s, (size_t)len, 0);
    }
    default: return ts_hash_u64((uint64_t)ts_key_value(c, i));
    }
}

uint64_t ts_key_hash(const ts_key_cols *k, int64_t i)
{
    uint64_t h = UINT64_C(0x6a09e667f3bcc909);
    for (int c = 0; c < k->n; c++)
        h = ts_hash_combine(h, value_hash(k->col[c], i));
    return h;
}

#define KEY_SEED UINT64_C(0x6a09e667f3bcc909)

/* One column's value hashes combined into h: a typed loop per column type; NULLs (only looked at when the
 * column has some) hash alike whatever value is stored under them. */
#define HASH_LOOP(expr)                                                                                         \
    do {                                                                                                        \
        if (c->valid)                                                                                           \
            for (int64_t j = 0; j < m; j++) {                                                                   \
                const int64_t i = rows ? rows[j] : j;                                                           \
                h[j] = ts_hash_combine(h[j], ts_column_is_valid(c, i) ? (expr) : NULL_HASH);                   \
            }                                                                                                   \
        else                                                                                                    \
            for (int64_t j = 0; j < m; j++) {                                                                   \
                const int64_t i = rows ? rows[j] : j;                                                           \
                h[j] = ts_hash_combine(h[j], (expr));                                                           \
            }                                                                                                   \
    } while (0)

static void hash_column(const ts_column *c, const int32_t *rows, int64_t m, uint64_t *h)
{
    const uint64_t *dh = c->type == TS_T_DICT ? ts_dict_hashes(c->dict) : NULL;
    switch (c->type) {
    case TS_T_BOOL: HASH_LOOP(ts_hash_u64(TS_COL(c, uint8_t)[i])); break;
    case TS_T_INT32: case TS_T_DATE: HASH_LOOP(ts_hash_u64((uint64_t)(int64_t)TS_COL(c, int32_t)[i])); break;
    case TS_T_INT64: case TS_T_DECIMAL: HASH_LOOP(ts_hash_u64((uint64_t)TS_COL(c, int64_t)[i])); break;
    case TS_T_DICT:
        if (dh)
            HASH_LOOP(dh[TS_COL(c, int32_t)[i]]);
        else
            HASH_LOOP(value_hash(c, i));
        break;
    default: HASH_LOOP(value_hash(c, i)); break;
    }
}

void ts_key_hash_sel(const ts_column *const *cols, int ncols, const int32_t *rows, int64_t m, uint64_t *h)
{
    for (int64_t j = 0; j < m; j++)
        h[j] = KEY_SEED;
    for (int c = 0; c < ncols; c++)
        hash_column(cols[c], rows, m, h);
}

void ts_key_hash_rows(const ts_key_cols *k, int64_t n, uint64_t *h)
{
    ts_key_hash_sel(k->col, k->n, NULL, n, h);
}

/* 1 when the (valid) values x[i] and y[j] are equal as keys. */
static int value_equal(const ts_column *x, int64_t i, const ts_column *y, int64_t j)
{
    switch (family(x)) {
    case TS_KF_FLOAT: {
        const double p = float_key(x, i), q = float_key(y, j);
        return p == q || (p != p && q != q); /* NaN matches NaN, as in DuckDB and PostgreSQL */
    }
    case TS_KF_TEXT: {
        if (x->type == TS_T_DICT && y->type == TS_T_DICT && x->dict == y->dict) /* one dictionary: codes */
            return TS_COL(x, int32_t)[i] == TS_COL(y, int32_t)[j];
        int64_t lx, ly;
        const char *sx = text(x, i, &lx), *sy = text(y, j, &ly);
        return lx == ly && memcmp(sx, sy, (size_t)lx) == 0;
    }
    default: return ts_key_value(x, i) == ts_key_value(y, j);
    }
}

int ts_key_equal(const ts_key_cols *a, int64_t i, const ts_key_cols *b, int64_t j)
{
    for (int c = 0; c < a->n; c++) {
        const ts_column *x = a->col[c], *y = b->col[c];
        const int vx = ts_column_is_valid(x, i), vy = ts_column_is_valid(y, j);
        if (!vx || !vy) {
            if (vx || vy || !ts_key_null_equal(a->null_equal, c))
                return 0;
            continue;
        }
        if (!value_equal(x, i, y, j))
            return 0;
    }
    return 1;
}

int ts_key_same(const ts_key_cols *k, int64_t i, int64_t j)
{
    for (int c = 0; c < k->n; c++) {
        const int vi = ts_column_is_valid(k->col[c], i), vj = ts_column_is_valid(k->col[c], j);
        if (vi != vj || (vi && !value_equal(k->col[c], i, k->col[c], j)))
            return 0;
    }
    return 1;
}
