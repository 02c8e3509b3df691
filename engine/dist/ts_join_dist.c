#include "ts_join_dist.h"

#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_ht.h"
#include "ts_keyhash.h"
#include "ts_mem.h"

#define DEFAULT_BROADCAST_BYTES (INT64_C(64) << 20)
#define HOT_CANDIDATES 16

static int64_t table_bytes(const ts_table *t)
{
    int64_t b = 0;
    for (int c = 0; c < t->ncols; c++)
        b += t->cols[c]->len * (int64_t)ts_type_width(t->cols[c]->type) + t->cols[c]->nbytes;
    return b;
}

/* Sends row idx[k] of t to rank dest[k] (rows may repeat: replication). *out receives this rank's rows. */
static ts_err send_rows(ts_ctx *ctx, const ts_table *t, const int64_t *idx, const int32_t *dest, int64_t n,
                        ts_table **out)
{
    ts_table *picked;
    TS_TRY(ts_table_new_like(t, t->name, &picked));
    ts_err err = ts_table_append_rows(picked, t, idx, n);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows(ctx, picked, dest, out);
    ts_table_free(picked);
    return err;
}

/* ---- broadcast join ---------------------------------------------------------------------------------------- */

static ts_err replicate(ts_ctx *ctx, const ts_table *t, ts_table **out)
{
    const int64_t n = ts_table_rows(t), m = n * ctx->size;
    int64_t *idx = ts_big(8 * (size_t)(m + 1));
    int32_t *dest = ts_big(4 * (size_t)(m + 1));
    ts_err err = idx && dest ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t k = 0; !err && k < m; k++)
        idx[k] = k % n, dest[k] = (int32_t)(k / n);
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = send_rows(ctx, t, idx, dest, m, out);
    ts_free(idx), ts_free(dest);
    return err;
}

/* Unmatched right rows of right/full joins, once: rank 0 appends them after combining every rank's flags. */
static ts_err append_unmatched(ts_ctx *ctx, const ts_table *left, const ts_table *all_right,
                               const ts_join_spec *spec, uint8_t *matched, ts_table *out)
{
    const int64_t n = ts_table_rows(all_right);
    /* MPI counts are ints: a forced broadcast of a right side over 2^31 rows combines its flags in pieces */
    for (int64_t at = 0; at < n; at += INT64_C(1) << 30) {
        const int64_t piece = n - at < (INT64_C(1) << 30) ? n - at : INT64_C(1) << 30;
        TS_MPI(MPI_Allreduce(MPI_IN_PLACE, matched + at, (int)piece, MPI_UINT8_T, MPI_MAX, ctx->comm));
    }
    if (ctx->rank != 0)
        return TS_OK;
    int64_t *lidx = ts_big(8 * (size_t)(n + 1)), *ridx = ts_big(8 * (size_t)(n + 1)), k = 0;
    ts_err err = lidx && ridx ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t j = 0; !err && j < n; j++)
        if (!matched[j])
            lidx[k] = -1, ridx[k++] = j;
    for (int c = 0; !err && c < left->ncols; c++)
        err = ts_column_append_rows_or_null(out->cols[c], left->cols[c], lidx, k);
    for (int c = left->ncols; !err && c < out->ncols; c++)
        err = ts_column_append_rows_or_null(out->cols[c], ts_table_col(all_right, out->cols[c]->name), ridx, k);
    ts_free(lidx), ts_free(ridx);
    (void)spec;
    return err;
}

static ts_err broadcast_join(ts_ctx *ctx, const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                             ts_table **out)
{
    ts_table *all = NULL;
    TS_TRY(replicate(ctx, right, &all));
    const int outer_right = spec->type == TS_JOIN_RIGHT || spec->type == TS_JOIN_FULL;
    uint8_t *matched = outer_right ? ts_big_zero((size_t)ts_table_rows(all) + 1) : NULL;
    ts_err err = !outer_right || matched ? TS_OK
                                         : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err)
        err = ts_hash_join_local(left, all, spec, out, matched);
    err = ts_ctx_check(ctx, err);
    if (!err && outer_right)
        err = append_unmatched(ctx, left, all, spec, matched, *out);
    ts_free(matched), ts_table_free(all);
    return err;
}

/* ---- skew detection ---------------------------------------------------------------------------------------- */

typedef struct hot_set {
    uint64_t hash[HOT_CANDIDATES * 64];
    int n;
} hot_set;

static int is_hot(const hot_set *h, uint64_t x)
{
    for (int k = 0; k < h->n; k++)
        if (h->hash[k] == x)
            return 1;
    return 0;
}

