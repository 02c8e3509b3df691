#include "ts_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_parse.h"
#include "ts_regex.h"

#define MAX_TOKENS 64

typedef struct parser {
    ts_rules *r;
    const char *source;
    int line;
    int have_order, have_malformed;
} parser;

#define PFAIL(ps, ...)                                                                                        \
    do {                                                                                                      \
        char msg_[512];                                                                                       \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                             \
        TS_FAIL(TS_ERR_USAGE, "%s:%d: %s", (ps)->source, (ps)->line, msg_);                                   \
    } while (0)

static int reason_code(const ts_rules *r, const char *name)
{
    for (int i = 0; i < r->nreasons; i++)
        if (strcmp(r->reasons[i], name) == 0)
            return i;
    return -1;
}

static ts_err need_reason(parser *ps, const char *name, int *code)
{
    if (!ps->have_order)
        PFAIL(ps, "reason '%s' used before the 'order' line that lists the reasons", name);
    if ((*code = reason_code(ps->r, name)) < 0)
        PFAIL(ps, "reason '%s' is not listed on the 'order' line", name);
    return TS_OK;
}

static ts_err parse_order(parser *ps, char **tok, int n)
{
    ts_rules *r = ps->r;
    if (ps->have_order || n < 2 || n - 1 > TS_RULES_MAX_REASONS)
        PFAIL(ps, "'order' takes 1 to %d reasons, once", TS_RULES_MAX_REASONS);
    for (int i = 1; i < n; i++) {
        if (reason_code(r, tok[i]) >= 0)
            PFAIL(ps, "reason '%s' is listed twice", tok[i]);
        if (!(r->reasons[r->nreasons++] = strdup(tok[i])))
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
    }
    ps->have_order = 1;
    return TS_OK;
}

/* Date forms by their spelled-out pattern. */
static ts_err parse_forms(parser *ps, char *list, unsigned *forms)
{
    static const char *const names[] = {"YYYY-MM-DD", "DD/MM/YYYY", "YYYY/MM/DD", "YYYYMMDD"};
    *forms = 0;
    for (char *save = NULL, *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < 4 && strcmp(f, names[k]) != 0)
            k++;
        if (k == 4)
            PFAIL(ps, "unknown date form '%s' (use YYYY-MM-DD, DD/MM/YYYY, YYYY/MM/DD or YYYYMMDD)", f);
        *forms |= 1u << k;
    }
    return TS_OK;
}

static ts_err parse_type(parser *ps, const char *type, ts_csv_field *f)
{
    int p, s;
    char tail;
    if (strcmp(type, "int64") == 0)
        f->kind = TS_RULE_INT64;
    else if (strcmp(type, "date") == 0)
        f->kind = TS_RULE_DATE;
    else if (strcmp(type, "category") == 0)
        f->kind = TS_RULE_CATEGORY;
    else if (strcmp(type, "string") == 0)
        f->kind = TS_RULE_STRING;
    else if (strcmp(type, "skip") == 0)
        f->kind = TS_RULE_SKIP;
    else if (strcmp(type, "float64") == 0)
        f->kind = TS_RULE_FLOAT64;
    else if (strcmp(type, "bool") == 0)
        f->kind = TS_RULE_BOOL;
    else if (sscanf(type, "decimal(%d,%d%c", &p, &s, &tail) == 3 && tail == ')' && s >= 0 && s <= 9 && p > s &&
             p <= 18)
        f->kind = TS_RULE_DECIMAL, f->scale = s, f->max_int_digits = p - s;
    else
        PFAIL(ps, "unknown type '%s' (int64, float64, bool, date, category, decimal(P,S) with P <= 18, string, "
                  "skip)", type);
    return TS_OK;
}

/* A bound in the field's own units: decimals scaled, dates as days. */
static ts_err parse_bound(parser *ps, const ts_csv_field *f, const char *text, int64_t *v)
{
    const size_t n = strlen(text);
    int32_t days;
    const int ok = f->kind == TS_RULE_INT64     ? ts_parse_int64(text, n, v)
                   : f->kind == TS_RULE_DECIMAL ? ts_parse_decimal(text, n, f->scale, f->max_int_digits, v)
                   : f->kind == TS_RULE_DATE    ? (ts_parse_date(text, n, &days) ? (*v = days, 1) : 0)
                                                : -1;
    if (ok < 0)
        PFAIL(ps, "bounds apply to int64, decimal and date columns, not to '%s'", f->name);
    if (!ok)
        PFAIL(ps, "bound '%s' is not a valid value of column '%s'", text, f->name);
    return TS_OK;
}

