/* The ending every MPI test shares: sums the pass/fail counters over ranks, prints "name: N passed, M failed" on
 * rank 0, frees the context, finalizes MPI and returns the exit status (non-zero when any rank failed).
 * Header-only, used after ts_test.h. */
#ifndef TS_MPI_TEST_H
#define TS_MPI_TEST_H

#include <mpi.h>
#include <stdio.h>

#include "ts_ctx.h"

static inline int ts_mpi_test_done(ts_ctx *ctx, const char *name)
{
    long tot[2] = {ts_test_passed, ts_test_failed}, sum[2] = {0, 0};
    MPI_Reduce(tot, sum, 2, MPI_LONG, MPI_SUM, 0, ctx->comm);
    if (ctx->rank == 0)
        printf("%s: %ld passed, %ld failed\n", name, sum[0], sum[1]);
    const int failed = ts_test_failed != 0;
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, ctx->comm);
    ts_ctx_free(ctx);
    MPI_Finalize();
    return any;
}

#endif
