/* Comparisons: = <> < <= > >=, IN, NULLIF, greatest, least.
 *
 * Binding plans each comparison once (a `cmp`): which representation both sides are read in and how, so the row
 * loop is one tight pass producing signs (-1, 0, 1) followed by one pass mapping signs to the operator's result.
 *   II    both int64 (INT64, DATE, BOOL, DECIMAL of equal scale)
 *   DEC   int64 at different decimal scales, compared exactly in 128 bits
 *   FF / IF / FI  doubles (an int64 side divided by its 10^scale); NaN equals NaN and sorts above every number
 *   SS    strings, memcmp then length
 *   TABLE a DICT column against a string constant: the sign of every dictionary value, computed at bind time
 *   RANK  two DICT operands with one dictionary: codes mapped to the rank of their value
 * IN with a constant list turns the list into a hash set (int64, double or strings: open addressing, bound once),
 * or for a DICT operand into one flag per dictionary code. */
#define TS_EXPR_PACKAGE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_expr_impl.h"
#include "ts_hash.h"

typedef enum { K_II, K_DEC, K_FF, K_IF, K_FI, K_SS, K_TABLE, K_RANK, K_IV } cmp_kind;

typedef struct cmp {
    cmp_kind kind;
    int64_t ma, mb;   /* DEC: multipliers to the common scale */
    double da, db;    /* IF / FI: divisors of the int64 side */
    int8_t *table;    /* TABLE: sign of (value of code vs the constant) */
    int swap;         /* TABLE: the DICT operand is b */
    int32_t *rank;    /* RANK */
    int32_t ncodes;
} cmp;

static void cmp_free(cmp *c)
{
    if (c)
        free(c->table), free(c->rank);
}

/* Total order of doubles, branch-free (random data would mispredict): NaN equals NaN and is above the rest. */
static inline int sign_f(double x, double y)
{
    const int ord = (x > y) - (x < y), nx = x != x, ny = y != y, any = nx | ny;
    return ord + any * ((nx - ny) - ord);
}

static inline int sign_s(ts_sv x, ts_sv y)
{
    const int64_t n = x.n < y.n ? x.n : y.n;
    const int c = n ? memcmp(x.p, y.p, (size_t)n) : 0;
    return c ? (c > 0) - (c < 0) : (x.n > y.n) - (x.n < y.n);
}

static void cmp_signs(const cmp *c, const ts_xnode *a, const ts_xnode *b, int m, int8_t *sign)
{
    switch (c->kind) {
    case K_II: {
        const int64_t *x = a->v.i, *y = b->v.i;
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)((x[k] > y[k]) - (x[k] < y[k]));
        break;
    }
    case K_DEC:
        for (int k = 0; k < m; k++) {
            const ts_xi128 x = (ts_xi128)a->v.i[k] * c->ma, y = (ts_xi128)b->v.i[k] * c->mb;
            sign[k] = (int8_t)((x > y) - (x < y));
        }
        break;
    case K_FF:
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)sign_f(a->v.f[k], b->v.f[k]);
        break;
    case K_IF:
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)sign_f((double)a->v.i[k] / c->da, b->v.f[k]);
        break;
    case K_FI:
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)sign_f(a->v.f[k], (double)b->v.i[k] / c->db);
        break;
    case K_SS:
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)sign_s(a->v.s[k], b->v.s[k]);
        break;
    case K_TABLE: {
        const int64_t *code = c->swap ? b->v.i : a->v.i;
        for (int k = 0; k < m; k++) {
            const int s = code[k] >= 0 && code[k] < c->ncodes ? c->table[code[k]] : 0;
            sign[k] = (int8_t)(c->swap ? -s : s);
        }
        break;
    }
    case K_IV:
        for (int k = 0; k < m; k++)
            sign[k] = (int8_t)ts_interval_cmp(ts_xiv(a)[k], ts_xiv(b)[k]);
        break;
    case K_RANK: {
        const int64_t *x = a->v.i, *y = b->v.i;
        for (int k = 0; k < m; k++) {
            const int32_t rx = x[k] >= 0 && x[k] < c->ncodes ? c->rank[x[k]] : 0;
            const int32_t ry = y[k] >= 0 && y[k] < c->ncodes ? c->rank[y[k]] : 0;
            sign[k] = (int8_t)((rx > ry) - (rx < ry));
        }
        break;
    }
    }
}

/* ---- planning ---------------------------------------------------------------------------------------------- */

static int by_value(const void *x, const void *y, void *dict)
{
    const ts_sv a = ts_xdict_sv(dict, *(const int32_t *)x), b = ts_xdict_sv(dict, *(const int32_t *)y);
    const int s = sign_s(a, b);
    return s ? s : (*(const int32_t *)x > *(const int32_t *)y) - (*(const int32_t *)x < *(const int32_t *)y);
}

