/* Arithmetic and math functions: + - * / % //, unary minus, abs, sign, round, floor, ceil, pow, sqrt, ln, log10,
 * exp.
 *
 * The binder picks one representation per node and casts the operands to it: exact int64 (INT64, DECIMAL at a
 * common scale, DATE day numbers) or double. Integer kernels detect overflow with the compiler's checked
 * arithmetic and report it (TS_ERR_DATA) for rows being evaluated; a zero divisor of % and // gives NULL. */
#define TS_EXPR_PACKAGE
#include <math.h>
#include <string.h>

#include "ts_expr_impl.h"

static ts_err fail_types(const ts_xnode *n)
{
    char b1[32], b2[32];
    const ts_xnode *a = n->args[0], *b = n->nargs > 1 ? n->args[1] : NULL;
    if (!b)
        TS_FAIL(TS_ERR_USAGE, "%s: argument 1 must be a number, not %s", ts_xname(n),
                ts_xtype_name(a->type, a->scale, b1, sizeof b1));
    TS_FAIL(TS_ERR_USAGE, "'%s' does not apply to %s and %s", ts_xname(n),
            ts_xtype_name(a->type, a->scale, b1, sizeof b1), ts_xtype_name(b->type, b->scale, b2, sizeof b2));
}

/* ---- binary kernels ---------------------------------------------------------------------------------------- */

static ts_err overflow(ts_xnode *n, const uint8_t *active, int m)
{
    const int k = ts_xbad(n, n->mask, m, active, 0);
    if (k < 0)
        return TS_OK;
    if (n->type == TS_XT_DATE)
        TS_FAIL(TS_ERR_DATA, "'%s': date out of range (%lld %s %lld days)", ts_xname(n),
                (long long)n->args[0]->v.i[k], ts_xname(n), (long long)n->args[1]->v.i[k]);
    if (n->nargs == 1)
        TS_FAIL(TS_ERR_DATA, "%s: integer overflow on %lld", ts_xname(n), (long long)n->args[0]->v.i[k]);
    TS_FAIL(TS_ERR_DATA, "'%s': integer overflow in %lld %s %lld", ts_xname(n), (long long)n->args[0]->v.i[k],
            ts_xname(n), (long long)n->args[1]->v.i[k]);
}

static ts_err arith_int(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const int64_t *x = n->args[0]->v.i, *y = n->args[1]->v.i;
    const uint8_t *va = n->args[0]->valid, *vb = n->args[1]->valid;
    int64_t *r = n->v.i;
    uint8_t *bad = n->mask, *valid = n->valid;
    for (int k = 0; k < m; k++)
        valid[k] = va[k] & vb[k];
    switch (n->op) {
    case TS_X_ADD:
        for (int k = 0; k < m; k++)
            bad[k] = (uint8_t)__builtin_add_overflow(x[k], y[k], &r[k]);
        break;
    case TS_X_SUB:
        for (int k = 0; k < m; k++)
            bad[k] = (uint8_t)__builtin_sub_overflow(x[k], y[k], &r[k]);
        break;
    case TS_X_MUL:
        for (int k = 0; k < m; k++)
            bad[k] = (uint8_t)__builtin_mul_overflow(x[k], y[k], &r[k]);
        break;
    case TS_X_MOD: /* C truncation; x % -1 is 0 (also for INT64_MIN, where C's % is undefined) */
        for (int k = 0; k < m; k++) {
            const int64_t d = y[k];
            r[k] = d == 0 || d == -1 ? 0 : x[k] % d;
            valid[k] &= d != 0;
            bad[k] = 0;
        }
        break;
    default: /* INTDIV */
        for (int k = 0; k < m; k++) {
            const int64_t d = y[k];
            bad[k] = d == -1 && x[k] == INT64_MIN;
            r[k] = d == 0 || bad[k] ? 0 : d == -1 ? -x[k] : x[k] / d;
            valid[k] &= d != 0;
        }
        break;
    }
    if (n->type == TS_XT_DATE)
        for (int k = 0; k < m; k++)
            bad[k] |= r[k] < TS_XDATE_MIN || r[k] > TS_XDATE_MAX;
    for (int k = 0; k < m; k++)
        bad[k] &= valid[k];
    return overflow(n, active, m);
}

