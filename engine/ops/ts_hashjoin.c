#include "ts_hashjoin.h"

#include <stdlib.h>
#include <string.h>

#include "ts_hash.h"
#include "ts_keyhash.h"
#include "ts_keys.h"
#include "ts_mem.h"

const char *ts_join_type_name(ts_join_type t)
{
    static const char *const names[] = {"inner", "left", "right", "full", "semi", "anti"};
    return names[t];
}

static int keeps_right(ts_join_type t) { return t != TS_JOIN_SEMI && t != TS_JOIN_ANTI; }

static int is_key(const ts_join_spec *spec, const char *name)
{
    for (int k = 0; k < spec->nkeys; k++)
        if (strcmp(spec->right_keys[k], name) == 0)
            return 1;
    return 0;
}

/* The right columns the output carries, in order. */
/* The right columns the output carries, in a new array *cols (free()) of *n. */
static ts_err right_outputs(const ts_table *right, const ts_join_spec *spec, const ts_column ***cols, int *n)
{
    *n = 0;
    const int most = spec->right_cols ? spec->nright : right->ncols;
    if (!(*cols = malloc(sizeof **cols * (size_t)(most > 0 ? most : 1))))
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the columns of a join");
    if (!keeps_right(spec->type))
        return TS_OK;
    if (spec->right_cols) {
        for (int k = 0; k < spec->nright; k++)
            (*cols)[(*n)++] = ts_table_col(right, spec->right_cols[k]);
        return TS_OK;
    }
    for (int c = 0; c < right->ncols; c++)
        if (!is_key(spec, right->cols[c]->name))
            (*cols)[(*n)++] = right->cols[c];
    return TS_OK;
}

ts_err ts_join_schema(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out)
{
    for (int k = 0; spec->right_cols && k < spec->nright; k++)
        if (!ts_table_col(right, spec->right_cols[k]))
            TS_FAIL(TS_ERR_USAGE, "join: right table '%s' has no column '%s'", right->name, spec->right_cols[k]);
    const ts_column **rc;
    int nr;
    TS_TRY(right_outputs(right, spec, &rc, &nr));
    const ts_err made = ts_table_new_like(left, left->name, out);
    if (made)
        free(rc);
    TS_TRY(made);
    for (int k = 0; k < nr; k++) {
        ts_column *c;
        ts_err err = ts_table_col(*out, rc[k]->name)
                         ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                          "join: right column '%s' has the name of a left column; choose the right "
                                          "columns to keep (right_cols) or rename it", rc[k]->name)
                         : ts_column_new_like(rc[k], &c);
        if (!err)
            err = ts_table_adopt(*out, c);
        if (err) {
            ts_table_free(*out);
            *out = NULL;
            free(rc);
            return err;
        }
    }
    free(rc);
    return TS_OK;
}

/* Build side: chains of right rows per hash slot, in right row order. */
typedef struct build_table {
    int64_t *head, *next;
    uint64_t *hash, mask;
} build_table;

/* Idempotent: build() frees a half-built table on failure and the caller frees it again. */
static void build_free(build_table *b)
{
    ts_free(b->head), ts_free(b->next), ts_free(b->hash);
    b->head = b->next = NULL, b->hash = NULL;
}

static ts_err build(const ts_key_cols *rk, int64_t n, build_table *b)
{
    uint64_t slots = 16;
    while (slots < (uint64_t)n * 2)
        slots <<= 1;
    b->mask = slots - 1;
    b->head = ts_big(8 * slots), b->next = ts_big(8 * (size_t)(n + 1)), b->hash = ts_big(8 * (size_t)(n + 1));
    if (!b->head || !b->next || !b->hash) {
        build_free(b);
        TS_FAIL(TS_ERR_NOMEM, "out of memory building a join table of %lld rows", (long long)n);
    }
    memset(b->head, 0xff, 8 * slots);
    ts_key_hash_rows(rk, n, b->hash);
    for (int64_t i = n - 1; i >= 0; i--) { /* backwards, so each chain lists rows in ascending order */
        if (ts_key_has_null(rk, i))
            continue;
        const uint64_t s = b->hash[i] & b->mask;
        b->next[i] = b->head[s], b->head[s] = i;
    }
    return TS_OK;
}

/* Matched (left, right) row pairs; -1 stands for "no row" on that side. */
typedef struct pairs {
    int64_t *l, *r, n, cap;
} pairs;

