/* Bound SQL expressions to engine expressions (engine/expr/ts_expr.h), and scalar subqueries to constants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_error.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_sql.h"
#include "ts_sql_bind.h"
#include "ts_sql_exec.h"
#include "ts_sql_parse.h"

typedef struct fn_map {
    const char *name;
    ts_expr_op op;
    int min_args, max_args; /* max_args -1: any number */
} fn_map;

static const fn_map FUNCTIONS[] = {
    {"coalesce", TS_X_COALESCE, 1, -1}, {"ifnull", TS_X_COALESCE, 2, 2}, {"nullif", TS_X_NULLIF, 2, 2},
    {"greatest", TS_X_GREATEST, 1, -1}, {"least", TS_X_LEAST, 1, -1},
    {"date_trunc", TS_X_DATE_TRUNC, 2, 2}, {"datetrunc", TS_X_DATE_TRUNC, 2, 2},
    {"date_part", TS_X_DATE_PART, 2, 2}, {"datepart", TS_X_DATE_PART, 2, 2}, {"extract", TS_X_DATE_PART, 2, 2},
    {"year", TS_X_YEAR, 1, 1}, {"month", TS_X_MONTH, 1, 1}, {"day", TS_X_DAY, 1, 1},
    {"strftime", TS_X_STRFTIME, 2, 2}, {"strptime", TS_X_STRPTIME, 2, 2},
    {"upper", TS_X_UPPER, 1, 1}, {"ucase", TS_X_UPPER, 1, 1}, {"lower", TS_X_LOWER, 1, 1},
    {"lcase", TS_X_LOWER, 1, 1}, {"trim", TS_X_TRIM, 1, 2}, {"ltrim", TS_X_LTRIM, 1, 2},
    {"rtrim", TS_X_RTRIM, 1, 2}, {"length", TS_X_LENGTH, 1, 1}, {"len", TS_X_LENGTH, 1, 1},
    {"char_length", TS_X_LENGTH, 1, 1}, {"character_length", TS_X_LENGTH, 1, 1}, {"substr", TS_X_SUBSTR, 2, 3},
    {"substring", TS_X_SUBSTR, 2, 3}, {"replace", TS_X_REPLACE, 3, 3}, {"concat", TS_X_CONCAT_FN, 1, -1},
    {"regexp_matches", TS_X_REGEXP_MATCHES, 2, 2}, {"starts_with", TS_X_STARTS_WITH, 2, 2},
    {"prefix", TS_X_STARTS_WITH, 2, 2}, {"contains", TS_X_CONTAINS, 2, 2}, {"left", TS_X_LEFT, 2, 2},
    {"right", TS_X_RIGHT, 2, 2}, {"reverse", TS_X_REVERSE, 1, 1},
    {"abs", TS_X_ABS, 1, 1}, {"round", TS_X_ROUND, 1, 2}, {"floor", TS_X_FLOOR, 1, 1}, {"ceil", TS_X_CEIL, 1, 1},
    {"ceiling", TS_X_CEIL, 1, 1}, {"pow", TS_X_POW, 2, 2}, {"power", TS_X_POW, 2, 2}, {"sqrt", TS_X_SQRT, 1, 1},
    {"ln", TS_X_LN, 1, 1}, {"log10", TS_X_LOG10, 1, 1}, {"exp", TS_X_EXP, 1, 1}, {"sign", TS_X_SIGN, 1, 1},
    {"month_start", TS_X_MONTH_START, 1, 1}, {"position", TS_X_STRPOS, 2, 2}, {"strpos", TS_X_STRPOS, 2, 2},
    {"instr", TS_X_STRPOS, 2, 2},
};

static ts_err compile(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out);

static ts_err fail_at(const ts_sql_exec *x, const ts_sql_expr *e, const char *what)
{
    return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "%s", what);
}

/* Compiles e->args into a new array *args (free() it; its expressions go to ts_x_func, which takes them). No
 * fixed bound: IN lists and variadic functions may have thousands of arguments. */
