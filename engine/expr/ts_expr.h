/* Scalar expressions over a table's columns, evaluated in vectors of TS_EXPR_VECTOR rows: the scalar language the
 * SQL front-end compiles to, also used directly by jobs for computed columns and filters.
 *
 * An expression tree is bound to a table once (names resolved, result types inferred, implicit casts inserted,
 * constant subtrees folded, constant patterns / IN lists / formats precompiled) and then evaluated a vector at a
 * time: every node fills a typed value vector and a validity vector, so per-row work is tight loops over arrays,
 * never an interpreter dispatch per row. Strings are (pointer, length) views into the column's bytes or into a
 * per-node scratch buffer reused for every vector: no allocation per row.
 *
 * Types: BOOL, INT64 (INT32 columns widen), FLOAT64, DATE, DECIMAL (scaled integers; a column keeps its scale),
 * DICT and STRING. A DICT value acts as its string wherever a string is needed (comparisons, ||, LIKE, upper(),
 * ...); DICT results keep the dictionary when every input shares it. An untyped NULL (ts_x_null) adopts the type
 * its context needs (INT64 when nothing says otherwise).
 *
 * Semantics are SQL's, DuckDB's where SQL leaves a choice. NULL in gives NULL out except for IS NULL, COALESCE,
 * concat(), greatest / least (which skip NULLs), CASE and the three-valued AND / OR / IN. Notable rules:
 *   - Comparisons: numbers mix freely by value (DECIMAL against INT64 or another scale exactly: amount > 100 means
 *     100.00, use ts_x_decimal for a constant at the column's scale; against FLOAT64 as doubles; NaN equals NaN and
 *     sorts above every number); DATE with DATE (or with INT64 day numbers); BOOL with BOOL;
 *     strings and DICT values byte-wise (memcmp, then length). A string constant compared with a DATE or numeric
 *     operand is converted at bind time (an unconvertible constant is a TS_ERR_USAGE error).
 *   - Arithmetic: INT64 overflow is a TS_ERR_DATA error. + - between decimals (and integers) is exact at the larger
 *     scale, * of decimals exact at the summed scale (FLOAT64 past 18 digits); / always gives FLOAT64 with IEEE
 *     results (x / 0 = +-inf, 0 / 0 = NaN: domain.md's averages rely on it; use NULLIF for SQL's NULL). % and //
 *     on integers truncate like C and give NULL for a zero divisor; on floats % is fmod and // divides (DuckDB).
 *     DATE +- INT64 days gives DATE, DATE - DATE gives INT64 days.
 *   - TIMESTAMP (int64 microseconds): compares with TIMESTAMP and with DATE (its midnight) and with text; DATE or
 *     TIMESTAMP +- INTERVAL gives TIMESTAMP (months first, the day clamped to the month's end, then days, then
 *     microseconds: DuckDB's rule); TIMESTAMP - TIMESTAMP gives an INTERVAL of days and microseconds. INTERVAL values
 *     (months, days, microseconds kept apart; kernels/ts_interval.h) exist only inside expressions: they add,
 *     subtract, multiply by integers, compare (30-day months) and cast to text, but a result column cannot be
 *     one.
 *   - CASE / COALESCE / greatest / least unify their value types: INT64 with FLOAT64 gives FLOAT64, INT64 with
 *     DECIMAL gives DECIMAL, DICT with another dictionary or STRING gives STRING.
 *   - CAST between all types; a value that does not convert is a TS_ERR_DATA error naming it (TRY_CAST: NULL).
 *     As DuckDB: FLOAT64 -> INT64 rounds half to even (2.5 -> 2) and out of range is an error; DECIMAL and text
 *     round half away from zero ('2.5' -> 3); text numbers may have blanks around them, booleans are true/false,
 *     t/f, yes/no, y/n, 1/0 in any case; dates read as Y-M-D or Y/M/D (an optional time part is ignored). Doubles
 *     print in the shortest form that reads back exactly (0.1, 1e+20, 100.0, as DuckDB); DATE as YYYY-MM-DD.
 *     DATE does not cast to or from numbers.
 *   - sqrt / ln / log10 of a negative number (or log of zero) are TS_ERR_DATA errors, as in DuckDB.
 *   - Errors are only raised for rows that are evaluated: CASE evaluates a branch only for the rows that take it,
 *     COALESCE an argument only where the earlier ones are NULL, AND / OR their right side only where the left
 *     does not decide. upper / lower / ILIKE fold ASCII letters only; lengths and positions count UTF-8 code points.
 * Binding errors (unknown column, wrong argument types or counts, a non-constant pattern where a constant is
 * needed) are TS_ERR_USAGE and name the operator or function and the argument position.
 *
 * Ownership: builders return a new node that owns its children; ts_expr_free frees a whole tree. A builder given
 * a NULL child returns NULL after freeing its other children (so nested builder calls need one NULL check), and so
 * does an allocation failure. Argument counts and types are checked when the tree is bound, not when it is built. */