static ts_err arith_float(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const double *x = n->args[0]->v.f, *y = n->args[1]->v.f;
    double *r = n->v.f;
    for (int k = 0; k < m; k++)
        n->valid[k] = n->args[0]->valid[k] & n->args[1]->valid[k];
    switch (n->op) {
    case TS_X_ADD: for (int k = 0; k < m; k++) r[k] = x[k] + y[k]; break;
    case TS_X_SUB: for (int k = 0; k < m; k++) r[k] = x[k] - y[k]; break;
    case TS_X_MUL: for (int k = 0; k < m; k++) r[k] = x[k] * y[k]; break;
    case TS_X_MOD: for (int k = 0; k < m; k++) r[k] = fmod(x[k], y[k]); break;
    case TS_X_POW: for (int k = 0; k < m; k++) r[k] = pow(x[k], y[k]); break;
    default: for (int k = 0; k < m; k++) r[k] = x[k] / y[k]; break; /* / and // (DuckDB: // on doubles divides) */
    }
    return TS_OK;
}

/* ---- unary kernels ----------------------------------------------------------------------------------------- */

static ts_err unary_int(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const int64_t *x = n->args[0]->v.i;
    int64_t *r = n->v.i;
    uint8_t *bad = n->mask;
    memcpy(n->valid, n->args[0]->valid, (size_t)m);
    memset(bad, 0, (size_t)m);
    const int64_t p = ts_xpow10[n->args[0]->type == TS_XT_DEC ? n->args[0]->scale : 0];
    switch (n->op) {
    case TS_X_NEG: case TS_X_ABS:
        for (int k = 0; k < m; k++) {
            bad[k] = x[k] == INT64_MIN && n->valid[k];
            r[k] = x[k] == INT64_MIN ? 0 : n->op == TS_X_NEG || x[k] < 0 ? -x[k] : x[k];
        }
        break;
    case TS_X_SIGN:
        for (int k = 0; k < m; k++)
            r[k] = (x[k] > 0) - (x[k] < 0);
        break;
    case TS_X_FLOOR: /* DECIMAL(s) -> DECIMAL(0) */
        for (int k = 0; k < m; k++)
            r[k] = x[k] / p - (x[k] % p < 0);
        break;
    case TS_X_CEIL:
        for (int k = 0; k < m; k++)
            r[k] = x[k] / p + (x[k] % p > 0);
        break;
    default: memcpy(r, x, sizeof(int64_t) * (size_t)m); break; /* floor / ceil of an integer */
    }
    return overflow(n, active, m);
}

static ts_err unary_float(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const double *x = n->args[0]->v.f;
    double *r = n->v.f;
    uint8_t *bad = n->mask;
    memcpy(n->valid, n->args[0]->valid, (size_t)m);
    memset(bad, 0, (size_t)m);
    switch (n->op) {
    case TS_X_NEG: for (int k = 0; k < m; k++) r[k] = -x[k]; break;
    case TS_X_ABS: for (int k = 0; k < m; k++) r[k] = fabs(x[k]); break;
    case TS_X_FLOOR: for (int k = 0; k < m; k++) r[k] = floor(x[k]); break;
    case TS_X_CEIL: for (int k = 0; k < m; k++) r[k] = ceil(x[k]); break;
    case TS_X_EXP: for (int k = 0; k < m; k++) r[k] = exp(x[k]); break;
    case TS_X_SQRT:
        for (int k = 0; k < m; k++)
            bad[k] = x[k] < 0 && n->valid[k], r[k] = sqrt(x[k] < 0 ? 0 : x[k]);
        break;
    default: /* LN, LOG10 */
        for (int k = 0; k < m; k++) {
            bad[k] = x[k] <= 0 && n->valid[k];
            r[k] = x[k] <= 0 ? 0 : n->op == TS_X_LN ? log(x[k]) : log10(x[k]);
        }
        break;
    }
    const int k = ts_xbad(n, bad, m, active, 0);
    if (k < 0)
        return TS_OK;
    if (n->op == TS_X_SQRT)
        TS_FAIL(TS_ERR_DATA, "sqrt: cannot take the square root of a negative number (%g)", x[k]);
    TS_FAIL(TS_ERR_DATA, "%s: cannot take the logarithm of %s (%g)", ts_xname(n),
            x[k] == 0 ? "zero" : "a negative number", x[k]);
}

static ts_err sign_float(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const double *x = n->args[0]->v.f;
    memcpy(n->valid, n->args[0]->valid, (size_t)m);
    for (int k = 0; k < m; k++)
        n->v.i[k] = (x[k] > 0) - (x[k] < 0);
    return TS_OK;
}

/* ---- round ------------------------------------------------------------------------------------------------- */

/* Rounds the int64 values of DECIMAL(from) (or INT64: from = 0) to `digits` decimal digits, half away from zero,
 * directly (no double rounding), giving values at the node's scale. 128-bit arithmetic: no intermediate overflow. */
