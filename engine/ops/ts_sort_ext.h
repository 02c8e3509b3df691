/* External sort of one rank's rows under a memory budget: rows are buffered until they hold `room` bytes, then the
 * buffer is sorted (ts_sort_local_order, stable) and written as a sorted run to a spill file (ops/ts_spill.h's
 * format: a run is a sequence of batches of one partition). At the end the runs are merged with a loser tree over
 * the runs' current rows, each run read back one batch at a time, into output tables of a bounded number of rows.
 * The last buffer is not written: it stays in memory as one more run. When there are more runs than a merge may
 * hold batches of within `room` (the fan-in), groups of runs are first merged into longer runs (a new spill file
 * per pass; the old one is deleted).
 *
 * Order: exactly ts_sort_local_keys' (same key comparison; ties keep input order: runs hold consecutive input
 * rows and a tie between runs goes to the earlier run). Per rank, not collective, not thread-safe. Spill files are
 * deleted by ts_sort_ext_free (also after an error). No allocation per row: the buffer, the runs' batches and the
 * output grow by whole arrays. */
#ifndef TS_SORT_EXT_H
#define TS_SORT_EXT_H

#include "ts_chunk.h"
#include "ts_sort_local.h"

typedef struct ts_sort_ext ts_sort_ext;

typedef struct ts_sort_ext_opts {
    int64_t room;      /* bytes of buffered rows (ts_table_mem_bytes) past which they are spilled as a run; > 0 */
    const char *dir;   /* spill directory */
    const char *tag;   /* part of the spill files' names */
    const char *seq;   /* NULL, or the name of an INT64 column the sorter appends to the schema: seq_base + the row's
                          input position (a tie-breaking key that makes rows distinct: the distributed sort's) */
    int64_t seq_base;
    int samples;       /* regular samples of each run kept for ts_sort_ext_samples (0: none) */
} ts_sort_ext_opts;

/* A sorter for rows with schema's columns (names, types, dictionaries; plus o->seq if set) ordered by
 * keys[0 .. nkeys) (1..9, resolved by name on the schema, seq included). *out freed by ts_sort_ext_free. */
ts_err ts_sort_ext_new(const ts_table *schema, const ts_sort_key *keys, int nkeys, const ts_sort_ext_opts *o,
                       ts_sort_ext **out);

/* Adds every row of t (the schema's columns in order, without the seq column), or the live rows of chunk c. May
 * sort and spill the buffered rows as a run. Before ts_sort_ext_finish only. */
ts_err ts_sort_ext_add(ts_sort_ext *s, const ts_table *t);
ts_err ts_sort_ext_add_chunk(ts_sort_ext *s, const ts_chunk *c);

/* Runs spilled so far, bytes written to spill files so far (merge passes included), bytes held in memory now. */
int ts_sort_ext_runs(const ts_sort_ext *s);
int64_t ts_sort_ext_spilled(const ts_sort_ext *s);
int64_t ts_sort_ext_mem_bytes(const ts_sort_ext *s);

/* When nothing was spilled: the buffered rows (input order, seq column included), which the caller now owns and
 * sorts in memory; the sorter is left empty. NULL when runs were spilled. */
ts_table *ts_sort_ext_take_rows(ts_sort_ext *s);

/* Ends the input: sorts the last buffer, merges runs in passes while there are more than the fan-in, and opens
 * the final merge. */
ts_err ts_sort_ext_finish(ts_sort_ext *s);

/* The next rows in order, at most max_rows (>= 1), in *out (owned by the sorter, valid until the next call); a
 * table of 0 rows at the end. After ts_sort_ext_finish. */
ts_err ts_sort_ext_next(ts_sort_ext *s, int64_t max_rows, const ts_table **out);

/* The samples kept so far (o->samples per run, the last buffer's after finish): the key columns and
 * "__sort_weight" (FLOAT64: the rows each sample stands for). NULL when none were asked for. */
const ts_table *ts_sort_ext_samples(const ts_sort_ext *s);

/* Deletes the spill files and frees everything. NULL is fine. */
void ts_sort_ext_free(ts_sort_ext *s);

#endif
