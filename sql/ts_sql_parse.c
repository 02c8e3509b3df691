/* Recursive-descent parser: tokens (ts_sql_lex.h) to the trees of ts_sql_ast.h, all allocated in the script's
 * arena, so an error anywhere just frees the arena. */
#include "ts_sql_parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ts_sql_lex.h"

/* Parser recursion (nested parentheses, subqueries, NOT and minus chains, EXPLAIN) is capped so hostile input
 * cannot exhaust the stack. */
#define MAX_DEPTH 200
/* Height of the finished trees (DuckDB's max_expression_depth): code walking them may recurse this deep, even
 * for long flat chains such as a + a + ... + a, which the parser builds with loops. */
#define MAX_HEIGHT 1000

typedef struct parser {
    ts_sql_script *s;
    const ts_sql_token *toks;
    int ntoks, i;
    int depth;
    int alias_tok; /* token index of the last alias taken without AS, or -1 */
} parser;

/* Keywords a misspelled word is compared with, by context (only words of 4+ letters: shorter misspellings
 * are too ambiguous to guess). */
static const char *const follow_kws[] = {"FROM",   "WHERE",  "GROUP",   "HAVING", "WINDOW", "QUALIFY", "ORDER",
                                         "LIMIT",  "OFFSET", "UNION",   "EXCEPT", "INTERSECT", "JOIN",  "INNER",
                                         "LEFT",   "RIGHT",  "FULL",    "OUTER",  "CROSS",  "SEMI",    "ANTI",
                                         "USING",  "BETWEEN", "LIKE",   "ILIKE",  "DESC",   "NULLS",   "FILTER",
                                         "OVER"};
static const char *const stmt_kws[] = {"SELECT", "WITH", "CREATE", "DROP", "EXPLAIN", "INSERT"};
static const char *const create_kws[] = {"TABLE", "VIEW", "REPLACE"};
static const char *const drop_kws[] = {"TABLE", "VIEW"};
#define NKW(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* ---- tokens --------------------------------------------------------------------------------------------- */

static const ts_sql_token *tok(const parser *p) { return &p->toks[p->i]; }

static const ts_sql_token *peek(const parser *p, int k)
{
    int j = p->i + k;
    return &p->toks[j < p->ntoks ? j : p->ntoks - 1];
}

static void advance(parser *p)
{
    if (p->toks[p->i].kind != TS_TK_EOF)
        p->i++;
}

static int is_kw(const ts_sql_token *t, ts_sql_keyword kw) { return t->kind == TS_TK_IDENT && t->kw == kw; }
static int at_kw(const parser *p, ts_sql_keyword kw) { return is_kw(tok(p), kw); }
static int at(const parser *p, ts_sql_tok_kind kind) { return tok(p)->kind == kind; }

static int accept_kw(parser *p, ts_sql_keyword kw)
{
    if (!at_kw(p, kw))
        return 0;
    advance(p);
    return 1;
}

static int accept(parser *p, ts_sql_tok_kind kind)
{
    if (!at(p, kind))
        return 0;
    advance(p);
    return 1;
}

/* A word usable as a column, table or alias name: quoted, or unquoted and not reserved. */
static int is_name(const ts_sql_token *t)
{
    return t->kind == TS_TK_QIDENT || (t->kind == TS_TK_IDENT && !ts_sql_keyword_reserved(t->kw));
}

static int is_word(const ts_sql_token *t) { return t->kind == TS_TK_IDENT || t->kind == TS_TK_QIDENT; }

/* ---- errors --------------------------------------------------------------------------------------------- */

static ts_err err_tok(const parser *p, const ts_sql_token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ts_err err_tok(const parser *p, const ts_sql_token *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_err err = ts_sql_verror_span(p->s->text, p->s->filename, t->off, t->len, TS_ERR_USAGE, fmt, ap);
    va_end(ap);
    return err;
}

/* The token as quoted in messages: 'text' (shortened, control bytes escaped), string '...', end of input. */
static void describe(const parser *p, const ts_sql_token *t, char *buf, size_t cap)
{
    if (t->kind == TS_TK_EOF) {
        snprintf(buf, cap, "end of input");
        return;
    }
    const unsigned char *s = (const unsigned char *)p->s->text + t->off;
    size_t n = t->len, shown = n > 40 ? 40 : n, len = 0;
    while (shown < n && shown > 0 && (s[shown] & 0xC0) == 0x80)
        shown--;
    len = (size_t)snprintf(buf, cap, "%s", t->kind == TS_TK_STRING ? "string " : "'");
    for (size_t i = 0; i < shown && len + 8 < cap; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", s[i]);
        else
            buf[len++] = (char)s[i];
    }
    snprintf(buf + len, cap - len, "%s%s", shown < n ? "..." : "", t->kind == TS_TK_STRING ? "" : "'");
}

/* The keyword of cands that the unquoted word t looks like a misspelling of, or NULL. */
static const char *misspelled(const parser *p, const ts_sql_token *t, const char *const *cands, int n)
{
    char word[33];
    if (!cands || t->kind != TS_TK_IDENT || t->kw != TS_KW_NONE || t->len < 4 || t->len >= sizeof word)
        return NULL;
    memcpy(word, p->s->text + t->off, t->len);
    word[t->len] = '\0';
    return ts_sql_closest(word, cands, n);
}

static ts_err err_found(const parser *p, const ts_sql_token *t, const char *what)
{
    char found[128];
    describe(p, t, found, sizeof found);
    return err_tok(p, t, "syntax error: expected %s, found %s", what, found);
}

/* "expected <what>, found <token>". A word that looks like a misspelled keyword of cands is reported as that
 * keyword; so is an alias taken without AS just before the error (SELECT a FORM t reads FORM as a's alias,
 * and the real mistake is there). */
static ts_err err_expected(const parser *p, const char *what, const char *const *cands, int n)
{
    if (p->alias_tok >= 0 && p->alias_tok == p->i - 1) {
        const char *kw = misspelled(p, &p->toks[p->alias_tok], follow_kws, NKW(follow_kws));
        if (kw)
            return err_found(p, &p->toks[p->alias_tok], kw);
    }
    const char *kw = misspelled(p, tok(p), cands, n);
    return err_found(p, tok(p), kw ? kw : what);
}

static ts_err expect(parser *p, ts_sql_tok_kind kind, const char *what)
{
    return accept(p, kind) ? TS_OK : err_expected(p, what, NULL, 0);
}

static ts_err expect_kw(parser *p, ts_sql_keyword kw)
{
    return accept_kw(p, kw) ? TS_OK : err_expected(p, ts_sql_keyword_name(kw), NULL, 0);
}

static ts_err enter(parser *p)
{
    if (++p->depth > MAX_DEPTH)
        return err_tok(p, tok(p), "syntax error: nesting deeper than %d levels", MAX_DEPTH);
    return TS_OK;
}

static void leave(parser *p) { p->depth--; }

/* ---- arena helpers -------------------------------------------------------------------------------------- */

static ts_err out_of_memory(size_t size) { TS_FAIL(TS_ERR_NOMEM, "out of memory parsing SQL (%zu bytes)", size); }

/* ptr = count zeroed elements in the script's arena */
#define ALLOC(p, ptr, count)                                                                                  \
    do {                                                                                                      \
        size_t size_ = (size_t)(count) * sizeof *(ptr);                                                       \
        if (!((ptr) = ts_sql_alloc((p)->s, size_)))                                                           \
            return out_of_memory(size_);                                                                      \
    } while (0)

/* Makes room for one more element in an arena array of *n elements (capacity *cap), doubling. */
static ts_err grow(parser *p, void *arr, int n, int *cap, size_t elsize)
{
    if (n < *cap)
        return TS_OK;
    void *old;
    memcpy(&old, arr, sizeof old);
    int ncap = *cap ? *cap * 2 : 4;
    void *g = ts_sql_alloc(p->s, (size_t)ncap * elsize);
    if (!g)
        return out_of_memory((size_t)ncap * elsize);
    if (n)
        memcpy(g, old, (size_t)n * elsize);
    memcpy(arr, &g, sizeof g);
    *cap = ncap;
    return TS_OK;
}

#define PUSH(p, arr, n, cap, value)                                                                           \
    do {                                                                                                      \
        TS_TRY(grow((p), &(arr), (n), &(cap), sizeof *(arr)));                                                \
        (arr)[(n)++] = (value);                                                                               \
    } while (0)

static ts_err copy_text(parser *p, const char *src, size_t n, char **out)
{
    ALLOC(p, *out, n + 1);
    memcpy(*out, src, n);
    (*out)[n] = '\0';
    return TS_OK;
}

/* The text between the quotes q of src[0..len), a doubled quote standing for one. */
static ts_err unquote(parser *p, const char *src, size_t len, char q, char **out, int64_t *outlen)
{
    char *d;
    ALLOC(p, d, len);
    size_t n = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        d[n++] = src[i];
        if (src[i] == q)
            i++;
    }
    d[n] = '\0';
    *out = d;
    if (outlen)
        *outlen = (int64_t)n;
    return TS_OK;
}

