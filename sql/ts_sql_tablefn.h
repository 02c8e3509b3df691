/* Table functions in FROM: read_csv('path|dir|glob', ...), read_h5('file.h5', '/group'), range(...). Binding
 * learns the columns (read_csv infers them from a sample on rank 0 and broadcasts them; read_h5 reads the file's
 * column list), execution reads only the columns the plan still needs after pruning. Internal to sql/. */
#ifndef TS_SQL_TABLEFN_H
#define TS_SQL_TABLEFN_H

#include "ts_sql_bind.h"
#include "ts_sql_exec.h"

/* Binds a table function call into a plan node (TS_P_CSV, TS_P_H5, TS_P_RANGE). Collective. */
ts_err ts_sql_bind_source(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out);
/* Reads the source of node p into *out (new, owned). Collective. */
ts_err ts_sql_exec_source(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);

/* Arguments of table functions: a named one (or NULL); a check that every named one is in known[] (NULL-ended;
 * "did you mean" hint); the k-th positional one; a string or integer (booleans count) literal, with errors
 * located at the argument. */
const ts_sql_arg *ts_sql_arg_named(const ts_sql_from *f, const char *name);
ts_err ts_sql_arg_check_named(ts_sql_binder *b, const ts_sql_from *f, const char *const *known);
ts_err ts_sql_arg_positional(ts_sql_binder *b, const ts_sql_from *f, int k, const ts_sql_expr **out);
ts_err ts_sql_arg_string(ts_sql_binder *b, const ts_sql_expr *e, const char *what, const char **out);
ts_err ts_sql_arg_int(ts_sql_binder *b, const ts_sql_expr *e, const char *what, int64_t *out);

/* read_parquet (ts_sql_parquet.c): binding, reading, and the optimizer's hooks: the conjuncts of a FILTER right
 * above a read_parquet node become its pruning hints (the FILTER stays: hints only skip row groups and files);
 * EXPLAIN's note. */
ts_err ts_sql_bind_parquet(ts_sql_binder *b, const ts_sql_from *f, ts_sql_plan **out);
ts_err ts_sql_exec_parquet(ts_sql_exec *x, ts_sql_plan *p, ts_table **out);
void ts_sql_parquet_attach_filters(ts_sql_plan *p);
void ts_sql_parquet_explain(ts_sql_plan *p);

#endif
