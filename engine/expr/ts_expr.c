/* Expression trees: builders, binding (names, types, implicit casts, constant folding), the vector evaluation
 * driver and the output column. The operators themselves live in the family files ts_expr_<family>.c. */
#define TS_EXPR_PACKAGE
#include "ts_expr_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_ctx.h"
#include "ts_date.h"
#include "ts_mem.h"

static const char *const OP_NAMES[TS_X_OP_COUNT] = {
    "column", "integer", "float", "string", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "NOT", "+", "-", "*", "/",
    "IS NULL", "COALESCE", "CAST AS DOUBLE", "month_start", "year", "month", "day", "NULL", "boolean", "date",
    "decimal", "%", "//", "unary -", "||", "CASE", "IN", "LIKE", "ILIKE", "CAST", "nullif", "greatest", "least",
    "date_trunc", "date_part", "strftime", "strptime", "upper", "lower", "trim", "ltrim", "rtrim", "length",
    "substr", "replace", "concat", "regexp_matches", "starts_with", "contains", "left", "right", "reverse", "abs",
    "round", "floor", "ceil", "pow", "sqrt", "ln", "log10", "exp", "sign", "position", "IS DISTINCT FROM",
    "IS NOT DISTINCT FROM", "interval", "to_interval"};

/* Argument counts: minimum and maximum (-1: no maximum). */
static const signed char ARITY[TS_X_OP_COUNT][2] = {
    [TS_X_EQ] = {2, 2}, [TS_X_NE] = {2, 2}, [TS_X_LT] = {2, 2}, [TS_X_LE] = {2, 2}, [TS_X_GT] = {2, 2},
    [TS_X_GE] = {2, 2}, [TS_X_AND] = {2, 2}, [TS_X_OR] = {2, 2}, [TS_X_NOT] = {1, 1}, [TS_X_ADD] = {2, 2},
    [TS_X_SUB] = {2, 2}, [TS_X_MUL] = {2, 2}, [TS_X_DIV] = {2, 2}, [TS_X_IS_NULL] = {1, 1},
    [TS_X_COALESCE] = {1, -1}, [TS_X_TO_FLOAT] = {1, 1}, [TS_X_MONTH_START] = {1, 1}, [TS_X_YEAR] = {1, 1},
    [TS_X_MONTH] = {1, 1}, [TS_X_DAY] = {1, 1}, [TS_X_MOD] = {2, 2}, [TS_X_INTDIV] = {2, 2}, [TS_X_NEG] = {1, 1},
    [TS_X_CONCAT] = {1, -1}, [TS_X_CASE] = {2, -1}, [TS_X_IN] = {2, -1}, [TS_X_LIKE] = {2, 2},
    [TS_X_ILIKE] = {2, 2}, [TS_X_CAST] = {1, 1}, [TS_X_NULLIF] = {2, 2}, [TS_X_GREATEST] = {1, -1},
    [TS_X_LEAST] = {1, -1}, [TS_X_DATE_TRUNC] = {2, 2}, [TS_X_DATE_PART] = {2, 2}, [TS_X_STRFTIME] = {2, 2},
    [TS_X_STRPTIME] = {2, 2}, [TS_X_UPPER] = {1, 1}, [TS_X_LOWER] = {1, 1}, [TS_X_TRIM] = {1, 2},
    [TS_X_LTRIM] = {1, 2}, [TS_X_RTRIM] = {1, 2}, [TS_X_LENGTH] = {1, 1}, [TS_X_SUBSTR] = {2, 3},
    [TS_X_REPLACE] = {3, 3}, [TS_X_CONCAT_FN] = {0, -1}, [TS_X_REGEXP_MATCHES] = {2, 2},
    [TS_X_STARTS_WITH] = {2, 2}, [TS_X_CONTAINS] = {2, 2}, [TS_X_LEFT] = {2, 2}, [TS_X_RIGHT] = {2, 2},
    [TS_X_REVERSE] = {1, 1}, [TS_X_ABS] = {1, 1}, [TS_X_ROUND] = {1, 2}, [TS_X_FLOOR] = {1, 1}, [TS_X_CEIL] = {1, 1},
    [TS_X_POW] = {2, 2}, [TS_X_SQRT] = {1, 1}, [TS_X_LN] = {1, 1}, [TS_X_LOG10] = {1, 1}, [TS_X_EXP] = {1, 1},
    [TS_X_SIGN] = {1, 1}, [TS_X_STRPOS] = {2, 2}, [TS_X_DISTINCT_FROM] = {2, 2}, [TS_X_NOT_DISTINCT_FROM] = {2, 2},
    [TS_X_TO_INTERVAL] = {1, 2}};

const int64_t ts_xpow10[19] = {1,
                               10,
                               100,
                               1000,
                               10000,
                               100000,
                               1000000,
                               10000000,
                               100000000,
                               1000000000,
                               INT64_C(10000000000),
                               INT64_C(100000000000),
                               INT64_C(1000000000000),
                               INT64_C(10000000000000),
                               INT64_C(100000000000000),
                               INT64_C(1000000000000000),
                               INT64_C(10000000000000000),
                               INT64_C(100000000000000000),
                               INT64_C(1000000000000000000)};

const char *ts_expr_op_name(ts_expr_op op)
{
    return op >= 0 && op < TS_X_OP_COUNT ? OP_NAMES[op] : "?";
}

static int is_leaf(ts_expr_op op)
{
    return op == TS_X_COL || op == TS_X_INT || op == TS_X_FLOAT || op == TS_X_STRING || op == TS_X_NULL ||
           op == TS_X_BOOL || op == TS_X_DATE || op == TS_X_DECIMAL || op == TS_X_INTERVAL;
}

/* ---- builders ---------------------------------------------------------------------------------------------- */

static ts_expr *node(ts_expr_op op)
{
    ts_expr *e = calloc(1, sizeof *e);
    if (e)
        e->op = op;
    return e;
}

