/* Cardinality estimation (see ts_sql_stats.h). */
#include "ts_sql_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_sql_catalog.h"
#include "ts_sql_parse.h"

#define DEFAULT_SEL 0.25
#define LIKE_SEL 0.1
#define RANGE_SEL (1.0 / 3)

static double clamp01(double s) { return s < 1e-9 ? 1e-9 : s > 1 ? 1 : s; }

/* ---- constants ----------------------------------------------------------------------------------------------- */

int ts_sql_const_value(const ts_sql_expr *e, double *v)
{
    double a, b;
    switch (e->kind) {
    case TS_SQL_E_INT: *v = (double)e->ival; return 1;
    case TS_SQL_E_FLOAT: *v = e->fval; return 1;
    case TS_SQL_E_CAST: {
        const ts_sql_expr *x = e->args[0];
        int32_t days;
        if (e->type.kind == TS_SQL_TY_DATE && x->kind == TS_SQL_E_STRING &&
            ts_parse_date(x->sval, (size_t)x->slen, &days) == 0) {
            *v = days;
            return 1;
        }
        return e->type.kind != TS_SQL_TY_VARCHAR && e->type.kind != TS_SQL_TY_DATE && ts_sql_const_value(x, v);
    }
    case TS_SQL_E_UNARY:
        if (e->op != TS_SQL_OP_NEG || !ts_sql_const_value(e->args[0], &a))
            return 0;
        *v = -a;
        return 1;
    case TS_SQL_E_BINARY:
        if (!ts_sql_const_value(e->args[0], &a) || !ts_sql_const_value(e->args[1], &b))
            return 0;
        switch (e->op) {
        case TS_SQL_OP_ADD: *v = a + b; return 1;
        case TS_SQL_OP_SUB: *v = a - b; return 1;
        case TS_SQL_OP_MUL: *v = a * b; return 1;
        case TS_SQL_OP_DIV: *v = b != 0 ? a / b : 0; return b != 0;
        default: return 0;
        }
    default: return 0;
    }
}

/* A constant without a numeric value (a string, a scalar subquery's value, NULL). */
static int is_constant(const ts_sql_expr *e)
{
    if (!e)
        return 1;
    if (e->kind == TS_SQL_E_COLUMN || e->kind == TS_SQL_E_FUNC)
        return 0;
    for (int i = 0; i < e->nargs; i++)
        if (!is_constant(e->args[i]))
            return 0;
    return is_constant(e->operand) && is_constant(e->else_expr);
}

/* ---- selectivity --------------------------------------------------------------------------------------------- */

static const ts_sql_colstat *column(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg)
{
    return e && e->kind == TS_SQL_E_COLUMN ? fn(e->name, arg) : NULL;
}

static double eq_sel(const ts_sql_colstat *s) { return s && s->ndv >= 1 ? 1 / s->ndv : 0.1; }

/* Fraction of the column's range below v. */
static double below(const ts_sql_colstat *s, double v)
{
    if (s->max <= s->min)
        return v > s->min ? 1 : 0;
    return (v - s->min) / (s->max - s->min);
}

static ts_sql_op flip(ts_sql_op op)
{
    switch (op) {
    case TS_SQL_OP_LT: return TS_SQL_OP_GT;
    case TS_SQL_OP_LE: return TS_SQL_OP_GE;
    case TS_SQL_OP_GT: return TS_SQL_OP_LT;
    case TS_SQL_OP_GE: return TS_SQL_OP_LE;
    default: return op;
    }
}

