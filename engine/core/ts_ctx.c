#include "ts_ctx.h"

#include <sys/resource.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- cancellation ---------------------------------------------------------------------------------------------- */

#define CANCEL_TAG 1
#define CANCEL_POLL_SECONDS 0.002

static volatile sig_atomic_t interrupted; /* set by rank 0's signal handler */

static struct cancel_state {
    int active;
    MPI_Comm base;        /* the cancellable context's communicator */
    MPI_Comm comm;        /* private dup: tokens never match the engine's own messages */
    int rank, size;
    int cancelled;        /* this rank knows the current statement is cancelled */
    int sent;             /* rank 0: tokens sent for the current statement */
    MPI_Request recv;     /* ranks > 0: the posted token receive */
    int token;
    MPI_Request *sends;   /* rank 0: one per other rank */
    int tokens[1];
    double next_test;
} cs = {.recv = MPI_REQUEST_NULL};

void ts_interrupt(void) { interrupted = 1; }
int ts_interrupt_pending(void) { return interrupted != 0; }
void ts_interrupt_clear(void) { interrupted = 0; }

static double coarse_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rank 0: turns a pending interrupt into tokens for every other rank (once per statement). */
static void forward_interrupt(void)
{
    if (!interrupted || cs.sent)
        return;
    for (int r = 1; r < cs.size; r++)
        MPI_Isend(cs.tokens, 1, MPI_INT, r, CANCEL_TAG, cs.comm, &cs.sends[r]);
    cs.sent = 1, cs.cancelled = 1;
}

/* Updates cs.cancelled from the interrupt flag (rank 0) or the token receive (others, rate-limited). */
static void poll_cancel(void)
{
    if (cs.cancelled)
        return;
    if (cs.rank == 0) {
        forward_interrupt();
        return;
    }
    const double now = coarse_now();
    if (now < cs.next_test)
        return;
    cs.next_test = now + CANCEL_POLL_SECONDS;
    int flag = 0;
    if (cs.recv != MPI_REQUEST_NULL && MPI_Test(&cs.recv, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag)
        cs.cancelled = 1;
}

static ts_err cancelled_error(void)
{
    TS_FAIL(TS_ERR_CANCELLED, "statement cancelled (Ctrl-C)");
}

ts_err ts_cancel_point(void)
{
    if (!cs.active)
        return TS_OK;
    poll_cancel();
    return cs.cancelled ? cancelled_error() : TS_OK;
}

static ts_err post_receive(void)
{
    if (cs.rank != 0)
        TS_MPI(MPI_Irecv(&cs.token, 1, MPI_INT, 0, CANCEL_TAG, cs.comm, &cs.recv));
    return TS_OK;
}

ts_err ts_ctx_cancel_enable(ts_ctx *ctx)
{
    if (cs.active)
        TS_FAIL(TS_ERR_USAGE, "cancellation is already enabled on another context");
    cs.sends = calloc((size_t)ctx->size, sizeof *cs.sends);
    if (!cs.sends)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int r = 0; r < ctx->size; r++)
        cs.sends[r] = MPI_REQUEST_NULL;
    TS_MPI(MPI_Comm_dup(ctx->comm, &cs.comm));
    cs.base = ctx->comm, cs.rank = ctx->rank, cs.size = ctx->size;
    cs.cancelled = cs.sent = 0, cs.next_test = 0, cs.recv = MPI_REQUEST_NULL;
    TS_TRY(post_receive());
    cs.active = 1;
    return TS_OK;
}

ts_err ts_ctx_cancel_reset(ts_ctx *ctx)
{
    if (!cs.active || ctx->comm != cs.base)
        return TS_OK;
    int sent = cs.sent;
    TS_MPI(MPI_Bcast(&sent, 1, MPI_INT, 0, cs.comm));
    if (cs.rank == 0) {
        TS_MPI(MPI_Waitall(cs.size, cs.sends, MPI_STATUSES_IGNORE));
    } else if (sent) { /* the token is (or will be) there: consume it and post the next receive */
        TS_MPI(MPI_Wait(&cs.recv, MPI_STATUS_IGNORE));
        TS_TRY(post_receive());
    }
    cs.cancelled = cs.sent = 0;
    interrupted = 0;
    return TS_OK;
}

void ts_ctx_cancel_disable(ts_ctx *ctx)
{
    if (!cs.active || ctx->comm != cs.base)
        return;
    ts_ctx_cancel_reset(ctx);
    if (cs.recv != MPI_REQUEST_NULL) {
        MPI_Cancel(&cs.recv);
        MPI_Wait(&cs.recv, MPI_STATUS_IGNORE);
    }
    MPI_Comm_free(&cs.comm);
    free(cs.sends);
    cs.sends = NULL, cs.active = 0;
}

/* The error agreement's reduction. On a cancellable context it is non-blocking and polled, so that rank 0 can
 * forward an interrupt to the others while it waits here for them. */
static int agree(ts_ctx *ctx, int mine[2], int first[2])
{
    if (!cs.active || ctx->comm != cs.base)
        return MPI_Allreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, ctx->comm);
    MPI_Request req;
    int rc = MPI_Iallreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, ctx->comm, &req), done = 0;
    while (rc == MPI_SUCCESS && !done) {
        rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (cs.rank == 0)
            forward_interrupt();
    }
    return rc;
}

ts_err ts_ctx_check(ts_ctx *ctx, ts_err local)
{
    if (local == TS_OK && cs.active && ctx->comm == cs.base)
        local = ts_cancel_point(); /* every agreement is a cancellation point */
    int mine[2] = {local != TS_OK ? ctx->rank : INT_MAX, local}, first[2];
    /* MINLOC on (rank, code) pairs finds the lowest failing rank together with its code. */
    if (agree(ctx, mine, first) != MPI_SUCCESS)
        TS_FAIL(TS_ERR_MPI, "rank %d: MPI_Allreduce failed while checking for errors", ctx->rank);
    if (first[0] == INT_MAX)
        return TS_OK;
    int shared = ts_error_is_shared(), all_shared;
    if (MPI_Allreduce(&shared, &all_shared, 1, MPI_INT, MPI_MIN, ctx->comm) == MPI_SUCCESS && all_shared)
        return first[1]; /* an earlier check already gave every rank the message */
    char msg[1024], tag[24];
    /* a message that went through an earlier check (and was then re-raised with more context) names its rank */
    snprintf(tag, sizeof tag, "rank %d: ", first[0]);
    const int named = ctx->rank == first[0] && ts_error_rank_tag(ts_error_headline()) > 0;
    if (ctx->rank == first[0])
        snprintf(msg, sizeof msg, "%s%s", named ? "" : tag, ts_error_headline());
    if (MPI_Bcast(msg, sizeof msg, MPI_CHAR, first[0], ctx->comm) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "rank %d failed (its message was lost)", first[0]);
    if (ctx->rank == first[0]) {
        /* the failing rank keeps its traceback (shown with --debug) */
        char full[4096];
        snprintf(full, sizeof full, "%s%s", named ? "" : tag, ts_error_message());
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