/* A word's name: lower-cased, or verbatim without the quotes when double-quoted. */
static ts_err word_text(parser *p, const ts_sql_token *t, char **out)
{
    const char *src = p->s->text + t->off;
    if (t->kind == TS_TK_QIDENT)
        return unquote(p, src, t->len, '"', out, NULL);
    TS_TRY(copy_text(p, src, t->len, out));
    for (char *c = *out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return TS_OK;
}

/* Joins the n words at token indices first, first + 2, ... (dot-separated in the source) with '.'. */
static ts_err join_words(parser *p, int first, int n, char **out)
{
    size_t total = 0;
    char **parts;
    ALLOC(p, parts, n);
    for (int k = 0; k < n; k++) {
        TS_TRY(word_text(p, &p->toks[first + 2 * k], &parts[k]));
        total += strlen(parts[k]) + 1;
    }
    ALLOC(p, *out, total);
    for (int k = 0, len = 0; k < n; k++) {
        size_t l = strlen(parts[k]);
        if (k)
            (*out)[len++] = '.';
        memcpy(*out + len, parts[k], l);
        len += (int)l;
    }
    return TS_OK;
}

/* Counts the words of a dotted name starting at the current token (a name, then any words after dots). */
static int dotted_length(const parser *p)
{
    int k = p->i, n = 1;
    while (p->toks[k + 1].kind == TS_TK_DOT && is_word(&p->toks[k + 2]))
        k += 2, n++;
    return n;
}

/* name {. word}: one name with its dots ("analytics.country_month"). */
static ts_err parse_dotted(parser *p, const char *what, char **out)
{
    if (!is_name(tok(p)))
        return err_expected(p, what, NULL, 0);
    int n = dotted_length(p);
    TS_TRY(join_words(p, p->i, n, out));
    p->i += 2 * n - 1;
    return TS_OK;
}

static ts_err parse_name(parser *p, const char *what, char **out)
{
    if (!is_name(tok(p)))
        return err_expected(p, what, NULL, 0);
    TS_TRY(word_text(p, tok(p), out));
    advance(p);
    return TS_OK;
}

/* '(' name, ... ')' */
static ts_err parse_name_list(parser *p, const char *what, char ***names, int *n)
{
    int cap = 0;
    *names = NULL, *n = 0;
    TS_TRY(expect(p, TS_TK_LPAREN, "'('"));
    do {
        char *name;
        TS_TRY(parse_name(p, what, &name));
        PUSH(p, *names, *n, cap, name);
    } while (accept(p, TS_TK_COMMA));
    return expect(p, TS_TK_RPAREN, "',' or ')'");
}

/* ---- expressions ---------------------------------------------------------------------------------------- */

static ts_err parse_expr(parser *p, ts_sql_expr **out);
static ts_err parse_query(parser *p, ts_sql_query **out);
static ts_err query_rest(parser *p, ts_sql_pos pos, ts_sql_cte *ctes, int nctes, ts_sql_query *first, int paren,
                         ts_sql_query **out);

static ts_err new_expr(parser *p, ts_sql_expr_kind kind, ts_sql_pos pos, ts_sql_expr **out)
{
    ALLOC(p, *out, 1);
    (*out)->kind = kind;
    (*out)->pos = pos;
    return TS_OK;
}

/* A node of kind with the given arguments (positioned at the first). */
static ts_err new_node(parser *p, ts_sql_expr_kind kind, ts_sql_pos pos, ts_sql_expr *a, ts_sql_expr *b,
                       ts_sql_expr *c, ts_sql_expr **out)
{
    ts_sql_expr *args[3] = {a, b, c};
    int n = c ? 3 : b ? 2 : a ? 1 : 0;
    TS_TRY(new_expr(p, kind, pos, out));
    ALLOC(p, (*out)->args, n ? n : 1);
    memcpy((*out)->args, args, (size_t)n * sizeof *args);
    (*out)->nargs = n;
    return TS_OK;
}

/* *lhs = lhs op rhs */
static ts_err binary(parser *p, ts_sql_op op, ts_sql_expr **lhs, ts_sql_expr *rhs)
{
    TS_TRY(new_node(p, TS_SQL_E_BINARY, (*lhs)->pos, *lhs, rhs, NULL, lhs));
    (*lhs)->op = op;
    return TS_OK;
}

/* expr {, expr} into an arena array. */
static ts_err parse_expr_list(parser *p, ts_sql_expr ***list, int *n)
{
    int cap = 0;
    *list = NULL, *n = 0;
    do {
        ts_sql_expr *e;
        TS_TRY(parse_expr(p, &e));
        PUSH(p, *list, *n, cap, e);
    } while (accept(p, TS_TK_COMMA));
    return TS_OK;
}

static ts_err parse_int64(parser *p, int64_t lo, int64_t hi, const char *what, int64_t *out)
{
    const ts_sql_token *t = tok(p);
    if (t->kind != TS_TK_INT)
        return err_expected(p, what, NULL, 0);
    int64_t v = 0;
    for (size_t k = 0; k < t->len; k++) {
        int d = p->s->text[t->off + k] - '0';
        if (v > (INT64_MAX - d) / 10)
            return err_tok(p, t, "syntax error: %s out of range", what);
        v = v * 10 + d;
    }
    if (v < lo || v > hi)
        return err_tok(p, t, "syntax error: %s must be between %lld and %lld", what, (long long)lo, (long long)hi);
    advance(p);
    *out = v;
    return TS_OK;
}

/* ---- types ---- */

typedef struct type_name {
    const char *name;
    ts_sql_type_kind kind;
} type_name;

static const type_name type_names[] = {
    {"BOOLEAN", TS_SQL_TY_BOOLEAN}, {"BOOL", TS_SQL_TY_BOOLEAN},     {"LOGICAL", TS_SQL_TY_BOOLEAN},
    {"INTEGER", TS_SQL_TY_INTEGER}, {"INT", TS_SQL_TY_INTEGER},      {"INT4", TS_SQL_TY_INTEGER},
    {"INT32", TS_SQL_TY_INTEGER},   {"SIGNED", TS_SQL_TY_INTEGER},   {"SMALLINT", TS_SQL_TY_INTEGER},
    {"INT2", TS_SQL_TY_INTEGER},    {"INT16", TS_SQL_TY_INTEGER},    {"SHORT", TS_SQL_TY_INTEGER},
    {"TINYINT", TS_SQL_TY_INTEGER}, {"INT1", TS_SQL_TY_INTEGER},     {"BIGINT", TS_SQL_TY_BIGINT},
    {"INT8", TS_SQL_TY_BIGINT},     {"INT64", TS_SQL_TY_BIGINT},     {"LONG", TS_SQL_TY_BIGINT},
    {"HUGEINT", TS_SQL_TY_BIGINT},  {"INT128", TS_SQL_TY_BIGINT},    {"DOUBLE", TS_SQL_TY_DOUBLE},
    {"FLOAT8", TS_SQL_TY_DOUBLE},   {"FLOAT", TS_SQL_TY_DOUBLE},     {"FLOAT4", TS_SQL_TY_DOUBLE},
    {"REAL", TS_SQL_TY_DOUBLE},     {"DECIMAL", TS_SQL_TY_DECIMAL},  {"NUMERIC", TS_SQL_TY_DECIMAL},
    {"VARCHAR", TS_SQL_TY_VARCHAR}, {"TEXT", TS_SQL_TY_VARCHAR},     {"STRING", TS_SQL_TY_VARCHAR},
    {"CHAR", TS_SQL_TY_VARCHAR},    {"BPCHAR", TS_SQL_TY_VARCHAR},   {"CHARACTER", TS_SQL_TY_VARCHAR},
    {"DATE", TS_SQL_TY_DATE},       {"TIMESTAMP", TS_SQL_TY_TIMESTAMP}, {"DATETIME", TS_SQL_TY_TIMESTAMP},
    {"INTERVAL", TS_SQL_TY_INTERVAL},
};
#define NTYPES ((int)(sizeof type_names / sizeof type_names[0]))

static int word_is(const parser *p, const ts_sql_token *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == TS_TK_IDENT && t->len == n && strncasecmp(p->s->text + t->off, word, n) == 0;
}

static ts_err unknown_type(parser *p, const ts_sql_token *t)
{
    const char *cands[NTYPES];
    char word[64];
    size_t n = t->len < sizeof word ? t->len : sizeof word - 1;
    memcpy(word, p->s->text + t->off, n);
    word[n] = '\0';
    for (int k = 0; k < NTYPES; k++)
        cands[k] = type_names[k].name;
    const char *best = ts_sql_closest(word, cands, NTYPES);
    int shown = t->len > 60 ? 60 : (int)t->len;
    if (best)
        return err_tok(p, t, "unknown type '%.*s' (did you mean %s?)", shown, p->s->text + t->off, best);
    return err_tok(p, t, "unknown type '%.*s'", shown, p->s->text + t->off);
}

/* DECIMAL [(p [, s])]: precision 1..38, scale 0..p; (18, 3) when omitted, scale 0 when only p is given. */
static ts_err parse_decimal_args(parser *p, ts_sql_type *ty)
{
    ty->precision = 18, ty->scale = 3;
    if (!accept(p, TS_TK_LPAREN))
        return TS_OK;
    int64_t prec, scale = 0;
    TS_TRY(parse_int64(p, 1, 38, "DECIMAL precision", &prec));
    if (accept(p, TS_TK_COMMA))
        TS_TRY(parse_int64(p, 0, prec, "DECIMAL scale", &scale));
    ty->precision = (int)prec, ty->scale = (int)scale;
    return expect(p, TS_TK_RPAREN, "')'");
}

static ts_err parse_type(parser *p, ts_sql_type *ty)
{
    const ts_sql_token *t = tok(p);
    memset(ty, 0, sizeof *ty);
    if (t->kind != TS_TK_IDENT)
        return err_expected(p, "a type name", NULL, 0);
    int k = 0;
    while (k < NTYPES && !word_is(p, t, type_names[k].name))
        k++;
    if (k == NTYPES)
        return unknown_type(p, t);
    advance(p);
    ty->kind = type_names[k].kind;
    if (ty->kind == TS_SQL_TY_DOUBLE && word_is(p, t, "DOUBLE") && word_is(p, tok(p), "PRECISION"))
        advance(p);
    if (ty->kind == TS_SQL_TY_DECIMAL)
        TS_TRY(parse_decimal_args(p, ty));
    if (ty->kind == TS_SQL_TY_VARCHAR && accept(p, TS_TK_LPAREN)) {
        int64_t len;
        TS_TRY(parse_int64(p, 1, INT32_MAX, "VARCHAR length", &len));
        TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    }
    return TS_OK;
}

/* ---- literals ---- */

static ts_err parse_number(parser *p, ts_sql_expr **out)
{
    const ts_sql_token *t = tok(p);
    const char *src = p->s->text + t->off;
    int64_t v = 0;
    int fits = t->kind == TS_TK_INT;
    for (size_t k = 0; fits && k < t->len; k++) {
        int d = src[k] - '0';
        if (v > (INT64_MAX - d) / 10)
            fits = 0;
        else
            v = v * 10 + d;
    }
    if (fits) {
        TS_TRY(new_expr(p, TS_SQL_E_INT, t->pos, out));
        (*out)->ival = v;
    } else {
        TS_TRY(new_expr(p, TS_SQL_E_FLOAT, t->pos, out));
        TS_TRY(copy_text(p, src, t->len, &(*out)->sval));
        (*out)->slen = (int64_t)t->len;
        (*out)->fval = strtod((*out)->sval, NULL);
        if (isinf((*out)->fval))
            return err_tok(p, t, "syntax error: number out of range");
    }
    advance(p);
    return TS_OK;
}

static ts_err parse_string(parser *p, ts_sql_expr **out)
{
    const ts_sql_token *t = tok(p);
    TS_TRY(new_expr(p, TS_SQL_E_STRING, t->pos, out));
    TS_TRY(unquote(p, p->s->text + t->off, t->len, '\'', &(*out)->sval, &(*out)->slen));
    advance(p);
    return TS_OK;
}

/* [a, b, ...] -> list_value(a, b, ...) */
static ts_err parse_list(parser *p, ts_sql_expr **out)
{
    TS_TRY(new_expr(p, TS_SQL_E_FUNC, tok(p)->pos, out));
    TS_TRY(copy_text(p, "list_value", 10, &(*out)->name));
    advance(p);
    if (accept(p, TS_TK_RBRACKET))
        return TS_OK;
    TS_TRY(parse_expr_list(p, &(*out)->args, &(*out)->nargs));
    return expect(p, TS_TK_RBRACKET, "',' or ']'");
}

/* ---- windows ---- */

static ts_err parse_order_list(parser *p, ts_sql_order **order, int *n)
{
    int cap = 0;
    *order = NULL, *n = 0;
    do {
        ts_sql_order o = {0};
        TS_TRY(parse_expr(p, &o.expr));
        if (accept_kw(p, TS_KW_DESC))
            o.desc = 1;
        else
            accept_kw(p, TS_KW_ASC);
        if (accept_kw(p, TS_KW_NULLS)) {
            if (accept_kw(p, TS_KW_FIRST))
                o.nulls = 1;
            else if (accept_kw(p, TS_KW_LAST))
                o.nulls = 2;
            else
                return err_expected(p, "FIRST or LAST", NULL, 0);
        }
        PUSH(p, *order, *n, cap, o);
    } while (accept(p, TS_TK_COMMA));
    return TS_OK;
}

static ts_err parse_bound(parser *p, ts_sql_bound_kind *kind, int64_t *n)
{
    *n = 0;
    if (accept_kw(p, TS_KW_UNBOUNDED)) {
        if (accept_kw(p, TS_KW_PRECEDING))
            *kind = TS_SQL_BOUND_UNBOUNDED_PRECEDING;
        else if (accept_kw(p, TS_KW_FOLLOWING))
            *kind = TS_SQL_BOUND_UNBOUNDED_FOLLOWING;
        else
            return err_expected(p, "PRECEDING or FOLLOWING", NULL, 0);
        return TS_OK;
    }
    if (accept_kw(p, TS_KW_CURRENT)) {
        *kind = TS_SQL_BOUND_CURRENT_ROW;
        return expect_kw(p, TS_KW_ROW);
    }
    if (!at(p, TS_TK_INT))
        return err_expected(p, "UNBOUNDED, CURRENT ROW or a row count", NULL, 0);
    TS_TRY(parse_int64(p, 0, INT64_MAX, "frame offset", n));
    if (accept_kw(p, TS_KW_PRECEDING))
        *kind = TS_SQL_BOUND_PRECEDING;
    else if (accept_kw(p, TS_KW_FOLLOWING))
        *kind = TS_SQL_BOUND_FOLLOWING;
    else
        return err_expected(p, "PRECEDING or FOLLOWING", NULL, 0);
    return TS_OK;
}

/* ROWS|RANGE (BETWEEN bound AND bound | bound): the frame may not start after it ends. */
static ts_err parse_frame(parser *p, ts_sql_window *w)
{
    const ts_sql_token *start = tok(p);
    w->has_frame = 1;
    w->frame_rows = at_kw(p, TS_KW_ROWS);
    advance(p);
    if (accept_kw(p, TS_KW_BETWEEN)) {
        start = tok(p);
        TS_TRY(parse_bound(p, &w->start, &w->start_n));
        TS_TRY(expect_kw(p, TS_KW_AND));
        TS_TRY(parse_bound(p, &w->end, &w->end_n));
    } else {
        TS_TRY(parse_bound(p, &w->start, &w->start_n));
        w->end = TS_SQL_BOUND_CURRENT_ROW;
    }
    if (w->start == TS_SQL_BOUND_UNBOUNDED_FOLLOWING || w->end == TS_SQL_BOUND_UNBOUNDED_PRECEDING ||
        w->start > w->end)
        return err_tok(p, start, "syntax error: window frame starts after it ends");
    return TS_OK;
}

/* [name] [PARTITION BY ..] [ORDER BY ..] [frame], inside the parentheses of OVER (...) or WINDOW w AS (...). A
 * leading name is a window the SELECT's WINDOW clause defines (any unreserved word but the clause keywords). */
static ts_err parse_window_spec(parser *p, ts_sql_window *w)
{
    TS_TRY(expect(p, TS_TK_LPAREN, "'('"));
    if (is_name(tok(p)) && !at_kw(p, TS_KW_PARTITION) && !at_kw(p, TS_KW_ROWS) && !at_kw(p, TS_KW_RANGE)) {
        w->ref_pos = tok(p)->pos;
        TS_TRY(parse_name(p, "a window name", &w->ref));
    }
    if (at_kw(p, TS_KW_PARTITION)) {
        w->partition_pos = tok(p)->pos;
        advance(p);
        TS_TRY(expect_kw(p, TS_KW_BY));
        TS_TRY(parse_expr_list(p, &w->partition, &w->npartition));
    }
    if (at_kw(p, TS_KW_ORDER)) {
        w->order_pos = tok(p)->pos;
        advance(p);
        TS_TRY(expect_kw(p, TS_KW_BY));
        TS_TRY(parse_order_list(p, &w->order, &w->norder));
    }
    if (at_kw(p, TS_KW_ROWS) || at_kw(p, TS_KW_RANGE))
        TS_TRY(parse_frame(p, w));
    return expect(p, TS_TK_RPAREN, "PARTITION BY, ORDER BY, ROWS, RANGE or ')'");
}

/* OVER (window) | OVER name; the OVER keyword is behind. */
static ts_err parse_window(parser *p, ts_sql_window **out)
{
    ts_sql_window *w;
    ALLOC(p, w, 1);
    *out = w;
    if (is_name(tok(p))) {
        w->bare = 1;
        w->ref_pos = tok(p)->pos;
        return parse_name(p, "a window name", &w->ref);
    }
    if (!at(p, TS_TK_LPAREN))
        return err_expected(p, "'(' or a window name after OVER", NULL, 0);
    return parse_window_spec(p, w);
}

/* WINDOW name AS (window) {, name AS (window)}; the WINDOW keyword is behind. */
static ts_err parse_window_clause(parser *p, ts_sql_select *s)
{
    int cap = 0;
    do {
        ts_sql_named_window nw = {.pos = tok(p)->pos};
        TS_TRY(parse_name(p, "a window name", &nw.name));
        TS_TRY(expect_kw(p, TS_KW_AS));
        ALLOC(p, nw.def, 1);
        TS_TRY(parse_window_spec(p, nw.def));
        PUSH(p, s->windows, s->nwindows, cap, nw);
    } while (accept(p, TS_TK_COMMA));
    return TS_OK;
}

/* ---- calls ---- */

/* EXTRACT(part FROM e) -> extract('part', e) */
static ts_err parse_extract(parser *p, ts_sql_expr *f)
{
    ts_sql_expr *part, *e;
    const ts_sql_token *t = tok(p);
    TS_TRY(new_expr(p, TS_SQL_E_STRING, t->pos, &part));
    if (t->kind == TS_TK_STRING)
        TS_TRY(unquote(p, p->s->text + t->off, t->len, '\'', &part->sval, &part->slen));
    else
        TS_TRY(word_text(p, t, &part->sval));
    for (char *c = part->sval; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    part->slen = (int64_t)strlen(part->sval);
    advance(p);
    TS_TRY(expect_kw(p, TS_KW_FROM));
    TS_TRY(parse_expr(p, &e));
    ALLOC(p, f->args, 2);
    f->args[0] = part, f->args[1] = e, f->nargs = 2;
    return expect(p, TS_TK_RPAREN, "')'");
}

static ts_err parse_concat(parser *p, ts_sql_expr **out);

static ts_err set_args(parser *p, ts_sql_expr *f, ts_sql_expr *a, ts_sql_expr *b, ts_sql_expr *c)
{
    ALLOC(p, f->args, 3);
    f->args[0] = a, f->args[1] = b, f->args[2] = c;
    f->nargs = c ? 3 : b ? 2 : 1;
    return expect(p, TS_TK_RPAREN, "')'");
}

static ts_err int_literal(parser *p, ts_sql_pos pos, int64_t v, ts_sql_expr **out)
{
    TS_TRY(new_expr(p, TS_SQL_E_INT, pos, out));
    (*out)->ival = v;
    return TS_OK;
}

/* SUBSTRING(s FROM a [FOR b]) | SUBSTRING(s FOR b) -> substring(s, a[, b]); the current token follows s. */
static ts_err parse_substring_from(parser *p, ts_sql_expr *f, ts_sql_expr *s)
{
    ts_sql_expr *from = NULL, *len = NULL;
    if (accept_kw(p, TS_KW_FROM))
        TS_TRY(parse_expr(p, &from));
    if (word_is(p, tok(p), "FOR")) {
        advance(p);
        TS_TRY(parse_expr(p, &len));
    }
    if (!from)
        TS_TRY(int_literal(p, s->pos, 1, &from));
    return set_args(p, f, s, from, len);
}

/* TRIM([BOTH | LEADING | TRAILING] [chars] FROM s) -> trim / ltrim / rtrim(s[, chars]); the current token is the
 * first inside the parentheses. Returns *done = 0 (nothing consumed) for the plain call trim(s[, chars]). */
static ts_err parse_trim(parser *p, ts_sql_expr *f, int *done)
{
    const char *fn = word_is(p, tok(p), "LEADING") ? "ltrim" : word_is(p, tok(p), "TRAILING") ? "rtrim" : "trim";
    const int side = word_is(p, tok(p), "BOTH") || strcmp(fn, "trim") != 0;
    int k = p->i + side, depth = 0; /* a FROM at this level makes it the special form */
    for (; p->toks[k].kind != TS_TK_EOF; k++) {
        const ts_sql_tok_kind kind = p->toks[k].kind;
        if (kind == TS_TK_LPAREN)
            depth++;
        else if (kind == TS_TK_RPAREN && depth-- == 0)
            break;
        else if (depth == 0 && (is_kw(&p->toks[k], TS_KW_FROM) || kind == TS_TK_COMMA))
            break;
    }
    *done = side || is_kw(&p->toks[k], TS_KW_FROM);
    if (!*done)
        return TS_OK;
    if (side)
        advance(p);
    ts_sql_expr *chars = NULL, *s;
    if (!accept_kw(p, TS_KW_FROM)) {
        TS_TRY(parse_expr(p, &chars));
        TS_TRY(expect_kw(p, TS_KW_FROM));
    }
    TS_TRY(parse_expr(p, &s));
    TS_TRY(copy_text(p, fn, strlen(fn), &f->name));
    return set_args(p, f, s, chars, NULL);
}

/* POSITION(x IN s) -> position(s, x): x stops before IN. */
static ts_err parse_position(parser *p, ts_sql_expr *f)
{
    ts_sql_expr *x, *s;
    TS_TRY(parse_concat(p, &x));
    TS_TRY(expect_kw(p, TS_KW_IN));
    TS_TRY(parse_expr(p, &s));
    return set_args(p, f, s, x, NULL);
}

/* The special forms of SQL's SUBSTRING, TRIM and POSITION; *done when one was parsed. */
static ts_err parse_special_call(parser *p, ts_sql_expr *f, int *done)
{
    *done = 0;
    if (!strcmp(f->name, "trim"))
        return parse_trim(p, f, done);
    if (!strcmp(f->name, "position")) {
        int k = p->i, depth = 0; /* position(x IN s) unless it is a plain call position(s, x) */
        for (; p->toks[k].kind != TS_TK_EOF && !(depth == 0 && p->toks[k].kind == TS_TK_COMMA); k++) {
            if (p->toks[k].kind == TS_TK_LPAREN)
                depth++;
            else if (p->toks[k].kind == TS_TK_RPAREN && depth-- == 0)
                break;
        }
        if (p->toks[k].kind != TS_TK_COMMA) {
            *done = 1;
            return parse_position(p, f);
        }
        return TS_OK;
    }
    if (strcmp(f->name, "substring") && strcmp(f->name, "substr"))
        return TS_OK;
    ts_sql_expr *s;
    TS_TRY(parse_expr(p, &s));
    if (at_kw(p, TS_KW_FROM) || word_is(p, tok(p), "FOR")) {
        *done = 1;
        return parse_substring_from(p, f, s);
    }
    /* the plain call: s was its first argument */
    int cap = 1;
    ALLOC(p, f->args, 1);
    f->args[0] = s, f->nargs = 1;
    while (accept(p, TS_TK_COMMA)) {
        ts_sql_expr *e;
        TS_TRY(parse_expr(p, &e));
        PUSH(p, f->args, f->nargs, cap, e);
    }
    *done = 1;
    return expect(p, TS_TK_RPAREN, "',' or ')'");
}

/* name '(' [* | [DISTINCT] args] ')' [FILTER (WHERE e)] [OVER (window)]; the current token is the name. */
static ts_err parse_call(parser *p, ts_sql_expr **out)
{
    const ts_sql_token *name = tok(p);
    ts_sql_expr *f;
    TS_TRY(new_expr(p, TS_SQL_E_FUNC, name->pos, &f));
    TS_TRY(word_text(p, name, &f->name));
    advance(p);
    advance(p); /* '(' */
    *out = f;
    if (name->kind == TS_TK_IDENT && strcmp(f->name, "extract") == 0 &&
        (at(p, TS_TK_IDENT) || at(p, TS_TK_STRING)) && is_kw(peek(p, 1), TS_KW_FROM))
        return parse_extract(p, f);
    if (name->kind == TS_TK_IDENT && !at(p, TS_TK_RPAREN)) {
        int done;
        TS_TRY(parse_special_call(p, f, &done));
        if (done)
            return TS_OK;
    }
    if (accept(p, TS_TK_STAR)) {
        f->star = 1;
        TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    } else if (!accept(p, TS_TK_RPAREN)) {
        if (accept_kw(p, TS_KW_DISTINCT))
            f->distinct = 1;
        else
            accept_kw(p, TS_KW_ALL);
        TS_TRY(parse_expr_list(p, &f->args, &f->nargs));
        TS_TRY(expect(p, TS_TK_RPAREN, "',' or ')'"));
    }
    if (at_kw(p, TS_KW_FILTER) && peek(p, 1)->kind == TS_TK_LPAREN) {
        advance(p), advance(p);
        TS_TRY(expect_kw(p, TS_KW_WHERE));
        TS_TRY(parse_expr(p, &f->filter));
        TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    }
    if (accept_kw(p, TS_KW_OVER))
        TS_TRY(parse_window(p, &f->over));
    return TS_OK;
}

/* [table.]...name -> COLUMN (all words but the last form the table) */
static ts_err parse_column(parser *p, ts_sql_expr **out)
{
    int n = dotted_length(p), first = p->i;
    TS_TRY(new_expr(p, TS_SQL_E_COLUMN, tok(p)->pos, out));
    if (n > 1)
        TS_TRY(join_words(p, first, n - 1, &(*out)->table));
    TS_TRY(word_text(p, &p->toks[first + 2 * (n - 1)], &(*out)->name));
    p->i += 2 * n - 1;
    if (at(p, TS_TK_DOT))
        return err_expected(p, "an operator", NULL, 0); /* t.* outside a select list, t.5 ... */
    return TS_OK;
}

/* ---- operands ---- */

static ts_err parse_case(parser *p, ts_sql_expr **out)
{
    ts_sql_expr *c;
    int cap = 0;
    TS_TRY(new_expr(p, TS_SQL_E_CASE, tok(p)->pos, &c));
    advance(p);
    if (!at_kw(p, TS_KW_WHEN))
        TS_TRY(parse_expr(p, &c->operand));
    if (!at_kw(p, TS_KW_WHEN))
        return err_expected(p, "WHEN", NULL, 0);
    while (accept_kw(p, TS_KW_WHEN)) {
        ts_sql_expr *when, *then;
        TS_TRY(parse_expr(p, &when));
        TS_TRY(expect_kw(p, TS_KW_THEN));
        TS_TRY(parse_expr(p, &then));
        PUSH(p, c->args, c->nargs, cap, when);
        PUSH(p, c->args, c->nargs, cap, then);
    }
    if (accept_kw(p, TS_KW_ELSE))
        TS_TRY(parse_expr(p, &c->else_expr));
    *out = c;
    return at_kw(p, TS_KW_END) ? (advance(p), TS_OK) : err_expected(p, "WHEN, ELSE or END", NULL, 0);
}

/* CAST(e AS type), TRY_CAST(e AS type) */
static ts_err parse_cast(parser *p, ts_sql_expr **out)
{
    ts_sql_expr *c, *e;
    const ts_sql_token *t = tok(p);
    advance(p);
    TS_TRY(expect(p, TS_TK_LPAREN, "'('"));
    TS_TRY(parse_expr(p, &e));
    TS_TRY(expect_kw(p, TS_KW_AS));
    TS_TRY(new_node(p, TS_SQL_E_CAST, t->pos, e, NULL, NULL, &c));
    c->try_cast = t->kw == TS_KW_TRY_CAST;
    TS_TRY(parse_type(p, &c->type));
    *out = c;
    return expect(p, TS_TK_RPAREN, "')'");
}

/* DATE 'yyyy-mm-dd' -> CAST('yyyy-mm-dd' AS DATE); TIMESTAMP '...' likewise */
static ts_err parse_date_literal(parser *p, ts_sql_type_kind kind, ts_sql_expr **out)
{
    ts_sql_pos pos = tok(p)->pos;
    ts_sql_expr *s;
    advance(p);
    TS_TRY(parse_string(p, &s));
    TS_TRY(new_node(p, TS_SQL_E_CAST, pos, s, NULL, NULL, out));
    (*out)->type.kind = kind;
    return TS_OK;
}

/* The unit word after an INTERVAL's count (YEAR, MONTHS, DAY, HOUR, ...), lower case and singular, or NULL. */
static const char *interval_unit(const parser *p, const ts_sql_token *t)
{
    static const char *const units[] = {"microsecond", "millisecond", "second", "minute", "hour", "day", "week",
                                        "month", "quarter", "year", "decade", "century", "millennium"};
    static const char *const plurals[] = {"microseconds", "milliseconds", "seconds", "minutes", "hours", "days",
                                          "weeks", "months", "quarters", "years", "decades", "centuries",
                                          "millennia"};
    for (size_t k = 0; t->kind == TS_TK_IDENT && k < sizeof units / sizeof *units; k++)
        if (word_is(p, t, units[k]) || word_is(p, t, plurals[k]))
            return units[k];
    return NULL;
}

/* INTERVAL 'text' -> CAST('text' AS INTERVAL); INTERVAL n unit, INTERVAL 'n' unit, INTERVAL (e) unit ->
 * to_<unit>s(n) (DuckDB's forms). */
static ts_err parse_interval(parser *p, ts_sql_expr **out)
{
    const ts_sql_pos pos = tok(p)->pos;
    ts_sql_expr *n;
    advance(p);
    if (at(p, TS_TK_STRING)) {
        TS_TRY(parse_string(p, &n));
    } else if (at(p, TS_TK_LPAREN)) {
        advance(p);
        TS_TRY(parse_expr(p, &n));
        TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    } else {
        TS_TRY(parse_number(p, &n));
    }
    const char *unit = interval_unit(p, tok(p));
    if (!unit) {
        if (n->kind != TS_SQL_E_STRING)
            return err_expected(p, "an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, ...)", NULL, 0);
        TS_TRY(new_node(p, TS_SQL_E_CAST, pos, n, NULL, NULL, out));
        (*out)->type.kind = TS_SQL_TY_INTERVAL;
        return TS_OK;
    }
    advance(p);
    if (word_is(p, tok(p), "TO"))
        return err_tok(p, tok(p), "syntax error: INTERVAL ... %s TO ... is not supported (write INTERVAL 'text')",
                       unit);
    char name[32];
    snprintf(name, sizeof name, "to_%s%s", !strcmp(unit, "century") ? "centurie" : !strcmp(unit, "millennium")
             ? "millenni" : unit, !strcmp(unit, "millennium") ? "a" : "s");
    TS_TRY(new_node(p, TS_SQL_E_FUNC, pos, n, NULL, NULL, out));
    return copy_text(p, name, strlen(name), &(*out)->name);
}

static ts_err parse_exists(parser *p, ts_sql_expr **out)
{
    TS_TRY(new_expr(p, TS_SQL_E_EXISTS, tok(p)->pos, out));
    advance(p);
    TS_TRY(expect(p, TS_TK_LPAREN, "'('"));
    TS_TRY(parse_query(p, &(*out)->query));
    return expect(p, TS_TK_RPAREN, "')'");
}

static int starts_query(const ts_sql_token *t) { return is_kw(t, TS_KW_SELECT) || is_kw(t, TS_KW_WITH); }

/* Set operations, ORDER BY, LIMIT or OFFSET after a parenthesized query continue that query. */
static int continues_query(const ts_sql_token *t)
{
    return is_kw(t, TS_KW_UNION) || is_kw(t, TS_KW_EXCEPT) || is_kw(t, TS_KW_INTERSECT) || is_kw(t, TS_KW_ORDER) ||
           is_kw(t, TS_KW_LIMIT) || is_kw(t, TS_KW_OFFSET);
}

/* A lone scalar subquery e followed by UNION, ORDER BY, ... : ((SELECT ..) UNION (SELECT ..)) */
static ts_err continue_subquery(parser *p, ts_sql_expr *e)
{
    if (e->kind == TS_SQL_E_SUBQUERY && continues_query(tok(p)))
        TS_TRY(query_rest(p, e->pos, NULL, 0, e->query, 1, &e->query));
    return TS_OK;
}

/* '(' query ')' or '(' expr ')' */
static ts_err parse_paren(parser *p, ts_sql_expr **out)
{
    ts_sql_pos pos = tok(p)->pos;
    advance(p);
    if (starts_query(tok(p))) {
        TS_TRY(new_expr(p, TS_SQL_E_SUBQUERY, pos, out));
        TS_TRY(parse_query(p, &(*out)->query));
    } else {
        TS_TRY(parse_expr(p, out));
        TS_TRY(continue_subquery(p, *out));
    }
    return expect(p, TS_TK_RPAREN, "')'");
}

static ts_err parse_keyword_primary(parser *p, ts_sql_expr **out, int *done)
{
    const ts_sql_token *t = tok(p);
    *done = 1;
    switch (t->kw) {
    case TS_KW_TRUE:
    case TS_KW_FALSE:
        TS_TRY(new_expr(p, TS_SQL_E_BOOL, t->pos, out));
        (*out)->ival = t->kw == TS_KW_TRUE;
        advance(p);
        return TS_OK;
    case TS_KW_NULL:
        TS_TRY(new_expr(p, TS_SQL_E_NULL, t->pos, out));
        advance(p);
        return TS_OK;
    case TS_KW_CASE: return parse_case(p, out);
    case TS_KW_CAST:
    case TS_KW_TRY_CAST: return parse_cast(p, out);
    case TS_KW_EXISTS: return parse_exists(p, out);
    case TS_KW_DATE:
        if (peek(p, 1)->kind == TS_TK_STRING)
            return parse_date_literal(p, TS_SQL_TY_DATE, out);
        break;
    case TS_KW_LEFT:
    case TS_KW_RIGHT: /* the string functions left(s, n) and right(s, n) */
        if (peek(p, 1)->kind == TS_TK_LPAREN)
            return parse_call(p, out);
        break;
    default: break;
    }
    *done = 0;
    return TS_OK;
}

static ts_err parse_primary(parser *p, ts_sql_expr **out)
{
    const ts_sql_token *t = tok(p);
    switch (t->kind) {
    case TS_TK_INT:
    case TS_TK_FLOAT: return parse_number(p, out);
    case TS_TK_STRING: return parse_string(p, out);
    case TS_TK_LPAREN: return parse_paren(p, out);
    case TS_TK_LBRACKET: return parse_list(p, out);
    default: break;
    }
    if (t->kind == TS_TK_IDENT && t->kw != TS_KW_NONE) {
        int done;
        TS_TRY(parse_keyword_primary(p, out, &done));
        if (done)
            return TS_OK;
    }
    if (!is_name(t))
        return err_expected(p, "an expression", NULL, 0);
    if (word_is(p, t, "TIME") && peek(p, 1)->kind == TS_TK_STRING)
        return err_tok(p, t, "the TIME type is not supported (use a TIMESTAMP, or a VARCHAR)");
    if ((word_is(p, t, "TIMESTAMP") || word_is(p, t, "DATETIME")) && peek(p, 1)->kind == TS_TK_STRING)
        return parse_date_literal(p, TS_SQL_TY_TIMESTAMP, out);
    if (word_is(p, t, "INTERVAL") && (peek(p, 1)->kind == TS_TK_STRING || peek(p, 1)->kind == TS_TK_INT ||
                                      peek(p, 1)->kind == TS_TK_FLOAT || peek(p, 1)->kind == TS_TK_LPAREN))
        return parse_interval(p, out);
    if (peek(p, 1)->kind == TS_TK_LPAREN)
        return parse_call(p, out);
    return parse_column(p, out);
}

/* primary {:: type} */
static ts_err parse_postfix(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_primary(p, out));
    while (accept(p, TS_TK_DCOLON)) {
        TS_TRY(new_node(p, TS_SQL_E_CAST, (*out)->pos, *out, NULL, NULL, out));
        TS_TRY(parse_type(p, &(*out)->type));
    }
    return TS_OK;
}

static ts_err parse_unary(parser *p, ts_sql_expr **out)
{
    if (!at(p, TS_TK_MINUS) && !at(p, TS_TK_PLUS))
        return parse_postfix(p, out);
    const ts_sql_token *t = tok(p);
    advance(p);
    TS_TRY(enter(p));
    TS_TRY(parse_unary(p, out));
    leave(p);
    if (t->kind == TS_TK_MINUS) {
        TS_TRY(new_node(p, TS_SQL_E_UNARY, t->pos, *out, NULL, NULL, out));
        (*out)->op = TS_SQL_OP_NEG;
    }
    return TS_OK;
}

static ts_err parse_mul(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_unary(p, out));
    for (;;) {
        ts_sql_op op = at(p, TS_TK_STAR) ? TS_SQL_OP_MUL : at(p, TS_TK_SLASH) ? TS_SQL_OP_DIV
                     : at(p, TS_TK_DSLASH) ? TS_SQL_OP_INTDIV : at(p, TS_TK_PERCENT) ? TS_SQL_OP_MOD : TS_SQL_OP_NONE;
        if (op == TS_SQL_OP_NONE)
            return TS_OK;
        ts_sql_expr *rhs;
        advance(p);
        TS_TRY(parse_unary(p, &rhs));
        TS_TRY(binary(p, op, out, rhs));
    }
}

