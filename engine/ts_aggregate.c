#include "ts_aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_ht.h"
#include "ts_keys.h"
#include "ts_mem.h"
#include "ts_rowset.h"

/* Group ids through a direct-indexed array when the packed keys are narrow ("perfect hash" grouping).
 * Returns *done = 0 when the keys are too wide. */
static ts_err group_ids_dense(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t *fr,
                              int64_t *ngroups, int *done)
{
    const int64_t n = ts_table_rows(in);
    uint32_t *code = ts_big(4 * (size_t)(n + 1));
    if (!code)
        TS_FAIL(TS_ERR_NOMEM, "out of memory grouping %lld rows", (long long)n);
    int bits = 0;
    ts_err err = ts_pack_keys_dense(in, keys, nkeys, 22, code, &bits);
    int32_t *map = NULL;
    if (!err && bits && !(map = ts_big(sizeof *map << bits)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for a group map");
    *done = !err && bits;
    if (*done) {
        memset(map, 0xff, sizeof *map << bits);
        int64_t g = 0;
        for (int64_t i = 0; i < n; i++) {
            int32_t *m = &map[code[i]];
            if (*m < 0)
                *m = (int32_t)g, fr[g++] = i;
            gid[i] = *m;
        }
        *ngroups = g;
    }
    ts_free(code), ts_free(map);
    return err;
}

/* Group ids through a hash table of exact 128-bit packed keys (any key width). */
static ts_err group_ids_hashed(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t *fr,
                               int64_t *ngroups)
{
    const int64_t n = ts_table_rows(in);
    uint64_t *lo = ts_big(8 * (size_t)(n + 1)), *hi = ts_big(8 * (size_t)(n + 1));
    ts_ht ht = {0};
    ts_err err = TS_OK;
    if (!lo || !hi || ts_ht_init(&ht, 1024) != 0)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory grouping %lld rows",
                             (long long)n);
    if (!err)
        err = ts_pack_keys(in, keys, nkeys, lo, hi);
    int64_t g = 0;
    for (int64_t i = 0; !err && i < n; i++) {
        int inserted;
        int64_t *slot = ts_ht_upsert(&ht, lo[i], hi[i], g, &inserted);
        if (!slot) {
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in the group table");
            break;
        }
        if (inserted)
            fr[g++] = i;
        gid[i] = *slot;
    }
    ts_free(lo), ts_free(hi), ts_ht_free(&ht);
    *ngroups = g;
    return err;
}

/* Dense group ids by first appearance; *first[g] = first row of group g (caller frees with ts_free). */
static ts_err group_ids(const ts_table *in, const char *const *keys, int nkeys, int64_t *gid, int64_t **first,
                        int64_t *ngroups)
{
    int64_t *fr = ts_big(8 * (size_t)(ts_table_rows(in) + 1));
    if (!fr)
        TS_FAIL(TS_ERR_NOMEM, "out of memory grouping '%s'", in->name);
    int dense = 0;
    ts_err err = group_ids_dense(in, keys, nkeys, gid, fr, ngroups, &dense);
    if (!err && !dense)
        err = group_ids_hashed(in, keys, nkeys, gid, fr, ngroups);
    if (err) {
        ts_free(fr);
        TS_TRY(err);
    }
    *first = fr;
    return TS_OK;
}

static int row_counts(const ts_column *where, const ts_column *input, int64_t i)
{
    return (!where || (ts_column_is_valid(where, i) && TS_COL(where, uint8_t)[i])) &&
           (!input || ts_column_is_valid(input, i));
}

static ts_err agg_count(const ts_column *where, const int64_t *gid, int64_t n, int64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        out[gid[i]] += row_counts(where, NULL, i);
    return TS_OK;
}

static ts_err agg_sum(const ts_column *in, const ts_column *where, const int64_t *gid, int64_t n, int64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        if (row_counts(where, in, i) && __builtin_add_overflow(out[gid[i]], ts_key_value(in, i), &out[gid[i]]))
            TS_FAIL(TS_ERR_DATA, "sum of column '%s' overflows int64", in->name);
    return TS_OK;
}

static ts_err agg_minmax(const ts_column *in, const ts_column *where, const int64_t *gid, int64_t n, int is_max,
                         int64_t *out, uint8_t *seen)
{
    for (int64_t i = 0; i < n; i++) {
        if (!row_counts(where, in, i))
            continue;
        const int64_t v = ts_key_value(in, i), g = gid[i];
        if (!seen[g] || (is_max ? v > out[g] : v < out[g]))
            out[g] = v, seen[g] = 1;
    }
    return TS_OK;
}

/* Distinct (group, value) pairs: a row-index set over the pairs counts each pair once. */
static ts_err agg_distinct(const ts_column *in, const ts_column *where, const int64_t *gid, int64_t n, int64_t *out)
{
    if (n >= (INT64_C(1) << 32))
        TS_FAIL(TS_ERR_USAGE, "count distinct over %lld rows on one rank: at most 2^32 are supported", (long long)n);
    const uint64_t nslots = ts_rowset_slots(n);
    uint64_t *slots = NULL, *values = NULL;
    ts_err err = ts_calloc(nslots * 8, (void **)&slots);
    if (!err)
        err = ts_alloc(8 * (size_t)(n + 1), (void **)&values);
    if (err) {
        ts_free(slots);
        TS_TRY(err);
    }
    for (int64_t i = 0; i < n; i++)
        values[i] = (uint64_t)ts_key_value(in, i);
    ts_rowset set;
    ts_rowset_init(&set, slots, nslots, (const uint64_t *)gid, values);
    uint32_t idx[1024], first[1024];
    for (int64_t base = 0; base < n; base += 1024) {
        uint32_t m = 0;
        for (int64_t i = base; i < n && i < base + 1024; i++)
            if (row_counts(where, in, i))
                idx[m++] = (uint32_t)i;
        ts_rowset_insert_many(&set, idx, 0, m, first);
        for (uint32_t k = 0; k < m; k++)
            out[gid[idx[k]]] += first[k] == idx[k];
    }
    ts_free(slots), ts_free(values);
    return TS_OK;
}

/* Neumaier's compensated sum: the error of float sums stays at one rounding, whatever the row count. */
static void add_compensated(double *sum, double *comp, double v)
{
    const double t = *sum + v;
    *comp += fabs(*sum) >= fabs(v) ? (*sum - t) + v : (v - t) + *sum;
    *sum = t;
}

static ts_err agg_mean(const ts_column *in, const ts_column *where, const int64_t *gid, int64_t n, int64_t ng,
                       ts_table *t, const char *output)
{
    double *sum = calloc((size_t)ng + 1, sizeof *sum), *comp = calloc((size_t)ng + 1, sizeof *comp);
    int64_t *isum = calloc((size_t)ng + 1, sizeof *isum), *cnt = calloc((size_t)ng + 1, sizeof *cnt);
    ts_column *c = NULL;
    ts_err err = sum && comp && isum && cnt ? TS_OK
                                            : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    const int is_float = in->type == TS_T_FLOAT64;
    for (int64_t i = 0; !err && i < n; i++) {
        if (!row_counts(where, in, i))
            continue;
        cnt[gid[i]]++;
        if (is_float)
            add_compensated(&sum[gid[i]], &comp[gid[i]], TS_COL(in, double)[i]);
        else if (__builtin_add_overflow(isum[gid[i]], ts_key_value(in, i), &isum[gid[i]]))
            err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "sum of column '%s' overflows int64",
                                 in->name);
    }
    if (!err)
        err = ts_table_add(t, output, TS_T_FLOAT64, 0, NULL, &c);
    if (!err)
        err = ts_column_reserve(c, ng, 0);
    const double scale = pow(10.0, in->type == TS_T_DECIMAL ? in->scale : 0);
    for (int64_t g = 0; !err && g < ng; g++) {
        TS_COL(c, double)[g] = is_float ? (sum[g] + comp[g]) / (double)cnt[g] : (double)isum[g] / scale / (double)cnt[g];
        c->len = g + 1;
        if (!cnt[g])
            err = ts_column_set_null(c, g);
    }
    free(sum), free(comp), free(isum), free(cnt);
    return err;
}

