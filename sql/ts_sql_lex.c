#include "ts_sql_lex.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ts_column.h" /* TS_NAME_MAX */

#define TS_SQL_KW_NAME_(name, reserved) #name,
#define TS_SQL_KW_RESERVED_(name, reserved) reserved,
static const char *const kw_names[] = {"", TS_SQL_KEYWORDS(TS_SQL_KW_NAME_)};
static const unsigned char kw_reserved[] = {0, TS_SQL_KEYWORDS(TS_SQL_KW_RESERVED_)};
#undef TS_SQL_KW_NAME_
#undef TS_SQL_KW_RESERVED_

/* Longer than any keyword: such words are never looked up. */
#define KW_MAX_LEN 12

const char *ts_sql_keyword_name(ts_sql_keyword kw)
{
    return kw > TS_KW_NONE && kw < TS_KW_COUNT_ ? kw_names[kw] : "";
}

int ts_sql_keyword_reserved(ts_sql_keyword kw) { return kw > TS_KW_NONE && kw < TS_KW_COUNT_ && kw_reserved[kw]; }

static ts_sql_keyword keyword_of(const char *s, size_t len)
{
    if (len > KW_MAX_LEN)
        return TS_KW_NONE;
    char up[KW_MAX_LEN + 1];
    for (size_t i = 0; i < len; i++)
        up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    up[len] = '\0';
    for (int k = 1; k < TS_KW_COUNT_; k++)
        if (kw_names[k][0] == up[0] && strcmp(up, kw_names[k]) == 0)
            return (ts_sql_keyword)k;
    return TS_KW_NONE;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_ident_start(unsigned char c)
{
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' || c >= 0x80;
}
static int is_ident_char(unsigned char c) { return is_ident_start(c) || is_digit(c); }
static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips blanks and comments from off. Returns the new offset, or sets *bad to the start of an unterminated
 * block comment. */
static size_t skip_blanks(const unsigned char *t, size_t off, size_t *bad)
{
    *bad = SIZE_MAX;
    for (;;) {
        while (is_blank(t[off]))
            off++;
        if (t[off] == '-' && t[off + 1] == '-') {
            while (t[off] && t[off] != '\n')
                off++;
        } else if (t[off] == '/' && t[off + 1] == '*') {
            size_t start = off, depth = 1;
            off += 2;
            while (depth && t[off]) {
                if (t[off] == '*' && t[off + 1] == '/')
                    depth--, off += 2;
                else if (t[off] == '/' && t[off + 1] == '*')
                    depth++, off += 2;
                else
                    off++;
            }
            if (depth) {
                *bad = start;
                return off;
            }
        } else {
            return off;
        }
    }
}

/* A quoted run from t[off] == q to the matching q (doubled q is an escaped q). Returns the length including
 * both quotes, or 0 when unterminated. */
static size_t quoted_length(const unsigned char *t, size_t off, unsigned char q)
{
    size_t i = off + 1;
    for (;;) {
        if (!t[i])
            return 0;
        if (t[i] == q) {
            if (t[i + 1] != q)
                return i + 1 - off;
            i++;
        }
        i++;
    }
}

/* Digits [. digits] [e [+-] digits], or . digits [exponent]. Sets *is_float; on a malformed number returns
 * the length of the whole alphanumeric run and sets *err. */
static size_t number_length(const unsigned char *t, size_t off, int *is_float, const char **err)
{
    size_t i = off;
    *is_float = 0;
    while (is_digit(t[i]))
        i++;
    if (t[i] == '.') {
        *is_float = 1;
        i++;
        while (is_digit(t[i]))
            i++;
    }
    if ((t[i] | 0x20) == 'e') {
        size_t e = i + 1;
        if (t[e] == '+' || t[e] == '-')
            e++;
        if (is_digit(t[e])) {
            *is_float = 1;
            i = e;
            while (is_digit(t[i]))
                i++;
        }
    }
    if (is_ident_char(t[i]) || t[i] == '.') {
        while (is_ident_char(t[i]) || t[i] == '.' || ((t[i] == '+' || t[i] == '-') && (t[i - 1] | 0x20) == 'e'))
            i++;
        *err = "malformed number";
    }
    return i - off;
}

static size_t utf8_length(const unsigned char *t, size_t off)
{
    size_t n = 1;
    if (t[off] >= 0x80)
        while (n < 4 && (t[off + n] & 0xC0) == 0x80)
            n++;
    return n;
}

typedef struct op_entry {
    const char *text;
    ts_sql_tok_kind kind;
} op_entry;

/* Longer spellings first so "<=" wins over "<". */
static const op_entry ops[] = {
    {"::", TS_TK_DCOLON}, {"//", TS_TK_DSLASH}, {"||", TS_TK_CONCAT}, {"<=", TS_TK_LE}, {">=", TS_TK_GE},
    {"<>", TS_TK_NE},     {"!=", TS_TK_NE},     {"==", TS_TK_EQ},     {"(", TS_TK_LPAREN}, {")", TS_TK_RPAREN},
    {"[", TS_TK_LBRACKET}, {"]", TS_TK_RBRACKET}, {"{", TS_TK_LBRACE}, {"}", TS_TK_RBRACE}, {",", TS_TK_COMMA},
    {".", TS_TK_DOT},     {";", TS_TK_SEMI},    {":", TS_TK_COLON},   {"+", TS_TK_PLUS},  {"-", TS_TK_MINUS},
    {"*", TS_TK_STAR},    {"/", TS_TK_SLASH},   {"%", TS_TK_PERCENT}, {"=", TS_TK_EQ},    {"<", TS_TK_LT},
    {">", TS_TK_GT},
};

/* Scans the token starting at t[off] (not a blank, not the end). Returns its length; on a lexical error
 * returns the length of the text to underline and sets *err. */
static size_t scan_token(const unsigned char *t, size_t off, ts_sql_tok_kind *kind, const char **err)
{
    unsigned char c = t[off];
    *err = NULL;
    if (is_ident_start(c)) {
        size_t i = off;
        while (is_ident_char(t[i]))
            i++;
        *kind = TS_TK_IDENT;
        return i - off;
    }
    if (is_digit(c) || (c == '.' && is_digit(t[off + 1]))) {
        int is_float;
        size_t n = number_length(t, off, &is_float, err);
        *kind = is_float ? TS_TK_FLOAT : TS_TK_INT;
        return n;
    }
    if (c == '\'' || c == '"') {
        size_t n = quoted_length(t, off, c);
        *kind = c == '\'' ? TS_TK_STRING : TS_TK_QIDENT;
        if (n == 0) {
            *err = c == '\'' ? "unterminated string literal" : "unterminated quoted identifier";
            return 1;
        }
        if (n == 2 && c == '"')
            *err = "empty quoted identifier";
        return n;
    }
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t n = strlen(ops[k].text);
        if (memcmp(t + off, ops[k].text, n) == 0) {
            *kind = ops[k].kind;
            return n;
        }
    }
    *err = "unexpected character";
    return utf8_length(t, off);
}

