/* COPY ... TO: options and the write (ts_sql_copy.c). Internal to sql/. */
#ifndef TS_SQL_COPY_H
#define TS_SQL_COPY_H

#include "ts_ctx.h"
#include "ts_dataset_write.h"
#include "ts_sql_ast.h"
#include "ts_table.h"

/* The statement's options as writer options (partition: room for 8 names, which w points to). Errors point at the
 * option. */
ts_err ts_sql_copy_options(const ts_sql_script *src, const ts_sql_copy *c, ts_write_opts *w,
                           const char **partition, int *format_given);
/* Writes t (the query's result, columns under their output names) as the statement says. Collective. */
ts_err ts_sql_copy_write(ts_ctx *ctx, const ts_sql_script *src, const ts_sql_copy *c, const ts_table *t, int quiet);

#endif
