#include "ts_profile.h"

#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"

enum { NV = 8 };

static void to_vec(const ts_prof *p, double *v)
{
    v[0] = p->seconds, v[1] = (double)p->rows_in, v[2] = (double)p->rows_out, v[3] = (double)p->bytes_sent;
    v[4] = (double)p->bytes_recv, v[5] = (double)p->mem_peak, v[6] = (double)p->mem_now;
    v[7] = (double)p->spill_bytes;
}

static void from_vec(const double *v, ts_prof *p)
{
    p->seconds = v[0], p->rows_in = (int64_t)v[1], p->rows_out = (int64_t)v[2], p->bytes_sent = (int64_t)v[3];
    p->bytes_recv = (int64_t)v[4], p->mem_peak = (int64_t)v[5], p->mem_now = (int64_t)v[6];
    p->spill_bytes = (int64_t)v[7];
}

ts_err ts_prof_reduce(ts_ctx *ctx, const ts_prof *local, int n, ts_prof *min, ts_prof *max, ts_prof *sum)
{
    double *v = malloc(sizeof *v * NV * 4 * (size_t)(n + 1));
    if (!v)
        TS_FAIL(TS_ERR_NOMEM, "out of memory reducing a profile");
    double *mn = v + NV * n, *mx = mn + NV * n, *sm = mx + NV * n;
    for (int i = 0; i < n; i++)
        to_vec(&local[i], v + NV * i);
    ts_err err = ts_mpi_status(MPI_Allreduce(v, mn, NV * n, MPI_DOUBLE, MPI_MIN, ctx->comm), "MPI_Allreduce",
                               __FILE__, __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(v, mx, NV * n, MPI_DOUBLE, MPI_MAX, ctx->comm), "MPI_Allreduce", __FILE__,
                            __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(v, sm, NV * n, MPI_DOUBLE, MPI_SUM, ctx->comm), "MPI_Allreduce", __FILE__,
                            __LINE__, __func__);
    for (int i = 0; !err && i < n; i++) {
        if (min)
            from_vec(mn + NV * i, &min[i]);
        if (max)
            from_vec(mx + NV * i, &max[i]);
        if (sum)
            from_vec(sm + NV * i, &sum[i]);
    }
    free(v);
    return err;
}

static const char *rows(double v, char *buf, size_t cap)
{
    if (v >= 1e10)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else
        snprintf(buf, cap, "%.0f", v);
    return buf;
}

void ts_prof_print(FILE *out, const char *title, int nranks, const char *mem_label, const char *const *names,
                   const char *const *what, const ts_prof *min, const ts_prof *max, int n, double total)
{
    fprintf(out, "\n------------------------------ Tessera profile: %s on %d rank%s (min/max over ranks) "
                 "------------------------------\n", title, nranks, nranks == 1 ? "" : "s");
    int spilled = 0; /* the spill column shows only when something spilled: other profiles keep their layout */
    for (int i = 0; i < n; i++)
        spilled |= max[i].spill_bytes > 0;
    fprintf(out, "%-16s %-40s %17s %23s %23s %21s %21s %21s%s\n", "stage", "operators", "time s", "rows in",
            "rows out", "sent", "received", mem_label, spilled ? "               spilled" : "");
    for (int i = 0; i < n; i++) {
        char b[10][24];
        fprintf(out, "%-16.16s %-40.40s %8.3f/%-8.3f %11s/%-11s %11s/%-11s %10s/%-10s %10s/%-10s %10s/%-10s%s",
                names[i], what ? what[i] : "", min[i].seconds, max[i].seconds, rows((double)min[i].rows_in, b[0], 24),
                rows((double)max[i].rows_in, b[1], 24), rows((double)min[i].rows_out, b[2], 24),
                rows((double)max[i].rows_out, b[3], 24), ts_format_bytes((double)min[i].bytes_sent, b[4], 24),
                ts_format_bytes((double)max[i].bytes_sent, b[5], 24), ts_format_bytes((double)min[i].bytes_recv,
                b[6], 24), ts_format_bytes((double)max[i].bytes_recv, b[7], 24),
                ts_format_bytes((double)min[i].mem_peak, b[8], 24), ts_format_bytes((double)max[i].mem_peak, b[9], 24),
                spilled ? "" : "\n");
        if (spilled)
            fprintf(out, " %10s/%-10s\n", ts_format_bytes((double)min[i].spill_bytes, b[0], 24),
                    ts_format_bytes((double)max[i].spill_bytes, b[1], 24));
    }
    if (total >= 0)
        fprintf(out, "%-16s %-40s %8.3f\n", "total", "", total);
}