static ts_err plan_rank(cmp *c, const ts_dict *d)
{
    int32_t *order = malloc(sizeof *order * (size_t)(d->n ? d->n : 1));
    c->rank = malloc(sizeof *c->rank * (size_t)(d->n ? d->n : 1));
    if (!order || !c->rank) {
        free(order);
        TS_FAIL(TS_ERR_NOMEM, "out of memory ranking a dictionary of %d values", d->n);
    }
    for (int32_t i = 0; i < d->n; i++)
        order[i] = i;
    qsort_r(order, (size_t)d->n, sizeof *order, by_value, (void *)d);
    for (int32_t i = 0, r = 0; i < d->n; i++) { /* equal values share a rank */
        if (i && sign_s(ts_xdict_sv(d, order[i - 1]), ts_xdict_sv(d, order[i])) != 0)
            r++;
        c->rank[order[i]] = r;
    }
    free(order);
    c->kind = K_RANK, c->ncodes = d->n;
    return TS_OK;
}

static ts_err plan_table(cmp *c, const ts_dict *d, ts_sv constant)
{
    if (!(c->table = malloc((size_t)(d->n ? d->n : 1))))
        TS_FAIL(TS_ERR_NOMEM, "out of memory comparing a dictionary of %d values", d->n);
    for (int32_t i = 0; i < d->n; i++)
        c->table[i] = (int8_t)sign_s(ts_xdict_sv(d, i), constant);
    c->kind = K_TABLE, c->ncodes = d->n;
    return TS_OK;
}

static int intlike(ts_xtype t) { return t == TS_XT_INT || t == TS_XT_DATE || t == TS_XT_DEC; }
static int scale_of(const ts_xnode *a) { return a->type == TS_XT_DEC ? a->scale : 0; }

static ts_err incompatible(const ts_xnode *n, const ts_xnode *a, const ts_xnode *b)
{
    char b1[32], b2[32];
    TS_FAIL(TS_ERR_USAGE, "'%s' compares incompatible types %s and %s", ts_xname(n),
            ts_xtype_name(a->type, a->scale, b1, sizeof b1), ts_xtype_name(b->type, b->scale, b2, sizeof b2));
}

/* Plans args[ia] against args[ib] of n, casting them when needed (NULL adopts the other side, a string constant
 * becomes the other side's type, a DICT against a non-constant string reads as STRING). */
/* = <> < <= > >= of two operands (not IN, NULLIF, greatest, least, whose constants stay as written). */
static int plain_compare(const ts_xnode *n) { return n->op >= TS_X_EQ && n->op <= TS_X_GE && n->nargs == 2; }

/* A constant integer or decimal at a smaller scale than the other operand's, rewritten at that scale when it fits
 * (24 -> 24.00), so that the comparison reads both sides as int64 of one scale. */
static void rescale_const(ts_xnode *k, int scale)
{
    if (!ts_xconst(k) || (k->type != TS_XT_INT && k->type != TS_XT_DEC))
        return;
    const int64_t mult = ts_xpow10[scale - scale_of(k)], v = k->v.i[0];
    if (v > INT64_MAX / mult || v < INT64_MIN / mult)
        return;
    for (int r = 0; r < k->rows; r++)
        k->v.i[r] = v * mult;
    k->type = TS_XT_DEC, k->scale = scale;
}

/* A constant TIMESTAMP at a midnight, compared with a DATE, rewritten as that day: comparing the day numbers gives
 * the same answer as comparing the DATE's midnight with it. 1 when done. */
static int midnight_to_date(ts_xnode *k)
{
    const int64_t day = INT64_C(86400000000);
    if (!ts_xconst(k) || k->type != TS_XT_TS || k->v.i[0] % day != 0 || k->v.i[0] / day < INT32_MIN ||
        k->v.i[0] / day > INT32_MAX)
        return 0;
    const int64_t days = k->v.i[0] / day;
    for (int r = 0; r < k->rows; r++)
        k->v.i[r] = days;
    k->type = TS_XT_DATE;
    return 1;
}

