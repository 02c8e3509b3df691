/* engine/dist/ts_sort: ts_sort_distributed on P ranks against a naive stable sort of the same global data on rank 0.
 * Row g's content is a function of g, and rank r holds a contiguous block of global ids, so the global input
 * order (rank, then local order) is the id order and a stable sort's tie order is known for every P. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_ctx.h"
#include "ts_sort.h"

/* dictionary codes deliberately not in string order */
static const char *const FRUITS[] = {"pear", "apple", "fig", "", "apples", "Zebra", "kiwi"};
static ts_dict *g_dict;

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Keys of global row g; `flat` makes every key equal. */
static int fruit_valid(int64_t g, int flat) { return flat || mix((uint64_t)g) % 11 != 0; }
static int32_t fruit_of(int64_t g, int flat) { return flat ? 2 : (int32_t)(mix((uint64_t)g + 1) % 7); }
static int64_t num_of(int64_t g, int flat) { return flat ? 5 : (int64_t)(mix((uint64_t)g + 2) % 5) - 2; }
static size_t word_of(int64_t g, int flat, char *buf)
{
    static const char *const w[] = {"", "a", "ab", "b", "a\xff", "ba"};
    const char *s = w[flat ? 2 : mix((uint64_t)g + 3) % 6];
    memcpy(buf, s, strlen(s));
    return strlen(s);
}

typedef struct scenario {
    const char *name;
    int64_t n;      /* global rows */
    int one_rank;   /* all rows on rank 0 */
    int flat;       /* all keys equal */
} scenario;

static void block(const scenario *sc, int rank, int size, int64_t *lo, int64_t *hi)
{
    if (sc->one_rank) {
        *lo = 0, *hi = rank == 0 ? sc->n : 0;
        return;
    }
    *lo = sc->n * rank / size, *hi = sc->n * (rank + 1) / size;
}

static ts_table *build(const scenario *sc, int rank, int size)
{
    int64_t lo, hi;
    block(sc, rank, size, &lo, &hi);
    ts_table *t;
    ts_column *fruit, *num, *word, *gid;
    CHECK_OK(ts_table_new("t", &t));
    CHECK_OK(ts_table_add(t, "gid", TS_T_INT64, 0, NULL, &gid));
    CHECK_OK(ts_table_add(t, "fruit", TS_T_DICT, 0, g_dict, &fruit));
    CHECK_OK(ts_table_add(t, "num", TS_T_INT64, 0, NULL, &num));
    CHECK_OK(ts_table_add(t, "word", TS_T_STRING, 0, NULL, &word));
    const int64_t n = hi - lo;
    CHECK_OK(ts_column_reserve(gid, n, 0));
    CHECK_OK(ts_column_reserve(fruit, n, 0));
    CHECK_OK(ts_column_reserve(num, n, 0));
    for (int64_t i = 0; i < n; i++) {
        const int64_t g = lo + i;
        TS_COL(gid, int64_t)[i] = g, TS_COL(fruit, int32_t)[i] = fruit_of(g, sc->flat);
        TS_COL(num, int64_t)[i] = num_of(g, sc->flat);
        char buf[8];
        ts_column_append_string(word, buf, (int64_t)word_of(g, sc->flat, buf));
    }
    gid->len = fruit->len = num->len = n;
    for (int64_t i = 0; i < n; i++)
        if (!fruit_valid(lo + i, sc->flat))
            ts_column_set_null(fruit, i);
    return t;
}

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    for (size_t k = 0; k < la && k < lb; k++)
        if (a[k] != b[k])
            return (unsigned char)a[k] < (unsigned char)b[k] ? -1 : 1;
    return (la > lb) - (la < lb);
}

/* Naive key order (fruit by string with nulls first, num, word), from the global id alone. */
static int naive_cmp(int64_t a, int64_t b, int flat)
{
    const int va = fruit_valid(a, flat), vb = fruit_valid(b, flat);
    if (va != vb)
        return va - vb;
    if (va) {
        const char *fa = FRUITS[fruit_of(a, flat)], *fb = FRUITS[fruit_of(b, flat)];
        const int c = cmp_bytes(fa, strlen(fa), fb, strlen(fb));
        if (c)
            return c;
    }
    const int64_t na = num_of(a, flat), nb = num_of(b, flat);
    if (na != nb)
        return na < nb ? -1 : 1;
    char wa[8], wb[8];
    const size_t la = word_of(a, flat, wa), lb = word_of(b, flat, wb);
    return cmp_bytes(wa, la, wb, lb);
}

