/* Window operator: validation, hash partitioning, partition numbering, the local sort and the boundary pass.
 * The per-function kernels are in ts_window_eval.c. */
#include "ts_window.h"

#include <stdlib.h>
#include <string.h>

#include "ts_exchange.h"
#include "ts_keyhash.h"
#include "ts_mem.h"
#include "ts_partition.h"
#include "ts_topk_group.h"
#include "ts_window_eval.h"

#define PART_COL "__win_part" /* dense partition number, the first sort key */

/* ---- validation ------------------------------------------------------------------------------------------- */

static int reads_input(ts_window_kind k)
{
    return k == TS_WIN_LAG || k == TS_WIN_LEAD || k == TS_WIN_FIRST_VALUE || k == TS_WIN_LAST_VALUE ||
           k == TS_WIN_SUM || k == TS_WIN_AVG || k == TS_WIN_MIN || k == TS_WIN_MAX;
}

static ts_err check_frame(const ts_window_fn *fn)
{
    const ts_window_frame *f = &fn->frame;
    if (f->start == TS_FRAME_UNBOUNDED_FOLLOWING || f->end == TS_FRAME_UNBOUNDED_PRECEDING ||
        (unsigned)f->start > TS_FRAME_UNBOUNDED_FOLLOWING || (unsigned)f->end > TS_FRAME_UNBOUNDED_FOLLOWING)
        TS_FAIL(TS_ERR_USAGE, "window '%s': a frame cannot start at UNBOUNDED FOLLOWING or end at UNBOUNDED "
                "PRECEDING", fn->output);
    const int start_n = f->start == TS_FRAME_PRECEDING || f->start == TS_FRAME_FOLLOWING;
    const int end_n = f->end == TS_FRAME_PRECEDING || f->end == TS_FRAME_FOLLOWING;
    if (!f->rows && (start_n || end_n))
        TS_FAIL(TS_ERR_USAGE, "window '%s': RANGE frames with n PRECEDING/FOLLOWING are not supported (use ROWS)",
                fn->output);
    if ((start_n && f->start_n < 0) || (end_n && f->end_n < 0))
        TS_FAIL(TS_ERR_USAGE, "window '%s': frame offsets must be >= 0", fn->output);
    return TS_OK;
}

static ts_err check_types(const ts_table *t, const ts_window_fn *fn)
{
    const ts_column *x = fn->input ? ts_table_col(t, fn->input) : NULL;
    if ((fn->kind == TS_WIN_SUM || fn->kind == TS_WIN_AVG) && x->type != TS_T_BOOL && x->type != TS_T_INT32 &&
        x->type != TS_T_INT64 && x->type != TS_T_DECIMAL && x->type != TS_T_FLOAT64) {
        char buf[32];
        TS_FAIL(TS_ERR_USAGE, "window '%s': cannot sum or average '%s' of type %s", fn->output, x->name,
                ts_type_name(x->type, x->scale, buf, sizeof buf));
    }
    if ((fn->kind == TS_WIN_LAG || fn->kind == TS_WIN_LEAD) && fn->default_col) {
        ts_column *d;
        TS_TRY(ts_table_need(t, fn->default_col, &d));
        if (d->type != x->type || d->scale != x->scale || d->dict != x->dict)
            TS_FAIL(TS_ERR_USAGE, "window '%s': default column '%s' must have the type (and dictionary) of '%s'",
                    fn->output, d->name, x->name);
    }
    if (fn->offset_col) {
        ts_column *o;
        TS_TRY(ts_table_need(t, fn->offset_col, &o));
        if (fn->kind != TS_WIN_LAG && fn->kind != TS_WIN_LEAD && fn->kind != TS_WIN_NTILE)
            TS_FAIL(TS_ERR_USAGE, "window '%s': only lag, lead and ntile take a per-row offset", fn->output);
        if (o->type != TS_T_INT64)
            TS_FAIL(TS_ERR_USAGE, "window '%s': the offset column '%s' must be INT64", fn->output, o->name);
        return TS_OK;
    }
    if (fn->kind == TS_WIN_NTILE && fn->offset < 1)
        TS_FAIL(TS_ERR_USAGE, "window '%s': ntile needs a bucket count >= 1, not %lld", fn->output,
                (long long)fn->offset);
    return TS_OK;
}