#ifndef TS_EXPR_H
#define TS_EXPR_H

#include "ts_chunk.h"
#include "ts_table.h"

#define TS_EXPR_VECTOR TS_CHUNK_ROWS

typedef enum {
    TS_X_COL,
    TS_X_INT,
    TS_X_FLOAT,
    TS_X_STRING,
    TS_X_EQ, TS_X_NE, TS_X_LT, TS_X_LE, TS_X_GT, TS_X_GE,
    TS_X_AND, TS_X_OR, TS_X_NOT,
    TS_X_ADD, TS_X_SUB, TS_X_MUL, TS_X_DIV,
    TS_X_IS_NULL,
    TS_X_COALESCE,    /* n-ary: the first non-NULL argument */
    TS_X_TO_FLOAT,    /* cast to FLOAT64 (DECIMAL keeps its scale: 1523050 at scale 2 -> 15230.50; DATE: days) */
    TS_X_MONTH_START, /* DATE -> DATE of the month's first day */
    TS_X_YEAR,        /* DATE -> INT64 */
    TS_X_MONTH,       /* DATE -> INT64 1..12 */
    TS_X_DAY,         /* DATE -> INT64 1..31 */
    /* more literals (ts_x_null, ts_x_bool, ts_x_date, ts_x_decimal) */
    TS_X_NULL, TS_X_BOOL, TS_X_DATE, TS_X_DECIMAL,
    /* operators */
    TS_X_MOD,         /* a % b */
    TS_X_INTDIV,      /* a // b */
    TS_X_NEG,         /* -a */
    TS_X_CONCAT,      /* a || b || ...: NULL if any argument is NULL; non-strings are cast to STRING */
    TS_X_CASE,        /* when1, then1, when2, then2, ... [, else] (an odd count: the last one is ELSE) */
    TS_X_IN,          /* args[0] IN (args[1..n)): TRUE if one equals; else NULL if args[0] or an item is NULL */
    TS_X_LIKE,        /* (string, pattern): % and _ wildcards, no escape character */
    TS_X_ILIKE,       /* LIKE, ASCII case-insensitive */
    TS_X_CAST,        /* built with ts_x_cast */
    TS_X_NULLIF,      /* (a, b): NULL when a = b, else a */
    TS_X_GREATEST,    /* n-ary, NULLs skipped (NULL only when all are) */
    TS_X_LEAST,
    /* dates; a part or format argument must be a string constant */
    TS_X_DATE_TRUNC,  /* (part, date) -> DATE: 'year', 'quarter', 'month', 'week' (ISO, Monday), 'day' */
    TS_X_DATE_PART,   /* (part, date) -> INT64: year, quarter, month, week (ISO), day, dayofweek / dow (0 = Sunday),
                         isodow (1 = Monday), dayofyear / doy, epoch (seconds), isoyear, decade, century */
    TS_X_STRFTIME,    /* (date, format) -> STRING: %Y %m %d %y %B %b %A %a %j %% (and %-m %-d %-j unpadded) */
    TS_X_STRPTIME,    /* (string, format) -> DATE: %Y %m %d %y %j %b %B %%; a value that does not match: error */
    /* strings (a DICT argument acts as its string) */
    TS_X_UPPER, TS_X_LOWER, /* ASCII */
    TS_X_TRIM, TS_X_LTRIM, TS_X_RTRIM, /* (s[, characters]): spaces, or the given characters */
    TS_X_LENGTH,      /* code points */
    TS_X_SUBSTR,      /* (s, start[, len]): 1-based, by code points; DuckDB's rules for start <= 0 and len < 0 */
    TS_X_REPLACE,     /* (s, from, to): every occurrence; an empty `from` changes nothing */
    TS_X_CONCAT_FN,   /* concat(...): NULL arguments are skipped (all NULL gives '') */
    TS_X_REGEXP_MATCHES, /* (s, pattern constant): POSIX extended regex, unanchored search */
    TS_X_STARTS_WITH, TS_X_CONTAINS,
    TS_X_LEFT, TS_X_RIGHT, /* (s, n): n < 0 drops -n characters from the other end */
    TS_X_REVERSE,
    /* math */
    TS_X_ABS,
    TS_X_ROUND,       /* (x[, digits]): half away from zero; integers stay integers; DECIMAL needs constant digits */
    TS_X_FLOOR, TS_X_CEIL, /* DECIMAL -> DECIMAL of scale 0 */
    TS_X_POW, TS_X_SQRT, TS_X_LN, TS_X_LOG10, TS_X_EXP, /* FLOAT64 */
    TS_X_SIGN,        /* INT64 -1, 0, 1 */
    TS_X_STRPOS,      /* (s, needle) -> INT64: 1-based code point position of the first occurrence, 0 if none
                         (an empty needle is at 1): SQL's position(needle IN s), strpos, instr */
    TS_X_DISTINCT_FROM,     /* a IS DISTINCT FROM b: never NULL; NULL equals NULL and differs from any value */
    TS_X_NOT_DISTINCT_FROM, /* a IS NOT DISTINCT FROM b */
    TS_X_INTERVAL,    /* literal (ts_x_interval): months, days, microseconds */
    TS_X_TO_INTERVAL, /* (text): CAST(text AS INTERVAL); (unit, n): n units (to_days(n), INTERVAL (n) DAY) */
    TS_X_OP_COUNT
} ts_expr_op;