ts_expr *ts_x_col(const char *name)
{
    ts_expr *e = strlen(name) < TS_NAME_MAX ? node(TS_X_COL) : NULL;
    if (e && !(e->name = strdup(name)))
        free(e), e = NULL;
    return e;
}

static ts_expr *literal_i(ts_expr_op op, int64_t v)
{
    ts_expr *e = node(op);
    if (e)
        e->i = v;
    return e;
}

ts_expr *ts_x_int(int64_t v) { return literal_i(TS_X_INT, v); }
ts_expr *ts_x_bool(int v) { return literal_i(TS_X_BOOL, v != 0); }
ts_expr *ts_x_date(int32_t days) { return literal_i(TS_X_DATE, days); }
ts_expr *ts_x_null(void) { return node(TS_X_NULL); }

ts_expr *ts_x_decimal(int64_t unscaled, int scale)
{
    ts_expr *e = literal_i(TS_X_DECIMAL, unscaled);
    if (e)
        e->scale = scale;
    return e;
}

ts_expr *ts_x_interval(int32_t months, int32_t days, int64_t micros)
{
    ts_expr *e = literal_i(TS_X_INTERVAL, micros);
    if (e)
        e->iv_months = months, e->iv_days = days;
    return e;
}

ts_expr *ts_x_float(double v)
{
    ts_expr *e = node(TS_X_FLOAT);
    if (e)
        e->f = v;
    return e;
}

ts_expr *ts_x_string_len(const char *s, size_t len)
{
    ts_expr *e = node(TS_X_STRING);
    if (e && !(e->s = malloc(len + 1))) {
        free(e);
        return NULL;
    }
    if (e) {
        if (len)
            memcpy(e->s, s, len);
        e->s[len] = 0, e->slen = len;
    }
    return e;
}

ts_expr *ts_x_string(const char *s) { return ts_x_string_len(s, strlen(s)); }

ts_expr *ts_x_func(ts_expr_op op, ts_expr **args, int nargs)
{
    int ok = nargs >= 0 && op >= 0 && op < TS_X_OP_COUNT;
    for (int i = 0; i < nargs; i++)
        ok &= args[i] != NULL;
    ts_expr *e = ok ? node(op) : NULL;
    if (e && nargs && !(e->args = malloc(sizeof *e->args * (size_t)nargs)))
        free(e), e = NULL;
    if (!e) {
        for (int i = 0; i < nargs; i++)
            ts_expr_free(args[i]);
        return NULL;
    }
    if (nargs)
        memcpy(e->args, args, sizeof *args * (size_t)nargs);
    e->nargs = nargs;
    return e;
}

ts_expr *ts_x_op(ts_expr_op op, ts_expr *a, ts_expr *b)
{
    const int unary_ok = op >= 0 && op < TS_X_OP_COUNT && ARITY[op][0] <= 1;
    if (!a || (!b && !unary_ok)) {
        ts_expr_free(a), ts_expr_free(b);
        return NULL;
    }
    ts_expr *args[2] = {a, b};
    return ts_x_func(op, args, b ? 2 : 1);
}

ts_expr *ts_x_cast(ts_expr *a, ts_type type, int scale, int try_cast)
{
    if (!a)
        return NULL;
    ts_expr *e = ts_x_func(TS_X_CAST, &a, 1);
    if (e)
        e->cast_type = type, e->scale = scale, e->try_cast = try_cast != 0, e->has_target = 1;
    return e;
}

void ts_expr_free(ts_expr *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nargs; i++)
        ts_expr_free(e->args[i]);
    free(e->args);
    free(e->s), free(e->name);
    free(e);
}

/* A deep copy (NULL when out of memory): bound trees point into their expression (names, literals). */
static ts_expr *clone(const ts_expr *e)
{
    ts_expr *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *e;
    c->s = NULL, c->args = NULL, c->nargs = 0, c->name = NULL;
    if ((e->s && !(c->s = malloc(e->slen + 1))) || (e->name && !(c->name = strdup(e->name)))) {
        ts_expr_free(c);
        return NULL;
    }
    if (e->s)
        memcpy(c->s, e->s, e->slen + 1);
    if (e->nargs && !(c->args = calloc((size_t)e->nargs, sizeof *c->args))) {
        ts_expr_free(c);
        return NULL;
    }
    for (int i = 0; i < e->nargs; i++, c->nargs++)
        if (!(c->args[i] = clone(e->args[i]))) {
            ts_expr_free(c);
            return NULL;
        }
    return c;
}

/* ---- bound nodes ------------------------------------------------------------------------------------------- */

void ts_xfree(ts_xnode *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nargs; i++)
        ts_xfree(n->args[i]);
    if (n->aux_free)
        n->aux_free(n->aux);
    free(n->args), free(n->own), free(n->valid), free(n->mask), free(n->buf), free(n);
}

static ts_err xnew(ts_expr_op op, const ts_expr *e, int nargs, ts_xnode **out)
{
    ts_xnode *n = calloc(1, sizeof *n);
    if (n) {
        n->op = op, n->e = e, n->nargs = nargs;
        n->rows = 1;
        n->own = calloc(1, sizeof(ts_sv));
        n->valid = calloc(1, 1);
        n->mask = calloc(2, 1);
        n->args = nargs ? calloc((size_t)nargs, sizeof *n->args) : NULL;
        n->v.i = n->own;
    }
    if (!n || !n->own || !n->valid || !n->mask || (nargs && !n->args)) {
        ts_xfree(n);
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    }
    *out = n;
    return TS_OK;
}

const char *ts_xname(const ts_xnode *n)
{
    return n->op == TS_X_CAST && n->try_cast ? "TRY_CAST" : ts_expr_op_name(n->op);
}

