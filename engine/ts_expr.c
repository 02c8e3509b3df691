#include "ts_expr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_mem.h"

struct ts_expr {
    ts_expr_op op;
    char name[TS_NAME_MAX]; /* COL */
    int64_t i;              /* INT */
    double f;               /* FLOAT */
    char *s;                /* STRING */
    ts_expr *a, *b;
};

static const char *const OP_NAMES[] = {"column", "integer", "float", "string", "=", "<>", "<", "<=", ">", ">=",
                                       "AND", "OR", "NOT", "+", "-", "*", "/", "IS NULL", "COALESCE", "CAST AS DOUBLE",
                                       "month_start", "year", "month", "day"};

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
    if (e)
        strcpy(e->name, name);
    return e;
}

ts_expr *ts_x_int(int64_t v)
{
    ts_expr *e = node(TS_X_INT);
    if (e)
        e->i = v;
    return e;
}

ts_expr *ts_x_float(double v)
{
    ts_expr *e = node(TS_X_FLOAT);
    if (e)
        e->f = v;
    return e;
}

ts_expr *ts_x_string(const char *s)
{
    ts_expr *e = node(TS_X_STRING);
    if (e && !(e->s = strdup(s))) {
        free(e);
        return NULL;
    }
    return e;
}

static int is_unary(ts_expr_op op)
{
    return op == TS_X_NOT || op == TS_X_IS_NULL || op == TS_X_TO_FLOAT || op == TS_X_MONTH_START ||
           op == TS_X_YEAR || op == TS_X_MONTH || op == TS_X_DAY;
}

ts_expr *ts_x_op(ts_expr_op op, ts_expr *a, ts_expr *b)
{
    ts_expr *e = a && (b || is_unary(op)) ? node(op) : NULL;
    if (!e) {
        ts_expr_free(a), ts_expr_free(b);
        return NULL;
    }
    e->a = a, e->b = b;
    return e;
}

void ts_expr_free(ts_expr *e)
{
    if (!e)
        return;
    ts_expr_free(e->a), ts_expr_free(e->b);
    free(e->s);
    free(e);
}

/* ---- binding: names to columns, result types, one vector buffer per node ---------------------------------- */

typedef enum { V_BOOL, V_INT, V_FLOAT, V_DATE, V_CODE, V_STRING } vtype;

typedef struct bound {
    const ts_expr *e;
    vtype type;
    const ts_column *col; /* COL */
    const ts_dict *dict;  /* V_CODE */
    int scale;            /* V_INT from a DECIMAL column */
    struct bound *a, *b;
    union {
        int64_t *i;
        double *f;
    } v;                  /* TS_EXPR_VECTOR values */
    uint8_t *valid;       /* TS_EXPR_VECTOR flags, 1 = valid */
} bound;

static void unbind(bound *n)
{
    if (!n)
        return;
    unbind(n->a), unbind(n->b);
    free(n->v.i), free(n->valid), free(n);
}

static int numeric(vtype t) { return t == V_INT || t == V_FLOAT || t == V_DATE; }

static ts_err bind_col(bound *n, const ts_table *t)
{
    ts_column *c;
    TS_TRY(ts_table_need(t, n->e->name, &c));
    n->col = c;
    switch (c->type) {
    case TS_T_BOOL: n->type = V_BOOL; break;
    case TS_T_FLOAT64: n->type = V_FLOAT; break;
    case TS_T_DATE: n->type = V_DATE; break;
    case TS_T_DICT: n->type = V_CODE, n->dict = c->dict; break;
    case TS_T_STRING: TS_FAIL(TS_ERR_USAGE, "column '%s': STRING columns are not supported in expressions yet", c->name);
    default: n->type = V_INT, n->scale = c->type == TS_T_DECIMAL ? c->scale : 0; break;
    }
    return TS_OK;
}

/* A string constant compared with a dictionary column becomes that dictionary's code (-1: matches nothing). */
static ts_err bind_compare(bound *n)
{
    bound *x = n->a, *y = n->b;
    if (x->type == V_STRING && y->type == V_CODE)
        x = n->b, y = n->a;
    if (x->type == V_CODE && y->type == V_STRING) {
        if (n->e->op != TS_X_EQ && n->e->op != TS_X_NE)
            TS_FAIL(TS_ERR_USAGE, "'%s' on a dictionary column: only = and <> are supported", OP_NAMES[n->e->op]);
        y->type = V_CODE, y->dict = x->dict;
        const int32_t code = ts_dict_find(x->dict, y->e->s, strlen(y->e->s));
        for (int k = 0; k < TS_EXPR_VECTOR; k++)
            y->v.i[k] = code, y->valid[k] = 1;
    } else if (!(numeric(x->type) && numeric(y->type)) && !(x->type == y->type && x->type != V_STRING)) {
        TS_FAIL(TS_ERR_USAGE, "'%s' compares incompatible types", OP_NAMES[n->e->op]);
    }
    n->type = V_BOOL;
    return TS_OK;
}