static double compare_sel(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg)
{
    const ts_sql_expr *x = e->args[0], *y = e->args[1];
    ts_sql_op op = e->op;
    const ts_sql_colstat *sx = column(x, fn, arg), *sy = column(y, fn, arg);
    if (!sx && sy) {
        const ts_sql_expr *t = x;
        x = y, y = t, sx = sy, sy = NULL, op = flip(op);
    }
    const double nonnull = sx ? 1 - sx->nulls : 1;
    if (sx && sy) { /* two columns */
        const double m = sx->ndv > sy->ndv ? sx->ndv : sy->ndv;
        if (op == TS_SQL_OP_EQ)
            return m >= 1 ? 1 / m : 0.1;
        return op == TS_SQL_OP_NE ? 1 - (m >= 1 ? 1 / m : 0.1) : RANGE_SEL;
    }
    double v;
    const int has_v = ts_sql_const_value(y, &v);
    if (!sx || (!has_v && !is_constant(y)))
        return op == TS_SQL_OP_EQ ? 0.1 : op == TS_SQL_OP_NE ? 0.9 : RANGE_SEL;
    switch (op) {
    case TS_SQL_OP_EQ:
        if (has_v && sx->has_range && (v < sx->min || v > sx->max))
            return clamp01(0.1 * eq_sel(sx));
        return nonnull * eq_sel(sx);
    case TS_SQL_OP_NE: return nonnull * (1 - eq_sel(sx));
    default: break;
    }
    if (!has_v || !sx->has_range)
        return nonnull * RANGE_SEL;
    double f = below(sx, v);
    if (op == TS_SQL_OP_GT || op == TS_SQL_OP_GE)
        f = 1 - f;
    if (op == TS_SQL_OP_LE || op == TS_SQL_OP_GE)
        f += eq_sel(sx);
    return nonnull * clamp01(f < eq_sel(sx) ? eq_sel(sx) * 0.5 : f);
}

static double like_sel(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg)
{
    const ts_sql_expr *pat = e->args[1];
    const ts_sql_colstat *s = column(e->args[0], fn, arg);
    double sel = LIKE_SEL;
    if (pat->kind == TS_SQL_E_STRING && !strpbrk(pat->sval, "%_"))
        sel = eq_sel(s);
    return e->negated ? 1 - sel : sel;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Conjuncts are rarely independent: the most selective counts fully, the next by its square root, ... */
static double and_sel(double *s, int n)
{
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double r = 1, w = 1;
    for (int i = 0; i < n; i++, w *= 0.5)
        r *= pow(s[i], w);
    return r;
}

static void conjunct_sels(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg, double *s, int *n)
{
    if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_AND && *n < 62) {
        conjunct_sels(e->args[0], fn, arg, s, n);
        conjunct_sels(e->args[1], fn, arg, s, n);
        return;
    }
    s[(*n)++] = ts_sql_selectivity(e, fn, arg);
}

double ts_sql_selectivity(const ts_sql_expr *e, ts_sql_stat_fn fn, void *arg)
{
    const ts_sql_colstat *s;
    double v, lo, hi, sel;
    switch (e->kind) {
    case TS_SQL_E_BOOL: return e->ival ? 1 : 1e-9;
    case TS_SQL_E_COLUMN: return 0.5;
    case TS_SQL_E_UNARY: return e->op == TS_SQL_OP_NOT ? clamp01(1 - ts_sql_selectivity(e->args[0], fn, arg)) : DEFAULT_SEL;
    case TS_SQL_E_BINARY:
        if (e->op == TS_SQL_OP_AND) {
            double sels[64];
            int n = 0;
            conjunct_sels(e, fn, arg, sels, &n);
            return and_sel(sels, n);
        }
        if (e->op == TS_SQL_OP_OR) {
            const double a = ts_sql_selectivity(e->args[0], fn, arg), b = ts_sql_selectivity(e->args[1], fn, arg);
            return clamp01(a + b - a * b);
        }
        if (e->op >= TS_SQL_OP_EQ && e->op <= TS_SQL_OP_GE)
            return clamp01(compare_sel(e, fn, arg));
        return DEFAULT_SEL;
    case TS_SQL_E_IS_NULL:
        s = column(e->args[0], fn, arg);
        sel = s && s->known ? s->nulls : 0.05;
        return clamp01(e->negated ? 1 - sel : sel);
    case TS_SQL_E_BETWEEN:
        s = column(e->args[0], fn, arg);
        if (s && s->has_range && ts_sql_const_value(e->args[1], &lo) && ts_sql_const_value(e->args[2], &hi))
            sel = clamp01(below(s, hi) - below(s, lo) + eq_sel(s));
        else
            sel = RANGE_SEL * RANGE_SEL * 2;
        return clamp01(e->negated ? 1 - sel : sel);
    case TS_SQL_E_IN_LIST:
        s = column(e->args[0], fn, arg);
        sel = clamp01((e->nargs - 1) * eq_sel(s));
        return clamp01(e->negated ? 1 - sel : sel);
    case TS_SQL_E_LIKE: return clamp01(like_sel(e, fn, arg));
    default:
        (void)v;
        return DEFAULT_SEL;
    }
}