const char *ts_xtype_name(ts_xtype t, int scale, char *buf, size_t cap)
{
    static const char *const names[] = {"NULL", "BOOLEAN", "INT64", "FLOAT64", "DATE", "DECIMAL", "STRING",
                                        "STRING", "TIMESTAMP", "INTERVAL"};
    if (t == TS_XT_DEC)
        snprintf(buf, cap, "DECIMAL(18,%d)", scale);
    else
        snprintf(buf, cap, "%s", names[t]);
    return buf;
}

double ts_xas_double(const ts_xnode *n, int k)
{
    if (n->type == TS_XT_FLOAT)
        return n->v.f[k];
    return n->type == TS_XT_DEC && n->scale ? (double)n->v.i[k] / (double)ts_xpow10[n->scale] : (double)n->v.i[k];
}

ts_err ts_xreserve(ts_xnode *n, size_t bytes)
{
    if (bytes <= n->cap)
        return TS_OK;
    size_t cap = n->cap ? n->cap : 4096;
    while (cap < bytes)
        cap *= 2;
    char *p = malloc(cap);
    if (!p)
        TS_FAIL(TS_ERR_NOMEM, "%s: out of memory for %zu bytes of strings", ts_xname(n), bytes);
    free(n->buf);
    n->buf = p, n->cap = cap;
    return TS_OK;
}

int ts_xbad(ts_xnode *n, const uint8_t *bad, int m, const uint8_t *active, int nullify)
{
    int first = -1;
    for (int k = 0; k < m; k++) {
        if (!bad[k])
            continue;
        if (!nullify && ts_xlive(active, k)) {
            if (first < 0)
                first = k;
        } else {
            n->valid[k] = 0;
        }
    }
    return first;
}

/* Copies row 0 over the allocated rows: the node is constant from now on. */
static void replicate(ts_xnode *n)
{
    for (int k = 1; k < n->rows; k++) {
        n->valid[k] = n->valid[0];
        if (n->type == TS_XT_STRING || n->type == TS_XT_IV)
            n->v.s[k] = n->v.s[0];
        else
            n->v.i[k] = n->v.i[0];
    }
    n->is_const = 1;
}

/* Grows n's vectors to TS_EXPR_VECTOR rows (a constant keeps its value in every row). */
static ts_err expand(ts_xnode *n)
{
    if (n->rows == TS_EXPR_VECTOR)
        return TS_OK;
    void *own = calloc(TS_EXPR_VECTOR, sizeof(ts_sv));
    uint8_t *valid = calloc(TS_EXPR_VECTOR, 1), *mask = calloc(2 * TS_EXPR_VECTOR, 1);
    if (!own || !valid || !mask) {
        free(own), free(valid), free(mask);
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    }
    memcpy(own, n->own, sizeof(ts_sv)), valid[0] = n->valid[0];
    free(n->own), free(n->valid), free(n->mask);
    n->own = own, n->v.i = own, n->valid = valid, n->mask = mask, n->rows = TS_EXPR_VECTOR;
    if (n->is_const)
        replicate(n);
    return TS_OK;
}

/* Gives an untyped-NULL node (and the untyped NULLs flowing into it) a type. */
static void adopt(ts_xnode *n, ts_xtype type, int scale, const ts_dict *dict)
{
    n->type = type, n->scale = scale, n->dict = dict;
    if (type == TS_XT_STRING)
        for (int k = 0; k < n->rows; k++)
            n->v.s[k].p = "", n->v.s[k].n = 0;
    for (int i = 0; i < n->nargs; i++)
        if (n->args[i]->type == TS_XT_NULL)
            adopt(n->args[i], type, scale, dict);
}

ts_err ts_xeval(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    if (n->is_const)
        return TS_OK;
    if (!n->lazy)
        for (int i = 0; i < n->nargs; i++)
            TS_TRY(ts_xeval(n->args[i], start, m, active));
    return n->eval(n, start, m, active);
}

/* Evaluates a node whose arguments are all constant once; an error (say CAST('x' AS INT)) leaves it to be raised
 * when rows are evaluated, where it may be masked (a CASE branch never taken). */
static void fold(ts_xnode *n)
{
    if (is_leaf(n->op) || n->is_const)
        return;
    for (int i = 0; i < n->nargs; i++)
        if (!n->args[i]->is_const)
            return;
    if (n->eval(n, 0, 1, NULL) != TS_OK) {
        ts_error_clear();
        return;
    }
    replicate(n);
}

ts_err ts_xcoerce(ts_xnode *n, int i, ts_xtype type, int scale, const ts_dict *dict)
{
    ts_xnode *a = n->args[i];
    if (a->type == type && (type != TS_XT_DEC || a->scale == scale) && (type != TS_XT_CODE || a->dict == dict))
        return TS_OK;
    if (a->type == TS_XT_NULL) {
        adopt(a, type, scale, dict);
        return TS_OK;
    }
    ts_xnode *c;
    TS_TRY(xnew(TS_X_CAST, NULL, 1, &c));
    c->args[0] = a, c->type = type, c->scale = scale, c->dict = dict;
    ts_err err = ts_xbind_cast(c);
    if (err) {
        c->args[0] = NULL;
        ts_xfree(c);
        TS_FAIL(err, "%s: argument %d: %s", ts_xname(n), i + 1, ts_error_headline());
    }
    n->args[i] = c;
    if (!a->is_const)
        return expand(c); /* evaluated per vector */
    if (c->eval(c, 0, 1, NULL) != TS_OK) { /* a constant that does not convert is the query's mistake */
        char why[256];
        snprintf(why, sizeof why, "%s", ts_error_headline());
        TS_FAIL(TS_ERR_USAGE, "%s: argument %d: %s", ts_xname(n), i + 1, why);
    }
    replicate(c);
    return TS_OK;
}

