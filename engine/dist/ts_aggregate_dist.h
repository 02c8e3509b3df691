/* Distributed aggregation (collective over ctx->comm): every group ends on exactly one rank, the rank
 * hash(keys) mod P, so the union of the ranks' outputs is the aggregation of the whole distributed table.
 * The output's row order is not defined: sort it (ts_sort_local / ts_sort_distributed) when order matters.
 *
 * Two plans (docs/architecture.md, "Aggregation"):
 * - All aggregates decomposable (ts_agg_decomposable): two-phase. Each rank reduces its rows to one partial
 *   state per local group (ts_aggregate_partial), the partial states move by key hash (ts_exchange_rows), and
 *   the receiving rank merges and finalizes them (ts_aggregate_merge). Bytes moved: one row per (rank, group).
 * - Otherwise (quantiles, count distinct need every value): the key, input, where and order columns move by key
 *   hash and each rank aggregates its groups with ts_hash_aggregate.
 * Row order for FIRST/LAST is the global order (rank 0's rows, then rank 1's, ...), so the result does not
 * depend on P when the global table does not. Integer-like inputs give results identical for every P; FLOAT64
 * sums and means agree within about one rounding, variances within a few (tests use a 1e-12 relative bound). */
#ifndef TS_AGGREGATE_DIST_H
#define TS_AGGREGATE_DIST_H

#include "ts_aggregate.h"
#include "ts_ctx.h"

/* *out (new on every rank; caller frees) holds this rank's groups: key columns, then one column per aggregate,
 * as ts_hash_aggregate; it records its partitioning (on the keys, or on the input's when it was local). Errors are collective (every rank returns the lowest failing rank's error). */
ts_err ts_aggregate_distributed(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys,
                                const ts_agg *aggs, int naggs, const char *name, ts_table **out);

/* 1 when in is already hash-partitioned (in->part_keys) on a subset of the group keys: every group is on one rank
 * and ts_aggregate_distributed aggregates locally, without an exchange. */
int ts_aggregate_is_local(const ts_table *in, const char *const *keys, int nkeys);

/* dest[i] = rank of row i's group: ts_partition_dest (engine/dist/ts_partition.h), the partitioning every
 * router uses. Per rank. */
ts_err ts_aggregate_dest(const ts_table *t, const char *const *keys, int nkeys, int nranks, int32_t *dest);

/* 1 in *out when a sample of every rank's rows (64k evenly spaced rows each) estimates more groups than half the
 * rows: partial states would be as many as the rows, so rows should move once instead. *groups_per_row (may be
 * NULL) gets the estimated groups per row of a rank (the ranks' mean). Collective. */
ts_err ts_aggregate_mostly_distinct(ts_ctx *ctx, const ts_table *in, const char *const *keys, int nkeys, int *out,
                                    double *groups_per_row);

#endif