static ts_err bind_types(bound *n)
{
    const ts_expr_op op = n->e->op;
    const vtype ta = n->a ? n->a->type : V_INT, tb = n->b ? n->b->type : V_INT;
    switch (op) {
    case TS_X_EQ: case TS_X_NE: case TS_X_LT: case TS_X_LE: case TS_X_GT: case TS_X_GE: return bind_compare(n);
    case TS_X_AND: case TS_X_OR:
        if (ta != V_BOOL || tb != V_BOOL)
            TS_FAIL(TS_ERR_USAGE, "%s needs boolean operands", OP_NAMES[op]);
        n->type = V_BOOL;
        return TS_OK;
    case TS_X_NOT:
        if (ta != V_BOOL)
            TS_FAIL(TS_ERR_USAGE, "NOT needs a boolean operand");
        n->type = V_BOOL;
        return TS_OK;
    case TS_X_IS_NULL: n->type = V_BOOL; return TS_OK;
    case TS_X_ADD: case TS_X_SUB: case TS_X_MUL: case TS_X_DIV:
        if (!numeric(ta) || !numeric(tb))
            TS_FAIL(TS_ERR_USAGE, "'%s' needs numeric operands", OP_NAMES[op]);
        n->type = op == TS_X_DIV || ta == V_FLOAT || tb == V_FLOAT ? V_FLOAT
                  : op == TS_X_SUB && ta == V_DATE && tb == V_DATE ? V_INT
                  : ta == V_DATE || tb == V_DATE ? V_DATE : V_INT;
        return TS_OK;
    case TS_X_COALESCE:
        if (ta != tb && !(numeric(ta) && numeric(tb)))
            TS_FAIL(TS_ERR_USAGE, "COALESCE needs operands of one type");
        n->type = ta == V_FLOAT || tb == V_FLOAT ? V_FLOAT : ta;
        n->dict = n->a->dict;
        return TS_OK;
    case TS_X_TO_FLOAT:
        if (!numeric(ta) && ta != V_BOOL)
            TS_FAIL(TS_ERR_USAGE, "CAST AS DOUBLE needs a numeric operand");
        n->type = V_FLOAT;
        return TS_OK;
    case TS_X_MONTH_START: case TS_X_YEAR: case TS_X_MONTH: case TS_X_DAY:
        if (ta != V_DATE)
            TS_FAIL(TS_ERR_USAGE, "%s needs a date", OP_NAMES[op]);
        n->type = op == TS_X_MONTH_START ? V_DATE : V_INT;
        return TS_OK;
    default: return TS_OK;
    }
}

static ts_err bind(const ts_expr *e, const ts_table *t, bound **out)
{
    bound *n = calloc(1, sizeof *n);
    if (!n || !(n->v.i = malloc(sizeof(int64_t) * TS_EXPR_VECTOR)) || !(n->valid = malloc(TS_EXPR_VECTOR))) {
        unbind(n);
        TS_FAIL(TS_ERR_NOMEM, "out of memory binding an expression");
    }
    n->e = e;
    *out = n;
    ts_err err = TS_OK;
    if (e->a)
        err = bind(e->a, t, &n->a);
    if (!err && e->b)
        err = bind(e->b, t, &n->b);
    if (!err) {
        switch (e->op) {
        case TS_X_COL: err = bind_col(n, t); break;
        case TS_X_INT: n->type = V_INT; break;
        case TS_X_FLOAT: n->type = V_FLOAT; break;
        case TS_X_STRING: n->type = V_STRING; break;
        default: err = bind_types(n); break;
        }
    }
    /* constants are filled once: every vector reuses them */
    for (int k = 0; !err && k < TS_EXPR_VECTOR && (e->op == TS_X_INT || e->op == TS_X_FLOAT); k++) {
        if (e->op == TS_X_INT)
            n->v.i[k] = e->i;
        else
            n->v.f[k] = e->f;
        n->valid[k] = 1;
    }
    if (err) {
        unbind(n);
        *out = NULL;
        ts_error_trace(__FILE__, __LINE__, OP_NAMES[e->op]);
    }
    return err;
}

/* ---- evaluation, one vector at a time ---------------------------------------------------------------------- */