static ts_err cmp_plan(ts_xnode *n, int ia, int ib, cmp *c)
{
    memset(c, 0, sizeof *c);
    ts_xnode *a = n->args[ia], *b = n->args[ib];
    if (a->type == TS_XT_NULL)
        TS_TRY(ts_xcoerce(n, ia, b->type == TS_XT_NULL ? TS_XT_INT : b->type, b->scale, b->dict));
    if (n->args[ib]->type == TS_XT_NULL)
        TS_TRY(ts_xcoerce(n, ib, n->args[ia]->type, n->args[ia]->scale, n->args[ia]->dict));
    a = n->args[ia], b = n->args[ib];
    const ts_xtype ta = a->type, tb = b->type;
    if (ts_xis_str(ta) && ts_xis_str(tb)) {
        if (ta == TS_XT_CODE && tb == TS_XT_CODE && a->dict == b->dict)
            return plan_rank(c, a->dict);
        if (ta == TS_XT_CODE && tb == TS_XT_STRING && ts_xconst(b))
            return plan_table(c, a->dict, b->v.s[0]);
        if (tb == TS_XT_CODE && ta == TS_XT_STRING && ts_xconst(a))
            return c->swap = 1, plan_table(c, b->dict, a->v.s[0]);
        TS_TRY(ts_xcoerce(n, ia, TS_XT_STRING, 0, NULL));
        TS_TRY(ts_xcoerce(n, ib, TS_XT_STRING, 0, NULL));
        c->kind = K_SS;
        return TS_OK;
    }
    /* a string against a typed operand: the string is read as that type (DuckDB's implicit cast) */
    if (ts_xis_str(ta) && (tb == TS_XT_DATE || tb == TS_XT_TS || ((ts_xis_num(tb) || tb == TS_XT_BOOL) && a->is_const))) {
        TS_TRY(ts_xcoerce(n, ia, tb, b->scale, NULL));
        return cmp_plan(n, ia, ib, c);
    }
    if (ts_xis_str(tb) && (ta == TS_XT_DATE || ta == TS_XT_TS || ((ts_xis_num(ta) || ta == TS_XT_BOOL) && b->is_const))) {
        TS_TRY(ts_xcoerce(n, ib, ta, a->scale, NULL));
        return cmp_plan(n, ia, ib, c);
    }
    if (ta == TS_XT_IV || tb == TS_XT_IV) { /* intervals compare by length, 30-day months; text is read as one */
        if (ts_xis_str(ta) && a->is_const)
            TS_TRY(ts_xcoerce(n, ia, TS_XT_IV, 0, NULL));
        else if (ts_xis_str(tb) && b->is_const)
            TS_TRY(ts_xcoerce(n, ib, TS_XT_IV, 0, NULL));
        else if (ta != tb)
            return incompatible(n, a, b);
        c->kind = K_IV;
        return TS_OK;
    }
    if (ta == TS_XT_TS || tb == TS_XT_TS) { /* a DATE against a TIMESTAMP is its midnight */
        if (plain_compare(n) && ((ta == TS_XT_DATE && midnight_to_date(b)) || (tb == TS_XT_DATE && midnight_to_date(a)))) {
            c->kind = K_II; /* d < DATE '1994-01-01' + INTERVAL 1 YEAR: the constant is a day, the column is read as is */
            return TS_OK;
        }
        if (ta == TS_XT_DATE)
            TS_TRY(ts_xcoerce(n, ia, TS_XT_TS, 0, NULL));
        else if (tb == TS_XT_DATE)
            TS_TRY(ts_xcoerce(n, ib, TS_XT_TS, 0, NULL));
        else if (ta != tb)
            return incompatible(n, a, b);
        c->kind = K_II;
        return TS_OK;
    }
    if (ta == TS_XT_BOOL || tb == TS_XT_BOOL) {
        if (ta != tb)
            return incompatible(n, a, b);
        c->kind = K_II;
        return TS_OK;
    }
    if (ta == TS_XT_FLOAT || tb == TS_XT_FLOAT) {
        if (!(ta == TS_XT_FLOAT || intlike(ta)) || !(tb == TS_XT_FLOAT || intlike(tb)))
            return incompatible(n, a, b);
        c->kind = ta == tb ? K_FF : ta == TS_XT_FLOAT ? K_FI : K_IF;
        c->da = (double)ts_xpow10[scale_of(a)], c->db = (double)ts_xpow10[scale_of(b)];
        return TS_OK;
    }
    if (!intlike(ta) || !intlike(tb))
        return incompatible(n, a, b);
    if (plain_compare(n) && scale_of(a) != scale_of(b)) /* amount < 24: 24.00 once, not 128-bit per row */
        rescale_const(scale_of(a) < scale_of(b) ? a : b, scale_of(a) < scale_of(b) ? scale_of(b) : scale_of(a));
    const int sa = scale_of(a), sb = scale_of(b), s = sa > sb ? sa : sb;
    c->kind = sa == sb ? K_II : K_DEC;
    c->ma = ts_xpow10[s - sa], c->mb = ts_xpow10[s - sb];
    return TS_OK;
}

/* ---- = <> < <= > >= ---------------------------------------------------------------------------------------- */

static void cmp_aux_free(void *p)
{
    cmp_free(p);
    free(p);
}

static ts_err new_cmp(ts_xnode *n, cmp **out)
{
    if (!(*out = calloc(1, sizeof **out)))
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory", ts_xname(n));
    n->aux = *out, n->aux_free = cmp_aux_free;
    return TS_OK;
}