static ts_err check_fn(const ts_table *t, const ts_window_spec *spec, int k)
{
    const ts_window_fn *fn = &spec->fns[k];
    if (!fn->output || !*fn->output)
        TS_FAIL(TS_ERR_USAGE, "window function %d has no output name", k);
    if ((unsigned)fn->kind > TS_WIN_MAX)
        TS_FAIL(TS_ERR_USAGE, "window '%s': unknown function kind %d", fn->output, (int)fn->kind);
    if (ts_table_col(t, fn->output) || strcmp(fn->output, PART_COL) == 0)
        TS_FAIL(TS_ERR_USAGE, "window '%s': table '%s' already has a column of that name", fn->output, t->name);
    for (int j = 0; j < k; j++)
        if (strcmp(spec->fns[j].output, fn->output) == 0)
            TS_FAIL(TS_ERR_USAGE, "window: two functions are named '%s'", fn->output);
    if (reads_input(fn->kind) && !fn->input)
        TS_FAIL(TS_ERR_USAGE, "window '%s': this function needs an input column", fn->output);
    if (fn->input && (reads_input(fn->kind) || fn->kind == TS_WIN_COUNT)) {
        ts_column *x;
        TS_TRY(ts_table_need(t, fn->input, &x));
    }
    TS_TRY(check_types(t, fn));
    if (fn->has_frame)
        TS_TRY(check_frame(fn));
    return TS_OK;
}

static int ranking(ts_window_kind k);

static ts_err check_spec(const ts_table *t, const ts_window_spec *spec)
{
    if (spec->npartition < 0 || spec->npartition > TS_KEY_COLS_MAX || spec->norder < 0 || spec->norder > 7 ||
        spec->nfns < 0)
        TS_FAIL(TS_ERR_USAGE, "window: 0..%d PARTITION BY columns and 0..7 ORDER BY keys, not %d and %d",
                TS_KEY_COLS_MAX, spec->npartition, spec->norder);
    if (ts_table_col(t, PART_COL))
        TS_FAIL(TS_ERR_USAGE, "window: table '%s' has a column named '%s', reserved", t->name, PART_COL);
    ts_column *c;
    for (int k = 0; k < spec->npartition; k++)
        TS_TRY(ts_table_need(t, spec->partition[k], &c));
    for (int k = 0; k < spec->norder; k++)
        TS_TRY(ts_table_need(t, spec->order[k].name, &c));
    for (int k = 0; k < spec->nfns; k++)
        TS_TRY(check_fn(t, spec, k));
    if (spec->topk > 0) {
        if (spec->topk_fn < 0 || spec->topk_fn >= spec->nfns || !spec->norder)
            TS_FAIL(TS_ERR_USAGE, "window: a top-k filter needs ORDER BY and one of the functions, not %d",
                    spec->topk_fn);
        for (int k = 0; k < spec->nfns; k++)
            if (!ranking(spec->fns[k].kind))
                TS_FAIL(TS_ERR_USAGE, "window '%s': a top-k filter needs ranking functions only (ROW_NUMBER, RANK, "
                        "DENSE_RANK)", spec->fns[k].output);
    }
    return TS_OK;
}

/* ---- top k per partition ---------------------------------------------------------------------------------------- */

static int ranking(ts_window_kind k) { return k == TS_WIN_ROW_NUMBER || k == TS_WIN_RANK || k == TS_WIN_DENSE_RANK; }

/* Drops the rows that cannot pass the filter above (spec->topk): run on each rank's rows before the exchange (so
 * only survivors move) and after it (so only k per partition are sorted). */
static ts_err keep_top(ts_table *t, const ts_window_spec *spec)
{
    if (spec->topk <= 0 || spec->npartition > TS_MAX_COLS)
        return TS_OK;
    const ts_window_kind f = spec->fns[spec->topk_fn].kind;
    const ts_topk_kind kind = f == TS_WIN_RANK ? TS_TOPK_RANK : f == TS_WIN_DENSE_RANK ? TS_TOPK_DENSE_RANK
                                                                                         : TS_TOPK_ROW_NUMBER;
    return ts_topk_group_keep(t, spec->partition, spec->npartition, spec->order, spec->norder, spec->topk, kind);
}

