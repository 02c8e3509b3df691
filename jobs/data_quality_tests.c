/* The data-quality tests file (docs/jobs/data-quality.md, "Tests file format"): tokenizing, parsing the tests and
 * the tables they name, and binding each test to its table's columns (typed constants, case-folded values,
 * where conditions, thresholds). Per rank, no MPI. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_quality.h"
#include "ts_date.h"
#include "ts_parse.h"

const char *const DQ_LAYER_NAMES[3] = {"raw", "clean", "stored"};

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

/* ---- tokens ---------------------------------------------------------------------------------------------- */

/* Splits line (modified in place) into blank-separated tokens; single quotes group blanks into a token and stay
 * in it ('small business' is one token); '#' outside quotes starts a comment. *tok is malloc'ed. */
static ts_err tokenize(char *line, const char *origin, int lineno, char ***tok, int *n)
{
    int cap = 16, k = 0;
    char **t = malloc(sizeof *t * (size_t)cap);
    if (!t)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p || *p == '#')
            break;
        if (k == cap) {
            char **nt = realloc(t, sizeof *t * (size_t)(cap *= 2));
            if (!nt) {
                free(t);
                TS_FAIL(TS_ERR_NOMEM, "out of memory");
            }
            t = nt;
        }
        t[k++] = p;
        int quoted = 0;
        for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '#')); p++)
            if (*p == '\'')
                quoted = !quoted;
        if (quoted) {
            free(t);
            TS_FAIL(TS_ERR_USAGE, "%s:%d: a quote (') is not closed", origin, lineno);
        }
        const char end = *p;
        if (*p)
            *p++ = 0;
        if (end == '#')
            break;
    }
    *tok = t, *n = k;
    return TS_OK;
}

/* s without surrounding single quotes, into buf. */
static const char *unquote(const char *s, char *buf, size_t cap)
{
    const size_t n = strlen(s);
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'')
        snprintf(buf, cap, "%.*s", (int)(n - 2), s + 1);
    else
        snprintf(buf, cap, "%s", s);
    return buf;
}

/* ---- parsing --------------------------------------------------------------------------------------------- */

static const char *const KIND_NAMES[] = {"not_null", "unique", "accepted_values", "relationships", "expression"};
static const char *const OPS[] = {"=", "!=", "<", "<=", ">", ">="};

static int op_of(const char *s)
{
    for (int o = 0; o < 6; o++)
        if (strcmp(s, OPS[o]) == 0)
            return o;
    return -1;
}

/* The label of a table spec in test names: the file's stem or the group's last component ("" for transactions). */
static void label_of(const char *spec, char *label, size_t cap)
{
    if (strcmp(spec, "transactions") == 0) {
        label[0] = 0;
        return;
    }
    const size_t n = strlen(spec);
    const char *end = spec + n, *start = spec;
    const int csv = (n > 4 && strcmp(end - 4, ".csv") == 0) || (n > 7 && strcmp(end - 7, ".csv.gz") == 0);
    if (!csv) { /* an HDF5 group: its last component */
        start = strrchr(spec, '/') + 1;
    } else { /* a CSV file: its stem */
        const char *slash = strrchr(spec, '/');
        start = slash ? slash + 1 : spec;
        const char *dot = strchr(start, '.');
        end = dot ? dot : end;
    }
    snprintf(label, cap, "%.*s", (int)(end - start), start);
}

static int source_index(dq_suite *s, const char *spec)
{
    for (int i = 0; i < s->nsources; i++)
        if (strcmp(s->sources[i].spec, spec) == 0)
            return i;
    return -1;
}

static ts_err add_source(dq_suite *s, const char *spec, const char *origin, int lineno, int *idx)
{
    if ((*idx = source_index(s, spec)) >= 0)
        return TS_OK;
    const size_t n = strlen(spec);
    const int csv = (n > 4 && strcmp(spec + n - 4, ".csv") == 0) || (n > 7 && strcmp(spec + n - 7, ".csv.gz") == 0);
    const int h5 = !csv && (spec[0] == '/' || strstr(spec, ":/"));
    if (!csv && !h5 && strcmp(spec, "transactions") != 0)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: table '%s': use transactions, FILE.csv (in --data), FILE.h5:/GROUP or /GROUP "
                "(a table of --in)", origin, lineno, spec);
    if (n >= sizeof s->sources[0].spec)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: table name too long", origin, lineno);
    dq_source *ns = realloc(s->sources, sizeof *ns * (size_t)(s->nsources + 1));
    if (!ns)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    s->sources = ns;
    dq_source *src = &s->sources[s->nsources];
    memset(src, 0, sizeof *src);
    snprintf(src->spec, sizeof src->spec, "%s", spec);
    label_of(spec, src->label, sizeof src->label);
    src->h5 = h5;
    *idx = s->nsources++;
    return TS_OK;
}

