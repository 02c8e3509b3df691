/* engine/dist/ts_sort: descending keys, nulls last, NaN ordering, stability, balance under one shared key, and top-k,
 * against a naive stable insertion sort of the same global data on rank 0 (row g's values are functions of g and
 * ranks hold contiguous blocks of ids, so the global input order is the id order whatever P). */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_sort.h"

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static const char *const WORDS[] = {"", "a", "ab", "b", "ba"};

typedef struct row {
    int64_t id, a;
    double f;
    int w, a_null, w_null;
} row;

static row row_of(int64_t g, int flat)
{
    const uint64_t h = mix((uint64_t)g);
    row r = {g, (int64_t)(h % 7) - 3, (double)(h / 7 % 9) - 4, (int)(h / 63 % 5), h / 315 % 6 == 0, h / 1890 % 7 == 0};
    if (h / 13230 % 10 == 0)
        r.f = NAN;
    if (flat)
        r.a = 1, r.f = 0, r.w = 2, r.a_null = r.w_null = 0;
    return r;
}

/* order: a DESC NULLS LAST, w ASC NULLS FIRST, f DESC (NaN largest, so first); ties by id (stability) */
static int cmp3(int x, int y) { return (x > y) - (x < y); }
static int cmp_f(double x, double y)
{
    const int nx = x != x, ny = y != y;
    return nx || ny ? nx - ny : (x > y) - (x < y);
}
static int cmp_row(const void *p, const void *q)
{
    const row *x = p, *y = q;
    int c = x->a_null || y->a_null ? cmp3(x->a_null, y->a_null) : -cmp3((int)x->a, (int)y->a);
    if (!c)
        c = x->w_null || y->w_null ? -cmp3(x->w_null, y->w_null) : strcmp(WORDS[x->w], WORDS[y->w]);
    if (!c)
        c = -cmp_f(x->f, y->f);
    return c ? c : cmp3(x->id > y->id, x->id < y->id);
}

static const ts_sort_key KEYS[] = {{"a", 1, 1}, {"w", 0, 0}, {"f", 1, 0}};

static ts_table *build(int64_t n, int flat, int rank, int size)
{
    const int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
    ts_table *t;
    ts_column *id, *a, *f, *w;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, "a", TS_T_INT32, 0, NULL, &a));
    CHECK_OK(ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f));
    CHECK_OK(ts_table_add(t, "w", TS_T_STRING, 0, NULL, &w));
    for (int64_t g = lo; g < hi; g++) {
        const row r = row_of(g, flat);
        const int64_t i = g - lo;
        CHECK_OK(ts_column_reserve(id, i + 1, 0));
        CHECK_OK(ts_column_reserve(a, i + 1, 0));
        CHECK_OK(ts_column_reserve(f, i + 1, 0));
        TS_COL(id, int64_t)[i] = g, TS_COL(a, int32_t)[i] = (int32_t)r.a, TS_COL(f, double)[i] = r.f;
        id->len = a->len = f->len = i + 1;
        CHECK_OK(ts_column_append_string(w, WORDS[r.w], (int64_t)strlen(WORDS[r.w])));
        if (r.a_null)
            CHECK_OK(ts_column_set_null(a, i));
        if (r.w_null)
            CHECK_OK(ts_column_set_null(w, i));
    }
    return t;
}

/* ids of t gathered on rank 0 in (rank, local) order. */
static int64_t gather_ids(ts_ctx *ctx, const ts_table *t, int64_t **ids)
{
    int32_t *dest = calloc((size_t)ts_table_rows(t) + 1, sizeof *dest);
    ts_table *all = NULL;
    *ids = NULL;
    if (!CHECK_OK(ts_exchange_rows(ctx, t, dest, &all))) {
        free(dest);
        return 0;
    }
    free(dest);
    const int64_t n = ts_table_rows(all);
    *ids = malloc(sizeof **ids * (size_t)(n + 1));
    memcpy(*ids, ts_table_col(all, "id")->data, sizeof **ids * (size_t)n);
    ts_table_free(all);
    return n;
}

static row *naive_sorted(int64_t n, int flat)
{
    row *r = malloc(sizeof *r * (size_t)(n + 1));
    for (int64_t g = 0; g < n; g++)
        r[g] = row_of(g, flat);
    qsort(r, (size_t)n, sizeof *r, cmp_row); /* ids break ties, so qsort is deterministic here */
    return r;
}

