#include "ts_csv_sample.h"

#include <stdlib.h>
#include <string.h>

#include "ts_date.h"
#include "ts_hash.h"

#define SAMPLE_BYTES ((int64_t)1 << 20)

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct values of a population of n_total from a sample of n with d distinct, f1 of them seen once (Duj1). */
static double duj1(double n, double d, double f1, double n_total)
{
    if (n <= 0)
        return 0;
    const double denom = n - f1 + f1 * n / (n_total > n ? n_total : n);
    const double est = denom > 0 ? n * d / denom : d;
    return est < d ? d : est > n_total ? n_total : est;
}

static int numeric(const char *s, uint32_t len, ts_type type, double *v)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len), buf[len] = 0;
    if (type == TS_T_DATE) {
        int32_t days;
        if (ts_parse_date(buf, len, &days) != 0)
            return 0;
        *v = days;
        return 1;
    }
    if (type != TS_T_INT32 && type != TS_T_INT64 && type != TS_T_FLOAT64 && type != TS_T_DECIMAL)
        return 0;
    char *end;
    *v = strtod(buf, &end);
    return end != buf;
}

/* Rank 0: the sample's statistics. */
static void sample(const char *data, int64_t len, int64_t total_bytes, const ts_csv_inferred *inf, ts_col_stats *out,
                   double *rows)
{
    const int nc = inf->ncols;
    int64_t cap = 4096, n = 0, sample_bytes = 0;
    uint64_t *h = malloc(sizeof *h * (size_t)cap * (size_t)nc);
    int64_t *nulls = calloc((size_t)nc, sizeof *nulls), *bytes = calloc((size_t)nc, sizeof *bytes);
    /* one line's fields: the first nc are kept (slot c), the rest only counted */
    int *identity = malloc(sizeof *identity * (size_t)(nc + 1));
    const char **ptr = malloc(sizeof *ptr * (size_t)(nc + 1));
    uint32_t *flen = malloc(sizeof *flen * (size_t)(nc + 1));
    for (int c = 0; identity && c < nc; c++)
        identity[c] = c;
    for (int c = 0; c < nc; c++)
        out[c] = (ts_col_stats){.min = 1e300, .max = -1e300};
    int64_t at = ts_csv_bom(data, len), line = 0;
    char *scratch = malloc((size_t)len + 1);
    while (h && nulls && bytes && scratch && identity && ptr && flen && at < len) {
        const char *nl = memchr(data + at, '\n', (size_t)(len - at));
        if (!nl) /* the head cuts the last line */
            break;
        int64_t l = nl - (data + at);
        const char *s = data + at;
        at += l + 1;
        if (l && s[l - 1] == '\r')
            l--;
        if (line++ == 0 && inf->header)
            continue;
        char *sc = scratch;
        const int nf = ts_csv_split_line_ex(s, l, inf->delim ? inf->delim : ',', '"', 1, identity, nc, ptr, flen, &sc);
        if (nf < nc || l == 0)
            continue;
        sample_bytes += l + 1;
        for (int c = 0; c < nc; c++) {
            ts_col_stats *st = &out[c];
            double v;
            if (!flen[c]) {
                nulls[c]++;
                h[(size_t)c * (size_t)cap + (size_t)n] = 0;
                continue;
            }
            bytes[c] += flen[c];
            h[(size_t)c * (size_t)cap + (size_t)n] = ts_hash_bytes(ptr[c], flen[c], 0) | 1;
            if (numeric(ptr[c], flen[c], inf->types[c], &v)) {
                st->min = v < st->min ? v : st->min, st->max = v > st->max ? v : st->max;
                st->has_range = 1;
            }
        }
        n++;
        /* the hashes of a column are contiguous at h[c * cap]: growing moves them */
        if (n == cap) {
            uint64_t *grown = malloc(sizeof *h * (size_t)(2 * cap) * (size_t)nc);
            if (!grown)
                break;
            for (int c = 0; c < nc; c++)
                memcpy(grown + (size_t)c * (size_t)(2 * cap), h + (size_t)c * (size_t)cap, sizeof *h * (size_t)n);
            free(h), h = grown, cap *= 2;
        }
    }
    *rows = n && sample_bytes ? (double)total_bytes * (double)n / (double)sample_bytes : 0;
    for (int c = 0; h && nulls && bytes && c < nc; c++) {
        uint64_t *v = h + (size_t)c * (size_t)cap;
        qsort(v, (size_t)n, sizeof *v, cmp_u64);
        double d = 0, f1 = 0;
        for (int64_t i = 0; i < n;) {
            int64_t j = i;
            while (j < n && v[j] == v[i])
                j++;
            if (v[i]) /* 0: NULL */
                d++, f1 += j - i == 1;
            i = j;
        }
        ts_col_stats *st = &out[c];
        const double values = (double)(n - nulls[c]);
        st->rows = (int64_t)*rows, st->nulls = (int64_t)(n ? *rows * (double)nulls[c] / (double)n : 0);
        st->ndv = duj1(values, d, f1, *rows - (double)st->nulls);
        st->width = values > 0 ? (double)bytes[c] / values : 0;
        if (inf->types[c] != TS_T_STRING)
            st->width = (double)ts_type_width(inf->types[c]);
        if (!st->has_range)
            st->min = st->max = 0;
    }
    free(h), free(nulls), free(bytes), free(scratch), free(identity), free(ptr), free(flen);
}

ts_err ts_csv_sample_stats(ts_ctx *ctx, const ts_file_info *files, int nfiles, const ts_csv_inferred *inf,
                           ts_col_stats *out, double *rows)
{
    int64_t total = 0;
    for (int i = 0; i < nfiles; i++)
        total += files[i].size;
    memset(out, 0, sizeof *out * (size_t)inf->ncols);
    *rows = 0;
    ts_err err = TS_OK;
    if (ctx->rank == 0)
        for (int i = 0; i < nfiles; i++) {
            if (files[i].size == 0)
                continue;
            ts_file_data d;
            if ((err = ts_file_load_head(&files[i], SAMPLE_BYTES, &d)))
                break;
            sample(d.data, d.len, total, inf, out, rows);
            ts_file_unload(&d);
            break;
        }
    TS_TRY(ts_ctx_check(ctx, err));
    TS_MPI(MPI_Bcast(out, (int)(sizeof *out * (size_t)inf->ncols), MPI_BYTE, 0, ctx->comm));
    TS_MPI(MPI_Bcast(rows, 1, MPI_DOUBLE, 0, ctx->comm));
    return TS_OK;
}