double ts_sql_join_selectivity(char *const *left, char *const *right, int nkeys, ts_sql_stat_fn fn, void *arg,
                               double lrows, double rrows)
{
    double nl = 1, nr = 1;
    for (int k = 0; k < nkeys; k++) {
        const ts_sql_colstat *a = fn(left[k], arg), *b = fn(right[k], arg);
        nl *= a ? a->ndv : lrows, nr *= b ? b->ndv : rrows;
    }
    nl = nl > lrows ? lrows : nl, nr = nr > rrows ? rrows : nr;
    const double m = nl > nr ? nl : nr;
    return m >= 1 ? 1 / m : 1;
}

/* ---- per node ---------------------------------------------------------------------------------------------- */

const ts_sql_colstat *ts_sql_stat_of(const ts_sql_plan *p, const char *id)
{
    for (int c = 0; p->stats && c < p->ncols; c++)
        if (!strcmp(p->cols[c].id, id))
            return &p->stats[c];
    return NULL;
}

static const ts_sql_colstat *stat_in(const char *id, void *arg) { return ts_sql_stat_of(arg, id); }

/* Statistics of either input of a join. */
static const ts_sql_colstat *stat_in2(const char *id, void *arg)
{
    ts_sql_plan *const *in = arg;
    const ts_sql_colstat *s = ts_sql_stat_of(in[0], id);
    return s ? s : ts_sql_stat_of(in[1], id);
}

double ts_sql_est_bytes(const ts_sql_plan *p)
{
    double w = 0;
    for (int c = 0; c < p->ncols; c++)
        w += p->stats ? p->stats[c].width : 8;
    return (p->est_rows > 0 ? p->est_rows : 0) * (w > 0 ? w : 8);
}

static ts_sql_colstat unknown(double rows)
{
    return (ts_sql_colstat){.ndv = rows > 1 ? rows : 1, .nulls = 0, .width = 8};
}

/* Distinct values left of a column of ndv values after keeping sel of rows rows (uniformly). */
static double ndv_after(double ndv, double rows, double sel)
{
    if (ndv < 1 || rows < 1)
        return ndv;
    const double kept = ndv * (1 - pow(1 - (sel < 1 ? sel : 1), rows / ndv));
    return kept < 1 ? 1 : kept;
}

static void cap(ts_sql_colstat *s, int n, double rows)
{
    for (int c = 0; c < n; c++)
        if (s[c].ndv > rows)
            s[c].ndv = rows < 1 ? 1 : rows;
}

static ts_err alloc_stats(ts_sql_binder *b, ts_sql_plan *p)
{
    if (!(p->stats = ts_sql_alloc(b->script, sizeof *p->stats * (size_t)(p->ncols + 1))))
        return ts_sql_error_at(b->src, p->pos, TS_ERR_NOMEM, "out of memory");
    return TS_OK;
}

