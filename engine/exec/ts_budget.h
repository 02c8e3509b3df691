/* The memory budget of a rank (--memory-limit): how many bytes it may hold resident, and how many partitions a
 * job's working set must be cut into to stay within it. Operators then work one partition at a time and spill
 * the others to local disk (engine/ops/ts_spill.h, engine/dist/ts_clean.h's partitioned mode).
 *
 * Default limit: 3/4 of the node's physical memory divided among the ranks on the node (counted with
 * MPI_Comm_split_type), so ranks sharing a node never oversubscribe it together. */
#ifndef TS_BUDGET_H
#define TS_BUDGET_H

#include "ts_ctx.h"

typedef struct ts_budget {
    int64_t limit;       /* bytes of resident memory this rank may use */
    int64_t baseline;    /* resident bytes at ts_budget_init: libraries, MPI buffers */
    int node_ranks;      /* ranks on this rank's node */
    int64_t node_memory; /* physical memory of the node */
    int explicit_limit;  /* given by the user, not the default */
} ts_budget;

/* Collective. requested: bytes (0: the default). Also caps ts_mem's pool of freed mappings at limit / 16.
 * TS_ERR_USAGE when the limit is below what the process already uses plus a working minimum. */
ts_err ts_budget_init(ts_ctx *ctx, int64_t requested, ts_budget *b);

/* Collective: the number of partitions (the same on every rank: the maximum over ranks) so that `need` bytes of
 * working memory on this rank fit in the budget after the baseline and `fixed` bytes held throughout (one scan
 * piece, results). 1 when everything fits. */
ts_err ts_budget_parts(ts_ctx *ctx, const ts_budget *b, int64_t need, int64_t fixed, int *parts);

#endif