static void load_column(bound *n, int64_t start, int m)
{
    const ts_column *c = n->col;
    switch (c->type) {
    case TS_T_BOOL: for (int k = 0; k < m; k++) n->v.i[k] = TS_COL(c, uint8_t)[start + k]; break;
    case TS_T_FLOAT64: memcpy(n->v.f, TS_COL(c, double) + start, sizeof(double) * (size_t)m); break;
    case TS_T_INT32: case TS_T_DATE: case TS_T_DICT:
        for (int k = 0; k < m; k++) n->v.i[k] = TS_COL(c, int32_t)[start + k];
        break;
    default: memcpy(n->v.i, TS_COL(c, int64_t) + start, sizeof(int64_t) * (size_t)m); break;
    }
    if (!c->valid)
        memset(n->valid, 1, (size_t)m);
    else
        for (int k = 0; k < m; k++)
            n->valid[k] = (uint8_t)ts_column_is_valid(c, start + k);
}

static double as_float(const bound *n, int k)
{
    if (n->type == V_FLOAT)
        return n->v.f[k];
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
    return n->scale ? (double)n->v.i[k] / pow10[n->scale] : (double)n->v.i[k];
}

static int compare(const bound *x, const bound *y, int k)
{
    if (x->type == V_FLOAT || y->type == V_FLOAT) {
        const double a = as_float(x, k), b = as_float(y, k);
        return (a > b) - (a < b);
    }
    return (x->v.i[k] > y->v.i[k]) - (x->v.i[k] < y->v.i[k]);
}

static void eval_compare(bound *n, int m)
{
    const ts_expr_op op = n->e->op;
    for (int k = 0; k < m; k++) {
        const int c = compare(n->a, n->b, k);
        n->v.i[k] = op == TS_X_EQ ? c == 0 : op == TS_X_NE ? c != 0 : op == TS_X_LT ? c < 0
                  : op == TS_X_LE ? c <= 0 : op == TS_X_GT ? c > 0 : c >= 0;
        n->valid[k] = n->a->valid[k] & n->b->valid[k];
    }
}

/* SQL three-valued logic: FALSE AND NULL = FALSE, TRUE OR NULL = TRUE. */
static void eval_logic(bound *n, int m)
{
    const int is_and = n->e->op == TS_X_AND;
    for (int k = 0; k < m; k++) {
        const int va = n->a->valid[k], vb = n->b->valid[k], a = (int)n->a->v.i[k], b = (int)n->b->v.i[k];
        const int decided = is_and ? (va && !a) || (vb && !b) : (va && a) || (vb && b);
        n->v.i[k] = is_and ? !decided && va && vb && a && b : decided;
        n->valid[k] = (uint8_t)(decided || (va && vb));
    }
}

static void eval_arith(bound *n, int m)
{
    const ts_expr_op op = n->e->op;
    for (int k = 0; k < m; k++)
        n->valid[k] = n->a->valid[k] & n->b->valid[k];
    if (n->type == V_FLOAT) {
        for (int k = 0; k < m; k++) {
            const double a = as_float(n->a, k), b = as_float(n->b, k);
            n->v.f[k] = op == TS_X_ADD ? a + b : op == TS_X_SUB ? a - b : op == TS_X_MUL ? a * b : a / b;
        }
        return;
    }
    /* integers wrap like two's complement instead of overflowing (undefined in C) */
    for (int k = 0; k < m; k++) {
        const uint64_t a = (uint64_t)n->a->v.i[k], b = (uint64_t)n->b->v.i[k];
        n->v.i[k] = (int64_t)(op == TS_X_ADD ? a + b : op == TS_X_SUB ? a - b : a * b);
    }
}

static void eval_date(bound *n, int m)
{
    for (int k = 0; k < m; k++) {
        n->valid[k] = n->a->valid[k];
        int y, mo, d;
        ts_civil_from_days((int32_t)n->a->v.i[k], &y, &mo, &d);
        const ts_expr_op op = n->e->op;
        n->v.i[k] = op == TS_X_MONTH_START ? n->a->v.i[k] - (d - 1) : op == TS_X_YEAR ? y : op == TS_X_MONTH ? mo : d;
    }
}

