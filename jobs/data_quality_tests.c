/* dbt-style tests of the data-quality job: the tests file format and the evaluation of each test over the
 * distributed cleaned table (docs/jobs/data-quality.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_quality.h"
#include "ts_aggregate_dist.h"
#include "ts_csv_table.h"
#include "ts_date.h"
#include "ts_exchange.h"
#include "ts_expr.h"
#include "ts_join_dist.h"
#include "ts_mem.h"

ts_err dq_read_text(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        TS_FAIL(TS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + 8192);
            if (!nb) {
                free(buf), fclose(f);
                TS_FAIL(TS_ERR_NOMEM, "out of memory reading '%s'", path);
            }
            buf = nb;
        }
        got = fread(buf + len, 1, 4096, f);
        len += got;
    } while (got == 4096);
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        TS_FAIL(TS_ERR_IO, "cannot read '%s'", path);
    }
    buf[len] = 0;
    *out = buf;
    return TS_OK;
}

/* ---- parsing --------------------------------------------------------------------------------------------- */

#define MAX_TOKENS 64

static const char *const KIND_NAMES[] = {"not_null", "unique", "accepted_values", "relationships", "expression"};

static ts_err parse_line(char *line, const char *source, int lineno, dq_test *t)
{
    char *tok[MAX_TOKENS] = {0};
    int n = 0;
    for (char *save = NULL, *p = strtok_r(line, " \t\r", &save); p; p = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_TOKENS)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: too many tokens", source, lineno);
        tok[n++] = p;
    }
    memset(t, 0, sizeof *t);
    t->line = lineno;
    if (n > 1 && strncmp(tok[n - 1], "severity=", 9) == 0) {
        const char *sev = tok[--n] + 9;
        if (strcmp(sev, "warn") == 0)
            t->warn = 1;
        else if (strcmp(sev, "error") != 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: severity must be error or warn, not '%s'", source, lineno, sev);
    }
    int k = 0;
    while (k < 5 && strcmp(tok[0], KIND_NAMES[k]) != 0)
        k++;
    if (k == 5)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: unknown test '%s' (not_null, unique, accepted_values, relationships, "
                "expression)", source, lineno, tok[0]);
    t->kind = (dq_test_kind)k;
    static const int want[] = {2, 2, 3, 3, 5};
    if (n != want[k])
        TS_FAIL(TS_ERR_USAGE, "%s:%d: %s takes %d argument(s), got %d", source, lineno, tok[0], want[k] - 1, n - 1);
    const char *col = k == DQ_EXPRESSION ? tok[2] : tok[1];
    if (strlen(col) >= sizeof t->column)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: column name too long", source, lineno);
    strcpy(t->column, col);
    if (k == DQ_EXPRESSION) {
        if (strlen(tok[1]) >= sizeof t->name)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: test name too long", source, lineno);
        strcpy(t->name, tok[1]);
        snprintf(t->arg, sizeof t->arg, "%s %s %s", tok[2], tok[3], tok[4]);
        static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
        int ok = 0;
        for (int o = 0; o < 6; o++)
            ok |= strcmp(tok[3], ops[o]) == 0;
        if (!ok)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: operator '%s' (use = != < <= > >=)", source, lineno, tok[3]);
    } else {
        snprintf(t->name, sizeof t->name, "%s_%s", KIND_NAMES[k], t->column);
        if (n == 3 && strlen(tok[2]) >= sizeof t->arg)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: argument too long", source, lineno);
        if (n == 3)
            strcpy(t->arg, tok[2]);
        if (k == DQ_RELATIONSHIPS && (!strchr(t->arg, ':') || strchr(t->arg, ':') == t->arg ||
                                      !strchr(t->arg, ':')[1]))
            TS_FAIL(TS_ERR_USAGE, "%s:%d: relationships needs FILE.csv:COLUMN, not '%s'", source, lineno, t->arg);
    }
    return TS_OK;
}

ts_err dq_tests_parse(const char *text, const char *source, dq_test *tests, int *ntests)
{
    char line[4096];
    int n = 0, lineno = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        lineno++;
        if (len >= sizeof line)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: line too long", source, lineno);
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (e ? 1 : 0);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        if (n == DQ_TEST_MAX)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: more than %d tests", source, lineno, DQ_TEST_MAX);
        TS_TRY(parse_line(line, source, lineno, &tests[n]));
        n++;
    }
    *ntests = n;
    return TS_OK;
}