ts_err ts_xneed_str(ts_xnode *n, int i)
{
    const ts_xtype t = n->args[i]->type;
    if (t == TS_XT_STRING || t == TS_XT_CODE || t == TS_XT_NULL)
        return ts_xcoerce(n, i, TS_XT_STRING, 0, NULL);
    char b[32];
    TS_FAIL(TS_ERR_USAGE, "%s: argument %d must be a string, not %s", ts_xname(n), i + 1,
            ts_xtype_name(t, n->args[i]->scale, b, sizeof b));
}

ts_err ts_xneed_int(ts_xnode *n, int i)
{
    const ts_xtype t = n->args[i]->type;
    if (t == TS_XT_INT || t == TS_XT_NULL)
        return ts_xcoerce(n, i, TS_XT_INT, 0, NULL);
    char b[32];
    TS_FAIL(TS_ERR_USAGE, "%s: argument %d must be an integer, not %s", ts_xname(n), i + 1,
            ts_xtype_name(t, n->args[i]->scale, b, sizeof b));
}

ts_err ts_xneed_date(ts_xnode *n, int i)
{
    const ts_xnode *a = n->args[i];
    if (a->type == TS_XT_DATE || a->type == TS_XT_NULL || (a->is_const && ts_xis_str(a->type)))
        return ts_xcoerce(n, i, TS_XT_DATE, 0, NULL);
    char b[32];
    TS_FAIL(TS_ERR_USAGE, "%s: argument %d must be a date, not %s", ts_xname(n), i + 1,
            ts_xtype_name(a->type, a->scale, b, sizeof b));
}

ts_err ts_xneed_date_or_ts(ts_xnode *n, int i, int *is_ts)
{
    const ts_xnode *a = n->args[i];
    *is_ts = a->type == TS_XT_TS;
    if (*is_ts)
        return TS_OK;
    if (a->is_const && a->type == TS_XT_STRING && a->valid[0]) { /* a time part makes it a TIMESTAMP */
        int64_t days;
        const ts_sv t = a->v.s[0];
        size_t used = ts_scan_date(t.p, (size_t)t.n, &days);
        while (used && used < (size_t)t.n && (t.p[used] == ' ' || t.p[used] == '\t'))
            used++;
        if (used && used < (size_t)t.n) {
            *is_ts = 1;
            return ts_xcoerce(n, i, TS_XT_TS, 0, NULL);
        }
    }
    return ts_xneed_date(n, i);
}

/* Joins one more type into a running common type (string constants are handled by the caller). */
static int join_type(ts_xtype *t, int *scale, const ts_dict **dict, const ts_xnode *a)
{
    if (*t == TS_XT_NULL) {
        *t = a->type, *scale = a->scale, *dict = a->dict;
        return 1;
    }
    const ts_xtype x = *t, y = a->type;
    if ((x == TS_XT_DATE && y == TS_XT_TS) || (x == TS_XT_TS && y == TS_XT_DATE)) {
        *t = TS_XT_TS;
        return 1;
    }
    if (x == y) {
        if (x == TS_XT_DEC && a->scale > *scale)
            *scale = a->scale;
        if (x == TS_XT_CODE && a->dict != *dict)
            *t = TS_XT_STRING, *dict = NULL;
        return 1;
    }
    if (ts_xis_str(x) && ts_xis_str(y)) {
        *t = TS_XT_STRING, *dict = NULL;
        return 1;
    }
    if (ts_xis_num(x) && ts_xis_num(y)) {
        if (x == TS_XT_FLOAT || y == TS_XT_FLOAT)
            *t = TS_XT_FLOAT, *scale = 0;
        else
            *t = TS_XT_DEC, *scale = x == TS_XT_DEC ? *scale : a->scale;
        return 1;
    }
    return 0;
}

ts_err ts_xunify(ts_xnode *n, const uint8_t *use, ts_xtype *type, int *scale, const ts_dict **dict)
{
    ts_xtype t = TS_XT_NULL;
    int s = 0, strings = 0;
    const ts_dict *d = NULL;
    for (int i = 0; i < n->nargs; i++) {
        const ts_xnode *a = n->args[i];
        if ((use && !use[i]) || a->type == TS_XT_NULL)
            continue;
        if (a->is_const && a->type == TS_XT_STRING) { /* adopts the others' type (DATE '...', numbers) */
            strings = 1;
            continue;
        }
        if (!join_type(&t, &s, &d, a)) {
            char b1[32], b2[32];
            TS_FAIL(TS_ERR_USAGE, "%s: argument %d (%s) does not go with the earlier ones (%s)", ts_xname(n), i + 1,
                    ts_xtype_name(a->type, a->scale, b1, sizeof b1), ts_xtype_name(t, s, b2, sizeof b2));
        }
    }
    if (strings && (t == TS_XT_NULL || t == TS_XT_CODE))
        t = TS_XT_STRING, d = NULL;
    *type = t, *scale = s, *dict = d;
    return TS_OK;
}

/* ---- binding ----------------------------------------------------------------------------------------------- */

static ts_err bind_col(ts_xnode *n, const ts_table *t)
{
    ts_column *c;
    TS_TRY(ts_table_need(t, n->e->name, &c));
    n->col = c;
    switch (c->type) {
    case TS_T_BOOL: n->type = TS_XT_BOOL; break;
    case TS_T_FLOAT64: n->type = TS_XT_FLOAT; break;
    case TS_T_DATE: n->type = TS_XT_DATE; break;
    case TS_T_DICT: n->type = TS_XT_CODE, n->dict = c->dict; break;
    case TS_T_STRING: n->type = TS_XT_STRING; break;
    case TS_T_DECIMAL: n->type = TS_XT_DEC, n->scale = c->scale; break;
    case TS_T_TIMESTAMP: n->type = TS_XT_TS; break;
    default: n->type = TS_XT_INT; break;
    }
    return TS_OK;
}

static ts_err load_column(ts_xnode *n, int64_t start, int m, const uint8_t *active);

