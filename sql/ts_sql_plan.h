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

#define TS_SQL_ID_MAX 64            /* plan ids: a name's first 40 bytes and "#n" */
#define TS_SQL_NAME_MAX TS_NAME_MAX /* names users write (columns, aliases, tables): up to TS_NAME_MAX - 1 bytes */

typedef struct ts_sql_col {
    char id[TS_SQL_ID_MAX];     /* unique in the plan; the engine column's name */
    char name[TS_SQL_NAME_MAX]; /* the name users see (output column name) */
    char qual[TS_SQL_NAME_MAX]; /* the table name or alias that qualifies it ("" when none) */
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
    TS_P_SETOP,     /* EXCEPT / INTERSECT (distinct semantics)             set_op */
    TS_P_DEPJOIN,   /* dependent join: in[1] (a subquery) reads columns of in[0]; only between binding and
                       decorrelation (ts_sql_decorrelate.c), which replaces it     dep_kind, cols */
    TS_P_DELIM_JOIN,/* a join (join fields) whose right side holds DELIM_GET leaves: they read the distinct
                       values of its left input's delim_cols, computed once when the node runs */
    TS_P_DELIM_GET, /* leaf: the distinct delim_cols of delim->in[0]; cols[i] is delim->delim_cols[i] */
    TS_P_PARQUET    /* read_parquet (sql/ts_sql_parquet.c)                 source; conds: pruning hints */
} ts_sql_plan_kind;

/* What a dependent join computes per row of its left input (ts_sql_decorrelate.c). */
typedef enum {
    TS_DEP_SEMI,    /* rows for which the subquery has a row (EXISTS) */
    TS_DEP_ANTI,    /* rows for which it has none (NOT EXISTS) */
    TS_DEP_MARK,    /* every row, plus a BOOL column (the last): whether it has a row */
    TS_DEP_SINGLE   /* every row, plus the subquery's columns: its single row, NULLs when none, an error when
                       several (scalar subqueries) */
} ts_sql_dep_kind;

typedef struct ts_sql_plan ts_sql_plan;

/* Estimated statistics of a plan column (ts_sql_stats.c). */
typedef struct ts_sql_colstat {
    double ndv;       /* distinct non-NULL values */
    double nulls;     /* fraction of NULLs */
    double min, max;  /* has_range: numbers (decimals in units), dates in days */
    double width;     /* bytes per value */
    int has_range;
    int known;        /* from real statistics (else defaults) */
} ts_sql_colstat;

typedef struct ts_sql_agg_item {
    ts_agg agg;             /* input / where / output / order hold column ids */
    const char *text;       /* the SQL call it computes ("avg(amount)"), for errors; NULL for internal ones */
    ts_sql_pos pos;         /* and where it is */
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
    char table[TS_SQL_NAME_MAX];
    /* CSV / H5: source path (and group); CSV options */
    char *path, *group;
    char **source_names;    /* CSV / H5 / CATALOG: the source column name of cols[i] */
    struct ts_col_stats *source_stats; /* CSV / H5: statistics of cols[i] (a sample's for CSV), or NULL */
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
    /* FILTER: conjuncts (PARQUET: the filter above it, for pruning); PROJECT: exprs[i] computes cols[i] */
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
    unsigned null_equal;    /* bit k: key pair k matches NULL with NULL (decorrelation's keys) */
    /* DEPJOIN */
    ts_sql_dep_kind dep_kind;
    /* DELIM_JOIN: left columns whose distinct values the DELIM_GET leaves read; DELIM_GET: its join */
    char **delim_cols;
    int ndelim;
    struct ts_sql_plan *delim;
    void *delim_values;     /* DELIM_JOIN at run time: the distinct values (a ts_table), while the right side runs */
    /* AGGREGATE: 1 when it must produce at most one row per group (a scalar subquery's value): column
     * single_count counts the group's rows and an error is raised when one exceeds 1 */
    const char *single_count;
    int scalar_plain;       /* AGGREGATE without keys in a correlated scalar subquery whose value is NULL for no
                               rows anyway: decorrelation groups it by the correlated columns without keeping a row
                               for each outer value */
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
    int64_t topk;           /* > 0: the FILTER above keeps only rows where wins[topk_fn] (a ranking function) is at
                               most topk, so the window needs only the rows that can pass (ts_window_spec.topk) */
    int topk_fn;
    /* SETOP */
    ts_sql_setop set_op;

    /* planning decisions and run-time statistics (EXPLAIN / EXPLAIN ANALYZE) */
    double est_rows;
    ts_sql_colstat *stats;  /* estimated statistics of cols[i] (ts_sql_estimate) */
    char note[160];         /* decisions taken while planning (join order, broadcast or shuffle, ...) */
    char run_note[160];     /* what the executor did (EXPLAIN ANALYZE): the measured sizes behind its choices */
    int64_t rows_out;       /* actual, global */
    double seconds;         /* actual, max over ranks */
    int64_t bytes_sent;     /* actual (pipelined executor), max over ranks */
    int64_t mem_peak;       /* actual (pipelined executor): its operators' largest memory, max over ranks */
    int64_t spill_bytes;    /* actual (pipelined executor): bytes its operators spilled, summed over ranks */
    int partitioned_on;     /* output is hash-partitioned on cols[0..partitioned_on) (0: unknown) */
};

#endif