/* ---- values as text -------------------------------------------------------------------------------------- */

void dq_format_value(const ts_column *c, int64_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!ts_column_is_valid(c, i))
        return;
    switch (c->type) {
    case TS_T_BOOL: snprintf(buf, cap, "%s", TS_COL(c, uint8_t)[i] ? "true" : "false"); break;
    case TS_T_INT32: snprintf(buf, cap, "%d", TS_COL(c, int32_t)[i]); break;
    case TS_T_INT64: snprintf(buf, cap, "%lld", (long long)TS_COL(c, int64_t)[i]); break;
    case TS_T_FLOAT64: snprintf(buf, cap, "%.17g", TS_COL(c, double)[i]); break;
    case TS_T_DATE: {
        int y, m, d;
        ts_civil_from_days(TS_COL(c, int32_t)[i], &y, &m, &d);
        snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
        break;
    }
    case TS_T_TIMESTAMP: {
        char t[64];
        const int n = ts_format_timestamp(TS_COL(c, int64_t)[i], t);
        snprintf(buf, cap, "%.*s", n, t);
        break;
    }
    case TS_T_DECIMAL: {
        const int64_t v = TS_COL(c, int64_t)[i];
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
        for (int s = 0; s < c->scale; s++)
            p *= 10;
        if (c->scale)
            snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(mag / p), c->scale,
                     (unsigned long long)(mag % p));
        else
            snprintf(buf, cap, "%lld", (long long)v);
        break;
    }
    case TS_T_DICT: case TS_T_STRING: {
        int64_t len;
        const char *s;
        if (c->type == TS_T_DICT)
            s = ts_dict_value(c->dict, TS_COL(c, int32_t)[i], &len);
        else
            s = c->bytes + TS_COL(c, int64_t)[i], len = TS_COL(c, int64_t)[i + 1] - TS_COL(c, int64_t)[i];
        if ((size_t)len >= cap)
            len = (int64_t)cap - 1;
        memcpy(buf, s, (size_t)len);
        buf[len] = 0;
        break;
    }
    }
}

/* ---- evaluation ------------------------------------------------------------------------------------------ */