static ts_err eval_compare(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    int8_t *sign = (int8_t *)n->mask;
    const ts_xnode *a = n->args[0], *b = n->args[1];
    cmp_signs(n->aux, a, b, m, sign);
    int64_t *r = n->v.i;
    switch (n->op) {
    case TS_X_EQ: for (int k = 0; k < m; k++) r[k] = sign[k] == 0; break;
    case TS_X_NE: for (int k = 0; k < m; k++) r[k] = sign[k] != 0; break;
    case TS_X_LT: for (int k = 0; k < m; k++) r[k] = sign[k] < 0; break;
    case TS_X_LE: for (int k = 0; k < m; k++) r[k] = sign[k] <= 0; break;
    case TS_X_GT: for (int k = 0; k < m; k++) r[k] = sign[k] > 0; break;
    default: for (int k = 0; k < m; k++) r[k] = sign[k] >= 0; break;
    }
    for (int k = 0; k < m; k++)
        n->valid[k] = a->valid[k] & b->valid[k];
    return TS_OK;
}

/* ---- a comparison of a column with a constant, straight into a selection ---------------------------------------- */

/* Appends r to out when the comparison holds: branch-free, as the outcome of random data is unpredictable. */
#define SELECT_ROWS(T, data, OP)                                                                                    \
    for (int j = 0; j < m; j++) {                                                                                  \
        const int32_t r = rows[j];                                                                                 \
        const T x = (data)[r];                                                                                     \
        out[kept] = r;                                                                                             \
        kept += (x OP v) & (!valid || (int)((valid[r >> 6] >> (r & 63)) & 1u));                                    \
    }

#define SELECT_BY_OP(T, data)                                                                                       \
    switch (op) {                                                                                                   \
    case TS_X_EQ: SELECT_ROWS(T, data, ==) break;                                                                   \
    case TS_X_NE: SELECT_ROWS(T, data, !=) break;                                                                   \
    case TS_X_LT: SELECT_ROWS(T, data, <) break;                                                                    \
    case TS_X_LE: SELECT_ROWS(T, data, <=) break;                                                                   \
    case TS_X_GT: SELECT_ROWS(T, data, >) break;                                                                    \
    default: SELECT_ROWS(T, data, >=) break;                                                                        \
    }

static ts_expr_op mirrored(ts_expr_op op)
{
    switch (op) {
    case TS_X_LT: return TS_X_GT;
    case TS_X_LE: return TS_X_GE;
    case TS_X_GT: return TS_X_LT;
    case TS_X_GE: return TS_X_LE;
    default: return op;
    }
}

static inline int holds(ts_expr_op op, int s)
{
    switch (op) {
    case TS_X_EQ: return s == 0;
    case TS_X_NE: return s != 0;
    case TS_X_LT: return s < 0;
    case TS_X_LE: return s <= 0;
    case TS_X_GT: return s > 0;
    default: return s >= 0;
    }
}

static ts_err eval_compare(ts_xnode *n, int64_t start, int m, const uint8_t *active);

/* Appends r to out when column values x[r] OP y[r] hold and both are valid. */
#define SELECT_PAIRS(T, x, y, OP)                                                                                   \
    for (int j = 0; j < m; j++) {                                                                                  \
        const int32_t r = rows[j];                                                                                 \
        out[kept] = r;                                                                                             \
        kept += ((x)[r] OP (y)[r]) & (!va || (int)((va[r >> 6] >> (r & 63)) & 1u)) &                                \
                (!vb || (int)((vb[r >> 6] >> (r & 63)) & 1u));                                                     \
    }

#define SELECT_PAIRS_BY_OP(T, x, y)                                                                                 \
    switch (n->op) {                                                                                                \
    case TS_X_EQ: SELECT_PAIRS(T, x, y, ==) break;                                                                  \
    case TS_X_NE: SELECT_PAIRS(T, x, y, !=) break;                                                                  \
    case TS_X_LT: SELECT_PAIRS(T, x, y, <) break;                                                                   \
    case TS_X_LE: SELECT_PAIRS(T, x, y, <=) break;                                                                  \
    case TS_X_GT: SELECT_PAIRS(T, x, y, >) break;                                                                   \
    default: SELECT_PAIRS(T, x, y, >=) break;                                                                       \
    }

static int int32_storage(ts_type t) { return t == TS_T_INT32 || t == TS_T_DATE; }
static int int64_storage(ts_type t) { return t == TS_T_INT64 || t == TS_T_DECIMAL || t == TS_T_TIMESTAMP; }