static ts_err bind_literal(ts_xnode *n)
{
    const ts_expr *e = n->e;
    n->valid[0] = 1;
    switch (e->op) {
    case TS_X_INT: n->type = TS_XT_INT, n->v.i[0] = e->i; break;
    case TS_X_BOOL: n->type = TS_XT_BOOL, n->v.i[0] = e->i; break;
    case TS_X_DATE: n->type = TS_XT_DATE, n->v.i[0] = e->i; break;
    case TS_X_FLOAT: n->type = TS_XT_FLOAT, n->v.f[0] = e->f; break;
    case TS_X_STRING: n->type = TS_XT_STRING, n->v.s[0].p = e->s, n->v.s[0].n = (int64_t)e->slen; break;
    case TS_X_NULL: n->type = TS_XT_NULL, n->valid[0] = 0; break;
    case TS_X_INTERVAL: n->type = TS_XT_IV, ts_xiv(n)[0] = (ts_interval){e->iv_months, e->iv_days, e->i}; break;
    default:
        if (e->scale < 0 || e->scale > 18)
            TS_FAIL(TS_ERR_USAGE, "decimal literal: scale %d is outside 0..18", e->scale);
        n->type = TS_XT_DEC, n->scale = e->scale, n->v.i[0] = e->i;
        break;
    }
    replicate(n);
    return TS_OK;
}

static ts_err bind_family(ts_xnode *n)
{
    switch (n->op) {
    case TS_X_EQ: case TS_X_NE: case TS_X_LT: case TS_X_LE: case TS_X_GT: case TS_X_GE: case TS_X_IN:
    case TS_X_NULLIF: case TS_X_GREATEST: case TS_X_LEAST: case TS_X_DISTINCT_FROM: case TS_X_NOT_DISTINCT_FROM:
        return ts_xbind_compare(n);
    case TS_X_AND: case TS_X_OR: case TS_X_NOT: case TS_X_IS_NULL: case TS_X_CASE: case TS_X_COALESCE:
        return ts_xbind_logic(n);
    case TS_X_ADD: case TS_X_SUB: case TS_X_MUL: case TS_X_DIV: case TS_X_MOD: case TS_X_INTDIV: case TS_X_NEG:
    case TS_X_ABS: case TS_X_ROUND: case TS_X_FLOOR: case TS_X_CEIL: case TS_X_POW: case TS_X_SQRT: case TS_X_LN:
    case TS_X_LOG10: case TS_X_EXP: case TS_X_SIGN:
        return ts_xbind_math(n);
    case TS_X_TO_FLOAT:
        n->type = TS_XT_FLOAT;
        return ts_xbind_cast(n);
    case TS_X_CAST: {
        const ts_expr *e = n->e;
        if (!e->has_target)
            TS_FAIL(TS_ERR_USAGE, "CAST: no target type (build casts with ts_x_cast)");
        n->try_cast = e->try_cast, n->narrow = e->cast_type == TS_T_INT32, n->scale = 0;
        switch (e->cast_type) {
        case TS_T_BOOL: n->type = TS_XT_BOOL; break;
        case TS_T_INT32: case TS_T_INT64: n->type = TS_XT_INT; break;
        case TS_T_FLOAT64: n->type = TS_XT_FLOAT; break;
        case TS_T_DATE: n->type = TS_XT_DATE; break;
        case TS_T_TIMESTAMP: n->type = TS_XT_TS; break;
        case TS_T_STRING: n->type = TS_XT_STRING; break;
        case TS_T_DECIMAL:
            if (e->scale < 0 || e->scale > 18)
                TS_FAIL(TS_ERR_USAGE, "%s: DECIMAL scale %d is outside 0..18", ts_xname(n), e->scale);
            n->type = TS_XT_DEC, n->scale = e->scale;
            break;
        default: TS_FAIL(TS_ERR_USAGE, "%s: cannot cast to a dictionary type", ts_xname(n));
        }
        return ts_xbind_cast(n);
    }
    case TS_X_MONTH_START: case TS_X_YEAR: case TS_X_MONTH: case TS_X_DAY: case TS_X_DATE_TRUNC:
    case TS_X_DATE_PART: case TS_X_STRFTIME: case TS_X_STRPTIME:
        return ts_xbind_date(n);
    case TS_X_TO_INTERVAL: return ts_xbind_interval(n);
    default: return ts_xbind_string(n);
    }
}

static ts_err bind(const ts_expr *e, const ts_table *t, ts_xnode **out)
{
    ts_xnode *n;
    TS_TRY(xnew(e->op, e, e->nargs, &n));
    ts_err err = TS_OK;
    if (!is_leaf(e->op)) {
        const int lo = ARITY[e->op][0], hi = ARITY[e->op][1];
        if (e->nargs < lo || (hi >= 0 && e->nargs > hi)) {
            char want[32];
            snprintf(want, sizeof want, hi < 0 ? "at least %d" : lo == hi ? "%d" : "%d or %d", lo, hi);
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "%s: expects %s argument%s, got %d",
                                 ts_expr_op_name(e->op), want, hi == 1 ? "" : "s", e->nargs);
        }
    }
    for (int i = 0; !err && i < e->nargs; i++)
        err = bind(e->args[i], t, &n->args[i]);
    if (!err) {
        if (e->op == TS_X_COL) {
            err = bind_col(n, t);
            n->eval = load_column;
        } else if (is_leaf(e->op)) {
            err = bind_literal(n);
        } else {
            err = bind_family(n);
            if (!err)
                fold(n);
        }
    }
    if (!err && !n->is_const) { /* read per vector from now on, and so are its constant arguments */
        err = expand(n);
        for (int i = 0; !err && i < n->nargs; i++)
            if (n->args[i]->is_const)
                err = expand(n->args[i]);
    }
    if (err) {
        ts_xfree(n);
        *out = NULL;
        ts_error_trace(__FILE__, __LINE__, ts_expr_op_name(e->op));
        return err;
    }
    *out = n;
    return TS_OK;
}

/* ---- evaluation -------------------------------------------------------------------------------------------- */

