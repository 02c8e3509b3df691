/* engine/dist/ts_join_dist + ts_hashjoin: every join type, broadcast and shuffle, with nulls, string keys matched
 * against dictionary keys, INT32 keys matched against INT64 keys, many-to-many matches and one hot key holding
 * half of the left rows. Rows are functions of their global id; the joined (left id, right id) pairs are
 * gathered on rank 0 and compared with a naive nested-loop join of the whole data, so every P must agree. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ts_test.h"
#include "ts_mpi_test.h"
#include "ts_ctx.h"
#include "ts_exchange.h"
#include "ts_join_dist.h"

static const char *const WORDS[] = {"alpha", "beta", "gamma", "delta", "eps"};
static ts_dict *g_dict;

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Keys of row g of a side (side 0 = left, 1 = right): an integer key and a word, each sometimes NULL.
 * With `hot`, half of the left rows share the integer key 7 and the word "alpha". */
typedef struct key {
    int64_t num;
    int word;
    int num_null, word_null;
} key;

static key key_of(int side, int64_t g, int hot)
{
    const uint64_t h = mix((uint64_t)g * 2 + (uint64_t)side);
    key k = {(int64_t)(h % 40), (int)(h / 40 % 5), h / 200 % 13 == 0, h / 2600 % 17 == 0};
    if (hot && side == 0 && g % 2 == 0)
        k.num = 7, k.word = 0, k.num_null = k.word_null = 0;
    return k;
}

typedef struct scenario {
    const char *name;
    int64_t nl, nr;
    int hot;
    ts_join_strategy strategy;
} scenario;

static void block(int64_t n, int rank, int size, int64_t *lo, int64_t *hi)
{
    *lo = n * rank / size, *hi = n * (rank + 1) / size;
}

/* Left: id INT64, k (INT32), w (STRING). Right: rid INT64, rk (INT64), rw (DICT), payload. */
static ts_table *build_side(int side, const scenario *sc, int rank, int size)
{
    int64_t lo, hi;
    block(side ? sc->nr : sc->nl, rank, size, &lo, &hi);
    ts_table *t;
    ts_column *id, *k, *w, *pay = NULL;
    CHECK_OK(ts_table_new(side ? "right" : "left", &t));
    CHECK_OK(ts_table_add(t, side ? "rid" : "id", TS_T_INT64, 0, NULL, &id));
    CHECK_OK(ts_table_add(t, side ? "rk" : "k", side ? TS_T_INT64 : TS_T_INT32, 0, NULL, &k));
    CHECK_OK(ts_table_add(t, side ? "rw" : "w", side ? TS_T_DICT : TS_T_STRING, 0, side ? g_dict : NULL, &w));
    if (side)
        CHECK_OK(ts_table_add(t, "payload", TS_T_FLOAT64, 0, NULL, &pay));
    for (int64_t g = lo; g < hi; g++) {
        const key kk = key_of(side, g, sc->hot);
        const int64_t i = g - lo;
        CHECK_OK(ts_column_reserve(id, i + 1, 0));
        CHECK_OK(ts_column_reserve(k, i + 1, 0));
        TS_COL(id, int64_t)[i] = g;
        if (side)
            TS_COL(k, int64_t)[i] = kk.num;
        else
            TS_COL(k, int32_t)[i] = (int32_t)kk.num;
        id->len = k->len = i + 1;
        if (kk.num_null)
            CHECK_OK(ts_column_set_null(k, i));
        if (side) {
            CHECK_OK(ts_column_reserve(w, i + 1, 0));
            CHECK_OK(ts_column_reserve(pay, i + 1, 0));
            TS_COL(w, int32_t)[i] = kk.word, TS_COL(pay, double)[i] = (double)g / 4;
            w->len = pay->len = i + 1;
        } else {
            CHECK_OK(ts_column_append_string(w, WORDS[kk.word], (int64_t)strlen(WORDS[kk.word])));
        }
        if (kk.word_null)
            CHECK_OK(ts_column_set_null(w, i));
    }
    return t;
}

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* 0: keys (k, w) = (rk, rw); 1: k = rk (integer keys only); 2: (k, k) = (rk, rk) (two integer keys) */
static int g_int_keys;

