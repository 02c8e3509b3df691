#include "ts_table_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_hll.h"

static double ordered_value(const ts_column *c, int64_t i, double scale)
{
    switch (c->type) {
    case TS_T_BOOL: return TS_COL(c, uint8_t)[i];
    case TS_T_INT32: case TS_T_DATE: return TS_COL(c, int32_t)[i];
    case TS_T_INT64: return (double)TS_COL(c, int64_t)[i];
    case TS_T_DECIMAL: return (double)TS_COL(c, int64_t)[i] / scale;
    default: return TS_COL(c, double)[i];
    }
}

/* This rank's sketch, NULL count, range and payload bytes of column c. */
static void local_stats(const ts_column *c, ts_hll *h, int64_t *nulls, double *mn, double *mx, int64_t *bytes)
{
    const int ordered = c->type != TS_T_STRING && c->type != TS_T_DICT;
    const double scale = c->type == TS_T_DECIMAL ? pow(10, c->scale) : 1;
    const int64_t *off = c->type == TS_T_STRING ? TS_COL(c, int64_t) : NULL;
    *mn = INFINITY, *mx = -INFINITY, *nulls = 0, *bytes = off ? off[c->len] - off[0] : 0;
    for (int64_t i = 0; i < c->len; i++) {
        if ((i & 0xffff) == 0 && i) /* a cold column's pages read so far leave the resident set */
            ts_column_release(c, i - 0x10000, 0x10000);
        if (c->valid && !ts_column_is_valid(c, i)) {
            ++*nulls;
            continue;
        }
        uint64_t key;
        if (off) {
            ts_hll_add(h, ts_hash_bytes(c->bytes + off[i], (size_t)(off[i + 1] - off[i]), 0));
            continue;
        }
        if (c->type == TS_T_FLOAT64) {
            const double v = TS_COL(c, double)[i];
            memcpy(&key, &v, 8);
        } else {
            key = c->type == TS_T_BOOL ? TS_COL(c, uint8_t)[i]
                  : ts_type_width(c->type) == 4 ? (uint64_t)(int64_t)TS_COL(c, int32_t)[i]
                                                : (uint64_t)TS_COL(c, int64_t)[i];
        }
        ts_hll_add(h, ts_hash_u64(key));
        if (ordered) {
            const double v = ordered_value(c, i, scale);
            if (v == v) {
                *mn = v < *mn ? v : *mn;
                *mx = v > *mx ? v : *mx;
            }
        }
    }
    ts_column_release(c, c->len & ~INT64_C(0xffff), c->len & 0xffff); /* the last stride's pages */
}

ts_err ts_table_stats(ts_ctx *ctx, const ts_table *t, ts_col_stats *out)
{
    const int n = t->ncols;
    ts_hll *h = calloc((size_t)(n ? n : 1), sizeof *h);
    double *mn = malloc(sizeof *mn * (size_t)(2 * n + 1)), *mx = mn ? mn + n : NULL;
    int64_t *counts = malloc(sizeof *counts * (size_t)(3 * n + 1));
    ts_err err = h && mn && counts ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                            "out of memory computing column statistics");
    for (int c = 0; !err && c < n; c++) {
        counts[3 * c] = t->cols[c]->len;
        local_stats(t->cols[c], &h[c], &counts[3 * c + 1], &mn[c], &mx[c], &counts[3 * c + 2]);
        mx[c] = -mx[c]; /* one MIN reduction for both bounds */
    }
    err = ts_ctx_check(ctx, err);
    if (!err && n && ctx->size > 1)
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, h, (int)(sizeof *h) * n, MPI_UINT8_T, MPI_MAX, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    if (!err && n && ctx->size > 1)
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, mn, 2 * n, MPI_DOUBLE, MPI_MIN, ctx->comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
    if (!err && n && ctx->size > 1)
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, counts, 3 * n, MPI_INT64_T, MPI_SUM, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    for (int c = 0; !err && c < n; c++) {
        const ts_column *col = t->cols[c];
        ts_col_stats *s = &out[c];
        s->rows = counts[3 * c], s->nulls = counts[3 * c + 1];
        const int64_t values = s->rows - s->nulls;
        s->ndv = ts_hll_estimate(&h[c]);
        s->ndv = s->ndv > (double)values ? (double)values : s->ndv < 1 && values ? 1 : s->ndv;
        s->has_range = mn[c] <= -mx[c];
        s->min = s->has_range ? mn[c] : 0, s->max = s->has_range ? -mx[c] : 0;
        s->width = col->type == TS_T_STRING ? (values ? (double)counts[3 * c + 2] / (double)values : 0)
                                            : (double)ts_type_width(col->type);
    }
    free(h), free(mn), free(counts);
    return err;
}
