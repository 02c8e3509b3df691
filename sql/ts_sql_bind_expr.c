/* Binding expressions: names to column ids, and the structural helpers the binder and optimizer share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_sql_bind.h"
#include "ts_sql_parse.h"

ts_sql_plan *ts_sql_plan_new(ts_sql_binder *b, ts_sql_plan_kind kind, ts_sql_pos pos, int ncols)
{
    ts_sql_plan *p = ts_sql_alloc(b->script, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind, p->pos = pos, p->ncols = ncols, p->limit = -1, p->est_rows = -1;
    p->cols = ncols ? ts_sql_alloc(b->script, sizeof *p->cols * (size_t)ncols) : NULL;
    return ncols && !p->cols ? NULL : p;
}

void ts_sql_new_id(ts_sql_binder *b, const char *name, char id[TS_SQL_ID_MAX])
{
    snprintf(id, TS_SQL_ID_MAX, "%.40s#%d", name, ++b->next_id);
}

ts_sql_expr *ts_sql_ref(ts_sql_binder *b, const char *id, ts_sql_pos pos)
{
    ts_sql_expr *e = ts_sql_alloc(b->script, sizeof *e);
    if (e) {
        e->kind = TS_SQL_E_COLUMN, e->pos = pos;
        e->name = ts_sql_strdup(b->script, id);
    }
    return e && e->name ? e : NULL;
}

/* ---- function classes -------------------------------------------------------------------------------------- */

static const char *const AGGREGATES[] = {"count", "sum", "avg", "mean", "min", "max", "stddev", "stddev_samp",
                                         "stddev_pop", "variance", "var_samp", "var_pop", "median", "quantile_cont",
                                         "quantile", "first", "last", "any_value", "arg_min", "arg_max", "corr",
                                         "covar_samp", "covar_pop", "bool_and", "bool_or", "count_star", NULL};
static const char *const WINDOW_ONLY[] = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
                                          "ntile", "lag", "lead", "first_value", "last_value", NULL};

static int in_list(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(name, list[i]))
            return 1;
    return 0;
}

int ts_sql_is_aggregate(const char *name) { return in_list(name, AGGREGATES); }
int ts_sql_is_window_only(const char *name) { return in_list(name, WINDOW_ONLY); }

/* ---- name resolution --------------------------------------------------------------------------------------- */

/* Finds (qual, name) in one scope level: 0 found (*id set), 1 not found, 2 ambiguous. */
static int lookup(const ts_sql_scope *s, const char *qual, const char *name, const char **id)
{
    int found = 0;
    for (int i = 0; i < s->ncols; i++) {
        const ts_sql_col *c = &s->cols[i];
        if (strcasecmp(c->name, name) || (qual ? strcasecmp(c->qual, qual) : c->hidden))
            continue;
        if (found && strcmp(*id, c->id))
            return 2;
        *id = c->id, found = 1;
    }
    return found ? 0 : 1;
}

static ts_err unknown_column(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e)
{
    static const char *const clock[] = {"current_date", "current_timestamp", "current_time", "localtimestamp",
                                        "localtime", NULL};
    for (int i = 0; !e->table && clock[i]; i++)
        if (!strcasecmp(e->name, clock[i]))
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "%s is not supported (no clock in queries, so every "
                                   "rank and every rerun agrees: pass the date with --set and a parameter)", e->name);
    const char *cands[512];
    int n = 0;
    for (const ts_sql_scope *s = scope; s; s = s->outer)
        for (int i = 0; i < s->ncols && n < 512; i++)
            if (!s->cols[i].hidden)
                cands[n++] = s->cols[i].name;
    const char *hint = ts_sql_closest(e->name, cands, n);
    if (e->table)
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "unknown column '%s.%s'%s%s%s", e->table, e->name,
                               hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "unknown column '%s'%s%s%s", e->name,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

static ts_err resolve(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out)
{
    for (const ts_sql_scope *s = scope; s; s = s->outer) {
        const char *id = NULL;
        const int r = lookup(s, e->table, e->name, &id);
        if (r == 2)
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "column reference '%s' is ambiguous (qualify it "
                                   "with a table name)", e->name);
        if (r == 0) {
            *out = ts_sql_ref(b, id, e->pos);
            return *out ? TS_OK : ts_sql_error_at(b->src, e->pos, TS_ERR_NOMEM, "out of memory");
        }
    }
    for (int i = 0; !e->table && i < scope->naliases; i++)
        if (!strcasecmp(scope->alias_names[i], e->name)) {
            *out = scope->alias_exprs[i];
            return TS_OK;
        }
    return unknown_column(b, scope, e);
}

/* ---- binding ----------------------------------------------------------------------------------------------- */

