/* The MPI runtime context: communicator, rank, size, and the per-stage profile counters.
 *
 * Collective error handling: every rank calls ts_ctx_check() at the same points (the end of each plan stage).
 * If any rank failed, all ranks return the failure, carrying the message of the lowest failing rank, prefixed
 * with "rank R: ". So one rank's error ends the whole job cleanly with that rank's message, and no rank is left
 * waiting in a collective the failed rank will never reach. */
#ifndef TS_CTX_H
#define TS_CTX_H

#include <mpi.h>
#include <stdint.h>

#include "ts_error.h"

typedef struct ts_ctx {
    MPI_Comm comm;
    int rank, size;
    int verbose;             /* rank 0 prints progress */
    int64_t bytes_sent;      /* bytes this rank sent in exchanges (running total) */
    int force_p2p;           /* exchanges use chunked point-to-point even when alltoallv would do */
    /* The memory budget the blocking operators of pipelines honour (set from engine/exec/ts_budget.h by the front
     * end; all 0: no budget, nothing spills). The same on every rank. */
    int64_t mem_limit;       /* --memory-limit: resident bytes this rank may use (for messages) */
    int64_t mem_room;        /* working bytes above the process's baseline: what one partition must fit in */
    int64_t op_room;         /* bytes one blocking operator may hold before it spills (a share of mem_room) */
    const char *spill_dir;   /* where spill files go (NULL: ts_spill_dir's default); not owned */
} ts_ctx;

/* Duplicates comm so Tessera's messages never mix with the caller's. Collective. */
ts_err ts_ctx_init(MPI_Comm comm, ts_ctx *ctx);
void ts_ctx_free(ts_ctx *ctx);

/* Collective: returns TS_OK when local == TS_OK on every rank; otherwise the code and message of the lowest
 * failing rank on every rank. */
ts_err ts_ctx_check(ts_ctx *ctx, ts_err local);

/* ---- Cancellation (interactive sessions; docs/architecture.md "Cancellation") ------------------------------------
 * Rank 0 learns of a cancel from a signal handler (ts_interrupt); the other ranks from a token rank 0 sends them
 * on a private communicator, which they poll (rate-limited) at cancellation points. A rank that knows of the cancel
 * fails its current operator with TS_ERR_CANCELLED; the failure becomes collective at the next ts_ctx_check, as any
 * local error does, so every rank abandons the statement at the same agreement point. While cancellation is
 * enabled, ts_ctx_check waits for its reduction with a non-blocking one, so rank 0 forwards a cancel even while it
 * waits there for slower ranks. One cancellable context per process (Tessera runs one thread per rank). */

/* Collective: enables cancellation on ctx (dups its communicator, posts the token receive). */
ts_err ts_ctx_cancel_enable(ts_ctx *ctx);
/* Collective: a statement boundary. Drains a token in flight, clears every rank's cancel state and rank 0's
 * interrupt flag, so a cancel never leaks into the next statement. */
ts_err ts_ctx_cancel_reset(ts_ctx *ctx);
/* Collective: disables cancellation (after a final reset) and frees its communicator. */
void ts_ctx_cancel_disable(ts_ctx *ctx);
/* Async-signal-safe: records an interrupt (rank 0's SIGINT handler). Acted upon at the next cancellation point. */
void ts_interrupt(void);
/* The interrupt flag (set by ts_interrupt, cleared by ts_ctx_cancel_reset or ts_interrupt_clear). */
int ts_interrupt_pending(void);
void ts_interrupt_clear(void);
/* A cancellation point: TS_ERR_CANCELLED (with a message) once this rank knows the statement is cancelled, else
 * TS_OK. Cheap (a flag test; at most one MPI_Test every 2 ms): call it in long local loops, e.g. once per vector.
 * Local: only where a local error is already agreed on with ts_ctx_check before the next collective. */
ts_err ts_cancel_point(void);

/* Wraps an MPI call's return code into a ts_err with context. */
ts_err ts_mpi_status(int mpi_rc, const char *what, const char *file, int line, const char *func);
#define TS_MPI(call) TS_TRY(ts_mpi_status((call), #call, __FILE__, __LINE__, __func__))

/* Wall time in seconds. */
double ts_now(void);
/* CPU time (user + system) this process used, in seconds. */
double ts_cpu_seconds(void);

#endif