/* Each array is stored back as soon as it has grown: ts_reserve may move it (freeing the old block), so a failure
 * of the second must not leave p->l pointing at the first one's freed block. p->cap, the capacity of both, only
 * rises once both have grown. */
static ts_err grow_pairs(pairs *p)
{
    int64_t cap_l = p->cap, cap_r = p->cap;
    void *a = p->l, *b = p->r;
    ts_err err = ts_reserve(&a, &cap_l, p->n + 1, 8);
    if (!err)
        p->l = a, err = ts_reserve(&b, &cap_r, p->n + 1, 8);
    if (err) {
        char size[32];
        ts_format_bytes(16.0 * (double)p->n * 1.5, size, sizeof size);
        TS_FAIL(TS_ERR_NOMEM, "out of memory for the matches of a join: %lld row pairs on this rank so far, %s "
                "to hold more", (long long)p->n, size);
    }
    p->r = b, p->cap = cap_l < cap_r ? cap_l : cap_r;
    return TS_OK;
}

static inline ts_err push_pair(pairs *p, int64_t l, int64_t r)
{
    if (p->n == p->cap) /* rare: the arrays grow geometrically */
        TS_TRY(grow_pairs(p));
    p->l[p->n] = l, p->r[p->n++] = r;
    return TS_OK;
}

static ts_err probe(const ts_key_cols *lk, const ts_key_cols *rk, int64_t nl, const build_table *b,
                    ts_join_type type, uint8_t *matched, pairs *p)
{
    uint64_t *lh = ts_big(8 * (size_t)(nl + 1));
    if (!lh)
        TS_FAIL(TS_ERR_NOMEM, "out of memory probing a join");
    ts_key_hash_rows(lk, nl, lh);
    ts_err err = TS_OK;
    int nullable = 0; /* skip the per-row NULL test when no key column has NULLs */
    for (int c = 0; c < lk->n; c++)
        nullable |= lk->col[c]->valid != NULL && !ts_key_null_equal(lk->null_equal, c);
    for (int64_t i = 0; i < nl && !err; i++) {
        int found = 0;
        if (!nullable || !ts_key_has_null(lk, i)) {
            for (int64_t j = b->head[lh[i] & b->mask]; j >= 0 && !err; j = b->next[j]) {
                if (b->hash[j] != lh[i] || !ts_key_equal(lk, i, rk, j))
                    continue;
                found = 1, matched[j] = 1;
                if (type == TS_JOIN_SEMI || type == TS_JOIN_ANTI)
                    break;
                err = push_pair(p, i, j);
            }
        }
        if (!err && ((type == TS_JOIN_SEMI && found) || (type == TS_JOIN_ANTI && !found) ||
                     (!found && (type == TS_JOIN_LEFT || type == TS_JOIN_FULL))))
            err = push_pair(p, i, -1);
    }
    ts_free(lh);
    return err;
}

/* ---- integer keys: the common case, without per-value dispatch ----------------------------------------------- */

/* One or two integer-like key columns per side (INT32, INT64, DATE, DECIMAL of one scale, BOOL), no NULL-equal
 * keys: the values as int64 arrays (the columns' own when 8 bytes wide) and their validity. */
typedef struct int_keys {
    int n;
    const int64_t *v[2];
    int64_t *own[2];
    const ts_column *col[2];
} int_keys;

static int int_family(const ts_column *c)
{
    return c->type == TS_T_INT32 || c->type == TS_T_INT64 || c->type == TS_T_DATE || c->type == TS_T_DECIMAL ||
           c->type == TS_T_BOOL;
}

static int int_keys_apply(const ts_key_cols *lk, const ts_key_cols *rk)
{
    if (lk->n > 2 || lk->null_equal)
        return 0;
    for (int k = 0; k < lk->n; k++)
        if (!int_family(lk->col[k]) || !int_family(rk->col[k]))
            return 0;
    return 1;
}

static void int_keys_free(int_keys *k)
{
    for (int i = 0; i < k->n; i++)
        ts_free(k->own[i]);
}

static ts_err int_keys_of(const ts_key_cols *kc, int64_t n, int_keys *out)
{
    memset(out, 0, sizeof *out);
    out->n = kc->n;
    for (int k = 0; k < kc->n; k++) {
        const ts_column *c = kc->col[k];
        out->col[k] = c;
        if (ts_type_width(c->type) == 8) {
            out->v[k] = TS_COL(c, int64_t);
            continue;
        }
        if (!(out->own[k] = ts_big(8 * (size_t)(n + 1)))) {
            int_keys_free(out);
            TS_FAIL(TS_ERR_NOMEM, "out of memory for join keys");
        }
        for (int64_t i = 0; i < n; i++)
            out->own[k][i] = ts_key_value(c, i);
        out->v[k] = out->own[k];
    }
    return TS_OK;
}