static int round_scaled(int64_t x, int from, int64_t digits, int to, int64_t *out)
{
    const int64_t drop = digits >= from ? 0 : from - (digits < -40 ? -40 : digits); /* digits to remove */
    if (drop == 0)
        return *out = x, 1; /* already at most `digits` digits (then to == from) */
    if (drop > 38)
        return *out = 0, 1;
    ts_xi128 p = 1;
    for (int64_t k = 0; k < drop; k++)
        p *= 10;
    const ts_xi128 q = (ts_xi128)x / p, r = (ts_xi128)x % p;
    ts_xi128 y = q + (2 * (r < 0 ? -r : r) >= p ? (x < 0 ? -1 : 1) : 0);
    for (int64_t k = 0; y && k < to - digits; k++) /* back up to the result scale (negative digits: tens) */
        y *= 10;
    if (y > INT64_MAX || y < INT64_MIN)
        return 0;
    *out = (int64_t)y;
    return 1;
}

static ts_err round_int_rows(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0], *d = n->nargs > 1 ? n->args[1] : NULL;
    uint8_t *bad = n->mask;
    const int from = a->type == TS_XT_DEC ? a->scale : 0;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] && (!d || d->valid[k]);
        const int64_t digits = a->type == TS_XT_DEC ? n->param : d ? d->v.i[k] : 0;
        bad[k] = !round_scaled(a->v.i[k], from, digits, n->scale, &n->v.i[k]) && n->valid[k];
    }
    return overflow(n, active, m);
}

static double round_double(double x, int64_t digits)
{
    if (digits == 0)
        return round(x);
    if (digits > 0) {
        const double p = pow(10.0, (double)(digits > 400 ? 400 : digits)), y = x * p;
        return isinf(y) ? x : round(y) / p;
    }
    const double p = pow(10.0, (double)(digits < -400 ? 400 : -digits));
    return round(x / p) * p;
}

static ts_err round_float_rows(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    const ts_xnode *a = n->args[0], *d = n->nargs > 1 ? n->args[1] : NULL;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] && (!d || d->valid[k]);
        n->v.f[k] = round_double(a->v.f[k], d ? d->v.i[k] : 0);
    }
    return TS_OK;
}

static ts_err bind_round(ts_xnode *n)
{
    ts_xnode *a = n->args[0];
    if (n->nargs > 1)
        TS_TRY(ts_xneed_int(n, 1));
    if (a->type == TS_XT_NULL) {
        TS_TRY(ts_xcoerce(n, 0, TS_XT_INT, 0, NULL));
        a = n->args[0];
    }
    if (a->type == TS_XT_FLOAT) {
        n->type = TS_XT_FLOAT, n->eval = round_float_rows;
        return TS_OK;
    }
    if (a->type == TS_XT_DEC) { /* the result scale depends on the digits: they must be constant */
        const ts_xnode *d = n->nargs > 1 ? n->args[1] : NULL;
        if (d && !d->is_const)
            TS_FAIL(TS_ERR_USAGE, "round: argument 2 must be a constant for a DECIMAL argument");
        n->param = d ? d->v.i[0] : 0;
        n->type = TS_XT_DEC;
        n->scale = n->param >= a->scale ? a->scale : n->param > 0 ? (int)n->param : 0;
        n->eval = round_int_rows;
        return TS_OK;
    }
    if (a->type != TS_XT_INT)
        return fail_types(n);
    n->type = TS_XT_INT, n->eval = round_int_rows;
    return TS_OK;
}

/* ---- binding ----------------------------------------------------------------------------------------------- */

static int scale_of(const ts_xnode *a) { return a->type == TS_XT_DEC ? a->scale : 0; }