static void run(ts_ctx *ctx, const scenario *sc)
{
    ts_table *t = build(sc, ctx->rank, ctx->size);
    const char *keys[3] = {"fruit", "num", "word"};
    const ts_err err = ts_sort_distributed(ctx, &t, keys, 3);
    CHECK(err == TS_OK, "%s: ts_sort_distributed failed: %s", sc->name, ts_error_message());
    if (err) {
        ts_table_free(t);
        return;
    }
    /* local rows carry the content of their global id */
    const int64_t n = ts_table_rows(t);
    const ts_column *gid = ts_table_col(t, "gid"), *fruit = ts_table_col(t, "fruit"), *num = ts_table_col(t, "num");
    const ts_column *word = ts_table_col(t, "word");
    CHECK(gid && fruit && num && word && t->ncols == 4, "%s: schema kept", sc->name);
    CHECK(fruit && fruit->dict == g_dict, "%s: dictionary kept", sc->name);
    long bad = 0;
    for (int64_t i = 0; i < n && word; i++) {
        const int64_t g = TS_COL(gid, int64_t)[i];
        const int64_t *o = TS_COL(word, int64_t);
        char buf[8];
        const size_t wl = word_of(g, sc->flat, buf);
        bad += ts_column_is_valid(fruit, i) != fruit_valid(g, sc->flat) ||
               (fruit_valid(g, sc->flat) && TS_COL(fruit, int32_t)[i] != fruit_of(g, sc->flat)) ||
               TS_COL(num, int64_t)[i] != num_of(g, sc->flat) || o[i + 1] - o[i] != (int64_t)wl ||
               (wl && memcmp(word->bytes + o[i], buf, wl) != 0);
    }
    CHECK(bad == 0, "%s: rank %d: %ld rows lost their content", sc->name, ctx->rank, bad);
    CHECK(t->nsort == 3 && strcmp(t->sort_keys[2], "word") == 0, "%s: sort keys recorded", sc->name);

    /* gather the global ids in rank order */
    int cnt = (int)n, *counts = NULL, *displs = NULL;
    int64_t *all = NULL, total = 0;
    if (ctx->rank == 0)
        counts = malloc(sizeof *counts * (size_t)ctx->size), displs = malloc(sizeof *displs * (size_t)ctx->size);
    MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (ctx->rank == 0) {
        for (int r = 0; r < ctx->size; r++)
            displs[r] = (int)total, total += counts[r];
        all = malloc(sizeof *all * (size_t)(total + 1));
    }
    MPI_Gatherv(n ? TS_COL(gid, int64_t) : (int64_t[1]){0}, cnt, MPI_INT64_T, all, counts, displs, MPI_INT64_T, 0,
                MPI_COMM_WORLD);
    if (ctx->rank == 0) {
        CHECK(total == sc->n, "%s: %lld rows after the sort, expected %lld", sc->name, (long long)total,
              (long long)sc->n);
        /* naive stable insertion sort of the global ids */
        int64_t *want = malloc(sizeof *want * (size_t)(sc->n + 1));
        for (int64_t g = 0; g < sc->n; g++) {
            int64_t k = g;
            while (k > 0 && naive_cmp(want[k - 1], g, sc->flat) > 0)
                want[k] = want[k - 1], k--;
            want[k] = g;
        }
        long diff = 0;
        for (int64_t i = 0; i < total && i < sc->n; i++)
            if (all[i] != want[i] && diff++ < 3)
                CHECK(0, "%s: global position %lld holds row %lld, expected %lld", sc->name, (long long)i,
                      (long long)all[i], (long long)want[i]);
        CHECK(diff == 0, "%s: %ld positions differ from the naive stable sort", sc->name, diff);
        /* slabs: the last row of each rank sorts no later than the first row of every later rank */
        long slab_bad = 0;
        for (int r = 0; r < ctx->size; r++)
            for (int q = r + 1; q < ctx->size; q++)
                if (counts[r] && counts[q])
                    slab_bad += naive_cmp(all[displs[r] + counts[r] - 1], all[displs[q]], sc->flat) > 0;
        CHECK(slab_bad == 0, "%s: %ld rank pairs out of order", sc->name, slab_bad);
        free(want);
    }
    free(all), free(counts), free(displs);
    ts_table_free(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK) {
        fprintf(stderr, "ts_ctx_init failed: %s\n", ts_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK_OK(ts_dict_new(FRUITS, 7, &g_dict));
    const scenario scs[] = {
        {"blocks", 6000, 0, 0},
        {"small", 5, 0, 0},
        {"all rows on rank 0", 3000, 1, 0},
        {"all keys equal", 2000, 0, 1},
        {"empty", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++)
        run(&ctx, &scs[i]);
    ts_dict_release(g_dict);

    long local[2] = {ts_test_passed, ts_test_failed}, total[2];
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (ctx.rank == 0)
        printf("test_sort: %ld passed, %ld failed\n", total[0], total[1]);
    ts_ctx_free(&ctx);
    MPI_Finalize();
    return total[1] ? 1 : 0;
}
