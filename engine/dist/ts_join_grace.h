/* The grace hash join of pipelines, used when a join's build side outgrew its share of the memory budget
 * (dist/ts_join_pipe.h spilled it by key hash). Per rank: the rows are already on the rank their keys hash to.
 *   sink    the probe side's rows (after its shuffle) go to spill partitions by the same key hash, numbered like
 *           the build side's, so a key's left and right rows meet in one partition pair;
 *   source  joins the partition pairs a round at a time (consecutive partitions whose right rows fit the
 *           operator's share): reads the round's right rows and builds their table (ops/ts_join_probe.h), then
 *           streams the round's left rows through a probe, so the output flows on in chunks as the in-memory
 *           join's does. Every join type of the probe keeps its meaning: a left row's matches all lie in its own
 *           partition; a left row with a NULL key lands in some partition and matches nothing there (left: NULL
 *           right columns, anti: kept).
 * Output order differs from the in-memory join's (partition by partition). Limits: a round's left rows are read
 * whole (not a batch at a time); a round whose right rows alone exceed the working memory fails with
 * TS_ERR_NOMEM naming the limit. */
#ifndef TS_JOIN_GRACE_H
#define TS_JOIN_GRACE_H

#include "ts_join_probe.h"
#include "ts_spill.h"

/* A sink spilling the chunks flowing as `in` by the hash of keys[0 .. nkeys). ctx must outlive it. */
ts_err ts_join_spill_sink_new(ts_ctx *ctx, ts_chunk *in, const char *const *keys, int nkeys, ts_op **out);
/* The sink's partitions, after its pipeline ran (the caller owns them). */
ts_spill *ts_join_spill_sink_take(ts_op *op);

/* The source joining left (the probe side's partitions) with right (the build side's, from
 * ts_join_build_take_spill); both owned by the source from now on. type, keys and right columns as
 * ts_join_probe_new's. Loads the first round now. */
ts_err ts_join_grace_source_new(ts_ctx *ctx, ts_spill *left, ts_spill *right, ts_join_type type,
                                const char *const *left_keys, const char *const *right_keys, int nkeys,
                                const char *const *right_cols, const char *const *out_names, int nright, ts_op **out);

#endif