/* ---- distribution ------------------------------------------------------------------------------------------ */

/* Window partitions onto ranks by the one partitioning function (ts_partition_dest; without PARTITION BY every row
 * goes to rank 0). An input already partitioned on a subset of the PARTITION BY columns stays where it is; the
 * output records the partitioning, so an operator above on the same keys skips its exchange. */
static ts_err distribute(ts_ctx *ctx, ts_table **t, const ts_window_spec *spec)
{
    if (ctx->size == 1 || (spec->npartition > 0 && ts_partitioned_on(*t, spec->partition, spec->npartition)))
        return TS_OK;
    int32_t *dest = ts_big(4 * (size_t)(ts_table_rows(*t) + 1));
    ts_err err = dest ? ts_partition_dest(*t, spec->partition, spec->npartition, ctx->size, dest)
                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory in window");
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_exchange_rows_move(ctx, t, dest);
    ts_free(dest);
    TS_TRY(err);
    if (spec->npartition > 0)
        ts_table_set_partitioned(*t, spec->partition, spec->npartition);
    return TS_OK;
}

/* ---- partition numbers --------------------------------------------------------------------------------------- */

/* Key equality where NULL equals NULL: rows with NULL keys share a partition. */
static int same_partition(const ts_key_cols *k, int64_t i, int64_t j) { return ts_key_same(k, i, j); }

/* Open addressing over partition numbers; slot = the high bits of a multiplied hash (the low bits of the hash
 * chose this rank, so they are nearly constant here). Sized by the partitions seen, not by the rows, so it
 * stays in cache when partitions are few. */
typedef struct part_set {
    int64_t *slot, *rep; /* slot: partition number or -1; rep[g]: a row of partition g */
    uint64_t *hash;      /* hash[g] */
    int64_t ng, rep_cap, hash_cap;
    int bits;
} part_set;

static uint64_t slot_of(uint64_t h, int bits) { return (h * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - bits); }

static ts_err part_set_grow(part_set *s)
{
    const int bits = s->bits + 1;
    int64_t *slot = ts_big(8 * ((size_t)1 << bits));
    if (!slot)
        TS_FAIL(TS_ERR_NOMEM, "out of memory numbering %lld window partitions", (long long)s->ng);
    memset(slot, 0xff, 8 * ((size_t)1 << bits));
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    for (int64_t g = 0; g < s->ng; g++) {
        uint64_t at = slot_of(s->hash[g], bits);
        while (slot[at] >= 0)
            at = (at + 1) & mask;
        slot[at] = g;
    }
    ts_free(s->slot);
    s->slot = slot, s->bits = bits;
    return TS_OK;
}

static ts_err part_set_add(part_set *s, int64_t row, uint64_t h, uint64_t at)
{
    TS_TRY(ts_reserve((void **)&s->rep, &s->rep_cap, s->ng + 1, 8));
    TS_TRY(ts_reserve((void **)&s->hash, &s->hash_cap, s->ng + 1, 8));
    s->rep[s->ng] = row, s->hash[s->ng] = h, s->slot[at] = s->ng++;
    if (2 * s->ng > ((int64_t)1 << s->bits))
        TS_TRY(part_set_grow(s));
    return TS_OK;
}

/* gid[i] = number of row i's partition (0.. in order of first appearance). */
static ts_err number_partitions(const ts_table *t, const ts_key_cols *k, const uint64_t *h, int64_t *gid)
{
    part_set s = {0};
    s.bits = 9;
    ts_err err = part_set_grow(&s);
    const int64_t n = ts_table_rows(t);
    for (int64_t i = 0; !err && i < n; i++) {
        const uint64_t mask = ((uint64_t)1 << s.bits) - 1;
        uint64_t at = slot_of(h[i], s.bits);
        int64_t g;
        while ((g = s.slot[at]) >= 0 && !(s.hash[g] == h[i] && same_partition(k, s.rep[g], i)))
            at = (at + 1) & mask;
        if (g < 0) {
            g = s.ng;
            err = part_set_add(&s, i, h[i], at);
        }
        gid[i] = g;
    }
    ts_free(s.slot), ts_free(s.rep), ts_free(s.hash);
    TS_TRY(err);
    return TS_OK;
}

