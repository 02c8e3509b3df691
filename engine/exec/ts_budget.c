#include "ts_budget.h"

#include <stdio.h>

#include "ts_mem.h"

/* Below this much working memory a rank cannot run even one scan piece with its buffers. */
#define MIN_WORKING ((int64_t)8 << 20)

static ts_err count_node_ranks(ts_ctx *ctx, int *n)
{
    MPI_Comm node;
    TS_MPI(MPI_Comm_split_type(ctx->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    const int rc = MPI_Comm_size(node, n);
    MPI_Comm_free(&node);
    return ts_mpi_status(rc, "MPI_Comm_size", __FILE__, __LINE__, __func__);
}

ts_err ts_budget_init(ts_ctx *ctx, int64_t requested, ts_budget *b)
{
    b->baseline = ts_rss_bytes();
    b->node_memory = ts_physical_memory_bytes();
    b->explicit_limit = requested > 0;
    TS_TRY(count_node_ranks(ctx, &b->node_ranks));
    b->limit = requested > 0 ? requested : b->node_memory / 4 * 3 / (b->node_ranks > 0 ? b->node_ranks : 1);
    ts_err err = TS_OK;
    if (b->limit < b->baseline + MIN_WORKING) {
        char l[32], u[32], m[32];
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                             "--memory-limit %s is too small: the process already uses %s, and needs at least %s "
                             "more to work", ts_format_bytes((double)b->limit, l, sizeof l),
                             ts_format_bytes((double)b->baseline, u, sizeof u),
                             ts_format_bytes((double)MIN_WORKING, m, sizeof m));
    }
    TS_TRY(ts_ctx_check(ctx, err));
    ts_mem_set_pool_limit((size_t)(b->limit / 16));
    return TS_OK;
}

ts_err ts_budget_parts(ts_ctx *ctx, const ts_budget *b, int64_t need, int64_t fixed, int *parts)
{
    int64_t room = b->limit - b->baseline - fixed;
    if (room < MIN_WORKING)
        room = MIN_WORKING;
    int mine = (int)((need + room - 1) / room);
    if (mine < 1)
        mine = 1;
    TS_MPI(MPI_Allreduce(&mine, parts, 1, MPI_INT, MPI_MAX, ctx->comm));
    return TS_OK;
}
