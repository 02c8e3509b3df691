/* engine/ops/ts_topk_group: the rows kept per group against a naive reference. The reference sorts the rows by
 * their generated values with its own comparators (group, order, then input position), numbers the
 * rows (row_number, rank, dense_rank) and keeps those numbered <= k; the kernel must return exactly those rows
 * (ROW_NUMBER keeps the earlier of equal rows). Scenarios: an INT64 order key without NULLs (64-bit codes),
 * FLOAT64 keys with -0 / +0, NaNs and NULLs (ASC, DESC, NULLS FIRST / LAST), two order keys, INT64 and VARCHAR group
 * keys with NULLs, no group key, k from 1 to 7 and k larger than every group; the streaming sink on chunks with
 * selection vectors, including a run whose displaced rows force compactions; and a bad k. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_chunk.h"
#include "ts_column.h"
#include "ts_mem.h"
#include "ts_table.h"
#include "ts_test.h"
#include "ts_topk_group.h"

typedef struct rowv {
    int g1null, g2null, o1null, o2null;
    int64_t g1;
    int g2;        /* index into POOL */
    double o1;
    int32_t o2;
    int64_t o3;
} rowv;

static const char *POOL[] = {"", "a", "b", "ab", "ba", "longer value"};
enum { POOL_N = 6 };

typedef struct scen {
    const char *name;
    int n;
    int nkeys;                  /* keys: g1, then g2 */
    const char *key_names[2];
    int norder;
    ts_sort_key order[2];
    int o1_nulls;               /* o1 holds NULLs */
    int groups;                 /* g1 in 0 .. groups-1 */
    int trend;                  /* o3 grows with the row number: under DESC every row displaces its group's worst */
} scen;

static const scen *cur_s;
static const rowv *cur_v;

/* ---- the reference ------------------------------------------------------------------------------------------------ */

static int same_group(const scen *s, const rowv *a, const rowv *b)
{
    for (int k = 0; k < s->nkeys; k++) {
        if (!strcmp(s->key_names[k], "g1")) {
            if (a->g1null != b->g1null || (!a->g1null && a->g1 != b->g1))
                return 0;
        } else if (a->g2null != b->g2null || (!a->g2null && a->g2 != b->g2)) {
            return 0;
        }
    }
    return 1;
}

