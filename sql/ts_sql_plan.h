/* Logical plans: what the binder (ts_sql_bind.c) makes of a query, the optimizer (ts_sql_opt.c) rewrites and the
 * executor (ts_sql_exec.c) runs with engine operators. Internal to sql/.
 *
 * Columns are identified by plan-wide unique ids ("amount#7"): every node that computes a column gives it a new
 * id, nodes that pass a column through keep its id. So an expression means the same thing wherever it is moved
 * (a filter pushed below a join, a column pruned from a scan) without renaming. Expressions in the plan are
 * syntax-tree expressions (ts_sql_ast.h) whose column references were resolved to ids (kind COLUMN, name = id,
 * table = NULL); the executor compiles them to engine expressions (ts_expr) when it runs a node.
 *
 * Every node, array and string lives in the script's arena (ts_sql_alloc): plans are freed with the script. */
#ifndef TS_SQL_PLAN_H
#define TS_SQL_PLAN_H

#include "ts_aggregate.h"
#include "ts_hashjoin.h"
#include "ts_sort.h"
#include "ts_sql_ast.h"
#include "ts_window.h"

#define TS_SQL_ID_MAX 64

typedef struct ts_sql_col {
    char id[TS_SQL_ID_MAX];   /* unique in the plan; the engine column's name */
    char name[TS_SQL_ID_MAX]; /* the name users see (output column name) */
    char qual[TS_SQL_ID_MAX]; /* the table name or alias that qualifies it ("" when none) */
    int hidden;               /* not part of SELECT * (internal helper columns) */
} ts_sql_col;

typedef enum {
    TS_P_CATALOG,   /* a table of the session's catalog                    table */
    TS_P_CSV,       /* read_csv                                            source, csv */
    TS_P_H5,        /* read_h5                                             source */
    TS_P_RANGE,     /* range(start, stop, step): column "range"            range_* */
    TS_P_VALUES,    /* VALUES rows (constant expressions)                  values */
    TS_P_ONE_ROW,   /* SELECT without FROM: one row, no columns */
    TS_P_FILTER,    /* rows where every conjunct is true                   conds */
    TS_P_PROJECT,   /* one expression per output column                    exprs */
    TS_P_AGGREGATE, /* group by key columns, aggregates                    keys (input ids), aggs */
    TS_P_JOIN,      /* hash join on key pairs, then residual conjuncts     join */
    TS_P_SORT,      /* distributed sample sort                             sort */
    TS_P_LIMIT,     /* OFFSET / LIMIT of the input's order                  limit, offset */
    TS_P_DISTINCT,  /* distinct rows over every column */
    TS_P_WINDOW,    /* window functions (one PARTITION BY / ORDER BY)      window */
    TS_P_UNION,     /* UNION ALL of two inputs (same column count)         (DISTINCT above it for UNION) */
    TS_P_SETOP      /* EXCEPT / INTERSECT (distinct semantics)             set_op */
} ts_sql_plan_kind;

typedef struct ts_sql_plan ts_sql_plan;

typedef struct ts_sql_agg_item {
    ts_agg agg;             /* input / where / output / order hold column ids */
} ts_sql_agg_item;

typedef struct ts_sql_win_item {
    ts_window_fn fn;        /* input / output / default_col hold column ids */
} ts_sql_win_item;

struct ts_sql_plan {
    ts_sql_plan_kind kind;
    ts_sql_pos pos;
    ts_sql_plan *in[2];
    ts_sql_col *cols;       /* output schema */
    int ncols;

    /* CATALOG */
    char table[2 * TS_SQL_ID_MAX];
    /* CSV / H5: source path (and group); CSV options */
    char *path, *group;
    char **source_names;    /* CSV / H5 / CATALOG: the source column name of cols[i] */
    void *source;           /* CSV: the files and inferred schema; H5: the table read while binding */
    int64_t rows_rejected;  /* CSV: rows that did not parse */
    int ignore_errors;      /* CSV: skip rows that do not parse (default: an error naming the first) */
    int with_rules;         /* CSV: read with a rules file (engine/dist/ts_clean.h) instead of inferred types */
    char *rejects_name;     /* CSV: keep them as catalog table rejects_name (file, line, reason, raw_line) */
    /* RANGE */
    int64_t range_start, range_stop, range_step;
    /* VALUES: nrows * ncols constant expressions */
    ts_sql_expr **values;
    int nrows;
    /* FILTER: conjuncts; PROJECT: exprs[i] computes cols[i] */
    ts_sql_expr **conds;
    int nconds;
    ts_sql_expr **exprs;
    /* AGGREGATE: keys are input ids, output keeps them; then one column per aggregate */
    char **keys;
    int nkeys;
    ts_sql_agg_item *aggs;
    int naggs;
    /* JOIN */
    ts_join_type join_type;
    char **left_keys, **right_keys;
    int njoin_keys;
    int cross;              /* no key: every pair (a join on a constant key) */
    int not_in;             /* an anti join for NOT IN (subquery): SQL's NULL rules apply */
    /* SORT / WINDOW ordering */
    ts_sort_key *sort;
    int nsort;
    /* LIMIT */
    int64_t limit, offset;  /* limit < 0: none */
    /* WINDOW */
    char **partition;
    int npartition;
    ts_sql_win_item *wins;
    int nwins;
    /* SETOP */
    ts_sql_setop set_op;

    /* planning decisions and run-time statistics (EXPLAIN / EXPLAIN ANALYZE) */
    double est_rows;
    char note[160];         /* decisions taken (broadcast, pushed filters, pruned columns ...) */
    int64_t rows_out;       /* actual, global */
    double seconds;         /* actual, max over ranks */
    int64_t bytes_sent;     /* actual (pipelined executor), max over ranks */
    int64_t mem_peak;       /* actual (pipelined executor): its operators' largest memory, max over ranks */
    int partitioned_on;     /* output is hash-partitioned on cols[0..partitioned_on) (0: unknown) */
};

#endif
