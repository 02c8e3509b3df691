/* engine/dist/ts_distinct: distinct on (k INT32, s STRING) with NULLs (equal to each other), keeping the first row, or
 * the row with the smallest / largest ordering value (NULL orders lose, ties go to the earlier row). The kept ids
 * are gathered on rank 0 and compared with a naive quadratic pass over the same global data. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_distinct.h"
#include "ts_exchange.h"

static const char *const WORDS[] = {"x", "y", "zz"};

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

typedef struct row {
    int k, w, k_null, w_null, o_null;
    int64_t o;
} row;

static row row_of(int64_t g)
{
    const uint64_t h = mix((uint64_t)g);
    return (row){(int)(h % 6), (int)(h / 6 % 3), h / 18 % 7 == 0, h / 126 % 9 == 0, h / 1134 % 8 == 0,
                 (int64_t)(h / 9072 % 5)};
}

static int same(const row *a, const row *b)
{
    return a->k_null == b->k_null && (a->k_null || a->k == b->k) && a->w_null == b->w_null &&
           (a->w_null || a->w == b->w);
}

/* 1 when global row i beats row j for the spec (ord: 0 none, 1 smallest, 2 largest). */
static int beats(int64_t i, int64_t j, int ord)
{
    const row a = row_of(i), b = row_of(j);
    if (ord) {
        if (a.o_null != b.o_null)
            return !a.o_null;
        if (!a.o_null && a.o != b.o)
            return ord == 2 ? a.o > b.o : a.o < b.o;
    }
    return i < j;
}

static ts_table *build(int64_t n, int rank, int size)
{
    const int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
    ts_table *t;
    ts_column *id, *k, *s, *o;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, "k", TS_T_INT32, 0, NULL, &k));
    CHECK_OK(ts_table_add(t, "s", TS_T_STRING, 0, NULL, &s));
    CHECK_OK(ts_table_add(t, "o", TS_T_INT64, 0, NULL, &o));
    for (int64_t g = lo; g < hi; g++) {
        const row r = row_of(g);
        const int64_t i = g - lo;
        CHECK_OK(ts_column_reserve(id, i + 1, 0));
        CHECK_OK(ts_column_reserve(k, i + 1, 0));
        CHECK_OK(ts_column_reserve(o, i + 1, 0));
        TS_COL(id, int64_t)[i] = g, TS_COL(o, int64_t)[i] = r.o;
        /* the value stored under a NULL differs from row to row: it must not matter */
        TS_COL(k, int32_t)[i] = r.k_null ? (int32_t)g : r.k;
        id->len = k->len = o->len = i + 1;
        const char *w = r.w_null ? (g % 2 ? "junk" : "") : WORDS[r.w];
        CHECK_OK(ts_column_append_string(s, w, (int64_t)strlen(w)));
        if (r.k_null)
            CHECK_OK(ts_column_set_null(k, i));
        if (r.w_null)
            CHECK_OK(ts_column_set_null(s, i));
        if (r.o_null)
            CHECK_OK(ts_column_set_null(o, i));
    }
    return t;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void run(ts_ctx *ctx, int64_t n, int ord)
{
    ts_table *t = build(n, ctx->rank, ctx->size), *all = NULL;
    static const char *const cols[] = {"k", "s"};
    const ts_distinct_spec spec = {cols, 2, ord ? "o" : NULL, ord == 2 ? TS_KEEP_LATEST : TS_KEEP_FIRST};
    if (!CHECK_OK(ts_distinct(ctx, &t, &spec, NULL))) {
        ts_table_free(t);
        return;
    }
    CHECK(t->ncols == 4, "distinct keeps the schema");
    int32_t *dest = calloc((size_t)ts_table_rows(t) + 1, sizeof *dest);
    if (CHECK_OK(ts_exchange_rows(ctx, t, dest, &all)) && ctx->rank == 0) {
        const int64_t m = ts_table_rows(all);
        int64_t *got = malloc(sizeof *got * (size_t)(m + 1)), *want = malloc(sizeof *want * (size_t)(n + 1)), nw = 0;
        memcpy(got, ts_table_col(all, "id")->data, sizeof *got * (size_t)m);
        qsort(got, (size_t)m, sizeof *got, cmp_i64);
        for (int64_t i = 0; i < n; i++) { /* i is kept when no row with the same keys beats it */
            const row a = row_of(i);
            int beaten = 0;
            for (int64_t j = 0; j < n && !beaten; j++) {
                const row b = row_of(j);
                beaten = j != i && same(&a, &b) && beats(j, i, ord);
            }
            if (!beaten)
                want[nw++] = i;
        }
        CHECK(m == nw && memcmp(got, want, sizeof *got * (size_t)m) == 0,
              "distinct n=%lld order=%d on %d ranks: kept %lld rows, expected %lld", (long long)n, ord, ctx->size,
              (long long)m, (long long)nw);
        free(got), free(want);
    }
    free(dest);
    ts_table_free(all), ts_table_free(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (int ord = 0; ord < 3; ord++) {
        run(&ctx, 3000, ord);
        run(&ctx, 0, ord);
    }
    return ts_mpi_test_done(&ctx, "test_distinct");
}