static ts_err compile_args(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr ***args)
{
    *args = malloc(sizeof **args * (size_t)(e->nargs + 1));
    if (!*args)
        return fail_at(x, e, "out of memory");
    for (int i = 0; i < e->nargs; i++) {
        const ts_err err = compile(x, e->args[i], &(*args)[i]);
        if (err) {
            for (int k = 0; k < i; k++)
                ts_expr_free((*args)[k]);
            free(*args);
            *args = NULL;
            return err;
        }
    }
    return TS_OK;
}

/* op over e's compiled arguments. */
static ts_err compile_call(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr_op op, ts_expr **out)
{
    ts_expr **args;
    TS_TRY(compile_args(x, e, &args));
    *out = ts_x_func(op, args, e->nargs);
    free(args);
    return *out ? TS_OK : fail_at(x, e, "out of memory");
}

/* year(d), quarter(d), ...: shorthands for date_part('part', d). */
static int part_function(const char *name)
{
    static const char *const PARTS[] = {"quarter", "week", "weekofyear", "dayofweek", "dow", "isodow", "dayofyear",
                                        "doy", "epoch", "dayofmonth", NULL};
    for (int i = 0; PARTS[i]; i++)
        if (!strcmp(name, PARTS[i]))
            return 1;
    return 0;
}

/* to_days(n), to_months(n), ...: n units as an INTERVAL. *done when e is one. */
static ts_err compile_to_interval(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out, int *done)
{
    static const char *const units[] = {"years", "months", "days", "hours", "minutes", "seconds", "milliseconds",
                                        "microseconds", "weeks", "quarters", "decades", "centuries", "millennia"};
    *done = 0;
    for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
        if (strncmp(e->name, "to_", 3) || strcmp(e->name + 3, units[k]))
            continue;
        *done = 1;
        if (e->nargs != 1)
            return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "%s() takes one argument", e->name);
        ts_expr *args[2] = {ts_x_string(units[k]), NULL};
        TS_TRY(compile(x, e->args[0], &args[1]));
        *out = ts_x_func(TS_X_TO_INTERVAL, args, 2);
        return *out ? TS_OK : fail_at(x, e, "out of memory");
    }
    return TS_OK;
}

static ts_err compile_func(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out)
{
    if (e->over || ts_sql_is_aggregate(e->name) || ts_sql_is_window_only(e->name))
        return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "%s() is not allowed here", e->name);
    int done;
    TS_TRY(compile_to_interval(x, e, out, &done));
    if (done)
        return TS_OK;
    if (part_function(e->name)) {
        if (e->nargs != 1)
            return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "%s() takes one argument", e->name);
        ts_expr *args[2] = {ts_x_string(!strcmp(e->name, "dayofmonth") ? "day" : e->name), NULL};
        TS_TRY(compile(x, e->args[0], &args[1]));
        *out = ts_x_func(TS_X_DATE_PART, args, 2);
        return *out ? TS_OK : fail_at(x, e, "out of memory");
    }
    for (size_t i = 0; i < sizeof FUNCTIONS / sizeof *FUNCTIONS; i++) {
        const fn_map *f = &FUNCTIONS[i];
        if (strcmp(e->name, f->name))
            continue;
        if (e->nargs < f->min_args || (f->max_args >= 0 && e->nargs > f->max_args)) {
            char range[64];
            if (f->max_args < 0)
                snprintf(range, sizeof range, "at least %d argument%s", f->min_args, f->min_args == 1 ? "" : "s");
            else if (f->max_args > f->min_args)
                snprintf(range, sizeof range, "%d to %d arguments", f->min_args, f->max_args);
            else
                snprintf(range, sizeof range, "%d argument%s", f->min_args, f->min_args == 1 ? "" : "s");
            return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "%s() takes %s, not %d", e->name, range, e->nargs);
        }
        return compile_call(x, e, f->op, out);
    }
    const char *names[sizeof FUNCTIONS / sizeof *FUNCTIONS];
    for (size_t i = 0; i < sizeof FUNCTIONS / sizeof *FUNCTIONS; i++)
        names[i] = FUNCTIONS[i].name;
    const char *hint = ts_sql_closest(e->name, names, (int)(sizeof names / sizeof *names));
    return ts_sql_error_at(x->src, e->pos, TS_ERR_USAGE, "unknown function %s()%s%s%s", e->name,
                           hint ? " (did you mean " : "", hint ? hint : "", hint ? "()?)" : "");
}