static ts_err inline_values(parser *ps, int field, char *list)
{
    const char *vals[64];
    int n = 0;
    for (char *save = NULL, *v = strtok_r(list, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        if (n == 64)
            PFAIL(ps, "at most 64 accepted values per column");
        vals[n++] = v;
    }
    if (n == 0) /* "values=" or "values=,": ts_rules_set_values' message would not name the line (fuzzing) */
        PFAIL(ps, "values= needs at least one value");
    return ts_rules_set_values(ps->r, field, vals, n);
}

/* Accepted values are stored folded: after a case= that follows values=, fold them again the new way. */
static ts_err refold_values(ts_rules *r, int field)
{
    const ts_dict *d = r->spec.fields[field].accepted;
    if (!d)
        return TS_OK;
    char *vals[64];
    int n = 0;
    ts_err err = TS_OK;
    for (; n < d->n && n < 64 && !err; n++) {
        int64_t len;
        const char *v = ts_dict_value(d, n, &len);
        if (!(vals[n] = strndup(v, (size_t)len)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    if (!err)
        err = ts_rules_set_values(r, field, (const char *const *)vals, n);
    for (int i = 0; i < n; i++)
        free(vals[i]);
    return err;
}

static ts_err parse_option(parser *ps, int field, char *opt, int *reject, int *missing)
{
    ts_rules *r = ps->r;
    ts_csv_field *f = &r->spec.fields[field];
    char *eq = strchr(opt, '=');
    const char *key = opt, *val = eq ? eq + 1 : NULL;
    if (eq)
        *eq = '\0';
    if (!val) {
        if (strcmp(key, "nullable") != 0)
            PFAIL(ps, "unknown option '%s'", key);
        f->nullable = 1;
        return TS_OK;
    }
    if (strcmp(key, "reject") == 0)
        return need_reason(ps, val, reject);
    if (strcmp(key, "missing") == 0)
        return need_reason(ps, val, missing);
    if (strcmp(key, "fail") == 0) {
        if (strcmp(val, "null") != 0 && strcmp(val, "reject") != 0)
            PFAIL(ps, "fail= takes 'null' or 'reject', not '%s'", val);
        f->fail_to_null = strcmp(val, "null") == 0;
        return TS_OK;
    }
    if (strcmp(key, "formats") == 0) {
        if (f->kind != TS_RULE_DATE)
            PFAIL(ps, "formats= applies to date columns");
        return parse_forms(ps, (char *)val, &f->date_forms);
    }
    if (strcmp(key, "case") == 0) {
        if (f->kind != TS_RULE_CATEGORY || (strcmp(val, "upper") != 0 && strcmp(val, "lower") != 0))
            PFAIL(ps, "case= applies to category columns and takes 'upper' or 'lower'");
        f->fold_upper = strcmp(val, "upper") == 0;
        return refold_values(r, field);
    }
    if (strcmp(key, "values") == 0) {
        if (f->kind != TS_RULE_CATEGORY)
            PFAIL(ps, "values= applies to category columns");
        if (val[0] != '@')
            return inline_values(ps, field, (char *)val);
        const char *colon = strrchr(val, ':');
        if (!colon || colon == val + 1 || !colon[1])
            PFAIL(ps, "values=@FILE:COLUMN expected, got '%s'", val);
        free(r->ref_file[field]), free(r->ref_column[field]); /* a repeated option replaces the earlier one */
        r->ref_file[field] = strndup(val + 1, (size_t)(colon - val - 1));
        r->ref_column[field] = strdup(colon + 1);
        if (!r->ref_file[field] || !r->ref_column[field])
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        return TS_OK;
    }
    if (strcmp(key, "pattern") == 0) {
        if (f->kind != TS_RULE_STRING && f->kind != TS_RULE_CATEGORY)
            PFAIL(ps, "pattern= applies to string and category columns");
        char anchored[600];
        if (snprintf(anchored, sizeof anchored, "^(%s)$", val) >= (int)sizeof anchored)
            PFAIL(ps, "pattern '%.40s...' is longer than %d bytes", val, (int)sizeof anchored - 5);
        if (r->has_pattern[field]) /* a repeated option replaces the earlier one */
            regfree(&r->pattern[field]), r->has_pattern[field] = 0, f->pattern = NULL;
        char big[200];
        if (ts_regex_check_size(anchored, big, sizeof big) != 0) /* before regcomp, which could take gigabytes */
            PFAIL(ps, "column '%s': pattern '%.60s%s' is too large to compile: %s", f->name, val,
                  strlen(val) > 60 ? "..." : "", big);
        const int rc = regcomp(&r->pattern[field], anchored, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[200];
            regerror(rc, &r->pattern[field], why, sizeof why);
            PFAIL(ps, "pattern '%s': %s", val, why);
        }
        r->has_pattern[field] = 1, f->pattern = &r->pattern[field];
        return TS_OK;
    }
    int64_t v;
    const int is_min = strcmp(key, "min") == 0 || strcmp(key, "gt") == 0;
    const int is_max = strcmp(key, "max") == 0 || strcmp(key, "lt") == 0;
    if (!is_min && !is_max)
        PFAIL(ps, "unknown option '%s'", key);
    TS_TRY(parse_bound(ps, f, val, &v));
    if (is_min)
        f->has_min = 1, f->min = v, f->min_open = key[0] == 'g';
    else
        f->has_max = 1, f->max = v, f->max_open = key[0] == 'l';
    return TS_OK;
}

static ts_err parse_column(parser *ps, char **tok, int n)
{
    ts_rules *r = ps->r;
    if (n < 3)
        PFAIL(ps, "'column NAME TYPE [options]' expected");
    if (r->spec.nfields == TS_MAX_COLS)
        PFAIL(ps, "more than %d columns", TS_MAX_COLS);
    if (ts_rules_field(r, tok[1]) >= 0)
        PFAIL(ps, "column '%s' is declared twice", tok[1]);
    /* the scan's tables would refuse these names only when a job runs: say so here, with the line (fuzzing) */
    if (strlen(tok[1]) >= TS_NAME_MAX)
        PFAIL(ps, "column name '%.40s...' is longer than %d bytes", tok[1], TS_NAME_MAX - 1);
    static const char *const reserved[] = {"__line", "__pos", "__hash_lo", "__hash_hi"};
    for (size_t k = 0; k < sizeof reserved / sizeof *reserved; k++)
        if (strcmp(tok[1], reserved[k]) == 0 && strcmp(tok[2], "skip") != 0)
            PFAIL(ps, "column name '%.60s' is reserved (the scan adds a column of that name); declare it as skip",
                  tok[1]);
    const int field = r->spec.nfields++;
    ts_csv_field *f = &r->spec.fields[field];
    if (!(r->names[field] = strdup(tok[1])))
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    f->name = r->names[field], f->reason_missing = -1;
    TS_TRY(parse_type(ps, tok[2], f));
    int reject = -1, missing = -1;
    for (int i = 3; i < n; i++)
        TS_TRY(parse_option(ps, field, tok[i], &reject, &missing));
    if (f->kind == TS_RULE_SKIP)
        return TS_OK;
    if (reject < 0 && !(f->fail_to_null && f->nullable))
        PFAIL(ps, "column '%s' needs reject=REASON (or fail=null with nullable)", f->name);
    f->reason_invalid = reject < 0 ? 0 : reject, f->reason_missing = missing;
    /* a column's checks run at the precedence of its most important reason */
    f->check_rank = reject < 0 ? r->nreasons : reject;
    if (missing >= 0 && missing < f->check_rank)
        f->check_rank = missing;
    return TS_OK;
}

static int tokenize_line(char *line, char **tok)
{
    int n = 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    /* counts past MAX_TOKENS (storing only the first ones), so parse_line can refuse the line */
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save))
        if (n++ < MAX_TOKENS)
            tok[n - 1] = t;
    return n;
}

/* unique COLS reject=R | references COL FILE:COLUMN reject=R | outlier COL zscore=K|iqr=K reject=R */
static ts_err parse_table_rule(parser *ps, char **tok, int n)
{
    ts_rules *r = ps->r;
    if (r->ntable_rules == TS_RULES_MAX_TABLE_RULES)
        PFAIL(ps, "more than %d table rules", TS_RULES_MAX_TABLE_RULES);
    /* counted at once, so ts_rules_free releases what a failing line already allocated */
    ts_table_rule *t = &r->table_rules[r->ntable_rules++];
    const int refs = strcmp(tok[0], "references") == 0, outlier = strcmp(tok[0], "outlier") == 0;
    if (n != (refs || outlier ? 4 : 3) || strncmp(tok[n - 1], "reject=", 7) != 0)
        PFAIL(ps, "expected 'unique COLS reject=R', 'references COL FILE:COLUMN reject=R' or "
                  "'outlier COL zscore=K|iqr=K reject=R'");
    t->line = ps->line;
    TS_TRY(need_reason(ps, tok[n - 1] + 7, &t->reason));
    for (char *save = NULL, *c = strtok_r(tok[1], ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (t->ncols == 8 || ts_rules_field(r, c) < 0)
            PFAIL(ps, "'%s' is not a declared column (declare columns before table rules), or more than 8", c);
        if (!(t->cols[t->ncols++] = strdup(c)))
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
    }
    if ((refs || outlier) && t->ncols != 1)
        PFAIL(ps, "'%s' takes one column", tok[0]);
    if (refs) {
        const char *colon = strrchr(tok[2], ':');
        if (!colon || colon == tok[2] || !colon[1])
            PFAIL(ps, "FILE:COLUMN expected, got '%s'", tok[2]);
        t->ref_file = strndup(tok[2], (size_t)(colon - tok[2])), t->ref_column = strdup(colon + 1);
        if (!t->ref_file || !t->ref_column)
            TS_FAIL(TS_ERR_NOMEM, "out of memory");
        t->kind = TS_TRULE_REFERENCES;
    } else if (outlier) {
        char *end;
        const int z = strncmp(tok[2], "zscore=", 7) == 0, iqr = strncmp(tok[2], "iqr=", 4) == 0;
        t->k = z || iqr ? strtod(tok[2] + (z ? 7 : 4), &end) : 0;
        if ((!z && !iqr) || *end || !(t->k > 0))
            PFAIL(ps, "outlier takes zscore=K or iqr=K with K > 0, not '%s'", tok[2]);
        t->kind = z ? TS_TRULE_ZSCORE : TS_TRULE_IQR;
    } else {
        t->kind = TS_TRULE_UNIQUE;
    }
    /* keep the table rules in precedence order, so each row gets the first reason that applies */
    for (int i = r->ntable_rules - 1; i > 0 && r->table_rules[i - 1].reason > r->table_rules[i].reason; i--) {
        const ts_table_rule tmp = r->table_rules[i];
        r->table_rules[i] = r->table_rules[i - 1], r->table_rules[i - 1] = tmp;
    }
    return TS_OK;
}

static ts_err parse_line(parser *ps, char **tok, int n)
{
    ts_rules *r = ps->r;
    if (n > MAX_TOKENS) /* options past the limit were silently dropped before */
        PFAIL(ps, "more than %d words on one line", MAX_TOKENS);
    if (strcmp(tok[0], "table") == 0) {
        if (n != 2 || r->table[0] || strlen(tok[1]) >= TS_NAME_MAX)
            PFAIL(ps, "'table NAME' expected, once");
        strcpy(r->table, tok[1]);
        return TS_OK;
    }
    if (strcmp(tok[0], "order") == 0)
        return parse_order(ps, tok, n);
    if (strcmp(tok[0], "malformed") == 0 || strcmp(tok[0], "duplicates") == 0) {
        int code;
        if (n != 2)
            PFAIL(ps, "'%s REASON' expected", tok[0]);
        TS_TRY(need_reason(ps, tok[1], &code));
        if (tok[0][0] == 'm')
            r->spec.reason_malformed = code, ps->have_malformed = 1;
        else
            r->duplicate_reason = code, r->spec.hash_rows = 1;
        return TS_OK;
    }
    if (strcmp(tok[0], "column") == 0)
        return parse_column(ps, tok, n);
    if (strcmp(tok[0], "unique") == 0 || strcmp(tok[0], "references") == 0 || strcmp(tok[0], "outlier") == 0)
        return parse_table_rule(ps, tok, n);
    PFAIL(ps, "unknown directive '%s' (table, order, malformed, duplicates, column, unique, references, outlier)",
          tok[0]);
}

ts_err ts_rules_parse(const char *text, const char *source, ts_rules **out)
{
    ts_rules *r = calloc(1, sizeof *r);
    if (r)
        r->spec.fields = r->fields;
    char *copy = strdup(text);
    if (!r || !copy) {
        free(r), free(copy);
        TS_FAIL(TS_ERR_NOMEM, "out of memory parsing '%s'", source);
    }
    r->duplicate_reason = -1;
    parser ps = {r, source, 0, 0, 0};
    ts_err err = TS_OK;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
        ps.line++;
        /* strtok_r skips empty lines: count them from the gap before this line */
        char *tok[MAX_TOKENS];
        const int n = tokenize_line(line, tok);
        if (n)
            err = parse_line(&ps, tok, n);
    }
    if (!err && (!r->table[0] || !ps.have_order || !ps.have_malformed || !r->spec.nfields))
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                             "%s: a rules file needs 'table', 'order', 'malformed' and at least one 'column'", source);
    free(copy);
    if (err) {
        ts_rules_free(r);
        return err;
    }
    *out = r;
    return TS_OK;
}

ts_err ts_rules_load(const char *path, ts_rules **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        TS_FAIL(TS_ERR_IO, "cannot open rules file '%s': %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t got;
    while (mem && (got = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, got, mem);
    fclose(f);
    if (!mem)
        TS_FAIL(TS_ERR_NOMEM, "out of memory reading '%s'", path);
    fclose(mem);
    const ts_err err = ts_rules_parse(text, path, out);
    free(text);
    return err;
}

void ts_rules_free(ts_rules *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nreasons; i++)
        free(r->reasons[i]);
    for (int i = 0; i < r->ntable_rules; i++) {
        for (int c = 0; c < r->table_rules[i].ncols; c++)
            free(r->table_rules[i].cols[c]);
        free(r->table_rules[i].ref_file), free(r->table_rules[i].ref_column);
    }
    for (int f = 0; f < TS_MAX_COLS; f++) {
        free(r->ref_file[f]), free(r->ref_column[f]), free(r->names[f]);
        if (r->has_pattern[f])
            regfree(&r->pattern[f]);
        ts_dict_release(r->spec.fields[f].accepted);
    }
    free(r);
}

int ts_rules_field(const ts_rules *r, const char *column)
{
    for (int f = 0; f < r->spec.nfields; f++)
        if (strcmp(r->spec.fields[f].name, column) == 0)
            return f;
    return -1;
}

/* Accepted values are stored folded, as the scan compares folded text with them. */
ts_err ts_rules_set_values(ts_rules *r, int field, const char *const *values, int n)
{
    ts_csv_field *f = &r->spec.fields[field];
    if (n < 1 || n > 64)
        TS_FAIL(TS_ERR_USAGE, "column '%s': 1 to 64 accepted values, not %d", f->name, n);
    char **folded = calloc((size_t)n, sizeof *folded);
    ts_err err = folded ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int i = 0; !err && i < n; i++) {
        const size_t len = strlen(values[i]);
        if (!(folded[i] = malloc(len + 1)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        else
            ts_fold_case(values[i], len, f->fold_upper, folded[i], len), folded[i][len] = '\0';
    }
    ts_dict *d = NULL;
    if (!err)
        err = ts_dict_new((const char *const *)folded, n, &d);
    for (int i = 0; folded && i < n; i++)
        free(folded[i]);
    free(folded);
    TS_TRY(err);
    ts_dict_release(f->accepted);
    f->accepted = d;
    return TS_OK;
}

ts_err ts_rules_check_complete(const ts_rules *r)
{
    for (int f = 0; f < r->spec.nfields; f++)
        if (r->spec.fields[f].kind == TS_RULE_CATEGORY && !r->spec.fields[f].accepted)
            TS_FAIL(TS_ERR_USAGE, "rules for '%s': category column '%s' has no accepted values%s%s", r->table,
                    r->spec.fields[f].name, r->ref_file[f] ? " yet: read them from " : "",
                    r->ref_file[f] ? r->ref_file[f] : "");
    return TS_OK;
}
