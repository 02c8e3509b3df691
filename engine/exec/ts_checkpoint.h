/* Checkpoints: a job's state after a stage (named distributed tables and global counters) in one HDF5 file,
 * DIR/NN-<stage>.h5 (NN = the stage's 1-based number), so a run that died later can resume from it.
 *
 * Layout (written with io/ts_h5.h's parallel writer, under a temporary name renamed on completion, so a
 * checkpoint file is either complete or absent):
 *   /tables/<key>  each table, rank r's rows as the r-th slab. DICT columns are stored as their int32 codes and
 *                  STRING columns as bytes+offsets, so every value comes back bit for bit.
 *   /meta          (kind, key, value, number) rows describing the rest: the run's fingerprint ("fingerprint"),
 *                  the stage ("stage"), per table its name, partitioning keys, DICT columns with their
 *                  dictionaries and the row count of every rank ("table", "part", "dictcol", "dict", "slab"),
 *                  and the counters ("count").
 * The file's root attribute `inputs` holds the fingerprint text too, for people (h5dump -a /inputs).
 *
 * Resume gives every rank exactly the rows it saved, so it needs the same number of ranks (the fingerprint
 * records it). All calls are collective over ctx unless marked otherwise. */
#ifndef TS_CHECKPOINT_H
#define TS_CHECKPOINT_H

#include <stdint.h>

#include "ts_ctx.h"
#include "ts_table.h"

typedef struct ts_checkpoint ts_checkpoint;

/* "DIR/NN-<stage>.h5" into buf. Local. */
void ts_checkpoint_path(const char *dir, int stage_no, const char *stage, char *buf, size_t cap);

/* ---- writing ---- */

/* Starts DIR/NN-<stage>.h5 (creating DIR if missing). fingerprint: the run's text (ts_fingerprint.h); only rank
 * 0's is used. job names the job for the file's attributes. */
ts_err ts_checkpoint_begin(ts_ctx *ctx, const char *dir, int stage_no, const char *stage, const char *job,
                           const char *fingerprint, ts_checkpoint **out);
/* Saves this rank's part of the distributed table t under key (a name without '/'). t is not modified. */
ts_err ts_checkpoint_put_table(ts_checkpoint *ck, const char *key, const ts_table *t);
/* Saves n counters under key; they must be global values, the same on every rank (rank 0's are stored). */
ts_err ts_checkpoint_put_counts(ts_checkpoint *ck, const char *key, const int64_t *v, int n);
/* Writes the metadata and publishes the file. Frees ck, also on failure (the partial file is removed). */
ts_err ts_checkpoint_commit(ts_checkpoint *ck);
/* Drops an unfinished checkpoint (removes its temporary). Frees ck. */
void ts_checkpoint_abandon(ts_checkpoint *ck);

/* ---- resuming ---- */

/* Looks for the checkpoints DIR/NN-<stage>.h5 of candidate stages stage_no[i], stage[i] (i < n) and picks the
 * one with the highest number whose fingerprint equals this run's (rank 0's fingerprint is used). *found = that
 * index i, or -1 when DIR holds none of them. When some exist but none matches, fails with TS_ERR_USAGE naming
 * the newest one and its first difference (e.g. "ranks: 2 in the checkpoint, 4 now"). */
ts_err ts_checkpoint_find(ts_ctx *ctx, const char *dir, const int *stage_no, const char *const *stage, int n,
                          const char *fingerprint, int *found);
/* Opens a checkpoint file for reading (its metadata is read on every rank). */
ts_err ts_checkpoint_open(ts_ctx *ctx, const char *path, ts_checkpoint **out);
/* The table saved under key: every rank gets exactly the rows it saved, DICT columns with a dictionary of the
 * saved values. known[0..nknown): dictionaries of this run; a saved dictionary with the same values in the same
 * order is replaced by the known one (retained), so codes stay comparable with this run's other tables by
 * pointer too. *out is new (caller frees). */
ts_err ts_checkpoint_get_table(ts_checkpoint *ck, const char *key, ts_dict *const *known, int nknown,
                               ts_table **out);
/* The n counters saved under key (TS_ERR_DATA when their number differs). Local. */
ts_err ts_checkpoint_get_counts(const ts_checkpoint *ck, const char *key, int64_t *v, int n);
/* The fingerprint text the checkpoint was written with (*out malloc'ed; caller frees). Local. */
ts_err ts_checkpoint_fingerprint(const ts_checkpoint *ck, char **out);
void ts_checkpoint_close(ts_checkpoint *ck);

/* Removes the checkpoints DIR/NN-<stage>.h5 of the given stages (a new run starting a new series). Rank 0 does
 * the removal; returns how many it removed on every rank. */
ts_err ts_checkpoint_clear(ts_ctx *ctx, const char *dir, const int *stage_no, const char *const *stage, int n,
                           int *removed);

#endif