static int keys_match(const key *a, const key *b)
{
    if (g_int_keys)
        return !a->num_null && !b->num_null && a->num == b->num;
    return !a->num_null && !b->num_null && !a->word_null && !b->word_null && a->num == b->num && a->word == b->word;
}

/* Naive join of the whole data: (left id or -1, right id or -1) pairs, sorted. */
static int64_t naive(const scenario *sc, ts_join_type type, int64_t **out)
{
    int64_t cap = 1024, n = 0;
    int64_t *p = malloc(sizeof *p * 2 * (size_t)cap);
    uint8_t *rmatched = calloc((size_t)sc->nr + 1, 1);
#define PUSH(a, b)                                                                                            \
    do {                                                                                                      \
        if (n == cap)                                                                                         \
            p = realloc(p, sizeof *p * 2 * (size_t)(cap *= 2));                                               \
        p[2 * n] = (a), p[2 * n + 1] = (b), n++;                                                              \
    } while (0)
    for (int64_t i = 0; i < sc->nl; i++) {
        const key a = key_of(0, i, sc->hot);
        int found = 0;
        for (int64_t j = 0; j < sc->nr; j++) {
            const key b = key_of(1, j, sc->hot);
            if (!keys_match(&a, &b))
                continue;
            found = 1, rmatched[j] = 1;
            if (type != TS_JOIN_SEMI && type != TS_JOIN_ANTI)
                PUSH(i, j);
        }
        if ((type == TS_JOIN_SEMI && found) || (type == TS_JOIN_ANTI && !found) ||
            (!found && (type == TS_JOIN_LEFT || type == TS_JOIN_FULL)))
            PUSH(i, -1);
    }
    for (int64_t j = 0; (type == TS_JOIN_RIGHT || type == TS_JOIN_FULL) && j < sc->nr; j++)
        if (!rmatched[j])
            PUSH(-1, j);
#undef PUSH
    free(rmatched);
    qsort(p, (size_t)n, 2 * sizeof *p, cmp_pair);
    *out = p;
    return n;
}

/* Gathers (id, rid) of the joined rows on rank 0, sorted; returns the count (0 elsewhere). */
static int64_t gather_pairs(ts_ctx *ctx, ts_table *joined, ts_join_type type, int64_t **out)
{
    const int64_t n = ts_table_rows(joined);
    int32_t *dest = calloc((size_t)n + 1, sizeof *dest);
    ts_table *all = NULL;
    *out = NULL;
    if (!CHECK_OK(ts_exchange_rows(ctx, joined, dest, &all))) {
        free(dest);
        return 0;
    }
    free(dest);
    const int64_t m = ts_table_rows(all);
    int64_t *p = malloc(sizeof *p * 2 * (size_t)(m + 1));
    const ts_column *id = ts_table_col(all, "id"), *rid = ts_table_col(all, "rid");
    const int semi = type == TS_JOIN_SEMI || type == TS_JOIN_ANTI;
    CHECK(id && (semi ? rid == NULL : rid != NULL), "%s join output columns", ts_join_type_name(type));
    for (int64_t i = 0; id && i < m; i++) {
        p[2 * i] = ts_column_is_valid(id, i) ? TS_COL(id, int64_t)[i] : -1;
        p[2 * i + 1] = rid && ts_column_is_valid(rid, i) ? TS_COL(rid, int64_t)[i] : -1;
    }
    /* payload must travel with its right row: payload = rid / 4 */
    const ts_column *pay = ts_table_col(all, "payload");
    long bad = 0;
    for (int64_t i = 0; pay && i < m; i++)
        bad += p[2 * i + 1] >= 0 && TS_COL(pay, double)[i] != (double)p[2 * i + 1] / 4;
    CHECK(bad == 0, "%s join: %ld payloads not from their right row", ts_join_type_name(type), bad);
    qsort(p, (size_t)m, 2 * sizeof *p, cmp_pair);
    ts_table_free(all);
    *out = p;
    return m;
}

