/* Hash partitioning: the one function that decides which rank a key tuple belongs to. Every operator that routes
 * rows by key calls it: distributed aggregation, shuffle joins (both sides), DISTINCT, windows, table rules, the
 * streaming exchange and the jobs. So a table hash-partitioned by any of them (recorded in ts_table.part_keys) is
 * partitioned the way every other one needs: an operator whose input is already partitioned on a subset of its
 * keys (ts_partitioned_on) skips its exchange.
 *
 * The hash is ts_key_hash's (ops/ts_keyhash.h): INT32 and INT64 keys of equal value hash alike, DICT values like
 * the STRING of their text, FLOAT64 -0 like 0 and all NaNs alike, NULLs alike. The rank is taken from the hash's
 * high 32 bits by multiply-shift (no division, and independent of the low bits that ranks' local hash tables index
 * by: a rank's keys still fill its whole table). Identical on every rank, every run. */
#ifndef TS_PARTITION_H
#define TS_PARTITION_H

#include "ts_table.h"

/* The rank of a key hash among nranks. */
static inline int32_t ts_partition_rank(uint64_t h, int nranks)
{
    return (int32_t)(((h >> 32) * (uint64_t)nranks) >> 32);
}

/* dest[i] = rank of row i's key tuple (keys[0 .. nkeys) of t) among nranks; nkeys == 0: rank 0. Per rank. */
ts_err ts_partition_dest(const ts_table *t, const char *const *keys, int nkeys, int nranks, int32_t *dest);

/* part[i] = spill partition of row i's key tuple among nparts (a memory budget's partitions, engine/ops/ts_spill.h):
 * the same hash, but taken from bits 16-47, so it is independent of the rank (the high bits) and rows of one
 * partition still spread over a rank's local hash table (the low bits). Per rank. */
ts_err ts_partition_spill(const ts_table *t, const char *const *keys, int nkeys, int nparts, int32_t *part);

/* 1 when t records a hash partitioning on a non-empty subset of keys[0 .. nkeys): rows with equal key tuples are
 * already on one rank. */
int ts_partitioned_on(const ts_table *t, const char *const *keys, int nkeys);

#endif
