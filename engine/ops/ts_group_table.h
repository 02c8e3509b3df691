/* Group tables: dense group ids for key tuples arriving a chunk at a time (streaming aggregation, top-n per group).
 * Per rank, single-threaded.
 *
 * Keys of any type and number (up to TS_MAX_COLS). Each row's key tuple is encoded into a fixed-size record:
 * integer-like keys (BOOL: 1 byte; INT32, DATE, DICT codes: 4; INT64, DECIMAL: 8) as they are, FLOAT64 as the bits
 * of its canonical value (-0 == +0, one NaN), STRING keys as codes of a per-key string dictionary built as strings
 * arrive (exact byte comparison), then one null bit per key (null values are zeroed, so every NULL compares
 * equal: NULL keys form their own group, as SQL's GROUP BY). Three ways to find a record's group:
 *   - perfect: every key a DICT code, BOOL or integer (INT32, INT64, DATE, DECIMAL) and the combined domain
 *     (values + NULL) at most 2^22: a direct array indexed by the values (what DuckDB does for small domains), no
 *     hashing at all. Integer ranges are learned from the first chunk and widened (with slack) when a value falls
 *     outside; a domain that outgrows 2^22 turns the table into a hashed one, keeping the group ids;
 *   - inline: records whose values fill one 8-byte word (one INT64 key, two INT32 keys, ...): open addressing
 *     over 16-byte slots holding the key itself and the group, so a probe touches one cache line;
 *   - records: slots of (32-bit hash tag, group + 1) confirmed by comparing the group's record.
 * Rows with a NULL key go to a table of their own (compared with their null bits), so the common case compares
 * values only. Linear probing, load <= 1/2, doubled as groups arrive (group hashes are kept: growing hashes
 * nothing again). Lookups of a chunk are batched: records, then hashes, then probes, prefetching the slots of rows
 * a few ahead. Group ids follow first appearance. */
#ifndef TS_GROUP_TABLE_H
#define TS_GROUP_TABLE_H

#include "ts_table.h"

typedef struct ts_group_table ts_group_table;

/* A table for keys with the types of keys[0 .. nkeys) (read only for their types and dictionaries; nkeys may be
 * 0: one group), sized for `expected` groups (a hint: it grows past it). */
ts_err ts_group_table_new(const ts_column *const *keys, int nkeys, int64_t expected, ts_group_table **out);
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