/* Both operands to one representation: FLOAT64, or exact integers at a common DECIMAL scale. */
static ts_err bind_numeric(ts_xnode *n, int float_only)
{
    const ts_xtype ta = n->args[0]->type, tb = n->args[1]->type;
    if (!ts_xis_num(ta) || !ts_xis_num(tb))
        return fail_types(n);
    if (float_only || ta == TS_XT_FLOAT || tb == TS_XT_FLOAT) {
        TS_TRY(ts_xcoerce(n, 0, TS_XT_FLOAT, 0, NULL));
        TS_TRY(ts_xcoerce(n, 1, TS_XT_FLOAT, 0, NULL));
        n->type = TS_XT_FLOAT, n->eval = arith_float;
        return TS_OK;
    }
    if (n->op == TS_X_MUL) { /* raw product at the summed scale */
        const int s = scale_of(n->args[0]) + scale_of(n->args[1]);
        if (s > 18)
            return bind_numeric(n, 1);
        n->type = s || ta == TS_XT_DEC || tb == TS_XT_DEC ? TS_XT_DEC : TS_XT_INT, n->scale = s;
        n->eval = arith_int;
        return TS_OK;
    }
    if (ta == TS_XT_DEC || tb == TS_XT_DEC) {
        const int s = scale_of(n->args[0]) > scale_of(n->args[1]) ? scale_of(n->args[0]) : scale_of(n->args[1]);
        TS_TRY(ts_xcoerce(n, 0, TS_XT_DEC, s, NULL));
        TS_TRY(ts_xcoerce(n, 1, TS_XT_DEC, s, NULL));
        n->type = TS_XT_DEC, n->scale = s;
    } else {
        n->type = TS_XT_INT;
    }
    n->eval = arith_int;
    return TS_OK;
}

static ts_err bind_binary(ts_xnode *n)
{
    ts_xnode *a = n->args[0], *b = n->args[1];
    const ts_expr_op op = n->op;
    /* an untyped NULL takes the other side's type (a day count next to a DATE), both NULL: INT64 */
    if (a->type == TS_XT_NULL)
        TS_TRY(ts_xcoerce(n, 0,
                          b->type == TS_XT_NULL || (b->type == TS_XT_DATE && op != TS_X_SUB) ? TS_XT_INT : b->type,
                          b->scale, b->dict));
    if (b->type == TS_XT_NULL)
        TS_TRY(ts_xcoerce(n, 1, n->args[0]->type == TS_XT_DATE ? TS_XT_INT : n->args[0]->type, n->args[0]->scale,
                          n->args[0]->dict));
    if (ts_xis_interval_arith(n))
        return ts_xbind_interval(n);
    a = n->args[0], b = n->args[1];
    if (a->type == TS_XT_DATE || b->type == TS_XT_DATE) {
        const int ok = (op == TS_X_ADD && ((a->type == TS_XT_DATE && b->type == TS_XT_INT) ||
                                           (a->type == TS_XT_INT && b->type == TS_XT_DATE))) ||
                       (op == TS_X_SUB && a->type == TS_XT_DATE && (b->type == TS_XT_INT || b->type == TS_XT_DATE));
        if (!ok)
            return fail_types(n);
        n->type = op == TS_X_SUB && b->type == TS_XT_DATE ? TS_XT_INT : TS_XT_DATE;
        n->eval = arith_int;
        return TS_OK;
    }
    const int float_only = op == TS_X_DIV || op == TS_X_POW ||
                           (op == TS_X_INTDIV && (a->type != TS_XT_INT || b->type != TS_XT_INT));
    return bind_numeric(n, float_only);
}

ts_err ts_xbind_math(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_ADD: case TS_X_SUB: case TS_X_MUL: case TS_X_DIV: case TS_X_MOD: case TS_X_INTDIV: case TS_X_POW:
        return bind_binary(n);
    case TS_X_ROUND: return bind_round(n);
    default: break;
    }
    ts_xnode *a = n->args[0];
    if (ts_xis_interval_arith(n))
        return ts_xbind_interval(n);
    if (a->type == TS_XT_NULL) {
        const int keeps = n->op == TS_X_NEG || n->op == TS_X_ABS || n->op == TS_X_SIGN;
        TS_TRY(ts_xcoerce(n, 0, keeps ? TS_XT_INT : TS_XT_FLOAT, 0, NULL));
        a = n->args[0];
    }
    if (!ts_xis_num(a->type))
        return fail_types(n);
    switch (n->op) {
    case TS_X_SQRT: case TS_X_LN: case TS_X_LOG10: case TS_X_EXP:
        TS_TRY(ts_xcoerce(n, 0, TS_XT_FLOAT, 0, NULL));
        n->type = TS_XT_FLOAT, n->eval = unary_float;
        return TS_OK;
    case TS_X_SIGN:
        n->type = TS_XT_INT, n->eval = a->type == TS_XT_FLOAT ? sign_float : unary_int;
        return TS_OK;
    default: /* NEG, ABS, FLOOR, CEIL keep the type (DECIMAL floor / ceil: scale 0) */
        n->type = a->type;
        n->scale = (n->op == TS_X_FLOOR || n->op == TS_X_CEIL) ? 0 : a->scale;
        n->eval = a->type == TS_XT_FLOAT ? unary_float : unary_int;
        return TS_OK;
    }
}