static ts_err bind_list(ts_sql_binder *b, const ts_sql_scope *scope, ts_sql_expr *const *in, int n,
                        ts_sql_expr ***out)
{
    *out = NULL;
    if (!n)
        return TS_OK;
    if (!(*out = ts_sql_alloc(b->script, sizeof **out * (size_t)n)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    for (int i = 0; i < n; i++)
        TS_TRY(ts_sql_bind_expr(b, scope, in[i], &(*out)[i]));
    return TS_OK;
}

static ts_err bind_window(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_window *w, ts_sql_window **out)
{
    TS_TRY(ts_sql_resolve_window(b, w, &w));
    ts_sql_window *c = ts_sql_alloc(b->script, sizeof *c);
    if (!c)
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding a window");
    *c = *w;
    TS_TRY(bind_list(b, scope, w->partition, w->npartition, &c->partition));
    if (w->norder && !(c->order = ts_sql_alloc(b->script, sizeof *c->order * (size_t)w->norder)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding a window");
    for (int i = 0; i < w->norder; i++) {
        c->order[i] = w->order[i];
        TS_TRY(ts_sql_bind_expr(b, scope, w->order[i].expr, &c->order[i].expr));
    }
    *out = c;
    return TS_OK;
}

ts_err ts_sql_bind_expr(ts_sql_binder *b, const ts_sql_scope *scope, const ts_sql_expr *e, ts_sql_expr **out)
{
    if (!e) {
        *out = NULL;
        return TS_OK;
    }
    switch (e->kind) {
    case TS_SQL_E_COLUMN: return resolve(b, scope, e, out);
    case TS_SQL_E_STAR:
        if (!e->table)
            return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "'*' is only allowed in a select list or count(*)");
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "'%s.*' is only allowed in a select list", e->table);
    case TS_SQL_E_IN_QUERY: case TS_SQL_E_EXISTS: case TS_SQL_E_SUBQUERY: case TS_SQL_E_QUANTIFIED:
        return ts_sql_bind_subquery(b, scope, e, out);
    default: break;
    }
    ts_sql_expr *c = ts_sql_alloc(b->script, sizeof *c);
    if (!c)
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    *c = *e;
    *out = c;
    TS_TRY(bind_list(b, scope, e->args, e->nargs, &c->args));
    TS_TRY(ts_sql_bind_expr(b, scope, e->operand, &c->operand));
    TS_TRY(ts_sql_bind_expr(b, scope, e->else_expr, &c->else_expr));
    TS_TRY(ts_sql_bind_expr(b, scope, e->filter, &c->filter));
    if (e->over)
        TS_TRY(bind_window(b, scope, e->over, &c->over));
    if (e->kind == TS_SQL_E_FUNC && !e->over && ts_sql_is_window_only(e->name))
        return ts_sql_error_at(b->src, e->pos, TS_ERR_USAGE, "%s() needs an OVER clause", e->name);
    return TS_OK;
}

/* ---- structure ----------------------------------------------------------------------------------------------- */

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static int window_equal(const ts_sql_window *a, const ts_sql_window *b)
{
    if (!a || !b)
        return a == b;
    if (a->npartition != b->npartition || a->norder != b->norder || a->has_frame != b->has_frame ||
        a->frame_rows != b->frame_rows || a->start != b->start || a->end != b->end || a->start_n != b->start_n ||
        a->end_n != b->end_n)
        return 0;
    for (int i = 0; i < a->npartition; i++)
        if (!ts_sql_expr_equal(a->partition[i], b->partition[i]))
            return 0;
    for (int i = 0; i < a->norder; i++)
        if (a->order[i].desc != b->order[i].desc || a->order[i].nulls != b->order[i].nulls ||
            !ts_sql_expr_equal(a->order[i].expr, b->order[i].expr))
            return 0;
    return 1;
}

int ts_sql_expr_equal(const ts_sql_expr *a, const ts_sql_expr *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->op != b->op || a->negated != b->negated || a->ilike != b->ilike ||
        a->try_cast != b->try_cast || a->distinct != b->distinct || a->star != b->star || a->nargs != b->nargs ||
        !str_eq(a->name, b->name) || !str_eq(a->table, b->table) || a->subplan || b->subplan)
        return 0;
    switch (a->kind) {
    case TS_SQL_E_INT: case TS_SQL_E_BOOL: if (a->ival != b->ival) return 0; break;
    case TS_SQL_E_FLOAT: if (a->fval != b->fval) return 0; break;
    case TS_SQL_E_STRING: if (a->slen != b->slen || memcmp(a->sval, b->sval, (size_t)a->slen)) return 0; break;
    case TS_SQL_E_CAST:
        if (a->type.kind != b->type.kind || a->type.precision != b->type.precision || a->type.scale != b->type.scale)
            return 0;
        break;
    default: break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!ts_sql_expr_equal(a->args[i], b->args[i]))
            return 0;
    return ts_sql_expr_equal(a->operand, b->operand) && ts_sql_expr_equal(a->else_expr, b->else_expr) &&
           ts_sql_expr_equal(a->filter, b->filter) && window_equal(a->over, b->over);
}

void ts_sql_expr_refs(const ts_sql_expr *e, void (*fn)(const char *id, void *arg), void *arg)
{
    if (!e)
        return;
    if (e->kind == TS_SQL_E_COLUMN) {
        fn(e->name, arg);
        return;
    }
    for (int i = 0; i < e->nargs; i++)
        ts_sql_expr_refs(e->args[i], fn, arg);
    ts_sql_expr_refs(e->operand, fn, arg);
    ts_sql_expr_refs(e->else_expr, fn, arg);
    ts_sql_expr_refs(e->filter, fn, arg);
    if (e->over) {
        for (int i = 0; i < e->over->npartition; i++)
            ts_sql_expr_refs(e->over->partition[i], fn, arg);
        for (int i = 0; i < e->over->norder; i++)
            ts_sql_expr_refs(e->over->order[i].expr, fn, arg);
    }
}

typedef struct within_ctx {
    const ts_sql_col *cols;
    int ncols, ok;
} within_ctx;

static void check_within(const char *id, void *arg)
{
    within_ctx *w = arg;
    for (int i = 0; i < w->ncols; i++)
        if (!strcmp(w->cols[i].id, id))
            return;
    w->ok = 0;
}

int ts_sql_expr_within(const ts_sql_expr *e, const ts_sql_col *cols, int ncols)
{
    within_ctx w = {cols, ncols, 1};
    ts_sql_expr_refs(e, check_within, &w);
    return w.ok;
}

void ts_sql_conjuncts(ts_sql_binder *b, ts_sql_expr *e, ts_sql_expr ***out, int *n)
{
    if (!e)
        return;
    if (e->kind == TS_SQL_E_BINARY && e->op == TS_SQL_OP_AND) {
        ts_sql_conjuncts(b, e->args[0], out, n);
        ts_sql_conjuncts(b, e->args[1], out, n);
        return;
    }
    ts_sql_expr **grown = ts_sql_alloc(b->script, sizeof *grown * (size_t)(*n + 1));
    if (!grown)
        return; /* the arena is out of memory: the caller's next allocation fails and reports it */
    if (*n)
        memcpy(grown, *out, sizeof *grown * (size_t)*n);
    grown[(*n)++] = e;
    *out = grown;
}

/* ---- names of unnamed select items (DuckDB names them after their text) ---------------------------------- */

static const char *OP_TEXT[] = {"", "+", "-", "*", "/", "%", "//", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR",
                                "-", "NOT ", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"};

static void append(char *buf, size_t cap, const char *s)
{
    const size_t len = strlen(buf);
    if (len + 1 < cap)
        snprintf(buf + len, cap - len, "%s", s);
}

/* names: when not NULL, bound column ids print as the names users see (cols[i].name for cols[i].id). */
typedef struct text_names {
    const ts_sql_col *cols;
    int ncols;
} text_names;

static void column_text(const ts_sql_expr *e, const text_names *names, char *buf, size_t cap)
{
    for (int i = 0; names && i < names->ncols; i++)
        if (!strcmp(names->cols[i].id, e->name)) {
            append(buf, cap, names->cols[i].name);
            return;
        }
    append(buf, cap, e->name);
}

static void expr_text(const ts_sql_expr *e, const text_names *names, char *buf, size_t cap)
{
    char tmp[64];
    switch (e->kind) {
    case TS_SQL_E_COLUMN: column_text(e, names, buf, cap); break;
    case TS_SQL_E_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)e->ival), append(buf, cap, tmp); break;
    case TS_SQL_E_FLOAT: append(buf, cap, e->sval ? e->sval : "?"); break;
    case TS_SQL_E_STRING: append(buf, cap, "'"), append(buf, cap, e->sval), append(buf, cap, "'"); break;
    case TS_SQL_E_NULL: append(buf, cap, "NULL"); break;
    case TS_SQL_E_BOOL: append(buf, cap, e->ival ? "true" : "false"); break;
    case TS_SQL_E_UNARY: append(buf, cap, OP_TEXT[e->op]), expr_text(e->args[0], names, buf, cap); break;
    case TS_SQL_E_BINARY:
        append(buf, cap, "(");
        expr_text(e->args[0], names, buf, cap);
        append(buf, cap, " "), append(buf, cap, OP_TEXT[e->op]), append(buf, cap, " ");
        expr_text(e->args[1], names, buf, cap);
        append(buf, cap, ")");
        break;
    case TS_SQL_E_FUNC:
        append(buf, cap, e->name), append(buf, cap, e->distinct ? "(DISTINCT " : "(");
        if (e->star)
            append(buf, cap, "*");
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                append(buf, cap, ", ");
            expr_text(e->args[i], names, buf, cap);
        }
        append(buf, cap, e->over ? ") OVER (...)" : ")");
        break;
    case TS_SQL_E_CAST: append(buf, cap, "CAST("), expr_text(e->args[0], names, buf, cap), append(buf, cap, ")"); break;
    case TS_SQL_E_CASE: append(buf, cap, "CASE ... END"); break;
    default: append(buf, cap, "?column?"); break;
    }
}

void ts_sql_item_name(const ts_sql_expr *e, char name[TS_SQL_NAME_MAX])
{
    name[0] = 0;
    expr_text(e, NULL, name, TS_SQL_NAME_MAX);
}

void ts_sql_expr_text(const ts_sql_expr *e, const ts_sql_col *cols, int ncols, char *buf, size_t cap)
{
    const text_names names = {cols, ncols};
    buf[0] = 0;
    expr_text(e, &names, buf, cap);
}