/* The column's rows g[0 .. m) (a chunk's selection) as the vector: every type copied, none aliased. */
static void gather_column(ts_xnode *n, const int32_t *g, int m)
{
    const ts_column *c = n->col;
    n->v.i = n->own;
    switch (c->type) {
    case TS_T_BOOL:
        for (int k = 0; k < m; k++)
            n->v.i[k] = TS_COL(c, uint8_t)[g[k]] != 0;
        break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT:
        for (int k = 0; k < m; k++)
            n->v.i[k] = TS_COL(c, int32_t)[g[k]];
        break;
    case TS_T_STRING: {
        const int64_t *off = TS_COL(c, int64_t);
        for (int k = 0; k < m; k++)
            n->v.s[k].p = c->bytes + off[g[k]], n->v.s[k].n = off[g[k] + 1] - off[g[k]];
        break;
    }
    default: /* INT64, DECIMAL, FLOAT64, TIMESTAMP: 8 bytes */
        for (int k = 0; k < m; k++)
            n->v.i[k] = TS_COL(c, int64_t)[g[k]];
        break;
    }
    if (!c->valid)
        memset(n->valid, 1, (size_t)m);
    else
        for (int k = 0; k < m; k++)
            n->valid[k] = (uint8_t)((c->valid[g[k] >> 6] >> (g[k] & 63)) & 1u);
}

static ts_err load_column(ts_xnode *n, int64_t start, int m, const uint8_t *active)
{
    (void)active;
    if (n->gather && *n->gather) {
        gather_column(n, *n->gather + start, m);
        return TS_OK;
    }
    const ts_column *c = n->col;
    switch (c->type) {
    case TS_T_BOOL:
        for (int k = 0; k < m; k++)
            n->v.i[k] = TS_COL(c, uint8_t)[start + k] != 0;
        break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT:
        for (int k = 0; k < m; k++)
            n->v.i[k] = TS_COL(c, int32_t)[start + k];
        break;
    case TS_T_STRING: {
        const int64_t *off = TS_COL(c, int64_t) + start;
        for (int k = 0; k < m; k++)
            n->v.s[k].p = c->bytes + off[k], n->v.s[k].n = off[k + 1] - off[k];
        break;
    }
    default: n->v.i = TS_COL(c, int64_t) + start; break; /* INT64, DECIMAL, FLOAT64: no copy */
    }
    if (!c->valid) {
        memset(n->valid, 1, (size_t)m);
    } else {
        for (int k = 0; k < m; k++) {
            const int64_t i = start + k;
            n->valid[k] = (uint8_t)((c->valid[i >> 6] >> (i & 63)) & 1u);
        }
    }
    return TS_OK;
}

static ts_type out_type(ts_xtype t)
{
    static const ts_type types[] = {TS_T_INT64, TS_T_BOOL, TS_T_INT64, TS_T_FLOAT64, TS_T_DATE,
                                    TS_T_DECIMAL, TS_T_DICT, TS_T_STRING, TS_T_TIMESTAMP};
    return types[t];
}

static ts_err store(const ts_xnode *n, ts_column *c, int64_t start, int m)
{
    switch (c->type) {
    case TS_T_BOOL:
        for (int k = 0; k < m; k++)
            TS_COL(c, uint8_t)[start + k] = (uint8_t)n->v.i[k];
        break;
    case TS_T_DATE: case TS_T_DICT:
        for (int k = 0; k < m; k++)
            TS_COL(c, int32_t)[start + k] = (int32_t)n->v.i[k];
        break;
    case TS_T_FLOAT64: memcpy(TS_COL(c, double) + start, n->v.f, sizeof(double) * (size_t)m); break;
    case TS_T_STRING: {
        int64_t bytes = 0;
        for (int k = 0; k < m; k++)
            bytes += n->valid[k] ? n->v.s[k].n : 0;
        TS_TRY(ts_column_reserve(c, start + m, c->nbytes + bytes));
        int64_t *off = TS_COL(c, int64_t);
        for (int k = 0; k < m; k++) {
            if (n->valid[k] && n->v.s[k].n) {
                memcpy(c->bytes + c->nbytes, n->v.s[k].p, (size_t)n->v.s[k].n);
                c->nbytes += n->v.s[k].n;
            }
            off[start + k + 1] = c->nbytes;
        }
        break;
    }
    default: memcpy(TS_COL(c, int64_t) + start, n->v.i, sizeof(int64_t) * (size_t)m); break;
    }
    c->len = start + m;
    for (int k = 0; k < m; k++)
        if (!n->valid[k])
            TS_TRY(ts_column_set_null(c, start + k));
    return TS_OK;
}

/* Dense values 0 .. k) of n as rows rows[0 .. k) (ascending) of a column of m rows; the other rows hold zeros /
 * empty strings (they are outside the chunk's selection: no one reads them). */
static ts_err store_at(const ts_xnode *n, ts_column *c, const int32_t *rows, int k, int m)
{
    TS_TRY(ts_column_reserve(c, m, 0));
    const size_t w = ts_type_width(c->type);
    if (c->type != TS_T_STRING) {
        memset(c->data, 0, w * (size_t)m);
        switch (c->type) {
        case TS_T_BOOL:
            for (int j = 0; j < k; j++)
                TS_COL(c, uint8_t)[rows[j]] = (uint8_t)n->v.i[j];
            break;
        case TS_T_DATE: case TS_T_DICT:
            for (int j = 0; j < k; j++)
                TS_COL(c, int32_t)[rows[j]] = (int32_t)n->v.i[j];
            break;
        default: /* 8 bytes: INT64, DECIMAL, FLOAT64, TIMESTAMP (the union's int64 view of a double is its bits) */
            for (int j = 0; j < k; j++)
                TS_COL(c, int64_t)[rows[j]] = n->v.i[j];
            break;
        }
    } else {
        int64_t bytes = 0;
        for (int j = 0; j < k; j++)
            bytes += n->valid[j] ? n->v.s[j].n : 0;
        TS_TRY(ts_column_reserve(c, m, bytes));
        int64_t *off = TS_COL(c, int64_t);
        off[0] = 0, c->nbytes = 0;
        for (int r = 0, j = 0; r < m; r++) {
            if (j < k && rows[j] == r) {
                if (n->valid[j] && n->v.s[j].n) {
                    memcpy(c->bytes + c->nbytes, n->v.s[j].p, (size_t)n->v.s[j].n);
                    c->nbytes += n->v.s[j].n;
                }
                j++;
            }
            off[r + 1] = c->nbytes;
        }
    }
    c->len = m;
    for (int j = 0; j < k; j++)
        if (!n->valid[j])
            TS_TRY(ts_column_set_null(c, rows[j]));
    return TS_OK;
}

