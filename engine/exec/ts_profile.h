/* The profile: per operator (or job stage) counters (ts_prof, engine/core/ts_op.h) reduced over the ranks and
 * printed as one table, like PETSc's -log_view. The jobs' --profile (ts_plan), SQL's --profile and EXPLAIN
 * ANALYZE all go through here, so they show the same numbers the same way. */
#ifndef TS_PROFILE_H
#define TS_PROFILE_H

#include <stdio.h>

#include "ts_op.h"

/* Collective: min, max and sum over the ranks of each of the n local profiles (every counter), on every rank. */
ts_err ts_prof_reduce(ts_ctx *ctx, const ts_prof *local, int n, ts_prof *min, ts_prof *max, ts_prof *sum);

/* Prints (call on one rank) the table of n entries: name, what it ran, then time, rows in, rows out, bytes sent,
 * bytes received and memory, each as min/max over the ranks; then a total line when total >= 0. title and
 * mem_label ("peak RSS" for stages, "memory" for operators) head the table. */
void ts_prof_print(FILE *out, const char *title, int nranks, const char *mem_label, const char *const *names,
                   const char *const *what, const ts_prof *min, const ts_prof *max, int n, double total);

#endif