static void run(ts_ctx *ctx, const scenario *sc, ts_join_type type, int build_left)
{
    ts_table *l = build_side(0, sc, ctx->rank, ctx->size), *r = build_side(1, sc, ctx->rank, ctx->size), *out = NULL;
    static const char *const lk[] = {"k", "w"}, *const rk[] = {"rk", "rw"};
    static const char *const lk2[] = {"k", "k"}, *const rk2[] = {"rk", "rk"};
    const ts_join_spec spec = {.type = type, .left_keys = g_int_keys == 2 ? lk2 : lk,
                               .right_keys = g_int_keys == 2 ? rk2 : rk, .nkeys = g_int_keys == 1 ? 1 : 2,
                               .strategy = sc->strategy, .build_left = build_left};
    ts_join_stats st;
    if (CHECK_OK(ts_join(ctx, l, r, &spec, &out, &st))) {
        CHECK(sc->strategy == TS_JOIN_AUTO || st.broadcast == (sc->strategy == TS_JOIN_BROADCAST),
              "%s/%s: strategy honoured", sc->name, ts_join_type_name(type));
        CHECK(!sc->hot || ctx->size == 1 || st.broadcast || type == TS_JOIN_RIGHT || type == TS_JOIN_FULL ||
                  build_left || st.hot_keys >= 1,
              "%s/%s: hot key detected (%d)", sc->name, ts_join_type_name(type), st.hot_keys);
        int64_t *got, *want = NULL;
        const int64_t ng = gather_pairs(ctx, out, type, &got);
        if (ctx->rank == 0) {
            const int64_t nw = naive(sc, type, &want);
            const int same = ng == nw && (nw == 0 || memcmp(got, want, sizeof *got * 2 * (size_t)nw) == 0);
            CHECK(same, "%s/%s join on %d ranks: %lld rows, expected %lld", sc->name, ts_join_type_name(type),
                  ctx->size, (long long)ng, (long long)nw);
        }
        free(got), free(want);
    }
    ts_table_free(out), ts_table_free(l), ts_table_free(r);
}

static void test_errors(ts_ctx *ctx)
{
    scenario sc = {"errors", 10, 10, 0, TS_JOIN_AUTO};
    ts_table *l = build_side(0, &sc, ctx->rank, ctx->size), *r = build_side(1, &sc, ctx->rank, ctx->size), *out = NULL;
    static const char *const lk[] = {"k"}, *const bad[] = {"rw"}, *const nope[] = {"nope"};
    ts_join_spec spec = {.type = TS_JOIN_INNER, .left_keys = lk, .right_keys = bad, .nkeys = 1};
    CHECK(ts_join(ctx, l, r, &spec, &out, NULL) == TS_ERR_USAGE && !out, "integer vs text key is refused");
    spec.right_keys = nope;
    CHECK(ts_join(ctx, l, r, &spec, &out, NULL) == TS_ERR_USAGE && !out, "unknown key column is refused");
    ts_table_free(l), ts_table_free(r);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    ts_ctx ctx;
    if (ts_ctx_init(MPI_COMM_WORLD, &ctx) != TS_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    CHECK_OK(ts_dict_new(WORDS, 5, &g_dict));
    const scenario scs[] = {{"shuffle", 1500, 700, 0, TS_JOIN_SHUFFLE},
                            {"broadcast", 1500, 700, 0, TS_JOIN_BROADCAST},
                            {"auto", 900, 300, 0, TS_JOIN_AUTO},
                            {"hot", 6000, 500, 1, TS_JOIN_SHUFFLE},
                            {"empty-right", 300, 0, 0, TS_JOIN_SHUFFLE},
                            {"empty-left", 0, 300, 0, TS_JOIN_BROADCAST}};
    for (g_int_keys = 0; g_int_keys <= 2; g_int_keys++)
    for (size_t s = 0; s < sizeof scs / sizeof scs[0]; s++)
        for (int t = TS_JOIN_INNER; t <= TS_JOIN_ANTI; t++) {
            run(&ctx, &scs[s], (ts_join_type)t, 0);
            if (t == TS_JOIN_SEMI || t == TS_JOIN_ANTI) /* built on the left side instead */
                run(&ctx, &scs[s], (ts_join_type)t, 1);
        }
    test_errors(&ctx);
    ts_dict_release(g_dict);
    return ts_mpi_test_done(&ctx, "test_join");
}