static ts_err parse_add(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_mul(p, out));
    while (at(p, TS_TK_PLUS) || at(p, TS_TK_MINUS)) {
        ts_sql_op op = at(p, TS_TK_PLUS) ? TS_SQL_OP_ADD : TS_SQL_OP_SUB;
        ts_sql_expr *rhs;
        advance(p);
        TS_TRY(parse_mul(p, &rhs));
        TS_TRY(binary(p, op, out, rhs));
    }
    return TS_OK;
}

static ts_err parse_concat(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_add(p, out));
    while (accept(p, TS_TK_CONCAT)) {
        ts_sql_expr *rhs;
        TS_TRY(parse_add(p, &rhs));
        TS_TRY(binary(p, TS_SQL_OP_CONCAT, out, rhs));
    }
    return TS_OK;
}

static ts_sql_op comparison_op(ts_sql_tok_kind kind)
{
    switch (kind) {
    case TS_TK_EQ: return TS_SQL_OP_EQ;
    case TS_TK_NE: return TS_SQL_OP_NE;
    case TS_TK_LT: return TS_SQL_OP_LT;
    case TS_TK_LE: return TS_SQL_OP_LE;
    case TS_TK_GT: return TS_SQL_OP_GT;
    case TS_TK_GE: return TS_SQL_OP_GE;
    default: return TS_SQL_OP_NONE;
    }
}

