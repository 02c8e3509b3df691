/* INTERVAL values inside expressions (kernels/ts_interval.h): to_interval (text or a count of a unit), DATE /
 * TIMESTAMP +- INTERVAL, INTERVAL +- INTERVAL, INTERVAL * INT64, unary minus, TIMESTAMP - TIMESTAMP.
 *
 * An interval row is a ts_interval in the 16 bytes the node keeps per row (ts_xiv). A value that leaves the
 * timestamp or interval range is flagged and reported (TS_ERR_DATA) only for rows being evaluated. */
#define TS_EXPR_PACKAGE
#include <string.h>

#include "ts_date.h"
#include "ts_expr_impl.h"

static int dated(ts_xtype t) { return t == TS_XT_DATE || t == TS_XT_TS; }

int ts_xis_interval_arith(const ts_xnode *n)
{
    if (n->op == TS_X_NEG)
        return n->args[0]->type == TS_XT_IV;
    if (n->op != TS_X_ADD && n->op != TS_X_SUB && n->op != TS_X_MUL)
        return 0;
    const ts_xtype a = n->args[0]->type, b = n->args[1]->type;
    return a == TS_XT_IV || b == TS_XT_IV ||
           (n->op == TS_X_SUB && (a == TS_XT_TS || b == TS_XT_TS) && dated(a) && dated(b));
}

static ts_err out_of_range(ts_xnode *n, const uint8_t *bad, int m, const uint8_t *active)
{
    if (ts_xbad(n, bad, m, active, 0) < 0)
        return TS_OK;
    TS_FAIL(TS_ERR_DATA, "'%s': the result is out of the %s range", ts_xname(n),
            n->type == TS_XT_IV ? "INTERVAL" : "TIMESTAMP");
}

/* ---- kernels ---------------------------------------------------------------------------------------------- */

/* TIMESTAMP +- INTERVAL (args[ts], args[1 - ts]). */
static ts_err eval_ts_iv(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const int ts = n->args[0]->type == TS_XT_TS ? 0 : 1, sign = n->op == TS_X_SUB ? -1 : 1;
    const ts_xnode *t = n->args[ts], *iv = n->args[1 - ts];
    const ts_interval *v = ts_xiv(iv);
    uint8_t *bad = n->mask;
    for (int k = 0; k < m; k++) {
        n->valid[k] = t->valid[k] & iv->valid[k];
        bad[k] = n->valid[k] && !ts_timestamp_add_interval(t->v.i[k], v[k], sign, &n->v.i[k]);
    }
    return out_of_range(n, bad, m, active);
}

static ts_err eval_iv_iv(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0], *b = n->args[1];
    ts_interval *r = ts_xiv(n);
    uint8_t *bad = n->mask;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] & b->valid[k];
        ts_interval y = ts_xiv(b)[k];
        const int neg_ok = n->op != TS_X_SUB || ts_interval_mul(y, -1, &y);
        bad[k] = n->valid[k] && !(neg_ok && ts_interval_add(ts_xiv(a)[k], y, &r[k]));
    }
    return out_of_range(n, bad, m, active);
}

/* INTERVAL * INT64 (either order), and unary minus (one argument). */
static ts_err eval_iv_mul(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const int iv = n->args[0]->type == TS_XT_IV ? 0 : 1;
    const ts_xnode *x = n->args[iv], *k_arg = n->nargs > 1 ? n->args[1 - iv] : NULL;
    ts_interval *r = ts_xiv(n);
    uint8_t *bad = n->mask;
    for (int k = 0; k < m; k++) {
        n->valid[k] = x->valid[k] && (!k_arg || k_arg->valid[k]);
        bad[k] = n->valid[k] && !ts_interval_mul(ts_xiv(x)[k], k_arg ? k_arg->v.i[k] : -1, &r[k]);
    }
    return out_of_range(n, bad, m, active);
}

/* TIMESTAMP - TIMESTAMP: the difference as days and microseconds (no months), both truncated toward zero. */
static ts_err eval_ts_diff(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0], *b = n->args[1];
    ts_interval *r = ts_xiv(n);
    uint8_t *bad = n->mask;
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] & b->valid[k];
        int64_t d = 0;
        bad[k] = n->valid[k] && __builtin_sub_overflow(a->v.i[k], b->v.i[k], &d);
        r[k] = (ts_interval){0, (int32_t)(d / TS_MICROS_PER_DAY), d % TS_MICROS_PER_DAY};
    }
    return out_of_range(n, bad, m, active);
}

static ts_err eval_parse(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[0];
    uint8_t *bad = n->mask;
    ts_interval *r = ts_xiv(n);
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k];
        bad[k] = a->valid[k] && !ts_parse_interval(a->v.s[k].p, (size_t)a->v.s[k].n, &r[k]);
    }
    const int k = ts_xbad(n, bad, m, active, n->try_cast);
    if (k < 0)
        return TS_OK;
    TS_FAIL(TS_ERR_DATA, "CAST: could not convert string '%.*s' to INTERVAL", (int)(a->v.s[k].n > 80 ? 80 : a->v.s[k].n),
            a->v.s[k].p);
}

