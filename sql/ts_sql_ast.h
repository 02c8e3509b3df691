/* Abstract syntax tree of a SQL script: what the parser (ts_sql_parse.h) produces and the planner
 * (ts_sql_plan.h) binds. Plain data: every node, array and string of one script lives in the script's arena and
 * is freed with it (ts_sql_script_free), so nodes never own anything individually.
 *
 * Names: identifiers are stored lower-cased unless they were double-quoted (then verbatim, quotes removed);
 * keywords never appear as strings. Positions are 1-based line and column of the node's first token, in the text
 * given to the parser (after ${param} substitution). */
#ifndef TS_SQL_AST_H
#define TS_SQL_AST_H

#include <stdint.h>

typedef struct ts_sql_pos {
    int line, col;
} ts_sql_pos;

typedef struct ts_sql_expr ts_sql_expr;
typedef struct ts_sql_query ts_sql_query;
typedef struct ts_sql_from ts_sql_from;

/* ---- types (CAST, TRY_CAST, ::, column lists of read_csv) ------------------------------------------------- */

typedef enum {
    TS_SQL_TY_BOOLEAN,
    TS_SQL_TY_INTEGER, /* INTEGER, INT, INT4, SMALLINT, TINYINT */
    TS_SQL_TY_BIGINT,  /* BIGINT, INT8, LONG, HUGEINT */
    TS_SQL_TY_DOUBLE,  /* DOUBLE, FLOAT, REAL, FLOAT8, DOUBLE PRECISION */
    TS_SQL_TY_DECIMAL, /* DECIMAL(p, s), NUMERIC(p, s); default (18, 3) */
    TS_SQL_TY_VARCHAR, /* VARCHAR, VARCHAR(n), TEXT, STRING, CHAR(n) */
    TS_SQL_TY_DATE,
    TS_SQL_TY_TIMESTAMP, /* TIMESTAMP, DATETIME: microseconds, no time zone */
    TS_SQL_TY_INTERVAL   /* INTERVAL (CAST targets only: no column holds intervals) */
} ts_sql_type_kind;

typedef struct ts_sql_type {
    ts_sql_type_kind kind;
    int precision, scale; /* DECIMAL */
} ts_sql_type;

/* ---- expressions ---------------------------------------------------------------------------------------- */

typedef enum {
    TS_SQL_E_COLUMN,       /* [table.]name                       table (may be NULL), name */
    TS_SQL_E_STAR,         /* * or table.* (select lists)        table (may be NULL); EXCLUDE (names) and
                              REPLACE (expr AS name, ...) in star_exclude / star_replace */
    TS_SQL_E_INT,          /* integer literal that fits int64   ival */
    TS_SQL_E_FLOAT,        /* literal with '.' or exponent      fval; sval = the literal's text */
    TS_SQL_E_STRING,       /* 'text' ('' is a quote)            sval (NUL-terminated), slen */
    TS_SQL_E_BOOL,         /* TRUE / FALSE                      ival 1 / 0 */
    TS_SQL_E_NULL,         /* NULL */
    TS_SQL_E_UNARY,        /* op: TS_SQL_OP_NEG, TS_SQL_OP_NOT   args[0] */
    TS_SQL_E_BINARY,       /* op: arithmetic, ||, comparison, AND, OR   args[0], args[1] */
    TS_SQL_E_IS_NULL,      /* args[0] IS [NOT] NULL              negated */
    TS_SQL_E_BETWEEN,      /* args[0] [NOT] BETWEEN args[1] AND args[2]   negated */
    TS_SQL_E_IN_LIST,      /* args[0] [NOT] IN (args[1..nargs))  negated */
    TS_SQL_E_IN_QUERY,     /* args[0] [NOT] IN (subquery)        negated, query */
    TS_SQL_E_EXISTS,       /* [NOT] EXISTS (subquery)            negated, query */
    TS_SQL_E_SUBQUERY,     /* (subquery) used as a scalar        query */
    TS_SQL_E_LIKE,         /* args[0] [NOT] LIKE|ILIKE args[1]   negated, ilike */
    TS_SQL_E_CASE,         /* CASE [operand] WHEN args[2k] THEN args[2k+1] ... [ELSE else_expr] END
                              operand may be NULL (searched CASE); nargs is even */
    TS_SQL_E_CAST,         /* CAST(args[0] AS type), TRY_CAST (try_cast = 1), args[0]::type,
                              DATE 'yyyy-mm-dd', TIMESTAMP '...', INTERVAL '...' (a CAST of the string);
                              INTERVAL n unit and INTERVAL 'n' unit are calls to_<unit>(n) (to_days(n), ...) */
    TS_SQL_E_QUANTIFIED,   /* args[0] op ANY|SOME|ALL (subquery)  op, query, negated = 1 for ALL; the parser
                              makes = ANY an IN_QUERY and <> ALL a NOT IN_QUERY (the same semantics) */
    TS_SQL_E_FUNC,         /* name(args)  name lower-cased; count(*) has star = 1 and nargs = 0;
                              EXTRACT(part FROM e) is func "extract" with args ('part' as a STRING, e);
                              SQL's special forms become plain calls: SUBSTRING(s FROM a FOR b) substring(s, a, b),
                              POSITION(x IN s) position(s, x), TRIM([BOTH|LEADING|TRAILING] [c] FROM s) trim /
                              ltrim / rtrim(s[, c]);
                              distinct (agg(DISTINCT x)), filter (FILTER (WHERE ...)), over (window) */
} ts_sql_expr_kind;

