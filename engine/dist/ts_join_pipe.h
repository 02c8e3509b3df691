/* The build side of a pipelined hash join (collective finish). The sink collects the right side's rows (rows
 * with a NULL key are dropped: they never match in the inner, left, semi and anti joins pipelines run); finish
 * decides, from the right side's global size (an allreduce), to broadcast it (replicated to every rank: the left
 * side is then probed where it is, with no exchange) or to shuffle it by the hash of its keys (the left side must
 * then go through a streaming exchange on its keys before the probe), moves it, and builds the local hash table
 * (ops/ts_join_probe.h). The probe pipeline is built after this decision, with the same information on every
 * rank. */
#ifndef TS_JOIN_PIPE_H
#define TS_JOIN_PIPE_H

#include "ts_hashjoin.h"
#include "ts_join_probe.h"
#include "ts_spill.h"

/* keys: the right side's key columns in `in`. strategy: TS_JOIN_AUTO (broadcast below broadcast_bytes, 0: 64 MiB),
 * TS_JOIN_BROADCAST or TS_JOIN_SHUFFLE. ctx must outlive the operator. */
ts_err ts_join_build_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, ts_join_strategy strategy,
                         int64_t broadcast_bytes, ts_op **out);
/* Before the build pipeline runs: keep the rows with a NULL key (they are in the table's rows, never in its hash
 * table): right and full joins emit them unmatched, an anti join built on its left side keeps them. */
void ts_join_build_keep_null_keys(ts_op *op);
/* Before the build pipeline runs: no probe will read the right columns (semi / anti joins, marks), so the table
 * does not pack them into its records (ts_join_ht_build). */
void ts_join_build_keys_only(ts_op *op);
/* Collective, after the probe side marked matched[] (one byte per row of ts_join_build_rows; see
 * ts_join_probe_mark, ts_join_mark_new): the built rows whose flag is `want` (1: matched, 0: unmatched), each row
 * once over all ranks: a broadcast side's flags are OR-combined across ranks (matched is overwritten with the
 * combination) and each rank takes the rows it collected itself. *out is new (caller frees). */
ts_err ts_join_build_select_marked(ts_op *op, ts_ctx *ctx, uint8_t *matched, int want, ts_table **out);
/* Operator for right and full joins: probes the chunks flowing as `in` against the table of `build` (its pipeline
 * ran, with ts_join_build_keep_null_keys) as an inner (right) or left (full) probe would, marking the right rows it
 * matches; once the probe side is exhausted on every rank it drains the right rows no left row matched, each once
 * over the ranks, with NULL left columns (ts_op.h's draining operator). Output columns as ts_join_probe_new's.
 * build must outlive the operator. */
ts_err ts_join_outer_probe_new(ts_chunk *in, ts_op *build, ts_join_type type, const char *const *left_keys,
                               const char *const *right_cols, const char *const *out_names, int nright, ts_op **out);
/* Before the build pipeline runs: its chunks show a table's rows in place (views), and that table stays unchanged
 * until the sink's finish returned. While the chunks continue one another in the table's arrays, the sink then
 * keeps no copy of them: a shuffle sends them from the table itself (a broadcast side is still copied, since the
 * probe reads it after the table may be gone). Under a memory budget the rows are copied as before (spillable). */
void ts_join_build_input_in_place(ts_op *op);
/* After the build pipeline ran: 1 when the right side was broadcast; its global size in bytes. */
int ts_join_build_broadcast(const ts_op *op);
int64_t ts_join_build_global_bytes(const ts_op *op);
/* After the build pipeline ran under a memory budget (ctx->op_room > 0): when some rank's right side outgrew its
 * share, every rank's right rows are in spill partitions by key hash, already on the rank their keys hash to (no
 * table is built; the join runs in partition pairs: dist/ts_join_grace.h). Returns them (the caller owns them),
 * or NULL when everything fit. */
ts_spill *ts_join_build_take_spill(ts_op *op);
/* The built table and the right rows it indexes (owned by the operator). */
const ts_join_ht *ts_join_build_table(const ts_op *op);
const ts_table *ts_join_build_rows(const ts_op *op);

#endif
