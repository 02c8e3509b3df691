/* The streaming operators of pipelines (engine/core/ts_op.h, engine/exec/ts_pipeline.h) that need no other rank:
 * a table source, filter, projection, a local LIMIT and the materialising sink. Per rank.
 *
 * Constructors take the chunk that will flow into the operator (`in`: the upstream operator's or source's output
 * chunk) and bind their expressions to its schema once. Every returned operator is freed with ts_op_free. */
#ifndef TS_PIPE_OPS_H
#define TS_PIPE_OPS_H

#include "ts_expr.h"
#include "ts_op.h"

/* Source: the rows of t in chunks of TS_CHUNK_ROWS, as views (no copy). Output column i is t's column cols[i]
 * named names[i] (cols NULL: every column in order; names NULL: t's names). t's recorded partitioning is kept
 * under the new names when every partitioning column is output. t must outlive the operator and not change. */
ts_err ts_table_source_new(const ts_table *t, const int *cols, const char *const *names, int n, ts_op **out);

/* Operator: narrows the selection to the rows where every one of conds[0 .. n) (BOOL) is true, applied in that
 * order (a row a conjunct rejects is not evaluated by the later ones, as a lazy AND); passes its input chunk on
 * (no copy). conds are read during the call only. */
ts_err ts_filter_new(ts_chunk *in, const ts_expr *const *conds, int n, const char *label, ts_op **out);

/* Operator: output column i is exprs[i] named names[i]: a bare column reference is passed on as a view, anything
 * else is evaluated per chunk into a vector (rows outside the selection raise no errors). The selection is kept.
 * exprs are read during the call only. */
ts_err ts_project_new(ts_chunk *in, const ts_expr *const *exprs, const char *const *names, int n, const char *label,
                      ts_op **out);

/* Operator: passes on the first `keep` live rows this rank sees, then is done (the source stops). */
ts_err ts_limit_local_new(int64_t keep, const char *label, ts_op **out);

/* Sink: appends every live row to a table with the input's schema (and recorded partitioning). */
ts_err ts_materialize_new(ts_chunk *in, const char *name, ts_op **out);
/* Under a memory budget: once the rows held reach `bytes`, they move to a cold table's files in dir (ts_cold.h),
 * and so on every `bytes`; the table taken is then cold. dir must outlive the operator. */
void ts_materialize_set_cold(ts_op *op, const char *dir, int64_t bytes);
/* The materialised table (the caller owns it; the operator forgets it). */
ts_table *ts_materialize_take(ts_op *op);

#endif