/* Two columns read as int64 of one scale (l_commitdate < l_receiptdate), compared where they lie. */
static int select_column_pairs(const ts_xnode *n, const int32_t *rows, int m, int32_t *out)
{
    const ts_column *a = n->args[0]->col, *b = n->args[1]->col;
    const uint64_t *va = a->valid, *vb = b->valid;
    int kept = 0;
    if (int32_storage(a->type) && int32_storage(b->type)) {
        SELECT_PAIRS_BY_OP(int32_t, TS_COL(a, int32_t), TS_COL(b, int32_t))
        return kept;
    }
    if (int64_storage(a->type) && int64_storage(b->type)) {
        SELECT_PAIRS_BY_OP(int64_t, TS_COL(a, int64_t), TS_COL(b, int64_t))
        return kept;
    }
    return -1;
}

int ts_xfilter_compare(const ts_xnode *n, const int32_t *rows, int m, int32_t *out)
{
    if (n->eval != eval_compare)
        return -1;
    const cmp *c = n->aux;
    if (c->kind == K_II && n->args[0]->op == TS_X_COL && n->args[1]->op == TS_X_COL && !n->args[0]->is_const &&
        !n->args[1]->is_const)
        return select_column_pairs(n, rows, m, out);
    const ts_xnode *col = n->args[0], *k = n->args[1];
    ts_expr_op op = n->op;
    if (!(col->op == TS_X_COL && !col->is_const && ts_xconst(k))) {
        col = n->args[1], k = n->args[0], op = mirrored(op);
        if (!(col->op == TS_X_COL && !col->is_const && ts_xconst(k)))
            return -1;
    }
    const ts_column *cc = col->col;
    const uint64_t *valid = cc->valid;
    int kept = 0;
    if (c->kind == K_II && int32_storage(cc->type)) {
        const int64_t v = k->v.i[0];
        SELECT_BY_OP(int64_t, TS_COL(cc, int32_t))
        return kept;
    }
    if (c->kind == K_II && int64_storage(cc->type)) {
        const int64_t v = k->v.i[0];
        SELECT_BY_OP(int64_t, TS_COL(cc, int64_t))
        return kept;
    }
    if (c->kind == K_TABLE && cc->type == TS_T_DICT) { /* the outcome of each code, from its sign */
        const int32_t *code = TS_COL(cc, int32_t);
        for (int j = 0; j < m; j++) {
            const int32_t r = rows[j];
            const int s = code[r] >= 0 && code[r] < c->ncodes ? c->table[code[r]] : 0;
            out[kept] = r;
            kept += holds(n->op, c->swap ? -s : s) & (!valid || (int)((valid[r >> 6] >> (r & 63)) & 1u));
        }
        return kept;
    }
    return -1;
}

/* IS [NOT] DISTINCT FROM: = and <> where NULL is a value like any other (never a NULL result). */
static ts_err eval_distinct(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    int8_t *sign = (int8_t *)n->mask;
    const ts_xnode *a = n->args[0], *b = n->args[1];
    cmp_signs(n->aux, a, b, m, sign);
    const int64_t differ = n->op == TS_X_DISTINCT_FROM;
    for (int k = 0; k < m; k++) {
        const int both = a->valid[k] & b->valid[k], none = !a->valid[k] & !b->valid[k];
        n->v.i[k] = both ? (sign[k] != 0) == differ : none ? !differ : differ;
        n->valid[k] = 1;
    }
    return TS_OK;
}

/* ---- NULLIF, greatest, least ------------------------------------------------------------------------------- */

static ts_err eval_nullif(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    int8_t *sign = (int8_t *)n->mask;
    const ts_xnode *a = n->args[0], *b = n->args[1];
    cmp_signs(n->aux, a, b, m, sign);
    for (int k = 0; k < m; k++) {
        ts_xcopy_row(n, a, k);
        n->valid[k] = a->valid[k] && !(b->valid[k] && sign[k] == 0);
    }
    return TS_OK;
}

static ts_err eval_extreme(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    int8_t *sign = (int8_t *)n->mask;
    const int want = n->op == TS_X_GREATEST ? -1 : 1; /* replace the current value when it compares so */
    const ts_xnode *a = n->args[0];
    for (int k = 0; k < m; k++)
        ts_xcopy_row(n, a, k), n->valid[k] = a->valid[k];
    for (int i = 1; i < n->nargs; i++) {
        const ts_xnode *x = n->args[i];
        cmp_signs(n->aux, n, x, m, sign);
        for (int k = 0; k < m; k++) {
            if (x->valid[k] && (!n->valid[k] || sign[k] == want)) {
                ts_xcopy_row(n, x, k);
                n->valid[k] = 1;
            }
        }
    }
    return TS_OK;
}

/* ---- IN ---------------------------------------------------------------------------------------------------- */