typedef enum {
    TS_SQL_OP_NONE,
    TS_SQL_OP_ADD, TS_SQL_OP_SUB, TS_SQL_OP_MUL, TS_SQL_OP_DIV, TS_SQL_OP_MOD, TS_SQL_OP_INTDIV, /* // */
    TS_SQL_OP_CONCAT, /* || */
    TS_SQL_OP_EQ, TS_SQL_OP_NE, TS_SQL_OP_LT, TS_SQL_OP_LE, TS_SQL_OP_GT, TS_SQL_OP_GE,
    TS_SQL_OP_AND, TS_SQL_OP_OR,
    TS_SQL_OP_NEG, TS_SQL_OP_NOT,
    TS_SQL_OP_DISTINCT, TS_SQL_OP_NOT_DISTINCT /* a IS [NOT] DISTINCT FROM b */
} ts_sql_op;

typedef struct ts_sql_order {
    ts_sql_expr *expr;
    int desc;       /* 1: DESC */
    int nulls;      /* 0: default (NULLS LAST for ASC and DESC, as DuckDB), 1: NULLS FIRST, 2: NULLS LAST */
} ts_sql_order;

typedef enum { TS_SQL_BOUND_UNBOUNDED_PRECEDING, TS_SQL_BOUND_PRECEDING, TS_SQL_BOUND_CURRENT_ROW,
               TS_SQL_BOUND_FOLLOWING, TS_SQL_BOUND_UNBOUNDED_FOLLOWING } ts_sql_bound_kind;

/* A window: OVER (...), OVER name, or a WINDOW clause's definition. ref names a window of the same SELECT's
 * WINDOW clause this one builds on: OVER name (bare = 1) uses it as it is; OVER (name ORDER BY ...) and
 * WINDOW w2 AS (name ...) copy its PARTITION BY and ORDER BY and add their own ORDER BY (when it has none) and
 * frame. The binder resolves ref away (ts_sql_bind_window.c); bound windows have ref == NULL. */
typedef struct ts_sql_window {
    char *ref;                    /* the named window built on, or NULL */
    int bare;                     /* OVER name, without parentheses */
    ts_sql_pos ref_pos, partition_pos, order_pos; /* for errors: where each part was written */
    ts_sql_expr **partition;
    int npartition;
    ts_sql_order *order;
    int norder;
    int has_frame;  /* an explicit frame clause */
    int frame_rows; /* 1: ROWS, 0: RANGE */
    ts_sql_bound_kind start, end; /* "ROWS n PRECEDING" alone means BETWEEN n PRECEDING AND CURRENT ROW */
    int64_t start_n, end_n;       /* for PRECEDING / FOLLOWING: the count (>= 0) */
} ts_sql_window;