static ts_err eval_count(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start;
    const ts_xnode *a = n->args[1];
    const int null_unit = !n->args[0]->valid[0];
    uint8_t *bad = n->mask;
    ts_interval *r = ts_xiv(n);
    for (int k = 0; k < m; k++) {
        n->valid[k] = a->valid[k] && !null_unit;
        bad[k] = n->valid[k] && !ts_interval_of(ts_xas_double(a, k), (ts_iv_unit)n->param, &r[k]);
    }
    return out_of_range(n, bad, m, active);
}

static ts_err eval_copy(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    for (int k = 0; k < m; k++)
        ts_xcopy_row(n, n->args[0], k), n->valid[k] = n->args[0]->valid[k];
    return TS_OK;
}

/* ---- binding ---------------------------------------------------------------------------------------------- */

static ts_err bind_to_interval(ts_xnode *n)
{
    n->type = TS_XT_IV;
    if (n->nargs == 1) { /* the text of an interval */
        if (n->args[0]->type == TS_XT_IV) {
            n->eval = eval_copy;
            return TS_OK;
        }
        TS_TRY(ts_xneed_str(n, 0));
        n->eval = eval_parse;
        return TS_OK;
    }
    const ts_xnode *u = n->args[0];
    if (!u->is_const || !(ts_xis_str(u->type) || u->type == TS_XT_NULL))
        TS_FAIL(TS_ERR_USAGE, "to_interval: argument 1 (the unit) must be a string constant");
    ts_iv_unit unit = TS_IV_DAY;
    if (u->valid[0]) {
        const ts_sv s = u->type == TS_XT_CODE ? ts_xdict_sv(u->dict, u->v.i[0]) : u->v.s[0];
        if (!ts_interval_unit(s.p, (size_t)s.n, &unit))
            TS_FAIL(TS_ERR_USAGE, "to_interval: unknown unit '%.*s'", (int)s.n, s.p);
    }
    n->param = unit;
    const ts_xtype t = n->args[1]->type;
    if (t == TS_XT_NULL || (n->args[1]->is_const && ts_xis_str(t))) /* INTERVAL '3' MONTH */
        TS_TRY(ts_xcoerce(n, 1, TS_XT_FLOAT, 0, NULL));
    else if (!ts_xis_num(t))
        TS_FAIL(TS_ERR_USAGE, "to_interval: argument 2 (the count) must be a number");
    n->eval = eval_count;
    return TS_OK;
}

static ts_err fail_types(const ts_xnode *n)
{
    char b1[32], b2[32];
    const ts_xnode *a = n->args[0], *b = n->nargs > 1 ? n->args[1] : a;
    TS_FAIL(TS_ERR_USAGE, "'%s' does not apply to %s and %s", ts_xname(n),
            ts_xtype_name(a->type, a->scale, b1, sizeof b1), ts_xtype_name(b->type, b->scale, b2, sizeof b2));
}

ts_err ts_xbind_interval(ts_xnode *n)
{
    if (n->op == TS_X_TO_INTERVAL)
        return bind_to_interval(n);
    const ts_xtype a = n->args[0]->type, b = n->nargs > 1 ? n->args[1]->type : TS_XT_NULL;
    if (n->op == TS_X_NEG) {
        n->type = TS_XT_IV, n->eval = eval_iv_mul;
        return TS_OK;
    }
    if (n->op == TS_X_MUL) {
        const int iv = a == TS_XT_IV ? 0 : 1;
        if (n->args[1 - iv]->type != TS_XT_INT)
            return fail_types(n);
        n->type = TS_XT_IV, n->eval = eval_iv_mul;
        return TS_OK;
    }
    if (a == TS_XT_IV && b == TS_XT_IV) {
        n->type = TS_XT_IV, n->eval = eval_iv_iv;
        return TS_OK;
    }
    if (a != TS_XT_IV && b != TS_XT_IV) { /* TIMESTAMP - TIMESTAMP (a DATE is its midnight) */
        TS_TRY(ts_xcoerce(n, 0, TS_XT_TS, 0, NULL));
        TS_TRY(ts_xcoerce(n, 1, TS_XT_TS, 0, NULL));
        n->type = TS_XT_IV, n->eval = eval_ts_diff;
        return TS_OK;
    }
    /* DATE / TIMESTAMP +- INTERVAL, INTERVAL + DATE / TIMESTAMP: a TIMESTAMP (DuckDB) */
    const int d = a == TS_XT_IV ? 1 : 0;
    if (!dated(n->args[d]->type) || (n->op == TS_X_SUB && d == 1))
        return fail_types(n);
    TS_TRY(ts_xcoerce(n, d, TS_XT_TS, 0, NULL));
    n->type = TS_XT_TS, n->eval = eval_ts_iv;
    return TS_OK;
}