static ts_expr_op binary_op(ts_sql_op op)
{
    switch (op) {
    case TS_SQL_OP_ADD: return TS_X_ADD;
    case TS_SQL_OP_SUB: return TS_X_SUB;
    case TS_SQL_OP_MUL: return TS_X_MUL;
    case TS_SQL_OP_DIV: return TS_X_DIV;
    case TS_SQL_OP_MOD: return TS_X_MOD;
    case TS_SQL_OP_INTDIV: return TS_X_INTDIV;
    case TS_SQL_OP_CONCAT: return TS_X_CONCAT;
    case TS_SQL_OP_EQ: return TS_X_EQ;
    case TS_SQL_OP_NE: return TS_X_NE;
    case TS_SQL_OP_LT: return TS_X_LT;
    case TS_SQL_OP_LE: return TS_X_LE;
    case TS_SQL_OP_GT: return TS_X_GT;
    case TS_SQL_OP_GE: return TS_X_GE;
    case TS_SQL_OP_AND: return TS_X_AND;
    case TS_SQL_OP_DISTINCT: return TS_X_DISTINCT_FROM;
    case TS_SQL_OP_NOT_DISTINCT: return TS_X_NOT_DISTINCT_FROM;
    default: return TS_X_OR;
    }
}

static ts_err compile_binary(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out)
{
    ts_expr *a, *b;
    TS_TRY(compile(x, e->args[0], &a));
    const ts_err err = compile(x, e->args[1], &b);
    if (err) {
        ts_expr_free(a);
        return err;
    }
    /* SQL (DuckDB without IEEE float semantics): x / 0, x // 0 and x % 0 are NULL for every numeric type. The
     * engine's float division and fmod are IEEE (inf, NaN), so every divisor is wrapped, not only `/`'s. */
    if (e->op == TS_SQL_OP_DIV || e->op == TS_SQL_OP_INTDIV || e->op == TS_SQL_OP_MOD)
        b = ts_x_op(TS_X_NULLIF, b, ts_x_int(0));
    *out = ts_x_op(binary_op(e->op), a, b);
    return *out ? TS_OK : fail_at(x, e, "out of memory");
}

static ts_expr *negate_if(ts_expr *e, int negated) { return negated ? ts_x_op(TS_X_NOT, e, NULL) : e; }

static ts_err compile_case(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out)
{
    const int n = e->nargs + (e->else_expr != NULL);
    ts_expr **args = malloc(sizeof *args * (size_t)(n + 1)); /* any number of branches */
    if (!args)
        return fail_at(x, e, "out of memory");
    ts_err err = TS_OK;
    int done = 0;
    for (; done < e->nargs && !err; done++) {
        err = compile(x, e->args[done], &args[done]);
        if (!err && done % 2 == 0 && e->operand) { /* CASE v WHEN a: v = a */
            ts_expr *v;
            err = compile(x, e->operand, &v);
            if (err)
                ts_expr_free(args[done]);
            else
                args[done] = ts_x_op(TS_X_EQ, v, args[done]);
        }
    }
    if (err)
        done--; /* args[done] was not made */
    if (!err && e->else_expr && !(err = compile(x, e->else_expr, &args[e->nargs])))
        done++;
    if (err) {
        for (int k = 0; k < done; k++)
            ts_expr_free(args[k]);
        free(args);
        return err;
    }
    *out = ts_x_func(TS_X_CASE, args, n);
    free(args);
    return *out ? TS_OK : fail_at(x, e, "out of memory");
}