static int cmp_num(double x, double y) /* NaN above every number, NaN == NaN, -0 == +0 */
{
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

static int ref_cmp(const rowv *a, const rowv *b)
{
    for (int k = 0; k < cur_s->norder; k++) {
        const ts_sort_key *o = &cur_s->order[k];
        int na = 0, nb = 0, c;
        double x, y;
        if (!strcmp(o->name, "o1"))
            na = a->o1null, nb = b->o1null, x = a->o1, y = b->o1;
        else if (!strcmp(o->name, "o2"))
            na = a->o2null, nb = b->o2null, x = a->o2, y = b->o2;
        else
            x = (double)a->o3, y = (double)b->o3;
        if (na || nb)
            c = na == nb ? 0 : (na ? 1 : -1) * (o->nulls_last ? 1 : -1);
        else
            c = cmp_num(x, y) * (o->desc ? -1 : 1);
        if (c)
            return c;
    }
    return 0;
}

/* The group's key tuple as a total order (NULL first), for sorting rows by group. */
static int group_cmp(const rowv *a, const rowv *b)
{
    for (int k = 0; k < cur_s->nkeys; k++) {
        const int g1 = !strcmp(cur_s->key_names[k], "g1");
        const int na = g1 ? a->g1null : a->g2null, nb = g1 ? b->g1null : b->g2null;
        const int64_t x = na ? 0 : g1 ? a->g1 : a->g2, y = nb ? 0 : g1 ? b->g1 : b->g2;
        if (na != nb || x != y)
            return na != nb ? nb - na : (x > y) - (x < y);
    }
    return 0;
}

/* Rows by group, then by the order, then by input position. */
static int by_group_order_index(const void *pa, const void *pb)
{
    const int64_t i = *(const int64_t *)pa, j = *(const int64_t *)pb;
    int c = group_cmp(&cur_v[i], &cur_v[j]);
    if (!c)
        c = ref_cmp(&cur_v[i], &cur_v[j]);
    return c ? c : (i > j) - (i < j);
}

/* keep[i] = 1 for the rows whose number (kind) in their group is <= k, among the rows with use[i] (NULL: all). */
static void reference(const scen *s, const rowv *v, const uint8_t *use, int64_t k, ts_topk_kind kind, uint8_t *keep)
{
    int64_t *rows = malloc(sizeof *rows * (size_t)s->n), m = 0;
    cur_s = s, cur_v = v;
    for (int i = 0; i < s->n; i++)
        if (!use || use[i])
            rows[m++] = i;
    qsort(rows, (size_t)m, sizeof *rows, by_group_order_index);
    memset(keep, 0, (size_t)s->n);
    int64_t p = 0, rank = 1, dense = 1;
    for (int64_t q = 0; q < m; q++, p++) {
        if (q == 0 || !same_group(s, &v[rows[q - 1]], &v[rows[q]]))
            p = 0, rank = 1, dense = 1; /* a new group */
        else if (ref_cmp(&v[rows[q - 1]], &v[rows[q]]) != 0)
            rank = p + 1, dense++;
        const int64_t num = kind == TS_TOPK_ROW_NUMBER ? p + 1 : kind == TS_TOPK_RANK ? rank : dense;
        keep[rows[q]] = num <= k;
    }
    free(rows);
}

/* ---- the table ---------------------------------------------------------------------------------------------------- */

static void generate(const scen *s, ts_test_rng *r, rowv *v)
{
    static const double F[] = {0.0, -0.0, 1.5, -2.25, 7.0, 1e300, -1e300};
    for (int i = 0; i < s->n; i++) {
        rowv *x = &v[i];
        memset(x, 0, sizeof *x);
        x->g1null = ts_rng_below(r, 19) == 0;
        x->g1 = x->g1null ? 0 : (int64_t)ts_rng_below(r, (uint64_t)s->groups) * 1000003;
        if (s->trend && !x->g1null && 2 * i >= s->n) /* new groups: compactions renumber the first half's rows */
            x->g1 += 100;
        x->g2null = ts_rng_below(r, 23) == 0;
        x->g2 = x->g2null ? 0 : (int)ts_rng_below(r, POOL_N);
        const uint64_t c = ts_rng_below(r, 9);
        x->o1 = c == 7 ? NAN : c == 8 ? -NAN : F[c];
        x->o1null = s->o1_nulls && ts_rng_below(r, 11) == 0;
        x->o2null = ts_rng_below(r, 13) == 0;
        x->o2 = x->o2null ? 0 : (int32_t)ts_rng_range(r, -5, 5);
        x->o3 = s->trend ? i / 3 : ts_rng_range(r, -40, 40) * (INT64_C(1) << 40); /* ties, large values */
    }
}

static ts_err build(const scen *s, const rowv *v, ts_table **out)
{
    ts_table *t;
    ts_column *g1, *g2, *o1, *o2, *o3, *id;
    TS_TRY(ts_table_new("t", &t));
    ts_err err = ts_table_add(t, "g1", TS_T_INT64, 0, NULL, &g1);
    if (!err)
        err = ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id);
    if (!err)
        err = ts_table_add(t, "g2", TS_T_STRING, 0, NULL, &g2);
    if (!err)
        err = ts_table_add(t, "o1", TS_T_FLOAT64, 0, NULL, &o1);
    if (!err)
        err = ts_table_add(t, "o2", TS_T_INT32, 0, NULL, &o2);
    if (!err)
        err = ts_table_add(t, "o3", TS_T_INT64, 0, NULL, &o3);
    for (int i = 0; !err && i < s->n; i++) {
        err = ts_column_reserve(g1, i + 1, 0);
        if (!err)
            err = ts_column_reserve(o1, i + 1, 0);
        if (!err)
            err = ts_column_reserve(o2, i + 1, 0);
        if (!err)
            err = ts_column_reserve(o3, i + 1, 0);
        if (!err)
            err = ts_column_reserve(id, i + 1, 0);
        if (err)
            break;
        TS_COL(id, int64_t)[i] = i, id->len = i + 1;
        TS_COL(g1, int64_t)[i] = v[i].g1, TS_COL(o1, double)[i] = v[i].o1;
        TS_COL(o2, int32_t)[i] = v[i].o2, TS_COL(o3, int64_t)[i] = v[i].o3;
        g1->len = o1->len = o2->len = o3->len = i + 1;
        err = ts_column_append_string(g2, POOL[v[i].g2], (int64_t)strlen(POOL[v[i].g2]));
        if (!err && v[i].g1null)
            err = ts_column_set_null(g1, i);
        if (!err && v[i].g2null)
            err = ts_column_set_null(g2, i);
        if (!err && v[i].o1null)
            err = ts_column_set_null(o1, i);
        if (!err && v[i].o2null)
            err = ts_column_set_null(o2, i);
    }
    if (err) {
        ts_table_free(t);
        return err;
    }
    *out = t;
    return TS_OK;
}

