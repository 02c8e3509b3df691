/* SQL lexer and parser: tree shapes (printed as S-expressions by a printer local to this test), precedence,
 * positions, statement texts, error messages with their carets, ${param} substitution, closest-name hints and
 * robustness against random input. Expected trees and messages are written by hand. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_sql_parse.h"
#include "ts_test.h"

/* ---- S-expression printer ------------------------------------------------------------------------------- */

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void put(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)n + 1 > b->cap) {
        b->cap = (b->n + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

static void pr_query(sb *b, const ts_sql_query *q);
static void pr_expr(sb *b, const ts_sql_expr *e);

static const char *op_name(ts_sql_op op)
{
    static const char *const names[] = {"?",  "+",  "-", "*",  "/", "%",  "//",  "||", "=",
                                        "<>", "<", "<=", ">", ">=", "and", "or", "neg", "not",
                                        "distinct-from", "not-distinct-from"};
    return op >= 0 && op < (int)(sizeof names / sizeof names[0]) ? names[op] : "?";
}

static void pr_type(sb *b, ts_sql_type t)
{
    static const char *const names[] = {"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "VARCHAR", "DATE"};
    if (t.kind == TS_SQL_TY_DECIMAL)
        put(b, "DECIMAL(%d,%d)", t.precision, t.scale);
    else
        put(b, "%s", names[t.kind]);
}

static void pr_args(sb *b, ts_sql_expr *const *args, int n)
{
    for (int k = 0; k < n; k++) {
        put(b, " ");
        pr_expr(b, args[k]);
    }
}

static void pr_order(sb *b, const ts_sql_order *o, int n)
{
    put(b, "(order");
    for (int k = 0; k < n; k++) {
        put(b, " ");
        if (!o[k].desc && !o[k].nulls) {
            pr_expr(b, o[k].expr);
            continue;
        }
        put(b, "(");
        pr_expr(b, o[k].expr);
        const char *nulls = o[k].nulls == 1 ? " nulls-first" : o[k].nulls == 2 ? " nulls-last" : "";
        put(b, "%s%s)", o[k].desc ? " desc" : "", nulls);
    }
    put(b, ")");
}

static void pr_bound(sb *b, ts_sql_bound_kind k, int64_t n)
{
    switch (k) {
    case TS_SQL_BOUND_UNBOUNDED_PRECEDING: put(b, "unbounded-preceding"); break;
    case TS_SQL_BOUND_PRECEDING: put(b, "%lld-preceding", (long long)n); break;
    case TS_SQL_BOUND_CURRENT_ROW: put(b, "current"); break;
    case TS_SQL_BOUND_FOLLOWING: put(b, "%lld-following", (long long)n); break;
    case TS_SQL_BOUND_UNBOUNDED_FOLLOWING: put(b, "unbounded-following"); break;
    }
}

static void pr_window_spec(sb *b, const ts_sql_window *w)
{
    if (w->ref)
        put(b, w->bare ? " %s" : " (ref %s)", w->ref);
    if (w->npartition) {
        put(b, " (partition");
        pr_args(b, w->partition, w->npartition);
        put(b, ")");
    }
    if (w->norder) {
        put(b, " ");
        pr_order(b, w->order, w->norder);
    }
    if (w->has_frame) {
        put(b, " (%s ", w->frame_rows ? "rows" : "range");
        pr_bound(b, w->start, w->start_n);
        put(b, " ");
        pr_bound(b, w->end, w->end_n);
        put(b, ")");
    }
}

static void pr_window(sb *b, const ts_sql_window *w)
{
    put(b, " (over");
    pr_window_spec(b, w);
    put(b, ")");
}

static void pr_func(sb *b, const ts_sql_expr *e)
{
    put(b, "(%s%s", e->name, e->distinct ? " distinct" : "");
    if (e->star)
        put(b, " *");
    pr_args(b, e->args, e->nargs);
    if (e->filter) {
        put(b, " (filter ");
        pr_expr(b, e->filter);
        put(b, ")");
    }
    if (e->over)
        pr_window(b, e->over);
    put(b, ")");
}

static void pr_case(sb *b, const ts_sql_expr *e)
{
    put(b, "(case ");
    if (e->operand)
        pr_expr(b, e->operand);
    else
        put(b, "_");
    for (int k = 0; k + 1 < e->nargs; k += 2) {
        put(b, " (when ");
        pr_expr(b, e->args[k]);
        put(b, " ");
        pr_expr(b, e->args[k + 1]);
        put(b, ")");
    }
    if (e->else_expr) {
        put(b, " (else ");
        pr_expr(b, e->else_expr);
        put(b, ")");
    }
    put(b, ")");
}

/* (head args...) with a "not-" prefix when negated */
static void pr_pred(sb *b, const ts_sql_expr *e, const char *head)
{
    put(b, "(%s%s", e->negated ? "not-" : "", head);
    pr_args(b, e->args, e->nargs);
    if (e->query) {
        put(b, " ");
        pr_query(b, e->query);
    }
    put(b, ")");
}

static void pr_expr(sb *b, const ts_sql_expr *e)
{
    switch (e->kind) {
    case TS_SQL_E_COLUMN: put(b, "%s%s%s", e->table ? e->table : "", e->table ? "." : "", e->name); break;
    case TS_SQL_E_STAR: put(b, "%s%s*", e->table ? e->table : "", e->table ? "." : ""); break;
    case TS_SQL_E_INT: put(b, "%lld", (long long)e->ival); break;
    case TS_SQL_E_FLOAT: put(b, "%sf", e->sval); break;
    case TS_SQL_E_STRING: put(b, "'%s'", e->sval); break;
    case TS_SQL_E_BOOL: put(b, "%s", e->ival ? "true" : "false"); break;
    case TS_SQL_E_NULL: put(b, "null"); break;
    case TS_SQL_E_UNARY:
    case TS_SQL_E_BINARY: pr_pred(b, e, op_name(e->op)); break;
    case TS_SQL_E_IS_NULL: put(b, "(is-%snull", e->negated ? "not-" : ""), pr_args(b, e->args, 1), put(b, ")"); break;
    case TS_SQL_E_BETWEEN: pr_pred(b, e, "between"); break;
    case TS_SQL_E_IN_LIST:
    case TS_SQL_E_IN_QUERY: pr_pred(b, e, "in"); break;
    case TS_SQL_E_EXISTS: pr_pred(b, e, "exists"); break;
    case TS_SQL_E_QUANTIFIED: /* (any > x query), (all > x query) */
        put(b, "(%s %s ", e->negated ? "all" : "any", op_name(e->op));
        pr_expr(b, e->args[0]);
        put(b, " ");
        pr_query(b, e->query);
        put(b, ")");
        break;
    case TS_SQL_E_SUBQUERY: pr_pred(b, e, "subquery"); break;
    case TS_SQL_E_LIKE: pr_pred(b, e, e->ilike ? "ilike" : "like"); break;
    case TS_SQL_E_CASE: pr_case(b, e); break;
    case TS_SQL_E_CAST:
        put(b, "(%s ", e->try_cast ? "try_cast" : "cast");
        pr_expr(b, e->args[0]);
        put(b, " ");
        pr_type(b, e->type);
        put(b, ")");
        break;
    case TS_SQL_E_FUNC: pr_func(b, e); break;
    }
}

static void pr_from(sb *b, const ts_sql_from *f);

static void pr_table_func(sb *b, const ts_sql_from *f)
{
    put(b, "(%s", f->name);
    for (int k = 0; k < f->nargs; k++) {
        const ts_sql_arg *a = &f->args[k];
        put(b, " ");
        if (a->name)
            put(b, "(= %s ", a->name);
        if (a->value) {
            pr_expr(b, a->value);
        } else {
            put(b, "{");
            for (int j = 0; j < a->npairs; j++) {
                put(b, "%s%s ", j ? " " : "", a->keys[j]);
                pr_expr(b, a->values[j]);
            }
            put(b, "}");
        }
        if (a->name)
            put(b, ")");
    }
    put(b, ")");
}

static void pr_from_body(sb *b, const ts_sql_from *f)
{
    static const char *const joins[] = {"inner", "left", "right", "full", "cross", "semi", "anti"};
    switch (f->kind) {
    case TS_SQL_F_TABLE: put(b, "%s", f->name); break;
    case TS_SQL_F_FUNC: pr_table_func(b, f); break;
    case TS_SQL_F_SUBQUERY:
        put(b, "(sub ");
        pr_query(b, f->query);
        put(b, ")");
        break;
    case TS_SQL_F_VALUES:
        put(b, "(values");
        for (int r = 0; r < f->nrows; r++) {
            put(b, " (");
            for (int c = 0; c < f->ncols; c++) {
                put(b, "%s", c ? " " : "");
                pr_expr(b, f->values[r * f->ncols + c]);
            }
            put(b, ")");
        }
        put(b, ")");
        break;
    case TS_SQL_F_JOIN:
        put(b, "(join %s ", joins[f->join]);
        pr_from(b, f->left);
        put(b, " ");
        pr_from(b, f->right);
        if (f->on) {
            put(b, " (on ");
            pr_expr(b, f->on);
            put(b, ")");
        }
        if (f->nusing) {
            put(b, " (using");
            for (int k = 0; k < f->nusing; k++)
                put(b, " %s", f->using[k]);
            put(b, ")");
        }
        put(b, ")");
        break;
    }
}

static void pr_from(sb *b, const ts_sql_from *f)
{
    if (!f->alias) {
        pr_from_body(b, f);
        return;
    }
    put(b, "(as ");
    pr_from_body(b, f);
    put(b, " %s", f->alias);
    if (f->ncol_aliases) {
        put(b, " (");
        for (int k = 0; k < f->ncol_aliases; k++)
            put(b, "%s%s", k ? " " : "", f->col_aliases[k]);
        put(b, ")");
    }
    put(b, ")");
}

static void pr_clause(sb *b, const char *name, const ts_sql_expr *e)
{
    if (!e)
        return;
    put(b, " (%s ", name);
    pr_expr(b, e);
    put(b, ")");
}

static void pr_select(sb *b, const ts_sql_select *s)
{
    put(b, "(select%s (", s->distinct ? " distinct" : "");
    for (int k = 0; k < s->nitems; k++) {
        put(b, "%s", k ? " " : "");
        if (s->items[k].alias)
            put(b, "(as ");
        pr_expr(b, s->items[k].expr);
        if (s->items[k].alias)
            put(b, " %s)", s->items[k].alias);
    }
    put(b, ")");
    if (s->from) {
        put(b, " (from ");
        pr_from(b, s->from);
        put(b, ")");
    }
    pr_clause(b, "where", s->where);
    if (s->group_all)
        put(b, " (group all)");
    if (s->ngroup) {
        put(b, " (group");
        pr_args(b, s->group, s->ngroup);
        put(b, ")");
    }
    pr_clause(b, "having", s->having);
    for (int k = 0; k < s->nwindows; k++) {
        put(b, " (window %s", s->windows[k].name);
        pr_window_spec(b, s->windows[k].def);
        put(b, ")");
    }
    pr_clause(b, "qualify", s->qualify);
    put(b, ")");
}

static void pr_body(sb *b, const ts_sql_query *q)
{
    static const char *const ops[] = {"none", "union", "union-all", "except", "intersect", "except-all",
                                      "intersect-all"};
    if (q->set_op == TS_SQL_SET_NONE) {
        pr_select(b, q->select);
        return;
    }
    put(b, "(%s ", ops[q->set_op]);
    pr_query(b, q->left);
    put(b, " ");
    pr_query(b, q->right);
    put(b, ")");
}

static void pr_query(sb *b, const ts_sql_query *q)
{
    if (!q->nctes && !q->norder && !q->limit && !q->offset) {
        pr_body(b, q);
        return;
    }
    put(b, "(query ");
    if (q->nctes) {
        put(b, "(with");
        for (int k = 0; k < q->nctes; k++) {
            put(b, " (%s ", q->ctes[k].name);
            if (q->ctes[k].ncolumns) {
                put(b, "(");
                for (int c = 0; c < q->ctes[k].ncolumns; c++)
                    put(b, "%s%s", c ? " " : "", q->ctes[k].columns[c]);
                put(b, ") ");
            }
            pr_query(b, q->ctes[k].query);
            put(b, ")");
        }
        put(b, ") ");
    }
    pr_body(b, q);
    if (q->norder) {
        put(b, " ");
        pr_order(b, q->order, q->norder);
    }
    pr_clause(b, "limit", q->limit);
    pr_clause(b, "offset", q->offset);
    put(b, ")");
}

static void pr_stmt(sb *b, const ts_sql_stmt *st)
{
    switch (st->kind) {
    case TS_SQL_S_QUERY: pr_query(b, st->query); return;
    case TS_SQL_S_CREATE_TABLE:
    case TS_SQL_S_CREATE_VIEW:
        put(b, "(create-%s %s%s%s ", st->kind == TS_SQL_S_CREATE_VIEW ? "view" : "table", st->name,
            st->or_replace ? " or-replace" : "", st->if_not_exists ? " if-not-exists" : "");
        if (st->query)
            pr_query(b, st->query);
        for (int k = 0; k < st->ncolumns; k++)
            put(b, "%s(%s %d%s)", k ? " " : "", st->columns[k], (int)st->types[k].kind,
                st->not_null[k] ? " not-null" : "");
        put(b, ")");
        return;
    case TS_SQL_S_INSERT:
        put(b, "(insert %s", st->name);
        for (int k = 0; k < st->ncolumns; k++)
            put(b, " %s", st->columns[k]);
        put(b, " ");
        pr_query(b, st->query);
        put(b, ")");
        return;
    case TS_SQL_S_DROP:
        put(b, "(drop-%s %s%s)", st->is_view ? "view" : "table", st->name, st->if_exists ? " if-exists" : "");
        return;
    case TS_SQL_S_EXPLAIN:
        put(b, "(explain%s ", st->analyze ? " analyze" : "");
        pr_stmt(b, st->inner);
        put(b, ")");
        return;
    case TS_SQL_S_COPY:
        put(b, "(copy ");
        pr_query(b, st->query);
        put(b, " '%s'", st->copy->path);
        for (int i = 0; i < st->copy->nopts; i++) {
            const ts_sql_copy_opt *o = &st->copy->opts[i];
            put(b, " (%s%s%s", o->name, o->value ? " " : "", o->value ? o->value : "");
            for (int k = 0; k < o->nlist; k++)
                put(b, "%s%s", k ? "," : " ", o->list[k]);
            put(b, ")");
        }
        put(b, ")");
        return;
    }
}

static char *print_script(const ts_sql_script *s)
{
    sb b = {0};
    put(&b, "%s", "");
    for (int k = 0; k < s->nstmts; k++) {
        put(&b, "%s", k ? "; " : "");
        pr_stmt(&b, s->stmts[k]);
    }
    return b.p;
}

/* ---- helpers -------------------------------------------------------------------------------------------- */

/* The error message without its traceback frames. */
static char *error_text(void)
{
    const char *m = ts_error_message();
    const char *at = strstr(m, "\n  at ");
    size_t n = at ? (size_t)(at - m) : strlen(m);
    char *r = malloc(n + 1);
    memcpy(r, m, n);
    r[n] = '\0';
    return r;
}

/* The printed script, or "ERROR <message>". Caller frees. */
static char *sx(const char *sql)
{
    ts_sql_script *s;
    ts_err err = ts_sql_parse(sql, "sql", &s);
    if (err) {
        char *m = error_text(), *r = malloc(strlen(m) + 8);
        sprintf(r, "ERROR %s", m);
        free(m);
        return r;
    }
    char *r = print_script(s);
    ts_sql_script_free(s);
    return r;
}

#define EXPECT_SX(sql, want)                                                                                  \
    do {                                                                                                      \
        char *got_ = sx(sql);                                                                                 \
        CHECK(strcmp(got_, (want)) == 0, "%s\n  got:  %s\n  want: %s", (sql), got_, (want));                  \
        free(got_);                                                                                           \
    } while (0)

/* One expression: the only item of SELECT <expr>. */
#define EXPECT_EXPR(expr, want)                                                                               \
    do {                                                                                                      \
        char sql_[2048], want_[2048];                                                                         \
        snprintf(sql_, sizeof sql_, "SELECT %s", (expr));                                                     \
        snprintf(want_, sizeof want_, "(select (%s))", (want));                                               \
        EXPECT_SX(sql_, want_);                                                                               \
    } while (0)

#define EXPECT_ERR(sql, filename, want)                                                                       \
    do {                                                                                                      \
        ts_sql_script *s_ = NULL;                                                                             \
        ts_err e_ = ts_sql_parse((sql), (filename), &s_);                                                     \
        CHECK(e_ == TS_ERR_USAGE && s_ == NULL, "%s: code %d", (sql), e_);                                    \
        char *m_ = error_text();                                                                              \
        CHECK(strcmp(m_, (want)) == 0, "%s\n  got:\n%s\n  want:\n%s", (sql), m_, (want));                     \
        free(m_);                                                                                             \
        ts_sql_script_free(s_);                                                                               \
    } while (0)

/* The error's first line contains want. */
#define EXPECT_ERR_HAS(sql, want)                                                                             \
    do {                                                                                                      \
        ts_sql_script *s_ = NULL;                                                                             \
        ts_err e_ = ts_sql_parse((sql), "sql", &s_);                                                          \
        CHECK(e_ == TS_ERR_USAGE, "%.60s: code %d", (sql), e_);                                               \
        CHECK(strstr(ts_error_headline(), (want)) != NULL, "%.60s: got '%s', want '%s'", (sql),               \
              ts_error_headline(), (want));                                                                   \
        ts_sql_script_free(s_);                                                                               \
    } while (0)

/* ---- tests ---------------------------------------------------------------------------------------------- */

static void test_precedence(void)
{
    EXPECT_EXPR("1 + 2 * 3", "(+ 1 (* 2 3))");
    EXPECT_EXPR("(1 + 2) * 3", "(* (+ 1 2) 3)");
    EXPECT_EXPR("1 - 2 - 3", "(- (- 1 2) 3)");
    EXPECT_EXPR("a / b // c % d", "(% (// (/ a b) c) d)");
    EXPECT_EXPR("-a * b", "(* (neg a) b)");
    EXPECT_EXPR("- -a", "(neg (neg a))");
    EXPECT_EXPR("+a", "a");
    EXPECT_EXPR("-x::INT", "(neg (cast x INTEGER))");
    EXPECT_EXPR("a::int::varchar", "(cast (cast a INTEGER) VARCHAR)");
    EXPECT_EXPR("a || b + c", "(|| a (+ b c))");
    EXPECT_EXPR("a || b || c", "(|| (|| a b) c)");
    EXPECT_EXPR("a + b = c || d", "(= (+ a b) (|| c d))");
    EXPECT_EXPR("a = 1 AND b <> 2 OR NOT c", "(or (and (= a 1) (<> b 2)) (not c))");
    EXPECT_EXPR("a == 1 or a != 2", "(or (= a 1) (<> a 2))");
    EXPECT_EXPR("a < b AND c <= d AND e > f AND g >= h", "(and (and (and (< a b) (<= c d)) (> e f)) (>= g h))");
    EXPECT_EXPR("NOT a = b", "(not (= a b))");
    EXPECT_EXPR("NOT NOT a", "(not (not a))");
    EXPECT_EXPR("a OR b AND c", "(or a (and b c))");
    EXPECT_EXPR("NOT a AND b", "(and (not a) b)");
    EXPECT_EXPR("a IS NULL", "(is-null a)");
    EXPECT_EXPR("a + 1 IS NOT NULL OR b", "(or (is-not-null (+ a 1)) b)");
    EXPECT_EXPR("x BETWEEN 1 AND 2 AND y", "(and (between x 1 2) y)");
    EXPECT_EXPR("x NOT BETWEEN a + 1 AND b * 2", "(not-between x (+ a 1) (* b 2))");
    EXPECT_EXPR("x IN (1, 2, 3)", "(in x 1 2 3)");
    EXPECT_EXPR("x NOT IN ('a')", "(not-in x 'a')");
    EXPECT_EXPR("x + 1 IN (y)", "(in (+ x 1) y)");
    EXPECT_EXPR("name LIKE 'a%'", "(like name 'a%')");
    EXPECT_EXPR("name NOT ILIKE 'x' || y", "(not-ilike name (|| 'x' y))");
    EXPECT_EXPR("a ILIKE b AND c NOT LIKE d", "(and (ilike a b) (not-like c d))");
    EXPECT_EXPR("(a)", "a");
    EXPECT_EXPR("((a + b))", "(+ a b)");
    EXPECT_EXPR("1 - -2", "(- 1 (neg 2))");
    EXPECT_EXPR("2 * (3 - 4) / 5", "(/ (* 2 (- 3 4)) 5)");
}

static void test_literals(void)
{
    EXPECT_EXPR("'it''s'", "'it's'");
    EXPECT_EXPR("''", "''");
    EXPECT_EXPR("1.5", "1.5f");
    EXPECT_EXPR("1e3", "1e3f");
    EXPECT_EXPR(".5", ".5f");
    EXPECT_EXPR("2.", "2.f");
    EXPECT_EXPR("1.5E-2", "1.5E-2f");
    EXPECT_EXPR("0", "0");
    EXPECT_EXPR("9223372036854775807", "9223372036854775807");
    EXPECT_EXPR("9223372036854775808", "9223372036854775808f");
    EXPECT_EXPR("TRUE AND false", "(and true false)");
    EXPECT_EXPR("NULL", "null");
    EXPECT_EXPR("DATE '2024-01-31'", "(cast '2024-01-31' DATE)");
    EXPECT_EXPR("[1, 'a']", "(list_value 1 'a')");
    EXPECT_EXPR("[]", "(list_value)");

    ts_sql_script *s;
    if (CHECK_OK(ts_sql_parse("SELECT 'a''b', 1.25, 12345678901234567890, 7, true", "sql", &s))) {
        const ts_sql_item *it = s->stmts[0]->query->select->items;
        CHECK(it[0].expr->kind == TS_SQL_E_STRING && it[0].expr->slen == 3 && strcmp(it[0].expr->sval, "a'b") == 0,
              "string");
        CHECK(it[1].expr->kind == TS_SQL_E_FLOAT && it[1].expr->fval == 1.25, "float %g", it[1].expr->fval);
        CHECK(it[2].expr->kind == TS_SQL_E_FLOAT && it[2].expr->fval == 12345678901234567890.0 &&
                  strcmp(it[2].expr->sval, "12345678901234567890") == 0,
              "big integer");
        CHECK(it[3].expr->kind == TS_SQL_E_INT && it[3].expr->ival == 7, "int");
        CHECK(it[4].expr->kind == TS_SQL_E_BOOL && it[4].expr->ival == 1, "bool");
        ts_sql_script_free(s);
    }
}

static void test_names(void)
{
    EXPECT_EXPR("ABC", "abc");
    EXPECT_EXPR("\"Quoted Name\"", "Quoted Name");
    EXPECT_EXPR("\"a\"\"b\"", "a\"b");
    EXPECT_EXPR("T.Col", "t.col");
    EXPECT_EXPR("s.t.a + 1", "(+ s.t.a 1)");
    EXPECT_EXPR("\"T\".\"X\"", "T.X");
    /* non-reserved keywords are names where no keyword fits */
    EXPECT_EXPR("date + 1", "(+ date 1)");
    EXPECT_EXPR("first, last, values, view, filter, over, rows", "first last values view filter over rows");
    EXPECT_EXPR("t.from", "t.from");

    ts_sql_script *s;
    if (CHECK_OK(ts_sql_parse("SELECT s.t.a", "sql", &s))) {
        const ts_sql_expr *e = s->stmts[0]->query->select->items[0].expr;
        CHECK(e->kind == TS_SQL_E_COLUMN && strcmp(e->table, "s.t") == 0 && strcmp(e->name, "a") == 0, "s.t.a");
        ts_sql_script_free(s);
    }
}

static void test_functions(void)
{
    EXPECT_EXPR("count(*)", "(count *)");
    EXPECT_EXPR("COUNT(DISTINCT x)", "(count distinct x)");
    EXPECT_EXPR("Sum(ALL x)", "(sum x)");
    EXPECT_EXPR("substring(s FROM 2 FOR 3)", "(substring s 2 3)");
    EXPECT_EXPR("SUBSTRING(s FOR 3)", "(substring s 1 3)");
    EXPECT_EXPR("substring(s, 2)", "(substring s 2)");
    EXPECT_EXPR("position('a' IN s || t)", "(position (|| s t) 'a')");
    EXPECT_EXPR("trim(LEADING 'x' FROM s)", "(ltrim s 'x')");
    EXPECT_EXPR("trim(TRAILING FROM s)", "(rtrim s)");
    EXPECT_EXPR("trim(BOTH FROM s)", "(trim s)");
    EXPECT_EXPR("trim(' ' FROM s)", "(trim s ' ')");
    EXPECT_EXPR("trim(s, 'x')", "(trim s 'x')");
    EXPECT_EXPR("a IS NOT DISTINCT FROM b + 1", "(not-distinct-from a (+ b 1))");
    EXPECT_EXPR("a IS DISTINCT FROM NULL", "(distinct-from a null)");
    EXPECT_EXPR("a = ANY (SELECT b FROM t)", "(in a (select (b) (from t)))");
    EXPECT_EXPR("a = SOME (SELECT b FROM t)", "(in a (select (b) (from t)))");
    EXPECT_EXPR("a <> ALL (SELECT b FROM t)", "(not-in a (select (b) (from t)))");
    EXPECT_EXPR("a > ALL (SELECT b FROM t)", "(all > a (select (b) (from t)))");
    EXPECT_EXPR("a <= ANY (SELECT b FROM t)", "(any <= a (select (b) (from t)))");
    EXPECT_EXPR("now()", "(now)");
    EXPECT_EXPR("coalesce(a, b, 0)", "(coalesce a b 0)");
    EXPECT_EXPR("sum(x) FILTER (WHERE y > 0)", "(sum x (filter (> y 0)))");
    EXPECT_EXPR("count(*) FILTER (WHERE x)", "(count * (filter x))");
    EXPECT_EXPR("row_number() OVER (PARTITION BY a, b ORDER BY c DESC NULLS FIRST, d)",
                "(row_number (over (partition a b) (order (c desc nulls-first) d)))");
    EXPECT_EXPR("sum(x) OVER (ORDER BY d ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)",
                "(sum x (over (order d) (rows 3-preceding current)))");
    EXPECT_EXPR("sum(x) OVER (ORDER BY d ROWS 2 PRECEDING)", "(sum x (over (order d) (rows 2-preceding current)))");
    EXPECT_EXPR("sum(x) OVER (ORDER BY d ROWS UNBOUNDED PRECEDING)",
                "(sum x (over (order d) (rows unbounded-preceding current)))");
    EXPECT_EXPR("sum(x) OVER (RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
                "(sum x (over (range unbounded-preceding unbounded-following)))");
    EXPECT_EXPR("avg(x) OVER (ORDER BY d ASC NULLS LAST ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)",
                "(avg x (over (order (d nulls-last)) (rows current 1-following)))");
    EXPECT_EXPR("avg(x) OVER (ROWS BETWEEN 5 FOLLOWING AND 7 FOLLOWING)",
                "(avg x (over (rows 5-following 7-following)))");
    EXPECT_EXPR("avg(x) OVER ()", "(avg x (over))");
    EXPECT_EXPR("sum(x) FILTER (WHERE b) OVER (PARTITION BY g)", "(sum x (filter b) (over (partition g)))");
    EXPECT_EXPR("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", "(case _ (when a 1) (when b 2) (else 3))");
    EXPECT_EXPR("CASE x WHEN 1 THEN 'a' END", "(case x (when 1 'a'))");
    EXPECT_EXPR("CASE WHEN a > 0 THEN CASE WHEN b THEN 1 END END",
                "(case _ (when (> a 0) (case _ (when b 1))))");
    EXPECT_EXPR("CAST(a AS DECIMAL(10, 2))", "(cast a DECIMAL(10,2))");
    EXPECT_EXPR("TRY_CAST(a AS varchar(20))", "(try_cast a VARCHAR)");
    EXPECT_EXPR("a::decimal", "(cast a DECIMAL(18,3))");
    EXPECT_EXPR("a::NUMERIC(5)", "(cast a DECIMAL(5,0))");
    EXPECT_EXPR("a::double precision", "(cast a DOUBLE)");
    EXPECT_EXPR("a::int4 + a::smallint + a::tinyint + a::integer", 
                "(+ (+ (+ (cast a INTEGER) (cast a INTEGER)) (cast a INTEGER)) (cast a INTEGER))");
    EXPECT_EXPR("a::bigint, a::int8, a::long, a::hugeint",
                "(cast a BIGINT) (cast a BIGINT) (cast a BIGINT) (cast a BIGINT)");
    EXPECT_EXPR("a::float, a::real, a::float8, a::double",
                "(cast a DOUBLE) (cast a DOUBLE) (cast a DOUBLE) (cast a DOUBLE)");
    EXPECT_EXPR("a::text, a::string, a::char(3), a::bool, a::boolean, a::date",
                "(cast a VARCHAR) (cast a VARCHAR) (cast a VARCHAR) (cast a BOOLEAN) (cast a BOOLEAN) (cast a DATE)");
    EXPECT_EXPR("EXTRACT(year FROM d)", "(extract 'year' d)");
    EXPECT_EXPR("extract('Month' FROM d + 1)", "(extract 'month' (+ d 1))");
    EXPECT_EXPR("left(s, 2) || right(s, 1)", "(|| (left s 2) (right s 1))");
    EXPECT_EXPR("if(a, 1, 2)", "(if a 1 2)");
    EXPECT_EXPR("replace(s, 'a', 'b')", "(replace s 'a' 'b')");
    EXPECT_EXPR("first(x) + last(y)", "(+ (first x) (last y))");
    EXPECT_EXPR("\"My Func\"(x)", "(My Func x)");
}

static void test_subqueries(void)
{
    EXPECT_EXPR("x IN (SELECT y FROM t)", "(in x (select (y) (from t)))");
    EXPECT_EXPR("x NOT IN ((SELECT y FROM t) UNION (SELECT z FROM u))",
                "(not-in x (union (select (y) (from t)) (select (z) (from u))))");
    EXPECT_EXPR("x IN ((SELECT y FROM t))", "(in x (select (y) (from t)))");
    EXPECT_EXPR("x IN ((SELECT 1), 2)", "(in x (subquery (select (1))) 2)");
    EXPECT_EXPR("EXISTS (SELECT 1)", "(exists (select (1)))");
    EXPECT_EXPR("x <= ANY (SELECT y FROM t) AND a", "(and (any <= x (select (y) (from t))) a)");
    EXPECT_EXPR("x = any_value(y)", "(= x (any_value y))");
    EXPECT_EXPR("NOT EXISTS (SELECT 1) AND a", "(and (not-exists (select (1))) a)");
    EXPECT_EXPR("(SELECT max(x) FROM t) + 1", "(+ (subquery (select ((max x)) (from t))) 1)");
    EXPECT_EXPR("((SELECT 1) UNION ALL (SELECT 2))", "(subquery (union-all (select (1)) (select (2))))");
    EXPECT_EXPR("(WITH c AS (SELECT 1 AS v) SELECT v FROM c)",
                "(subquery (query (with (c (select ((as 1 v))))) (select (v) (from c))))");
}

static void test_queries(void)
{
    EXPECT_SX("SELECT 1", "(select (1))");
    EXPECT_SX("select a, b AS c, d e, f \"G h\" FROM t", "(select (a (as b c) (as d e) (as f G h)) (from t))");
    EXPECT_SX("SELECT *, t.*, s.x.* FROM t", "(select (* t.* s.x.*) (from t))");
    EXPECT_SX("SELECT count(*) AS count, x AS date FROM t", "(select ((as (count *) count) (as x date)) (from t))");
    EXPECT_SX("SELECT DISTINCT a FROM t WHERE b > 1 GROUP BY a HAVING count(*) > 2 QUALIFY x ORDER BY a DESC "
              "LIMIT 10 OFFSET 5",
              "(query (select distinct (a) (from t) (where (> b 1)) (group a) (having (> (count *) 2)) (qualify x)) "
              "(order (a desc)) (limit 10) (offset 5))");
    EXPECT_SX("SELECT a, b FROM t GROUP BY 1, b", "(select (a b) (from t) (group 1 b))");
    EXPECT_SX("SELECT sum(x) OVER w, rank() OVER (w ORDER BY y ROWS 1 PRECEDING) FROM t HAVING 1 WINDOW w AS "
              "(PARTITION BY k), \"V\" AS (w) QUALIFY 2",
              "(select ((sum x (over w)) (rank (over (ref w) (order y) (rows 1-preceding current)))) (from t) "
              "(having 1) (window w (partition k)) (window V (ref w)) (qualify 2))");
    EXPECT_SX("SELECT sum(x) OVER (ORDER BY y) FROM t WINDOW w AS ()",
              "(select ((sum x (over (order y)))) (from t) (window w))");
    EXPECT_SX("SELECT a FROM t GROUP BY ALL", "(select (a) (from t) (group all))");
    EXPECT_SX("SELECT 1 EXCEPT ALL SELECT 2 INTERSECT ALL SELECT 3",
              "(except-all (select (1)) (intersect-all (select (2)) (select (3))))");
    EXPECT_SX("CREATE TABLE t (a INTEGER NOT NULL, b VARCHAR(10) NULL)", "(create-table t (a 1 not-null) (b 5))");
    EXPECT_SX("INSERT INTO t (a, b) VALUES (1, 'x')", "(insert t a b (select (*) (from (values (1 'x')))))");
    EXPECT_SX("INSERT INTO t SELECT * FROM u", "(insert t (select (*) (from u)))");
    EXPECT_SX("SELECT a FROM t OFFSET 2 LIMIT 1", "(query (select (a) (from t)) (limit 1) (offset 2))");
    EXPECT_SX("SELECT 1 WHERE false", "(select (1) (where false))");
    EXPECT_SX("SELECT 1 UNION SELECT 2 UNION ALL SELECT 3",
              "(union-all (union (select (1)) (select (2))) (select (3)))");
    EXPECT_SX("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3",
              "(union (select (1)) (intersect (select (2)) (select (3))))");
    EXPECT_SX("SELECT 1 INTERSECT SELECT 2 EXCEPT SELECT 3",
              "(except (intersect (select (1)) (select (2))) (select (3)))");
    EXPECT_SX("SELECT 1 EXCEPT DISTINCT SELECT 2 UNION DISTINCT SELECT 3",
              "(union (except (select (1)) (select (2))) (select (3)))");
    EXPECT_SX("(SELECT 1 ORDER BY 1 LIMIT 1) UNION (SELECT 2) ORDER BY 1",
              "(query (union (query (select (1)) (order 1) (limit 1)) (select (2))) (order 1))");
    EXPECT_SX("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5",
              "(query (union (select (a) (from t)) (select (b) (from u))) (order 1) (limit 5))");
    EXPECT_SX("(SELECT a FROM t) ORDER BY a", "(query (select (a) (from t)) (order a))");
    EXPECT_SX("((SELECT a FROM t))", "(select (a) (from t))");
    EXPECT_SX("(SELECT a FROM t LIMIT 3) LIMIT 1",
              "(query (select (*) (from (sub (query (select (a) (from t)) (limit 3))))) (limit 1))");
    EXPECT_SX("WITH x AS (SELECT 1 AS v), y(c) AS (SELECT v FROM x) SELECT c FROM y",
              "(query (with (x (select ((as 1 v)))) (y (c) (select (v) (from x)))) (select (c) (from y)))");
    EXPECT_SX("WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT 2",
              "(query (with (x (select (1)))) (union (select (*) (from x)) (select (2))))");
    EXPECT_SX("WITH x AS (SELECT 1) (SELECT * FROM x) ORDER BY 1",
              "(query (with (x (select (1)))) (select (*) (from x)) (order 1))");
}

static void test_from(void)
{
    EXPECT_SX("SELECT * FROM a, b, c", "(select (*) (from (join cross (join cross a b) c)))");
    EXPECT_SX("SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (x, y)",
              "(select (*) (from (join left (join inner a b (on (= a.x b.x))) c (using x y))))");
    EXPECT_SX("SELECT * FROM a INNER JOIN b ON 1 RIGHT OUTER JOIN c ON 2 FULL JOIN d ON 3 CROSS JOIN e "
              "SEMI JOIN f ON 4 ANTI JOIN g ON 5 LEFT OUTER JOIN h ON 6 FULL OUTER JOIN i USING (k) "
              "RIGHT JOIN j ON 7",
              "(select (*) (from (join right (join full (join left (join anti (join semi (join cross (join full "
              "(join right (join inner a b (on 1)) c (on 2)) d (on 3)) e) f (on 4)) g (on 5)) h (on 6)) i (using k)) "
              "j (on 7))))");
    EXPECT_SX("SELECT * FROM a, b JOIN c ON 1", "(select (*) (from (join cross a (join inner b c (on 1)))))");
    EXPECT_SX("SELECT * FROM (a JOIN b ON 1) JOIN c ON 2",
              "(select (*) (from (join inner (join inner a b (on 1)) c (on 2))))");
    EXPECT_SX("SELECT * FROM a x JOIN b AS y ON x.k = y.k",
              "(select (*) (from (join inner (as a x) (as b y) (on (= x.k y.k)))))");
    EXPECT_SX("SELECT * FROM analytics.country_month AS cm", "(select (*) (from (as analytics.country_month cm)))");
    EXPECT_SX("SELECT * FROM \"My Table\" t(a, b)", "(select (*) (from (as My Table t (a b))))");
    EXPECT_SX("SELECT * FROM (SELECT 1 AS a) AS s(b)", "(select (*) (from (as (sub (select ((as 1 a)))) s (b))))");
    EXPECT_SX("SELECT * FROM (SELECT 1) sub", "(select (*) (from (as (sub (select (1))) sub)))");
    EXPECT_SX("SELECT * FROM (SELECT 1)", "(select (*) (from (sub (select (1)))))");
    EXPECT_SX("SELECT * FROM ((SELECT 1) UNION (SELECT 2)) u",
              "(select (*) (from (as (sub (union (select (1)) (select (2)))) u)))");
    EXPECT_SX("SELECT * FROM (SELECT a FROM t) ORDER BY a",
              "(query (select (*) (from (sub (select (a) (from t))))) (order a))");
    EXPECT_SX("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(c1, c2)",
              "(select (*) (from (as (values (1 'a') (2 'b')) v (c1 c2))))");
    EXPECT_SX("SELECT * FROM VALUES (1), (-2) v(x)", "(select (*) (from (as (values (1) ((neg 2))) v (x))))");
    EXPECT_SX("SELECT * FROM read_csv('data/*.csv', sep = ',', header = true, columns = {'a': 'BIGINT', "
              "'B c': 'DATE'}, names = ['a', 'b']) AS r",
              "(select (*) (from (as (read_csv 'data/*.csv' (= sep ',') (= header true) (= columns {a 'BIGINT' "
              "B c 'DATE'}) (= names (list_value 'a' 'b'))) r)))");
    EXPECT_SX("SELECT * FROM read_h5('f.h5', '/grp') h", "(select (*) (from (as (read_h5 'f.h5' '/grp') h)))");
    EXPECT_ERR_HAS("SELECT * FROM range(10), Read_CSV(x := 1)",
                   "sql:1:37: syntax error: expected ',' or ')', found ':'");
    EXPECT_SX("SELECT * FROM range(10), f()", "(select (*) (from (join cross (range 10) (f))))");
    EXPECT_SX("SELECT * FROM t(columns = {})", "(select (*) (from (t (= columns {}))))");
    EXPECT_SX("SELECT * FROM t WHERE a > 1 ORDER BY b", "(query (select (*) (from t) (where (> a 1))) (order b))");
    EXPECT_SX("SELECT * FROM t semi JOIN u USING (k)", "(select (*) (from (join semi t u (using k))))");
    EXPECT_SX("SELECT * FROM t AS semi", "(select (*) (from (as t semi)))");
}

static void test_statements(void)
{
    EXPECT_SX("CREATE TABLE analytics.country_month AS SELECT 1",
              "(create-table analytics.country_month (select (1)))");
    EXPECT_SX("create or replace table t as (select 1)", "(create-table t or-replace (select (1)))");
    EXPECT_SX("CREATE TABLE IF NOT EXISTS t AS SELECT 1", "(create-table t if-not-exists (select (1)))");
    EXPECT_SX("CREATE VIEW v AS SELECT a FROM t", "(create-view v (select (a) (from t)))");
    EXPECT_SX("CREATE OR REPLACE VIEW s.v AS WITH c AS (SELECT 1) SELECT * FROM c",
              "(create-view s.v or-replace (query (with (c (select (1)))) (select (*) (from c))))");
    EXPECT_SX("DROP TABLE t; drop view if exists s.v; DROP TABLE IF EXISTS \"X\"",
              "(drop-table t); (drop-view s.v if-exists); (drop-table X if-exists)");
    EXPECT_SX("EXPLAIN SELECT 1", "(explain (select (1)))");
    EXPECT_SX("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "(explain analyze (create-table t (select (1))))");
    EXPECT_SX("SELECT 1;", "(select (1))");
    EXPECT_SX(";; SELECT 1 ;; SELECT 2;", "(select (1)); (select (2))");
    EXPECT_SX("", "");
    EXPECT_SX("  -- only a comment\n /* and /* a nested */ block */ ; ", "");
    EXPECT_SX("SELECT 1 -- trailing", "(select (1))");
    EXPECT_SX("SELECT/**/1/* x */+/*y*/2", "(select ((+ 1 2)))");

    /* statement texts and positions */
    const char *sql = "-- header\nSELECT a\n  FROM t; /* c */ CREATE TABLE x AS\nSELECT 2 -- tail\n;\n";
    ts_sql_script *s;
    if (CHECK_OK(ts_sql_parse(sql, "job.sql", &s))) {
        CHECK(s->nstmts == 2, "nstmts %d", s->nstmts);
        CHECK(strcmp(s->filename, "job.sql") == 0 && strcmp(s->text, sql) == 0, "script copies");
        CHECK(strcmp(s->stmts[0]->text, "SELECT a\n  FROM t") == 0, "text 0 '%s'", s->stmts[0]->text);
        CHECK(strcmp(s->stmts[1]->text, "CREATE TABLE x AS\nSELECT 2") == 0, "text 1 '%s'", s->stmts[1]->text);
        CHECK(s->stmts[0]->pos.line == 2 && s->stmts[0]->pos.col == 1, "pos 0");
        CHECK(s->stmts[1]->pos.line == 3 && s->stmts[1]->pos.col == 19, "pos 1 %d:%d", s->stmts[1]->pos.line,
              s->stmts[1]->pos.col);
        const ts_sql_select *sel = s->stmts[0]->query->select;
        CHECK(sel->pos.line == 2 && sel->pos.col == 1, "select pos");
        CHECK(sel->items[0].expr->pos.line == 2 && sel->items[0].expr->pos.col == 8, "item pos");
        CHECK(sel->from->pos.line == 3 && sel->from->pos.col == 8, "from pos");
        const ts_sql_query *q = s->stmts[1]->query;
        CHECK(q->pos.line == 4 && q->pos.col == 1, "query pos %d:%d", q->pos.line, q->pos.col);
        ts_sql_script_free(s);
    }
    /* columns count code points; binary nodes sit at their first token */
    if (CHECK_OK(ts_sql_parse("SELECT 'é', x + 1", "sql", &s))) {
        const ts_sql_expr *e = s->stmts[0]->query->select->items[1].expr;
        CHECK(e->kind == TS_SQL_E_BINARY && e->pos.line == 1 && e->pos.col == 13, "utf-8 col %d", e->pos.col);
        CHECK(e->args[1]->pos.col == 17, "rhs col %d", e->args[1]->pos.col);
        ts_sql_script_free(s);
    }
    if (CHECK_OK(ts_sql_parse("EXPLAIN  SELECT 1", "sql", &s))) {
        CHECK(strcmp(s->stmts[0]->text, "EXPLAIN  SELECT 1") == 0, "explain text");
        CHECK(strcmp(s->stmts[0]->inner->text, "SELECT 1") == 0, "inner text");
        CHECK(s->stmts[0]->inner->pos.col == 10, "inner pos");
        ts_sql_script_free(s);
    }
    if (CHECK_OK(ts_sql_parse(NULL, NULL, &s))) {
        CHECK(s->nstmts == 0 && strcmp(s->filename, "sql") == 0 && strcmp(s->text, "") == 0, "NULL text");
        ts_sql_script_free(s);
    }
    ts_sql_script_free(NULL);
}

static void test_errors(void)
{
    EXPECT_ERR("-- a\n-- b\nSELECT a, b FORM t", "job.sql",
               "job.sql:3:13: syntax error: expected FROM, found 'FORM'\n  SELECT a, b FORM t\n              ^~~~");
    EXPECT_ERR("SELECT * FORM t", "sql", "sql:1:10: syntax error: expected FROM, found 'FORM'\n"
                                          "  SELECT * FORM t\n           ^~~~");
    EXPECT_ERR("SELECT a FROM t WERE a = 1", "sql", "sql:1:17: syntax error: expected WHERE, found 'WERE'\n"
                                                     "  SELECT a FROM t WERE a = 1\n                  ^~~~");
    EXPECT_ERR("SELECT a FROM t JION u ON a = b", "sql",
               "sql:1:17: syntax error: expected JOIN, found 'JION'\n  SELECT a FROM t JION u ON a = b\n"
               "                  ^~~~");
    EXPECT_ERR("SELECT a FROM t ORDER BY a LIMT 5", "sql",
               "sql:1:28: syntax error: expected LIMIT, found 'LIMT'\n  SELECT a FROM t ORDER BY a LIMT 5\n"
               "                             ^~~~");
    EXPECT_ERR("SELEC 1", "sql", "sql:1:1: syntax error: expected SELECT, found 'SELEC'\n  SELEC 1\n  ^~~~~");
    EXPECT_ERR("UPDATE t SET a = 1", "sql",
               "sql:1:1: syntax error: expected a statement (SELECT, WITH, CREATE, INSERT, DROP or EXPLAIN), found "
               "'UPDATE'\n  UPDATE t SET a = 1\n  ^~~~~~");
    EXPECT_ERR("CREATE TABEL t AS SELECT 1", "sql",
               "sql:1:8: syntax error: expected TABLE, found 'TABEL'\n  CREATE TABEL t AS SELECT 1\n         ^~~~~");
    EXPECT_ERR("CREATE TABLE t (a INT PRIMARY KEY)", "sql",
               "sql:1:23: column constraint 'PRIMARY' is not supported (only NOT NULL: tables have no keys, defaults "
               "or checks)\n  CREATE TABLE t (a INT PRIMARY KEY)\n                        ^~~~~~~");
    EXPECT_ERR_HAS("CREATE VIEW v (a INT)", "sql:1:15: syntax error: expected AS, found '('");
    EXPECT_ERR_HAS("INSERT t VALUES (1)", "syntax error: expected INTO, found 't'");
    EXPECT_ERR_HAS("INSERT INTO t 1", "syntax error: expected VALUES or a query, found '1'");
    EXPECT_ERR("SELECT (1 + 2", "sql",
               "sql:1:14: syntax error: expected ')', found end of input\n  SELECT (1 + 2\n               ^");
    EXPECT_ERR("SELECT 1 2", "sql",
               "sql:1:10: syntax error: expected ';' or end of input, found '2'\n  SELECT 1 2\n           ^");
    EXPECT_ERR("SELECT a FROM t;\nSELECT b FROM", "f.sql",
               "f.sql:2:14: syntax error: expected a table name, table function or subquery, found end of input\n"
               "  SELECT b FROM\n               ^");
    EXPECT_ERR("SELECT 'abc", "sql", "sql:1:8: syntax error: unterminated string literal\n  SELECT 'abc\n         ^");
    EXPECT_ERR("SELECT \"abc", "sql",
               "sql:1:8: syntax error: unterminated quoted identifier\n  SELECT \"abc\n         ^");
    EXPECT_ERR("SELECT 1 /* x", "sql",
               "sql:1:10: syntax error: unterminated comment\n  SELECT 1 /* x\n           ^~");
    EXPECT_ERR("SELECT 1 /* /* */", "sql",
               "sql:1:10: syntax error: unterminated comment\n  SELECT 1 /* /* */\n           ^~");
    EXPECT_ERR("SELECT 12abc", "sql", "sql:1:8: syntax error: malformed number\n  SELECT 12abc\n         ^~~~~");
    EXPECT_ERR("SELECT 1e+", "sql", "sql:1:8: syntax error: malformed number\n  SELECT 1e+\n         ^~~");
    EXPECT_ERR("SELECT 1.2.3", "sql", "sql:1:8: syntax error: malformed number\n  SELECT 1.2.3\n         ^~~~~");
    EXPECT_ERR("SELECT 1e999", "sql", "sql:1:8: syntax error: number out of range\n  SELECT 1e999\n         ^~~~~");
    EXPECT_ERR("SELECT #", "sql", "sql:1:8: syntax error: unexpected character '#'\n  SELECT #\n         ^");
    EXPECT_ERR("SELECT \"\"", "sql", "sql:1:8: syntax error: empty quoted identifier\n  SELECT \"\"\n         ^~");
    EXPECT_ERR("SELECT a::VARCHR", "sql",
               "sql:1:11: unknown type 'VARCHR' (did you mean VARCHAR?)\n  SELECT a::VARCHR\n            ^~~~~~");
    EXPECT_ERR("SELECT CAST(a AS TIMETZ)", "sql",
               "sql:1:18: unknown type 'TIMETZ'\n  SELECT CAST(a AS TIMETZ)\n                   ^~~~~~");
    EXPECT_ERR("SELECT a::'x'", "sql",
               "sql:1:11: syntax error: expected a type name, found string 'x'\n  SELECT a::'x'\n            ^~~");
    /* tabs are copied into the caret line so the caret lines up however tabs are shown */
    EXPECT_ERR("SELECT\ta,\tb FORM t", "sql",
               "sql:1:13: syntax error: expected FROM, found 'FORM'\n  SELECT\ta,\tb FORM t\n        \t  \t  ^~~~");
    /* multi-byte characters before the token take one column each */
    EXPECT_ERR("SELECT 'ü' #", "sql",
               "sql:1:12: syntax error: unexpected character '#'\n  SELECT 'ü' #\n             ^");
    EXPECT_ERR("SELECT \x01", "sql",
               "sql:1:8: syntax error: unexpected character (byte 0x01)\n  SELECT ?\n         ^");
    EXPECT_ERR("SELECT a\r\nFORM t", "sql", "sql:2:1: syntax error: expected FROM, found 'FORM'\n  FORM t\n  ^~~~");

    EXPECT_ERR_HAS("SELECT sum(x) OVER (ROWS 1 FOLLOWING)",
                   "sql:1:21: syntax error: window frame starts after it ends");
    EXPECT_ERR_HAS("SELECT sum(x) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING)", "window frame starts after");
    EXPECT_ERR_HAS("SELECT sum(x) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND UNBOUNDED FOLLOWING)",
                   "window frame starts after");
    EXPECT_ERR_HAS("SELECT sum(x) OVER (ROWS x PRECEDING)", "expected UNBOUNDED, CURRENT ROW or a row count");
    EXPECT_ERR_HAS("SELECT sum(x) OVER 1", "sql:1:20: syntax error: expected '(' or a window name after OVER");
    EXPECT_ERR_HAS("SELECT 1 FROM t WINDOW w (ORDER BY a)", "sql:1:26: syntax error: expected AS, found '('");
    EXPECT_ERR_HAS("SELECT 1 FROM t WINDOW AS (ORDER BY a)", "sql:1:24: syntax error: expected a window name");
    EXPECT_ERR_HAS("SELECT 1 FROM t WINDOW w AS (ORDER BY a) WINDOW v AS ()", "sql:1:42:");
    EXPECT_ERR_HAS("SELECT a IS DISTINCT b", "syntax error: expected FROM, found 'b'");
    EXPECT_ERR_HAS("SELECT a IS 1", "syntax error: expected NULL or DISTINCT FROM, found '1'");
    EXPECT_ERR_HAS("SELECT * FROM (VALUES (1, 2), (3)) v",
                   "sql:1:31: syntax error: VALUES row 2 has 1 values, the first row has 2");
    EXPECT_ERR_HAS("SELECT CAST(a AS DECIMAL(40, 2))", "DECIMAL precision must be between 1 and 38");
    EXPECT_ERR_HAS("SELECT CAST(a AS DECIMAL(4, 5))", "DECIMAL scale must be between 0 and 4");
    EXPECT_ERR_HAS("SELECT CAST(a AS VARCHAR(0))", "VARCHAR length must be between 1 and");
    EXPECT_ERR_HAS("CREATE OR REPLACE TABLE IF NOT EXISTS t AS SELECT 1",
                   "sql:1:25: syntax error: OR REPLACE and IF NOT EXISTS cannot be combined");
    EXPECT_ERR_HAS("SELECT a FROM t JOIN u", "expected ON or USING, found end of input");
    EXPECT_ERR_HAS("SELECT a FROM t LEFT u ON 1", "expected JOIN, found 'u'");
    EXPECT_ERR_HAS("SELECT CASE END", "expected an expression, found 'END'");
    EXPECT_ERR_HAS("SELECT CASE a END", "expected WHEN, found 'END'");
    EXPECT_ERR_HAS("SELECT CASE WHEN a THEN b", "expected WHEN, ELSE or END, found end of input");
    EXPECT_ERR_HAS("SELECT t.*.x FROM t", "expected ';' or end of input, found '.'");
    EXPECT_ERR_HAS("SELECT a + t.* FROM t", "expected an operator, found '.'");
    EXPECT_ERR_HAS("SELECT * FROM t x y", "expected ';' or end of input, found 'y'");
    EXPECT_ERR_HAS("SELECT a FROM t ORDER a", "expected BY, found 'a'");
    EXPECT_ERR_HAS("SELECT a FROM", "expected a table name, table function or subquery, found end of input");
    EXPECT_ERR_HAS("SELECT FROM t", "expected an expression, found 'FROM'");
    EXPECT_ERR_HAS("SELECT a AS FROM t", "expected an alias, found 'FROM'");
    EXPECT_ERR_HAS("DROP TABEL t", "expected TABLE, found 'TABEL'");
    EXPECT_ERR_HAS("DROP t", "expected TABLE or VIEW, found 't'");
    EXPECT_ERR_HAS("WITH x AS SELECT 1 SELECT 2", "expected '(', found 'SELECT'");
    EXPECT_ERR_HAS("SELECT 1 UNION 2", "expected SELECT or '(', found '2'");
    EXPECT_ERR_HAS("SELECT count(DISTINCT) FROM t", "expected an expression, found ')'");
    EXPECT_ERR_HAS("SELECT * FROM f(a = {'x' 1})", "expected ':', found '1'");
    EXPECT_ERR_HAS("SELECT $1", "unexpected character '$'");
    EXPECT_ERR_HAS("SELECT a ! b", "unexpected character '!'");
    EXPECT_ERR_HAS("SELECT 1; SELECT 2 3", "sql:1:20: syntax error: expected ';' or end of input, found '3'");
    /* long tokens are shortened in the message */
    EXPECT_ERR_HAS("SELECT (1 abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz)",
                   "found 'abcdefghijklmnopqrstuvwxyzabcdefghijklmn...'");
}

/* A long line is shown as a window around the token, with "..." where it is cut. */
static void test_long_line(void)
{
    char sql[512], want[1024];
    int n = snprintf(sql, sizeof sql, "SELECT ");
    for (int k = 0; k < 70; k++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "1 + ");
    snprintf(sql + n, sizeof sql - (size_t)n, "# 1");
    /* '#' is at byte 287 (column 288); the window starts 80 bytes earlier and runs to the end of the line */
    int w = snprintf(want, sizeof want, "sql:1:288: syntax error: unexpected character '#'\n  ...%s\n  ", sql + 207);
    for (int k = 0; k < 3 + 80; k++)
        want[w++] = ' ';
    snprintf(want + w, sizeof want - (size_t)w, "^");
    EXPECT_ERR(sql, "sql", want);

    /* cut on the right too: a 1000-byte line with the error early */
    char *big = malloc(1100);
    n = snprintf(big, 1100, "SELECT # ");
    while (n < 1000)
        big[n++] = 'x';
    big[n] = '\0';
    w = snprintf(want, sizeof want, "sql:1:8: syntax error: unexpected character '#'\n  %.200s...\n         ^", big);
    EXPECT_ERR(big, "sql", want);
    free(big);
}

static void test_error_at(void)
{
    ts_sql_script *s;
    if (!CHECK_OK(ts_sql_parse("SELECT a,\n  bogus_col, 'it''s' FROM t", "q.sql", &s)))
        return;
    const ts_sql_select *sel = s->stmts[0]->query->select;
    ts_err err = ts_sql_error_at(s, sel->items[1].expr->pos, TS_ERR_USAGE, "unknown column '%s'", "bogus_col");
    char *m = error_text();
    CHECK(err == TS_ERR_USAGE, "code");
    CHECK(strcmp(m, "q.sql:2:3: unknown column 'bogus_col'\n    bogus_col, 'it''s' FROM t\n    ^~~~~~~~~") == 0, "%s",
          m);
    free(m);
    err = ts_sql_error_at(s, sel->items[2].expr->pos, TS_ERR_DATA, "bad %s", "string");
    m = error_text();
    CHECK(err == TS_ERR_DATA, "code passes through");
    CHECK(strcmp(m, "q.sql:2:14: bad string\n    bogus_col, 'it''s' FROM t\n               ^~~~~~~") == 0, "%s", m);
    free(m);
    /* a position past the end of the text still gives a message */
    ts_sql_pos far = {9, 1};
    err = ts_sql_error_at(s, far, TS_ERR_USAGE, "far");
    m = error_text();
    CHECK(err == TS_ERR_USAGE && strncmp(m, "q.sql:2:28: far\n", 16) == 0, "%s", m);
    free(m);
    err = ts_sql_error_at(NULL, far, TS_ERR_USAGE, "no script");
    m = error_text();
    CHECK(err == TS_ERR_USAGE && strcmp(m, "sql:9:1: no script") == 0, "%s", m);
    free(m);

    /* arena allocations for later rewrites */
    unsigned char *z = ts_sql_alloc(s, 100);
    int zero = z != NULL;
    for (int k = 0; zero && k < 100; k++)
        zero = z[k] == 0;
    CHECK(zero && ((uintptr_t)z % 16) == 0, "zeroed, aligned");
    unsigned char *big = ts_sql_alloc(s, 1 << 20);
    CHECK(big && big[0] == 0 && big[(1 << 20) - 1] == 0, "big block");
    memset(big, 1, 1 << 20);
    char *d = ts_sql_strdup(s, "copy");
    CHECK(d && strcmp(d, "copy") == 0, "strdup");
    CHECK(ts_sql_strdup(s, NULL) == NULL && ts_sql_alloc(NULL, 8) == NULL, "NULL cases");
    for (int k = 0; k < 10000; k++)
        CHECK(ts_sql_alloc(s, (size_t)(k % 300) + 1) != NULL, "many small");
    ts_sql_script_free(s);
}

static void test_closest(void)
{
    const char *kws[] = {"SELECT", "FROM", "WHERE"};
    CHECK(ts_sql_closest("FORM", kws, 3) == kws[1], "FORM");
    CHECK(ts_sql_closest("form", kws, 3) == kws[1], "case-insensitive");
    CHECK(ts_sql_closest("from", kws, 3) == kws[1], "exact");
    CHECK(ts_sql_closest("xyz", kws, 3) == NULL, "far");
    CHECK(ts_sql_closest("FORM", kws, 0) == NULL && ts_sql_closest("FORM", NULL, 3) == NULL, "none");
    const char *ab[] = {"abd"}, *b[] = {"b"}, *ba[] = {"ba"}, *cats[] = {"bat", "hat"}, *nul[] = {NULL, "x"};
    CHECK(ts_sql_closest("abc", ab, 1) == ab[0], "one substitution");
    CHECK(ts_sql_closest("a", b, 1) == b[0], "short names allow 2 edits");
    CHECK(ts_sql_closest("ab", ba, 1) == ba[0], "a swap is one edit");
    CHECK(ts_sql_closest("cat", cats, 2) == cats[0], "ties: first");
    CHECK(ts_sql_closest("y", nul, 2) == nul[1], "NULL candidates skipped");
    const char *c8[] = {"abcdefgh"}, *c7[] = {"abcdefg"};
    CHECK(ts_sql_closest("abcdefghijkl", c8, 1) == c8[0], "12 letters: 4 edits allowed");
    CHECK(ts_sql_closest("abcdefghijkl", c7, 1) == NULL, "12 letters: 5 edits too many");
    const char *cols[] = {"account_id", "amount", "booking_date"};
    CHECK(ts_sql_closest("acount_id", cols, 3) == cols[0], "column");
    CHECK(ts_sql_closest("bookingdate", cols, 3) == cols[2], "column 2");
}

static void expect_subst(const char *text, const char *const *names, const char *const *values, int n,
                         const char *want)
{
    char *out = NULL;
    if (CHECK_OK(ts_sql_substitute(text, "job.sql", names, values, n, &out)))
        CHECK(strcmp(out, want) == 0, "%s -> %s, want %s", text, out, want);
    free(out);
}

static void expect_subst_err(const char *text, const char *const *names, int n, const char *want)
{
    char *out = (char *)"unset";
    const char *values[] = {"1", "2"};
    ts_err err = ts_sql_substitute(text, "job.sql", names, values, n, &out);
    char *m = error_text();
    CHECK(err == TS_ERR_USAGE && out == NULL, "%s: code %d", text, err);
    CHECK(strcmp(m, want) == 0, "%s\n  got:\n%s\n  want:\n%s", text, m, want);
    free(m);
}

static void test_substitute(void)
{
    const char *names[] = {"a", "dir", "table"}, *values[] = {"1", "/data/in", "${a}"};
    expect_subst("SELECT ${a} + ${a}", names, values, 3, "SELECT 1 + 1");
    expect_subst("FROM read_csv('${dir}/*.csv')", names, values, 3, "FROM read_csv('/data/in/*.csv')");
    expect_subst("$x $ {a} $${a}$", names, values, 3, "$x $ {a} $1$");
    expect_subst("${table}", names, values, 3, "${a}"); /* values are not substituted again */
    expect_subst("no params", NULL, NULL, 0, "no params");
    expect_subst("", names, values, 3, "");
    expect_subst("end $", names, values, 3, "end $");
    expect_subst_err("SELECT 1;\nSELECT ${tabel}", names, 3,
                     "job.sql:2:8: unknown parameter ${tabel} (did you mean ${table}?)\n  SELECT ${tabel}\n"
                     "         ^~~~~~~~");
    expect_subst_err("SELECT ${zzzzzz}", names, 3,
                     "job.sql:1:8: unknown parameter ${zzzzzz}\n  SELECT ${zzzzzz}\n         ^~~~~~~~~");
    expect_subst_err("SELECT ${x}", NULL, 0,
                     "job.sql:1:8: unknown parameter ${x} (no parameters are set)\n  SELECT ${x}\n         ^~~~");
    expect_subst_err("SELECT ${a", names, 3,
                     "job.sql:1:8: unterminated parameter: '${' without '}'\n  SELECT ${a\n         ^~");
    expect_subst_err("SELECT ${a\n}", names, 3,
                     "job.sql:1:8: unterminated parameter: '${' without '}'\n  SELECT ${a\n         ^~");
    expect_subst_err("x ${}", names, 3, "job.sql:1:3: empty parameter name '${}'\n  x ${}\n    ^~~");
}

/* Nesting and tree height are capped with clean errors; just below the caps parsing works. */
static void test_limits(void)
{
    size_t cap = 64 << 10;
    char *sql = malloc(cap);
    char *got;
    int n;

    n = snprintf(sql, cap, "SELECT ");
    for (int k = 0; k < 150; k++)
        sql[n++] = '(';
    sql[n++] = '1';
    for (int k = 0; k < 150; k++)
        sql[n++] = ')';
    sql[n] = '\0';
    EXPECT_SX(sql, "(select (1))");

    n = snprintf(sql, cap, "SELECT ");
    for (int k = 0; k < 5000; k++)
        sql[n++] = '(';
    sql[n] = '\0';
    EXPECT_ERR_HAS(sql, "nesting deeper than 200 levels");

    n = snprintf(sql, cap, "SELECT ");
    for (int k = 0; k < 20000; k++) /* "- - - 1": "--" would start a comment */
        sql[n++] = '-', sql[n++] = ' ';
    sql[n++] = '1', sql[n] = '\0';
    EXPECT_ERR_HAS(sql, "nesting deeper than 200 levels");

    n = snprintf(sql, cap, "SELECT ");
    for (int k = 0; k < 5000; k++)
        n += snprintf(sql + n, cap - (size_t)n, "NOT ");
    snprintf(sql + n, cap - (size_t)n, "a");
    EXPECT_ERR_HAS(sql, "nesting deeper than 200 levels");

    n = snprintf(sql, cap, "SELECT * FROM ");
    for (int k = 0; k < 3000; k++)
        n += snprintf(sql + n, cap - (size_t)n, "(SELECT * FROM ");
    snprintf(sql + n, cap - (size_t)n, "t");
    EXPECT_ERR_HAS(sql, "nesting deeper than 200 levels");

    n = 0;
    for (int k = 0; k < 1000; k++)
        n += snprintf(sql + n, cap - (size_t)n, "EXPLAIN ");
    snprintf(sql + n, cap - (size_t)n, "SELECT 1");
    EXPECT_ERR_HAS(sql, "nesting deeper than 200 levels");

    /* a flat chain is parsed by a loop but makes a deep tree */
    n = snprintf(sql, cap, "SELECT 1");
    for (int k = 0; k < 5000; k++)
        n += snprintf(sql + n, cap - (size_t)n, "+1");
    EXPECT_ERR_HAS(sql, "sql:1:8: syntax error: expression nested deeper than 1000 levels");
    n = snprintf(sql, cap, "SELECT a FROM t WHERE x = 1");
    for (int k = 0; k < 3000; k++)
        n += snprintf(sql + n, cap - (size_t)n, " OR x = %d", k);
    EXPECT_ERR_HAS(sql, "expression nested deeper than 1000 levels");

    n = snprintf(sql, cap, "SELECT 1");
    for (int k = 0; k < 900; k++)
        n += snprintf(sql + n, cap - (size_t)n, "+%d", k);
    got = sx(sql);
    CHECK(strncmp(got, "(select ((+ (+ (+ ", 18) == 0 && strstr(got, " 899)") != NULL, "900 terms: %.60s", got);
    free(got);

    /* long flat lists are fine */
    n = snprintf(sql, cap, "SELECT x IN (0");
    for (int k = 1; k < 5000; k++)
        n += snprintf(sql + n, cap - (size_t)n, ", %d", k);
    snprintf(sql + n, cap - (size_t)n, ")");
    ts_sql_script *s;
    if (CHECK_OK(ts_sql_parse(sql, "sql", &s))) {
        const ts_sql_expr *e = s->stmts[0]->query->select->items[0].expr;
        CHECK(e->kind == TS_SQL_E_IN_LIST && e->nargs == 5001 && e->args[5000]->ival == 4999, "5000-element IN");
        ts_sql_script_free(s);
    }
    free(sql);
}

/* Random input never crashes: the parser returns a tree (which the printer walks, touching every node) or a
 * usage error located in the text. */
static void parse_any(const char *sql)
{
    ts_sql_script *s = NULL;
    ts_err err = ts_sql_parse(sql, "fz", &s);
    if (err == TS_OK) {
        free(print_script(s));
        ts_sql_script_free(s);
        return;
    }
    CHECK(err == TS_ERR_USAGE && s == NULL, "code %d for '%.80s'", err, sql);
    CHECK(strncmp(ts_error_message(), "fz:", 3) == 0 && strchr(ts_error_message(), '^') != NULL,
          "message '%.200s'", ts_error_message());
}

static const char *const vocab[] = {
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ALL", "HAVING", "QUALIFY", "ORDER", "LIMIT", "OFFSET", "UNION",
    "EXCEPT", "INTERSECT", "DISTINCT", "AS", "JOIN", "LEFT", "RIGHT", "FULL", "OUTER", "INNER", "CROSS", "SEMI",
    "ANTI", "ON", "USING", "WITH", "CREATE", "OR", "REPLACE", "TABLE", "VIEW", "IF", "NOT", "EXISTS", "DROP",
    "EXPLAIN", "ANALYZE", "AND", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "IN", "LIKE", "ILIKE", "CASE", "WHEN",
    "THEN", "ELSE", "END", "CAST", "TRY_CAST", "DATE", "EXTRACT", "OVER", "PARTITION", "ROWS", "RANGE",
    "UNBOUNDED", "PRECEDING", "FOLLOWING", "CURRENT", "ROW", "FILTER", "NULLS", "FIRST", "LAST", "ASC", "DESC",
    "VALUES", "count", "sum", "read_csv", "a", "b", "t", "x", "\"Q\"", "1", "2.5", "1e3", "'s'", "'2024-01-01'",
    "(", ")", "(", ")", ",", ",", ".", ";", "*", "+", "-", "/", "//", "%", "||", "=", "==", "<>", "!=", "<", "<=",
    ">", ">=", "::", "INT", "DECIMAL", "VARCHAR", "[", "]", "{", "}", ":", "--c\n", "/*c*/", "FORM", "${x}"};

static const char *const corpus[] = {
    "WITH c AS (SELECT a, sum(b) AS s FROM t WHERE x BETWEEN 1 AND 2 GROUP BY a) SELECT * FROM c ORDER BY s DESC",
    "SELECT a, count(*) FILTER (WHERE b > 1), row_number() OVER (PARTITION BY a ORDER BY b ROWS 2 PRECEDING) "
    "FROM t LEFT JOIN u USING (k) QUALIFY x = 1",
    "CREATE OR REPLACE TABLE s.t AS SELECT CAST(a AS DECIMAL(10, 2)), b::DATE, CASE WHEN c THEN 1 ELSE 2 END FROM "
    "read_csv('f.csv', columns = {'a': 'INT'}, names = ['a'])",
    "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(x, y) WHERE x IN (SELECT 1 UNION SELECT 2) AND NOT EXISTS "
    "(SELECT 1) LIMIT 3 OFFSET 1",
    "EXPLAIN ANALYZE SELECT EXTRACT(year FROM d), DATE '2020-01-01', -a || 'x', a NOT LIKE 'b%' FROM t, u",
};

static void test_random(void)
{
    ts_test_rng rng = ts_rng_seed(20240601);
    char buf[4096];
    /* random bytes */
    for (int it = 0; it < 20000; it++) {
        int len = (int)ts_rng_below(&rng, 120);
        for (int k = 0; k < len; k++)
            buf[k] = (char)ts_rng_range(&rng, 1, 255);
        buf[len] = '\0';
        parse_any(buf);
    }
    /* printable soups, biased to SQL punctuation */
    const char *chars = "SELECTFROMWHEREselectfrom abcxyz0123456789.,;()'\"*+-/%|=<>!:[]{}$\n\t_-";
    for (int it = 0; it < 20000; it++) {
        int len = (int)ts_rng_below(&rng, 80);
        for (int k = 0; k < len; k++)
            buf[k] = chars[ts_rng_below(&rng, strlen(chars))];
        buf[len] = '\0';
        parse_any(buf);
    }
    /* token soups */
    int nvocab = (int)(sizeof vocab / sizeof vocab[0]);
    for (int it = 0; it < 30000; it++) {
        int ntok = (int)ts_rng_range(&rng, 1, 40), n = 0;
        if (ts_rng_below(&rng, 2))
            n = snprintf(buf, sizeof buf, "SELECT ");
        for (int k = 0; k < ntok && n < (int)sizeof buf - 64; k++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s ", vocab[ts_rng_below(&rng, (uint64_t)nvocab)]);
        parse_any(buf);
    }
    /* mutated valid statements: drop, repeat or replace one word */
    int ncorpus = (int)(sizeof corpus / sizeof corpus[0]);
    for (int k = 0; k < ncorpus; k++) {
        ts_sql_script *s;
        if (CHECK_OK(ts_sql_parse(corpus[k], "sql", &s)))
            ts_sql_script_free(s);
    }
    for (int it = 0; it < 20000; it++) {
        const char *src = corpus[ts_rng_below(&rng, (uint64_t)ncorpus)];
        size_t len = strlen(src), at = ts_rng_below(&rng, len), end = at;
        while (end < len && src[end] != ' ')
            end++;
        int n = snprintf(buf, sizeof buf, "%.*s", (int)at, src);
        switch (ts_rng_below(&rng, 3)) {
        case 0: break;
        case 1: /* the word twice */
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%.*s %.*s", (int)(end - at), src + at, (int)(end - at),
                          src + at);
            break;
        default: n += snprintf(buf + n, sizeof buf - (size_t)n, "%s", vocab[ts_rng_below(&rng, (uint64_t)nvocab)]);
        }
        snprintf(buf + n, sizeof buf - (size_t)n, "%s", src + end);
        parse_any(buf);
    }
    /* substitution on random text never crashes either */
    const char *names[] = {"x", "y"}, *values[] = {"1", "${x}"};
    for (int it = 0; it < 5000; it++) {
        int len = (int)ts_rng_below(&rng, 40);
        for (int k = 0; k < len; k++)
            buf[k] = "${}xy \n"[ts_rng_below(&rng, 7)];
        buf[len] = '\0';
        char *out = NULL;
        ts_err err = ts_sql_substitute(buf, "fz", names, values, 2, &out);
        CHECK(err == TS_OK ? out != NULL : err == TS_ERR_USAGE && out == NULL, "substitute code %d", err);
        free(out);
    }
}

/* COPY ... TO: a table becomes SELECT * FROM it; options keep their words, strings and name lists */
static void test_copy(void)
{
    EXPECT_SX("COPY t TO 'out.parquet'", "(copy (select (*) (from t)) 'out.parquet')");
    EXPECT_SX("copy (SELECT a FROM t ORDER BY a) to 'd' (FORMAT parquet, PARTITION_BY (a, b), COMPRESSION 'zstd', "
              "ROW_GROUP_SIZE 1000, HEADER, DELIMITER '|', overwrite_or_ignore true)",
              "(copy (query (select (a) (from t)) (order a)) 'd' (format parquet) (partition_by a,b) (compression zstd) "
              "(row_group_size 1000) (header) (delimiter |) (overwrite_or_ignore true))");
    EXPECT_SX("COPY s.t TO 'x.csv' WITH (HEADER false)", "(copy (select (*) (from s.t)) 'x.csv' (header false))");
    EXPECT_ERR_HAS("COPY t 'x.csv'", "expected TO 'path'");
    EXPECT_ERR_HAS("COPY t TO x", "expected a file or directory path in quotes");
    EXPECT_ERR_HAS("COPY t TO 'x' (FORMAT", "expected ',' or ')'");
}

int main(void)
{
    test_precedence();
    test_literals();
    test_names();
    test_functions();
    test_subqueries();
    test_queries();
    test_from();
    test_statements();
    test_copy();
    test_errors();
    test_long_line();
    test_error_at();
    test_closest();
    test_substitute();
    test_limits();
    test_random();
    return TS_TEST_DONE("test_sql_parse");
}
