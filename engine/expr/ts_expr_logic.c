/* Boolean logic and conditionals: AND, OR, NOT, IS NULL, CASE, COALESCE.
 *
 * AND / OR / CASE / COALESCE are lazy: they evaluate their arguments themselves, each with the mask of rows that
 * still need it (the right side of AND where the left is not FALSE, a CASE branch where its WHEN holds and no
 * earlier one did, a COALESCE argument where the earlier ones are NULL), so errors such as a failing CAST are only
 * raised by rows that SQL actually evaluates. An argument whose mask is empty is not evaluated at all. */
#define TS_EXPR_PACKAGE
#include <stdlib.h>
#include <string.h>

#include "ts_expr_impl.h"

static int any(const uint8_t *mask, int m)
{
    for (int k = 0; k < m; k++)
        if (mask[k])
            return 1;
    return 0;
}

/* Evaluates a for the rows in mask, skipping the work when no row needs it. */
static ts_err eval_masked(ts_xnode *a, int64_t start, int m, const uint8_t *mask)
{
    return any(mask, m) ? ts_xeval(a, start, m, mask) : TS_OK;
}

/* SQL three-valued logic: FALSE AND NULL = FALSE, TRUE OR NULL = TRUE. */
static ts_err eval_andor(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    const int is_and = n->op == TS_X_AND;
    ts_xnode *a = n->args[0], *b = n->args[1];
    TS_TRY(ts_xeval(a, start, m, active));
    uint8_t *need = n->mask;
    const int64_t *x = a->v.i, *y = b->v.i;
    const uint8_t *va = a->valid, *vb = b->valid;
    /* rows the left side does not decide; bit arithmetic, no branches (the flags are random per row) */
    for (int k = 0; k < m; k++)
        need[k] = (uint8_t)((active ? active[k] : 1) & ~(va[k] & ((x[k] != 0) ^ is_and)) & 1);
    TS_TRY(eval_masked(b, start, m, need));
    for (int k = 0; k < m; k++) {
        const int a_ok = va[k], b_ok = need[k] & vb[k], xa = x[k] != 0, yb = need[k] & (y[k] != 0);
        /* AND is decided by a known FALSE, OR by a known TRUE */
        const int decided = is_and ? (a_ok & !xa) | (b_ok & !yb) : (a_ok & xa) | (b_ok & yb);
        n->v.i[k] = is_and ? (!decided) & a_ok & b_ok : decided;
        n->valid[k] = (uint8_t)(decided | (a_ok & b_ok));
    }
    return TS_OK;
}

static ts_err eval_not(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    for (int k = 0; k < m; k++)
        n->v.i[k] = !n->args[0]->v.i[k], n->valid[k] = n->args[0]->valid[k];
    return TS_OK;
}

static ts_err eval_is_null(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)start, (void)active;
    for (int k = 0; k < m; k++)
        n->v.i[k] = !n->args[0]->valid[k], n->valid[k] = 1;
    return TS_OK;
}

/* Takes src's row k where take[k] is set (values and validity), branch-free for 8-byte values. */
static void take_rows(ts_xnode *n, const ts_xnode *src, const uint8_t *take, int m)
{
    if (n->type == TS_XT_STRING) {
        for (int k = 0; k < m; k++)
            if (take[k])
                n->v.s[k] = src->v.s[k];
    } else { /* a mask blend: the compiler vectorizes it instead of branching per row */
        int64_t *restrict v = n->v.i;
        const int64_t *restrict x = src->v.i;
        for (int k = 0; k < m; k++) {
            const int64_t sel = -(int64_t)take[k];
            v[k] = (x[k] & sel) | (v[k] & ~sel);
        }
    }
    uint8_t *restrict valid = n->valid;
    const uint8_t *restrict from = src->valid;
    for (int k = 0; k < m; k++) {
        const uint8_t sel = (uint8_t)-take[k];
        valid[k] = (uint8_t)((from[k] & sel) | (valid[k] & ~sel));
    }
}