static ts_err bind_root(const ts_expr *e, const ts_table *t, const char *what, ts_xnode **root)
{
    if (!e)
        TS_FAIL(TS_ERR_NOMEM, "%s: the expression could not be built (out of memory)", what);
    TS_TRY(bind(e, t, root));
    ts_err err = TS_OK;
    if ((*root)->type == TS_XT_IV)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "%s: an INTERVAL cannot be a column value "
                             "(add it to a DATE or TIMESTAMP, or CAST it to VARCHAR)", what);
    if (!err)
        err = expand(*root); /* a constant root is read per vector too */
    if (err) {
        ts_xfree(*root);
        TS_TRY(err);
    }
    return TS_OK;
}

ts_err ts_expr_type(const ts_expr *e, const ts_table *t, ts_type *type, int *scale)
{
    ts_xnode *root = NULL;
    TS_TRY(bind_root(e, t, "expression", &root));
    *type = out_type(root->type), *scale = root->type == TS_XT_DEC ? root->scale : 0;
    ts_xfree(root);
    return TS_OK;
}

ts_err ts_expr_eval(const ts_expr *e, const ts_table *t, const char *name, ts_column **out)
{
    ts_xnode *root = NULL;
    *out = NULL;
    TS_TRY(bind_root(e, t, name, &root));
    if (root->type == TS_XT_NULL)
        adopt(root, TS_XT_INT, 0, NULL);
    const int64_t rows = ts_table_rows(t);
    ts_err err = ts_column_new(name, out_type(root->type), root->type == TS_XT_DEC ? root->scale : 0,
                               root->type == TS_XT_CODE ? (ts_dict *)root->dict : NULL, out);
    if (!err)
        err = ts_column_reserve(*out, rows, 0);
    for (int64_t start = 0; !err && start < rows; start += TS_EXPR_VECTOR) {
        const int m = (int)(rows - start < TS_EXPR_VECTOR ? rows - start : TS_EXPR_VECTOR);
        err = ts_cancel_point();
        if (!err)
            err = ts_xeval(root, start, m, NULL);
        if (!err)
            err = store(root, *out, start, m);
    }
    ts_xfree(root);
    if (err) {
        ts_column_free(*out);
        *out = NULL;
        TS_FAIL(err, "column '%s': %s", name, ts_error_headline());
    }
    return TS_OK;
}

ts_err ts_expr_select(const ts_expr *e, const ts_table *t, int64_t **rows, int64_t *n)
{
    ts_xnode *root = NULL;
    *rows = NULL, *n = 0;
    TS_TRY(bind_root(e, t, "filter", &root));
    if (root->type == TS_XT_NULL)
        adopt(root, TS_XT_BOOL, 0, NULL);
    if (root->type != TS_XT_BOOL) {
        char b[32];
        ts_xtype_name(root->type, root->scale, b, sizeof b);
        ts_xfree(root);
        TS_FAIL(TS_ERR_USAGE, "a filter needs a boolean expression, not %s", b);
    }
    const int64_t total = ts_table_rows(t);
    if (!(*rows = ts_big(sizeof(int64_t) * (size_t)(total + 1)))) {
        ts_xfree(root);
        TS_FAIL(TS_ERR_NOMEM, "out of memory filtering %lld rows", (long long)total);
    }
    ts_err err = TS_OK;
    for (int64_t start = 0; !err && start < total; start += TS_EXPR_VECTOR) {
        const int m = (int)(total - start < TS_EXPR_VECTOR ? total - start : TS_EXPR_VECTOR);
        err = ts_cancel_point();
        if (!err)
            err = ts_xeval(root, start, m, NULL);
        for (int k = 0; !err && k < m; k++) {
            (*rows)[*n] = start + k;
            *n += root->valid[k] & (root->v.i[k] != 0);
        }
    }
    ts_xfree(root);
    if (err) {
        ts_free(*rows);
        *rows = NULL, *n = 0;
        TS_FAIL(err, "filter: %s", ts_error_headline());
    }
    return TS_OK;
}

const char *ts_expr_column_name(const ts_expr *e) { return e && e->op == TS_X_COL ? e->name : NULL; }

/* ---- bind once, evaluate per chunk ------------------------------------------------------------------------- */

struct ts_expr_bound {
    ts_expr *e;                     /* the bound tree's own copy of the expression */
    ts_xnode *root;
    uint8_t active[TS_EXPR_VECTOR]; /* the chunk's selection as a row mask */
    const int32_t *gather;          /* the selection evaluated densely (the COL leaves read through it), or NULL */
};

/* Points every column leaf at b->gather. */
static void link_gather(ts_xnode *n, const int32_t *const *gather)
{
    if (n->op == TS_X_COL)
        n->gather = gather;
    for (int i = 0; i < n->nargs; i++)
        if (n->args[i])
            link_gather(n->args[i], gather);
}

/* A selection this sparse is evaluated densely over its rows (each column leaf gathers them) rather than over
 * every row of the chunk with the others masked: TPC-H q14's CASE on 1 % of the line items, the later conjuncts
 * of q06's filter. */