static ts_err store_result(ts_table *t, const ts_agg *a, const ts_column *in, const int64_t *acc,
                           const uint8_t *seen, int64_t ng)
{
    const int keeps_type = in && (a->kind == TS_AGG_MIN || a->kind == TS_AGG_MAX);
    const ts_type type = keeps_type ? in->type : (a->kind == TS_AGG_SUM && in->type == TS_T_DECIMAL ? TS_T_DECIMAL : TS_T_INT64);
    ts_column *c;
    TS_TRY(ts_table_add(t, a->output, type, in ? in->scale : 0, type == TS_T_DICT ? in->dict : NULL, &c));
    TS_TRY(ts_column_reserve(c, ng, 0));
    for (int64_t g = 0; g < ng; g++) {
        switch (ts_type_width(type)) {
        case 1: TS_COL(c, uint8_t)[g] = (uint8_t)acc[g]; break;
        case 4: TS_COL(c, int32_t)[g] = (int32_t)acc[g]; break;
        default: TS_COL(c, int64_t)[g] = acc[g]; break;
        }
    }
    c->len = ng;
    for (int64_t g = 0; seen && g < ng; g++)
        if (!seen[g])
            TS_TRY(ts_column_set_null(c, g));
    return TS_OK;
}

static ts_err compute_agg(const ts_table *in, const ts_agg *a, const int64_t *gid, int64_t ng, ts_table *t)
{
    const int64_t n = ts_table_rows(in);
    ts_column *input = NULL, *where = NULL;
    if (a->kind != TS_AGG_COUNT)
        TS_TRY(ts_table_need(in, a->input, &input));
    if (a->where)
        TS_TRY(ts_table_need(in, a->where, &where));
    if (a->kind == TS_AGG_MEAN)
        return agg_mean(input, where, gid, n, ng, t, a->output);
    if (input && (input->type == TS_T_FLOAT64 || input->type == TS_T_STRING))
        TS_FAIL(TS_ERR_USAGE, "aggregate '%s': sum, min, max and count distinct of '%s' need an integer-like column",
                a->output, input->name);
    int64_t *acc = calloc((size_t)ng + 1, 8);
    uint8_t *seen = calloc((size_t)ng + 1, 1);
    ts_err err = acc && seen ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err) {
        switch (a->kind) {
        case TS_AGG_COUNT: err = agg_count(where, gid, n, acc); break;
        case TS_AGG_SUM: err = agg_sum(input, where, gid, n, acc); break;
        case TS_AGG_MIN:
        case TS_AGG_MAX: err = agg_minmax(input, where, gid, n, a->kind == TS_AGG_MAX, acc, seen); break;
        case TS_AGG_COUNT_DISTINCT: err = agg_distinct(input, where, gid, n, acc); break;
        case TS_AGG_MEAN: break; /* handled above */
        }
    }
    const int nullable = a->kind == TS_AGG_MIN || a->kind == TS_AGG_MAX;
    if (!err)
        err = store_result(t, a, input, acc, nullable ? seen : NULL, ng);
    free(acc), free(seen);
    return err;
}

ts_err ts_hash_aggregate(const ts_table *in, const char *const *keys, int nkeys, const ts_agg *aggs, int naggs,
                         const char *name, ts_table **out)
{
    const int64_t n = ts_table_rows(in);
    int64_t *gid = ts_big(8 * (size_t)(n + 1)), *first = NULL, ng = 0;
    if (!gid)
        TS_FAIL(TS_ERR_NOMEM, "out of memory aggregating '%s'", in->name);
    ts_err err = group_ids(in, keys, nkeys, gid, &first, &ng);
    if (!err)
        err = ts_table_new(name, out);
    for (int k = 0; !err && k < nkeys; k++) {
        ts_column *src = ts_table_col(in, keys[k]), *dst;
        err = ts_column_new_like(src, &dst);
        if (!err)
            err = ts_table_adopt(*out, dst);
        if (!err)
            err = ts_column_append_rows(dst, src, first, ng);
    }
    for (int a = 0; !err && a < naggs; a++)
        err = compute_agg(in, &aggs[a], gid, ng, *out);
    ts_free(gid), ts_free(first);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
        TS_TRY(err);
    }
    return TS_OK;
}