static inline uint64_t int_hash(const int_keys *k, int64_t i)
{
    uint64_t h = ts_hash_u64((uint64_t)k->v[0][i]);
    return k->n == 2 ? ts_hash_u64(h ^ (uint64_t)k->v[1][i]) : h;
}

static inline int int_null(const int_keys *k, int64_t i)
{
    return (k->col[0]->valid && !ts_column_is_valid(k->col[0], i)) ||
           (k->n == 2 && k->col[1]->valid && !ts_column_is_valid(k->col[1], i));
}

static inline int int_equal(const int_keys *a, int64_t i, const int_keys *b, int64_t j)
{
    return a->v[0][i] == b->v[0][j] && (a->n == 1 || a->v[1][i] == b->v[1][j]);
}

/* build + probe of ts_hash_join_local for integer keys: the same pairs in the same order. */
static ts_err int_join(const ts_key_cols *lkc, const ts_key_cols *rkc, int64_t nl, int64_t nr, ts_join_type type,
                       uint8_t *matched, pairs *p)
{
    int_keys lk, rk;
    TS_TRY(int_keys_of(lkc, nl, &lk));
    ts_err err = int_keys_of(rkc, nr, &rk);
    if (err) {
        int_keys_free(&lk);
        return err;
    }
    uint64_t slots = 16;
    while (slots < (uint64_t)nr * 2)
        slots <<= 1;
    const uint64_t mask = slots - 1;
    int64_t *head = ts_big(8 * slots), *next = ts_big(8 * (size_t)(nr + 1));
    err = head && next ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory building "
                                                "a join table of %lld rows", (long long)nr);
    if (!err) {
        memset(head, 0xff, 8 * slots);
        const int rnull = rk.col[0]->valid || (rk.n == 2 && rk.col[1]->valid);
        for (int64_t j = nr - 1; j >= 0; j--) { /* backwards: chains list rows in ascending order */
            if (rnull && int_null(&rk, j))
                continue;
            const uint64_t s = int_hash(&rk, j) & mask;
            next[j] = head[s], head[s] = j;
        }
        const int lnull = lk.col[0]->valid || (lk.n == 2 && lk.col[1]->valid);
        const int stop_first = type == TS_JOIN_SEMI || type == TS_JOIN_ANTI;
        const int keep_unmatched = type == TS_JOIN_LEFT || type == TS_JOIN_FULL;
        for (int64_t i = 0; i < nl && !err; i++) {
            int found = 0;
            if (!lnull || !int_null(&lk, i))
                for (int64_t j = head[int_hash(&lk, i) & mask]; j >= 0 && !err; j = next[j]) {
                    if (!int_equal(&lk, i, &rk, j))
                        continue;
                    found = 1, matched[j] = 1;
                    if (stop_first)
                        break;
                    err = push_pair(p, i, j);
                }
            if (!err && ((type == TS_JOIN_SEMI && found) || (type == TS_JOIN_ANTI && !found) ||
                         (!found && keep_unmatched)))
                err = push_pair(p, i, -1);
        }
    }
    ts_free(head), ts_free(next);
    int_keys_free(&lk), int_keys_free(&rk);
    return err;
}

