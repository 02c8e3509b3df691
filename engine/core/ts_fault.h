/* Fault injection, for testing how a job fails (issue 5). Off unless the environment asks for it:
 *
 *   TESSERA_FAULT=RANK:POINT:KIND[:N]
 *     RANK   a rank number, or * for every rank
 *     POINT  a plan stage name (scan+clean, exchange, sort, write, ...: checked when the stage starts) or a named
 *            point inside an operator (h5-write: before each table the HDF5 writer writes; scan-range: before the
 *            scan reads each byte range of an input file, the file already mapped)
 *     KIND   error  the point fails with TS_ERR_DATA through the normal error path
 *            oom    the process's address space is capped just above its current size until the point's stage
 *                   ends, so the stage's own allocations really fail (expected outcome: TS_ERR_NOMEM, not a crash)
 *            crash  raise(SIGSEGV) (the crash handler of ts_crash.h reports it)
 *            kill   raise(SIGKILL): the rank vanishes without a word, as under the OOM killer
 *            hang   sleep forever: only the launcher's time limit ends the job
 *            truncate  the input file being read at the point (scan-range) is cut to half its size, as another
 *                   process truncating it mid-scan would (expected outcome: "changed while being read", exit 3)
 *     N      fire at the N-th time the point is reached (default 1)
 *
 * Parsed once per process by ts_fault_init; every other call is a cheap no-op when no fault is armed. */
#ifndef TS_FAULT_H
#define TS_FAULT_H

#include "ts_ctx.h"

/* Reads TESSERA_FAULT. Collective (every rank learns whether any rank is armed, so the extra error checks the
 * points need are made by all ranks or by none). A malformed value is TS_ERR_USAGE on every rank. */
ts_err ts_fault_init(ts_ctx *ctx);

/* Non-zero when TESSERA_FAULT is set on some rank: callers then make a point's result collective
 * (ts_ctx_check) before their next collective call. The same on every rank after ts_fault_init. */
int ts_fault_armed(void);

/* Reached `point` on this rank: fires the fault if it matches (error: returns TS_ERR_DATA; oom: caps memory and
 * returns TS_OK; crash, kill, hang: do not return). TS_OK otherwise. */
ts_err ts_fault_point(const char *point);

/* ts_fault_point at a point that reads the file `path`: a truncate fault cuts it to half its size and returns TS_OK;
 * any other kind behaves as in ts_fault_point. */
ts_err ts_fault_point_file(const char *point, const char *path);

/* The stage that contained the point ended: lifts an oom cap so the error can be reported and cleaned up. */
void ts_fault_stage_end(void);

#endif
