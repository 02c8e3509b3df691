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
} ts_ctx;

/* Duplicates comm so Tessera's messages never mix with the caller's. Collective. */
ts_err ts_ctx_init(MPI_Comm comm, ts_ctx *ctx);
void ts_ctx_free(ts_ctx *ctx);

/* Collective: returns TS_OK when local == TS_OK on every rank; otherwise the code and message of the lowest
 * failing rank on every rank. */
ts_err ts_ctx_check(ts_ctx *ctx, ts_err local);

/* Wraps an MPI call's return code into a ts_err with context. */
ts_err ts_mpi_status(int mpi_rc, const char *what, const char *file, int line, const char *func);
#define TS_MPI(call) TS_TRY(ts_mpi_status((call), #call, __FILE__, __LINE__, __func__))

/* Wall time in seconds. */
double ts_now(void);
/* CPU time (user + system) this process used, in seconds. */
double ts_cpu_seconds(void);

#endif
