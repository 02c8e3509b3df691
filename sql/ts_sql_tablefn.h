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

#endif
