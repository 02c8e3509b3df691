#include "ts_hashjoin.h"

#include <stdlib.h>
#include <string.h>

#include "ts_join_probe.h"
#include "ts_keyhash.h"
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
static int right_outputs(const ts_table *right, const ts_join_spec *spec, const ts_column **cols)
{
    int n = 0;
    if (!keeps_right(spec->type))
        return 0;
    if (spec->right_cols) {
        for (int k = 0; k < spec->nright; k++)
            cols[n++] = ts_table_col(right, spec->right_cols[k]);
        return n;
    }
    for (int c = 0; c < right->ncols; c++)
        if (!is_key(spec, right->cols[c]->name))
            cols[n++] = right->cols[c];
    return n;
}

ts_err ts_join_schema(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out)
{
    const ts_column *rc[TS_MAX_COLS];
    for (int k = 0; spec->right_cols && k < spec->nright; k++)
        if (!ts_table_col(right, spec->right_cols[k]))
            TS_FAIL(TS_ERR_USAGE, "join: right table '%s' has no column '%s'", right->name, spec->right_cols[k]);
    const int nr = right_outputs(right, spec, rc);
    TS_TRY(ts_table_new_like(left, left->name, out));
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
            return err;
        }
    }
    return TS_OK;
}

/* Matched (left, right) row pairs; -1 stands for "no row" on that side. */
typedef struct pairs {
    int64_t *l, *r, n, cap;
} pairs;

static ts_err grow_pairs(pairs *p)
{
    int64_t cap = p->cap;
    void *a = p->l, *b = p->r;
    TS_TRY(ts_reserve(&a, &cap, p->n + 1, 8));
    cap = p->cap;
    TS_TRY(ts_reserve(&b, &cap, p->n + 1, 8));
    p->l = a, p->r = b, p->cap = cap;
    return TS_OK;
}

static inline ts_err push_pair(pairs *p, int64_t l, int64_t r)
{
    if (p->n == p->cap) /* rare: the arrays grow geometrically */
        TS_TRY(grow_pairs(p));
    p->l[p->n] = l, p->r[p->n++] = r;
    return TS_OK;
}

typedef struct probe_state {
    pairs *p;
    ts_join_type type;
    uint8_t *matched;
    int64_t base;   /* left row of match index 0 */
    uint8_t *found; /* per left row of the block */
    ts_err err;
} probe_state;

static int on_match(void *arg, int64_t k, int64_t right_row)
{
    probe_state *s = arg;
    s->found[k] = 1, s->matched[right_row] = 1;
    if (s->type == TS_JOIN_SEMI || s->type == TS_JOIN_ANTI)
        return 1;
    if (!s->err)
        s->err = push_pair(s->p, s->base + k, right_row);
    return s->err != TS_OK;
}

/* Left rows in blocks: hashes of a block, then its matches through the table (ops/ts_join_probe.h). */
static ts_err probe(const ts_key_cols *lk, int64_t nl, const ts_join_ht *ht, ts_join_type type, uint8_t *matched,
                    pairs *p)
{
    enum { BLOCK = 4096 };
    uint64_t h[BLOCK];
    uint8_t found[BLOCK];
    probe_state s = {p, type, matched, 0, found, TS_OK};
    for (int64_t at = 0; at < nl && !s.err; at += BLOCK) {
        const int64_t m = nl - at < BLOCK ? nl - at : BLOCK;
        ts_key_cols view = *lk; /* the block's rows as rows 0 .. m-1 (BLOCK is a multiple of 64: validity aligns) */
        ts_column cols[8];
        for (int c = 0; c < lk->n; c++) {
            cols[c] = *lk->col[c];
            cols[c].data = (char *)cols[c].data + (size_t)at * ts_type_width(cols[c].type);
            cols[c].valid = cols[c].valid ? cols[c].valid + at / 64 : NULL;
            view.col[c] = &cols[c];
        }
        ts_key_hash_sel(view.col, view.n, NULL, m, h);
        memset(found, 0, (size_t)m);
        s.base = at;
        ts_join_ht_probe(ht, &view, NULL, m, h, on_match, &s);
        for (int64_t k = 0; k < m && !s.err; k++)
            if ((type == TS_JOIN_SEMI && found[k]) || (type == TS_JOIN_ANTI && !found[k]) ||
                (!found[k] && (type == TS_JOIN_LEFT || type == TS_JOIN_FULL)))
                s.err = push_pair(p, at + k, -1);
    }
    return s.err;
}

static ts_err assemble(const ts_table *left, const ts_table *right, const ts_join_spec *spec, const pairs *p,
                       ts_table **out)
{
    TS_TRY(ts_join_schema(left, right, spec, out));
    const ts_column *rc[TS_MAX_COLS];
    const int nr = right_outputs(right, spec, rc);
    ts_err err = TS_OK;
    for (int c = 0; c < left->ncols && !err; c++)
        err = ts_column_append_rows_or_null((*out)->cols[c], left->cols[c], p->l, p->n);
    for (int k = 0; k < nr && !err; k++)
        err = ts_column_append_rows_or_null((*out)->cols[left->ncols + k], rc[k], p->r, p->n);
    if (err) {
        ts_table_free(*out);
        *out = NULL;
    }
    return err;
}

ts_err ts_hash_join_local(const ts_table *left, const ts_table *right, const ts_join_spec *spec, ts_table **out,
                          uint8_t *right_matched)
{
    ts_key_cols lk, rk;
    TS_TRY(ts_key_cols_resolve(left, spec->left_keys, spec->nkeys, &lk));
    TS_TRY(ts_key_cols_resolve(right, spec->right_keys, spec->nkeys, &rk));
    TS_TRY(ts_key_cols_compatible(&lk, &rk));
    const int64_t nl = ts_table_rows(left), nr = ts_table_rows(right);
    ts_join_ht *ht = NULL;
    pairs p = {0};
    uint8_t *matched = right_matched ? right_matched : ts_big_zero((size_t)nr + 1);
    if (right_matched)
        memset(right_matched, 0, (size_t)nr);
    ts_err err = matched ? ts_join_ht_build(right, spec->right_keys, spec->nkeys, &ht)
                         : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in a join");
    if (!err)
        err = probe(&lk, nl, ht, spec->type, matched, &p);
    const int tail = !right_matched && (spec->type == TS_JOIN_RIGHT || spec->type == TS_JOIN_FULL);
    for (int64_t j = 0; tail && !err && j < nr; j++)
        if (!matched[j])
            err = push_pair(&p, -1, j);
    if (!err)
        err = assemble(left, right, spec, &p, out);
    ts_join_ht_free(ht);
    ts_free(p.l), ts_free(p.r);
    if (!right_matched)
        ts_free(matched);
    return err;
}