/* The sink: the table pushed in chunks of 64 to 2048 rows (views; half of them with a selection vector), for
 * ROW_NUMBER; the kept rows (their ids) must be the reference's over the selected rows, in input order. */
static void sink_case(const scen *s, const rowv *v, const ts_table *t, ts_test_rng *r, uint8_t *want)
{
    static const int64_t K[] = {1, 2, 3, 7};
    uint8_t *use = malloc((size_t)s->n);
    for (int ki = 0; ki < 4; ki++) {
        ts_chunk *c = NULL;
        ts_op *op = NULL;
        if (!CHECK_OK(ts_chunk_new("in", &c)) || !CHECK_OK(ts_chunk_add_like(c, t, 1)) ||
            !CHECK_OK(ts_topk_group_sink_new(c, s->key_names, s->nkeys, s->order, s->norder, K[ki], &op))) {
            ts_chunk_free(c);
            break;
        }
        int ok = 1;
        for (int64_t at = 0; ok && at < s->n;) {
            int64_t m = 64 * (int64_t)ts_rng_range(r, 1, 32);
            m = m < s->n - at ? m : s->n - at;
            ok = CHECK_OK(ts_chunk_view_table(c, t, at, m));
            int32_t sel[TS_CHUNK_ROWS];
            int ns = 0;
            const int select = ts_rng_below(r, 2);
            for (int j = 0; j < m; j++) {
                use[at + j] = !select || ts_rng_below(r, 4) != 0;
                if (use[at + j])
                    sel[ns++] = j;
            }
            if (select)
                ts_chunk_select(c, sel, ns);
            ok = ok && CHECK_OK(op->vt->sink(op, c));
            at += m;
        }
        ok = ok && CHECK_OK(op->vt->finish(op, NULL, TS_OK));
        ts_table *kept = ok ? ts_topk_group_sink_take(op) : NULL;
        if (kept) {
            reference(s, v, use, K[ki], TS_TOPK_ROW_NUMBER, want);
            const ts_column *id = ts_table_col(kept, "id");
            const int64_t m = ts_table_rows(kept);
            int64_t expect = 0, wrong = 0, at = 0;
            for (int i = 0; i < s->n; i++) {
                expect += want[i];
                const int got = at < m && TS_COL(id, int64_t)[at] == i;
                at += got;
                wrong += got != want[i];
            }
            CHECK(wrong == 0 && at == m && m == expect, "sink: %s, k = %lld: %lld rows kept, %lld expected, %lld "
                  "differ", s->name, (long long)K[ki], (long long)m, (long long)expect, (long long)wrong);
        }
        ts_table_free(kept);
        ts_op_free(op);
        ts_chunk_free(c);
    }
    free(use);
}