/* [NOT] IN (subquery | list); the current token is IN. */
static ts_err parse_in(parser *p, int negated, ts_sql_expr **out)
{
    ts_sql_expr *lhs = *out, *e;
    advance(p);
    TS_TRY(expect(p, TS_TK_LPAREN, "'(' after IN"));
    if (starts_query(tok(p))) {
        TS_TRY(new_node(p, TS_SQL_E_IN_QUERY, lhs->pos, lhs, NULL, NULL, &e));
        TS_TRY(parse_query(p, &e->query));
    } else {
        ts_sql_expr **list;
        int n, cap = 1;
        TS_TRY(parse_expr_list(p, &list, &n));
        if (n == 1)
            TS_TRY(continue_subquery(p, list[0]));
        if (n == 1 && list[0]->kind == TS_SQL_E_SUBQUERY) { /* x IN ((SELECT ..)) is a subquery too */
            TS_TRY(new_node(p, TS_SQL_E_IN_QUERY, lhs->pos, lhs, NULL, NULL, &e));
            e->query = list[0]->query;
        } else {
            TS_TRY(new_node(p, TS_SQL_E_IN_LIST, lhs->pos, lhs, NULL, NULL, &e));
            for (int k = 0; k < n; k++)
                PUSH(p, e->args, e->nargs, cap, list[k]);
        }
    }
    e->negated = negated;
    *out = e;
    return expect(p, TS_TK_RPAREN, "',' or ')'");
}

/* IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN, [NOT] LIKE|ILIKE after *out; sets *done when none follows. */
static ts_err parse_predicate_suffix(parser *p, ts_sql_expr **out, int *done)
{
    ts_sql_expr *lhs = *out, *a, *b;
    int negated = 0;
    *done = 0;
    if (accept_kw(p, TS_KW_IS)) {
        negated = accept_kw(p, TS_KW_NOT);
        if (accept_kw(p, TS_KW_DISTINCT)) { /* IS [NOT] DISTINCT FROM */
            TS_TRY(expect_kw(p, TS_KW_FROM));
            TS_TRY(parse_concat(p, &a));
            return binary(p, negated ? TS_SQL_OP_NOT_DISTINCT : TS_SQL_OP_DISTINCT, out, a);
        }
        if (!at_kw(p, TS_KW_NULL))
            return err_expected(p, "NULL or DISTINCT FROM", NULL, 0);
        TS_TRY(expect_kw(p, TS_KW_NULL));
        TS_TRY(new_node(p, TS_SQL_E_IS_NULL, lhs->pos, lhs, NULL, NULL, out));
        (*out)->negated = negated;
        return TS_OK;
    }
    const ts_sql_token *t = tok(p);
    if (is_kw(t, TS_KW_NOT)) {
        const ts_sql_token *n = peek(p, 1);
        if (!is_kw(n, TS_KW_BETWEEN) && !is_kw(n, TS_KW_IN) && !is_kw(n, TS_KW_LIKE) && !is_kw(n, TS_KW_ILIKE)) {
            *done = 1;
            return TS_OK;
        }
        negated = 1;
        advance(p);
        t = tok(p);
    }
    if (accept_kw(p, TS_KW_BETWEEN)) {
        TS_TRY(parse_concat(p, &a));
        TS_TRY(expect_kw(p, TS_KW_AND));
        TS_TRY(parse_concat(p, &b));
        TS_TRY(new_node(p, TS_SQL_E_BETWEEN, lhs->pos, lhs, a, b, out));
    } else if (is_kw(t, TS_KW_IN)) {
        TS_TRY(parse_in(p, negated, out));
    } else if (accept_kw(p, TS_KW_LIKE) || accept_kw(p, TS_KW_ILIKE)) {
        TS_TRY(parse_concat(p, &a));
        TS_TRY(new_node(p, TS_SQL_E_LIKE, lhs->pos, lhs, a, NULL, out));
        (*out)->ilike = t->kw == TS_KW_ILIKE;
    } else {
        *done = 1;
        return TS_OK;
    }
    (*out)->negated = negated;
    return TS_OK;
}

/* op ANY|SOME|ALL '(' query ')' after *out; the current token is the quantifier. */
static ts_err parse_quantified(parser *p, ts_sql_op op, ts_sql_expr **out)
{
    const int all = at_kw(p, TS_KW_ALL);
    advance(p), advance(p);
    if (!starts_query(tok(p)))
        return err_expected(p, "a subquery after ANY / ALL", NULL, 0);
    ts_sql_expr *e;
    const int in = (op == TS_SQL_OP_EQ && !all) || (op == TS_SQL_OP_NE && all);
    TS_TRY(new_node(p, in ? TS_SQL_E_IN_QUERY : TS_SQL_E_QUANTIFIED, (*out)->pos, *out, NULL, NULL, &e));
    e->op = in ? TS_SQL_OP_NONE : op;
    e->negated = all;
    TS_TRY(parse_query(p, &e->query));
    *out = e;
    return expect(p, TS_TK_RPAREN, "')'");
}

/* comparisons and predicates, left to right */
static ts_err parse_comparison(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_concat(p, out));
    for (;;) {
        ts_sql_op op = comparison_op(tok(p)->kind);
        const ts_sql_token *q = peek(p, 1);
        if (op != TS_SQL_OP_NONE && (is_kw(q, TS_KW_ALL) || word_is(p, q, "ANY") || word_is(p, q, "SOME")) &&
            peek(p, 2)->kind == TS_TK_LPAREN) {
            advance(p);
            TS_TRY(parse_quantified(p, op, out));
            continue;
        }
        if (op != TS_SQL_OP_NONE) {
            ts_sql_expr *rhs;
            advance(p);
            TS_TRY(parse_concat(p, &rhs));
            TS_TRY(binary(p, op, out, rhs));
            continue;
        }
        int done;
        TS_TRY(parse_predicate_suffix(p, out, &done));
        if (done)
            return TS_OK;
    }
}

static ts_err parse_not(parser *p, ts_sql_expr **out)
{
    if (!at_kw(p, TS_KW_NOT))
        return parse_comparison(p, out);
    const ts_sql_token *t = tok(p);
    advance(p);
    TS_TRY(enter(p));
    TS_TRY(parse_not(p, out));
    leave(p);
    if ((*out)->kind == TS_SQL_E_EXISTS && !(*out)->negated) {
        (*out)->negated = 1; /* NOT EXISTS (q) */
        (*out)->pos = t->pos;
        return TS_OK;
    }
    TS_TRY(new_node(p, TS_SQL_E_UNARY, t->pos, *out, NULL, NULL, out));
    (*out)->op = TS_SQL_OP_NOT;
    return TS_OK;
}

static ts_err parse_and(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_not(p, out));
    while (accept_kw(p, TS_KW_AND)) {
        ts_sql_expr *rhs;
        TS_TRY(parse_not(p, &rhs));
        TS_TRY(binary(p, TS_SQL_OP_AND, out, rhs));
    }
    return TS_OK;
}

static ts_err parse_or(parser *p, ts_sql_expr **out)
{
    TS_TRY(parse_and(p, out));
    while (accept_kw(p, TS_KW_OR)) {
        ts_sql_expr *rhs;
        TS_TRY(parse_and(p, &rhs));
        TS_TRY(binary(p, TS_SQL_OP_OR, out, rhs));
    }
    return TS_OK;
}

static ts_err parse_expr(parser *p, ts_sql_expr **out)
{
    TS_TRY(enter(p));
    TS_TRY(parse_or(p, out));
    leave(p);
    return TS_OK;
}

/* ---- FROM ----------------------------------------------------------------------------------------------- */

static ts_err parse_from_list(parser *p, ts_sql_from **out);

static ts_err new_from(parser *p, ts_sql_from_kind kind, ts_sql_pos pos, ts_sql_from **out)
{
    ALLOC(p, *out, 1);
    (*out)->kind = kind;
    (*out)->pos = pos;
    return TS_OK;
}

/* VALUES (..), (..): every row as wide as the first. */
static ts_err parse_values(parser *p, ts_sql_from *f)
{
    int cap = 0, n = 0;
    do {
        const ts_sql_token *row = tok(p);
        ts_sql_expr **list;
        int width;
        TS_TRY(expect(p, TS_TK_LPAREN, "'(' starting a VALUES row"));
        TS_TRY(parse_expr_list(p, &list, &width));
        TS_TRY(expect(p, TS_TK_RPAREN, "',' or ')'"));
        if (f->nrows && width != f->ncols)
            return err_tok(p, row, "syntax error: VALUES row %d has %d values, the first row has %d", f->nrows + 1,
                           width, f->ncols);
        for (int k = 0; k < width; k++)
            PUSH(p, f->values, n, cap, list[k]);
        f->ncols = width;
        f->nrows++;
    } while (accept(p, TS_TK_COMMA));
    return TS_OK;
}

/* {'key': value, ...} of a named table-function argument */
static ts_err parse_struct(parser *p, ts_sql_arg *a)
{
    int kcap = 0, vcap = 0, nv = 0;
    advance(p);
    if (accept(p, TS_TK_RBRACE))
        return TS_OK;
    do {
        const ts_sql_token *t = tok(p);
        char *key;
        ts_sql_expr *value;
        if (t->kind == TS_TK_STRING)
            TS_TRY(unquote(p, p->s->text + t->off, t->len, '\'', &key, NULL));
        else if (is_word(t))
            TS_TRY(word_text(p, t, &key));
        else
            return err_expected(p, "a struct key", NULL, 0);
        advance(p);
        TS_TRY(expect(p, TS_TK_COLON, "':'"));
        TS_TRY(parse_expr(p, &value));
        PUSH(p, a->keys, a->npairs, kcap, key);
        PUSH(p, a->values, nv, vcap, value);
    } while (accept(p, TS_TK_COMMA));
    return expect(p, TS_TK_RBRACE, "',' or '}'");
}