struct ts_sql_expr {
    ts_sql_expr_kind kind;
    ts_sql_pos pos;
    ts_sql_op op;
    int negated, ilike, try_cast, distinct, star;
    char *table, *name;   /* COLUMN / STAR qualifier and name; FUNC name */
    int64_t ival;
    double fval;
    char *sval;           /* STRING (NUL-terminated; slen bytes), FLOAT's text */
    int64_t slen;
    ts_sql_expr **args;
    int nargs;
    ts_sql_expr *operand, *else_expr; /* CASE */
    ts_sql_type type;                 /* CAST */
    ts_sql_query *query;              /* IN_QUERY, EXISTS, SUBQUERY, QUANTIFIED */
    ts_sql_expr *filter;              /* FUNC: FILTER (WHERE ...) or NULL */
    ts_sql_window *over;              /* FUNC: OVER (...) or NULL */
    struct ts_sql_plan *subplan;      /* set by the binder: the plan of a scalar subquery */
    char **star_exclude;              /* STAR: * EXCLUDE (a, b): names left out */
    int nstar_exclude;
    char **star_replace_names;        /* STAR: * REPLACE (e AS a): column a computed by star_replace[i] */
    ts_sql_expr **star_replace;
    int nstar_replace;
};

/* ---- FROM items ----------------------------------------------------------------------------------------- */

typedef enum {
    TS_SQL_F_TABLE,    /* a name: table, view or CTE; dotted names kept whole ("analytics.country_month") */
    TS_SQL_F_FUNC,     /* table function: read_csv('glob', opt=value, ...), read_h5('file', '/group') */
    TS_SQL_F_SUBQUERY, /* (query) */
    TS_SQL_F_VALUES,   /* (VALUES (..), (..)) */
    TS_SQL_F_JOIN
} ts_sql_from_kind;

typedef enum { TS_SQL_JOIN_INNER, TS_SQL_JOIN_LEFT, TS_SQL_JOIN_RIGHT, TS_SQL_JOIN_FULL, TS_SQL_JOIN_CROSS,
               TS_SQL_JOIN_SEMI, TS_SQL_JOIN_ANTI } ts_sql_join_kind;

/* A table function argument: positional (name == NULL) or named (name = value). A named value may be a
 * struct literal {'a': 'BIGINT', 'b': 'VARCHAR'} (read_csv's columns=): then value is NULL and the pairs are in
 * keys/values. */
typedef struct ts_sql_arg {
    char *name;
    ts_sql_expr *value;
    char **keys;
    ts_sql_expr **values;
    int npairs;
} ts_sql_arg;

struct ts_sql_from {
    ts_sql_from_kind kind;
    ts_sql_pos pos;
    char *name;                  /* TABLE: the name; FUNC: function name (lower case) */
    ts_sql_arg *args;            /* FUNC */
    int nargs;
    ts_sql_query *query;         /* SUBQUERY */
    ts_sql_expr **values;        /* VALUES: row-major, nrows * ncols expressions */
    int nrows, ncols;
    char *alias;                 /* AS alias (NULL when none) */
    char **col_aliases;          /* AS alias(c1, c2, ...) */
    int ncol_aliases;
    ts_sql_join_kind join;       /* JOIN: left JOIN right ON on | USING (using[0..nusing)) */
    ts_sql_from *left, *right;   /* comma-separated FROM items are CROSS joins (conditions come from WHERE) */
    ts_sql_expr *on;
    char **using;
    int nusing;
};

/* ---- queries -------------------------------------------------------------------------------------------- */

typedef struct ts_sql_item {
    ts_sql_expr *expr;
    char *alias;                 /* AS alias or NULL */
} ts_sql_item;

/* WINDOW name AS (window): a definition OVER clauses of the same SELECT block refer to. */
typedef struct ts_sql_named_window {
    char *name;
    ts_sql_pos pos;              /* of the name */
    ts_sql_window *def;
} ts_sql_named_window;

/* One SELECT block. */
typedef struct ts_sql_select {
    ts_sql_pos pos;
    int distinct;
    ts_sql_item *items;
    int nitems;
    ts_sql_from *from;           /* NULL: SELECT without FROM (one row) */
    ts_sql_expr *where;
    ts_sql_expr **group;         /* GROUP BY expressions (an INT literal is a 1-based position); ALL: group_all */
    int ngroup, group_all;
    ts_sql_expr *having;
    ts_sql_expr *qualify;
    ts_sql_named_window *windows; /* WINDOW name AS (...), ...: in the order written */
    int nwindows;
} ts_sql_select;