static void test_sort(ts_ctx *ctx, int64_t n, int flat)
{
    ts_table *t = build(n, flat, ctx->rank, ctx->size);
    if (!CHECK_OK(ts_sort_distributed_by(ctx, &t, KEYS, 3))) {
        ts_table_free(t);
        return;
    }
    CHECK(t->ncols == 4, "the sort's helper column is gone");
    int64_t mine = ts_table_rows(t), most = 0;
    MPI_Allreduce(&mine, &most, 1, MPI_INT64_T, MPI_MAX, ctx->comm);
    if (flat && n >= 1000)
        CHECK(most <= 2 * n / ctx->size + 64, "one shared key spreads over ranks: max %lld of %lld rows",
              (long long)most, (long long)n);
    int64_t *ids;
    const int64_t m = gather_ids(ctx, t, &ids);
    if (ctx->rank == 0) {
        row *want = naive_sorted(n, flat);
        long bad = m != n;
        for (int64_t i = 0; i < m && i < n; i++)
            bad += ids[i] != want[i].id;
        CHECK(bad == 0, "sort n=%lld flat=%d on %d ranks: %ld positions differ", (long long)n, flat, ctx->size, bad);
        free(want);
    }
    free(ids);
    ts_table_free(t);
}

static void test_top_k(ts_ctx *ctx, int64_t n, int64_t k)
{
    ts_table *t = build(n, 0, ctx->rank, ctx->size), *top = NULL;
    if (CHECK_OK(ts_top_k(ctx, t, KEYS, 3, k, &top))) {
        const int64_t got = ts_table_rows(top), want_n = k < n ? k : n;
        if (ctx->rank == 0) {
            row *want = naive_sorted(n, 0);
            long bad = got != want_n;
            for (int64_t i = 0; i < got && i < want_n; i++)
                bad += TS_COL(ts_table_col(top, "id"), int64_t)[i] != want[i].id;
            CHECK(bad == 0, "top %lld of %lld: %ld differ", (long long)k, (long long)n, bad);
            free(want);
        } else {
            CHECK(got == 0, "top-k rows live on rank 0 only");
        }
    }
    ts_table_free(top), ts_table_free(t);
}

/* The radix path (fixed-width keys, no NULLs): a DESC, f ASC with NaN, -0.0 and +0.0 (equal), ties by input
 * order; distributed over the ranks, compared with qsort of the same global rows. */
typedef struct rrow {
    int64_t id;
    int32_t a;
    double f;
} rrow;

static rrow rrow_of(int64_t g)
{
    const uint64_t h = mix((uint64_t)g + 77);
    static const double fs[] = {-1.5, -0.0, 0.0, 2.25, NAN, 1e300, -1e300, 0.5};
    return (rrow){g, (int32_t)(h % 5) - 2, fs[h / 5 % 8]};
}

static int cmp_rrow(const void *p, const void *q)
{
    const rrow *x = p, *y = q;
    int c = -cmp3(x->a, y->a);
    if (!c)
        c = cmp_f(x->f == 0 ? 0.0 : x->f, y->f == 0 ? 0.0 : y->f);
    return c ? c : cmp3(x->id > y->id, x->id < y->id);
}

static void test_radix(ts_ctx *ctx, int64_t n)
{
    const int64_t lo = n * ctx->rank / ctx->size, hi = n * (ctx->rank + 1) / ctx->size;
    ts_table *t;
    ts_column *id, *a, *f;
    CHECK_OK(ts_table_new("r", &t));
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, "a", TS_T_INT32, 0, NULL, &a));
    CHECK_OK(ts_table_add(t, "f", TS_T_FLOAT64, 0, NULL, &f));
    CHECK_OK(ts_column_reserve(id, hi - lo, 0));
    CHECK_OK(ts_column_reserve(a, hi - lo, 0));
    CHECK_OK(ts_column_reserve(f, hi - lo, 0));
    for (int64_t g = lo; g < hi; g++) {
        const rrow r = rrow_of(g);
        TS_COL(id, int64_t)[g - lo] = g, TS_COL(a, int32_t)[g - lo] = r.a, TS_COL(f, double)[g - lo] = r.f;
    }
    id->len = a->len = f->len = hi - lo;
    static const ts_sort_key keys[] = {{"a", 1, 0}, {"f", 0, 0}};
    if (CHECK_OK(ts_sort_distributed_by(ctx, &t, keys, 2))) {
        int64_t *ids;
        const int64_t m = gather_ids(ctx, t, &ids);
        if (ctx->rank == 0) {
            rrow *want = malloc(sizeof *want * (size_t)(n + 1));
            for (int64_t g = 0; g < n; g++)
                want[g] = rrow_of(g);
            qsort(want, (size_t)n, sizeof *want, cmp_rrow);
            long bad = m != n;
            for (int64_t i = 0; i < m && i < n; i++)
                bad += ids[i] != want[i].id;
            CHECK(bad == 0, "radix sort n=%lld on %d ranks: %ld positions differ", (long long)n, ctx->size, bad);
            free(want);
        }
        free(ids);
    }
    ts_table_free(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    test_sort(&ctx, 5000, 0);
    test_sort(&ctx, 4000, 1);
    test_sort(&ctx, 3, 0);
    test_sort(&ctx, 0, 0);
    test_radix(&ctx, 20000);
    test_radix(&ctx, 100);
    test_top_k(&ctx, 5000, 10);
    test_top_k(&ctx, 5000, 0);
    test_top_k(&ctx, 50, 1000);
    return ts_mpi_test_done(&ctx, "test_sort_keys");
}