static void catalog_stats(ts_sql_binder *b, ts_sql_plan *p)
{
    const ts_sql_entry *e = ts_sql_catalog_find(b->catalog, p->table);
    p->est_rows = e ? (double)e->global_rows : p->est_rows;
    for (int c = 0; c < p->ncols; c++) {
        p->stats[c] = unknown(p->est_rows);
        for (int k = 0; e && e->stats && e->table && k < e->table->ncols; k++) {
            if (strcmp(e->table->cols[k]->name, p->source_names[c]))
                continue;
            const ts_col_stats *s = &e->stats[k];
            p->stats[c] = (ts_sql_colstat){.ndv = s->ndv, .nulls = s->rows ? (double)s->nulls / (double)s->rows : 0,
                                           .min = s->min, .max = s->max, .width = s->width,
                                           .has_range = s->has_range, .known = 1};
        }
    }
}

/* FILTER: rows times the selectivity; the filtered columns' ranges and distinct counts shrink. */
static void filter_stats(ts_sql_plan *p)
{
    const ts_sql_plan *in = p->in[0];
    double sels[64];
    int n = 0;
    for (int i = 0; i < p->nconds && n < 64; i++)
        sels[n++] = ts_sql_selectivity(p->conds[i], stat_in, (void *)in);
    const double sel = and_sel(sels, n);
    p->est_rows = in->est_rows * sel;
    if (p->est_rows < 1 && in->est_rows >= 1)
        p->est_rows = 1;
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_colstat *s = ts_sql_stat_of(in, p->cols[c].id);
        p->stats[c] = s ? *s : unknown(p->est_rows);
        p->stats[c].ndv = ndv_after(p->stats[c].ndv, in->est_rows, sel);
    }
    for (int i = 0; i < p->nconds; i++) { /* col = const: one value; col op const: a narrower range */
        const ts_sql_expr *e = p->conds[i];
        double v;
        if (e->kind != TS_SQL_E_BINARY || e->args[0]->kind != TS_SQL_E_COLUMN)
            continue;
        for (int c = 0; c < p->ncols; c++) {
            ts_sql_colstat *s = &p->stats[c];
            if (strcmp(p->cols[c].id, e->args[0]->name))
                continue;
            if (e->op == TS_SQL_OP_EQ && (ts_sql_const_value(e->args[1], &v) || is_constant(e->args[1])))
                s->ndv = 1;
            else if ((e->op == TS_SQL_OP_LT || e->op == TS_SQL_OP_LE) && s->has_range &&
                     ts_sql_const_value(e->args[1], &v) && v < s->max)
                s->max = v;
            else if ((e->op == TS_SQL_OP_GT || e->op == TS_SQL_OP_GE) && s->has_range &&
                     ts_sql_const_value(e->args[1], &v) && v > s->min)
                s->min = v;
            s->nulls = 0;
        }
    }
    cap(p->stats, p->ncols, p->est_rows);
}

typedef struct max_ndv {
    const ts_sql_plan *in;
    double ndv;
    int refs;
} max_ndv;

static void max_ndv_visit(const char *id, void *arg)
{
    max_ndv *m = arg;
    const ts_sql_colstat *s = ts_sql_stat_of(m->in, id);
    m->refs++;
    if (s && s->ndv > m->ndv)
        m->ndv = s->ndv;
}

static void project_stats(ts_sql_plan *p)
{
    const ts_sql_plan *in = p->in[0];
    p->est_rows = in->est_rows;
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_expr *e = p->exprs[c];
        const ts_sql_colstat *s = e->kind == TS_SQL_E_COLUMN ? ts_sql_stat_of(in, e->name) : NULL;
        if (s) {
            p->stats[c] = *s;
            continue;
        }
        max_ndv m = {in, 1, 0};
        ts_sql_expr_refs(e, max_ndv_visit, &m);
        p->stats[c] = unknown(p->est_rows);
        p->stats[c].ndv = m.refs ? m.ndv : 1;
        if (e->kind == TS_SQL_E_FUNC && e->nargs == 2 && (!strcmp(e->name, "extract") || !strcmp(e->name, "date_part")) &&
            e->args[0]->kind == TS_SQL_E_STRING && !strcmp(e->args[0]->sval, "year") &&
            e->args[1]->kind == TS_SQL_E_COLUMN) { /* years of a date range */
            const ts_sql_colstat *d = ts_sql_stat_of(in, e->args[1]->name);
            if (d && d->has_range)
                p->stats[c].ndv = (d->max - d->min) / 365.25 + 1;
        }
    }
    cap(p->stats, p->ncols, p->est_rows);
}

