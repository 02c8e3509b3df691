/* Spilling rows by key hash (grace hash partitioning): the bridge between a memory budget's spill files
 * (ops/ts_spill.h) and the hash partitioning of dist/ts_partition.h. Rows with equal key tuples, from any table
 * whose key columns hash alike (INT32 with INT64, DICT with STRING: ts_partition.h), land in the same partition
 * number, so an aggregation finds all of a group's states, and a join both sides of a key, in one partition pair.
 * Per rank, not collective. */
#ifndef TS_SPILL_KEYS_H
#define TS_SPILL_KEYS_H

#include "ts_ctx.h"
#include "ts_spill.h"

/* Appends t's rows (rows[0 .. n) of it, NULL: all) to the partitions of s by the hash of keys[0 .. nkeys): one batch per
 * partition that gets rows. t has the spill's schema. */
/* Partitions of a memory budget's spills by key hash: each holds 1/TS_SPILL_PARTS of the rows (rounds then merge
 * small neighbours: ts_spill_rounds). */
#define TS_SPILL_PARTS 32

ts_err ts_spill_by_keys(ts_spill *s, int nparts, const ts_table *t, const char *const *keys, int nkeys);

/* Collective (ctx NULL: this rank's sizes alone, local): groups the partitions [0, nparts) into rounds of consecutive partitions, the same on every rank, each
 * holding at most `room` bytes on every rank (estimated from rows written; a partition alone may hold more): round r
 * is partitions [round[r], round[r + 1]). round has room for nparts + 1 entries. Merging small partitions saves the
 * per-round work (collectives, preparing the operator). */
ts_err ts_spill_rounds(ts_ctx *ctx, const ts_spill *s, int nparts, int64_t room, int *round, int *nrounds);

/* Reads partitions [first, end) of s into one table *out (new; caller frees), deleting their files. */
ts_err ts_spill_read_range(ts_spill *s, int first, int end, const char *name, ts_table **out);

#endif