static ts_type cast_type(const ts_sql_type *t, int *scale)
{
    *scale = 0;
    switch (t->kind) {
    case TS_SQL_TY_BOOLEAN: return TS_T_BOOL;
    case TS_SQL_TY_INTEGER: return TS_T_INT32; /* INT64 values checked against the INTEGER range */
    case TS_SQL_TY_BIGINT: return TS_T_INT64;
    case TS_SQL_TY_DOUBLE: return TS_T_FLOAT64;
    case TS_SQL_TY_DECIMAL: *scale = t->scale; return TS_T_DECIMAL;
    case TS_SQL_TY_VARCHAR: return TS_T_STRING;
    case TS_SQL_TY_TIMESTAMP: return TS_T_TIMESTAMP;
    default: return TS_T_DATE;
    }
}

static ts_err compile(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out)
{
    ts_expr *a = NULL;
    switch (e->kind) {
    case TS_SQL_E_COLUMN: *out = ts_x_col(e->name); break;
    case TS_SQL_E_INT: *out = ts_x_int(e->ival); break;
    case TS_SQL_E_FLOAT: *out = ts_x_float(e->fval); break;
    case TS_SQL_E_STRING: *out = ts_x_string_len(e->sval, (size_t)e->slen); break;
    case TS_SQL_E_BOOL: *out = ts_x_bool((int)e->ival); break;
    case TS_SQL_E_NULL: *out = ts_x_null(); break;
    case TS_SQL_E_UNARY:
        TS_TRY(compile(x, e->args[0], &a));
        *out = ts_x_op(e->op == TS_SQL_OP_NOT ? TS_X_NOT : TS_X_NEG, a, NULL);
        break;
    case TS_SQL_E_BINARY: return compile_binary(x, e, out);
    case TS_SQL_E_IS_NULL:
        TS_TRY(compile(x, e->args[0], &a));
        *out = negate_if(ts_x_op(TS_X_IS_NULL, a, NULL), e->negated);
        break;
    case TS_SQL_E_BETWEEN: {
        ts_expr *v1, *v2, *lo, *hi;
        TS_TRY(compile(x, e->args[0], &v1));
        TS_TRY(compile(x, e->args[0], &v2));
        TS_TRY(compile(x, e->args[1], &lo));
        TS_TRY(compile(x, e->args[2], &hi));
        *out = negate_if(ts_x_op(TS_X_AND, ts_x_op(TS_X_GE, v1, lo), ts_x_op(TS_X_LE, v2, hi)), e->negated);
        break;
    }
    case TS_SQL_E_IN_LIST:
        TS_TRY(compile_call(x, e, TS_X_IN, &a));
        *out = negate_if(a, e->negated);
        break;
    case TS_SQL_E_LIKE:
        TS_TRY(compile_call(x, e, e->ilike ? TS_X_ILIKE : TS_X_LIKE, &a));
        *out = negate_if(a, e->negated);
        break;
    case TS_SQL_E_CASE: return compile_case(x, e, out);
    case TS_SQL_E_CAST: {
        if (e->type.kind == TS_SQL_TY_INTERVAL) { /* no column type: a function of the text */
            TS_TRY(compile(x, e->args[0], &a));
            *out = ts_x_func(TS_X_TO_INTERVAL, &a, 1);
            break;
        }
        int scale;
        const ts_type type = cast_type(&e->type, &scale);
        if (type == TS_T_DECIMAL && e->args[0]->kind == TS_SQL_E_FLOAT && e->args[0]->sval)
            a = ts_x_string(e->args[0]->sval); /* the literal's digits exactly, not its double */
        else
            TS_TRY(compile(x, e->args[0], &a));
        *out = ts_x_cast(a, type, scale, e->try_cast);
        break;
    }
    case TS_SQL_E_FUNC: return compile_func(x, e, out);
    case TS_SQL_E_SUBQUERY: return fail_at(x, e, "internal: a scalar subquery was not evaluated");
    default: return fail_at(x, e, "this expression is not supported here");
    }
    return *out ? TS_OK : fail_at(x, e, "out of memory");
}

