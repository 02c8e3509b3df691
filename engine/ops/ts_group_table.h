/* Group tables: dense group ids for key tuples arriving a chunk at a time (streaming aggregation, top-n per group).
 * Per rank, single-threaded.
 *
 * Keys of any type and number (up to TS_MAX_COLS). Each row's key tuple is encoded into a fixed-size record:
 * integer-like keys (BOOL, INT32, DATE, DICT codes: 4 bytes; INT64, DECIMAL: 8) as they are, FLOAT64 as the bits
 * of its canonical value (-0 == +0, one NaN), STRING keys as codes of a per-key string dictionary built as strings
 * arrive (exact byte comparison), then one null bit per key (null values are zeroed, so every NULL compares
 * equal: NULL keys form their own group, as SQL's GROUP BY). Records are hashed and looked up in an open-addressing
 * table of 8-byte slots (32-bit hash tag, group id + 1) with linear probing, load <= 1/2, doubled as groups arrive
 * (group hashes are kept, so growing rehashes nothing); a tag match is confirmed by comparing the records. Lookups
 * of a chunk are batched: records, then hashes, then probes with the slots of rows a few ahead prefetched.
 * Group ids follow first appearance. */
#ifndef TS_GROUP_TABLE_H
#define TS_GROUP_TABLE_H

#include "ts_table.h"

typedef struct ts_group_table ts_group_table;

/* A table for keys with the types of keys[0 .. nkeys) (read only for their types; nkeys may be 0: one group). */
ts_err ts_group_table_new(const ts_column *const *keys, int nkeys, ts_group_table **out);
void ts_group_table_free(ts_group_table *g);

/* Group ids of rows rows[0 .. m) of the key columns (m <= TS_CHUNK_ROWS; the columns have the types given at
 * creation; rows NULL: 0 .. m-1): gid[k] for rows[k]. New key tuples open new groups. */
ts_err ts_group_table_find(ts_group_table *g, const ts_column *const *keys, const int32_t *rows, int m, uint32_t *gid);

/* Groups so far. */
int64_t ts_group_table_groups(const ts_group_table *g);
/* Bytes held (records, hashes, slots, string dictionaries). */
int64_t ts_group_table_bytes(const ts_group_table *g);

/* Appends the key values of groups [0, groups) as columns named names[k] (types as given at creation) to t. */
ts_err ts_group_table_keys(const ts_group_table *g, const char *const *names, ts_table *t);

#endif