static void aggregate_stats(ts_sql_plan *p)
{
    const ts_sql_plan *in = p->in[0];
    double groups = 1;
    for (int k = 0; k < p->nkeys; k++) {
        const ts_sql_colstat *s = ts_sql_stat_of(in, p->keys[k]);
        groups *= s ? s->ndv : in->est_rows;
        if (groups > in->est_rows)
            groups = in->est_rows;
    }
    p->est_rows = p->nkeys ? groups : 1;
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_colstat *s = c < p->nkeys ? ts_sql_stat_of(in, p->cols[c].id) : NULL;
        p->stats[c] = s ? *s : unknown(p->est_rows);
    }
    cap(p->stats, p->ncols, p->est_rows);
}

static void join_stats(ts_sql_plan *p)
{
    ts_sql_plan *l = p->in[0], *r = p->in[1];
    const double L = l->est_rows, R = r->est_rows;
    double inner = L * R;
    if (p->njoin_keys && !p->cross)
        inner *= ts_sql_join_selectivity(p->left_keys, p->right_keys, p->njoin_keys, stat_in2, p->in, L, R);
    double rows;
    switch (p->join_type) {
    case TS_JOIN_SEMI: case TS_JOIN_ANTI: {
        double match = 1;
        for (int k = 0; k < p->njoin_keys && !p->cross; k++) { /* the left key values found on the right */
            const ts_sql_colstat *a = ts_sql_stat_of(l, p->left_keys[k]), *b = ts_sql_stat_of(r, p->right_keys[k]);
            if (a && b && a->ndv >= 1)
                match *= b->ndv < a->ndv ? b->ndv / a->ndv : 1;
        }
        if (p->cross)
            match = R >= 1 ? 1 : 0.5;
        rows = p->join_type == TS_JOIN_SEMI ? L * match : L * (1 - match) + (match >= 1 ? L * 0.1 : 0);
        break;
    }
    case TS_JOIN_LEFT: rows = inner > L ? inner : L; break;
    case TS_JOIN_RIGHT: rows = inner > R ? inner : R; break;
    case TS_JOIN_FULL: rows = (inner > L ? inner : L) + (R > inner ? R - inner : 0); break;
    default: rows = inner;
    }
    p->est_rows = rows < 1 && L >= 1 && (R >= 1 || p->join_type == TS_JOIN_ANTI || p->join_type == TS_JOIN_LEFT) ? 1 : rows;
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_colstat *s = ts_sql_stat_of(l, p->cols[c].id);
        if (!s)
            s = ts_sql_stat_of(r, p->cols[c].id);
        p->stats[c] = s ? *s : unknown(p->est_rows);
    }
    for (int k = 0; k < p->njoin_keys; k++) { /* the key columns keep the values both sides have */
        const ts_sql_colstat *a = ts_sql_stat_of(l, p->left_keys[k]), *b = ts_sql_stat_of(r, p->right_keys[k]);
        if (!a || !b || p->join_type != TS_JOIN_INNER)
            continue;
        const double m = a->ndv < b->ndv ? a->ndv : b->ndv;
        for (int c = 0; c < p->ncols; c++)
            if (!strcmp(p->cols[c].id, p->left_keys[k]) || !strcmp(p->cols[c].id, p->right_keys[k]))
                p->stats[c].ndv = m;
    }
    cap(p->stats, p->ncols, p->est_rows);
}