/* Adds PART_COL (partition numbers) to t. */
static ts_err add_partition_column(ts_table *t, const ts_window_spec *spec)
{
    ts_key_cols k;
    TS_TRY(ts_key_cols_resolve(t, spec->partition, spec->npartition, &k));
    const int64_t n = ts_table_rows(t);
    ts_column *c;
    TS_TRY(ts_table_add(t, PART_COL, TS_T_INT64, 0, NULL, &c));
    TS_TRY(ts_column_reserve(c, n, 0));
    c->len = n;
    uint64_t *h = ts_big(8 * (size_t)(n + 1));
    if (!h)
        TS_FAIL(TS_ERR_NOMEM, "out of memory numbering window partitions over %lld rows", (long long)n);
    ts_key_hash_rows(&k, n, h);
    const ts_err err = number_partitions(t, &k, h, TS_COL(c, int64_t));
    ts_free(h);
    TS_TRY(err);
    return TS_OK;
}

static void drop_column(ts_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++) {
        if (strcmp(t->cols[i]->name, name) != 0)
            continue;
        ts_column_free(t->cols[i]);
        memmove(t->cols + i, t->cols + i + 1, sizeof *t->cols * (size_t)(t->ncols - i - 1));
        t->ncols--;
        return;
    }
}

/* ---- sort and boundaries ------------------------------------------------------------------------------------- */

/* Sorts t by (partition number, ORDER BY keys). */
static ts_err sort_rows(ts_table **t, const ts_window_spec *spec)
{
    ts_sort_key keys[8];
    int nk = 0;
    if (spec->npartition > 0) {
        TS_TRY(add_partition_column(*t, spec));
        keys[nk++] = (ts_sort_key){PART_COL, 0, 0};
    }
    for (int k = 0; k < spec->norder; k++)
        keys[nk++] = spec->order[k];
    if (nk > 0)
        TS_TRY(ts_sort_local_by(t, keys, nk));
    return TS_OK;
}

/* Same ORDER BY values (NULL equal to NULL): rows i and i-1 are peers. */
static int same_order(const ts_column *const *ord, int norder, int64_t i, int64_t j)
{
    for (int k = 0; k < norder; k++) {
        const int vi = ts_column_is_valid(ord[k], i), vj = ts_column_is_valid(ord[k], j);
        if (vi != vj || (vi && ts_win_cmp(ord[k], i, j) != 0))
            return 0;
    }
    return 1;
}

/* Same PARTITION BY values (NULL equal to NULL, -0 to +0, NaN to NaN: the partition numbering's equality). */
static int same_keys(const ts_key_cols *k, int64_t i, int64_t j)
{
    for (int c = 0; c < k->n; c++) {
        const int vi = ts_column_is_valid(k->col[c], i), vj = ts_column_is_valid(k->col[c], j);
        if (vi != vj || (vi && ts_win_cmp(k->col[c], i, j) != 0))
            return 0;
    }
    return 1;
}

/* Partition starts (pstart, np + 1 entries) and peer group starts (newpeer, only with ORDER BY). Partitions are
 * told apart by PART_COL's numbers or, without that column (rows sorted by the keys themselves), by key values. */
static ts_err find_bounds(const ts_table *t, const ts_window_spec *spec, int64_t *pstart, int64_t *np,
                          uint8_t *newpeer)
{
    const int64_t n = ts_table_rows(t);
    const ts_column *pc = spec->npartition ? ts_table_col(t, PART_COL) : NULL;
    const int64_t *gid = pc ? TS_COL(pc, int64_t) : NULL;
    ts_key_cols keys = {.n = 0};
    if (spec->npartition && !pc)
        TS_TRY(ts_key_cols_resolve(t, spec->partition, spec->npartition, &keys));
    const ts_column *ord[8];
    for (int k = 0; k < spec->norder; k++)
        ord[k] = ts_table_col(t, spec->order[k].name); /* validated */
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        const int start = i == 0 || (gid && gid[i] != gid[i - 1]) || (keys.n && !same_keys(&keys, i, i - 1));
        if (start)
            pstart[m++] = i;
        if (newpeer)
            newpeer[i] = start || !same_order(ord, spec->norder, i, i - 1);
    }
    pstart[m] = n;
    *np = m;
    return TS_OK;
}