ts_err dq_value_counts(ts_ctx *ctx, const ts_table *t, const char *col, int64_t *distinct, int64_t *dup_rows)
{
    static const ts_agg cnt[] = {{TS_AGG_COUNT, NULL, NULL, "n", 0, NULL}};
    const char *keys[] = {col};
    ts_table *g;
    TS_TRY(ts_aggregate_distributed(ctx, t, keys, 1, cnt, 1, "value_counts", &g));
    int64_t local[2] = {0, 0}, global[2];
    const ts_column *k = g->cols[0], *n = g->cols[1];
    for (int64_t i = 0; i < k->len; i++) {
        if (!ts_column_is_valid(k, i))
            continue;
        local[0]++;
        if (TS_COL(n, int64_t)[i] > 1)
            local[1] += TS_COL(n, int64_t)[i];
    }
    ts_table_free(g);
    TS_MPI(MPI_Allreduce(local, global, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
    *distinct = global[0], *dup_rows = global[1];
    return TS_OK;
}

static ts_err count_not_null(const ts_column *c, int64_t *failing)
{
    int64_t f = 0;
    for (int64_t i = 0; c->valid && i < c->len; i++)
        f += !ts_column_is_valid(c, i);
    *failing = f;
    return TS_OK;
}

/* Non-null values whose text is not in the comma-separated list. */
static ts_err count_not_accepted(const ts_column *c, const char *list, int64_t *failing)
{
    char vals[DQ_TEXT_MAX];
    const char *v[DQ_TEXT_MAX];
    int nv = 0;
    snprintf(vals, sizeof vals, "%s", list);
    for (char *save = NULL, *p = strtok_r(vals, ",", &save); p; p = strtok_r(NULL, ",", &save))
        v[nv++] = p;
    int32_t allowed_code[64 + 1];
    if (c->type == TS_T_DICT) { /* codes: one flag per dictionary value */
        if (c->dict->n > 64)
            TS_FAIL(TS_ERR_INTERNAL, "dictionary of '%s' larger than expected", c->name);
        for (int32_t d = 0; d < c->dict->n; d++) {
            int64_t len;
            const char *s = ts_dict_value(c->dict, d, &len);
            allowed_code[d] = 0;
            for (int k = 0; k < nv; k++)
                allowed_code[d] |= (int64_t)strlen(v[k]) == len && memcmp(v[k], s, (size_t)len) == 0;
        }
    }
    int64_t f = 0;
    char buf[256];
    for (int64_t i = 0; i < c->len; i++) {
        if (!ts_column_is_valid(c, i))
            continue;
        if (c->type == TS_T_DICT) {
            f += !allowed_code[TS_COL(c, int32_t)[i]];
            continue;
        }
        dq_format_value(c, i, buf, sizeof buf);
        int ok = 0;
        for (int k = 0; k < nv && !ok; k++)
            ok = strcmp(buf, v[k]) == 0;
        f += !ok;
    }
    *failing = f;
    return TS_OK;
}

/* Non-null values of t.col missing from the reference CSV's column: an anti join (broadcast when small). */
static ts_err count_orphans(ts_ctx *ctx, const char *data_dir, const ts_column *c, const char *ref,
                            int64_t *failing)
{
    char file[DQ_TEXT_MAX], path[4200];
    snprintf(file, sizeof file, "%s", ref);
    char *colon = strchr(file, ':');
    *colon = 0;
    const char *refcol = colon + 1;
    ts_ref_type rt;
    if (c->type == TS_T_INT64 || c->type == TS_T_INT32)
        rt = TS_REF_INT64;
    else if (c->type == TS_T_DICT || c->type == TS_T_STRING)
        rt = TS_REF_STRING;
    else
        TS_FAIL(TS_ERR_USAGE, "relationships on '%s': only integer, category and string columns", c->name);
    ts_table *right = NULL, *left = NULL, *out = NULL;
    ts_err err = TS_OK;
    if (ctx->rank == 0) {
        const ts_ref_column rc[] = {{refcol, rt}};
        snprintf(path, sizeof path, "%s/%s", data_dir, file);
        err = ts_read_csv_table(path, rc, 1, &right);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_TRY(ts_broadcast_table(ctx, &right, 0));
    /* the left side: the non-null values only (a NULL key would come out of an anti join) */
    int64_t *idx = malloc(sizeof *idx * (size_t)(c->len + 1)), n = 0;
    ts_column *lc = NULL;
    if (!idx)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t i = 0; !err && i < c->len; i++)
        if (ts_column_is_valid(c, i))
            idx[n++] = i;
    if (!err)
        err = ts_table_new("left", &left);
    if (!err)
        err = ts_column_new_like(c, &lc);
    if (!err)
        err = ts_column_append_rows(lc, c, idx, n);
    if (!err) {
        snprintf(lc->name, sizeof lc->name, "%s", "__key");
        err = ts_table_adopt(left, lc);
        lc = NULL;
    }
    ts_column_free(lc);
    free(idx);
    err = ts_ctx_check(ctx, err);
    if (!err) {
        const char *lk[] = {"__key"}, *rk[] = {refcol};
        const ts_join_spec spec = {.type = TS_JOIN_ANTI, .left_keys = lk, .right_keys = rk, .nkeys = 1,
                               .right_cols = NULL, .nright = 0, .strategy = TS_JOIN_AUTO, .broadcast_bytes = 0};
        err = ts_join(ctx, left, right, &spec, &out, NULL);
    }
    if (!err)
        *failing = ts_table_rows(out);
    ts_table_free(left), ts_table_free(right), ts_table_free(out);
    return err;
}

/* One operand of an expression: a column of t, or a constant typed after the other operand's column. */
static ts_expr *operand(const ts_table *t, const char *tok, const ts_column *other, ts_err *err)
{
    if (ts_table_col(t, tok))
        return ts_x_col(tok);
    char *end;
    if (other && other->type == TS_T_DICT) {
        size_t len = strlen(tok);
        if (len >= 2 && tok[0] == '\'' && tok[len - 1] == '\'') {
            char s[DQ_TEXT_MAX];
            snprintf(s, sizeof s, "%.*s", (int)(len - 2), tok + 1);
            return ts_x_string(s);
        }
        return ts_x_string(tok);
    }
    if (other && other->type == TS_T_DATE) {
        int y, m, d;
        char extra;
        if (sscanf(tok, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
            return ts_x_int(ts_days_from_civil(y, m, d));
    }
    if (other && other->type == TS_T_DECIMAL) { /* exact: the constant scaled like the column */
        const double v = strtod(tok, &end);
        if (*end == 0 && end != tok) {
            double p = 1;
            for (int s = 0; s < other->scale; s++)
                p *= 10;
            const double scaled = v * p;
            if (scaled == (double)(int64_t)scaled)
                return ts_x_decimal((int64_t)scaled, other->scale);
        }
    }
    const long long iv = strtoll(tok, &end, 10);
    if (*end == 0 && end != tok)
        return ts_x_int(iv);
    const double fv = strtod(tok, &end);
    if (*end == 0 && end != tok)
        return ts_x_float(fv);
    *err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                          "'%s' is neither a column nor a constant of the compared column's type", tok);
    return NULL;
}

/* Rows where NOT (lhs op rhs) is true: a NULL comparison is not a failure (dbt's expression_is_true). */
static ts_err count_expression(const ts_table *t, const dq_test *test, int64_t *failing)
{
    char text[DQ_TEXT_MAX], *save = NULL;
    snprintf(text, sizeof text, "%s", test->arg);
    const char *l = strtok_r(text, " ", &save), *o = strtok_r(NULL, " ", &save), *r = strtok_r(NULL, " ", &save);
    const ts_column *lc = ts_table_col(t, l);
    if (!lc)
        TS_FAIL(TS_ERR_USAGE, "tests line %d: unknown column '%s'", test->line, l);
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
    static const ts_expr_op xop[] = {TS_X_EQ, TS_X_NE, TS_X_LT, TS_X_LE, TS_X_GT, TS_X_GE};
    int k = 0;
    while (strcmp(o, ops[k]) != 0)
        k++;
    if (lc->type == TS_T_DECIMAL && !ts_table_col(t, r)) {
        /* DECIMAL against a constant: compare scaled integers when exact, else as doubles */
        char *end;
        const double v = strtod(r, &end);
        double p = 1;
        for (int s = 0; s < lc->scale; s++)
            p *= 10;
        if (*end == 0 && end != r && v * p != (double)(int64_t)(v * p)) {
            ts_expr *e = ts_x_op(TS_X_NOT, ts_x_op(xop[k], ts_x_op(TS_X_TO_FLOAT, ts_x_col(l), NULL), ts_x_float(v)),
                                 NULL);
            int64_t *rows = NULL, n = 0;
            const ts_err err = e ? ts_expr_select(e, t, &rows, &n)
                                 : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
            ts_expr_free(e), ts_free(rows);
            TS_TRY(err);
            *failing = n;
            return TS_OK;
        }
    }
    ts_err err = TS_OK;
    ts_expr *rhs = operand(t, r, lc, &err);
    if (err)
        TS_FAIL(err, "test '%s' (line %d): %s", test->name, test->line, ts_error_headline());
    ts_expr *e = ts_x_op(TS_X_NOT, ts_x_op(xop[k], ts_x_col(l), rhs), NULL);
    if (!e)
        TS_FAIL(TS_ERR_NOMEM, "out of memory building test '%s'", test->name);
    int64_t *rows = NULL, n = 0;
    err = ts_expr_select(e, t, &rows, &n);
    ts_expr_free(e), ts_free(rows);
    if (err)
        TS_FAIL(err, "test '%s' (line %d): %s", test->name, test->line, ts_error_headline());
    *failing = n;
    return TS_OK;
}

ts_err dq_tests_run(ts_ctx *ctx, const char *data_dir, const ts_table *t, dq_test *tests, int ntests)
{
    for (int k = 0; k < ntests; k++) {
        dq_test *test = &tests[k];
        const ts_column *c = ts_table_col(t, test->column);
        TS_TRY(ts_ctx_check(ctx, c ? TS_OK
                                   : ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                                    "tests line %d (%s): the rules have no column '%s'", test->line,
                                                    test->name, test->column)));
        int64_t local = 0, distinct;
        ts_err err = TS_OK;
        switch (test->kind) {
        case DQ_NOT_NULL: err = count_not_null(c, &local); break;
        case DQ_ACCEPTED_VALUES: err = count_not_accepted(c, test->arg, &local); break;
        case DQ_EXPRESSION: err = count_expression(t, test, &local); break;
        case DQ_UNIQUE: TS_TRY(dq_value_counts(ctx, t, test->column, &distinct, &test->failing)); continue;
        case DQ_RELATIONSHIPS: TS_TRY(count_orphans(ctx, data_dir, c, test->arg, &local)); break;
        }
        TS_TRY(ts_ctx_check(ctx, err));
        TS_TRY(ts_allreduce_sum_i64(ctx, local, &test->failing));
    }
    return TS_OK;
}