/* A constant list, bound once: the items' values and a hash set over them. */
typedef struct in_set {
    int has_null;     /* a NULL item: no match gives NULL */
    int64_t n;
    int64_t *ints;    /* int64 operands (at the operand's scale) */
    double *floats;   /* FLOAT64 operands */
    ts_sv *strs;      /* STRING operands (pointing into bytes) */
    char *bytes;
    uint32_t *slots;  /* open addressing, linear probing: item index + 1, 0 = empty */
    uint64_t mask;
    uint64_t *bits;   /* integers in a compact range: one bit per value from lo, range values */
    int64_t lo;
    uint64_t range;
    uint8_t *codes;   /* per dictionary code, for DICT operands */
    int32_t ncodes;
    cmp *plans;       /* generic IN: one plan per item */
} in_set;

static void in_free(void *p)
{
    in_set *s = p;
    if (!s)
        return;
    if (s->plans)
        for (int64_t i = 0; i < s->n; i++)
            cmp_free(&s->plans[i]);
    free(s->ints), free(s->floats), free(s->strs), free(s->bytes), free(s->slots), free(s->bits), free(s->codes);
    free(s->plans);
    free(s);
}

/* Hashes agree with equality: -0.0 hashes as 0.0 and every NaN alike. */
static uint64_t hash_float(double x)
{
    uint64_t b;
    x = x == 0 ? 0 : x != x ? NAN : x;
    memcpy(&b, &x, sizeof b);
    return ts_hash_u64(b);
}
static uint64_t hash_item(const in_set *s, int64_t k)
{
    return s->ints     ? ts_hash_u64((uint64_t)s->ints[k])
           : s->floats ? hash_float(s->floats[k])
                       : ts_hash_bytes(s->strs[k].p, (size_t)s->strs[k].n, 0);
}

/* Integers spanning at most max(2^16, 64 per item) values get a bitmap: a branch-free test per row. */
static ts_err build_bits(in_set *s, int *done)
{
    *done = 0;
    if (!s->ints || s->n == 0)
        return TS_OK;
    int64_t lo = s->ints[0], hi = s->ints[0];
    for (int64_t k = 1; k < s->n; k++)
        lo = s->ints[k] < lo ? s->ints[k] : lo, hi = s->ints[k] > hi ? s->ints[k] : hi;
    const uint64_t span = (uint64_t)hi - (uint64_t)lo, limit = (uint64_t)s->n * 64; /* span + 1 may wrap to 0 */
    if (span >= (limit > 65536 ? limit : 65536))
        return TS_OK;
    const uint64_t range = span + 1;
    if (!(s->bits = calloc((range + 63) / 64, sizeof *s->bits)))
        TS_FAIL(TS_ERR_NOMEM, "IN: out of memory for %lld items", (long long)s->n);
    for (int64_t k = 0; k < s->n; k++) {
        const uint64_t off = (uint64_t)s->ints[k] - (uint64_t)lo;
        s->bits[off >> 6] |= UINT64_C(1) << (off & 63);
    }
    s->lo = lo, s->range = range, *done = 1;
    return TS_OK;
}

static ts_err build_slots(in_set *s)
{
    int done;
    TS_TRY(build_bits(s, &done));
    if (done)
        return TS_OK;
    uint64_t size = 16;
    while (size < 2 * (uint64_t)s->n)
        size *= 2;
    if (!(s->slots = calloc(size, sizeof *s->slots)))
        TS_FAIL(TS_ERR_NOMEM, "IN: out of memory for %lld items", (long long)s->n);
    s->mask = size - 1;
    for (int64_t k = 0; k < s->n; k++) {
        uint64_t h = hash_item(s, k) & s->mask;
        while (s->slots[h])
            h = (h + 1) & s->mask;
        s->slots[h] = (uint32_t)(k + 1);
    }
    return TS_OK;
}

static int find_int(const in_set *s, int64_t x)
{
    for (uint64_t h = ts_hash_u64((uint64_t)x) & s->mask; s->slots[h]; h = (h + 1) & s->mask)
        if (s->ints[s->slots[h] - 1] == x)
            return 1;
    return 0;
}

static int find_float(const in_set *s, double x)
{
    for (uint64_t h = hash_float(x) & s->mask; s->slots[h]; h = (h + 1) & s->mask)
        if (sign_f(s->floats[s->slots[h] - 1], x) == 0)
            return 1;
    return 0;
}

static int find_str(const in_set *s, ts_sv x)
{
    for (uint64_t h = ts_hash_bytes(x.p, (size_t)x.n, 0) & s->mask; s->slots[h]; h = (h + 1) & s->mask) {
        const ts_sv y = s->strs[s->slots[h] - 1];
        if (y.n == x.n && (x.n == 0 || memcmp(x.p, y.p, (size_t)x.n) == 0))
            return 1;
    }
    return 0;
}