static ts_err assemble(const ts_table *left, const ts_table *right, const ts_join_spec *spec, const pairs *p,
                       ts_table **out)
{
    TS_TRY(ts_join_schema(left, right, spec, out));
    const ts_column **rc = NULL;
    int nr = 0;
    ts_err err = right_outputs(right, spec, &rc, &nr);
    for (int c = 0; c < left->ncols && !err; c++)
        err = ts_column_append_rows_or_null((*out)->cols[c], left->cols[c], p->l, p->n);
    for (int k = 0; k < nr && !err; k++)
        err = ts_column_append_rows_or_null((*out)->cols[left->ncols + k], rc[k], p->r, p->n);
    free(rc);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

/* The key columns of both sides, checked comparable, with the spec's NULL-equal flags. */
static ts_err resolve_keys(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_key_cols *lk,
                           ts_key_cols *rk)
{
    TS_TRY(ts_key_cols_resolve(left, spec->left_keys, spec->nkeys, lk));
    TS_TRY(ts_key_cols_resolve(right, spec->right_keys, spec->nkeys, rk));
    TS_TRY(ts_key_cols_compatible(lk, rk));
    lk->null_equal = rk->null_equal = spec->null_equal;
    return TS_OK;
}

ts_err ts_hash_semi_flags(const ts_table *left, const ts_table *right, const ts_join_spec *spec,
                          uint8_t *left_matched)
{
    ts_key_cols lk, rk;
    TS_TRY(resolve_keys(left, right, spec, &lk, &rk));
    const int64_t nl = ts_table_rows(left), nr = ts_table_rows(right);
    build_table b = {0};
    TS_TRY(build(&lk, nl, &b));
    uint64_t *rh = ts_big(8 * (size_t)(nr + 1));
    if (!rh) {
        build_free(&b);
        TS_FAIL(TS_ERR_NOMEM, "out of memory probing a join");
    }
    ts_key_hash_rows(&rk, nr, rh);
    int nullable = 0;
    for (int c = 0; c < rk.n; c++)
        nullable |= rk.col[c]->valid != NULL && !ts_key_null_equal(rk.null_equal, c);
    for (int64_t j = 0; j < nr; j++) {
        if (nullable && ts_key_has_null(&rk, j))
            continue;
        for (int64_t i = b.head[rh[j] & b.mask]; i >= 0; i = b.next[i])
            if (!left_matched[i] && b.hash[i] == rh[j] && ts_key_equal(&lk, i, &rk, j))
                left_matched[i] = 1; /* every left row with this key is on the chain: keep walking */
    }
    ts_free(rh);
    build_free(&b);
    return TS_OK;
}

ts_err ts_semi_output(const ts_table *left, ts_join_type type, const uint8_t *left_matched, ts_table **out)
{
    const int64_t nl = ts_table_rows(left);
    int64_t *idx = ts_big(8 * (size_t)(nl + 1)), n = 0;
    if (!idx)
        TS_FAIL(TS_ERR_NOMEM, "out of memory in a join");
    for (int64_t i = 0; i < nl; i++)
        if (!left_matched[i] == (type == TS_JOIN_ANTI))
            idx[n++] = i;
    ts_err err = ts_table_new_like(left, left->name, out);
    if (!err && (err = ts_table_append_rows(*out, left, idx, n)) != TS_OK)
        ts_table_free(*out), *out = NULL;
    ts_free(idx);
    return err;
}

ts_err ts_hash_join_local(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out,
                          uint8_t *right_matched)
{
    if (spec->build_left && (spec->type == TS_JOIN_SEMI || spec->type == TS_JOIN_ANTI)) {
        uint8_t *flags = ts_big_zero((size_t)ts_table_rows(left) + 1);
        if (!flags)
            TS_FAIL(TS_ERR_NOMEM, "out of memory in a join");
        ts_err err = ts_hash_semi_flags(left, right, spec, flags);
        if (!err)
            err = ts_semi_output(left, spec->type, flags, out);
        ts_free(flags);
        return err;
    }
    ts_key_cols lk, rk;
    TS_TRY(resolve_keys(left, right, spec, &lk, &rk));
    const int64_t nl = ts_table_rows(left), nr = ts_table_rows(right);
    build_table b = {0};
    pairs p = {0};
    uint8_t *matched = right_matched ? right_matched : ts_big_zero((size_t)nr + 1);
    if (right_matched)
        memset(right_matched, 0, (size_t)nr);
    ts_err err = matched ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in a join");
    if (!err && int_keys_apply(&lk, &rk)) {
        err = int_join(&lk, &rk, nl, nr, spec->type, matched, &p);
    } else if (!err) {
        err = build(&rk, nr, &b);
        if (!err)
            err = probe(&lk, &rk, nl, &b, spec->type, matched, &p);
    }
    const int tail = !right_matched && (spec->type == TS_JOIN_RIGHT || spec->type == TS_JOIN_FULL);
    for (int64_t j = 0; tail && !err && j < nr; j++)
        if (!matched[j])
            err = push_pair(&p, -1, j);
    if (!err)
        err = assemble(left, right, spec, &p, out);
    build_free(&b);
    ts_free(p.l), ts_free(p.r);
    if (!right_matched)
        ts_free(matched);
    return err;
}
