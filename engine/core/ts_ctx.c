#include "ts_ctx.h"

#include <sys/resource.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_err ts_ctx_init(MPI_Comm comm, ts_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    TS_MPI(MPI_Comm_dup(comm, &ctx->comm));
    /* Errors come back as codes so we can report them with context instead of aborting inside MPI. */
    TS_MPI(MPI_Comm_set_errhandler(ctx->comm, MPI_ERRORS_RETURN));
    TS_MPI(MPI_Comm_rank(ctx->comm, &ctx->rank));
    TS_MPI(MPI_Comm_size(ctx->comm, &ctx->size));
    const char *ex = getenv("TS_EXCHANGE");
    ctx->force_p2p = ex && strcmp(ex, "p2p") == 0;
    return TS_OK;
}

void ts_ctx_free(ts_ctx *ctx)
{
    if (ctx->comm != MPI_COMM_NULL)
        MPI_Comm_free(&ctx->comm);
    ctx->comm = MPI_COMM_NULL;
}

ts_err ts_ctx_check(ts_ctx *ctx, ts_err local)
{
    int mine[2] = {local != TS_OK ? ctx->rank : INT_MAX, local}, first[2];
    /* MINLOC on (rank, code) pairs finds the lowest failing rank together with its code. */
    if (MPI_Allreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, ctx->comm) != MPI_SUCCESS)
        TS_FAIL(TS_ERR_MPI, "rank %d: MPI_Allreduce failed while checking for errors", ctx->rank);
    if (first[0] == INT_MAX)
        return TS_OK;
    int shared = ts_error_is_shared(), all_shared;
    if (MPI_Allreduce(&shared, &all_shared, 1, MPI_INT, MPI_MIN, ctx->comm) == MPI_SUCCESS && all_shared)
        return first[1]; /* an earlier check already gave every rank the message */
    char msg[1024];
    if (ctx->rank == first[0])
        snprintf(msg, sizeof msg, "rank %d: %s", ctx->rank, ts_error_headline());
    if (MPI_Bcast(msg, sizeof msg, MPI_CHAR, first[0], ctx->comm) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "rank %d failed (its message was lost)", first[0]);
    if (ctx->rank == first[0]) {
        /* the failing rank keeps its traceback (shown with --debug) */
        char full[4096];
        snprintf(full, sizeof full, "rank %d: %s", ctx->rank, ts_error_message());
        ts_error_set_message(full);
    } else {
        ts_error_set_message(msg);
    }
    ts_error_mark_shared();
    return first[1];
}

ts_err ts_mpi_status(int mpi_rc, const char *what, const char *file, int line, const char *func)
{
    if (mpi_rc == MPI_SUCCESS)
        return TS_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(mpi_rc, text, &len);
    return ts_error_raise(TS_ERR_MPI, file, line, func, "%s failed: %s", what, text);
}

double ts_now(void) { return MPI_Wtime(); }

double ts_cpu_seconds(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}