static ts_err eval_in_const(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const in_set *s = n->aux;
    const ts_xnode *x = n->args[0];
    int64_t *r = n->v.i;
    if (s->codes) {
        for (int k = 0; k < m; k++)
            r[k] = x->v.i[k] >= 0 && x->v.i[k] < s->ncodes && s->codes[x->v.i[k]];
    } else if (s->bits) {
        for (int k = 0; k < m; k++) {
            const uint64_t off = (uint64_t)x->v.i[k] - (uint64_t)s->lo, in = off < s->range;
            r[k] = (int64_t)(in & (s->bits[in ? off >> 6 : 0] >> (off & 63)));
        }
    } else if (s->ints) {
        for (int k = 0; k < m; k++)
            r[k] = find_int(s, x->v.i[k]);
    } else if (s->floats) {
        for (int k = 0; k < m; k++)
            r[k] = find_float(s, x->v.f[k]);
    } else if (s->strs) {
        for (int k = 0; k < m; k++)
            r[k] = find_str(s, x->v.s[k]);
    } else {
        memset(r, 0, sizeof *r * (size_t)m);
    }
    for (int k = 0; k < m; k++)
        n->valid[k] = x->valid[k] && (r[k] || !s->has_null);
    return TS_OK;
}

static ts_err eval_in_rows(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const in_set *s = n->aux;
    const ts_xnode *x = n->args[0];
    int8_t *sign = (int8_t *)n->mask;
    uint8_t *nulls = n->mask + n->rows;
    for (int k = 0; k < m; k++)
        n->v.i[k] = 0, nulls[k] = 0;
    for (int i = 1; i < n->nargs; i++) {
        const ts_xnode *item = n->args[i];
        cmp_signs(&s->plans[i - 1], x, item, m, sign);
        for (int k = 0; k < m; k++) {
            n->v.i[k] |= item->valid[k] && sign[k] == 0;
            nulls[k] |= !item->valid[k];
        }
    }
    for (int k = 0; k < m; k++)
        n->valid[k] = x->valid[k] && (n->v.i[k] || !nulls[k]);
    return TS_OK;
}

static int comparable(ts_xtype x, ts_xtype y)
{
    if (x == TS_XT_BOOL || y == TS_XT_BOOL || x == TS_XT_TS || y == TS_XT_TS)
        return x == y;
    return (x == TS_XT_FLOAT || intlike(x)) && (y == TS_XT_FLOAT || intlike(y));
}

