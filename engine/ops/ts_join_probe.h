/* Hash join building blocks on one rank: the built right side (ts_join_ht) and the probe operator of pipelines,
 * which joins each chunk of the left side as it flows by (engine/core/ts_op.h). Keys match as in
 * ts_hash_join_local (ops/ts_hashjoin.h, which has its own table): NULL never matches (no null_equal keys).
 *
 * The table: the right rows with no NULL key as records grouped by bucket (the low bits of the 64-bit key hash,
 * ops/ts_keyhash.h; as many buckets as rows, rounded up to a power of two) with one counting sort: bucket b's
 * records, in right row order, lie contiguously between offsets b and b + 1. A record holds the key's hash (or,
 * for one integer key, its value), the right row, and, when built with `pack`, the right row's fixed-width
 * columns without NULLs. A probe reads two offsets and a short run of records, compares the key (hash, then
 * ts_key_equal; one integer key: its value, without reading the right table), and reads a match's packed values
 * from the record it just compared: one cache miss per match instead of one per right column at a random row.
 * Matches are exact and come in right row order. */
#ifndef TS_JOIN_PROBE_H
#define TS_JOIN_PROBE_H

#include "ts_hashjoin.h"
#include "ts_keyhash.h"
#include "ts_op.h"

typedef struct ts_join_ht ts_join_ht;

/* Builds the table over right's key columns keys[0 .. nkeys). right must outlive the table and not change. pack:
 * copy right's fixed-width columns without NULLs (up to 112 bytes a row) into the records, for probes that output
 * them (not for semi / anti joins or marks, or when memory is tight). */
ts_err ts_join_ht_build(const ts_table *right, const char *const *keys, int nkeys, int pack, ts_join_ht **out);
/* 1 when right column col (its index in right) is packed in the records. */
int ts_join_ht_packed(const ts_join_ht *ht, int col);
void ts_join_ht_free(ts_join_ht *ht);
/* Bytes the table holds. */
int64_t ts_join_ht_bytes(const ts_join_ht *ht);

/* Matches of probe rows: for each of rows[0 .. m) (indexes into the probe key columns, which must be comparable
 * to the table's: ts_key_cols_compatible), calls back with its matching right rows.
 * emit(arg, k, right_row) is called for each match of rows[k], in right row order; returning nonzero stops that
 * row's matches (semi / anti joins need only the first). */
typedef int (*ts_join_match_fn)(void *arg, int64_t k, int64_t right_row);
void ts_join_ht_probe(const ts_join_ht *ht, const ts_key_cols *probe, const int32_t *rows, int64_t m,
                      const uint64_t *hash, ts_join_match_fn emit, void *arg);

/* Operator: joins every chunk flowing as `in` (the left side) with the table's right rows. Types: inner, left
 * (unmatched left rows with NULL right columns), semi and anti (the chunk passes on with its selection narrowed:
 * no copy). Output columns: the left chunk's columns, then right's columns right_cols[0 .. nright) named
 * out_names[k] (semi / anti: none). Rows: left rows in order, each followed by its matches in right order; a
 * chunk whose matches overflow one output chunk is continued in the next call (*more). ht and right must outlive
 * the operator. The output records the left chunk's partitioning (left rows do not move in a probe). */
ts_err ts_join_probe_new(ts_chunk *in, const ts_join_ht *ht, const ts_table *right, ts_join_type type,
                         const char *const *left_keys, const char *const *right_cols, const char *const *out_names,
                         int nright, ts_op **out);

/* Right and full joins: from now on the probe operator (made by ts_join_probe_new, inner or left) sets
 * matched[right row] = 1 for every match it emits, so the right rows no left row matched can be emitted after
 * the probe (ts_join_build_unmatched). matched: one byte per right row, zeroed, owned by the caller. */
void ts_join_probe_mark(ts_op *probe, uint8_t *matched);

/* Sink: marks matched[right row] = 1 for every right row some row of the chunks flowing as `in` (probe key
 * columns keys[0 .. nkeys of ht)) matches; emits nothing. A semi or anti join built on its smaller left side: the
 * left rows are the table, the right side streams through this sink, and the (un)marked rows are the answer. */
ts_err ts_join_mark_new(ts_chunk *in, const ts_join_ht *ht, const char *const *keys, uint8_t *matched, ts_op **out);

#endif