/* ---- evaluation ---------------------------------------------------------------------------------------------- */

static ts_err eval_all(ts_table *t, const ts_window_spec *spec, const ts_win_layout *lay)
{
    ts_column **out = calloc((size_t)(spec->nfns ? spec->nfns : 1), sizeof *out);
    if (!out)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d window functions", spec->nfns);
    ts_err err = TS_OK;
    for (int k = 0; !err && k < spec->nfns; k++)
        err = ts_win_eval(t, lay, &spec->fns[k], &out[k]);
    int adopted = 0;
    for (int k = 0; !err && k < spec->nfns; k++) {
        err = ts_table_adopt(t, out[k]); /* frees the column on failure */
        out[k] = NULL;
        adopted += !err;
    }
    for (int k = 0; k < spec->nfns; k++)
        ts_column_free(out[k]);
    free(out);
    for (int k = 0; err && k < adopted; k++) /* all or nothing */
        drop_column(t, spec->fns[k].output);
    TS_TRY(err);
    return TS_OK;
}

/* Everything after the exchange, on this rank's rows (presorted: already sorted by the partition keys, then the
 * ORDER BY keys). */
static ts_err window_local(ts_table **t, const ts_window_spec *spec, int presorted)
{
    ts_err err = presorted ? TS_OK : sort_rows(t, spec);
    if (err) {
        drop_column(*t, PART_COL);
        TS_TRY(err);
    }
    const int64_t n = ts_table_rows(*t);
    int64_t *pstart = ts_big(8 * (size_t)(n + 2));
    uint8_t *newpeer = spec->norder ? ts_big((size_t)n + 1) : NULL;
    if (!pstart || (spec->norder && !newpeer))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for window boundaries "
                             "over %lld rows", (long long)n);
    ts_win_layout lay = {n, pstart, 0, newpeer};
    if (!err)
        err = find_bounds(*t, spec, pstart, &lay.np, newpeer);
    drop_column(*t, PART_COL);
    if (spec->npartition)
        ts_table_set_sorted(*t, NULL, 0); /* sorted by partition number: meaningless outside */
    if (!err)
        err = eval_all(*t, spec, &lay);
    ts_free(pstart), ts_free(newpeer);
    TS_TRY(err);
    return TS_OK;
}

ts_err ts_window(ts_ctx *ctx, ts_table **t, const ts_window_spec *spec)
{
    TS_TRY(ts_ctx_check(ctx, check_spec(*t, spec)));
    TS_TRY(ts_ctx_check(ctx, keep_top(*t, spec)));
    TS_TRY(distribute(ctx, t, spec));
    if (ctx->size > 1)
        TS_TRY(ts_ctx_check(ctx, keep_top(*t, spec)));
    TS_TRY(ts_ctx_check(ctx, window_local(t, spec, 0)));
    return TS_OK;
}

ts_err ts_window_sorted(ts_table *t, const ts_window_spec *spec)
{
    ts_window_spec s = *spec;
    s.topk = 0, s.topk_fn = -1; /* the filter above still applies; keep_top would re-sort */
    TS_TRY(check_spec(t, &s));
    ts_table *tt = t;
    TS_TRY(window_local(&tt, &s, 1));
    return TS_OK;
}

int64_t ts_window_last_start(const ts_table *t, const ts_window_spec *spec)
{
    const int64_t n = ts_table_rows(t);
    ts_key_cols k;
    if (n == 0 || spec->npartition == 0 || ts_key_cols_resolve(t, spec->partition, spec->npartition, &k))
        return 0;
    if (same_keys(&k, 0, n - 1)) /* sorted: the first and last rows agree only when all rows do */
        return 0;
    int64_t i = n - 1;
    while (same_keys(&k, i - 1, n - 1))
        i--;
    return i;
}
