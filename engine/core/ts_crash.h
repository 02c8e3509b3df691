/* Crash reports: a rank that dies of a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) first writes one
 * line to stderr, "tessera: rank R: crashed with signal SIGSEGV in stage S", then dies of that same signal, so
 * the launcher (mpirun, srun) still sees the death and ends the other ranks. The handler only uses
 * async-signal-safe calls (write, sigaction, raise) on buffers prepared beforehand. A handler that was installed
 * before (Open MPI's backtrace printer, the sanitizers' reports) runs after the line. */
#ifndef TS_CRASH_H
#define TS_CRASH_H

/* Installs the handlers for this process, which is rank `rank`. Call after MPI_Init (which installs Open MPI's). */
void ts_crash_install(int rank);

/* Records the stage now running, for the crash line (the plan executor calls it at each stage start). */
void ts_crash_set_stage(const char *stage);

#endif