static void eval(bound *n, int64_t start, int m)
{
    if (n->a)
        eval(n->a, start, m);
    if (n->b)
        eval(n->b, start, m);
    switch (n->e->op) {
    case TS_X_COL: load_column(n, start, m); break;
    case TS_X_INT: case TS_X_FLOAT: case TS_X_STRING: break;
    case TS_X_EQ: case TS_X_NE: case TS_X_LT: case TS_X_LE: case TS_X_GT: case TS_X_GE: eval_compare(n, m); break;
    case TS_X_AND: case TS_X_OR: eval_logic(n, m); break;
    case TS_X_NOT:
        for (int k = 0; k < m; k++)
            n->v.i[k] = !n->a->v.i[k], n->valid[k] = n->a->valid[k];
        break;
    case TS_X_IS_NULL:
        for (int k = 0; k < m; k++)
            n->v.i[k] = !n->a->valid[k], n->valid[k] = 1;
        break;
    case TS_X_ADD: case TS_X_SUB: case TS_X_MUL: case TS_X_DIV: eval_arith(n, m); break;
    case TS_X_COALESCE:
        for (int k = 0; k < m; k++) {
            const bound *src = n->a->valid[k] ? n->a : n->b;
            if (n->type == V_FLOAT)
                n->v.f[k] = as_float(src, k);
            else
                n->v.i[k] = src->v.i[k];
            n->valid[k] = src->valid[k];
        }
        break;
    case TS_X_TO_FLOAT:
        for (int k = 0; k < m; k++)
            n->v.f[k] = as_float(n->a, k), n->valid[k] = n->a->valid[k];
        break;
    case TS_X_MONTH_START: case TS_X_YEAR: case TS_X_MONTH: case TS_X_DAY: eval_date(n, m); break;
    }
}

static ts_err output_column(const bound *n, const char *name, int64_t rows, ts_column **out)
{
    static const ts_type types[] = {TS_T_BOOL, TS_T_INT64, TS_T_FLOAT64, TS_T_DATE, TS_T_DICT};
    if (n->type == V_STRING)
        TS_FAIL(TS_ERR_USAGE, "column '%s': a string constant cannot be a column", name);
    TS_TRY(ts_column_new(name, types[n->type], 0, n->type == V_CODE ? (ts_dict *)n->dict : NULL, out));
    return ts_column_reserve(*out, rows, 0);
}

static ts_err store(const bound *n, ts_column *c, int64_t start, int m)
{
    for (int k = 0; k < m; k++) {
        switch (c->type) {
        case TS_T_BOOL: TS_COL(c, uint8_t)[start + k] = (uint8_t)n->v.i[k]; break;
        case TS_T_DATE: case TS_T_DICT: TS_COL(c, int32_t)[start + k] = (int32_t)n->v.i[k]; break;
        case TS_T_FLOAT64: TS_COL(c, double)[start + k] = n->v.f[k]; break;
        default: TS_COL(c, int64_t)[start + k] = n->v.i[k]; break;
        }
    }
    c->len = start + m;
    for (int k = 0; k < m; k++)
        if (!n->valid[k])
            TS_TRY(ts_column_set_null(c, start + k));
    return TS_OK;
}

ts_err ts_expr_eval(const ts_expr *e, const ts_table *t, const char *name, ts_column **out)
{
    if (!e)
        TS_FAIL(TS_ERR_NOMEM, "column '%s': the expression could not be built (out of memory)", name);
    bound *root;
    TS_TRY(bind(e, t, &root));
    const int64_t rows = ts_table_rows(t);
    ts_err err = output_column(root, name, rows, out);
    for (int64_t start = 0; !err && start < rows; start += TS_EXPR_VECTOR) {
        const int m = (int)(rows - start < TS_EXPR_VECTOR ? rows - start : TS_EXPR_VECTOR);
        eval(root, start, m);
        err = store(root, *out, start, m);
    }
    unbind(root);
    if (err) {
        ts_column_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_expr_select(const ts_expr *e, const ts_table *t, int64_t **rows, int64_t *n)
{
    if (!e)
        TS_FAIL(TS_ERR_NOMEM, "filter: the expression could not be built (out of memory)");
    bound *root;
    TS_TRY(bind(e, t, &root));
    const int64_t total = ts_table_rows(t);
    *n = 0;
    if (root->type != V_BOOL || !(*rows = ts_big(sizeof(int64_t) * (size_t)(total + 1)))) {
        const int is_type = root->type != V_BOOL;
        unbind(root);
        if (is_type)
            TS_FAIL(TS_ERR_USAGE, "a filter needs a boolean expression");
        TS_FAIL(TS_ERR_NOMEM, "out of memory filtering %lld rows", (long long)total);
    }
    for (int64_t start = 0; start < total; start += TS_EXPR_VECTOR) {
        const int m = (int)(total - start < TS_EXPR_VECTOR ? total - start : TS_EXPR_VECTOR);
        eval(root, start, m);
        for (int k = 0; k < m; k++)
            if (root->valid[k] && root->v.i[k])
                (*rows)[(*n)++] = start + k;
    }
    unbind(root);
    return TS_OK;
}