static int sparse(const ts_chunk *c) { return c->sel && 2 * (int64_t)c->nsel <= c->n; }

ts_err ts_expr_bind(const ts_expr *e, const ts_table *schema, ts_expr_bound **out)
{
    *out = NULL;
    ts_expr_bound *b = calloc(1, sizeof *b);
    if (!b || !e || !(b->e = clone(e))) {
        free(b);
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    }
    const ts_err err = bind_root(b->e, schema, "expression", &b->root);
    if (err) {
        ts_expr_free(b->e);
        free(b);
        return err;
    }
    link_gather(b->root, &b->gather);
    *out = b;
    return TS_OK;
}

void ts_expr_unbind(ts_expr_bound *b)
{
    if (!b)
        return;
    ts_xfree(b->root);
    ts_expr_free(b->e);
    free(b);
}

void ts_expr_bound_type(const ts_expr_bound *b, ts_type *type, int *scale, ts_dict **dict)
{
    const ts_xtype t = b->root->type == TS_XT_NULL ? TS_XT_INT : b->root->type;
    *type = out_type(t), *scale = t == TS_XT_DEC ? b->root->scale : 0;
    *dict = t == TS_XT_CODE ? (ts_dict *)b->root->dict : NULL;
}

/* The chunk's live rows as the evaluator's active mask (NULL: every row). */
static const uint8_t *active_rows(ts_expr_bound *b, const ts_chunk *c)
{
    if (!c->sel)
        return NULL;
    memset(b->active, 0, (size_t)c->n);
    for (int k = 0; k < c->nsel; k++)
        b->active[c->sel[k]] = 1;
    return b->active;
}

ts_err ts_expr_eval_chunk(ts_expr_bound *b, const ts_chunk *c, ts_column *out)
{
    if (c->n > TS_EXPR_VECTOR)
        TS_FAIL(TS_ERR_INTERNAL, "a chunk of %lld rows: at most %d", (long long)c->n, TS_EXPR_VECTOR);
    if (b->root->type == TS_XT_NULL)
        adopt(b->root, TS_XT_INT, 0, NULL);
    ts_column_clear(out);
    const int m = (int)c->n;
    if (!m)
        return TS_OK;
    ts_err err;
    if (sparse(c)) {
        b->gather = c->sel;
        err = ts_xeval(b->root, 0, c->nsel, NULL);
        b->gather = NULL;
        if (!err)
            err = store_at(b->root, out, c->sel, c->nsel, m);
    } else {
        err = ts_xeval(b->root, 0, m, active_rows(b, c));
        if (!err)
            err = store(b->root, out, 0, m);
    }
    if (err)
        TS_FAIL(err, "column '%s': %s", out->name, ts_error_headline());
    return TS_OK;
}

/* Narrows c's selection to the rows where node n is true: an AND one side after the other (each on the rows the
 * previous left), a column compared with a constant straight into the selection, anything else evaluated (densely
 * over a sparse selection, else over every row with the others masked). */
static ts_err filter_node(ts_expr_bound *b, ts_xnode *n, ts_chunk *c)
{
    if (n->op == TS_X_AND && n->args[0]->type == TS_XT_BOOL && n->args[1]->type == TS_XT_BOOL) {
        for (int i = 0; i < 2 && ts_chunk_live(c); i++)
            TS_TRY(filter_node(b, n->args[i], c));
        return TS_OK;
    }
    const int m = (int)c->n;
    if (!n->is_const) {
        int32_t all[TS_CHUNK_ROWS];
        const int32_t *rows = ts_chunk_rows(c, all);
        const int k = ts_xfilter_compare(n, rows, (int)ts_chunk_live(c), c->sel_buf);
        if (k >= 0) {
            c->sel = c->sel_buf, c->nsel = k;
            return TS_OK;
        }
    }
    const uint8_t *valid = n->valid;
    int k = 0;
    if (sparse(c)) { /* value j is row sel[j]'s */
        b->gather = c->sel;
        const ts_err err = ts_xeval(n, 0, c->nsel, NULL);
        b->gather = NULL;
        TS_TRY(err);
        const int64_t *v = n->v.i;
        for (int j = 0; j < c->nsel; j++) {
            c->sel_buf[k] = c->sel[j];
            k += valid[j] & (v[j] != 0);
        }
        c->sel = c->sel_buf, c->nsel = k;
        return TS_OK;
    }
    TS_TRY(ts_xeval(n, 0, m, active_rows(b, c)));
    const int64_t *v = n->is_const ? NULL : n->v.i;
    if (!v) { /* a constant: all rows or none */
        if (!(n->valid[0] && n->v.i[0]))
            c->sel = c->sel_buf, c->nsel = 0;
        return TS_OK;
    }
    if (c->sel) {
        for (int j = 0; j < c->nsel; j++) {
            const int32_t r = c->sel[j];
            c->sel_buf[k] = r;
            k += valid[r] & (v[r] != 0);
        }
    } else {
        for (int r = 0; r < m; r++) {
            c->sel_buf[k] = r;
            k += valid[r] & (v[r] != 0);
        }
    }
    c->sel = c->sel_buf, c->nsel = k;
    return TS_OK;
}

ts_err ts_expr_filter_chunk(ts_expr_bound *b, ts_chunk *c)
{
    ts_xnode *root = b->root;
    if (root->type == TS_XT_NULL)
        adopt(root, TS_XT_BOOL, 0, NULL);
    if (root->type != TS_XT_BOOL) {
        char buf[32];
        TS_FAIL(TS_ERR_USAGE, "a filter needs a boolean expression, not %s",
                ts_xtype_name(root->type, root->scale, buf, sizeof buf));
    }
    if (!c->n || (c->sel && !c->nsel))
        return TS_OK;
    const ts_err err = filter_node(b, root, c);
    if (err)
        TS_FAIL(err, "filter: %s", ts_error_headline());
    return TS_OK;
}