ts_err ts_sql_compile(const ts_sql_exec *x, const ts_sql_expr *e, ts_expr **out)
{
    return compile(x, e, out);
}

/* ---- constants at bind time ------------------------------------------------------------------------------------ */

int ts_sql_is_constant(const ts_sql_expr *e)
{
    if (!e)
        return 1;
    switch (e->kind) {
    case TS_SQL_E_COLUMN: case TS_SQL_E_STAR: case TS_SQL_E_IN_QUERY: case TS_SQL_E_EXISTS: case TS_SQL_E_SUBQUERY:
        return 0;
    case TS_SQL_E_FUNC:
        if (e->over || e->star || ts_sql_is_aggregate(e->name) || ts_sql_is_window_only(e->name))
            return 0;
        break;
    default: break;
    }
    for (int i = 0; i < e->nargs; i++)
        if (!ts_sql_is_constant(e->args[i]))
            return 0;
    return ts_sql_is_constant(e->operand) && ts_sql_is_constant(e->else_expr);
}

ts_err ts_sql_eval_constant(const ts_sql_script *src, const ts_sql_expr *e, ts_type type, const char *what,
                            ts_sql_value *out)
{
    memset(out, 0, sizeof *out);
    if (!ts_sql_is_constant(e))
        return ts_sql_error_at(src, e->pos, TS_ERR_USAGE, "%s must be a constant", what);
    const ts_sql_exec x = {.src = src};
    ts_expr *ex;
    TS_TRY(compile(&x, e, &ex));
    ex = ts_x_cast(ex, type, 0, 0);
    ts_table *one = NULL;
    ts_column *dummy = NULL, *v = NULL;
    ts_err err = ex ? ts_table_new("constant", &one) : TS_ERR_NOMEM;
    if (!err) /* a table of one row to evaluate over */
        err = ts_table_add(one, "__one", TS_T_BOOL, 0, NULL, &dummy);
    if (!err)
        err = ts_column_reserve(dummy, 1, 0);
    if (!err) {
        TS_COL(dummy, uint8_t)[0] = 1, dummy->len = 1;
        err = ts_expr_eval(ex, one, "__constant", &v);
    }
    ts_expr_free(ex);
    ts_table_free(one);
    if (err) {
        ts_column_free(v);
        if (err == TS_ERR_NOMEM)
            return fail_at(&x, e, "out of memory");
        /* the engine's message names the operation (a failed cast, an overflow): locate it at the argument */
        char why[512];
        const char *h = ts_error_headline(), *prefix = "column '__constant': "; /* ts_expr_eval's, not the user's */
        snprintf(why, sizeof why, "%s", strncmp(h, prefix, strlen(prefix)) ? h : h + strlen(prefix));
        return ts_sql_error_at(src, e->pos, err == TS_ERR_DATA ? TS_ERR_DATA : TS_ERR_USAGE, "%s: %s", what, why);
    }
    out->is_null = !ts_column_is_valid(v, 0);
    if (!out->is_null && type == TS_T_FLOAT64)
        out->f = TS_COL(v, double)[0];
    else if (!out->is_null && type == TS_T_INT64)
        out->i = TS_COL(v, int64_t)[0];
    else if (!out->is_null && type == TS_T_BOOL)
        out->i = TS_COL(v, uint8_t)[0];
    ts_column_free(v);
    return TS_OK;
}

/* ---- scalar subqueries ----------------------------------------------------------------------------------------- */