/* CASE: `left` holds the rows no WHEN has taken yet, `take` the rows of the current branch. */
static ts_err eval_case(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    uint8_t *left = n->mask, *take = n->mask + n->rows;
    for (int k = 0; k < m; k++)
        left[k] = (uint8_t)ts_xlive(active, k), n->valid[k] = 0;
    const int pairs = n->nargs / 2, has_else = n->nargs % 2;
    for (int p = 0; p < pairs && any(left, m); p++) {
        ts_xnode *when = n->args[2 * p], *then = n->args[2 * p + 1];
        TS_TRY(ts_xeval(when, start, m, left));
        for (int k = 0; k < m; k++) {
            take[k] = left[k] && when->valid[k] && when->v.i[k];
            left[k] &= !take[k];
        }
        if (any(take, m)) {
            TS_TRY(ts_xeval(then, start, m, take));
            take_rows(n, then, take, m);
        }
    }
    if (has_else && any(left, m)) {
        ts_xnode *e = n->args[n->nargs - 1];
        TS_TRY(ts_xeval(e, start, m, left));
        take_rows(n, e, left, m);
    }
    return TS_OK;
}

static ts_err eval_coalesce(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    uint8_t *left = n->mask;
    for (int k = 0; k < m; k++)
        left[k] = (uint8_t)ts_xlive(active, k), n->valid[k] = 0;
    for (int i = 0; i < n->nargs && any(left, m); i++) {
        ts_xnode *a = n->args[i];
        TS_TRY(ts_xeval(a, start, m, left));
        uint8_t *take = n->mask + n->rows;
        for (int k = 0; k < m; k++)
            take[k] = left[k] & a->valid[k], left[k] &= (uint8_t)!a->valid[k];
        take_rows(n, a, take, m);
    }
    return TS_OK;
}

/* Unifies the value arguments (use[i] set; all when use is NULL) and casts them to the common type. */
static ts_err unify_values(ts_xnode *n, const uint8_t *use)
{
    ts_xtype t;
    int s;
    const ts_dict *d;
    TS_TRY(ts_xunify(n, use, &t, &s, &d));
    for (int i = 0; i < n->nargs; i++)
        if (!use || use[i])
            TS_TRY(ts_xcoerce(n, i, t, s, d));
    n->type = t, n->scale = s, n->dict = d;
    return TS_OK;
}

static ts_err need_bool(ts_xnode *n, int i)
{
    const ts_xnode *a = n->args[i];
    if (a->type == TS_XT_BOOL || a->type == TS_XT_NULL)
        return ts_xcoerce(n, i, TS_XT_BOOL, 0, NULL);
    char b[32];
    TS_FAIL(TS_ERR_USAGE, "%s needs boolean operands: argument %d is %s", ts_xname(n), i + 1,
            ts_xtype_name(a->type, a->scale, b, sizeof b));
}

ts_err ts_xbind_logic(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_AND: case TS_X_OR:
        TS_TRY(need_bool(n, 0));
        TS_TRY(need_bool(n, 1));
        n->type = TS_XT_BOOL, n->eval = eval_andor, n->lazy = 1;
        return TS_OK;
    case TS_X_NOT:
        TS_TRY(need_bool(n, 0));
        n->type = TS_XT_BOOL, n->eval = eval_not;
        return TS_OK;
    case TS_X_IS_NULL: n->type = TS_XT_BOOL, n->eval = eval_is_null; return TS_OK;
    case TS_X_CASE: {
        uint8_t *values = calloc((size_t)n->nargs, 1); /* THENs and the ELSE */
        if (!values)
            TS_FAIL(TS_ERR_NOMEM, "CASE: out of memory");
        ts_err err = TS_OK;
        for (int i = 0; i < n->nargs; i++)
            values[i] = i % 2 || i == n->nargs - 1;
        for (int i = 0; !err && i + 1 < n->nargs; i += 2)
            err = need_bool(n, i);
        if (!err)
            err = unify_values(n, values);
        free(values);
        TS_TRY(err);
        n->eval = eval_case, n->lazy = 1;
        return TS_OK;
    }
    default: /* COALESCE */
        TS_TRY(unify_values(n, NULL));
        n->eval = eval_coalesce, n->lazy = 1;
        return TS_OK;
    }
}