/* The constant item at decimal scale s exactly; 0 when no value of that scale can equal it (2.5 for an INT64). */
static int exact_at(const ts_xnode *item, int s, int64_t *v)
{
    if (item->type == TS_XT_FLOAT) {
        const double d = item->v.f[0] * (double)ts_xpow10[s];
        if (d != floor(d) || !(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return 0;
        *v = (int64_t)d;
        return 1;
    }
    const int si = scale_of(item);
    if (si <= s)
        return !__builtin_mul_overflow(item->v.i[0], ts_xpow10[s - si], v);
    const int64_t p = ts_xpow10[si - s];
    *v = item->v.i[0] / p;
    return item->v.i[0] % p == 0;
}

static ts_err bind_in_const(ts_xnode *n)
{
    in_set *set = calloc(1, sizeof *set);
    if (!set)
        TS_FAIL(TS_ERR_NOMEM, "IN: out of memory");
    n->aux = set, n->aux_free = in_free;
    const ts_xnode *x = n->args[0];
    const size_t items = (size_t)n->nargs;
    switch (x->type) {
    case TS_XT_FLOAT: set->floats = malloc(sizeof *set->floats * items); break;
    case TS_XT_STRING: set->strs = malloc(sizeof *set->strs * items); break;
    case TS_XT_CODE:
        set->ncodes = x->dict->n;
        set->codes = calloc((size_t)(set->ncodes ? set->ncodes : 1), 1);
        break;
    default: set->ints = malloc(sizeof *set->ints * items); break;
    }
    if (!set->floats && !set->strs && !set->codes && !set->ints)
        TS_FAIL(TS_ERR_NOMEM, "IN: out of memory for %d items", n->nargs - 1);
    for (int i = 1; i < n->nargs; i++) {
        const ts_xnode *item = n->args[i];
        if (item->type == TS_XT_NULL || !item->valid[0]) {
            set->has_null = 1;
            continue;
        }
        if (ts_xis_str(x->type) && !ts_xis_str(item->type))
            return incompatible(n, x, item);
        if (x->type == TS_XT_TS && item->type == TS_XT_DATE)
            TS_TRY(ts_xcoerce(n, i, TS_XT_TS, 0, NULL));
        /* strings compare as strings; a string item of a typed operand is read as that type */
        if (ts_xis_str(item->type))
            TS_TRY(ts_xcoerce(n, i, ts_xis_str(x->type) ? TS_XT_STRING : x->type, x->scale, NULL));
        item = n->args[i];
        if (!comparable(x->type, item->type) && !ts_xis_str(x->type))
            return incompatible(n, x, item);
        int64_t v;
        if (x->type == TS_XT_CODE)
            for (int32_t c = 0; c < set->ncodes; c++)
                set->codes[c] |= sign_s(ts_xdict_sv(x->dict, c), item->v.s[0]) == 0;
        else if (x->type == TS_XT_STRING)
            set->strs[set->n++] = item->v.s[0];
        else if (x->type == TS_XT_FLOAT)
            set->floats[set->n++] = ts_xas_double(item, 0);
        else if (exact_at(item, scale_of(x), &v))
            set->ints[set->n++] = v;
    }
    if (set->strs) { /* own the strings: the items are freed below */
        size_t total = 1;
        for (int64_t k = 0; k < set->n; k++)
            total += (size_t)set->strs[k].n;
        if (!(set->bytes = malloc(total)))
            TS_FAIL(TS_ERR_NOMEM, "IN: out of memory for %zu bytes of strings", total);
        char *o = set->bytes;
        for (int64_t k = 0; k < set->n; k++) {
            if (set->strs[k].n)
                memcpy(o, set->strs[k].p, (size_t)set->strs[k].n);
            set->strs[k].p = o, o += set->strs[k].n;
        }
    }
    for (int i = 1; i < n->nargs; i++) /* the set holds everything the items had to say */
        ts_xfree(n->args[i]), n->args[i] = NULL;
    n->nargs = 1;
    if (!set->codes)
        TS_TRY(build_slots(set));
    n->eval = eval_in_const;
    return TS_OK;
}

static ts_err bind_in(ts_xnode *n)
{
    n->type = TS_XT_BOOL;
    int all_const = 1;
    for (int i = 1; i < n->nargs; i++)
        all_const &= n->args[i]->is_const;
    ts_xtype t;
    int s;
    const ts_dict *d;
    if (n->args[0]->type == TS_XT_NULL) { /* NULL IN (...) is NULL: the operand takes the items' type */
        TS_TRY(ts_xunify(n, NULL, &t, &s, &d));
        TS_TRY(ts_xcoerce(n, 0, t == TS_XT_NULL ? TS_XT_INT : t, s, d));
    }
    if (all_const)
        return bind_in_const(n);
    /* items vary per row: unify everything, then compare item by item */
    TS_TRY(ts_xunify(n, NULL, &t, &s, &d));
    for (int i = 0; i < n->nargs; i++)
        TS_TRY(ts_xcoerce(n, i, t == TS_XT_NULL ? TS_XT_INT : t, s, d));
    in_set *set = calloc(1, sizeof *set);
    if (set)
        set->plans = calloc((size_t)n->nargs, sizeof *set->plans);
    if (!set || !set->plans) {
        free(set);
        TS_FAIL(TS_ERR_NOMEM, "IN: out of memory");
    }
    n->aux = set, n->aux_free = in_free;
    for (int i = 1; i < n->nargs; i++, set->n++)
        TS_TRY(cmp_plan(n, 0, i, &set->plans[i - 1]));
    n->eval = eval_in_rows;
    return TS_OK;
}

ts_err ts_xbind_compare(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_IN: return bind_in(n);
    case TS_X_GREATEST: case TS_X_LEAST: {
        ts_xtype t;
        int s;
        const ts_dict *d;
        TS_TRY(ts_xunify(n, NULL, &t, &s, &d));
        for (int i = 0; i < n->nargs; i++)
            TS_TRY(ts_xcoerce(n, i, t, s, d));
        n->type = t, n->scale = s, n->dict = d;
        cmp *c;
        TS_TRY(new_cmp(n, &c));
        if (t != TS_XT_NULL)
            TS_TRY(cmp_plan(n, 0, n->nargs > 1 ? 1 : 0, c));
        n->eval = eval_extreme;
        return TS_OK;
    }
    default: {
        cmp *c;
        TS_TRY(new_cmp(n, &c));
        TS_TRY(cmp_plan(n, 0, 1, c));
        if (n->op == TS_X_NULLIF) {
            const ts_xnode *a = n->args[0];
            n->type = a->type, n->scale = a->scale, n->dict = a->dict, n->eval = eval_nullif;
        } else if (n->op == TS_X_DISTINCT_FROM || n->op == TS_X_NOT_DISTINCT_FROM) {
            n->type = TS_XT_BOOL, n->eval = eval_distinct;
        } else {
            n->type = TS_XT_BOOL, n->eval = eval_compare;
        }
        return TS_OK;
    }
    }
}