size_t ts_sql_token_length(const char *text, size_t off)
{
    const unsigned char *t = (const unsigned char *)text;
    if (!text || off >= strlen(text) || is_blank(t[off]) || (t[off] == '-' && t[off + 1] == '-') ||
        (t[off] == '/' && t[off + 1] == '*'))
        return 0;
    ts_sql_tok_kind kind;
    const char *err;
    size_t n = scan_token(t, off, &kind, &err);
    return err ? 0 : n;
}

/* Position tracking: line and code-point column advanced byte by byte, so every byte is visited once. */
typedef struct cursor {
    size_t off;
    int line, col;
} cursor;

static void advance_to(const unsigned char *t, cursor *c, size_t off)
{
    for (; c->off < off; c->off++) {
        if (t[c->off] == '\n')
            c->line++, c->col = 1;
        else if ((t[c->off] & 0xC0) != 0x80)
            c->col++;
    }
}

static ts_err lex_error(const char *text, const char *filename, size_t off, size_t len, const char *what)
{
    const unsigned char *t = (const unsigned char *)text;
    if (strcmp(what, "unexpected character") == 0) {
        if (t[off] >= 0x20 && t[off] < 0x7f)
            return ts_sql_error_span(text, filename, off, len, TS_ERR_USAGE,
                                     "syntax error: unexpected character '%c'", t[off]);
        return ts_sql_error_span(text, filename, off, len, TS_ERR_USAGE,
                                 "syntax error: unexpected character (byte 0x%02x)", t[off]);
    }
    return ts_sql_error_span(text, filename, off, len, TS_ERR_USAGE, "syntax error: %s", what);
}