/* "> 5", "!=0", ">=10" -> op, n. */
static int parse_threshold(const char *text, dq_threshold *t)
{
    char buf[512];
    const char *s = unquote(text, buf, sizeof buf);
    while (*s == ' ')
        s++;
    const int two = s[0] && s[1] == '=';
    char op[3] = {s[0], two ? '=' : 0, 0};
    if ((t->op = op_of(op)) < 0)
        return 0;
    s += two ? 2 : 1;
    while (*s == ' ')
        s++;
    return ts_parse_int64(s, strlen(s), &t->n) && t->n >= 0;
}

/* An option token key=value; returns 0 when tok is not one (a positional argument). */
static ts_err parse_option(const char *tok, dq_test *t, const char *origin, int lineno, int *is_option)
{
    static const char *const KEYS[] = {"severity", "values", "where", "warn_if", "error_if", "store_failures", "name"};
    const char *eq = strchr(tok, '=');
    *is_option = 0;
    int k = 0;
    while (eq && k < 7 && ((size_t)(eq - tok) != strlen(KEYS[k]) || strncmp(tok, KEYS[k], strlen(KEYS[k])) != 0))
        k++;
    if (!eq || k == 7)
        return TS_OK;
    *is_option = 1;
    char buf[512];
    const char *v = unquote(eq + 1, buf, sizeof buf);
    switch (k) {
    case 0:
        if (strcmp(v, "warn") != 0 && strcmp(v, "error") != 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: severity must be error or warn, not '%s'", origin, lineno, v);
        t->warn = strcmp(v, "warn") == 0;
        break;
    case 1:
        if (strcmp(v, "raw") == 0)
            t->layer = DQ_RAW;
        else if (strcmp(v, "clean") == 0)
            t->layer = DQ_CLEAN;
        else
            TS_FAIL(TS_ERR_USAGE, "%s:%d: values= is raw or clean, not '%s'", origin, lineno, v);
        t->layer_given = 1;
        break;
    case 2: {
        dq_cond *w = realloc(t->where, sizeof *w * (size_t)(t->nwhere + 1));
        if (!w)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        t->where = w;
        memset(&w[t->nwhere], 0, sizeof *w);
        /* COLUMN OP VALUE: the first operator splits it (blanks around it allowed when quoted) */
        const char *o = strpbrk(v, "=!<>");
        if (!o || o == v)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: where=%s: expected COLUMN OP VALUE (OP one of = != < <= > >=)", origin,
                    lineno, v);
        const int two = o[1] == '=';
        char op[3] = {o[0], two ? '=' : 0, 0};
        dq_cond *c = &w[t->nwhere];
        if ((c->op = op_of(op)) < 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: where=%s: unknown operator", origin, lineno, v);
        size_t ln = (size_t)(o - v);
        while (ln && v[ln - 1] == ' ')
            ln--;
        const char *r = o + (two ? 2 : 1);
        while (*r == ' ')
            r++;
        if (ln >= sizeof c->left_text || !*r)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: where=%s: expected COLUMN OP VALUE", origin, lineno, v);
        snprintf(c->left_text, sizeof c->left_text, "%.*s", (int)ln, v);
        snprintf(c->right_token, sizeof c->right_token, "%s", r);
        snprintf(t->where_text + strlen(t->where_text), sizeof t->where_text - strlen(t->where_text), "%s%s",
                 t->nwhere ? " and " : "", v);
        t->nwhere++;
        break;
    }
    case 3:
    case 4:
        if (!parse_threshold(v, k == 3 ? &t->warn_if : &t->error_if))
            TS_FAIL(TS_ERR_USAGE, "%s:%d: %s=%s: expected OP N (e.g. >10, !=0)", origin, lineno, KEYS[k], v);
        snprintf(k == 3 ? t->warn_if_text : t->error_if_text, 32, "%s", v);
        break;
    case 5:
        if (!ts_parse_int64(v, strlen(v), &t->store) || t->store < 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: store_failures=%s: expected a number of rows (0: none)", origin, lineno, v);
        break;
    default:
        if (!*v || strlen(v) >= sizeof t->name)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: name= needs a name of 1 to %d characters", origin, lineno,
                    (int)sizeof t->name - 1);
        snprintf(t->name, sizeof t->name, "%s", v);
        t->named = 1;
    }
    return TS_OK;
}

/* Test names become HDF5 group names (/quality/failures/NAME): letters, digits, '_', '-', '.'. */
static int name_ok(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

static void sanitize(char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            *s = '_';
}

static ts_err parse_test(char **tok, int n, dq_suite *s, int source, const char *origin, int lineno, dq_test *t)
{
    memset(t, 0, sizeof *t);
    t->line = lineno, t->source = source, t->store = DQ_STORE_DEFAULT;
    t->warn_if = t->error_if = (dq_threshold){DQ_NE, 0};
    snprintf(t->warn_if_text, sizeof t->warn_if_text, "!=0");
    snprintf(t->error_if_text, sizeof t->error_if_text, "!=0");
    t->layer = s->sources[source].h5 ? DQ_STORED : DQ_RAW;
    int k = 0;
    while (k < 5 && strcmp(tok[0], KIND_NAMES[k]) != 0)
        k++;
    if (k == 5)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: unknown test '%s' (not_null, unique, accepted_values, relationships, "
                "expression; or a line 'table NAME')", origin, lineno, tok[0]);
    t->kind = (dq_test_kind)k;
    const char *pos[8];
    int np = 0;
    for (int i = 1; i < n; i++) {
        int opt;
        TS_TRY(parse_option(tok[i], t, origin, lineno, &opt));
        if (!opt) {
            if (np == 8)
                TS_FAIL(TS_ERR_USAGE, "%s:%d: too many arguments", origin, lineno);
            pos[np++] = tok[i];
        }
    }
    static const int want[] = {1, 1, 2, 2, 4};
    if (np != want[k])
        TS_FAIL(TS_ERR_USAGE, "%s:%d: %s takes %d argument(s), got %d", origin, lineno, KIND_NAMES[k], want[k], np);
    const char *col = k == DQ_EXPRESSION ? pos[1] : pos[0];
    if (strlen(col) >= sizeof t->column)
        TS_FAIL(TS_ERR_USAGE, "%s:%d: column name too long", origin, lineno);
    snprintf(t->column, sizeof t->column, "%s", col);
    if (k == DQ_EXPRESSION) {
        dq_cond *c = &t->expr;
        if ((c->op = op_of(pos[2])) < 0)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: operator '%s' (use = != < <= > >=)", origin, lineno, pos[2]);
        if (strlen(pos[1]) >= sizeof c->left_text || strlen(pos[3]) >= sizeof c->right_token)
            TS_FAIL(TS_ERR_USAGE, "%s:%d: operand too long", origin, lineno);
        snprintf(c->left_text, sizeof c->left_text, "%s", pos[1]);
        snprintf(c->right_token, sizeof c->right_token, "%s", pos[3]);
        if (!t->named) {
            if (strlen(pos[0]) >= sizeof t->name)
                TS_FAIL(TS_ERR_USAGE, "%s:%d: test name too long", origin, lineno);
            snprintf(t->name, sizeof t->name, "%s", pos[0]);
        }
        if (!(t->arg = malloc(strlen(pos[1]) + strlen(pos[2]) + strlen(pos[3]) + 3)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        sprintf(t->arg, "%s %s %s", pos[1], pos[2], pos[3]);
    } else {
        if (!t->named) {
            const char *label = s->sources[source].label;
            snprintf(t->name, sizeof t->name, "%s_%s%s%s", KIND_NAMES[k], label, *label ? "_" : "", col);
            sanitize(t->name);
        }
        if (np == 2 && !(t->arg = strdup(pos[1])))
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        const char *colon = t->arg ? strrchr(t->arg, ':') : NULL;
        if (k == DQ_RELATIONSHIPS && (!colon || colon == t->arg || !colon[1]))
            TS_FAIL(TS_ERR_USAGE, "%s:%d: relationships needs TABLE:COLUMN (FILE.csv:COLUMN, FILE.h5:/GROUP:COLUMN "
                    "or /GROUP:COLUMN), not '%s'", origin, lineno, t->arg);
    }
    if (!name_ok(t->name))
        TS_FAIL(TS_ERR_USAGE, "%s:%d: test name '%s': use letters, digits, '_', '-' and '.'", origin, lineno, t->name);
    return TS_OK;
}

ts_err dq_tests_parse(const char *text, const char *origin, dq_suite *s)
{
    snprintf(s->origin, sizeof s->origin, "%s", origin);
    int lineno = 0, source;
    TS_TRY(add_source(s, "transactions", origin, 0, &source));
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        lineno++;
        char *line = strndup(p, len);
        if (!line)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        p += len + (e ? 1 : 0);
        char **tok = NULL;
        int n = 0;
        ts_err err = tokenize(line, origin, lineno, &tok, &n);
        if (!err && n > 0 && strcmp(tok[0], "table") == 0) {
            char spec[4200];
            if (n != 2)
                err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "%s:%d: 'table NAME' takes one name",
                                     origin, lineno);
            else
                err = add_source(s, unquote(tok[1], spec, sizeof spec), origin, lineno, &source);
        } else if (!err && n > 0) {
            if (s->ntests == s->cap) {
                const int cap = s->cap ? 2 * s->cap : 32;
                dq_test *nt = realloc(s->tests, sizeof *nt * (size_t)cap);
                if (!nt)
                    err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
                else
                    s->tests = nt, s->cap = cap;
            }
            if (!err) {
                err = parse_test(tok, n, s, source, origin, lineno, &s->tests[s->ntests]);
                s->ntests++; /* also on failure: dq_suite_free releases what it holds */
            }
        }
        free(tok), free(line);
        TS_TRY(err);
    }
    for (int i = 0; i < s->ntests; i++) /* names identify the tests and their failures tables */
        for (int j = 0; j < i; j++)
            if (strcmp(s->tests[i].name, s->tests[j].name) == 0)
                TS_FAIL(TS_ERR_USAGE, "%s:%d: a second test named '%s' (line %d): give one a name=NAME", origin,
                        s->tests[i].line, s->tests[i].name, s->tests[j].line);
    return TS_OK;
}

void dq_suite_free(dq_suite *s)
{
    for (int i = 0; i < s->ntests; i++) {
        dq_test *t = &s->tests[i];
        free(t->arg), free(t->where);
        for (int v = 0; v < t->nvalues; v++)
            free(t->values[v]);
        free(t->values);
        ts_table_free(t->failed);
    }
    free(s->tests);
    for (int i = 0; i < s->nsources; i++)
        dq_source_free(&s->sources[i]);
    free(s->sources);
    memset(s, 0, sizeof *s);
}

/* ---- binding ---------------------------------------------------------------------------------------------- */

static const char *type_word(const dq_colinfo *c)
{
    static const char *const W[] = {"an integer", "a decimal number", "a date (YYYY-MM-DD, a real calendar date)",
                                    "a number", "true or false", "a category value", "a text"};
    return W[c->type];
}

static int numeric(dq_ctype t) { return t == DQ_INT || t == DQ_DEC || t == DQ_FLOAT; }
static int textual(dq_ctype t) { return t == DQ_CAT || t == DQ_STR; }

static int find_col(const dq_source *src, const char *name)
{
    for (int c = 0; c < src->ncols; c++)
        if (strcmp(src->cols[c].name, name) == 0)
            return c;
    return -1;
}

#define BIND_FAIL(t, suite, ...)                                                                                  \
    do {                                                                                                          \
        char why_[4096];                                                                                          \
        snprintf(why_, sizeof why_, __VA_ARGS__);                                                                 \
        TS_FAIL(TS_ERR_USAGE, "%s:%d: test '%s': %s", (suite)->origin, (t)->line, (t)->name, why_);              \
    } while (0)

static ts_err need_col(const dq_suite *s, const dq_test *t, const dq_source *src, const char *name, int *col)
{
    if ((*col = find_col(src, name)) >= 0)
        return TS_OK;
    char list[512] = "";
    for (int c = 0; c < src->ncols; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", c ? ", " : "", src->cols[c].name);
    BIND_FAIL(t, s, "table %.200s has no column '%s' (columns: %.300s)", src->spec, name, list);
}

/* A condition's operands: the left column, the right column or a constant typed as the left column. */
static ts_err bind_cond(const dq_suite *s, const dq_test *t, const dq_source *src, dq_cond *c)
{
    TS_TRY(need_col(s, t, src, c->left_text, &c->col));
    const dq_colinfo *l = &src->cols[c->col];
    const int quoted = c->right_token[0] == '\'';
    c->rhs_col = quoted ? -1 : find_col(src, c->right_token);
    const dq_ctype rt = c->rhs_col >= 0 ? src->cols[c->rhs_col].type : l->type;
    if (c->rhs_col >= 0) {
        const dq_ctype lt = l->type;
        if (!(numeric(lt) && numeric(rt)) && !(textual(lt) && textual(rt)) && lt != rt)
            BIND_FAIL(t, s, "'%s %s %s' compares %s column with %s one", c->left_text, OPS[c->op], c->right_token,
                      type_word(l), type_word(&src->cols[c->rhs_col]));
    } else {
        char buf[512];
        c->rhs = dq_constant(l, unquote(c->right_token, buf, sizeof buf), c->rhs_text, sizeof c->rhs_text);
        if (c->rhs.k == V_BAD)
            BIND_FAIL(t, s, "'%s' is not %s, the type of column %s", c->right_token, type_word(l), l->name);
    }
    if ((l->type == DQ_CAT || rt == DQ_CAT || l->type == DQ_BOOL) && c->op != DQ_EQ && c->op != DQ_NE)
        BIND_FAIL(t, s, "'%s %s %s': a %s compares with = and != only", c->left_text, OPS[c->op], c->right_token,
                  l->type == DQ_BOOL ? "boolean" : "category");
    return TS_OK;
}

/* Accepted values: split at commas outside quotes, unquoted, case-folded for a category column. */
static ts_err bind_values(const dq_suite *s, dq_test *t, const dq_colinfo *info)
{
    const char *p = t->arg;
    while (*p) {
        const char *q = p;
        int quoted = 0;
        for (; *q && (quoted || *q != ','); q++)
            if (*q == '\'')
                quoted = !quoted;
        char raw[512], buf[512], folded[512];
        snprintf(raw, sizeof raw, "%.*s", (int)(q - p), p);
        const char *v = unquote(raw, buf, sizeof buf);
        if (info->type == DQ_CAT && ts_fold_case(v, strlen(v), info->fold_upper, folded, sizeof folded - 1)) {
            folded[strlen(v)] = 0;
            v = folded;
        }
        char **nv = realloc(t->values, sizeof *nv * (size_t)(t->nvalues + 1));
        if (!nv || !(nv[t->nvalues] = strdup(v))) {
            if (nv)
                t->values = nv;
            BIND_FAIL(t, s, "out of memory");
        }
        t->values = nv, t->nvalues++;
        p = *q ? q + 1 : q;
    }
    if (t->nvalues == 0)
        BIND_FAIL(t, s, "accepted_values needs a list v1,v2,...");
    return TS_OK;
}

static ts_err bind_test(const dq_suite *s, dq_test *t, const dq_source *src)
{
    if (src->h5 && t->layer_given)
        BIND_FAIL(t, s, "values= applies to CSV tables; %.200s is an HDF5 table (its stored values are tested)", src->spec);
    if (t->kind == DQ_EXPRESSION) {
        TS_TRY(bind_cond(s, t, src, &t->expr));
        t->cols[0] = t->expr.col, t->ncols = 1;
        if (t->expr.rhs_col >= 0)
            t->cols[t->ncols++] = t->expr.rhs_col;
    } else {
        char list[sizeof t->column];
        snprintf(list, sizeof list, "%s", t->column);
        for (char *save = NULL, *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
            if (t->ncols == DQ_MAX_UNIQUE_COLS)
                BIND_FAIL(t, s, "at most %d columns", DQ_MAX_UNIQUE_COLS);
            TS_TRY(need_col(s, t, src, c, &t->cols[t->ncols++]));
        }
        if (t->ncols > 1 && t->kind != DQ_UNIQUE)
            BIND_FAIL(t, s, "only unique tests several columns (col1,col2,...)");
    }
    const dq_colinfo *info = &src->cols[t->cols[0]];
    if (t->kind == DQ_ACCEPTED_VALUES)
        TS_TRY(bind_values(s, t, info));
    if (t->kind == DQ_RELATIONSHIPS && info->type != DQ_INT && !textual(info->type))
        BIND_FAIL(t, s, "relationships compares integer or text columns; %s is %s", info->name, type_word(info));
    for (int w = 0; w < t->nwhere; w++)
        TS_TRY(bind_cond(s, t, src, &t->where[w]));
    return TS_OK;
}

ts_err dq_tests_bind(dq_suite *s, int src)
{
    for (int i = 0; i < s->ntests; i++)
        if (s->tests[i].source == src)
            TS_TRY(bind_test(s, &s->tests[i], &s->sources[src]));
    return TS_OK;
}