static void run(const scen *s, uint64_t seed)
{
    ts_test_rng r = ts_rng_seed(seed);
    rowv *v = malloc(sizeof *v * (size_t)s->n);
    uint8_t *want = malloc((size_t)s->n);
    generate(s, &r, v);
    ts_table *t = NULL;
    if (!CHECK_OK(build(s, v, &t))) {
        free(v), free(want);
        return;
    }
    static const int64_t K[] = {1, 2, 3, 7, 100000};
    static const char *const KIND[] = {"row_number", "rank", "dense_rank"};
    for (int ki = 0; ki < 5; ki++)
        for (int kind = 0; kind < 3; kind++) {
            reference(s, v, NULL, K[ki], (ts_topk_kind)kind, want);
            int64_t *rows = NULL, m = 0;
            if (!CHECK_OK(ts_topk_group_rows(t, s->key_names, s->nkeys, s->order, s->norder, K[ki],
                                             (ts_topk_kind)kind, &rows, &m)))
                continue;
            int64_t expect = 0, wrong = 0, at = 0;
            for (int i = 0; i < s->n; i++) {
                expect += want[i];
                const int got = at < m && rows[at] == i;
                at += got;
                wrong += got != want[i];
            }
            CHECK(wrong == 0 && at == m && m == expect, "%s, k = %lld, %s: %lld rows kept, %lld expected, %lld rows "
                  "differ", s->name, (long long)K[ki], KIND[kind], (long long)m, (long long)expect, (long long)wrong);
            ts_free(rows);
        }
    sink_case(s, v, t, &r, want);
    ts_table_free(t);
    free(v), free(want);
}

int main(void)
{
    const scen S[] = {
        {"int64 order without NULLs (codes), DESC, one INT64 key", 3000, 1, {"g1"}, 1, {{"o3", 1, 0}}, 0, 40, 0},
        {"float order with NaN, -0, NULLs last, two keys", 3000, 2, {"g1", "g2"}, 1, {{"o1", 0, 1}}, 1, 8, 0},
        {"float order without NULLs (codes), DESC, VARCHAR key", 3000, 1, {"g2"}, 1, {{"o1", 1, 0}}, 0, 1, 0},
        {"two order keys, NULLs first, no group key", 1500, 0, {NULL}, 2, {{"o1", 1, 0}, {"o2", 0, 0}}, 1, 1, 0},
        {"int32 order with NULLs, ASC, many small groups", 3000, 1, {"g1"}, 1, {{"o2", 0, 1}}, 0, 1000, 0},
        {"float order with NULLs first, DESC (codes)", 3000, 1, {"g1"}, 1, {{"o1", 1, 0}}, 1, 30, 0},
        {"growing int64 order, DESC: every row displaces (sink compactions)", 24000, 1, {"g1"}, 1, {{"o3", 1, 0}}, 0,
         4, 1},
    };
    for (size_t i = 0; i < sizeof S / sizeof *S; i++)
        run(&S[i], 1000 + i);

    /* a bad k is refused */
    ts_table *t = NULL;
    rowv v[3] = {{0}};
    const scen one = {"tiny", 3, 1, {"g1"}, 1, {{"o3", 0, 0}}, 0, 1, 0};
    if (CHECK_OK(build(&one, v, &t))) {
        int64_t *rows = NULL, m = -1;
        CHECK(ts_topk_group_rows(t, one.key_names, 1, one.order, 1, 0, TS_TOPK_ROW_NUMBER, &rows, &m) == TS_ERR_USAGE,
              "k = 0 must be refused");
        CHECK(rows == NULL && m == 0, "nothing is returned for a refused k");
        ts_table_free(t);
    }
    return TS_TEST_DONE("test_topk_group");
}