/* positional expr | name = expr | name = {struct} */
static ts_err parse_func_arg(parser *p, ts_sql_arg *a)
{
    memset(a, 0, sizeof *a);
    if (is_word(tok(p)) && peek(p, 1)->kind == TS_TK_EQ) {
        TS_TRY(word_text(p, tok(p), &a->name));
        advance(p), advance(p);
        if (at(p, TS_TK_LBRACE))
            return parse_struct(p, a);
    }
    return parse_expr(p, &a->value);
}

static ts_err parse_table_func(parser *p, ts_sql_from *f)
{
    int cap = 0;
    f->kind = TS_SQL_F_FUNC;
    advance(p); /* '(' */
    if (accept(p, TS_TK_RPAREN))
        return TS_OK;
    do {
        ts_sql_arg a;
        TS_TRY(parse_func_arg(p, &a));
        PUSH(p, f->args, f->nargs, cap, a);
    } while (accept(p, TS_TK_COMMA));
    return expect(p, TS_TK_RPAREN, "',' or ')'");
}

/* [AS] alias [(c1, c2, ...)]; without AS the alias must be a non-keyword word. */
static ts_err parse_from_alias(parser *p, ts_sql_from *f)
{
    if (accept_kw(p, TS_KW_AS)) {
        TS_TRY(parse_name(p, "an alias", &f->alias));
    } else if (at(p, TS_TK_QIDENT) || (at(p, TS_TK_IDENT) && tok(p)->kw == TS_KW_NONE)) {
        p->alias_tok = p->i;
        TS_TRY(parse_name(p, "an alias", &f->alias));
    } else {
        return TS_OK;
    }
    if (at(p, TS_TK_LPAREN))
        TS_TRY(parse_name_list(p, "a column alias", &f->col_aliases, &f->ncol_aliases));
    return TS_OK;
}

/* After '(' : whether a query starts after any further '(' (else a parenthesized join). */
static int paren_query_follows(const parser *p)
{
    int k = p->i;
    while (p->toks[k].kind == TS_TK_LPAREN && k - p->i <= MAX_DEPTH) /* deeper fails on nesting anyway */
        k++;
    return starts_query(&p->toks[k]);
}

/* '(' (query | VALUES .. | from list) ')' */
static ts_err parse_from_paren(parser *p, ts_sql_from **out)
{
    ts_sql_pos pos = tok(p)->pos;
    advance(p);
    if (accept_kw(p, TS_KW_VALUES)) {
        TS_TRY(new_from(p, TS_SQL_F_VALUES, pos, out));
        TS_TRY(parse_values(p, *out));
    } else if (paren_query_follows(p)) {
        TS_TRY(new_from(p, TS_SQL_F_SUBQUERY, pos, out));
        TS_TRY(parse_query(p, &(*out)->query));
    } else {
        TS_TRY(enter(p));
        TS_TRY(parse_from_list(p, out));
        leave(p);
        return expect(p, TS_TK_RPAREN, "')'"); /* a parenthesized join takes no alias */
    }
    TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    return parse_from_alias(p, *out);
}

static ts_err parse_from_item(parser *p, ts_sql_from **out)
{
    const ts_sql_token *t = tok(p);
    if (t->kind == TS_TK_LPAREN)
        return parse_from_paren(p, out);
    if (is_kw(t, TS_KW_VALUES) && peek(p, 1)->kind == TS_TK_LPAREN) {
        advance(p);
        TS_TRY(new_from(p, TS_SQL_F_VALUES, t->pos, out));
        TS_TRY(parse_values(p, *out));
        return parse_from_alias(p, *out);
    }
    if (!is_name(t))
        return err_expected(p, "a table name, table function or subquery", NULL, 0);
    TS_TRY(new_from(p, TS_SQL_F_TABLE, t->pos, out));
    TS_TRY(parse_dotted(p, "a table name", &(*out)->name));
    if (at(p, TS_TK_LPAREN))
        TS_TRY(parse_table_func(p, *out));
    return parse_from_alias(p, *out);
}

/* Reads a join operator, if any: [INNER] JOIN, LEFT|RIGHT|FULL [OUTER] JOIN, CROSS|SEMI|ANTI JOIN. */
static ts_err parse_join_kind(parser *p, ts_sql_join_kind *kind, int *found)
{
    static const struct {
        ts_sql_keyword kw;
        ts_sql_join_kind kind;
        int outer;
    } ops[] = {{TS_KW_INNER, TS_SQL_JOIN_INNER, 0}, {TS_KW_LEFT, TS_SQL_JOIN_LEFT, 1},
               {TS_KW_RIGHT, TS_SQL_JOIN_RIGHT, 1}, {TS_KW_FULL, TS_SQL_JOIN_FULL, 1},
               {TS_KW_CROSS, TS_SQL_JOIN_CROSS, 0}, {TS_KW_SEMI, TS_SQL_JOIN_SEMI, 0},
               {TS_KW_ANTI, TS_SQL_JOIN_ANTI, 0}};
    *found = 1;
    if (accept_kw(p, TS_KW_JOIN)) {
        *kind = TS_SQL_JOIN_INNER;
        return TS_OK;
    }
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (!at_kw(p, ops[k].kw)) /* after a FROM item these words can only start a join */
            continue;
        advance(p);
        if (ops[k].outer)
            accept_kw(p, TS_KW_OUTER);
        *kind = ops[k].kind;
        return expect_kw(p, TS_KW_JOIN);
    }
    *found = 0;
    return TS_OK;
}

static ts_err parse_join_condition(parser *p, ts_sql_from *j)
{
    if (j->join == TS_SQL_JOIN_CROSS)
        return TS_OK;
    if (accept_kw(p, TS_KW_ON))
        return parse_expr(p, &j->on);
    if (accept_kw(p, TS_KW_USING))
        return parse_name_list(p, "a column name", &j->using, &j->nusing);
    return err_expected(p, "ON or USING", NULL, 0);
}

/* item {join item [ON e | USING (..)]}, left-associative */
static ts_err parse_join_chain(parser *p, ts_sql_from **out)
{
    TS_TRY(parse_from_item(p, out));
    for (;;) {
        ts_sql_join_kind kind;
        int found;
        TS_TRY(parse_join_kind(p, &kind, &found));
        if (!found)
            return TS_OK;
        ts_sql_from *j;
        TS_TRY(new_from(p, TS_SQL_F_JOIN, (*out)->pos, &j));
        j->join = kind;
        j->left = *out;
        TS_TRY(parse_from_item(p, &j->right));
        TS_TRY(parse_join_condition(p, j));
        *out = j;
    }
}

/* join chains separated by commas: CROSS joins */
static ts_err parse_from_list(parser *p, ts_sql_from **out)
{
    TS_TRY(parse_join_chain(p, out));
    while (accept(p, TS_TK_COMMA)) {
        ts_sql_from *j;
        TS_TRY(new_from(p, TS_SQL_F_JOIN, (*out)->pos, &j));
        j->join = TS_SQL_JOIN_CROSS;
        j->left = *out;
        TS_TRY(parse_join_chain(p, &j->right));
        *out = j;
    }
    return TS_OK;
}

/* ---- queries -------------------------------------------------------------------------------------------- */

/* The current token starts table.* or schema.table.* */
static int qualified_star(const parser *p)
{
    int k = p->i;
    if (!is_name(&p->toks[k]))
        return 0;
    while (p->toks[k + 1].kind == TS_TK_DOT) {
        if (p->toks[k + 2].kind == TS_TK_STAR)
            return 1;
        if (!is_word(&p->toks[k + 2]))
            return 0;
        k += 2;
    }
    return 0;
}

/* After * : [EXCLUDE (name, ...) | EXCLUDE name] [REPLACE (expr AS name, ...)] (DuckDB). */
static ts_err parse_star_options(parser *p, ts_sql_expr *star)
{
    if (word_is(p, tok(p), "EXCLUDE")) {
        advance(p);
        if (at(p, TS_TK_LPAREN)) {
            TS_TRY(parse_name_list(p, "a column name", &star->star_exclude, &star->nstar_exclude));
        } else {
            ALLOC(p, star->star_exclude, 1);
            TS_TRY(parse_name(p, "a column name", &star->star_exclude[0]));
            star->nstar_exclude = 1;
        }
    }
    if (at_kw(p, TS_KW_REPLACE) && peek(p, 1)->kind == TS_TK_LPAREN) {
        int cap = 0, ncap = 0, nn = 0;
        advance(p), advance(p);
        do {
            ts_sql_expr *e;
            char *name;
            TS_TRY(parse_expr(p, &e));
            TS_TRY(expect_kw(p, TS_KW_AS));
            TS_TRY(parse_name(p, "a column name", &name));
            PUSH(p, star->star_replace, star->nstar_replace, cap, e);
            PUSH(p, star->star_replace_names, nn, ncap, name);
        } while (accept(p, TS_TK_COMMA));
        TS_TRY(expect(p, TS_TK_RPAREN, "',' or ')'"));
    }
    return TS_OK;
}

static ts_err parse_item(parser *p, ts_sql_item *item)
{
    const ts_sql_token *t = tok(p);
    memset(item, 0, sizeof *item);
    if (t->kind == TS_TK_STAR || qualified_star(p)) {
        TS_TRY(new_expr(p, TS_SQL_E_STAR, t->pos, &item->expr));
        if (t->kind != TS_TK_STAR) {
            int n = dotted_length(p);
            TS_TRY(join_words(p, p->i, n, &item->expr->table));
            p->i += 2 * n; /* the words, their dots and the '.' before '*' */
        }
        advance(p);
        return parse_star_options(p, item->expr);
    }
    TS_TRY(parse_expr(p, &item->expr));
    if (accept_kw(p, TS_KW_AS))
        return parse_name(p, "an alias", &item->alias);
    if (at(p, TS_TK_QIDENT) || (at(p, TS_TK_IDENT) && tok(p)->kw == TS_KW_NONE)) {
        p->alias_tok = p->i;
        return parse_name(p, "an alias", &item->alias);
    }
    return TS_OK;
}

static ts_err parse_group_by(parser *p, ts_sql_select *s)
{
    TS_TRY(expect_kw(p, TS_KW_BY));
    if (accept_kw(p, TS_KW_ALL)) {
        s->group_all = 1;
        return TS_OK;
    }
    return parse_expr_list(p, &s->group, &s->ngroup);
}

/* SELECT [DISTINCT] items [FROM ..] [WHERE ..] [GROUP BY ..] [HAVING ..] [WINDOW ..] [QUALIFY ..] */
static ts_err parse_select(parser *p, ts_sql_select **out)
{
    ts_sql_select *s;
    int cap = 0;
    ALLOC(p, s, 1);
    s->pos = tok(p)->pos;
    TS_TRY(expect_kw(p, TS_KW_SELECT));
    if (accept_kw(p, TS_KW_DISTINCT))
        s->distinct = 1;
    else
        accept_kw(p, TS_KW_ALL);
    do {
        ts_sql_item item;
        TS_TRY(parse_item(p, &item));
        PUSH(p, s->items, s->nitems, cap, item);
    } while (accept(p, TS_TK_COMMA));
    if (accept_kw(p, TS_KW_FROM))
        TS_TRY(parse_from_list(p, &s->from));
    if (accept_kw(p, TS_KW_WHERE))
        TS_TRY(parse_expr(p, &s->where));
    if (accept_kw(p, TS_KW_GROUP))
        TS_TRY(parse_group_by(p, s));
    if (accept_kw(p, TS_KW_HAVING))
        TS_TRY(parse_expr(p, &s->having));
    if (accept_kw(p, TS_KW_WINDOW))
        TS_TRY(parse_window_clause(p, s));
    if (accept_kw(p, TS_KW_QUALIFY))
        TS_TRY(parse_expr(p, &s->qualify));
    *out = s;
    return TS_OK;
}