/* Each rank proposes its most frequent key hashes (from a sample); a candidate is hot when its estimated global
 * count exceeds total / (2P). Key hashes stand for keys: a collision only makes a cold key travel like a hot one,
 * which is still correct. */
static ts_err find_hot(ts_ctx *ctx, const uint64_t *h, const uint8_t *null_key, int64_t n, hot_set *hot)
{
    hot->n = 0;
    if (ctx->size == 1)
        return TS_OK;
    const int64_t step = n / 65536 + 1;
    ts_ht ht;
    if (ts_ht_init(&ht, 1024) != 0)
        TS_FAIL(TS_ERR_NOMEM, "out of memory sampling join keys");
    uint64_t cand[2 * HOT_CANDIDATES] = {0}; /* (hash, estimated count) pairs, best first */
    for (int64_t i = 0; i < n; i += step) {
        int inserted;
        if (null_key[i])
            continue;
        int64_t *cnt = ts_ht_upsert(&ht, h[i], 0, 0, &inserted);
        if (!cnt) {
            ts_ht_free(&ht);
            TS_FAIL(TS_ERR_NOMEM, "out of memory sampling join keys");
        }
        const uint64_t est = (uint64_t)(++*cnt * step);
        int pos = HOT_CANDIDATES;
        for (int k = 0; k < HOT_CANDIDATES; k++) /* already listed: update in place */
            if (cand[2 * k] == h[i] && cand[2 * k + 1])
                pos = k;
        if (pos == HOT_CANDIDATES && est > cand[2 * HOT_CANDIDATES - 1])
            pos = HOT_CANDIDATES - 1;
        if (pos == HOT_CANDIDATES)
            continue;
        cand[2 * pos] = h[i], cand[2 * pos + 1] = est;
        for (; pos > 0 && cand[2 * pos + 1] > cand[2 * pos - 1]; pos--) { /* keep best first */
            const uint64_t a = cand[2 * pos], b = cand[2 * pos + 1];
            cand[2 * pos] = cand[2 * pos - 2], cand[2 * pos + 1] = cand[2 * pos - 1];
            cand[2 * pos - 2] = a, cand[2 * pos - 1] = b;
        }
    }
    ts_ht_free(&ht);
    uint64_t *all = malloc(sizeof(cand) * (size_t)ctx->size);
    if (!all)
        TS_FAIL(TS_ERR_NOMEM, "out of memory gathering join key samples");
    int64_t total = 0;
    TS_MPI(MPI_Allreduce(&n, &total, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    TS_MPI(MPI_Allgather(cand, 2 * HOT_CANDIDATES, MPI_UINT64_T, all, 2 * HOT_CANDIDATES, MPI_UINT64_T, ctx->comm));
    const int m = HOT_CANDIDATES * ctx->size;
    for (int a = 0; a < m && hot->n < (int)(sizeof hot->hash / sizeof hot->hash[0]); a++) {
        if (!all[2 * a + 1] || is_hot(hot, all[2 * a]))
            continue;
        uint64_t sum = 0;
        for (int b = 0; b < m; b++)
            sum += all[2 * b] == all[2 * a] ? all[2 * b + 1] : 0;
        if (sum * 2 * (uint64_t)ctx->size > (uint64_t)total && sum > 1024)
            hot->hash[hot->n++] = all[2 * a];
    }
    free(all);
    return TS_OK;
}

/* ---- shuffle join ------------------------------------------------------------------------------------------ */

/* Destinations of one side: hash of the key; NULL keys stay home; hot keys are dealt round-robin (left) or
 * replicated to every rank (right). Returns the send list (idx, dest). */
static ts_err route_side(ts_ctx *ctx, const ts_table *t, const ts_key_cols *k, const hot_set *hot, int replicate_hot,
                         int64_t **idx, int32_t **dest, int64_t *m)
{
    const int64_t n = ts_table_rows(t);
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    int64_t nhot = 0;
    if (!h)
        TS_FAIL(TS_ERR_NOMEM, "out of memory routing join rows");
    ts_key_hash_rows(k, n, h);
    for (int64_t i = 0; replicate_hot && i < n; i++)
        nhot += !ts_key_has_null(k, i) && is_hot(hot, h[i]);
    const int64_t cap = n + nhot * (ctx->size - 1) + 1;
    *idx = ts_big(8 * (size_t)cap), *dest = ts_big(4 * (size_t)cap), *m = 0;
    if (!*idx || !*dest) {
        ts_free(h), ts_free(*idx), ts_free(*dest);
        TS_FAIL(TS_ERR_NOMEM, "out of memory routing join rows");
    }
    int64_t dealt = ctx->rank;
    for (int64_t i = 0; i < n; i++) {
        const int null = ts_key_has_null(k, i), hotkey = !null && hot->n && is_hot(hot, h[i]);
        if (hotkey && replicate_hot) {
            for (int r = 0; r < ctx->size; r++)
                (*idx)[*m] = i, (*dest)[(*m)++] = r;
            continue;
        }
        (*idx)[*m] = i;
        (*dest)[(*m)++] = null ? ctx->rank : hotkey ? (int32_t)(dealt++ % ctx->size)
                                                    : (int32_t)(h[i] % (uint64_t)ctx->size);
    }
    ts_free(h);
    return TS_OK;
}

static ts_err shuffle_side(ts_ctx *ctx, const ts_table *t, const ts_key_cols *k, const hot_set *hot,
                           int replicate_hot, ts_table **out)
{
    int64_t *idx = NULL, m = 0;
    int32_t *dest = NULL;
    ts_err err = ts_ctx_check(ctx, route_side(ctx, t, k, hot, replicate_hot, &idx, &dest, &m));
    if (!err)
        err = send_rows(ctx, t, idx, dest, m, out);
    ts_free(idx), ts_free(dest);
    return err;
}

static ts_err detect_skew(ts_ctx *ctx, const ts_table *left, const ts_key_cols *lk, const ts_join_spec *spec,
                          hot_set *hot)
{
    hot->n = 0;
    if (spec->type == TS_JOIN_RIGHT || spec->type == TS_JOIN_FULL)
        return TS_OK; /* replicated right rows would be emitted unmatched on several ranks */
    const int64_t n = ts_table_rows(left);
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    uint8_t *nul = ts_big((size_t)n + 1);
    ts_err err = h && nul ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (!err) {
        ts_key_hash_rows(lk, n, h);
        for (int64_t i = 0; i < n; i++)
            nul[i] = (uint8_t)ts_key_has_null(lk, i);
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = find_hot(ctx, h, nul, n, hot);
    ts_free(h), ts_free(nul);
    return err;
}

static ts_err shuffle_join(ts_ctx *ctx, const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                           ts_table **out, int *hot_keys)
{
    ts_key_cols lk, rk;
    TS_TRY(ts_key_cols_resolve(left, spec->left_keys, spec->nkeys, &lk));
    TS_TRY(ts_key_cols_resolve(right, spec->right_keys, spec->nkeys, &rk));
    lk.null_equal = rk.null_equal = spec->null_equal; /* NULL = NULL keys hash alike: they meet on one rank */
    hot_set *hot = calloc(1, sizeof *hot);
    if (!hot)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    ts_table *l2 = NULL, *r2 = NULL;
    ts_err err = detect_skew(ctx, left, &lk, spec, hot);
    if (!err)
        err = shuffle_side(ctx, left, &lk, hot, 0, &l2);
    if (!err)
        err = shuffle_side(ctx, right, &rk, hot, 1, &r2);
    if (!err)
        err = ts_ctx_check(ctx, ts_hash_join_local(l2, r2, spec, out, NULL));
    *hot_keys = hot->n;
    free(hot), ts_table_free(l2), ts_table_free(r2);
    return err;
}

/* ---- semi and anti joins built on the left (the smaller side) ---------------------------------------------- */

/* Broadcast: every rank gets all left keys, marks those its right rows have, the ranks OR their marks, and each
 * rank keeps its own left rows by the combined marks. */
static ts_err semi_broadcast(ts_ctx *ctx, const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                             ts_table **out)
{
    ts_table *keys = NULL, *all = NULL;
    TS_TRY(ts_table_view(left, spec->left_keys, spec->nkeys, &keys));
    ts_err err = ts_ctx_check(ctx, TS_OK);
    if (!err)
        err = replicate(ctx, keys, &all);
    ts_table_free(keys);
    TS_TRY(err);
    const int64_t n = ts_table_rows(all), mine = ts_table_rows(left);
    int64_t before = 0;
    uint8_t *flags = ts_big_zero((size_t)n + 1);
    err = flags ? ts_hash_semi_flags(all, right, spec, flags)
                : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in a join");
    ts_table_free(all);
    err = ts_ctx_check(ctx, err);
    for (int64_t at = 0; !err && at < n; at += INT64_C(1) << 30) {
        const int64_t piece = n - at < (INT64_C(1) << 30) ? n - at : INT64_C(1) << 30;
        err = ts_mpi_status(MPI_Allreduce(MPI_IN_PLACE, flags + at, (int)piece, MPI_UINT8_T, MPI_MAX, ctx->comm),
                            "MPI_Allreduce", __FILE__, __LINE__, __func__);
    }
    if (!err) /* the replicated rows come in rank order: this rank's start at the sum of the lower ranks' */
        err = ts_mpi_status(MPI_Exscan(&mine, &before, 1, MPI_INT64_T, MPI_SUM, ctx->comm), "MPI_Exscan", __FILE__,
                            __LINE__, __func__);
    if (ctx->rank == 0)
        before = 0;
    if (!err)
        err = ts_semi_output(left, spec->type, flags + before, out);
    ts_free(flags);
    return ts_ctx_check(ctx, err);
}

static ts_err semi_shuffle(ts_ctx *ctx, const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                           ts_table **out)
{
    ts_key_cols lk, rk;
    TS_TRY(ts_key_cols_resolve(left, spec->left_keys, spec->nkeys, &lk));
    TS_TRY(ts_key_cols_resolve(right, spec->right_keys, spec->nkeys, &rk));
    lk.null_equal = rk.null_equal = spec->null_equal;
    hot_set *none = calloc(1, sizeof *none);
    if (!none)
        TS_FAIL(TS_ERR_NOMEM, "out of memory");
    ts_table *l2 = NULL, *r2 = NULL;
    ts_err err = shuffle_side(ctx, left, &lk, none, 0, &l2);
    if (!err)
        err = shuffle_side(ctx, right, &rk, none, 0, &r2);
    if (!err)
        err = ts_ctx_check(ctx, ts_hash_join_local(l2, r2, spec, out, NULL));
    free(none), ts_table_free(l2), ts_table_free(r2);
    return err;
}

/* The left columns the join carries: a zero-copy view of the keys and spec->left_cols, or left itself. */
static ts_err left_view(const ts_table *left, const ts_join_spec *spec, ts_table **view)
{
    *view = NULL;
    if (!spec->left_cols)
        return TS_OK;
    const char **names = malloc(sizeof *names * (size_t)(spec->nkeys + spec->nleft + 1));
    if (!names)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the columns of a join");
    int n = 0;
    for (int k = 0; k < spec->nkeys; k++)
        names[n++] = spec->left_keys[k];
    for (int k = 0; k < spec->nleft; k++)
        names[n++] = spec->left_cols[k];
    const ts_err err = ts_table_view(left, names, n, view);
    free(names);
    TS_TRY(err);
    return TS_OK;
}

ts_err ts_join(ts_ctx *ctx, const ts_table *left_in, const ts_table *right, const ts_join_spec *spec, ts_table **out,
               ts_join_stats *stats)
{
    ts_join_stats st = {0};
    ts_key_cols lk, rk;
    ts_table *view = NULL;
    TS_TRY(ts_ctx_check(ctx, left_view(left_in, spec, &view)));
    const ts_table *left = view ? view : left_in;
    ts_err err = ts_key_cols_resolve(left, spec->left_keys, spec->nkeys, &lk);
    if (!err)
        err = ts_key_cols_resolve(right, spec->right_keys, spec->nkeys, &rk);
    if (!err)
        err = ts_key_cols_compatible(&lk, &rk);
    err = ts_ctx_check(ctx, err);
    if (err) {
        ts_table_free(view);
        return err;
    }
    const int build_left = spec->build_left && (spec->type == TS_JOIN_SEMI || spec->type == TS_JOIN_ANTI);
    const int64_t mine = table_bytes(build_left ? left : right); /* the build side's */
    TS_MPI(MPI_Allreduce(&mine, &st.right_bytes, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
    const int64_t limit = spec->broadcast_bytes > 0 ? spec->broadcast_bytes : DEFAULT_BROADCAST_BYTES;
    st.broadcast = spec->strategy == TS_JOIN_BROADCAST || (spec->strategy == TS_JOIN_AUTO && st.right_bytes <= limit);
    *out = NULL;
    if (build_left)
        err = st.broadcast ? semi_broadcast(ctx, left, right, spec, out) : semi_shuffle(ctx, left, right, spec, out);
    else
        err = st.broadcast ? broadcast_join(ctx, left, right, spec, out)
                           : shuffle_join(ctx, left, right, spec, out, &st.hot_keys);
    if (err) { /* other ranks may have built their part before the failure was agreed */
        ts_table_free(*out);
        *out = NULL;
    }
    if (stats)
        *stats = st;
    ts_table_free(view);
    return err;
}