/* Replaces e (a scalar subquery) by the single value of its result, which every rank receives. */
static ts_err subquery_value(ts_sql_exec *x, ts_sql_expr *e)
{
    ts_table *t;
    TS_TRY(ts_sql_exec_plan(x, e->subplan, &t));
    int64_t n = ts_table_rows(t), total;
    ts_err err = ts_allreduce_sum_i64(x->ctx, n, &total);
    if (!err && total > 1)
        err = ts_sql_error_at(x->src, e->pos, TS_ERR_DATA, "More than one row returned by a subquery used as an "
                              "expression: it returned %lld rows (a scalar subquery may return at most one)",
                              (long long)total);
    /* the rank holding the row sends its value as text; NULL when there is no row */
    int owner = n ? x->ctx->rank : x->ctx->size;
    char text[512] = "";
    int type = -1, is_null = 1, scale = 0;
    if (!err)
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &owner, 1, MPI_INT, MPI_MIN, x->ctx->comm));
    if (!err && owner < x->ctx->size) {
        if (x->ctx->rank == owner) {
            const ts_column *c = t->cols[0];
            is_null = !ts_column_is_valid(c, 0), type = (int)c->type, scale = c->scale;
            ts_sql_format_cell(c, 0, text, sizeof text);
        }
        int meta[3] = {type, is_null, scale};
        TS_MPI(MPI_Bcast(meta, 3, MPI_INT, owner, x->ctx->comm));
        TS_MPI(MPI_Bcast(text, sizeof text, MPI_CHAR, owner, x->ctx->comm));
        type = meta[0], is_null = meta[1], scale = meta[2];
    }
    ts_table_free(t);
    TS_TRY(err);
    ts_sql_expr v = {.pos = e->pos};
    if (is_null) {
        v.kind = TS_SQL_E_NULL;
    } else if (type == TS_T_BOOL) {
        v.kind = TS_SQL_E_BOOL, v.ival = !strcmp(text, "true");
    } else if (type == TS_T_INT32 || type == TS_T_INT64) {
        v.kind = TS_SQL_E_INT, v.ival = strtoll(text, NULL, 10);
    } else if (type == TS_T_FLOAT64 || type == TS_T_DECIMAL) {
        v.kind = TS_SQL_E_FLOAT, v.fval = strtod(text, NULL);
    } else {
        /* strings and dates travel as text; a date becomes CAST('yyyy-mm-dd' AS DATE) */
        ts_sql_expr *s = ts_sql_alloc((ts_sql_script *)x->src, sizeof *s);
        char *copy = ts_sql_strdup((ts_sql_script *)x->src, text);
        if (!s || !copy)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        *s = (ts_sql_expr){.kind = TS_SQL_E_STRING, .pos = e->pos, .sval = copy, .slen = (int64_t)strlen(copy)};
        if (type == TS_T_DATE || type == TS_T_TIMESTAMP) {
            ts_sql_expr **args = ts_sql_alloc((ts_sql_script *)x->src, sizeof *args);
            if (!args)
                TS_FAIL(TS_ERR_NOMEM, "out of memory");
            args[0] = s;
            v = (ts_sql_expr){.kind = TS_SQL_E_CAST, .pos = e->pos, .args = args, .nargs = 1};
            v.type.kind = type == TS_T_DATE ? TS_SQL_TY_DATE : TS_SQL_TY_TIMESTAMP;
        } else {
            v = *s;
        }
    }
    *e = v;
    return TS_OK;
}

static ts_err expr_subqueries(ts_sql_exec *x, ts_sql_expr *e)
{
    if (!e)
        return TS_OK;
    if (e->kind == TS_SQL_E_SUBQUERY && e->subplan)
        return subquery_value(x, e);
    for (int i = 0; i < e->nargs; i++)
        TS_TRY(expr_subqueries(x, e->args[i]));
    TS_TRY(expr_subqueries(x, e->operand));
    return expr_subqueries(x, e->else_expr);
}

ts_err ts_sql_run_subqueries(ts_sql_exec *x, ts_sql_plan *p)
{
    if (!p)
        return TS_OK;
    for (int i = 0; i < 2; i++)
        TS_TRY(ts_sql_run_subqueries(x, p->in[i]));
    for (int i = 0; i < p->nconds; i++)
        TS_TRY(expr_subqueries(x, p->conds[i]));
    for (int i = 0; p->exprs && i < p->ncols; i++)
        TS_TRY(expr_subqueries(x, p->exprs[i]));
    for (int i = 0; i < p->nrows * p->ncols && p->values; i++)
        TS_TRY(expr_subqueries(x, p->values[i]));
    return TS_OK;
}