typedef struct ts_expr ts_expr;

ts_expr *ts_x_col(const char *name);
ts_expr *ts_x_int(int64_t v);
ts_expr *ts_x_float(double v);
ts_expr *ts_x_string(const char *s);                /* copies s */
ts_expr *ts_x_string_len(const char *s, size_t len); /* copies len bytes (may contain NUL) */
ts_expr *ts_x_null(void);                           /* untyped NULL: adopts the type its context needs */
ts_expr *ts_x_bool(int v);
ts_expr *ts_x_date(int32_t days);                   /* days since 1970-01-01 */
ts_expr *ts_x_decimal(int64_t unscaled, int scale); /* unscaled / 10^scale, scale 0..18 */
ts_expr *ts_x_interval(int32_t months, int32_t days, int64_t micros);
/* Binary operators and functions of one or two arguments; unary ones take b = NULL. */
ts_expr *ts_x_op(ts_expr_op op, ts_expr *a, ts_expr *b);
/* Any operator or function with nargs arguments: takes ownership of args[0..nargs) (freed even on failure);
 * the array itself is copied, the caller keeps it. */
ts_expr *ts_x_func(ts_expr_op op, ts_expr **args, int nargs);
/* CAST(a AS type) (TRY_CAST when try_cast != 0: a value that does not convert gives NULL). scale: DECIMAL only.
 * INT32 casts to INT64 values checked against the INT32 range; DICT is not a cast target. */
ts_expr *ts_x_cast(ts_expr *a, ts_type type, int scale, int try_cast);
void ts_expr_free(ts_expr *e);

/* The column name when e is a bare column reference, else NULL. */
const char *ts_expr_column_name(const ts_expr *e);

/* "+", "substr", "CASE", ... (static string). */
const char *ts_expr_op_name(ts_expr_op op);

/* Result type (and DECIMAL scale) of e bound to t, without evaluating it: what ts_expr_eval would produce
 * (DICT results carry the input column's dictionary). */
ts_err ts_expr_type(const ts_expr *e, const ts_table *t, ts_type *type, int *scale);

/* Evaluates e over every row of t into a new column `name` (caller owns it; add it with ts_table_adopt). The
 * column's type is ts_expr_type's: BOOL, INT64, FLOAT64, DATE, DECIMAL, DICT or STRING.
 * Errors: binding errors (TS_ERR_USAGE) and data errors (TS_ERR_DATA: CAST failures, overflow, ...), each naming
 * the operator or function. */
ts_err ts_expr_eval(const ts_expr *e, const ts_table *t, const char *name, ts_column **out);

/* Evaluates a BOOL expression and returns the rows where it is true (not false, not NULL) in *rows
 * (ts_free), *n of them, ascending. */
ts_err ts_expr_select(const ts_expr *e, const ts_table *t, int64_t **rows, int64_t *n);

/* ---- bind once, evaluate per chunk (pipelines: engine/core/ts_chunk.h) ------------------------------------------
 * ts_expr_bind binds e to the columns of `schema` once (names, types, casts, constant folding, precompiled
 * patterns); each evaluation then reads the values those column structs hold at that moment, rows [0, n) of the
 * chunk: bind to a chunk's schema (its columns stay at fixed addresses) and evaluate every chunk that flows
 * through. Rows outside the chunk's selection are computed but raise no errors (they are inactive, as rows a
 * CASE branch does not take). A bound expression keeps its vectors and scratch buffers between chunks. */
typedef struct ts_expr_bound ts_expr_bound;

/* *out is new (ts_expr_unbind); e is only read during the call. */
ts_err ts_expr_bind(const ts_expr *e, const ts_table *schema, ts_expr_bound **out);
void ts_expr_unbind(ts_expr_bound *b);
/* Result type, DECIMAL scale and (DICT) dictionary, as ts_expr_type. */
void ts_expr_bound_type(const ts_expr_bound *b, ts_type *type, int *scale, ts_dict **dict);
/* Evaluates rows [0, c->n) of chunk c into `out`, a column of ts_expr_bound_type's type (a chunk vector): out is
 * cleared and filled with c->n values. */
ts_err ts_expr_eval_chunk(ts_expr_bound *b, const ts_chunk *c, ts_column *out);
/* Narrows c's selection to the live rows where b (a BOOL expression) is true. */
ts_err ts_expr_filter_chunk(ts_expr_bound *b, ts_chunk *c);

#endif
