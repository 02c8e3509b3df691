/* Distributed hash join (collective): ts_hash_join_local's semantics over tables spread across ranks.
 *
 * Strategy: when the right table's global size is below spec->broadcast_bytes (measured with an allreduce) the
 * right side is replicated to every rank and the left side stays where it is (broadcast join; for right and full
 * joins the ranks OR their matched flags so each unmatched right row is emitted once, by rank 0). Otherwise both
 * sides are hash-partitioned on the keys (shuffle join). Rows with a NULL key never match and stay on their rank.
 * Skew (inner, left, semi and anti joins): keys holding more than a 1/(2P) share of the left rows, found from a
 * sample of every rank's key hashes, are not hash-partitioned: their left rows are dealt round-robin over the
 * ranks and their right rows replicated to all, so no rank receives a heavy hitter alone.
 * Semi and anti joins with spec->build_left build on the left side instead: its keys are broadcast when small
 * (each rank marks the ones its right rows have; the marks are OR-combined), else both sides are shuffled.
 * The output is partitioned arbitrarily (sort it for a defined order); its rows are the same whatever P. */
#ifndef TS_JOIN_DIST_H
#define TS_JOIN_DIST_H

#include "ts_ctx.h"
#include "ts_hashjoin.h"

typedef struct ts_join_stats {
    int broadcast;        /* 1 when the build side was broadcast */
    int64_t right_bytes;  /* global size of the build side (the right one unless spec->build_left) */
    int hot_keys;         /* heavy-hitter keys split across ranks */
} ts_join_stats;

/* *out is new on every rank (caller frees). stats may be NULL. */
ts_err ts_join(ts_ctx *ctx, const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out,
               ts_join_stats *stats);

#endif