typedef struct ts_sql_cte {
    char *name;
    char **columns;              /* WITH name(c1, c2) AS (...) */
    int ncolumns;
    ts_sql_query *query;
} ts_sql_cte;

typedef enum { TS_SQL_SET_NONE, TS_SQL_SET_UNION, TS_SQL_SET_UNION_ALL, TS_SQL_SET_EXCEPT, TS_SQL_SET_INTERSECT,
               TS_SQL_SET_EXCEPT_ALL, TS_SQL_SET_INTERSECT_ALL } ts_sql_setop;

/* WITH ctes  body  ORDER BY  LIMIT  OFFSET. The body is one SELECT block (set_op == NONE) or a set operation of
 * two queries (left, right); UNION / EXCEPT / INTERSECT chains are left-associative, INTERSECT binding tighter.
 * ORDER BY / LIMIT written after a chain apply to the whole chain. */
struct ts_sql_query {
    ts_sql_pos pos;
    ts_sql_cte *ctes;
    int nctes;
    ts_sql_setop set_op;
    ts_sql_select *select;       /* set_op == NONE */
    ts_sql_query *left, *right;  /* set operation */
    ts_sql_order *order;
    int norder;
    ts_sql_expr *limit, *offset; /* NULL when absent */
};

/* ---- statements ----------------------------------------------------------------------------------------- */

typedef enum {
    TS_SQL_S_QUERY,        /* a query whose result is printed (or returned to the caller) */
    TS_SQL_S_CREATE_TABLE, /* CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (AS query | (column definitions)) */
    TS_SQL_S_CREATE_VIEW,  /* CREATE [OR REPLACE] VIEW name AS query */
    TS_SQL_S_DROP,         /* DROP TABLE|VIEW [IF EXISTS] name    (is_view tells which) */
    TS_SQL_S_EXPLAIN,      /* EXPLAIN [ANALYZE] statement         (analyze, inner) */
    TS_SQL_S_INSERT,       /* INSERT INTO name [(columns)] query (VALUES rows are a query over a VALUES list) */
    TS_SQL_S_COPY          /* COPY name|(query) TO 'path' [(options)]   (query: SELECT * FROM name for a name;
                              copy) */
} ts_sql_stmt_kind;

/* COPY's options: NAME [value | (name, ...)]: value NULL when absent, list for PARTITION_BY (a b) forms. */
typedef struct ts_sql_copy_opt {
    char *name;                  /* lower-cased */
    char *value;                 /* a word (lower-cased), string or number as written; NULL when absent */
    char **list;
    int nlist;
    ts_sql_pos pos;
} ts_sql_copy_opt;

typedef struct ts_sql_copy {
    char *path;
    ts_sql_pos path_pos;
    ts_sql_copy_opt *opts;
    int nopts;
} ts_sql_copy;

typedef struct ts_sql_stmt {
    ts_sql_stmt_kind kind;
    ts_sql_pos pos;
    char *name;                  /* dotted names kept whole */
    int or_replace, if_not_exists, if_exists, is_view, analyze;
    ts_sql_query *query;         /* NULL for CREATE TABLE name (column definitions) */
    char **columns;              /* CREATE TABLE name (c type [NOT NULL], ...): the columns; INSERT: the column list */
    ts_sql_type *types;          /* CREATE TABLE: the declared types */
    int *not_null;               /* CREATE TABLE: NOT NULL (checked by INSERT) */
    int ncolumns;
    struct ts_sql_stmt *inner;   /* EXPLAIN */
    ts_sql_copy *copy;           /* COPY */
    const char *text;            /* the statement's source text (in the arena), without the ';' */
} ts_sql_stmt;

typedef struct ts_sql_arena ts_sql_arena;

typedef struct ts_sql_script {
    ts_sql_stmt **stmts;
    int nstmts;
    const char *text;            /* the parsed text (arena copy) */
    const char *filename;        /* for messages ("-c" for a command line) */
    ts_sql_arena *arena;
} ts_sql_script;

#endif