static ts_err push_token(ts_sql_token **toks, int *n, int *cap, ts_sql_token tok)
{
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 256;
        ts_sql_token *g = realloc(*toks, (size_t)ncap * sizeof *g);
        if (!g)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for %d SQL tokens", ncap);
        *toks = g, *cap = ncap;
    }
    (*toks)[(*n)++] = tok;
    return TS_OK;
}

static ts_err lex_all(const char *text, const char *filename, ts_sql_token **toks, int *n, int *cap)
{
    const unsigned char *t = (const unsigned char *)text;
    cursor cur = {0, 1, 1};
    size_t end_off = 0;
    ts_sql_pos end_pos = {1, 1};
    for (;;) {
        size_t bad, off = skip_blanks(t, cur.off, &bad);
        if (bad != SIZE_MAX)
            return ts_sql_error_span(text, filename, bad, 2, TS_ERR_USAGE, "syntax error: unterminated comment");
        if (!t[off])
            break;
        ts_sql_token tok = {0};
        const char *err;
        tok.len = scan_token(t, off, &tok.kind, &err);
        if (err)
            return lex_error(text, filename, off, tok.len, err);
        const size_t ident = tok.kind == TS_TK_IDENT ? tok.len : tok.kind == TS_TK_QIDENT ? tok.len - 2 : 0;
        if (ident >= TS_NAME_MAX) /* names are kept whole or refused, never cut (tables, columns, HDF5) */
            return ts_sql_error_span(text, filename, off, 1, TS_ERR_USAGE, "identifier of %zu bytes: names are at "
                                     "most %d bytes", ident, TS_NAME_MAX - 1);
        advance_to(t, &cur, off);
        tok.off = off;
        tok.pos.line = cur.line, tok.pos.col = cur.col;
        if (tok.kind == TS_TK_IDENT)
            tok.kw = keyword_of(text + off, tok.len);
        TS_TRY(push_token(toks, n, cap, tok));
        advance_to(t, &cur, off + tok.len);
        end_off = cur.off;
        end_pos.line = cur.line, end_pos.col = cur.col;
    }
    ts_sql_token eof = {TS_TK_EOF, TS_KW_NONE, end_pos, end_off, 0};
    TS_TRY(push_token(toks, n, cap, eof));
    return TS_OK;
}

ts_err ts_sql_lex(const char *text, const char *filename, ts_sql_token **toks, int *ntoks)
{
    *toks = NULL, *ntoks = 0;
    /* token counts and columns are ints */
    if (strlen(text) > (size_t)INT_MAX / 2)
        TS_FAIL(TS_ERR_USAGE, "%s: SQL text too long (%zu bytes)", filename, strlen(text));
    int cap = 0;
    ts_err err = lex_all(text, filename, toks, ntoks, &cap);
    if (err) {
        free(*toks);
        *toks = NULL, *ntoks = 0;
        ts_error_trace(__FILE__, __LINE__, __func__);
    }
    return err;
}