/* DELIM_GET: the distinct correlated values of the join's left input. */
static void delim_stats(ts_sql_plan *p)
{
    const ts_sql_plan *src = p->delim ? p->delim->in[0] : NULL;
    double rows = src && src->est_rows > 0 ? src->est_rows : 1, prod = 1;
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_colstat *s = src ? ts_sql_stat_of(src, p->delim->delim_cols[c]) : NULL;
        p->stats[c] = s ? *s : unknown(rows);
        prod *= p->stats[c].ndv >= 1 ? p->stats[c].ndv : 1;
    }
    p->est_rows = prod < rows ? prod : rows;
    cap(p->stats, p->ncols, p->est_rows);
}

static void copy_input_stats(ts_sql_plan *p, const ts_sql_plan *in)
{
    for (int c = 0; c < p->ncols; c++) {
        const ts_sql_colstat *s = ts_sql_stat_of(in, p->cols[c].id);
        p->stats[c] = s ? *s : c < in->ncols && in->stats ? in->stats[c] : unknown(p->est_rows);
    }
    cap(p->stats, p->ncols, p->est_rows);
}

ts_err ts_sql_estimate(ts_sql_binder *b, ts_sql_plan *p)
{
    for (int i = 0; i < 2; i++)
        if (p->in[i])
            TS_TRY(ts_sql_estimate(b, p->in[i]));
    TS_TRY(alloc_stats(b, p));
    const double in = p->in[0] ? p->in[0]->est_rows : 0;
    switch (p->kind) {
    case TS_P_CATALOG: catalog_stats(b, p); break;
    case TS_P_RANGE: {
        const double span = p->est_rows > 0 ? p->est_rows : 0;
        for (int c = 0; c < p->ncols; c++)
            p->stats[c] = (ts_sql_colstat){.ndv = span > 1 ? span : 1, .min = (double)p->range_start,
                                           .max = (double)p->range_stop, .width = 8, .has_range = 1, .known = 1};
        break;
    }
    case TS_P_VALUES:
        p->est_rows = p->nrows;
        for (int c = 0; c < p->ncols; c++)
            p->stats[c] = unknown(p->nrows);
        break;
    case TS_P_ONE_ROW: p->est_rows = 1; break;
    case TS_P_DELIM_GET: delim_stats(p); break;
    case TS_P_FILTER: filter_stats(p); break;
    case TS_P_PROJECT: project_stats(p); break;
    case TS_P_AGGREGATE: aggregate_stats(p); break;
    case TS_P_JOIN: case TS_P_DELIM_JOIN: case TS_P_DEPJOIN: join_stats(p); break;
    case TS_P_LIMIT:
        p->est_rows = p->limit >= 0 && p->limit < in ? (double)p->limit : in;
        copy_input_stats(p, p->in[0]);
        break;
    case TS_P_DISTINCT: {
        double groups = 1;
        for (int c = 0; c < p->ncols && groups < in; c++) {
            const ts_sql_colstat *s = ts_sql_stat_of(p->in[0], p->cols[c].id);
            groups *= s ? s->ndv : in;
        }
        p->est_rows = groups < in ? groups : in;
        copy_input_stats(p, p->in[0]);
        break;
    }
    case TS_P_UNION:
        p->est_rows = in + p->in[1]->est_rows;
        copy_input_stats(p, p->in[0]);
        break;
    case TS_P_SETOP: p->est_rows = in, copy_input_stats(p, p->in[0]); break;
    case TS_P_SORT: case TS_P_WINDOW: p->est_rows = in, copy_input_stats(p, p->in[0]); break;
    default: /* sources estimated while binding (CSV from a sample, H5 exactly) */
        for (int c = 0; c < p->ncols; c++) {
            const ts_col_stats *s = p->source_stats ? &p->source_stats[c] : NULL;
            p->stats[c] = s && s->rows ? (ts_sql_colstat){.ndv = s->ndv, .nulls = (double)s->nulls / (double)s->rows,
                                                           .min = s->min, .max = s->max, .width = s->width,
                                                           .has_range = s->has_range, .known = 1}
                                       : unknown(p->est_rows);
        }
        break;
    }
    return TS_OK;
}
