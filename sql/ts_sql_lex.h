/* SQL tokens and the helpers the parser shares with the source utilities (ts_sql_source.c): keyword table,
 * one-token scanner and located error messages. Internal to sql/: the public contract is ts_sql_parse.h. */
#ifndef TS_SQL_LEX_H
#define TS_SQL_LEX_H

#include <stdarg.h>
#include <stddef.h>

#include "ts_error.h"
#include "ts_sql_ast.h"

typedef enum {
    TS_TK_EOF,
    TS_TK_IDENT,   /* unquoted word (maybe a keyword: see kw) */
    TS_TK_QIDENT,  /* "double quoted" identifier */
    TS_TK_INT,     /* digits only */
    TS_TK_FLOAT,   /* digits with '.' and/or an exponent */
    TS_TK_STRING,  /* 'single quoted' */
    TS_TK_LPAREN, TS_TK_RPAREN, TS_TK_LBRACKET, TS_TK_RBRACKET, TS_TK_LBRACE, TS_TK_RBRACE,
    TS_TK_COMMA, TS_TK_DOT, TS_TK_SEMI, TS_TK_COLON, TS_TK_DCOLON,
    TS_TK_PLUS, TS_TK_MINUS, TS_TK_STAR, TS_TK_SLASH, TS_TK_DSLASH, TS_TK_PERCENT, TS_TK_CONCAT,
    TS_TK_EQ, /* = or == */
    TS_TK_NE, /* <> or != */
    TS_TK_LT, TS_TK_LE, TS_TK_GT, TS_TK_GE
} ts_sql_tok_kind;

/* Keywords: X(name, reserved). Reserved words never name a column, table or alias unless double-quoted;
 * the others are keywords only where the grammar expects them (a column may be called "date" or "first"). */
#define TS_SQL_KEYWORDS(X)                                                                                    \
    X(ALL, 1) X(ANALYZE, 0) X(AND, 1) X(ANTI, 0) X(AS, 1) X(ASC, 1) X(BETWEEN, 1) X(BY, 1) X(CASE, 1)        \
    X(CAST, 1) X(CREATE, 1) X(CROSS, 1) X(CURRENT, 0) X(DATE, 0) X(DESC, 1) X(DISTINCT, 1) X(DROP, 1)          \
    X(ELSE, 1) X(END, 1) X(EXCEPT, 1) X(EXISTS, 1) X(EXPLAIN, 0) X(FALSE, 1) X(FILTER, 0) X(FIRST, 0)         \
    X(FOLLOWING, 0) X(FROM, 1) X(FULL, 1) X(GROUP, 1) X(HAVING, 1) X(IF, 0) X(ILIKE, 1) X(IN, 1)              \
    X(INNER, 1) X(INTERSECT, 1) X(IS, 1) X(JOIN, 1) X(LAST, 0) X(LEFT, 1) X(LIKE, 1) X(LIMIT, 1) X(NOT, 1)    \
    X(NULL, 1) X(NULLS, 0) X(OFFSET, 1) X(ON, 1) X(OR, 1) X(ORDER, 1) X(OUTER, 1) X(OVER, 0)                  \
    X(PARTITION, 0) X(PRECEDING, 0) X(QUALIFY, 1) X(RANGE, 0) X(REPLACE, 0) X(RIGHT, 1) X(ROW, 0)            \
    X(ROWS, 0) X(SELECT, 1) X(SEMI, 0) X(TABLE, 1) X(THEN, 1) X(TRUE, 1) X(TRY_CAST, 1) X(UNBOUNDED, 0)      \
    X(UNION, 1) X(USING, 1) X(VALUES, 0) X(VIEW, 0) X(WHEN, 1) X(WHERE, 1) X(WINDOW, 1) X(WITH, 1)

#define TS_SQL_KW_ENUM_(name, reserved) TS_KW_##name,
typedef enum { TS_KW_NONE, TS_SQL_KEYWORDS(TS_SQL_KW_ENUM_) TS_KW_COUNT_ } ts_sql_keyword;
#undef TS_SQL_KW_ENUM_

typedef struct ts_sql_token {
    ts_sql_tok_kind kind;
    ts_sql_keyword kw; /* IDENT only: the keyword it spells (case-insensitive), else TS_KW_NONE */
    ts_sql_pos pos;    /* line, column (columns count UTF-8 code points) */
    size_t off, len;   /* bytes of the token in the text, quotes included */
} ts_sql_token;

/* Tokenizes all of text (a NUL-terminated string), skipping blanks and comments (-- to end of line, nestable
 * block comments). *toks is malloc'ed (caller frees) and ends with one TS_TK_EOF token placed just after the
 * last real token. Errors (unterminated strings, identifiers or comments, malformed numbers, unknown
 * characters) are TS_ERR_USAGE messages located at the offending text, in the format of ts_sql_error_at. */
ts_err ts_sql_lex(const char *text, const char *filename, ts_sql_token **toks, int *ntoks);

/* Length in bytes of the token starting exactly at text + off, or 0 when none starts there (blank, comment,
 * end of text, malformed). For caret widths. */
size_t ts_sql_token_length(const char *text, size_t off);

/* Upper-case name of a keyword ("FROM"); "" for TS_KW_NONE. */
const char *ts_sql_keyword_name(ts_sql_keyword kw);
int ts_sql_keyword_reserved(ts_sql_keyword kw);

/* Raises `code` with "filename:LINE:COL: <fmt...>", the source line and a caret line under the len bytes at
 * text + off (at least one column; clipped to the line). LINE:COL are computed from off. Returns code. */
ts_err ts_sql_error_span(const char *text, const char *filename, size_t off, size_t len, ts_err code,
                         const char *fmt, ...) __attribute__((format(printf, 6, 7)));
ts_err ts_sql_verror_span(const char *text, const char *filename, size_t off, size_t len, ts_err code,
                          const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* A new empty script (no statements) owning arena copies of text and filename (NULL: "sql"). */
ts_err ts_sql_script_new(const char *text, const char *filename, ts_sql_script **out);

#endif