/* '(' query ')' or a SELECT block. *paren tells which. */
static ts_err parse_operand(parser *p, ts_sql_query **out, int *paren)
{
    const ts_sql_token *t = tok(p);
    *paren = t->kind == TS_TK_LPAREN;
    if (*paren) {
        advance(p);
        TS_TRY(parse_query(p, out));
        return expect(p, TS_TK_RPAREN, "')'");
    }
    if (!is_kw(t, TS_KW_SELECT))
        return err_expected(p, "SELECT or '('", stmt_kws, 1);
    ALLOC(p, *out, 1);
    (*out)->pos = t->pos;
    return parse_select(p, &(*out)->select);
}

/* After UNION / EXCEPT / INTERSECT: [ALL | DISTINCT]. */
static ts_err parse_set_quantifier(parser *p, const ts_sql_token *op, ts_sql_setop *setop)
{
    if (accept_kw(p, TS_KW_DISTINCT) || !accept_kw(p, TS_KW_ALL))
        return TS_OK;
    *setop = op->kw == TS_KW_UNION ? TS_SQL_SET_UNION_ALL : op->kw == TS_KW_EXCEPT ? TS_SQL_SET_EXCEPT_ALL
                                                                                  : TS_SQL_SET_INTERSECT_ALL;
    return TS_OK;
}

static ts_err new_setop(parser *p, ts_sql_setop op, ts_sql_query *left, ts_sql_query *right, ts_sql_query **out)
{
    ALLOC(p, *out, 1);
    (*out)->pos = left->pos;
    (*out)->set_op = op;
    (*out)->left = left, (*out)->right = right;
    return TS_OK;
}

/* left {INTERSECT operand} */
static ts_err parse_intersects(parser *p, ts_sql_query *left, ts_sql_query **out)
{
    while (at_kw(p, TS_KW_INTERSECT)) {
        const ts_sql_token *op = tok(p);
        ts_sql_setop setop = TS_SQL_SET_INTERSECT;
        ts_sql_query *right;
        int paren;
        advance(p);
        TS_TRY(parse_set_quantifier(p, op, &setop));
        TS_TRY(parse_operand(p, &right, &paren));
        TS_TRY(new_setop(p, setop, left, right, &left));
    }
    *out = left;
    return TS_OK;
}

/* first {INTERSECT ..} {(UNION [ALL] | EXCEPT) operand {INTERSECT ..}} */
static ts_err parse_setops(parser *p, ts_sql_query *first, ts_sql_query **out)
{
    ts_sql_query *left;
    TS_TRY(parse_intersects(p, first, &left));
    while (at_kw(p, TS_KW_UNION) || at_kw(p, TS_KW_EXCEPT)) {
        const ts_sql_token *op = tok(p);
        ts_sql_setop setop = op->kw == TS_KW_UNION ? TS_SQL_SET_UNION : TS_SQL_SET_EXCEPT;
        ts_sql_query *operand, *right;
        int paren;
        advance(p);
        TS_TRY(parse_set_quantifier(p, op, &setop));
        TS_TRY(parse_operand(p, &operand, &paren));
        TS_TRY(parse_intersects(p, operand, &right));
        TS_TRY(new_setop(p, setop, left, right, &left));
    }
    *out = left;
    return TS_OK;
}

/* [ORDER BY ..] and LIMIT / OFFSET in either order */
static ts_err parse_query_tail(parser *p, ts_sql_query *t)
{
    if (accept_kw(p, TS_KW_ORDER)) {
        TS_TRY(expect_kw(p, TS_KW_BY));
        TS_TRY(parse_order_list(p, &t->order, &t->norder));
    }
    for (;;) {
        if (!t->limit && accept_kw(p, TS_KW_LIMIT))
            TS_TRY(parse_expr(p, &t->limit));
        else if (!t->offset && accept_kw(p, TS_KW_OFFSET))
            TS_TRY(parse_expr(p, &t->offset));
        else
            return TS_OK;
    }
}

/* SELECT * FROM (q): lets an ORDER BY / LIMIT apply on top of a parenthesized query that has its own. */
static ts_err wrap_query(parser *p, ts_sql_query *q, ts_sql_query **out)
{
    ts_sql_select *s;
    ts_sql_item *item;
    ALLOC(p, *out, 1);
    ALLOC(p, s, 1);
    ALLOC(p, item, 1);
    TS_TRY(new_expr(p, TS_SQL_E_STAR, q->pos, &item->expr));
    TS_TRY(new_from(p, TS_SQL_F_SUBQUERY, q->pos, &s->from));
    s->from->query = q;
    s->pos = q->pos;
    s->items = item, s->nitems = 1;
    (*out)->pos = q->pos;
    (*out)->select = s;
    return TS_OK;
}

/* Puts the WITH list and tail on the query body. A body that is one parenthesized query is used as is when
 * the outer query adds nothing it already has, else wrapped. */
static ts_err attach_tail(parser *p, ts_sql_pos pos, ts_sql_cte *ctes, int nctes, const ts_sql_query *tail,
                          ts_sql_query *body, int paren_alone, ts_sql_query **out)
{
    int adds = nctes || tail->norder || tail->limit || tail->offset;
    if (paren_alone && !adds) {
        *out = body;
        return TS_OK;
    }
    if (paren_alone && (body->norder || body->limit || body->offset || (nctes && body->nctes)))
        TS_TRY(wrap_query(p, body, &body));
    if (nctes)
        body->ctes = ctes, body->nctes = nctes;
    if (tail->norder)
        body->order = tail->order, body->norder = tail->norder;
    if (tail->limit)
        body->limit = tail->limit;
    if (tail->offset)
        body->offset = tail->offset;
    body->pos = pos;
    *out = body;
    return TS_OK;
}

static ts_err query_rest(parser *p, ts_sql_pos pos, ts_sql_cte *ctes, int nctes, ts_sql_query *first, int paren,
                         ts_sql_query **out)
{
    ts_sql_query *body, tail = {0};
    TS_TRY(parse_setops(p, first, &body));
    TS_TRY(parse_query_tail(p, &tail));
    return attach_tail(p, pos, ctes, nctes, &tail, body, paren && body == first, out);
}

/* name [(c1, ..)] AS (query) */
static ts_err parse_cte(parser *p, ts_sql_cte *cte)
{
    memset(cte, 0, sizeof *cte);
    TS_TRY(parse_name(p, "a name for the WITH query", &cte->name));
    if (at(p, TS_TK_LPAREN))
        TS_TRY(parse_name_list(p, "a column name", &cte->columns, &cte->ncolumns));
    TS_TRY(expect_kw(p, TS_KW_AS));
    TS_TRY(expect(p, TS_TK_LPAREN, "'('"));
    TS_TRY(parse_query(p, &cte->query));
    return expect(p, TS_TK_RPAREN, "')'");
}

static ts_err parse_query(parser *p, ts_sql_query **out)
{
    ts_sql_pos pos = tok(p)->pos;
    ts_sql_cte *ctes = NULL;
    ts_sql_query *first;
    int nctes = 0, cap = 0, paren;
    TS_TRY(enter(p));
    if (accept_kw(p, TS_KW_WITH)) {
        do {
            ts_sql_cte cte;
            TS_TRY(parse_cte(p, &cte));
            PUSH(p, ctes, nctes, cap, cte);
        } while (accept(p, TS_TK_COMMA));
    }
    TS_TRY(parse_operand(p, &first, &paren));
    TS_TRY(query_rest(p, pos, ctes, nctes, first, paren, out));
    leave(p);
    return TS_OK;
}

/* ---- tree height ---------------------------------------------------------------------------------------- */

static ts_err too_deep(parser *p, ts_sql_pos pos)
{
    return ts_sql_error_at(p->s, pos, TS_ERR_USAGE, "syntax error: expression nested deeper than %d levels",
                           MAX_HEIGHT);
}

static ts_err height_query(parser *p, const ts_sql_query *q, int level);
static ts_err height_expr(parser *p, const ts_sql_expr *e, int level);

static ts_err height_exprs(parser *p, ts_sql_expr *const *list, int n, int level)
{
    for (int k = 0; k < n; k++)
        TS_TRY(height_expr(p, list[k], level));
    return TS_OK;
}

static ts_err height_order(parser *p, const ts_sql_order *o, int n, int level)
{
    for (int k = 0; k < n; k++)
        TS_TRY(height_expr(p, o[k].expr, level));
    return TS_OK;
}

static ts_err height_window(parser *p, const ts_sql_window *w, int level)
{
    if (!w)
        return TS_OK;
    TS_TRY(height_exprs(p, w->partition, w->npartition, level));
    return height_order(p, w->order, w->norder, level);
}

static ts_err height_expr(parser *p, const ts_sql_expr *e, int level)
{
    if (!e)
        return TS_OK;
    if (level > MAX_HEIGHT)
        return too_deep(p, e->pos);
    TS_TRY(height_exprs(p, e->args, e->nargs, level + 1));
    TS_TRY(height_expr(p, e->operand, level + 1));
    TS_TRY(height_expr(p, e->else_expr, level + 1));
    TS_TRY(height_expr(p, e->filter, level + 1));
    TS_TRY(height_window(p, e->over, level + 1));
    return height_query(p, e->query, level + 1);
}

static ts_err height_from(parser *p, const ts_sql_from *f, int level)
{
    if (!f)
        return TS_OK;
    if (level > MAX_HEIGHT)
        return too_deep(p, f->pos);
    for (int k = 0; k < f->nargs; k++) {
        TS_TRY(height_expr(p, f->args[k].value, level + 1));
        TS_TRY(height_exprs(p, f->args[k].values, f->args[k].npairs, level + 1));
    }
    TS_TRY(height_exprs(p, f->values, f->nrows * f->ncols, level + 1));
    TS_TRY(height_query(p, f->query, level + 1));
    TS_TRY(height_from(p, f->left, level + 1));
    TS_TRY(height_from(p, f->right, level + 1));
    return height_expr(p, f->on, level + 1);
}

static ts_err height_select(parser *p, const ts_sql_select *s, int level)
{
    for (int k = 0; k < s->nitems; k++)
        TS_TRY(height_expr(p, s->items[k].expr, level));
    TS_TRY(height_from(p, s->from, level));
    TS_TRY(height_expr(p, s->where, level));
    TS_TRY(height_exprs(p, s->group, s->ngroup, level));
    TS_TRY(height_expr(p, s->having, level));
    for (int k = 0; k < s->nwindows; k++)
        TS_TRY(height_window(p, s->windows[k].def, level));
    return height_expr(p, s->qualify, level);
}

static ts_err height_query(parser *p, const ts_sql_query *q, int level)
{
    if (!q)
        return TS_OK;
    if (level > MAX_HEIGHT)
        return too_deep(p, q->pos);
    for (int k = 0; k < q->nctes; k++)
        TS_TRY(height_query(p, q->ctes[k].query, level + 1));
    if (q->select)
        TS_TRY(height_select(p, q->select, level + 1));
    TS_TRY(height_query(p, q->left, level + 1));
    TS_TRY(height_query(p, q->right, level + 1));
    TS_TRY(height_order(p, q->order, q->norder, level + 1));
    TS_TRY(height_expr(p, q->limit, level + 1));
    return height_expr(p, q->offset, level + 1);
}

/* ---- statements ----------------------------------------------------------------------------------------- */

static ts_err parse_stmt(parser *p, ts_sql_stmt **out);

