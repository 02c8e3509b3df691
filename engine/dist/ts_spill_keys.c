#include "ts_spill_keys.h"

#include <stdlib.h>
#include <string.h>

#include "ts_mem.h"
#include "ts_partition.h"

ts_err ts_spill_by_keys(ts_spill *s, int nparts, const ts_table *t, const char *const *keys, int nkeys)
{
    const int64_t n = ts_table_rows(t);
    if (n == 0)
        return TS_OK;
    int32_t *part = ts_big(sizeof *part * (size_t)n);
    int64_t *idx = ts_big(sizeof *idx * (size_t)n), *start = calloc((size_t)nparts + 1, sizeof *start);
    ts_err err = part && idx && start ? ts_partition_spill(t, keys, nkeys, nparts, part)
                                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                       "out of memory partitioning %lld rows to spill", (long long)n);
    if (!err) { /* a counting sort of the row numbers by partition: each partition's rows stay in order */
        for (int64_t i = 0; i < n; i++)
            start[part[i] + 1]++;
        for (int p = 0; p < nparts; p++)
            start[p + 1] += start[p];
        for (int64_t i = 0; i < n; i++)
            idx[start[part[i]]++] = i;
        for (int p = nparts; p > 0; p--) /* back to each partition's first position */
            start[p] = start[p - 1];
        start[0] = 0;
        for (int p = 0; !err && p < nparts; p++)
            err = ts_spill_append(s, p, 0, t, idx + start[p], start[p + 1] - start[p]);
    }
    ts_free(part), ts_free(idx), free(start);
    return err;
}

ts_err ts_spill_rounds(ts_ctx *ctx, const ts_spill *s, int nparts, int64_t room, int *round, int *nrounds)
{
    int64_t *bytes = calloc(2 * (size_t)nparts, sizeof *bytes), rows = 0;
    if (!bytes)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    for (int p = 0; p < nparts; p++)
        rows += ts_spill_rows(s, p);
    const double per_row = rows ? (double)ts_spill_bytes_written(s) / (double)rows : 0;
    for (int p = 0; p < nparts; p++)
        bytes[p] = (int64_t)(per_row * (double)ts_spill_rows(s, p));
    const int rc = ctx ? MPI_Allreduce(bytes, bytes + nparts, nparts, MPI_INT64_T, MPI_MAX, ctx->comm)
                       : (memcpy(bytes + nparts, bytes, sizeof *bytes * (size_t)nparts), MPI_SUCCESS);
    int n = 0;
    round[0] = 0;
    for (int p = 0; rc == MPI_SUCCESS && p < nparts;) {
        int64_t sum = bytes[nparts + p++];
        while (p < nparts && sum + bytes[nparts + p] <= room)
            sum += bytes[nparts + p++];
        round[++n] = p;
    }
    free(bytes);
    *nrounds = n;
    return ts_mpi_status(rc, "MPI_Allreduce", __FILE__, __LINE__, __func__);
}

ts_err ts_spill_read_range(ts_spill *s, int first, int end, const char *name, ts_table **out)
{
    TS_TRY(ts_spill_read(s, first, name, NULL, NULL, out));
    for (int p = first + 1; p < end; p++) {
        ts_table *t = NULL;
        ts_err err = ts_spill_read(s, p, name, NULL, NULL, &t);
        if (!err)
            err = ts_table_append_rows(*out, t, NULL, ts_table_rows(t));
        ts_table_free(t);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            return err;
        }
    }
    return TS_OK;
}