/* '(' name type [NOT NULL | NULL] {, ...} ')': constraints other than NOT NULL are refused by name. */
static ts_err parse_column_defs(parser *p, ts_sql_stmt *st)
{
    int cap = 0, tcap = 0, ncap = 0, nt = 0, nn = 0;
    advance(p);
    do {
        char *name;
        ts_sql_type ty;
        TS_TRY(parse_name(p, "a column name", &name));
        TS_TRY(parse_type(p, &ty));
        int not_null = 0;
        for (;;) {
            if (at_kw(p, TS_KW_NOT) && is_kw(peek(p, 1), TS_KW_NULL)) {
                advance(p), advance(p);
                not_null = 1;
            } else if (at_kw(p, TS_KW_NULL)) {
                advance(p);
            } else {
                break;
            }
        }
        if (!at(p, TS_TK_COMMA) && !at(p, TS_TK_RPAREN) && is_word(tok(p)))
            return err_tok(p, tok(p), "column constraint '%.*s' is not supported (only NOT NULL: tables have no "
                           "keys, defaults or checks)", (int)(tok(p)->len > 40 ? 40 : tok(p)->len),
                           p->s->text + tok(p)->off);
        PUSH(p, st->columns, st->ncolumns, cap, name);
        PUSH(p, st->types, nt, tcap, ty);
        PUSH(p, st->not_null, nn, ncap, not_null);
    } while (accept(p, TS_TK_COMMA));
    return expect(p, TS_TK_RPAREN, "',' or ')'");
}

/* CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (AS query | (column definitions)) |
 * CREATE [OR REPLACE] VIEW name AS query */
static ts_err parse_create(parser *p, ts_sql_stmt *st)
{
    advance(p);
    if (accept_kw(p, TS_KW_OR)) {
        TS_TRY(expect_kw(p, TS_KW_REPLACE));
        st->or_replace = 1;
    }
    if (accept_kw(p, TS_KW_TABLE)) {
        st->kind = TS_SQL_S_CREATE_TABLE;
        const ts_sql_token *t = tok(p);
        if (accept_kw(p, TS_KW_IF)) {
            TS_TRY(expect_kw(p, TS_KW_NOT));
            TS_TRY(expect_kw(p, TS_KW_EXISTS));
            if (st->or_replace)
                return err_tok(p, t, "syntax error: OR REPLACE and IF NOT EXISTS cannot be combined");
            st->if_not_exists = 1;
        }
    } else if (accept_kw(p, TS_KW_VIEW)) {
        st->kind = TS_SQL_S_CREATE_VIEW;
    } else {
        return err_expected(p, st->or_replace ? "TABLE or VIEW" : "TABLE, VIEW or OR REPLACE", create_kws,
                            NKW(create_kws));
    }
    TS_TRY(parse_dotted(p, st->kind == TS_SQL_S_CREATE_VIEW ? "a view name" : "a table name", &st->name));
    if (st->kind == TS_SQL_S_CREATE_TABLE && at(p, TS_TK_LPAREN))
        return parse_column_defs(p, st);
    if (!at_kw(p, TS_KW_AS))
        return err_expected(p, st->kind == TS_SQL_S_CREATE_VIEW ? "AS" : "AS or '(' and column definitions", NULL, 0);
    advance(p);
    return parse_query(p, &st->query);
}

/* INSERT INTO name [(c, ...)] (VALUES (..), .. | query) */
static ts_err parse_insert(parser *p, ts_sql_stmt *st)
{
    advance(p);
    st->kind = TS_SQL_S_INSERT;
    if (!word_is(p, tok(p), "INTO"))
        return err_expected(p, "INTO", NULL, 0);
    advance(p);
    TS_TRY(parse_dotted(p, "a table name", &st->name));
    if (at(p, TS_TK_LPAREN) && !starts_query(peek(p, 1)) && peek(p, 1)->kind != TS_TK_LPAREN)
        TS_TRY(parse_name_list(p, "a column name", &st->columns, &st->ncolumns));
    if (at_kw(p, TS_KW_VALUES)) { /* SELECT * FROM (VALUES ...) */
        const ts_sql_token *t = tok(p);
        ts_sql_query *q;
        ts_sql_select *sel;
        ts_sql_item *item;
        advance(p);
        ALLOC(p, q, 1);
        ALLOC(p, sel, 1);
        ALLOC(p, item, 1);
        TS_TRY(new_expr(p, TS_SQL_E_STAR, t->pos, &item->expr));
        TS_TRY(new_from(p, TS_SQL_F_VALUES, t->pos, &sel->from));
        TS_TRY(parse_values(p, sel->from));
        sel->pos = t->pos, sel->items = item, sel->nitems = 1;
        q->pos = t->pos, q->select = sel;
        st->query = q;
        return TS_OK;
    }
    if (!starts_query(tok(p)) && !at(p, TS_TK_LPAREN))
        return err_expected(p, "VALUES or a query", NULL, 0);
    return parse_query(p, &st->query);
}

/* DROP TABLE|VIEW [IF EXISTS] name */
static ts_err parse_drop(parser *p, ts_sql_stmt *st)
{
    advance(p);
    st->kind = TS_SQL_S_DROP;
    if (accept_kw(p, TS_KW_VIEW))
        st->is_view = 1;
    else if (!accept_kw(p, TS_KW_TABLE))
        return err_expected(p, "TABLE or VIEW", drop_kws, NKW(drop_kws));
    if (accept_kw(p, TS_KW_IF)) {
        TS_TRY(expect_kw(p, TS_KW_EXISTS));
        st->if_exists = 1;
    }
    return parse_dotted(p, st->is_view ? "a view name" : "a table name", &st->name);
}

/* COPY option: NAME [word | 'string' | number | (name, ...)] */
static ts_err parse_copy_opt(parser *p, ts_sql_copy_opt *o)
{
    memset(o, 0, sizeof *o);
    o->pos = tok(p)->pos;
    if (!is_word(tok(p)))
        return err_expected(p, "a COPY option (FORMAT, COMPRESSION, PARTITION_BY, ...)", NULL, 0);
    TS_TRY(word_text(p, tok(p), &o->name));
    advance(p);
    accept(p, TS_TK_EQ);
    const ts_sql_token *t = tok(p);
    if (t->kind == TS_TK_LPAREN)
        return parse_name_list(p, "a column name", &o->list, &o->nlist);
    if (t->kind == TS_TK_STRING) {
        TS_TRY(unquote(p, p->s->text + t->off, t->len, '\'', &o->value, NULL));
    } else if (t->kind == TS_TK_INT || t->kind == TS_TK_FLOAT) {
        TS_TRY(copy_text(p, p->s->text + t->off, t->len, &o->value));
    } else if (is_word(t)) {
        TS_TRY(word_text(p, t, &o->value));
    } else {
        return TS_OK; /* no value: a flag (HEADER, OVERWRITE) */
    }
    advance(p);
    return TS_OK;
}

/* COPY name TO 'path' [(opts)] | COPY (query) TO 'path' [(opts)]; a name becomes SELECT * FROM name. */
static ts_err parse_copy(parser *p, ts_sql_stmt *st)
{
    advance(p);
    st->kind = TS_SQL_S_COPY;
    ALLOC(p, st->copy, 1);
    if (accept(p, TS_TK_LPAREN)) {
        TS_TRY(parse_query(p, &st->query));
        TS_TRY(expect(p, TS_TK_RPAREN, "')'"));
    } else {
        const ts_sql_pos pos = tok(p)->pos;
        ts_sql_select *s;
        ts_sql_item *item;
        ALLOC(p, st->query, 1);
        ALLOC(p, s, 1);
        ALLOC(p, item, 1);
        TS_TRY(new_expr(p, TS_SQL_E_STAR, pos, &item->expr));
        TS_TRY(new_from(p, TS_SQL_F_TABLE, pos, &s->from));
        TS_TRY(parse_dotted(p, "a table name or (query)", &s->from->name));
        s->pos = st->query->pos = pos;
        s->items = item, s->nitems = 1;
        st->query->select = s;
    }
    if (!word_is(p, tok(p), "to"))
        return err_expected(p, "TO 'path'", NULL, 0);
    advance(p);
    const ts_sql_token *t = tok(p);
    if (t->kind != TS_TK_STRING)
        return err_expected(p, "a file or directory path in quotes", NULL, 0);
    st->copy->path_pos = t->pos;
    TS_TRY(unquote(p, p->s->text + t->off, t->len, '\'', &st->copy->path, NULL));
    advance(p);
    if (accept_kw(p, TS_KW_WITH) && !at(p, TS_TK_LPAREN))
        return err_expected(p, "'(' after WITH", NULL, 0);
    if (accept(p, TS_TK_LPAREN)) {
        int cap = 0;
        do {
            ts_sql_copy_opt o;
            TS_TRY(parse_copy_opt(p, &o));
            PUSH(p, st->copy->opts, st->copy->nopts, cap, o);
        } while (accept(p, TS_TK_COMMA));
        TS_TRY(expect(p, TS_TK_RPAREN, "',' or ')'"));
    }
    return TS_OK;
}

static ts_err parse_stmt_body(parser *p, ts_sql_stmt *st)
{
    const ts_sql_token *t = tok(p);
    if (is_kw(t, TS_KW_EXPLAIN)) {
        advance(p);
        st->kind = TS_SQL_S_EXPLAIN;
        st->analyze = accept_kw(p, TS_KW_ANALYZE);
        return parse_stmt(p, &st->inner);
    }
    if (is_kw(t, TS_KW_CREATE))
        return parse_create(p, st);
    if (is_kw(t, TS_KW_DROP))
        return parse_drop(p, st);
    if (word_is(p, t, "copy"))
        return parse_copy(p, st);
    if (word_is(p, t, "INSERT"))
        return parse_insert(p, st);
    if (starts_query(t) || t->kind == TS_TK_LPAREN) {
        st->kind = TS_SQL_S_QUERY;
        return parse_query(p, &st->query);
    }
    return err_expected(p, "a statement (SELECT, WITH, CREATE, INSERT, DROP or EXPLAIN)", stmt_kws, NKW(stmt_kws));
}

static ts_err parse_stmt(parser *p, ts_sql_stmt **out)
{
    ts_sql_stmt *st;
    int first = p->i;
    TS_TRY(enter(p));
    ALLOC(p, st, 1);
    st->pos = tok(p)->pos;
    TS_TRY(parse_stmt_body(p, st));
    const ts_sql_token *a = &p->toks[first], *b = &p->toks[p->i - 1];
    char *text;
    TS_TRY(copy_text(p, p->s->text + a->off, b->off + b->len - a->off, &text));
    st->text = text;
    leave(p);
    *out = st;
    return TS_OK;
}

static ts_err parse_script(parser *p)
{
    int cap = 0;
    for (;;) {
        while (accept(p, TS_TK_SEMI))
            ;
        if (at(p, TS_TK_EOF))
            return TS_OK;
        ts_sql_stmt *st;
        TS_TRY(parse_stmt(p, &st));
        if (!at(p, TS_TK_SEMI) && !at(p, TS_TK_EOF))
            return err_expected(p, "';' or end of input", follow_kws, NKW(follow_kws));
        TS_TRY(height_query(p, st->query, 1));
        for (const ts_sql_stmt *in = st->inner; in; in = in->inner)
            TS_TRY(height_query(p, in->query, 1));
        PUSH(p, p->s->stmts, p->s->nstmts, cap, st);
    }
}

ts_err ts_sql_parse(const char *text, const char *filename, ts_sql_script **out)
{
    ts_sql_script *s;
    ts_sql_token *toks;
    int ntoks;
    *out = NULL;
    TS_TRY(ts_sql_script_new(text, filename, &s));
    ts_err err = ts_sql_lex(s->text, s->filename, &toks, &ntoks);
    if (!err) {
        parser p = {.s = s, .toks = toks, .ntoks = ntoks, .alias_tok = -1};
        err = parse_script(&p);
        free(toks);
    }
    if (err) {
        ts_sql_script_free(s);
        ts_error_trace(__FILE__, __LINE__, __func__);
        return err;
    }
    *out = s;
    return TS_OK;
}
